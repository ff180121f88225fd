/**
 * Adblock Plus filter lists, as NoCoin publishes nocoin.txt. Only rules that block a whole host
 * are entries:
 *
 *   ||pool.example^                  domain anchor
 *   ||pool.example^$third-party      ... with options that still block (third-party, websocket,
 *                                    domain=..., script, ...): the options are dropped
 *   ||pool.example$third-party       no separator: ABP would also match "pool.example.other"; the
 *                                    author means the domain, which is what we keep
 *   ||203.0.113.7^  ||[2001:db8::1]^ addresses, as address entries
 *   [Adblock Plus 2.0]   ! comment   header and comments
 *
 * Everything else is skipped silently and counted in `skipped`: paths (`||host/path`, `/miner.js`),
 * wildcards (`||minero-proxy-*.now.sh^`), regex rules, element hiding (`##`, `#@#`), exceptions
 * (`@@`), option-only rules (`$websocket,domain=...`), rules whose options make them something
 * other than a block ($csp, $redirect, $removeparam, ...), and single-label anchors (`||tk^`, a
 * whole TLD). These are valid ABP that poolwatch cannot express as an address or a name; NoCoin
 * alone has about 120 of them, so reporting each as a warning would bury real warnings on every
 * load. The count is there for a summary line. Errors are reserved for rules that have the shape
 * of a host anchor but a broken host (`||999.1.2.3^`, `||a..example^`).
 */
import { parsePlainLine, quote } from '../plain.js';
import type { ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';
import { splitLines } from './lines.js';
import { normalizeDomain } from './domain.js';

export interface AbpParseResult extends ListParseResult {
  /** Rules that are valid ABP but not whole-host blocks (see the module comment). */
  skipped: number;
}

/** Options that turn a rule into something other than "block requests to this host". */
const NOT_A_BLOCK = new Set([
  'badfilter', 'content', 'cookie', 'csp', 'ehide', 'elemhide', 'genericblock', 'generichide', 'ghide',
  'header', 'jsinject', 'permissions', 'redirect', 'redirect-rule', 'removeheader', 'removeparam',
  'replace', 'rewrite', 'shide', 'specifichide', 'stealth', 'urlblock', 'urltransform',
]);

export function parseAbpList(text: string, source: string): AbpParseResult {
  const out = new ListCollector(source);
  let skipped = 0;
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!.trim();
    if (s === '' || s[0] === '!') continue;
    if (s[0] === '[' && s.endsWith(']')) continue; // [Adblock Plus 2.0]
    const r = hostOfRule(s);
    if (r === null) {
      skipped++;
      continue;
    }
    const line = i + 1;
    if (r.bracketed || isDigitsAndDots(r.host)) {
      const a = parsePlainLine(r.host, source);
      if (!('entry' in a)) out.error(`${a.error} in rule ${quote(s)}`, line);
      else if (a.entry.prefixLen !== (a.entry.version === 4 ? 32 : 128)) out.error(`not a host address in rule ${quote(s)}`, line);
      else out.address(a.entry);
      continue;
    }
    if (!r.host.replace(/\.$/, '').includes('.')) {
      skipped++;
      continue;
    }
    const d = normalizeDomain(r.host);
    if ('error' in d) out.error(`${d.error} in rule ${quote(s)}`, line);
    else out.domain(d.name, 0, 65535);
  }
  return { ...out.result(), skipped };
}

/** The host of a pure `||host^$options` block rule, or null for any other rule. */
function hostOfRule(s: string): { host: string; bracketed: boolean } | null {
  if (!s.startsWith('||')) return null;
  const dollar = s.indexOf('$', 2);
  let host = dollar < 0 ? s.slice(2) : s.slice(2, dollar);
  if (dollar >= 0 && !blocks(s.slice(dollar + 1))) return null;
  if (host.endsWith('|')) host = host.slice(0, -1);
  if (host.endsWith('^')) host = host.slice(0, -1);
  if (host.length > 2 && host[0] === '[' && host.endsWith(']')) {
    // the only place a ":" may appear: an IPv6 literal
    return { host: host.slice(1, -1), bracketed: true };
  }
  if (host === '') return null;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    // ASCII outside letters, digits, ".", "-", "_" is ABP syntax (path, wildcard, port,
    // separator, element hiding): not a whole-host rule. Non-ASCII goes on to the IDN check.
    if (c < 0x80 && !((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f)) {
      return null;
    }
  }
  return { host, bracketed: false };
}

function blocks(options: string): boolean {
  for (const o of options.split(',')) {
    let name = o.trim().toLowerCase();
    if (name.startsWith('~')) name = name.slice(1);
    const eq = name.indexOf('=');
    if (NOT_A_BLOCK.has(eq < 0 ? name : name.slice(0, eq))) return false;
  }
  return true;
}

function isDigitsAndDots(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2e)) return false;
  }
  return true;
}
