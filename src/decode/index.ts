/**
 * The decode stage: link layer → IP → TCP/UDP, in place. One call per packet, no allocation:
 * the result goes into the caller's reused DecodedPacket, and offsets index the packet's buffer.
 */
import type { PacketView } from '../capture/packet.js';
import type { DecodedPacket, DecodeOutcome } from './types.js';
import { decodeIp } from './ip.js';
import { decodeLink, newNetStart } from './link.js';

export { formatAddress } from './address.js';
export { isSupportedLinkType } from './link.js';

const net = newNetStart();

/**
 * Decode p.data[p.offset, p.offset + p.caplen) into `out`. Only 'ok' leaves a usable record;
 * on other outcomes fields may be partly filled and must not be used.
 */
export function decodePacket(p: PacketView, out: DecodedPacket): DecodeOutcome {
  out.ipVersion = 0;
  out.proto = 0;
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  out.tcpSeq = 0;
  out.ipLength = 0;
  out.payloadOffset = 0;
  out.payloadLength = 0;
  out.laterFragment = false;
  out.tunneled = false;

  const d = p.data;
  const start = p.offset;
  let capEnd = start + p.caplen;
  // A reader bug must not turn into reads past the buffer (undefined bytes, NaN lengths).
  if (capEnd > d.length) capEnd = d.length;
  let wireEnd = start + p.origLen;
  if (wireEnd < capEnd) wireEnd = capEnd;

  const r = decodeLink(p.linkType, d, start, capEnd, net);
  if (r !== 'ok') return r;
  return decodeIp(d, net.offset, capEnd, wireEnd, net.version, out, false);
}
