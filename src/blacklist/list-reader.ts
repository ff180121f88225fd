/**
 * The two line formats a scan reads for one run (`--blacklist FILE`: `entries`; the allow-list:
 * `plain`), read straight into an AddressTable: a 1,000,000-line list becomes table columns with
 * no object, no substring and no line array per line.
 *
 * The common line, a dotted quad with an optional prefix and port (`203.0.113.0/24:3333`), is
 * read in place from the file's text. Any other line (IPv6, a name, a comment-only line with odd
 * spacing, anything doubtful: leading zeros, host bits set, a bad port) goes the way the format's
 * own parser takes it (formats/entries.ts, plain.ts parsePlainList), with the same errors and
 * warnings at the same lines. A test reads the same texts both ways and compares.
 */
import { AddressTable } from './address-table.js';
import { readListFile, parsePlainLine } from './plain.js';
import { ListCollector } from './formats/collect.js';
import { lineContent } from './formats/lines.js';
import { parseDomainSpec } from './formats/domain.js';
import type { ListParseResult } from './types.js';

export type TableListFormat = 'entries' | 'plain';

/** What a list gave besides its addresses (those went into the table). */
export interface TableListResult extends Omit<ListParseResult, 'addresses'> {
  /** Address entries the list added to the table (not counting ones it already held). */
  added: number;
}

/** As formats/entries.ts: a line that is neither, reported with the address grammar's reason. */
const ADDRESS_LIKE = /^[\d.:/\[\]-]+$/;

const BLANK = 0;
const ENTRY = 1;
const SLOW = 2;
/** Scratch for one fast line: address word, prefix length, low and high port. */
const got = new Int32Array(4);

/**
 * Read one line s[i, end) if it is blank (spaces, tabs, a comment) or a plain IPv4 entry in the
 * form every parser reads the same way; SLOW for anything else.
 */
function fastLine(s: string, i: number, end: number): number {
  let c = 0;
  while (i < end && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
  if (i === end || c === 35) return BLANK;
  let word = 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (i === end || s.charCodeAt(i) !== 46) return SLOW;
      i++;
    }
    const start = i;
    let v = 0;
    while (i < end && i - start < 3 && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      v = v * 10 + c - 48;
      i++;
    }
    if (i === start || v > 255 || (i - start > 1 && s.charCodeAt(start) === 48)) return SLOW;
    word = (word << 8) | v;
  }
  let len = 32;
  if (i < end && s.charCodeAt(i) === 47) {
    i++;
    const start = i;
    len = 0;
    while (i < end && i - start < 2 && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
      len = len * 10 + c - 48;
      i++;
    }
    if (i === start || len > 32 || (i - start > 1 && s.charCodeAt(start) === 48)) return SLOW;
  }
  let lo = 0;
  let hi = 65535;
  if (i < end && s.charCodeAt(i) === 58) {
    i++;
    for (let k = 0; k < 2; k++) {
      if (k > 0) {
        if (i === end || s.charCodeAt(i) !== 45) break;
        i++;
      }
      const start = i;
      let v = 0;
      while (i < end && i - start < 5 && (c = s.charCodeAt(i)) >= 48 && c <= 57) {
        v = v * 10 + c - 48;
        i++;
      }
      if (i === start || v < 1 || v > 65535 || s.charCodeAt(start) === 48) return SLOW;
      if (k === 0) lo = hi = v;
      else if (v < lo) return SLOW;
      else hi = v;
    }
  }
  while (i < end && ((c = s.charCodeAt(i)) === 32 || c === 9)) i++;
  if (i < end && c !== 35) return SLOW;
  // Host bits set: the parser keeps the network with a warning; let it.
  if (len < 32 && (word & (len === 0 ? 0 : -1 << (32 - len))) !== word) return SLOW;
  got[0] = word;
  got[1] = len;
  got[2] = lo;
  got[3] = hi;
  return ENTRY;
}

/**
 * Read list `text` of `format` into `table` (entries it already holds are kept once, the first
 * wins); domain names (entries format), errors and warnings come back as the format's parser
 * gives them. `source` names the list in entries and errors.
 */
export function readListInto(format: TableListFormat, text: string, source: string, table: AddressTable): TableListResult {
  const out = new ListCollector(source);
  const origin = table.origin({ source });
  const before = table.size;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0; // BOM from Windows editors
  const n = text.length;
  const hasCR = text.indexOf('\r') >= 0;
  for (let line = 1; ; line++) {
    let end: number;
    if (!hasCR) {
      end = text.indexOf('\n', pos);
      if (end < 0) end = n;
    } else {
      end = pos;
      for (let c; end < n && (c = text.charCodeAt(end)) !== 10 && c !== 13; ) end++;
    }
    const r = fastLine(text, pos, end);
    if (r === ENTRY) table.addV4(got[0]!, got[1]!, got[2]!, got[3]!, origin);
    else if (r === SLOW) slowLine(format, text.slice(pos, end), line, source, table, out);
    if (end >= n) break;
    pos = end + 1;
    if (text.charCodeAt(end) === 13 && text.charCodeAt(pos) === 10) pos++;
  }
  const res = out.result();
  return { domains: res.domains, errors: res.errors, warnings: res.warnings, added: table.size - before };
}

/** One line the fast path left, exactly as formats/entries.ts (or plain.ts parsePlainList) reads it. */
function slowLine(format: TableListFormat, raw: string, line: number, source: string, table: AddressTable, out: ListCollector): void {
  const s = lineContent(raw);
  if (s === '') return;
  const r = parsePlainLine(s, source);
  if (!('error' in r)) {
    table.add(r.entry);
    if (r.warning !== null) out.warning(r.warning, line);
    return;
  }
  if (format === 'plain') {
    out.error(r.error, line);
    return;
  }
  const d = parseDomainSpec(s);
  if ('error' in d) {
    out.error(ADDRESS_LIKE.test(s) ? r.error : `not an address, nor a domain name: ${d.error}`, line);
    return;
  }
  out.domain(d.name, d.portLo, d.portHi);
  if (d.warning !== null) out.warning(d.warning, line);
}

/** Read and parse a list file into `table`. A file that cannot be read is fatal (PW_ERR_IO naming it). */
export function loadListFileInto(format: TableListFormat, path: string, table: AddressTable): TableListResult {
  return readListInto(format, readListFile(path), path, table);
}
