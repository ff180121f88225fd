/**
 * Plain renderers shared by the record lists (report views, orgs, cases): an aligned terminal
 * table and RFC 4180 CSV, and one switch over the output formats.
 */
import { PoolwatchError } from '../errors.js';
import { csvField, OUTPUT_FORMATS, stripControl, type OutputFormat } from './format.js';

export interface TextColumn<T> {
  title: string;
  right?: boolean;
  /** Never cut (the last column of a table, e.g. a note). */
  whole?: boolean;
  get: (r: T) => string;
}

/** Longest cell a table shows; longer text is cut with an ellipsis (csv/json have it all). */
const MAX_CELL = 60;

/** A plain terminal table: control and bidi characters stripped, long cells cut, columns padded. */
export function textTable<T>(cols: readonly TextColumn<T>[], rows: readonly T[]): string {
  const cells = rows.map((r) => cols.map((c) => (c.whole ? stripControl(c.get(r)) : cut(stripControl(c.get(r))))));
  const widths = cols.map((c, i) => Math.max(width(c.title), ...cells.map((row) => width(row[i]!))));
  const line = (row: string[]): string =>
    row
      .map((t, i) => (cols[i]!.right ? ' '.repeat(widths[i]! - width(t)) + t : t + ' '.repeat(widths[i]! - width(t))))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.title)), ...cells.map(line)].join('\n');
}

/** RFC 4180 with CRLF and a header, fields guarded against spreadsheet formulas (csvField). */
export function formatCsvRows<T>(cols: readonly [string, (r: T) => string][], rows: readonly T[]): string {
  const lines = [cols.map(([name]) => csvField(name)).join(',')];
  for (const r of rows) lines.push(cols.map(([, get]) => csvField(get(r))).join(','));
  return lines.join('\r\n');
}

function cut(s: string): string {
  const chars = [...s];
  return chars.length <= MAX_CELL ? s : `${chars.slice(0, MAX_CELL - 1).join('')}…`;
}

function width(s: string): number {
  return [...s].length;
}

/** A list of records in any output format; `empty` is the table shown when there is none. */
export function formatList<T>(
  rows: readonly T[],
  format: OutputFormat,
  csv: readonly [string, (r: T) => string][],
  table: readonly TextColumn<T>[],
  empty: string,
): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows, null, 2);
    case 'ndjson':
      return rows.map((r) => JSON.stringify(r)).join('\n');
    case 'csv':
      return formatCsvRows(csv, rows);
    case 'table':
      return rows.length === 0 ? empty : textTable(table, rows);
    default:
      throw new PoolwatchError('PW_ERR_USAGE', `unknown output format "${String(format)}" (${OUTPUT_FORMATS.join(', ')})`);
  }
}

/** "2024-05-01T12:00:00.123Z" → "2024-05-01 12:00:00Z". */
export function shortTime(iso: string | null): string {
  return iso === null || iso === '' ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}
