import { describe, expect, it } from 'vitest';
import { div64 } from '../src/capture/pcapng.js';
import { defaultTs, writePcapng, type PcapngInterface, type TestPacket } from './helpers/pcap-writer.js';
import { readChunked, rng, type Got } from './helpers/read-capture.js';

const read = (buf: Buffer, size?: (i: number) => number, name = 'test.pcapng') => readChunked(buf, size, name);

function bytes(len: number, seed: number): Uint8Array {
  const rnd = rng(seed);
  return Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
}

const hex = (d: Uint8Array) => Buffer.from(d).toString('hex');

/** What a reader must return for `micros` written at `tsresol`, computed exactly with BigInt. */
function expectedTs(micros: number, ifc: PcapngInterface): number {
  const off = BigInt((ifc.tsoffset ?? 0) * 1e6);
  const us = BigInt(micros) - off;
  const r = ifc.tsresol ?? 6;
  let back: bigint;
  if (r & 0x80) {
    const scale = 1n << BigInt(r & 0x7f);
    const units = (us * scale + 999_999n) / 1_000_000n; // the writer rounds up
    back = (units * 1_000_000n) / scale;
  } else if (r >= 6) {
    back = us;
  } else {
    const d = 10n ** BigInt(6 - r);
    back = (us / d) * d;
  }
  return Number(back + off);
}

/** Block boundaries walked independently of the reader, and which blocks hold packets. */
function walk(buf: Buffer): { bounds: number[]; packetStarts: number[]; packetEnds: number[] } {
  const bounds = [0];
  const packetStarts: number[] = [];
  const packetEnds: number[] = [];
  let le = true;
  for (let off = 0; off + 12 <= buf.length; ) {
    if (buf.readUInt32LE(off) === 0x0a0d0d0a) le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
    const type = le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    const start = off;
    off += le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
    if (off > buf.length) break;
    bounds.push(off);
    if (type === 6 || type === 3 || type === 2) {
      packetStarts.push(start);
      packetEnds.push(off);
    }
  }
  return { bounds, packetStarts, packetEnds };
}

const Y2100 = Date.UTC(2100, 0, 1, 12) * 1000;

// Each interface with timestamps its resolution can hold in 64 bits (picoseconds overflow after ~213 days).
const IFACES: { ifc: PcapngInterface; ts: number[] }[] = [
  { ifc: { linkType: 1 }, ts: [defaultTs(0), Y2100 + 1] },
  { ifc: { linkType: 113, tsresol: 9 }, ts: [defaultTs(1) + 999_999, Y2100 + 123_457] },
  { ifc: { linkType: 101, tsresol: 0x80 | 20 }, ts: [defaultTs(2) + 1, Y2100 + 999_999] },
  { ifc: { linkType: 228, tsresol: 3 }, ts: [defaultTs(3) + 12_345, 1] },
  { ifc: { linkType: 276, tsresol: 0x80 | 32 }, ts: [defaultTs(4) + 7, Date.UTC(2096, 0, 1) * 1000 + 3] },
  { ifc: { linkType: 0, tsresol: 0x80 | 10 }, ts: [defaultTs(5) + 333, 77] },
  { ifc: { linkType: 12, tsresol: 12 }, ts: [10_000_000_000_123, 5] },
  { ifc: { linkType: 229, tsresol: 7 }, ts: [defaultTs(7) + 654_321, Y2100] },
  { ifc: { linkType: 9, tsresol: 0x80 | 40 }, ts: [5_000_000, 1_234_000_000] },
  { ifc: { linkType: 108, tsresol: 9, tsoffset: 3600 }, ts: [defaultTs(9) + 5, Y2100 + 11] },
  { ifc: { linkType: 50, tsresol: 0, tsoffset: -7200 }, ts: [defaultTs(10), 3_000_000] },
];

function multiInterface(): { pkts: TestPacket[]; ifaces: PcapngInterface[]; want: Omit<Got, 'fileOffset'>[] } {
  const pkts: TestPacket[] = [];
  const want: Omit<Got, 'fileOffset'>[] = [];
  IFACES.forEach(({ ifc, ts }, iface) => {
    ts.forEach((tsMicros, j) => {
      const data = bytes(iface * 37 + j * 5 + (j ? 1500 : 0), iface * 10 + j + 1);
      const origLen = j ? data.length + 100 : undefined;
      pkts.push({ data, tsMicros, iface, origLen });
      want.push({
        hex: hex(data),
        caplen: data.length,
        origLen: origLen ?? data.length,
        tsMicros: expectedTs(tsMicros, ifc),
        linkType: ifc.linkType,
        index: want.length,
      });
    });
  });
  return { pkts, ifaces: IFACES.map((x) => x.ifc), want };
}

describe('pcapng', () => {
  for (const bigEndian of [false, true]) {
    for (const extraBlocks of [false, true]) {
      it(`round-trips ${bigEndian ? 'big' : 'little'}-endian, ${extraBlocks ? 'with' : 'without'} blocks to skip, many interfaces and resolutions`, () => {
        const { pkts, ifaces, want } = multiInterface();
        const buf = writePcapng(pkts, { interfaces: ifaces, bigEndian, extraBlocks });
        const { got, stats } = read(buf);
        expect(got.map(({ fileOffset: _, ...g }) => g)).toEqual(want);
        // Offsets point at each packet block's header.
        expect(got.map((g) => g.fileOffset)).toEqual(walk(buf).packetStarts);
        expect(stats).toMatchObject({
          format: 'pcapng',
          packets: pkts.length,
          bytes: buf.length,
          linkTypes: ifaces.map((i) => i.linkType),
          damaged: null,
          skipped: 0,
        });
      });
    }
  }

  it('converts 64-bit timestamps exactly (div64 against BigInt)', () => {
    const rnd = rng(42);
    for (let i = 0; i < 2000; i++) {
      const high = Math.floor(rnd() * 2 ** 32);
      const low = Math.floor(rnd() * 2 ** 32);
      const d = [10, 1000, 1_000_000, 1_000_000_000, 7, 999_999_937][i % 6];
      const want = ((BigInt(high) << 32n) + BigInt(low)) / BigInt(d);
      if (want > BigInt(Number.MAX_SAFE_INTEGER)) continue; // not representable anyway
      expect(div64(high, low, d)).toBe(Number(want));
    }
  });

  it('floors nanosecond timestamps beyond 2^53 exactly', () => {
    // 999 ns before the next µs in 2100: a double holding the ns count rounds up into that µs.
    const buf = writePcapng([{ data: bytes(4, 1), tsMicros: Y2100 }], { interfaces: [{ linkType: 1, tsresol: 9 }] });
    const epb = walk(buf).packetStarts[0];
    const units = BigInt(Y2100) * 1000n + 999n;
    buf.writeUInt32LE(Number(units >> 32n), epb + 12);
    buf.writeUInt32LE(Number(units & 0xffffffffn), epb + 16);
    expect(Math.floor((Number(units >> 32n) * 2 ** 32 + Number(units & 0xffffffffn)) / 1000)).toBe(Y2100 + 1); // the trap
    expect(read(buf).got[0].tsMicros).toBe(Y2100);
  });

  it('reads Simple Packet Blocks on interface 0, excluding padding and honouring snaplen', () => {
    const pkts: TestPacket[] = [
      { data: bytes(61, 1) },
      { data: bytes(64, 2), origLen: 1500 }, // cut at the interface snaplen
      { data: bytes(2, 3) },
    ];
    const buf = writePcapng(pkts, { simple: true, interfaces: [{ linkType: 101, snaplen: 64 }], extraBlocks: true });
    const { got, stats } = read(buf);
    expect(got.map((g) => [g.hex, g.caplen, g.origLen, g.linkType, g.tsMicros])).toEqual([
      [hex(pkts[0].data), 61, 61, 101, 0],
      [hex(pkts[1].data), 64, 1500, 101, 0],
      [hex(pkts[2].data), 2, 2, 101, 0],
    ]);
    expect(stats.damaged).toBeNull();
  });

  it('gives a Simple Packet Block the timestamp of the packet before it', () => {
    const a = writePcapng([{ data: bytes(4, 1), tsMicros: defaultTs(5) }]);
    const spb = writePcapng([{ data: bytes(8, 2) }], { simple: true });
    const shbLen = spb.readUInt32LE(4);
    const idbLen = spb.readUInt32LE(shbLen + 4);
    const { got } = read(Buffer.concat([a, spb.subarray(shbLen + idbLen)]));
    expect(got.map((g) => g.tsMicros)).toEqual([defaultTs(5), defaultTs(5)]);
  });

  it('reads the obsolete Packet Block', () => {
    const head = writePcapng([], { interfaces: [{ linkType: 1 }, { linkType: 113 }] });
    const data = bytes(5, 9);
    const units = BigInt(defaultTs(3));
    const pb = Buffer.alloc(32 + 8);
    pb.writeUInt32LE(2, 0);
    pb.writeUInt32LE(pb.length, 4);
    pb.writeUInt16LE(1, 8); // interface 1
    pb.writeUInt16LE(0, 10); // drops
    pb.writeUInt32LE(Number(units >> 32n), 12);
    pb.writeUInt32LE(Number(units & 0xffffffffn), 16);
    pb.writeUInt32LE(5, 20);
    pb.writeUInt32LE(60, 24);
    Buffer.from(data).copy(pb, 28);
    pb.writeUInt32LE(pb.length, pb.length - 4);
    const { got, stats } = read(Buffer.concat([head, pb]));
    expect(got).toEqual([{ hex: hex(data), caplen: 5, origLen: 60, tsMicros: defaultTs(3), linkType: 113, index: 0, fileOffset: head.length }]);
    expect(stats.damaged).toBeNull();
  });

  it('skips and counts packets naming an undeclared interface', () => {
    const pkts: TestPacket[] = [{ data: bytes(10, 1) }, { data: bytes(11, 2), iface: 3 }, { data: bytes(12, 3), iface: 1 }];
    const { got, stats } = read(writePcapng(pkts, { interfaces: [{ linkType: 1 }, { linkType: 113 }] }));
    expect(got.map((g) => [g.hex, g.linkType, g.index])).toEqual([
      [hex(pkts[0].data), 1, 0],
      [hex(pkts[2].data), 113, 2],
    ]);
    expect(stats).toMatchObject({ packets: 2, skipped: 1, damaged: null });
  });

  it('starts a new section at each SHB: byte order switches, interfaces reset', () => {
    const s1 = writePcapng([{ data: bytes(20, 1) }, { data: bytes(21, 2), iface: 1 }], {
      interfaces: [{ linkType: 1 }, { linkType: 228 }],
    });
    const s2 = writePcapng([{ data: bytes(22, 3), iface: 1 }, { data: bytes(23, 4) }], {
      bigEndian: true,
      interfaces: [{ linkType: 113 }, { linkType: 101, tsresol: 9 }],
      extraBlocks: true,
    });
    // Third section declares one interface; its packet for interface 1 must not reuse section 2's.
    const s3 = writePcapng([{ data: bytes(24, 5) }, { data: bytes(25, 6), iface: 1 }], { interfaces: [{ linkType: 276 }] });
    const buf = Buffer.concat([s1, s2, s3]);
    for (const size of [() => buf.length, () => 1, (i: number) => 1 + (i % 17)]) {
      const { got, stats } = read(buf, size);
      expect(got.map((g) => [g.hex.length / 2, g.linkType, g.tsMicros])).toEqual([
        [20, 1, defaultTs(0)],
        [21, 228, defaultTs(1)],
        [22, 101, defaultTs(0)],
        [23, 113, defaultTs(1)],
        [24, 276, defaultTs(0)],
      ]);
      expect(got[2].hex).toBe(hex(bytes(22, 3)));
      expect(stats).toMatchObject({ packets: 5, skipped: 1, damaged: null, linkTypes: [1, 228, 113, 101, 276], bytes: buf.length });
    }
  });

  it('gives identical packets whatever the chunking', () => {
    const { pkts, ifaces } = multiInterface();
    const buf = writePcapng(pkts, { interfaces: ifaces, bigEndian: true, extraBlocks: true });
    const whole = read(buf);
    expect(whole.got.length).toBe(pkts.length);
    expect(read(buf, () => 1)).toEqual(whole);
    for (const seed of [1, 2, 3]) {
      const rnd = rng(seed);
      expect(read(buf, () => (rnd() < 0.8 ? 1 + Math.floor(rnd() * 50) : Math.floor(rnd() * 5000)))).toEqual(whole);
    }
  });

  it('delivers everything before a cut and names file and offset of the cut block', () => {
    const pkts = [0, 1, 5, 60, 3].map((n, i) => ({ data: bytes(n, i + 1), iface: i % 2 }));
    const buf = Buffer.concat([
      writePcapng(pkts, { interfaces: [{ linkType: 1 }, { linkType: 101 }], extraBlocks: true }),
      writePcapng(pkts.slice(0, 2), { bigEndian: true, interfaces: [{ linkType: 1 }, { linkType: 101 }] }),
    ]);
    const all = read(buf).got;
    expect(all.length).toBe(7);
    const { bounds, packetEnds } = walk(buf);
    for (let cut = 0; cut < buf.length; cut++) {
      const { got, stats } = read(buf.subarray(0, cut), (i) => (i % 2 ? 5 : 11), 'cut.pcapng');
      const start = bounds.filter((b) => b <= cut).at(-1)!;
      expect(got).toEqual(all.slice(0, packetEnds.filter((e) => e <= cut).length));
      if (cut > 0 && bounds.includes(cut)) {
        expect(stats.damaged).toBeNull();
      } else {
        expect(stats.damaged?.code).toBe('PW_ERR_TRUNCATED');
        expect(stats.damaged?.context.offset).toBe(start);
        expect(stats.damaged?.message).toContain(`cut.pcapng, offset ${start}:`);
      }
    }
  });

  describe('broken block structure', () => {
    const pkts = [bytes(10, 1), bytes(20, 2), bytes(30, 3)].map((data) => ({ data }));
    const good = writePcapng(pkts);
    const { bounds } = walk(good);
    // bounds: 0 SHB, IDB, EPB0, EPB1, EPB2
    const epb1 = bounds[3];

    function broken(patch: (b: Buffer) => void) {
      const b = Buffer.from(good);
      patch(b);
      const r = read(b, () => 9, 'broken.pcapng');
      return r;
    }

    const cases: [string, (b: Buffer) => void, string][] = [
      ['length not a multiple of 4', (b) => b.writeUInt32LE(b.readUInt32LE(epb1 + 4) + 2, epb1 + 4), 'PW_ERR_BAD_BLOCK'],
      ['length below 12', (b) => b.writeUInt32LE(8, epb1 + 4), 'PW_ERR_BAD_BLOCK'],
      ['trailing length differs', (b) => b.writeUInt32LE(bounds[4] - epb1 + 4, bounds[4] - 4), 'PW_ERR_BAD_BLOCK'],
      ['absurd length', (b) => b.writeUInt32LE(0x7ffffff0, epb1 + 4), 'PW_ERR_BAD_LENGTH'],
      ['caplen beyond the block', (b) => b.writeUInt32LE(64, epb1 + 20), 'PW_ERR_BAD_LENGTH'],
    ];
    for (const [what, patch, code] of cases) {
      it(`stops at a block whose ${what}`, () => {
        const { got, stats } = broken(patch);
        expect(got.map((g) => g.hex)).toEqual([hex(pkts[0].data)]);
        expect(stats.damaged?.code).toBe(code);
        expect(stats.damaged?.context.offset).toBe(epb1);
        expect(stats.damaged?.message).toContain(`broken.pcapng, offset ${epb1}:`);
        expect(stats.packets).toBe(1);
      });
    }

    it('stops at a section header without byte-order magic', () => {
      const b = Buffer.concat([good, good]);
      b.writeUInt32LE(0xdeadbeef, good.length + 8);
      const { got, stats } = read(b, undefined, 'bom.pcapng');
      expect(got.length).toBe(3);
      expect(stats.damaged?.code).toBe('PW_ERR_BAD_BLOCK');
      expect(stats.damaged?.message).toContain(`bom.pcapng, offset ${good.length}:`);
    });
  });
});
