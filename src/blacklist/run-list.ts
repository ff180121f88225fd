/**
 * The blacklist a scan runs with: the stored version (bootstrapped from the configuration's local
 * files on a database's first use, so a first scan works offline), plus lists given for this run
 * only (`--blacklist FILE`, recorded with no version), minus the allow-list. Long-running scans keep
 * it current: they pick up versions that `poolwatch blacklist refresh` (cron, a timer) stores, and
 * refresh the sources themselves every `refreshInterval`.
 */
import type { Database } from '../report/db.js';
import type { BlacklistConfig, Config } from '../config.js';
import type { Logger } from '../log.js';
import { AddressTable } from './address-table.js';
import { countReports } from './formats/index.js';
import { loadListFileInto, type TableListFormat } from './list-reader.js';
import { LiveBlacklist, type BlacklistSnapshot } from './live.js';
import { BlacklistIndex, tableOf } from './lookup.js';
import { buildDomainIndex } from './domains.js';
import { ensureVersion, refreshBlacklist } from './refresh.js';
import { currentVersion, loadStoredList } from './store.js';
import type { BlacklistEntry, DomainEntry } from './types.js';

/**
 * Entries that hold for one run only, and the allow-list. Addresses come as a table (what
 * loadRunOnlyLists reads: no object per entry) or, for small hand-made lists, as entries.
 */
export interface RunOnlyLists {
  addresses: readonly BlacklistEntry[] | AddressTable;
  domains: readonly DomainEntry[];
  allow: readonly BlacklistEntry[] | AddressTable;
}

export interface RunBlacklist {
  live: LiveBlacklist;
  /** The stored version in force (null: the database holds none, e.g. every source failed). */
  version: number | null;
  entries: number;
}

const MAX_LIST_PROBLEMS_LOGGED = 20;

/**
 * The lists that hold for one run only: --blacklist files (addresses and names, the `entries`
 * format) and the allow-list (`plain`). Shared by packet scans, flow scans and the collector.
 * Addresses go straight into tables, read once for the whole run and shared by every version
 * the run swaps in.
 */
export function loadRunOnlyLists(blacklistFiles: readonly string[], config: Pick<Config, 'allowFiles'>, log: Logger): RunOnlyLists {
  const addresses = new AddressTable();
  const allow = new AddressTable();
  const domains: DomainEntry[] = [];
  const load = (format: TableListFormat, file: string, into: AddressTable) => {
    const got = loadListFileInto(format, file, into);
    // A list of a million broken lines must not become a million log lines.
    const problems = got.errors.concat(got.warnings);
    for (const e of problems.slice(0, MAX_LIST_PROBLEMS_LOGGED)) log.warn({ code: e.code }, e.message);
    const more = countReports(got.errors) + countReports(got.warnings) - Math.min(problems.length, MAX_LIST_PROBLEMS_LOGGED);
    if (more > 0) log.warn({ file, problems: more + MAX_LIST_PROBLEMS_LOGGED }, `${file}: ${more} more problems not logged`);
    for (const d of got.domains) domains.push(d);
  };
  // The configuration's sources live in the database, versioned (see load below); here only what
  // holds for this run: --blacklist files (addresses and names) and the allow-list.
  for (const f of blacklistFiles) load('entries', f, addresses);
  for (const f of config.allowFiles) load('plain', f, allow);
  addresses.compact();
  allow.compact();
  return { addresses, domains, allow };
}

/** Tables made from entry arrays, made once per array (a run reloads with the same run-only lists). */
const tables = new WeakMap<readonly BlacklistEntry[], AddressTable>();
function asTable(x: readonly BlacklistEntry[] | AddressTable): AddressTable {
  if (x instanceof AddressTable) return x;
  let t = tables.get(x);
  if (t === undefined) tables.set(x, (t = tableOf(x)));
  return t;
}

/** Load the stored version in force now, with the run-only lists, as a snapshot ready to swap in. */
function load(db: Database, extra: RunOnlyLists, nowMs: number): { version: number | null; snapshot: BlacklistSnapshot; entries: number } {
  const stored = loadStoredList(db, nowMs);
  const runAddresses = asTable(extra.addresses);
  const allow = asTable(extra.allow);
  // Stored entries first: at equal prefixes and ports the index keeps the first, which names a version.
  const black = [stored.addresses, runAddresses].filter((t) => t.size > 0);
  const addresses = new BlacklistIndex(black, allow.size > 0 ? [allow] : []);
  const domains = stored.domains.concat(extra.domains);
  return {
    version: stored.version,
    snapshot: { addresses, domains: buildDomainIndex(domains) },
    entries: stored.addresses.size + runAddresses.size + domains.length,
  };
}

export async function openRunBlacklist(db: Database, config: { blacklist: BlacklistConfig }, extra: RunOnlyLists, log: Logger): Promise<RunBlacklist> {
  await ensureVersion(db, config, log);
  const { version, snapshot, entries } = load(db, extra, Date.now());
  return { live: new LiveBlacklist(snapshot), version, entries };
}

/** How often a long-running scan looks for a version stored by another process. */
export const VERSION_POLL_MS = 30_000;

/**
 * Keep a running scan's list current. Every VERSION_POLL_MS: if the database holds a newer version
 * (a cron refresh), or entries expired, load and swap it in. Every `refreshIntervalMs`: refresh the
 * sources here, then swap. The swap is one reference assignment between packets (see live.ts), so
 * no packet ever sees an empty or half-built list. Returns a function that stops the timers.
 */
export function keepCurrent(
  db: Database,
  config: { blacklist: BlacklistConfig },
  run: RunBlacklist,
  extra: RunOnlyLists,
  log: Logger,
  opts: { pollMs?: number; refreshMs?: number } = {},
): () => void {
  let loadedAt = Date.now();
  let refreshing = false;
  const reload = (why: string) => {
    const next = load(db, extra, Date.now());
    run.live.swap(next.snapshot);
    loadedAt = Date.now();
    if (next.version !== run.version) log.info({ from: run.version, to: next.version, entries: next.entries, why }, 'blacklist version swapped in');
    run.version = next.version;
    run.entries = next.entries;
  };
  const poll = setInterval(() => {
    try {
      const v = currentVersion(db);
      // Expiry is decided at load time; reload at least hourly so expired addresses drop out.
      if (v !== run.version || Date.now() - loadedAt > 3_600_000) reload('newer version in the database');
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'blacklist reload failed; the list in force stays');
    }
  }, opts.pollMs ?? VERSION_POLL_MS);
  const refreshMs = opts.refreshMs ?? config.blacklist.refreshIntervalMs;
  const refresh =
    refreshMs > 0
      ? setInterval(() => {
          if (refreshing) return;
          refreshing = true;
          refreshBlacklist(db, config, { log, command: 'scan (refreshInterval)' })
            .then((r) => {
              log.info({ version: r.version, added: r.added, removed: r.removed, incomplete: r.incomplete }, 'blacklist refreshed');
              reload('refreshInterval');
            })
            .catch((e: unknown) => log.warn({ err: (e as Error).message }, 'blacklist refresh failed; the list in force stays'))
            .finally(() => {
              refreshing = false;
            });
        }, refreshMs)
      : null;
  // Timers must not keep a finished scan alive.
  poll.unref();
  refresh?.unref();
  return () => {
    clearInterval(poll);
    if (refresh !== null) clearInterval(refresh);
  };
}

/**
 * The list in force now, read without writing anything (the database may be open read only):
 * what a `scan --workers` worker runs with, loaded again when the main thread's list changes.
 */
export function loadRunBlacklist(db: Database, extra: RunOnlyLists, nowMs: number = Date.now()): RunBlacklist {
  const { version, snapshot, entries } = load(db, extra, nowMs);
  return { live: new LiveBlacklist(snapshot), version, entries };
}
