// The scripted sessions behind the end-to-end fixtures (test/helpers/sessions.ts), replayed
// straight into the rules with the same tap conditions the fixtures use: segment sizes, one side
// only, joined mid-session. Keeps the rules and the e2e expectations in step.
import { describe, expect, it } from 'vitest';
import type { Say } from './helpers/conversation.js';
import {
  BTC_WALLET,
  ETH_WALLET,
  XMR_WALLET,
  bitcoinStratum,
  bitcoinVersionMessage,
  ethProxySession,
  httpGetwork,
  jsonApi,
  niceHashSession,
  walletRpc,
  webPage,
  xmrigSession,
} from './helpers/sessions.js';
import { AB, BA, Conn, makeFlow } from './rules-fixtures.js';

interface Tap {
  segmentSize?: number;
  only?: 'c' | 's';
  skipBytes?: number;
  /** Which side is A: the first sender the tap saw. */
  clientIsA?: boolean;
  syn?: boolean;
}

function play(says: Say[], t: Tap = {}): Conn {
  const clientIsA = t.clientIsA ?? true;
  const c = new Conn(makeFlow({ synFrom: t.syn ? (clientIsA ? 1 : 2) : 0 }));
  const skip = { c: t.skipBytes ?? 0, s: t.skipBytes ?? 0 };
  for (const say of says) {
    const dir = (say.from === 'c') === clientIsA ? AB : BA;
    let b = Buffer.from(typeof say.text === 'string' ? Buffer.from(say.text, 'utf8') : say.text);
    if (skip[say.from] > 0) {
      const cut = Math.min(skip[say.from], b.length);
      skip[say.from] -= cut;
      c.lose(dir, cut);
      b = b.subarray(cut);
    }
    if (b.length === 0 || (t.only !== undefined && t.only !== say.from)) {
      c.lose(dir, b.length);
      continue;
    }
    const size = t.segmentSize ?? b.length;
    for (let i = 0; i < b.length; i += size) c.send(dir, b.subarray(i, i + size));
  }
  return c;
}

describe('the e2e sessions, through the rules', () => {
  it('Bitcoin Stratum (cgminer)', () => {
    const f = play(bitcoinStratum, { syn: true }).flow.findings;
    expect(f).toMatchObject({
      category: 'mining',
      evidence: ['stratum'],
      minerSide: 1,
      coin: 'btc',
      login: `${BTC_WALLET}.rig1`,
      worker: 'rig1',
      agent: 'cgminer/4.10.0',
      difficulty: 8192,
      sharesSubmitted: 2,
      sharesAccepted: 1,
      sharesRejected: 1,
    });
  });

  it('XMRig', () => {
    const f = play(xmrigSession, { syn: true }).flow.findings!;
    expect(f).toMatchObject({
      evidence: ['cryptonote'],
      minerSide: 1,
      coin: 'xmr',
      login: XMR_WALLET,
      worker: 'rig7',
      agent: 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0',
      algo: 'rx/0',
      sharesSubmitted: 1,
      sharesAccepted: 1,
      sharesRejected: 0,
    });
    expect(f.difficulty).toBeCloseTo(0xffffffff / 0x00068db8, 3);
  });

  it('EthProxy in 60- and 17-byte segments', () => {
    for (const segmentSize of [60, 17]) {
      const f = play(ethProxySession, { segmentSize, syn: true }).flow.findings;
      expect(f, `segments of ${segmentSize}`).toMatchObject({
        evidence: ['ethproxy'],
        minerSide: 1,
        coin: 'eth',
        login: ETH_WALLET,
        reportedHashrate: 0x1dcd6500,
        sharesSubmitted: 1,
        sharesAccepted: 1,
      });
    }
  });

  it('NiceHash seen from the pool only, joined mid-session, pool is side A', () => {
    const f = play(niceHashSession, { only: 's', skipBytes: 30, clientIsA: false }).flow.findings;
    expect(f).toMatchObject({ category: 'mining', evidence: ['ethereum-stratum'], minerSide: 2, coin: 'eth', difficulty: 0.5 });
  });

  it('getwork over HTTP', () => {
    const f = play(httpGetwork, { syn: true }).flow.findings;
    expect(f).toMatchObject({
      evidence: ['http-mining'],
      minerSide: 1,
      agent: 'cgminer 2.7.2',
      poolHost: 'pool.example.net',
      login: 'worker',
      difficulty: 1,
    });
  });

  it('a Bitcoin full node', () => {
    const c = new Conn(makeFlow({ synFrom: 1, bPort: 8333 })).send(AB, bitcoinVersionMessage());
    expect(c.flow.findings).toMatchObject({ category: 'crypto-p2p', evidence: ['bitcoin-p2p'], coin: 'btc', agent: '/Satoshi:25.0.0/', minerSide: 1 });
  });

  it.each([
    ['wallet RPC', walletRpc],
    ['web page', webPage],
    ['JSON API', jsonApi],
  ])('%s is not mining', (_name, says) => {
    for (const syn of [true, false]) {
      const c = play(says as Say[], { syn });
      expect(c.flow.findings).toBeNull();
    }
  });

  it('a web page is given up as soon as both sides spoke', () => {
    expect(play(webPage, { syn: true }).flow.inspectionDone).toBe(true);
  });
});
