/**
 * Blacklisted domain names, looked up by a name seen on the wire (SNI, HTTP Host, a DNS answer).
 * An entry for `pool.example` covers `pool.example` and every name below it, never a sibling
 * that merely ends in the same letters (`badpool.example`).
 *
 * Keys are a hash of each name, computed from its last character towards its first, so that one
 * pass over a wire name from the right yields the hash of every parent suffix (`example`,
 * `pool.example`, `eu.pool.example`) at its dot, with no substring built. The lookup then probes
 * from the full name upward, one Map probe per label level, and stops at the first hit: the most
 * specific listed name wins, as the longest prefix does for addresses; among entries of one name,
 * the narrowest port range holding the port. A hit is confirmed by comparing characters in place
 * (hash collisions are possible, just rare).
 */
import type { DomainEntry } from './types.js';

/** Entries sharing one name hash: several only for port ranges of one name, or a collision. */
type Bucket = DomainEntry | DomainEntry[];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const DOT = 0x2e;
/** Longest name text (RFC 1035 limits a name to 255 octets on the wire, 253 characters as text). */
const MAX_NAME = 253;

/** ASCII upper case folded to lower case; wire names may arrive in any case (DNS 0x20 randomisation). */
function fold(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Hash of name[0, end) the way the lookup walk computes it (right to left, case-folded). */
function nameHash(name: string, end: number): number {
  let h = FNV_OFFSET;
  for (let i = end - 1; i >= 0; i--) h = Math.imul(h ^ fold(name.charCodeAt(i)), FNV_PRIME);
  return h >>> 0;
}

/** Is name[from, end) the same name as `listed` (lower case already), ignoring ASCII case? */
function sameSuffix(name: string, from: number, end: number, listed: string): boolean {
  if (end - from !== listed.length) return false;
  for (let i = 0; i < listed.length; i++) if (fold(name.charCodeAt(from + i)) !== listed.charCodeAt(i)) return false;
  return true;
}

/** The entry of bucket `b` for name[from, end) whose port range holds `port` (any port when port < 0). */
function pick(b: Bucket, name: string, from: number, end: number, port: number): DomainEntry | null {
  if (!Array.isArray(b)) {
    return (port < 0 || (b.portLo <= port && port <= b.portHi)) && sameSuffix(name, from, end, b.name) ? b : null;
  }
  for (let i = 0; i < b.length; i++) {
    const e = b[i]!;
    if ((port < 0 || (e.portLo <= port && port <= e.portHi)) && sameSuffix(name, from, end, e.name)) return e;
  }
  return null;
}

export class DomainIndex {
  private readonly map = new Map<number, Bucket>();
  private count = 0;
  // Scratch for one lookup's label starts and suffix hashes: reused so a lookup allocates nothing.
  // A 253-character name has at most 127 labels.
  private readonly starts = new Int32Array(128);
  private readonly hashes = new Uint32Array(128);

  /** Distinct entries held (name and port range). */
  get size(): number {
    return this.count;
  }

  /** Add an entry; an exact duplicate (same name, same port range) is kept once. Answers whether it was new. */
  add(e: DomainEntry): boolean {
    const name = e.name.endsWith('.') ? e.name.slice(0, -1) : e.name;
    if (name.length === 0) return false;
    const entry = name === e.name && name === name.toLowerCase() ? e : { ...e, name: name.toLowerCase() };
    const key = nameHash(entry.name, entry.name.length);
    const b = this.map.get(key);
    if (b === undefined) {
      this.map.set(key, entry);
    } else {
      const list = Array.isArray(b) ? b : [b];
      for (const x of list) if (x.name === entry.name && x.portLo === entry.portLo && x.portHi === entry.portHi) return false;
      list.push(entry);
      // Narrowest port range first: when several match, the most specific entry is the one reported.
      list.sort((x, y) => x.portHi - x.portLo - (y.portHi - y.portLo));
      this.map.set(key, list);
    }
    this.count++;
    return true;
  }

  /**
   * The entry covering `name` (itself or a parent) whose port range holds `port`, most specific
   * name first; null when none. Upper case and one trailing dot are accepted. Allocates nothing.
   */
  match(name: string, port: number): DomainEntry | null {
    return this.walk(name, port);
  }

  /**
   * The most specific entry covering `name` whatever its ports: is the name listed at all. For
   * DNS answers, which carry no port; the port is checked when a flow to the answer starts.
   */
  listed(name: string): DomainEntry | null {
    return this.walk(name, -1);
  }

  private walk(name: string, port: number): DomainEntry | null {
    if (this.count === 0) return null;
    let end = name.length;
    if (end > 0 && name.charCodeAt(end - 1) === DOT) end--;
    // Longer is not a DNS name (RFC 1035: 255 octets on the wire, 253 as text): it cannot be listed.
    if (end === 0 || end > MAX_NAME) return null;
    // Right to left: at each label's left edge the hash of the suffix starting there is complete.
    const starts = this.starts;
    const hashes = this.hashes;
    let levels = 0;
    let h = FNV_OFFSET;
    for (let i = end - 1; i >= 0; i--) {
      const c = name.charCodeAt(i);
      if (c === DOT) {
        // An empty label (".." or a leading dot) starts no name that could be listed.
        if (i + 1 < end && name.charCodeAt(i + 1) !== DOT) {
          starts[levels] = i + 1;
          hashes[levels++] = h >>> 0;
        }
      }
      h = Math.imul(h ^ fold(c), FNV_PRIME);
    }
    if (name.charCodeAt(0) !== DOT) {
      starts[levels] = 0;
      hashes[levels++] = h >>> 0;
    }
    // Then from the full name upward: the first hit is the most specific entry.
    for (let l = levels - 1; l >= 0; l--) {
      const b = this.map.get(hashes[l]!);
      if (b === undefined) continue;
      const e = pick(b, name, starts[l]!, end, port);
      if (e !== null) return e;
    }
    return null;
  }
}

/** An index holding `entries`. */
export function buildDomainIndex(entries: readonly DomainEntry[]): DomainIndex {
  const idx = new DomainIndex();
  for (const e of entries) idx.add(e);
  return idx;
}
