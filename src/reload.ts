/**
 * Reloading a long-running run (SIGHUP to `scan --interface`, `scan -` and `collect`): re-read the
 * YAML configuration and the --blacklist files, refresh the configured list sources, and swap the
 * new list in between two packets. Nothing stops: packets and datagrams keep being read while the
 * sources are read (that part is asynchronous), and the swap itself is one assignment.
 *
 * A configuration or list file that does not read (bad YAML, a key out of range, a missing file)
 * is logged and changes nothing: the configuration and the list in force stay. Of the
 * configuration, the blacklist settings (sources, allow-list, resolver, refreshInterval) take
 * effect at once; the others (flows, poolPorts, report.batchSize, netflow, organisations, alerts)
 * are read by the run when it starts, so a change there is logged as needing a restart.
 */
import type { Config } from './config.js';
import { isPoolwatchError } from './errors.js';
import type { Logger } from './log.js';
import type { RecordingRun } from './recording.js';
import { loadRunOnlyLists } from './scan.js';

/** Where reload requests come from (src/signals.ts: SIGHUP). */
export interface ReloadRequests {
  /**
   * Call `listener` at each request from now on (and once at once if a request came before anyone
   * listened); returns a function that stops listening.
   */
  listen(listener: () => void): () => void;
  /** The configuration as it reads now; throws (PoolwatchError) when it does not read. */
  readConfig(): Config;
}

/** Entries in a list: an array, or a table with a size. */
function sizeOf(x: unknown): number {
  if (Array.isArray(x)) return x.length;
  const size = (x as { size?: unknown } | null)?.size;
  return typeof size === 'number' ? size : 0;
}

/** The Config keys a running run takes up on reload; the rest are read once, at the start. */
const APPLIED_ON_RELOAD = new Set<keyof Config>(['blacklist', 'allowFiles']);

/** Top-level configuration keys whose value differs (`source`, the file name, left out). */
export function changedKeys(a: Config, b: Config): (keyof Config)[] {
  const keys = Object.keys(a) as (keyof Config)[];
  return keys.filter((k) => k !== 'source' && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/**
 * Serve reload requests for `run` until the returned function is called. `blacklistFiles` are the
 * --blacklist files, re-read at each reload. Requests that come while a reload runs are merged
 * into one more reload after it.
 */
export function serveReloads(requests: ReloadRequests, run: RecordingRun, config: Config, blacklistFiles: readonly string[], log: Logger): () => void {
  let current = config;
  let busy = false;
  let again = false;
  let stopped = false;
  let reloads = 0;

  const once = async (): Promise<void> => {
    const n = ++reloads;
    log.info({ reload: n }, 'reload requested: re-reading the configuration and the lists');
    let next: Config;
    let runOnly;
    try {
      next = requests.readConfig();
      runOnly = loadRunOnlyLists([...blacklistFiles], next, log);
    } catch (e) {
      const code = isPoolwatchError(e) ? e.code : undefined;
      log.error({ reload: n, code }, `reload failed, the configuration and lists in force stay: ${(e as Error).message}`);
      return;
    }
    let list;
    try {
      list = await run.reload(next, runOnly);
    } catch (e) {
      const code = isPoolwatchError(e) ? e.code : undefined;
      log.error({ reload: n, code }, `reload failed, the configuration and lists in force stay: ${(e as Error).message}`);
      return;
    }
    const changed = changedKeys(current, next);
    const restart = changed.filter((k) => !APPLIED_ON_RELOAD.has(k));
    current = next;
    log.info(
      {
        reload: n,
        config: next.source,
        changed,
        version: list.version,
        entries: list.entries,
        runOnlyEntries: sizeOf(runOnly.addresses) + sizeOf(runOnly.domains),
        allowEntries: sizeOf(runOnly.allow),
        ...(restart.length > 0 ? { needRestart: restart } : {}),
      },
      `configuration reloaded: blacklist version ${list.version.from ?? 'none'} -> ${list.version.to ?? 'none'}, ${list.entries.from} -> ${list.entries.to} entries` +
        (changed.length > 0 ? `; changed: ${changed.join(', ')}` : '; configuration unchanged') +
        (restart.length > 0 ? ` (${restart.join(', ')} take effect at the next start)` : ''),
    );
  };

  const request = () => {
    if (stopped) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    void (async () => {
      try {
        do {
          again = false;
          await once();
        } while (again && !stopped);
      } finally {
        busy = false;
      }
    })();
  };
  const unlisten = requests.listen(request);
  return () => {
    stopped = true;
    unlisten();
  };
}
