import { guard, type Database } from './db.js';
import { currentOwner, ownerGone } from './owner.js';
import { strongerCategory, type FlowHit, type HitEvidence } from './types.js';

export interface RunStart {
  /** The command line (or sub-command) that produced the run, for the record. */
  command: string;
  /** Input names (files, interfaces, "-"), stored as a JSON array. */
  inputs: string[];
}

export interface RunEnd {
  packets: number;
  bytes: number;
  flows: number;
  /** Inputs that ended damaged (truncated or corrupt part-way). */
  damaged: number;
  /**
   * 'ok', 'incomplete' (some input damaged or skipped), 'failed' (stopped on an error). A row
   * stays 'running' until finished; one whose process died without finishing (kill -9, a crash, a
   * power cut, or a disk so full that not even the run row could be closed) is marked
   * 'interrupted' by the next run on the database (markInterruptedRuns).
   */
  status: string;
}

/** Record the start of a run, with the process that runs it; returns its id for HitSink and finishRun. */
export function startRun(db: Database, run: RunStart): number {
  const owner = currentOwner();
  return guard(db, () => {
    const info = db
      .prepare(`INSERT INTO runs (started_at, command, inputs, status, host, pid, pid_start) VALUES (?, ?, ?, 'running', ?, ?, ?)`)
      .run(new Date().toISOString(), run.command, JSON.stringify(run.inputs), owner.host, owner.pid, owner.start);
    return Number(info.lastInsertRowid);
  });
}

export interface InterruptedRun {
  id: number;
  pid: number;
  startedAt: string;
  /** Hit rows it had committed: they stay. */
  hits: number;
}

/**
 * Runs left 'running' by a process that is gone (killed, crashed) become 'interrupted', with their
 * committed hits counted; `finished_at` stays NULL (when it died is not known). Runs of processes
 * still alive, on other hosts, or from before schema version 6 are left alone. Returns what it
 * marked.
 */
export function markInterruptedRuns(db: Database): InterruptedRun[] {
  return guard(db, () => {
    const rows = db
      .prepare(`SELECT id, started_at AS startedAt, host, pid, pid_start AS start FROM runs WHERE status = 'running' AND pid IS NOT NULL ORDER BY id`)
      .all() as { id: number; startedAt: string; host: string | null; pid: number; start: string | null }[];
    const gone = rows.filter((r) => ownerGone(r));
    if (gone.length === 0) return [];
    const mark = db.prepare(
      `UPDATE runs SET status = 'interrupted', hits = (SELECT COUNT(*) FROM hits WHERE run_id = runs.id)
       WHERE id = ? AND status = 'running' RETURNING hits`,
    );
    return db.transaction(() => {
      const out: InterruptedRun[] = [];
      for (const r of gone) {
        // Another process may have marked it meanwhile: then RETURNING gives nothing.
        const got = mark.get(r.id) as { hits: number } | undefined;
        if (got !== undefined) out.push({ id: r.id, pid: r.pid, startedAt: r.startedAt, hits: got.hits });
      }
      return out;
    }).immediate();
  });
}

/**
 * Record the end of a run. `hits` is counted from the hits table, so flush the HitSink first.
 */
export function finishRun(db: Database, runId: number, end: RunEnd): void {
  guard(db, () => {
    const info = db
      .prepare(
        `UPDATE runs SET finished_at = ?, packets = ?, bytes = ?, flows = ?, damaged = ?, status = ?,
           hits = (SELECT COUNT(*) FROM hits WHERE run_id = runs.id)
         WHERE id = ?`,
      )
      .run(new Date().toISOString(), end.packets, end.bytes, end.flows, end.damaged, end.status, runId);
    if (info.changes !== 1) throw new Error(`no run with id ${runId}`);
  });
}

/** One pending hits row: the FlowHits of one key merged in memory. */
type Pending = Omit<FlowHit, 'evidence'> & { evidence: Set<HitEvidence>; flows: number };

/*
 * The merge rule, once in JS (pending rows) and once in SQL (pending row vs stored row). Both
 * apply the same rule in arrival order, so merging in memory first and then in the database gives
 * the same row as merging every FlowHit one by one:
 *   counters add · first_seen min · last_seen max · evidence union (sorted) · category: the
 *   strongest, mining > crypto-p2p > suspect · text fields (nat_outside too) keep the first
 *   non-null · difficulty / hashrate take the latest non-null · sampling_rate the largest.
 */
const UPSERT_SQL = `
INSERT INTO hits (run_id, src, pool_ip, pool_port, proto, category, evidence, blacklist_entry, blacklist_version,
  coin, login, worker, agent, algo, pool_host, difficulty, shares_submitted, shares_accepted,
  shares_rejected, reported_hashrate, first_seen, last_seen, flows, packets_up, bytes_up,
  packets_down, bytes_down, input_kind, input, sampling_rate, nat_outside)
VALUES (@runId, @src, @poolIp, @poolPort, @proto, @category, @evidence, @blacklistEntry, @blacklistVersion,
  @coin, @login, @worker, @agent, @algo, @poolHost, @difficulty, @sharesSubmitted, @sharesAccepted,
  @sharesRejected, @reportedHashrate, @firstSeen, @lastSeen, @flows, @packetsUp, @bytesUp,
  @packetsDown, @bytesDown, @inputKind, @input, @samplingRate, @natOutside)
ON CONFLICT (run_id, src, pool_ip, pool_port, proto) DO UPDATE SET
  category = CASE WHEN hits.category = 'mining' OR excluded.category = 'mining' THEN 'mining'
                  WHEN hits.category = 'crypto-p2p' OR excluded.category = 'crypto-p2p' THEN 'crypto-p2p'
                  ELSE hits.category END,
  evidence = (SELECT json_group_array(value ORDER BY value) FROM (
                SELECT value FROM json_each(hits.evidence)
                UNION SELECT value FROM json_each(excluded.evidence))),
  -- the version goes with the entry it held: both come from the same (first) matching flow
  blacklist_version = CASE WHEN hits.blacklist_entry IS NULL THEN excluded.blacklist_version
                           ELSE hits.blacklist_version END,
  blacklist_entry   = COALESCE(hits.blacklist_entry, excluded.blacklist_entry),
  coin              = COALESCE(hits.coin, excluded.coin),
  login             = COALESCE(hits.login, excluded.login),
  worker            = COALESCE(hits.worker, excluded.worker),
  agent             = COALESCE(hits.agent, excluded.agent),
  algo              = COALESCE(hits.algo, excluded.algo),
  pool_host         = COALESCE(hits.pool_host, excluded.pool_host),
  difficulty        = COALESCE(excluded.difficulty, hits.difficulty),
  reported_hashrate = COALESCE(excluded.reported_hashrate, hits.reported_hashrate),
  shares_submitted  = hits.shares_submitted + excluded.shares_submitted,
  shares_accepted   = hits.shares_accepted + excluded.shares_accepted,
  shares_rejected   = hits.shares_rejected + excluded.shares_rejected,
  first_seen        = MIN(hits.first_seen, excluded.first_seen),
  last_seen         = MAX(hits.last_seen, excluded.last_seen),
  flows             = hits.flows + excluded.flows,
  packets_up        = hits.packets_up + excluded.packets_up,
  bytes_up          = hits.bytes_up + excluded.bytes_up,
  packets_down      = hits.packets_down + excluded.packets_down,
  bytes_down        = hits.bytes_down + excluded.bytes_down,
  sampling_rate     = MAX(hits.sampling_rate, excluded.sampling_rate),
  nat_outside       = COALESCE(hits.nat_outside, excluded.nat_outside)
`;

/**
 * Collects FlowHits of one run and writes them as hits rows, one transaction per batch.
 * Hits for the same (src, pool_ip, pool_port, proto) are merged in memory first, so a busy miner
 * costs one row write per batch, not one per flow.
 */
export class HitSink {
  private readonly pending = new Map<string, Pending>();
  /** FlowHits in `pending` (>= pending.size, since hits merge). */
  private pendingHits = 0;
  private readonly batchSize: number;
  private readonly writeBatch: (rows: Pending[]) => void;
  private committed = 0;
  private readonly onBatch: ((srcs: ReadonlySet<string>) => void) | undefined;

  /**
   * `onBatch`: called after each committed batch with the source addresses it wrote (the case
   * tracker opens cases from it, src/report/cases.ts). It runs after the sink's own state is
   * updated, so an exception it throws leaves the batch written and nothing pending twice.
   */
  constructor(
    private readonly db: Database,
    private readonly runId: number,
    opts: { batchSize?: number; onBatch?: (srcs: ReadonlySet<string>) => void } = {},
  ) {
    this.onBatch = opts.onBatch;
    const size = opts.batchSize ?? 500;
    this.batchSize = Number.isFinite(size) ? Math.max(1, Math.floor(size)) : 500;
    // Prepared once; the transaction wrapper rolls back the whole batch if any row fails.
    this.writeBatch = guard(db, () => {
      const upsert = db.prepare(UPSERT_SQL);
      return db.transaction((rows: Pending[]) => {
        for (const r of rows) {
          upsert.run({ ...r, runId: this.runId, evidence: JSON.stringify([...r.evidence].sort()) });
        }
      });
    });
  }

  /** FlowHits committed to the database so far (not rows: merged hits count each). */
  get written(): number {
    return this.committed;
  }

  /** FlowHits waiting for the next batch (not rows: merged hits count each). */
  get pendingCount(): number {
    return this.pendingHits;
  }

  /**
   * Where a failing batch write started by `add` goes, instead of being thrown at whoever handed
   * in the hit (a packet or datagram handler, mid-input). After such a failure `add` only queues,
   * until an explicit `flush()` succeeds: a locked or full database is not retried once per hit.
   */
  onWriteError(handler: (e: unknown) => void): void {
    this.writeErrorHandler = handler;
  }
  private writeErrorHandler: ((e: unknown) => void) | null = null;
  private autoFlushSuspended = false;

  /** Queue one hit; writes a batch once `batchSize` hits are pending. */
  add(hit: FlowHit): void {
    const key = `${hit.src} ${hit.poolIp} ${hit.poolPort} ${hit.proto}`;
    const p = this.pending.get(key);
    if (p === undefined) this.pending.set(key, fromHit(hit));
    else mergeHit(p, hit);
    this.pendingHits++;
    if (this.pendingHits < this.batchSize || this.autoFlushSuspended) return;
    if (this.writeErrorHandler === null) {
      this.flush();
      return;
    }
    try {
      this.flush();
    } catch (e) {
      this.autoFlushSuspended = true;
      this.writeErrorHandler(e);
    }
  }

  /**
   * Write everything pending in one transaction. On failure nothing of this batch is written
   * (earlier batches stay), the hits stay pending so a later flush can retry, and PW_ERR_DB is
   * thrown.
   */
  flush(): void {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    guard(this.db, () => this.writeBatch(rows));
    this.autoFlushSuspended = false;
    this.committed += this.pendingHits;
    this.pending.clear();
    this.pendingHits = 0;
    if (this.onBatch !== undefined) {
      const srcs = new Set<string>();
      for (const r of rows) srcs.add(r.src);
      this.onBatch(srcs);
    }
  }
}

function fromHit(h: FlowHit): Pending {
  return {
    src: h.src,
    poolIp: h.poolIp,
    poolPort: h.poolPort,
    proto: h.proto,
    category: h.category,
    evidence: new Set(h.evidence),
    blacklistEntry: h.blacklistEntry,
    blacklistVersion: h.blacklistVersion,
    coin: h.coin,
    login: h.login,
    worker: h.worker,
    agent: h.agent,
    algo: h.algo,
    poolHost: h.poolHost,
    difficulty: h.difficulty,
    sharesSubmitted: h.sharesSubmitted,
    sharesAccepted: h.sharesAccepted,
    sharesRejected: h.sharesRejected,
    reportedHashrate: h.reportedHashrate,
    firstSeen: h.firstSeen,
    lastSeen: h.lastSeen,
    flows: 1,
    packetsUp: h.packetsUp,
    bytesUp: h.bytesUp,
    packetsDown: h.packetsDown,
    bytesDown: h.bytesDown,
    samplingRate: samplingRate(h.samplingRate),
    natOutside: h.natOutside,
    inputKind: h.inputKind,
    input: h.input,
  };
}

/** The same rule as UPSERT_SQL's DO UPDATE, applied to a pending row. */
function mergeHit(p: Pending, h: FlowHit): void {
  p.category = strongerCategory(p.category, h.category); // as the CASE in UPSERT_SQL
  for (const e of h.evidence) p.evidence.add(e);
  if (p.blacklistEntry === null) {
    p.blacklistEntry = h.blacklistEntry;
    p.blacklistVersion = h.blacklistVersion;
  }
  p.coin ??= h.coin;
  p.login ??= h.login;
  p.worker ??= h.worker;
  p.agent ??= h.agent;
  p.algo ??= h.algo;
  p.poolHost ??= h.poolHost;
  if (h.difficulty !== null) p.difficulty = h.difficulty;
  if (h.reportedHashrate !== null) p.reportedHashrate = h.reportedHashrate;
  p.sharesSubmitted += h.sharesSubmitted;
  p.sharesAccepted += h.sharesAccepted;
  p.sharesRejected += h.sharesRejected;
  p.firstSeen = Math.min(p.firstSeen, h.firstSeen);
  p.lastSeen = Math.max(p.lastSeen, h.lastSeen);
  p.flows += 1;
  p.packetsUp += h.packetsUp;
  p.bytesUp += h.bytesUp;
  p.packetsDown += h.packetsDown;
  p.bytesDown += h.bytesDown;
  const rate = samplingRate(h.samplingRate);
  if (rate > p.samplingRate) p.samplingRate = rate;
  p.natOutside ??= h.natOutside;
}

/** The column holds whole numbers >= 1 (CHECK): anything else is stored as 1 (not sampled). */
function samplingRate(n: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.round(n) : 1;
}

