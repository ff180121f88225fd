/**
 * Block lists from the hits: the pool endpoints miners talked to and/or the customer addresses
 * that mined, in three forms a carrier can load as they are:
 *
 * - `nft`: a complete `nft -f` file. The table `inet NAME` and its sets are declared (an existing
 *   table or set is kept, so chains of your own that refer to the sets stay), every set is flushed
 *   and refilled, all in the one transaction `nft -f` makes: reloading the file refreshes the
 *   lists atomically. Sets: `pools4` / `pools6` (pool addresses), `pool_ports4` / `pool_ports6`
 *   (`ipv4_addr . inet_service` concatenations: address and port), `sources4` / `sources6`.
 * - `ipset`: an `ipset restore` file: `hash:ip` sets for addresses and `hash:ip,port` for pool
 *   endpoints, IPv4 (`family inet`) and IPv6 (`family inet6`) apart. Each set is filled under a
 *   temporary name and swapped in (`swap`), so iptables rules that use it never see it half full.
 * - `plain`: the project's plain list (`ADDRESS[:PORT]`, `[v6]:PORT`), which
 *   `poolwatch blacklist import --format plain` and `scan --blacklist` read back.
 *
 * Addresses come from the database; anything that is not an IPv4 or IPv6 address (a hand-edited
 * row) is left out, never written into a firewall file.
 */
import { isIP } from 'node:net';
import { PoolwatchError } from '../errors.js';
import { guard, type Database } from './db.js';
import { compareIp } from './ipsort.js';
import { microsToIso } from './query.js';
import { CATEGORY_STRENGTH, type HitCategory } from './types.js';

export type BlocklistFormat = 'nft' | 'ipset' | 'plain';
export const BLOCKLIST_FORMATS: readonly BlocklistFormat[] = ['nft', 'ipset', 'plain'];
export type BlocklistWhat = 'pools' | 'sources' | 'both';
export const BLOCKLIST_WHAT: readonly BlocklistWhat[] = ['pools', 'sources', 'both'];

/** Longest name prefix: the longest ipset name, "<prefix>-poolports6-new", must fit in 31 characters. */
export const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;

export interface BlocklistOptions {
  what: BlocklistWhat;
  /** Rows of these categories (default mining only: a P2P peer is a node, not a pool). */
  categories?: readonly HitCategory[];
  runId?: number;
  since?: Date;
  until?: Date;
}

export interface PoolEndpoint {
  ip: string;
  port: number;
  /** IP protocol number (6 TCP, 17 UDP). */
  proto: number;
}

export interface Blocklist {
  pools: PoolEndpoint[];
  sources: string[];
  /** Rows left out because an address in them is not one. */
  skipped: number;
}

export function collectBlocklist(db: Database, o: BlocklistOptions): Blocklist {
  const cats = o.categories ?? ['mining'];
  for (const c of cats) {
    if (!CATEGORY_STRENGTH.includes(c)) throw new PoolwatchError('PW_ERR_USAGE', `unknown category "${c}"`);
  }
  const where = [`category IN (${cats.map(() => '?').join(', ')})`];
  const params: (string | number)[] = [...cats];
  if (o.runId !== undefined) {
    where.push('run_id = ?');
    params.push(o.runId);
  }
  if (o.since !== undefined) {
    where.push('last_seen >= ?');
    params.push(micros(o.since, 'since'));
  }
  if (o.until !== undefined) {
    where.push('first_seen <= ?');
    params.push(micros(o.until, 'until'));
  }
  const rows = guard(db, () =>
    db.prepare(`SELECT DISTINCT src, pool_ip, pool_port, proto FROM hits WHERE ${where.join(' AND ')}`).all(...params),
  ) as { src: string; pool_ip: string; pool_port: number; proto: number }[];
  const pools = new Map<string, PoolEndpoint>();
  const sources = new Set<string>();
  let skipped = 0;
  for (const r of rows) {
    if (o.what !== 'sources') {
      if (isIP(r.pool_ip) !== 0 && Number.isInteger(r.pool_port) && r.pool_port > 0 && r.pool_port < 65536) {
        pools.set(`${r.pool_ip} ${r.pool_port} ${r.proto}`, { ip: r.pool_ip, port: r.pool_port, proto: r.proto });
      } else skipped++;
    }
    if (o.what !== 'pools') {
      if (isIP(r.src) !== 0) sources.add(r.src);
      else skipped++;
    }
  }
  return {
    pools: [...pools.values()].sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port || a.proto - b.proto),
    sources: [...sources].sort(compareIp),
    skipped,
  };
}

function micros(d: Date, name: string): number {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new PoolwatchError('PW_ERR_USAGE', `invalid ${name} date`);
  return ms * 1000;
}

export interface RenderOptions {
  what: BlocklistWhat;
  /** nft table name / ipset name prefix (NAME_RE). */
  name: string;
  /** First comment line: where the list came from. */
  comment: string;
}

const v4 = (ip: string) => isIP(ip) === 4;
const v6 = (ip: string) => isIP(ip) === 6;
const unique = (xs: string[]) => [...new Set(xs)];

export function renderBlocklist(b: Blocklist, format: BlocklistFormat, o: RenderOptions): string {
  if (!NAME_RE.test(o.name)) {
    throw new PoolwatchError('PW_ERR_USAGE', `name "${o.name}" must be a letter then up to 15 letters, digits or _`);
  }
  // Comments never carry a line break (a file name could hold one).
  const comment = o.comment.replace(/[\r\n]+/g, ' ');
  switch (format) {
    case 'nft':
      return renderNft(b, o.what, o.name, comment);
    case 'ipset':
      return renderIpset(b, o.what, o.name, comment);
    case 'plain':
      return renderPlain(b, o.what, comment);
    default:
      throw new PoolwatchError('PW_ERR_USAGE', `unknown block list format "${String(format)}" (${BLOCKLIST_FORMATS.join(', ')})`);
  }
}

function counts(b: Blocklist, what: BlocklistWhat): string {
  const parts: string[] = [];
  if (what !== 'sources') parts.push(`${b.pools.length} pool endpoints (${unique(b.pools.map((p) => p.ip)).length} addresses)`);
  if (what !== 'pools') parts.push(`${b.sources.length} customer addresses`);
  return parts.join(', ');
}

function renderNft(b: Blocklist, what: BlocklistWhat, table: string, comment: string): string {
  const sets: { name: string; type: string; elements: string[] }[] = [];
  if (what !== 'sources') {
    sets.push({ name: 'pools4', type: 'ipv4_addr', elements: unique(b.pools.filter((p) => v4(p.ip)).map((p) => p.ip)) });
    sets.push({ name: 'pools6', type: 'ipv6_addr', elements: unique(b.pools.filter((p) => v6(p.ip)).map((p) => p.ip)) });
    sets.push({ name: 'pool_ports4', type: 'ipv4_addr . inet_service', elements: unique(b.pools.filter((p) => v4(p.ip)).map((p) => `${p.ip} . ${p.port}`)) });
    sets.push({ name: 'pool_ports6', type: 'ipv6_addr . inet_service', elements: unique(b.pools.filter((p) => v6(p.ip)).map((p) => `${p.ip} . ${p.port}`)) });
  }
  if (what !== 'pools') {
    sets.push({ name: 'sources4', type: 'ipv4_addr', elements: b.sources.filter(v4) });
    sets.push({ name: 'sources6', type: 'ipv6_addr', elements: b.sources.filter(v6) });
  }
  const out = [
    '#!/usr/sbin/nft -f',
    `# ${comment}`,
    `# ${counts(b, what)}.`,
    '# Load (and reload to refresh; one atomic transaction): nft -f THIS_FILE',
    '# Use the sets from your own chains, for example:',
    `#   ip daddr . tcp dport @pool_ports4 counter reject with tcp reset`,
    `#   ip6 daddr . tcp dport @pool_ports6 counter reject with tcp reset`,
    `# in a chain of table inet ${table} (sets are local to their table).`,
    '',
    `table inet ${table} {`,
    ...sets.map((s) => `\tset ${s.name} {\n\t\ttype ${s.type}\n\t}`),
    '}',
    '',
  ];
  for (const s of sets) {
    out.push(`flush set inet ${table} ${s.name}`);
    if (s.elements.length > 0) out.push(`add element inet ${table} ${s.name} {\n${s.elements.map((e) => `\t${e}`).join(',\n')}\n}`);
  }
  return out.join('\n') + '\n';
}

/** Sets hold at most this many entries (ipset's maxelem; a fixed value, so `-exist` matches on reload). */
export const IPSET_MAXELEM = 1_048_576;

function renderIpset(b: Blocklist, what: BlocklistWhat, prefix: string, comment: string): string {
  const proto = (p: number) => (p === 17 ? 'udp' : p === 132 ? 'sctp' : 'tcp');
  const sets: { name: string; type: string; family: string; entries: string[] }[] = [];
  if (what !== 'sources') {
    sets.push({ name: `${prefix}-pools4`, type: 'hash:ip', family: 'inet', entries: unique(b.pools.filter((p) => v4(p.ip)).map((p) => p.ip)) });
    sets.push({ name: `${prefix}-pools6`, type: 'hash:ip', family: 'inet6', entries: unique(b.pools.filter((p) => v6(p.ip)).map((p) => p.ip)) });
    sets.push({ name: `${prefix}-poolports4`, type: 'hash:ip,port', family: 'inet', entries: unique(b.pools.filter((p) => v4(p.ip)).map((p) => `${p.ip},${proto(p.proto)}:${p.port}`)) });
    sets.push({ name: `${prefix}-poolports6`, type: 'hash:ip,port', family: 'inet6', entries: unique(b.pools.filter((p) => v6(p.ip)).map((p) => `${p.ip},${proto(p.proto)}:${p.port}`)) });
  }
  if (what !== 'pools') {
    sets.push({ name: `${prefix}-sources4`, type: 'hash:ip', family: 'inet', entries: b.sources.filter(v4) });
    sets.push({ name: `${prefix}-sources6`, type: 'hash:ip', family: 'inet6', entries: b.sources.filter(v6) });
  }
  for (const s of sets) {
    if (s.entries.length > IPSET_MAXELEM) throw new PoolwatchError('PW_ERR_USAGE', `${s.name} would hold ${s.entries.length} entries, more than ${IPSET_MAXELEM}`);
  }
  const out = [
    `# ${comment}`,
    `# ${counts(b, what)}.`,
    '# Load (and reload to refresh): ipset restore -f THIS_FILE',
    '# Each set is filled under a temporary name and swapped in. Use them from iptables, for example:',
    `#   iptables -A FORWARD -m set --match-set ${prefix}-poolports4 dst,dst -j REJECT --reject-with tcp-reset`,
    `#   ip6tables -A FORWARD -m set --match-set ${prefix}-poolports6 dst,dst -j REJECT --reject-with tcp-reset`,
  ];
  const params = (s: (typeof sets)[number]) => `${s.type} family ${s.family} hashsize 1024 maxelem ${IPSET_MAXELEM}`;
  for (const s of sets) {
    const tmp = `${s.name}-new`;
    out.push(`create ${s.name} ${params(s)} -exist`);
    out.push(`create ${tmp} ${params(s)} -exist`);
    out.push(`flush ${tmp}`);
    for (const e of s.entries) out.push(`add ${tmp} ${e}`);
    out.push(`swap ${tmp} ${s.name}`);
    out.push(`destroy ${tmp}`);
  }
  return out.join('\n') + '\n';
}

function renderPlain(b: Blocklist, what: BlocklistWhat, comment: string): string {
  const out = [`# ${comment}`, `# ${counts(b, what)}.`];
  if (what !== 'sources') {
    out.push('# pool endpoints (address:port)');
    for (const e of unique(b.pools.map((p) => (v6(p.ip) ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`)))) out.push(e);
  }
  if (what !== 'pools') {
    out.push('# customer addresses');
    out.push(...b.sources);
  }
  return out.join('\n') + '\n';
}

/** The first comment line: what, from where, when. */
export function blocklistComment(what: BlocklistWhat, db: string, categories: readonly string[], now = new Date()): string {
  return `poolwatch export blocklist: ${what} from ${db}, category ${categories.join('+')}, ${microsToIso(now.getTime() * 1000)}`;
}
