import { MAX_RECORD, type FormatHost, type FormatParser } from './format.js';

/** Section Header Block type; a byte palindrome, so it reads the same in either byte order. */
export const PCAPNG_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2; // obsolete Packet Block
const BT_SPB = 3;
const BT_EPB = 6;
const BOM = 0x1a2b3c4d;
const BOM_SWAPPED = 0x4d3c2b1a;
const TWO32 = 4294967296;

// How an interface's timestamp units become microseconds (see tsMicros()).
const TS_MICRO = 0; // units are µs
const TS_MUL = 1; // coarser than µs: multiply by param
const TS_DIV = 2; // 10^-7 .. 10^-15: exact 64-bit division by param
const TS_POW2 = 3; // 2^-k with k <= 32: param = 2^k
const TS_FLOAT = 4; // anything finer: param = scale factor, float precision

/** pcapng (draft-ietf-opsawg-pcapng): a sequence of sections, each an SHB then blocks. */
export class PcapngParser implements FormatParser {
  /** Byte order of the current section; set by each SHB. */
  private le = true;
  // Interfaces of the current section, as parallel arrays so lookups in the packet path are plain loads.
  private ifCount = 0;
  private readonly ifLink: number[] = [];
  private readonly ifSnap: number[] = [];
  private readonly ifMode: number[] = [];
  private readonly ifParam: number[] = [];
  private readonly ifOffset: number[] = [];
  /** SPBs carry no timestamp; they get the last one seen so flow timing never jumps back to 1970. */
  private lastTs = 0;

  constructor(private readonly host: FormatHost) {}

  step(buf: Buffer, off: number, avail: number): number {
    if (avail < 12) return -12;
    let le = this.le;
    const type = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    if (type === PCAPNG_SHB) {
      // A new section may switch byte order; only its own BOM says which.
      const bom = buf.readUInt32LE(off + 8);
      if (bom === BOM) le = true;
      else if (bom === BOM_SWAPPED) le = false;
      else return this.host.damage('PW_ERR_BAD_BLOCK', `section header has no byte-order magic (0x${bom.toString(16)})`);
    }
    const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    if (len < 12 || len % 4 !== 0) {
      return this.host.damage('PW_ERR_BAD_BLOCK', `block length ${len} is not a multiple of 4 of at least 12`);
    }
    if (len > MAX_RECORD) return this.host.damage('PW_ERR_BAD_LENGTH', `block claims ${len} bytes, more than the limit of ${MAX_RECORD}`);
    if (avail < len) return -len;
    const trailer = le ? buf.readUInt32LE(off + len - 4) : buf.readUInt32BE(off + len - 4);
    if (trailer !== len) {
      return this.host.damage('PW_ERR_BAD_BLOCK', `block length ${len} does not match its trailing length ${trailer}`);
    }
    switch (type) {
      case BT_EPB:
        return this.packet(buf, off, len, le, le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8));
      case BT_SPB:
        return this.simple(buf, off, len, le);
      case BT_PB:
        return this.packet(buf, off, len, le, le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8));
      case BT_IDB:
        return this.idb(buf, off, len, le);
      case PCAPNG_SHB:
        return this.shb(buf, off, len, le);
      default:
        return len; // NRB, ISB, DSB, custom and unknown blocks: nothing we need
    }
  }

  /** EPB and the obsolete PB share a layout after the interface id (32 vs 16+16 bits). */
  private packet(buf: Buffer, off: number, len: number, le: boolean, ifId: number): number {
    if (len < 32) return this.host.damage('PW_ERR_BAD_BLOCK', `packet block of ${len} bytes is shorter than its fixed fields`);
    const caplen = le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20);
    if (caplen > len - 32) {
      return this.host.damage('PW_ERR_BAD_LENGTH', `packet block claims ${caplen} captured bytes but holds ${len - 32}`);
    }
    if (ifId >= this.ifCount) {
      this.host.skip();
      return len;
    }
    const origLen = le ? buf.readUInt32LE(off + 24) : buf.readUInt32BE(off + 24);
    const high = le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12);
    const low = le ? buf.readUInt32LE(off + 16) : buf.readUInt32BE(off + 16);
    const ts = this.tsMicros(ifId, high, low);
    this.lastTs = ts;
    this.host.deliver(buf, off + 28, caplen, origLen, ts, this.ifLink[ifId]);
    return len;
  }

  private simple(buf: Buffer, off: number, len: number, le: boolean): number {
    if (len < 16) return this.host.damage('PW_ERR_BAD_BLOCK', `simple packet block of ${len} bytes is shorter than its fixed fields`);
    if (this.ifCount === 0) {
      this.host.skip();
      return len;
    }
    const origLen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    // No caplen field: the packet is what fits, minus padding we can only exclude via origLen/snaplen.
    let caplen = len - 16;
    if (origLen < caplen) caplen = origLen;
    const snap = this.ifSnap[0];
    if (snap !== 0 && snap < caplen) caplen = snap;
    this.host.deliver(buf, off + 12, caplen, origLen, this.lastTs, this.ifLink[0]);
    return len;
  }

  private shb(buf: Buffer, off: number, len: number, le: boolean): number {
    if (len < 28) return this.host.damage('PW_ERR_BAD_BLOCK', `section header of ${len} bytes is too short`);
    const major = le ? buf.readUInt16LE(off + 12) : buf.readUInt16BE(off + 12);
    if (major !== 1) return this.host.damage('PW_ERR_BAD_BLOCK', `unsupported pcapng major version ${major}`);
    this.le = le;
    this.ifCount = 0; // interface ids are per section
    return len;
  }

  private idb(buf: Buffer, off: number, len: number, le: boolean): number {
    if (len < 20) return this.host.damage('PW_ERR_BAD_BLOCK', `interface description of ${len} bytes is too short`);
    const linkType = le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8);
    const snaplen = le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12);
    let tsresol = 6;
    let offsetSec = 0;
    const end = off + len - 4;
    for (let p = off + 16; p + 4 <= end; ) {
      const code = le ? buf.readUInt16LE(p) : buf.readUInt16BE(p);
      const olen = le ? buf.readUInt16LE(p + 2) : buf.readUInt16BE(p + 2);
      // An option running past the block is ignored with the rest: the packets stay readable.
      if (code === 0 || p + 4 + olen > end) break;
      if (code === 9 && olen >= 1) tsresol = buf[p + 4];
      else if (code === 14 && olen >= 8) {
        const hi = le ? buf.readInt32LE(p + 8) : buf.readInt32BE(p + 4);
        const lo = le ? buf.readUInt32LE(p + 4) : buf.readUInt32BE(p + 8);
        offsetSec = hi * TWO32 + lo;
      }
      p += 4 + ((olen + 3) & ~3);
    }
    const i = this.ifCount++;
    this.ifLink[i] = linkType;
    this.ifSnap[i] = snaplen;
    this.ifOffset[i] = offsetSec * 1e6;
    this.setResolution(i, tsresol);
    this.host.addLinkType(linkType);
    return len;
  }

  private setResolution(i: number, tsresol: number): void {
    const exp = tsresol & 0x7f;
    if (tsresol & 0x80) {
      if (exp <= 32) {
        this.ifMode[i] = TS_POW2;
        this.ifParam[i] = 2 ** exp;
      } else {
        this.ifMode[i] = TS_FLOAT;
        this.ifParam[i] = 1e6 / 2 ** exp;
      }
    } else if (exp === 6) {
      this.ifMode[i] = TS_MICRO;
    } else if (exp < 6) {
      this.ifMode[i] = TS_MUL;
      this.ifParam[i] = 10 ** (6 - exp);
    } else if (exp <= 15) {
      this.ifMode[i] = TS_DIV;
      this.ifParam[i] = 10 ** (exp - 6);
    } else {
      this.ifMode[i] = TS_FLOAT;
      this.ifParam[i] = 1e6 / 10 ** exp;
    }
  }

  /**
   * Microseconds from a 64-bit unit count split in two 32-bit halves. A nanosecond timestamp of
   * today is ~2^61, beyond a double's 53 exact bits, so `high * 2^32 + low` would be off by
   * hundreds of ns; the division paths below stay exact instead.
   */
  private tsMicros(i: number, high: number, low: number): number {
    const param = this.ifParam[i];
    let us: number;
    switch (this.ifMode[i]) {
      case TS_MICRO:
        us = high * TWO32 + low;
        break;
      case TS_MUL:
        us = (high * TWO32 + low) * param;
        break;
      case TS_DIV:
        us = div64(high, low, param);
        break;
      case TS_POW2: {
        // Whole seconds and the fraction separately; each product stays below 2^53.
        const sec = high * (TWO32 / param) + Math.floor(low / param);
        us = sec * 1e6 + Math.floor(((low % param) * 1e6) / param);
        break;
      }
      default:
        us = Math.floor((high * TWO32 + low) * param);
    }
    return us + this.ifOffset[i];
  }
}

/**
 * floor((high * 2^32 + low) / d) for d < 2^31, by long division in 16-bit digits so every
 * intermediate stays an exact integer below 2^53. Allocation-free, unlike BigInt.
 */
export function div64(high: number, low: number, d: number): number {
  let cur = high >>> 16;
  let q = Math.floor(cur / d);
  let r = cur - q * d;
  cur = r * 65536 + (high & 0xffff);
  let qd = Math.floor(cur / d);
  r = cur - qd * d;
  q = q * 65536 + qd;
  cur = r * 65536 + (low >>> 16);
  qd = Math.floor(cur / d);
  r = cur - qd * d;
  q = q * 65536 + qd;
  cur = r * 65536 + (low & 0xffff);
  qd = Math.floor(cur / d);
  return q * 65536 + qd;
}
