import { describe, expect, it } from 'vitest';
import {
  estimateHashrate, humanBitrate, humanHashrate, shareConvention, sumHashrates, unionMicros, type HashrateInput,
} from '../src/report/hashrate.js';
import { btcTargetDifficulty, cryptonoteDifficulty, ethashDifficulty, getworkDifficulty } from '../src/rules/difficulty.js';

const S = 1_000_000; // microseconds per second
const T = Date.UTC(2024, 2, 1) * 1000;

function row(over: Partial<HashrateInput>): HashrateInput {
  return { evidence: ['stratum'], coin: 'btc', algo: null, difficulty: null, sharesAccepted: 0, reportedHashrate: null, firstSeen: T, lastSeen: T + 600 * S, ...over };
}

describe('hash rate from accepted shares, per difficulty convention', () => {
  it('Bitcoin-style Stratum: 100 shares at difficulty 65536 over 600 s = 100 × 65536 × 2^32 / 600 H/s', () => {
    const e = estimateHashrate([row({ difficulty: 65536, sharesAccepted: 100 })]);
    // By hand: 65536 × 2^32 = 2^48 = 281,474,976,710,656 hashes a share; × 100 / 600 = 46,912,496,118,442.67 H/s (46.9 TH/s).
    expect(e.fromShares).toBeCloseTo(46_912_496_118_442.67, 0);
    expect(e.fromShares).toBe((100 * 65536 * 2 ** 32) / 600);
    expect(e).toMatchObject({ method: 'shares', shares: 100, seconds: 600, hashes: 100 * 2 ** 48 });
    expect(humanHashrate(e.hashrate)).toBe('46.91 TH/s');
  });

  it('Stratum mining.set_target: difficulty 2^224 / target, so 2^256 / target hashes a share', () => {
    // Target 2^208 (0x000000000001 followed by 52 hex zeros): difficulty 2^16, hashes a share 2^48.
    const target = `000000000001${'0'.repeat(52)}`;
    const d = btcTargetDifficulty(target)!;
    expect(d).toBe(65536);
    const e = estimateHashrate([row({ difficulty: d, sharesAccepted: 1, lastSeen: T + 2 ** 16 * S })]);
    expect(e.fromShares).toBe(2 ** 48 / 2 ** 16); // 2^256 / target / seconds
  });

  it('CryptoNote / XMRig target: the difficulty is already hashes a share (2^32 / target32)', () => {
    const d = cryptonoteDifficulty('b88d0600')!; // 0x00068db8 = 429,496: 0xffffffff / 429496 = 10000.017
    expect(d).toBeCloseTo(10000.017, 3);
    expect(shareConvention(['cryptonote'], 'xmr', 'rx/0')!.hashesPerDifficulty).toBe(1);
    const e = estimateHashrate([row({ evidence: ['blacklist-ip', 'cryptonote'], coin: 'xmr', algo: 'rx/0', difficulty: d, sharesAccepted: 50, lastSeen: T + 100 * S })]);
    // 50 × 10000.017 / 100 s = 5000.0085 H/s
    expect(e.fromShares).toBeCloseTo(5000.0085, 3);
    // 8-byte targets: 2^64 / target64, the same hashes-per-share meaning.
    expect(cryptonoteDifficulty('0000000000000100')).toBe(2 ** 64 / 2 ** 48); // little-endian 2^48
  });

  it('EthProxy: difficulty 2^256 / boundary is hashes a share', () => {
    const boundary = `0x${(2n ** 256n / 4_000_000_000n).toString(16).padStart(64, '0')}`;
    const d = ethashDifficulty(boundary)!;
    expect(d).toBeCloseTo(4e9, -1);
    const e = estimateHashrate([row({ evidence: ['ethproxy'], coin: 'eth', difficulty: d, sharesAccepted: 30, lastSeen: T + 240 * S })]);
    // 30 × 4e9 / 240 s = 5e8 H/s
    expect(e.fromShares! / 5e8).toBeCloseTo(1, 6);
  });

  it('NiceHash EthereumStratum/1.0.0: set_difficulty in Bitcoin units (difficulty 1 = target 00000000ffff…)', () => {
    const e = estimateHashrate([row({ evidence: ['ethereum-stratum'], coin: 'eth', difficulty: 0.5, sharesAccepted: 120, lastSeen: T + 60 * S })]);
    // 120 × 0.5 × 2^32 / 60 = 2^32 H/s
    expect(e.fromShares).toBe(2 ** 32);
  });

  it('scrypt Stratum: difficulty × 2^16 (miners divide the difficulty by 65536)', () => {
    expect(shareConvention(['stratum'], 'ltc', 'scrypt')!.hashesPerDifficulty).toBe(2 ** 16);
    expect(shareConvention(['stratum'], 'doge', null)!.hashesPerDifficulty).toBe(2 ** 16);
    expect(shareConvention(['stratum'], null, 'Scrypt')!.name).toBe('scrypt');
    const e = estimateHashrate([row({ coin: 'ltc', algo: 'scrypt', difficulty: 131072, sharesAccepted: 10, lastSeen: T + 10 * S })]);
    expect(e.fromShares).toBe(2 ** 33); // 10 × 2^17 × 2^16 / 10
  });

  it('keccak/groestl-family Stratum: difficulty × 2^24', () => {
    expect(shareConvention(['stratum'], null, 'keccak')!.hashesPerDifficulty).toBe(2 ** 24);
  });

  it('HTTP getwork: target in Bitcoin units; eth_getWork and monerod: hashes', () => {
    const d = getworkDifficulty(`${'ff'.repeat(28)}00000000`)!; // little-endian 0x00000000ffff…: difficulty ≈ 1
    expect(d).toBeCloseTo(1, 6);
    expect(shareConvention(['http-mining'], null, null)!.hashesPerDifficulty).toBe(2 ** 32);
    expect(shareConvention(['http-mining'], 'eth', null)!.hashesPerDifficulty).toBe(1);
    expect(shareConvention(['http-mining'], 'xmr', null)!.hashesPerDifficulty).toBe(1);
    expect(shareConvention(['blacklist-ip'], null, null)).toBeNull();
    expect(shareConvention(['bitcoin-p2p'], 'btc', null)).toBeNull();
  });

  it('counts only rows with shares, a difficulty and a protocol; time is the union of their intervals', () => {
    const rows = [
      // two pools at the same time: 300 s of wall time, not 600
      row({ difficulty: 1, sharesAccepted: 10, firstSeen: T, lastSeen: T + 300 * S }),
      row({ difficulty: 2, sharesAccepted: 5, firstSeen: T + 100 * S, lastSeen: T + 300 * S }),
      // no difficulty: left out (shares alone do not say how much work)
      row({ difficulty: null, sharesAccepted: 1000, firstSeen: T + 1000 * S, lastSeen: T + 2000 * S }),
      // blacklist-only row with counters from a hand-edited file: no convention
      row({ evidence: ['blacklist-ip'], difficulty: 5, sharesAccepted: 7, firstSeen: T + 5000 * S, lastSeen: T + 6000 * S }),
    ];
    const e = estimateHashrate(rows);
    expect(e.shares).toBe(15);
    expect(e.seconds).toBe(300);
    expect(e.fromShares).toBe(((10 * 1 + 5 * 2) * 2 ** 32) / 300);
    expect(unionMicros([[0, 10], [5, 20], [30, 40], [40, 41]])).toBe(31);
  });

  it('falls back to the rate the miner reported (latest), then to none', () => {
    const reported = estimateHashrate([
      row({ evidence: ['ethproxy'], coin: 'eth', reportedHashrate: 2e8, lastSeen: T + 100 * S }),
      row({ evidence: ['ethproxy'], coin: 'eth', reportedHashrate: 3e8, lastSeen: T + 200 * S }),
    ]);
    expect(reported).toMatchObject({ method: 'reported', hashrate: 3e8, reported: 3e8, fromShares: null });
    // Shares beat the report; the report is still shown beside them.
    const both = estimateHashrate([row({ evidence: ['ethproxy'], coin: 'eth', difficulty: 4e9, sharesAccepted: 10, reportedHashrate: 1e8, lastSeen: T + 400 * S })]);
    expect(both).toMatchObject({ method: 'shares', hashrate: 1e8, reported: 1e8 });
    // Under a second of observation: no estimate from shares.
    const short = estimateHashrate([row({ difficulty: 8192, sharesAccepted: 1, lastSeen: T + 140_000 })]);
    expect(short).toMatchObject({ method: 'none', hashrate: null, fromShares: null, shares: 1 });
    expect(estimateHashrate([])).toMatchObject({ method: 'none', hashrate: null, shares: 0, seconds: 0 });
  });

  it('totals add the sources and count their methods', () => {
    const a = estimateHashrate([row({ difficulty: 1, sharesAccepted: 600 })]); // 2^32 H/s
    const b = estimateHashrate([row({ reportedHashrate: 1000 })]);
    const c = estimateHashrate([row({})]);
    expect(sumHashrates([a, b, c])).toEqual({ hashrate: 2 ** 32 + 1000, methods: { shares: 1, reported: 1, none: 1 } });
  });

  it('prints rates in SI units', () => {
    expect(humanHashrate(null)).toBe('-');
    expect(humanHashrate(999)).toBe('999.00 H/s');
    expect(humanHashrate(1.5e16)).toBe('15.00 PH/s');
    expect(humanBitrate(136_770_000)).toBe('136.77 Mbps');
    expect(humanBitrate(2.5e9)).toBe('2.50 Gbps');
    expect(humanBitrate(null)).toBe('-');
  });
});
