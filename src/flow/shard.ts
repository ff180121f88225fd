import { PROTO_TCP, PROTO_UDP, type DecodeOutcome, type DecodedPacket } from '../decode/types.js';

/**
 * Which of `count` workers a TCP/UDP packet belongs to. The key is one address of the packet, the
 * same for both directions: the end with the higher port, which is the client's ephemeral port in
 * a client-server conversation (equal ports: the lower address). So a customer's connections to
 * pools, and the DNS answers it receives (from port 53 to its own port), all land on one worker:
 * flows never straddle workers, and a name learned from DNS is known where the connection that
 * follows it is seen.
 */
export function shardOf(pkt: DecodedPacket, count: number): number {
  const len = pkt.ipVersion === 4 ? 4 : 16;
  let useSrc: boolean;
  if (pkt.srcPort !== pkt.dstPort) useSrc = pkt.srcPort > pkt.dstPort;
  else {
    useSrc = true;
    for (let i = 0; i < len; i++) {
      if (pkt.src[i] !== pkt.dst[i]) {
        useSrc = pkt.src[i] < pkt.dst[i];
        break;
      }
    }
  }
  const a = useSrc ? pkt.src : pkt.dst;
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ a[i], 0x01000193);
  h ^= h >>> 15;
  return (h >>> 0) % count;
}

/**
 * The worker of `count` that takes a packet decoded with `outcome`: its shard for a TCP/UDP
 * packet; worker 0 for everything that belongs to no flow (not IP, damaged, later fragments, other
 * protocols), so that those are counted once.
 */
export function ownerOf(outcome: DecodeOutcome, pkt: DecodedPacket, count: number): number {
  if (count === 1 || outcome !== 'ok' || pkt.laterFragment || (pkt.proto !== PROTO_TCP && pkt.proto !== PROTO_UDP)) return 0;
  return shardOf(pkt, count);
}
