/**
 * Fuzz: the nfdump CSV reader (src/capture/nfdump-csv.ts) on mutated `nfdump -o csv` output:
 * lines duplicated, dropped, reordered and spliced between inputs, fields replaced by edge values
 * (times out of range, huge counters, odd protocols, ICMP type.code ports), CR/LF mixes, binary
 * bytes, over-long lines, fed in random chunks.
 *
 * Contract: never throws; a line that cannot be read is reported through onBad (line number,
 * reason) and skipped; every line is counted as exactly one of header, skipped, bad or read
 * (giving one record, or two for a bidirectional line); records are typed; the result does not
 * depend on how the input was chunked.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { NfdumpCsvReader, type CsvProblem, type NfdumpCsvStats } from '../../src/capture/nfdump-csv.js';
import type { FlowRecord } from '../../src/capture/netflow/types.js';
import { NFDUMP_DICT, nfdumpSeeds } from './corpus.js';
import { expectLinear, scaledText } from './linear.js';
import { applyText, chunking, chunks, textCase } from './mutate.js';
import { check, fuzz } from './runs.js';

interface Read {
  records: FlowRecord[];
  bad: CsvProblem[];
  stats: NfdumpCsvStats;
}

function read(input: Buffer, sizes: number[]): Read {
  const records: FlowRecord[] = [];
  const bad: CsvProblem[] = [];
  const r = new NfdumpCsvReader((x) => records.push(x), (p) => bad.push(p));
  for (const c of chunks(input, sizes)) r.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  return { records, bad, stats: r.end() };
}

function checkRecord(r: FlowRecord): void {
  const bad = (what: string) => () => `${what} in ${JSON.stringify({ ...r, src: [...r.src], dst: [...r.dst] })}`;
  check(r.exporter === 'nfdump' && r.version === 0, bad('origin'));
  check((r.ipVersion === 4 && r.src.length === 4 && r.dst.length === 4) || (r.ipVersion === 6 && r.src.length === 16 && r.dst.length === 16), bad('addresses'));
  for (const p of [r.srcPort, r.dstPort]) check(Number.isInteger(p) && p >= 0 && p <= 0xffff, bad('port'));
  check(Number.isInteger(r.proto) && r.proto >= 0 && r.proto <= 255, bad('proto'));
  check(Number.isInteger(r.tcpFlags) && r.tcpFlags >= 0 && r.tcpFlags <= 255, bad('flags'));
  check(Number.isSafeInteger(r.bytes) && r.bytes >= 0 && Number.isSafeInteger(r.packets) && r.packets >= 0, bad('counters'));
  check(Number.isFinite(r.start) && Number.isFinite(r.end), bad('times'));
  check(r.samplingRate === 1, bad('sampling'));
  check(Number.isInteger(r.domain) && r.domain >= 0 && r.domain <= 0xffff, bad('domain'));
}

function checkRead(input: Buffer, x: Read): void {
  const s = x.stats;
  x.records.forEach(checkRecord);
  check(s.records === x.records.length && s.bad === x.bad.length, 'counts match the callbacks');
  if (s.notCsv !== null) return;
  // Every line is one of: header, skipped, bad, or read (one or two records).
  const read = s.lines - s.headers - s.skipped - s.bad;
  check(read >= 0 && s.records >= read && s.records <= 2 * read, () => `line accounting: ${JSON.stringify(s)}`);
  // As many lines as line ends, plus a last unterminated one.
  let nl = 0;
  for (const b of input) if (b === 0x0a) nl++;
  const last = input.length > 0 && input[input.length - 1] !== 0x0a ? 1 : 0;
  check(s.lines === nl + last, () => `${s.lines} lines counted, the input has ${nl + last}`);
  let prev = 0;
  for (const p of x.bad) {
    check(p.line >= 1 && p.line <= s.lines && p.line > prev, () => `problem line ${p.line}`);
    check(p.text.length <= 201 && p.reason.length > 0, 'problem text bounded, reason given');
    prev = p.line;
  }
}

const plain = (x: Read) => ({
  records: x.records.map((r) => ({ ...r, src: [...r.src], dst: [...r.dst], nat: r.nat && { ...r.nat, postSrc: r.nat.postSrc && [...r.nat.postSrc], postDst: r.nat.postDst && [...r.nat.postDst] } })),
  bad: x.bad,
  stats: x.stats,
});

describe('fuzz: nfdump CSV reader', () => {
  const corpus = nfdumpSeeds();

  fuzz(
    'nfdump CSV: mutated output never throws; every line is accounted for; records are typed; chunking changes nothing',
    fc.record({ t: textCase(corpus, NFDUMP_DICT, { pad: true, maxChars: 6 }), sizes: chunking() }),
    ({ t, sizes }) => {
      const input = Buffer.from(applyText(corpus, NFDUMP_DICT, t), 'latin1');
      const whole = read(input, []);
      checkRead(input, whole);
      const split = read(input, sizes);
      expect(plain(split)).toEqual(plain(whole));
    },
  );

  fuzz(
    'nfdump CSV: time per byte does not grow with the number of lines',
    textCase(corpus, NFDUMP_DICT),
    (t) => {
      const text = applyText(corpus, NFDUMP_DICT, t);
      const nl = text.indexOf('\n');
      const s = scaledText(nl >= 0 ? text.slice(0, nl + 1) : '', nl >= 0 ? text.slice(nl + 1) : text, 16_384);
      expectLinear(s, (x) => read(Buffer.from(x, 'latin1'), [65_536]), 'nfdump CSV');
    },
    { scale: 0.01, min: 5 },
  );
});
