/**
 * What every command that records hits opens and closes the same way, whatever its input
 * (packets or flow records): the database, cases and alerts, the blacklist (stored version plus
 * run-only lists, followed while a long-running input lasts), the run row and the hit sink.
 */
import { refreshBlacklist } from './blacklist/refresh.js';
import { keepCurrent, openRunBlacklist, type RunBlacklist, type RunOnlyLists } from './blacklist/run-list.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { openFollowUp } from './report/cases.js';
import type { PoolwatchError } from './errors.js';
import { isTransientDbError, openDatabase, type Database } from './report/db.js';
import { finishRun, HitSink, markInterruptedRuns, startRun, type RunEnd } from './report/sink.js';

export interface RecordingRequest {
  dbPath: string;
  config: Config;
  command: string;
  log: Logger;
  /** Input names for the run row. */
  inputs: string[];
  runOnly: RunOnlyLists;
  /** A long-running input keeps the list current (new stored versions, refreshInterval). */
  follow: boolean;
}

/** What a reload changed in the list in force. */
export interface ListReload {
  version: { from: number | null; to: number | null };
  entries: { from: number; to: number };
}

export interface RecordingRun {
  db: Database;
  runId: number;
  sink: HitSink;
  list: RunBlacklist;
  /**
   * Stop following the list, let the rules end what they still hold (`finishRules`), then write
   * every hit and close the run row with `summary()` — even when `finishRules` or the last write
   * fails: whatever was flagged before is still written, and the row is closed 'failed' if it can
   * be written at all. The first failure is rethrown.
   */
  end(finishRules: () => void, summary: () => RunEnd): void;
  /**
   * Re-read the list sources of `config` (a blacklist refresh: a new stored version), load it with
   * `runOnly` (--blacklist files and the allow-list, re-read by the caller), and swap it in
   * between two packets; a long-running input then follows it with `config`'s settings
   * (refreshInterval). Throws, leaving the list in force, when the refresh or the load fails.
   */
  reload(config: Config, runOnly: RunOnlyLists): Promise<ListReload>;
  /** Let queued alerts go out (at most alerts.drainSeconds). */
  drain(): Promise<void>;
}

export async function openRecording(req: RecordingRequest): Promise<RecordingRun> {
  const db = openDatabase(req.dbPath);
  // A run left 'running' by a process that is gone (kill -9, a crash) is closed as 'interrupted';
  // what it committed stays.
  for (const r of markInterruptedRuns(db)) {
    req.log.warn(
      { runId: r.id, pid: r.pid, startedAt: r.startedAt, hits: r.hits },
      `run ${r.id} (pid ${r.pid}, started ${r.startedAt}) ended without closing (killed?): marked interrupted, its ${r.hits} hit rows kept`,
    );
  }
  // Cases and alerts (src/report/cases.ts): opened from every committed batch, never blocking it.
  const followUp = openFollowUp(db, req.config, req.log);
  const list = await openRunBlacklist(db, req.config, req.runOnly, req.log);
  const runId = startRun(db, { command: req.command, inputs: req.inputs });
  const sink = new HitSink(db, runId, { batchSize: req.config.batchSize, onBatch: followUp.onBatch });
  req.log.info({ version: list.version, entries: list.entries, runId }, 'blacklist loaded');
  const follow = (config: Config, runOnly: RunOnlyLists) => (req.follow ? keepCurrent(db, config, list, runOnly, req.log) : () => {});
  let stopFollowing = follow(req.config, req.runOnly);
  let ended = false;
  return {
    db,
    runId,
    sink,
    list,
    end(finishRules, summary) {
      ended = true;
      stopFollowing();
      let failure: unknown = null;
      try {
        finishRules();
      } catch (e) {
        failure = e;
      }
      try {
        sink.flush();
      } catch (e) {
        failure ??= e;
      }
      const s = summary();
      try {
        finishRun(db, runId, failure !== null && s.status !== 'failed' ? { ...s, status: 'failed' } : s);
      } catch (e) {
        failure ??= e;
      }
      if (failure !== null) throw failure;
    },
    async reload(config, runOnly) {
      const before = { version: list.version, entries: list.entries };
      await refreshBlacklist(db, config, { log: req.log, command: `${req.command} (reload)` });
      const next = await openRunBlacklist(db, config, runOnly, req.log);
      if (ended) throw new Error('the run ended during the reload');
      // One reference assignment between two packets (LiveBlacklist.swap): no packet sees a
      // half-built or empty list; addresses learned from DNS stay while their name is listed.
      list.live.swap(next.live.snapshot);
      list.version = next.version;
      list.entries = next.entries;
      stopFollowing();
      stopFollowing = follow(config, runOnly);
      return { version: { from: before.version, to: next.version }, entries: { from: before.entries, to: next.entries } };
    },
    drain: () => followUp.close(),
  };
}

/** Hits written with one failure policy (see guardHitWrites). */
export interface HitWriter {
  /** Write what is pending; a failure goes through the policy, never out of here. */
  flush(): void;
  /** The write failure that stopped the run, or null. */
  readonly fatal: unknown;
}

/**
 * How scans and the collector live with a database that fails. A lock held by another process past
 * the busy timeout is ridden out when `rideOutLocks` (a live input): the hits stay pending and the
 * next flush writes them. Any other failure (disk full, read-only file or file system, I/O error)
 * is fatal: nothing of the failed batch is written (one transaction), it is logged once with what
 * was written and what is lost, and `onFatal` stops the input; the caller closes the run and the
 * error (PW_ERR_DB naming the database) ends the command with exit code 2.
 */
export function guardHitWrites(sink: HitSink, log: Logger, opts: { rideOutLocks: boolean; onFatal: () => void }): HitWriter {
  let fatal: unknown = null;
  let busyLogged = false;
  const failed = (e: unknown): void => {
    const err = e as PoolwatchError;
    if (opts.rideOutLocks && isTransientDbError(e)) {
      if (!busyLogged) log.warn({ code: err.code, err: err.message }, `cannot write hits yet, will retry: ${err.message}`);
      busyLogged = true;
      return;
    }
    if (fatal === null) {
      fatal = e;
      log.error(
        { code: err.code, file: err.context?.file, hitsWritten: sink.written, hitsPending: sink.pendingCount },
        `cannot write hits, stopping: ${err.message}`,
      );
    }
    opts.onFatal();
  };
  // A batch write started by a hit fails here, not inside the packet or datagram handler.
  sink.onWriteError(failed);
  return {
    get fatal() {
      return fatal;
    },
    flush() {
      if (fatal !== null) return;
      try {
        sink.flush();
        if (busyLogged) log.info({}, 'hits are written again');
        busyLogged = false;
      } catch (e) {
        failed(e);
      }
    },
  };
}
