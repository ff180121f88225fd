import { describe, expect, it } from 'vitest';
import { LINKTYPE } from '../src/capture/packet.js';
import { decodePacket } from '../src/decode/index.js';
import { newDecodedPacket } from '../src/decode/types.js';
import {
  concat,
  ethernet,
  fragmentHeader,
  gre,
  ipv4,
  ipv6,
  packetView,
  ppp,
  tcp,
  tcpPacket,
  udp,
  udpPacket,
  type ViewOptions,
} from './helpers/frames.js';
import { decodedSummary } from './helpers/decoded.js';

const summary = decodedSummary;

/** Decode an IP packet inside Ethernet (so link and IP offsets are both exercised). */
function run(ip: Uint8Array, o: ViewOptions = {}) {
  const p = packetView(ethernet(ip), LINKTYPE.ETHERNET, o);
  const out = newDecodedPacket();
  const outcome = decodePacket(p, out);
  return { outcome, out, p, s: summary(out, p) };
}

function runRaw(ip: Uint8Array, o: ViewOptions = {}) {
  const p = packetView(ip, LINKTYPE.RAW, o);
  const out = newDecodedPacket();
  const outcome = decodePacket(p, out);
  return { outcome, out, p, s: summary(out, p) };
}

const A4 = '192.0.2.10';
const B4 = '203.0.113.20';
const A6 = '2001:db8:a::10';
const B6 = '2001:db8:b::20';

describe('IPv4', () => {
  it('TCP: addresses, ports, flags, sequence number, length and payload', () => {
    const ip = tcpPacket(A4, B4, 40000, 3333, '{"id":1}\n', { flags: 'PA', seq: 0xfffffff0, ack: 5 });
    const r = run(ip);
    expect(r.outcome).toBe('ok');
    expect(r.s).toEqual({
      ipVersion: 4,
      src: A4,
      dst: B4,
      proto: 6,
      srcPort: 40000,
      dstPort: 3333,
      tcpFlags: 0x18,
      tcpSeq: 0xfffffff0,
      ipLength: 20 + 20 + 9,
      payload: '{"id":1}\n',
      laterFragment: false,
      tunneled: false,
    });
  });

  it('TCP flags as they are on the wire', () => {
    for (const [f, v] of [['S', 0x02], ['SA', 0x12], ['F', 0x01], ['FA', 0x11], ['R', 0x04], ['A', 0x10]] as const) {
      expect(run(tcpPacket(A4, B4, 1, 2, '', { flags: f })).out.tcpFlags).toBe(v);
    }
  });

  it('header options and TCP options are skipped', () => {
    const seg = tcp({ srcPort: 1234, dstPort: 4444, flags: 'PA', payload: 'after options', options: Uint8Array.of(2, 4, 0x05, 0xb4, 1, 1, 4, 2) });
    const ip = ipv4({ src: A4, dst: B4, proto: 6, payload: seg, options: Uint8Array.of(0x94, 4, 0, 0, 1, 1, 1, 0) }); // router alert + NOPs
    const r = run(ip);
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ srcPort: 1234, dstPort: 4444, ipLength: 28 + 28 + 13, payload: 'after options' });
  });

  it('UDP: payload by the UDP length', () => {
    const r = run(udpPacket(A4, B4, 5353, 53, 'query'));
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ ipVersion: 4, proto: 17, srcPort: 5353, dstPort: 53, tcpFlags: 0, tcpSeq: 0, ipLength: 33, payload: 'query' });
  });

  it('UDP: a length shorter than the IP payload wins; a longer one is clipped to it', () => {
    const dg = udp({ srcPort: 1, dstPort: 2, payload: 'abcdef' });
    dg[5] = 8 + 3;
    expect(run(ipv4({ src: A4, dst: B4, proto: 17, payload: dg })).s.payload).toBe('abc');
    dg[5] = 8 + 200;
    expect(run(ipv4({ src: A4, dst: B4, proto: 17, payload: dg })).s.payload).toBe('abcdef');
  });

  it('UDP: length 0 (jumbogram/GSO) takes the IP length; 1..7 is malformed', () => {
    const dg = udp({ srcPort: 1, dstPort: 2, payload: 'abcdef' });
    dg[5] = 0;
    expect(run(ipv4({ src: A4, dst: B4, proto: 17, payload: dg })).s.payload).toBe('abcdef');
    dg[5] = 7;
    expect(run(ipv4({ src: A4, dst: B4, proto: 17, payload: dg })).outcome).toBe('malformed');
  });

  it('other protocols: ok, no ports, no payload', () => {
    const icmp = Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 1, 0x61, 0x62);
    const r = run(ipv4({ src: A4, dst: B4, proto: 1, payload: icmp }));
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ proto: 1, srcPort: 0, dstPort: 0, tcpFlags: 0, ipLength: 30, payload: '' });
  });

  it('Ethernet trailer bytes (FCS, padding) are not payload', () => {
    const frame = concat(ethernet(tcpPacket(A4, B4, 1, 2, 'xyz')), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    const p = packetView(frame, LINKTYPE.ETHERNET);
    const out = newDecodedPacket();
    expect(decodePacket(p, out)).toBe('ok');
    expect(summary(out, p).payload).toBe('xyz');
  });

  it('a snap length cut after the TCP header: ok, full ipLength, captured payload only', () => {
    const ip = tcpPacket(A4, B4, 1, 2, 'abcdefghijklmnop');
    const frame = ethernet(ip);
    const r = run(ip, { caplen: frame.length - 10, origLen: frame.length, tail: 0x41 });
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ ipLength: ip.length, payload: 'abcdef' });
  });

  it('a snap length cut inside the TCP or UDP header: truncated', () => {
    const ip = tcpPacket(A4, B4, 1, 2, 'abc');
    expect(runRaw(ip, { caplen: 20 + 19, tail: 0 }).outcome).toBe('truncated');
    const u = udpPacket(A4, B4, 1, 2, 'abc');
    expect(runRaw(u, { caplen: 20 + 7, tail: 0 }).outcome).toBe('truncated');
    expect(runRaw(u, { caplen: 20 + 8, tail: 0 }).s).toMatchObject({ srcPort: 1, dstPort: 2, payload: '' });
  });

  it('TSO: total length 0 takes the length on the wire', () => {
    const ip = tcpPacket(A4, B4, 1, 2, 'segment');
    ip[2] = 0;
    ip[3] = 0;
    const r = run(ip);
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ ipLength: ip.length, payload: 'segment' });
  });

  it('malformed headers', () => {
    const ihl4 = tcpPacket(A4, B4, 1, 2, 'x');
    ihl4[0] = 0x44;
    expect(run(ihl4).outcome).toBe('malformed');
    const shortTotal = tcpPacket(A4, B4, 1, 2, 'x');
    shortTotal[3] = 19;
    expect(run(shortTotal).outcome).toBe('malformed');
    const tcpDoff = tcpPacket(A4, B4, 1, 2, 'x');
    tcpDoff[20 + 12] = 0x40;
    expect(run(tcpDoff).outcome).toBe('malformed');
    const tcpPastIp = tcpPacket(A4, B4, 1, 2, 'x');
    tcpPastIp[20 + 12] = 0xf0; // 60-byte TCP header in a 41-byte packet
    expect(run(tcpPastIp).outcome).toBe('malformed');
    const tinyTcp = ipv4({ src: A4, dst: B4, proto: 6, payload: new Uint8Array(12) });
    expect(run(tinyTcp).outcome).toBe('malformed');
  });
});

describe('IPv4 fragments', () => {
  // One 48-byte TCP segment (20 header + 28 payload) split at 24 bytes.
  const seg = tcp({ srcPort: 33000, dstPort: 3333, flags: 'PA', seq: 77, payload: 'mining.subscribe params...!' + 'X' });
  const first = ipv4({ src: A4, dst: B4, proto: 6, id: 9, moreFragments: true, payload: seg.subarray(0, 24) });
  // A later fragment whose bytes happen to look like a TCP header: must not be read as one.
  const laterBytes = tcp({ srcPort: 1111, dstPort: 2222, payload: 'zzzz' }).subarray(0, 24);
  const later = ipv4({ src: A4, dst: B4, proto: 6, id: 9, fragOffset: 24, payload: laterBytes });

  it('the first fragment decodes its transport header; payload is what it carries', () => {
    const r = run(first);
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ srcPort: 33000, dstPort: 3333, tcpSeq: 77, ipLength: 44, payload: 'mini', laterFragment: false });
  });

  it('a later fragment: laterFragment, no ports, no payload', () => {
    const r = run(later);
    expect(r.outcome).toBe('ok');
    expect(r.s).toEqual({
      ipVersion: 4,
      src: A4,
      dst: B4,
      proto: 6,
      srcPort: 0,
      dstPort: 0,
      tcpFlags: 0,
      tcpSeq: 0,
      ipLength: 44,
      payload: '',
      laterFragment: true,
      tunneled: false,
    });
  });

  it('a later fragment too short for any transport header does not matter', () => {
    const r = run(ipv4({ src: A4, dst: B4, proto: 17, fragOffset: 1480, payload: Uint8Array.of(1, 2, 3) }));
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ proto: 17, srcPort: 0, dstPort: 0, laterFragment: true, payload: '' });
  });

  it('a record reused after a first fragment carries no port into a later one', () => {
    const out = newDecodedPacket();
    decodePacket(packetView(ethernet(first), LINKTYPE.ETHERNET), out);
    expect(out.srcPort).toBe(33000);
    decodePacket(packetView(ethernet(later), LINKTYPE.ETHERNET), out);
    expect(out).toMatchObject({ srcPort: 0, dstPort: 0, tcpSeq: 0, payloadLength: 0, laterFragment: true });
  });

  it('a later fragment of a tunnel is not opened', () => {
    const r = run(ipv4({ src: A4, dst: B4, proto: 4, fragOffset: 8, payload: tcpPacket('10.0.0.1', '10.0.0.2', 5, 6, 'in') }));
    expect(r.s).toMatchObject({ src: A4, proto: 4, laterFragment: true, tunneled: false, srcPort: 0 });
  });
});

describe('IPv6', () => {
  const seg = () => tcp({ srcPort: 40001, dstPort: 3334, flags: 'PA', seq: 4242, payload: 'six' });
  const expected = (extLen: number) => ({
    ipVersion: 6,
    src: A6,
    dst: B6,
    proto: 6,
    srcPort: 40001,
    dstPort: 3334,
    tcpFlags: 0x18,
    tcpSeq: 4242,
    ipLength: 40 + extLen + 23,
    payload: 'six',
    laterFragment: false,
    tunneled: false,
  });

  it('no extension headers', () => {
    expect(run(ipv6({ src: A6, dst: B6, nextHeader: 6, payload: seg() })).s).toEqual(expected(0));
  });

  const single: [string, number, Uint8Array, number][] = [
    ['hop-by-hop options', 0, Uint8Array.of(5, 2, 0, 0, 1, 0), 8], // router alert, PadN
    ['routing', 43, concat(Uint8Array.of(4, 0, 0, 0, 0, 0), new Uint8Array(16)), 24], // SRH-style, one address
    ['destination options', 60, new Uint8Array(14), 16],
    ['AH', 51, concat(Uint8Array.of(0, 0), Uint8Array.of(0, 0, 1, 0), Uint8Array.of(0, 0, 0, 7), new Uint8Array(12)), 24],
    ['fragment, first (offset 0, M)', 44, fragmentHeader(0, true), 8],
    ['fragment, atomic (offset 0, no M)', 44, fragmentHeader(0, false), 8],
  ];
  for (const [name, type, body, len] of single) {
    it(`with ${name}`, () => {
      const r = run(ipv6({ src: A6, dst: B6, nextHeader: 6, payload: seg(), extHeaders: [{ type, body }] }));
      expect(r.outcome).toBe('ok');
      expect(r.s).toEqual(expected(len));
    });
  }

  it('with a chain of every extension header', () => {
    const extHeaders = [
      { type: 0, body: new Uint8Array(6) },
      { type: 60, body: new Uint8Array(6) },
      { type: 43, body: new Uint8Array(22) },
      { type: 44, body: fragmentHeader(0, false) },
      { type: 51, body: new Uint8Array(14) },
      { type: 60, body: new Uint8Array(30) },
    ];
    const r = run(ipv6({ src: A6, dst: B6, nextHeader: 6, payload: seg(), extHeaders }));
    expect(r.outcome).toBe('ok');
    expect(r.s).toEqual(expected(8 + 8 + 24 + 8 + 16 + 32));
  });

  it('UDP over IPv6', () => {
    const r = run(udpPacket(A6, B6, 1000, 2000, 'dgram'));
    expect(r.s).toMatchObject({ ipVersion: 6, proto: 17, srcPort: 1000, dstPort: 2000, ipLength: 40 + 13, payload: 'dgram' });
  });

  it('a fragment header with offset > 0: laterFragment, no ports', () => {
    const body = tcp({ srcPort: 9, dstPort: 9, payload: 'looks like tcp' });
    const r = run(ipv6({ src: A6, dst: B6, nextHeader: 6, payload: body, extHeaders: [{ type: 0, body: new Uint8Array(6) }, { type: 44, body: fragmentHeader(1232, true) }] }));
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ ipVersion: 6, proto: 6, srcPort: 0, dstPort: 0, tcpSeq: 0, payload: '', laterFragment: true, tunneled: false });
  });

  it('ESP and no-next-header: proto kept, no ports', () => {
    const esp = run(ipv6({ src: A6, dst: B6, nextHeader: 50, payload: new Uint8Array(32).fill(7) }));
    expect(esp.outcome).toBe('ok');
    expect(esp.s).toMatchObject({ proto: 50, srcPort: 0, dstPort: 0, payload: '' });
    const none = run(ipv6({ src: A6, dst: B6, nextHeader: 59, payload: new Uint8Array(0), extHeaders: [{ type: 60, body: new Uint8Array(6) }] }));
    expect(none.outcome).toBe('ok');
    expect(none.s).toMatchObject({ proto: 59, srcPort: 0, ipLength: 48 });
  });

  it('an extension header running past the packet is malformed; past the capture, truncated', () => {
    const ip = ipv6({ src: A6, dst: B6, nextHeader: 6, payload: seg(), extHeaders: [{ type: 60, body: new Uint8Array(6) }] });
    const bad = Uint8Array.from(ip);
    bad[41] = 200; // 1608-byte header
    expect(run(bad).outcome).toBe('malformed');
    expect(runRaw(ip, { caplen: 45, origLen: ip.length, tail: 0 }).outcome).toBe('truncated');
  });

  it('payload length 0 (jumbogram/GSO) takes the length on the wire', () => {
    const ip = tcpPacket(A6, B6, 1, 2, 'big');
    ip[4] = 0;
    ip[5] = 0;
    expect(run(ip).s).toMatchObject({ ipLength: ip.length, payload: 'big', srcPort: 1 });
  });

  it('AH in IPv4 (transport mode) is skipped too', () => {
    const ah = concat(Uint8Array.of(6, 4), new Uint8Array(22)); // next TCP, (4+2)*4 = 24 bytes
    const r = run(ipv4({ src: A4, dst: B4, proto: 51, payload: concat(ah, tcp({ srcPort: 5, dstPort: 6, payload: 'ah' })) }));
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ proto: 6, srcPort: 5, dstPort: 6, payload: 'ah' });
  });
});

describe('tunnels', () => {
  const inner4 = tcpPacket('10.1.1.1', '10.2.2.2', 51000, 3333, 'inner four', { seq: 11 });
  const inner6 = tcpPacket('fd00::1', 'fd00::2', 52000, 4444, 'inner six', { seq: 12 });
  const want4 = { ipVersion: 4, src: '10.1.1.1', dst: '10.2.2.2', proto: 6, srcPort: 51000, dstPort: 3333, tcpSeq: 11, ipLength: inner4.length, payload: 'inner four', laterFragment: false, tunneled: true };
  const want6 = { ipVersion: 6, src: 'fd00::1', dst: 'fd00::2', proto: 6, srcPort: 52000, dstPort: 4444, tcpSeq: 12, ipLength: inner6.length, payload: 'inner six', laterFragment: false, tunneled: true };

  const cases: [string, Uint8Array, object][] = [
    ['IP-in-IP (4in4)', ipv4({ src: A4, dst: B4, proto: 4, payload: inner4 }), want4],
    ['6in4 (proto 41)', ipv4({ src: A4, dst: B4, proto: 41, payload: inner6 }), want6],
    ['4in6 (next header 4)', ipv6({ src: A6, dst: B6, nextHeader: 4, payload: inner4 }), want4],
    ['6in6 (next header 41)', ipv6({ src: A6, dst: B6, nextHeader: 41, payload: inner6 }), want6],
    ['6in6 behind a destination options header', ipv6({ src: A6, dst: B6, nextHeader: 41, payload: inner6, extHeaders: [{ type: 60, body: Uint8Array.of(4, 1, 1, 0, 0, 0) }] }), want6],
    ['GRE over IPv4 carrying IPv4', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(inner4) }), want4],
    ['GRE with key and sequence number', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(inner4, { key: 0xdeadbeef, seq: 7 }) }), want4],
    ['GRE with checksum, key and sequence number', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(inner6, { checksum: true, key: 1, seq: 2 }) }), want6],
    ['GRE over IPv6 carrying IPv6', ipv6({ src: A6, dst: B6, nextHeader: 47, payload: gre(inner6, { key: 5 }) }), want6],
    ['GRE carrying Ethernet (0x6558)', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ethernet(inner4), { protocol: 0x6558, key: 9 }) }), want4],
    ['GRE carrying Ethernet with a VLAN tag', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ethernet(inner6, { vlans: [12] }), { protocol: 0x6558 }) }), want6],
    ['GRE carrying MPLS', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(concat(Uint8Array.of(0, 0x10, 0x11, 64), inner4), { protocol: 0x8847 }) }), want4],
    ['ERSPAN type I', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ethernet(inner4), { protocol: 0x88be }) }), want4],
    ['ERSPAN type II', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(concat(Uint8Array.of(0x10, 0x01, 0, 1, 0, 0, 0, 0), ethernet(inner4)), { protocol: 0x88be, seq: 1 }) }), want4],
    ['ERSPAN type III', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(concat(Uint8Array.of(0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), ethernet(inner6)), { protocol: 0x22eb, seq: 1 }) }), want6],
    ['ERSPAN type III with a platform subheader', ipv4({ src: A4, dst: B4, proto: 47, payload: gre(concat(Uint8Array.of(0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), new Uint8Array(8), ethernet(inner6)), { protocol: 0x22eb, seq: 1 }) }), want6],
  ];
  for (const [name, ip, want] of cases) {
    it(`${name}: the inner packet is reported`, () => {
      const r = run(ip);
      expect(r.outcome).toBe('ok');
      expect(r.s).toMatchObject(want);
    });
  }

  it('a second tunnel inside is left closed: the first inner header, with its protocol', () => {
    const twice = ipv4({ src: A4, dst: B4, proto: 4, payload: ipv4({ src: '10.9.9.9', dst: '10.8.8.8', proto: 4, payload: inner4 }) });
    expect(run(twice).s).toMatchObject({ ipVersion: 4, src: '10.9.9.9', dst: '10.8.8.8', proto: 4, srcPort: 0, dstPort: 0, payload: '', tunneled: true });
    const greIn6in4 = ipv4({ src: A4, dst: B4, proto: 41, payload: ipv6({ src: 'fd00::9', dst: 'fd00::8', nextHeader: 47, payload: gre(inner4) }) });
    expect(run(greIn6in4).s).toMatchObject({ ipVersion: 6, src: 'fd00::9', dst: 'fd00::8', proto: 47, srcPort: 0, tunneled: true });
    const ipipInGre = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ipv6({ src: 'fd00::9', dst: 'fd00::8', nextHeader: 4, payload: inner4 })) });
    expect(run(ipipInGre).s).toMatchObject({ ipVersion: 6, src: 'fd00::9', proto: 4, srcPort: 0, tunneled: true });
  });

  it('PPTP (GRE version 1) carrying PPP: the inner packet is reported', () => {
    const pppFrame = ppp(inner4, { hdlc: true });
    const withSeqAck = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(pppFrame, { version: 1, key: (pppFrame.length << 16) | 0x9850, seq: 106, ack: 140 }) });
    expect(run(withSeqAck).s).toMatchObject(want4);
    const compressed = ppp(inner6, { compressProtocol: true });
    const seqOnly = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(compressed, { version: 1, key: (compressed.length << 16) | 1, seq: 1 }) });
    expect(run(seqOnly).s).toMatchObject(want6);
  });

  it('PPTP that carries no IP stays a GRE packet', () => {
    const ackOnly = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(new Uint8Array(0), { version: 1, key: 7, ack: 9 }) });
    expect(run(ackOnly).outcome).toBe('ok');
    expect(run(ackOnly).s).toMatchObject({ src: A4, proto: 47, tunneled: false });
    const lcp = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ppp(new Uint8Array(8), { hdlc: true, protocol: 0xc021 }), { version: 1, key: 7, seq: 1 }) });
    expect(run(lcp).s).toMatchObject({ src: A4, proto: 47, tunneled: false });
    const mppe = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ppp(new Uint8Array(30), { protocol: 0x00fd }), { version: 1, key: 7, seq: 2 }) });
    expect(run(mppe).s).toMatchObject({ src: A4, proto: 47, tunneled: false });
  });

  it('GRE we do not open stays a GRE packet', () => {
    const v2 = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(inner4, { version: 2 }) });
    expect(run(v2).s).toMatchObject({ ipVersion: 4, src: A4, dst: B4, proto: 47, srcPort: 0, tunneled: false });
    const routed = gre(inner4);
    routed[0] |= 0x40; // RFC 1701 routing present
    expect(run(ipv4({ src: A4, dst: B4, proto: 47, payload: routed })).s).toMatchObject({ src: A4, proto: 47, tunneled: false });
    const unknown = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(new Uint8Array(12), { protocol: 0x1234 }) });
    expect(run(unknown).outcome).toBe('ok');
    expect(run(unknown).s).toMatchObject({ src: A4, proto: 47, tunneled: false });
    const arp = ipv4({ src: A4, dst: B4, proto: 47, payload: gre(ethernet(new Uint8Array(28), { etherType: 0x0806 }), { protocol: 0x6558 }) });
    expect(run(arp).s).toMatchObject({ src: A4, proto: 47, tunneled: false });
  });

  it('an inner header of the wrong version is malformed', () => {
    expect(run(ipv4({ src: A4, dst: B4, proto: 4, payload: inner6 })).outcome).toBe('malformed');
    expect(run(ipv4({ src: A4, dst: B4, proto: 41, payload: inner4 })).outcome).toBe('malformed');
  });

  it('the inner packet is bounded by the outer one', () => {
    // Outer packet ends 5 bytes into the inner payload: the rest of the frame is not payload.
    const outer = ipv4({ src: A4, dst: B4, proto: 4, payload: inner4 });
    const frame = concat(outer, new TextEncoder().encode('TRAILING'));
    const cut = Uint8Array.from(frame);
    const newTotal = outer.length - 5;
    cut[2] = newTotal >> 8;
    cut[3] = newTotal & 0xff;
    const r = runRaw(cut);
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ tunneled: true, payload: 'inner' });
  });
});
