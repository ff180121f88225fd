/**
 * Packet builders for tests: real bytes, laid out from the RFCs (IPv4 791, IPv6 8200, TCP 9293,
 * UDP 768, GRE 2784/2890, 802.1Q/ad, MPLS 3032, PPPoE 2516, PPP 1661/1662) and the tcpdump
 * LINKTYPE pages, never from our decoder. Shared by every test of the project, so a decoder bug
 * cannot hide behind a builder that shares it.
 *
 * IP builders fill in the header checksum, and the TCP/UDP checksum too when the segment is whole
 * and its checksum field is still 0, so fixtures open cleanly in Wireshark.
 */
import { newPacketView, type PacketView } from '../../src/capture/packet.js';

const enc = new TextEncoder();

export type Bytes = Uint8Array | string;

/** A string becomes its UTF-8 bytes. */
export function toBytes(x: Bytes | undefined): Uint8Array {
  if (x === undefined) return new Uint8Array(0);
  return typeof x === 'string' ? enc.encode(x) : x;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function be16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

function be32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function put16(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 8) & 0xff;
  b[i + 1] = v & 0xff;
}

function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = (v >>> 24) & 0xff;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/** Internet checksum (RFC 1071) over the concatenation of parts. */
export function inetChecksum(...parts: Uint8Array[]): number {
  const b = concat(...parts);
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** '192.0.2.1' → 4 bytes, '2001:db8::1' (also with a trailing dotted quad) → 16 bytes. */
export function parseAddress(s: string): Uint8Array {
  return s.includes(':') ? parseV6(s) : parseV4(s);
}

function parseV4(s: string): Uint8Array {
  const parts = s.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address ${s}`);
  return Uint8Array.from(
    parts.map((p) => {
      const n = Number(p);
      if (!/^\d{1,3}$/.test(p) || n > 255) throw new Error(`bad IPv4 address ${s}`);
      return n;
    }),
  );
}

function parseV6(s: string): Uint8Array {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // a trailing dotted quad stands for the last two groups
    const v4 = parseV4(text.slice(lastColon + 1));
    text = text.slice(0, lastColon + 1) + (((v4[0]! << 8) | v4[1]!).toString(16)) + ':' + (((v4[2]! << 8) | v4[3]!).toString(16));
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${s}`);
  const groups = (h: string) => (h === '' ? [] : h.split(':').map((g) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`bad IPv6 address ${s}`);
    return parseInt(g, 16);
  }));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const known = head.length + rest.length;
  if (halves.length === 1 && known !== 8) throw new Error(`bad IPv6 address ${s}`);
  if (halves.length === 2 && known > 7) throw new Error(`bad IPv6 address ${s}`);
  const all = [...head, ...new Array<number>(8 - known).fill(0), ...rest];
  const out = new Uint8Array(16);
  all.forEach((g, i) => put16(out, 2 * i, g));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Network layer

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  payload: Uint8Array;
  id?: number;
  /** In bytes; must be a multiple of 8. */
  fragOffset?: number;
  moreFragments?: boolean;
  dontFragment?: boolean;
  ttl?: number;
  tos?: number;
  /** Raw option bytes; padded with zeros (End of Option List) to a multiple of 4. */
  options?: Uint8Array;
}

export function ipv4(o: Ipv4Options): Uint8Array {
  const opts = pad(o.options ?? new Uint8Array(0), 4);
  const ihl = 20 + opts.length;
  if (ihl > 60) throw new Error('IPv4 options longer than 40 bytes');
  const frag = o.fragOffset ?? 0;
  if (frag % 8 !== 0) throw new Error('fragOffset must be a multiple of 8');
  const src = parseV4(o.src);
  const dst = parseV4(o.dst);
  const whole = frag === 0 && !o.moreFragments;
  const payload = whole ? withTransportChecksum(o.proto, pseudo4(src, dst, o.proto, o.payload.length), o.payload) : o.payload;
  const h = new Uint8Array(ihl);
  h[0] = 0x40 | (ihl >> 2);
  h[1] = o.tos ?? 0;
  put16(h, 2, ihl + payload.length);
  put16(h, 4, o.id ?? 0x1234);
  put16(h, 6, (o.dontFragment ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) | (frag >> 3));
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  h.set(src, 12);
  h.set(dst, 16);
  h.set(opts, 20);
  put16(h, 10, inetChecksum(h));
  return concat(h, payload);
}

export interface Ipv6ExtHeader {
  /** Header type: 0 hop-by-hop, 43 routing, 44 fragment, 51 AH, 60 destination options. */
  type: number;
  /**
   * Everything after the first two bytes (next header and length, which the builder writes):
   * padded with zeros to the header's unit. For 44 use fragmentHeader().
   */
  body: Uint8Array;
}

export interface Ipv6Options {
  src: string;
  dst: string;
  /** The protocol of `payload` (what the last extension header, or the IPv6 header, names). */
  nextHeader: number;
  payload: Uint8Array;
  extHeaders?: Ipv6ExtHeader[];
  hopLimit?: number;
  flowLabel?: number;
}

/** Body of an IPv6 fragment header (type 44): offset in bytes (multiple of 8), M flag, id. */
export function fragmentHeader(offsetBytes: number, more: boolean, id = 0xabcd): Uint8Array {
  if (offsetBytes % 8 !== 0) throw new Error('fragment offset must be a multiple of 8');
  const b = new Uint8Array(6);
  put16(b, 0, offsetBytes | (more ? 1 : 0));
  put32(b, 2, id);
  return b;
}

export function ipv6(o: Ipv6Options): Uint8Array {
  const exts = o.extHeaders ?? [];
  const src = parseV6(o.src);
  const dst = parseV6(o.dst);
  // Checksums only when the pseudo-header is simple: no fragmenting, no routing to a final address.
  const simple = exts.every((e) => e.type !== 44 && e.type !== 43);
  const payload = simple ? withTransportChecksum(o.nextHeader, pseudo6(src, dst, o.nextHeader, o.payload.length), o.payload) : o.payload;
  const built: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const next = i + 1 < exts.length ? exts[i + 1]!.type : o.nextHeader;
    let h: Uint8Array;
    if (e.type === 44) {
      h = concat(Uint8Array.of(next, 0), e.body);
      if (h.length !== 8) throw new Error('fragment header body must be 6 bytes');
    } else if (e.type === 51) {
      h = pad(concat(Uint8Array.of(next, 0), e.body), 8); // IPv6 AH: a multiple of 8 (RFC 4302 §2.2)
      h[1] = h.length / 4 - 2;
    } else {
      h = pad(concat(Uint8Array.of(next, 0), e.body), 8);
      h[1] = h.length / 8 - 1;
    }
    built.push(h);
  }
  const rest = concat(...built, payload);
  const h = new Uint8Array(40);
  put32(h, 0, (6 << 28) | ((o.flowLabel ?? 0) & 0xfffff));
  put16(h, 4, rest.length);
  h[6] = exts.length > 0 ? exts[0]!.type : o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  h.set(src, 8);
  h.set(dst, 24);
  return concat(h, rest);
}

function pseudo4(src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  return concat(src, dst, Uint8Array.of(0, proto), be16(len));
}

function pseudo6(src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  return concat(src, dst, be32(len), Uint8Array.of(0, 0, 0, proto));
}

/** A copy of a whole TCP/UDP segment with its checksum filled in, when it is still 0. */
function withTransportChecksum(proto: number, pseudo: Uint8Array, seg: Uint8Array): Uint8Array {
  const at = proto === 6 ? 16 : proto === 17 ? 6 : -1;
  if (at < 0 || seg.length < (proto === 6 ? 20 : 8) || seg[at] !== 0 || seg[at + 1] !== 0) return seg;
  if (proto === 17 && ((seg[4]! << 8) | seg[5]!) !== seg.length) return seg; // a deliberately odd UDP length
  const out = Uint8Array.from(seg);
  let sum = inetChecksum(pseudo, out);
  if (proto === 17 && sum === 0) sum = 0xffff; // 0 means "no checksum" in UDP
  put16(out, at, sum);
  return out;
}

function pad(b: Uint8Array, unit: number): Uint8Array {
  const n = Math.ceil(b.length / unit) * unit;
  if (n === b.length) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Transport

export const TCP_FLAGS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };

/** 'SA' → 0x12; a number is taken as the flags byte. */
export function tcpFlags(f: number | string): number {
  if (typeof f === 'number') return f;
  let v = 0;
  for (const c of f.toUpperCase()) {
    const bit = TCP_FLAGS[c];
    if (bit === undefined) throw new Error(`unknown TCP flag ${c}`);
    v |= bit;
  }
  return v;
}

export interface TcpOptions {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** Default 'PA' with a payload, 'A' without. */
  flags?: number | string;
  payload?: Bytes;
  /** Raw TCP option bytes, padded with zeros (End of Option List) to a multiple of 4. */
  options?: Uint8Array;
  window?: number;
}

export function tcp(o: TcpOptions): Uint8Array {
  const payload = toBytes(o.payload);
  const opts = pad(o.options ?? new Uint8Array(0), 4);
  const hl = 20 + opts.length;
  if (hl > 60) throw new Error('TCP options longer than 40 bytes');
  const h = new Uint8Array(hl);
  put16(h, 0, o.srcPort);
  put16(h, 2, o.dstPort);
  put32(h, 4, o.seq ?? 1);
  put32(h, 8, o.ack ?? 0);
  h[12] = (hl >> 2) << 4;
  h[13] = tcpFlags(o.flags ?? (payload.length > 0 ? 'PA' : 'A'));
  put16(h, 14, o.window ?? 65535);
  h.set(opts, 20);
  return concat(h, payload);
}

export interface UdpOptions {
  srcPort: number;
  dstPort: number;
  payload?: Bytes;
}

export function udp(o: UdpOptions): Uint8Array {
  const payload = toBytes(o.payload);
  const h = new Uint8Array(8);
  put16(h, 0, o.srcPort);
  put16(h, 2, o.dstPort);
  put16(h, 4, 8 + payload.length);
  return concat(h, payload);
}

/** A whole IP packet holding one TCP segment; IPv4 or IPv6 from the address form. */
export function tcpPacket(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payload?: Bytes,
  opts: { flags?: number | string; seq?: number; ack?: number } = {},
): Uint8Array {
  const seg = tcp({ srcPort: sport, dstPort: dport, payload, ...opts });
  return src.includes(':') ? ipv6({ src, dst, nextHeader: 6, payload: seg }) : ipv4({ src, dst, proto: 6, payload: seg });
}

/** A whole IP packet holding one UDP datagram; IPv4 or IPv6 from the address form. */
export function udpPacket(src: string, dst: string, sport: number, dport: number, payload?: Bytes): Uint8Array {
  const dg = udp({ srcPort: sport, dstPort: dport, payload });
  return src.includes(':') ? ipv6({ src, dst, nextHeader: 17, payload: dg }) : ipv4({ src, dst, proto: 17, payload: dg });
}

// ---------------------------------------------------------------------------------------------
// Link layers

function ipVersion(payload: Uint8Array): 4 | 6 {
  const v = payload.length > 0 ? payload[0]! >> 4 : 0;
  if (v !== 4 && v !== 6) throw new Error('payload is not an IP packet: give the type explicitly');
  return v;
}

/** EtherType of an IP packet from its version nibble. */
export function etherTypeOf(payload: Uint8Array): number {
  return ipVersion(payload) === 4 ? 0x0800 : 0x86dd;
}

export const SRC_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
export const DST_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x02);

export interface EthernetOptions {
  /** The type of `payload` (default from its IP version nibble). */
  etherType?: number;
  /** 802.1Q VLAN ids, outermost first. */
  vlans?: number[];
  /** Tag the outermost VLAN as an S-tag: true = 0x88a8, or the TPID to use (0x9100, 0x9200). */
  qinq?: boolean | number;
  /** MPLS labels, top of stack first (bottom-of-stack set on the last). */
  mpls?: number[];
  /** Use the MPLS multicast EtherType 0x8848. */
  mplsMulticast?: boolean;
  /** Carry the payload in a PPPoE session (inside any VLAN tags). */
  pppoe?: boolean;
  /** Pad the frame to the 60-byte Ethernet minimum, as a receiving NIC shows it. */
  pad?: boolean;
}

export function ethernet(payload: Uint8Array, o: EthernetOptions = {}): Uint8Array {
  let body = payload;
  let type: number;
  if (o.pppoe) {
    const pppProto = o.etherType ?? (ipVersion(payload) === 4 ? 0x0021 : 0x0057);
    const h = new Uint8Array(8);
    h[0] = 0x11; // version 1, type 1
    h[1] = 0x00; // code: session data
    put16(h, 2, 0x0001);
    put16(h, 4, payload.length + 2);
    put16(h, 6, pppProto);
    body = concat(h, payload);
    type = 0x8864;
  } else if (o.mpls && o.mpls.length > 0) {
    body = concat(mplsStack(o.mpls), payload);
    type = o.mplsMulticast ? 0x8848 : 0x8847;
  } else {
    type = o.etherType ?? etherTypeOf(payload);
  }
  const vlans = o.vlans ?? [];
  const tags: Uint8Array[] = [];
  vlans.forEach((id, i) => {
    const tpid = i === 0 && o.qinq ? (typeof o.qinq === 'number' ? o.qinq : 0x88a8) : 0x8100;
    tags.push(concat(be16(tpid), be16(id & 0x0fff)));
  });
  const frame = concat(DST_MAC, SRC_MAC, ...tags, be16(type), body);
  return o.pad && frame.length < 60 ? concat(frame, new Uint8Array(60 - frame.length)) : frame;
}

/** MPLS label stack entries (label, TC 0, TTL 64), bottom-of-stack on the last. */
export function mplsStack(labels: number[]): Uint8Array {
  return concat(
    ...labels.map((label, i) => {
      const b = new Uint8Array(4);
      put32(b, 0, ((label & 0xfffff) << 12) | (i === labels.length - 1 ? 0x100 : 0) | 64);
      return b;
    }),
  );
}

export interface SllOptions {
  /** Protocol (EtherType) of the payload; default from the IP version nibble. */
  protocol?: number;
  /** 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing. Default 0. */
  packetType?: number;
  /** ARPHRD_ type; default 1 (Ethernet). */
  arphrd?: number;
}

/** LINKTYPE_LINUX_SLL (113): 16-byte cooked header, protocol at offset 14. */
export function sll(payload: Uint8Array, o: SllOptions = {}): Uint8Array {
  const h = new Uint8Array(16);
  put16(h, 0, o.packetType ?? 0);
  put16(h, 2, o.arphrd ?? 1);
  put16(h, 4, 6);
  h.set(SRC_MAC, 6);
  put16(h, 14, o.protocol ?? etherTypeOf(payload));
  return concat(h, payload);
}

/** LINKTYPE_LINUX_SLL2 (276): 20-byte cooked header, protocol at offset 0. */
export function sll2(payload: Uint8Array, o: SllOptions & { ifIndex?: number } = {}): Uint8Array {
  const h = new Uint8Array(20);
  put16(h, 0, o.protocol ?? etherTypeOf(payload));
  put32(h, 4, o.ifIndex ?? 2);
  put16(h, 8, o.arphrd ?? 1);
  h[10] = o.packetType ?? 0;
  h[11] = 6;
  h.set(SRC_MAC, 12);
  return concat(h, payload);
}

/**
 * LINKTYPE_NULL (0): 4-byte address family in the capturing host's byte order (little-endian
 * unless bigEndian). Default family 2 (AF_INET) or 30 (macOS AF_INET6).
 */
export function nullLoopback(payload: Uint8Array, o: { bigEndian?: boolean; family?: number } = {}): Uint8Array {
  const family = o.family ?? (ipVersion(payload) === 4 ? 2 : 30);
  const h = new Uint8Array(4);
  if (o.bigEndian) put32(h, 0, family);
  else new DataView(h.buffer).setUint32(0, family, true);
  return concat(h, payload);
}

/** LINKTYPE_LOOP (108): 4-byte family in network order. Default 2 or 24 (OpenBSD AF_INET6). */
export function loop(payload: Uint8Array, o: { family?: number } = {}): Uint8Array {
  const family = o.family ?? (ipVersion(payload) === 4 ? 2 : 24);
  return concat(be32(family), payload);
}

/**
 * LINKTYPE_PPP (9) / LINKTYPE_PPP_HDLC (50): optional ff 03 address/control (hdlc), then the
 * protocol (0x0021 IPv4, 0x0057 IPv6 by default), one byte when compressProtocol.
 */
export function ppp(payload: Uint8Array, o: { hdlc?: boolean; protocol?: number; compressProtocol?: boolean } = {}): Uint8Array {
  const proto = o.protocol ?? (ipVersion(payload) === 4 ? 0x0021 : 0x0057);
  const p = o.compressProtocol ? Uint8Array.of(proto & 0xff) : be16(proto);
  return concat(o.hdlc ? Uint8Array.of(0xff, 0x03) : new Uint8Array(0), p, payload);
}

export interface GreOptions {
  key?: number;
  seq?: number;
  /** Add the checksum field (computed over the GRE header and payload). */
  checksum?: boolean;
  /** Protocol type; default 0x0800/0x86DD from the inner nibble (0x6558 for an Ethernet frame). */
  protocol?: number;
  /** GRE version bits (1 = PPTP enhanced GRE: give key = payload length << 16 | call id). Default 0. */
  version?: number;
  /** PPTP acknowledgment number (sets the A flag; version 1 only). */
  ack?: number;
}

/** A GRE header + `inner`: the payload of an IP packet with protocol 47. */
export function gre(inner: Uint8Array, o: GreOptions = {}): Uint8Array {
  const proto = o.protocol ?? (o.version === 1 ? 0x880b : etherTypeOf(inner));
  let flags = (o.version ?? 0) & 7;
  const fields: Uint8Array[] = [];
  if (o.checksum) {
    flags |= 0x8000;
    fields.push(new Uint8Array(4));
  }
  if (o.key !== undefined) {
    flags |= 0x2000;
    fields.push(be32(o.key));
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    fields.push(be32(o.seq));
  }
  if (o.ack !== undefined) {
    flags |= 0x0080;
    fields.push(be32(o.ack));
  }
  const out = concat(be16(flags), be16(proto), ...fields, inner);
  if (o.checksum) put16(out, 4, inetChecksum(out));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Packet views

export interface ViewOptions {
  /** Length on the wire; default the frame length. */
  origLen?: number;
  /** Bytes captured (a snap length cut); default the frame length. */
  caplen?: number;
  /** Where the frame starts in the buffer: bytes before it are filled like the tail. */
  offset?: number;
  /** Extra bytes after the frame in the buffer (garbage a decoder must not read): a fill byte or
   * the bytes themselves. Default none. */
  tail?: number | Uint8Array;
  tailLength?: number;
}

/**
 * A PacketView of `frame`, as a reader hands it out: by default a buffer holding exactly the
 * frame; with offset/tail the frame sits inside a bigger buffer, as in a reader's chunk.
 */
export function packetView(frame: Uint8Array, linkType: number, o: ViewOptions = {}): PacketView {
  const offset = o.offset ?? 0;
  const tail = typeof o.tail === 'number' ? new Uint8Array(o.tailLength ?? 64).fill(o.tail) : (o.tail ?? new Uint8Array(0));
  const data = Buffer.alloc(offset + frame.length + tail.length, typeof o.tail === 'number' ? o.tail : 0);
  data.set(frame, offset);
  data.set(tail, offset + frame.length);
  return {
    ...newPacketView(),
    data,
    offset,
    caplen: o.caplen ?? frame.length,
    origLen: o.origLen ?? frame.length,
    linkType,
  };
}
