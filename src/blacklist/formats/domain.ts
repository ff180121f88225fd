/**
 * The one domain-name grammar of every list format that carries names (hosts, domains, abp, csv,
 * json): a name is normalised to what the DNS and TLS SNI will show on the wire, so that a lookup
 * is a plain string comparison.
 *
 *   Pool.Example.   → pool.example           lower case, one trailing dot dropped
 *   pööl.example    → xn--pl-fkaa.example    IDNs in their punycode (A-label) form
 *   *.pool.example  → pool.example           with a warning: a DomainEntry already covers subdomains
 *   pool.example:3333-3340                   optional port range (parseDomainSpec)
 *
 * Rejected: empty labels, a label over 63 or a name over 253 characters, characters other than
 * letters, digits, "-" and "_", single-label names (a bare TLD or "localhost" would match far
 * too much), a numeric last label (that is an address, or a typo of one), invalid punycode.
 *
 * Deliberately accepted: "_" and labels that start or end with "-". Hostname rules (RFC 952/1123)
 * forbid both, but resolvers look such names up and real lists carry them
 * (CoinBlocker has "xmr.-eu1.nanopool.org"); refusing them would only let that traffic through.
 */
import { domainToASCII } from 'node:url';
import { parsePortRange, quote } from '../plain.js';

export type DomainResult = { name: string; warning: string | null } | { error: string };
export type DomainSpecResult = { name: string; portLo: number; portHi: number; warning: string | null } | { error: string };

const MAX_NAME = 253;
const MAX_LABEL = 63;
// Longer input cannot become a valid name even after IDN mapping drops ignorable characters;
// checking first keeps a 1 MB junk token away from domainToASCII.
const MAX_INPUT = 4 * MAX_NAME;

/** Normalise and validate one name (no port). Never throws. */
export function normalizeDomain(raw: string): DomainResult {
  if (raw.length > MAX_INPUT) return { error: `name longer than ${MAX_NAME} characters: ${quote(raw)}` };
  const wildcard = raw.startsWith('*.');
  let s = wildcard ? raw.slice(2) : raw;
  if (s.endsWith('.')) s = s.slice(0, -1);

  const scan = scanAscii(s);
  if (scan === 'bad') return { error: badCharacter(raw) };
  let name = s.toLowerCase();
  if (scan === 'unicode' || name.includes('xn--')) {
    // Only after the ASCII check: the WHATWG mapping would silently drop tabs and percent-decode
    // ("%41.com" → "a.com"), turning junk into a name. For "xn--" input it validates the punycode.
    name = domainToASCII(name);
    if (name === '') return { error: `not a valid internationalised domain name: ${quote(raw)}` };
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (scanAscii(name) !== 'ascii') return { error: badCharacter(raw) };
  }

  if (name.length > MAX_NAME) return { error: `name longer than ${MAX_NAME} characters: ${quote(raw)}` };
  let labels = 0;
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i < name.length && name.charCodeAt(i) !== 0x2e) continue;
    const len = i - start;
    if (len === 0) return { error: `empty label in ${quote(raw)}` };
    if (len > MAX_LABEL) return { error: `label longer than ${MAX_LABEL} characters in ${quote(raw)}` };
    labels++;
    start = i + 1;
  }
  if (labels < 2) return { error: `single-label name ${quote(raw)}: a bare TLD or local name would match too much` };
  if (isDigits(name, name.lastIndexOf('.') + 1)) return { error: `not a domain name (numeric last label): ${quote(raw)}` };
  const warning = wildcard ? `wildcard ${quote(raw)} kept as ${quote(name)}, which also matches the name itself` : null;
  return { name, warning };
}

/**
 * `NAME[:PORT[-PORT]]`, the domain counterpart of the plain format's `ADDRESS[:PORT[-PORT]]`.
 * Never throws.
 */
export function parseDomainSpec(s: string): DomainSpecResult {
  const colon = s.indexOf(':');
  let portLo = 0;
  let portHi = 65535;
  let namePart = s;
  if (colon >= 0) {
    const portText = s.slice(colon + 1);
    // 11 = "65535-65535"; longer is junk, and must not be echoed unbounded in the message
    if (portText.length > 11) return { error: `bad port in ${quote(s)}` };
    const p = parsePortRange(portText, s);
    if ('error' in p) return p;
    portLo = p.portLo;
    portHi = p.portHi;
    namePart = s.slice(0, colon);
  }
  const d = normalizeDomain(namePart);
  if ('error' in d) return d;
  return { name: d.name, portLo, portHi, warning: d.warning };
}

/** Canonical text of a domain entry: "pool.example", "pool.example:3333", "pool.example:3333-3340". */
export function domainText(name: string, portLo: number, portHi: number): string {
  if (portLo === 0 && portHi === 65535) return name;
  return portLo === portHi ? `${name}:${portLo}` : `${name}:${portLo}-${portHi}`;
}

/** 'ascii' when every character is a letter, digit, "-", "_" or "."; 'unicode' when others are all non-ASCII. */
function scanAscii(s: string): 'ascii' | 'unicode' | 'bad' {
  let unicode = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) unicode = true;
    else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e)) {
      return 'bad';
    }
  }
  return unicode ? 'unicode' : 'ascii';
}

function isDigits(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function badCharacter(raw: string): string {
  return `not a domain name (only letters, digits, "-", "_" and "." are allowed): ${quote(raw)}`;
}
