/**
 * A packet decoded down to its transport header. One instance is reused for every packet;
 * addresses are kept as bytes in fixed buffers so that decoding allocates nothing.
 */
export interface DecodedPacket {
  /** 4 or 6; 0 when the packet is not IP (or could not be decoded). */
  ipVersion: 0 | 4 | 6;
  /** Source address: 4 bytes used for IPv4, 16 for IPv6. */
  src: Uint8Array;
  dst: Uint8Array;
  /** IP protocol number of the innermost transport (6 TCP, 17 UDP, ...). */
  proto: number;
  srcPort: number;
  dstPort: number;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10). 0 for non-TCP. */
  tcpFlags: number;
  tcpSeq: number;
  /** Length of the IP packet (header + payload) as the IP header says: what we count as bytes. */
  ipLength: number;
  /** Transport payload: payloadOffset/payloadLength index the PacketView's data buffer. */
  payloadOffset: number;
  payloadLength: number;
  /**
   * True for an IPv4/IPv6 fragment that is not the first one: it has no transport header,
   * so ports are 0 and the payload is not inspected.
   */
  laterFragment: boolean;
  /** True when a tunnel (IP-in-IP, 6in4, 4in6, GRE) was removed to reach this IP header. */
  tunneled: boolean;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    ipVersion: 0,
    src: new Uint8Array(16),
    dst: new Uint8Array(16),
    proto: 0,
    srcPort: 0,
    dstPort: 0,
    tcpFlags: 0,
    tcpSeq: 0,
    ipLength: 0,
    payloadOffset: 0,
    payloadLength: 0,
    laterFragment: false,
    tunneled: false,
  };
}

/** Why a packet did not decode to IP; counted per input. */
export type DecodeOutcome = 'ok' | 'not-ip' | 'unsupported-link' | 'truncated' | 'malformed';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
