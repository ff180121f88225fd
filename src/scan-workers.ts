/**
 * `scan --workers N`: the packet path on N threads. The main thread only reads the input and hands
 * every chunk to every worker (a copy each: a memcpy per MiB, nothing per packet); each worker
 * parses the records itself and keeps its share of the packets, chosen by flow/shard.ts so that a
 * flow, and a customer's DNS answers and connections, stay on one worker. Hits come back to the
 * main thread, which alone writes the database (cases and alerts included), so SQLite keeps one
 * writer. A worker spends a little on packets that are not its own (record header, IP and port
 * decode), which is why N workers are somewhat less than N times one.
 */
import { Worker } from 'node:worker_threads';
import type { CaptureStats } from './capture/reader.js';
import type { Config } from './config.js';
import { PoolwatchError, type ErrorCode, type ErrorContext } from './errors.js';
import type { RunStats } from './pipeline.js';
import type { FlowHit } from './report/types.js';

export interface WorkerInit {
  index: number;
  count: number;
  /**
   * Per worker, two int32 slots: chunks done and packets taken. Shared memory, not a message per
   * chunk: a postMessage costs more than parsing a MiB of small packets' headers.
   */
  progress: SharedArrayBuffer;
  config: Config;
  dbPath: string;
  blacklistFiles: string[];
}

export type ToWorker =
  | { type: 'begin'; name: string; kind: string }
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'end-input' }
  | { type: 'reload' }
  | { type: 'finish' };

export type FromWorker =
  | { type: 'ready' }
  /** Sent only when there is something to say: hits, or the input turned out damaged. */
  | { type: 'hits'; damaged: boolean; hits: FlowHit[] }
  | {
      type: 'input-done';
      capture: CaptureStats;
      damaged: { code: ErrorCode; message: string; context: ErrorContext } | null;
      hits: FlowHit[];
    }
  | { type: 'finished'; stats: RunStats; hits: FlowHit[] }
  | { type: 'failed'; message: string; code?: string };

/** Chunks a worker may have queued before the reader waits for it. */
const MAX_QUEUED = 16;

interface Member {
  worker: Worker;
  /** Chunks handed to it. */
  posted: number;
}

/** Where a worker counts in the progress array. */
export const DONE = 0;
export const PACKETS = 1;

export class ScanWorkers {
  private readonly members: Member[];
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];
  private readonly replies: FromWorker[][];
  private readonly progress: Int32Array;

  private constructor(
    count: number,
    init: Omit<WorkerInit, 'index' | 'count' | 'progress'>,
    private readonly onHit: (hit: FlowHit) => void,
  ) {
    this.replies = Array.from({ length: count }, () => []);
    const shared = new SharedArrayBuffer(count * 2 * 4);
    this.progress = new Int32Array(shared);
    this.members = Array.from({ length: count }, (_, index) => {
      const worker = new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: { ...init, index, count, progress: shared } satisfies WorkerInit });
      const m: Member = { worker, posted: 0 };
      worker.on('message', (msg: FromWorker) => this.receive(index, msg));
      worker.on('error', (e) => this.fail(e));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`scan worker ${index} exited with code ${code}`));
      });
      return m;
    });
  }

  /** Start `count` workers and wait until each has its list loaded. */
  static async start(count: number, init: Omit<WorkerInit, 'index' | 'count' | 'progress'>, onHit: (hit: FlowHit) => void): Promise<ScanWorkers> {
    const pool = new ScanWorkers(count, init, onHit);
    try {
      await pool.all('ready');
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Packets the workers have taken as theirs so far (for progress). */
  get packets(): number {
    let n = 0;
    for (let i = 0; i < this.members.length; i++) n += Atomics.load(this.progress, 2 * i + PACKETS);
    return n;
  }

  beginInput(name: string, kind: string): void {
    this.post({ type: 'begin', name, kind });
  }

  /**
   * Hand every chunk of `stream` to every worker, then end the input. Resolves with the capture
   * statistics (every worker reads every record, so worker 0's stand for all).
   */
  async read(stream: NodeJS.ReadableStream, onChunk: (bytes: number) => void): Promise<CaptureStats> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      this.check();
      onChunk(chunk.length);
      // One copy into shared memory that every worker reads (postMessage would clone per worker).
      const data = new Uint8Array(new SharedArrayBuffer(chunk.length));
      data.set(chunk);
      for (const m of this.members) {
        m.posted++;
        m.worker.postMessage({ type: 'chunk', data } satisfies ToWorker);
      }
      // Back pressure without messages: look at the workers' counters every millisecond.
      while (this.members.some((m, i) => m.posted - Atomics.load(this.progress, 2 * i + DONE) > MAX_QUEUED)) {
        this.check();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (this.damaged) break;
    }
    this.post({ type: 'end-input' });
    const done = await this.all('input-done');
    const first = done[0] as Extract<FromWorker, { type: 'input-done' }>;
    const d = first.damaged;
    return { ...first.capture, damaged: d === null ? null : rebuildError(d) };
  }

  /** A newer list version is in force in the main thread: the workers load it too. */
  reload(): void {
    this.post({ type: 'reload' });
  }

  /** End every flow in every worker; the run's statistics, summed. */
  async finish(): Promise<RunStats> {
    this.post({ type: 'finish' });
    const done = (await this.all('finished')) as Extract<FromWorker, { type: 'finished' }>[];
    await this.close();
    return mergeStats(done.map((d) => d.stats));
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.worker.terminate()));
  }

  private damaged = false;

  private receive(index: number, msg: FromWorker): void {
    if (msg.type === 'failed') {
      this.fail(msg.code !== undefined ? new PoolwatchError(msg.code as ErrorCode, msg.message) : new Error(msg.message));
      return;
    }
    if (msg.type === 'hits' && msg.damaged) this.damaged = true;
    if ('hits' in msg) for (const h of msg.hits) this.onHit(h);
    if (msg.type !== 'hits') this.replies[index].push(msg);
    this.wake();
  }

  /** Wait until every worker has sent a message of this type; returns them in worker order. */
  private async all(type: FromWorker['type']): Promise<FromWorker[]> {
    for (;;) {
      this.check();
      if (this.replies.every((r) => r.some((x) => x.type === type))) {
        return this.replies.map((r) => {
          const i = r.findIndex((x) => x.type === type);
          return r.splice(i, 1)[0];
        });
      }
      await this.wait();
    }
  }

  private post(msg: ToWorker): void {
    this.check();
    for (const m of this.members) m.worker.postMessage(msg);
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A worker's error as the main thread's own (the message is already formatted with its context). */
function rebuildError(d: { code: ErrorCode; message: string; context: ErrorContext }): PoolwatchError {
  const e = new PoolwatchError(d.code, d.message, d.context);
  e.message = d.message;
  return e;
}

/** Counters summed; the per-input summaries are worker 0's, with every worker's link-type warnings. */
function mergeStats(all: RunStats[]): RunStats {
  const out: RunStats = { ...all[0], inputs: all[0].inputs.map((i) => ({ ...i })) };
  for (const s of all.slice(1)) {
    for (const k of Object.keys(out) as (keyof RunStats)[]) {
      if (typeof out[k] === 'number') (out as unknown as Record<string, number>)[k] += s[k] as number;
    }
  }
  // Capture bytes are the input's, read by every worker alike: not a sum.
  out.bytes = all[0].bytes;
  return out;
}
