/**
 * What every command that records hits opens and closes the same way, whatever its input
 * (packets or flow records): the database, cases and alerts, the blacklist (stored version plus
 * run-only lists, followed while a long-running input lasts), the run row and the hit sink.
 */
import { keepCurrent, openRunBlacklist, type RunBlacklist, type RunOnlyLists } from './blacklist/run-list.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { openFollowUp } from './report/cases.js';
import { openDatabase, type Database } from './report/db.js';
import { finishRun, HitSink, startRun, type RunEnd } from './report/sink.js';

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

export interface RecordingRun {
  db: Database;
  runId: number;
  sink: HitSink;
  list: RunBlacklist;
  /**
   * Stop following the list, let the rules end what they still hold (`finishRules`), then write
   * every hit and close the run row with `summary()` — even when `finishRules` fails: whatever was
   * flagged before is still written.
   */
  end(finishRules: () => void, summary: () => RunEnd): void;
  /** Let queued alerts go out (at most alerts.drainSeconds). */
  drain(): Promise<void>;
}

export async function openRecording(req: RecordingRequest): Promise<RecordingRun> {
  const db = openDatabase(req.dbPath);
  // Cases and alerts (src/report/cases.ts): opened from every committed batch, never blocking it.
  const followUp = openFollowUp(db, req.config, req.log);
  const list = await openRunBlacklist(db, req.config, req.runOnly, req.log);
  const runId = startRun(db, { command: req.command, inputs: req.inputs });
  const sink = new HitSink(db, runId, { batchSize: req.config.batchSize, onBatch: followUp.onBatch });
  req.log.info({ version: list.version, entries: list.entries, runId }, 'blacklist loaded');
  const stopFollowing = req.follow ? keepCurrent(db, req.config, list, req.runOnly, req.log) : () => {};
  return {
    db,
    runId,
    sink,
    list,
    end(finishRules, summary) {
      stopFollowing();
      try {
        finishRules();
      } finally {
        sink.flush();
        finishRun(db, runId, summary());
      }
    },
    drain: () => followUp.close(),
  };
}
