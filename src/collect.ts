/**
 * The live collector: UDP sockets receiving NetFlow v5, v9 and IPFIX from routers (told apart by
 * the version field, so one port takes all three), one FlowDecoder for all of them (templates are
 * kept per exporter and domain inside it), records → RecordPipeline → HitSink like every other
 * input. Runs until the stop signal (SIGINT/SIGTERM), then flushes everything; reloads the
 * configuration and the lists on request (SIGHUP); stops with PW_ERR_DB when hits cannot be
 * written for good (disk full, read-only database).
 *
 * What it logs (pino JSON on stderr): each exporter when first heard, templates learned (checked
 * twice a second), every `statsIntervalMs` a "collector stats" line (datagrams, records, dropped,
 * decode errors, estimated export loss from sequence numbers, per exporter, and what the kernel
 * dropped), and the same at the end.
 *
 * Kernel drops: when datagrams arrive faster than we read them, the socket's receive buffer fills
 * and Linux drops the rest, counting them per socket in the last column ("drops") of
 * /proc/net/udp and /proc/net/udp6. We find our sockets' rows by inode: /proc/self/fd links name
 * each socket's inode ("socket:[123]"), and the rows carry the inode. Elsewhere the count is null.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { FlowDecoder, worstExporters, type ExporterStats } from './capture/netflow/decoder.js';
import type { FlowRecord } from './capture/netflow/types.js';
import { PoolwatchError } from './errors.js';
import { openFlowRun, type FlowRunRequest, type FlowRunResult } from './netflow-scan.js';
import { guardHitWrites } from './recording.js';
import { serveReloads, type ReloadRequests } from './reload.js';

export interface ListenAddress {
  /** As given, for messages and the run row. */
  text: string;
  host: string;
  port: number;
  family: 4 | 6;
}

/** "192.0.2.1:2055", "0.0.0.0:2055", "[::]:2055", "[2001:db8::1]:4739". Port 0 picks a free one. */
export function parseListen(s: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]+):(\d{1,5})$/.exec(s);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) {
    throw new PoolwatchError('PW_ERR_USAGE', `--listen ${s}: want ADDRESS:PORT, e.g. 0.0.0.0:2055 or [::]:2055`);
  }
  const host = m[1]!;
  if (isIPv4(host)) return { text: s, host, port, family: 4 };
  if (isIPv6(host) && s.startsWith('[')) return { text: s, host, port, family: 6 };
  throw new PoolwatchError('PW_ERR_USAGE', `--listen ${s}: ${host} is not an IPv4 address or a bracketed IPv6 address`);
}

export interface CollectRequest extends FlowRunRequest {
  listen: ListenAddress[];
  /** Socket receive buffer asked for (bytes). */
  recvBufferSize: number;
  /** How often the stats line is logged (ms). */
  statsIntervalMs: number;
  /** Resolves when the collector should stop. */
  stopSignal: Promise<void>;
  /** Reload requests (SIGHUP): configuration and lists read again, the list swapped in (src/reload.ts). */
  reload?: ReloadRequests;
  /** Called once every socket is bound, with the addresses actually bound (port 0 resolved). */
  onListening?: (bound: { listen: string; address: string; port: number }[]) => void;
  /** Called about twice a second (flush the dump, say). */
  onTick?: () => void;
}

export interface CollectStats {
  datagrams: number;
  bytes: number;
  /** Datagrams dropped by the kernel on our sockets (null: not known on this system). */
  kernelDrops: number | null;
}

export interface CollectResult extends FlowRunResult {
  stats: CollectStats;
  decoder: FlowDecoder['totals'];
  exporters: ExporterStats[];
  /** Receive buffer the kernel granted per socket (Linux reports twice what it accounts). */
  recvBuffer: number[];
}

const MAX_DECODE_ERRORS_LOGGED = 20;

/** Bytes of datagrams held while the database and the blacklist open (after binding), at most. */
const MAX_STARTUP_QUEUE_BYTES = 32 * 1024 * 1024;
/** Exporter addresses logged one by one ("exporter seen"); past that, spoofed floods are only counted. */
const MAX_EXPORTERS_LOGGED = 10_000;
/** "templates learned" lines per look (twice a second); past that a template flood is one summary line. */
const MAX_TEMPLATE_LINES = 20;
/** Exporter domains listed in a stats line: the most damaged, then the busiest (decoder totals count all). */
export const MAX_EXPORTERS_IN_STATS = 50;

export async function runCollect(req: CollectRequest): Promise<CollectResult> {
  if (req.listen.length === 0) throw new PoolwatchError('PW_ERR_USAGE', 'nothing to listen on: give --listen ADDRESS:PORT');
  const log = req.log;
  const sockets: Socket[] = [];
  const recvBuffer: number[] = [];
  const stats: CollectStats = { datagrams: 0, bytes: 0, kernelDrops: null };
  // Until the run is open, datagrams wait here (a busy port must not lose its first templates
  // while a big blacklist loads); then `receive` is swapped for the real handler.
  const queue: [Buffer, string, number][] = [];
  let queued = 0;
  let startupDropped = 0;
  let receive = (msg: Buffer, address: string, i: number): void => {
    if (queued + msg.length <= MAX_STARTUP_QUEUE_BYTES) {
      queue.push([msg, address, i]);
      queued += msg.length;
    } else startupDropped++;
  };
  const closeAll = () =>
    Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((r) => {
            try {
              s.close(() => r());
            } catch {
              r();
            }
          }),
      ),
    );

  // Sockets first: an address in use fails before any database or list work.
  try {
    for (const l of req.listen) {
      // A dual-stack [::] socket would take the IPv4 port too; with an IPv4 socket on the same
      // port given as well, keep each to its family.
      const v4Twin = l.family === 6 && req.listen.some((o) => o.family === 4 && o.port === l.port);
      const sock = createSocket({ type: l.family === 4 ? 'udp4' : 'udp6', ipv6Only: v4Twin });
      const i = sockets.length;
      sockets.push(sock);
      sock.on('message', (msg, rinfo) => receive(msg, rinfo.address, i));
      await bind(sock, l);
      sock.on('error', (e) => log.error({ listen: l.text, err: e.message }, `socket ${l.text}: ${e.message}`));
      try {
        sock.setRecvBufferSize(req.recvBufferSize);
      } catch (e) {
        log.warn({ listen: l.text, err: (e as Error).message }, 'could not set the receive buffer size');
      }
      const granted = sock.getRecvBufferSize();
      recvBuffer.push(granted);
      // Linux doubles the value asked for (bookkeeping overhead) and caps it at net.core.rmem_max.
      if (granted < req.recvBufferSize) {
        log.warn(
          { listen: l.text, asked: req.recvBufferSize, granted },
          `receive buffer capped at ${granted} bytes: raise net.core.rmem_max (sysctl -w net.core.rmem_max=${req.recvBufferSize}) so bursts are not dropped`,
        );
      }
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  // What the sockets really are (port 0 resolved), for the run row, hits.input and the logs.
  const labels = sockets.map((s) => {
    const a = s.address();
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  });
  const inputs = labels.map((l) => `netflow ${l}`);

  let run: Awaited<ReturnType<typeof openFlowRun>>;
  try {
    run = await openFlowRun(req, inputs, true);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const { pipeline, sink } = run;
  // Writing hits: locks held by another process are ridden out; any other write failure stops
  // the collector (recording.ts guardHitWrites).
  let stopOnFailure!: () => void;
  const failed = new Promise<void>((resolve) => (stopOnFailure = resolve));
  const writer = guardHitWrites(sink, log, { rideOutLocks: true, onFatal: () => stopOnFailure() });

  const stopReloads = req.reload !== undefined ? serveReloads(req.reload, run.recording, req.config, req.blacklistFiles, log) : () => {};
  const decoder = new FlowDecoder();
  const dump = req.onRecord;
  const seen = new Set<string>();
  let errorsLogged = 0;
  let handlerErrors = 0;
  const started = process.hrtime.bigint();
  let status = 'ok';
  const timers: NodeJS.Timeout[] = [];
  let lastTemplates = new Map<string, number>();

  // One record callback per socket, made once: hits.input names the socket the record came in on.
  const onRecords = inputs.map((input) => (r: FlowRecord): void => {
    pipeline.handleRecord(r, input, 'netflow');
    if (dump !== null) dump(r);
  });
  const handle = (msg: Buffer, address: string, i: number): void => {
    stats.datagrams++;
    stats.bytes += msg.length;
    // A dual-stack socket hands IPv4 exporters over as ::ffff:a.b.c.d.
    const exporter = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    if (seen.size < MAX_EXPORTERS_LOGGED && !seen.has(exporter)) {
      seen.add(exporter);
      log.info({ exporter, listen: labels[i], version: msg.length >= 2 ? msg.readUInt16BE(0) : null }, 'exporter seen');
    }
    let res;
    try {
      res = decoder.decode(msg, 0, msg.length, exporter, Date.now(), onRecords[i]!);
    } catch (e) {
      // Not a write failure (those go to the writer's policy through sink.onWriteError): a bug. One
      // datagram is lost, the collector goes on; logged once.
      if (handlerErrors++ === 0) log.error({ exporter, err: (e as Error).message }, `datagram from ${exporter} could not be handled: ${(e as Error).message}`);
      return;
    }
    if (res.error !== null && errorsLogged < MAX_DECODE_ERRORS_LOGGED) {
      errorsLogged++;
      log.warn({ exporter, listen: labels[i], version: res.version }, res.error);
      if (errorsLogged === MAX_DECODE_ERRORS_LOGGED) log.warn({}, 'further decode errors are only counted (see the stats lines)');
    }
  };

  const statsLine = (msg: string) => {
    stats.kernelDrops = kernelDrops(sockets);
    const exporters = decoder.exporters();
    log.info(
      {
        datagrams: stats.datagrams,
        bytes: stats.bytes,
        decoder: decoder.totals,
        exportLoss: exporters.reduce((n, e) => n + e.sequenceLost, 0),
        kernelDrops: stats.kernelDrops,
        rules: pipeline.stats,
        hitsWritten: sink.written,
        exporters: worstExporters(exporters, MAX_EXPORTERS_IN_STATS),
      },
      msg,
    );
  };

  try {
    for (const [msg, address, i] of queue) handle(msg, address, i);
    queue.length = 0;
    receive = handle;
    if (startupDropped > 0) log.warn({ dropped: startupDropped }, `${startupDropped} datagrams dropped while the run opened`);
    log.info({ sockets: labels, recvBuffer, runId: run.runId }, 'listening');
    req.onListening?.(sockets.map((s, i) => ({ listen: labels[i]!, address: s.address().address, port: s.address().port })));

    timers.push(
      setInterval(() => {
        // Live: hits reach the database about twice a second, as in live scans.
        writer.flush();
        req.onTick?.();
        lastTemplates = logNewTemplates(decoder.exporters(), lastTemplates, log);
      }, 500),
      setInterval(() => statsLine('collector stats'), req.statsIntervalMs),
    );
    await Promise.race([req.stopSignal, failed]);
    if (writer.fatal !== null) throw writer.fatal;
  } catch (e) {
    status = 'failed';
    throw e;
  } finally {
    stopReloads();
    for (const t of timers) clearInterval(t);
    stats.kernelDrops = kernelDrops(sockets);
    await closeAll();
    decoder.finish();
    try {
      await run.close({ packets: stats.datagrams, bytes: stats.bytes, flows: decoder.totals.records, damaged: 0, status });
    } catch (e) {
      // With a failure already on its way out, this one (most likely the same full disk) is logged.
      if (writer.fatal === null) throw e;
      log.warn({ code: (e as PoolwatchError).code }, `closing the run failed too: ${(e as Error).message}`);
    }
  }
  lastTemplates = logNewTemplates(decoder.exporters(), lastTemplates, log);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    runId: run.runId,
    db: run.db,
    incomplete: false,
    seconds,
    records: pipeline.stats,
    stats,
    decoder: decoder.totals,
    exporters: decoder.exporters(),
    recvBuffer,
  };
}

function bind(sock: Socket, l: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      reject(new PoolwatchError('PW_ERR_IO', `cannot listen on ${l.text}: ${e.code ?? e.message}`, { listen: l.text }));
    };
    sock.once('error', onError);
    sock.bind(l.port, l.host, () => {
      sock.removeListener('error', onError);
      resolve();
    });
  });
}

/** Log exporters whose template count grew since the last look; returns the counts now. */
function logNewTemplates(exporters: ExporterStats[], before: Map<string, number>, log: CollectRequest['log']): Map<string, number> {
  const now = new Map<string, number>();
  let lines = 0;
  for (const e of exporters) {
    const key = `${e.exporter} ${e.domain}`;
    const n = e.templates + e.optionsTemplates;
    now.set(key, n);
    if (n <= (before.get(key) ?? 0) || lines++ >= MAX_TEMPLATE_LINES) continue;
    log.info({ exporter: e.exporter, domain: e.domain, version: e.version, templates: e.templates, optionsTemplates: e.optionsTemplates }, 'templates learned');
  }
  if (lines > MAX_TEMPLATE_LINES) {
    const more = lines - MAX_TEMPLATE_LINES;
    log.info({ domains: more }, `templates learned by ${more} more exporter domains (not listed one by one)`);
  }
  return now;
}

/**
 * Datagrams the kernel dropped on these sockets since they were opened: the "drops" column of
 * /proc/net/udp{,6} for our sockets' inodes. null when /proc is not there (not Linux).
 */
export function kernelDrops(sockets: Socket[]): number | null {
  if (sockets.length === 0) return 0;
  let inodes: Set<string>;
  try {
    inodes = ownSocketInodes();
  } catch {
    return null;
  }
  const ports = new Set<number>();
  for (const s of sockets) {
    try {
      ports.add(s.address().port);
    } catch {
      // closed
    }
  }
  let total = 0;
  let found = false;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      if (f.length < 13) continue;
      const port = parseInt(f[1]!.split(':')[1] ?? '', 16);
      if (!ports.has(port) || !inodes.has(f[9]!)) continue;
      found = true;
      total += Number(f[12]);
    }
  }
  return found ? total : null;
}

/** Inodes of the sockets this process holds open. */
function ownSocketInodes(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m !== null) out.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
