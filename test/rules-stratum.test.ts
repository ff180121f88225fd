import { describe, expect, it } from 'vitest';
import type { InspectorState } from '../src/rules/inspect.js';
import { newFindings, type Findings } from '../src/rules/types.js';
import { AB, BA, Conn, lines, makeFlow } from './rules-fixtures.js';

const WALLET = 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq';
const LOGIN = `${WALLET}.rig1`;

// cgminer 4.10.0 against a Bitcoin pool, as on the wire.
const SUBSCRIBE = '{"id": 0, "method": "mining.subscribe", "params": ["cgminer/4.10.0"]}';
const AUTHORIZE = `{"id": 1, "method": "mining.authorize", "params": ["${LOGIN}", "x"]}`;
const SUBMIT = (id: number) =>
  `{"params": ["${LOGIN}", "bf", "00000001", "504e86ed", "b2957c02"], "id": ${id}, "method": "mining.submit"}`;

const SUB_ANSWER =
  '{"id":0,"result":[[["mining.set_difficulty","deadbeefcafebabe0100000000000000"],["mining.notify","deadbeefcafebabe0100000000000000"]],"08000002",4],"error":null}';
const AUTH_ANSWER = '{"id":1,"result":true,"error":null}';
const SET_DIFF = '{"id":null,"method":"mining.set_difficulty","params":[16384]}';
const NOTIFY =
  '{"id":null,"method":"mining.notify","params":["bf","4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008","072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",[],"00000002","1c2ac4af","504e86b9",false]}';
const ACCEPT = (id: number) => `{"id":${id},"result":true,"error":null}`;
const REJECT = (id: number) => `{"id":${id},"result":null,"error":[23,"Low difficulty share",null]}`;

function expected(over: Partial<Findings>): Findings {
  return { ...newFindings(), category: 'mining', ...over };
}

const FULL = expected({
  evidence: ['stratum'],
  minerSide: 1,
  login: LOGIN,
  worker: 'rig1',
  agent: 'cgminer/4.10.0',
  coin: 'btc',
  difficulty: 16384,
  sharesSubmitted: 2,
  sharesAccepted: 1,
  sharesRejected: 1,
});

function session(c: Conn, miner = AB): Conn {
  const pool = miner === AB ? BA : AB;
  return c
    .send(miner, lines(SUBSCRIBE))
    .send(pool, lines(SUB_ANSWER))
    .send(miner, lines(AUTHORIZE))
    .send(pool, lines(AUTH_ANSWER, SET_DIFF, NOTIFY))
    .send(miner, lines(SUBMIT(4)))
    .send(pool, lines(ACCEPT(4)))
    .send(miner, lines(SUBMIT(5)))
    .send(pool, lines(REJECT(5), NOTIFY));
}

describe('Stratum (Bitcoin style)', () => {
  it('a full cgminer session', () => {
    const c = session(new Conn());
    expect(c.flow.findings).toEqual(FULL);
    expect(c.flow.inspectionDone).toBe(false); // keeps counting shares
  });

  it('the miner is side B when B sends subscribe', () => {
    const c = session(new Conn(), BA);
    expect(c.flow.findings).toEqual({ ...FULL, minerSide: 2 });
  });

  it('miner direction only: shares submitted, none answered', () => {
    const c = new Conn().send(AB, lines(SUBSCRIBE, AUTHORIZE, SUBMIT(4), SUBMIT(5)));
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['stratum'], minerSide: 1, login: LOGIN, worker: 'rig1', agent: 'cgminer/4.10.0', coin: 'btc', sharesSubmitted: 2 }),
    );
  });

  it('pool direction only, pool is side A: the miner is the other side', () => {
    const c = new Conn().send(AB, lines(SUB_ANSWER, AUTH_ANSWER, SET_DIFF, NOTIFY, ACCEPT(4)));
    expect(c.flow.findings).toEqual(expected({ evidence: ['stratum'], minerSide: 2, difficulty: 16384 }));
  });

  it('pool direction only, starting with a push', () => {
    const c = new Conn().send(BA, lines(NOTIFY));
    expect(c.flow.findings?.minerSide).toBe(1);
    expect(c.flow.findings?.evidence).toEqual(['stratum']);
  });

  it('several messages in one segment, each direction', () => {
    const c = new Conn()
      .send(AB, lines(SUBSCRIBE, AUTHORIZE))
      .send(BA, lines(SUB_ANSWER, AUTH_ANSWER, SET_DIFF, NOTIFY))
      .send(AB, lines(SUBMIT(4), SUBMIT(5)))
      .send(BA, lines(ACCEPT(4), REJECT(5)));
    expect(c.flow.findings).toEqual(FULL);
  });

  it('joined mid-stream: the first, cut line is ignored', () => {
    const first = lines(SUBMIT(7)).slice(25);
    const c = new Conn().send(AB, first + lines(SUBMIT(8))).send(BA, NOTIFY.slice(40) + '\n' + lines(ACCEPT(8)));
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['stratum'], minerSide: 1, login: LOGIN, worker: 'rig1', coin: 'btc', sharesSubmitted: 1, sharesAccepted: 1 }),
    );
  });

  it('joined mid-stream with the cut line spanning segments', () => {
    const c = new Conn().send(AB, NOTIFY.slice(0, 0) + SUBMIT(7).slice(30, 60)).send(AB, SUBMIT(7).slice(60) + '\n' + lines(SUBMIT(8)));
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
  });

  it('a message split at every byte position', () => {
    const msg = lines(SUBSCRIBE, AUTHORIZE);
    for (let i = 1; i < msg.length; i++) {
      const c = new Conn().sendSplit(AB, msg, [i]);
      expect(c.flow.findings, `cut at ${i}`).toEqual(
        expected({ evidence: ['stratum'], minerSide: 1, login: LOGIN, worker: 'rig1', agent: 'cgminer/4.10.0', coin: 'btc' }),
      );
    }
  });

  it('a message split into 3 pieces at many positions, and byte by byte', () => {
    const msg = lines(SUBMIT(4));
    for (let i = 1; i < msg.length - 1; i += 7) {
      for (let j = i + 1; j < msg.length; j += 11) {
        const c = new Conn().sendSplit(AB, msg, [i, j]);
        expect(c.flow.findings?.sharesSubmitted, `cuts ${i},${j}`).toBe(1);
      }
    }
    const bytes = [...Array(msg.length).keys()];
    const c = new Conn().sendSplit(AB, lines(SUBSCRIBE, AUTHORIZE, SUBMIT(4)), bytes);
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
    expect(c.flow.findings?.agent).toBe('cgminer/4.10.0');
  });

  it('a retransmitted segment is not counted twice', () => {
    const c = new Conn().send(AB, lines(SUBSCRIBE));
    const seq = c.seq[AB];
    c.send(AB, lines(SUBMIT(4)));
    c.sendAt(AB, lines(SUBMIT(4)), seq);
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
    // Partial overlap: the old bytes again plus a new submit; only the new one counts.
    c.sendAt(AB, lines(SUBMIT(4), SUBMIT(5)), seq);
    c.seq[AB] = (seq + lines(SUBMIT(4), SUBMIT(5)).length) >>> 0;
    expect(c.flow.findings?.sharesSubmitted).toBe(2);
    c.send(AB, lines(SUBMIT(6)));
    expect(c.flow.findings?.sharesSubmitted).toBe(3);
  });

  it('sequence numbers wrap around 2^32', () => {
    const c = new Conn();
    c.seq[AB] = 0xffffffff - 10;
    c.send(AB, lines(SUBSCRIBE)).send(AB, lines(SUBMIT(4)));
    c.sendAt(AB, lines(SUBMIT(4)), (c.seq[AB] - lines(SUBMIT(4)).length) >>> 0);
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
  });

  it('a gap drops the partial line; later lines still count', () => {
    const c = new Conn().send(AB, lines(SUBSCRIBE));
    const s = lines(SUBMIT(4));
    c.send(AB, s.slice(0, 20)).lose(AB, s.length - 20 + 15).send(AB, SUBMIT(5).slice(15) + '\n' + lines(SUBMIT(6)));
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
  });

  it('a line longer than the bound is dropped without memory growth', () => {
    const c = new Conn().send(AB, lines(SUBSCRIBE));
    c.send(AB, '{"id":99,"method":"mining.submit","params":["');
    const chunk = 'a'.repeat(1460);
    for (let i = 0; i < 70; i++) c.send(AB, chunk);
    const st = c.flow.inspector as InspectorState;
    expect(st.dirs[AB].lines!.buf?.length ?? 0).toBeLessThanOrEqual(16 * 1024);
    c.send(AB, '"]}\n' + lines(SUBMIT(4)));
    expect(c.flow.findings?.sharesSubmitted).toBe(1);
    expect((c.flow.inspector as InspectorState).dirs[AB].lines!.buf!.length).toBeLessThanOrEqual(16 * 1024);
  });

  it('bmminer with mining.configure and an account.worker login', () => {
    const c = new Conn()
      .send(
        AB,
        lines(
          '{"id":1,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2}]}',
          '{"id":2,"method":"mining.subscribe","params":["bmminer/2.0.0"]}',
          '{"id":3,"method":"mining.authorize","params":["antpool_user.s9-01","123"]}',
        ),
      )
      .send(BA, lines('{"id":1,"result":{"version-rolling":true,"version-rolling.mask":"1fffe000"},"error":null}'));
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['stratum'], minerSide: 1, login: 'antpool_user.s9-01', worker: 's9-01', agent: 'bmminer/2.0.0' }),
    );
  });

  it('server-side extras: set_target, client.reconnect, client.get_version answered by the miner', () => {
    const c = new Conn()
      .send(AB, lines('{"id":1,"method":"mining.subscribe","params":["bfgminer/5.5.0"]}'))
      .send(
        BA,
        lines(
          '{"id":null,"method":"mining.set_target","params":["00000000ffff0000000000000000000000000000000000000000000000000000"]}',
          '{"id":null,"method":"client.reconnect","params":["ltc.pool.example.net","3333",0]}',
          '{"id":50,"method":"client.get_version","params":[]}',
        ),
      )
      .send(AB, lines('{"id":50,"result":"bfgminer/5.5.0","error":null}'));
    const f = c.flow.findings!;
    expect(f.minerSide).toBe(1);
    expect(f.poolHost).toBe('ltc.pool.example.net');
    expect(f.coin).toBe('ltc');
    expect(f.target).toBe('00000000ffff0000000000000000000000000000000000000000000000000000');
    expect(f.difficulty).toBeCloseTo(1, 3);
    expect(f.agent).toBe('bfgminer/5.5.0');
  });

  it('a protocol role overrides a blacklist guess made before', () => {
    const flow = makeFlow({ findings: { ...newFindings(), evidence: ['blacklist-ip'], minerSide: 2, blacklistEntry: '198.51.100.0/24' } });
    const c = new Conn(flow).send(AB, lines(SUBSCRIBE));
    expect(c.flow.findings?.minerSide).toBe(1);
    expect(c.flow.findings?.evidence).toEqual(['blacklist-ip', 'stratum']);
    expect(c.flow.findings?.blacklistEntry).toBe('198.51.100.0/24');
  });
});

describe('EthereumStratum/1.0.0 (NiceHash)', () => {
  const NH = '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy.worker1';
  const miner = [
    '{"id": 1, "method": "mining.subscribe", "params": ["ethminer 0.19.0", "EthereumStratum/1.0.0"]}',
    `{"id": 2, "method": "mining.authorize", "params": ["${NH}", "x"]}`,
    '{"id": 3, "method": "mining.extranonce.subscribe", "params": []}',
  ];
  const pool = [
    '{"id": 1, "result": [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f", "EthereumStratum/1.0.0"], "080c"], "error": null}',
    '{"id": 2, "result": true, "error": null}',
    '{"id": null, "method": "mining.set_difficulty", "params": [0.5]}',
    '{"id": null, "method": "mining.notify", "params": ["bf0488aa", "abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c", "645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc", true]}',
  ];
  const submit = `{"id": 244, "method": "mining.submit", "params": ["${NH}", "bf0488aa", "6a909d9bbc0f"]}`;

  it('full session: evidence ethereum-stratum only, coin eth despite the BTC payout address', () => {
    const c = new Conn()
      .send(AB, lines(miner[0]!))
      .send(BA, lines(pool[0]!))
      .send(AB, lines(miner[1]!, miner[2]!))
      .send(BA, lines(pool[1]!, pool[2]!, pool[3]!))
      .send(AB, lines(submit))
      .send(BA, lines('{"id": 244, "result": true, "error": null}'));
    expect(c.flow.findings).toEqual(
      expected({
        evidence: ['ethereum-stratum'],
        minerSide: 1,
        login: NH,
        worker: 'worker1',
        agent: 'ethminer 0.19.0',
        coin: 'eth',
        difficulty: 0.5,
        sharesSubmitted: 1,
        sharesAccepted: 1,
      }),
    );
  });

  it('pool only: recognised from the subscribe answer or the 4-parameter notify', () => {
    const a = new Conn().send(AB, lines(pool[0]!));
    expect(a.flow.findings?.evidence).toEqual(['ethereum-stratum']);
    expect(a.flow.findings?.minerSide).toBe(2);
    const b = new Conn().send(BA, lines(pool[3]!, pool[2]!));
    expect(b.flow.findings).toEqual(expected({ evidence: ['ethereum-stratum'], minerSide: 1, coin: 'eth', difficulty: 0.5 }));
  });

  it('eth_submitHashrate inside the session stays EthereumStratum', () => {
    const c = new Conn()
      .send(AB, lines(miner[0]!))
      .send(
        AB,
        lines('{"id": 9, "method": "eth_submitHashrate", "params": ["0x1dcd6500", "0x59b1a1f0f6e4c5b2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8"]}'),
      );
    expect(c.flow.findings?.evidence).toEqual(['ethereum-stratum']);
    expect(c.flow.findings?.reportedHashrate).toBe(500_000_000);
  });

  it('EthereumStratum/2.0.0 mining.hello', () => {
    const c = new Conn().send(
      AB,
      lines('{"id":0,"method":"mining.hello","params":{"agent":"nsfminer-1.3.14","host":"daggerhashimoto.eu.nicehash.com","port":"3353","proto":"EthereumStratum/2.0.0"}}'),
    );
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['ethereum-stratum'], minerSide: 1, agent: 'nsfminer-1.3.14', poolHost: 'daggerhashimoto.eu.nicehash.com', coin: 'eth' }),
    );
  });
});
