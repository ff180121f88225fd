/**
 * Longest-prefix match with flat cost: one hash map per prefix length actually present, probed
 * from the longest length to the shortest. A lookup costs at most (number of distinct lengths)
 * map probes — at most 33 for IPv4, in practice a handful — however many entries there are.
 * (A sorted array or a trie would grow with the list; 1,000,000 entries must cost the same as 100.)
 *
 * IPv4 keys are the masked address as an unsigned 32-bit number. IPv6 uses nested maps keyed by
 * 32-bit words, one level per word the prefix reaches into (a /48 is two levels, a /128 four):
 * no string or bigint key is built per lookup, so a lookup allocates nothing.
 *
 * A bucket holds the entries for one network; several only when they differ in port range.
 *
 * Holds the entry objects it is given (organisation ranges key their organisation by them, see
 * report/orgs.ts). Blacklists use AddressTable (address-table.ts) instead: the same lookup over
 * typed-array columns, with no object kept per entry.
 */
import { isV4Mapped } from './addr.js';
import type { BlacklistEntry } from './types.js';

type Bucket = BlacklistEntry | BlacklistEntry[];
/** Nested word maps; the last level holds buckets. */
type V6Level = Map<number, V6Level | Bucket>;

/** Mask for word `i` (0-based, 32 bits each) of a prefix of `len` bits. */
function wordMask(len: number, i: number): number {
  const bits = len - i * 32;
  if (bits >= 32) return -1;
  if (bits <= 0) return 0;
  return 0xffffffff << (32 - bits);
}

/** Map levels used by an IPv6 prefix length: one per word it reaches, at least one (for /0). */
function v6Depth(len: number): number {
  return len === 0 ? 1 : Math.ceil(len / 32);
}

/**
 * A 32-bit word as a SIGNED int32: map keys stay small integers in V8 (an unsigned key of 2^31 or
 * more would be a heap number, allocated on every lookup of an address from 128.0.0.0 up).
 */
function readWord(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!;
}

/** Among entries of one network: the first whose port range holds `port` (narrowest ranges first). */
function pickPort(b: Bucket, port: number): BlacklistEntry | null {
  if (!Array.isArray(b)) return b.portLo <= port && port <= b.portHi ? b : null;
  for (let i = 0; i < b.length; i++) {
    const e = b[i]!;
    if (e.portLo <= port && port <= e.portHi) return e;
  }
  return null;
}

/** Insert into a bucket; answers the new bucket, or null when the same network+ports is already there. */
function addToBucket(b: Bucket | undefined, e: BlacklistEntry): Bucket | null {
  if (b === undefined) return e;
  const list = Array.isArray(b) ? b : [b];
  for (const x of list) if (x.portLo === e.portLo && x.portHi === e.portHi) return null;
  list.push(e);
  // narrowest port range first: when several match, the most specific entry is the one reported
  list.sort((x, y) => x.portHi - x.portLo - (y.portHi - y.portLo));
  return list;
}

export class LpmTable {
  /** v4[len]: masked address → bucket. */
  private readonly v4: (Map<number, Bucket> | undefined)[] = new Array(33);
  private v4Lens: number[] = [];
  private readonly v6: (V6Level | undefined)[] = new Array(129);
  private v6Lens: number[] = [];
  /** Scratch for the four words of an IPv6 lookup address: reused so a lookup allocates nothing. */
  private readonly w = new Int32Array(4);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Add an entry; exact duplicates (same network, same port range) are dropped. Answers whether it was new. */
  add(e: BlacklistEntry): boolean {
    if (e.version === 4) return this.add4(readWord(e.addr, 0), e.prefixLen, e);
    // ::ffff:a.b.c.d/len (len >= 96) is an IPv4 network in IPv6 spelling: store it with IPv4 so
    // both spellings of a lookup find it.
    if (e.prefixLen >= 96 && isV4Mapped(e.addr)) return this.add4(readWord(e.addr, 12), e.prefixLen - 96, e);
    return this.add6(e);
  }

  private add4(a: number, len: number, e: BlacklistEntry): boolean {
    let m = this.v4[len];
    if (m === undefined) {
      m = this.v4[len] = new Map();
      this.v4Lens = insertDesc(this.v4Lens, len);
    }
    const key = a & wordMask(len, 0);
    const b = addToBucket(m.get(key), e);
    if (b === null) return false;
    m.set(key, b);
    this.count++;
    return true;
  }

  private add6(e: BlacklistEntry): boolean {
    const len = e.prefixLen;
    let node = this.v6[len];
    if (node === undefined) {
      node = this.v6[len] = new Map();
      this.v6Lens = insertDesc(this.v6Lens, len);
    }
    const depth = v6Depth(len);
    for (let i = 0; i < depth - 1; i++) {
      const key = readWord(e.addr, i * 4) & wordMask(len, i);
      let next = node.get(key) as V6Level | undefined;
      if (next === undefined) node.set(key, (next = new Map()));
      node = next;
    }
    const key = readWord(e.addr, (depth - 1) * 4) & wordMask(len, depth - 1);
    const b = addToBucket(node.get(key) as Bucket | undefined, e);
    if (b === null) return false;
    node.set(key, b);
    this.count++;
    return true;
  }

  /** Longest-prefix entry holding address and port, or null. IPv4-mapped IPv6 addresses look up as IPv4. */
  match(addr: Uint8Array, version: 4 | 6, port: number): BlacklistEntry | null {
    if (version === 4) return this.match4(readWord(addr, 0), port);
    if (isV4Mapped(addr)) {
      // IPv4 entries (and mapped ones) are all longer than any IPv6 prefix covering ::ffff:0:0/96,
      // so trying them first keeps "longest wins".
      const r = this.match4(readWord(addr, 12), port);
      if (r !== null) return r;
    }
    return this.match6(addr, port);
  }

  match4(a: number, port: number): BlacklistEntry | null {
    const lens = this.v4Lens;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const b = this.v4[len]!.get(a & wordMask(len, 0));
      if (b === undefined) continue;
      const e = pickPort(b, port);
      if (e !== null) return e;
    }
    return null;
  }

  private match6(addr: Uint8Array, port: number): BlacklistEntry | null {
    const lens = this.v6Lens;
    if (lens.length === 0) return null;
    const w = this.w;
    w[0] = readWord(addr, 0);
    w[1] = readWord(addr, 4);
    w[2] = readWord(addr, 8);
    w[3] = readWord(addr, 12);
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i]!;
      const depth = v6Depth(len);
      let node: V6Level | Bucket | undefined = this.v6[len];
      for (let d = 0; d < depth && node !== undefined; d++) {
        node = (node as V6Level).get(w[d]! & wordMask(len, d));
      }
      if (node === undefined) continue;
      const e = pickPort(node as Bucket, port);
      if (e !== null) return e;
    }
    return null;
  }
}

/** Prefix lengths kept longest first; few and rarely added, so a copy is fine. */
function insertDesc(lens: number[], len: number): number[] {
  return [...lens, len].sort((a, b) => b - a);
}
