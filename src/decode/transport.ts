/**
 * TCP and UDP headers. `end` is where usable bytes stop (the IP packet's end or the capture's,
 * whichever comes first) and `ipEnd` where the IP header says the packet stops: a transport
 * header running past ipEnd is malformed, one only running past end was cut by the snap length.
 */
import type { DecodedPacket, DecodeOutcome } from './types.js';
import { u16, u32 } from './bytes.js';

export function decodeTcp(d: Uint8Array, off: number, end: number, ipEnd: number, out: DecodedPacket): DecodeOutcome {
  if (ipEnd - off < 20) return 'malformed';
  if (end - off < 20) return 'truncated';
  const hl = (d[off + 12] >> 4) << 2;
  if (hl < 20 || ipEnd - off < hl) return 'malformed';
  if (end - off < hl) return 'truncated';
  out.srcPort = u16(d, off);
  out.dstPort = u16(d, off + 2);
  out.tcpSeq = u32(d, off + 4);
  out.tcpFlags = d[off + 13];
  out.payloadOffset = off + hl;
  out.payloadLength = end - off - hl;
  return 'ok';
}

export function decodeUdp(d: Uint8Array, off: number, end: number, ipEnd: number, out: DecodedPacket): DecodeOutcome {
  if (ipEnd - off < 8) return 'malformed';
  if (end - off < 8) return 'truncated';
  const len = u16(d, off + 4);
  let udpEnd = off + len;
  if (len < 8) {
    // 0 is what a jumbogram (RFC 2675) or a GSO super-packet carries: the IP length rules.
    if (len !== 0) return 'malformed';
    udpEnd = ipEnd;
  }
  // A UDP length past what IP or the capture holds is clipped rather than refused: the ports are
  // still right, and the payload we hand on is only ever bytes that exist.
  if (udpEnd > end) udpEnd = end;
  out.srcPort = u16(d, off);
  out.dstPort = u16(d, off + 2);
  out.payloadOffset = off + 8;
  out.payloadLength = udpEnd - off - 8;
  return 'ok';
}
