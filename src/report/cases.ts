/**
 * Cases: the follow-up of every source address seen mining. A case moves through
 *
 *   new → verified → notified → blocked → cleared
 *
 * by hand (`poolwatch case set`; any state may follow any other, a false positive goes straight
 * to cleared), and every change, note and automatic opening is one row of `case_events`: who,
 * when, from which state to which, and why.
 *
 * Opened automatically: after each batch of hits the HitSink commits, the CaseTracker looks at
 * the sources of the batch (one primary-key lookup each). A source with no case that has a hit
 * of category `mining` gets one (state `new`, event `opened`). Only mining opens cases:
 * `crypto-p2p` (a full node) and `suspect` (a traffic pattern, no proof) are for reports, not for
 * notices to customers.
 *
 * Recurrence: a `cleared` case whose source has a mining hit with last_seen (packet time) after
 * the time it was cleared is re-opened: state `new` again, `recurrences` + 1, `reopened_at` set,
 * event `reopened`. Packet time, so replaying an old capture of the time before the clearing
 * re-opens nothing. A case set to cleared and then changed by hand is not a recurrence.
 *
 * New cases and recurrences go to the alert dispatcher (alerts.ts) as CaseEvents, after the
 * transaction that recorded them has committed.
 */
import type { Config } from '../config.js';
import { PoolwatchError } from '../errors.js';
import type { Logger } from '../log.js';
import { createAlerts, type AlertDispatcher } from './alerts.js';
import { guard, type Database } from './db.js';
import { compareIp } from './ipsort.js';
import { loadOrgMap, type OrgMap } from './orgs.js';
import { microsToIso } from './query.js';

export type CaseState = 'new' | 'verified' | 'notified' | 'blocked' | 'cleared';
/** In workflow order. */
export const CASE_STATES: readonly CaseState[] = ['new', 'verified', 'notified', 'blocked', 'cleared'];

export function isCaseState(s: unknown): s is CaseState {
  return typeof s === 'string' && (CASE_STATES as readonly string[]).includes(s);
}

/** Who automatic events are recorded by. */
export const SYSTEM_ACTOR = 'poolwatch';

export interface CaseRecord {
  src: string;
  state: CaseState;
  /** Wall-clock times (ISO 8601 UTC, ms) of the opening and of the last change. */
  openedAt: string;
  updatedAt: string;
  /** Times the case was re-opened by mining seen after it was cleared. */
  recurrences: number;
  /** The organisation it was opened (or last re-opened) under; null = outside every range. */
  org: string | null;
  /** Packet time of the source's latest mining hit (ISO 8601 UTC), null if its hits are gone. */
  lastSeen: string | null;
  /** Notes written on it. */
  notes: number;
  /** When it was last set to cleared (kept after a re-opening), and when last re-opened. */
  clearedAt: string | null;
  reopenedAt: string | null;
  /** Packet time of its first mining hit. */
  firstSeen: string | null;
}

/** What the alerts announce: a case opened, or a cleared one seen mining again. */
export interface CaseEvent {
  kind: 'new' | 'recurrence';
  src: string;
  /** Organisation name, sector and contact from the organisation map; null when unknown. */
  org: string | null;
  sector: string | null;
  contact: string | null;
  /** Pool endpoints "ip:port" / "[v6]:port" of its mining hits (for a recurrence: those seen after the clearing). */
  pools: string[];
  coins: string[];
  /** Packet times (ISO 8601 UTC) of those hits. */
  firstSeen: string;
  lastSeen: string;
  recurrences: number;
}

export type CaseEventKind = 'opened' | 'state' | 'note' | 'reopened';

/** One row of a case's history. */
export interface CaseHistoryEntry {
  id: number;
  at: string;
  by: string;
  kind: CaseEventKind;
  from: CaseState | null;
  to: CaseState | null;
  note: string | null;
}

interface CaseRow {
  src: string;
  state: CaseState;
  opened_at: string;
  updated_at: string;
  cleared_at: string | null;
  recurrences: number;
  reopened_at: string | null;
  org: string | null;
  first_seen: number | null;
  last_seen: number | null;
  notes: number;
}

const CASE_SELECT = `
  SELECT c.src, c.state, c.opened_at, c.updated_at, c.cleared_at, c.recurrences, c.reopened_at, c.org,
    (SELECT MIN(first_seen) FROM hits h WHERE h.src = c.src AND h.category = 'mining') AS first_seen,
    (SELECT MAX(last_seen) FROM hits h WHERE h.src = c.src AND h.category = 'mining') AS last_seen,
    (SELECT COUNT(*) FROM case_events e WHERE e.src = c.src AND e.kind = 'note') AS notes
  FROM cases c`;

function toRecord(r: CaseRow): CaseRecord {
  return {
    src: r.src,
    state: r.state,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    recurrences: r.recurrences,
    org: r.org,
    lastSeen: r.last_seen === null ? null : microsToIso(r.last_seen),
    notes: r.notes,
    clearedAt: r.cleared_at,
    reopenedAt: r.reopened_at,
    firstSeen: r.first_seen === null ? null : microsToIso(r.first_seen),
  };
}

/** Cases in workflow order (new first), then oldest opened first, then by address. */
export function listCases(db: Database, opts: { state?: CaseState; org?: string } = {}): CaseRecord[] {
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (opts.state !== undefined) {
    if (!isCaseState(opts.state)) throw new PoolwatchError('PW_ERR_USAGE', `unknown case state "${String(opts.state)}" (${CASE_STATES.join(', ')})`);
    where.push('c.state = @state');
    params.state = opts.state;
  }
  if (opts.org !== undefined) {
    // "unknown" lists the cases outside every range, as reports name them
    where.push(opts.org === 'unknown' ? 'c.org IS NULL' : 'c.org = @org');
    if (opts.org !== 'unknown') params.org = opts.org;
  }
  const rows = guard(db, () => db.prepare(`${CASE_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`).all(params) as CaseRow[]);
  return rows
    .map(toRecord)
    .sort((a, b) => CASE_STATES.indexOf(a.state) - CASE_STATES.indexOf(b.state) || cmpText(a.openedAt, b.openedAt) || compareIp(a.src, b.src));
}

export function getCase(db: Database, src: string): CaseRecord | null {
  const row = guard(db, () => db.prepare(`${CASE_SELECT} WHERE c.src = ?`).get(src) as CaseRow | undefined);
  return row === undefined ? null : toRecord(row);
}

/** A case's history, oldest first. */
export function caseHistory(db: Database, src: string): CaseHistoryEntry[] {
  return guard(db, () =>
    db.prepare(`SELECT id, at, by, kind, from_state AS "from", to_state AS "to", note FROM case_events WHERE src = ? ORDER BY id`).all(src) as CaseHistoryEntry[],
  );
}

export interface ActOptions {
  /** Who acts (recorded in case_events.by). */
  by: string;
  /** Optional note recorded with a state change. */
  note?: string;
  /** Clock (tests). */
  now?: () => Date;
}

/**
 * Move a case to another state, recording who and when (and a note if given). Setting the state
 * it already has changes nothing and records nothing (`changed: false`). No case → PW_ERR_USAGE.
 */
export function setCaseState(db: Database, src: string, to: CaseState, opts: ActOptions): { from: CaseState; to: CaseState; changed: boolean } {
  if (!isCaseState(to)) throw new PoolwatchError('PW_ERR_USAGE', `unknown case state "${String(to)}" (${CASE_STATES.join(', ')})`);
  checkActor(opts.by);
  const note = opts.note === undefined ? null : checkNote(opts.note);
  const at = (opts.now?.() ?? new Date()).toISOString();
  return guard(db, () =>
    db
      .transaction(() => {
        const c = db.prepare('SELECT state FROM cases WHERE src = ?').get(src) as { state: CaseState } | undefined;
        if (c === undefined) throw noCase(src);
        if (c.state === to) return { from: c.state, to, changed: false };
        db.prepare(`UPDATE cases SET state = @to, updated_at = @at, cleared_at = CASE WHEN @to = 'cleared' THEN @at ELSE cleared_at END WHERE src = @src`).run({ to, at, src });
        insertEvent(db, { src, at, by: opts.by, kind: 'state', from: c.state, to, note });
        return { from: c.state, to, changed: true };
      })
      .immediate(),
  );
}

/** Write a note on a case. No case → PW_ERR_USAGE. */
export function addCaseNote(db: Database, src: string, note: string, opts: Omit<ActOptions, 'note'>): void {
  checkActor(opts.by);
  const text = checkNote(note);
  const at = (opts.now?.() ?? new Date()).toISOString();
  guard(db, () =>
    db
      .transaction(() => {
        const c = db.prepare('SELECT state FROM cases WHERE src = ?').get(src) as { state: CaseState } | undefined;
        if (c === undefined) throw noCase(src);
        db.prepare('UPDATE cases SET updated_at = ? WHERE src = ?').run(at, src);
        insertEvent(db, { src, at, by: opts.by, kind: 'note', from: null, to: null, note: text });
      })
      .immediate(),
  );
}

function noCase(src: string): PoolwatchError {
  return new PoolwatchError('PW_ERR_USAGE', `no case for ${src} (cases are opened when a source is seen mining; see poolwatch case list)`);
}

const MAX_ACTOR = 64;
const MAX_NOTE = 4000;

function checkActor(by: string): void {
  // eslint-disable-next-line no-control-regex
  if (typeof by !== 'string' || by.trim() === '' || by.length > MAX_ACTOR || /[\u0000-\u001f\u007f-\u009f]/.test(by)) {
    throw new PoolwatchError('PW_ERR_USAGE', `--by must be a name of 1-${MAX_ACTOR} printable characters`);
  }
}

function checkNote(note: string): string {
  const t = note.trim();
  if (t === '') throw new PoolwatchError('PW_ERR_USAGE', 'the note is empty');
  if (t.length > MAX_NOTE) throw new PoolwatchError('PW_ERR_USAGE', `the note is longer than ${MAX_NOTE} characters`);
  return t;
}

const INSERT_EVENT_SQL = `INSERT INTO case_events (src, at, by, kind, from_state, to_state, note) VALUES (@src, @at, @by, @kind, @from, @to, @note)`;

function insertEvent(
  db: Database,
  e: { src: string; at: string; by: string; kind: CaseEventKind; from: CaseState | null; to: CaseState | null; note: string | null },
): void {
  db.prepare(INSERT_EVENT_SQL).run(e);
}

/** One pool endpoint of a source's hits, for `case show`. */
export interface CaseHitLine {
  pool: string;
  poolHost: string | null;
  category: string;
  coins: string[];
  logins: string[];
  workers: string[];
  agents: string[];
  evidence: string[];
  runs: number[];
  flows: number;
  packets: number;
  bytes: number;
  firstSeen: string;
  lastSeen: string;
}

/** The source's hits, one line per pool endpoint (all runs, all categories), latest first. */
export function caseHits(db: Database, src: string): CaseHitLine[] {
  interface Row {
    pool: string;
    pool_host: string | null;
    mining: number;
    p2p: number;
    coins: string;
    logins: string;
    workers: string;
    agents: string;
    evidence: string;
    runs: string;
    flows: number;
    packets: number;
    bytes: number;
    first_seen: number;
    last_seen: number;
  }
  const rows = guard(db, () =>
    db
      .prepare(
        `SELECT ${ENDPOINT_SQL} AS pool, MAX(pool_host) AS pool_host,
           MAX(category = 'mining') AS mining, MAX(category = 'crypto-p2p') AS p2p,
           json_group_array(DISTINCT coin) FILTER (WHERE coin IS NOT NULL) AS coins,
           json_group_array(DISTINCT login) FILTER (WHERE login IS NOT NULL) AS logins,
           json_group_array(DISTINCT worker) FILTER (WHERE worker IS NOT NULL) AS workers,
           json_group_array(DISTINCT agent) FILTER (WHERE agent IS NOT NULL) AS agents,
           (SELECT json_group_array(DISTINCT e.value) FROM hits h2, json_each(h2.evidence) e
              WHERE h2.src = hits.src AND h2.pool_ip = hits.pool_ip AND h2.pool_port = hits.pool_port) AS evidence,
           json_group_array(DISTINCT run_id) AS runs,
           SUM(flows) AS flows, SUM(packets_up + packets_down) AS packets, SUM(bytes_up + bytes_down) AS bytes,
           MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen
         FROM hits WHERE src = ? GROUP BY pool_ip, pool_port ORDER BY last_seen DESC, pool`,
      )
      .all(src) as Row[],
  );
  const strings = (j: string): string[] => (JSON.parse(j) as unknown[]).filter((x): x is string => typeof x === 'string').sort();
  return rows.map((r) => ({
    pool: r.pool,
    poolHost: r.pool_host,
    category: r.mining ? 'mining' : r.p2p ? 'crypto-p2p' : 'suspect',
    coins: strings(r.coins),
    logins: strings(r.logins),
    workers: strings(r.workers),
    agents: strings(r.agents),
    evidence: strings(r.evidence),
    runs: (JSON.parse(r.runs) as number[]).sort((a, b) => a - b),
    flows: r.flows,
    packets: r.packets,
    bytes: r.bytes,
    firstSeen: microsToIso(r.first_seen),
    lastSeen: microsToIso(r.last_seen),
  }));
}

/** "ip:port", or "[v6]:port", as the report spells pool endpoints (format.ts poolEndpoint). */
const ENDPOINT_SQL = `CASE WHEN instr(pool_ip, ':') > 0 THEN '[' || pool_ip || ']:' || pool_port ELSE pool_ip || ':' || pool_port END`;

// ------------------------------------------------------------------------------ the tracker

export interface CaseTrackerOptions {
  /** Attribution of new cases; none: every case is "unknown". */
  orgs?: OrgMap | null;
  /** Called with every new case and recurrence, after it is committed (the alert dispatcher's send). */
  onEvent?: ((e: CaseEvent) => void) | null;
  log?: Logger | null;
  /** Wall clock (tests). */
  now?: () => Date;
}

/** Sources whose sync failed, kept to try again with the next batch, at most. */
const MAX_RETRY = 100_000;

/** Opens and re-opens cases from the sources of committed hit batches. */
export class CaseTracker {
  readonly stats = { opened: 0, reopened: 0, errors: 0 };
  /** For HitSink's onBatch option: syncs, never throws (failures are logged and retried with the next batch). */
  readonly onBatch: (srcs: ReadonlySet<string>) => void;
  private readonly retry = new Set<string>();
  private failing = false;
  private readonly orgs: OrgMap | null;
  private readonly onEvent: ((e: CaseEvent) => void) | null;
  private readonly log: Logger | null;
  private readonly now: () => Date;
  private readonly stmts: ReturnType<typeof prepare>;

  constructor(
    private readonly db: Database,
    opts: CaseTrackerOptions = {},
  ) {
    this.orgs = opts.orgs ?? null;
    this.onEvent = opts.onEvent ?? null;
    this.log = opts.log ?? null;
    this.now = opts.now ?? (() => new Date());
    this.stmts = guard(db, () => prepare(db));
    this.onBatch = (srcs) => {
      let list: Iterable<string> = srcs;
      if (this.retry.size > 0) {
        for (const s of srcs) this.retry.add(s);
        list = [...this.retry];
        this.retry.clear();
      }
      try {
        this.sync(list);
        if (this.failing) this.log?.info({}, 'cases are updated again');
        this.failing = false;
      } catch (e) {
        this.stats.errors++;
        for (const s of list) if (this.retry.size < MAX_RETRY) this.retry.add(s);
        if (!this.failing) this.log?.error({ code: (e as { code?: string }).code, err: (e as Error).message }, `cannot update cases, will retry: ${(e as Error).message}`);
        this.failing = true;
      }
    };
  }

  /**
   * Open cases for sources seen mining that have none, re-open cleared ones seen mining since,
   * in one transaction; then announce each (onEvent). Throws PW_ERR_DB when the database fails
   * (nothing of this call is then recorded or announced).
   */
  sync(srcs: Iterable<string>): { opened: number; reopened: number } {
    const at = this.now().toISOString();
    const events: CaseEvent[] = [];
    const s = this.stmts;
    guard(this.db, () =>
      this.db
        .transaction(() => {
          for (const src of srcs) {
            const c = s.getCase.get(src) as { state: CaseState; cleared_at: string | null; recurrences: number } | undefined;
            if (c !== undefined && c.state !== 'cleared') continue; // open: nothing to do (the common case)
            // Mining since the clearing (or ever, for a source without a case).
            const after = c === undefined ? Number.MIN_SAFE_INTEGER : clearedMicros(c.cleared_at);
            if (after === null) continue;
            // Pools and coins only matter to the alerts: without them, the cheaper query.
            const m = (this.onEvent === null ? s.miningSpan : s.mining).get(src, after) as MiningRow;
            if (m.first === null || m.last === null) continue;
            const org = this.orgs?.lookup(src) ?? null;
            const pools = m.pools === undefined ? [] : (JSON.parse(m.pools) as string[]);
            const coins = m.coins === undefined ? [] : (JSON.parse(m.coins) as (string | null)[]).filter((x): x is string => x !== null);
            const seen = `${microsToIso(m.first)} to ${microsToIso(m.last)}`;
            if (c === undefined) {
              s.insertCase.run({ src, at, org: org?.name ?? null });
              s.insertEvent.run({ src, at, by: SYSTEM_ACTOR, kind: 'opened', from: null, to: 'new', note: `mining seen ${seen}` });
              events.push(caseEvent('new', src, org, pools, coins, m, 0));
            } else {
              const n = c.recurrences + 1;
              s.reopen.run({ src, at, org: org?.name ?? null });
              s.insertEvent.run({
                src, at, by: SYSTEM_ACTOR, kind: 'reopened', from: 'cleared', to: 'new',
                note: `mining seen again ${seen}, after the case was cleared at ${c.cleared_at}; recurrence ${n}`,
              });
              events.push(caseEvent('recurrence', src, org, pools, coins, m, n));
            }
          }
        })
        .immediate(),
    );
    let opened = 0;
    for (const e of events) {
      if (e.kind === 'new') opened++;
      try {
        this.onEvent?.(e);
      } catch (err) {
        this.log?.error({ err: (err as Error).message }, `case alert failed: ${(err as Error).message}`);
      }
    }
    this.stats.opened += opened;
    this.stats.reopened += events.length - opened;
    return { opened, reopened: events.length - opened };
  }
}

interface MiningRow {
  first: number | null;
  last: number | null;
  /** JSON arrays; not asked for when nobody listens for events. */
  pools?: string;
  coins?: string;
}

function prepare(db: Database) {
  return {
    getCase: db.prepare('SELECT state, cleared_at, recurrences FROM cases WHERE src = ?'),
    // hits_src makes this one index range per source.
    mining: db.prepare(
      `SELECT MIN(first_seen) AS first, MAX(last_seen) AS last,
         json_group_array(DISTINCT ${ENDPOINT_SQL}) AS pools, json_group_array(DISTINCT coin) AS coins
       FROM hits WHERE src = ? AND category = 'mining' AND last_seen > ?`,
    ),
    miningSpan: db.prepare(`SELECT MIN(first_seen) AS first, MAX(last_seen) AS last FROM hits WHERE src = ? AND category = 'mining' AND last_seen > ?`),
    insertCase: db.prepare(`INSERT INTO cases (src, state, opened_at, updated_at, org) VALUES (@src, 'new', @at, @at, @org)`),
    insertEvent: db.prepare(INSERT_EVENT_SQL),
    reopen: db.prepare(
      `UPDATE cases SET state = 'new', updated_at = @at, reopened_at = @at, recurrences = recurrences + 1, org = @org
       WHERE src = @src AND state = 'cleared'`,
    ),
  };
}

/** cleared_at (ISO text, ms) → microseconds, the unit of hits.last_seen; null if unreadable. */
function clearedMicros(iso: string | null): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms * 1000 : null;
}

function caseEvent(
  kind: CaseEvent['kind'],
  src: string,
  org: { name: string; sector: string | null; contact: string | null } | null,
  pools: string[],
  coins: string[],
  m: MiningRow,
  recurrences: number,
): CaseEvent {
  return {
    kind,
    src,
    org: org?.name ?? null,
    sector: org?.sector ?? null,
    contact: org?.contact ?? null,
    pools: pools.sort(),
    coins: coins.sort(),
    firstSeen: microsToIso(m.first!),
    lastSeen: microsToIso(m.last!),
    recurrences,
  };
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ------------------------------------------------------------------------------ wiring

/** Cases and alerts for one run: give `onBatch` to the HitSink, `await close()` at the end. */
export interface FollowUp {
  /** HitSink's onBatch; undefined when cases are not kept (an in-memory database). */
  onBatch: ((srcs: ReadonlySet<string>) => void) | undefined;
  tracker: CaseTracker | null;
  alerts: AlertDispatcher | null;
  /** Deliver what alerts are left (at most alerts.drainSeconds), log what the run did to cases. */
  close(): Promise<void>;
}

/**
 * The follow-up of a run that records hits: a CaseTracker on the run's database (attributing with
 * the configured organisations), announcing to the configured alert channels. A database in
 * memory keeps nothing past the run, so it gets no cases and no alerts (every replay would
 * otherwise announce every miner as new). Loads the organisation files: a broken one throws
 * PW_ERR_USAGE / PW_ERR_IO here, before the run does any work.
 */
export function openFollowUp(db: Database, config: Config, log: Logger): FollowUp {
  if (db.memory) {
    if (config.alerts.webhook !== null || config.alerts.syslog !== null) {
      log.info({}, 'no cases and no alerts without --db: cases live in the database');
    }
    return { onBatch: undefined, tracker: null, alerts: null, close: async () => {} };
  }
  const orgs = loadOrgMap(config);
  const alerts = createAlerts(config.alerts, log);
  const tracker = new CaseTracker(db, { orgs, onEvent: alerts === null ? null : (e) => alerts.send(e), log });
  let closed = false;
  return {
    onBatch: tracker.onBatch,
    tracker,
    alerts,
    async close() {
      if (closed) return;
      closed = true;
      const a = alerts === null ? null : await alerts.close(config.alerts.drainMs);
      if (tracker.stats.opened + tracker.stats.reopened > 0 || a !== null) {
        log.info({ casesOpened: tracker.stats.opened, casesReopened: tracker.stats.reopened, alerts: a }, 'cases updated');
      }
    },
  };
}
