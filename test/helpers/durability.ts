/**
 * Hard stops and durability (issue 7): long-running poolwatch processes fed slowly, killed,
 * signalled and starved of disk, and the database looked at from another connection.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { BIN, ROOT, logLines, type CliResult } from './cli.js';
import { ethernet, tcpPacket } from './frames.js';
import { v5, type V5Record } from './netflow-build.js';
import { BASE_TS_MICROS, writePcap } from './pcap-writer.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The log lines written so far, without a last line still being written. */
function written(stderr: string): Record<string, any>[] {
  return logLines(stderr.slice(0, stderr.lastIndexOf('\n') + 1));
}

export interface Proc {
  child: ReturnType<typeof spawn>;
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
  stderr(): string;
  logs(): Record<string, any>[];
  /** Write to its standard input (errors after it stopped reading are ignored). */
  write(b: Uint8Array): void;
  /** The first log line `pred` accepts, waiting for it (rejects if the process exits first). */
  waitForLog(pred: (l: Record<string, any>) => boolean, ms?: number): Promise<Record<string, any>>;
}

/** Start the built CLI with pipes on all three streams; `uid`/`gid` run it as another user (root only). */
export function start(args: string[], opts: { uid?: number; gid?: number } = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => {});
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  let exited = false;
  void done.then(() => (exited = true));
  return {
    child,
    done,
    stderr: () => stderr,
    logs: () => written(stderr),
    write: (b) => {
      if (!exited && child.stdin!.writable) child.stdin!.write(b);
    },
    async waitForLog(pred, ms = 20_000) {
      const t0 = Date.now();
      for (;;) {
        const l = written(stderr).find(pred);
        if (l !== undefined) return l;
        if (exited) throw new Error(`process exited before the log line: ${stderr}`);
        if (Date.now() - t0 > ms) throw new Error(`no such log line after ${ms} ms: ${stderr}`);
        await sleep(20);
      }
    },
  };
}

// ------------------------------------------------------------------------------ packets on a pipe

/** The 24-byte pcap file header (Ethernet). */
export const PCAP_HEADER = writePcap([]);

/** One pcap record, without the file header. */
export function pcapRecord(frame: Uint8Array, tsMicros: number): Buffer {
  return writePcap([{ data: frame, tsMicros }]).subarray(PCAP_HEADER.length);
}

/** A distinct customer address per index (10.x.y.z). */
export const srcOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Packets (pcap records) in one session. */
export const SESSION_PACKETS = 2;

/**
 * One short, opaque TCP session from `src` to `pool:port` at capture time `ts` (µs): a SYN and one
 * data segment no payload rule recognises, so only the blacklist can flag it. Packet times are the
 * capture's: with flows.idleTimeout 1 a session ends (and becomes a hit) once the capture clock
 * has moved 1 s past it.
 */
export function session(src: string, pool: string, port: number, ts: number): Buffer {
  const sport = 40000 + (ts / 1000) % 20000;
  return Buffer.concat([
    pcapRecord(ethernet(tcpPacket(src, pool, sport, port, undefined, { flags: 'S', seq: 1 })), ts),
    pcapRecord(ethernet(tcpPacket(src, pool, sport, port, 'opaque bytes, no protocol', { flags: 'PA', seq: 2 })), ts + 1000),
  ]);
}

/** Capture time of session `i`: 2 s apart, so each session ends the one before (idleTimeout 1). */
export const sessionTs = (i: number) => BASE_TS_MICROS + i * 2_000_000;

// ------------------------------------------------------------------------------ NetFlow v5

/** One v5 datagram with a record per source, each to `pool:port`. */
export function v5Datagram(seq: number, srcs: string[], pool: string, port: number): Uint8Array {
  const records: V5Record[] = srcs.map((src, i) => ({
    src, dst: pool, packets: 10, bytes: 1500, first: 1000, last: 2000, srcPort: 40000 + i, dstPort: port, proto: 6,
  }));
  return v5({ sysUptime: 10_000, unixSecs: 1_700_000_000 + seq, sequence: seq, count: records.length }, records);
}

// ------------------------------------------------------------------------------ configuration

/**
 * A configuration for these tests in `dir`: one configured source (`config-pools.txt`, plain,
 * holding `sourceLines`), no name resolution, no allow-list, idle timeout 1 s.
 */
export function writeConfig(dir: string, sourceLines: string[], extra = ''): string {
  writeFileSync(join(dir, 'config-pools.txt'), sourceLines.join('\n') + '\n');
  const path = join(dir, 'poolwatch.yaml');
  writeFileSync(
    path,
    `blacklist:
  sources:
    - name: test-pools
      file: config-pools.txt
      format: plain
  resolver: false
  allow: []
poolPorts: [3333, 5555, 7777]
flows:
  idleTimeout: 1
  activeTimeout: 1800
${extra}`,
  );
  return path;
}

// ------------------------------------------------------------------------------ the database

export interface HitRow {
  run_id: number;
  src: string;
  pool_ip: string;
  pool_port: number;
  evidence: string;
  blacklist_entry: string | null;
  blacklist_version: number | null;
  flows: number;
  packets_up: number;
  bytes_up: number;
  packets_down: number;
  bytes_down: number;
  first_seen: number;
  last_seen: number;
}

export interface RunRow {
  id: number;
  started_at: string;
  finished_at: string | null;
  command: string;
  status: string;
  packets: number;
  hits: number;
  pid: number | null;
}

const HIT_COLUMNS = 'run_id, src, pool_ip, pool_port, evidence, blacklist_entry, blacklist_version, flows, packets_up, bytes_up, packets_down, bytes_down, first_seen, last_seen';

/**
 * What another connection sees committed now: hits and runs. Null while there is no database to
 * look at yet (not created, or created but its schema not committed).
 */
export function committed(path: string): { hits: HitRow[]; runs: RunRow[] } | null {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return null;
  }
  try {
    const hasRuns = db.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name IN ('hits', 'runs')`).pluck().get() === 2;
    if (!hasRuns) return null;
    const hits = db.prepare(`SELECT ${HIT_COLUMNS} FROM hits ORDER BY run_id, src`).all() as HitRow[];
    const runs = db.prepare('SELECT id, started_at, finished_at, command, status, packets, hits, pid FROM runs ORDER BY id').all() as RunRow[];
    return { hits, runs };
  } catch {
    // A schema being created right now, say: look again later.
    return null;
  } finally {
    db.close();
  }
}

/**
 * Open the file as the next user would (read-write: a killed writer's WAL is recovered) and
 * check it: integrity_check and foreign_key_check.
 */
export function soundness(path: string): { integrity: string; foreignKeyProblems: number } {
  const db = new Database(path);
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    const foreignKeyProblems = (db.pragma('foreign_key_check') as unknown[]).length;
    return { integrity, foreignKeyProblems };
  } finally {
    db.close();
  }
}

export const hitKey = (h: { run_id: number; src: string; pool_ip: string; pool_port: number }) => `${h.run_id} ${h.src} ${h.pool_ip}:${h.pool_port}`;

/**
 * Wait until process `pid` has `path` open (Linux: a /proc/PID/fd link to it); false if it exits
 * or `ms` pass first. Lets a test kill a process while it works on the database file.
 */
export async function waitForOpenFile(pid: number, path: string, ms = 20_000): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return false;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) return true;
      } catch {
        // closed meanwhile
      }
    }
    await sleep(1);
  }
  return false;
}

/**
 * Temporary directories for one test file, removed when the file's tests are done. `before` runs
 * first in that clean-up (e.g. unmounting what was mounted inside them).
 */
export function tempDirs(prefix: string, before: () => void = () => {}): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    before();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** Wait until another connection sees `n` hit rows committed. */
export async function waitForHits(db: string, n: number, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const c = committed(db);
    if (c !== null && c.hits.length >= n) return;
    if (Date.now() - t0 > ms) throw new Error(`saw ${c?.hits.length ?? 0} of ${n} hits`);
    await sleep(25);
  }
}
