/**
 * Big-endian readers over plain indexing. Callers have already checked the bounds against the
 * captured length, so these never see an index past the end (Buffer.readUInt16BE would throw,
 * and a try/catch per packet is what we avoid).
 */
export function u16(d: Uint8Array, i: number): number {
  return (d[i] << 8) | d[i + 1];
}

export function u32(d: Uint8Array, i: number): number {
  return ((d[i] << 24) | (d[i + 1] << 16) | (d[i + 2] << 8) | d[i + 3]) >>> 0;
}

/** Little-endian, for the BSD loopback header written in the capturing host's byte order. */
export function u32le(d: Uint8Array, i: number): number {
  return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) >>> 0;
}
