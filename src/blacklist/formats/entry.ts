/**
 * One value that may be either an address/CIDR or a domain name, each with an optional port, as
 * CSV cells and JSON strings carry them: "203.0.113.0/24:3333", "[2001:db8::1]:3333",
 * "2001:db8::1", "pool.example:3333-3340". The value decides which, not the column or key it
 * came from: an "ip" column holding a name still yields a domain entry.
 */
import type { BlacklistEntry } from '../types.js';
import { canonicalText, parsePlainLine, parsePortRange, quote } from '../plain.js';
import { parseDomainSpec } from './domain.js';

export type EntryValueResult =
  | { address: BlacklistEntry; warning: string | null }
  | { domain: { name: string; portLo: number; portHi: number }; warning: string | null }
  | { error: string };

/** `value` must be trimmed and non-empty. Never throws. */
export function parseEntryValue(value: string, source: string): EntryValueResult {
  if (looksLikeAddress(value)) {
    const r = parsePlainLine(value, source);
    if ('error' in r) return r;
    return { address: r.entry, warning: r.warning };
  }
  const d = parseDomainSpec(value);
  if ('error' in d) return d;
  return { domain: { name: d.name, portLo: d.portLo, portHi: d.portHi }, warning: d.warning };
}

/**
 * Addresses are told from names by shape: brackets, a prefix, two colons (IPv6), or only digits
 * and dots before the port. No valid name has a numeric last label, so nothing is misfiled.
 */
function looksLikeAddress(v: string): boolean {
  if (v.charCodeAt(0) === 0x5b || v.includes('/')) return true;
  const c1 = v.indexOf(':');
  if (c1 >= 0 && v.indexOf(':', c1 + 1) >= 0) return true;
  const host = c1 < 0 ? v : v.slice(0, c1);
  if (host === '') return false;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2e)) return false;
  }
  return true;
}

/**
 * A port given beside the value (CSV column, JSON key): `3333`, `3333-3340`, or empty for any.
 * A value that already names a port and a second port beside it is an error: which one was meant?
 */
export function applyPort(r: Exclude<EntryValueResult, { error: string }>, portText: string, value: string): string | null {
  if (portText === '') return null;
  if (portText.length > 11) return `bad port ${quote(portText)} for ${quote(value)}`;
  const p = parsePortRange(portText, `${value} port ${portText}`);
  if ('error' in p) return p.error;
  const target = 'address' in r ? r.address : r.domain;
  if (target.portLo !== 0 || target.portHi !== 65535) return `${quote(value)} names a port and a port is given beside it`;
  target.portLo = p.portLo;
  target.portHi = p.portHi;
  if ('address' in r) r.address.text = canonicalText(r.address);
  return null;
}
