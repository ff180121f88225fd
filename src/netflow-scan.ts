/**
 * Flow-record runs from files: `scan --netflow` (captures of export datagrams, what `tcpdump -w`
 * on a collector port gives) and `flows` (what `nfdump -o csv` prints). Both end where the live
 * collector (collect.ts) ends: FlowRecord → RecordPipeline → HitSink, one run row, the same
 * report. `openFlowRun` is the part the three share.
 */
import { createReadStream } from 'node:fs';
import type { RunBlacklist } from './blacklist/run-list.js';
import type { PacketView } from './capture/packet.js';
import { readCaptureStream } from './capture/reader.js';
import { fileSource } from './capture/sources.js';
import { FlowDecoder, type ExporterStats } from './capture/netflow/decoder.js';
import type { FlowRecord } from './capture/netflow/types.js';
import { readNfdumpCsvStream, type CsvProblem, type NfdumpCsvStats } from './capture/nfdump-csv.js';
import type { Config } from './config.js';
import { decodePacket, formatAddress } from './decode/index.js';
import { newDecodedPacket, PROTO_UDP } from './decode/types.js';
import { PoolwatchError, isPoolwatchError } from './errors.js';
import type { Logger } from './log.js';
import type { Database } from './report/db.js';
import type { HitSink, RunEnd } from './report/sink.js';
import { guardHitWrites, openRecording, type RecordingRun } from './recording.js';
import { RecordPipeline, type RecordStats } from './rules/flow-records.js';
import { inputBytes, loadRunOnlyLists } from './scan.js';

/** What every flow run is asked. */
export interface FlowRunRequest {
  /** Database path; ':memory:' keeps results for this run only. */
  dbPath: string;
  /** Extra lists for this run (--blacklist), on top of the stored version. */
  blacklistFiles: string[];
  config: Config;
  command: string;
  log: Logger;
  /** Every record decoded, before the rules (--dump-flows); null: none wanted. */
  onRecord: ((r: FlowRecord) => void) | null;
  /**
   * Resolves when reading standard input should stop (SIGINT/SIGTERM): what was read is judged,
   * every hit written and the run closed, as for a live scan.
   */
  stopSignal?: Promise<void>;
}

/** One run's database, blacklist, rules and sink, opened together and closed together. */
export interface FlowRun {
  db: Database;
  runId: number;
  sink: HitSink;
  pipeline: RecordPipeline;
  list: RunBlacklist;
  /** The recording underneath (reload, for a long-running input). */
  recording: RecordingRun;
  /**
   * Stop following the list, judge what the rules still hold, write every hit, close the run row;
   * then let queued alerts go out (at most alerts.drainSeconds).
   */
  close(end: RunEnd): Promise<void>;
}

/**
 * Open the database and the blacklist (stored version plus run-only lists, as scans do), start the
 * run row, and wire RecordPipeline → HitSink. `follow`: a long-running input keeps the list
 * current (new versions a cron refresh stores, and refreshInterval), like a live scan.
 */
export async function openFlowRun(req: FlowRunRequest, inputs: string[], follow: boolean): Promise<FlowRun> {
  // Lists first: a bad list file costs no database and no run row.
  const runOnly = loadRunOnlyLists(req.blacklistFiles, req.config, req.log);
  const run = await openRecording({ dbPath: req.dbPath, config: req.config, command: req.command, log: req.log, inputs, runOnly, follow });
  const { db, runId, sink, list } = run;
  const pipeline = new RecordPipeline({
    blacklist: list.live,
    poolPorts: new Set(req.config.poolPorts),
    suspect: req.config.netflow.suspect,
    onHit: (hit) => sink.add(hit),
    log: req.log,
  });
  let closed = false;
  return {
    db,
    runId,
    sink,
    pipeline,
    list,
    recording: run,
    async close(end) {
      if (closed) return;
      closed = true;
      try {
        run.end(() => pipeline.finish(), () => end);
      } finally {
        await run.drain();
      }
    },
  };
}

/** Inputs checked before any work; at least one is needed. */
function checkInputs(inputs: string[]): number {
  if (inputs.length === 0) throw new PoolwatchError('PW_ERR_USAGE', 'nothing to read: name files, or - for standard input');
  return inputBytes(inputs);
}

/** Decode errors logged one by one per run; the rest are counted (decoder totals, exporters). */
const MAX_DECODE_ERRORS_LOGGED = 20;

// ------------------------------------------------------------------------------------ scan --netflow

export interface NetflowScanRequest extends FlowRunRequest {
  inputs: string[];
  /** Called about twice a second with the packets and input bytes so far. */
  onProgress?: (packets: number, bytes: number, totalBytes: number) => void;
}

export interface NetflowScanStats {
  /** Packets read from the captures. */
  packets: number;
  /** UDP datagrams handed to the flow decoder. */
  datagrams: number;
  /** Packets that were not IP, not UDP, later IP fragments, or UDP cut short (snap length, first fragment). */
  notIp: number;
  notUdp: number;
  fragments: number;
  cutDatagrams: number;
  inputs: { input: string; packets: number; bytes: number; damaged: string | null }[];
}

export interface FlowRunResult {
  runId: number;
  db: Database;
  /** Some input was damaged or skipped: the run went on, but saw less than was asked. */
  incomplete: boolean;
  seconds: number;
  records: RecordStats;
}

export interface NetflowScanResult extends FlowRunResult {
  stats: NetflowScanStats;
  decoder: FlowDecoder['totals'];
  exporters: ExporterStats[];
}

/**
 * Decode captures of export datagrams: every UDP payload goes to one FlowDecoder (templates
 * carry over from file to file, like a collector's), the IP source address as the exporter and the
 * packet's capture time as the time received.
 */
export async function runNetflowScan(req: NetflowScanRequest): Promise<NetflowScanResult> {
  const totalBytes = checkInputs(req.inputs);
  const live = req.inputs.includes('-');
  const run = await openFlowRun(req, req.inputs, live);
  const { pipeline, sink } = run;
  const log = req.log;
  const decoder = new FlowDecoder();
  const stats: NetflowScanStats = { packets: 0, datagrams: 0, notIp: 0, notUdp: 0, fragments: 0, cutDatagrams: 0, inputs: [] };
  const pkt = newDecodedPacket();
  let input = '';
  let errorsLogged = 0;
  const stdin = new InputStop(req.stopSignal);
  const writer = guardHitWrites(sink, log, { rideOutLocks: live, onFatal: stdin.stop });
  const dump = req.onRecord;
  const onRecord = (r: FlowRecord): void => {
    pipeline.handleRecord(r, input, 'netflow');
    if (dump !== null) dump(r);
  };
  const onPacket = (p: PacketView): void => {
    stats.packets++;
    if (decodePacket(p, pkt) !== 'ok') {
      stats.notIp++;
      return;
    }
    if (pkt.laterFragment) {
      stats.fragments++;
      return;
    }
    if (pkt.proto !== PROTO_UDP) {
      stats.notUdp++;
      return;
    }
    // The UDP length says what the exporter sent; less in the capture is a cut datagram (snap
    // length, or the first fragment of a fragmented one), which would decode as garbage.
    const d = p.data;
    const udpLen = (d[pkt.payloadOffset - 4]! << 8) | d[pkt.payloadOffset - 3]!;
    if (udpLen >= 8 && udpLen - 8 > pkt.payloadLength) {
      stats.cutDatagrams++;
      return;
    }
    stats.datagrams++;
    const exporter = formatAddress(pkt.src, pkt.ipVersion as 4 | 6);
    const res = decoder.decode(d, pkt.payloadOffset, pkt.payloadLength, exporter, Math.floor(p.tsMicros / 1000), onRecord);
    if (res.error !== null && errorsLogged < MAX_DECODE_ERRORS_LOGGED) {
      errorsLogged++;
      log.warn({ input, packet: p.index + 1, exporter, version: res.version }, `${input}, packet ${p.index + 1}: ${res.error}`);
    }
  };

  let incomplete = false;
  let bytesDone = 0;
  let status = 'ok';
  const started = process.hrtime.bigint();
  try {
    for (const name of req.inputs) {
      if (stdin.stopped || writer.fatal !== null) break;
      input = name;
      const source = fileSource(name);
      let seen = 0;
      const timer = setInterval(() => {
        req.onProgress?.(stats.packets, bytesDone + seen, totalBytes);
        if (source.kind !== 'file') writer.flush();
      }, 500);
      try {
        const stream = await source.open();
        stdin.reading(stream);
        stream.on('data', (chunk: Buffer) => {
          seen += chunk.length;
        });
        const cap = await readCaptureStream(stream, name, onPacket);
        if ((stdin.stopped || writer.fatal !== null) && cap.damaged?.code === 'PW_ERR_TRUNCATED') {
          // Our own cut, not damage: standard input was closed on the signal inside a record.
          log.info({ input: name, offset: cap.damaged.context.offset }, `${name}: stopped inside a packet record; that partial packet is not analysed`);
          cap.damaged = null;
        }
        stats.inputs.push({ input: name, packets: cap.packets, bytes: cap.bytes, damaged: cap.damaged?.message ?? null });
        if (cap.damaged) {
          incomplete = true;
          log.error({ input: name, code: cap.damaged.code, offset: cap.damaged.context.offset }, cap.damaged.message);
        }
      } catch (e) {
        if (!isPoolwatchError(e) || req.inputs.length === 1) throw e;
        incomplete = true;
        stats.inputs.push({ input: name, packets: 0, bytes: 0, damaged: e.message });
        log.error({ input: name, code: e.code }, e.message);
      } finally {
        clearInterval(timer);
        stdin.reading(null);
      }
      bytesDone += seen;
    }
    if (writer.fatal !== null) throw writer.fatal;
  } catch (e) {
    status = 'failed';
    throw e;
  } finally {
    decoder.finish();
    await run.close({
      packets: stats.packets,
      bytes: bytesDone,
      flows: decoder.totals.records,
      damaged: stats.inputs.filter((i) => i.damaged !== null).length,
      status: status === 'ok' && incomplete ? 'incomplete' : status,
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { runId: run.runId, db: run.db, incomplete, seconds, records: pipeline.stats, stats, decoder: decoder.totals, exporters: decoder.exporters() };
}

// ------------------------------------------------------------------------------------ flows (nfdump CSV)

export interface FlowsCsvRequest extends FlowRunRequest {
  inputs: string[];
}

export interface FlowsCsvResult extends FlowRunResult {
  inputs: ({ input: string } & NfdumpCsvStats)[];
  lines: number;
  bad: number;
}

/** Bad lines logged one by one per input; then one line with the count. */
const MAX_BAD_LINES_LOGGED = 20;

/** Screen `nfdump -o csv` output: records → RecordPipeline with inputKind 'nfdump'. */
export async function runFlowsCsv(req: FlowsCsvRequest): Promise<FlowsCsvResult> {
  checkInputs(req.inputs);
  const stdin = req.inputs.includes('-');
  const run = await openFlowRun(req, req.inputs, stdin);
  const { pipeline, sink } = run;
  const log = req.log;
  const dump = req.onRecord;
  let input = '';
  const onRecord = (r: FlowRecord): void => {
    pipeline.handleRecord(r, input, 'nfdump');
    if (dump !== null) dump(r);
  };
  const stop = new InputStop(req.stopSignal);
  const writer = guardHitWrites(sink, log, { rideOutLocks: stdin, onFatal: stop.stop });
  const results: FlowsCsvResult['inputs'] = [];
  let incomplete = false;
  let status = 'ok';
  let bytes = 0;
  const started = process.hrtime.bigint();
  try {
    for (const name of req.inputs) {
      if (stop.stopped || writer.fatal !== null) break;
      input = name;
      let logged = 0;
      const onBad = (p: CsvProblem) => {
        if (logged++ < MAX_BAD_LINES_LOGGED) log.warn({ input: name, line: p.line, text: p.text }, `${name}, line ${p.line}: ${p.reason}`);
      };
      // A pipe from nfdump runs for hours over years of archives: write hits as they come.
      const timer = name === '-' ? setInterval(writer.flush, 500) : null;
      try {
        const stream = name === '-' ? process.stdin : await openFile(name);
        stop.reading(stream);
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        const st = await readNfdumpCsvStream(stream, onRecord, onBad);
        results.push({ input: name, ...st });
        if (st.notCsv !== null) {
          incomplete = true;
          log.error({ input: name, code: 'PW_ERR_BAD_MAGIC' }, `${name}: ${st.notCsv}`);
        }
        if (st.bad > 0) {
          incomplete = true;
          if (st.bad > MAX_BAD_LINES_LOGGED) log.warn({ input: name, bad: st.bad }, `${name}: ${st.bad - MAX_BAD_LINES_LOGGED} more bad lines not logged`);
        }
        if (st.assumedHeader) log.info({ input: name }, `${name}: no header line; read with nfdump's standard csv columns`);
      } catch (e) {
        const err = isPoolwatchError(e) ? e : new PoolwatchError('PW_ERR_IO', `cannot read: ${(e as Error).message}`, { file: name });
        if (req.inputs.length === 1) throw err;
        incomplete = true;
        log.error({ input: name, code: err.code }, err.message);
      } finally {
        if (timer !== null) clearInterval(timer);
        stop.reading(null);
      }
    }
    if (writer.fatal !== null) throw writer.fatal;
  } catch (e) {
    status = 'failed';
    throw e;
  } finally {
    const lines = results.reduce((n, r) => n + r.lines, 0);
    await run.close({
      packets: lines,
      bytes,
      flows: results.reduce((n, r) => n + r.records, 0),
      damaged: results.filter((r) => r.bad > 0 || r.notCsv !== null).length,
      status: status === 'ok' && incomplete ? 'incomplete' : status,
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    runId: run.runId,
    db: run.db,
    incomplete,
    seconds,
    records: pipeline.stats,
    inputs: results,
    lines: results.reduce((n, r) => n + r.lines, 0),
    bad: results.reduce((n, r) => n + r.bad, 0),
  };
}

function openFile(path: string): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    const s = createReadStream(path, { highWaterMark: 1 << 20 });
    s.once('error', (e) => reject(new PoolwatchError('PW_ERR_IO', `cannot read: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { file: path })));
    s.once('ready', () => resolve(s));
  });
}

/**
 * Stopping what is being read: on the stop signal (SIGINT/SIGTERM) or a fatal write failure the
 * input being read is closed, so its read ends with what came so far; inputs not yet started are
 * skipped. Only a stream of our own is closed when the signal comes: a file is read to its end.
 */
class InputStop {
  stopped = false;
  private current: NodeJS.ReadableStream | null = null;

  constructor(signal: Promise<void> | undefined) {
    void signal?.then(() => {
      this.stopped = true;
      this.stop();
    });
  }

  readonly stop = (): void => {
    (this.current as { destroy?: () => void } | null)?.destroy?.();
  };

  reading(stream: NodeJS.ReadableStream | null): void {
    this.current = stream;
    if (stream !== null && this.stopped) this.stop();
  }
}
