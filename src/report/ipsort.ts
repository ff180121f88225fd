/**
 * Sort keys for addresses as the report orders them: IPv4 before IPv6, each numerically (so
 * 10.0.0.2 comes before 10.0.0.10), anything unparsable last in plain string order. A fixed-width
 * hex key compares correctly as a plain string, so callers can use `<` on keys.
 */
export function ipSortKey(ip: string): string {
  const v4 = v4Hex(ip);
  if (v4 !== null) return `4${v4}`;
  const v6 = v6Hex(ip);
  if (v6 !== null) return `6${v6}`;
  return `9${ip}`;
}

export function compareIp(a: string, b: string): number {
  return cmp(ipSortKey(a), ipSortKey(b));
}

/** Plain code-unit order: deterministic, unlike localeCompare. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function v4Hex(s: string): string | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let out = '';
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out += n.toString(16).padStart(2, '0');
  }
  return out;
}

function v6Hex(input: string): string | null {
  let s = input.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.includes('.', lastColon)) {
    const v4 = v4Hex(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${v4.slice(0, 4)}:${v4.slice(4)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : [];
  let groups: string[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  let out = '';
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    out += g.padStart(4, '0');
  }
  return out;
}
