/**
 * Address entries held column by column in typed arrays, with the longest-prefix index over them
 * in typed arrays too: a list of a million entries is a handful of large arrays, not a million
 * objects the garbage collector has to walk on every major collection while a scan runs.
 *
 * Per entry: the address (one int32 for IPv4, an index into a word array for IPv6), the prefix
 * length, the port range, an origin id (source, stored list version and labels, interned: a list's
 * entries share a few origins) and a few flags. The entry text is not kept: it is the canonical
 * text of the other columns (plain.ts canonicalText), rebuilt on a hit. Only an entry added with
 * another text (hand-built entries in tests and benchmarks) keeps it, in a side map. An expiry
 * column exists only once some entry expires.
 *
 * The index is one open-addressing hash table per address family, keyed by (masked network,
 * prefix length), probed from the longest prefix length present to the shortest: a lookup costs
 * one probe (usually one cache line) per distinct prefix length, however many entries there are.
 * Entries of one network that differ in port range hang off the slot as a chain, narrowest range
 * first. A lookup answers an entry id and allocates nothing; a BlacklistEntry object is built only
 * for a hit (`entry(id)`), once per entry (kept, so repeated hits answer the same object).
 *
 * IPv4-mapped IPv6 networks (::ffff:a.b.c.d/len, len >= 96) are indexed with IPv4 at len - 96,
 * so both spellings of an address find them (they keep their IPv6 spelling in reports).
 */
import { PoolwatchError } from '../errors.js';
import { isV4Mapped } from './addr.js';
import { canonicalText } from './plain.js';
import type { BlacklistEntry, EntryLabels } from './types.js';

/** What entries share: the list they came from, the stored version, the labels it gave them. */
export interface EntryOrigin extends EntryLabels {
  source: string;
  listVersion?: number;
}

/** Flags column. */
const F_V6 = 1;
/** The entry's text is not its canonical text: kept in `texts`. */
const F_TEXT = 2;
/** An IPv6 entry indexed with IPv4 (IPv4-mapped, prefix >= 96). */
const F_MAPPED = 4;

/** IPv4 slot meta is ((id + 1) << 6) | len: ids must stay below 2^25. */
const MAX_ENTRIES = (1 << 25) - 2;
const GOLD = 0x9e3779b1 | 0;

/** MASK4[len]: the network mask of an IPv4 prefix length as int32. */
export const MASK4 = new Int32Array(33);
/** MASK6[len * 4 + i]: word i of the mask of an IPv6 prefix length. */
export const MASK6 = new Int32Array(129 * 4);
const SALT = new Int32Array(129);
for (let len = 1; len <= 32; len++) MASK4[len] = -1 << (32 - len);
for (let len = 0; len <= 128; len++) {
  for (let i = 0; i < 4; i++) {
    const bits = len - i * 32;
    MASK6[len * 4 + i] = bits >= 32 ? -1 : bits <= 0 ? 0 : -1 << (32 - bits);
  }
  SALT[len] = Math.imul(len + 1, 0x85ebca6b);
}

/** A big-endian 32-bit word of `b` at `off`, as int32. */
export function readWord(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}

function hash4(key: number, len: number, shift: number): number {
  return (Math.imul(key ^ SALT[len]!, GOLD) >>> shift) | 0;
}

function hash6(w0: number, w1: number, w2: number, w3: number, len: number, shift: number): number {
  // Only the words the prefix reaches (the others are 0 once masked): a /48 or /64 hashes two.
  let x = Math.imul(w0 ^ SALT[len]!, GOLD);
  if (len > 32) x = Math.imul(x ^ (x >>> 15) ^ w1, GOLD);
  if (len > 64) x = Math.imul(x ^ (x >>> 15) ^ w2, GOLD);
  if (len > 96) x = Math.imul(x ^ (x >>> 15) ^ w3, GOLD);
  return ((x ^ (x >>> 16)) >>> shift) | 0;
}

/** Insert `len` into the first `n` of `lens` (longest first); answers the new count. */
function addLength(lens: Int32Array, n: number, len: number): number {
  let i = n;
  while (i > 0 && lens[i - 1]! < len) {
    lens[i] = lens[i - 1]!;
    i--;
  }
  lens[i] = len;
  return n + 1;
}

function grown<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a.subarray(0, Math.min(a.length, cap)) as never);
  return b;
}

export class AddressTable {
  private n = 0;
  private cap = 0;
  private flags = new Uint8Array(0);
  private plen = new Uint8Array(0);
  private lo = new Uint16Array(0);
  private hi = new Uint16Array(0);
  /** IPv4: the address; IPv6: its index in w6 (four words each). */
  private word = new Int32Array(0);
  private org = new Int32Array(0);
  /** Next entry of the same network (wider port range), or -1. */
  private next = new Int32Array(0);
  /** ms since epoch; NaN: never. Allocated with the first entry that expires. */
  private expires: Float64Array | null = null;
  private w6 = new Int32Array(0);
  private n6 = 0;
  /** Texts of entries added with a text other than their canonical one. */
  private texts: Map<number, string> | null = null;
  private readonly origins: EntryOrigin[] = [];
  private readonly originIds = new Map<string, number>();
  /** Entries built for hits: builtAt[id] is 1 + the index in `built`, 0 when not built yet. */
  private builtAt: Int32Array | null = null;
  private readonly built: (BlacklistEntry & EntryLabels)[] = [];

  /** IPv4 slots: [key, meta] with meta 0 for empty, else ((head + 1) << 6) | len. */
  private t4 = new Int32Array(32);
  private shift4 = 28;
  private used4 = 0;
  /** IPv6 slots of 8 words: [w0, w1, w2, w3, len, head + 1, -, -]; head + 1 === 0: empty. */
  private t6 = new Int32Array(16 * 8);
  private shift6 = 28;
  private used6 = 0;
  /** Networks held per prefix length (IPv4-mapped ones with IPv4). A lookup skips lengths at 0. */
  readonly count4 = new Int32Array(33);
  readonly count6 = new Int32Array(129);
  /** Bumped when a prefix length appears: indexes over this table recompute their length lists. */
  lengthsEpoch = 0;
  /** The prefix lengths present, longest first (IPv4 with the mapped ones; IPv6). */
  private readonly lens4 = new Int32Array(33);
  private nLens4 = 0;
  private readonly lens6 = new Int32Array(129);
  private nLens6 = 0;

  /** Entries held (exact duplicates are kept once). */
  get size(): number {
    return this.n;
  }

  /** Make room for `more` entries beyond those held (a loader that knows its count avoids regrowing). */
  reserve(more: number): void {
    if (this.n + more > this.cap) this.resize(this.n + more);
  }

  /** Drop spare capacity once loading is done. */
  compact(): void {
    if (this.cap > this.n) this.resize(this.n);
    if (this.w6.length > this.n6 * 4) this.w6 = grown(this.w6, this.n6 * 4);
  }

  /** The id of an origin, interned: pass it to addV4/addBytes for every entry of one list. */
  origin(o: EntryOrigin): number {
    const key = `${o.source}\u0000${o.listVersion ?? ''}\u0000${o.coin === undefined ? '\u0001' : o.coin}\u0000${o.label === undefined ? '\u0001' : o.label}`;
    let id = this.originIds.get(key);
    if (id === undefined) {
      id = this.origins.length;
      const copy: EntryOrigin = { source: o.source };
      if (o.listVersion !== undefined) copy.listVersion = o.listVersion;
      if (o.coin !== undefined) copy.coin = o.coin;
      if (o.label !== undefined) copy.label = o.label;
      this.origins.push(copy);
      this.originIds.set(key, id);
    }
    return id;
  }

  /**
   * Add an entry object (its fields are copied; the object is not kept). Exact duplicates (same
   * network, same port range) are dropped: the first added wins. Answers whether it was new.
   */
  add(e: BlacklistEntry & EntryLabels): boolean {
    const o = this.origin(e);
    const canonical = e.text === canonicalText(e);
    return this.addBytes(e.version, e.addr, e.prefixLen, e.portLo, e.portHi, o, e.expiresAt ?? NaN, canonical ? null : e.text);
  }

  /**
   * Add an IPv4 network given as an int32 word (host bits clear) with its canonical text. The
   * list reader's path: nothing is allocated per entry.
   */
  addV4(word: number, prefixLen: number, portLo: number, portHi: number, origin: number, expiresAt = NaN): boolean {
    const id = this.claim();
    this.flags[id] = 0;
    this.word[id] = word;
    this.plen[id] = prefixLen;
    this.lo[id] = portLo;
    this.hi[id] = portHi;
    this.org[id] = origin;
    this.setExpiry(id, expiresAt);
    return this.commit4(id, word, prefixLen);
  }

  /**
   * Add a network from its address bytes (4 or 16, host bits clear; only read, not kept).
   * `text`: null when it is the canonical text (the usual case), else the text to report.
   */
  addBytes(version: 4 | 6, addr: Uint8Array, prefixLen: number, portLo: number, portHi: number, origin: number, expiresAt: number, text: string | null): boolean {
    const id = this.claim();
    this.plen[id] = prefixLen;
    this.lo[id] = portLo;
    this.hi[id] = portHi;
    this.org[id] = origin;
    this.setExpiry(id, expiresAt);
    let ok: boolean;
    if (version === 4) {
      this.flags[id] = text === null ? 0 : F_TEXT;
      const w = readWord(addr, 0);
      this.word[id] = w;
      ok = this.commit4(id, w, prefixLen);
    } else {
      const mapped = prefixLen >= 96 && isV4Mapped(addr);
      this.flags[id] = F_V6 | (text === null ? 0 : F_TEXT) | (mapped ? F_MAPPED : 0);
      if ((this.n6 + 1) * 4 > this.w6.length) this.w6 = grown(this.w6, Math.max(16, this.w6.length * 2));
      const k = this.n6;
      const w6 = this.w6;
      w6[k * 4] = readWord(addr, 0);
      w6[k * 4 + 1] = readWord(addr, 4);
      w6[k * 4 + 2] = readWord(addr, 8);
      w6[k * 4 + 3] = readWord(addr, 12);
      this.word[id] = k;
      ok = mapped ? this.commit4(id, w6[k * 4 + 3]!, prefixLen - 96) : this.commit6(id, k, prefixLen);
      if (ok) this.n6++;
    }
    if (ok && text !== null) (this.texts ??= new Map()).set(id, text);
    return ok;
  }

  /** Every entry of `other` (in its order) added to this table. */
  addAll(other: AddressTable): void {
    this.reserve(other.n);
    const addr = new Uint8Array(16);
    const originMap = other.origins.map((o) => this.origin(o));
    for (let id = 0; id < other.n; id++) {
      const f = other.flags[id]!;
      const o = originMap[other.org[id]!]!;
      const exp = other.expires === null ? NaN : other.expires[id]!;
      const text = (f & F_TEXT) !== 0 ? other.texts!.get(id)! : null;
      if ((f & F_V6) === 0 && text === null) {
        this.addV4(other.word[id]!, other.plen[id]!, other.lo[id]!, other.hi[id]!, o, exp);
        continue;
      }
      other.bytesOf(id, addr);
      this.addBytes((f & F_V6) === 0 ? 4 : 6, addr, other.plen[id]!, other.lo[id]!, other.hi[id]!, o, exp, text);
    }
  }

  /** The entry with this id, as an object (built once, then the same object each time). */
  entry(id: number): BlacklistEntry & EntryLabels {
    const at = this.builtAt;
    if (at !== null) {
      const k = at[id]!;
      if (k !== 0) return this.built[k - 1]!;
    }
    return this.build(id);
  }

  private build(id: number): BlacklistEntry & EntryLabels {
    const f = this.flags[id]!;
    const v6 = (f & F_V6) !== 0;
    const addr = new Uint8Array(v6 ? 16 : 4);
    this.bytesOf(id, addr);
    const o = this.origins[this.org[id]!]!;
    const e: BlacklistEntry & EntryLabels = {
      version: v6 ? 6 : 4, addr, prefixLen: this.plen[id]!, portLo: this.lo[id]!, portHi: this.hi[id]!, text: '', source: o.source,
    };
    if (o.listVersion !== undefined) e.listVersion = o.listVersion;
    const exp = this.expires === null ? NaN : this.expires[id]!;
    if (!Number.isNaN(exp)) e.expiresAt = exp;
    if (o.coin !== undefined) e.coin = o.coin;
    if (o.label !== undefined) e.label = o.label;
    e.text = (f & F_TEXT) !== 0 ? this.texts!.get(id)! : canonicalText(e);
    this.built.push(e);
    (this.builtAt ??= new Int32Array(this.cap))[id] = this.built.length;
    return e;
  }

  /** Width of an entry's port range (the narrower wins among entries of one network). */
  width(id: number): number {
    return this.hi[id]! - this.lo[id]!;
  }

  /**
   * The entry of network (key, len) whose port range holds `port`, narrowest first; -1 when none.
   * `key` must be masked to `len`. IPv4 and IPv4-mapped entries.
   */
  probe4(key: number, len: number, port: number): number {
    const t = this.t4;
    const mask = (t.length >>> 1) - 1;
    for (let h = hash4(key, len, this.shift4); ; h = (h + 1) & mask) {
      const meta = t[2 * h + 1]!;
      if (meta === 0) return -1;
      if ((meta & 63) === len && t[2 * h] === key) return this.pick((meta >>> 6) - 1, port);
    }
  }

  /** As probe4 for an IPv6 network given as four masked words. */
  probe6(w0: number, w1: number, w2: number, w3: number, len: number, port: number): number {
    const t = this.t6;
    const mask = (t.length >>> 3) - 1;
    for (let h = hash6(w0, w1, w2, w3, len, this.shift6); ; h = (h + 1) & mask) {
      const s = h << 3;
      const head = t[s + 5]!;
      if (head === 0) return -1;
      if (t[s + 4] === len && t[s] === w0 && t[s + 1] === w1 && t[s + 2] === w2 && t[s + 3] === w3) return this.pick(head - 1, port);
    }
  }

  /** Entry id for the IPv4 address word `a` on `port` (longest prefix, then narrowest ports), or -1. */
  find4(a: number, port: number): number {
    const lens = this.lens4;
    for (let i = 0; i < this.nLens4; i++) {
      const len = lens[i]!;
      const id = this.probe4(a & MASK4[len]!, len, port);
      if (id >= 0) return id;
    }
    return -1;
  }

  /** As find4 for an IPv6 address given as four words. */
  find6(w0: number, w1: number, w2: number, w3: number, port: number): number {
    const lens = this.lens6;
    for (let i = 0; i < this.nLens6; i++) {
      const len = lens[i]!;
      const m = len * 4;
      const id = this.probe6(w0 & MASK6[m]!, w1 & MASK6[m + 1]!, w2 & MASK6[m + 2]!, w3 & MASK6[m + 3]!, len, port);
      if (id >= 0) return id;
    }
    return -1;
  }

  /** Whether any IPv4 (or IPv4-mapped) / IPv6 entry is held. */
  get has4(): boolean {
    return this.nLens4 > 0;
  }

  get has6(): boolean {
    return this.nLens6 > 0;
  }

  /** Address bytes of entry `id` into `out` (4 bytes for IPv4, 16 for IPv6). */
  private bytesOf(id: number, out: Uint8Array): void {
    const put = (w: number, off: number) => {
      out[off] = w >>> 24;
      out[off + 1] = (w >>> 16) & 255;
      out[off + 2] = (w >>> 8) & 255;
      out[off + 3] = w & 255;
    };
    if ((this.flags[id]! & F_V6) === 0) {
      put(this.word[id]!, 0);
      return;
    }
    const k = this.word[id]! * 4;
    for (let i = 0; i < 4; i++) put(this.w6[k + i]!, i * 4);
  }

  private pick(id: number, port: number): number {
    const lo = this.lo;
    const hi = this.hi;
    const next = this.next;
    for (let e = id; e >= 0; e = next[e]!) if (lo[e]! <= port && port <= hi[e]!) return e;
    return -1;
  }

  /** The id the next entry gets; it counts only once committed. */
  private claim(): number {
    if (this.n >= this.cap) {
      if (this.n >= MAX_ENTRIES) throw new PoolwatchError('PW_ERR_USAGE', `more than ${MAX_ENTRIES} address entries in one list`);
      this.resize(Math.max(16, this.cap * 2));
    }
    return this.n;
  }

  private setExpiry(id: number, expiresAt: number): void {
    if (this.expires === null) {
      if (Number.isNaN(expiresAt)) return;
      this.expires = new Float64Array(this.cap).fill(NaN);
    }
    this.expires[id] = expiresAt;
  }

  private resize(cap: number): void {
    this.cap = cap;
    this.flags = grown(this.flags, cap);
    this.plen = grown(this.plen, cap);
    this.lo = grown(this.lo, cap);
    this.hi = grown(this.hi, cap);
    this.word = grown(this.word, cap);
    this.org = grown(this.org, cap);
    this.next = grown(this.next, cap);
    if (this.builtAt !== null) this.builtAt = grown(this.builtAt, cap);
    if (this.expires !== null) {
      const old = this.expires.length;
      this.expires = grown(this.expires, cap);
      if (cap > old) this.expires.fill(NaN, old);
    }
  }

  /** Index entry `id` (columns already written) under IPv4 network (word, len); false for a duplicate. */
  private commit4(id: number, word: number, len: number): boolean {
    if ((this.used4 + 1) * 2 > this.t4.length >>> 1) this.rehash4();
    const key = word & MASK4[len]!;
    const t = this.t4;
    const mask = (t.length >>> 1) - 1;
    let h = hash4(key, len, this.shift4);
    for (; ; h = (h + 1) & mask) {
      const meta = t[2 * h + 1]!;
      if (meta === 0) break;
      if ((meta & 63) === len && t[2 * h] === key) {
        const head = this.chain((meta >>> 6) - 1, id);
        if (head < 0) return false;
        t[2 * h + 1] = ((head + 1) << 6) | len;
        this.n++;
        return true;
      }
    }
    t[2 * h] = key;
    t[2 * h + 1] = ((id + 1) << 6) | len;
    this.next[id] = -1;
    this.used4++;
    if (this.count4[len]!++ === 0) {
      this.nLens4 = addLength(this.lens4, this.nLens4, len);
      this.lengthsEpoch++;
    }
    this.n++;
    return true;
  }

  private commit6(id: number, k: number, len: number): boolean {
    if ((this.used6 + 1) * 2 > this.t6.length >>> 3) this.rehash6();
    const m = len * 4;
    const w = this.w6;
    const w0 = w[k * 4]! & MASK6[m]!;
    const w1 = w[k * 4 + 1]! & MASK6[m + 1]!;
    const w2 = w[k * 4 + 2]! & MASK6[m + 2]!;
    const w3 = w[k * 4 + 3]! & MASK6[m + 3]!;
    const t = this.t6;
    const mask = (t.length >>> 3) - 1;
    let h = hash6(w0, w1, w2, w3, len, this.shift6);
    for (; ; h = (h + 1) & mask) {
      const s = h << 3;
      const head = t[s + 5]!;
      if (head === 0) break;
      if (t[s + 4] === len && t[s] === w0 && t[s + 1] === w1 && t[s + 2] === w2 && t[s + 3] === w3) {
        const first = this.chain(head - 1, id);
        if (first < 0) return false;
        t[s + 5] = first + 1;
        this.n++;
        return true;
      }
    }
    const s = h << 3;
    t[s] = w0;
    t[s + 1] = w1;
    t[s + 2] = w2;
    t[s + 3] = w3;
    t[s + 4] = len;
    t[s + 5] = id + 1;
    this.next[id] = -1;
    this.used6++;
    if (this.count6[len]!++ === 0) {
      this.nLens6 = addLength(this.lens6, this.nLens6, len);
      this.lengthsEpoch++;
    }
    this.n++;
    return true;
  }

  /**
   * Put `id` into the chain starting at `head`, after every entry at most as wide (narrowest
   * first; among equals, first added first). Answers the chain's new head, or -1 when an entry
   * with the same port range is already there (and then changes nothing).
   */
  private chain(head: number, id: number): number {
    const lo = this.lo[id]!;
    const hi = this.hi[id]!;
    for (let e = head; e >= 0; e = this.next[e]!) if (this.lo[e] === lo && this.hi[e] === hi) return -1;
    const width = hi - lo;
    let prev = -1;
    let e = head;
    while (e >= 0 && this.width(e) <= width) {
      prev = e;
      e = this.next[e]!;
    }
    this.next[id] = e;
    if (prev < 0) return id;
    this.next[prev] = id;
    return head;
  }

  private rehash4(): void {
    const old = this.t4;
    const slots = old.length; // new slot count: twice the old (old.length / 2 slots)
    const t = new Int32Array(slots * 2);
    this.shift4 -= 1;
    const mask = slots - 1;
    for (let s = 0; s < old.length; s += 2) {
      const meta = old[s + 1]!;
      if (meta === 0) continue;
      const key = old[s]!;
      let h = hash4(key, meta & 63, this.shift4);
      while (t[2 * h + 1] !== 0) h = (h + 1) & mask;
      t[2 * h] = key;
      t[2 * h + 1] = meta;
    }
    this.t4 = t;
  }

  private rehash6(): void {
    const old = this.t6;
    const slots = (old.length >>> 3) * 2;
    const t = new Int32Array(slots * 8);
    this.shift6 -= 1;
    const mask = slots - 1;
    for (let s = 0; s < old.length; s += 8) {
      if (old[s + 5] === 0) continue;
      let h = hash6(old[s]!, old[s + 1]!, old[s + 2]!, old[s + 3]!, old[s + 4]!, this.shift6);
      while (t[(h << 3) + 5] !== 0) h = (h + 1) & mask;
      t.set(old.subarray(s, s + 8), h << 3);
    }
    this.t6 = t;
  }
}
