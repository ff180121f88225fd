/**
 * Throughput of the record loop: a realistic v9 datagram (a Cisco-like 23-field template, 24
 * records) and an IPFIX one (ms times, IPv6, 8-byte counters), decoded in a loop. The figure is
 * a measurement, not a test (`npm run bench` runs it through `vitest bench`): speed is never
 * asserted in the test suite.
 */
import { bench, describe } from 'vitest';
import { FlowDecoder } from '../src/capture/netflow/decoder.js';
import type { FlowRecord } from '../src/capture/netflow/types.js';
import { concat, IE, ip4, ip6, ipfix, ipfixData, ipfixTemplates, u16, u32, u64, u8, v9, v9Data, v9Templates, type V9Field } from '../test/helpers/netflow-build.js';

const V9_FIELDS: V9Field[] = [
  [IE.packetDeltaCount, 4],
  [IE.octetDeltaCount, 4],
  [IE.sourceIPv4Address, 4],
  [IE.destinationIPv4Address, 4],
  [IE.ingressInterface, 4],
  [IE.egressInterface, 4],
  [IE.flowEndSysUpTime, 4],
  [IE.flowStartSysUpTime, 4],
  [IE.sourceTransportPort, 2],
  [IE.destinationTransportPort, 2],
  [16, 4],
  [17, 4],
  [18, 4],
  [9, 1],
  [13, 1],
  [IE.protocolIdentifier, 1],
  [IE.tcpControlBits, 1],
  [IE.ipClassOfService, 1],
  [61, 1],
  [89, 1],
  [IE.samplerId, 2],
  [234, 4],
  [235, 4],
];
function v9Record(i: number): Uint8Array {
  return concat(
    u32(1 + (i % 7)),
    u32(1500 * (1 + (i % 7))),
    ip4(`10.${i % 256}.1.${(i * 7) % 256}`),
    ip4(`198.51.100.${i % 256}`),
    u32(335),
    u32(450),
    u32(944_948_659),
    u32(944_948_000),
    u16(443),
    u16(10000 + i),
    u32(0),
    u32(0),
    ip4('194.149.174.63'),
    u8(24),
    u8(14),
    u8(6),
    u8(0x10),
    u8(0),
    u8(0),
    u8(0x40),
    u16(1),
    u32(1610612738),
    u32(1610612738),
  );
}

const IPFIX_FIELDS = [
  { id: IE.sourceIPv6Address, len: 16 },
  { id: IE.destinationIPv6Address, len: 16 },
  { id: IE.octetDeltaCount, len: 8 },
  { id: IE.packetDeltaCount, len: 8 },
  { id: IE.flowStartMilliseconds, len: 8 },
  { id: IE.flowEndMilliseconds, len: 8 },
  { id: IE.sourceTransportPort, len: 2 },
  { id: IE.destinationTransportPort, len: 2 },
  { id: IE.protocolIdentifier, len: 1 },
  { id: IE.tcpControlBits, len: 2 },
  { id: IE.ingressInterface, len: 4 },
  { id: IE.egressInterface, len: 4 },
];
function ipfixRecord(i: number): Uint8Array {
  const t = Date.UTC(2024, 0, 1) + i;
  return concat(ip6(`2001:db8::${i.toString(16)}`), ip6('2001:db8:1::1'), u64(1000 + i), u64(3), u64(t), u64(t + 10), u16(40000), u16(443), u8(6), u16(0x18), u32(1), u32(2));
}

function decoderFor(template: Uint8Array) {
  const dec = new FlowDecoder();
  let sink = 0;
  const onRecord = (r: FlowRecord) => {
    sink += r.bytes;
  };
  dec.decode(template, 0, template.length, '192.0.2.1', 0, onRecord);
  return (data: Uint8Array) => {
    dec.decode(data, 0, data.length, '192.0.2.1', 0, onRecord);
    return sink;
  };
}

const v9Recs = Array.from({ length: 24 }, (_, i) => v9Record(i));
const v9Header = { sysUptime: 944_951_609, unixSecs: 1_647_285_928, sequence: 1, sourceId: 0 };
const v9Datagram = v9(v9Header, v9Data(260, ...v9Recs));
const v9Decode = decoderFor(v9({ ...v9Header, sequence: 0 }, v9Templates({ id: 260, fields: V9_FIELDS })));

const ipfixRecs = Array.from({ length: 16 }, (_, i) => ipfixRecord(i));
const ipfixHeader = { exportTime: 1_704_067_200, sequence: 0, domain: 1 };
const ipfixDatagram = ipfix(ipfixHeader, ipfixData(256, ipfixRecs));
const ipfixDecode = decoderFor(ipfix(ipfixHeader, ipfixTemplates({ id: 256, fields: IPFIX_FIELDS })));

// One iteration decodes one datagram: records/s = iterations/s x records per datagram (24 and 16).
describe('flow-record decoding (records/s = hz x records a datagram)', () => {
  bench('NetFlow v9 datagram, 24 records of 59 bytes', () => {
    v9Decode(v9Datagram);
  });
  bench('IPFIX datagram, 16 IPv6 records of 87 bytes', () => {
    ipfixDecode(ipfixDatagram);
  });
});
