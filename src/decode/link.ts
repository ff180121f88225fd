/**
 * Link layers: find where the IP header starts in a frame. Every function reads only
 * d[off, end) and answers with a DecodeOutcome (interned string constants: returning one
 * allocates nothing); on 'ok' the start and the IP version the link layer announced are left in
 * a caller-owned NetStart, so nothing is created per packet.
 */
import { LINKTYPE } from '../capture/packet.js';
import type { DecodeOutcome } from './types.js';
import { u16, u32, u32le } from './bytes.js';

/** Where the network header starts; version 0 = the link layer does not say (raw IP). */
export interface NetStart {
  offset: number;
  version: 0 | 4 | 6;
}

export function newNetStart(): NetStart {
  return { offset: 0, version: 0 };
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD1 = 0x9100; // pre-802.1ad vendor S-tags, still seen on older switches
const ETH_QINQ_OLD2 = 0x9200;
const ETH_MPLS_UC = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_PPPOE_SESSION = 0x8864;

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const PPP_MPLS_UC = 0x0281;
const PPP_MPLS_MC = 0x0283;

/** Cisco HDLC address bytes (unicast, broadcast); libpcap allows them on LINKTYPE_PPP_HDLC. */
const CHDLC_UNICAST = 0x0f;
const CHDLC_BROADCAST = 0x8f;

export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE.NULL:
    case LINKTYPE.ETHERNET:
    case LINKTYPE.RAW:
    case LINKTYPE.DLT_RAW_12:
    case LINKTYPE.DLT_RAW_14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case LINKTYPE.LOOP:
    case LINKTYPE.LINUX_SLL:
    case LINKTYPE.LINUX_SLL2:
    case LINKTYPE.PPP:
    case LINKTYPE.PPP_HDLC:
      return true;
    default:
      return false;
  }
}

/** Strip the link header of a captured frame d[off, end). */
export function decodeLink(linkType: number, d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return decodeEthernet(d, off, end, r);
    case LINKTYPE.RAW:
    case LINKTYPE.DLT_RAW_12:
    case LINKTYPE.DLT_RAW_14:
      return found(r, off, 0);
    case LINKTYPE.IPV4:
      return found(r, off, 4);
    case LINKTYPE.IPV6:
      return found(r, off, 6);
    case LINKTYPE.LINUX_SLL:
      if (end - off < 16) return 'truncated';
      return etherTypePayload(u16(d, off + 14), d, off + 16, end, r);
    case LINKTYPE.LINUX_SLL2:
      if (end - off < 20) return 'truncated';
      return etherTypePayload(u16(d, off), d, off + 20, end, r);
    case LINKTYPE.NULL: {
      if (end - off < 4) return 'truncated';
      // Host byte order of the machine that captured, not ours: a family that only fits in the
      // high half means the other order (the same test Wireshark makes).
      let family = u32le(d, off);
      if ((family & 0xffff0000) !== 0) family = u32(d, off);
      return loopbackFamily(family, off + 4, r);
    }
    case LINKTYPE.LOOP:
      if (end - off < 4) return 'truncated';
      return loopbackFamily(u32(d, off), off + 4, r);
    case LINKTYPE.PPP:
      return ppp(d, off, end, r, false);
    case LINKTYPE.PPP_HDLC:
      return ppp(d, off, end, r, true);
    default:
      return 'unsupported-link';
  }
}

/** An Ethernet II frame starting at off (also used for Ethernet carried in GRE). */
export function decodeEthernet(d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  if (end - off < 14) return 'truncated';
  // A type below 0x0600 is an 802.3 length (LLC/SNAP): nothing we meet there carries IP.
  return etherTypePayload(u16(d, off + 12), d, off + 14, end, r);
}

/**
 * What follows an EtherType at off: VLAN tags and stacked S-tags are peeled in a loop, MPLS and
 * PPPoE sessions lead to IP, everything else (ARP, PPPoE discovery, LLDP, ...) is not IP.
 * Shared by Ethernet, Linux cooked captures and GRE, which all name their payload by EtherType.
 */
export function etherTypePayload(type: number, d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  for (;;) {
    switch (type) {
      case ETH_IPV4:
        return found(r, off, 4);
      case ETH_IPV6:
        return found(r, off, 6);
      case ETH_VLAN:
      case ETH_QINQ:
      case ETH_QINQ_OLD1:
      case ETH_QINQ_OLD2:
        if (end - off < 4) return 'truncated';
        type = u16(d, off + 2);
        off += 4;
        continue;
      case ETH_MPLS_UC:
      case ETH_MPLS_MC:
        return mpls(d, off, end, r);
      case ETH_PPPOE_SESSION:
        return pppoe(d, off, end, r);
      default:
        return 'not-ip';
    }
  }
}

/** MPLS label stack: 4-byte entries until the bottom-of-stack bit; the payload type is not
 * written anywhere, so the IP version nibble decides (what every decoder does). */
function mpls(d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  for (;;) {
    if (end - off < 4) return 'truncated';
    const bottom = d[off + 2] & 1;
    off += 4;
    if (bottom !== 0) break;
  }
  if (off >= end) return 'truncated';
  const v = d[off] >> 4;
  if (v === 4) return found(r, off, 4);
  if (v === 6) return found(r, off, 6);
  return 'not-ip'; // pseudowire control word (Ethernet over MPLS), or something else entirely
}

/** PPPoE session stage: version/type 0x11, code 0, session id, length, then a PPP protocol. */
function pppoe(d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  if (end - off < 8) return 'truncated';
  if (d[off] !== 0x11 || d[off + 1] !== 0) return 'malformed';
  return pppProtocol(u16(d, off + 6), d, off + 8, end, r);
}

/**
 * PPP (LINKTYPE_PPP) and PPP in HDLC-like framing (LINKTYPE_PPP_HDLC). The ff 03
 * address/control pair is optional on both in practice; the protocol field may be compressed to
 * one byte (RFC 1661 §6.5), recognisable because a full protocol's first byte is always even.
 */
function ppp(d: Uint8Array, off: number, end: number, r: NetStart, hdlc: boolean): DecodeOutcome {
  if (off >= end) return 'truncated';
  const first = d[off];
  if (hdlc && (first === CHDLC_UNICAST || first === CHDLC_BROADCAST)) {
    // Cisco HDLC: address, control 0, then an EtherType.
    if (end - off < 4) return 'truncated';
    return etherTypePayload(u16(d, off + 2), d, off + 4, end, r);
  }
  if (first === 0xff) {
    if (end - off < 2) return 'truncated';
    if (d[off + 1] !== 0x03) return 'malformed';
    off += 2;
    if (off >= end) return 'truncated';
  }
  if ((d[off] & 1) !== 0) return pppProtocol(d[off], d, off + 1, end, r);
  if (end - off < 2) return 'truncated';
  return pppProtocol(u16(d, off), d, off + 2, end, r);
}

/** A PPP frame as PPTP carries it in GRE: the same rules as LINKTYPE_PPP. */
export function decodePpp(d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  return ppp(d, off, end, r, false);
}

function pppProtocol(proto: number, d: Uint8Array, off: number, end: number, r: NetStart): DecodeOutcome {
  switch (proto) {
    case PPP_IPV4:
      return found(r, off, 4);
    case PPP_IPV6:
      return found(r, off, 6);
    case PPP_MPLS_UC:
    case PPP_MPLS_MC:
      return mpls(d, off, end, r);
    default:
      return 'not-ip'; // LCP, IPCP, CHAP, ... keep the link up but carry no traffic of interest
  }
}

/** Address families of the BSD loopback headers: AF_INET is 2 everywhere, AF_INET6 is 24
 * (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS) depending on the capturing OS. */
function loopbackFamily(family: number, off: number, r: NetStart): DecodeOutcome {
  switch (family) {
    case 2:
      return found(r, off, 4);
    case 24:
    case 28:
    case 30:
      return found(r, off, 6);
    default:
      return 'not-ip';
  }
}

function found(r: NetStart, off: number, version: 0 | 4 | 6): DecodeOutcome {
  r.offset = off;
  r.version = version;
  return 'ok';
}
