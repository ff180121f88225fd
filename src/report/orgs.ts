/**
 * Organisations: who holds which address ranges (a ministry, a state enterprise, a school, an
 * internet café, residential broadband), so that every flagged source can be handed to the people
 * who answer for it. Read from YAML or CSV files named under `organisations.files` in the
 * configuration; the longest matching prefix wins, IPv4 and IPv6 alike (the blacklist's
 * longest-prefix table, src/blacklist/lpm.ts, does the matching).
 *
 * YAML (a list, or a mapping with `organisations:`):
 *
 *   organisations:
 *     - name: Ministry of Examples
 *       sector: government
 *       contact: noc@ministry.example
 *       ranges: [192.0.2.0/26, 2001:db8:100::/48]
 *
 * CSV, one range a row, with a header (columns in any order, case-insensitive):
 *
 *   range,name,sector,contact
 *   192.0.2.0/26,Ministry of Examples,government,noc@ministry.example
 *
 * The map is the carrier's own data, and a mistake in it sends notices to the wrong people, so a
 * bad line is not skipped: loading fails with the file and line (PW_ERR_USAGE), as for the rest of
 * the configuration. Refused: a range that is not an address or network, a port, host bits set
 * (192.0.2.1/24: which network was meant?), the same range twice, one name with two different
 * sectors or contacts, and the name "unknown" (reports use it for addresses outside every range).
 */
import { readTextFile } from '../read-text.js';
import YAML from 'yaml';
import { formatIPv4, formatIPv6, parseIPv4Bytes, parseIPv6Bytes } from '../blacklist/addr.js';
import { readCsvRecords } from '../blacklist/formats/csv-records.js';
import { LpmTable } from '../blacklist/lpm.js';
import { parsePlainLine, quote } from '../blacklist/plain.js';
import type { BlacklistEntry } from '../blacklist/types.js';
import type { Config } from '../config.js';
import { PoolwatchError } from '../errors.js';
import { guard, type Database } from './db.js';
import { humanBytes, poolEndpoint, type OutputFormat } from './format.js';
import { formatList, shortTime, type TextColumn } from './render.js';
import { cmp, compareIp } from './ipsort.js';
import { querySources, type QueryOptions } from './query.js';
import { humanBitrate, humanHashrate, type HashrateMethod } from './hashrate.js';
import { groupHashrate, loadViewData, type ViewCategory, type ViewRow } from './views.js';
import { trafficFigures } from './views-traffic.js';

export interface Organisation {
  name: string;
  /** e.g. government, state-enterprise, school, internet-cafe, residential, business; null when not given. */
  sector: string | null;
  /** Who to call or write to (free text); null when not given. */
  contact: string | null;
}

/** How reports name sources outside every range. */
export const UNKNOWN_ORG = 'unknown';

/** Longest name, sector and contact accepted (characters). */
const MAX_TEXT = 200;

/** Address ranges → organisations, longest prefix first. */
export class OrgMap {
  private readonly table = new LpmTable();
  private readonly orgOf = new Map<BlacklistEntry, Organisation>();
  /** Range text → where it was defined, for the duplicate message. */
  private readonly defined = new Map<string, string>();
  /** One Organisation object per name, and where it was first defined. */
  private readonly byName = new Map<string, { org: Organisation; where: string }>();

  /** Ranges held. */
  get size(): number {
    return this.table.size;
  }

  /** The distinct organisations, sorted by name. */
  organisations(): Organisation[] {
    return [...this.byName.values()].map((v) => v.org).sort((a, b) => cmp(a.name, b.name));
  }

  /**
   * Add one range (`192.0.2.0/24`, `2001:db8::/32`, or one address) for an organisation. `where`
   * ("orgs.csv, line 7") goes into error messages. Throws PW_ERR_USAGE on anything doubtful.
   */
  add(range: string, org: Organisation, where = 'organisations'): void {
    const fail = (msg: string): never => {
      throw new PoolwatchError('PW_ERR_USAGE', `${where}: ${msg}`);
    };
    const text = range.trim();
    if (text === '') fail('empty address range');
    if (org.name.toLowerCase() === UNKNOWN_ORG) fail(`the organisation name "${UNKNOWN_ORG}" is reserved for addresses outside every range`);
    const r = parsePlainLine(text, where);
    if ('error' in r) fail(r.error);
    const { entry, warning } = r as Exclude<typeof r, { error: string }>;
    if (entry.portLo !== 0 || entry.portHi !== 65535) fail(`an organisation range has no port: ${quote(text)}`);
    if (warning !== null) fail(`${warning.replace(/; using the network /, ': did you mean ')}?`);
    const before = this.defined.get(entry.text);
    if (before !== undefined) fail(`range ${entry.text} is already defined (${before})`);
    let known = this.byName.get(org.name);
    if (known === undefined) {
      known = { org: { name: org.name, sector: org.sector, contact: org.contact }, where };
      this.byName.set(org.name, known);
    } else if (known.org.sector !== org.sector || known.org.contact !== org.contact) {
      fail(`organisation ${quote(org.name)} has another sector or contact here than at ${known.where}`);
    }
    const o = known.org;
    this.table.add(entry);
    this.orgOf.set(entry, o);
    this.defined.set(entry.text, where);
  }

  /** The organisation holding `ip` (longest prefix), or null when no range holds it or it is not an address. */
  lookup(ip: string): Organisation | null {
    return this.match(ip)?.org ?? null;
  }

  /** The organisation and the range that matched (canonical text, e.g. "192.0.2.0/26"), or null. */
  match(ip: string): { org: Organisation; range: string } | null {
    if (this.table.size === 0) return null;
    const a = parseAddress(ip);
    if (a === null) return null;
    const e = this.table.match(a.bytes, a.version, 0);
    if (e === null) return null;
    return { org: this.orgOf.get(e)!, range: e.text };
  }
}

/** IPv4 or IPv6 text → bytes, or null (zone ids and anything else refused). */
export function parseAddress(ip: string): { bytes: Uint8Array; version: 4 | 6 } | null {
  if (ip.includes(':')) {
    const b = parseIPv6Bytes(ip);
    return b === null ? null : { bytes: b, version: 6 };
  }
  const b = parseIPv4Bytes(ip);
  return b === null ? null : { bytes: b, version: 4 };
}

/** The one spelling the hits table uses (RFC 5952 for IPv6), or null when `ip` is not an address. */
export function canonicalAddress(ip: string): string | null {
  const a = parseAddress(ip.trim());
  if (a === null) return null;
  return a.version === 4 ? formatIPv4(a.bytes) : formatIPv6(a.bytes);
}

/** The map from `config.organisations.files` (YAML or CSV by extension); empty when none are named. */
export function loadOrgMap(config: Config): OrgMap {
  return loadOrgFiles(config.organisations.files);
}

export function loadOrgFiles(files: readonly string[]): OrgMap {
  const map = new OrgMap();
  for (const file of files) {
    const text = readTextFile(file, 'organisations');
    if (/\.csv$/i.test(file)) parseOrgCsv(text, file, map);
    else parseOrgYaml(text, file, map);
  }
  return map;
}

const ORG_KEYS = ['name', 'sector', 'contact', 'ranges'];

/** Add the organisations of one YAML text to `map`; errors name the file and line. */
export function parseOrgYaml(text: string, source: string, map: OrgMap): void {
  const lines = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new PoolwatchError('PW_ERR_USAGE', `not valid YAML: ${e.message.split('\n')[0]}`, { file: source, line: lines.linePos(e.pos[0]).line });
  }
  const lineOf = (path: (string | number)[]): number | undefined => {
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range === undefined ? undefined : lines.linePos(node.range[0]).line;
  };
  const fail = (msg: string, path: (string | number)[]): never => {
    throw new PoolwatchError('PW_ERR_USAGE', msg, { file: source, line: lineOf(path) });
  };
  let root: unknown;
  try {
    root = doc.toJS();
  } catch (e) {
    // Aliases resolve only here: one whose anchor is never set, or too many of them (a "billion laughs" file).
    throw new PoolwatchError('PW_ERR_USAGE', `not valid YAML: ${String((e as Error)?.message ?? e).split('\n')[0]}`, { file: source });
  }
  if (root === null || root === undefined) return; // an empty file: no organisations
  let list: unknown = root;
  let base: (string | number)[] = [];
  if (typeof root === 'object' && !Array.isArray(root)) {
    const key = ['organisations', 'organizations'].find((k) => k in (root as object));
    if (key === undefined || Object.keys(root as object).length !== 1) fail('want a list of organisations, or a mapping with the single key organisations', []);
    list = (root as Record<string, unknown>)[key!];
    base = [key!];
  }
  if (list === null) return;
  if (!Array.isArray(list)) return fail('organisations must be a list', base);
  for (const [i, item] of list.entries()) {
    const at = [...base, i];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) fail('an organisation is a mapping with name, sector, contact and ranges', at);
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!ORG_KEYS.includes(k)) fail(`unknown key ${quote(k)} (want ${ORG_KEYS.join(', ')})`, [...at, k]);
    const text = (k: string, required: boolean): string | null => {
      const v = o[k];
      // Blank counts as absent, as an empty CSV cell does: a name of spaces is no name.
      if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
        if (required) fail(`the organisation has no ${k}`, at);
        return null;
      }
      if (typeof v !== 'string') return fail(`${k} must be text (quote it)`, [...at, k]);
      return checkText(v, k, (msg) => fail(msg, [...at, k]));
    };
    const org: Organisation = { name: text('name', true)!, sector: text('sector', false), contact: text('contact', false) };
    const ranges = typeof o.ranges === 'string' ? [o.ranges] : o.ranges;
    if (!Array.isArray(ranges) || ranges.length === 0) fail(`organisation ${quote(org.name)} has no ranges (a list of addresses or networks)`, at);
    for (const [j, r] of (ranges as unknown[]).entries()) {
      const path = typeof o.ranges === 'string' ? [...at, 'ranges'] : [...at, 'ranges', j];
      const line = lineOf(path);
      if (typeof r !== 'string') fail(`a range is an address or network as text, e.g. 192.0.2.0/24`, path);
      map.add(r as string, org, line === undefined ? source : `${source}, line ${line}`);
    }
  }
}

const RANGE_COLUMNS = ['range', 'cidr', 'network', 'prefix', 'address', 'ip'];
const NAME_COLUMNS = ['name', 'organisation', 'organization', 'org'];

/** Add the rows of one CSV text (a header, then one range a row) to `map`. */
export function parseOrgCsv(text: string, source: string, map: OrgMap): void {
  const records = readCsvRecords(text).filter((r) => r.error !== null || r.fields.some((f) => f.trim() !== ''));
  const header = records[0];
  if (header === undefined) return;
  const fail = (msg: string, line?: number): never => {
    throw new PoolwatchError('PW_ERR_USAGE', msg, { file: source, line });
  };
  if (header.error !== null) fail(`broken header row: ${header.error}`, header.line);
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const column = (choices: string[], what: string, required: boolean): number => {
    const found = names.flatMap((n, i) => (choices.includes(n) ? [i] : []));
    if (found.length > 1) fail(`the header names the ${what} twice`, header.line);
    if (found.length === 0 && required) fail(`the header has no ${what} column (one of ${choices.join(', ')})`, header.line);
    return found[0] ?? -1;
  };
  const cols = {
    range: column(RANGE_COLUMNS, 'range', true),
    name: column(NAME_COLUMNS, 'name', true),
    sector: column(['sector'], 'sector', false),
    contact: column(['contact'], 'contact', false),
  };
  for (const rec of records.slice(1)) {
    if (rec.error !== null) fail(rec.error, rec.line);
    const cell = (c: number): string | null => {
      if (c < 0) return null;
      const v = (rec.fields[c] ?? '').trim();
      return v === '' ? null : checkText(v, names[c]!, (msg) => fail(msg, rec.line));
    };
    const name = cell(cols.name);
    if (name === null) fail('the row has no organisation name', rec.line);
    map.add(rec.fields[cols.range] ?? '', { name: name!, sector: cell(cols.sector), contact: cell(cols.contact) }, `${source}, line ${rec.line}`);
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function checkText(v: string, what: string, fail: (msg: string) => never): string {
  const t = v.trim();
  if (CONTROL.test(t)) fail(`${what} holds control characters`);
  if (t.length > MAX_TEXT) fail(`${what} is longer than ${MAX_TEXT} characters`);
  return t;
}

// ------------------------------------------------------------------------------ report orgs

/** One organisation's share of the flagged sources. */
/** The rates of an organisation's traffic and mining. */
type OrgRates = Pick<OrgRecord, 'hashrate' | 'hashrateMethods' | 'averageBps' | 'peakHourBps'>;

export interface OrgRecord {
  /** The organisation's name, or "unknown" for sources outside every range. */
  org: string;
  sector: string | null;
  contact: string | null;
  /** Flagged source addresses, sorted (IPv4 before IPv6, numerically). */
  sources: string[];
  /** Of those, how many have a case that is not cleared. */
  openCases: number;
  /** Sources per (strongest) category. */
  mining: number;
  cryptoP2p: number;
  suspect: number;
  coins: string[];
  /** Pool endpoints "ip:port" / "[v6]:port", sorted. */
  pools: string[];
  flows: number;
  packets: number;
  bytes: number;
  /** ISO 8601 UTC with milliseconds. */
  firstSeen: string;
  lastSeen: string;
  /** Sum of the sources' estimated hash rates (H/s; see report sources), and how many sources each method gave. */
  hashrate: number;
  hashrateMethods: Record<HashrateMethod, number>;
  /** Pool traffic as bits per second: over the whole window, and in the busiest hour; null without a window. */
  averageBps: number | null;
  peakHourBps: number | null;
}

/**
 * Group the sources `querySources` finds (same filters: run, time window, category) by the
 * organisation holding each address. Sorted by bytes, descending, then name.
 */
export function queryOrgs(db: Database, orgs: OrgMap, opts: QueryOptions = {}): OrgRecord[] {
  const sources = querySources(db, opts);
  const open = new Set(guard(db, () => db.prepare(`SELECT src FROM cases WHERE state != 'cleared'`).pluck().all() as string[]));
  const by = new Map<string, Omit<OrgRecord, keyof OrgRates> & { coinSet: Set<string>; poolSet: Set<string> }>();
  for (const s of sources) {
    const org = orgs.lookup(s.src);
    const name = org?.name ?? UNKNOWN_ORG;
    let r = by.get(name);
    if (r === undefined) {
      r = {
        org: name, sector: org?.sector ?? null, contact: org?.contact ?? null, sources: [], openCases: 0, mining: 0, cryptoP2p: 0, suspect: 0,
        coins: [], pools: [], flows: 0, packets: 0, bytes: 0, firstSeen: s.firstSeen, lastSeen: s.lastSeen, coinSet: new Set(), poolSet: new Set(),
      };
      by.set(name, r);
    }
    r.sources.push(s.src);
    if (open.has(s.src)) r.openCases++;
    if (s.category === 'mining') r.mining++;
    else if (s.category === 'crypto-p2p') r.cryptoP2p++;
    else r.suspect++;
    for (const c of s.coins) r.coinSet.add(c);
    for (const p of s.pools) r.poolSet.add(poolEndpoint(p));
    r.flows += s.flows;
    r.packets += s.packets;
    r.bytes += s.bytes;
    // ISO strings of one format compare as times
    if (s.firstSeen < r.firstSeen) r.firstSeen = s.firstSeen;
    if (s.lastSeen > r.lastSeen) r.lastSeen = s.lastSeen;
  }
  // Hash rate and traffic per organisation, from the same rows the views use.
  const data = loadViewData(db, { runId: opts.runId, since: opts.since, until: opts.until, category: (opts.category ?? 'all') as ViewCategory });
  const rowsByOrg = new Map<string, ViewRow[]>();
  for (const row of data.rows) {
    const name = orgs.lookup(row.src)?.name ?? UNKNOWN_ORG;
    const list = rowsByOrg.get(name);
    if (list === undefined) rowsByOrg.set(name, [row]);
    else list.push(row);
  }
  const rates = (name: string): OrgRates => {
    const rows = rowsByOrg.get(name) ?? [];
    const hr = groupHashrate(rows);
    const t = data.window === null || rows.length === 0 ? null : trafficFigures(rows.map((r) => ({ start: r.firstSeen, end: r.lastSeen, bytes: r.bytes })), data.window);
    return { hashrate: hr.hashrate, hashrateMethods: hr.methods, averageBps: t?.averageBps ?? null, peakHourBps: t?.peakHourBps ?? null };
  };
  return [...by.values()]
    .map(({ coinSet, poolSet, ...r }) => ({ ...r, sources: r.sources.sort(compareIp), coins: [...coinSet].sort(cmp), pools: [...poolSet].sort(cmp), ...rates(r.org) }))
    .sort((a, b) => b.bytes - a.bytes || cmp(a.org, b.org));
}

const ORG_CSV: readonly [string, (r: OrgRecord) => string][] = [
  ['org', (r) => r.org],
  ['sector', (r) => r.sector ?? ''],
  ['contact', (r) => r.contact ?? ''],
  ['sources', (r) => r.sources.join(';')],
  ['openCases', (r) => String(r.openCases)],
  ['mining', (r) => String(r.mining)],
  ['cryptoP2p', (r) => String(r.cryptoP2p)],
  ['suspect', (r) => String(r.suspect)],
  ['coins', (r) => r.coins.join(';')],
  ['pools', (r) => r.pools.join(';')],
  ['flows', (r) => String(r.flows)],
  ['packets', (r) => String(r.packets)],
  ['bytes', (r) => String(r.bytes)],
  ['firstSeen', (r) => r.firstSeen],
  ['lastSeen', (r) => r.lastSeen],
  ['hashrate', (r) => String(r.hashrate)],
  ['averageBps', (r) => (r.averageBps === null ? '' : String(Math.round(r.averageBps)))],
  ['peakHourBps', (r) => (r.peakHourBps === null ? '' : String(Math.round(r.peakHourBps)))],
];

const ORG_TABLE: readonly TextColumn<OrgRecord>[] = [
  { title: 'ORGANISATION', get: (r) => r.org },
  { title: 'SECTOR', get: (r) => r.sector ?? '-' },
  { title: 'CONTACT', get: (r) => r.contact ?? '-' },
  { title: 'SOURCES', right: true, get: (r) => String(r.sources.length) },
  { title: 'OPEN CASES', right: true, get: (r) => String(r.openCases) },
  { title: 'ADDRESSES', get: (r) => r.sources.join(',') },
  { title: 'COINS', get: (r) => list(r.coins) },
  { title: 'POOLS', get: (r) => list(r.pools) },
  { title: 'FLOWS', right: true, get: (r) => String(r.flows) },
  { title: 'BYTES', right: true, get: (r) => humanBytes(r.bytes) },
  { title: 'FIRST SEEN', get: (r) => shortTime(r.firstSeen) },
  { title: 'LAST SEEN', get: (r) => shortTime(r.lastSeen) },
  { title: 'HASH RATE', right: true, get: (r) => humanHashrate(r.hashrate) },
  { title: 'AVG', right: true, get: (r) => humanBitrate(r.averageBps) },
  { title: 'PEAK HOUR', right: true, get: (r) => humanBitrate(r.peakHourBps) },
];

/** Render `report orgs` like `report`: no final line break; ndjson of nothing is ''. */
export function formatOrgs(records: OrgRecord[], format: OutputFormat): string {
  return formatList(records, format, ORG_CSV, ORG_TABLE, 'no flagged sources');
}

function list(xs: string[]): string {
  return xs.length === 0 ? '-' : xs.join(',');
}

