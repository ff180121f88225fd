/**
 * The blacklist a running scan consults: an immutable snapshot (address index + domain index)
 * that can be replaced while packets flow, plus the addresses learned from DNS answers seen in
 * the traffic — the one thing that flows backwards in the pipeline (see ../shared/DESIGN.md), kept
 * here behind two narrow calls: `learn` (DNS answers in) and `matchAddress` (flows out).
 */
import { isV4Mapped } from './addr.js';
import { buildDomainIndex, DomainIndex } from './domains.js';
import type { AddressTable } from './address-table.js';
import { BlacklistIndex, buildIndex } from './lookup.js';
import type { BlacklistEntry, DomainEntry } from './types.js';

/** One version of the list. Never mutated once handed to a LiveBlacklist: build a new one instead. */
export interface BlacklistSnapshot {
  readonly addresses: BlacklistIndex;
  readonly domains: DomainIndex;
}

/** Why a flow's far end is blacklisted. */
export interface AddressMatch {
  /** Text of the entry that matched: an address entry, or for `dns` the domain entry. */
  entry: string;
  /** Stored list version that held the entry; null for lists read for one run. */
  version: number | null;
  evidence: 'blacklist-ip' | 'dns';
  /** For `dns`: the listed name the DNS answer was for (the name the client resolved, or a CNAME of it). */
  domain: string | null;
}

export interface LiveBlacklistOptions {
  /** Learned addresses kept at most; the least recently learned is dropped first. */
  maxLearned?: number;
  /**
   * TTLs below this count as this (seconds). Stub resolvers and applications keep answers for a
   * while whatever the TTL says, and a pool answering with TTL 0 must not escape by it.
   */
  minTtlSec?: number;
  /** TTLs above this count as this (seconds), so a bogus huge TTL cannot pin an address for days. */
  maxTtlSec?: number;
}

export const DEFAULT_MAX_LEARNED = 100_000;
export const DEFAULT_MIN_TTL_SEC = 60;
export const DEFAULT_MAX_TTL_SEC = 86_400;

/** An address taught by a DNS answer: kept on a hash chain and on the learn-order list. */
interface Learned {
  key: number;
  ipVersion: 4 | 6;
  /** 4 bytes (IPv4, also for IPv4-mapped IPv6) or 16. */
  addr: Uint8Array;
  /** The listed name in the answer's chain that justified learning it. */
  name: string;
  /** The domain entry covering `name` in the current snapshot (re-read on swap). */
  entry: DomainEntry;
  /** Capture time (µs) after which the answer no longer counts. */
  expires: number;
  hashNext: Learned | null;
  older: Learned | null;
  newer: Learned | null;
}

function readWord(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function hash16(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  // May equal some IPv4 key: a chain can mix families, and records are compared in full.
  return h >>> 0;
}

/** An empty snapshot, for a scan with no lists. */
export function emptySnapshot(): BlacklistSnapshot {
  return { addresses: new BlacklistIndex(), domains: new DomainIndex() };
}

export class LiveBlacklist {
  /** Told of every swap, after the new snapshot is in force (scan --workers passes the news on). */
  onSwap: (() => void) | null = null;
  private snap: BlacklistSnapshot;
  private readonly buckets = new Map<number, Learned>();
  private oldest: Learned | null = null;
  private newest: Learned | null = null;
  private count = 0;
  private readonly maxLearned: number;
  private readonly minTtl: number;
  private readonly maxTtl: number;
  /** Counters for the run summary and tests. */
  readonly stats = { learned: 0, evicted: 0, expired: 0, swaps: 0, droppedOnSwap: 0 };

  constructor(snapshot: BlacklistSnapshot = emptySnapshot(), opts: LiveBlacklistOptions = {}) {
    this.snap = snapshot;
    this.maxLearned = Math.max(1, opts.maxLearned ?? DEFAULT_MAX_LEARNED);
    this.minTtl = opts.minTtlSec ?? DEFAULT_MIN_TTL_SEC;
    this.maxTtl = opts.maxTtlSec ?? DEFAULT_MAX_TTL_SEC;
  }

  /** The snapshot in use now. */
  get snapshot(): BlacklistSnapshot {
    return this.snap;
  }

  /** Whether any domain is listed: without one, names on the wire need not be read at all. */
  get hasNames(): boolean {
    return this.snap.domains.size > 0;
  }

  /** Addresses learned from DNS and still held (expired ones go lazily). */
  get learnedSize(): number {
    return this.count;
  }

  /**
   * Put a new list version in force. The pipeline runs on one thread and calls into this object
   * only between packets, so the single reference assignment below is the whole switch: every
   * packet sees either the old snapshot or the new one, never a half-built or empty list (the new
   * snapshot is complete before it is handed in). Flows already started keep what they matched;
   * flows starting from the next packet on match against `next`.
   *
   * Learned addresses stay only while their name is still listed in `next`, and then point at
   * `next`'s entry (its text and version may have changed). That costs one name lookup per learned
   * address (milliseconds at the 100,000 cap), once per swap.
   */
  swap(next: BlacklistSnapshot): void {
    this.snap = next;
    this.stats.swaps++;
    this.onSwap?.();
    for (let r = this.oldest; r !== null; ) {
      const newer = r.newer;
      const e = next.domains.listed(r.name);
      if (e === null) {
        this.remove(r);
        this.stats.droppedOnSwap++;
      } else r.entry = e;
      r = newer;
    }
  }

  /**
   * The far end `addr` (4 or 16 bytes as the flow holds them) on `port` at capture time
   * `tsMicros`: a static entry first, then an address a DNS answer for a listed name taught.
   * Allow-listed ranges never match either way. Allocates only when it matches.
   */
  matchAddress(addr: Uint8Array, ipVersion: 4 | 6, port: number, tsMicros: number): AddressMatch | null {
    const snap = this.snap;
    const e = snap.addresses.match(addr, ipVersion, port);
    if (e !== null && (e.expiresAt === undefined || e.expiresAt * 1000 > tsMicros)) {
      return { entry: e.text, version: e.listVersion ?? null, evidence: 'blacklist-ip', domain: null };
    }
    if (this.count === 0) return null;
    const r = this.find(addr, ipVersion);
    if (r === null) return null;
    if (r.expires <= tsMicros) {
      this.remove(r);
      this.stats.expired++;
      return null;
    }
    // The name's entries decide the port (pool.example:3333 teaches nothing about port 443).
    const d = snap.domains.match(r.name, port);
    if (d === null || (d.expiresAt !== undefined && d.expiresAt * 1000 <= tsMicros)) return null;
    if (snap.addresses.allowedBy(addr, ipVersion, port) !== null) return null;
    return { entry: d.text, version: d.listVersion ?? null, evidence: 'dns', domain: r.name };
  }

  /**
   * The domain entry covering `name` on `port`, or null. `tsMicros` (capture time) retires
   * entries past their `expiresAt`; leave it out to ignore expiry. Allocates nothing.
   */
  matchName(name: string, port: number, tsMicros = -1): DomainEntry | null {
    const d = this.snap.domains.match(name, port);
    if (d === null || d.expiresAt === undefined || tsMicros < 0) return d;
    return d.expiresAt * 1000 > tsMicros ? d : null;
  }

  /**
   * A DNS answer seen at `tsMicros` says `name` has address `addr` for `ttlSec` seconds. Kept
   * when the name (or a parent) is listed, whatever the entry's ports; answers whether it was.
   * The address bytes are copied.
   */
  learn(name: string, addr: Uint8Array, ipVersion: 4 | 6, ttlSec: number, tsMicros: number): boolean {
    const entry = this.snap.domains.listed(name);
    if (entry === null) return false;
    let ttl = ttlSec;
    if (ttl < this.minTtl) ttl = this.minTtl;
    if (ttl > this.maxTtl) ttl = this.maxTtl;
    const expires = tsMicros + ttl * 1e6;
    let r = this.find(addr, ipVersion);
    if (r !== null) {
      this.unlinkAge(r);
    } else {
      while (this.count >= this.maxLearned && this.oldest !== null) {
        this.remove(this.oldest);
        this.stats.evicted++;
      }
      const v4 = ipVersion === 4 || isV4Mapped(addr);
      const bytes = v4 ? addr.slice(ipVersion === 4 ? 0 : 12, ipVersion === 4 ? 4 : 16) : addr.slice(0, 16);
      const key = v4 ? readWord(bytes, 0) : hash16(bytes);
      r = { key, ipVersion: v4 ? 4 : 6, addr: bytes, name, entry, expires, hashNext: this.buckets.get(key) ?? null, older: null, newer: null };
      this.buckets.set(key, r);
      this.count++;
    }
    r.name = name;
    r.entry = entry;
    r.expires = expires;
    this.linkNewest(r);
    this.stats.learned++;
    return true;
  }

  private find(addr: Uint8Array, ipVersion: 4 | 6): Learned | null {
    let v4: boolean;
    let off: number;
    if (ipVersion === 4) {
      v4 = true;
      off = 0;
    } else if (isV4Mapped(addr)) {
      v4 = true;
      off = 12;
    } else {
      v4 = false;
      off = 0;
    }
    const key = v4 ? readWord(addr, off) : hash16(addr);
    for (let r = this.buckets.get(key) ?? null; r !== null; r = r.hashNext) {
      if (v4) {
        if (r.ipVersion === 4) return r;
        continue;
      }
      if (r.ipVersion !== 6) continue;
      let same = true;
      for (let i = 0; i < 16; i++) {
        if (r.addr[i] !== addr[i]) {
          same = false;
          break;
        }
      }
      if (same) return r;
    }
    return null;
  }

  private remove(r: Learned): void {
    this.unlinkAge(r);
    const head = this.buckets.get(r.key) ?? null;
    if (head === r) {
      if (r.hashNext === null) this.buckets.delete(r.key);
      else this.buckets.set(r.key, r.hashNext);
    } else {
      let p = head;
      while (p !== null && p.hashNext !== r) p = p.hashNext;
      if (p !== null) p.hashNext = r.hashNext;
    }
    r.hashNext = null;
    this.count--;
  }

  private linkNewest(r: Learned): void {
    r.older = this.newest;
    r.newer = null;
    if (this.newest !== null) this.newest.newer = r;
    this.newest = r;
    if (this.oldest === null) this.oldest = r;
  }

  private unlinkAge(r: Learned): void {
    if (r.older !== null) r.older.newer = r.newer;
    else if (this.oldest === r) this.oldest = r.newer;
    if (r.newer !== null) r.newer.older = r.older;
    else if (this.newest === r) this.newest = r.older;
    r.older = null;
    r.newer = null;
  }
}

/**
 * A snapshot built from entries, e.g. what the store loads for the current version, or list files
 * read for one run. Build it completely, then hand it to `swap`: the old one serves meanwhile.
 */
export function buildSnapshot(
  addresses: readonly BlacklistEntry[] | AddressTable,
  domains: readonly DomainEntry[],
  allow: readonly BlacklistEntry[] | AddressTable = [],
): BlacklistSnapshot {
  return { addresses: buildIndex(addresses, allow), domains: buildDomainIndex(domains) };
}
