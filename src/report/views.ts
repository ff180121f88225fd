/**
 * The report views besides the per-source list: the regulator's summary, pools, coins, a
 * timeline, and per-organisation totals, all computed from the hits rows of one database.
 *
 * Filters: `runId` (one run), `since` / `until` (rows active in the window: last_seen >= since and
 * first_seen <= until, as `report` filters), and `category`, which here selects **rows** of that
 * category (default `mining`: pool traffic, not a node's P2P traffic; `all` for every row). A
 * source counts in a view when one of its selected rows does.
 */
import { PoolwatchError } from '../errors.js';
import { guard, type Database } from './db.js';
import { estimateHashrate, sumHashrates, type HashrateEstimate, type HashrateInput, type HashrateMethod, type HashrateTotal } from './hashrate.js';
import { cmp, compareIp, ipSortKey } from './ipsort.js';
import { microsToIso, parseEvidence, querySources, type QueryOptions, type SourceRecord } from './query.js';
import { CATEGORY_STRENGTH, strongerCategory, type HitCategory } from './types.js';
import type { OrgLookup } from './views-providers.js';
import { UNKNOWN_ORG } from './orgs.js';
import {
  activePerBucket, bucketsFor, coveredSeconds, DAY_US, HOUR_US, MAX_BUCKETS, newPerBucket, spreadBytes, trafficFigures,
  type Window,
} from './views-traffic.js';

export type ViewCategory = HitCategory | 'all';
export const VIEW_CATEGORIES: readonly ViewCategory[] = [...CATEGORY_STRENGTH, 'all'];

export interface ViewOptions {
  runId?: number;
  since?: Date;
  until?: Date;
  /** Rows of this category only; default 'mining'. */
  category?: ViewCategory;
}

/** One hits row as the views use it (times in microseconds). */
export interface ViewRow extends HashrateInput {
  runId: number;
  src: string;
  poolIp: string;
  poolPort: number;
  proto: number;
  category: HitCategory;
  evidence: string[];
  poolHost: string | null;
  login: string | null;
  agent: string | null;
  blacklistEntry: string | null;
  flows: number;
  bytes: number;
  samplingRate: number;
}

interface RawRow {
  run_id: number;
  src: string;
  pool_ip: string;
  pool_port: number;
  proto: number;
  category: string;
  evidence: string;
  coin: string | null;
  algo: string | null;
  login: string | null;
  agent: string | null;
  pool_host: string | null;
  blacklist_entry: string | null;
  difficulty: number | null;
  shares_accepted: number;
  reported_hashrate: number | null;
  first_seen: number;
  last_seen: number;
  flows: number;
  bytes: number;
  sampling_rate: number;
}

/** The data a view works on: the selected rows, plus what it needs to know beyond them. */
export interface ViewData {
  rows: ViewRow[];
  /** The window asked for (microseconds), null ends where none was given. */
  since: number | null;
  until: number | null;
  /** Effective window: the given ends, else the extent of the selected rows; null without rows. */
  window: Window | null;
  category: ViewCategory;
  /** The run asked for, if any. */
  runId: number | undefined;
  /** First time each source of the selection was ever seen (same run / category filter, any time). */
  firstEver: Map<string, number>;
}

function toMicros(d: Date | undefined, name: string): number | null {
  if (d === undefined) return null;
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new PoolwatchError('PW_ERR_USAGE', `invalid ${name} date`);
  return ms * 1000;
}


function isCategory(c: string): c is HitCategory {
  return (CATEGORY_STRENGTH as readonly string[]).includes(c);
}

/** Read the rows a view needs (one query; the time window is applied here, after "first ever"). */
export function loadViewData(db: Database, opts: ViewOptions = {}): ViewData {
  const category = opts.category ?? 'mining';
  if (!VIEW_CATEGORIES.includes(category)) {
    throw new PoolwatchError('PW_ERR_USAGE', `unknown category "${String(category)}" (${VIEW_CATEGORIES.join(', ')})`);
  }
  const since = toMicros(opts.since, 'since');
  const until = toMicros(opts.until, 'until');
  if (since !== null && until !== null && until < since) throw new PoolwatchError('PW_ERR_USAGE', '--until is before --since');
  const where: string[] = [];
  const params: Record<string, number | string> = {};
  if (opts.runId !== undefined) {
    where.push('run_id = @runId');
    params.runId = opts.runId;
  }
  if (category !== 'all') {
    where.push('category = @category');
    params.category = category;
  }
  const sql = `SELECT run_id, src, pool_ip, pool_port, proto, category, evidence, coin, algo, login, agent, pool_host,
      blacklist_entry, difficulty, shares_accepted, reported_hashrate, first_seen, last_seen, flows,
      bytes_up + bytes_down AS bytes, sampling_rate
    FROM hits ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY src, first_seen, run_id, pool_ip, pool_port, proto`;
  const rows: ViewRow[] = [];
  const firstEver = new Map<string, number>();
  let lo = Infinity;
  let hi = -Infinity;
  guard(db, () => {
    for (const r of db.prepare(sql).iterate(params) as IterableIterator<RawRow>) {
      const f = firstEver.get(r.src);
      if (f === undefined || r.first_seen < f) firstEver.set(r.src, r.first_seen);
      if (since !== null && r.last_seen < since) continue;
      if (until !== null && r.first_seen > until) continue;
      rows.push({
        runId: r.run_id,
        src: r.src,
        poolIp: r.pool_ip,
        poolPort: r.pool_port,
        proto: r.proto,
        category: isCategory(r.category) ? r.category : 'suspect',
        evidence: parseEvidence(r.evidence),
        coin: r.coin,
        algo: r.algo,
        login: r.login,
        agent: r.agent,
        poolHost: r.pool_host,
        blacklistEntry: r.blacklist_entry,
        difficulty: r.difficulty,
        sharesAccepted: r.shares_accepted,
        reportedHashrate: r.reported_hashrate,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
        flows: r.flows,
        bytes: r.bytes,
        samplingRate: r.sampling_rate,
      });
      lo = Math.min(lo, r.first_seen);
      hi = Math.max(hi, r.last_seen);
    }
  });
  let window: Window | null = null;
  if (since !== null || until !== null || rows.length > 0) {
    const start = since ?? (rows.length > 0 ? lo : until!);
    const end = until ?? (rows.length > 0 ? Math.max(hi, start) : start);
    window = { start, end: Math.max(start, end) };
  }
  return { rows, since, until, window, category, runId: opts.runId, firstEver };
}

function groupBy<K>(rows: readonly ViewRow[], key: (r: ViewRow) => K): Map<K, ViewRow[]> {
  const m = new Map<K, ViewRow[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list === undefined) m.set(k, [r]);
    else list.push(r);
  }
  return m;
}

function uniqueSorted(xs: Iterable<string | null>): string[] {
  const s = new Set<string>();
  for (const x of xs) if (x !== null && x !== '') s.add(x);
  return [...s].sort(cmp);
}

/** Hash rate per source (the building block of every total). */
export function hashratesBySource(rows: readonly ViewRow[]): Map<string, HashrateEstimate> {
  const out = new Map<string, HashrateEstimate>();
  for (const [src, list] of groupBy(rows, (r) => r.src)) out.set(src, estimateHashrate(list));
  return out;
}

/**
 * Total of a group of rows: each source's estimate over its rows in the group, summed over the
 * sources (different machines hash at the same time; one machine's rows are one estimate).
 */
export function groupHashrate(rows: readonly ViewRow[]): HashrateTotal {
  return sumHashrates(hashratesBySource(rows).values());
}

// ---------------------------------------------------------------- sources (report sources)

/** The per-source record of `report`, plus its hash rate. */
export interface SourceWithHashrate extends SourceRecord {
  /** H/s: from shares when possible, else the miner's own report; null when neither. */
  hashrate: number | null;
  hashrateMethod: HashrateMethod;
  /** From accepted shares × difficulty over the observed time (H/s), or null. */
  hashrateFromShares: number | null;
  /** Accepted shares and observed seconds the estimate used. */
  hashrateShares: number;
  hashrateSeconds: number;
  /** The organisation the address belongs to (longest prefix of the configured map), or "unknown". */
  org: string;
  orgSector: string | null;
}

/**
 * `report sources`: exactly `report`'s records (same filters, same order, same fields), each with
 * the hash rate fields after them. The hash rate uses all rows of the source that `report` used.
 */
/** `orgs` null: no organisations configured (every source is then "unknown"). */
export function sourcesWithHashrate(db: Database, q: QueryOptions, orgs: OrgLookup | null = null): SourceWithHashrate[] {
  const records = querySources(db, q);
  const data = loadViewData(db, { runId: q.runId, since: q.since, until: q.until, category: 'all' });
  const rates = hashratesBySource(data.rows);
  return records.map((r) => {
    const e = rates.get(r.src) ?? estimateHashrate([]);
    return {
      ...r,
      hashrate: e.hashrate,
      hashrateMethod: e.method,
      hashrateFromShares: e.fromShares,
      hashrateShares: e.shares,
      hashrateSeconds: Math.round(e.seconds * 1000) / 1000,
      ...orgOf(orgs, r.src),
    };
  });
}

function orgOf(orgs: OrgLookup | null, src: string): { org: string; orgSector: string | null } {
  const o = orgs?.lookup(src) ?? null;
  return o === null ? { org: UNKNOWN_ORG, orgSector: null } : { org: o.name, orgSector: o.sector ?? null };
}

// ---------------------------------------------------------------- summary

export interface Summary {
  window: {
    /** As asked (--since / --until), ISO 8601, or null. */
    since: string | null;
    until: string | null;
    /** The window the figures cover: the asked ends, else the extent of the rows. */
    start: string | null;
    end: string | null;
    seconds: number;
  };
  category: ViewCategory;
  screened: {
    /** Customer addresses screened, when the operator gave the figure (--screened); not recorded by scans. */
    sources: number | null;
    /** Runs in the database (or the one run asked for), their packets and flows (whole runs). */
    runs: number;
    packets: number;
    flows: number;
  };
  /** Sources with a selected row in the window. */
  flaggedSources: number;
  /** Every source active in the window, by its strongest category (whatever --category says). */
  sourcesByCategory: Record<HitCategory, number>;
  /** Organisations the flagged sources belong to; null when no organisations are configured. */
  organisations: number | null;
  /** Flagged sources outside every configured organisation; null without organisations. */
  unattributedSources: number | null;
  coins: string[];
  /** Pool endpoints (address, port) and distinct pool addresses. */
  poolEndpoints: number;
  poolAddresses: number;
  traffic: {
    bytes: number;
    averageBps: number | null;
    peakHourBps: number | null;
    peakHour: string | null;
    /** Some counts are estimates from sampled flow records. */
    scaled: boolean;
  };
  hashrate: HashrateTotal;
}

interface RunTotals {
  runs: number;
  packets: number;
  flows: number;
}

function runTotals(db: Database, runId: number | undefined): RunTotals {
  return guard(db, () => {
    const sql = `SELECT COUNT(*) AS runs, COALESCE(SUM(packets), 0) AS packets, COALESCE(SUM(flows), 0) AS flows FROM runs${runId === undefined ? '' : ' WHERE id = ?'}`;
    const stmt = db.prepare(sql);
    return (runId === undefined ? stmt.get() : stmt.get(runId)) as RunTotals;
  });
}

function isoOrNull(us: number | null): string | null {
  return us === null ? null : microsToIso(us);
}

export function buildSummary(db: Database, data: ViewData, orgs: OrgLookup | null, screened: number | null = null): Summary {
  const rows = data.rows;
  const sources = new Set(rows.map((r) => r.src));
  // By strongest category: every row in the window, whatever the category filter.
  const all = data.category === 'all' ? data : loadViewData(db, { runId: data.runId, ...windowOpts(data), category: 'all' });
  const strongest = new Map<string, HitCategory>();
  for (const r of all.rows) {
    const c = strongest.get(r.src);
    strongest.set(r.src, c === undefined ? r.category : strongerCategory(c, r.category));
  }
  const sourcesByCategory: Record<HitCategory, number> = { mining: 0, 'crypto-p2p': 0, suspect: 0 };
  for (const c of strongest.values()) sourcesByCategory[c]++;

  let organisations: number | null = null;
  let unattributed: number | null = null;
  if (orgs !== null) {
    const names = new Set<string>();
    unattributed = 0;
    for (const s of sources) {
      const o = orgs.lookup(s);
      if (o === null) unattributed++;
      else names.add(o.name);
    }
    organisations = names.size;
  }
  const w = data.window;
  const traffic = w === null ? null : trafficFigures(rows.map((r) => ({ start: r.firstSeen, end: r.lastSeen, bytes: r.bytes })), w);
  const runs = runTotals(db, data.runId);
  return {
    window: {
      since: isoOrNull(data.since),
      until: isoOrNull(data.until),
      start: w === null ? null : microsToIso(w.start),
      end: w === null ? null : microsToIso(w.end),
      seconds: w === null ? 0 : (w.end - w.start) / 1e6,
    },
    category: data.category,
    screened: { sources: screened, ...runs },
    flaggedSources: sources.size,
    sourcesByCategory,
    organisations,
    unattributedSources: unattributed,
    coins: uniqueSorted(rows.map((r) => r.coin)),
    poolEndpoints: new Set(rows.map((r) => `${r.poolIp} ${r.poolPort}`)).size,
    poolAddresses: new Set(rows.map((r) => r.poolIp)).size,
    traffic: {
      bytes: Math.round(traffic?.bytes ?? 0),
      averageBps: traffic?.averageBps ?? null,
      peakHourBps: traffic?.peakHourBps ?? null,
      peakHour: traffic?.peakHourStart == null ? null : microsToIso(traffic.peakHourStart),
      scaled: rows.some((r) => r.samplingRate > 1),
    },
    hashrate: groupHashrate(rows),
  };
}

function windowOpts(data: ViewData): { since?: Date; until?: Date } {
  const o: { since?: Date; until?: Date } = {};
  if (data.since !== null) o.since = new Date(data.since / 1000);
  if (data.until !== null) o.until = new Date(data.until / 1000);
  return o;
}

// ---------------------------------------------------------------- pools

export interface PoolView {
  ip: string;
  port: number;
  /** Host names seen for it (HTTP Host, login parameters, DNS). */
  hosts: string[];
  sources: number;
  coins: string[];
  evidence: string[];
  blacklistEntries: string[];
  flows: number;
  bytes: number;
  sharesAccepted: number;
  hashrate: number;
  hashrateMethods: Record<HashrateMethod, number>;
  firstSeen: string;
  lastSeen: string;
}

/** One record per pool endpoint, most sources first (then bytes, then address). */
export function poolsView(data: ViewData): PoolView[] {
  const out: PoolView[] = [];
  for (const list of groupBy(data.rows, (r) => `${r.poolIp} ${r.poolPort}`).values()) {
    const r0 = list[0]!;
    const hr = groupHashrate(list);
    out.push({
      ip: r0.poolIp,
      port: r0.poolPort,
      hosts: uniqueSorted(list.map((r) => r.poolHost)),
      sources: new Set(list.map((r) => r.src)).size,
      coins: uniqueSorted(list.map((r) => r.coin)),
      evidence: uniqueSorted(list.flatMap((r) => r.evidence)),
      blacklistEntries: uniqueSorted(list.map((r) => r.blacklistEntry)),
      flows: sum(list, (r) => r.flows),
      bytes: sum(list, (r) => r.bytes),
      sharesAccepted: sum(list, (r) => r.sharesAccepted),
      hashrate: hr.hashrate,
      hashrateMethods: hr.methods,
      firstSeen: microsToIso(Math.min(...list.map((r) => r.firstSeen))),
      lastSeen: microsToIso(Math.max(...list.map((r) => r.lastSeen))),
    });
  }
  return out.sort((a, b) => b.sources - a.sources || b.bytes - a.bytes || cmp(ipSortKey(a.ip), ipSortKey(b.ip)) || a.port - b.port);
}

function sum(rows: readonly ViewRow[], f: (r: ViewRow) => number): number {
  let s = 0;
  for (const r of rows) s += f(r);
  return s;
}

// ---------------------------------------------------------------- coins

export interface CoinView {
  /** Lower-case ticker, or "unknown" when the traffic did not tell. */
  coin: string;
  sources: number;
  pools: number;
  algos: string[];
  flows: number;
  bytes: number;
  sharesAccepted: number;
  hashrate: number;
  hashrateMethods: Record<HashrateMethod, number>;
}

export const UNKNOWN_COIN = 'unknown';

/** One record per coin, most sources first; "unknown" last. */
export function coinsView(data: ViewData): CoinView[] {
  const out: CoinView[] = [];
  for (const [coin, list] of groupBy(data.rows, (r) => r.coin ?? UNKNOWN_COIN)) {
    const hr = groupHashrate(list);
    out.push({
      coin,
      sources: new Set(list.map((r) => r.src)).size,
      pools: new Set(list.map((r) => `${r.poolIp} ${r.poolPort}`)).size,
      algos: uniqueSorted(list.map((r) => r.algo)),
      flows: sum(list, (r) => r.flows),
      bytes: sum(list, (r) => r.bytes),
      sharesAccepted: sum(list, (r) => r.sharesAccepted),
      hashrate: hr.hashrate,
      hashrateMethods: hr.methods,
    });
  }
  const rank = (c: CoinView) => (c.coin === UNKNOWN_COIN ? 1 : 0);
  return out.sort((a, b) => rank(a) - rank(b) || b.sources - a.sources || b.bytes - a.bytes || cmp(a.coin, b.coin));
}

// ---------------------------------------------------------------- timeline

export type TimelineUnit = 'hour' | 'day';
export const TIMELINE_UNITS: readonly TimelineUnit[] = ['hour', 'day'];

export interface TimelineBucket {
  /** Start of the bucket, ISO 8601 UTC. */
  start: string;
  /** Sources with a selected row active in the bucket. */
  flaggedSources: number;
  /** Sources first seen (ever, in this run / category selection) in the bucket. */
  newSources: number;
  /** Bytes in the bucket, rows spread uniformly over their intervals. */
  bytes: number;
  /** Bits per second over the bucket's seconds inside the window; null if none. */
  averageBps: number | null;
  /** The busiest hour in the bucket (for hours, the same as averageBps). */
  peakHourBps: number | null;
}

export function timelineView(data: ViewData, unit: TimelineUnit): TimelineBucket[] {
  const w = data.window;
  if (w === null) return [];
  const size = unit === 'hour' ? HOUR_US : DAY_US;
  const b = bucketsFor(w, size);
  if (b.count > MAX_BUCKETS) throw new PoolwatchError('PW_ERR_USAGE', `the window holds ${b.count} ${unit}s; narrow it with --since/--until or use --per day`);
  const spreads = data.rows.map((r) => ({ start: r.firstSeen, end: r.lastSeen, bytes: r.bytes }));
  const bytes = spreadBytes(spreads, b, w);
  const cover = coveredSeconds(b, w);
  const spans = new Map<string, [number, number][]>();
  for (const r of data.rows) {
    const l = spans.get(r.src);
    if (l === undefined) spans.set(r.src, [[r.firstSeen, r.lastSeen]]);
    else l.push([r.firstSeen, r.lastSeen]);
  }
  const active = activePerBucket(spans, b, w);
  const fresh = newPerBucket([...spans.keys()].map((s) => data.firstEver.get(s)!), b, w);
  // Hourly rates for the per-day peak.
  let hourPeak: (i: number) => number | null;
  if (unit === 'hour') {
    hourPeak = (i) => (cover[i]! > 0 ? (bytes[i]! * 8) / cover[i]! : null);
  } else {
    const hb = bucketsFor(w, HOUR_US);
    const hBytes = spreadBytes(spreads, hb, w);
    const hCover = coveredSeconds(hb, w);
    const peaks = new Array<number | null>(b.count).fill(null);
    for (let h = 0; h < hb.count; h++) {
      if (hCover[h]! <= 0) continue;
      const day = Math.floor((hb.origin + h * HOUR_US - b.origin) / DAY_US);
      const bps = (hBytes[h]! * 8) / hCover[h]!;
      if (day >= 0 && day < b.count && (peaks[day] === null || bps > peaks[day]!)) peaks[day] = bps;
    }
    hourPeak = (i) => peaks[i] ?? null;
  }
  const out: TimelineBucket[] = [];
  for (let i = 0; i < b.count; i++) {
    out.push({
      start: microsToIso(b.origin + i * size),
      flaggedSources: active[i]!,
      newSources: fresh[i]!,
      bytes: Math.round(bytes[i]!),
      averageBps: cover[i]! > 0 ? (bytes[i]! * 8) / cover[i]! : null,
      peakHourBps: hourPeak(i),
    });
  }
  return out;
}

// ---------------------------------------------------------------- organisations

export interface OrgTotals {
  name: string;
  sector: string | null;
  sources: number;
  bytes: number;
  coins: string[];
  hashrate: number;
  hashrateMethods: Record<HashrateMethod, number>;
}

/**
 * Per-organisation totals of the selected rows (sources, bytes, coins, hash rate), most sources
 * first. Sources outside every organisation are left out (Summary counts them).
 */
export function orgTotals(data: ViewData, orgs: OrgLookup): OrgTotals[] {
  const bySrc = groupBy(data.rows, (r) => r.src);
  const byOrg = new Map<string, { sector: string | null; rows: ViewRow[]; sources: number }>();
  for (const [src, list] of bySrc) {
    const o = orgs.lookup(src);
    if (o === null) continue;
    let acc = byOrg.get(o.name);
    if (acc === undefined) byOrg.set(o.name, (acc = { sector: o.sector ?? null, rows: [], sources: 0 }));
    acc.rows.push(...list);
    acc.sources++;
  }
  const out: OrgTotals[] = [];
  for (const [name, acc] of byOrg) {
    const hr = groupHashrate(acc.rows);
    out.push({
      name,
      sector: acc.sector,
      sources: acc.sources,
      bytes: sum(acc.rows, (r) => r.bytes),
      coins: uniqueSorted(acc.rows.map((r) => r.coin)),
      hashrate: hr.hashrate,
      hashrateMethods: hr.methods,
    });
  }
  return out.sort((a, b) => b.sources - a.sources || b.bytes - a.bytes || cmp(a.name, b.name));
}

/** Distinct flagged sources of the selection, sorted as addresses. */
export function flaggedSources(data: ViewData): string[] {
  return [...new Set(data.rows.map((r) => r.src))].sort(compareIp);
}
