/**
 * Output of the report views: table (terminal), CSV (RFC 4180, CRLF, `;` inside list fields),
 * JSON (one document) and NDJSON (one object a line). No final line break, like format.ts.
 */
import { PoolwatchError } from '../errors.js';
import { formatCsvRows, formatList, textTable as plainTable } from './render.js';
import { csvField, formatSources, humanBytes, OUTPUT_FORMATS, poolEndpoint, stripControl, type OutputFormat, type SourceExtras } from './format.js';
import { humanBitrate, humanHashrate, type HashrateMethod } from './hashrate.js';
import type { CoinView, PoolView, SourceWithHashrate, Summary, TimelineBucket } from './views.js';

/** A column: JSON key (CSV header), table title, and the cell as text. */
export interface ViewColumn<T> {
  key: string;
  title: string;
  right?: boolean;
  csv: (r: T) => string;
  table?: (r: T) => string;
}

/** Aligned columns, two spaces apart; `empty` when there is no row. */
export function textTable<T>(cols: readonly ViewColumn<T>[], rows: readonly T[], empty: string): string {
  return rows.length === 0 ? empty : plainTable(cols.map((c) => ({ title: c.title, right: c.right, get: c.table ?? c.csv })), rows);
}

export function csvRows<T>(cols: readonly ViewColumn<T>[], rows: readonly T[]): string {
  return formatCsvRows(cols.map((c): [string, (r: T) => string] => [c.key, c.csv]), rows);
}

/** A list of records in any format. */
export function formatRows<T>(rows: readonly T[], cols: readonly ViewColumn<T>[], format: OutputFormat, empty: string): string {
  return formatList(rows, format, cols.map((c): [string, (r: T) => string] => [c.key, c.csv]), cols.map((c) => ({ title: c.title, right: c.right, get: c.table ?? c.csv })), empty);
}

const num = (n: number | null) => (n === null ? '' : String(n));
const list = (xs: readonly string[]) => (xs.length === 0 ? '-' : xs.join(','));
const shortTime = (iso: string | null) => (iso === null || iso === '' ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`);
function methods(m: Record<HashrateMethod, number>): string {
  return `shares ${m.shares}, reported ${m.reported}, none ${m.none}`;
}

// ---------------------------------------------------------------- sources

/** `report sources`: `report`'s columns, then the hash rate ones. */
export const SOURCE_HASHRATE_EXTRAS: SourceExtras<SourceWithHashrate> = {
  csv: [
    ['hashrate', (r) => num(r.hashrate)],
    ['hashrateMethod', (r) => r.hashrateMethod],
    ['hashrateFromShares', (r) => num(r.hashrateFromShares)],
    ['hashrateShares', (r) => String(r.hashrateShares)],
    ['hashrateSeconds', (r) => String(r.hashrateSeconds)],
    ['org', (r) => r.org],
    ['orgSector', (r) => r.orgSector ?? ''],
  ],
  table: [
    { title: 'HASH RATE', right: true, get: (r) => humanHashrate(r.hashrate) },
    { title: 'METHOD', get: (r) => r.hashrateMethod },
    { title: 'ORGANISATION', get: (r) => r.org },
  ],
};

export function formatSourcesWithHashrate(records: SourceWithHashrate[], format: OutputFormat): string {
  return formatSources(records, format, SOURCE_HASHRATE_EXTRAS);
}

// ---------------------------------------------------------------- summary

/** The summary as label / value pairs (table) or flat key / value pairs (CSV). */
function summaryPairs(s: Summary): [string, string, string][] {
  const t = s.traffic;
  const p: [string, string, string][] = [
    ['window', 'window', `${shortTime(s.window.start)} .. ${shortTime(s.window.end)}`],
    ['category', 'category', s.category],
    ['screenedSources', 'sources screened', s.screened.sources === null ? 'not recorded (give --screened N)' : s.screened.sources.toLocaleString('en-US')],
    ['runs', 'runs', String(s.screened.runs)],
    ['packets', 'packets analysed', s.screened.packets.toLocaleString('en-US')],
    ['flows', 'flows analysed', s.screened.flows.toLocaleString('en-US')],
    ['flaggedSources', 'flagged sources', s.flaggedSources.toLocaleString('en-US')],
    ['sourcesMining', 'sources by strongest category: mining', String(s.sourcesByCategory.mining)],
    ['sourcesCryptoP2p', 'sources by strongest category: crypto-p2p', String(s.sourcesByCategory['crypto-p2p'])],
    ['sourcesSuspect', 'sources by strongest category: suspect', String(s.sourcesByCategory.suspect)],
    ['organisations', 'organisations', s.organisations === null ? 'no organisations configured' : String(s.organisations)],
    ['unattributedSources', 'sources outside every organisation', s.unattributedSources === null ? '-' : String(s.unattributedSources)],
    ['coins', 'coins', s.coins.length === 0 ? '0' : `${s.coins.length} (${s.coins.join(', ')})`],
    ['poolEndpoints', 'pool endpoints', String(s.poolEndpoints)],
    ['poolAddresses', 'pool addresses', String(s.poolAddresses)],
    ['trafficBytes', 'pool traffic', humanBytes(t.bytes) + (t.scaled ? ' (partly estimated from sampled flow records)' : '')],
    ['trafficAverageBps', 'pool traffic, average', humanBitrate(t.averageBps)],
    ['trafficPeakHourBps', 'pool traffic, busiest hour', t.peakHourBps === null ? '-' : `${humanBitrate(t.peakHourBps)} (${shortTime(t.peakHour)})`],
    ['hashrate', 'estimated hash rate, total', humanHashrate(s.hashrate.hashrate)],
    ['hashrateMethods', 'hash rate per source from', methods(s.hashrate.methods)],
  ];
  return p;
}

/** CSV keeps raw numbers; the table human units. */
function summaryCsv(s: Summary): [string, string][] {
  const t = s.traffic;
  return [
    ['since', s.window.since ?? ''],
    ['until', s.window.until ?? ''],
    ['windowStart', s.window.start ?? ''],
    ['windowEnd', s.window.end ?? ''],
    ['windowSeconds', String(s.window.seconds)],
    ['category', s.category],
    ['screenedSources', num(s.screened.sources)],
    ['runs', String(s.screened.runs)],
    ['packets', String(s.screened.packets)],
    ['flows', String(s.screened.flows)],
    ['flaggedSources', String(s.flaggedSources)],
    ['sourcesMining', String(s.sourcesByCategory.mining)],
    ['sourcesCryptoP2p', String(s.sourcesByCategory['crypto-p2p'])],
    ['sourcesSuspect', String(s.sourcesByCategory.suspect)],
    ['organisations', num(s.organisations)],
    ['unattributedSources', num(s.unattributedSources)],
    ['coins', s.coins.join(';')],
    ['poolEndpoints', String(s.poolEndpoints)],
    ['poolAddresses', String(s.poolAddresses)],
    ['trafficBytes', String(t.bytes)],
    ['trafficAverageBps', num(t.averageBps)],
    ['trafficPeakHourBps', num(t.peakHourBps)],
    ['trafficPeakHour', t.peakHour ?? ''],
    ['trafficScaled', String(t.scaled)],
    ['hashrate', String(s.hashrate.hashrate)],
    ['hashrateFromShares', String(s.hashrate.methods.shares)],
    ['hashrateReported', String(s.hashrate.methods.reported)],
    ['hashrateNone', String(s.hashrate.methods.none)],
  ];
}

export function formatSummary(s: Summary, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(s, null, 2);
    case 'ndjson':
      return JSON.stringify(s);
    case 'csv': {
      // One header row and one data row: easy to append to a spreadsheet month after month.
      const pairs = summaryCsv(s);
      return [pairs.map(([k]) => csvField(k)).join(','), pairs.map(([, v]) => csvField(v)).join(',')].join('\r\n');
    }
    case 'table': {
      const pairs = summaryPairs(s);
      const w = Math.max(...pairs.map(([, l]) => l.length));
      return [summarySentence(s), '', ...pairs.map(([, l, v]) => `${l.padEnd(w)}  ${stripControl(v)}`)].join('\n');
    }
    default:
      throw new PoolwatchError('PW_ERR_USAGE', `unknown output format "${String(format)}" (${OUTPUT_FORMATS.join(', ')})`);
  }
}

/** The regulator's sentence: "4,699 IPs screened, 184 IPs in 77 organisations, 10 coins, …". */
export function summarySentence(s: Summary): string {
  const parts: string[] = [];
  if (s.screened.sources !== null) parts.push(`${s.screened.sources.toLocaleString('en-US')} IPs screened`);
  const orgs = s.organisations === null ? '' : ` in ${s.organisations.toLocaleString('en-US')} organisation${s.organisations === 1 ? '' : 's'}`;
  parts.push(`${s.flaggedSources.toLocaleString('en-US')} IP${s.flaggedSources === 1 ? '' : 's'} flagged${orgs}`);
  parts.push(`${s.coins.length} coin${s.coins.length === 1 ? '' : 's'}`);
  if (s.traffic.averageBps !== null) parts.push(`${humanBitrate(s.traffic.averageBps)} of pool traffic on average`);
  if (s.hashrate.hashrate > 0) parts.push(`about ${humanHashrate(s.hashrate.hashrate)} estimated hash rate`);
  return parts.join(', ');
}

// ---------------------------------------------------------------- pools, coins, timeline

export const POOL_COLUMNS: readonly ViewColumn<PoolView>[] = [
  { key: 'pool', title: 'POOL', csv: (r) => poolEndpoint(r) },
  { key: 'hosts', title: 'HOSTS', csv: (r) => r.hosts.join(';'), table: (r) => list(r.hosts) },
  { key: 'sources', title: 'SOURCES', right: true, csv: (r) => String(r.sources) },
  { key: 'coins', title: 'COINS', csv: (r) => r.coins.join(';'), table: (r) => list(r.coins) },
  { key: 'evidence', title: 'EVIDENCE', csv: (r) => r.evidence.join(';'), table: (r) => list(r.evidence) },
  { key: 'blacklistEntries', title: 'LIST ENTRIES', csv: (r) => r.blacklistEntries.join(';'), table: (r) => list(r.blacklistEntries) },
  { key: 'flows', title: 'FLOWS', right: true, csv: (r) => String(r.flows) },
  { key: 'bytes', title: 'BYTES', right: true, csv: (r) => String(r.bytes), table: (r) => humanBytes(r.bytes) },
  { key: 'sharesAccepted', title: 'SHARES', right: true, csv: (r) => String(r.sharesAccepted) },
  { key: 'hashrate', title: 'HASH RATE', right: true, csv: (r) => String(r.hashrate), table: (r) => (r.hashrate > 0 ? humanHashrate(r.hashrate) : '-') },
  { key: 'hashrateMethods', title: 'SOURCES BY METHOD', csv: (r) => `shares:${r.hashrateMethods.shares};reported:${r.hashrateMethods.reported};none:${r.hashrateMethods.none}`, table: (r) => methods(r.hashrateMethods) },
  { key: 'firstSeen', title: 'FIRST SEEN', csv: (r) => r.firstSeen, table: (r) => shortTime(r.firstSeen) },
  { key: 'lastSeen', title: 'LAST SEEN', csv: (r) => r.lastSeen, table: (r) => shortTime(r.lastSeen) },
];

export const COIN_COLUMNS: readonly ViewColumn<CoinView>[] = [
  { key: 'coin', title: 'COIN', csv: (r) => r.coin },
  { key: 'sources', title: 'SOURCES', right: true, csv: (r) => String(r.sources) },
  { key: 'pools', title: 'POOLS', right: true, csv: (r) => String(r.pools) },
  { key: 'algos', title: 'ALGORITHMS', csv: (r) => r.algos.join(';'), table: (r) => list(r.algos) },
  { key: 'flows', title: 'FLOWS', right: true, csv: (r) => String(r.flows) },
  { key: 'bytes', title: 'BYTES', right: true, csv: (r) => String(r.bytes), table: (r) => humanBytes(r.bytes) },
  { key: 'sharesAccepted', title: 'SHARES', right: true, csv: (r) => String(r.sharesAccepted) },
  { key: 'hashrate', title: 'HASH RATE', right: true, csv: (r) => String(r.hashrate), table: (r) => (r.hashrate > 0 ? humanHashrate(r.hashrate) : '-') },
  { key: 'hashrateMethods', title: 'SOURCES BY METHOD', csv: (r) => `shares:${r.hashrateMethods.shares};reported:${r.hashrateMethods.reported};none:${r.hashrateMethods.none}`, table: (r) => methods(r.hashrateMethods) },
];

export const TIMELINE_COLUMNS: readonly ViewColumn<TimelineBucket>[] = [
  { key: 'start', title: 'START', csv: (r) => r.start, table: (r) => shortTime(r.start) },
  { key: 'flaggedSources', title: 'FLAGGED', right: true, csv: (r) => String(r.flaggedSources) },
  { key: 'newSources', title: 'NEW', right: true, csv: (r) => String(r.newSources) },
  { key: 'bytes', title: 'BYTES', right: true, csv: (r) => String(r.bytes), table: (r) => humanBytes(r.bytes) },
  { key: 'averageBps', title: 'AVERAGE', right: true, csv: (r) => num(r.averageBps), table: (r) => humanBitrate(r.averageBps) },
  { key: 'peakHourBps', title: 'PEAK HOUR', right: true, csv: (r) => num(r.peakHourBps), table: (r) => humanBitrate(r.peakHourBps) },
];

export const formatPools = (rows: PoolView[], f: OutputFormat) => formatRows(rows, POOL_COLUMNS, f, 'no pools in this selection');
export const formatCoins = (rows: CoinView[], f: OutputFormat) => formatRows(rows, COIN_COLUMNS, f, 'no coins in this selection');
export const formatTimeline = (rows: TimelineBucket[], f: OutputFormat) => formatRows(rows, TIMELINE_COLUMNS, f, 'no activity in this selection');
