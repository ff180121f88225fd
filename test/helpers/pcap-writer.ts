/**
 * Builds capture files byte by byte for tests, so fixtures are readable in the test itself and
 * never depend on a capture tool. Written straight from the format specs (pcap: tcpdump.org
 * pcap-savefile(5); pcapng: draft-ietf-opsawg-pcapng), not from our reader.
 */

export interface TestPacket {
  data: Uint8Array;
  /** Microseconds since the epoch; default 2024-01-01T00:00:00Z + 1 ms per packet index. */
  tsMicros?: number;
  /** Length on the wire; default data.length. */
  origLen?: number;
  /** pcapng interface id (EPB); default 0. */
  iface?: number;
}

export interface PcapOptions {
  /** Written as-is into the 32-bit link type field, so tests can set the FCS bits too. Default 1. */
  linkType?: number;
  nanos?: boolean;
  bigEndian?: boolean;
  snaplen?: number;
}

export interface PcapngInterface {
  linkType: number;
  /** Raw if_tsresol byte: 6 = µs, 9 = ns, 0x80 | 20 = 2^-20 s. Omitted = no option (µs). */
  tsresol?: number;
  /** IDB snap length; default 262144. */
  snaplen?: number;
  /** if_tsoffset in seconds, added by readers to every timestamp; the writer subtracts it. */
  tsoffset?: number;
}

export interface PcapngOptions {
  interfaces?: PcapngInterface[];
  bigEndian?: boolean;
  /** Write every packet as a Simple Packet Block (interface 0, no timestamp). */
  simple?: boolean;
  /** Insert custom, unknown, NRB, ISB and DSB blocks and options that a reader must skip. */
  extraBlocks?: boolean;
}

/** 2024-01-01T00:00:00Z in microseconds. */
export const BASE_TS_MICROS = Date.UTC(2024, 0, 1) * 1000;

export function defaultTs(index: number): number {
  return BASE_TS_MICROS + index * 1000;
}

/** Growable little writer; every number goes through it so byte order lives in one place. */
class Bytes {
  private parts: Buffer[] = [];
  constructor(private readonly be: boolean) {}
  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.be) b.writeUInt16BE(v & 0xffff);
    else b.writeUInt16LE(v & 0xffff);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.be) b.writeUInt32BE(v >>> 0);
    else b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.be) b.writeBigUInt64BE(v);
    else b.writeBigUInt64LE(v);
    this.parts.push(b);
    return this;
  }
  raw(data: Uint8Array): this {
    this.parts.push(Buffer.from(data));
    return this;
  }
  /** Zero bytes up to the next multiple of 4 of `len`. */
  pad(len: number): this {
    const n = (4 - (len % 4)) % 4;
    if (n) this.parts.push(Buffer.alloc(n));
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function writePcap(packets: TestPacket[], opts: PcapOptions = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const w = new Bytes(be);
  w.u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0) // thiszone
    .u32(0) // sigfigs
    .u32(opts.snaplen ?? 262144)
    .u32(opts.linkType ?? 1);
  packets.forEach((p, i) => {
    const ts = p.tsMicros ?? defaultTs(i);
    const sec = Math.floor(ts / 1e6);
    const frac = ts - sec * 1e6;
    w.u32(sec)
      .u32(opts.nanos ? frac * 1000 : frac)
      .u32(p.data.length)
      .u32(p.origLen ?? p.data.length)
      .raw(p.data);
  });
  return w.done();
}

/** One pcapng block: type, total length, body, options, total length again. */
function block(be: boolean, type: number, body: Buffer, options?: Buffer): Buffer {
  const opt = options ?? Buffer.alloc(0);
  const len = 12 + body.length + opt.length;
  if (len % 4) throw new Error('test writer: block body not padded');
  return new Bytes(be).u32(type).u32(len).raw(body).raw(opt).u32(len).done();
}

/** Options list: each (code, value) padded to 32 bits, then opt_endofopt. */
function options(be: boolean, opts: [number, Uint8Array][]): Buffer {
  if (opts.length === 0) return Buffer.alloc(0);
  const w = new Bytes(be);
  for (const [code, value] of opts) w.u16(code).u16(value.length).raw(value).pad(value.length);
  return w.u16(0).u16(0).done();
}

/** Timestamp in interface units, rounded so that a reader flooring back to µs gets `micros` exactly. */
function tsUnits(micros: number, tsresol: number | undefined): bigint {
  const us = BigInt(micros);
  const r = tsresol ?? 6;
  if (r & 0x80) {
    const scale = 1n << BigInt(r & 0x7f);
    return (us * scale + 999_999n) / 1_000_000n; // ceil
  }
  if (r >= 6) return us * 10n ** BigInt(r - 6);
  return us / 10n ** BigInt(6 - r); // coarser than µs: precision is lost by design
}

export function writePcapng(packets: TestPacket[], opts: PcapngOptions = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const ifaces = opts.interfaces ?? [{ linkType: 1 }];
  const extra = opts.extraBlocks ?? false;
  const out: Buffer[] = [];
  const text = (s: string) => Buffer.from(s, 'utf8');

  const shbBody = new Bytes(be).u32(0x1a2b3c4d).u16(1).u16(0).u64(0xffffffffffffffffn).done();
  out.push(block(be, 0x0a0d0d0a, shbBody, options(be, extra ? [[4, text('poolwatch-test')], [1, text('a comment')]] : [])));

  for (const ifc of ifaces) {
    const body = new Bytes(be).u16(ifc.linkType).u16(0).u32(ifc.snaplen ?? 262144).done();
    const o: [number, Uint8Array][] = [];
    if (extra) o.push([2, text('eth0')]); // if_name before if_tsresol: the reader must walk options
    if (ifc.tsresol !== undefined) o.push([9, Uint8Array.of(ifc.tsresol)]);
    if (ifc.tsoffset !== undefined) o.push([14, new Bytes(be).u64(BigInt.asUintN(64, BigInt(ifc.tsoffset))).done()]);
    out.push(block(be, 1, body, options(be, o)));
  }

  if (extra) out.push(...extraBlocks(be));

  packets.forEach((p, i) => {
    const origLen = p.origLen ?? p.data.length;
    const padded = new Bytes(be).raw(p.data).pad(p.data.length).done();
    if (opts.simple) {
      out.push(block(be, 3, Buffer.concat([new Bytes(be).u32(origLen).done(), padded])));
    } else {
      const ifId = p.iface ?? 0;
      const ifc = ifaces[ifId] as PcapngInterface | undefined; // undefined: tests of undeclared ids
      const units = tsUnits((p.tsMicros ?? defaultTs(i)) - (ifc?.tsoffset ?? 0) * 1e6, ifc?.tsresol);
      const head = new Bytes(be)
        .u32(ifId)
        .u32(Number(units >> 32n))
        .u32(Number(units & 0xffffffffn))
        .u32(p.data.length)
        .u32(origLen)
        .done();
      // epb_flags (inbound) as an option the reader must step over.
      const o = extra ? options(be, [[2, new Bytes(be).u32(1).done()]]) : undefined;
      out.push(block(be, 6, Buffer.concat([head, padded]), o));
    }
    if (extra && i % 2 === 0) out.push(...extraBlocks(be));
  });
  return Buffer.concat(out);
}

/** Blocks a reader must skip by length: custom (both), NRB, ISB, DSB and an unknown type. */
function extraBlocks(be: boolean): Buffer[] {
  const custom = (type: number) =>
    block(be, type, new Bytes(be).u32(32473).raw(Buffer.from('custom!')).pad(7).done()); // PEN 32473 = example
  const nrb = block(
    be,
    4,
    new Bytes(be)
      .u16(1) // nrb_record_ipv4
      .u16(4 + 12)
      .raw(Uint8Array.of(192, 0, 2, 1))
      .raw(Buffer.from('pool.test\0\0\0'))
      .u16(0)
      .u16(0) // nrb_record_end
      .done(),
  );
  const isb = block(be, 5, new Bytes(be).u32(0).u32(0).u32(0).done(), options(be, [[4, new Bytes(be).u64(7n).done()]]));
  const dsb = block(be, 0x0000000a, new Bytes(be).u32(0x544c534b).u32(4).raw(Buffer.from('keys')).done());
  const unknown = block(be, 0x12345678, Buffer.alloc(8, 0xee));
  return [custom(0x00000bad), nrb, isb, custom(0x40000bad), dsb, unknown];
}
