/**
 * Builds NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams byte by byte, written
 * from the specifications (and Cisco's v5 record layout), not from our decoder, so tests can send
 * what a router would: templates late, an exporter restarting with new templates, sequence gaps.
 */
import { parseAddress } from './frames.js';

export interface TestFlow {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  bytes: number;
  packets: number;
  /** ms since the epoch. */
  start: number;
  end: number;
  tcpFlags?: number;
}

class W {
  private readonly parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    return this.u8(v >>> 8).u8(v);
  }
  u32(v: number) {
    return this.u16(Math.floor(v / 65536) & 0xffff).u16(v & 0xffff);
  }
  u64(v: number) {
    return this.u32(Math.floor(v / 2 ** 32)).u32(v >>> 0);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
    return this;
  }
  /** An unsigned number in `len` bytes, big-endian (RFC 7011 reduced-size encoding). */
  uint(v: number, len: number) {
    for (let i = len - 1; i >= 0; i--) this.u8(Math.floor(v / 2 ** (8 * i)) & 0xff);
    return this;
  }
  get length() {
    return this.parts.length;
  }
  done(): Buffer {
    return Buffer.from(this.parts);
  }
}

// ----------------------------------------------------------------------------------------- v5

export interface V5Header {
  /** Router uptime at export (ms) and the wall clock it corresponds to (ms since the epoch). */
  sysUptimeMs: number;
  unixMs: number;
  /** Sequence number of the first flow in this datagram (flows exported before it). */
  sequence: number;
  engineType?: number;
  engineId?: number;
  /** Top 2 bits mode, low 14 bits interval (1-in-N). */
  sampling?: number;
}

/** One v5 datagram: 24-byte header, 48-byte records. Flow times become uptime offsets. */
export function v5Datagram(h: V5Header, flows: TestFlow[]): Buffer {
  const w = new W();
  const boot = h.unixMs - h.sysUptimeMs;
  w.u16(5).u16(flows.length).u32(h.sysUptimeMs).u32(Math.floor(h.unixMs / 1000)).u32((h.unixMs % 1000) * 1e6);
  w.u32(h.sequence).u8(h.engineType ?? 0).u8(h.engineId ?? 0).u16(h.sampling ?? 0);
  for (const f of flows) {
    w.bytes(parseAddress(f.src)).bytes(parseAddress(f.dst)).u32(0); // nexthop
    w.u16(1).u16(2); // input, output ifIndex
    w.u32(f.packets).u32(f.bytes).u32(f.start - boot).u32(f.end - boot);
    w.u16(f.srcPort).u16(f.dstPort).u8(0).u8(f.tcpFlags ?? 0).u8(f.proto).u8(0);
    w.u16(0).u16(0).u8(0).u8(0).u16(0);
  }
  return w.done();
}

// ----------------------------------------------------------------------------------------- v9 / IPFIX

/** [information element id, length]; enterprise elements not needed here. */
export type Field = [number, number];

/** v9 IPv4 flow: addresses, ports, protocol, counters, FIRST/LAST_SWITCHED (uptime ms). */
export const V9_V4: Field[] = [[8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [6, 1], [1, 4], [2, 4], [22, 4], [21, 4]];
/** The same fields in another order and sizes: what a router might send after a reload. */
export const V9_V4_ALT: Field[] = [[21, 4], [22, 4], [2, 8], [1, 8], [4, 1], [11, 2], [7, 2], [12, 4], [8, 4]];
export const V9_V6: Field[] = [[27, 16], [28, 16], [7, 2], [11, 2], [4, 1], [1, 4], [2, 4], [22, 4], [21, 4]];
/** IPFIX IPv4 flow with absolute times: flowStartMilliseconds / flowEndMilliseconds. */
export const IPFIX_V4: Field[] = [[8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [6, 1], [1, 8], [2, 8], [152, 8], [153, 8]];
export const IPFIX_V6: Field[] = [[27, 16], [28, 16], [7, 2], [11, 2], [4, 1], [1, 8], [2, 8], [152, 8], [153, 8]];

export interface Clock {
  /** Uptime (ms) at `unixMs`: v9 times are offsets from boot. */
  sysUptimeMs: number;
  unixMs: number;
}

function fieldValue(w: W, id: number, len: number, f: TestFlow, clock: Clock | null): void {
  const boot = clock === null ? 0 : clock.unixMs - clock.sysUptimeMs;
  switch (id) {
    case 8:
    case 12:
    case 27:
    case 28:
      w.bytes(parseAddress(id === 8 || id === 27 ? f.src : f.dst));
      return;
    case 7:
      return void w.uint(f.srcPort, len);
    case 11:
      return void w.uint(f.dstPort, len);
    case 4:
      return void w.uint(f.proto, len);
    case 6:
      return void w.uint(f.tcpFlags ?? 0, len);
    case 1:
      return void w.uint(f.bytes, len);
    case 2:
      return void w.uint(f.packets, len);
    case 22:
      return void w.uint(f.start - boot, len);
    case 21:
      return void w.uint(f.end - boot, len);
    case 152:
      return void w.uint(f.start, len);
    case 153:
      return void w.uint(f.end, len);
    default:
      w.uint(0, len);
  }
}

/** Pad a set to a multiple of 4 (allowed by both RFCs). */
function padded(w: W): void {
  while (w.length % 4 !== 0) w.u8(0);
}

/** A v9 template FlowSet (id 0) with one template. */
export function v9TemplateSet(templateId: number, fields: Field[]): Buffer {
  const body = new W();
  body.u16(templateId).u16(fields.length);
  for (const [id, len] of fields) body.u16(id).u16(len);
  const b = body.done();
  return new W().u16(0).u16(4 + b.length).bytes(b).done();
}

/** A v9 data FlowSet for `templateId`. */
export function v9DataSet(templateId: number, fields: Field[], flows: TestFlow[], clock: Clock): Buffer {
  const body = new W();
  for (const f of flows) for (const [id, len] of fields) fieldValue(body, id, len, f, clock);
  padded(body);
  const b = body.done();
  return new W().u16(templateId).u16(4 + b.length).bytes(b).done();
}

export interface V9Header extends Clock {
  /** Export packets sent before this one (v9 counts datagrams, not records). */
  sequence: number;
  sourceId: number;
  /** Records (templates + data) in the datagram. */
  count: number;
}

export function v9Datagram(h: V9Header, sets: Buffer[]): Buffer {
  const w = new W();
  w.u16(9).u16(h.count).u32(h.sysUptimeMs).u32(Math.floor(h.unixMs / 1000)).u32(h.sequence).u32(h.sourceId);
  for (const s of sets) w.bytes(s);
  return w.done();
}

/** An IPFIX template set (id 2) with one template. */
export function ipfixTemplateSet(templateId: number, fields: Field[]): Buffer {
  const body = new W();
  body.u16(templateId).u16(fields.length);
  for (const [id, len] of fields) body.u16(id).u16(len);
  const b = body.done();
  return new W().u16(2).u16(4 + b.length).bytes(b).done();
}

export function ipfixDataSet(templateId: number, fields: Field[], flows: TestFlow[]): Buffer {
  const body = new W();
  for (const f of flows) for (const [id, len] of fields) fieldValue(body, id, len, f, null);
  const b = body.done();
  return new W().u16(templateId).u16(4 + b.length).bytes(b).done();
}

export interface IpfixHeader {
  exportMs: number;
  /** Data records sent before this message (RFC 7011 counts records, not messages). */
  sequence: number;
  domain: number;
}

export function ipfixMessage(h: IpfixHeader, sets: Buffer[]): Buffer {
  const len = 16 + sets.reduce((n, s) => n + s.length, 0);
  const w = new W();
  w.u16(10).u16(len).u32(Math.floor(h.exportMs / 1000)).u32(h.sequence).u32(h.domain);
  for (const s of sets) w.bytes(s);
  return w.done();
}

// ----------------------------------------------------------------------------------------- a scenario

/** One export datagram as it arrives: from whom, when (ms since the epoch), its bytes. */
export interface ExportDatagram {
  exporter: string;
  /** Seconds after the scenario's start. */
  at: number;
  payload: Buffer;
  /** What it is, for failure messages. */
  what: string;
}

export const SCENARIO_T0 = Date.UTC(2024, 2, 1, 8, 0, 0);

const fl = (src: string, dst: string, srcPort: number, dstPort: number, bytes: number, packets: number, startSec: number, durSec = 10, proto = 6): TestFlow => ({
  src,
  dst,
  srcPort,
  dstPort,
  proto,
  bytes,
  packets,
  start: SCENARIO_T0 + startSec * 1000,
  end: SCENARIO_T0 + (startSec + durSec) * 1000,
});

/**
 * What a collector port sees from three routers and some strangers:
 *  - A, 192.0.2.1, NetFlow v9 source id 1: data before its template (template late, in the next
 *    datagram); then a restart (uptime and sequence back to 0) that redefines template 256 with
 *    another layout, carrying a miner to a listed pool (10.20.30.50 → 203.0.113.77:14444) and the
 *    pool's answer; then data for a template it never sends.
 *  - B, 2001:db8::2, IPFIX domain 7: IPv4 and IPv6 templates, an IPv6 miner to a listed pool
 *    ([2001:db8:ff::77]:14444), then a sequence gap of 5 records.
 *  - C, 192.0.2.3, NetFlow v5: two datagrams with a gap of 10 flows.
 *  - garbage: an HTTP request, random bytes, a v9 header cut short.
 * `flows` are the 11 flow records a correct decoder hands on, in order.
 */
export function exportScenario(): { datagrams: ExportDatagram[]; flows: TestFlow[]; lost: number } {
  const A = '192.0.2.1';
  const B = '2001:db8::2';
  const C = '192.0.2.3';
  const f = [
    fl('10.1.0.1', '192.0.2.80', 51000, 80, 1500, 5, 0),
    fl('192.0.2.80', '10.1.0.1', 80, 51000, 48_000, 40, 0),
    fl('10.1.0.2', '192.0.2.81', 51001, 443, 900, 7, 1),
    fl('10.20.30.50', '203.0.113.77', 41000, 14444, 804, 7, 3),
    fl('203.0.113.77', '10.20.30.50', 14444, 41000, 990, 5, 3),
    fl('10.1.0.3', '192.0.2.53', 53001, 53, 61, 1, 5, 0, 17),
    fl('2001:db8:1::50', '2001:db8:ff::77', 41000, 14444, 2000, 20, 5),
    fl('10.1.0.4', '192.0.2.82', 51002, 3333, 472, 6, 6),
    fl('10.1.0.5', '192.0.2.83', 51003, 22, 5000, 30, 7),
    fl('192.0.2.83', '10.1.0.5', 22, 51003, 7000, 25, 7),
    fl('10.1.0.6', '192.0.2.84', 51004, 25, 300, 4, 8),
  ];
  const clockA1 = (sec: number): Clock => ({ sysUptimeMs: 3_600_000 + sec * 1000, unixMs: SCENARIO_T0 + sec * 1000 });
  // After the reload A has been up for 2 s.
  const clockA2 = (sec: number): Clock => ({ sysUptimeMs: 2000 + (sec - 3) * 1000, unixMs: SCENARIO_T0 + sec * 1000 });
  const t = (sec: number) => SCENARIO_T0 + sec * 1000;
  const d: ExportDatagram[] = [];
  d.push({ exporter: A, at: 0, what: 'A v9: data before its template', payload: v9Datagram({ ...clockA1(10), sequence: 0, sourceId: 1, count: 2 }, [v9DataSet(256, V9_V4, [f[0]!, f[1]!], clockA1(10))]) });
  d.push({
    exporter: A,
    at: 1,
    what: 'A v9: the template, and more data',
    payload: v9Datagram({ ...clockA1(11), sequence: 1, sourceId: 1, count: 2 }, [v9TemplateSet(256, V9_V4), v9DataSet(256, V9_V4, [f[2]!], clockA1(11))]),
  });
  d.push({ exporter: '198.51.100.200', at: 2, what: 'garbage: an HTTP request', payload: Buffer.from('GET / HTTP/1.1\r\nHost: collector\r\n\r\n') });
  d.push({ exporter: '198.51.100.201', at: 2.5, what: 'garbage: random bytes', payload: Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff)) });
  d.push({
    exporter: A,
    at: 13,
    what: 'A v9 after a restart: template 256 redefined, the miner',
    payload: v9Datagram({ ...clockA2(13), sequence: 0, sourceId: 1, count: 2 }, [v9TemplateSet(256, V9_V4_ALT), v9DataSet(256, V9_V4_ALT, [f[3]!], clockA2(13))]),
  });
  d.push({ exporter: A, at: 14, what: "A v9: the pool's answer", payload: v9Datagram({ ...clockA2(14), sequence: 1, sourceId: 1, count: 1 }, [v9DataSet(256, V9_V4_ALT, [f[4]!], clockA2(14))]) });
  d.push({
    exporter: B,
    at: 15,
    what: 'B IPFIX: templates and data, IPv4 and IPv6',
    payload: ipfixMessage({ exportMs: t(15), sequence: 0, domain: 7 }, [
      ipfixTemplateSet(300, IPFIX_V4),
      ipfixTemplateSet(301, IPFIX_V6),
      ipfixDataSet(300, IPFIX_V4, [f[5]!]),
      ipfixDataSet(301, IPFIX_V6, [f[6]!]),
    ]),
  });
  // 2 records sent so far; this says 7: 5 lost on the way.
  d.push({ exporter: B, at: 16, what: 'B IPFIX: after a gap of 5 records', payload: ipfixMessage({ exportMs: t(16), sequence: 7, domain: 7 }, [ipfixDataSet(300, IPFIX_V4, [f[7]!])]) });
  d.push({ exporter: C, at: 17, what: 'C v5', payload: v5Datagram({ sysUptimeMs: 86_400_000, unixMs: t(17), sequence: 0 }, [f[8]!, f[9]!]) });
  // 2 flows sent so far; this says 12: 10 lost.
  d.push({ exporter: C, at: 18, what: 'C v5 after a gap of 10 flows', payload: v5Datagram({ sysUptimeMs: 86_401_000, unixMs: t(18), sequence: 12 }, [f[10]!]) });
  d.push({ exporter: A, at: 19, what: 'A v9 cut short', payload: v9Datagram({ ...clockA2(19), sequence: 2, sourceId: 1, count: 1 }, []).subarray(0, 12) });
  d.push({
    exporter: A,
    at: 20,
    what: 'A v9: data for a template it never sends',
    payload: v9Datagram({ ...clockA2(20), sequence: 2, sourceId: 1, count: 1 }, [v9DataSet(999, V9_V4, [fl('10.9.9.9', '192.0.2.99', 1, 2, 3, 4, 20)], clockA2(20))]),
  });
  return { datagrams: d, flows: f, lost: 15 };
}

/** What --dump-flows must print for a flow of the scenario. */
export function expectedDump(f: TestFlow, exporter: string, version: number) {
  return {
    exporter,
    version,
    src: f.src,
    dst: f.dst,
    srcPort: f.srcPort,
    dstPort: f.dstPort,
    proto: f.proto,
    bytes: f.bytes,
    packets: f.packets,
    samplingRate: 1,
    start: new Date(f.start).toISOString(),
    end: new Date(f.end).toISOString(),
  };
}

/** The scenario's exporters and versions, in flow order (see exportScenario). */
export const SCENARIO_SOURCES: [string, number][] = [
  ['192.0.2.1', 9],
  ['192.0.2.1', 9],
  ['192.0.2.1', 9],
  ['192.0.2.1', 9],
  ['192.0.2.1', 9],
  ['2001:db8::2', 10],
  ['2001:db8::2', 10],
  ['2001:db8::2', 10],
  ['192.0.2.3', 5],
  ['192.0.2.3', 5],
  ['192.0.2.3', 5],
];
