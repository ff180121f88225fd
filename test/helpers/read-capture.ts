import type { PacketView } from '../../src/capture/packet.js';
import { CaptureReader, type CaptureStats } from '../../src/capture/reader.js';

/** A packet as the reader handed it out, copied: the view itself is reused for the next packet. */
export interface Got {
  hex: string;
  caplen: number;
  origLen: number;
  tsMicros: number;
  linkType: number;
  index: number;
  fileOffset: number;
}

export function copyPacket(p: PacketView): Got {
  return {
    hex: p.data.subarray(p.offset, p.offset + p.caplen).toString('hex'),
    caplen: p.caplen,
    origLen: p.origLen,
    tsMicros: p.tsMicros,
    linkType: p.linkType,
    index: p.index,
    fileOffset: p.fileOffset,
  };
}

/** Feeds `buf` to a CaptureReader in chunks whose sizes come from `size(i)`, then ends it. */
export function readChunked(buf: Buffer, size: (i: number) => number = () => buf.length, name = 'test.pcap'): { got: Got[]; stats: CaptureStats } {
  const got: Got[] = [];
  const r = new CaptureReader(name, (p) => got.push(copyPacket(p)));
  for (let pos = 0, i = 0; pos < buf.length; i++) {
    const n = Math.max(1, size(i));
    r.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  return { got, stats: r.end() };
}

/** xorshift32 in [0, 1): reproducible chunk sizes and payloads. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
