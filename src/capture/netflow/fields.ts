/**
 * The information-element table: the one place that says what an element id means to us, for
 * NetFlow v9 (RFC 3954 §8 field types) and IPFIX (RFC 7012, the IANA "IPFIX Information
 * Elements" registry). v9 reuses the IPFIX numbers below 128 and most exporters send IPFIX
 * numbers above it in v9 too, so one table serves both; the Cisco NSEL ids (40001-40004) are only
 * reachable from v9, because an IPFIX id with the top bit set is an enterprise field.
 *
 * Every element not listed is skipped by its length. A listed element whose exported length does
 * not fit its type (an address that is not 4/16 bytes, a counter longer than 8) is skipped too:
 * reading it would produce a wrong number, which is worse than none.
 */

/** What the record decoder does with a field. Plain numbers: they index a switch in the hot loop. */
export const K_SKIP = 0;
export const K_BYTES = 1; // octetDeltaCount
export const K_PACKETS = 2; // packetDeltaCount
export const K_PROTO = 3;
export const K_TCP_FLAGS = 4;
export const K_SRC_PORT = 5;
export const K_DST_PORT = 6;
export const K_SRC4 = 7;
export const K_DST4 = 8;
export const K_SRC6 = 9;
export const K_DST6 = 10;
export const K_IP_VERSION = 11;
export const K_TOTAL_BYTES = 12; // octetTotalCount
export const K_TOTAL_PACKETS = 13;
export const K_POST_BYTES = 14; // postOctetDeltaCount (v9 OUT_BYTES)
export const K_POST_PACKETS = 15;
export const K_INIT_BYTES = 16; // initiatorOctets (NSEL forward bytes)
export const K_RESP_BYTES = 17;
export const K_INIT_PACKETS = 18;
export const K_RESP_PACKETS = 19;
// Times (see times.ts for what each encoding means).
export const K_START_UPTIME = 20; // flowStartSysUpTime / v9 FIRST_SWITCHED, ms of exporter uptime
export const K_END_UPTIME = 21;
export const K_START_SEC = 22;
export const K_END_SEC = 23;
export const K_START_MS = 24;
export const K_END_MS = 25;
export const K_START_US = 26; // NTP format, lower 11 fraction bits ignored (RFC 7011 §6.1.9)
export const K_END_US = 27;
export const K_START_NS = 28; // NTP format
export const K_END_NS = 29;
export const K_START_DELTA_US = 30; // µs before the export time
export const K_END_DELTA_US = 31;
export const K_SYS_INIT_MS = 32; // systemInitTimeMilliseconds: when uptime 0 was
export const K_DURATION_MS = 33;
export const K_DURATION_US = 34;
export const K_OBS_SEC = 35; // observationTime*: NAT events carry only these
export const K_OBS_MS = 36;
export const K_OBS_US = 37;
export const K_OBS_NS = 38;
// NAT (record.nat)
export const K_NAT_SRC4 = 39;
export const K_NAT_DST4 = 40;
export const K_NAT_SRC6 = 41;
export const K_NAT_DST6 = 42;
export const K_NAT_SRC_PORT = 43;
export const K_NAT_DST_PORT = 44;
// Sampling
export const K_SAMPLING_INTERVAL = 45; // samplingInterval (34) and samplerRandomInterval (50): 1-in-N
export const K_SAMPLER_ID = 46; // samplerId (48), selectorId (302)
export const K_PKT_INTERVAL = 47; // samplingPacketInterval (305)
export const K_PKT_SPACE = 48; // samplingPacketSpace (306)
export const K_SAMPLING_SIZE = 49; // samplingSize (309)
export const K_SAMPLING_POPULATION = 50; // samplingPopulation (310)
export const K_SAMPLING_PROBABILITY = 51; // samplingProbability (311), float64
export const K_TEMPLATE_ID = 52; // templateId (145), an options scope
// Packet sampling exporters (Juniper, SRv6 routers) send the sampled frame instead of a flow key.
export const K_FRAME_SECTION = 53; // dataLinkFrameSection (315)

/** Wire types, for the length check at template compile time. */
type WireType = 'uint' | 'ipv4' | 'ipv6' | 'dateTimeSeconds' | 'dateTimeMilliseconds' | 'ntp' | 'float64' | 'octets';

export interface ElementInfo {
  id: number;
  name: string;
  kind: number;
  type: WireType;
  /** Widest encoding of a 'uint' (its abstract type, RFC 7012); 8 when absent. Longer is skipped. */
  width?: number;
}

const TABLE: ElementInfo[] = [
  { id: 1, name: 'octetDeltaCount', kind: K_BYTES, type: 'uint' },
  { id: 2, name: 'packetDeltaCount', kind: K_PACKETS, type: 'uint' },
  { id: 4, name: 'protocolIdentifier', kind: K_PROTO, type: 'uint', width: 1 },
  { id: 6, name: 'tcpControlBits', kind: K_TCP_FLAGS, type: 'uint', width: 2 },
  { id: 7, name: 'sourceTransportPort', kind: K_SRC_PORT, type: 'uint', width: 2 },
  { id: 8, name: 'sourceIPv4Address', kind: K_SRC4, type: 'ipv4' },
  { id: 11, name: 'destinationTransportPort', kind: K_DST_PORT, type: 'uint', width: 2 },
  { id: 12, name: 'destinationIPv4Address', kind: K_DST4, type: 'ipv4' },
  { id: 21, name: 'flowEndSysUpTime', kind: K_END_UPTIME, type: 'uint' },
  { id: 22, name: 'flowStartSysUpTime', kind: K_START_UPTIME, type: 'uint' },
  { id: 23, name: 'postOctetDeltaCount', kind: K_POST_BYTES, type: 'uint' },
  { id: 24, name: 'postPacketDeltaCount', kind: K_POST_PACKETS, type: 'uint' },
  { id: 27, name: 'sourceIPv6Address', kind: K_SRC6, type: 'ipv6' },
  { id: 28, name: 'destinationIPv6Address', kind: K_DST6, type: 'ipv6' },
  { id: 34, name: 'samplingInterval', kind: K_SAMPLING_INTERVAL, type: 'uint' },
  { id: 48, name: 'samplerId', kind: K_SAMPLER_ID, type: 'uint' },
  { id: 50, name: 'samplerRandomInterval', kind: K_SAMPLING_INTERVAL, type: 'uint' },
  { id: 60, name: 'ipVersion', kind: K_IP_VERSION, type: 'uint', width: 1 },
  { id: 85, name: 'octetTotalCount', kind: K_TOTAL_BYTES, type: 'uint' },
  { id: 86, name: 'packetTotalCount', kind: K_TOTAL_PACKETS, type: 'uint' },
  { id: 145, name: 'templateId', kind: K_TEMPLATE_ID, type: 'uint', width: 2 },
  { id: 150, name: 'flowStartSeconds', kind: K_START_SEC, type: 'dateTimeSeconds' },
  { id: 151, name: 'flowEndSeconds', kind: K_END_SEC, type: 'dateTimeSeconds' },
  { id: 152, name: 'flowStartMilliseconds', kind: K_START_MS, type: 'dateTimeMilliseconds' },
  { id: 153, name: 'flowEndMilliseconds', kind: K_END_MS, type: 'dateTimeMilliseconds' },
  { id: 154, name: 'flowStartMicroseconds', kind: K_START_US, type: 'ntp' },
  { id: 155, name: 'flowEndMicroseconds', kind: K_END_US, type: 'ntp' },
  { id: 156, name: 'flowStartNanoseconds', kind: K_START_NS, type: 'ntp' },
  { id: 157, name: 'flowEndNanoseconds', kind: K_END_NS, type: 'ntp' },
  { id: 158, name: 'flowStartDeltaMicroseconds', kind: K_START_DELTA_US, type: 'uint' },
  { id: 159, name: 'flowEndDeltaMicroseconds', kind: K_END_DELTA_US, type: 'uint' },
  { id: 160, name: 'systemInitTimeMilliseconds', kind: K_SYS_INIT_MS, type: 'dateTimeMilliseconds' },
  { id: 161, name: 'flowDurationMilliseconds', kind: K_DURATION_MS, type: 'uint' },
  { id: 162, name: 'flowDurationMicroseconds', kind: K_DURATION_US, type: 'uint' },
  { id: 225, name: 'postNATSourceIPv4Address', kind: K_NAT_SRC4, type: 'ipv4' },
  { id: 226, name: 'postNATDestinationIPv4Address', kind: K_NAT_DST4, type: 'ipv4' },
  { id: 227, name: 'postNAPTSourceTransportPort', kind: K_NAT_SRC_PORT, type: 'uint', width: 2 },
  { id: 228, name: 'postNAPTDestinationTransportPort', kind: K_NAT_DST_PORT, type: 'uint', width: 2 },
  { id: 231, name: 'initiatorOctets', kind: K_INIT_BYTES, type: 'uint' },
  { id: 232, name: 'responderOctets', kind: K_RESP_BYTES, type: 'uint' },
  { id: 281, name: 'postNATSourceIPv6Address', kind: K_NAT_SRC6, type: 'ipv6' },
  { id: 282, name: 'postNATDestinationIPv6Address', kind: K_NAT_DST6, type: 'ipv6' },
  { id: 298, name: 'initiatorPackets', kind: K_INIT_PACKETS, type: 'uint' },
  { id: 299, name: 'responderPackets', kind: K_RESP_PACKETS, type: 'uint' },
  { id: 302, name: 'selectorId', kind: K_SAMPLER_ID, type: 'uint' },
  { id: 305, name: 'samplingPacketInterval', kind: K_PKT_INTERVAL, type: 'uint' },
  { id: 306, name: 'samplingPacketSpace', kind: K_PKT_SPACE, type: 'uint' },
  { id: 309, name: 'samplingSize', kind: K_SAMPLING_SIZE, type: 'uint' },
  { id: 310, name: 'samplingPopulation', kind: K_SAMPLING_POPULATION, type: 'uint' },
  { id: 311, name: 'samplingProbability', kind: K_SAMPLING_PROBABILITY, type: 'float64' },
  { id: 315, name: 'dataLinkFrameSection', kind: K_FRAME_SECTION, type: 'octets' },
  { id: 322, name: 'observationTimeSeconds', kind: K_OBS_SEC, type: 'dateTimeSeconds' },
  { id: 323, name: 'observationTimeMilliseconds', kind: K_OBS_MS, type: 'dateTimeMilliseconds' },
  { id: 324, name: 'observationTimeMicroseconds', kind: K_OBS_US, type: 'ntp' },
  { id: 325, name: 'observationTimeNanoseconds', kind: K_OBS_NS, type: 'ntp' },
  // Cisco ASA NSEL (NetFlow v9 only): addresses and ports after translation.
  { id: 40001, name: 'NF_F_XLATE_SRC_ADDR_IPV4', kind: K_NAT_SRC4, type: 'ipv4' },
  { id: 40002, name: 'NF_F_XLATE_DST_ADDR_IPV4', kind: K_NAT_DST4, type: 'ipv4' },
  { id: 40003, name: 'NF_F_XLATE_SRC_PORT', kind: K_NAT_SRC_PORT, type: 'uint', width: 2 },
  { id: 40004, name: 'NF_F_XLATE_DST_PORT', kind: K_NAT_DST_PORT, type: 'uint', width: 2 },
];

/** id → entry; a dense array because ids are 16-bit and lookups happen per template field. */
const BY_ID: (ElementInfo | undefined)[] = new Array(65536);
for (const e of TABLE) BY_ID[e.id] = e;

export function elementInfo(id: number): ElementInfo | undefined {
  return BY_ID[id & 0xffff];
}

/** Marker for a variable-length field (RFC 7011 §7): the record carries the length. */
export const VARIABLE = 65535;

/**
 * The kind a field gets in a compiled template, given its exported length. Reduced-size
 * encoding (RFC 7011 §6.2) lets unsigned integers travel in fewer bytes and float64 in 4, so an
 * unsigned of 1 byte up to its type's width (8, or `width`: a port is unsigned16) is read at its
 * exported width; a wider one would read as a port above 65535 and is skipped. dateTime and
 * address types have fixed sizes.
 * A variable-length field is only of use as a frame section; everything else of variable length
 * is skipped.
 */
export function kindFor(id: number, length: number): number {
  const e = BY_ID[id & 0xffff];
  if (e === undefined) return K_SKIP;
  if (length === VARIABLE) return e.type === 'octets' ? e.kind : K_SKIP;
  switch (e.type) {
    case 'uint':
      return length >= 1 && length <= (e.width ?? 8) ? e.kind : K_SKIP;
    case 'ipv4':
      return length === 4 ? e.kind : K_SKIP;
    case 'ipv6':
      return length === 16 ? e.kind : K_SKIP;
    case 'dateTimeSeconds':
      return length === 4 ? e.kind : K_SKIP;
    case 'dateTimeMilliseconds':
    case 'ntp':
      return length === 8 ? e.kind : K_SKIP;
    case 'float64':
      return length === 8 || length === 4 ? e.kind : K_SKIP;
    case 'octets':
      return length > 0 ? e.kind : K_SKIP;
  }
}
