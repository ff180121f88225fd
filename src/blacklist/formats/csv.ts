/**
 * CSV with a header row (RFC 4180 quoting, see csv-records.ts):
 *
 *   ip,port,coin,pool
 *   203.0.113.7,3333,xmr,supportxmr
 *   2001:db8::/32,,,"Pool, Inc."        empty port = any
 *   pool.example,3333-3340,btc,          a name in the entry column is a domain entry
 *
 * Columns, case-insensitive, in any order, unknown ones ignored:
 *   entry column, exactly one of: address, ip, cidr, domain, host, entry. Each cell is an
 *     address/CIDR or a name, with an optional ":port" (see entry.ts); the cell decides, not the
 *     column name.
 *   port   a port or "lo-hi"; empty = any. A cell that names a port as well is an error.
 *   coin   ticker, lower-cased.  label (or pool, when there is no label column).
 *
 * A file without a header row, or whose header has no entry column or several, is one error
 * (context without line) and no entries: reading its columns by guess could block the wrong
 * thing. A bad row is one error with its line number; a row with more cells than the header is
 * kept with a warning (an unquoted comma in a label, most likely).
 */
import { quote } from '../plain.js';
import type { ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';
import { readCsvRecords } from './csv-records.js';
import { applyPort, parseEntryValue } from './entry.js';
import { parseLabels } from './labels.js';

const ENTRY_COLUMNS = ['address', 'ip', 'cidr', 'domain', 'host', 'entry'];

interface Columns {
  entry: number;
  port: number;
  coin: number;
  label: number;
}

export function parseCsvList(text: string, source: string): ListParseResult {
  const out = new ListCollector(source);
  const records = readCsvRecords(text).filter((r) => !isBlank(r.fields) || r.error !== null);
  const header = records[0];
  if (header === undefined) return out.result(); // empty file: an empty list, not a broken one
  if (header.error !== null) {
    out.error(`the header row (line ${header.line}) is broken: ${header.error}; no entries read`);
    return out.result();
  }
  const cols = findColumns(header.fields, source);
  if (typeof cols === 'string') {
    out.error(`${cols}; no entries read`);
    return out.result();
  }

  for (let r = 1; r < records.length; r++) {
    const rec = records[r]!;
    if (rec.error !== null) {
      out.error(rec.error, rec.line);
      continue;
    }
    const cell = (c: number): string => (c < 0 ? '' : (rec.fields[c] ?? '').trim());
    const value = cell(cols.entry);
    if (value === '') {
      out.error(`empty ${quote(header.fields[cols.entry]!.trim())} cell`, rec.line);
      continue;
    }
    const v = parseEntryValue(value, source);
    if ('error' in v) {
      out.error(v.error, rec.line);
      continue;
    }
    const portError = applyPort(v, cell(cols.port), value);
    if (portError !== null) {
      out.error(portError, rec.line);
      continue;
    }
    const l = parseLabels(cell(cols.coin), cell(cols.label));
    if ('error' in l) {
      out.error(l.error, rec.line);
      continue;
    }
    if ('address' in v) out.address(v.address, l.labels);
    else out.domain(v.domain.name, v.domain.portLo, v.domain.portHi, l.labels);
    if (v.warning !== null) out.warning(v.warning, rec.line);
    if (rec.fields.length > header.fields.length) {
      out.warning(`${rec.fields.length} cells, the header has ${header.fields.length}: the extra cells are ignored`, rec.line);
    }
  }
  return out.result();
}

/** Column indexes, or why the header is unusable. */
function findColumns(names: string[], source: string): Columns | string {
  const cols: Columns = { entry: -1, port: -1, coin: -1, label: -1 };
  let pool = -1;
  const entries: string[] = [];
  for (let c = 0; c < names.length; c++) {
    const name = names[c]!.trim().toLowerCase();
    if (ENTRY_COLUMNS.includes(name)) {
      entries.push(name);
      if (cols.entry < 0) cols.entry = c;
    } else if (name === 'port' && cols.port < 0) cols.port = c;
    else if (name === 'coin' && cols.coin < 0) cols.coin = c;
    else if (name === 'label' && cols.label < 0) cols.label = c;
    else if (name === 'pool' && pool < 0) pool = c;
  }
  if (cols.label < 0) cols.label = pool;
  if (entries.length > 1) return `several entry columns (${entries.join(', ')}); use one of ${ENTRY_COLUMNS.join(', ')}`;
  if (cols.entry >= 0) return cols;
  // A first row that already holds an entry is data: the header is missing.
  for (const f of names) {
    const t = f.trim();
    if (t !== '' && t.length <= 300 && !('error' in parseEntryValue(t, source))) {
      return `no header row: the first row holds an entry (${quote(t)}); start with a row naming the columns, e.g. "ip,port,coin,label"`;
    }
  }
  return `no entry column in the header ${quote(names.join(','))}; expected one of ${ENTRY_COLUMNS.join(', ')}`;
}

function isBlank(fields: string[]): boolean {
  return fields.length === 1 && fields[0]!.trim() === '';
}
