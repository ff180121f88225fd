/**
 * Hosts files as block lists publish them:
 *
 *   0.0.0.0 pool.example            # the address is a sink; the names are the list
 *   127.0.0.1 a.example b.example   several names a line
 *   :: pool6.example                IPv6 sinks (::, ::1, fe80::1%lo0) alike
 *
 * Only the names are entries. The leading address is where the hosts file would send them, not
 * a pool: it is checked to be an address (a line that does not start with one is not hosts
 * syntax) and otherwise ignored. The system names a stock hosts file carries (localhost,
 * broadcasthost, ip6-*, ...) and names that are themselves addresses ("0.0.0.0 0.0.0.0") are
 * skipped silently: they are boilerplate, not list content.
 *
 * A name with a port ("0.0.0.0 hashbag.cc:8688", as CoinBlocker publishes) means nothing to a
 * resolver, but the author plainly meant that pool endpoint: kept with its port, with a warning.
 */
import { parseIPv4Bytes, parseIPv6Bytes } from '../addr.js';
import { quote } from '../plain.js';
import type { ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';
import { lineContent, splitLines } from './lines.js';
import { parseDomainSpec } from './domain.js';

const SYSTEM_NAMES = new Set(['localhost', 'localhost.localdomain', 'broadcasthost', 'local']);

export function parseHostsList(text: string, source: string): ListParseResult {
  const out = new ListCollector(source);
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const s = lineContent(lines[i]!);
    if (s === '') continue;
    const tokens = s.split(/\s+/);
    const line = i + 1;
    if (!isAddress(tokens[0]!)) {
      out.error(`a hosts line starts with an address, e.g. "0.0.0.0 pool.example": ${quote(s)}`, line);
      continue;
    }
    for (let t = 1; t < tokens.length; t++) {
      const token = tokens[t]!;
      const lower = token.toLowerCase();
      if (SYSTEM_NAMES.has(lower) || lower.startsWith('ip6-') || isAddress(token)) continue;
      const d = parseDomainSpec(token);
      if ('error' in d) {
        out.error(d.error, line);
        continue;
      }
      out.domain(d.name, d.portLo, d.portHi);
      if (d.warning !== null) out.warning(d.warning, line);
      if (d.portLo !== 0 || d.portHi !== 65535) {
        out.warning(`hosts files have no ports; ${quote(token)} kept as a name with a port`, line);
      }
    }
  }
  return out.result();
}

/**
 * An IPv4 or IPv6 address; a zone id ("fe80::1%lo0", in stock macOS hosts files) is allowed here.
 * Every name token passes through this, so names are turned away by shape before ip-num is asked.
 */
function isAddress(s: string): boolean {
  if (s.includes(':')) {
    const pct = s.indexOf('%');
    return parseIPv6Bytes(pct < 0 ? s : s.slice(0, pct)) !== null;
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2e)) return false;
  }
  return parseIPv4Bytes(s) !== null;
}
