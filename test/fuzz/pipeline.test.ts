/**
 * Fuzz: the whole packet path (src/pipeline.ts Pipeline.handlePacket: decode → flow table →
 * payload rules → DNS learning → hits) on mutated packets of the committed fixture captures and
 * of frames of every link type, interleaved, with timestamps that go forward, jump and go back,
 * against a small blacklist with addresses and names, and a flow table capped at a few flows.
 *
 * Contract: handlePacket never throws on any packet; every packet is counted as exactly one
 * decode outcome; the flow table never holds more than maxFlows flows; the live list never holds
 * more learned addresses than its cap; hits are typed.
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe } from 'vitest';
import { buildSnapshot, LiveBlacklist } from '../../src/blacklist/live.js';
import { parsePlainList } from '../../src/blacklist/plain.js';
import type { DomainEntry } from '../../src/blacklist/types.js';
import { newPacketView } from '../../src/capture/packet.js';
import { DEFAULT_FLOW_OPTIONS } from '../../src/flow/table.js';
import type { Logger } from '../../src/log.js';
import { Pipeline } from '../../src/pipeline.js';
import type { FlowHit } from '../../src/report/types.js';
import { DEFAULT_POOL_PORTS } from '../../src/rules/roles.js';
import { frames, pcapSeeds, readText } from './corpus.js';
import { expectLinear } from './linear.js';
import { applyBinary, binaryCase, whole, type Seed } from './mutate.js';
import { check, fuzz } from './runs.js';

const silent = pino({ level: 'silent' }) as unknown as Logger;
const MAX_FLOWS = 8;
const MAX_LEARNED = 4;

function domain(name: string): DomainEntry {
  return { name, portLo: 0, portHi: 65535, text: name, source: 'fuzz' };
}

function liveList(): LiveBlacklist {
  const addresses = parsePlainList(readText('fixtures/pools.txt') + '\n198.51.100.10:3333\n10.20.30.0/24\n', 'fuzz').entries;
  const names = ['pool.example', 'eu.pool.example', 'xmr.pool.example', 'www.example.com', 'pool.example.net'].map(domain);
  return new LiveBlacklist(buildSnapshot(addresses, names), { maxLearned: MAX_LEARNED });
}

interface Pkt {
  data: Uint8Array;
  linkType: number;
}

/** Every frame of the fixtures (with their link type) and of the frame corpus, as seeds. */
function packetSeeds(): { seeds: Seed[]; linkTypes: number[] } {
  const seeds: Seed[] = [];
  const linkTypes: number[] = [];
  for (const s of pcapSeeds().filter((x) => !x.name.startsWith('built'))) {
    const lt = ((s.head.bytes[20]! | (s.head.bytes[21]! << 8)) & 0xffff) || 1;
    const be = s.head.bytes[0] === 0xa1;
    const linkType = be ? (s.head.bytes[22]! << 8) | s.head.bytes[23]! : lt;
    for (const u of s.units) {
      seeds.push(whole(s.name, u.bytes.subarray(16), u.fields.filter((f) => f.off >= 16).map((f) => ({ ...f, off: f.off - 16 }))));
      linkTypes.push(linkType);
    }
  }
  for (const f of frames()) {
    seeds.push(whole(f.name, f.bytes, f.fields));
    linkTypes.push(f.linkType);
  }
  return { seeds, linkTypes };
}

function checkHit(h: FlowHit): void {
  const bad = (what: string) => () => `${what} in ${JSON.stringify(h)}`;
  check(typeof h.src === 'string' && h.src.length > 0 && typeof h.poolIp === 'string' && h.poolIp.length > 0, bad('addresses'));
  check(Number.isInteger(h.poolPort) && h.poolPort >= 0 && h.poolPort <= 0xffff, bad('pool port'));
  check(h.category === 'mining' || h.category === 'crypto-p2p', bad('category'));
  check(h.evidence.length > 0 && new Set(h.evidence).size === h.evidence.length, bad('evidence'));
  for (const k of ['packetsUp', 'packetsDown', 'bytesUp', 'bytesDown', 'sharesSubmitted', 'sharesAccepted', 'sharesRejected'] as const) {
    check(Number.isFinite(h[k]) && h[k] >= 0, bad(k));
  }
  check(h.difficulty === null || (Number.isFinite(h.difficulty) && h.difficulty > 0), bad('difficulty'));
  check(Number.isFinite(h.firstSeen) && Number.isFinite(h.lastSeen), bad('times'));
}

function activeFlows(p: Pipeline): number {
  const t = (p as unknown as { table?: { stats?: { active?: number } } }).table;
  return t?.stats?.active ?? 0;
}

function run(pkts: { pkt: Pkt; ts: number }[], live: LiveBlacklist, hits: FlowHit[]): Pipeline {
  const p = new Pipeline({ blacklist: live, poolPorts: DEFAULT_POOL_PORTS, flows: { ...DEFAULT_FLOW_OPTIONS, idleTimeoutSec: 30, activeTimeoutSec: 60, maxFlows: MAX_FLOWS }, onHit: (h) => hits.push(h), log: silent });
  p.beginInput('fuzz.pcap', 'pcap');
  const view = newPacketView();
  for (const { pkt, ts } of pkts) {
    view.data = Buffer.from(pkt.data.buffer, pkt.data.byteOffset, pkt.data.byteLength);
    view.offset = 0;
    view.caplen = pkt.data.length;
    view.origLen = pkt.data.length;
    view.linkType = pkt.linkType;
    view.tsMicros = ts;
    view.index++;
    p.handlePacket(view);
    check(activeFlows(p) <= MAX_FLOWS, () => `${activeFlows(p)} flows held, maxFlows ${MAX_FLOWS}`);
    check(live.learnedSize <= MAX_LEARNED, () => `${live.learnedSize} learned addresses, cap ${MAX_LEARNED}`);
  }
  return p;
}

describe('fuzz: the whole packet path', () => {
  const { seeds, linkTypes } = packetSeeds();
  const packet = fc.record({ c: binaryCase(seeds, { maxRepeat: 4, maxStruct: 2, maxBytes: 2 }), dt: fc.oneof({ weight: 6, arbitrary: fc.nat(2_000_000) }, { weight: 1, arbitrary: fc.integer({ min: -120_000_000, max: 600_000_000 }) }) });

  fuzz(
    'Pipeline: mutated packets of every fixture and link type never throw; every packet is counted once; flows and learned addresses stay within their caps; hits are typed',
    fc.array(packet, { minLength: 1, maxLength: 40 }),
    (list) => {
      const live = liveList();
      const hits: FlowHit[] = [];
      let ts = Date.UTC(2024, 2, 1) * 1000;
      const pkts = list.map((x) => {
        ts += x.dt;
        return { pkt: { data: applyBinary(seeds, x.c), linkType: linkTypes[x.c.seed % seeds.length]! }, ts };
      });
      const p = run(pkts, live, hits);
      const s = p.finish();
      check(s.packets === pkts.length, `${s.packets} packets counted, ${pkts.length} handled`);
      check(s.ipPackets + s.notIp + s.unsupportedLink + s.truncated + s.malformed === s.packets, () => `outcomes do not add up: ${JSON.stringify(s)}`);
      check(s.laterFragments + s.otherProtocols <= s.ipPackets, 'fragments and other protocols are IP packets');
      check(s.flaggedFlows === hits.length, () => `${s.flaggedFlows} flagged flows, ${hits.length} hits`);
      hits.forEach(checkHit);
    },
  );

  fuzz(
    'Pipeline: time per byte does not grow with the number of packets',
    fc.array(packet, { minLength: 1, maxLength: 10 }),
    (list) => {
      const base = list.map((x) => ({ data: applyBinary(seeds, x.c), linkType: linkTypes[x.c.seed % seeds.length]! }));
      const one = base.reduce((n, b) => n + b.data.length, 0) || 1;
      const k = Math.max(1, Math.ceil(32_768 / one));
      const mk = (times: number) => {
        const out: { pkt: Pkt; ts: number }[] = [];
        let ts = Date.UTC(2024, 2, 1) * 1000;
        for (let i = 0; i < times; i++) for (const pkt of base) out.push({ pkt, ts: (ts += 1000) });
        return out;
      };
      const small = mk(k);
      const big = mk(10 * k);
      expectLinear({ small, big, smallSize: k * one, bigSize: 10 * k * one }, (x) => run(x, liveList(), []).finish(), 'packets');
    },
    { scale: 0.005, min: 3 },
  );
});
