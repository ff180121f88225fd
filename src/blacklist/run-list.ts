/**
 * The blacklist a scan runs with: the stored version (bootstrapped from the configuration's local
 * files on a database's first use, so a first scan works offline), plus lists given for this run
 * only (`--blacklist FILE`, recorded with no version), minus the allow-list. Long-running scans keep
 * it current: they pick up versions that `poolwatch blacklist refresh` (cron, a timer) stores, and
 * refresh the sources themselves every `refreshInterval`.
 */
import type { Database } from '../report/db.js';
import type { BlacklistConfig } from '../config.js';
import type { Logger } from '../log.js';
import { buildSnapshot, LiveBlacklist } from './live.js';
import { ensureVersion, refreshBlacklist } from './refresh.js';
import { currentVersion, loadSnapshot } from './store.js';
import type { BlacklistEntry, DomainEntry } from './types.js';

/** Entries that hold for one run only, and the allow-list. */
export interface RunOnlyLists {
  addresses: readonly BlacklistEntry[];
  domains: readonly DomainEntry[];
  allow: readonly BlacklistEntry[];
}

export interface RunBlacklist {
  live: LiveBlacklist;
  /** The stored version in force (null: the database holds none, e.g. every source failed). */
  version: number | null;
  entries: number;
}

/** Load the stored version in force now, with the run-only lists, as a snapshot ready to swap in. */
function load(db: Database, extra: RunOnlyLists, nowMs: number) {
  const snap = loadSnapshot(db, nowMs);
  // Stored entries first: at equal prefixes the index keeps the first, which names a version.
  const addresses = snap.addresses.concat(extra.addresses);
  const domains = snap.domains.concat(extra.domains);
  return { version: snap.version, snapshot: buildSnapshot(addresses, domains, extra.allow), entries: addresses.length + domains.length };
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
