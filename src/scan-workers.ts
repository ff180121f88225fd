/**
 * `scan --workers N`: the packet path on N threads. The main thread reads the input, frames the
 * records and decodes each packet's addresses and ports once, to choose its worker (flow/shard.ts:
 * a flow, and a customer's DNS answers and connections, stay on one worker); it copies each packet
 * into that worker's batch in shared memory, one batch per worker per chunk read. Each worker runs
 * the whole packet path on its own packets only. Hits come back to the main thread, which alone
 * writes the database (cases and alerts included), so SQLite keeps one writer. The main thread's
 * share (framing, one decode and a copy per packet) does not shrink with N: it bounds the gain.
 */
import { Worker } from 'node:worker_threads';
import type { PacketView } from './capture/packet.js';
import { CaptureReader, ioError, type CaptureStats } from './capture/reader.js';
import { decodePacket } from './decode/index.js';
import { newDecodedPacket } from './decode/types.js';
import { ownerOf } from './flow/shard.js';
import type { Config } from './config.js';
import { isPoolwatchError, PoolwatchError, type ErrorCode, type ErrorContext } from './errors.js';
import type { RunStats } from './pipeline.js';
import type { FlowHit } from './report/types.js';

export interface WorkerInit {
  index: number;
  count: number;
  /** Per worker, one int32: batches done. Shared memory, so back pressure needs no messages. */
  progress: SharedArrayBuffer;
  config: Config;
  dbPath: string;
  blacklistFiles: string[];
}

export type ToWorker =
  | { type: 'begin'; name: string; kind: string }
  /**
   * `count` packets: packet i is bytes[meta[i*M+OFFSET], + meta[i*M+CAPLEN]), with its record's
   * fields alongside (see META_*).
   */
  | { type: 'packets'; bytes: Uint8Array; meta: Float64Array; count: number; now: number }
  /** No packets for this worker in the last chunk, but capture time went on (idle flows end). */
  | { type: 'tick'; now: number }
  | { type: 'end-input'; capture: CaptureStats; damaged: { code: ErrorCode; message: string; context: ErrorContext } | null }
  | { type: 'reload' }
  | { type: 'finish' };

export type FromWorker =
  | { type: 'ready' }
  /** Sent only when there are hits. */
  | { type: 'hits'; hits: FlowHit[] }
  | { type: 'input-done'; hits: FlowHit[] }
  | { type: 'finished'; stats: RunStats; hits: FlowHit[] }
  | { type: 'failed'; message: string; code?: string };

/** Batches a worker may have queued before the reader waits for it. */
const MAX_QUEUED = 16;

/** Fields of a packet in a batch's meta array. */
export const META_OFFSET = 0;
export const META_CAPLEN = 1;
export const META_ORIGLEN = 2;
export const META_TS = 3;
export const META_LINKTYPE = 4;
export const META_INDEX = 5;
export const META_FILE_OFFSET = 6;
export const META_FIELDS = 7;

/** One worker's packets of the chunk being read, in shared memory (grown when a chunk needs more). */
interface Batch {
  bytes: Uint8Array;
  used: number;
  meta: Float64Array;
  count: number;
}

interface Member {
  worker: Worker;
  /** Batches handed to it. */
  posted: number;
  /** Packets handed to it (for progress). */
  packets: number;
  /** Capture time last told to it. */
  told: number;
  /**
   * RING batches reused in turn: batch number `posted` fills ring[posted % RING]. Back pressure
   * keeps at most MAX_QUEUED unread, so the one filled next was read long ago (fresh shared
   * memory per chunk would cost a page fault per 4 KiB and the garbage collector a lot).
   */
  ring: Batch[];
  batch: Batch;
}

const RING = MAX_QUEUED + 2;

const newBatch = (bytes: number, packets: number): Batch => ({
  bytes: new Uint8Array(new SharedArrayBuffer(bytes)),
  used: 0,
  meta: new Float64Array(new SharedArrayBuffer(packets * META_FIELDS * 8)),
  count: 0,
});
/** No room yet: the next chunk (or the first packet) makes a batch of the right size. */
const EMPTY = newBatch(0, 0);

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
    const shared = new SharedArrayBuffer(count * 4);
    this.progress = new Int32Array(shared);
    this.members = Array.from({ length: count }, (_, index) => {
      const worker = new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: { ...init, index, count, progress: shared } satisfies WorkerInit });
      const m: Member = { worker, posted: 0, packets: 0, told: 0, ring: Array.from({ length: RING }, () => EMPTY), batch: EMPTY };
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
    for (const m of this.members) n += m.packets;
    return n;
  }

  beginInput(name: string, kind: string): void {
    this.post({ type: 'begin', name, kind });
  }

  /**
   * Read `stream`, handing each packet to its worker, then end the input everywhere. Resolves with
   * the capture statistics; a damaged input stops at the damage, as a one-thread scan does.
   */
  async read(stream: NodeJS.ReadableStream, name: string, onChunk: (bytes: number) => void): Promise<CaptureStats> {
    const reader = new CaptureReader(name, this.dispatch);
    try {
      await this.pump(stream, reader, onChunk);
    } catch (e) {
      // Closed under us (a signal closes standard input): the input ends there, as with one thread.
      if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw isPoolwatchError(e) ? e : ioError(name, e);
    }
    const capture = reader.end();
    this.send();
    const d = capture.damaged;
    this.post({ type: 'end-input', capture: { ...capture, damaged: null }, damaged: d === null ? null : { code: d.code, message: d.message, context: d.context } });
    await this.all('input-done');
    return capture;
  }

  private async pump(stream: NodeJS.ReadableStream, reader: CaptureReader, onChunk: (bytes: number) => void): Promise<void> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      this.check();
      onChunk(chunk.length);
      for (const m of this.members) {
        // Room for the whole chunk; a record straddling chunks (from the reader's carry) grows it.
        if (m.batch.bytes.length < chunk.length) this.replace(m, newBatch(chunk.length, (chunk.length >> 6) + 16));
      }
      reader.push(chunk);
      this.send();
      // Back pressure without messages: look at the workers' counters every millisecond.
      while (this.members.some((m, i) => m.posted - Atomics.load(this.progress, i) > MAX_QUEUED)) {
        this.check();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      if (reader.stats.damaged !== null) break;
    }
  }

  /** The reader's packet handler: one decode to choose the worker, one copy into its batch. */
  private readonly dispatch = (p: PacketView): void => {
    const outcome = decodePacket(p, this.pkt);
    const m = this.members[ownerOf(outcome, this.pkt, this.members.length)];
    let b = m.batch;
    if (b.used + p.caplen > b.bytes.length || (b.count + 1) * META_FIELDS > b.meta.length) b = this.grow(m, p.caplen);
    b.bytes.set(p.data.subarray(p.offset, p.offset + p.caplen), b.used);
    const k = b.count * META_FIELDS;
    const meta = b.meta;
    meta[k + META_OFFSET] = b.used;
    meta[k + META_CAPLEN] = p.caplen;
    meta[k + META_ORIGLEN] = p.origLen;
    meta[k + META_TS] = p.tsMicros;
    meta[k + META_LINKTYPE] = p.linkType;
    meta[k + META_INDEX] = p.index;
    meta[k + META_FILE_OFFSET] = p.fileOffset;
    if (p.tsMicros > this.now) this.now = p.tsMicros;
    b.used += p.caplen;
    b.count++;
    m.packets++;
  };

  private readonly pkt = newDecodedPacket();
  /** The latest capture time read so far. */
  private now = 0;

  private grow(m: Member, need: number): Batch {
    const old = m.batch;
    const bytes = old.used + need > old.bytes.length ? Math.max(old.bytes.length * 2, old.used + need) : old.bytes.length;
    const packets = (old.count + 1) * META_FIELDS > old.meta.length ? old.count * 2 + 16 : old.meta.length / META_FIELDS;
    const b = newBatch(bytes, packets);
    b.bytes.set(old.bytes.subarray(0, old.used));
    b.meta.set(old.meta.subarray(0, old.count * META_FIELDS));
    b.used = old.used;
    b.count = old.count;
    this.replace(m, b);
    return b;
  }

  /** A bigger batch in the ring slot being filled. */
  private replace(m: Member, b: Batch): void {
    m.ring[m.posted % RING] = b;
    m.batch = b;
  }

  /**
   * Hand each worker the batch it has; the next chunk fills the next one of its ring. A worker
   * with nothing this time is still told how far capture time went, about once a second of it.
   */
  private send(): void {
    for (const m of this.members) {
      const b = m.batch;
      if (b.count === 0) {
        if (this.now - m.told >= 1e6) {
          m.told = this.now;
          m.worker.postMessage({ type: 'tick', now: this.now } satisfies ToWorker);
        }
        continue;
      }
      m.posted++;
      m.told = this.now;
      m.worker.postMessage({ type: 'packets', bytes: b.bytes, meta: b.meta, count: b.count, now: this.now } satisfies ToWorker);
      m.batch = m.ring[m.posted % RING]!;
      m.batch.used = 0;
      m.batch.count = 0;
    }
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

  private receive(index: number, msg: FromWorker): void {
    if (msg.type === 'failed') {
      this.fail(msg.code !== undefined ? new PoolwatchError(msg.code as ErrorCode, msg.message) : new Error(msg.message));
      return;
    }
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

/** An error sent between threads, as it was (its message is already formatted with its context). */
export function rebuildError(d: { code: ErrorCode; message: string; context: ErrorContext }): PoolwatchError {
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
  // Capture bytes are the input's, told to every worker alike: not a sum.
  out.bytes = all[0].bytes;
  return out;
}
