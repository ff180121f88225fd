import { PROTO_UDP, type DecodedPacket } from '../decode/types.js';
import { formatAddress } from '../decode/index.js';
import { DIR_AB, DIR_BA, type Direction, type Flow } from './types.js';

export interface FlowTableOptions {
  /** A flow with no packet for this long ends (seconds of capture time). */
  idleTimeoutSec: number;
  /**
   * The same for UDP flows, shorter: a DNS lookup or a game packet leaves no teardown, and such
   * flows are most of what fills a table (Zeek's udp_inactivity_timeout is one minute).
   */
  udpIdleTimeoutSec: number;
  /** A long-lived flow is reported every this many seconds, then counts afresh. */
  activeTimeoutSec: number;
  /** Hard cap on flows in memory; the least recently seen flow is evicted first. */
  maxFlows: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowTableOptions = {
  idleTimeoutSec: 300,
  udpIdleTimeoutSec: 60,
  activeTimeoutSec: 1800,
  maxFlows: 1_000_000,
};

/** `closed`: a TCP flow whose FINs (both ways) or RST were seen, after a short linger. */
export type FlowEndReason = 'idle' | 'active' | 'evicted' | 'closed' | 'end';

export interface FlowTableStats {
  flows: number;
  active: number;
  expired: number;
  evicted: number;
  closed: number;
}

/**
 * How long a closed TCP flow stays in the table (capture time): the last ACK, retransmitted FINs
 * and the odd reordered segment still belong to it instead of starting a stray one-packet flow.
 */
const CLOSE_LINGER_MICROS = 5e6;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
/** Flow.closeState bits. */
const FIN_A = 1;
const FIN_B = 2;
const CLOSED = 4;

const NIL = -1;
const LIST_OTHER = 0;
const LIST_UDP = 1;
/** Address bytes per slot: side A then side B, 16 each (IPv4 uses the first 4). */
const SLOT_BYTES = 32;
const FIRST_SLOTS = 1 << 12;

/**
 * 5-tuple → Flow, direction-normalised: a packet and its reply find the same flow.
 *
 * Memory is what limits a tap (a million concurrent flows is an ordinary day), so a flow's key
 * and bookkeeping live in typed arrays indexed by the flow's slot, not in per-flow objects: raw
 * addresses in one byte arena, the hash chains and the idle list as slot numbers. The Flow
 * object keeps only what the rules read; address strings are made only for a flagged flow.
 * Flows sit on two lists (UDP, and everything else: their idle timeouts differ) ordered by last
 * packet, so expiry looks only at the oldest of each and eviction
 * under the cap takes the longest idle one. TCP flows leave soon after their FINs or RST; closed
 * flows wait on a FIFO of their own, as all of them linger equally long.
 */
export class FlowTable {
  readonly stats: FlowTableStats = { flows: 0, active: 0, expired: 0, evicted: 0, closed: 0 };
  /** Direction of the packet last passed to `track`. */
  dir: Direction = DIR_AB;

  private slots = 0;
  /**
   * Flow objects by slot, reused when the slot is: flows end by the million, and one that dies in
   * the old generation costs the GC more than the flow cost us. `used` tells live from free.
   */
  private flows: Flow[] = [];
  private used = new Uint8Array(0);
  private addrs = new Uint8Array(0);
  private hashes = new Int32Array(0);
  private chain = new Int32Array(0);
  private idlePrev = new Int32Array(0);
  private idleNext = new Int32Array(0);
  private free = new Int32Array(0);
  private freeTop = 0;
  private buckets = new Int32Array(0);
  private bucketMask = 0;
  /** Heads of the idle lists: [0] TCP and other, [1] UDP. */
  private readonly oldest = [NIL, NIL];
  private readonly newest = [NIL, NIL];
  /** Closed flows in the order they closed (a ring of slots). */
  private closing = new Int32Array(0);
  private closingIds = new Float64Array(0);
  private closingHead = 0;
  private closingCount = 0;
  private nextId = 1;
  private lastSweep = 0;
  /** Scratch for handing one address to callers that want bytes (blacklist lookups). */
  private readonly scratch = new Uint8Array(16);

  constructor(
    private readonly opts: FlowTableOptions,
    private readonly onStart: (flow: Flow) => void,
    private readonly onEnd: (flow: Flow, reason: FlowEndReason) => void,
  ) {
    this.grow(Math.min(FIRST_SLOTS, opts.maxFlows));
  }

  /** Find or create the flow of a decoded TCP/UDP packet and count it. Sets `this.dir`. */
  track(pkt: DecodedPacket, tsMicros: number, input: string): Flow {
    const len = pkt.ipVersion === 4 ? 4 : 16;
    const h = hashPacket(pkt, len);
    const addrs = this.addrs;
    let slot = this.buckets[h & this.bucketMask];
    let flow: Flow | null = null;
    while (slot !== NIL) {
      const f = this.flows[slot];
      if (this.hashes[slot] === h && f.proto === pkt.proto && f.ipVersion === pkt.ipVersion) {
        const base = slot * SLOT_BYTES;
        if (f.aPort === pkt.srcPort && f.bPort === pkt.dstPort &&
            sameBytes(addrs, base, pkt.src, len) && sameBytes(addrs, base + 16, pkt.dst, len)) {
          this.dir = DIR_AB;
          flow = f;
          break;
        }
        if (f.aPort === pkt.dstPort && f.bPort === pkt.srcPort &&
            sameBytes(addrs, base, pkt.dst, len) && sameBytes(addrs, base + 16, pkt.src, len)) {
          this.dir = DIR_BA;
          flow = f;
          break;
        }
      }
      slot = this.chain[slot];
    }
    const flags = pkt.tcpFlags;
    if (flow !== null && (flow.closeState & CLOSED) !== 0 && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      // A new connection on the same ports while the old one lingers: the old one is over.
      this.remove(flow, 'closed');
      this.stats.closed++;
      flow = null;
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
    if (flags !== 0) {
      // A bare SYN names the client: the strongest role hint after the payload itself.
      if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && flow.synFrom === 0) flow.synFrom = this.dir === DIR_AB ? 1 : 2;
      if ((flags & (TCP_FIN | TCP_RST)) !== 0 && (flow.closeState & CLOSED) === 0) this.closeSeen(flow, flags, tsMicros);
    }
    if (tsMicros > flow.lastSeen) flow.lastSeen = tsMicros;
    this.touch(flow.slot);
    this.tick(tsMicros);
    return flow;
  }

  /** Capture time has reached `nowMicros`: about once a second of it, end what is due. */
  tick(nowMicros: number): void {
    if (nowMicros - this.lastSweep < 1e6) return;
    this.lastSweep = nowMicros;
    this.expire(nowMicros);
  }

  /** End every flow idle for longer than its idle timeout, and closed flows done lingering. */
  expire(nowMicros: number): void {
    for (let c = 0; c < 2; c++) {
      const limit = nowMicros - (c === LIST_UDP ? this.opts.udpIdleTimeoutSec : this.opts.idleTimeoutSec) * 1e6;
      while (this.oldest[c] !== NIL) {
        const f = this.flows[this.oldest[c]];
        if (f.lastSeen >= limit) break;
        this.stats.expired++;
        this.remove(f, 'idle');
      }
    }
    const ring = this.closing.length;
    while (this.closingCount > 0) {
      const at = this.closingHead;
      const slot = this.closing[at];
      const f = this.flows[slot];
      // An entry whose flow left some other way (its slot empty or reused) is only dropped.
      if (this.used[slot] === 1 && f.id === this.closingIds[at]) {
        if (f.closedAt > nowMicros - CLOSE_LINGER_MICROS) break;
        this.stats.closed++;
        this.remove(f, 'closed');
      }
      this.closingHead = (at + 1) % ring;
      this.closingCount--;
    }
  }

  /** End all flows (end of the run). */
  flush(): void {
    for (let c = 0; c < 2; c++) while (this.oldest[c] !== NIL) this.remove(this.flows[this.oldest[c]], 'end');
    this.closingCount = 0;
  }

  /** Address text of one side of a live flow (only flagged flows need it). */
  address(flow: Flow, side: 1 | 2): string {
    return formatAddress(this.addressBytes(flow, side), flow.ipVersion);
  }

  /** Raw address of one side, in a scratch array valid until the next call. */
  addressBytes(flow: Flow, side: 1 | 2): Uint8Array {
    const base = flow.slot * SLOT_BYTES + (side === 1 ? 0 : 16);
    const s = this.scratch;
    for (let i = 0; i < 16; i++) s[i] = this.addrs[base + i];
    return s;
  }

  private closeSeen(flow: Flow, flags: number, ts: number): void {
    if ((flags & TCP_RST) !== 0) flow.closeState |= FIN_A | FIN_B;
    else flow.closeState |= this.dir === DIR_AB ? FIN_A : FIN_B;
    if ((flow.closeState & (FIN_A | FIN_B)) !== (FIN_A | FIN_B)) return;
    flow.closeState |= CLOSED;
    flow.closedAt = ts;
    if (this.closingCount === this.closing.length) {
      // At most one entry per close within one linger; more than twice the slots only when
      // connections on reused ports close again and again: such a flow leaves by the idle timeout.
      if (this.closingCount >= this.slots * 2) return;
      this.reorderClosing(Math.max(1024, this.closingCount * 2));
    }
    const ring = this.closing.length;
    const at = (this.closingHead + this.closingCount) % ring;
    this.closing[at] = flow.slot;
    this.closingIds[at] = flow.id;
    this.closingCount++;
  }

  private create(pkt: DecodedPacket, h: number, len: number, ts: number, input: string): Flow {
    if (this.stats.active >= this.opts.maxFlows) {
      // The longest idle of the two lists' oldest.
      const [t, u] = this.oldest;
      const victim = u === NIL || (t !== NIL && this.flows[t].lastSeen <= this.flows[u].lastSeen) ? t : u;
      if (victim !== NIL) {
        this.stats.evicted++;
        this.remove(this.flows[victim], 'evicted');
      }
    }
    if (this.freeTop === 0) this.grow(Math.min(this.slots * 2, this.opts.maxFlows));
    const slot = this.free[--this.freeTop];
    const base = slot * SLOT_BYTES;
    const addrs = this.addrs;
    for (let i = 0; i < len; i++) {
      addrs[base + i] = pkt.src[i];
      addrs[base + 16 + i] = pkt.dst[i];
    }
    const flow = this.flows[slot] ?? (this.flows[slot] = blankFlow(slot));
    flow.id = this.nextId++;
    flow.ipVersion = pkt.ipVersion === 4 ? 4 : 6;
    flow.proto = pkt.proto;
    flow.aPort = pkt.srcPort;
    flow.bPort = pkt.dstPort;
    restartPeriod(flow, ts);
    flow.lastSeen = ts;
    flow.synFrom = 0;
    flow.closeState = 0;
    flow.closedAt = 0;
    flow.input = input;
    flow.findings = null;
    flow.inspector = null;
    flow.inspectionDone = false;
    flow.blacklistSide = 0;
    this.used[slot] = 1;
    this.hashes[slot] = h;
    const b = h & this.bucketMask;
    this.chain[slot] = this.buckets[b];
    this.buckets[b] = slot;
    this.idlePrev[slot] = NIL;
    this.idleNext[slot] = NIL;
    this.stats.flows++;
    this.stats.active++;
    this.onStart(flow);
    return flow;
  }

  private remove(flow: Flow, reason: FlowEndReason): void {
    const slot = flow.slot;
    this.unlinkIdle(slot);
    const b = this.hashes[slot] & this.bucketMask;
    if (this.buckets[b] === slot) this.buckets[b] = this.chain[slot];
    else {
      let s = this.buckets[b];
      while (s !== NIL && this.chain[s] !== slot) s = this.chain[s];
      if (s !== NIL) this.chain[s] = this.chain[slot];
    }
    this.stats.active--;
    // The slot's address bytes are still there while onEnd runs (hits need the address text).
    this.onEnd(flow, reason);
    // Whatever the rules hung on the flow goes now, not when the slot is next used.
    flow.findings = null;
    flow.inspector = null;
    this.used[slot] = 0;
    this.free[this.freeTop++] = slot;
  }

  /** Move a flow to the newest end of its idle list. */
  private touch(slot: number): void {
    const c = this.flows[slot].proto === PROTO_UDP ? LIST_UDP : LIST_OTHER;
    const newest = this.newest[c];
    if (newest === slot) return;
    this.unlinkIdle(slot);
    this.idlePrev[slot] = newest;
    if (newest !== NIL) this.idleNext[newest] = slot;
    this.newest[c] = slot;
    if (this.oldest[c] === NIL) this.oldest[c] = slot;
  }

  private unlinkIdle(slot: number): void {
    const c = this.flows[slot].proto === PROTO_UDP ? LIST_UDP : LIST_OTHER;
    const prev = this.idlePrev[slot];
    const next = this.idleNext[slot];
    if (prev !== NIL) this.idleNext[prev] = next;
    else if (this.oldest[c] === slot) this.oldest[c] = next;
    if (next !== NIL) this.idlePrev[next] = prev;
    else if (this.newest[c] === slot) this.newest[c] = prev;
    this.idlePrev[slot] = NIL;
    this.idleNext[slot] = NIL;
  }

  /**
   * Room for `slots` flows. Arrays double as the table fills (a small capture stays small) and
   * never pass maxFlows; buckets are rebuilt at twice the slot count.
   */
  private grow(slots: number): void {
    const old = this.slots;
    if (slots <= old) slots = old + 1;
    const widen = <T extends Int32Array | Uint8Array>(a: T, n: number, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.addrs = widen(this.addrs, slots * SLOT_BYTES, (n) => new Uint8Array(n));
    this.hashes = widen(this.hashes, slots, (n) => new Int32Array(n));
    this.chain = widen(this.chain, slots, (n) => new Int32Array(n));
    this.idlePrev = widen(this.idlePrev, slots, (n) => new Int32Array(n));
    this.idleNext = widen(this.idleNext, slots, (n) => new Int32Array(n));
    this.used = widen(this.used, slots, (n) => new Uint8Array(n));
    const free = new Int32Array(slots);
    free.set(this.free.subarray(0, this.freeTop));
    // Lower slots are handed out first: pushed last.
    for (let s = slots - 1; s >= old; s--) free[this.freeTop++] = s;
    this.free = free;
    this.slots = slots;
    let nb = 1;
    while (nb < slots * 2) nb <<= 1;
    this.buckets = new Int32Array(nb).fill(NIL);
    this.bucketMask = nb - 1;
    for (let s = 0; s < old; s++) {
      if (this.used[s] === 0) continue;
      const b = this.hashes[s] & this.bucketMask;
      this.chain[s] = this.buckets[b];
      this.buckets[b] = s;
    }
  }

  private reorderClosing(size: number): void {
    const ring = new Int32Array(size);
    const ids = new Float64Array(size);
    for (let i = 0; i < this.closingCount; i++) {
      const at = (this.closingHead + i) % this.closing.length;
      ring[i] = this.closing[at];
      ids[i] = this.closingIds[at];
    }
    this.closing = ring;
    this.closingIds = ids;
    this.closingHead = 0;
  }
}

function blankFlow(slot: number): Flow {
  return {
    id: 0, slot, ipVersion: 4, proto: 0, aPort: 0, bPort: 0, firstSeen: 0, lastSeen: 0,
    packetsAB: 0, packetsBA: 0, bytesAB: 0, bytesBA: 0, synFrom: 0, closeState: 0, closedAt: 0,
    input: '', findings: null, inspector: null, inspectionDone: false, blacklistSide: 0, periodStart: 0,
  };
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
 * endpoint hashes are combined with an order-independent operation. A signed 32-bit result.
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
  const h = (hs + hd) ^ Math.imul(hs ^ hd, 0x9e3779b1) ^ pkt.proto;
  // Mixed down so that the low bits the bucket mask keeps depend on every input bit.
  return (h ^ (h >>> 16)) | 0;
}

function sameBytes(arena: Uint8Array, base: number, b: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (arena[base + i] !== b[i]) return false;
  return true;
}
