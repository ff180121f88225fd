import { MAX_RECORD, MAX_SNAPLEN, type FormatHost, type FormatParser } from './format.js';

/** Magic numbers as read big-endian from the first four bytes. */
export const PCAP_MAGIC_US_BE = 0xa1b2c3d4;
export const PCAP_MAGIC_US_LE = 0xd4c3b2a1;
export const PCAP_MAGIC_NS_BE = 0xa1b23c4d;
export const PCAP_MAGIC_NS_LE = 0x4d3cb2a1;

export function isPcapMagic(m: number): boolean {
  return m === PCAP_MAGIC_US_BE || m === PCAP_MAGIC_US_LE || m === PCAP_MAGIC_NS_BE || m === PCAP_MAGIC_NS_LE;
}

const GLOBAL_HDR = 24;
const RECORD_HDR = 16;

/** Classic libpcap savefile (pcap-savefile(5)): a 24-byte header, then 16-byte record headers. */
export class PcapParser implements FormatParser {
  private readonly le: boolean;
  private readonly nanos: boolean;
  private headerDone = false;
  private linkType = 0;
  private maxCaplen = MAX_SNAPLEN;
  /** Files before format 2.3 stored len before caplen: 0 = never swap, 1 = always, 2 = when caplen > len (2.3). */
  private swapLens = 0;

  constructor(
    private readonly host: FormatHost,
    magic: number,
  ) {
    this.le = magic === PCAP_MAGIC_US_LE || magic === PCAP_MAGIC_NS_LE;
    this.nanos = magic === PCAP_MAGIC_NS_BE || magic === PCAP_MAGIC_NS_LE;
  }

  step(buf: Buffer, off: number, avail: number): number {
    if (!this.headerDone) return this.header(buf, off, avail);
    if (avail < RECORD_HDR) return -RECORD_HDR;
    const le = this.le;
    let caplen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    let origLen = le ? buf.readUInt32LE(off + 12) : buf.readUInt32BE(off + 12);
    if (this.swapLens !== 0 && (this.swapLens === 1 || caplen > origLen)) {
      const t = caplen;
      caplen = origLen;
      origLen = t;
    }
    if (caplen > this.maxCaplen) {
      return this.host.damage('PW_ERR_BAD_LENGTH', `packet record claims ${caplen} captured bytes, more than the limit of ${this.maxCaplen}`);
    }
    const total = RECORD_HDR + caplen;
    if (avail < total) return -total;
    const sec = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    const frac = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    // sec * 1e6 < 2^53 for any 32-bit sec, so this stays exact.
    const ts = sec * 1e6 + (this.nanos ? Math.floor(frac / 1000) : frac);
    this.host.deliver(buf, off + RECORD_HDR, caplen, origLen, ts, this.linkType);
    return total;
  }

  private header(buf: Buffer, off: number, avail: number): number {
    if (avail < GLOBAL_HDR) return -GLOBAL_HDR;
    const le = this.le;
    const major = le ? buf.readUInt16LE(off + 4) : buf.readUInt16BE(off + 4);
    const minor = le ? buf.readUInt16LE(off + 6) : buf.readUInt16BE(off + 6);
    const snaplen = le ? buf.readUInt32LE(off + 16) : buf.readUInt32BE(off + 16);
    const network = le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20);
    if (major === 2 && minor < 3) this.swapLens = 1;
    else if (major === 2 && minor === 3) this.swapLens = 2;
    // Upper bits carry the FCS length and reserved flags; the link type is the low 16.
    this.linkType = network & 0xffff;
    // A snaplen above libpcap's maximum is legal (some writers put 0xffffffff); trust it only up to MAX_RECORD.
    this.maxCaplen = Math.min(Math.max(snaplen, MAX_SNAPLEN), MAX_RECORD);
    this.host.addLinkType(this.linkType);
    this.headerDone = true;
    return GLOBAL_HDR;
  }
}
