/**
 * Address helpers shared by the list parser and the index: ip-num does the strict parsing (it
 * rejects leading zeros, short forms and stray characters), then everything is plain bytes so
 * the lookup never touches bigint or strings.
 */
import { IPv4, IPv6 } from 'ip-num';

/** Parse a dotted IPv4 into 4 bytes, or null when ip-num rejects it. */
export function parseIPv4Bytes(s: string): Uint8Array | null {
  const fast = parseDottedQuad(s);
  if (fast !== null) return fast;
  let n: number;
  try {
    n = Number(IPv4.fromString(s).getValue());
  } catch {
    return null;
  }
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/**
 * Fast path for the common case, a plain dotted quad: ip-num costs ~8 µs a line (bigint, regexes),
 * which is 8 s for a 1,000,000-line list. Accepts only what ip-num also accepts (four decimal
 * octets 0-255, no leading zeros, nothing else); anything else goes to ip-num, which decides.
 * A test cross-checks the two on random strings.
 */
export function parseDottedQuad(s: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let octet = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && v === 0) return null; // leading zero
      v = v * 10 + (c - 48);
      if (++digits > 3 || v > 255) return null;
    } else if (c === 46 && digits > 0 && octet < 3) {
      out[octet++] = v;
      v = 0;
      digits = 0;
    } else return null;
  }
  if (digits === 0 || octet !== 3) return null;
  out[3] = v;
  return out;
}

/** Parse an IPv6 text into 16 bytes, or null. Zone ids (fe80::1%eth0) mean nothing in a list: rejected. */
export function parseIPv6Bytes(s: string): Uint8Array | null {
  if (s.includes('%')) return null;
  let v: bigint;
  try {
    v = IPv6.fromString(s).getValue();
  } catch {
    return null;
  }
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * IPv6 text (any RFC 4291 form, with an embedded dotted quad too) to 16 bytes, without ip-num:
 * for machine-written addresses read by the million (nfdump CSV). Lists typed by people go
 * through parseIPv6Bytes, which lets ip-num decide.
 */
export function parseIPv6Text(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : '';
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const res: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseDottedQuad(g);
        if (v4 === null) return null;
        res.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        res.push(parseInt(g, 16));
      }
    }
    return res;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === null || t === null) return null;
  if (dbl < 0 ? h.length !== 8 : h.length + t.length > 7) return null;
  const all = dbl < 0 ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/** Clear the host bits past prefixLen in place; answers whether any were set. */
export function clearHostBits(bytes: Uint8Array, prefixLen: number): boolean {
  let changed = false;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, prefixLen - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    const v = bytes[i]! & mask;
    if (v !== bytes[i]) {
      bytes[i] = v;
      changed = true;
    }
  }
  return changed;
}

/** True for ::ffff:a.b.c.d (first 80 bits zero, then 0xffff). */
export function isV4Mapped(b: Uint8Array): boolean {
  return (
    b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 && b[4] === 0 &&
    b[5] === 0 && b[6] === 0 && b[7] === 0 && b[8] === 0 && b[9] === 0 &&
    b[10] === 0xff && b[11] === 0xff
  );
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (>= 2) of zero groups as "::". */
export function formatIPv6(b: Uint8Array): string {
  if (isV4Mapped(b)) return `::ffff:${formatIPv4(b, 12)}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}
