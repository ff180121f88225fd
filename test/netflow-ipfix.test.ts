/**
 * IPFIX (RFC 7011, elements RFC 7012): reduced-size encoding, variable-length fields with 1- and
 * 3-byte prefixes, enterprise fields, every time encoding, template withdrawal (one, all, all
 * options) and refresh, options for sampling (packet interval/space scoped by template, n-of-N
 * per selector, probability), sampled frames, set padding, sequence numbers counting records.
 */
import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import { feed, statsOf } from './helpers/netflow-collect.js';
import {
  be,
  concat,
  f64,
  IE,
  ip4,
  ip6,
  ipfix,
  ipfixData,
  ipfixOptionsTemplates,
  ipfixTemplates,
  ipfixWithdraw,
  ntpMicros,
  ntpNanos,
  u16,
  u32,
  u64,
  u8,
  varField,
  type IpfixField,
} from './helpers/netflow-build.js';

const EXP = '2001:db8::e1';
const T0 = Date.UTC(2024, 2, 1, 8, 0, 0, 0);
const EXPORT = T0 / 1000 + 60; // export time, seconds
const DOM = 7;
const msg = (sequence: number, ...sets: Uint8Array[]) => ipfix({ exportTime: EXPORT, sequence, domain: DOM }, ...sets);
const f = (id: number, len: number, pen?: number): IpfixField => ({ id, len, pen });
const KEY4 = [f(IE.sourceIPv4Address, 4), f(IE.destinationIPv4Address, 4)];
const key4 = (src: string, dst = '198.51.100.1') => concat(ip4(src), ip4(dst));

describe('IPFIX field encodings', () => {
  it('reads reduced-size counters at their exported width, and prefers delta over total over post counters', () => {
    const dec = new FlowDecoder();
    const { records } = feed(
      dec,
      [
        msg(
          0,
          ipfixTemplates(
            { id: 256, fields: [...KEY4, f(IE.octetDeltaCount, 3), f(IE.packetDeltaCount, 1), f(IE.sourceTransportPort, 1), f(IE.protocolIdentifier, 1), f(IE.octetTotalCount, 8)] },
            { id: 257, fields: [...KEY4, f(IE.octetTotalCount, 4), f(IE.packetTotalCount, 2), f(IE.postOctetDeltaCount, 8)] },
            { id: 258, fields: [...KEY4, f(IE.postOctetDeltaCount, 5), f(IE.postPacketDeltaCount, 7)] },
            { id: 259, fields: [...KEY4, f(IE.octetDeltaCount, 8), f(IE.packetDeltaCount, 6)] },
          ),
          ipfixData(256, [concat(key4('10.0.0.1'), be(0xabcdef, 3), u8(200), u8(80), u8(6), u64(999_999))]),
          ipfixData(257, [concat(key4('10.0.0.2'), u32(4_000_000_000), u16(65535), u64(1))]),
          ipfixData(258, [concat(key4('10.0.0.3'), be(2 ** 36 + 1, 5), be(2 ** 50 + 3, 7))]),
          ipfixData(259, [concat(key4('10.0.0.4'), u64(2 ** 53 - 1), be(2 ** 47, 6))]),
        ),
      ],
      EXP,
    );
    expect(records.map((r) => [r.src, r.bytes, r.packets, r.srcPort, r.proto])).toEqual([
      ['10.0.0.1', 0xabcdef, 200, 80, 6],
      ['10.0.0.2', 4_000_000_000, 65535, 0, 0],
      ['10.0.0.3', 2 ** 36 + 1, 2 ** 50 + 3, 0, 0],
      ['10.0.0.4', 2 ** 53 - 1, 2 ** 47, 0, 0],
    ]);
  });

  it('walks variable-length fields with 1- and 3-byte length prefixes and skips enterprise fields by their length', () => {
    const dec = new FlowDecoder();
    const fields = [
      f(IE.sourceIPv4Address, 4),
      f(IE.applicationName, 65535),
      f(IE.destinationIPv4Address, 4),
      f(1, 65535, 12345), // enterprise, variable length
      f(IE.octetDeltaCount, 4),
      f(5, 6, 9), // enterprise, fixed 6 bytes
      f(IE.destinationTransportPort, 2),
    ];
    const text = (s: string) => new TextEncoder().encode(s);
    const big = new Uint8Array(300).fill(0x41);
    const rec = (src: string, app: Uint8Array, long: boolean, ent: Uint8Array, entLong: boolean, bytes: number, port: number) =>
      concat(ip4(src), varField(app, long), ip4('198.51.100.1'), varField(ent, entLong), u32(bytes), new Uint8Array(6).fill(0xee), u16(port));
    const { records, results } = feed(
      dec,
      [
        msg(
          0,
          ipfixTemplates({ id: 300, fields }),
          ipfixData(
            300,
            [
              rec('10.0.0.1', text('xmrig'), false, big, true, 111, 3333),
              rec('10.0.0.2', text('short-in-3-bytes'), true, new Uint8Array(0), false, 222, 4444),
              rec('10.0.0.3', new Uint8Array(0), false, new Uint8Array(254).fill(1), false, 333, 5555),
              rec('10.0.0.4', new Uint8Array(255).fill(2), true, text('x'), false, 444, 14444),
            ],
            4,
          ),
        ),
      ],
      EXP,
    );
    expect(results[0].error).toBeNull();
    expect(records.map((r) => [r.src, r.dst, r.bytes, r.dstPort])).toEqual([
      ['10.0.0.1', '198.51.100.1', 111, 3333],
      ['10.0.0.2', '198.51.100.1', 222, 4444],
      ['10.0.0.3', '198.51.100.1', 333, 5555],
      ['10.0.0.4', '198.51.100.1', 444, 14444],
    ]);
  });

  it('ignores set padding, and padding in template sets', () => {
    const dec = new FlowDecoder();
    const t = concat(u16(256), u16(3), u16(IE.sourceIPv4Address), u16(4), u16(IE.destinationIPv4Address), u16(4), u16(IE.octetDeltaCount), u16(1));
    const templateSet = concat(u16(2), u16(4 + t.length + 3), t, new Uint8Array(3));
    const data = ipfixData(256, [concat(key4('10.0.0.1'), u8(1)), concat(key4('10.0.0.2'), u8(2))], 8); // 4 + 18 = 22 → 24: 2 padding bytes
    expect(data.length).toBe(24);
    const { records, results } = feed(dec, [msg(0, templateSet, data)], EXP);
    expect(results[0].error).toBeNull();
    expect(records.map((r) => [r.src, r.bytes])).toEqual([
      ['10.0.0.1', 1],
      ['10.0.0.2', 2],
    ]);
  });

  it('picks the address family that is filled in when a template carries both', () => {
    const dec = new FlowDecoder();
    const both = [f(IE.sourceIPv4Address, 4), f(IE.destinationIPv4Address, 4), f(IE.sourceIPv6Address, 16), f(IE.destinationIPv6Address, 16)];
    const { records } = feed(
      dec,
      [
        msg(
          0,
          ipfixTemplates({ id: 256, fields: both }, { id: 257, fields: [...both, f(IE.ipVersion, 1)] }),
          ipfixData(256, [
            concat(ip4('10.0.0.1'), ip4('10.0.0.2'), ip6('::'), ip6('::')),
            concat(ip4('0.0.0.0'), ip4('0.0.0.0'), ip6('2001:db8::1'), ip6('2001:db8::2')),
          ]),
          ipfixData(257, [concat(ip4('0.0.0.0'), ip4('0.0.0.0'), ip6('::'), ip6('::'), u8(6))]),
        ),
      ],
      EXP,
    );
    expect(records.map((r) => [r.ipVersion, r.src, r.dst])).toEqual([
      [4, '10.0.0.1', '10.0.0.2'],
      [6, '2001:db8::1', '2001:db8::2'],
      [6, '::', '::'],
    ]);
  });

  it('reads addresses, ports and the IP length from a sampled frame (dataLinkFrameSection), also over MPLS with a control word', () => {
    const dec = new FlowDecoder();
    const ipTcp = concat(
      // IPv4: total length 1400, TCP, 10.0.0.1 → 198.51.100.1
      u8(0x45), u8(0), u16(1400), u16(1), u16(0x4000), u8(64), u8(6), u16(0), ip4('10.0.0.1'), ip4('198.51.100.1'),
      // TCP 40000 → 3333, data offset 5, PSH|ACK
      u16(40000), u16(3333), u32(1), u32(2), u8(0x50), u8(0x18), u16(1000), u16(0), u16(0),
    );
    const mac = new Uint8Array([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    const eth = concat(mac, u16(0x0800), ipTcp);
    // Ethernet, MPLS labels 100 and 17 (bottom), control word, customer Ethernet + the same packet
    const eompls = concat(mac, u16(0x8847), u32((100 << 12) | 0xff), u32((17 << 12) | 0x100 | 0xff), u32(0), eth);
    const { records } = feed(
      dec,
      [
        msg(
          0,
          ipfixTemplates({ id: 256, fields: [f(IE.ingressInterface, 4), f(IE.dataLinkFrameSize, 2), f(IE.dataLinkFrameSection, 65535)] }),
          ipfixData(256, [concat(u32(1), u16(1414), varField(eth)), concat(u32(1), u16(1440), varField(eompls, true))]),
        ),
      ],
      EXP,
    );
    const want = { ipVersion: 4, src: '10.0.0.1', dst: '198.51.100.1', srcPort: 40000, dstPort: 3333, proto: 6, tcpFlags: 0x18, bytes: 1400, packets: 1 };
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject(want);
    expect(records[1]).toMatchObject(want);
  });
});

describe('IPFIX times, in every encoding', () => {
  const recTimes = (src: string, ...t: Uint8Array[]) => concat(key4(src), ...t);
  const exportMs = EXPORT * 1000;
  const boot = T0 - 3_600_000; // systemInitTimeMilliseconds

  it('converts seconds, ms, µs, ns (NTP), sysUpTime with systemInitTime, deltas, durations and observation times', () => {
    const dec = new FlowDecoder();
    const templates = ipfixTemplates(
      { id: 260, fields: [...KEY4, f(IE.flowStartSeconds, 4), f(IE.flowEndSeconds, 4)] },
      { id: 261, fields: [...KEY4, f(IE.flowStartMilliseconds, 8), f(IE.flowEndMilliseconds, 8)] },
      { id: 262, fields: [...KEY4, f(IE.flowStartMicroseconds, 8), f(IE.flowEndMicroseconds, 8)] },
      { id: 263, fields: [...KEY4, f(IE.flowStartNanoseconds, 8), f(IE.flowEndNanoseconds, 8)] },
      { id: 264, fields: [...KEY4, f(IE.systemInitTimeMilliseconds, 8), f(IE.flowStartSysUpTime, 4), f(IE.flowEndSysUpTime, 4)] },
      { id: 265, fields: [...KEY4, f(IE.flowStartSysUpTime, 4), f(IE.flowEndSysUpTime, 4)] },
      { id: 266, fields: [...KEY4, f(IE.flowStartDeltaMicroseconds, 4), f(IE.flowEndDeltaMicroseconds, 4)] },
      { id: 267, fields: [...KEY4, f(IE.flowStartMilliseconds, 8), f(IE.flowDurationMilliseconds, 4)] },
      { id: 268, fields: [...KEY4, f(IE.observationTimeMilliseconds, 8)] },
      { id: 269, fields: KEY4 },
    );
    // systemInitTimeMilliseconds from an options record, for template 265
    const options = concat(
      ipfixOptionsTemplates({ id: 280, scope: [f(IE.observationDomainId, 4)], fields: [f(IE.systemInitTimeMilliseconds, 8)] }),
      ipfixData(280, [concat(u32(DOM), u64(boot))]),
    );
    const us = (ms: number, extra: number) => BigInt(ms) * 1000n + BigInt(extra);
    const ns = (ms: number, extra: number) => BigInt(ms) * 1_000_000n + BigInt(extra);
    const { records, results } = feed(
      dec,
      [
        msg(
          0,
          templates,
          options,
          ipfixData(260, [recTimes('10.0.0.1', u32(T0 / 1000), u32(T0 / 1000 + 5))]),
          ipfixData(261, [recTimes('10.0.0.2', u64(T0 + 123), u64(T0 + 456))]),
          ipfixData(262, [recTimes('10.0.0.3', ntpMicros(us(T0 + 123, 999)), ntpMicros(us(T0 + 456, 0), 0x7ff))]),
          ipfixData(263, [recTimes('10.0.0.4', ntpNanos(ns(T0 + 7, 999_999)), ntpNanos(ns(T0 + 8, 0)))]),
          ipfixData(264, [recTimes('10.0.0.5', u64(boot), u32(3_600_010), u32(3_600_020))]),
          ipfixData(265, [recTimes('10.0.0.6', u32(3_600_030), u32(3_600_040))]),
          ipfixData(266, [recTimes('10.0.0.7', u32(2_500_000), u32(1_000))]),
          ipfixData(267, [recTimes('10.0.0.8', u64(T0), u32(1500))]),
          ipfixData(268, [recTimes('10.0.0.9', u64(T0 + 999))]),
          ipfixData(269, [key4('10.0.0.10')]),
        ),
      ],
      EXP,
    );
    expect(results[0].error).toBeNull();
    expect(records.map((r) => [r.src, r.start - T0, r.end - T0])).toEqual([
      ['10.0.0.1', 0, 5000],
      ['10.0.0.2', 123, 456],
      ['10.0.0.3', 123, 456],
      ['10.0.0.4', 7, 8],
      ['10.0.0.5', 10, 20],
      ['10.0.0.6', 30, 40],
      ['10.0.0.7', exportMs - 2500 - T0, exportMs - 1 - T0],
      ['10.0.0.8', 0, 1500],
      ['10.0.0.9', 999, 999],
      ['10.0.0.10', exportMs - T0, exportMs - T0],
    ]);
  });

  it('reads NTP times after the 2036 wrap (era 1) and µs values that are not whole ms', () => {
    const dec = new FlowDecoder();
    const t2040 = Date.UTC(2040, 0, 1, 0, 0, 0, 250);
    const { records } = feed(
      dec,
      [
        msg(
          0,
          ipfixTemplates({ id: 256, fields: [...KEY4, f(IE.flowStartMicroseconds, 8), f(IE.flowEndNanoseconds, 8)] }),
          ipfixData(256, [concat(key4('10.0.0.1'), ntpMicros(BigInt(t2040) * 1000n + 1n), ntpNanos(BigInt(t2040 + 1) * 1_000_000n - 1n))]),
        ),
      ],
      EXP,
    );
    expect(records[0].start).toBe(t2040);
    expect(records[0].end).toBe(t2040); // 1 ns before the next ms
  });

  it('falls back to the export time for sysUpTime when no systemInitTime is known', () => {
    const dec = new FlowDecoder();
    const { records } = feed(
      dec,
      [msg(0, ipfixTemplates({ id: 256, fields: [...KEY4, f(IE.flowStartSysUpTime, 4)] }), ipfixData(256, [concat(key4('10.0.0.1'), u32(5))]))],
      EXP,
    );
    expect([records[0].start, records[0].end]).toEqual([EXPORT * 1000, EXPORT * 1000]);
  });
});

describe('IPFIX template management', () => {
  const t1 = { id: 256, fields: [...KEY4, f(IE.octetDeltaCount, 4)] };
  const t2 = { id: 256, fields: [f(IE.destinationIPv4Address, 4), f(IE.sourceIPv4Address, 4), f(IE.octetDeltaCount, 2)] };

  it('withdraws one template: its later data waits, and decodes with the layout sent next', () => {
    const dec = new FlowDecoder();
    const a = feed(dec, [msg(0, ipfixTemplates(t1), ipfixData(256, [concat(key4('10.0.0.1', '10.0.0.2'), u32(10))]))], EXP);
    expect(a.records.map((r) => [r.src, r.dst, r.bytes])).toEqual([['10.0.0.1', '10.0.0.2', 10]]);
    const b = feed(dec, [msg(1, ipfixWithdraw(2, 256), ipfixData(256, [concat(key4('10.0.0.3', '10.0.0.4'), u16(20))]))], EXP);
    expect(b.records).toEqual([]);
    expect(statsOf(dec, EXP, DOM)).toMatchObject({ templates: 0, recordsPending: 1 });
    const c = feed(dec, [msg(2, ipfixTemplates(t2))], EXP);
    expect(c.records.map((r) => [r.src, r.dst, r.bytes])).toEqual([['10.0.0.4', '10.0.0.3', 20]]);
  });

  it('replaces a refreshed template (same id, new layout)', () => {
    const dec = new FlowDecoder();
    const { records } = feed(
      dec,
      [
        msg(0, ipfixTemplates(t1), ipfixData(256, [concat(key4('10.0.0.1', '10.0.0.2'), u32(10))])),
        msg(1, ipfixTemplates(t2), ipfixData(256, [concat(key4('10.0.0.3', '10.0.0.4'), u16(20))])),
      ],
      EXP,
    );
    expect(records.map((r) => [r.src, r.dst, r.bytes])).toEqual([
      ['10.0.0.1', '10.0.0.2', 10],
      ['10.0.0.4', '10.0.0.3', 20],
    ]);
    expect(statsOf(dec, EXP, DOM).templates).toBe(1);
  });

  it('withdraws all templates (id 2) and all options templates (id 3) of the domain only', () => {
    const dec = new FlowDecoder();
    const opts = ipfixOptionsTemplates({ id: 400, scope: [f(IE.observationDomainId, 4)], fields: [f(IE.samplingInterval, 4)] });
    const everything = msg(0, ipfixTemplates(t1, { ...t1, id: 257 }), opts);
    feed(dec, [everything, ipfix({ exportTime: EXPORT, sequence: 0, domain: DOM + 1 }, ipfixTemplates(t1))], EXP);
    expect(statsOf(dec, EXP, DOM)).toMatchObject({ templates: 2, optionsTemplates: 1 });
    feed(dec, [msg(0, ipfixWithdraw(2, 2))], EXP);
    expect(statsOf(dec, EXP, DOM)).toMatchObject({ templates: 0, optionsTemplates: 1 });
    feed(dec, [msg(0, ipfixWithdraw(3, 3))], EXP);
    expect(statsOf(dec, EXP, DOM)).toMatchObject({ templates: 0, optionsTemplates: 0 });
    expect(statsOf(dec, EXP, DOM + 1)).toMatchObject({ templates: 1 });
  });
});

describe('IPFIX options: sampling', () => {
  it('applies packet interval/space per template scope, n-of-N per selector, probability per domain', () => {
    const dec = new FlowDecoder();
    const rec = (src: string, ...more: Uint8Array[]) => concat(key4(src), ...more);
    const { records } = feed(
      dec,
      [
        msg(
          0,
          ipfixOptionsTemplates(
            { id: 600, scope: [f(IE.templateId, 2)], fields: [f(IE.selectorAlgorithm, 2), f(IE.samplingPacketInterval, 4), f(IE.samplingPacketSpace, 4)] },
            { id: 601, scope: [f(IE.selectorId, 8)], fields: [f(IE.samplingSize, 4), f(IE.samplingPopulation, 4)] },
            { id: 602, scope: [f(IE.observationDomainId, 4)], fields: [f(IE.samplingProbability, 8)] },
            { id: 603, scope: [f(IE.observationDomainId, 4)], fields: [f(IE.samplingProbability, 4)] },
          ),
          ipfixTemplates(
            { id: 256, fields: KEY4 },
            { id: 257, fields: [...KEY4, f(IE.selectorId, 1)] },
            { id: 258, fields: KEY4 },
            { id: 259, fields: [...KEY4, f(IE.samplingPacketInterval, 1), f(IE.samplingPacketSpace, 2)] },
          ),
          ipfixData(600, [concat(u16(256), u16(1), u32(3), u32(7))]),
          ipfixData(601, [concat(u64(7), u32(1), u32(50))]),
          ipfixData(602, [concat(u32(DOM), f64(0.001))]),
          ipfixData(256, [rec('10.0.0.1')]),
          ipfixData(257, [rec('10.0.0.2', u8(7)), rec('10.0.0.3', u8(8))]),
          ipfixData(258, [rec('10.0.0.4')]),
          ipfixData(259, [rec('10.0.0.5', u8(1), u16(99))]),
        ),
        // a float32 (reduced-size float64) probability of 0.25: 1 in 4 for the whole domain
        msg(13, ipfixData(603, [concat(u32(DOM), new Uint8Array([0x3e, 0x80, 0, 0]))]), ipfixData(258, [rec('10.0.0.6')])),
      ],
      EXP,
    );
    expect(records.map((r) => [r.src, r.samplingRate])).toEqual([
      ['10.0.0.1', 10 / 3],
      ['10.0.0.2', 50],
      ['10.0.0.3', 1000],
      ['10.0.0.4', 1000],
      ['10.0.0.5', 100],
      ['10.0.0.6', 4],
    ]);
    expect(statsOf(dec, EXP, DOM)).toMatchObject({ samplingRate: 4, optionsRecords: 4, optionsTemplates: 4, templates: 4 });
  });
});

describe('IPFIX sequence numbers count data records', () => {
  it('counts loss in records (options records included), resynchronises after a waiting set, restarts on a far jump back', () => {
    const dec = new FlowDecoder();
    const t = ipfixTemplates({ id: 256, fields: KEY4 });
    const d = (n: number) => ipfixData(256, Array.from({ length: n }, (_, i) => key4(`10.0.0.${i + 1}`)));
    const opts = concat(
      ipfixOptionsTemplates({ id: 300, scope: [f(IE.observationDomainId, 4)], fields: [f(IE.samplingInterval, 4)] }),
      ipfixData(300, [concat(u32(DOM), u32(10))]),
    );
    const s = () => statsOf(dec, EXP, DOM);
    feed(dec, [msg(0, t, d(3)), msg(3, opts, d(2))], EXP);
    expect(s()).toMatchObject({ sequenceLost: 0, restarts: 0, records: 5, optionsRecords: 1 });
    feed(dec, [msg(10, d(1))], EXP); // expected 6: 4 records lost
    expect(s().sequenceLost).toBe(4);
    feed(dec, [msg(6, d(4))], EXP); // they arrive late: given back
    expect(s()).toMatchObject({ sequenceLost: 0, restarts: 0 });
    feed(dec, [msg(11, ipfixData(999, [key4('10.0.0.9')]))], EXP); // unknown template: count unknown
    feed(dec, [msg(500, d(1))], EXP); // no expectation to compare with: nothing counted
    expect(s()).toMatchObject({ sequenceLost: 0, restarts: 0 });
    feed(dec, [msg(1_000_000, d(1))], EXP);
    expect(s().sequenceLost).toBe(1_000_000 - 501);
    feed(dec, [msg(5, d(1))], EXP);
    expect(s()).toMatchObject({ restarts: 1, sequenceLost: 1_000_000 - 501 });
  });
});
