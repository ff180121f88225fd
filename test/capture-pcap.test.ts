import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../src/capture/reader.js';
import type { PacketView } from '../src/capture/packet.js';
import { BASE_TS_MICROS, defaultTs, writePcap, type TestPacket } from './helpers/pcap-writer.js';
import { readChunked, rng, type Got } from './helpers/read-capture.js';

const read = (buf: Buffer, size?: (i: number) => number, name = 'test.pcap') => readChunked(buf, size, name);

function packets(seed = 1): TestPacket[] {
  const rnd = rng(seed);
  const lens = [60, 0, 1, 3, 1514, 42, 65535, 7, 200];
  return lens.map((len, i) => ({
    data: Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256)),
    // Mixed explicit and default timestamps; one before 1970 is impossible in pcap, so >= 0.
    tsMicros: i % 3 === 0 ? undefined : BASE_TS_MICROS + i * 1_000_003 + 999_999 * (i % 2),
    origLen: i === 4 ? 9000 : undefined,
  }));
}

function expected(pkts: TestPacket[], linkType: number): Got[] {
  let off = 24;
  return pkts.map((p, i) => {
    const g: Got = {
      hex: Buffer.from(p.data).toString('hex'),
      caplen: p.data.length,
      origLen: p.origLen ?? p.data.length,
      tsMicros: p.tsMicros ?? defaultTs(i),
      linkType,
      index: i,
      fileOffset: off,
    };
    off += 16 + p.data.length;
    return g;
  });
}

/** Record boundaries walked independently of the reader: [0, 24, end of record 0, ...]. */
function boundaries(buf: Buffer, le: boolean): number[] {
  const out = [0, 24];
  for (let off = 24; off + 16 <= buf.length; ) {
    off += 16 + (le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8));
    if (off <= buf.length) out.push(off);
  }
  return out;
}

describe('classic pcap', () => {
  for (const bigEndian of [false, true]) {
    for (const nanos of [false, true]) {
      it(`round-trips ${bigEndian ? 'big' : 'little'}-endian ${nanos ? 'nanosecond' : 'microsecond'} files`, () => {
        const pkts = packets(bigEndian ? 7 : 3);
        const buf = writePcap(pkts, { bigEndian, nanos, linkType: 113 });
        const { got, stats } = read(buf);
        expect(got).toEqual(expected(pkts, 113));
        expect(stats).toMatchObject({ format: 'pcap', packets: pkts.length, bytes: buf.length, linkTypes: [113], damaged: null, skipped: 0 });
      });
    }
  }

  it('rounds nanoseconds down to microseconds', () => {
    const buf = writePcap([{ data: Uint8Array.of(1) }, { data: Uint8Array.of(2) }], { nanos: true });
    // Record 0 fraction: 999 ns past a whole µs; record 1: the last nanosecond of the second.
    buf.writeUInt32LE(buf.readUInt32LE(24 + 4) + 999, 24 + 4);
    buf.writeUInt32LE(999_999_999, 24 + 17 + 4);
    const { got } = read(buf);
    expect(got[0].tsMicros).toBe(defaultTs(0));
    expect(got[1].tsMicros).toBe(Math.floor(defaultTs(1) / 1e6) * 1e6 + 999_999);
  });

  it('masks the FCS bits out of the link type field', () => {
    // Bit 28 = FCS present, bits 26-27 = FCS length in 16-bit words.
    const { got, stats } = read(writePcap([{ data: Uint8Array.of(9, 9) }], { linkType: 0x1c000001 }));
    expect(got[0].linkType).toBe(1);
    expect(stats.linkTypes).toEqual([1]);
  });

  it('hands out the same PacketView, viewing the chunk itself when a record fits in it', () => {
    const buf = writePcap(packets());
    const views = new Set<PacketView>();
    const datas = new Set<Buffer>();
    const r = new CaptureReader('zc.pcap', (p) => {
      views.add(p);
      datas.add(p.data);
    });
    r.push(buf);
    r.end();
    expect(views.size).toBe(1);
    expect(datas.size).toBe(1);
    expect([...datas][0]).toBe(buf); // identity: no copy
  });

  it('gives identical packets whatever the chunking', () => {
    const buf = writePcap(packets(11), { nanos: true, bigEndian: true });
    const whole = read(buf);
    expect(whole.got.length).toBe(9);
    expect(read(buf, () => 1)).toEqual(whole);
    for (const seed of [1, 2, 3, 4, 5]) {
      const rnd = rng(seed);
      // Mostly small chunks so records straddle them, some large.
      expect(read(buf, () => (rnd() < 0.8 ? 1 + Math.floor(rnd() * 40) : Math.floor(rnd() * 70000)))).toEqual(whole);
    }
  });

  it('delivers everything before a cut and names file and offset of the cut record', () => {
    const pkts = packets(5).filter((p) => p.data.length < 2000); // keep the cut loop quick
    const buf = writePcap(pkts);
    const all = read(buf).got;
    const bounds = boundaries(buf, true);
    for (let cut = 0; cut < buf.length; cut++) {
      const { got, stats } = read(buf.subarray(0, cut), (i) => (i % 2 ? 7 : 13), 'cut.pcap');
      const start = bounds.filter((b) => b <= cut).at(-1)!;
      const delivered = bounds.filter((b) => b > 24 && b <= cut).length;
      expect(got).toEqual(all.slice(0, delivered));
      if (cut > 0 && bounds.includes(cut)) {
        expect(stats.damaged).toBeNull();
      } else {
        expect(stats.damaged?.code).toBe('PW_ERR_TRUNCATED');
        expect(stats.damaged?.context.offset).toBe(start);
        expect(stats.damaged?.message).toContain(`cut.pcap, offset ${start}:`);
      }
      expect(stats.bytes).toBe(start);
    }
  });

  it('stops at a lying caplen and ignores later pushes', () => {
    const pkts = packets(9).slice(0, 4);
    const buf = writePcap(pkts, { snaplen: 65535 });
    const rec2 = 24 + 16 + pkts[0].data.length + 16 + pkts[1].data.length;
    buf.writeUInt32LE(0x7fffff00, rec2 + 8);
    const got: string[] = [];
    const r = new CaptureReader('lie.pcap', (p) => got.push(p.data.subarray(p.offset, p.offset + p.caplen).toString('hex')));
    r.push(buf);
    r.push(writePcap(pkts).subarray(24)); // more valid records: must be ignored now
    const stats = r.end();
    expect(got).toEqual(pkts.slice(0, 2).map((p) => Buffer.from(p.data).toString('hex')));
    expect(stats.damaged?.code).toBe('PW_ERR_BAD_LENGTH');
    expect(stats.damaged?.context.offset).toBe(rec2);
    expect(stats.damaged?.message).toMatch(new RegExp(`^lie\\.pcap, offset ${rec2}: .*2147483392`));
    expect(stats.packets).toBe(2);
  });

  it('accepts records above the file snaplen up to the libpcap maximum, refuses beyond', () => {
    const big = new Uint8Array(100_000).fill(0xab);
    const ok = read(writePcap([{ data: big }, { data: Uint8Array.of(1) }], { snaplen: 65535 }));
    expect(ok.stats.damaged).toBeNull();
    expect(ok.got.map((g) => g.caplen)).toEqual([100_000, 1]);
    const tooBig = read(writePcap([{ data: new Uint8Array(262145) }], { snaplen: 65535 }), undefined, 'big.pcap');
    expect(tooBig.stats.damaged?.code).toBe('PW_ERR_BAD_LENGTH');
    expect(tooBig.stats.damaged?.context.offset).toBe(24);
    expect(tooBig.got).toEqual([]);
  });

  it('reads pre-2.3 files whose caplen and len fields are swapped', () => {
    const pkts: TestPacket[] = [{ data: Uint8Array.of(1, 2, 3), origLen: 1500 }, { data: Uint8Array.of(4) }];
    const buf = writePcap(pkts);
    buf.writeUInt16LE(2, 6); // version 2.2
    for (const off of [24, 24 + 16 + 3]) {
      const cap = buf.readUInt32LE(off + 8);
      buf.writeUInt32LE(buf.readUInt32LE(off + 12), off + 8);
      buf.writeUInt32LE(cap, off + 12);
    }
    expect(read(buf).got).toEqual(expected(pkts, 1));
  });

  it('refuses input that is not a capture, at offset 0', () => {
    for (const bytes of [Buffer.from('hello, this is text\n'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])]) {
      const { got, stats } = read(bytes, () => 3, 'notes.pcap');
      expect(got).toEqual([]);
      expect(stats.format).toBeNull();
      expect(stats.damaged?.code).toBe('PW_ERR_BAD_MAGIC');
      expect(stats.damaged?.context.offset).toBe(0);
      expect(stats.damaged?.message).toContain('notes.pcap, offset 0:');
    }
  });

  it('reports empty input as truncated and a header-only file as sound', () => {
    expect(read(Buffer.alloc(0)).stats.damaged?.code).toBe('PW_ERR_TRUNCATED');
    const { got, stats } = read(writePcap([], { linkType: 101 }));
    expect(got).toEqual([]);
    expect(stats).toMatchObject({ format: 'pcap', packets: 0, bytes: 24, linkTypes: [101], damaged: null });
  });
});
