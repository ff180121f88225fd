/**
 * The plain list format: one `ADDRESS[/LEN][:PORT[-PORT]]` a line.
 *
 *   203.0.113.7                 one IPv4 host, any port
 *   203.0.113.0/24:3333         a network, one port
 *   198.51.100.9:3333-3340      a host, a port range
 *   2001:db8::/32               bare IPv6 (no port possible: its colons would be ambiguous)
 *   [2001:db8::1]:3333          IPv6 with a port must be in brackets
 *   [2001:db8::/32]:3333-3340
 *   # comment                   whole line or trailing; blank lines, spaces and CRLF are fine
 *
 * A bad line never stops the load: public lists are messy and one typo must not disable the rest.
 * It becomes a PW_ERR_LIST_SYNTAX error with file and line, returned beside the good entries.
 */
import { readTextFile } from '../read-text.js';
import { PoolwatchError } from '../errors.js';
import { clearHostBits, formatIPv4, formatIPv6, parseIPv4Bytes, parseIPv6Bytes } from './addr.js';
import { lineContent, splitLines } from './formats/lines.js';
import type { BlacklistEntry } from './types.js';

export type { BlacklistEntry } from './types.js';

export interface PlainListResult {
  entries: BlacklistEntry[];
  /** Lines that were skipped (PW_ERR_LIST_SYNTAX, context {file, line}). */
  errors: PoolwatchError[];
  /**
   * Lines that were kept after a repair the author may not have meant (host bits set in a
   * CIDR, e.g. 10.0.0.1/24 → 10.0.0.0/24). Same code and context as errors, so they log alike.
   */
  warnings: PoolwatchError[];
}

const PORT_RE = /^(\d{1,5})(?:-(\d{1,5}))?$/;
const PREFIX_RE = /^\d{1,3}$/;

/** One line's outcome: an entry (with a repair warning or null), or why the line is bad. */
export type PlainLineResult = { entry: BlacklistEntry; warning: string | null } | { error: string };

export function parsePlainList(text: string, source: string): PlainListResult {
  const entries: BlacklistEntry[] = [];
  const errors: PoolwatchError[] = [];
  const warnings: PoolwatchError[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const s = lineContent(lines[i]!);
    if (s === '') continue;
    const r = parsePlainLine(s, source);
    const ctx = { file: source, line: i + 1 };
    if ('error' in r) {
      errors.push(new PoolwatchError('PW_ERR_LIST_SYNTAX', r.error, ctx));
      continue;
    }
    entries.push(r.entry);
    if (r.warning !== null) warnings.push(new PoolwatchError('PW_ERR_LIST_SYNTAX', r.warning, ctx));
  }
  return { entries, errors, warnings };
}

/** A list file's text. A file that cannot be read is fatal (PW_ERR_IO naming it). */
export function readListFile(path: string): string {
  return readTextFile(path, 'list');
}

/** Read and parse one list file. A file that cannot be read is fatal (PW_ERR_IO naming it). */
export function loadPlainListFile(path: string): PlainListResult {
  return parsePlainList(readListFile(path), path);
}

/**
 * Parse one comment-free, trimmed, non-empty line. Exported for the other list formats
 * (src/blacklist/formats/), which find addresses inside their own syntax: one address grammar.
 */
export function parsePlainLine(s: string, source: string): PlainLineResult {
  let addrPart: string;
  let portPart: string | null = null;
  let bracketed = false;
  if (s[0] === '[') {
    const close = s.indexOf(']');
    if (close < 0) return { error: `missing "]" in ${quote(s)}` };
    bracketed = true;
    addrPart = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (rest[0] !== ':') return { error: `unexpected text after "]" in ${quote(s)}` };
      portPart = rest.slice(1);
    }
  } else {
    const c1 = s.indexOf(':');
    if (c1 < 0) addrPart = s;
    else if (s.indexOf(':', c1 + 1) < 0) {
      // exactly one colon: IPv4:port (an IPv6 address always has at least two)
      addrPart = s.slice(0, c1);
      portPart = s.slice(c1 + 1);
    } else addrPart = s; // bare IPv6; "2001:db8::1:3333" is an address, not a port
  }

  const slash = addrPart.indexOf('/');
  const net = slash < 0 ? addrPart : addrPart.slice(0, slash);
  const version: 4 | 6 = net.includes(':') ? 6 : 4;
  if (bracketed && version === 4) return { error: `brackets are only for IPv6 addresses: ${quote(s)}` };
  const maxLen = version === 4 ? 32 : 128;

  let prefixLen = maxLen;
  if (slash >= 0) {
    const lenText = addrPart.slice(slash + 1);
    if (!PREFIX_RE.test(lenText)) {
      if (!bracketed && version === 6 && lenText.includes(':')) {
        return { error: `an IPv6 address with a port must be in brackets, e.g. "[2001:db8::/32]:3333": ${quote(s)}` };
      }
      return { error: `bad prefix length "/${lenText}" in ${quote(s)}` };
    }
    prefixLen = Number(lenText);
    if (prefixLen > maxLen) {
      return { error: `prefix length /${prefixLen} is longer than ${maxLen} bits in ${quote(s)}` };
    }
  }

  const addr = version === 4 ? parseIPv4Bytes(net) : parseIPv6Bytes(net);
  if (addr === null) return { error: `not an IPv${version} address: ${quote(net)}` };

  let portLo = 0;
  let portHi = 65535;
  if (portPart !== null) {
    const p = parsePortRange(portPart, s);
    if ('error' in p) return p;
    portLo = p.portLo;
    portHi = p.portHi;
  }

  const hostBits = clearHostBits(addr, prefixLen);
  const entry: BlacklistEntry = { version, addr, prefixLen, portLo, portHi, text: '', source };
  entry.text = canonicalText(entry);
  const warning = hostBits ? `host bits set in ${quote(addrPart)}; using the network ${canonicalNet(entry)}` : null;
  return { entry, warning };
}

/**
 * `PORT` or `LO-HI`, each 1-65535, LO <= HI. `whole` is the text quoted in the error message (the
 * line or value the port came from). Shared with the domain formats so ports read alike everywhere.
 */
export function parsePortRange(portPart: string, whole: string): { portLo: number; portHi: number } | { error: string } {
  const m = PORT_RE.exec(portPart);
  if (m === null) return { error: `bad port "${portPart}" in ${quote(whole)}` };
  const portLo = Number(m[1]);
  const portHi = m[2] === undefined ? portLo : Number(m[2]);
  if (portLo < 1 || portHi < 1 || portLo > 65535 || portHi > 65535) {
    return { error: `port out of range 1-65535 in ${quote(whole)}` };
  }
  if (portLo > portHi) return { error: `port range reversed (${portLo} > ${portHi}) in ${quote(whole)}` };
  return { portLo, portHi };
}

/** The fields an entry's text is made of. */
export type EntryNetwork = Pick<BlacklistEntry, 'version' | 'addr' | 'prefixLen' | 'portLo' | 'portHi'>;

/** "a.b.c.d[/len]" or "v6[/len]": the prefix is left out for a single host. */
function canonicalNet(e: Pick<BlacklistEntry, 'version' | 'addr' | 'prefixLen'>): string {
  const a = e.version === 4 ? formatIPv4(e.addr) : formatIPv6(e.addr);
  return e.prefixLen === (e.version === 4 ? 32 : 128) ? a : `${a}/${e.prefixLen}`;
}

/**
 * The one spelling used in reports and in tests: same entry, same text, whatever the input looked
 * like. (Generic so an object with more fields than these may be passed as a literal.)
 */
export function canonicalText<T extends EntryNetwork>(e: T): string {
  const net = canonicalNet(e);
  if (e.portLo === 0 && e.portHi === 65535) return net;
  const ports = e.portLo === e.portHi ? `${e.portLo}` : `${e.portLo}-${e.portHi}`;
  return e.version === 6 ? `[${net}]:${ports}` : `${net}:${ports}`;
}

/** JSON-quoted and cut to 80 characters: list lines are untrusted and may be huge. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}
