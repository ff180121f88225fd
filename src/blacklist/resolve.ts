/**
 * Domain entries resolved to addresses (A and AAAA) at refresh time, so traffic to a pool is
 * flagged by address even when its DNS lookup was never seen (DoH, a hard-coded IP, a tap that
 * misses port 53). Only the name itself is resolved: the names below it cannot be enumerated, and
 * are matched by name on the wire (DNS, TLS SNI, HTTP Host) instead.
 *
 * Each address becomes an 'ip' entry of the source "<source>:resolved" that names its domain and
 * TTL and expires. A name that does not exist (NXDOMAIN) or has no address is a counted outcome,
 * not an error; a query that fails (timeout, SERVFAIL) keeps the addresses the last refresh found
 * for that name and family, until they expire.
 */
import { Resolver } from 'node:dns/promises';
import type { ResolveConfig } from '../config.js';
import { parseIPv4Bytes, parseIPv6Bytes } from './addr.js';
import { canonicalText } from './plain.js';
import type { DomainStoreEntry, IpStoreEntry } from './store.js';

/** The source that holds the addresses resolved from `source`'s domain entries. */
export function resolvedSourceName(source: string): string {
  return `${source}:resolved`;
}

export function isResolvedSource(source: string): boolean {
  return source.endsWith(':resolved');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
  /** Seconds, as the server answered. */
  ttl: number;
}

/** One family's answer: addresses, none (NXDOMAIN or no record of the type), or a failed query. */
export type FamilyAnswer = { status: 'ok'; addresses: ResolvedAddress[] } | { status: 'none'; nxdomain: boolean } | { status: 'failed'; reason: string };

export interface NameAnswer {
  a: FamilyAnswer;
  aaaa: FamilyAnswer;
}

export interface ResolveStats {
  /** Distinct names asked. */
  names: number;
  /** Names with at least one usable address. */
  resolved: number;
  /** Names that do not exist (NXDOMAIN for both families). */
  nxdomain: number;
  /** Names with a failed query (timeout, SERVFAIL, refused); their old addresses were kept. */
  failed: number;
  /** Addresses dropped as unroutable (0.0.0.0, loopback, private…): sinkholes, not pools. */
  dropped: number;
  /** Resolved address entries produced (names × addresses × port ranges). */
  entries: number;
  /** A few failures, "name: reason", for the log. */
  failures: string[];
}

/** Ask for A and AAAA of every distinct name, `concurrency` names at a time. */
export async function resolveNames(names: Iterable<string>, cfg: ResolveConfig): Promise<Map<string, NameAnswer>> {
  const resolver = new Resolver({ timeout: cfg.timeoutMs, tries: cfg.tries });
  if (cfg.servers !== null) resolver.setServers(cfg.servers);
  const queue = [...new Set(names)];
  const out = new Map<string, NameAnswer>();
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const name = queue[next++]!;
      const [a, aaaa] = await Promise.all([ask(resolver, name, 4), ask(resolver, name, 6)]);
      out.set(name, { a, aaaa });
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, queue.length) }, worker));
  return out;
}

async function ask(resolver: Resolver, name: string, family: 4 | 6): Promise<FamilyAnswer> {
  try {
    const records = family === 4 ? await resolver.resolve4(name, { ttl: true }) : await resolver.resolve6(name, { ttl: true });
    return { status: 'ok', addresses: records.map((r) => ({ address: r.address, family, ttl: r.ttl })) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND') return { status: 'none', nxdomain: true };
    if (code === 'ENODATA') return { status: 'none', nxdomain: false };
    return { status: 'failed', reason: `${family === 4 ? 'A' : 'AAAA'} ${code ?? (e as Error).message}` };
  }
}

/**
 * The resolved address entries for `domains`, by resolved source name. `previous` are the live
 * resolved entries of the last version: kept for a name and family whose query failed now.
 * Expiry is now + TTL held between cfg.minTtlMs and cfg.maxTtlMs (see config.ts for why).
 */
export function resolvedEntries(
  domains: readonly DomainStoreEntry[],
  answers: ReadonlyMap<string, NameAnswer>,
  previous: readonly IpStoreEntry[],
  cfg: ResolveConfig,
  now: number,
): { bySource: Map<string, IpStoreEntry[]>; stats: ResolveStats } {
  const stats: ResolveStats = { names: answers.size, resolved: 0, nxdomain: 0, failed: 0, dropped: 0, entries: 0, failures: [] };
  const bySource = new Map<string, IpStoreEntry[]>();
  const usable = new Map<string, { addr: Uint8Array; version: 4 | 6; ttl: number }[]>();
  for (const [name, ans] of answers) {
    const list: { addr: Uint8Array; version: 4 | 6; ttl: number }[] = [];
    for (const fam of [ans.a, ans.aaaa]) {
      if (fam.status !== 'ok') continue;
      for (const r of fam.addresses) {
        const addr = r.family === 4 ? parseIPv4Bytes(r.address) : parseIPv6Bytes(r.address);
        if (addr === null || !isRoutable(addr, r.family)) {
          stats.dropped++;
          continue;
        }
        list.push({ addr, version: r.family, ttl: r.ttl });
      }
    }
    usable.set(name, list);
    if (list.length > 0) stats.resolved++;
    if (ans.a.status === 'none' && ans.a.nxdomain && ans.aaaa.status === 'none' && ans.aaaa.nxdomain) stats.nxdomain++;
    if (ans.a.status === 'failed' || ans.aaaa.status === 'failed') {
      stats.failed++;
      const why = [ans.a, ans.aaaa].flatMap((f) => (f.status === 'failed' ? [f.reason] : [])).join(', ');
      if (stats.failures.length < 10) stats.failures.push(`${name}: ${why}`);
    }
  }
  for (const d of domains) {
    const ans = answers.get(d.name);
    if (ans === undefined) continue;
    const source = resolvedSourceName(d.source);
    let list = bySource.get(source);
    if (list === undefined) bySource.set(source, (list = []));
    for (const u of usable.get(d.name) ?? []) {
      const ttlMs = Math.min(Math.max(u.ttl * 1000, cfg.minTtlMs), cfg.maxTtlMs);
      // An address never outlives the name it came from (a hand-added name with --expires).
      const expiresAt = Math.min(now + ttlMs, d.expiresAt ?? Infinity);
      const e: IpStoreEntry = {
        kind: 'ip', source, text: '', ipVersion: u.version, addr: u.addr, prefixLen: u.version === 4 ? 32 : 128,
        portLo: d.portLo, portHi: d.portHi, domain: d.name, ttl: u.ttl, expiresAt,
      };
      e.text = canonicalText({ version: e.ipVersion, addr: e.addr, prefixLen: e.prefixLen, portLo: e.portLo, portHi: e.portHi, text: '', source });
      if (d.coin !== undefined) e.coin = d.coin;
      if (d.label !== undefined) e.label = d.label;
      list.push(e);
    }
    // A failed family keeps what the last refresh found for this name and ports.
    for (const fam of [4, 6] as const) {
      if ((fam === 4 ? ans.a : ans.aaaa).status !== 'failed') continue;
      for (const p of previous) {
        if (p.source === source && p.domain === d.name && p.ipVersion === fam && p.portLo === d.portLo && p.portHi === d.portHi) list.push(p);
      }
    }
  }
  for (const list of bySource.values()) stats.entries += list.length;
  return { bySource, stats };
}

/**
 * False for addresses no pool on the internet has: unspecified, loopback, private, shared
 * (CGN), link-local, multicast, reserved, and their IPv6 counterparts. Resolvers that block
 * mining domains answer 0.0.0.0 or a block page on a private address; flagging those would flag
 * the carrier's own sinkhole.
 */
export function isRoutable(b: Uint8Array, family: 4 | 6): boolean {
  if (family === 4) {
    const [x, y] = [b[0]!, b[1]!];
    return !(
      x === 0 || x === 10 || x === 127 || x >= 224 ||
      (x === 100 && y >= 64 && y <= 127) ||
      (x === 169 && y === 254) ||
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168)
    );
  }
  if (b.every((v, i) => i === 15 || v === 0)) return false; // :: and ::1
  if (b[0] === 0xff) return false; // multicast
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // fe80::/10 link-local
  if ((b[0]! & 0xfe) === 0xfc) return false; // fc00::/7 unique local
  if (b.subarray(0, 10).every((v) => v === 0) && b[10] === 0xff && b[11] === 0xff) return isRoutable(b.subarray(12), 4);
  return true;
}
