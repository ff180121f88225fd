/**
 * NetFlow v9 (RFC 3954): templates and data flowsets, padding, IPv4 and IPv6, options templates
 * and options data for sampling, NSEL NAT fields, templates per exporter and source id, refresh,
 * data before its template (buffered, then decoded; expiry and overflow counted), restarts and
 * loss from sequence numbers.
 */
import { describe, expect, it } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import { feed, statsOf, type PlainRecord } from './helpers/netflow-collect.js';
import {
  concat,
  IE,
  ip4,
  ip6,
  u16,
  u32,
  u64,
  u8,
  v9,
  v9Data,
  v9OptionsTemplate,
  v9Templates,
  V9_SCOPE,
  type V9Field,
} from './helpers/netflow-build.js';

const EXP = '192.0.2.9';
const SECS = 1_700_000_000;
const UP = 3_600_000;
const hdr = (sequence: number, sourceId = 0, sysUptime = UP, unixSecs = SECS) => ({ sysUptime, unixSecs, sequence, sourceId });

/** IPv4 template, 37-byte records (so a flowset of three needs a padding byte). */
const T4: V9Field[] = [
  [IE.octetDeltaCount, 4],
  [IE.packetDeltaCount, 4],
  [IE.protocolIdentifier, 1],
  [IE.tcpControlBits, 1],
  [IE.sourceTransportPort, 2],
  [IE.sourceIPv4Address, 4],
  [IE.destinationTransportPort, 2],
  [IE.destinationIPv4Address, 4],
  [IE.flowEndSysUpTime, 4],
  [IE.flowStartSysUpTime, 4],
  [16, 4], // SRC_AS: not ours, skipped
  [IE.ingressInterface, 2],
  [IE.ipClassOfService, 1],
];
function r4(src: string, dst: string, sport: number, dport: number, bytes: number, pkts: number, first: number, last: number, proto = 6, flags = 0x12): Uint8Array {
  return concat(u32(bytes), u32(pkts), u8(proto), u8(flags), u16(sport), ip4(src), u16(dport), ip4(dst), u32(last), u32(first), u32(64512), u16(3), u8(0));
}

/** IPv6 template with 8-byte counters. */
const T6: V9Field[] = [
  [IE.sourceIPv6Address, 16],
  [IE.destinationIPv6Address, 16],
  [IE.octetDeltaCount, 8],
  [IE.packetDeltaCount, 8],
  [IE.protocolIdentifier, 1],
  [IE.sourceTransportPort, 2],
  [IE.destinationTransportPort, 2],
  [IE.flowStartSysUpTime, 4],
  [IE.flowEndSysUpTime, 4],
];
function r6(src: string, dst: string, sport: number, dport: number, bytes: number, pkts: number, first: number, last: number): Uint8Array {
  return concat(ip6(src), ip6(dst), u64(bytes), u64(pkts), u8(17), u16(sport), u16(dport), u32(first), u32(last));
}

const base = (over: Partial<PlainRecord>): PlainRecord => ({
  exporter: EXP,
  version: 9,
  domain: 0,
  ipVersion: 4,
  src: '',
  dst: '',
  srcPort: 0,
  dstPort: 0,
  proto: 6,
  tcpFlags: 0,
  bytes: 0,
  packets: 0,
  samplingRate: 1,
  start: 0,
  end: 0,
  nat: null,
  ...over,
});

describe('NetFlow v9 templates and data', () => {
  it('decodes IPv4 and IPv6 data flowsets after their templates, with padding, times from sysUptime', () => {
    const dec = new FlowDecoder();
    const d = v9(
      hdr(1),
      v9Templates({ id: 256, fields: T4 }, { id: 257, fields: T6 }),
      v9Data(
        256,
        r4('10.0.0.1', '198.51.100.10', 40001, 3333, 1500, 10, UP - 10_000, UP - 2_000),
        r4('10.0.0.2', '198.51.100.11', 40002, 443, 60, 1, UP - 5, UP - 5, 6, 0x02),
        r4('10.0.0.3', '203.0.113.9', 5353, 53, 2 ** 32 - 1, 7, UP, UP, 17, 0),
      ),
      v9Data(257, r6('2001:db8::1', '2001:db8:1::99', 1234, 14444, 2 ** 40 + 5, 3, UP - 60_000, UP - 1)),
    );
    expect(d.length % 4).toBe(0);
    const { records, results } = feed(dec, [d], EXP);
    expect(results).toEqual([{ version: 9, records: 4, error: null }]);
    const ms = SECS * 1000;
    expect(records).toEqual([
      base({ src: '10.0.0.1', dst: '198.51.100.10', srcPort: 40001, dstPort: 3333, tcpFlags: 0x12, bytes: 1500, packets: 10, start: ms - 10_000, end: ms - 2_000 }),
      base({ src: '10.0.0.2', dst: '198.51.100.11', srcPort: 40002, dstPort: 443, tcpFlags: 0x02, bytes: 60, packets: 1, start: ms - 5, end: ms - 5 }),
      base({ src: '10.0.0.3', dst: '203.0.113.9', srcPort: 5353, dstPort: 53, proto: 17, bytes: 2 ** 32 - 1, packets: 7, start: ms, end: ms }),
      base({
        ipVersion: 6,
        src: '2001:db8::1',
        dst: '2001:db8:1::99',
        srcPort: 1234,
        dstPort: 14444,
        proto: 17,
        bytes: 2 ** 40 + 5,
        packets: 3,
        start: ms - 60_000,
        end: ms - 1,
      }),
    ]);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ templates: 2, optionsTemplates: 0, records: 4, errors: 0, recordsDropped: 0 });
  });

  it('keeps templates per exporter and per source id: the same id means different layouts', () => {
    const dec = new FlowDecoder();
    const a: V9Field[] = [
      [IE.sourceIPv4Address, 4],
      [IE.destinationIPv4Address, 4],
      [IE.octetDeltaCount, 4],
    ];
    const b: V9Field[] = [
      [IE.destinationIPv4Address, 4],
      [IE.sourceIPv4Address, 4],
      [IE.octetDeltaCount, 2],
    ];
    const recA = concat(ip4('10.1.1.1'), ip4('10.2.2.2'), u32(100));
    const recB = concat(ip4('10.2.2.2'), ip4('10.1.1.1'), u16(200));
    feed(dec, [v9(hdr(1, 1), v9Templates({ id: 300, fields: a }))], EXP);
    feed(dec, [v9(hdr(1, 2), v9Templates({ id: 300, fields: b }))], EXP);
    feed(dec, [v9(hdr(1, 1), v9Templates({ id: 300, fields: b }))], '192.0.2.200');
    const one = feed(dec, [v9(hdr(2, 1), v9Data(300, recA))], EXP).records;
    const two = feed(dec, [v9(hdr(2, 2), v9Data(300, recB))], EXP).records;
    const other = feed(dec, [v9(hdr(2, 1), v9Data(300, recB))], '192.0.2.200').records;
    expect(one.map((r) => [r.domain, r.src, r.dst, r.bytes])).toEqual([[1, '10.1.1.1', '10.2.2.2', 100]]);
    expect(two.map((r) => [r.domain, r.src, r.dst, r.bytes])).toEqual([[2, '10.1.1.1', '10.2.2.2', 200]]);
    expect(other.map((r) => [r.exporter, r.src, r.dst, r.bytes])).toEqual([['192.0.2.200', '10.1.1.1', '10.2.2.2', 200]]);
  });

  it('replaces a template refreshed with the same id and a new layout', () => {
    const dec = new FlowDecoder();
    const first: V9Field[] = [
      [IE.sourceIPv4Address, 4],
      [IE.octetDeltaCount, 4],
    ];
    const second: V9Field[] = [
      [IE.octetDeltaCount, 4],
      [IE.sourceIPv4Address, 4],
      [IE.destinationTransportPort, 2],
    ];
    const { records } = feed(
      dec,
      [
        v9(hdr(1), v9Templates({ id: 400, fields: first }), v9Data(400, concat(ip4('10.0.0.1'), u32(10)))),
        v9(hdr(2), v9Templates({ id: 400, fields: second }), v9Data(400, concat(u32(20), ip4('10.0.0.2'), u16(3333)))),
      ],
      EXP,
    );
    expect(records.map((r) => [r.src, r.bytes, r.dstPort])).toEqual([
      ['10.0.0.1', 10, 0],
      ['10.0.0.2', 20, 3333],
    ]);
    expect(statsOf(dec, EXP, 0).templates).toBe(1);
  });

  it('refuses template ids below 256 and keeps decoding the rest', () => {
    const dec = new FlowDecoder();
    const bad = concat(u16(0), u16(4 + 8 + 12), u16(255), u16(1), u16(IE.octetDeltaCount), u16(4), u16(256), u16(2), u16(8), u16(4), u16(1), u16(4));
    const { results } = feed(dec, [v9(hdr(1), bad)], EXP);
    expect(results[0].error).toBe('NetFlow v9 from 192.0.2.9 (domain 0), offset 24: template id 255 is reserved (data templates are 256 and up)');
    expect(statsOf(dec, EXP, 0)).toMatchObject({ errors: 1, templates: 0 });
  });
});

describe('NetFlow v9 options: sampling', () => {
  const optScope: V9Field[] = [[V9_SCOPE.system, 4]];
  const optFields: V9Field[] = [
    [IE.samplerId, 2],
    [IE.samplerMode, 1],
    [IE.samplingInterval, 4],
  ];
  const opt = (sampler: number, interval: number) => concat(u32(0xc0000201), u16(sampler), u8(2), u32(interval));
  const T: V9Field[] = [
    [IE.sourceIPv4Address, 4],
    [IE.destinationIPv4Address, 4],
    [IE.octetDeltaCount, 4],
    [IE.samplerId, 1], // reduced size: one byte
  ];
  const TNoSampler: V9Field[] = [
    [IE.sourceIPv4Address, 4],
    [IE.destinationIPv4Address, 4],
    [IE.octetDeltaCount, 4],
  ];

  it('gives each record the rate of its sampler, and records without one the latest rate', () => {
    const dec = new FlowDecoder();
    const { records } = feed(
      dec,
      [
        v9(hdr(1), v9OptionsTemplate(260, optScope, optFields), v9Data(260, opt(1, 100), opt(2, 1000))),
        v9(
          hdr(2),
          v9Templates({ id: 256, fields: T }, { id: 257, fields: TNoSampler }),
          v9Data(256, concat(ip4('10.0.0.1'), ip4('10.9.9.9'), u32(500), u8(1)), concat(ip4('10.0.0.2'), ip4('10.9.9.9'), u32(600), u8(2))),
          v9Data(256, concat(ip4('10.0.0.3'), ip4('10.9.9.9'), u32(700), u8(9))), // unknown sampler
          v9Data(257, concat(ip4('10.0.0.4'), ip4('10.9.9.9'), u32(800))),
        ),
      ],
      EXP,
    );
    expect(records.map((r) => [r.src, r.bytes, r.samplingRate])).toEqual([
      ['10.0.0.1', 500, 100],
      ['10.0.0.2', 600, 1000],
      ['10.0.0.3', 700, 1000],
      ['10.0.0.4', 800, 1000],
    ]);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ optionsTemplates: 1, templates: 2, optionsRecords: 2, records: 4, samplingRate: 1000 });
  });

  it('reads SAMPLING_INTERVAL and samplerRandomInterval inside data records', () => {
    const dec = new FlowDecoder();
    const t: V9Field[] = [
      [IE.sourceIPv4Address, 4],
      [IE.destinationIPv4Address, 4],
      [IE.samplingInterval, 4],
    ];
    const t2: V9Field[] = [
      [IE.sourceIPv4Address, 4],
      [IE.destinationIPv4Address, 4],
      [IE.samplerRandomInterval, 2],
    ];
    const { records } = feed(
      dec,
      [
        v9(
          hdr(1),
          v9Templates({ id: 256, fields: t }, { id: 257, fields: t2 }),
          v9Data(256, concat(ip4('10.0.0.1'), ip4('10.0.0.2'), u32(2048))),
          v9Data(257, concat(ip4('10.0.0.3'), ip4('10.0.0.4'), u16(512))),
        ),
      ],
      EXP,
    );
    expect(records.map((r) => r.samplingRate)).toEqual([2048, 512]);
  });
});

describe('NetFlow v9 NAT (NSEL and IPFIX elements)', () => {
  it('fills record.nat from NF_F_XLATE_* (40001-40004) and from postNAT IPv6 (281/282)', () => {
    const dec = new FlowDecoder();
    const nsel: V9Field[] = [
      [IE.sourceIPv4Address, 4],
      [IE.destinationIPv4Address, 4],
      [IE.sourceTransportPort, 2],
      [IE.destinationTransportPort, 2],
      [IE.protocolIdentifier, 1],
      [IE.NF_F_XLATE_SRC_ADDR_IPV4, 4],
      [IE.NF_F_XLATE_DST_ADDR_IPV4, 4],
      [IE.NF_F_XLATE_SRC_PORT, 2],
      [IE.NF_F_XLATE_DST_PORT, 2],
      [IE.NF_F_FW_EVENT, 1],
      [231, 4], // NF_F_FWD_FLOW_DELTA_BYTES (initiatorOctets): ASA's only byte counter
      [232, 4], // NF_F_REV_FLOW_DELTA_BYTES (responderOctets)
      [IE.flowStartMilliseconds, 8],
    ];
    const nat6: V9Field[] = [
      [IE.sourceIPv6Address, 16],
      [IE.destinationIPv6Address, 16],
      [IE.postNATSourceIPv6Address, 16],
      [IE.postNATDestinationIPv6Address, 16],
      [IE.postNAPTSourceTransportPort, 2],
    ];
    const t0 = Date.UTC(2024, 2, 1, 8, 0, 0, 123);
    const { records } = feed(
      dec,
      [
        v9(
          hdr(1),
          v9Templates({ id: 263, fields: nsel }, { id: 264, fields: nat6 }),
          v9Data(
            263,
            concat(
              ip4('192.168.1.20'),
              ip4('198.51.100.20'),
              u16(51000),
              u16(3333),
              u8(6),
              ip4('203.0.113.1'),
              ip4('198.51.100.20'),
              u16(61000),
              u16(3333),
              u8(1),
              u32(1000),
              u32(234),
              u64(t0),
            ),
          ),
          v9Data(264, concat(ip6('fd00::5'), ip6('2001:db8::7'), ip6('2001:db8:ffff::1'), ip6('2001:db8::7'), u16(40000))),
        ),
      ],
      EXP,
    );
    expect(records[0]).toEqual(
      base({
        src: '192.168.1.20',
        dst: '198.51.100.20',
        srcPort: 51000,
        dstPort: 3333,
        bytes: 1234,
        start: t0,
        end: t0,
        nat: { postSrc: '203.0.113.1', postDst: '198.51.100.20', postSrcPort: 61000, postDstPort: 3333 },
      }),
    );
    expect(records[1]).toMatchObject({
      ipVersion: 6,
      src: 'fd00::5',
      nat: { postSrc: '2001:db8:ffff::1', postDst: '2001:db8::7', postSrcPort: 40000, postDstPort: null },
      start: SECS * 1000, // no time fields: the export time
    });
  });
});

describe('NetFlow v9 data before its template', () => {
  const T: V9Field[] = [
    [IE.sourceIPv4Address, 4],
    [IE.destinationIPv4Address, 4],
    [IE.octetDeltaCount, 4],
    [IE.flowStartSysUpTime, 4],
  ];
  const rec = (n: number, first = UP - 1000) => concat(ip4(`10.0.0.${n}`), ip4('198.51.100.1'), u32(n * 100), u32(first));

  it('buffers data sets and decodes them, exactly, with their own datagram clocks, when the template arrives', () => {
    const dec = new FlowDecoder();
    const early = v9(hdr(1, 0, UP, SECS), v9Data(256, rec(1), rec(2)));
    const early2 = v9(hdr(2, 0, UP + 5000, SECS + 5), v9Data(256, rec(3, UP + 4000)));
    const tmpl = v9(hdr(3, 0, UP + 9000, SECS + 9), v9Templates({ id: 256, fields: T }), v9Data(256, rec(4, UP + 8000)));
    const { records, results } = feed(dec, [early, early2], EXP);
    expect(records).toEqual([]);
    expect(results.map((r) => r.records)).toEqual([0, 0]);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ recordsPending: 2, setsPending: 2 });
    const late = feed(dec, [tmpl], EXP);
    expect(late.results).toEqual([{ version: 9, records: 4, error: null }]);
    expect(late.records.map((r) => [r.src, r.bytes, r.start])).toEqual([
      ['10.0.0.1', 100, SECS * 1000 - 1000],
      ['10.0.0.2', 200, SECS * 1000 - 1000],
      ['10.0.0.3', 300, (SECS + 5) * 1000 - 1000],
      ['10.0.0.4', 400, (SECS + 9) * 1000 - 1000],
    ]);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ recordsPending: 0, setsPending: 0, records: 4, recordsDropped: 0 });
  });

  it('drops sets that waited longer than pendingTtlMs, and counts them', () => {
    const dec = new FlowDecoder({ pendingTtlMs: 1000 });
    const t = 1_700_000_000_000;
    dec.decode(...args(v9(hdr(1), v9Data(256, rec(1)))), EXP, t, () => {});
    const got: unknown[] = [];
    dec.decode(...args(v9(hdr(2), v9Templates({ id: 256, fields: T }))), EXP, t + 1001, (r) => got.push(r));
    expect(got).toEqual([]);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ recordsPending: 0, setsDropped: 1, recordsDropped: 1 });
    expect(dec.totals.dropped).toBe(1);
  });

  it('keeps at most maxPendingPerExporter sets: the oldest go first', () => {
    const dec = new FlowDecoder({ maxPendingPerExporter: 2 });
    const { records } = feed(
      dec,
      [
        v9(hdr(1), v9Data(256, rec(1))),
        v9(hdr(2), v9Data(256, rec(2))),
        v9(hdr(3), v9Data(256, rec(3))),
        v9(hdr(4), v9Templates({ id: 256, fields: T })),
      ],
      EXP,
    );
    expect(records.map((r) => r.src)).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ setsDropped: 1, recordsDropped: 1, recordsPending: 0 });
  });

  it('counts what never got a template as dropped at finish()', () => {
    const dec = new FlowDecoder();
    feed(dec, [v9(hdr(1), v9Data(256, rec(1)), v9Data(999, rec(2)))], EXP);
    expect(statsOf(dec, EXP, 0).recordsPending).toBe(2);
    dec.finish();
    expect(statsOf(dec, EXP, 0)).toMatchObject({ recordsPending: 0, setsDropped: 2, recordsDropped: 2 });
    expect(dec.totals.dropped).toBe(2);
  });
});

describe('NetFlow v9 sequence numbers', () => {
  const T: V9Field[] = [
    [IE.sourceIPv4Address, 4],
    [IE.destinationIPv4Address, 4],
  ];
  const three = concat(ip4('10.0.0.1'), ip4('10.0.0.2'), ip4('10.0.0.3'), ip4('10.0.0.4'), ip4('10.0.0.5'), ip4('10.0.0.6'));

  it("counts export packets: a gap of 2 datagrams at this exporter's mean of 2 records per datagram is 4 records", () => {
    const dec = new FlowDecoder();
    feed(dec, [v9(hdr(10), v9Templates({ id: 256, fields: T })), v9(hdr(11), v9Data(256, three)), v9(hdr(12), v9Data(256, three))], EXP);
    expect(statsOf(dec, EXP, 0).sequenceLost).toBe(0);
    // mean so far: 6 records over 3 datagrams = 2 per datagram
    feed(dec, [v9(hdr(15), v9Data(256, three))], EXP);
    expect(statsOf(dec, EXP, 0).sequenceLost).toBe(4);
  });

  it('takes a sequence reset (and uptime going back) as a restart, keeps the templates, decodes on', () => {
    const dec = new FlowDecoder();
    feed(dec, [v9(hdr(5000), v9Templates({ id: 256, fields: T })), v9(hdr(5001), v9Data(256, three))], EXP);
    const after = feed(dec, [v9(hdr(0, 0, 1_000), v9Data(256, three))], EXP);
    expect(after.records).toHaveLength(3);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ restarts: 1, sequenceLost: 0, templates: 1 });
    feed(dec, [v9(hdr(1, 0, 2_000), v9Data(256, three))], EXP);
    expect(statsOf(dec, EXP, 0)).toMatchObject({ restarts: 1, sequenceLost: 0 });
  });
});

function args(d: Uint8Array): [Uint8Array, number, number] {
  return [d, 0, d.length];
}
