/**
 * GRE (RFC 2784/2890, and PPTP's version 1 from RFC 2637): find the network header it carries.
 * Only the GRE header (and what names the payload: Ethernet, ERSPAN, PPP, MPLS) is read here;
 * the IP decoder calls this once for an outer packet and decodes what it finds as the inner one.
 * 'not-ip' means "leave it as a GRE packet": source-routed GRE, PPP control traffic or encrypted
 * PPP, a payload type we don't know.
 */
import type { DecodeOutcome } from './types.js';
import { u16 } from './bytes.js';
import { decodeEthernet, decodePpp, etherTypePayload, type NetStart } from './link.js';

const GRE_C = 0x8000; // checksum + reserved1 present
const GRE_R = 0x4000; // RFC 1701 routing (obsolete)
const GRE_K = 0x2000; // key present
const GRE_S = 0x1000; // sequence number present
const GRE_A = 0x0080; // PPTP: acknowledgment number present
const GRE_VERSION = 0x0007;
const GRE_PPP = 0x880b;

const GRE_TEB = 0x6558; // transparent Ethernet bridging: a whole Ethernet frame
const GRE_ERSPAN_2 = 0x88be; // ERSPAN type I (no S bit) and II: mirrored Ethernet frames
const GRE_ERSPAN_3 = 0x22eb;

/**
 * GRE at d[off, end), inside an IP packet that ends at ipEnd (end <= ipEnd; a header running
 * past ipEnd is malformed, past end only cut by the snap length).
 */
export function greInner(d: Uint8Array, off: number, end: number, ipEnd: number, r: NetStart): DecodeOutcome {
  if (ipEnd - off < 4) return 'malformed';
  if (end - off < 4) return 'truncated';
  const flags = u16(d, off);
  const proto = u16(d, off + 2);
  if ((flags & GRE_VERSION) === 1) return pptp(d, off, end, ipEnd, flags, proto, r);
  // Routing needs a walk over source-route entries nobody has sent since the 1990s: stays GRE.
  if ((flags & GRE_VERSION) !== 0 || (flags & GRE_R) !== 0) return 'not-ip';
  let hl = 4;
  if ((flags & GRE_C) !== 0) hl += 4;
  if ((flags & GRE_K) !== 0) hl += 4;
  if ((flags & GRE_S) !== 0) hl += 4;
  if (ipEnd - off < hl) return 'malformed';
  if (end - off < hl) return 'truncated';
  off += hl;
  switch (proto) {
    case GRE_TEB:
      return decodeEthernet(d, off, end, r);
    case GRE_ERSPAN_2:
      // Type I has no sequence number and no ERSPAN header; type II has both (8-byte header, version 1).
      if ((flags & GRE_S) === 0) return decodeEthernet(d, off, end, r);
      return erspan(d, off, end, ipEnd, 8, 1, r);
    case GRE_ERSPAN_3:
      return erspan(d, off, end, ipEnd, 12, 2, r);
    default:
      return etherTypePayload(proto, d, off, end, r);
  }
}

/**
 * PPTP's enhanced GRE (RFC 2637 §4.1, version 1): key always present (payload length, call id),
 * sequence and acknowledgment numbers optional, then a PPP frame. VPN users' traffic rides here.
 */
function pptp(d: Uint8Array, off: number, end: number, ipEnd: number, flags: number, proto: number, r: NetStart): DecodeOutcome {
  if (proto !== GRE_PPP || (flags & (GRE_C | GRE_R)) !== 0 || (flags & GRE_K) === 0) return 'not-ip';
  let hl = 8;
  if ((flags & GRE_S) !== 0) hl += 4;
  if ((flags & GRE_A) !== 0) hl += 4;
  if (ipEnd - off < hl) return 'malformed';
  if (ipEnd - off === hl) return 'not-ip'; // an acknowledgment alone carries no PPP frame
  if (end - off < hl) return 'truncated';
  return decodePpp(d, off + hl, end, r);
}

/** ERSPAN II/III header, then the mirrored Ethernet frame. Mirror sessions are how many taps
 * reach a sensor, so the frame inside is the traffic we are looking for. */
function erspan(d: Uint8Array, off: number, end: number, ipEnd: number, hl: number, version: number, r: NetStart): DecodeOutcome {
  if (ipEnd - off < hl) return 'malformed';
  if (end - off < hl) return 'truncated';
  if (d[off] >> 4 !== version) return 'not-ip';
  // Type III: the O bit (last bit of the header) announces an 8-byte platform-specific subheader.
  if (version === 2 && (d[off + 11] & 1) !== 0) hl += 8;
  if (ipEnd - off < hl) return 'malformed';
  if (end - off < hl) return 'truncated';
  return decodeEthernet(d, off + hl, end, r);
}
