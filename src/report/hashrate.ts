/**
 * Hash rate from what the wire shows: accepted shares, the share difficulty the pool set, and the
 * time the miner was observed. A share at difficulty D stands for D × H hashes on average, where H
 * (hashes per difficulty unit) depends on the protocol family's convention for "difficulty 1":
 *
 * | family (evidence, coin, algorithm) | D recorded by src/rules/difficulty.ts | hashes per share |
 * |---|---|---|
 * | Stratum v1, Bitcoin style (`stratum`); getwork (`http-mining`) | `mining.set_difficulty` D, or 2^224 / target | D × 2^32 (difficulty 1 = target 0x00000000ffff…, ≈ 2^224) |
 * | Stratum, scrypt family (algo scrypt/neoscrypt/…, coin ltc/doge) | `mining.set_difficulty` D | D × 2^16 (miners divide D by 65536: cpuminer, cgminer, node-stratum-pool `multiplier: 2^16`) |
 * | Stratum, keccak/blake/groestl/fugue | `mining.set_difficulty` D | D × 2^24 (node-stratum-pool `multiplier: 2^8`) |
 * | NiceHash EthereumStratum/1.0.0 (`ethereum-stratum`) | `mining.set_difficulty` D | D × 2^32 (spec: difficulty 1 = target 00000000ffff0000…) |
 * | EthProxy / eth_getWork (`ethproxy`, `http-mining` eth/etc) | 2^256 / boundary | D (the boundary is 2^256 / hashes) |
 * | CryptoNote / XMRig (`cryptonote`), monerod get_block_template | 2^32 / target32 or 2^64 / target64, or the daemon's D | D (XMRig `toDiff`: 2^64 / target64) |
 *
 * Estimated rate = Σ accepted shares × D × H / observed seconds, where the observed time is the
 * union of the [first_seen, last_seen] intervals of the hits rows that counted. One row keeps the
 * last difficulty the pool set, so under vardiff the estimate uses that one for all its shares.
 * The relative error of a share count N is about 1/√N: a handful of shares says little.
 */

/** How a hash rate was obtained. */
export type HashrateMethod = 'shares' | 'reported' | 'none';
export const HASHRATE_METHODS: readonly HashrateMethod[] = ['shares', 'reported', 'none'];

/** Shorter observations give no estimate: one share in 10 ms would read as an enormous rate. */
export const MIN_OBSERVED_SECONDS = 1;

export interface ShareConvention {
  /** Hashes one unit of the recorded difficulty stands for. */
  hashesPerDifficulty: number;
  /** Short name of the convention, shown in documentation and tests. */
  name: 'bitcoin' | 'scrypt' | 'stratum-2^24' | 'ethash' | 'cryptonote';
}

const BITCOIN: ShareConvention = { hashesPerDifficulty: 2 ** 32, name: 'bitcoin' };
const SCRYPT: ShareConvention = { hashesPerDifficulty: 2 ** 16, name: 'scrypt' };
const STRATUM_256: ShareConvention = { hashesPerDifficulty: 2 ** 24, name: 'stratum-2^24' };
const ETHASH: ShareConvention = { hashesPerDifficulty: 1, name: 'ethash' };
const CRYPTONOTE: ShareConvention = { hashesPerDifficulty: 1, name: 'cryptonote' };

const SCRYPT_ALGOS = new Set(['scrypt', 'scrypt-n', 'scryptn', 'scrypt-jane', 'scrypt-og', 'neoscrypt', 'yescrypt', 'yespower']);
const SCRYPT_COINS = new Set(['ltc', 'doge']);
const ALGOS_256 = new Set(['keccak', 'keccakc', 'blake', 'blake256', 'groestl', 'myr-gr', 'fugue']);
/** Coins whose getwork-style HTTP difficulty is already in hashes (eth_getWork boundary, monerod). */
const ETHASH_COINS = new Set(['eth', 'etc']);
const CRYPTONOTE_COINS = new Set(['xmr', 'wow']);

/**
 * The difficulty convention of one hits row, from its evidence, coin and algorithm; null when the
 * row carries no mining protocol (a blacklist-only or P2P row has no shares to count anyway).
 */
export function shareConvention(evidence: readonly string[], coin: string | null, algo: string | null): ShareConvention | null {
  if (evidence.includes('cryptonote')) return CRYPTONOTE;
  if (evidence.includes('ethproxy')) return ETHASH;
  if (evidence.includes('ethereum-stratum')) return BITCOIN;
  if (evidence.includes('http-mining')) {
    if (coin !== null && ETHASH_COINS.has(coin)) return ETHASH;
    if (coin !== null && CRYPTONOTE_COINS.has(coin)) return CRYPTONOTE;
    // getwork: the difficulty was derived from the target in Bitcoin units (2^224 / target).
    return BITCOIN;
  }
  if (evidence.includes('stratum')) {
    const a = algo?.trim().toLowerCase() ?? null;
    if ((a !== null && SCRYPT_ALGOS.has(a)) || (coin !== null && SCRYPT_COINS.has(coin))) return SCRYPT;
    if (a !== null && ALGOS_256.has(a)) return STRATUM_256;
    return BITCOIN;
  }
  return null;
}

/** What the estimate needs of one hits row. Times in microseconds since the epoch. */
export interface HashrateInput {
  evidence: readonly string[];
  coin: string | null;
  algo: string | null;
  difficulty: number | null;
  sharesAccepted: number;
  reportedHashrate: number | null;
  firstSeen: number;
  lastSeen: number;
}

export interface HashrateEstimate {
  /** The figure to use (H/s): from shares when possible, else the miner's own report, else null. */
  hashrate: number | null;
  method: HashrateMethod;
  /** From accepted shares (H/s), or null when there were none, no difficulty, or too short a time. */
  fromShares: number | null;
  /** The latest rate the miner reported itself (H/s), e.g. eth_submitHashrate. */
  reported: number | null;
  /** Accepted shares that counted (rows with a known difficulty and convention). */
  shares: number;
  /** Hashes those shares stand for. */
  hashes: number;
  /** Observed seconds those shares were spread over (union of the rows' intervals). */
  seconds: number;
}

/** Hash rate of one source (or one source's rows at one pool, or of one coin). */
export function estimateHashrate(rows: readonly HashrateInput[]): HashrateEstimate {
  let shares = 0;
  let hashes = 0;
  const spans: [number, number][] = [];
  let reported: number | null = null;
  let reportedAt = -Infinity;
  for (const r of rows) {
    if (r.reportedHashrate !== null && Number.isFinite(r.reportedHashrate) && r.reportedHashrate > 0 && r.lastSeen >= reportedAt) {
      reported = r.reportedHashrate;
      reportedAt = r.lastSeen;
    }
    if (r.sharesAccepted <= 0 || r.difficulty === null || !Number.isFinite(r.difficulty) || r.difficulty <= 0) continue;
    const conv = shareConvention(r.evidence, r.coin, r.algo);
    if (conv === null) continue;
    shares += r.sharesAccepted;
    hashes += r.sharesAccepted * r.difficulty * conv.hashesPerDifficulty;
    spans.push([r.firstSeen, r.lastSeen]);
  }
  const seconds = unionMicros(spans) / 1e6;
  const fromShares = shares > 0 && seconds >= MIN_OBSERVED_SECONDS ? hashes / seconds : null;
  const method: HashrateMethod = fromShares !== null ? 'shares' : reported !== null ? 'reported' : 'none';
  return { hashrate: fromShares ?? reported, method, fromShares, reported, shares, hashes, seconds };
}

/** Total length of a union of [start, end] intervals. */
export function unionMicros(spans: [number, number][]): number {
  if (spans.length === 0) return 0;
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [s, e] = sorted[0]!;
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = sorted[i]!;
    if (a <= e) {
      if (b > e) e = b;
    } else {
      total += e - s;
      s = a;
      e = b;
    }
  }
  return total + (e - s);
}

/** Sum of several estimates (sources of one organisation, of one coin, of the whole window). */
export interface HashrateTotal {
  /** Σ of the members' `hashrate` (H/s); 0 when none has one. */
  hashrate: number;
  /** How many members got their figure from shares, from their own report, or have none. */
  methods: Record<HashrateMethod, number>;
}

export function sumHashrates(estimates: Iterable<HashrateEstimate>): HashrateTotal {
  const methods: Record<HashrateMethod, number> = { shares: 0, reported: 0, none: 0 };
  let hashrate = 0;
  for (const e of estimates) {
    methods[e.method]++;
    if (e.hashrate !== null) hashrate += e.hashrate;
  }
  return { hashrate, methods };
}

/** 1.5e12 → "1.50 TH/s"; null → "-". */
export function humanHashrate(hs: number | null): string {
  if (hs === null || !Number.isFinite(hs)) return '-';
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s', 'ZH/s'];
  let v = hs;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(2)} ${units[i]}`;
}

/** Bits per second → "136.77 Mbps" (decimal megabits, as carriers count). */
export function humanBitrate(bps: number | null): string {
  if (bps === null || !Number.isFinite(bps)) return '-';
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(2)} Gbps`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbps`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(2)} kbps`;
  return `${bps.toFixed(0)} bps`;
}
