import type { PacketView } from '../../src/capture/packet.js';
import { formatAddress } from '../../src/decode/index.js';
import type { DecodedPacket } from '../../src/decode/types.js';

/** The decoded record as plain values (addresses as text, payload as its bytes), for toEqual. */
export function decodedSummary(out: DecodedPacket, p: PacketView) {
  const v = out.ipVersion === 4 ? 4 : 6;
  return {
    ipVersion: out.ipVersion,
    src: out.ipVersion === 0 ? '' : formatAddress(out.src, v),
    dst: out.ipVersion === 0 ? '' : formatAddress(out.dst, v),
    proto: out.proto,
    srcPort: out.srcPort,
    dstPort: out.dstPort,
    tcpFlags: out.tcpFlags,
    tcpSeq: out.tcpSeq,
    ipLength: out.ipLength,
    payload: Buffer.from(p.data.subarray(out.payloadOffset, out.payloadOffset + out.payloadLength)).toString('latin1'),
    laterFragment: out.laterFragment,
    tunneled: out.tunneled,
  };
}
