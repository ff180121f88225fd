import { describe, expect, it } from 'vitest';
import { LINKTYPE } from '../src/capture/packet.js';
import { decodePacket, isSupportedLinkType } from '../src/decode/index.js';
import { newDecodedPacket } from '../src/decode/types.js';
import {
  concat,
  ethernet,
  ipv4,
  loop,
  mplsStack,
  nullLoopback,
  packetView,
  ppp,
  sll,
  sll2,
  tcpPacket,
  udp,
  type ViewOptions,
} from './helpers/frames.js';
import { decodedSummary } from './helpers/decoded.js';

const summary = decodedSummary;

function run(frame: Uint8Array, linkType: number, o: ViewOptions = {}) {
  const p = packetView(frame, linkType, o);
  const out = newDecodedPacket();
  const outcome = decodePacket(p, out);
  return { outcome, out, p, s: summary(out, p) };
}

const IP4 = tcpPacket('10.0.0.1', '198.51.100.7', 50123, 3333, 'hello pool', { flags: 'PA', seq: 1000 });
const IP6 = tcpPacket('2001:db8::1', '2001:db8:0:1::7', 50124, 4444, 'hello six', { flags: 'PA', seq: 2000 });

const TCP4 = {
  ipVersion: 4,
  src: '10.0.0.1',
  dst: '198.51.100.7',
  proto: 6,
  srcPort: 50123,
  dstPort: 3333,
  tcpFlags: 0x18,
  tcpSeq: 1000,
  ipLength: IP4.length,
  payload: 'hello pool',
  laterFragment: false,
  tunneled: false,
};
const TCP6 = {
  ipVersion: 6,
  src: '2001:db8::1',
  dst: '2001:db8:0:1::7',
  proto: 6,
  srcPort: 50124,
  dstPort: 4444,
  tcpFlags: 0x18,
  tcpSeq: 2000,
  ipLength: IP6.length,
  payload: 'hello six',
  laterFragment: false,
  tunneled: false,
};

/** Each case: a frame builder over an IP packet, and its link type. */
const IP_CASES: [string, number, (ip: Uint8Array) => Uint8Array][] = [
  ['Ethernet', LINKTYPE.ETHERNET, (ip) => ethernet(ip)],
  ['Ethernet padded to 60 bytes', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { pad: true })],
  ['802.1Q', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [100] })],
  ['two stacked 802.1Q tags', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [100, 200] })],
  ['QinQ 0x88a8', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [10, 20], qinq: true })],
  ['QinQ 0x9100', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [10, 20], qinq: 0x9100 })],
  ['QinQ 0x9100 with three tags', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [10, 20, 30], qinq: 0x9100 })],
  ['MPLS one label', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { mpls: [16] })],
  ['MPLS three labels', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { mpls: [16, 17, 1048575] })],
  ['MPLS multicast', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { mpls: [16, 17], mplsMulticast: true })],
  ['802.1Q + MPLS', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [7], mpls: [300] })],
  ['PPPoE session', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { pppoe: true })],
  ['QinQ + PPPoE session', LINKTYPE.ETHERNET, (ip) => ethernet(ip, { vlans: [5, 6], qinq: true, pppoe: true })],
  ['Linux SLL', LINKTYPE.LINUX_SLL, (ip) => sll(ip)],
  ['Linux SLL outgoing', LINKTYPE.LINUX_SLL, (ip) => sll(ip, { packetType: 4 })],
  ['Linux SLL with a VLAN tag left in', LINKTYPE.LINUX_SLL, (ip) => sll(concat(Uint8Array.of(0, 100, ip[0]! >> 4 === 4 ? 0x08 : 0x86, ip[0]! >> 4 === 4 ? 0x00 : 0xdd), ip), { protocol: 0x8100 })],
  ['Linux SLL2', LINKTYPE.LINUX_SLL2, (ip) => sll2(ip)],
  ['raw IP (101)', LINKTYPE.RAW, (ip) => ip],
  ['raw IP (DLT 12)', LINKTYPE.DLT_RAW_12, (ip) => ip],
  ['raw IP (DLT 14)', LINKTYPE.DLT_RAW_14, (ip) => ip],
  ['NULL little-endian', LINKTYPE.NULL, (ip) => nullLoopback(ip)],
  ['NULL big-endian', LINKTYPE.NULL, (ip) => nullLoopback(ip, { bigEndian: true })],
  ['LOOP', LINKTYPE.LOOP, (ip) => loop(ip)],
  ['PPP', LINKTYPE.PPP, (ip) => ppp(ip)],
  ['PPP with ff 03', LINKTYPE.PPP, (ip) => ppp(ip, { hdlc: true })],
  ['PPP with a compressed protocol field', LINKTYPE.PPP, (ip) => ppp(ip, { compressProtocol: true })],
  ['PPP in HDLC framing', LINKTYPE.PPP_HDLC, (ip) => ppp(ip, { hdlc: true })],
  ['PPP in HDLC framing without ff 03', LINKTYPE.PPP_HDLC, (ip) => ppp(ip)],
  ['Cisco HDLC on LINKTYPE_PPP_HDLC', LINKTYPE.PPP_HDLC, (ip) => concat(Uint8Array.of(0x0f, 0x00), ethernet(ip).subarray(12))],
  ['PPP carrying MPLS', LINKTYPE.PPP, (ip) => concat(ppp(new Uint8Array(0), { hdlc: true, protocol: 0x0281 }), mplsStack([20]), ip)],
];

describe('link layers', () => {
  for (const [name, linkType, build] of IP_CASES) {
    it(`${name}: IPv4`, () => {
      const r = run(build(IP4), linkType);
      expect(r.outcome).toBe('ok');
      expect(r.s).toEqual(TCP4);
    });
    it(`${name}: IPv6`, () => {
      const r = run(build(IP6), linkType);
      expect(r.outcome).toBe('ok');
      expect(r.s).toEqual(TCP6);
    });
  }

  it('LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) take the version they announce', () => {
    expect(run(IP4, LINKTYPE.IPV4).s).toEqual(TCP4);
    expect(run(IP6, LINKTYPE.IPV6).s).toEqual(TCP6);
    expect(run(IP6, LINKTYPE.IPV4).outcome).toBe('malformed');
    expect(run(IP4, LINKTYPE.IPV6).outcome).toBe('malformed');
  });

  it('BSD NULL: AF_INET6 as 24, 28 and 30, in both byte orders', () => {
    for (const family of [24, 28, 30]) {
      for (const bigEndian of [false, true]) {
        const r = run(nullLoopback(IP6, { family, bigEndian }), LINKTYPE.NULL);
        expect(r.outcome, `family ${family} ${bigEndian ? 'BE' : 'LE'}`).toBe('ok');
        expect(r.s).toEqual(TCP6);
      }
    }
  });

  it('LOOP: AF_INET6 as 24, 28 and 30', () => {
    for (const family of [24, 28, 30]) expect(run(loop(IP6, { family }), LINKTYPE.LOOP).s).toEqual(TCP6);
  });

  it('loopback families other than IP are not IP', () => {
    expect(run(nullLoopback(IP4, { family: 7 }), LINKTYPE.NULL).outcome).toBe('not-ip');
    expect(run(nullLoopback(IP4, { family: 7, bigEndian: true }), LINKTYPE.NULL).outcome).toBe('not-ip');
    expect(run(loop(IP4, { family: 23 }), LINKTYPE.LOOP).outcome).toBe('not-ip');
  });

  it('an EtherType that contradicts the IP version is malformed', () => {
    expect(run(ethernet(IP6, { etherType: 0x0800 }), LINKTYPE.ETHERNET).outcome).toBe('malformed');
    expect(run(ethernet(IP4, { etherType: 0x86dd }), LINKTYPE.ETHERNET).outcome).toBe('malformed');
  });

  it('a raw-IP frame that starts with neither 4 nor 6 is malformed', () => {
    const bad = Uint8Array.from(IP4);
    bad[0] = 0x55;
    expect(run(bad, LINKTYPE.RAW).outcome).toBe('malformed');
  });

  describe('not IP', () => {
    const arp = Uint8Array.from(Buffer.from('0001080006040001020000000001c0000201000000000000c0000202', 'hex'));
    const cases: [string, number, Uint8Array][] = [
      ['ARP', LINKTYPE.ETHERNET, ethernet(arp, { etherType: 0x0806 })],
      ['ARP in a VLAN', LINKTYPE.ETHERNET, ethernet(arp, { etherType: 0x0806, vlans: [3] })],
      ['LLDP', LINKTYPE.ETHERNET, ethernet(new Uint8Array(40), { etherType: 0x88cc })],
      ['an 802.3 length field (LLC)', LINKTYPE.ETHERNET, ethernet(Uint8Array.of(0x42, 0x42, 0x03, 0, 0, 0), { etherType: 6 })],
      ['PPPoE discovery', LINKTYPE.ETHERNET, ethernet(Uint8Array.of(0x11, 0x09, 0, 0, 0, 0), { etherType: 0x8863 })],
      ['LCP in a PPPoE session', LINKTYPE.ETHERNET, ethernet(new Uint8Array(12).fill(1), { pppoe: true, etherType: 0xc021 })],
      ['MPLS carrying a pseudowire control word', LINKTYPE.ETHERNET, ethernet(concat(new Uint8Array(4), ethernet(IP4)), { mpls: [99] })],
      ['ARP in Linux SLL', LINKTYPE.LINUX_SLL, sll(arp, { protocol: 0x0806 })],
      ['802.2 LLC in Linux SLL', LINKTYPE.LINUX_SLL, sll(arp, { protocol: 0x0004 })],
      ['ARP in Linux SLL2', LINKTYPE.LINUX_SLL2, sll2(arp, { protocol: 0x0806 })],
      ['LCP over PPP', LINKTYPE.PPP, ppp(new Uint8Array(10), { hdlc: true, protocol: 0xc021 })],
      ['IPCP over PPP in HDLC framing', LINKTYPE.PPP_HDLC, ppp(new Uint8Array(10), { hdlc: true, protocol: 0x8021 })],
    ];
    for (const [name, linkType, frame] of cases) {
      it(name, () => {
        const r = run(frame, linkType);
        expect(r.outcome).toBe('not-ip');
        expect(r.out.ipVersion).toBe(0);
      });
    }
  });

  it('a PPPoE header with a wrong version or code is malformed', () => {
    const f = ethernet(IP4, { pppoe: true });
    f[15] = 0x09; // code PADI inside a session frame
    expect(run(f, LINKTYPE.ETHERNET).outcome).toBe('malformed');
  });

  it('unknown link types are unsupported', () => {
    for (const lt of [105, 127, 147, 195, 999]) {
      expect(isSupportedLinkType(lt)).toBe(false);
      expect(run(IP4, lt).outcome).toBe('unsupported-link');
    }
    for (const lt of Object.values(LINKTYPE)) expect(isSupportedLinkType(lt), `link type ${lt}`).toBe(true);
  });

  it('payload offsets index the buffer when the frame does not start at 0', () => {
    const frame = ethernet(IP4, { vlans: [42] });
    const r = run(frame, LINKTYPE.ETHERNET, { offset: 1234, tail: 0xee });
    expect(r.outcome).toBe('ok');
    expect(r.s).toEqual(TCP4);
    expect(r.out.payloadOffset).toBe(1234 + frame.length - 'hello pool'.length);
  });

  it('Ethernet padding is not payload: the IP length decides', () => {
    const ip = ipv4({ src: '192.0.2.1', dst: '192.0.2.2', proto: 17, payload: udp({ srcPort: 53, dstPort: 5353, payload: 'hi' }) });
    const r = run(ethernet(ip, { pad: true }), LINKTYPE.ETHERNET);
    expect(r.p.caplen).toBe(60);
    expect(r.outcome).toBe('ok');
    expect(r.s).toMatchObject({ proto: 17, srcPort: 53, dstPort: 5353, ipLength: 30, payload: 'hi' });
  });

  it('a reused record keeps nothing of the previous packet', () => {
    const out = newDecodedPacket();
    decodePacket(packetView(ethernet(IP6), LINKTYPE.ETHERNET), out);
    const p = packetView(ethernet(IP4), LINKTYPE.ETHERNET);
    expect(decodePacket(p, out)).toBe('ok');
    expect(summary(out, p)).toEqual(TCP4);
    expect([...out.src.subarray(4)].every((b) => b === 0)).toBe(true);
    const arp = packetView(ethernet(new Uint8Array(28), { etherType: 0x0806 }), LINKTYPE.ETHERNET);
    expect(decodePacket(arp, out)).toBe('not-ip');
    expect(out).toMatchObject({ ipVersion: 0, proto: 0, srcPort: 0, dstPort: 0, payloadLength: 0, tunneled: false });
  });
});
