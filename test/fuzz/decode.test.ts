/**
 * Fuzz: the packet decoder (src/decode/: link.ts for each link layer, ip.ts for IPv4/IPv6 with
 * extension headers, fragments and tunnels, gre.ts, transport.ts) on mutated frames built by the
 * shared builders.
 *
 * Contract (decode/index.ts): one call per packet answers a DecodeOutcome and never throws; it
 * reads only data[offset, offset + caplen); on 'ok' the record is usable: an IP version, ports
 * and flags in range, and a payload that lies inside the captured bytes. Decoding keeps no state
 * from one packet to the next.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { newPacketView, type PacketView } from '../../src/capture/packet.js';
import { decodePacket } from '../../src/decode/index.js';
import { newDecodedPacket, type DecodedPacket } from '../../src/decode/types.js';
import { concat, ethernet, ipv4, ipv6, tcp } from '../helpers/frames.js';
import { frames, linkTypes, type Frame } from './corpus.js';
import { expectLinear } from './linear.js';
import { applyBinary, binaryCase, whole, type Seed } from './mutate.js';
import { fuzz } from './runs.js';
import { guarded } from '../helpers/guarded.js';

const OUTCOMES = ['ok', 'not-ip', 'unsupported-link', 'truncated', 'malformed'];

interface View {
  frame: Uint8Array;
  lead: number;
  tail: number;
  caplenCut: number;
  origExtra: number;
  fill: number;
}

function viewOf(v: View, linkType: number, guard: boolean): PacketView {
  const caplen = v.frame.length - Math.min(v.caplenCut, v.frame.length);
  const data = Buffer.alloc(v.lead + v.frame.length + v.tail, v.fill);
  data.set(v.frame, v.lead);
  return {
    ...newPacketView(),
    data: guard ? guarded(data, v.lead, v.lead + caplen) : data,
    offset: v.lead,
    caplen,
    origLen: v.frame.length + v.origExtra,
    linkType,
  };
}

function snapshot(o: DecodedPacket) {
  return { ...o, src: [...o.src], dst: [...o.dst] };
}

function checkDecoded(p: PacketView, out: DecodedPacket, outcome: string): void {
  expect(OUTCOMES).toContain(outcome);
  if (outcome !== 'ok') return;
  expect([4, 6]).toContain(out.ipVersion);
  for (const v of [out.srcPort, out.dstPort]) expect(v >= 0 && v <= 0xffff && Number.isInteger(v)).toBe(true);
  expect(out.proto >= 0 && out.proto <= 255).toBe(true);
  expect(out.tcpFlags >= 0 && out.tcpFlags <= 255).toBe(true);
  expect(Number.isInteger(out.ipLength) && out.ipLength >= 0).toBe(true);
  expect(out.payloadOffset).toBeGreaterThanOrEqual(p.offset);
  expect(out.payloadLength).toBeGreaterThanOrEqual(0);
  expect(out.payloadOffset + out.payloadLength).toBeLessThanOrEqual(p.offset + p.caplen);
  if (out.laterFragment) expect(out.srcPort + out.dstPort + out.payloadLength).toBe(0);
}

const viewArb = (corpus: Seed[]) =>
  fc.record({
    c: binaryCase(corpus, { maxRepeat: 4 }),
    lead: fc.nat(8),
    tail: fc.nat(32),
    caplenCut: fc.oneof(fc.constant(0), fc.nat(80)),
    origExtra: fc.oneof(fc.constant(0), fc.nat(100_000)),
    fill: fc.nat(255),
  });

function decodeProperty(name: string, linkType: number, fs: Frame[], other: Frame[]): void {
  const corpus = fs.map((f) => whole(f.name, f.bytes, f.fields));
  fuzz(`${name}: mutated frames decode without reading outside caplen; 'ok' records are in range; no state leaks between packets`, fc.tuple(viewArb(corpus), fc.nat(other.length - 1)), ([a, o]) => {
    const v: View = { ...a, frame: applyBinary(corpus, a.c) };
    const out = newDecodedPacket();
    const p = viewOf(v, linkType, true);
    const outcome = decodePacket(p, out);
    checkDecoded(p, out, outcome);
    const first = snapshot(out);
    // Another packet in between (of another link type), then the same one again: same answer.
    const b = other[o]!;
    decodePacket(viewOf({ frame: b.bytes, lead: 0, tail: 0, caplenCut: 0, origExtra: 0, fill: 0 }, b.linkType, false), out);
    expect(decodePacket(viewOf(v, linkType, false), out)).toBe(outcome);
    if (outcome === 'ok') expect(snapshot(out)).toEqual(first);
  });
}

/** Frames whose repeating header makes them long: VLAN tags, MPLS labels, IPv6 options, IPv4 AH. */
function repeated(kind: number, k: number, inner: Uint8Array): Uint8Array {
  const t = tcp({ srcPort: 1, dstPort: 2, payload: inner });
  switch (kind % 4) {
    case 0:
      return ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: t }), { vlans: Array.from({ length: k }, (_, i) => i & 0xfff) });
    case 1:
      return ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: t }), { mpls: Array.from({ length: k }, (_, i) => i + 16) });
    case 2:
      return ethernet(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 6, payload: t, extHeaders: Array.from({ length: k }, () => ({ type: 60, body: new Uint8Array(6) })) }));
    default: {
      const ah = (next: number) => concat(Uint8Array.of(next, 1, 0, 0), new Uint8Array(8));
      const chain = concat(...Array.from({ length: k }, (_, i) => ah(i === k - 1 ? 6 : 51)));
      return ethernet(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 51, payload: concat(chain, t) }));
    }
  }
}

describe('fuzz: packet decoder', () => {
  const fs = frames();
  for (const lt of linkTypes(fs)) {
    const mine = fs.filter((f) => f.linkType === lt);
    decodeProperty(`link type ${lt} (${mine[0]!.name.split('/')[0]})`, lt, mine, fs);
  }
  // IPv4/IPv6 with every extension, fragment and tunnel shape, over raw IP (no link header).
  const ipFrames = fs.filter((f) => f.linkType === 101 && f.name.startsWith('raw/'));
  decodeProperty('IPv4/IPv6, extension headers, fragments, tunnels (raw IP)', 101, ipFrames, fs);

  fuzz(
    'decode: time per byte does not grow with the number of VLAN tags, MPLS labels, IPv6 options or AH headers',
    fc.record({ kind: fc.nat(3), inner: fc.uint8Array({ maxLength: 64 }), flip: fc.nat() }),
    ({ kind, inner, flip }) => {
      const mk = (k: number) => {
        const f = repeated(kind, k, inner);
        f[flip % f.length]! ^= 1;
        return f;
      };
      const small = mk(300);
      const big = mk(3000);
      const out = newDecodedPacket();
      const run = (f: Uint8Array) => {
        const p = { ...newPacketView(), data: Buffer.from(f), caplen: f.length, origLen: f.length, linkType: 1 };
        for (let i = 0; i < 20; i++) decodePacket(p, out);
      };
      expectLinear({ small, big, smallSize: small.length, bigSize: big.length }, run, 'decode');
    },
    { scale: 0.01, min: 5 },
  );
});
