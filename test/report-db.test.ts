import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, SCHEMA_VERSION } from '../src/report/db.js';
import { MIGRATIONS } from '../src/report/schema.js';
import { querySources } from '../src/report/query.js';
import { finishRun, HitSink, startRun } from '../src/report/sink.js';
import type { FlowHit } from '../src/report/types.js';
import { hit as baseHit, T0 } from './helpers/hits.js';
import { caught } from './helpers/errors.js';


const hit = (over: Partial<FlowHit> = {}) => baseHit({ sharesSubmitted: 1, sharesAccepted: 1, ...over });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-report-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('openDatabase', () => {
  it('creates the schema in memory', () => {
    const db = openDatabase(':memory:');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const objects = db
      .prepare(`SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
      .all();
    expect(objects).toEqual([
      { type: 'index', name: 'blacklist_entries_added' },
      { type: 'index', name: 'blacklist_entries_live' },
      { type: 'index', name: 'blacklist_entries_removed' },
      { type: 'index', name: 'case_events_src' },
      { type: 'index', name: 'hits_pool' },
      { type: 'index', name: 'hits_src' },
      { type: 'table', name: 'blacklist_entries' },
      { type: 'table', name: 'blacklist_sources' },
      { type: 'table', name: 'blacklist_version_sources' },
      { type: 'table', name: 'blacklist_versions' },
      { type: 'table', name: 'case_events' },
      { type: 'table', name: 'cases' },
      { type: 'table', name: 'hits' },
      { type: 'table', name: 'runs' },
    ]);
    const cols = (t: string) => (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
    expect(cols('runs')).toEqual([
      'id', 'started_at', 'finished_at', 'command', 'inputs', 'packets', 'bytes', 'flows', 'hits', 'damaged', 'status',
      'host', 'pid', 'pid_start',
    ]);
    expect(cols('hits')).toEqual([
      'run_id', 'src', 'pool_ip', 'pool_port', 'proto', 'category', 'evidence', 'blacklist_entry', 'coin', 'login',
      'worker', 'agent', 'algo', 'pool_host', 'difficulty', 'shares_submitted', 'shares_accepted', 'shares_rejected',
      'reported_hashrate', 'first_seen', 'last_seen', 'flows', 'packets_up', 'bytes_up', 'packets_down', 'bytes_down',
      'input_kind', 'input', 'blacklist_version', 'sampling_rate', 'nat_outside',
    ]);
    expect((db.prepare('PRAGMA index_info(hits_pool)').all() as { name: string }[]).map((c) => c.name)).toEqual(['pool_ip', 'pool_port']);
    expect((db.prepare('PRAGMA index_info(hits_src)').all() as { name: string }[]).map((c) => c.name)).toEqual(['src']);
    expect(cols('cases')).toEqual(['src', 'state', 'opened_at', 'updated_at', 'cleared_at', 'recurrences', 'reopened_at', 'org']);
    expect(cols('case_events')).toEqual(['id', 'src', 'at', 'by', 'kind', 'from_state', 'to_state', 'note']);
    expect((db.prepare('PRAGMA index_info(case_events_src)').all() as { name: string }[]).map((c) => c.name)).toEqual(['src', 'id']);
    db.close();
  });

  it('opens a file in WAL mode, reopens it without re-creating, and opens it read-only', () => {
    const path = join(dir, 'hits.db');
    const db = openDatabase(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    startRun(db, { command: 'scan', inputs: [] });
    db.close();

    const again = openDatabase(path);
    expect(again.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: 1 });
    again.close();

    const ro = openDatabase(path, { readonly: true });
    expect(ro.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: 1 });
    expect(() => startRun(ro, { command: 'x', inputs: [] })).toThrow(expect.objectContaining({ code: 'PW_ERR_DB' }));
    ro.close();
  });

  it('upgrades a version-1 file in place: old hits kept, the new column NULL for them', () => {
    const path = join(dir, 'v1.db');
    const old = new BetterSqlite3(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.prepare(`INSERT INTO runs (started_at, command) VALUES ('2024-05-01T12:00:00.000Z', 'scan')`).run();
    old.prepare(`INSERT INTO hits (run_id, src, pool_ip, pool_port, proto, category, first_seen, last_seen, input_kind, input)
                 VALUES (1, '10.0.0.9', '203.0.113.5', 3333, 6, 'mining', 1, 2, 'pcap', 'old.pcap')`).run();
    old.close();
    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare('SELECT src, blacklist_entry, blacklist_version FROM hits').all()).toEqual([
      { src: '10.0.0.9', blacklist_entry: null, blacklist_version: null },
    ]);
    const run = startRun(db, { command: 'scan', inputs: [] });
    const sink = new HitSink(db, run, { batchSize: 1 });
    sink.add(hit({ src: '10.0.0.8', blacklistEntry: '203.0.113.0/24', blacklistVersion: 5 }));
    expect(querySources(db, { runId: run })[0]).toMatchObject({ src: '10.0.0.8', blacklistEntries: ['203.0.113.0/24'], blacklistVersions: [5] });
    db.close();
  });

  it('upgrades a version-3 file with rows: the hits table is rebuilt, every row and column kept, suspect admitted', () => {
    const path = join(dir, 'v3.db');
    const old = new BetterSqlite3(path);
    for (const m of MIGRATIONS.slice(0, 3)) old.exec(m);
    old.pragma('user_version = 3');
    old.prepare(`INSERT INTO runs (started_at, command, inputs, packets, status) VALUES ('2024-05-01T12:00:00.000Z', 'scan a.pcap', '["a.pcap"]', 10, 'ok')`).run();
    old.prepare(`INSERT INTO blacklist_versions (created_at, reason, command, added, removed, unchanged, total)
                 VALUES ('2024-05-01T11:00:00.000Z', 'bootstrap', 'scan', 1, 0, 0, 1)`).run();
    const insert = old.prepare(`INSERT INTO hits (run_id, src, pool_ip, pool_port, proto, category, evidence, blacklist_entry, blacklist_version,
        coin, login, worker, agent, algo, pool_host, difficulty, shares_submitted, shares_accepted, shares_rejected, reported_hashrate,
        first_seen, last_seen, flows, packets_up, bytes_up, packets_down, bytes_down, input_kind, input)
      VALUES (@run_id, @src, @pool_ip, @pool_port, @proto, @category, @evidence, @blacklist_entry, @blacklist_version,
        @coin, @login, @worker, @agent, @algo, @pool_host, @difficulty, @shares_submitted, @shares_accepted, @shares_rejected, @reported_hashrate,
        @first_seen, @last_seen, @flows, @packets_up, @bytes_up, @packets_down, @bytes_down, @input_kind, @input)`);
    const v3Rows = [
      {
        run_id: 1, src: '10.0.0.9', pool_ip: '203.0.113.5', pool_port: 3333, proto: 6, category: 'mining', evidence: '["blacklist-ip","stratum"]',
        blacklist_entry: '203.0.113.0/24', blacklist_version: 1, coin: 'btc', login: 'bc1qwallet', worker: 'rig1', agent: 'cgminer/4.10',
        algo: 'sha256d', pool_host: 'pool.example', difficulty: 512, shares_submitted: 3, shares_accepted: 2, shares_rejected: 1,
        reported_hashrate: 1.5e6, first_seen: T0, last_seen: T0 + 5, flows: 2, packets_up: 7, bytes_up: 700, packets_down: 8, bytes_down: 800,
        input_kind: 'pcap', input: 'a.pcap',
      },
      {
        run_id: 1, src: '2001:db8::1', pool_ip: '192.0.2.33', pool_port: 8333, proto: 6, category: 'crypto-p2p', evidence: '["bitcoin-p2p"]',
        blacklist_entry: null, blacklist_version: null, coin: 'btc', login: null, worker: null, agent: '/Satoshi:25.0.0/',
        algo: null, pool_host: null, difficulty: null, shares_submitted: 0, shares_accepted: 0, shares_rejected: 0,
        reported_hashrate: null, first_seen: T0 + 1, last_seen: T0 + 2, flows: 1, packets_up: 1, bytes_up: 100, packets_down: 1, bytes_down: 90,
        input_kind: 'pcap', input: 'a.pcap',
      },
    ];
    for (const r of v3Rows) insert.run(r);
    expect(() => insert.run({ ...v3Rows[0], src: '10.0.0.10', category: 'suspect' })).toThrow(/CHECK/);
    old.close();

    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(6);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // Same columns in the same order as a new file, every value kept, the new columns at their defaults.
    const fresh = openDatabase(':memory:');
    const cols = (d: typeof db) => d.prepare('PRAGMA table_info(hits)').all();
    expect(cols(db)).toEqual(cols(fresh));
    const sql = (d: typeof db) => d.prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'hits' ORDER BY name`).all();
    expect(sql(db)).toEqual(sql(fresh));
    fresh.close();
    expect(db.prepare('SELECT * FROM hits ORDER BY src').all()).toEqual(v3Rows.map((r) => ({ ...r, sampling_rate: 1, nat_outside: null })));
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hits' ORDER BY name`).pluck().all()).toEqual(['hits_pool', 'hits_src', 'sqlite_autoindex_hits_1']);
    expect(db.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'hits_v4'`).pluck().get()).toBe(0);
    // The other tables are untouched.
    expect(db.prepare('SELECT id, packets, status FROM runs').all()).toEqual([{ id: 1, packets: 10, status: 'ok' }]);
    expect(db.prepare('SELECT id, reason FROM blacklist_versions').all()).toEqual([{ id: 1, reason: 'bootstrap' }]);

    // The CHECK now admits suspect (and still refuses anything else); the sink merges into old rows.
    const run = startRun(db, { command: 'collect', inputs: [] });
    expect(run).toBe(2);
    const sink = new HitSink(db, run);
    sink.add(hit({ src: '10.0.0.10', category: 'suspect', evidence: ['steady-flow'], samplingRate: 10, natOutside: '198.51.100.1' }));
    sink.flush();
    expect(() => db.prepare(`UPDATE hits SET category = 'bogus' WHERE src = '10.0.0.10'`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`UPDATE hits SET sampling_rate = 0 WHERE src = '10.0.0.10'`).run()).toThrow(/CHECK/);
    db.close();

    const ro = openDatabase(path, { readonly: true });
    const recs = querySources(ro);
    expect(recs.map((r) => [r.src, r.category, r.natOutside, r.scaled, r.samplingRates])).toEqual([
      ['10.0.0.9', 'mining', [], false, [1]],
      ['10.0.0.10', 'suspect', ['198.51.100.1'], true, [10]],
      ['2001:db8::1', 'crypto-p2p', [], false, [1]],
    ]);
    expect(querySources(ro, { category: 'suspect' }).map((r) => r.src)).toEqual(['10.0.0.10']);
    ro.close();
  });

  it('upgrades a version-4 file with rows: hits untouched, cases and case_events added, mining sources opened as cases', () => {
    const path = join(dir, 'v4.db');
    const old = new BetterSqlite3(path);
    for (const m of MIGRATIONS.slice(0, 4)) old.exec(m);
    old.pragma('user_version = 4');
    old.prepare(`INSERT INTO runs (started_at, command, inputs, status) VALUES ('2024-05-01T12:00:00.000Z', 'collect', '["netflow 0.0.0.0:2055"]', 'ok')`).run();
    const insert = old.prepare(`INSERT INTO hits (run_id, src, pool_ip, pool_port, proto, category, evidence, coin, first_seen, last_seen,
        flows, packets_up, bytes_up, input_kind, input, sampling_rate, nat_outside)
      VALUES (1, @src, @pool_ip, 3333, 6, @category, @evidence, @coin, @first_seen, @last_seen, 1, 10, 1000, 'netflow', 'netflow 192.0.2.1', @rate, @nat)`);
    const v4Rows = [
      { src: '10.0.0.9', pool_ip: '203.0.113.5', category: 'mining', evidence: '["blacklist-ip"]', coin: 'xmr', first_seen: T0, last_seen: T0 + 5, rate: 1, nat: null },
      { src: '10.0.0.9', pool_ip: '203.0.113.6', category: 'mining', evidence: '["blacklist-ip"]', coin: null, first_seen: T0 + 1, last_seen: T0 + 9, rate: 1, nat: null },
      { src: '100.64.0.7', pool_ip: '203.0.113.5', category: 'mining', evidence: '["blacklist-ip"]', coin: null, first_seen: T0, last_seen: T0 + 2, rate: 10, nat: '198.51.100.1' },
      { src: '2001:db8::1', pool_ip: '192.0.2.33', category: 'crypto-p2p', evidence: '["bitcoin-p2p"]', coin: 'btc', first_seen: T0, last_seen: T0 + 2, rate: 1, nat: null },
      { src: '10.0.0.10', pool_ip: '203.0.113.9', category: 'suspect', evidence: '["steady-flow"]', coin: null, first_seen: T0, last_seen: T0 + 2, rate: 1, nat: null },
    ];
    for (const r of v4Rows) insert.run(r);
    const before = old.prepare('SELECT * FROM hits ORDER BY src, pool_ip').all();
    old.close();

    const db = openDatabase(path);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare('SELECT * FROM hits ORDER BY src, pool_ip').all()).toEqual(before);
    // The new tables as a new file has them.
    const fresh = openDatabase(':memory:');
    const sql = (d: typeof db) => d.prepare(`SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('cases', 'case_events') ORDER BY name`).all();
    expect(sql(db)).toEqual(sql(fresh));
    fresh.close();
    // Sources recorded mining before the upgrade are cases now; crypto-p2p and suspect ones are not.
    const cases = db.prepare('SELECT src, state, opened_at, updated_at, cleared_at, recurrences, org FROM cases ORDER BY src').all() as Record<string, unknown>[];
    expect(cases.map((c) => [c.src, c.state, c.recurrences, c.org, c.cleared_at])).toEqual([
      ['10.0.0.9', 'new', 0, null, null],
      ['100.64.0.7', 'new', 0, null, null],
    ]);
    for (const c of cases) {
      expect(c.opened_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(c.opened_at as string) - Date.now())).toBeLessThan(60_000);
    }
    expect(db.prepare('SELECT src, by, kind, from_state, to_state FROM case_events ORDER BY id').all()).toEqual([
      { src: '10.0.0.9', by: 'poolwatch', kind: 'opened', from_state: null, to_state: 'new' },
      { src: '100.64.0.7', by: 'poolwatch', kind: 'opened', from_state: null, to_state: 'new' },
    ]);
    // The constraints hold.
    expect(() => db.prepare(`UPDATE cases SET state = 'closed'`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO case_events (src, at, by, kind) VALUES ('10.0.0.9', 'x', 'y', 'deleted')`).run()).toThrow(/CHECK/);
    expect(() => db.prepare(`INSERT INTO case_events (src, at, by, kind) VALUES ('10.9.9.9', 'x', 'y', 'note')`).run()).toThrow(/FOREIGN KEY/);
    // Hits still go in, and reopening changes nothing more.
    const run = startRun(db, { command: 'scan', inputs: [] });
    const sink = new HitSink(db, run);
    sink.add(hit({ src: '10.0.0.9' }));
    sink.flush();
    db.close();
    const again = openDatabase(path);
    expect(again.prepare('SELECT COUNT(*) FROM cases').pluck().get()).toBe(2);
    expect(again.prepare('SELECT COUNT(*) FROM case_events').pluck().get()).toBe(2);
    again.close();
  });

  it('missing directory → PW_ERR_DB naming the path', () => {
    const path = join(dir, 'no', 'such', 'dir', 'hits.db');
    const e = caught(() => openDatabase(path));
    expect(e.code).toBe('PW_ERR_DB');
    expect(e.message).toContain(path);
    expect(e.message).not.toContain('\n');
  });

  it('a text file that is not a database → PW_ERR_DB naming the path, file untouched', () => {
    const path = join(dir, 'notes.txt');
    const text = 'this is not a database\n'.repeat(50);
    writeFileSync(path, text);
    for (const readonly of [false, true]) {
      const e = caught(() => openDatabase(path, { readonly }));
      expect(e.code).toBe('PW_ERR_DB');
      expect(e.message).toContain(path);
      expect(e.message).toMatch(/not a database/);
    }
  });

  it('readonly on a missing file → PW_ERR_DB "no such database", no file created', () => {
    const path = join(dir, 'missing.db');
    const e = caught(() => openDatabase(path, { readonly: true }));
    expect(e.code).toBe('PW_ERR_DB');
    expect(e.message).toBe(`${path}: no such database`);
    expect(existsSync(path)).toBe(false);
  });

  it('readonly on an SQLite file without our schema, or with a newer schema → PW_ERR_DB', () => {
    const empty = join(dir, 'empty.db');
    new BetterSqlite3(empty).exec('CREATE TABLE other (x)');
    expect(caught(() => openDatabase(empty, { readonly: true })).message).toMatch(/not a poolwatch database/);

    const newer = join(dir, 'newer.db');
    openDatabase(newer).close();
    const raw = new BetterSqlite3(newer);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    for (const readonly of [false, true]) {
      const e = caught(() => openDatabase(newer, { readonly }));
      expect(e.code).toBe('PW_ERR_DB');
      expect(e.message).toMatch(/newer/);
    }
  });

  it.skipIf(process.getuid?.() === 0)('a read-only file opened for writing → PW_ERR_DB', () => {
    const path = join(dir, 'ro.db');
    openDatabase(path).close();
    chmodSync(path, 0o444);
    const e = caught(() => openDatabase(path));
    expect(e.code).toBe('PW_ERR_DB');
    expect(e.message).toContain(path);
  });
});

describe('persistence across batches and runs', () => {
  it('two runs on one file accumulate; reopen sees both', () => {
    const path = join(dir, 'hits.db');
    for (const [i, input] of ['day1.pcap', 'day2.pcap'].entries()) {
      const db = openDatabase(path);
      const runId = startRun(db, { command: `scan ${input}`, inputs: [input] });
      expect(runId).toBe(i + 1);
      const sink = new HitSink(db, runId, { batchSize: 2 });
      // 5 hits → batches of 2, 2, then the final flush: three transactions.
      for (let k = 0; k < 5; k++) sink.add(hit({ input, src: k < 4 ? '10.0.0.2' : '10.0.0.3', firstSeen: T0 + k, lastSeen: T0 + 10 * k }));
      sink.flush();
      expect(sink.written).toBe(5);
      finishRun(db, runId, { packets: 10, bytes: 1000, flows: 5, damaged: 0, status: 'ok' });
      db.close();
    }
    const db = openDatabase(path, { readonly: true });
    expect(db.prepare('SELECT id, inputs, hits, status FROM runs ORDER BY id').all()).toEqual([
      { id: 1, inputs: '["day1.pcap"]', hits: 2, status: 'ok' },
      { id: 2, inputs: '["day2.pcap"]', hits: 2, status: 'ok' },
    ]);
    expect(db.prepare('SELECT run_id, src, flows, packets_up, bytes_up, first_seen, last_seen, input FROM hits ORDER BY run_id, src').all()).toEqual([
      { run_id: 1, src: '10.0.0.2', flows: 4, packets_up: 4, bytes_up: 400, first_seen: T0, last_seen: T0 + 30, input: 'day1.pcap' },
      { run_id: 1, src: '10.0.0.3', flows: 1, packets_up: 1, bytes_up: 100, first_seen: T0 + 4, last_seen: T0 + 40, input: 'day1.pcap' },
      { run_id: 2, src: '10.0.0.2', flows: 4, packets_up: 4, bytes_up: 400, first_seen: T0, last_seen: T0 + 30, input: 'day2.pcap' },
      { run_id: 2, src: '10.0.0.3', flows: 1, packets_up: 1, bytes_up: 100, first_seen: T0 + 4, last_seen: T0 + 40, input: 'day2.pcap' },
    ]);
    const all = querySources(db);
    expect(all.map((r) => [r.src, r.flows, r.inputs])).toEqual([
      ['10.0.0.2', 8, ['day1.pcap', 'day2.pcap']],
      ['10.0.0.3', 2, ['day1.pcap', 'day2.pcap']],
    ]);
    expect(querySources(db, { runId: 2 }).map((r) => [r.src, r.flows, r.inputs])).toEqual([
      ['10.0.0.2', 4, ['day2.pcap']],
      ['10.0.0.3', 1, ['day2.pcap']],
    ]);
    db.close();
  });

  it('a closed database mid-run: PW_ERR_DB, earlier batches kept, file intact', () => {
    const path = join(dir, 'hits.db');
    const db = openDatabase(path);
    const runId = startRun(db, { command: 'scan', inputs: ['a.pcap'] });
    const sink = new HitSink(db, runId, { batchSize: 2 });
    sink.add(hit({ src: '10.0.0.1' }));
    sink.add(hit({ src: '10.0.0.2' })); // batch 1 committed
    sink.add(hit({ src: '10.0.0.3' }));
    sink.add(hit({ src: '10.0.0.4' })); // batch 2 committed
    expect(sink.written).toBe(4);
    db.close();
    sink.add(hit({ src: '10.0.0.5' }));
    const e = caught(() => sink.add(hit({ src: '10.0.0.6' })));
    expect(e.code).toBe('PW_ERR_DB');
    expect(e.message).toContain(path);
    expect(sink.written).toBe(4);

    const re = openDatabase(path);
    expect(re.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(re.prepare('SELECT src FROM hits ORDER BY src').pluck().all()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
    re.close();
  });

  it('a row failing inside a batch rolls back that batch only; a later flush retries it', () => {
    const path = join(dir, 'hits.db');
    const db = openDatabase(path);
    const runId = startRun(db, { command: 'scan', inputs: ['a.pcap'] });
    const sink = new HitSink(db, runId, { batchSize: 2 });
    sink.add(hit({ src: '10.0.0.1' }));
    sink.add(hit({ src: '10.0.0.2' })); // committed
    // Make the write of one particular row fail, as a full disk or I/O error would.
    db.exec(`CREATE TEMP TRIGGER fail BEFORE INSERT ON main.hits WHEN NEW.src = '10.0.0.9'
             BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`);
    sink.add(hit({ src: '10.0.0.3' }));
    const e = caught(() => sink.add(hit({ src: '10.0.0.9' })));
    expect(e.code).toBe('PW_ERR_DB');
    expect(e.message).toMatch(/simulated write failure/);
    expect(db.prepare('SELECT src FROM hits ORDER BY src').pluck().all()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(db.inTransaction).toBe(false);

    db.exec('DROP TRIGGER fail');
    sink.flush();
    expect(sink.written).toBe(4);
    db.close();
    const re = openDatabase(path, { readonly: true });
    expect(re.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(re.prepare('SELECT src FROM hits ORDER BY src').pluck().all()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.9']);
    re.close();
  });
});
