/**
 * Big-endian reads over plain indexing. Callers check bounds first (no DataView per datagram,
 * no exceptions on the hot path); all flow-export numbers are network byte order.
 */

export function u16(b: Uint8Array, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

export function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

/**
 * An unsigned integer of any exported width 1..8 (reduced-size encoding, RFC 7011 §6.2). Values
 * above 2^53 lose their low bits: no counter reaches that, and a JS number is what FlowRecord
 * holds.
 */
export function uint(b: Uint8Array, i: number, len: number): number {
  switch (len) {
    case 1:
      return b[i];
    case 2:
      return (b[i] << 8) | b[i + 1];
    case 4:
      return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    case 8:
      return u32(b, i) * 4294967296 + u32(b, i + 4);
  }
  let v = 0;
  for (let k = 0; k < len; k++) v = v * 256 + b[i + k];
  return v;
}

const f32 = new Float32Array(1);
const f32b = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE float64, or float32 when reduced-size encoded; big-endian on the wire. */
export function float(b: Uint8Array, i: number, len: number): number {
  if (len === 4) {
    for (let k = 0; k < 4; k++) f32b[littleEndian ? 3 - k : k] = b[i + k];
    return f32[0];
  }
  for (let k = 0; k < 8; k++) f64b[littleEndian ? 7 - k : k] = b[i + k];
  return f64[0];
}

/** A copy of len bytes: records own their addresses, never views into a reused datagram. */
export function copyBytes(b: Uint8Array, i: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let k = 0; k < len; k++) out[k] = b[i + k];
  return out;
}
