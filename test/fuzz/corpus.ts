/**
 * The valid inputs the fuzz harness mutates: the committed fixtures, frames from the shared
 * builders (test/helpers/frames.ts), NetFlow datagrams (netflow-build.ts, netflow-writer.ts), DNS
 * messages, TLS hellos, mining sessions, and list, CSV and YAML texts. Binary ones come with their
 * structure (units and length/count/type fields) so that mutations can lie where it hurts.
 *
 * The splitters here read only inputs this file built or the repository ships, all valid; they
 * are not decoders (and share no code with src/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINKTYPE } from '../../src/capture/packet.js';
import { dnsAnswer, dnsMessage } from '../helpers/dns.js';
import {
  concat,
  ethernet,
  fragmentHeader,
  gre,
  ipv4,
  ipv6,
  loop,
  nullLoopback,
  ppp,
  sll,
  sll2,
  tcp,
  tcpPacket,
  udp,
  udpPacket,
} from '../helpers/frames.js';
import * as NB from '../helpers/netflow-build.js';
import { exportScenario } from '../helpers/netflow-writer.js';
import { writePcap, writePcapng, type TestPacket } from '../helpers/pcap-writer.js';
import { bitcoinStratum, bitcoinVersionMessage, ethProxySession, httpGetwork, jsonApi, niceHashSession, walletRpc, webPage, xmrigSession } from '../helpers/sessions.js';
import { RECORDED_NFDUMP_CSV } from '../helpers/softflowd.js';
import { clientHello, serverHello } from '../helpers/tls.js';
import type { Say } from '../helpers/conversation.js';
import { unit, whole, type Field, type Seed, type Unit } from './mutate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');

// ------------------------------------------------------------------------------------------------
// Frames

export interface Frame {
  name: string;
  linkType: number;
  bytes: Uint8Array;
  fields: Field[];
}

const PAYLOAD = Buffer.from('{"id":1,"method":"mining.subscribe","params":["cgminer/4.10.0"]}\n');

/** Length, count and type fields of a valid IP packet at `off` (and what it carries, once nested). */
export function ipFields(b: Uint8Array, off: number, out: Field[] = [], depth = 0): Field[] {
  if (off >= b.length || depth > 2) return out;
  const v = b[off]! >> 4;
  if (v === 4) {
    const ihl = (b[off]! & 15) * 4;
    out.push({ off, size: 1, kind: 'len' }, { off: off + 2, size: 2, kind: 'len' }, { off: off + 6, size: 2 }, { off: off + 9, size: 1, kind: 'type' });
    const frag = ((b[off + 6]! << 8) | b[off + 7]!) & 0x1fff;
    if (frag === 0) transportFields(b, off + ihl, b[off + 9]!, out, depth);
  } else if (v === 6) {
    out.push({ off: off + 4, size: 2, kind: 'len' }, { off: off + 6, size: 1, kind: 'type' });
    let nh = b[off + 6]!;
    let p = off + 40;
    while ((nh === 0 || nh === 43 || nh === 60 || nh === 51 || nh === 44) && p + 8 <= b.length) {
      out.push({ off: p, size: 1, kind: 'type' }, { off: p + 1, size: 1, kind: 'len' });
      if (nh === 44) out.push({ off: p + 2, size: 2 });
      const len = nh === 44 ? 8 : nh === 51 ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
      if (nh === 44 && (((b[p + 2]! << 8) | b[p + 3]!) & 0xfff8) !== 0) return out;
      nh = b[p]!;
      p += len;
    }
    transportFields(b, p, nh, out, depth);
  }
  return out;
}

function transportFields(b: Uint8Array, off: number, proto: number, out: Field[], depth: number): void {
  if (off >= b.length) return;
  if (proto === 6) out.push({ off: off + 12, size: 1, kind: 'len' }, { off: off + 13, size: 1 }, { off: off + 4, size: 4 });
  else if (proto === 17) out.push({ off: off + 4, size: 2, kind: 'len' });
  else if (proto === 4 || proto === 41) ipFields(b, off, out, depth + 1);
  else if (proto === 51) {
    out.push({ off, size: 1, kind: 'type' }, { off: off + 1, size: 1, kind: 'len' });
    transportFields(b, off + (b[off + 1]! + 2) * 4, b[off]!, out, depth);
  } else if (proto === 47) {
    const flags = (b[off]! << 8) | b[off + 1]!;
    const type = (b[off + 2]! << 8) | b[off + 3]!;
    out.push({ off, size: 2 }, { off: off + 2, size: 2, kind: 'type' });
    let hl = 4;
    if ((flags & 7) === 1) {
      out.push({ off: off + 4, size: 2, kind: 'len' });
      hl = 8 + (flags & 0x1000 ? 4 : 0) + (flags & 0x80 ? 4 : 0);
      const ppp = off + hl;
      if (ppp + 2 <= b.length) out.push({ off: ppp, size: 2, kind: 'type' });
      return;
    }
    hl += (flags & 0x8000 ? 4 : 0) + (flags & 0x2000 ? 4 : 0) + (flags & 0x1000 ? 4 : 0);
    let inner = off + hl;
    if (type === 0x88be && flags & 0x1000) inner += 8;
    if (type === 0x22eb) inner += 12;
    if (type === 0x6558 || type === 0x88be || type === 0x22eb) {
      out.push({ off: inner + 12, size: 2, kind: 'type' });
      inner += 14;
    }
    ipFields(b, inner, out, depth + 1);
  }
}

function ipOf(frame: Uint8Array, ip: Uint8Array): number {
  return frame.length - ip.length;
}

function frame(name: string, linkType: number, bytes: Uint8Array, ipOff: number, ip = true): Frame {
  const fields: Field[] = [];
  // Link headers: every 2-byte position before the IP header may be a type or length.
  for (let o = 0; o + 2 <= ipOff && o < 48; o += 2) fields.push({ off: o, size: 2, kind: 'type' });
  if (ip) ipFields(bytes, ipOff, fields);
  return { name, linkType, bytes, fields };
}

/** IP packets of every shape the decoder knows: transports, options, fragments, extension headers, tunnels. */
export function ipPackets(): { name: string; ip: Uint8Array }[] {
  const c = '10.20.30.40';
  const s = '198.51.100.10';
  const c6 = '2001:db8:1::10';
  const s6 = '2001:db8:ff::5';
  const t = tcp({ srcPort: 50123, dstPort: 3333, payload: PAYLOAD, seq: 1000 });
  const t6 = tcp({ srcPort: 45000, dstPort: 14444, payload: PAYLOAD, seq: 7, options: Uint8Array.of(2, 4, 5, 0xb4, 1, 1, 4, 2) });
  const dnsA = dnsAnswer('pool.example', ['eu.pool.example'], ['203.0.113.7', '203.0.113.8']);
  const eth = ethernet(tcpPacket(c, s, 1, 2, 'hi'));
  return [
    { name: 'v4 tcp', ip: tcpPacket(c, s, 50123, 3333, PAYLOAD) },
    { name: 'v4 tcp syn', ip: tcpPacket(c, s, 50123, 3333, undefined, { flags: 'S' }) },
    { name: 'v4 udp dns', ip: udpPacket('192.0.2.53', c, 53, 53001, dnsA) },
    { name: 'v4 options', ip: ipv4({ src: c, dst: s, proto: 6, payload: t, options: Uint8Array.of(1, 1, 1, 0x94, 4, 0, 0, 0) }) },
    { name: 'v4 first fragment', ip: ipv4({ src: c, dst: s, proto: 17, payload: udp({ srcPort: 5, dstPort: 6, payload: new Uint8Array(40) }), moreFragments: true }) },
    { name: 'v4 later fragment', ip: ipv4({ src: c, dst: s, proto: 6, payload: new Uint8Array(48), fragOffset: 1480 }) },
    { name: 'v4 ah', ip: ipv4({ src: c, dst: s, proto: 51, payload: concat(Uint8Array.of(6, 4, 0, 0), new Uint8Array(20), t) }) },
    { name: 'v4 icmp', ip: ipv4({ src: c, dst: s, proto: 1, payload: Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 1) }) },
    { name: 'v4 total length 0 (TSO)', ip: (() => { const p = tcpPacket(c, s, 50123, 3333, PAYLOAD); p[2] = 0; p[3] = 0; return p; })() },
    { name: 'v6 tcp', ip: ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6 }) },
    { name: 'v6 udp', ip: udpPacket('2001:db8::53', c6, 53, 53001, dnsAnswer('pool.example', [], ['2001:db8:ff::77'])) },
    {
      name: 'v6 ext headers',
      ip: ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6, extHeaders: [{ type: 0, body: new Uint8Array(6) }, { type: 60, body: new Uint8Array(14) }, { type: 43, body: new Uint8Array(22) }] }),
    },
    { name: 'v6 first fragment', ip: ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6, extHeaders: [{ type: 44, body: fragmentHeader(0, true) }] }) },
    { name: 'v6 later fragment', ip: ipv6({ src: c6, dst: s6, nextHeader: 6, payload: new Uint8Array(32), extHeaders: [{ type: 44, body: fragmentHeader(1448, false) }] }) },
    { name: 'v6 ah', ip: ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6, extHeaders: [{ type: 51, body: new Uint8Array(18) }] }) },
    { name: 'v6 jumbo/gso (plen 0)', ip: (() => { const p = ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6 }); p[4] = 0; p[5] = 0; return p; })() },
    { name: 'ipip', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4, payload: tcpPacket(c, s, 1, 3333, PAYLOAD) }) },
    { name: '6in4', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 41, payload: ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6 }) }) },
    { name: '4in6', ip: ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 4, payload: tcpPacket(c, s, 1, 3333, PAYLOAD) }) },
    { name: 'gre', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(tcpPacket(c, s, 1, 3333, PAYLOAD)) }) },
    { name: 'gre key seq csum', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(udpPacket(c, s, 1, 2, 'x'), { key: 7, seq: 9, checksum: true }) }) },
    { name: 'gre teb', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(eth, { protocol: 0x6558 }) }) },
    { name: 'gre erspan ii', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(concat(Uint8Array.of(0x10, 0, 0, 1, 0, 0, 0, 0), eth), { protocol: 0x88be, seq: 1 }) }) },
    { name: 'gre erspan iii', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(concat(Uint8Array.of(0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), eth), { protocol: 0x22eb, seq: 1 }) }) },
    { name: 'gre erspan iii subheader', ip: ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(concat(Uint8Array.of(0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), new Uint8Array(8), eth), { protocol: 0x22eb, seq: 1 }) }) },
    {
      name: 'gre pptp',
      ip: (() => {
        const inner = ppp(tcpPacket(c, s, 1, 3333, PAYLOAD), { hdlc: true });
        return ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47, payload: gre(inner, { version: 1, key: (inner.length << 16) | 7, seq: 3, ack: 2 }) });
      })(),
    },
    { name: 'gre in v6', ip: ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 47, payload: gre(ipv6({ src: c6, dst: s6, nextHeader: 6, payload: t6 })) }) },
  ];
}

/** Every link layer the decoder reads, each around several IP packets. */
export function frames(): Frame[] {
  const out: Frame[] = [];
  const ips = ipPackets();
  const pick = (names: string[]) => ips.filter((p) => names.includes(p.name));
  const common = pick(['v4 tcp', 'v6 tcp', 'v4 udp dns', 'v6 ext headers', 'gre', 'v4 later fragment']);
  const add = (name: string, linkType: number, wrap: (ip: Uint8Array) => Uint8Array, list = common) => {
    for (const p of list) {
      const f = wrap(p.ip);
      out.push(frame(`${name}/${p.name}`, linkType, f, ipOf(f, p.ip)));
    }
  };
  add('ethernet', LINKTYPE.ETHERNET, (ip) => ethernet(ip), ips);
  add('ethernet vlan', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [100] }));
  add('ethernet qinq', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [10, 20], qinq: true }));
  add('ethernet qinq 9100', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [10, 20], qinq: 0x9100 }));
  add('ethernet mpls', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { mpls: [16, 17, 18] }));
  add('ethernet pppoe', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { pppoe: true, vlans: [7] }));
  add('sll', LINKTYPE.LINUX_SLL, (ip) => sll(ip));
  add('sll2', LINKTYPE.LINUX_SLL2, (ip) => sll2(ip));
  add('null le', LINKTYPE.NULL, (ip) => nullLoopback(ip));
  add('null be', LINKTYPE.NULL, (ip) => nullLoopback(ip, { bigEndian: true }));
  add('loop', LINKTYPE.LOOP, (ip) => loop(ip));
  add('ppp', LINKTYPE.PPP, (ip) => ppp(ip));
  add('ppp compressed', LINKTYPE.PPP, (ip) => ppp(ip, { compressProtocol: true }));
  add('ppp hdlc', LINKTYPE.PPP_HDLC, (ip) => ppp(ip, { hdlc: true }));
  add('cisco hdlc', LINKTYPE.PPP_HDLC, (ip) => concat(Uint8Array.of(0x0f, 0, (ip[0]! >> 4) === 4 ? 0x08 : 0x86, (ip[0]! >> 4) === 4 ? 0x00 : 0xdd), ip));
  add('raw', LINKTYPE.RAW, (ip) => ip, ips);
  add('raw 12', LINKTYPE.DLT_RAW_12, (ip) => ip);
  add('raw 14', LINKTYPE.DLT_RAW_14, (ip) => ip);
  add('ipv4', LINKTYPE.IPV4, (ip) => ip, pick(['v4 tcp', 'v4 udp dns', 'ipip', 'v4 ah']));
  add('ipv6', LINKTYPE.IPV6, (ip) => ip, pick(['v6 tcp', 'v6 udp', '4in6', 'v6 ah']));
  // Not IP: ARP, LLDP, PPP LCP, an 802.3 length frame.
  const arp = ethernet(new Uint8Array(28), { etherType: 0x0806 });
  out.push(frame('ethernet arp', LINKTYPE.ETHERNET, arp, 14, false));
  out.push(frame('ppp lcp', LINKTYPE.PPP, ppp(new Uint8Array(12), { protocol: 0xc021 }), 2, false));
  out.push(frame('unsupported link', 147, ethernet(tcpPacket('10.0.0.1', '10.0.0.2', 1, 2, 'x')), 14));
  return out;
}

/** The link types of frames(), each once, and the frames of one. */
export function linkTypes(fs: Frame[]): number[] {
  return [...new Set(fs.map((f) => f.linkType))];
}

// ------------------------------------------------------------------------------------------------
// Captures

const FIXTURE_DIR = path.join(ROOT, 'fixtures');

export function fixtureFiles(ext: string): { name: string; bytes: Buffer }[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => ({ name: f, bytes: readFileSync(path.join(FIXTURE_DIR, f)) }));
}

/** Where IP starts in a valid frame of this link type (for fixture records), or -1. */
function linkIpOffset(linkType: number, f: Uint8Array): number {
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      let o = 12;
      while (o + 2 <= f.length && ((f[o]! << 8) | f[o + 1]!) === 0x8100) o += 4;
      return o + 2;
    }
    case LINKTYPE.LINUX_SLL:
      return 16;
    case LINKTYPE.LINUX_SLL2:
      return 20;
    case LINKTYPE.RAW:
      return 0;
    default:
      return -1;
  }
}

/** A valid pcap as head and records, with the fields a lie should hit (record lengths, frame lengths). */
export function splitPcap(name: string, b: Uint8Array): Seed {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = dv.getUint32(0, false);
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  const linkType = dv.getUint32(20, le) & 0xffff;
  const head = unit(b.slice(0, 24), [
    { off: 4, size: 2, le },
    { off: 6, size: 2, le },
    { off: 16, size: 4, le, kind: 'len' },
    { off: 20, size: 4, le, kind: 'type' },
  ]);
  const units: Unit[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const caplen = dv.getUint32(off + 8, le);
    const end = Math.min(b.length, off + 16 + caplen);
    const rec = b.slice(off, end);
    const fields: Field[] = [{ off: 8, size: 4, le, kind: 'len' }, { off: 12, size: 4, le, kind: 'len' }, { off: 4, size: 4, le }];
    const ipOff = linkIpOffset(linkType, rec.subarray(16));
    if (ipOff >= 0) for (const f of ipFields(rec.subarray(16), ipOff)) fields.push({ ...f, off: f.off + 16 });
    units.push(unit(rec, fields));
    off = end;
  }
  return { name, head, units, tail: off < b.length ? b.slice(off) : undefined };
}

/** A valid pcapng as blocks (each a unit), with block, interface and packet fields. */
export function splitPcapng(name: string, b: Uint8Array): Seed {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const units: Unit[] = [];
  let le = true;
  let off = 0;
  while (off + 12 <= b.length) {
    const typeLe = dv.getUint32(off, true);
    if (typeLe === 0x0a0d0d0a) le = dv.getUint32(off + 8, true) === 0x1a2b3c4d;
    const type = dv.getUint32(off, le);
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || off + len > b.length) break;
    const fields: Field[] = [{ off: 0, size: 4, le, kind: 'type' }, { off: 4, size: 4, le, kind: 'len' }, { off: len - 4, size: 4, le, kind: 'len' }];
    if (type === 6) fields.push({ off: 8, size: 4, le, kind: 'count' }, { off: 20, size: 4, le, kind: 'len' }, { off: 24, size: 4, le, kind: 'len' }, { off: 12, size: 4, le });
    else if (type === 1) fields.push({ off: 8, size: 2, le, kind: 'type' }, { off: 12, size: 4, le, kind: 'len' }, { off: 18, size: 2, le, kind: 'len' });
    else if (type === 0x0a0d0d0a) fields.push({ off: 8, size: 4, le }, { off: 12, size: 2, le });
    else if (type === 3) fields.push({ off: 8, size: 4, le, kind: 'len' });
    units.push(unit(b.slice(off, off + len), fields));
    off += len;
  }
  return { name, head: unit(new Uint8Array(0)), units, tail: off < b.length ? b.slice(off) : undefined };
}

function packetsOf(fs: Frame[]): TestPacket[] {
  return fs.map((f, i) => ({ data: f.bytes, tsMicros: Date.UTC(2024, 2, 1) * 1000 + i * 1000 }));
}

/** Fixture pcaps plus pcaps built from the frame corpus: each link type, both byte orders, µs and ns. */
export function pcapSeeds(): Seed[] {
  const seeds = fixtureFiles('.pcap').map((f) => splitPcap(f.name, f.bytes));
  const fs = frames();
  for (const lt of linkTypes(fs)) {
    const pk = packetsOf(fs.filter((f) => f.linkType === lt));
    seeds.push(splitPcap(`built lt${lt}`, writePcap(pk, { linkType: lt })));
    seeds.push(splitPcap(`built lt${lt} be ns`, writePcap(pk, { linkType: lt, bigEndian: true, nanos: true, snaplen: 96 })));
  }
  // Format 2.2 (lengths swapped by old writers) and a snap length of 0xffffffff.
  const old = writePcap(packetsOf(fs.slice(0, 3)), { snaplen: 0xffffffff });
  old.writeUInt16LE(2, 6);
  seeds.push(splitPcap('pcap 2.2', old));
  return seeds;
}

export function pcapngSeeds(): Seed[] {
  const seeds = fixtureFiles('.pcapng').map((f) => splitPcapng(f.name, f.bytes));
  const fs = frames();
  const eth = packetsOf(fs.filter((f) => f.linkType === LINKTYPE.ETHERNET).slice(0, 6));
  const sl = packetsOf(fs.filter((f) => f.linkType === LINKTYPE.LINUX_SLL)).map((p) => ({ ...p, iface: 1 }));
  const mixed = [...eth, ...sl].sort((a, b) => a.tsMicros! - b.tsMicros!);
  const two = [{ linkType: 1 }, { linkType: 113 }];
  seeds.push(splitPcapng('le two ifaces', writePcapng(mixed, { interfaces: two })));
  seeds.push(splitPcapng('be extra blocks', writePcapng(mixed, { interfaces: two, bigEndian: true, extraBlocks: true })));
  seeds.push(splitPcapng('simple blocks', writePcapng(eth, { simple: true, interfaces: [{ linkType: 1, snaplen: 128 }] })));
  seeds.push(splitPcapng('tsresol ns', writePcapng(eth, { interfaces: [{ linkType: 1, tsresol: 9, tsoffset: 3600 }] })));
  seeds.push(splitPcapng('tsresol 2^-20', writePcapng(eth, { interfaces: [{ linkType: 1, tsresol: 0x80 | 20 }] })));
  seeds.push(splitPcapng('tsresol ms', writePcapng(eth, { interfaces: [{ linkType: 1, tsresol: 3 }] })));
  seeds.push(splitPcapng('tsresol 2^-40', writePcapng(eth, { interfaces: [{ linkType: 1, tsresol: 0x80 | 40 }] })));
  seeds.push(splitPcapng('tsresol 10^-18', writePcapng(eth.slice(0, 2), { interfaces: [{ linkType: 1, tsresol: 18 }] })));
  // Two sections in different byte orders, one after the other.
  const a = writePcapng(eth.slice(0, 3), { interfaces: two });
  const b = writePcapng(sl.slice(0, 3).map((p) => ({ ...p, iface: 0 })), { interfaces: [{ linkType: 113 }], bigEndian: true });
  seeds.push(splitPcapng('two sections', Buffer.concat([a, b])));
  return seeds;
}

// ------------------------------------------------------------------------------------------------
// TCP sessions

export interface Session {
  name: string;
  says: Say[];
}

const tlsSays = (sni: string): Say[] => [
  { from: 'c', text: clientHello({ sni }) },
  { from: 's', text: serverHello() },
  { from: 'c', text: Buffer.from('1703030040' + 'ab'.repeat(64), 'hex') },
];

export function sessions(): Session[] {
  const pipelined: Say[] = [
    { from: 'c', text: 'POST / HTTP/1.1\r\nHost: pool.example\r\nContent-Length: 44\r\n\r\n{"id":1,"method":"getwork","params":[]}     ' + 'GET /x HTTP/1.0\r\nHost: a.example\r\n\r\n' },
    { from: 's', text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' },
  ];
  const levin = Buffer.from('0121010101010101' + '0a00000000000000' + '01' + 'e9030000' + '00000000' + '01000000' + '01000000', 'hex');
  return [
    { name: 'bitcoin stratum', says: bitcoinStratum },
    { name: 'xmrig', says: xmrigSession },
    { name: 'ethproxy', says: ethProxySession },
    { name: 'nicehash', says: niceHashSession },
    { name: 'http getwork', says: httpGetwork },
    { name: 'wallet rpc', says: walletRpc },
    { name: 'web page', says: webPage },
    { name: 'json api', says: jsonApi },
    { name: 'http pipelined', says: pipelined },
    { name: 'bitcoin p2p', says: [{ from: 'c', text: bitcoinVersionMessage() }, { from: 's', text: bitcoinVersionMessage() }] },
    { name: 'monero levin', says: [{ from: 'c', text: concat(levin, new Uint8Array(10)) }] },
    { name: 'tls listed', says: tlsSays('xmr.pool.example') },
    { name: 'tls other', says: tlsSays('www.example.com') },
  ];
}

/** JSON-RPC lines (one message each) of every dialect, from the sessions and a few more shapes. */
export function jsonLines(): string[] {
  const out: string[] = [];
  for (const s of sessions()) {
    for (const say of s.says) {
      const t = typeof say.text === 'string' ? say.text : Buffer.from(say.text).toString('latin1');
      for (const l of t.split('\n')) if (l.trim().startsWith('{')) out.push(l);
    }
  }
  const extra: unknown[] = [
    { id: 1, method: 'mining.subscribe', params: ['NiceHash/1.0.0', 'EthereumStratum/1.0.0'] },
    { id: 1, result: [['mining.notify', 'ae6812eb4cd7735a302a8a9dd95cf71f', 'EthereumStratum/1.0.0'], '080c'], error: null },
    { id: null, method: 'mining.notify', params: ['bf0488', 'a'.repeat(64), 'b'.repeat(64), true] },
    { id: 2, method: 'mining.hello', params: { agent: 'ethminer-0.19', host: 'eu1.ethermine.org', port: '0x1116', proto: 'EthereumStratum/2.0.0' } },
    { id: null, method: 'mining.set_target', params: ['00000000ffff0000000000000000000000000000000000000000000000000000'] },
    { id: null, method: 'client.reconnect', params: ['pool.example.org', 3333, 0] },
    { id: 9, method: 'client.get_version', params: [] },
    { id: 0, jsonrpc: '2.0', result: ['0x' + '1'.repeat(64), '0x' + '2'.repeat(64), '0x00000000ffff' + '0'.repeat(52)] },
    { id: 6, jsonrpc: '2.0', method: 'eth_submitHashrate', params: ['0x500000', '0x' + 'a'.repeat(64)] },
    { id: 7, method: 'getblocktemplate', params: [{ rules: ['segwit'] }] },
    { id: 8, result: { previousblockhash: 'c'.repeat(64), transactions: [], coinbasevalue: 625000000 }, error: null },
    { id: 3, jsonrpc: '2.0', method: 'getjob', params: { id: 'x' } },
    { jsonrpc: '2.0', method: 'mining.configure', params: [['version-rolling'], { 'version-rolling.mask': '1fffe000' }], id: 4 },
    { jsonrpc: '2.0', id: '0', method: 'get_block_template', params: { wallet_address: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', reserve_size: 60 } },
    { jsonrpc: '2.0', id: '0', result: { blocktemplate_blob: '0e0e'.repeat(40), difficulty: 123456789, height: 3000000, status: 'OK' } },
    { id: 1, result: { data: '0'.repeat(256), target: 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000' }, error: null },
    { id: 10, method: 'getwork', params: ['0'.repeat(256)] },
  ];
  for (const e of extra) out.push(JSON.stringify(e));
  return out;
}

// ------------------------------------------------------------------------------------------------
// DNS, TLS

/** Uncompressed DNS messages split into header, questions and records. */
function splitDns(name: string, b: Uint8Array): Seed {
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  const head = unit(b.slice(0, 12), [{ off: 4, size: 2, kind: 'count' }, { off: 6, size: 2, kind: 'count' }, { off: 8, size: 2, kind: 'count' }, { off: 10, size: 2, kind: 'count' }, { off: 2, size: 2 }]);
  const units: Unit[] = [];
  const skipName = (p: number) => {
    while (p < b.length && b[p] !== 0) p += 1 + b[p]!;
    return p + 1;
  };
  let p = 12;
  for (let i = 0; i < u16(4); i++) {
    const e = skipName(p) + 4;
    units.push(unit(b.slice(p, e), [{ off: 0, size: 1, kind: 'len' }, { off: e - p - 4, size: 2, kind: 'type' }]));
    p = e;
  }
  const rrs = u16(6) + u16(8) + u16(10);
  for (let i = 0; i < rrs && p < b.length; i++) {
    const n = skipName(p);
    const rdlen = u16(n + 8);
    const e = n + 10 + rdlen;
    units.push(unit(b.slice(p, e), [{ off: 0, size: 1, kind: 'len' }, { off: n - p, size: 2, kind: 'type' }, { off: n - p + 8, size: 2, kind: 'len' }, { off: n - p + 4, size: 4 }]));
    p = e;
  }
  return { name, head, units };
}

export function dnsSeeds(): Seed[] {
  const big = Array.from({ length: 12 }, (_, i) => `203.0.113.${i + 1}`);
  const msgs: [string, Uint8Array][] = [
    ['answer chain', dnsMessage({ compress: false, questions: [{ name: 'pool.example' }], answers: [{ name: 'pool.example', type: 'CNAME', data: 'eu.pool.example' }, { name: 'eu.pool.example', type: 'A', data: '203.0.113.7' }, { name: 'eu.pool.example', type: 'AAAA', data: '2001:db8::7' }] })],
    ['many a', dnsMessage({ compress: false, questions: [{ name: 'xmr.pool.example' }], answers: big.map((a) => ({ name: 'xmr.pool.example', type: 'A' as const, data: a })) })],
    ['authority', dnsMessage({ compress: false, questions: [{ name: 'a.example', type: 'MX' }], answers: [{ name: 'a.example', type: 'MX', data: Uint8Array.of(0, 10, 1, 0x6d, 0) }, { name: 'a.example', type: 'TXT', data: Uint8Array.of(3, 0x61, 0x62, 0x63) }], authority: [{ name: 'example', type: 2, data: Uint8Array.of(2, 0x6e, 0x73, 0) }] })],
    ['query', dnsMessage({ compress: false, response: false, questions: [{ name: 'pool.example' }] })],
    ['nxdomain', dnsMessage({ compress: false, rcode: 3, questions: [{ name: 'nope.example' }] })],
  ];
  const seeds = msgs.map(([n, b]) => splitDns(n, b));
  // Compressed messages (pointers), whole.
  seeds.push(whole('compressed chain', dnsAnswer('pool.example', ['a.pool.example', 'b.cdn.example'], ['203.0.113.9', '2001:db8::9'])));
  seeds.push(whole('compressed many', dnsAnswer('xmr.pool.example', [], big)));
  seeds.push(whole('cname loop', dnsMessage({ questions: [{ name: 'a.example' }], answers: [{ name: 'a.example', type: 'CNAME', data: 'b.example' }, { name: 'b.example', type: 'CNAME', data: 'a.example' }, { name: 'a.example', type: 'A', data: '192.0.2.1' }] })));
  return seeds;
}

function splitTls(name: string, b: Uint8Array): Seed {
  // Records as units; the handshake header's length (in the first record) is a field too.
  const units: Unit[] = [];
  let p = 0;
  while (p + 5 <= b.length) {
    const len = (b[p + 3]! << 8) | b[p + 4]!;
    const fields: Field[] = [{ off: 0, size: 1, kind: 'type' }, { off: 1, size: 2 }, { off: 3, size: 2, kind: 'len' }];
    if (p === 0) fields.push({ off: 5, size: 1, kind: 'type' }, { off: 7, size: 2, kind: 'len' }, { off: 43, size: 1, kind: 'len' }, { off: 76, size: 2, kind: 'len' });
    units.push(unit(b.slice(p, p + 5 + len), fields));
    p += 5 + len;
  }
  return { name, head: unit(new Uint8Array(0)), units };
}

export function tlsSeeds(): Seed[] {
  return [
    splitTls('tls13', clientHello({ sni: 'xmr.pool.example' })),
    splitTls('tls12 sni last', clientHello({ sni: 'Pool.Example.COM', flavor: 'tls12', sniLast: true })),
    splitTls('no extensions', clientHello({ flavor: 'tls12', noExtensions: true })),
    splitTls('no sni', clientHello({ sni: null })),
    splitTls('padded', clientHello({ sni: 'a.example', padding: 3000 })),
    splitTls('fragmented', clientHello({ sni: 'frag.pool.example', recordSize: 40 })),
    splitTls('long name', clientHello({ sni: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}` })),
    splitTls('server hello', serverHello()),
  ];
}

// ------------------------------------------------------------------------------------------------
// NetFlow

function splitNetflow(name: string, b: Uint8Array): Seed {
  const u16 = (i: number) => (b[i]! << 8) | b[i + 1]!;
  const version = u16(0);
  if (version === 5) {
    const head = unit(b.slice(0, 24), [{ off: 2, size: 2, kind: 'count' }, { off: 16, size: 4 }, { off: 22, size: 2 }, { off: 4, size: 4 }]);
    const units: Unit[] = [];
    for (let p = 24; p + 48 <= b.length; p += 48) units.push(unit(b.slice(p, p + 48), [{ off: 16, size: 4 }, { off: 24, size: 4 }, { off: 38, size: 1, kind: 'type' }]));
    return { name, head, units };
  }
  const ipfix = version === 10;
  const hl = ipfix ? 16 : 20;
  const head = unit(
    b.slice(0, hl),
    ipfix ? [{ off: 2, size: 2, kind: 'len' }, { off: 8, size: 4 }, { off: 12, size: 4 }] : [{ off: 2, size: 2, kind: 'count' }, { off: 12, size: 4 }, { off: 16, size: 4 }, { off: 4, size: 4 }],
  );
  const units: Unit[] = [];
  let p = hl;
  while (p + 4 <= b.length) {
    const id = u16(p);
    const len = u16(p + 2);
    if (len < 4) break;
    const fields: Field[] = [{ off: 0, size: 2, kind: 'type' }, { off: 2, size: 2, kind: 'len' }];
    const tmpl = ipfix ? id === 2 || id === 3 : id === 0 || id === 1;
    if (tmpl && len >= 8) {
      // The first template record: id, field count (v9 options: scope and option lengths), specifiers.
      fields.push({ off: 4, size: 2, kind: 'type' }, { off: 6, size: 2, kind: 'count' });
      const opt = ipfix ? id === 3 : id === 1;
      if (opt) fields.push({ off: 8, size: 2, kind: 'count' });
      const first = 4 + (opt ? 6 : 4);
      for (let q = first; q + 4 <= Math.min(len, first + 64); q += 4) fields.push({ off: q, size: 2, kind: 'type' }, { off: q + 2, size: 2, kind: 'len' });
    } else if (id >= 256 && len > 4) {
      // Variable-length prefixes and values inside data records: any byte may be one.
      for (let q = 4; q < Math.min(len, 40); q++) fields.push({ off: q, size: 1, kind: 'len' });
    }
    units.push(unit(b.slice(p, p + len), fields));
    p += len;
  }
  return { name, head, units, tail: p < b.length ? b.slice(p) : undefined };
}

const SECS = 1_700_000_000;

/** Datagrams of every version: templates, options, data, variable-length fields, withdrawals. */
export function netflowSeeds(): Seed[] {
  const { IE, concat: cc, ip4, ip6, u8, u16, u32, u64, v5, v9, v9Data, v9OptionsTemplate, v9Templates, ipfix, ipfixData, ipfixOptionsTemplates, ipfixTemplates, ipfixWithdraw, varField } = NB;
  const seeds: Seed[] = [];
  const v5d = v5({ sysUptime: 100_000, unixSecs: SECS, sequence: 7, samplingInterval: 10 }, [
    { src: '10.0.0.1', dst: '10.0.0.2', packets: 1, bytes: 40, first: 1, last: 2, srcPort: 1, dstPort: 2, proto: 6 },
    { src: '10.0.0.3', dst: '10.0.0.4', packets: 2, bytes: 80, first: 1, last: 2, srcPort: 3, dstPort: 4, proto: 17 },
  ]);
  seeds.push(splitNetflow('v5', v5d));
  const v9t = [
    v9Templates({ id: 256, fields: [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.octetDeltaCount, 4], [IE.protocolIdentifier, 1], [IE.flowStartSysUpTime, 4], [IE.flowEndSysUpTime, 4]] }),
    v9OptionsTemplate(257, [[1, 4]], [[IE.samplingInterval, 4]]),
  ];
  const v9d = [v9Data(257, cc(u32(1), u32(100))), v9Data(256, cc(ip4('10.0.0.1'), ip4('10.0.0.2'), u32(500), u8(6), u32(90_000), u32(99_000)), cc(ip4('10.0.0.3'), ip4('10.0.0.4'), u32(600), u8(17), u32(1), u32(2)))];
  seeds.push(splitNetflow('v9 templates+data', v9({ sysUptime: 100_000, unixSecs: SECS, sequence: 1, sourceId: 3 }, ...v9t, ...v9d)));
  seeds.push(splitNetflow('v9 data only', v9({ sysUptime: 101_000, unixSecs: SECS + 1, sequence: 2, sourceId: 3 }, ...v9d)));
  const v6t = v9Templates({ id: 300, fields: [[IE.sourceIPv6Address, 16], [IE.destinationIPv6Address, 16], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2], [IE.packetDeltaCount, 8], [IE.ipVersion, 1]] });
  seeds.push(splitNetflow('v9 v6', v9({ sysUptime: 5000, unixSecs: SECS, sequence: 9, sourceId: 4 }, v6t, v9Data(300, cc(ip6('2001:db8::1'), ip6('2001:db8::2'), u16(41000), u16(14444), u64(7), u8(6))))));
  const ipfixSets = [
    ipfixTemplates({
      id: 300,
      fields: [
        { id: IE.sourceIPv4Address, len: 4 },
        { id: IE.applicationName, len: 65535 },
        { id: IE.destinationIPv4Address, len: 4 },
        { id: 7, len: 65535, pen: 4242 },
        { id: IE.octetDeltaCount, len: 2 },
        { id: IE.flowStartMilliseconds, len: 8 },
      ],
    }),
    ipfixOptionsTemplates({ id: 301, scope: [{ id: IE.templateId, len: 2 }], fields: [{ id: IE.samplingPacketInterval, len: 4 }, { id: IE.samplingPacketSpace, len: 4 }] }),
    ipfixData(301, [cc(u16(300), u32(1), u32(4))]),
    ipfixData(
      300,
      [
        cc(ip4('10.0.0.1'), varField(new TextEncoder().encode('miner')), ip4('10.0.0.2'), varField(new Uint8Array(300), true), u16(1000), u64(SECS * 1000)),
        cc(ip4('10.0.0.3'), varField(new Uint8Array(0)), ip4('10.0.0.4'), varField(new Uint8Array(3)), u16(2000), u64(0)),
      ],
      4,
    ),
  ];
  seeds.push(splitNetflow('ipfix', ipfix({ exportTime: SECS, sequence: 0, domain: 5 }, ...ipfixSets)));
  seeds.push(splitNetflow('ipfix withdraw', ipfix({ exportTime: SECS + 5, sequence: 3, domain: 5 }, ipfixWithdraw(2, 300), ipfixWithdraw(3, 3))));
  seeds.push(
    splitNetflow(
      'ipfix frame section',
      ipfix(
        { exportTime: SECS, sequence: 0, domain: 6 },
        ipfixTemplates({ id: 400, fields: [{ id: IE.dataLinkFrameSection, len: 65535 }, { id: IE.samplerId, len: 1 }] }),
        ipfixData(400, [cc(varField(ethernet(tcpPacket('10.9.9.9', '203.0.113.77', 1234, 14444, 'x'), { mpls: [100] })), u8(1))]),
      ),
    ),
  );
  for (const d of exportScenario().datagrams) {
    const v = (d.payload[0]! << 8) | d.payload[1]!;
    if (v === 5 || v === 9 || v === 10) seeds.push(splitNetflow(d.what, d.payload));
    else seeds.push(whole(d.what, d.payload));
  }
  return seeds;
}

// ------------------------------------------------------------------------------------------------
// Texts

export function readText(rel: string): string {
  return readFileSync(path.join(ROOT, rel), 'utf8');
}

export const LIST_SEEDS: Record<string, string[]> = {
  plain: [
    readText('fixtures/pools.txt'),
    readText('config/blacklist.txt'),
    '203.0.113.7\n203.0.113.0/24:3333\n198.51.100.9:3333-3340\n2001:db8::/32\n[2001:db8::1]:3333\n[2001:db8::/32]:3333-3340\n# comment\n10.0.0.1/24 # host bits\n',
  ],
  hosts: [
    readText('config/lists/nocoin-hosts.txt').split('\n').slice(0, 60).join('\n'),
    '0.0.0.0 pool.example\n127.0.0.1 a.example b.example # two\n:: pool6.example\nfe80::1%lo0 localhost ip6-localhost\n0.0.0.0 hashbag.cc:8688\n',
  ],
  domains: [
    readText('config/lists/minerchk-domains.txt'),
    'pool.example\nxmr.pool.example:3333-3340   # trailing\nxmr.crypto-pool.fr #163.172.204.219\n*.wild.example\nPööl.Example.\nxn--pl-fkaa.example\n',
  ],
  abp: ['[Adblock Plus 2.0]\n! comment\n||pool.example^\n||coinhive.com^$third-party\n||miner.example$websocket,domain=a.example\n||203.0.113.7^\n||[2001:db8::1]^\n||x.example/path\n||minero-proxy-*.now.sh^\n@@||ok.example^\n||tk^\n||csp.example^$csp=script-src\n'],
  csv: [
    'ip,port,coin,pool\n203.0.113.7,3333,xmr,supportxmr\n2001:db8::/32,,,"Pool, Inc."\npool.example,3333-3340,btc,\n',
    'Domain,Label,Coin\n"xmr.pool.example",Pool One,XMR\n"a""b.example",x,y\n# comment\n\n[2001:db8::1]:14444,six,eth\n',
  ],
  json: [
    '["203.0.113.7", "2001:db8::/32", "pool.example:3333"]',
    '[{"ip": "203.0.113.7", "port": 3333, "coin": "xmr", "pool": "supportxmr"}, {"domain": "pool.example", "port": "3333-3340"}, {"host": "[2001:db8::1]:1"}]',
    '{"entries": ["a.example", {"cidr": "10.0.0.0/8", "label": "ten"}]}',
    '{"pools": [{"entry": "xmr.pool.example", "coin": "xmr"}]}',
  ],
  entries: [readText('fixtures/pools.txt'), '203.0.113.0/24:3333\n[2001:db8::1]:14444\nxmr.pool.example:4444\npool.example\n# c\n'],
};

export const LIST_DICT = [
  '0.0.0.0 ', '127.0.0.1', '::', '::1', 'fe80::1%lo0', '203.0.113.7', '203.0.113.0/24', '/32', '/33', '/0', '/129', ':3333', ':0', ':65536', ':3340-3333', '-',
  '[2001:db8::1]', '[2001:db8::/32]:3333', '2001:db8::1:3333', 'pool.example', '*.', 'xn--pl-fkaa', 'localhost', '||', '^', '$third-party', '$csp=x', '@@', '##', '!',
  '"', '""', ',', 'ip', 'domain', 'host', 'coin', 'label', 'port', 'pool', '{"ip":', '[', ']', '{', '}', '"entries"', '"pools"', 'null', '1e999', '-0', '255.255.255.255', '1.2.3', '01.2.3.4',
];

export function nfdumpSeeds(): string[] {
  const lines = RECORDED_NFDUMP_CSV.split('\n');
  return [
    RECORDED_NFDUMP_CSV,
    lines.slice(1).join('\n'),
    'ts,sa,da,pkt,byt,sp,dp,pr,xsa,xda,xsp,xdp\n1709280000,10.0.0.1,203.0.113.7,5,500,1000,3333,6,100.64.0.1,0.0.0.0,2000,0\n2024-03-01T08:00:00.123Z,2001:db8::1,2001:db8::2,1,60,1,2,UDP,,,,\n',
    'Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n13,7441,79,10158,13,94\nNo matching flows\n',
    '\x0c\xa5\x01\x00' + 'binary nfcapd'.padEnd(64, '\0'),
  ];
}

export const NFDUMP_DICT = [',', '2024-03-01 08:00:00', '2024-13-45 25:61:61', '1709280000.5', '+05:30', 'Z', '10.0.0.1', '::ffff:1.2.3.4', 'TCP', 'ICMP', '3.3', '99999999999999999', '...AP.SF', '0xff', '0/0', '255/255', 'ts', 'sa', 'Summary', 'flows,'];

export function orgYamlSeeds(): string[] {
  return [
    readText('config/orgs.example.yaml'),
    '- name: A\n  ranges: 192.0.2.0/24\n- name: B\n  sector: school\n  contact: "x@y"\n  ranges: [2001:db8::/32, 198.51.100.7]\n',
    'organizations:\n  - {name: C, ranges: [10.0.0.0/8]}\n',
  ];
}

export function orgCsvSeeds(): string[] {
  return [readText('config/orgs.example.csv'), 'CIDR,Org,Sector\n192.0.2.0/26,"Ministry, of Examples",government\n2001:db8::/48,Ministry,government\n'];
}

export const YAML_DICT = [': ', '- ', '  ', '[', ']', '{', '}', '&a ', '*a', '!!binary ', '!!str ', '? ', '|', '>', '---\n', '...\n', '~', 'null', 'true', '0x10', '.inf', '-.nan', '1e400', '"', "'", '#', '<<: *a', 'name', 'ranges', 'sector', 'contact', 'organisations', '192.0.2.0/24', '192.0.2.1/24', 'unknown'];

export function configSeeds(): string[] {
  return [
    readText('config/poolwatch.yaml'),
    'poolPorts: [3333, 14444]\nflows: {idleTimeout: 60, activeTimeout: 600, maxFlows: 1000}\nreport: {batchSize: 10}\n',
    'blacklist:\n  sources:\n    - {name: a, url: "https://example.org/list.txt", format: hosts, refresh: 1d, maxBytes: 16MiB, timeoutSeconds: 5, maxShrink: 0.2}\n    - {name: b, file: x.txt, format: plain}\n  resolver: ["192.0.2.53", "[2001:db8::53]:53"]\n  resolve: {timeoutSeconds: 2, tries: 3, concurrency: 4, minTtl: 5m, maxTtl: 1d}\n  allow: [allow.txt]\n  refreshInterval: 6h\n',
    'alerts:\n  webhook: {url: "http://127.0.0.1:9/hook", timeoutSeconds: 1, maxAttempts: 2, backoffSeconds: 0.5, maxQueue: 10, headers: {Authorization: "Bearer x"}}\n  syslog: {host: 192.0.2.9, port: 514, facility: local3, appName: pw}\n  maxPerMinute: 5\n  drainSeconds: 0\nnetflow:\n  suspect: {enabled: true, minDurationSec: 60, maxGapSec: 30, idleTimeoutSec: 30, maxCandidates: 10}\norganisations:\n  files: [orgs.csv]\n',
  ];
}

export const CONFIG_DICT = [
  ...YAML_DICT, 'poolPorts', 'flows', 'maxFlows', 'blacklist', 'sources', 'format', 'plain', 'hosts', 'url', 'file', 'refresh', '1d', '0s', '60s', '16MiB', '1.5GB',
  'resolver', 'false', 'alerts', 'webhook', 'syslog', 'facility', 'local9', 'headers', 'netflow', 'suspect', 'files', 'manual', 'ftp://x', 'http://', '__proto__', 'constructor',
];
