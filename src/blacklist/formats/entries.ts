/**
 * Addresses and names mixed, one a line: what `scan --blacklist FILE` reads, so an analyst can
 * list a pool's addresses and its host names in one file.
 *
 *   203.0.113.0/24:3333          the plain format's lines
 *   [2001:db8::1]:14444
 *   xmr.pool.example:4444        and the domains format's
 *
 * A line that is neither is one error, with the reason of the grammar it looks closer to (digits,
 * dots, colons and brackets: an address).
 */
import { parsePlainLine } from '../plain.js';
import type { ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';
import { lineContent, splitLines } from './lines.js';
import { parseDomainSpec } from './domain.js';

const ADDRESS_LIKE = /^[\d.:/\[\]-]+$/;

export function parseEntriesList(text: string, source: string): ListParseResult {
  const out = new ListCollector(source);
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const s = lineContent(lines[i]!);
    if (s === '') continue;
    const line = i + 1;
    const r = parsePlainLine(s, source);
    if (!('error' in r)) {
      out.address(r.entry);
      if (r.warning !== null) out.warning(r.warning, line);
      continue;
    }
    const d = parseDomainSpec(s);
    if ('error' in d) {
      out.error(ADDRESS_LIKE.test(s) ? r.error : `not an address, nor a domain name: ${d.error}`, line);
      continue;
    }
    out.domain(d.name, d.portLo, d.portHi);
    if (d.warning !== null) out.warning(d.warning, line);
  }
  return out.result();
}
