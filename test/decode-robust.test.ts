/**
 * The decoder against cut and hostile input: every prefix of real frames, and random garbage,
 * read through a buffer that throws on any index outside [offset, offset + caplen).
 */
import { describe, expect, it } from 'vitest';
import { LINKTYPE, newPacketView, type PacketView } from '../src/capture/packet.js';
import { decodePacket } from '../src/decode/index.js';
import { newDecodedPacket, type DecodedPacket, type DecodeOutcome } from '../src/decode/types.js';
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
  udpPacket,
} from './helpers/frames.js';
import { prng } from './helpers/prng.js';
import { guarded } from './helpers/guarded.js';

function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0;
  return b;
}

const BEFORE = 7;
const AFTER = 64;

/**
 * Decode `frame` cut to `caplen` bytes, the frame placed at BEFORE in a buffer whose other bytes
 * are garbage from `fill`; reads are guarded.
 */
function decodeCut(frame: Uint8Array, linkType: number, caplen: number, fill: Uint8Array, out: DecodedPacket, guard: boolean) {
  const buf = Buffer.alloc(BEFORE + caplen + AFTER);
  buf.set(fill.subarray(0, BEFORE), 0);
  buf.set(frame.subarray(0, caplen), BEFORE);
  buf.set(fill.subarray(BEFORE, BEFORE + AFTER), BEFORE + caplen);
  const p: PacketView = {
    ...newPacketView(),
    data: guard ? guarded(buf, BEFORE, BEFORE + caplen) : buf,
    offset: BEFORE,
    caplen,
    origLen: frame.length,
    linkType,
  };
  const outcome = decodePacket(p, out);
  return { outcome, rec: record(outcome, out) };
}

/** What a decode means: the outcome, and on 'ok' every field of the record. */
function record(outcome: DecodeOutcome, out: DecodedPacket) {
  if (outcome !== 'ok') return { outcome };
  return { outcome, ...out, src: [...out.src], dst: [...out.dst] };
}

const OUTCOMES = new Set(['ok', 'not-ip', 'unsupported-link', 'truncated', 'malformed']);

const ip4 = tcpPacket('192.0.2.1', '198.51.100.2', 40000, 3333, 'payload of four');
const ip6 = tcpPacket('2001:db8::1', '2001:db8::2', 40001, 4444, 'payload of six');
const u4 = udpPacket('192.0.2.1', '198.51.100.2', 5000, 53, 'udp');
const ext6 = ipv6({
  src: '2001:db8::1',
  dst: '2001:db8::2',
  nextHeader: 6,
  payload: tcp({ srcPort: 1, dstPort: 2, payload: 'ext', options: Uint8Array.of(1, 1, 1, 1) }),
  extHeaders: [
    { type: 0, body: new Uint8Array(6) },
    { type: 43, body: new Uint8Array(14) },
    { type: 44, body: fragmentHeader(0, true) },
    { type: 51, body: new Uint8Array(14) },
    { type: 60, body: new Uint8Array(6) },
  ],
});

/** Representative frames of every link layer and encapsulation the decoder handles. */
const FRAMES: [string, number, Uint8Array][] = [
  ['Ethernet IPv4 TCP', LINKTYPE.ETHERNET, ethernet(ip4)],
  ['Ethernet IPv6 TCP', LINKTYPE.ETHERNET, ethernet(ip6)],
  ['Ethernet padded UDP', LINKTYPE.ETHERNET, ethernet(u4, { pad: true })],
  ['QinQ', LINKTYPE.ETHERNET, ethernet(u4, { vlans: [1, 2, 3], qinq: true })],
  ['MPLS', LINKTYPE.ETHERNET, ethernet(ip6, { vlans: [9], mpls: [1, 2, 3] })],
  ['PPPoE', LINKTYPE.ETHERNET, ethernet(ip4, { pppoe: true })],
  ['SLL', LINKTYPE.LINUX_SLL, sll(ip4)],
  ['SLL2', LINKTYPE.LINUX_SLL2, sll2(ip6)],
  ['raw with IPv4 options', LINKTYPE.RAW, ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 6, payload: tcp({ srcPort: 7, dstPort: 8, payload: 'opt' }), options: Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 0) })],
  ['raw IPv6 with every extension header', LINKTYPE.DLT_RAW_12, ext6],
  ['IPV4 link type', LINKTYPE.IPV4, u4],
  ['IPV6 link type', LINKTYPE.IPV6, ip6],
  ['NULL', LINKTYPE.NULL, nullLoopback(ip6)],
  ['NULL big-endian', LINKTYPE.NULL, nullLoopback(ip4, { bigEndian: true })],
  ['LOOP', LINKTYPE.LOOP, loop(ip6)],
  ['PPP', LINKTYPE.PPP, ppp(ip4, { hdlc: true })],
  ['PPP compressed protocol', LINKTYPE.PPP, ppp(ip6, { compressProtocol: true })],
  ['PPP_HDLC', LINKTYPE.PPP_HDLC, ppp(ip6, { hdlc: true })],
  ['Cisco HDLC', LINKTYPE.PPP_HDLC, concat(Uint8Array.of(0x8f, 0), ethernet(ip4).subarray(12))],
  ['IPv4 later fragment', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 6, fragOffset: 16, payload: new Uint8Array(30).fill(3) }))],
  ['IPv6 later fragment', LINKTYPE.ETHERNET, ethernet(ipv6({ src: '::1', dst: '::2', nextHeader: 17, payload: new Uint8Array(30), extHeaders: [{ type: 44, body: fragmentHeader(8, false) }] }))],
  ['AH over IPv4', LINKTYPE.RAW, ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 51, payload: concat(Uint8Array.of(17, 1), new Uint8Array(10), udpPacket('1.2.3.4', '5.6.7.8', 1, 2, 'x').subarray(20)) })],
  ['ESP', LINKTYPE.RAW, ipv6({ src: '::1', dst: '::2', nextHeader: 50, payload: new Uint8Array(20) })],
  ['ICMP', LINKTYPE.RAW, ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 1, payload: new Uint8Array(12) })],
  ['IP-in-IP', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 4, payload: ip4 }))],
  ['6in4', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 41, payload: ip6 }))],
  ['4in6', LINKTYPE.ETHERNET, ethernet(ipv6({ src: '::1', dst: '::2', nextHeader: 4, payload: ip4 }))],
  ['GRE key+seq+checksum', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 47, payload: gre(ip6, { key: 1, seq: 2, checksum: true }) }))],
  ['GRE Ethernet', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 47, payload: gre(ethernet(ip4, { vlans: [4] }), { protocol: 0x6558 }) }))],
  ['PPTP', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 47, payload: gre(ppp(ip4, { hdlc: true }), { version: 1, key: 0x00400001, seq: 1, ack: 2 }) }))],
  ['ERSPAN III', LINKTYPE.ETHERNET, ethernet(ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 47, payload: gre(concat(Uint8Array.of(0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), new Uint8Array(8), ethernet(u4)), { protocol: 0x22eb, seq: 3 }) }))],
];

describe('truncation at every length', () => {
  for (const [name, linkType, frame] of FRAMES) {
    it(name, () => {
      const fillA = randomBytes(prng(1), BEFORE + AFTER);
      const fillB = randomBytes(prng(2), BEFORE + AFTER).map((b) => b ^ 0xff);
      const full = decodeCut(frame, linkType, frame.length, fillA, newDecodedPacket(), true);
      expect(full.outcome).toBe('ok');
      const fullRec = full.rec as ReturnType<typeof record> & DecodedPacket;
      const shared = newDecodedPacket();
      for (let len = 0; len <= frame.length; len++) {
        const a = decodeCut(frame, linkType, len, fillA, shared, true);
        const b = decodeCut(frame, linkType, len, fillB, newDecodedPacket(), false);
        expect(b.rec, `caplen ${len}: garbage must not matter`).toEqual(a.rec);
        expect(['ok', 'truncated'], `caplen ${len}`).toContain(a.outcome);
        if (a.outcome === 'ok') {
          // Everything but the payload length is what the whole frame gives.
          const want = Math.min(fullRec.payloadLength, Math.max(0, BEFORE + len - fullRec.payloadOffset));
          expect(a.rec, `caplen ${len}`).toEqual({ ...fullRec, payloadLength: want });
        }
      }
    });
  }
});

describe('random garbage', () => {
  const linkTypes = [...Object.values(LINKTYPE), 147];
  for (const linkType of linkTypes) {
    it(`link type ${linkType}: 2000 random frames and 2000 mutated real ones`, () => {
      const next = prng(1000 + linkType);
      const shared = newDecodedPacket();
      const seeds = FRAMES.filter(([, lt]) => lt === linkType).map(([, , f]) => f);
      const counts: Record<string, number> = {};
      const check = (frame: Uint8Array) => {
        const fillA = randomBytes(next, BEFORE + AFTER);
        const fillB = randomBytes(next, BEFORE + AFTER);
        const a = decodeCut(frame, linkType, frame.length, fillA, shared, true);
        const b = decodeCut(frame, linkType, frame.length, fillB, newDecodedPacket(), false);
        expect(b.rec).toEqual(a.rec);
        expect(OUTCOMES.has(a.outcome)).toBe(true);
        counts[a.outcome] = (counts[a.outcome] ?? 0) + 1;
        if (a.outcome === 'ok') {
          const o = shared;
          expect(o.ipVersion === 4 || o.ipVersion === 6).toBe(true);
          expect(o.payloadLength).toBeGreaterThanOrEqual(0);
          expect(o.payloadOffset).toBeGreaterThanOrEqual(BEFORE);
          expect(o.payloadOffset + o.payloadLength).toBeLessThanOrEqual(BEFORE + frame.length);
          expect(Number.isInteger(o.ipLength) && o.ipLength >= 20).toBe(true);
          if (o.laterFragment) expect([o.srcPort, o.dstPort, o.payloadLength]).toEqual([0, 0, 0]);
        }
      };
      for (let i = 0; i < 2000; i++) check(randomBytes(next, (next() * 200) | 0));
      if (seeds.length > 0) {
        for (let i = 0; i < 2000; i++) {
          const f = Uint8Array.from(seeds[i % seeds.length]!);
          const flips = 1 + ((next() * 4) | 0);
          for (let k = 0; k < flips; k++) f[(next() * f.length) | 0] = (next() * 256) | 0;
          check(f.subarray(0, (next() * (f.length + 1)) | 0 || f.length));
        }
      }
      if (linkType === 147) expect(counts['unsupported-link']).toBe(2000);
    });
  }
});
