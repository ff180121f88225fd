import { PoolwatchError } from '../errors.js';
import type { PoolRef, SourceRecord } from './query.js';
import { shortTime, textTable } from './render.js';

export type OutputFormat = 'json' | 'csv' | 'table' | 'ndjson';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'csv', 'table', 'ndjson'];

/**
 * Render source records. The text has no final line break (the caller adds one when writing);
 * ndjson of nothing is the empty string.
 */
export function formatSources<R extends SourceRecord>(records: R[], format: OutputFormat, extra?: SourceExtras<R>): string {
  switch (format) {
    case 'json':
      return JSON.stringify(records, null, 2);
    case 'ndjson':
      return records.map((r) => JSON.stringify(r)).join('\n');
    case 'csv':
      return formatCsv(records, extra?.csv ?? []);
    case 'table':
      return formatTable(records, extra?.table ?? []);
    default:
      throw new PoolwatchError('PW_ERR_USAGE', `unknown output format "${String(format)}" (${OUTPUT_FORMATS.join(', ')})`);
  }
}

/**
 * Columns a richer source record (e.g. `report sources` with hash rates) adds after the usual
 * ones, so the usual columns keep their places. JSON and NDJSON print the records as they are.
 */
export interface SourceExtras<R extends SourceRecord> {
  csv: readonly [string, (r: R) => string][];
  table: readonly { title: string; right?: boolean; get: (r: R) => string }[];
}

/** "ip:port", or "[v6]:port" so the port stays unambiguous. */
export function poolEndpoint(p: PoolRef): string {
  return p.ip.includes(':') ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`;
}

// ---------------------------------------------------------------- CSV

/** Column name (the SourceRecord key, plus poolHosts) and how to get the cell. */
const CSV_COLUMNS: readonly [string, (r: SourceRecord) => string][] = [
  ['src', (r) => r.src],
  ['category', (r) => r.category],
  ['evidence', (r) => r.evidence.join(';')],
  ['pools', (r) => r.pools.map(poolEndpoint).join(';')],
  // Not a SourceRecord key: the pool host names, so CSV loses nothing that JSON has.
  ['poolHosts', (r) => uniqueSorted(r.pools.flatMap((p) => (p.host === undefined ? [] : [p.host]))).join(';')],
  ['coins', (r) => r.coins.join(';')],
  ['logins', (r) => r.logins.join(';')],
  ['workers', (r) => r.workers.join(';')],
  ['agents', (r) => r.agents.join(';')],
  ['algos', (r) => r.algos.join(';')],
  ['flows', (r) => String(r.flows)],
  ['packets', (r) => String(r.packets)],
  ['bytes', (r) => String(r.bytes)],
  ['bytesUp', (r) => String(r.bytesUp)],
  ['bytesDown', (r) => String(r.bytesDown)],
  ['sharesSubmitted', (r) => String(r.sharesSubmitted)],
  ['sharesAccepted', (r) => String(r.sharesAccepted)],
  ['sharesRejected', (r) => String(r.sharesRejected)],
  ['difficulty', (r) => (r.difficulty === null ? '' : String(r.difficulty))],
  ['reportedHashrate', (r) => (r.reportedHashrate === null ? '' : String(r.reportedHashrate))],
  ['blacklistEntries', (r) => r.blacklistEntries.join(';')],
  ['blacklistVersions', (r) => r.blacklistVersions.join(';')],
  ['firstSeen', (r) => r.firstSeen],
  ['lastSeen', (r) => r.lastSeen],
  ['inputs', (r) => r.inputs.join(';')],
  // Flow records (schema v4): last, so the older columns keep their places.
  ['natOutside', (r) => r.natOutside.join(';')],
  ['scaled', (r) => String(r.scaled)],
  ['samplingRates', (r) => r.samplingRates.join(';')],
];

export const CSV_HEADER: readonly string[] = CSV_COLUMNS.map(([name]) => name);

/** RFC 4180: CRLF between lines, a header row, one line per source. */
function formatCsv<R extends SourceRecord>(records: R[], extra: readonly [string, (r: R) => string][]): string {
  const columns: readonly [string, (r: R) => string][] = [...CSV_COLUMNS, ...extra];
  const lines = [columns.map(([name]) => csvField(name)).join(',')];
  for (const r of records) lines.push(columns.map(([, get]) => csvField(get(r))).join(','));
  return lines.join('\r\n');
}

/**
 * One CSV field. Logins and agents come from strangers: a leading = + - @ (or tab / CR, which
 * some spreadsheets also evaluate after) would make a spreadsheet run a formula, so it gets a
 * leading apostrophe. Quoted when it holds a separator (',' or ';', which some locales use),
 * a quote or a line break.
 */
export function csvField(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",;\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function uniqueSorted(xs: string[]): string[] {
  return [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------- table

/** What a cell may need to know about the whole table. */
interface TableContext {
  /** Some record's counts are estimates (sampled flow records). */
  anyScaled: boolean;
}

interface Column {
  title: string;
  right?: boolean;
  get: (r: SourceRecord, t: TableContext) => string;
}

/** Marks estimated (sampling-scaled) packet and byte counts in the table; explained below it. */
const SCALED_MARK = '*';

const TABLE_COLUMNS: readonly Column[] = [
  // Behind carrier-grade NAT: the inside address, and the public one it was translated to.
  { title: 'SRC', get: (r) => (r.natOutside.length === 0 ? r.src : `${r.src} (nat ${r.natOutside.join(',')})`) },
  { title: 'CATEGORY', get: (r) => r.category },
  { title: 'EVIDENCE', get: (r) => list(r.evidence) },
  { title: 'POOLS', get: (r) => list(r.pools.map((p) => (p.host ? `${poolEndpoint(p)} (${p.host})` : poolEndpoint(p)))) },
  { title: 'COINS', get: (r) => list(r.coins) },
  { title: 'LOGINS', get: (r) => list(r.logins) },
  { title: 'FLOWS', right: true, get: (r) => String(r.flows) },
  { title: 'PACKETS', right: true, get: (r, t) => String(r.packets) + mark(r, t) },
  { title: 'BYTES', right: true, get: (r, t) => humanBytes(r.bytes) + mark(r, t) },
  { title: 'FIRST SEEN', get: (r) => shortTime(r.firstSeen) },
  { title: 'LAST SEEN', get: (r) => shortTime(r.lastSeen) },
];

/**
 * When some record's counts are estimates, its packets and bytes get a `*` (the others a space, so
 * digits stay aligned) and a last line says what the mark means; otherwise nothing changes.
 */
function mark(r: SourceRecord, t: TableContext): string {
  if (!t.anyScaled) return '';
  return r.scaled ? SCALED_MARK : ' ';
}

function formatTable<R extends SourceRecord>(records: R[], extra: SourceExtras<R>['table']): string {
  if (records.length === 0) return 'no mining activity found';
  const t: TableContext = { anyScaled: records.some((r) => r.scaled) };
  const columns: readonly { title: string; right?: boolean; get: (r: R, t: TableContext) => string }[] = [...TABLE_COLUMNS, ...extra];
  const lines = [textTable(columns.map((c) => ({ title: c.title, right: c.right, get: (r: R) => c.get(r, t) })), records)];
  if (t.anyScaled) {
    const rates = [...new Set(records.flatMap((r) => r.samplingRates.filter((n) => n > 1)))].sort((a, b) => a - b);
    lines.push(`${SCALED_MARK} estimated: from sampled flow records, exported counts multiplied by the sampling rate (${rates.map((n) => `1:${n}`).join(', ')})`);
  }
  return lines.join('\n');
}

function list(xs: string[]): string {
  return xs.length === 0 ? '-' : xs.join(',');
}

/**
 * Control characters (C0, DEL, C1), zero-width and bidi-override characters could move the
 * cursor, recolour the terminal or reorder what the analyst reads: drop them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function stripControl(s: string): string {
  return s.replace(UNSAFE, '');
}





/** 1536 → "1.5 KiB"; below 1 KiB exact bytes. */
export function humanBytes(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

