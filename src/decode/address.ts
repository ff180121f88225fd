/**
 * Address text for reports and flow keys. Off the per-packet path: the decoder keeps bytes, and
 * only a flow's first packet (or a report) turns them into strings.
 */

/** Dotted quad, or IPv6 in RFC 5952 form: lower case, no leading zeros, the longest run of two
 * or more zero groups (the first one on a tie) as `::`, and `::ffff:a.b.c.d` for v4-mapped. */
export function formatAddress(bytes: Uint8Array, version: 4 | 6): string {
  const b = bytes;
  if (version === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (isV4Mapped(b)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;

  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 §4.2.2)
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && b[2 * g] === 0 && b[2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      // strictly longer: on a tie the first run wins (§4.2.3)
      if (g - runStart > bestLen) {
        bestStart = runStart;
        bestLen = g - runStart;
      }
      runStart = -1;
    }
  }

  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += '::';
      g += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((b[2 * g] << 8) | b[2 * g + 1]).toString(16);
  }
  return s;
}

/** ::ffff:0:0/96, the only prefix RFC 5952 §5 asks to print with a dotted quad. */
function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
