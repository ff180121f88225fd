/**
 * Fuzz: the pcap and pcapng readers (src/capture/reader.ts, pcap.ts, pcapng.ts) on mutated
 * captures — the committed fixtures and captures built from every link type — fed whole and in
 * random chunks.
 *
 * Contract (reader.ts): never throws on any bytes; damage stops the input and is reported in
 * stats.damaged as a PoolwatchError with a stable code and the offset of the bad unit; packets
 * before it are delivered, and each delivered packet is bytes of a record actually present.
 * The answer does not depend on how the input was chunked.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { MAX_RECORD } from '../../src/capture/format.js';
import type { CaptureStats } from '../../src/capture/reader.js';
import { PoolwatchError } from '../../src/errors.js';
import { pcapngSeeds, pcapSeeds } from './corpus.js';
import { expectLinear, scaledBinary } from './linear.js';
import { readChunked, type Got } from '../helpers/read-capture.js';
import { applyBinary, binaryCase, chunking, type Seed } from './mutate.js';
import { fuzz } from './runs.js';

/** Read through the helper every capture test uses, chunked as `sizes` says (none: one chunk). */
function read(input: Uint8Array, sizes: number[]): { got: Got[]; stats: CaptureStats } {
  return readChunked(Buffer.from(input.buffer, input.byteOffset, input.byteLength), (i) => (sizes.length === 0 ? input.length : sizes[i % sizes.length]!), 'fuzz.cap');
}

const CODES = ['PW_ERR_TRUNCATED', 'PW_ERR_BAD_MAGIC', 'PW_ERR_BAD_LENGTH', 'PW_ERR_BAD_BLOCK'];

function checkRead(input: Uint8Array, got: Got[], stats: CaptureStats): void {
  const hex = Buffer.from(input);
  expect(stats.packets).toBe(got.length);
  expect(stats.bytes).toBeGreaterThanOrEqual(0);
  expect(stats.bytes).toBeLessThanOrEqual(input.length);
  if (stats.damaged === null) {
    // A sound input is consumed whole.
    expect(stats.bytes).toBe(input.length);
  } else {
    expect(stats.damaged).toBeInstanceOf(PoolwatchError);
    expect(CODES).toContain(stats.damaged.code);
    expect(stats.damaged.context.file).toBe('fuzz.cap');
    expect(stats.damaged.context.offset).toBe(stats.bytes);
  }
  // Every record is at least 16 bytes (a pcap record header, a pcapng simple packet block).
  expect(got.length + stats.skipped).toBeLessThanOrEqual(Math.floor(input.length / 16));
  let lastIndex = -1;
  let lastOffset = -1;
  for (const p of got) {
    expect(p.caplen).toBeLessThanOrEqual(MAX_RECORD);
    expect(p.hex.length).toBe(2 * p.caplen);
    expect(Number.isFinite(p.tsMicros)).toBe(true);
    expect(p.linkType).toBeGreaterThanOrEqual(0);
    expect(p.linkType).toBeLessThanOrEqual(0xffff);
    expect(p.index).toBeGreaterThan(lastIndex);
    expect(p.fileOffset).toBeGreaterThan(lastOffset);
    lastIndex = p.index;
    lastOffset = p.fileOffset;
    // The packet is bytes of a record that is in the input, at its record's offset: after a
    // pcap record header (16), a pcapng simple packet block header (12) or packet block header (28).
    const at = [16, 12, 28].map((k) => p.fileOffset + k).filter((o) => o + p.caplen <= stats.bytes);
    expect(at.some((o) => hex.toString('hex', o, o + p.caplen) === p.hex), `packet ${p.index} is not in its record`).toBe(true);
  }
  expect(lastIndex + 1).toBeLessThanOrEqual(stats.packets + stats.skipped);
  for (const lt of stats.linkTypes) expect(lt >= 0 && lt <= 0xffff).toBe(true);
}

function plainStats(s: CaptureStats) {
  return { ...s, damaged: s.damaged === null ? null : { code: s.damaged.code, message: s.damaged.message, offset: s.damaged.context.offset } };
}

function captureProperties(kind: string, corpus: Seed[]): void {
  fuzz(
    `${kind}: mutated captures never throw; packets are real records; damage has a code and offset; chunking changes nothing`,
    fc.tuple(binaryCase(corpus, { maxRepeat: 20 }), chunking()),
    ([c, sizes]) => {
      const input = applyBinary(corpus, c);
      const whole = read(input, []);
      checkRead(input, whole.got, whole.stats);
      const split = read(input, sizes);
      expect(split.got).toEqual(whole.got);
      expect(plainStats(split.stats)).toEqual(plainStats(whole.stats));
    },
  );

  fuzz(
    `${kind}: time per byte does not grow with the number of records`,
    binaryCase(corpus, { maxRepeat: 4 }),
    (c) => {
      const s = scaledBinary(corpus, c, 16_384);
      expectLinear(s, (input) => read(input, [65_536]), kind);
    },
    { scale: 0.01, min: 5 },
  );
}

describe('fuzz: capture readers', () => {
  captureProperties('pcap', pcapSeeds());
  captureProperties('pcapng', pcapngSeeds());
});
