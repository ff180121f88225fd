/**
 * Export datagrams built byte by byte for the decoder tests, from the specifications and not
 * from the decoder: NetFlow v5 (Cisco's v5 header and 48-byte record), NetFlow v9 (RFC 3954 §5:
 * 20-byte header; flowset ids 0 template, 1 options template, 256+ data; padding to 4 bytes)
 * and IPFIX (RFC 7011 §3: 16-byte header with the message length; set ids 2 template, 3 options
 * template, 256+ data; field specifiers with an enterprise bit and 4-byte PEN; variable-length
 * fields with a 1- or 3-byte length prefix, §7; NTP timestamps, §6.1.9/§6.1.10).
 *
 * Everything is plain byte arrays so a test can cut, corrupt or reorder them.
 */

import { concat } from './frames.js';

export type Bytes = Uint8Array;

export { concat };

/** `v` big-endian in `len` bytes (1..8); exact for any safe integer. */
export function be(v: number | bigint, len: number): Bytes {
  let x = BigInt(v);
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
export const u8 = (v: number): Bytes => be(v, 1);
export const u16 = (v: number): Bytes => be(v, 2);
export const u32 = (v: number): Bytes => be(v, 4);
export const u64 = (v: number | bigint): Bytes => be(v, 8);

export function ip4(s: string): Bytes {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 ${s}`);
  return Uint8Array.from(p);
}

export function ip6(s: string): Bytes {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const groups = (x: string | undefined) => (x ? x.split(':').filter((g) => g !== '') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  if (all.length !== 8) throw new Error(`bad IPv6 ${s}`);
  return concat(...all.map((g) => u16(parseInt(g, 16))));
}

/** IEEE float64, big-endian. */
export function f64(v: number): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, v, false);
  return out;
}

/** Seconds from 1900 (NTP era 0) to 1970. */
const NTP_OFFSET = 2208988800n;

/** dateTimeMicroseconds: NTP seconds + fraction of a second in 2^-32 units (RFC 7011 §6.1.9). */
export function ntpMicros(unixMicros: bigint, lowBits = 0): Bytes {
  const sec = unixMicros / 1_000_000n + NTP_OFFSET;
  const us = unixMicros % 1_000_000n;
  // Nearest 2^-32 unit; the low 11 bits carry no meaning for microseconds and may be anything.
  let frac = (us * 2n ** 32n + 500_000n) / 1_000_000n;
  frac = (frac & ~0x7ffn) | BigInt(lowBits & 0x7ff);
  return concat(be(sec & 0xffffffffn, 4), be(frac, 4));
}

/** dateTimeNanoseconds (RFC 7011 §6.1.10). */
export function ntpNanos(unixNanos: bigint): Bytes {
  const sec = unixNanos / 1_000_000_000n + NTP_OFFSET;
  const ns = unixNanos % 1_000_000_000n;
  const frac = (ns * 2n ** 32n + 500_000_000n) / 1_000_000_000n;
  return concat(be(sec & 0xffffffffn, 4), be(frac, 4));
}

/** A variable-length field value (RFC 7011 §7): 1-byte length, or 255 + 2-byte length. */
export function varField(value: Bytes, long = value.length >= 255): Bytes {
  return long ? concat(u8(255), u16(value.length), value) : concat(u8(value.length), value);
}

/** Zero bytes up to the next multiple of `align` (0 = none). */
function padTo(n: number, align: number): Bytes {
  return new Uint8Array(align > 0 ? (align - (n % align)) % align : 0);
}

// ---------------------------------------------------------------------------------------- v5

export interface V5Record {
  src: string;
  dst: string;
  nextHop?: string;
  input?: number;
  output?: number;
  packets: number;
  bytes: number;
  /** sysUptime ms at the first and last packet. */
  first: number;
  last: number;
  srcPort: number;
  dstPort: number;
  tcpFlags?: number;
  proto: number;
  tos?: number;
  srcAs?: number;
  dstAs?: number;
  srcMask?: number;
  dstMask?: number;
}

export interface V5Header {
  sysUptime: number;
  unixSecs: number;
  unixNsecs?: number;
  sequence: number;
  engineType?: number;
  engineId?: number;
  samplingMode?: number;
  samplingInterval?: number;
  /** Written into the count field instead of records.length (to lie). */
  count?: number;
}

export function v5(h: V5Header, records: V5Record[]): Bytes {
  const head = concat(
    u16(5),
    u16(h.count ?? records.length),
    u32(h.sysUptime),
    u32(h.unixSecs),
    u32(h.unixNsecs ?? 0),
    u32(h.sequence),
    u8(h.engineType ?? 0),
    u8(h.engineId ?? 0),
    u16(((h.samplingMode ?? 0) << 14) | ((h.samplingInterval ?? 0) & 0x3fff)),
  );
  const recs = records.map((r) =>
    concat(
      ip4(r.src),
      ip4(r.dst),
      ip4(r.nextHop ?? '0.0.0.0'),
      u16(r.input ?? 0),
      u16(r.output ?? 0),
      u32(r.packets),
      u32(r.bytes),
      u32(r.first),
      u32(r.last),
      u16(r.srcPort),
      u16(r.dstPort),
      u8(0), // pad1
      u8(r.tcpFlags ?? 0),
      u8(r.proto),
      u8(r.tos ?? 0),
      u16(r.srcAs ?? 0),
      u16(r.dstAs ?? 0),
      u8(r.srcMask ?? 0),
      u8(r.dstMask ?? 0),
      u16(0), // pad2
    ),
  );
  return concat(head, ...recs);
}

// ---------------------------------------------------------------------------------------- v9

/** [field type, length] */
export type V9Field = [number, number];

export interface V9Header {
  sysUptime: number;
  unixSecs: number;
  sequence: number;
  sourceId: number;
  /** Header count: records of all flowsets (RFC 3954); tests rarely care. */
  count?: number;
}

export function v9(h: V9Header, ...flowsets: Bytes[]): Bytes {
  return concat(u16(9), u16(h.count ?? 0), u32(h.sysUptime), u32(h.unixSecs), u32(h.sequence), u32(h.sourceId), ...flowsets);
}

/** A flowset: id, length (including the padding), body, zero padding to 4 bytes. */
export function v9Flowset(id: number, body: Bytes, align = 4): Bytes {
  const pad = padTo(4 + body.length, align);
  return concat(u16(id), u16(4 + body.length + pad.length), body, pad);
}

export function v9Templates(...templates: { id: number; fields: V9Field[] }[]): Bytes {
  return v9Flowset(
    0,
    concat(...templates.map((t) => concat(u16(t.id), u16(t.fields.length), ...t.fields.map(([ty, len]) => concat(u16(ty), u16(len)))))),
  );
}

/** Options template (RFC 3954 §6.1): scope and option lengths are in bytes of field specifiers. */
export function v9OptionsTemplate(id: number, scope: V9Field[], fields: V9Field[]): Bytes {
  return v9Flowset(
    1,
    concat(
      u16(id),
      u16(scope.length * 4),
      u16(fields.length * 4),
      ...scope.map(([ty, len]) => concat(u16(ty), u16(len))),
      ...fields.map(([ty, len]) => concat(u16(ty), u16(len))),
    ),
  );
}

export function v9Data(id: number, ...records: Bytes[]): Bytes {
  return v9Flowset(id, concat(...records));
}

// ------------------------------------------------------------------------------------- IPFIX

export interface IpfixField {
  id: number;
  len: number;
  /** Enterprise number: sets the enterprise bit and appends the PEN. */
  pen?: number;
}

export interface IpfixHeader {
  exportTime: number;
  sequence: number;
  domain: number;
  /** Written instead of the real length (to lie). */
  length?: number;
}

export function ipfix(h: IpfixHeader, ...sets: Bytes[]): Bytes {
  const body = concat(...sets);
  return concat(u16(10), u16(h.length ?? 16 + body.length), u32(h.exportTime), u32(h.sequence), u32(h.domain), body);
}

export function ipfixSet(id: number, body: Bytes, align = 0): Bytes {
  const pad = padTo(4 + body.length, align);
  return concat(u16(id), u16(4 + body.length + pad.length), body, pad);
}

function spec(f: IpfixField): Bytes {
  return f.pen === undefined ? concat(u16(f.id), u16(f.len)) : concat(u16(f.id | 0x8000), u16(f.len), u32(f.pen));
}

export function ipfixTemplates(...templates: { id: number; fields: IpfixField[] }[]): Bytes {
  return ipfixSet(2, concat(...templates.map((t) => concat(u16(t.id), u16(t.fields.length), ...t.fields.map(spec)))));
}

/** Options template record (RFC 7011 §3.4.2.2): field count, scope field count, scope fields first. */
export function ipfixOptionsTemplates(...templates: { id: number; scope: IpfixField[]; fields: IpfixField[] }[]): Bytes {
  return ipfixSet(
    3,
    concat(
      ...templates.map((t) =>
        concat(u16(t.id), u16(t.scope.length + t.fields.length), u16(t.scope.length), ...t.scope.map(spec), ...t.fields.map(spec)),
      ),
    ),
  );
}

/** Template withdrawal (RFC 7011 §8.1): the id with field count 0; id 2 (3 in an options set) = all. */
export function ipfixWithdraw(setId: 2 | 3, ...ids: number[]): Bytes {
  return ipfixSet(setId, concat(...ids.map((id) => concat(u16(id), u16(0)))));
}

export function ipfixData(id: number, records: Bytes[], align = 0): Bytes {
  return ipfixSet(id, concat(...records), align);
}

// ------------------------------------------------------------------------- element numbers

/** IANA IPFIX element ids (= NetFlow v9 field types below 128) used by the tests. */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  ipClassOfService: 5,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  flowEndSysUpTime: 21,
  flowStartSysUpTime: 22,
  postOctetDeltaCount: 23,
  postPacketDeltaCount: 24,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  samplingInterval: 34,
  samplingAlgorithm: 35,
  samplerId: 48,
  samplerMode: 49,
  samplerRandomInterval: 50,
  ipVersion: 60,
  octetTotalCount: 85,
  packetTotalCount: 86,
  templateId: 145,
  observationDomainId: 149,
  flowStartSeconds: 150,
  flowEndSeconds: 151,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  flowStartMicroseconds: 154,
  flowEndMicroseconds: 155,
  flowStartNanoseconds: 156,
  flowEndNanoseconds: 157,
  flowStartDeltaMicroseconds: 158,
  flowEndDeltaMicroseconds: 159,
  systemInitTimeMilliseconds: 160,
  flowDurationMilliseconds: 161,
  postNATSourceIPv4Address: 225,
  postNATDestinationIPv4Address: 226,
  postNAPTSourceTransportPort: 227,
  postNAPTDestinationTransportPort: 228,
  natEvent: 230,
  postNATSourceIPv6Address: 281,
  postNATDestinationIPv6Address: 282,
  selectorId: 302,
  selectorAlgorithm: 304,
  samplingPacketInterval: 305,
  samplingPacketSpace: 306,
  samplingSize: 309,
  samplingPopulation: 310,
  samplingProbability: 311,
  dataLinkFrameSize: 312,
  dataLinkFrameSection: 315,
  observationTimeMilliseconds: 323,
  applicationName: 96, // string: a variable-length field we do not read
  // Cisco ASA NSEL (NetFlow v9 field types)
  NF_F_XLATE_SRC_ADDR_IPV4: 40001,
  NF_F_XLATE_DST_ADDR_IPV4: 40002,
  NF_F_XLATE_SRC_PORT: 40003,
  NF_F_XLATE_DST_PORT: 40004,
  NF_F_FW_EVENT: 40005,
} as const;

/** v9 options scope field types (RFC 3954 §6.1). */
export const V9_SCOPE = { system: 1, interface: 2, lineCard: 3, cache: 4, template: 5 } as const;
