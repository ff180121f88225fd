/**
 * `poolwatch blacklist refresh`: read every configured source, resolve the domain entries, and
 * store the outcome as ONE new version.
 *
 * A source is judged on its own: one that fails (unreachable, HTTP error, too big, too slow, or
 * content with no usable entry) or shrinks more than its maxShrink keeps its previous entries and
 * is reported by name; the others still refresh. Only a successful fetch replaces a source's
 * entries, and only then are its new validators (ETag, Last-Modified) stored, so a refused list
 * is fetched in full again next time instead of being answered with a 304.
 */
import type { BlacklistConfig, SourceConfig } from '../config.js';
import { PoolwatchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database } from '../report/db.js';
import { fetchSource, type FetchOutcome } from './fetch.js';
import { parseList } from './formats/index.js';
import { isResolvedSource, resolvedEntries, resolveNames, type ResolveStats } from './resolve.js';
import {
  commitVersion,
  currentVersion,
  domainStoreEntry,
  entryKey,
  ipStoreEntry,
  sourceStates,
  versionEntries,
  type DomainStoreEntry,
  type IpStoreEntry,
  type SourceChange,
  type SourceState,
  type StoreEntry,
  type StoredEntry,
} from './store.js';
import type { ListFormat } from './types.js';

export type SourceStatus = 'ok' | 'unchanged' | 'failed' | 'refused' | 'skipped';

export interface SourceReport {
  name: string;
  location: string;
  format: ListFormat;
  status: SourceStatus;
  /** Why it failed, was refused or skipped. */
  reason: string | null;
  /** Entries of the source before and after this version. */
  previous: number;
  entries: number;
  added: number;
  removed: number;
  unchanged: number;
  /** Lines the parser skipped / kept after a repair (ok sources). */
  parseErrors: number;
  parseWarnings: number;
  /** Bytes read (ok sources). */
  bytes: number;
}

export interface RefreshReport {
  version: number;
  added: number;
  removed: number;
  unchanged: number;
  total: number;
  sources: SourceReport[];
  /** Null when resolution is off, or at bootstrap. */
  resolve: ResolveStats | null;
  /** Some source failed or was refused: the exit code is 1. */
  incomplete: boolean;
}

export interface RefreshOptions {
  log: Logger;
  /** Apply sources that shrank more than their maxShrink (and drop sources no longer configured). */
  force?: boolean;
  /** The refresh's clock (ms since epoch); tests move it to check expiry. */
  now?: number;
  /** Only these sources (by name); the others are left as they are. Named sources are fetched even when not due. */
  only?: readonly string[];
  /** For the version record. */
  command?: string;
  fetchImpl?: typeof fetch;
  /** Bootstrap: local files only, no network, no resolution, and only when no version exists. */
  bootstrap?: boolean;
}

/** Parse problems logged per source; the rest are counted (a broken million-line list is one line of log). */
const MAX_PROBLEMS_LOGGED = 5;

/** What one configured source came to before the commit. */
interface Outcome {
  src: SourceConfig;
  status: SourceStatus;
  reason: string | null;
  /** The new complete content (status ok). */
  entries?: StoreEntry[];
  fetched?: Extract<FetchOutcome, { status: 'ok' }>;
  parseErrors: number;
  parseWarnings: number;
}

/** Refresh every configured source and store the result as one version. */
export async function refreshBlacklist(db: Database, config: { blacklist: BlacklistConfig }, opts: RefreshOptions): Promise<RefreshReport> {
  const now = opts.now ?? Date.now();
  const cfg = config.blacklist;
  const only = opts.only === undefined ? null : new Set(opts.only);
  if (only !== null) {
    const unknown = [...only].filter((n) => !cfg.sources.some((s) => s.name === n));
    if (unknown.length > 0) throw new PoolwatchError('PW_ERR_USAGE', `no such source in the configuration: ${unknown.join(', ')}`);
  }
  const states = sourceStates(db);
  const base = currentVersion(db);
  const before = bySource(base === null ? [] : versionEntries(db, base));
  const liveCount = (name: string) => (before.get(name) ?? []).filter((e) => e.expiresAt === undefined || e.expiresAt > now).length;

  const selected = cfg.sources.filter((s) => only === null || only.has(s.name));
  const outcomes = await Promise.all(
    selected.map((src) => refreshOne(src, states.get(src.name), liveCount(src.name), now, opts, only?.has(src.name) === true)),
  );

  const changes: SourceChange[] = [];
  const reports = new Map<string, Omit<SourceReport, 'entries' | 'added' | 'removed' | 'unchanged'>>();
  for (const o of outcomes) {
    const state = states.get(o.src.name);
    changes.push(changeFor(o, state, now));
    reports.set(o.src.name, {
      name: o.src.name, location: o.src.location, format: o.src.format, status: o.status, reason: o.reason,
      previous: liveCount(o.src.name), parseErrors: o.parseErrors, parseWarnings: o.parseWarnings, bytes: o.fetched?.bytes ?? 0,
    });
  }

  // Sources stored from an earlier configuration: dropping them is a shrink to nothing.
  if (only === null && opts.bootstrap !== true) {
    for (const st of states.values()) {
      if (st.origin !== 'config' || cfg.sources.some((s) => s.name === st.name) || !before.has(st.name)) continue;
      const force = opts.force === true;
      const reason = force ? 'no longer configured; its entries were removed (--force)' : 'no longer configured; its entries are kept until refresh --force';
      changes.push({
        source: st.name, status: force ? 'ok' : 'refused', message: reason, location: st.location,
        ...(force ? { replace: [] } : {}),
        state: { ...st, lastAttemptAt: iso(now), lastStatus: force ? 'removed' : 'refused', lastError: force ? null : reason },
      });
      reports.set(st.name, {
        name: st.name, location: st.location, format: st.format as ListFormat, status: force ? 'ok' : 'refused', reason,
        previous: liveCount(st.name), parseErrors: 0, parseWarnings: 0, bytes: 0,
      });
    }
  }

  let resolveStats: ResolveStats | null = null;
  if (cfg.resolve.enabled && opts.bootstrap !== true) {
    const resolved = await resolveAll(before, changes, cfg, now);
    resolveStats = resolved.stats;
    changes.push(...resolved.changes);
  }

  const commit = commitVersion(db, changes, {
    reason: opts.bootstrap === true ? 'bootstrap' : 'refresh',
    command: opts.command ?? 'blacklist refresh',
    now,
    expireBefore: now,
    onlyIfEmpty: opts.bootstrap === true,
  });
  if (commit === null) {
    // Another process bootstrapped first: its version stands.
    const v = currentVersion(db)!;
    return { version: v, added: 0, removed: 0, unchanged: 0, total: 0, sources: [], resolve: null, incomplete: false };
  }
  const counts = new Map(commit.sources.map((s) => [s.source, s]));
  const sources: SourceReport[] = [...reports.values()].map((r) => {
    const c = counts.get(r.name);
    return { ...r, entries: c?.entries ?? liveCount(r.name), added: c?.added ?? 0, removed: c?.removed ?? 0, unchanged: c?.unchanged ?? 0 };
  });
  const report: RefreshReport = {
    version: commit.version, added: commit.added, removed: commit.removed, unchanged: commit.unchanged, total: commit.total,
    sources, resolve: resolveStats, incomplete: sources.some((s) => s.status === 'failed' || s.status === 'refused'),
  };
  logReport(report, opts.log);
  return report;
}

/**
 * The version scans use, set up when the database holds none yet: version 1 is made from the
 * local file sources only (no network, no resolution), so a first scan works offline. The next
 * `blacklist refresh` fetches the URL sources and resolves names. Safe against another process
 * bootstrapping at the same moment (the first commit wins).
 */
export async function ensureVersion(db: Database, config: { blacklist: BlacklistConfig }, log: Logger): Promise<number> {
  const v = currentVersion(db);
  if (v !== null) return v;
  const r = await refreshBlacklist(db, config, { log, bootstrap: true, command: 'bootstrap (first use of the database)' });
  return r.version;
}

/** Fetch, parse and judge one source. Never throws. */
async function refreshOne(
  src: SourceConfig,
  state: SourceState | undefined,
  previous: number,
  now: number,
  opts: RefreshOptions,
  named: boolean,
): Promise<Outcome> {
  const out = (status: SourceStatus, reason: string | null, extra: Partial<Outcome> = {}): Outcome => ({
    src, status, reason, parseErrors: 0, parseWarnings: 0, ...extra,
  });
  if (opts.bootstrap === true && src.kind === 'url') return out('skipped', 'URL sources are fetched by blacklist refresh, not when a first scan sets the list up');
  if (!named && src.refreshMs > 0 && state?.lastOkAt != null && state.location === src.location) {
    const due = Date.parse(state.lastOkAt) + src.refreshMs;
    if (due > now) return out('skipped', `not due until ${iso(due)} (refresh)`);
  }
  // Validators belong to the location they came from: an edited URL starts afresh.
  const same = state !== undefined && state.location === src.location;
  const fetched = await fetchSource(src, { etag: same ? state.etag : null, lastModified: same ? state.lastModified : null, fetchImpl: opts.fetchImpl });
  if (fetched.status === 'failed') return out('failed', fetched.reason);
  if (fetched.status === 'unchanged') return out('unchanged', null);

  let parsed: ReturnType<typeof parseList>;
  try {
    parsed = parseList(src.format, fetched.text, src.name);
  } catch (e) {
    // The parsers are built never to throw; should one still (a stack overflow on some input
    // nobody thought of), this source fails alone instead of taking the whole refresh with it.
    return out('failed', `the ${src.format} parser gave up: ${String((e as Error)?.message ?? e).slice(0, 200)}`);
  }
  const problems = { parseErrors: parsed.errors.length, parseWarnings: parsed.warnings.length };
  for (const p of parsed.errors.concat(parsed.warnings).slice(0, MAX_PROBLEMS_LOGGED)) opts.log.warn({ code: p.code, source: src.name }, p.message);
  const entries: StoreEntry[] = [];
  for (const a of parsed.addresses) entries.push(ipStoreEntry(a, src.name));
  for (const d of parsed.domains) entries.push(domainStoreEntry(d, src.name));
  if (entries.length === 0 && parsed.errors.length > 0) {
    const first = parsed.errors[0]!.message;
    return out('failed', `no usable entry, ${parsed.errors.length} bad line(s) or item(s), first: ${first}`, problems);
  }
  const count = new Set(entries.map((e) => entryKey(e))).size;
  // The guard: lists do not lose half their pools overnight; a truncated download or an emptied
  // upstream file does. Refuse and keep the old entries until someone looks (--force).
  if (opts.force !== true && previous > 0 && count < (1 - src.maxShrink) * previous) {
    const lost = Math.round((1 - count / previous) * 100);
    return out('refused', `would shrink from ${previous} to ${count} entries (-${lost} %, more than maxShrink ${src.maxShrink * 100} %); kept the previous entries, use --force to apply`, { ...problems, fetched });
  }
  return out('ok', null, { ...problems, entries, fetched });
}

/** The commit's part for one outcome: the new content (ok only) and the source's stored state. */
function changeFor(o: Outcome, state: SourceState | undefined, now: number): SourceChange {
  const okNow = o.status === 'ok' || o.status === 'unchanged';
  const keepValidators = o.status !== 'ok' || o.src.kind === 'file';
  const sameLocation = state?.location === o.src.location;
  const next: Omit<SourceState, 'entries'> = {
    name: o.src.name,
    origin: 'config',
    location: o.src.location,
    format: o.src.format,
    etag: keepValidators ? (sameLocation ? state?.etag ?? null : null) : o.fetched!.etag,
    lastModified: keepValidators ? (sameLocation ? state?.lastModified ?? null : null) : o.fetched!.lastModified,
    lastAttemptAt: o.status === 'skipped' ? state?.lastAttemptAt ?? null : iso(now),
    lastOkAt: okNow ? iso(now) : state?.lastOkAt ?? null,
    lastStatus: o.status === 'skipped' ? state?.lastStatus ?? 'skipped' : o.status,
    lastError: o.status === 'failed' || o.status === 'refused' ? o.reason : o.status === 'skipped' ? state?.lastError ?? null : null,
  };
  const change: SourceChange = { source: o.src.name, status: o.status, message: o.reason, location: o.src.location, state: next };
  if (o.status === 'ok') change.replace = o.entries!;
  return change;
}

/**
 * Resolve every domain entry the new version will hold (configured sources as just fetched or
 * kept, hand-edited ones as they are) and produce the content of each "<source>:resolved" source.
 */
async function resolveAll(
  before: Map<string, StoredEntry[]>,
  changes: readonly SourceChange[],
  cfg: BlacklistConfig,
  now: number,
): Promise<{ changes: SourceChange[]; stats: ResolveStats }> {
  const replaced = new Map(changes.filter((c) => c.replace !== undefined).map((c) => [c.source, c.replace!]));
  const domains: DomainStoreEntry[] = [];
  const previous: IpStoreEntry[] = [];
  const sources = new Set([...before.keys(), ...replaced.keys()]);
  for (const s of sources) {
    if (isResolvedSource(s)) {
      for (const e of before.get(s)!) if (e.kind === 'ip') previous.push(e);
      continue;
    }
    const content = replaced.get(s) ?? before.get(s) ?? [];
    for (const e of content) if (e.kind === 'domain' && (e.expiresAt === undefined || e.expiresAt > now)) domains.push(e);
  }
  const answers = await resolveNames(domains.map((d) => d.name), cfg.resolve);
  const { bySource, stats } = resolvedEntries(domains, answers, previous, cfg.resolve, now);
  // Every resolved source, including those whose names are all gone: they become empty.
  for (const s of sources) if (isResolvedSource(s) && !bySource.has(s)) bySource.set(s, []);
  const out: SourceChange[] = [];
  for (const [source, entries] of bySource) {
    const from = source.slice(0, -':resolved'.length);
    out.push({
      source, replace: entries, status: 'resolved', location: null,
      message: `${entries.length} address entries from the names of ${from}`,
      state: {
        name: source, origin: 'resolved', location: `dns:${from}`, format: 'dns', etag: null, lastModified: null,
        lastAttemptAt: iso(now), lastOkAt: iso(now), lastStatus: 'resolved', lastError: null,
      },
    });
  }
  return { changes: out, stats };
}

function bySource(entries: StoredEntry[]): Map<string, StoredEntry[]> {
  const m = new Map<string, StoredEntry[]>();
  for (const e of entries) {
    let list = m.get(e.source);
    if (list === undefined) m.set(e.source, (list = []));
    list.push(e);
  }
  return m;
}

/** One log line per source (errors with their stable code), then one summary line. */
function logReport(r: RefreshReport, log: Logger): void {
  for (const s of r.sources) {
    const ctx = { source: s.name, location: s.location, status: s.status, entries: s.entries, added: s.added, removed: s.removed };
    if (s.status === 'failed') log.error({ ...ctx, code: 'PW_ERR_FETCH' }, `blacklist source ${s.name} failed: ${s.reason}`);
    else if (s.status === 'refused') log.error({ ...ctx, code: 'PW_ERR_SHRINK' }, `blacklist source ${s.name} refused: ${s.reason}`);
    else log.info({ ...ctx, parseErrors: s.parseErrors, reason: s.reason ?? undefined }, `blacklist source ${s.name}: ${s.status}`);
  }
  if (r.resolve !== null) {
    const { failures, ...counts } = r.resolve;
    (r.resolve.failed > 0 ? log.warn : log.info).call(log, { ...counts, failures }, 'blacklist names resolved');
  }
  log.info(
    { version: r.version, added: r.added, removed: r.removed, unchanged: r.unchanged, total: r.total, incomplete: r.incomplete },
    'blacklist refresh finished',
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
