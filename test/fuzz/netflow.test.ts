/**
 * Fuzz: the flow-export decoder (src/capture/netflow/decoder.ts FlowDecoder: v5, v9, IPFIX, with
 * templates, options, pending sets, sampling and sequence tracking) on sequences of mutated
 * datagrams from several exporters: flowsets duplicated, dropped, reordered and spliced between
 * datagrams, template field counts and lengths, set lengths, v5 counts and IPFIX message lengths
 * lying, variable-length prefixes broken; and the caller's offset and length lying too.
 *
 * Contract (decoder.ts): never throws on any bytes; damage is counted per exporter and domain and
 * described in DecodeResult.error naming the exporter and the byte offset; records handed out are
 * typed and own their bytes (never views into the caller's reused buffer); everything the decoder
 * keeps (exporters, domains, templates, pending sets) stays within its limits.
 */
import fc from 'fast-check';
import { describe } from 'vitest';
import { FlowDecoder, type DecoderLimits } from '../../src/capture/netflow/decoder.js';
import type { FlowRecord } from '../../src/capture/netflow/types.js';
import { netflowSeeds } from './corpus.js';
import { expectLinear } from './linear.js';
import { applyBinary, binaryCase } from './mutate.js';
import { check, fuzz } from './runs.js';

const EXPORTERS = ['192.0.2.1', '192.0.2.2', '2001:db8::2', '198.51.100.7', '203.0.113.9'];

const SMALL: Record<string, number> = {
  maxExporters: 3,
  maxTemplatesPerExporter: 6,
  maxPendingPerExporter: 4,
  pendingTtlMs: 30_000,
  maxDomainsPerExporter: 3,
  maxPendingBytesPerExporter: 4096,
  maxDomains: 6,
  maxTemplateBytes: 64 * 1024,
  maxPendingBytes: 8192,
};

function checkRecord(r: FlowRecord, exporter: string): void {
  const bad = (what: string) => () => `${what} in ${JSON.stringify({ ...r, src: [...r.src], dst: [...r.dst] })}`;
  check(r.exporter === exporter, bad('exporter'));
  check(r.version === 5 || r.version === 9 || r.version === 10, bad('version'));
  check(r.ipVersion === 4 || r.ipVersion === 6, bad('ipVersion'));
  const al = r.ipVersion === 4 ? 4 : 16;
  check(r.src instanceof Uint8Array && r.src.length === al && r.dst instanceof Uint8Array && r.dst.length === al, bad('address size'));
  for (const p of [r.srcPort, r.dstPort]) check(Number.isInteger(p) && p >= 0 && p <= 0xffff, bad('port'));
  check(Number.isInteger(r.proto) && r.proto >= 0 && r.proto <= 255, bad('proto'));
  check(Number.isInteger(r.tcpFlags) && r.tcpFlags >= 0 && r.tcpFlags <= 255, bad('tcpFlags'));
  check(Number.isFinite(r.bytes) && r.bytes >= 0 && Number.isFinite(r.packets) && r.packets >= 0, bad('counters'));
  check(Number.isFinite(r.samplingRate) && r.samplingRate > 0, bad('samplingRate'));
  check(Number.isFinite(r.start) && Number.isFinite(r.end), bad('times'));
  check(Number.isInteger(r.domain) && r.domain >= 0 && r.domain <= 0xffffffff, bad('domain'));
  if (r.nat !== null) {
    for (const a of [r.nat.postSrc, r.nat.postDst]) check(a === null || a.length === 4 || a.length === 16, bad('nat address'));
    for (const p of [r.nat.postSrcPort, r.nat.postDstPort]) check(p === null || (Number.isInteger(p) && p >= 0 && p <= 0xffff), bad('nat port'));
  }
}

/** Everything the decoder holds is within its limits, and no counter went negative. */
function checkState(dec: FlowDecoder): void {
  const l = dec.limits as DecoderLimits & Record<string, number>;
  const stats = dec.exporters();
  const byExporter = new Map<string, typeof stats>();
  for (const s of stats) {
    const list = byExporter.get(s.exporter) ?? [];
    list.push(s);
    byExporter.set(s.exporter, list);
    for (const k of ['datagrams', 'records', 'templates', 'optionsTemplates', 'recordsPending', 'recordsDropped', 'errors', 'sequenceLost', 'restarts', 'optionsRecords', 'recordsSkipped', 'setsPending', 'setsDropped', 'templatesEvicted'] as const) {
      const v = s[k];
      check(Number.isFinite(v) && v >= 0, () => `${s.exporter} domain ${s.domain}: ${k} = ${v}`);
    }
    check(s.samplingRate === null || (Number.isFinite(s.samplingRate) && s.samplingRate > 0), 'domain sampling rate');
    check(s.lastError === null || (s.lastError.includes(s.exporter) && /offset \d+/.test(s.lastError)), () => `lastError ${s.lastError}`);
  }
  check(byExporter.size <= l.maxExporters, () => `${byExporter.size} exporters, limit ${l.maxExporters}`);
  for (const [e, list] of byExporter) {
    check(list.length <= l.maxDomainsPerExporter, () => `${e}: ${list.length} domains, limit ${l.maxDomainsPerExporter}`);
    const templates = list.reduce((n, s) => n + s.templates + s.optionsTemplates, 0);
    check(templates <= l.maxTemplatesPerExporter, () => `${e}: ${templates} templates, limit ${l.maxTemplatesPerExporter}`);
    const pending = list.reduce((n, s) => n + s.setsPending, 0);
    check(pending <= l.maxPendingPerExporter, () => `${e}: ${pending} pending sets, limit ${l.maxPendingPerExporter}`);
  }
  if (typeof l.maxDomains === 'number') check(stats.length <= l.maxDomains, () => `${stats.length} domains, limit ${l.maxDomains}`);
  // Gauges, where the decoder keeps them: within their caps and true to what it holds.
  const t = dec.totals as unknown as Record<string, number>;
  if (typeof t.domains === 'number') check(t.domains === stats.length, () => `totals.domains ${t.domains}, held ${stats.length}`);
  if (typeof t.templates === 'number') {
    const held = stats.reduce((n, s) => n + s.templates + s.optionsTemplates, 0);
    check(t.templates === held, () => `totals.templates ${t.templates}, held ${held}`);
  }
  if (typeof t.templateBytes === 'number' && typeof l.maxTemplateBytes === 'number') check(t.templateBytes >= 0 && t.templateBytes <= l.maxTemplateBytes, () => `templateBytes ${t.templateBytes}`);
  if (typeof t.pendingBytes === 'number') {
    check(t.pendingBytes >= 0 && (typeof l.maxPendingBytes !== 'number' || t.pendingBytes <= l.maxPendingBytes), () => `pendingBytes ${t.pendingBytes}`);
    if (stats.every((s) => s.setsPending === 0)) check(t.pendingBytes === 0, () => `pendingBytes ${t.pendingBytes} with no set pending`);
  }
}

const datagram = (corpus: ReturnType<typeof netflowSeeds>) =>
  fc.record({
    c: binaryCase(corpus, { maxRepeat: 40 }),
    exporter: fc.nat(EXPORTERS.length - 1),
    dt: fc.oneof(fc.constant(1000), fc.nat(120_000)),
    lead: fc.nat(3),
    lenLie: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -40, max: 40 }) }, { weight: 1, arbitrary: fc.constantFrom(NaN, -Infinity, Infinity, 1e12, -1) }),
  });

describe('fuzz: NetFlow v5 / v9 / IPFIX decoder', () => {
  const corpus = netflowSeeds();

  fuzz(
    'FlowDecoder: mutated datagram sequences from several exporters never throw; records are typed and owned; errors name exporter and offset; state stays within its limits',
    fc.record({ seq: fc.array(datagram(corpus), { minLength: 1, maxLength: 10 }), small: fc.boolean() }),
    ({ seq, small }) => {
      const dec = new FlowDecoder(small ? (SMALL as Partial<DecoderLimits>) : undefined);
      let now = Date.UTC(2024, 2, 1);
      let total = 0;
      const kept: { r: FlowRecord; src: string; dst: string }[] = [];
      for (const d of seq) {
        const msg = applyBinary(corpus, d.c);
        const exporter = EXPORTERS[d.exporter]!;
        const buf = new Uint8Array(d.lead + msg.length + 8).fill(0xee);
        buf.set(msg, d.lead);
        const len = msg.length + d.lenLie;
        now += d.dt;
        let n = 0;
        const res = dec.decode(buf, d.lead, len, exporter, now, (r) => {
          checkRecord(r, exporter);
          n++;
          if (kept.length < 50) kept.push({ r, src: Buffer.from(r.src).toString('hex'), dst: Buffer.from(r.dst).toString('hex') });
        });
        total += n;
        check(res.records === n, `decode() says ${res.records} records, handed out ${n}`);
        const size = Math.min(msg.length + 8, Math.max(0, Math.floor(len) || 0));
        const v = size >= 2 ? (buf[d.lead]! << 8) | buf[d.lead + 1]! : -1;
        check(res.version === v || res.version === -1, () => `version ${res.version}, first bytes say ${v}`);
        check(res.error === null || (res.error.includes(exporter) && /offset \d+/.test(res.error)), () => `error without exporter or offset: ${res.error}`);
        // The caller reuses its buffer: records must not change with it.
        buf.fill(0x55);
        for (const k of kept) check(Buffer.from(k.r.src).toString('hex') === k.src && Buffer.from(k.r.dst).toString('hex') === k.dst, 'a record is a view into the datagram buffer');
        checkState(dec);
      }
      check(dec.totals.records === total, () => `totals.records ${dec.totals.records}, handed out ${total}`);
      dec.finish();
      checkState(dec);
      for (const s of dec.exporters()) check(s.setsPending === 0, 'sets still pending after finish()');
    },
  );

  fuzz(
    'FlowDecoder: time per byte does not grow with the number of datagrams',
    fc.array(fc.record({ c: binaryCase(corpus, { maxRepeat: 4 }), exporter: fc.nat(EXPORTERS.length - 1) }), { minLength: 1, maxLength: 6 }),
    (list) => {
      const msgs = list.map((d) => ({ b: applyBinary(corpus, d.c), e: EXPORTERS[d.exporter]! }));
      const one = msgs.reduce((n, m) => n + m.b.length, 0) || 1;
      const k = Math.max(1, Math.ceil(16_384 / one));
      const run = (times: number) => {
        const dec = new FlowDecoder();
        let now = 0;
        for (let i = 0; i < times; i++) for (const m of msgs) dec.decode(m.b, 0, m.b.length, m.e, (now += 10), () => {});
      };
      expectLinear({ small: k, big: 10 * k, smallSize: k * one, bigSize: 10 * k * one }, run, 'datagrams');
    },
    { scale: 0.01, min: 5 },
  );
});
