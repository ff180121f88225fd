import { PoolwatchError } from '../errors.js';
import { guard, type Database } from './db.js';
import { cmp, compareIp, ipSortKey } from './ipsort.js';
import { CATEGORY_STRENGTH, strongerCategory, type HitCategory } from './types.js';

export interface PoolRef {
  ip: string;
  port: number;
  /** Only present when some hit carried the pool's host name. */
  host?: string;
}

/** Everything known about one source address (one customer / miner). */
export interface SourceRecord {
  /** The customer's address; behind carrier-grade NAT the inside one. */
  src: string;
  /** The strongest category of its rows: mining > crypto-p2p > suspect. */
  category: HitCategory;
  evidence: string[];
  pools: PoolRef[];
  coins: string[];
  logins: string[];
  workers: string[];
  agents: string[];
  algos: string[];
  flows: number;
  packets: number;
  bytes: number;
  bytesUp: number;
  bytesDown: number;
  sharesSubmitted: number;
  sharesAccepted: number;
  sharesRejected: number;
  difficulty: number | null;
  reportedHashrate: number | null;
  blacklistEntries: string[];
  /** Blacklist versions that held those entries, ascending. */
  blacklistVersions: number[];
  /** ISO 8601 UTC with milliseconds. */
  firstSeen: string;
  lastSeen: string;
  inputs: string[];
  // Added with flow records (schema v4), after the older fields so that CSV columns and JSON keys
  // that scripts already read keep their places.
  /** Public (outside) addresses the customer was translated to (carrier-grade NAT), sorted; empty without NAT. */
  natOutside: string[];
  /**
   * True when some of the packets and bytes are estimates: a merged row came from sampled flow
   * records (sampling rate above 1), whose counts were multiplied by the rate.
   */
  scaled: boolean;
  /** The sampling rates of its rows, distinct, ascending (1 = counted, not sampled). */
  samplingRates: number[];
}

export interface QueryOptions {
  /** Only hits of this run. */
  runId?: number;
  /** Only hits still active at or after this time (last_seen >= since). */
  since?: Date;
  /** Only hits that began at or before this time (first_seen <= until). */
  until?: Date;
  /** Only sources whose (aggregated, strongest) category is this: 'mining', 'crypto-p2p' or 'suspect'. */
  category?: string;
}

interface HitRow {
  src: string;
  pool_ip: string;
  pool_port: number;
  category: string;
  evidence: string;
  blacklist_entry: string | null;
  blacklist_version: number | null;
  coin: string | null;
  login: string | null;
  worker: string | null;
  agent: string | null;
  algo: string | null;
  pool_host: string | null;
  difficulty: number | null;
  reported_hashrate: number | null;
  shares_submitted: number;
  shares_accepted: number;
  shares_rejected: number;
  first_seen: number;
  last_seen: number;
  flows: number;
  packets_up: number;
  bytes_up: number;
  packets_down: number;
  bytes_down: number;
  input: string;
  sampling_rate: number;
  nat_outside: string | null;
}

/** Per-source accumulator; sets become sorted arrays at the end. */
interface Acc {
  src: string;
  category: HitCategory | null;
  natOutside: Set<string>;
  samplingRates: Set<number>;
  evidence: Set<string>;
  pools: Map<string, PoolRef>;
  coins: Set<string>;
  logins: Set<string>;
  workers: Set<string>;
  agents: Set<string>;
  algos: Set<string>;
  blacklist: Set<string>;
  blacklistVersions: Set<number>;
  inputs: Set<string>;
  flows: number;
  packetsUp: number;
  packetsDown: number;
  bytesUp: number;
  bytesDown: number;
  sharesSubmitted: number;
  sharesAccepted: number;
  sharesRejected: number;
  /** Value and last_seen of the row it came from: the latest non-null wins. */
  difficulty: number | null;
  difficultyAt: number;
  hashrate: number | null;
  hashrateAt: number;
  firstSeen: number;
  lastSeen: number;
}

const CATEGORIES: readonly string[] = CATEGORY_STRENGTH;

/** How many distinct sources a run flagged: what the end-of-scan log needs, without building records. */
export function countSources(db: Database, runId: number): number {
  return guard(db, () => (db.prepare('SELECT count(DISTINCT src) AS n FROM hits WHERE run_id = ?').get(runId) as { n: number }).n);
}

/**
 * One record per source address, aggregated over its hits rows (optionally filtered), sorted by
 * bytes descending, then src ascending (IPv4 before IPv6, numerically).
 */
export function querySources(db: Database, opts: QueryOptions = {}): SourceRecord[] {
  if (opts.category !== undefined && !CATEGORIES.includes(opts.category)) {
    throw new PoolwatchError('PW_ERR_USAGE', `unknown category "${opts.category}" (${CATEGORIES.join(', ')})`);
  }
  const where: string[] = [];
  const params: Record<string, number> = {};
  if (opts.runId !== undefined) {
    where.push('run_id = @runId');
    params.runId = opts.runId;
  }
  if (opts.since !== undefined) {
    where.push('last_seen >= @since');
    params.since = toMicros(opts.since, 'since');
  }
  if (opts.until !== undefined) {
    where.push('first_seen <= @until');
    params.until = toMicros(opts.until, 'until');
  }
  // Ordered so that "first non-null" (pool host) means earliest-seen, and results are stable.
  const sql = `SELECT * FROM hits ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY src, first_seen, run_id, pool_ip, pool_port, proto`;

  const bySrc = new Map<string, Acc>();
  guard(db, () => {
    for (const row of db.prepare(sql).iterate(params) as IterableIterator<HitRow>) {
      let acc = bySrc.get(row.src);
      if (acc === undefined) bySrc.set(row.src, (acc = newAcc(row)));
      addRow(acc, row);
    }
  });

  let records = [...bySrc.values()].map(toRecord);
  if (opts.category !== undefined) records = records.filter((r) => r.category === opts.category);
  return records.sort((a, b) => b.bytes - a.bytes || compareIp(a.src, b.src));
}

function toMicros(d: Date, name: string): number {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new PoolwatchError('PW_ERR_USAGE', `invalid ${name} date`);
  return ms * 1000;
}

function newAcc(row: HitRow): Acc {
  return {
    src: row.src,
    category: null,
    natOutside: new Set(),
    samplingRates: new Set(),
    evidence: new Set(),
    pools: new Map(),
    coins: new Set(),
    logins: new Set(),
    workers: new Set(),
    agents: new Set(),
    algos: new Set(),
    blacklist: new Set(),
    blacklistVersions: new Set(),
    inputs: new Set(),
    flows: 0,
    packetsUp: 0,
    packetsDown: 0,
    bytesUp: 0,
    bytesDown: 0,
    sharesSubmitted: 0,
    sharesAccepted: 0,
    sharesRejected: 0,
    difficulty: null,
    difficultyAt: -Infinity,
    hashrate: null,
    hashrateAt: -Infinity,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
  };
}

function addRow(a: Acc, r: HitRow): void {
  if (isCategory(r.category)) a.category = a.category === null ? r.category : strongerCategory(a.category, r.category);
  addText(a.natOutside, r.nat_outside);
  a.samplingRates.add(r.sampling_rate);
  for (const e of parseEvidence(r.evidence)) a.evidence.add(e);
  const poolKey = `${r.pool_ip} ${r.pool_port}`;
  const pool = a.pools.get(poolKey);
  if (pool === undefined) {
    const ref: PoolRef = { ip: r.pool_ip, port: r.pool_port };
    if (r.pool_host !== null) ref.host = r.pool_host;
    a.pools.set(poolKey, ref);
  } else if (pool.host === undefined && r.pool_host !== null) {
    pool.host = r.pool_host;
  }
  addText(a.coins, r.coin);
  addText(a.logins, r.login);
  addText(a.workers, r.worker);
  addText(a.agents, r.agent);
  addText(a.algos, r.algo);
  addText(a.blacklist, r.blacklist_entry);
  if (r.blacklist_version !== null) a.blacklistVersions.add(r.blacklist_version);
  a.inputs.add(r.input);
  a.flows += r.flows;
  a.packetsUp += r.packets_up;
  a.packetsDown += r.packets_down;
  a.bytesUp += r.bytes_up;
  a.bytesDown += r.bytes_down;
  a.sharesSubmitted += r.shares_submitted;
  a.sharesAccepted += r.shares_accepted;
  a.sharesRejected += r.shares_rejected;
  // >= so that, on equal times, the later row in the (stable) scan order wins.
  if (r.difficulty !== null && r.last_seen >= a.difficultyAt) {
    a.difficulty = r.difficulty;
    a.difficultyAt = r.last_seen;
  }
  if (r.reported_hashrate !== null && r.last_seen >= a.hashrateAt) {
    a.hashrate = r.reported_hashrate;
    a.hashrateAt = r.last_seen;
  }
  a.firstSeen = Math.min(a.firstSeen, r.first_seen);
  a.lastSeen = Math.max(a.lastSeen, r.last_seen);
}

function isCategory(c: string): c is HitCategory {
  return CATEGORIES.includes(c);
}

function addText(set: Set<string>, v: string | null): void {
  if (v !== null && v !== '') set.add(v);
}

/** Evidence is written by HitSink as a JSON array; tolerate a hand-edited row. */
export function parseEvidence(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function sorted(set: Set<string>): string[] {
  return [...set].sort(cmp);
}

/** Builds the record with keys in SourceRecord order: JSON output depends on it. */
function toRecord(a: Acc): SourceRecord {
  const pools = [...a.pools.values()].sort(
    (x, y) => cmp(ipSortKey(x.ip), ipSortKey(y.ip)) || x.port - y.port,
  );
  return {
    src: a.src,
    // A row always has a category (CHECK); 'suspect' is only the fallback of a hand-edited file.
    category: a.category ?? 'suspect',
    evidence: sorted(a.evidence),
    pools,
    coins: sorted(a.coins),
    logins: sorted(a.logins),
    workers: sorted(a.workers),
    agents: sorted(a.agents),
    algos: sorted(a.algos),
    flows: a.flows,
    packets: a.packetsUp + a.packetsDown,
    bytes: a.bytesUp + a.bytesDown,
    bytesUp: a.bytesUp,
    bytesDown: a.bytesDown,
    sharesSubmitted: a.sharesSubmitted,
    sharesAccepted: a.sharesAccepted,
    sharesRejected: a.sharesRejected,
    difficulty: a.difficulty,
    reportedHashrate: a.hashrate,
    blacklistEntries: sorted(a.blacklist),
    blacklistVersions: [...a.blacklistVersions].sort((x, y) => x - y),
    firstSeen: microsToIso(a.firstSeen),
    lastSeen: microsToIso(a.lastSeen),
    inputs: sorted(a.inputs),
    natOutside: [...a.natOutside].sort(compareIp),
    scaled: [...a.samplingRates].some((n) => n > 1),
    samplingRates: [...a.samplingRates].sort((x, y) => x - y),
  };
}

/** Microseconds since epoch → ISO 8601 UTC with milliseconds (sub-ms part truncated). */
export function microsToIso(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  return Number.isFinite(d.getTime()) ? d.toISOString() : '';
}
