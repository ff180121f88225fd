/**
 * One domain a line, `#` comments, optional port (`pool.example:3333`, CoinBlocker has some):
 *
 *   pool.example
 *   xmr.pool.example:3333-3340   # trailing comment
 *
 * and minerchk's `domain #ip` pairs (minerlist-all.txt), where the comment is the IPv4 the name
 * resolved to when the list was made:
 *
 *   xmr.crypto-pool.fr #163.172.204.219
 *
 * A pair yields the name AND the address, as an address entry labelled with the name. The
 * address is weaker evidence than the name: pools move, and the address may since belong to
 * someone else or be a CDN front (hence the allow-list). But a name can only be matched where
 * the name is seen (DNS answers, TLS SNI); a capture that starts after the lookup, or traffic to
 * a hard-coded address, shows only addresses, and offline the list's own record of them is all
 * there is. The label says where the address came from, so a report can show it was by name.
 *
 * A comment that is not a single address ("#A", "# Homepage: ...") is just a comment, and so is
 * an address in a comment-only line: there is no name it belongs to.
 */
import { canonicalText, parsePlainLine, quote } from '../plain.js';
import type { BlacklistEntry, ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';
import { lineContent, splitLines } from './lines.js';
import { parseDomainSpec } from './domain.js';

export function parseDomainsList(text: string, source: string): ListParseResult {
  const out = new ListCollector(source);
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const s = lineContent(raw);
    if (s === '') continue;
    const line = i + 1;
    if (/\s/.test(s)) {
      out.error(`one name a line (a hosts file? that is format "hosts"): ${quote(s)}`, line);
      continue;
    }
    const d = parseDomainSpec(s);
    if ('error' in d) {
      out.error(d.error, line);
      continue;
    }
    out.domain(d.name, d.portLo, d.portHi);
    if (d.warning !== null) out.warning(d.warning, line);
    // The comment may carry the name's address ("pool.example # 203.0.113.7").
    const hash = raw.indexOf('#');
    if (hash >= 0) {
      const a = commentAddress(raw.slice(hash + 1).trim(), source);
      if (a !== null) {
        a.portLo = d.portLo;
        a.portHi = d.portHi;
        a.text = canonicalText(a);
        out.address(a, { label: d.name });
      }
    }
  }
  return out.result();
}

/** The comment as one host address without port (what minerchk writes), or null for prose. */
function commentAddress(comment: string, source: string): BlacklistEntry | null {
  // 45 = the longest IPv6 text (IPv4-mapped, e.g. "ffff:...:255.255.255.255"); longer is prose
  if (comment === '' || comment.length > 45) return null;
  const r = parsePlainLine(comment, source);
  if (!('entry' in r) || r.warning !== null) return null;
  const e = r.entry;
  const host = e.prefixLen === (e.version === 4 ? 32 : 128);
  return host && e.portLo === 0 && e.portHi === 65535 ? e : null;
}
