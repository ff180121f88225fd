import { describe, expect, it } from 'vitest';
import { newFindings, type Findings } from '../src/rules/types.js';
import { AB, BA, Conn, lines } from './rules-fixtures.js';

function expected(over: Partial<Findings>): Findings {
  return { ...newFindings(), category: 'mining', ...over };
}

const ETH = '0xea674fdde714fd979de3edf0f56aa9716b898ec8';
const HEADER = '0x645cf20198c2f3861e947d4f67e3ab63b7b2e24dcc9095bd9123e7b33371f6cc';
const SEED = '0xabad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c';
const BOUNDARY = '0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba'; // difficulty 4 G

describe('EthProxy', () => {
  // Claymore's dual miner: "worker": "eth1.0" is its protocol tag, the rig name is in the login.
  const login = `{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["${ETH}.rig1", "x"], "id": 2, "method": "eth_submitLogin"}`;
  const getWork = '{"worker": "", "jsonrpc": "2.0", "params": [], "id": 3, "method": "eth_getWork"}';
  const hashrate =
    '{"id": 6, "jsonrpc": "2.0", "method": "eth_submitHashrate", "params": ["0x0000000000000000000000000000000000000000000000000000000005f5e100", "0x59b1a1f0f6e4c5b2a1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8"]}';
  const submit = `{"id": 4, "jsonrpc": "2.0", "method": "eth_submitWork", "params": ["0x2a3b4c5d6e7f8091", "${HEADER}", "0x1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"], "worker": "eth1.0"}`;
  const work = (id: number) => `{"id":${id},"jsonrpc":"2.0","result":["${HEADER}","${SEED}","${BOUNDARY}"]}`;

  it('Claymore session: login, getWork, hashrate, shares (same id reused)', () => {
    const c = new Conn()
      .send(AB, lines(login))
      .send(BA, lines('{"id":2,"jsonrpc":"2.0","result":true}'))
      .send(AB, lines(getWork))
      .send(BA, lines(work(3)))
      .send(AB, lines(hashrate, submit))
      .send(BA, lines('{"id":6,"jsonrpc":"2.0","result":true}', '{"id":4,"jsonrpc":"2.0","result":true}'))
      .send(AB, lines(submit))
      .send(BA, lines('{"id":4,"jsonrpc":"2.0","result":false}', work(0)));
    expect(c.flow.findings).toEqual(
      expected({
        evidence: ['ethproxy'],
        minerSide: 1,
        login: `${ETH}.rig1`,
        worker: 'rig1',
        coin: 'eth',
        difficulty: 4_000_000_000,
        target: BOUNDARY,
        sharesSubmitted: 2,
        sharesAccepted: 1,
        sharesRejected: 1,
        reportedHashrate: 100_000_000,
      }),
    );
  });

  it('Phoenix login with a worker member', () => {
    const c = new Conn().send(
      BA,
      lines(`{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","worker":"rig7","params":["${ETH}","x"]}`),
    );
    expect(c.flow.findings).toEqual(expected({ evidence: ['ethproxy'], minerSide: 2, login: ETH, worker: 'rig7', coin: 'eth' }));
  });

  it('worker in params[1] when it is a name, not the password "x"', () => {
    const c = new Conn().send(AB, lines(`{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["${ETH}","rig9"]}`));
    expect(c.flow.findings?.worker).toBe('rig9');
  });

  it('pool only: work pushed with id 0', () => {
    const c = new Conn().send(AB, lines(work(0)));
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['ethproxy'], minerSide: 2, coin: 'eth', target: BOUNDARY, difficulty: 4_000_000_000 }),
    );
  });

  it('three block hashes answering something else are not work', () => {
    const c = new Conn().send(
      BA,
      lines(`{"jsonrpc":"2.0","id":7,"result":["${HEADER}","${SEED}","0x9d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6"]}`),
    );
    expect(c.flow.findings).toBeNull();
  });
});

const XMR = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const BLOB =
  '74bf20f876ffc474c0251908fcdce4b314f68d9dcbd7a085a368932ff2b2d409dd311ca871902316d9841aab4ccec38d79d89a0da0c41aebb8f010b8e9a5b5ab89c3049787a5d33aa7e52a6e';
const SEED_HASH = '87316a58a2b4d98ebd9dd1d460fd71e9a72937116d10f35970d13a48f1b76335';
const AGENT = 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.4.0';
const ALGOS =
  '["cn/1","cn/2","cn/r","cn/fast","cn/half","cn/xao","cn/rto","cn/rwz","cn/zls","cn/double","cn/ccx","cn-lite/1","cn-heavy/0","cn-heavy/tube","cn-heavy/xhv","cn-pico","cn-pico/tlo","cn/upx2","rx/0","rx/wow","rx/arq","rx/graft","rx/sfx","rx/keva","argon2/chukwa","argon2/chukwav2","argon2/ninja","ghostrider"]';

describe('CryptoNote (XMRig)', () => {
  const login = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"${XMR}","pass":"x","agent":"${AGENT}","algo":${ALGOS},"rigid":"rig-7"}}`;
  const loginAnswer = `{"id":1,"jsonrpc":"2.0","error":null,"result":{"id":"526521455117340","job":{"blob":"${BLOB}","job_id":"OhRMbOhr4MH+5pVRuEz2BRtkhAeD","target":"b88d0600","algo":"rx/0","height":3115632,"seed_hash":"${SEED_HASH}"},"extensions":["algo","nicehash","connect","tls","keepalive"],"status":"OK"}}`;
  const submit = (id: number) =>
    `{"id":${id},"jsonrpc":"2.0","method":"submit","params":{"id":"526521455117340","job_id":"OhRMbOhr4MH+5pVRuEz2BRtkhAeD","nonce":"b8030000","result":"3c2f0b4e5a8f2d7e1c9b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f2c00","algo":"rx/0"}}`;
  const ok = (id: number) => `{"id":${id},"jsonrpc":"2.0","error":null,"result":{"status":"OK"}}`;
  const bad = (id: number) => `{"id":${id},"jsonrpc":"2.0","error":{"code":-1,"message":"Low difficulty share"}}`;
  const job = `{"jsonrpc":"2.0","method":"job","params":{"blob":"${BLOB}","job_id":"pV4mn8ZKTG2Rh8t5Ycd7fSXkWb0Q","target":"e4a63d00","algo":"rx/0","height":3115633,"seed_hash":"${SEED_HASH}"}}`;
  const keepalive = '{"id":4,"jsonrpc":"2.0","method":"keepalived","params":{"id":"526521455117340"}}';

  it('full session', () => {
    const c = new Conn()
      .send(AB, lines(login))
      .send(BA, lines(loginAnswer))
      .send(AB, lines(submit(2)))
      .send(BA, lines(ok(2), job))
      .send(AB, lines(submit(3), keepalive))
      .send(BA, lines(bad(3), '{"id":4,"jsonrpc":"2.0","error":null,"result":{"status":"KEEPALIVED"}}'));
    expect(c.flow.findings).toEqual(
      expected({
        evidence: ['cryptonote'],
        minerSide: 1,
        login: XMR,
        worker: 'rig-7',
        agent: AGENT,
        coin: 'xmr',
        algo: 'rx/0',
        difficulty: 0xffffffff / 0x003da6e4,
        target: 'e4a63d00',
        sharesSubmitted: 2,
        sharesAccepted: 1,
        sharesRejected: 1,
      }),
    );
  });

  it('login split across segments at every byte position', () => {
    const msg = lines(login);
    for (let i = 1; i < msg.length; i += 3) {
      const c = new Conn().sendSplit(AB, msg, [i]);
      expect(c.flow.findings?.agent, `cut at ${i}`).toBe(AGENT);
    }
  });

  it('pool only: the login answer alone, then job pushes', () => {
    const c = new Conn().send(AB, lines(loginAnswer)).send(AB, lines(job));
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['cryptonote'], minerSide: 2, coin: 'xmr', algo: 'rx/0', difficulty: 0xffffffff / 0x003da6e4, target: 'e4a63d00' }),
    );
  });

  it('xmr-stak style login with wallet.worker and no algo list', () => {
    const c = new Conn().send(
      AB,
      lines(`{"method":"login","params":{"login":"${XMR}.rig2","pass":"x","agent":"xmr-stak/2.10.8/unknown"},"id":1}`),
    );
    expect(c.flow.findings).toEqual(
      expected({ evidence: ['cryptonote'], minerSide: 1, login: `${XMR}.rig2`, worker: 'rig2', agent: 'xmr-stak/2.10.8/unknown', coin: 'xmr' }),
    );
  });

  it('keepalived / getjob alone prove nothing', () => {
    const c = new Conn().send(AB, lines(keepalive, '{"id":5,"jsonrpc":"2.0","method":"getjob","params":{"id":"1"}}'));
    expect(c.flow.findings).toBeNull();
  });
});
