import type { DecodedPacket } from '../decode/types.js';
import { formatAddress } from '../decode/index.js';
import { DIR_AB, DIR_BA, type Direction, type Flow } from './types.js';

export interface FlowTableOptions {
  /** A flow with no packet for this long ends (seconds of capture time). */
  idleTimeoutSec: number;
  /** A long-lived flow is reported every this many seconds, then counts afresh. */
  activeTimeoutSec: number;
  /** Hard cap on flows in memory; the least recently seen flow is evicted first. */
  maxFlows: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = {
  idleTimeoutSec: 300,
  activeTimeoutSec: 1800,
  maxFlows: 1_000_000,
};

export type FlowEndReason = 'idle' | 'active' | 'evicted' | 'end';

export interface FlowTableStats {
  flows: number;
  active: number;
  expired: number;
  evicted: number;
}

/**
 * 5-tuple → Flow, direction-normalised: a packet and its reply find the same flow. Keys are
 * hashed from the raw address bytes so that a lookup builds no string; address strings are made
 * once, when a flow starts. Flows are kept on a list ordered by last packet time, so that expiry
 * looks only at the oldest and eviction under the memory cap takes the longest idle one.
 */
export class FlowTable {
  private readonly buckets = new Map<number, Flow>();
  private oldest: Flow | null = null;
  private newest: Flow | null = null;
  private nextId = 1;
  private lastSweep = 0;
  readonly stats: FlowTableStats = { flows: 0, active: 0, expired: 0, evicted: 0 };
  /** Direction of the packet last passed to `track`. */
  dir: Direction = DIR_AB;

  constructor(
    private readonly opts: FlowTableOptions,
    private readonly onStart: (flow: Flow) => void,
    private readonly onEnd: (flow: Flow, reason: FlowEndReason) => void,
  ) {}

  /** Find or create the flow of a decoded TCP/UDP packet and count it. Sets `this.dir`. */
  track(pkt: DecodedPacket, tsMicros: number, input: string): Flow {
    const len = pkt.ipVersion === 4 ? 4 : 16;
    const h = hashPacket(pkt, len);
    let flow = this.buckets.get(h) ?? null;
    while (flow !== null) {
      if (flow.proto === pkt.proto && flow.ipVersion === pkt.ipVersion) {
        if (flow.aPort === pkt.srcPort && flow.bPort === pkt.dstPort &&
            sameBytes(flow.aRaw, pkt.src, len) && sameBytes(flow.bRaw, pkt.dst, len)) {
          this.dir = DIR_AB;
          break;
        }
        if (flow.aPort === pkt.dstPort && flow.bPort === pkt.srcPort &&
            sameBytes(flow.aRaw, pkt.dst, len) && sameBytes(flow.bRaw, pkt.src, len)) {
          this.dir = DIR_BA;
          break;
        }
      }
      flow = flow.hashNext;
    }
    if (flow === null) {
      flow = this.create(pkt, h, len, tsMicros, input);
      this.dir = DIR_AB;
    } else if (tsMicros - flow.periodStart > this.opts.activeTimeoutSec * 1e6) {
      this.onEnd(flow, 'active');
      restartPeriod(flow, tsMicros);
    }
    if (this.dir === DIR_AB) {
      flow.packetsAB++;
      flow.bytesAB += pkt.ipLength;
    } else {
      flow.packetsBA++;
      flow.bytesBA += pkt.ipLength;
    }
    // A bare SYN names the client: the strongest role hint after the payload itself.
    if ((pkt.tcpFlags & 0x12) === 0x02 && flow.synFrom === 0) flow.synFrom = this.dir === DIR_AB ? 1 : 2;
    if (tsMicros > flow.lastSeen) flow.lastSeen = tsMicros;
    this.touch(flow);
    if (tsMicros - this.lastSweep >= 1e6) {
      this.lastSweep = tsMicros;
      this.expire(tsMicros);
    }
    return flow;
  }

  /** End every flow idle for longer than the idle timeout at capture time `nowMicros`. */
  expire(nowMicros: number): void {
    const limit = nowMicros - this.opts.idleTimeoutSec * 1e6;
    while (this.oldest !== null && this.oldest.lastSeen < limit) {
      this.stats.expired++;
      this.remove(this.oldest, 'idle');
    }
  }

  /** End all flows (end of the run). */
  flush(): void {
    while (this.oldest !== null) this.remove(this.oldest, 'end');
  }

  private create(pkt: DecodedPacket, h: number, len: number, ts: number, input: string): Flow {
    if (this.stats.active >= this.opts.maxFlows && this.oldest !== null) {
      this.stats.evicted++;
      this.remove(this.oldest, 'evicted');
    }
    const version = pkt.ipVersion === 4 ? 4 : 6;
    const aRaw = pkt.src.slice(0, len);
    const bRaw = pkt.dst.slice(0, len);
    const flow: Flow = {
      id: this.nextId++,
      ipVersion: version,
      proto: pkt.proto,
      aAddr: formatAddress(aRaw, version),
      bAddr: formatAddress(bRaw, version),
      aPort: pkt.srcPort,
      bPort: pkt.dstPort,
      firstSeen: ts,
      lastSeen: ts,
      packetsAB: 0,
      packetsBA: 0,
      bytesAB: 0,
      bytesBA: 0,
      synFrom: 0,
      input,
      findings: null,
      inspector: null,
      inspectionDone: false,
      blacklistSide: 0,
      aRaw,
      bRaw,
      hash: h,
      hashNext: this.buckets.get(h) ?? null,
      idlePrev: null,
      idleNext: null,
      periodStart: ts,
    };
    this.buckets.set(h, flow);
    this.stats.flows++;
    this.stats.active++;
    this.onStart(flow);
    return flow;
  }

  private remove(flow: Flow, reason: FlowEndReason): void {
    this.unlinkIdle(flow);
    let head = this.buckets.get(flow.hash) ?? null;
    if (head === flow) {
      if (flow.hashNext === null) this.buckets.delete(flow.hash);
      else this.buckets.set(flow.hash, flow.hashNext);
    } else {
      while (head !== null && head.hashNext !== flow) head = head.hashNext;
      if (head !== null) head.hashNext = flow.hashNext;
    }
    flow.hashNext = null;
    this.stats.active--;
    this.onEnd(flow, reason);
  }

  /** Move a flow to the newest end of the idle list. */
  private touch(flow: Flow): void {
    if (this.newest === flow) return;
    this.unlinkIdle(flow);
    flow.idlePrev = this.newest;
    if (this.newest !== null) this.newest.idleNext = flow;
    this.newest = flow;
    if (this.oldest === null) this.oldest = flow;
  }

  private unlinkIdle(flow: Flow): void {
    if (flow.idlePrev !== null) flow.idlePrev.idleNext = flow.idleNext;
    else if (this.oldest === flow) this.oldest = flow.idleNext;
    if (flow.idleNext !== null) flow.idleNext.idlePrev = flow.idlePrev;
    else if (this.newest === flow) this.newest = flow.idlePrev;
    flow.idlePrev = null;
    flow.idleNext = null;
  }
}

function restartPeriod(flow: Flow, ts: number): void {
  flow.periodStart = ts;
  flow.firstSeen = ts;
  flow.packetsAB = 0;
  flow.packetsBA = 0;
  flow.bytesAB = 0;
  flow.bytesBA = 0;
}

/**
 * Symmetric hash of the 5-tuple: both directions of a conversation hash alike because the two
 * endpoint hashes are combined with an order-independent operation.
 */
function hashPacket(pkt: DecodedPacket, len: number): number {
  let hs = 0x811c9dc5;
  let hd = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    hs = Math.imul(hs ^ pkt.src[i], 0x01000193);
    hd = Math.imul(hd ^ pkt.dst[i], 0x01000193);
  }
  hs = Math.imul(hs ^ pkt.srcPort, 0x01000193);
  hd = Math.imul(hd ^ pkt.dstPort, 0x01000193);
  return ((hs + hd) ^ Math.imul(hs ^ hd, 0x9e3779b1) ^ pkt.proto) >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return false;
  return true;
}
