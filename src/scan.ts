import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { countReports, loadListFile } from './blacklist/formats/index.js';
import type { LiveBlacklist } from './blacklist/live.js';
import type { RunOnlyLists } from './blacklist/run-list.js';
import type { BlacklistEntry, DomainEntry } from './blacklist/types.js';
import { readCaptureStream } from './capture/reader.js';
import { fileSource, interfaceSource, type CaptureSource } from './capture/sources.js';
import type { Config } from './config.js';
import { PoolwatchError, isPoolwatchError } from './errors.js';
import type { Logger } from './log.js';
import { Pipeline, type RunStats } from './pipeline.js';
import { openRecording } from './recording.js';

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
   * Receives the run's live blacklist before the first packet. Whoever holds it may call
   * `live.swap(snapshot)` at any time (a periodic refresh, a test): the scan uses the new list from
   * the next packet on, without a restart.
   */
  onLive?: (live: LiveBlacklist) => void;
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

const MAX_LIST_PROBLEMS_LOGGED = 20;

/**
 * The lists that hold for one run only: --blacklist files (addresses and names) and the
 * allow-list. Shared by packet scans, flow scans and the collector.
 */
export function loadRunOnlyLists(blacklistFiles: string[], config: Config, log: Logger): RunOnlyLists {
  const entries: BlacklistEntry[] = [];
  const allow: BlacklistEntry[] = [];
  const domains: DomainEntry[] = [];
  const load = (format: 'entries' | 'plain', file: string, into: BlacklistEntry[]) => {
    const got = loadListFile(format, file);
    // A list of a million broken lines must not become a million log lines.
    const problems = got.errors.concat(got.warnings);
    for (const e of problems.slice(0, MAX_LIST_PROBLEMS_LOGGED)) log.warn({ code: e.code }, e.message);
    const more = countReports(got.errors) + countReports(got.warnings) - Math.min(problems.length, MAX_LIST_PROBLEMS_LOGGED);
    if (more > 0) log.warn({ file, problems: more + MAX_LIST_PROBLEMS_LOGGED }, `${file}: ${more} more problems not logged`);
    // Not push(...got): spreading a million entries overflows the call stack.
    for (const e of got.addresses) into.push(e);
    for (const d of got.domains) domains.push(d);
  };
  // The configuration's sources live in the database, versioned (blacklist/run-list.ts); here only
  // what holds for this run: --blacklist files (addresses and names) and the allow-list.
  for (const f of blacklistFiles) load('entries', f, entries);
  for (const f of config.allowFiles) load('plain', f, allow);
  return { addresses: entries, domains, allow };
}

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
  // A capture that runs for days follows the list as it changes; a file replay keeps one version.
  const run = await openRecording({
    dbPath: req.dbPath,
    config: req.config,
    command: req.command,
    log: req.log,
    inputs: sources.map((s) => s.name),
    runOnly,
    follow: sources.some((s) => s.kind !== 'file'),
  });
  const { db, runId, sink } = run;
  const live = run.list.live;
  const pipeline = new Pipeline({
    blacklist: live,
    poolPorts: new Set(req.config.poolPorts),
    flows: req.config.flows,
    onHit: (hit) => sink.add(hit),
    log: req.log,
  });
  req.onLive?.(live);

  let incomplete = false;
  let bytesDone = 0;
  const started = process.hrtime.bigint();
  let ended = started;
  let status = 'ok';
  try {
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i];
      pipeline.beginInput(source.name, source.kind === 'file' ? 'pcap' : source.kind);
      let seen = 0;
      const timer = setInterval(() => {
        req.onProgress?.(pipeline.stats.packets, bytesDone + seen, totalBytes);
        // A live capture runs for hours: write what is flagged as it goes, not only at the end.
        if (source.kind !== 'file') sink.flush();
      }, 500);
      const stopping = req.stopSignal?.then(() => source.stop?.());
      try {
        const stream = await source.open();
        stream.on('data', (chunk: Buffer) => {
          seen += chunk.length;
        });
        const stats = await readCaptureStream(stream, source.name, pipeline.handlePacket);
        await source.done;
        pipeline.endInput(stats);
        if (stats.damaged) {
          incomplete = true;
          req.log.error({ input: source.name, code: stats.damaged.code, offset: stats.damaged.context.offset }, stats.damaged.message);
        }
      } catch (e) {
        if (!isPoolwatchError(e) || sources.length === 1) throw e;
        // One unreadable input does not cost the others their analysis.
        incomplete = true;
        req.log.error({ input: source.name, code: e.code }, e.message);
      } finally {
        clearInterval(timer);
        void stopping;
      }
      bytesDone += seen;
      if (pipeline.stats.inputs.at(-1)?.skippedLinkTypes.length) incomplete = true;
    }
  } catch (e) {
    status = 'failed';
    throw e;
  } finally {
    const stats = pipeline.stats;
    run.end(
      () => pipeline.finish(),
      () => ({
        packets: stats.packets,
        bytes: stats.bytes,
        flows: stats.flows,
        damaged: stats.inputs.filter((s) => s.damaged !== null).length,
        status: status === 'ok' && incomplete ? 'incomplete' : status,
      }),
    );
    ended = process.hrtime.bigint();
    // Alerts still queued get at most alerts.drainSeconds; not counted in the analysis time.
    await run.drain();
  }
  const seconds = Number(ended - started) / 1e9;
  return { runId, db, stats: pipeline.stats, incomplete, totalBytes, seconds, live };
}
