import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { loadRunOnlyLists } from './blacklist/run-list.js';
import type { LiveBlacklist } from './blacklist/live.js';
import { readCaptureStream } from './capture/reader.js';
import { fileSource, interfaceSource, type CaptureSource } from './capture/sources.js';
import type { Config } from './config.js';
import { PoolwatchError, isPoolwatchError } from './errors.js';
import type { Logger } from './log.js';
import { Pipeline, type RunStats } from './pipeline.js';
import { guardHitWrites, openRecording } from './recording.js';
import { serveReloads, type ReloadRequests } from './reload.js';
import { ScanWorkers } from './scan-workers.js';

export interface ScanRequest {
  inputs: string[];
  iface?: string;
  bpf?: string;
  /** Database path; ':memory:' keeps results for this run only. */
  dbPath: string;
  /** Extra plain lists for this run (--blacklist), on top of the configuration's. */
  blacklistFiles: string[];
  config: Config;
  command: string;
  log: Logger;
  /** Called about twice a second with the packets and input bytes so far. */
  onProgress?: (packets: number, bytes: number, totalBytes: number) => void;
  /** Resolves when a live capture should stop (SIGINT/SIGTERM). */
  stopSignal?: Promise<void>;
  /**
   * Reload requests (SIGHUP) for a live capture: the configuration and the --blacklist files are
   * read again and the list swapped in without stopping (src/reload.ts). Ignored for file replays.
   */
  reload?: ReloadRequests;
  /**
   * Receives the run's live blacklist before the first packet. Whoever holds it may call
   * `live.swap(snapshot)` at any time (a periodic refresh, a test): the scan uses the new list from
   * the next packet on, without a restart.
   */
  onLive?: (live: LiveBlacklist) => void;
  /**
   * Threads for the packet path (scan --workers); 1 or absent: the main thread does it all. The
   * main thread then only reads the input and writes hits (src/scan-workers.ts).
   */
  workers?: number;
}

export interface ScanResult {
  runId: number;
  db: Database.Database;
  stats: RunStats;
  /** Some input was damaged, cut short or skipped: the run went on, but saw less than was asked. */
  incomplete: boolean;
  /** Total size of the input files when known (for progress). */
  totalBytes: number;
  /** Time spent reading and analysing input, without loading lists or opening the database. */
  seconds: number;
  /** The blacklist the run used, with what DNS answers taught it. */
  live: LiveBlacklist;
}

/**
 * The lists that hold for one run only (--blacklist files and the allow-list), read into tables
 * (src/blacklist/run-list.ts). Shared by packet scans, flow scans and the collector.
 */
export { loadRunOnlyLists } from './blacklist/run-list.js';

/**
 * Input files checked before any work (a missing file is a clear error, not a half-made run);
 * their total size, for progress. "-" (standard input) has no size.
 */
export function inputBytes(inputs: readonly string[]): number {
  let total = 0;
  for (const input of inputs) {
    if (input === '-') continue;
    let st;
    try {
      st = statSync(input);
    } catch (e) {
      throw new PoolwatchError('PW_ERR_IO', `cannot read input: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: input });
    }
    if (!st.isFile() && !st.isFIFO()) throw new PoolwatchError('PW_ERR_IO', 'input is not a file', { file: input });
    total += st.size;
  }
  return total;
}

/** Everything the run needs, checked before the first packet: a bad argument costs no work. */
function prepare(req: ScanRequest) {
  const sources: CaptureSource[] = [];
  const totalBytes = inputBytes(req.inputs);
  for (const input of req.inputs) sources.push(fileSource(input));
  if (req.iface !== undefined) sources.push(interfaceSource(req.iface, req.bpf));
  if (sources.length === 0) throw new PoolwatchError('PW_ERR_USAGE', 'nothing to scan: name capture files, - for standard input, or --interface');

  const runOnly = loadRunOnlyLists(req.blacklistFiles, req.config, req.log);
  return { sources, totalBytes, runOnly };
}

export async function runScan(req: ScanRequest): Promise<ScanResult> {
  const { sources, totalBytes, runOnly } = prepare(req);
  const liveInput = sources.some((s) => s.kind !== 'file');
  // A capture that runs for days follows the list as it changes; a file replay keeps one version.
  const run = await openRecording({
    dbPath: req.dbPath,
    config: req.config,
    command: req.command,
    log: req.log,
    inputs: sources.map((s) => s.name),
    runOnly,
    follow: liveInput,
  });
  const { db, runId, sink } = run;
  const live = run.list.live;
  const log = req.log;

  // Writing hits: a live capture rides out another process's lock; any other write failure
  // stops the input (recording.ts guardHitWrites).
  let stopInput: (() => void) | null = null;
  const writer = guardHitWrites(sink, log, { rideOutLocks: liveInput, onFatal: () => stopInput?.() });
  const pipeline = new Pipeline({
    blacklist: live,
    poolPorts: new Set(req.config.poolPorts),
    flows: req.config.flows,
    onHit: (hit) => sink.add(hit),
    log,
  });
  const workers = (req.workers ?? 1) > 1
    ? await ScanWorkers.start(req.workers!, { config: req.config, dbPath: req.dbPath, blacklistFiles: req.blacklistFiles }, (hit) => sink.add(hit))
    : null;
  // The workers hold lists of their own: a new version in force here (followed, SIGHUP) reaches
  // them before any chunk read after it.
  if (workers !== null) live.onSwap = () => workers.reload();
  const packetsSoFar = () => (workers !== null ? workers.packets : pipeline.stats.packets);
  req.onLive?.(live);
  const stopReloads = liveInput && req.reload !== undefined ? serveReloads(req.reload, run, req.config, req.blacklistFiles, log) : () => {};

  // SIGINT/SIGTERM: the input being read is stopped (tcpdump is asked to stop and flushes; standard
  // input is closed), what was read is analysed, inputs not started are skipped.
  let stopped = false;
  void req.stopSignal?.then(() => {
    stopped = true;
    stopInput?.();
  });

  let incomplete = false;
  let bytesDone = 0;
  const started = process.hrtime.bigint();
  let ended = started;
  let status = 'ok';
  let failure: unknown = null;
  let workerStats = pipeline.stats;
  try {
    for (let i = 0; i < sources.length && !stopped && writer.fatal === null; i++) {
      const source = sources[i];
      const kind = source.kind === 'file' ? 'pcap' : source.kind;
      if (workers !== null) workers.beginInput(source.name, kind);
      else pipeline.beginInput(source.name, kind);
      let seen = 0;
      const timer = setInterval(() => {
        req.onProgress?.(packetsSoFar(), bytesDone + seen, totalBytes);
        // A live capture runs for hours: write what is flagged as it goes, not only at the end.
        if (source.kind !== 'file') writer.flush();
      }, 500);
      try {
        const stream = await source.open();
        stopInput = () => {
          source.stop?.();
          // Standard input (and a file read alongside a live input) has no tool to stop: close it.
          if (source.kind !== 'interface') (stream as { destroy?: () => void }).destroy?.();
        };
        if (stopped || writer.fatal !== null) stopInput();
        let stats;
        if (workers !== null) {
          stats = await workers.read(stream, source.name, (n) => {
            seen += n;
          });
        } else {
          stream.on('data', (chunk: Buffer) => {
            seen += chunk.length;
          });
          stats = await readCaptureStream(stream, source.name, pipeline.handlePacket);
        }
        await source.done;
        if ((stopped || writer.fatal !== null) && stats.damaged?.code === 'PW_ERR_TRUNCATED') {
          // Our own cut, not damage: the input was closed on the signal inside a record.
          log.info({ input: source.name, offset: stats.damaged.context.offset }, `${source.name}: stopped inside a packet record; that partial packet is not analysed`);
          stats.damaged = null;
        }
        // Workers end their inputs themselves.
        if (workers === null) pipeline.endInput(stats);
        if (stats.damaged) {
          incomplete = true;
          log.error({ input: source.name, code: stats.damaged.code, offset: stats.damaged.context.offset }, stats.damaged.message);
        }
      } catch (e) {
        // A database failure is never one input's problem: it ends the run.
        if (!isPoolwatchError(e) || e.code === 'PW_ERR_DB' || sources.length === 1) throw e;
        // One unreadable input does not cost the others their analysis.
        incomplete = true;
        log.error({ input: source.name, code: e.code }, e.message);
      } finally {
        clearInterval(timer);
        stopInput = null;
        // A capture tool still running (the read ended on an error) is stopped; a no-op otherwise.
        source.stop?.();
      }
      bytesDone += seen;
      if (pipeline.stats.inputs.at(-1)?.skippedLinkTypes.length) incomplete = true;
    }
    if (writer.fatal !== null) throw writer.fatal;
  } catch (e) {
    status = 'failed';
    failure = e;
    throw e;
  } finally {
    stopReloads();
    if (workers !== null) {
      // The workers end their flows and send the last hits before the run is closed.
      try {
        workerStats = await workers.finish();
        if (workerStats.inputs.some((s) => s.skippedLinkTypes.length > 0)) incomplete = true;
      } catch (e) {
        await workers.close();
        if (failure === null) {
          failure = e;
          status = 'failed';
        }
      }
    }
    try {
      run.end(
        () => (workers === null ? pipeline.finish() : workerStats),
        () => {
          const stats = workers === null ? pipeline.stats : workerStats;
          return {
            packets: stats.packets,
            bytes: stats.bytes,
            flows: stats.flows,
            damaged: stats.inputs.filter((s) => s.damaged !== null).length,
            status: status === 'ok' && incomplete ? 'incomplete' : status,
          };
        },
      );
    } catch (e) {
      // With a failure already on its way out, this one (most likely the same full disk) is logged.
      if (failure === null) failure = e;
      else log.warn({ code: (e as PoolwatchError).code }, `closing the run failed too: ${(e as Error).message}`);
    }
    ended = process.hrtime.bigint();
    // Alerts still queued get at most alerts.drainSeconds; not counted in the analysis time.
    await run.drain();
  }
  if (failure !== null) throw failure;
  const seconds = Number(ended - started) / 1e9;
  return { runId, db, stats: workers === null ? pipeline.stats : workerStats, incomplete, totalBytes, seconds, live };
}
