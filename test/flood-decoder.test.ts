/**
 * Floods against the FlowDecoder's caps (issue #7): template churn from a crowd of fake exporters,
 * more exporters than maxExporters, observation-domain floods, pending sets that never get their
 * template, and garbage. After every flood: what the decoder holds (its gauges, checked against
 * its own per-exporter stats) stays within the configured caps, the damage is counted on the
 * exporter that sent it, and a genuine exporter that sent its template ONCE, before the flood,
 * still decodes every record it sends during it.
 */
import { describe, expect, it } from 'vitest';
import { FlowDecoder, type DecoderLimits } from '../src/capture/netflow/decoder.js';
import { feed, statsOf } from './helpers/netflow-collect.js';
import { concat, IE, ip4, ipfix, ipfixData, ipfixTemplates, u16, u32, v5, v9, v9Templates, type Bytes } from './helpers/netflow-build.js';

const SECS = 1_700_000_000;
const T0 = SECS * 1000;
const GENUINE = '192.0.2.77';
const POOL = '203.0.113.77';

const genuineTemplate = ipfixTemplates({
  id: 256,
  fields: [
    { id: IE.sourceIPv4Address, len: 4 },
    { id: IE.destinationIPv4Address, len: 4 },
    { id: IE.destinationTransportPort, len: 2 },
    { id: IE.octetDeltaCount, len: 4 },
  ],
});
let seq = 0;
const genuineData = (n: number): Bytes =>
  ipfix({ exportTime: SECS, sequence: seq++, domain: 1 }, ipfixData(256, [concat(ip4('10.0.0.1'), ip4(POOL), u16(3333), u32(n))]));

/** A fake exporter's address: 198.18.0.0/15, i < 131072. */
const fake = (i: number) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

/** `count` templates of `fields` fields each (none merges: all are read), ids from `first`. */
function churn(first: number, count: number, fields: number): Bytes {
  const ts = Array.from({ length: count }, (_, k) => ({
    id: 256 + ((first + k) % 65000),
    fields: Array.from({ length: fields }, () => ({ id: IE.sourceIPv4Address, len: 4 })),
  }));
  return ipfixTemplates(...ts);
}

/** The genuine exporter: its template once, then records in two datagrams: established. */
function establishGenuine(dec: FlowDecoder): void {
  feed(dec, [ipfix({ exportTime: SECS, sequence: seq, domain: 1 }, genuineTemplate)], GENUINE, T0);
  const { records } = feed(dec, [genuineData(1), genuineData(2)], GENUINE, T0);
  expect(records.map((r) => [r.dst, r.bytes])).toEqual([[POOL, 1], [POOL, 2]]);
  expect(statsOf(dec, GENUINE, 1)).toMatchObject({ established: true, templates: 1 });
}

/** The gauges agree with the per-domain stats and stay within every cap. */
function expectWithinCaps(dec: FlowDecoder, l: Partial<DecoderLimits>): void {
  const all = dec.exporters();
  const t = dec.totals;
  const addresses = new Set(all.map((e) => e.exporter));
  expect(t.exporters).toBe(addresses.size);
  expect(t.domains).toBe(all.length);
  expect(t.templates).toBe(all.reduce((n, e) => n + e.templates + e.optionsTemplates, 0));
  expect(t.established).toBe(new Set(all.filter((e) => e.established).map((e) => e.exporter)).size);
  if (l.maxExporters !== undefined) expect(t.exporters).toBeLessThanOrEqual(l.maxExporters);
  if (l.maxDomains !== undefined) expect(t.domains).toBeLessThanOrEqual(l.maxDomains);
  // One template may pass the byte cap: the one just stored is never evicted to make room for itself.
  if (l.maxTemplateBytes !== undefined) expect(t.templateBytes).toBeLessThanOrEqual(l.maxTemplateBytes + 64 * 1024);
  if (l.maxPendingBytes !== undefined) expect(t.pendingBytes).toBeLessThanOrEqual(l.maxPendingBytes);
  if (l.maxTemplatesPerExporter !== undefined) {
    const per = new Map<string, number>();
    for (const e of all) per.set(e.exporter, (per.get(e.exporter) ?? 0) + e.templates + e.optionsTemplates);
    for (const n of per.values()) expect(n).toBeLessThanOrEqual(l.maxTemplatesPerExporter);
  }
  if (l.maxDomainsPerExporter !== undefined) {
    const per = new Map<string, number>();
    for (const e of all) per.set(e.exporter, (per.get(e.exporter) ?? 0) + 1);
    for (const n of per.values()) expect(n).toBeLessThanOrEqual(l.maxDomainsPerExporter);
  }
}

describe('template churn from thousands of fake exporters', () => {
  it('holds at most maxTemplateBytes, evicts the newcomers first, and the genuine exporter decodes on', () => {
    const limits = { maxExporters: 300, maxTemplateBytes: 2 * 1024 * 1024, maxTemplatesPerExporter: 1000 };
    const dec = new FlowDecoder(limits);
    establishGenuine(dec);
    const got: number[] = [];
    // 20 new templates of 100 fields a datagram, new ids every time, and a data set for one of them
    const d = ipfix({ exportTime: SECS, sequence: 0, domain: 3 }, churn(0, 20, 100), ipfixData(256, [new Uint8Array(400)]));
    const view = new DataView(d.buffer, d.byteOffset);
    const dataAt = d.length - 404;
    for (let i = 0; i < 3000; i++) {
      for (let k = 0; k < 20; k++) view.setUint16(16 + 4 + k * 404, 256 + ((i * 20 + k) % 65000));
      view.setUint16(dataAt, 256 + ((i * 20) % 65000));
      feed(dec, [d], fake(i), T0 + i);
      if (i % 500 === 499) got.push(...feed(dec, [genuineData(i)], GENUINE, T0 + i).records.map((r) => r.bytes));
    }
    expect(got).toEqual([499, 999, 1499, 1999, 2499, 2999]);
    expectWithinCaps(dec, limits);
    // The cap was reached many times over: 3000 x 20 templates of about 2 KB came in.
    expect(dec.totals.templatesEvicted).toBeGreaterThan(55_000);
    expect(dec.totals.templateBytes).toBeGreaterThan(limits.maxTemplateBytes - 64 * 1024);
    expect(statsOf(dec, GENUINE, 1)).toMatchObject({ templates: 1, templatesEvicted: 0, recordsDropped: 0, errors: 0, established: true });
  });

  it('one exporter churning templates stays within maxTemplatesPerExporter and does not touch the others', () => {
    const limits = { maxTemplatesPerExporter: 500 };
    const dec = new FlowDecoder(limits);
    establishGenuine(dec);
    for (let i = 0; i < 300; i++) feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 9 }, churn(i * 20, 20, 3))], '198.18.0.1', T0 + i);
    expectWithinCaps(dec, limits);
    expect(statsOf(dec, '198.18.0.1', 9)).toMatchObject({ templates: 500, templatesEvicted: 6000 - 500 });
    expect(feed(dec, [genuineData(7)], GENUINE, T0).records.map((r) => r.bytes)).toEqual([7]);
  });
});

describe('more fake exporters than maxExporters', () => {
  it('newcomers evict newcomers: the established exporter is kept across 20,000 fake addresses', () => {
    const limits = { maxExporters: 100 };
    const dec = new FlowDecoder(limits);
    establishGenuine(dec);
    const got: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // a valid v5 datagram with one record: not enough to be established (that takes two datagrams)
      const d = v5({ sysUptime: 1000, unixSecs: SECS, sequence: 0 }, [{ src: '10.9.9.9', dst: '10.8.8.8', packets: 1, bytes: 1, first: 1, last: 1, srcPort: 1, dstPort: 2, proto: 6 }]);
      feed(dec, [d], fake(i), T0 + i);
      if (i % 2000 === 1999) got.push(...feed(dec, [genuineData(i)], GENUINE, T0 + i).records.map((r) => r.bytes));
    }
    expect(got).toHaveLength(10);
    expectWithinCaps(dec, limits);
    expect(dec.totals.exportersEvicted).toBe(20_000 - 99);
    expect(statsOf(dec, GENUINE, 1)).toMatchObject({ established: true, templates: 1, recordsDropped: 0, recordsPending: 0 });
  });

  it('without a tier the genuine exporter would have been forgotten: the same flood evicts an exporter still in probation', () => {
    const dec = new FlowDecoder({ maxExporters: 100 });
    // Template only: no records yet, so still a newcomer.
    feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, genuineTemplate)], GENUINE, T0);
    for (let i = 0; i < 200; i++) feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 })], fake(i), T0 + i);
    expect(dec.exporters().some((e) => e.exporter === GENUINE)).toBe(false);
    const { records } = feed(dec, [genuineData(1)], GENUINE, T0 + 300);
    expect(records).toEqual([]); // the set waits for a template that was forgotten
    expect(statsOf(dec, GENUINE, 1)).toMatchObject({ setsPending: 1, established: false });
  });

  it('established exporters fill at most 3/4 of maxExporters and keep their place while they export', () => {
    const dec = new FlowDecoder({ maxExporters: 8, establishedIdleMs: 60_000 });
    let k = 0;
    const data = () => v5({ sysUptime: 1000, unixSecs: SECS, sequence: k++ }, [{ src: '10.9.9.9', dst: '10.8.8.8', packets: 1, bytes: 1, first: 1, last: 1, srcPort: 1, dstPort: 2, proto: 6 }]);
    const established = () => dec.exporters().filter((e) => e.established).map((e) => e.exporter);
    const twice = (who: string, at: number) => feed(dec, [data(), data()], who, at);
    for (let i = 0; i < 8; i++) twice(fake(i), T0 + i);
    // Six places (3/4 of 8): the first six took them; the other two wait in probation.
    expect(dec.totals).toMatchObject({ exporters: 8, established: 6 });
    expect(established()).toEqual([0, 1, 2, 3, 4, 5].map(fake));
    // Ten newcomers evict newcomers only.
    for (let i = 100; i < 110; i++) feed(dec, [data()], fake(i), T0 + 10 + i);
    expect(established()).toEqual([0, 1, 2, 3, 4, 5].map(fake));
    expect(dec.totals).toMatchObject({ exporters: 8, established: 6, exportersEvicted: 10 });

    // 30 s on, fake(0) is silent, the others export; a newcomer with records finds no place.
    for (let i = 1; i < 6; i++) feed(dec, [data()], fake(i), T0 + 30_000);
    twice(fake(200), T0 + 30_000);
    expect(established()).not.toContain(fake(200));
    // 70 s on, fake(0) has been silent longer than establishedIdleMs: its place goes to the newcomer.
    for (let i = 1; i < 6; i++) feed(dec, [data()], fake(i), T0 + 70_000);
    twice(fake(201), T0 + 70_000);
    expect(established()).toEqual([1, 2, 3, 4, 5, 201].map(fake));

    // Garbage sends an established exporter back; it then needs two more datagrams of records per garbage one.
    feed(dec, [u16(0xdead)], fake(1), T0 + 71_000);
    expect(established()).toEqual([2, 3, 4, 5, 201].map(fake));
    twice(fake(1), T0 + 72_000);
    expect(established()).not.toContain(fake(1));
    feed(dec, [data()], fake(1), T0 + 72_000);
    expect(established()).toContain(fake(1));
    expect(statsOf(dec, fake(1), 0)).toMatchObject({ garbage: 1, established: true });
  });
});

describe('observation-domain floods', () => {
  it('fake exporters with many domains each: at most maxDomains over all, maxDomainsPerExporter each', () => {
    const limits = { maxExporters: 500, maxDomains: 1000, maxDomainsPerExporter: 64 };
    const dec = new FlowDecoder(limits);
    establishGenuine(dec);
    const got: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: i * 7919 }, genuineTemplate)], fake(i % 400), T0 + i);
      if (i % 1000 === 999) got.push(...feed(dec, [genuineData(i)], GENUINE, T0 + i).records.map((r) => r.bytes));
    }
    expect(got).toHaveLength(10);
    expectWithinCaps(dec, limits);
    expect(dec.totals.domains).toBe(1000);
    expect(dec.totals.domainsEvicted).toBeGreaterThan(8000);
    expect(statsOf(dec, GENUINE, 1)).toMatchObject({ templates: 1, recordsDropped: 0 });
  });

  it('v9 source ids and IPFIX domains of one exporter are separate domains, capped alike', () => {
    const limits = { maxDomainsPerExporter: 10 };
    const dec = new FlowDecoder(limits);
    for (let i = 0; i < 50; i++) {
      feed(dec, [v9({ sysUptime: 1, unixSecs: SECS, sequence: 0, sourceId: i }, v9Templates({ id: 256, fields: [[IE.sourceIPv4Address, 4]] }))], fake(1), T0 + i);
      feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: i }, genuineTemplate)], fake(1), T0 + i);
    }
    expectWithinCaps(dec, limits);
    expect(dec.exporters().map((e) => `${e.version}/${e.domain}`)).toEqual([45, 46, 47, 48, 49].flatMap((i) => [`9/${i}`, `10/${i}`]));
  });
});

describe('pending sets that never get a template', () => {
  it('hold at most maxPendingBytes over all exporters; what did not fit is counted as dropped', () => {
    const limits = { maxExporters: 2000, maxPendingBytes: 256 * 1024 };
    const dec = new FlowDecoder(limits);
    establishGenuine(dec);
    let sets = 0;
    for (let i = 0; i < 1500; i++) {
      // four 1 KB sets a datagram for templates nobody sends
      feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, ...[1, 2, 3, 4].map((k) => ipfixData(300 + k, [new Uint8Array(1000)])))], fake(i), T0 + i);
      sets += 4;
    }
    expectWithinCaps(dec, limits);
    expect(dec.totals.pendingBytes).toBeGreaterThan(limits.maxPendingBytes - 1000);
    const all = dec.exporters();
    const waiting = all.reduce((n, e) => n + e.setsPending, 0);
    const dropped = all.reduce((n, e) => n + e.setsDropped, 0);
    expect(waiting).toBe(Math.floor(limits.maxPendingBytes / 1000));
    expect(waiting + dropped).toBe(sets);
    expect(dec.totals.pendingBytes).toBe(waiting * 1000);
    // After the TTL the waiting sets are dropped at the next sweep, and the bytes are free again.
    feed(dec, [genuineData(5)], GENUINE, T0 + 120_000);
    expect(dec.totals.pendingBytes).toBe(0);
    dec.finish();
    expect(dec.totals.dropped).toBe(sets);
  });
});

describe('garbage', () => {
  it('is counted per exporter when the address is known, creates no state when it is not, and stops nobody', () => {
    const dec = new FlowDecoder({ maxExporters: 50 });
    establishGenuine(dec);
    const junk = [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0, 10]), u16(9), new Uint8Array(1400).fill(0xff), concat(u16(10), new Uint8Array(10))];
    for (let i = 0; i < 3000; i++) feed(dec, [junk[i % junk.length]!], fake(i), T0 + i);
    expect(dec.totals).toMatchObject({ garbage: 3000, exporters: 1 });
    // The genuine exporter's own garbage is counted on it, beside its records.
    feed(dec, junk, GENUINE, T0);
    const { records } = feed(dec, [genuineData(9)], GENUINE, T0);
    expect(records.map((r) => r.bytes)).toEqual([9]);
    expect(statsOf(dec, GENUINE, 1)).toMatchObject({ garbage: junk.length, records: 3, errors: 0 });
    expect(dec.totals.garbage).toBe(3000 + junk.length);
  });

  it('exporters(limit) lists the exporters with the most damage first, the busiest next', () => {
    const dec = new FlowDecoder();
    establishGenuine(dec);
    for (let i = 0; i < 100; i++) feed(dec, [ipfix({ exportTime: SECS, sequence: 0, domain: 1 }, ipfixData(999, [new Uint8Array(8)]))], fake(i), T0);
    // a lying set length: one decode error on fake(5)
    feed(dec, [ipfix({ exportTime: SECS, sequence: 1, domain: 1 }, concat(u16(256), u16(200)))], fake(5), T0);
    const top = dec.exporters(3);
    expect(top).toHaveLength(3);
    expect(top[0]).toMatchObject({ exporter: fake(5), errors: 1 });
    expect(dec.exporters()).toHaveLength(101);
  });
});
