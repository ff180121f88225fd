/**
 * IPv4 and IPv6 down to the transport, with one level of tunnel removal (IP-in-IP, 6in4, 4in6,
 * 6in6, GRE). Bounds: d[off, capEnd) is what was captured; wireEnd is where the bytes on the wire
 * stopped, used only when a length field is 0 (TSO/GSO captures, jumbograms).
 */
import type { DecodedPacket, DecodeOutcome } from './types.js';
import { u16 } from './bytes.js';
import { greInner } from './gre.js';
import { newNetStart } from './link.js';
import { decodeTcp, decodeUdp } from './transport.js';

const P_HOPOPTS = 0;
const P_IPIP = 4;
const P_TCP = 6;
const P_UDP = 17;
const P_IPV6 = 41;
const P_ROUTING = 43;
const P_FRAGMENT = 44;
const P_GRE = 47;
const P_AH = 51;
const P_NONE = 59;
const P_DSTOPTS = 60;

/** Where GRE says its payload starts; one per module, reused (decoding is not re-entrant). */
const greNet = newNetStart();

/**
 * The IP header at off. `hint` is the version the layer below announced (0 = read the nibble);
 * `inner` is true for the header found inside a tunnel, which is never decapsulated again.
 */
export function decodeIp(
  d: Uint8Array,
  off: number,
  capEnd: number,
  wireEnd: number,
  hint: 0 | 4 | 6,
  out: DecodedPacket,
  inner: boolean,
): DecodeOutcome {
  if (off >= capEnd) return 'truncated';
  const v = d[off] >> 4;
  if (v === 4 && hint !== 6) return ipv4(d, off, capEnd, wireEnd, out, inner);
  if (v === 6 && hint !== 4) return ipv6(d, off, capEnd, wireEnd, out, inner);
  return 'malformed';
}

function ipv4(d: Uint8Array, off: number, capEnd: number, wireEnd: number, out: DecodedPacket, inner: boolean): DecodeOutcome {
  if (capEnd - off < 20) return 'truncated';
  const ihl = (d[off] & 0x0f) << 2;
  if (ihl < 20) return 'malformed';
  let total = u16(d, off + 2);
  // A capture on the sending host sees segments before the NIC splits them (TSO), often with a
  // total length of 0: the length on the wire is then the only truth there is.
  if (total === 0) total = wireEnd - off;
  if (total < ihl) return 'malformed';
  if (capEnd - off < ihl) return 'truncated';

  out.ipVersion = 4;
  const src = out.src;
  const dst = out.dst;
  for (let i = 0; i < 4; i++) {
    src[i] = d[off + 12 + i];
    dst[i] = d[off + 16 + i];
  }
  // Zeroed so the record never keeps bytes of an earlier (or outer IPv6) packet. A plain loop:
  // TypedArray#fill costs more than 12 stores at this size.
  for (let i = 4; i < 16; i++) {
    src[i] = 0;
    dst[i] = 0;
  }
  out.ipLength = total;
  out.laterFragment = false;

  const ipEnd = off + total;
  const end = ipEnd < capEnd ? ipEnd : capEnd;
  let proto = d[off + 9];
  let cur = off + ihl;
  if ((u16(d, off + 6) & 0x1fff) !== 0) return laterFragment(out, proto, cur);
  // AH in transport mode sits between IPv4 and the transport; its length is in 4-byte units + 2.
  while (proto === P_AH) {
    if (ipEnd - cur < 8) return 'malformed';
    if (end - cur < 8) return 'truncated';
    const hl = (d[cur + 1] + 2) << 2;
    if (ipEnd - cur < hl) return 'malformed';
    if (end - cur < hl) return 'truncated';
    proto = d[cur];
    cur += hl;
  }
  return upper(d, cur, end, ipEnd, proto, out, inner);
}

function ipv6(d: Uint8Array, off: number, capEnd: number, wireEnd: number, out: DecodedPacket, inner: boolean): DecodeOutcome {
  if (capEnd - off < 40) return 'truncated';
  const plen = u16(d, off + 4);
  let nh = d[off + 6];
  let total = 40 + plen;
  // Payload length 0 with something after the header: a jumbogram (RFC 2675) or a GSO/BIG TCP
  // capture; as for IPv4 TSO, the wire length is all we have.
  if (plen === 0 && nh !== P_NONE) total = wireEnd - off;

  out.ipVersion = 6;
  const src = out.src;
  const dst = out.dst;
  for (let i = 0; i < 16; i++) {
    src[i] = d[off + 8 + i];
    dst[i] = d[off + 24 + i];
  }
  out.ipLength = total;
  out.laterFragment = false;

  const ipEnd = off + total;
  const end = ipEnd < capEnd ? ipEnd : capEnd;
  let cur = off + 40;
  // Extension headers: every one is at least 8 bytes, so the loop ends within the packet.
  for (;;) {
    if (nh === P_HOPOPTS || nh === P_ROUTING || nh === P_DSTOPTS || nh === P_AH) {
      if (ipEnd - cur < 2) return 'malformed';
      if (end - cur < 2) return 'truncated';
      const hl = nh === P_AH ? (d[cur + 1] + 2) << 2 : (d[cur + 1] + 1) << 3;
      if (ipEnd - cur < hl) return 'malformed';
      if (end - cur < hl) return 'truncated';
      nh = d[cur];
      cur += hl;
    } else if (nh === P_FRAGMENT) {
      if (ipEnd - cur < 8) return 'malformed';
      if (end - cur < 8) return 'truncated';
      // The offset field is the top 13 bits, in 8-byte units: masking gives it in bytes.
      const fragOffset = u16(d, cur + 2) & 0xfff8;
      nh = d[cur];
      cur += 8;
      if (fragOffset !== 0) return laterFragment(out, nh, cur);
    } else {
      break;
    }
  }
  // ESP (50) and no-next-header (59) fall through upper() as "other": proto kept, no ports.
  return upper(d, cur, end, ipEnd, nh, out, inner);
}

/** What follows the IP header(s): transport, or a tunnel to open once. */
function upper(d: Uint8Array, off: number, end: number, ipEnd: number, proto: number, out: DecodedPacket, inner: boolean): DecodeOutcome {
  out.proto = proto;
  out.payloadOffset = off;
  if (proto === P_TCP) return decodeTcp(d, off, end, ipEnd, out);
  if (proto === P_UDP) return decodeUdp(d, off, end, ipEnd, out);
  // A tunnel inside a tunnel is reported as the first inner header with its protocol: one level
  // covers what networks deploy, and bounding it keeps crafted packets from nesting us deep.
  if (inner) return 'ok';
  if (proto === P_IPIP || proto === P_IPV6) {
    out.tunneled = true;
    return decodeIp(d, off, end, ipEnd, proto === P_IPIP ? 4 : 6, out, true);
  }
  if (proto === P_GRE) {
    const r = greInner(d, off, end, ipEnd, greNet);
    if (r === 'not-ip') return 'ok'; // a GRE packet we leave closed is still an IP packet
    if (r !== 'ok') return r;
    out.tunneled = true;
    return decodeIp(d, greNet.offset, end, ipEnd, greNet.version, out, true);
  }
  return 'ok';
}

function laterFragment(out: DecodedPacket, proto: number, off: number): DecodeOutcome {
  out.laterFragment = true;
  out.proto = proto;
  out.payloadOffset = off;
  return 'ok';
}
