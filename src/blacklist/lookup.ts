/**
 * The blacklist as the pipeline sees it: a longest-prefix table of entries, and an allow-list of
 * ranges that never match. The allow-list exists because IP lists made by resolving pool names
 * pick up CDN front addresses (Cloudflare, Google): flagging those would flag ordinary web traffic.
 */
import { LpmTable } from './lpm.js';
import type { BlacklistEntry } from './types.js';

export class BlacklistIndex {
  private readonly black = new LpmTable();
  private readonly allowed = new LpmTable();

  /** Add a blacklist entry. Exact duplicates (same network and port range) are kept once. */
  add(e: BlacklistEntry): void {
    this.black.add(e);
  }

  /** Add an allow-list range: addresses (and ports) in it never match, whatever the blacklist says. */
  addAllow(e: BlacklistEntry): void {
    this.allowed.add(e);
  }

  /** Distinct blacklist entries held. */
  get size(): number {
    return this.black.size;
  }

  /** Distinct allow-list entries held. */
  get allowSize(): number {
    return this.allowed.size;
  }

  /**
   * Entry matching address+port (longest prefix wins; among the same prefix, the narrowest port
   * range that holds the port), or null. `addr` may be 16 bytes of which the first 4 are used for
   * IPv4; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 entries. Called once per new
   * flow; allocates nothing.
   */
  match(addr: Uint8Array, version: 4 | 6, port: number): BlacklistEntry | null {
    const hit = this.black.match(addr, version, port);
    // The allow-list is consulted only on a hit: most flows miss the blacklist and pay nothing more.
    if (hit === null || this.allowed.size === 0) return hit;
    return this.allowed.match(addr, version, port) === null ? hit : null;
  }

  /** The allow-list entry covering address+port, or null (for reports explaining a non-match). */
  allowedBy(addr: Uint8Array, version: 4 | 6, port: number): BlacklistEntry | null {
    return this.allowed.match(addr, version, port);
  }
}

/** Build an index from blacklist entries and optional allow-list entries (allow-listed ranges never match). */
export function buildIndex(entries: readonly BlacklistEntry[], allow: readonly BlacklistEntry[] = []): BlacklistIndex {
  const idx = new BlacklistIndex();
  for (const e of entries) idx.add(e);
  for (const a of allow) idx.addAllow(a);
  return idx;
}
