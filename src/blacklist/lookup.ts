/**
 * The blacklist as the pipeline sees it: a longest-prefix index of entries, and an allow-list of
 * ranges that never match. The allow-list exists because IP lists made by resolving pool names
 * pick up CDN front addresses (Cloudflare, Google): flagging those would flag ordinary web traffic.
 *
 * Entries live in AddressTables (address-table.ts: columns in typed arrays, no object per entry).
 * An index may stand on several tables, e.g. the stored list version and the lists given for one
 * run: a lookup gives the same answer as one table holding them all in order (longest prefix
 * wins; among entries of one network the narrowest port range holding the port, and at equal
 * width the earlier table; an exact duplicate in a later table is shadowed). So a run's list of a
 * million entries is loaded once and shared by every snapshot the run swaps in.
 */
import { AddressTable, MASK4, MASK6, readWord } from './address-table.js';
import { isV4Mapped } from './addr.js';
import type { BlacklistEntry } from './types.js';

/** Tables consulted as one, with the prefix lengths present in any of them, longest first. */
class Layers {
  readonly tables: AddressTable[] = [];
  private lens4 = new Int32Array(33);
  private n4 = 0;
  private lens6 = new Int32Array(129);
  private n6 = 0;
  private epoch = -1;
  /** The table when there is exactly one. */
  private single: AddressTable | null = null;
  /** The table holding the last entry found. */
  hit: AddressTable | null = null;

  constructor(tables: readonly AddressTable[]) {
    for (const t of tables) this.tables.push(t);
    this.refresh();
  }

  get size(): number {
    let n = 0;
    for (const t of this.tables) n += t.size;
    return n;
  }

  /** Recompute the length lists when a table gained a prefix length. */
  refresh(): void {
    let epoch = 0;
    for (const t of this.tables) epoch += t.lengthsEpoch;
    this.single = this.tables.length === 1 ? this.tables[0]! : null;
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.n4 = 0;
    for (let len = 32; len >= 0; len--) if (this.tables.some((t) => t.count4[len]! > 0)) this.lens4[this.n4++] = len;
    this.n6 = 0;
    for (let len = 128; len >= 0; len--) if (this.tables.some((t) => t.count6[len]! > 0)) this.lens6[this.n6++] = len;
  }

  /** Entry id for IPv4 address word `a` on `port` (the table in `hit`), or -1. */
  find4(a: number, port: number): number {
    const lens = this.lens4;
    const tables = this.tables;
    for (let i = 0; i < this.n4; i++) {
      const len = lens[i]!;
      const key = a & MASK4[len]!;
      let best = -1;
      let bestT: AddressTable | null = null;
      for (let k = 0; k < tables.length; k++) {
        const t = tables[k]!;
        if (t.count4[len] === 0) continue;
        const id = t.probe4(key, len, port);
        if (id >= 0 && (bestT === null || t.width(id) < bestT.width(best))) {
          best = id;
          bestT = t;
        }
      }
      if (bestT !== null) {
        this.hit = bestT;
        return best;
      }
    }
    return -1;
  }

  /** Entry id for the IPv6 address words w0..w3 on `port` (the table in `hit`), or -1. */
  find6(w0: number, w1: number, w2: number, w3: number, port: number): number {
    const lens = this.lens6;
    const tables = this.tables;
    for (let i = 0; i < this.n6; i++) {
      const len = lens[i]!;
      const m = len * 4;
      const m0 = w0 & MASK6[m]!;
      const m1 = w1 & MASK6[m + 1]!;
      const m2 = w2 & MASK6[m + 2]!;
      const m3 = w3 & MASK6[m + 3]!;
      let best = -1;
      let bestT: AddressTable | null = null;
      for (let k = 0; k < tables.length; k++) {
        const t = tables[k]!;
        if (t.count6[len] === 0) continue;
        const id = t.probe6(m0, m1, m2, m3, len, port);
        if (id >= 0 && (bestT === null || t.width(id) < bestT.width(best))) {
          best = id;
          bestT = t;
        }
      }
      if (bestT !== null) {
        this.hit = bestT;
        return best;
      }
    }
    return -1;
  }

  /** Entry id for address+port (IPv4-mapped IPv6 tries IPv4 entries first), or -1. */
  find(addr: Uint8Array, version: 4 | 6, port: number): number {
    const one = this.single;
    if (one !== null) {
      // One table (the usual index): its own length lists, no merging.
      this.hit = one;
      if (version === 4) return one.find4(readWord(addr, 0), port);
      if (one.has4 && isV4Mapped(addr)) {
        const r = one.find4(readWord(addr, 12), port);
        if (r >= 0) return r;
      }
      return one.has6 ? one.find6(readWord(addr, 0), readWord(addr, 4), readWord(addr, 8), readWord(addr, 12), port) : -1;
    }
    if (version === 4) return this.n4 === 0 ? -1 : this.find4(readWord(addr, 0), port);
    if (this.n4 > 0 && isV4Mapped(addr)) {
      // IPv4 entries (and mapped ones) are all longer than any IPv6 prefix covering ::ffff:0:0/96,
      // so trying them first keeps "longest wins".
      const r = this.find4(readWord(addr, 12), port);
      if (r >= 0) return r;
    }
    if (this.n6 === 0) return -1;
    return this.find6(readWord(addr, 0), readWord(addr, 4), readWord(addr, 8), readWord(addr, 12), port);
  }
}

export class BlacklistIndex {
  private readonly black: Layers;
  private readonly allowed: Layers;
  /** Tables for entries added one by one (add, addAllow), created on first use. */
  private ownBlack: AddressTable | null = null;
  private ownAllow: AddressTable | null = null;

  /**
   * An index over `black` tables (earlier ones win ties) and `allow` tables. The tables must be
   * complete: entries added to them later are found only after the index's own add/addAllow.
   */
  constructor(black: readonly AddressTable[] = [], allow: readonly AddressTable[] = []) {
    this.black = new Layers(black);
    this.allowed = new Layers(allow);
  }

  /** Add a blacklist entry. Exact duplicates (same network and port range) are kept once. */
  add(e: BlacklistEntry): void {
    if (this.ownBlack === null) this.black.tables.push((this.ownBlack = new AddressTable()));
    this.ownBlack.add(e);
    this.black.refresh();
  }

  /** Add an allow-list range: addresses (and ports) in it never match, whatever the blacklist says. */
  addAllow(e: BlacklistEntry): void {
    if (this.ownAllow === null) this.allowed.tables.push((this.ownAllow = new AddressTable()));
    this.ownAllow.add(e);
    this.allowed.refresh();
  }

  /** Blacklist entries held (an entry repeated in two tables counts in each). */
  get size(): number {
    return this.black.size;
  }

  /** Allow-list entries held. */
  get allowSize(): number {
    return this.allowed.size;
  }

  /**
   * Entry matching address+port (longest prefix wins; among the same prefix, the narrowest port
   * range that holds the port), or null. `addr` may be 16 bytes of which the first 4 are used for
   * IPv4; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 entries. Called once per new
   * flow; allocates nothing when nothing matches (a hit builds its entry object once).
   */
  match(addr: Uint8Array, version: 4 | 6, port: number): BlacklistEntry | null {
    const id = this.black.find(addr, version, port);
    if (id < 0) return null;
    const t = this.black.hit!;
    // The allow-list is consulted only on a hit: most flows miss the blacklist and pay nothing more.
    if (this.allowed.tables.length !== 0 && this.allowed.find(addr, version, port) >= 0) return null;
    return t.entry(id);
  }

  /** The allow-list entry covering address+port, or null (for reports explaining a non-match). */
  allowedBy(addr: Uint8Array, version: 4 | 6, port: number): BlacklistEntry | null {
    const id = this.allowed.find(addr, version, port);
    return id < 0 ? null : this.allowed.hit!.entry(id);
  }
}

/** Entries as a table (in their order; duplicates kept once). */
export function tableOf(entries: readonly BlacklistEntry[]): AddressTable {
  const t = new AddressTable();
  t.reserve(entries.length);
  for (const e of entries) t.add(e);
  return t;
}

/** Build an index from blacklist entries and optional allow-list entries (allow-listed ranges never match). */
export function buildIndex(
  entries: readonly BlacklistEntry[] | AddressTable,
  allow: readonly BlacklistEntry[] | AddressTable = [],
): BlacklistIndex {
  const black = entries instanceof AddressTable ? entries : tableOf(entries);
  const allowed = allow instanceof AddressTable ? allow : tableOf(allow);
  return new BlacklistIndex(black.size > 0 ? [black] : [], allowed.size > 0 ? [allowed] : []);
}
