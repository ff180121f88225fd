/**
 * Share difficulty from the targets pools send. Each family has its own "difficulty 1", so each
 * gets its own function; results are floats rounded for display, not consensus values.
 */

function round(x: number): number | null {
  if (!Number.isFinite(x) || x <= 0) return null;
  return x >= 1 ? Math.round(x * 1000) / 1000 : Number(x.toPrecision(6));
}

/** Big-endian hex of any length as a float (precision is not needed beyond 53 bits). */
function hexToFloat(hex: string): number {
  let v = 0;
  for (let i = 0; i < hex.length; i += 12) {
    const chunk = hex.slice(i, i + 12);
    v = v * 16 ** chunk.length + parseInt(chunk, 16);
  }
  return v;
}

/**
 * CryptoNote (XMRig) target: 4 or 8 bytes little-endian. 4 bytes: 0xFFFFFFFF / target;
 * 8 bytes: 2^64 / target. Not rounded: "b88d0600" is difficulty 10000.017, as the maths says.
 */
export function cryptonoteDifficulty(target: string): number | null {
  if (!/^[0-9a-fA-F]+$/.test(target)) return null;
  if (target.length === 8) {
    const t = Buffer.from(target, 'hex').readUInt32LE(0);
    return t === 0 ? null : 0xffffffff / t;
  }
  if (target.length === 16) {
    const t = Buffer.from(target, 'hex').readBigUInt64LE(0);
    return t === 0n ? null : 2 ** 64 / Number(t);
  }
  return null;
}

/** Ethash boundary ("0x" + 64 hex, big-endian): difficulty = 2^256 / boundary. */
export function ethashDifficulty(boundary: string): number | null {
  const hex = boundary.startsWith('0x') ? boundary.slice(2) : boundary;
  if (!/^[0-9a-fA-F]{1,64}$/.test(hex)) return null;
  return round(2 ** 256 / hexToFloat(hex));
}

/**
 * 256-bit big-endian target (stratum mining.set_target) in pool difficulty units: difficulty 1 is
 * 0x00000000ffff…ff, taken as 2^224.
 */
export function btcTargetDifficulty(targetBE: string): number | null {
  const hex = targetBE.startsWith('0x') ? targetBE.slice(2) : targetBE;
  if (!/^[0-9a-fA-F]{1,64}$/.test(hex)) return null;
  return round(2 ** 224 / hexToFloat(hex));
}

/** getwork's target is the same 256-bit number written little-endian. */
export function getworkDifficulty(targetLE: string): number | null {
  if (!/^[0-9a-fA-F]{64}$/.test(targetLE)) return null;
  return btcTargetDifficulty(Buffer.from(targetLE, 'hex').reverse().toString('hex'));
}
