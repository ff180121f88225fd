/**
 * Hostile and broken input: random bytes, every truncation of valid datagrams, bit flips, lying
 * lengths, and floods of templates, domains and exporters. The decoder must never throw, must
 * count and describe the damage, must only ever hand out records that are really there, and must
 * keep its memory within the caps while a genuine exporter goes on decoding.
 */
import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import type { FlowRecord } from '../src/capture/netflow/types.js';
import { feed, plain, statsOf, type PlainRecord } from './helpers/netflow-collect.js';
import {
  concat,
  IE,
  ip4,
  ipfix,
  ipfixData,
  ipfixOptionsTemplates,
  ipfixTemplates,
  u16,
  u32,
  u8,
  v5,
  v9,
  v9Data,
  v9OptionsTemplate,
  v9Templates,
  varField,
} from './helpers/netflow-build.js';
import { rng } from './helpers/read-capture.js';

const EXP = '198.18.0.1';
const SECS = 1_700_000_000;

const V5 = v5({ sysUptime: 100_000, unixSecs: SECS, sequence: 7, samplingInterval: 10 }, [
  { src: '10.0.0.1', dst: '10.0.0.2', packets: 1, bytes: 40, first: 1, last: 2, srcPort: 1, dstPort: 2, proto: 6 },
  { src: '10.0.0.3', dst: '10.0.0.4', packets: 2, bytes: 80, first: 1, last: 2, srcPort: 3, dstPort: 4, proto: 17 },
]);

const V9_TEMPLATES = [v9Templates({ id: 256, fields: [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.octetDeltaCount, 4], [IE.protocolIdentifier, 1]] }), v9OptionsTemplate(257, [[1, 4]], [[IE.samplingInterval, 4]])];
const V9_DATA = [v9Data(257, concat(u32(1), u32(100))), v9Data(256, concat(ip4('10.0.0.1'), ip4('10.0.0.2'), u32(500), u8(6)), concat(ip4('10.0.0.3'), ip4('10.0.0.4'), u32(600), u8(17)))];
const V9 = v9({ sysUptime: 100_000, unixSecs: SECS, sequence: 1, sourceId: 3 }, ...V9_TEMPLATES, ...V9_DATA);

const IPFIX_SETS = [
  ipfixTemplates({
    id: 300,
    fields: [
      { id: IE.sourceIPv4Address, len: 4 },
      { id: IE.applicationName, len: 65535 },
      { id: IE.destinationIPv4Address, len: 4 },
      { id: 7, len: 65535, pen: 4242 },
      { id: IE.octetDeltaCount, len: 2 },
    ],
  }),
  ipfixOptionsTemplates({ id: 301, scope: [{ id: IE.templateId, len: 2 }], fields: [{ id: IE.samplingPacketInterval, len: 4 }, { id: IE.samplingPacketSpace, len: 4 }] }),
  ipfixData(301, [concat(u16(300), u32(1), u32(4))]),
  ipfixData(
    300,
    [
      concat(ip4('10.0.0.1'), varField(new TextEncoder().encode('miner')), ip4('10.0.0.2'), varField(new Uint8Array(300), true), u16(1000)),
      concat(ip4('10.0.0.3'), varField(new Uint8Array(0)), ip4('10.0.0.4'), varField(new Uint8Array(3)), u16(2000)),
    ],
    4,
  ),
];
const IPFIX = ipfix({ exportTime: SECS, sequence: 0, domain: 5 }, ...IPFIX_SETS);

function full(d: Uint8Array): PlainRecord[] {
  return feed(new FlowDecoder(), [d], EXP).records;
}

describe('never throws, counts the damage', () => {
  it('random bytes of every length 0..600 (and with each version number in front)', () => {
    const r = rng(12345);
    const dec = new FlowDecoder();
    let garbage = 0;
    for (let len = 0; len <= 600; len++) {
      for (const prefix of [null, 5, 9, 10]) {
        const b = new Uint8Array(len);
        for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
        if (prefix !== null && len >= 2) b.set(u16(prefix), 0);
        const v = len >= 2 ? (b[0] << 8) | b[1] : -1;
        const isExport = v === 5 || v === 9 || v === 10;
        const res = dec.decode(b, 0, len, `198.18.${len % 256}.${prefix ?? 0}`, 1000 + len, (x) => checkRecord(x));
        if (!isExport || len < { 5: 24, 9: 20, 10: 16 }[v as 5 | 9 | 10]) {
          garbage++;
          expect(res.records).toBe(0);
          expect(res.error).toMatch(/^datagram from 198\.18\.\d+\.\d+, offset 0: /);
        }
      }
    }
    expect(dec.totals.garbage).toBe(garbage);
    expect(dec.totals.datagrams).toBe(601 * 4);
    expect(dec.totals.errors).toBeGreaterThan(0);
    dec.finish();
  });

  it('names the reason for garbage', () => {
    const dec = new FlowDecoder();
    expect(dec.decode(new Uint8Array([0, 7, 1, 2]), 0, 4, EXP, 0, () => {}).error).toBe(
      'datagram from 198.18.0.1, offset 0: version 7 is not NetFlow v5, v9 or IPFIX (10)',
    );
    expect(dec.decode(new Uint8Array([0, 9, 0, 1]), 0, 4, EXP, 0, () => {}).error).toBe(
      'datagram from 198.18.0.1, offset 0: 4 bytes, too short for the 20-byte NetFlow v9 header',
    );
    expect(dec.decode(new Uint8Array([0]), 0, 1, EXP, 0, () => {}).error).toBe('datagram from 198.18.0.1, offset 0: 1 bytes, too short for any flow export');
    // offset/length outside the buffer are clamped, not trusted
    expect(dec.decode(V5, 500, 5000, EXP, 0, () => {}).version).toBe(-1);
    expect(dec.decode(V5, -3, NaN, EXP, 0, () => {}).records).toBe(0);
    expect(dec.totals.garbage).toBe(5);
    expect(dec.exporters()).toEqual([]); // garbage creates no exporter state
  });

  for (const [name, d, boundaries] of [
    ['v5', V5, [] as number[]], // the header's count always says what is missing
    ['v9', V9, flowsetEnds(20, [...V9_TEMPLATES, ...V9_DATA])],
    ['IPFIX', IPFIX, [] as number[]],
  ] as const) {
    it(`${name}: every truncation decodes only records that are really there, and says what is missing`, () => {
      const all = full(d);
      expect(all.length).toBe(2);
      for (let len = 0; len < d.length; len++) {
        const dec = new FlowDecoder();
        const got: PlainRecord[] = [];
        const res = dec.decode(d, 0, len, EXP, 0, (r) => got.push(plain(checkRecord(r))));
        // a prefix of the full decode, never something made up from a cut record
        expect(got).toEqual(all.slice(0, got.length));
        if (!(boundaries as readonly number[]).includes(len)) {
          expect(res.error, `cut at ${len}`).not.toBeNull();
          expect(dec.totals.errors + dec.totals.garbage, `cut at ${len}`).toBeGreaterThan(0);
        }
        dec.finish();
      }
    });

    it(`${name}: a cut template datagram, then the full one, then data still decodes`, () => {
      const dec = new FlowDecoder();
      for (let len = 0; len < d.length; len += 3) dec.decode(d, 0, len, EXP, len, () => {});
      expect(feed(dec, [d], EXP).records).toEqual(all(d));
    });
  }

  it('bit flips in valid datagrams: never a throw, records always well-formed', () => {
    const r = rng(777);
    const dec = new FlowDecoder();
    let n = 0;
    for (let round = 0; round < 3000; round++) {
      const src = [V5, V9, IPFIX][round % 3];
      const b = Uint8Array.from(src);
      const flips = 1 + Math.floor(r() * 4);
      for (let k = 0; k < flips; k++) b[2 + Math.floor(r() * (b.length - 2))] ^= 1 << Math.floor(r() * 8);
      dec.decode(b, 0, b.length, `198.18.1.${round % 7}`, round, (x) => {
        checkRecord(x);
        n++;
      });
    }
    expect(n).toBeGreaterThan(0);
    expect(dec.totals.errors).toBeGreaterThan(0);
  });
});

describe('lying lengths', () => {
  const tmpl = ipfixTemplates({ id: 256, fields: [{ id: IE.sourceIPv4Address, len: 4 }, { id: IE.destinationIPv4Address, len: 4 }] });
  const data = ipfixData(256, [concat(ip4('10.0.0.1'), ip4('10.0.0.2'))]);

  it('IPFIX message length longer than the datagram: the complete sets are read, the error names the offset', () => {
    const dec = new FlowDecoder();
    const d = ipfix({ exportTime: SECS, sequence: 0, domain: 1, length: 500 }, tmpl, data);
    const { records, results } = feed(dec, [d], EXP);
    expect(records.map((r) => r.src)).toEqual(['10.0.0.1']);
    expect(results[0].error).toBe(`IPFIX from ${EXP} (domain 1), offset 2: message length 500 but the datagram has ${d.length} bytes`);
  });

  it('IPFIX message length shorter than its header', () => {
    const dec = new FlowDecoder();
    const { results } = feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1, length: 15 }, tmpl, data)], EXP);
    expect(results[0]).toEqual({ version: 10, records: 0, error: `IPFIX from ${EXP} (domain 1), offset 2: message length 15 is shorter than the 16-byte header` });
  });

  it('a set running past the message, and a set of length 0, stop the message with an error', () => {
    const dec = new FlowDecoder();
    const long = concat(u16(256), u16(200), ip4('10.0.0.1'), ip4('10.0.0.2'));
    const zero = concat(u16(256), u16(0), ip4('10.0.0.1'));
    const { records, results } = feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, tmpl, data, long), ipfix({ exportTime: SECS, sequence: 2, domain: 1 }, data, zero, data)], EXP);
    expect(records.map((r) => r.src)).toEqual(['10.0.0.1', '10.0.0.1']);
    expect(results[0].error).toBe(`IPFIX from ${EXP} (domain 1), offset ${16 + tmpl.length + data.length + 2}: set 256 of 200 bytes runs past the message (12 bytes left)`);
    expect(results[1].error).toBe(`IPFIX from ${EXP} (domain 1), offset ${16 + data.length + 2}: set 256 has length 0, less than its own 4-byte header`);
    expect(statsOf(dec, EXP, 1).errors).toBe(2);
  });

  it('a variable-length field running past its set: the records before it are kept, the rest dropped', () => {
    const dec = new FlowDecoder();
    const t = ipfixTemplates({ id: 257, fields: [{ id: IE.sourceIPv4Address, len: 4 }, { id: IE.applicationName, len: 65535 }] });
    const good = concat(ip4('10.0.0.1'), varField(new Uint8Array(2)));
    const bad = concat(ip4('10.0.0.2'), u8(200), new Uint8Array(3));
    const { records, results } = feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, t, ipfixData(257, [good, bad]))], EXP);
    expect(records.map((r) => r.src)).toEqual(['10.0.0.1']);
    expect(results[0].error).toMatch(/^IPFIX from 198\.18\.0\.1 \(domain 1\), offset \d+: record 2 of template 257: a variable-length field runs past its set$/);
    expect(statsOf(dec, EXP, 1)).toMatchObject({ errors: 1, recordsDropped: 1, records: 1 });
  });

  it('a template whose fields run past its set', () => {
    const dec = new FlowDecoder();
    const t = concat(u16(2), u16(4 + 4 + 8), u16(256), u16(5), u16(8), u16(4), u16(12), u16(4));
    const { results } = feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, t)], EXP);
    expect(results[0].error).toBe(`IPFIX from ${EXP} (domain 1), offset 20: template 256: template field 3 of 5 does not fit in its set`);
    expect(statsOf(dec, EXP, 1).templates).toBe(0);
  });

  it('v9 flowset of length 0 ends the datagram instead of looping', () => {
    const dec = new FlowDecoder();
    const { results } = feed(dec, [concat(v9({ sysUptime: 1, unixSecs: SECS, sequence: 0, sourceId: 0 }), u16(256), u16(0), u32(0))], EXP);
    expect(results[0].error).toBe(`NetFlow v9 from ${EXP} (domain 0), offset 22: flowset 256 has length 0, less than its own 4-byte header`);
  });
});

describe('floods stay within the caps', () => {
  const genuineTemplate = ipfixTemplates({ id: 256, fields: [{ id: IE.sourceIPv4Address, len: 4 }, { id: IE.destinationIPv4Address, len: 4 }, { id: IE.octetDeltaCount, len: 4 }] });
  const genuineData = (n: number) => ipfixData(256, [concat(ip4('10.0.0.1'), ip4('198.51.100.1'), u32(n))]);
  const GENUINE = '192.0.2.77';

  it('thousands of templates from one exporter: at most maxTemplatesPerExporter kept, evictions counted, the one in use survives', () => {
    const dec = new FlowDecoder({ maxTemplatesPerExporter: 1000 });
    feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, genuineTemplate)], GENUINE);
    let seq = 0;
    for (let batch = 0; batch < 100; batch++) {
      // 60 templates a datagram, ids 257.., over two domains; the genuine data keeps 256 in use
      const ts = Array.from({ length: 60 }, (_, i) => ({ id: 257 + ((batch * 60 + i) % 60000), fields: [{ id: IE.octetDeltaCount, len: 1 + (i % 8) }] }));
      feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 + (batch % 2) }, ipfixTemplates(...ts))], GENUINE);
      const { records } = feed(dec, [ipfix({ exportTime: SECS, sequence: ++seq, domain: 1 }, genuineData(batch))], GENUINE);
      expect(records.map((r) => r.bytes)).toEqual([batch]);
    }
    const stats = dec.exporters().filter((e) => e.exporter === GENUINE);
    const kept = stats.reduce((n, s) => n + s.templates + s.optionsTemplates, 0);
    expect(kept).toBe(1000);
    expect(stats[0].templatesEvicted).toBe(1 + 6000 - 1000);
  });

  it('thousands of fake exporters and domains: at most maxExporters and maxDomainsPerExporter kept; the genuine exporter decodes on', () => {
    const dec = new FlowDecoder({ maxExporters: 1000, maxDomainsPerExporter: 16 });
    feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, genuineTemplate)], GENUINE);
    for (let i = 0; i < 5000; i++) {
      const fake = `198.19.${i >> 8}.${i & 255}`;
      // a template and a data set waiting for a template that never comes
      feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: i }, genuineTemplate, ipfixData(999, [new Uint8Array(40)]))], fake);
      if (i % 100 === 0) {
        const { records } = feed(dec, [ipfix({ exportTime: SECS, sequence: i, domain: 1 }, genuineData(i))], GENUINE);
        expect(records.map((r) => r.bytes)).toEqual([i]);
      }
    }
    const addresses = new Set(dec.exporters().map((e) => e.exporter));
    expect(addresses.size).toBe(1000);
    expect(addresses.has(GENUINE)).toBe(true);
    expect(dec.totals.exportersEvicted).toBe(5001 - 1000);
    // the evicted exporters' waiting sets are counted as dropped
    expect(dec.totals.dropped).toBe(5000 - 999);

    for (let d = 0; d < 5000; d++) feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1000 + d }, genuineTemplate)], GENUINE);
    expect(dec.exporters().filter((e) => e.exporter === GENUINE)).toHaveLength(16);
    expect(dec.totals.domainsEvicted).toBe(5001 - 16);
  });

  it('pending sets are bounded in bytes too', () => {
    const dec = new FlowDecoder({ maxPendingBytesPerExporter: 1000 });
    const big = ipfixData(999, [new Uint8Array(400)]);
    feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, big, big, big)], EXP);
    expect(statsOf(dec, EXP, 1)).toMatchObject({ setsPending: 2, setsDropped: 1 });
    feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, ipfixData(999, [new Uint8Array(2000)]))], EXP);
    expect(statsOf(dec, EXP, 1)).toMatchObject({ setsPending: 2, setsDropped: 2 });
  });
});

/** A record must be well-formed whatever the input: the right address sizes, finite numbers. */
function checkRecord(r: FlowRecord): FlowRecord {
  const al = r.ipVersion === 4 ? 4 : 16;
  if (r.src.length !== al || r.dst.length !== al) throw new Error('address size');
  for (const k of ['srcPort', 'dstPort', 'proto', 'tcpFlags', 'bytes', 'packets', 'samplingRate', 'start', 'end'] as const) {
    if (!Number.isFinite(r[k])) throw new Error(`${k} is ${r[k]}`);
  }
  if (r.samplingRate <= 0) throw new Error('sampling rate');
  return r;
}

/**
 * Offsets where a v9 datagram (which has no length field) may be cut without a visible error:
 * at the end of a flowset, or 1-3 bytes after it (too short for a flowset header: taken as
 * padding at the end of the datagram).
 */
function flowsetEnds(header: number, sets: Uint8Array[]): number[] {
  const ends = [header];
  for (const s of sets) ends.push(ends[ends.length - 1] + s.length);
  return ends.flatMap((e) => [e, e + 1, e + 2, e + 3]);
}

function all(d: Uint8Array): PlainRecord[] {
  return full(d);
}
