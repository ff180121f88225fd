/**
 * Packet-sampling exporters (Juniper, SRv6 and MPLS core routers) send no flow key, only the
 * first bytes of the sampled frame in dataLinkFrameSection (315). Addresses, ports and the IP
 * length are read from it with the decoder the packet path uses, so a sampled frame and a
 * captured one give the same answer (VLANs and MPLS labels skipped, a tunnel opened once).
 *
 * One addition the packet path does not need: Ethernet over MPLS (pseudowires on a carrier's
 * core links). After the bottom label comes the customer's Ethernet frame, usually behind the
 * 4-byte control word whose first nibble is 0 (RFC 4385); the packet decoder stops there
 * ("not IP"), and we decode the inner frame instead.
 */
import { decodePacket } from '../../decode/index.js';
import { newDecodedPacket, type DecodedPacket } from '../../decode/types.js';
import { LINKTYPE, newPacketView, type PacketView } from '../packet.js';
import { u16 } from './read.js';

const view = newPacketView();
const out = newDecodedPacket();

/**
 * The IP packet inside the Ethernet frame section b[off, off + len), or null when there is none
 * (or it is cut before its transport header). The result is reused by the next call.
 */
export function decodeFrame(b: Uint8Array, off: number, len: number): DecodedPacket | null {
  // dataLinkFrameType (408) could say 802.11; every exporter seen sends Ethernet, its default.
  const r = decodeAt(b, off, len);
  if (r === 'ok') return out;
  if (r !== 'not-ip') return null;
  const inner = pseudowire(b, off, off + len);
  return inner >= 0 && decodeAt(b, inner, off + len - inner) === 'ok' ? out : null;
}

function decodeAt(b: Uint8Array, off: number, len: number): ReturnType<typeof decodePacket> {
  const v: PacketView = view;
  v.data = Buffer.from(b.buffer, b.byteOffset + off, len);
  v.offset = 0;
  v.caplen = len;
  v.origLen = len;
  v.linkType = LINKTYPE.ETHERNET;
  return decodePacket(v, out);
}

/** Where the Ethernet frame carried over MPLS starts, or -1 when this is not such a frame. */
function pseudowire(b: Uint8Array, off: number, end: number): number {
  let p = off + 12;
  if (end - p < 2) return -1;
  let type = u16(b, p);
  p += 2;
  while (type === 0x8100 || type === 0x88a8) {
    if (end - p < 4) return -1;
    type = u16(b, p + 2);
    p += 4;
  }
  if (type !== 0x8847 && type !== 0x8848) return -1;
  for (;;) {
    if (end - p < 4) return -1;
    const bottom = (b[p + 2] & 1) === 1;
    p += 4;
    if (bottom) break;
  }
  if (p >= end) return -1;
  const nibble = b[p] >> 4;
  if (nibble === 4 || nibble === 6) return -1; // IP right after the labels: the packet decoder's case
  if (nibble === 0) p += 4; // control word
  return end - p >= 14 ? p : -1;
}
