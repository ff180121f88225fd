import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { formatCaseDetail, formatCases } from '../src/report/cases-format.js';
import {
  addCaseNote, caseHistory, caseHits, CaseTracker, getCase, listCases, openFollowUp, setCaseState, type CaseEvent,
} from '../src/report/cases.js';
import { openDatabase, type Database } from '../src/report/db.js';
import { OrgMap } from '../src/report/orgs.js';
import { finishRun, HitSink, startRun } from '../src/report/sink.js';
import type { FlowHit } from '../src/report/types.js';
import { cli, logLines } from './helpers/cli.js';
import { memoryLog, writeConfig } from './helpers/follow-up.js';
import { hit, SEC, T0 } from './helpers/hits.js';
import { caught } from './helpers/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-cases-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A wall clock the test moves by hand. */
function clock(iso: string) {
  let t = Date.parse(iso);
  return { now: () => new Date(t), set: (s: string) => (t = Date.parse(s)) };
}

const orgs = () => {
  const m = new OrgMap();
  m.add('10.0.0.0/24', { name: 'Example School', sector: 'school', contact: 'head@school.example' });
  m.add('2001:db8::/32', { name: 'Ministry', sector: 'government', contact: null });
  return m;
};

/** A database file, a tracker on it with the clock, and a way to record hits in a new run. */
function setup(wall = '2024-05-01T12:00:00.000Z') {
  const db = openDatabase(join(dir, 'hits.db'));
  const c = clock(wall);
  const events: CaseEvent[] = [];
  const tracker = new CaseTracker(db, { orgs: orgs(), onEvent: (e) => events.push(e), now: c.now });
  const record = (...hits: Partial<FlowHit>[]) => {
    const run = startRun(db, { command: 'test', inputs: [] });
    const sink = new HitSink(db, run, { onBatch: tracker.onBatch });
    for (const h of hits) sink.add(hit(h));
    sink.flush();
    finishRun(db, run, { packets: 0, bytes: 0, flows: hits.length, damaged: 0, status: 'ok' });
  };
  return { db, clock: c, events, tracker, record };
}

describe('opening cases', () => {
  it('a source recorded mining opens one case (new), attributed, with an "opened" event and a CaseEvent; other categories do not', () => {
    const { db, events, record } = setup();
    record(
      { src: '10.0.0.2', coin: 'btc', firstSeen: T0, lastSeen: T0 + 5 * SEC },
      { src: '10.0.0.2', poolIp: '203.0.113.9', poolPort: 4444, coin: 'xmr', firstSeen: T0 + SEC, lastSeen: T0 + 9 * SEC },
      { src: '2001:db8::5', poolIp: '2001:db8:ffff::1', poolPort: 3333 },
      { src: '10.0.0.3', category: 'crypto-p2p', evidence: ['bitcoin-p2p'], poolPort: 8333 },
      { src: '10.0.0.4', category: 'suspect', evidence: ['steady-flow'] },
      { src: '192.168.9.9' },
    );
    expect(listCases(db).map((c) => [c.src, c.state, c.org, c.recurrences])).toEqual([
      ['10.0.0.2', 'new', 'Example School', 0],
      ['192.168.9.9', 'new', null, 0],
      ['2001:db8::5', 'new', 'Ministry', 0],
    ]);
    expect(events).toEqual([
      {
        kind: 'new', src: '10.0.0.2', org: 'Example School', sector: 'school', contact: 'head@school.example',
        pools: ['203.0.113.5:3333', '203.0.113.9:4444'], coins: ['btc', 'xmr'],
        firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:00:09.000Z', recurrences: 0,
      },
      expect.objectContaining({ kind: 'new', src: '2001:db8::5', org: 'Ministry', sector: 'government', contact: null, pools: ['[2001:db8:ffff::1]:3333'], coins: [] }),
      expect.objectContaining({ kind: 'new', src: '192.168.9.9', org: null, sector: null, contact: null }),
    ]);
    expect(caseHistory(db, '10.0.0.2')).toEqual([
      { id: 1, at: '2024-05-01T12:00:00.000Z', by: 'poolwatch', kind: 'opened', from: null, to: 'new', note: 'mining seen 2024-05-01T12:00:00.000Z to 2024-05-01T12:00:09.000Z' },
    ]);
    expect(getCase(db, '10.0.0.2')).toEqual({
      src: '10.0.0.2', state: 'new', openedAt: '2024-05-01T12:00:00.000Z', updatedAt: '2024-05-01T12:00:00.000Z', recurrences: 0,
      org: 'Example School', lastSeen: '2024-05-01T12:00:09.000Z', notes: 0, clearedAt: null, reopenedAt: null, firstSeen: '2024-05-01T12:00:00.000Z',
    });
    expect(getCase(db, '10.0.0.3')).toBeNull();

    // Seen again while open: nothing new. A crypto-p2p source that starts mining: a case now.
    record({ src: '10.0.0.2', firstSeen: T0 + 60 * SEC, lastSeen: T0 + 70 * SEC }, { src: '10.0.0.3' });
    expect(events.map((e) => [e.kind, e.src])).toEqual([['new', '10.0.0.2'], ['new', '2001:db8::5'], ['new', '192.168.9.9'], ['new', '10.0.0.3']]);
    expect(caseHistory(db, '10.0.0.2')).toHaveLength(1);
    expect(getCase(db, '10.0.0.2')?.lastSeen).toBe('2024-05-01T12:01:10.000Z');
    db.close();
  });

  it('HitSink calls onBatch after each committed batch with the sources it wrote', () => {
    const db = openDatabase(':memory:');
    const run = startRun(db, { command: 'test', inputs: [] });
    const batches: string[][] = [];
    const sink = new HitSink(db, run, {
      batchSize: 2,
      onBatch: (srcs) => {
        // committed already: the rows are there
        for (const s of srcs) expect(db.prepare('SELECT COUNT(*) FROM hits WHERE src = ?').pluck().get(s)).toBeGreaterThan(0);
        batches.push([...srcs].sort());
      },
    });
    sink.add(hit({ src: '10.0.0.1' }));
    sink.add(hit({ src: '10.0.0.1', poolPort: 4444 }));
    sink.add(hit({ src: '10.0.0.2' }));
    sink.add(hit({ src: '10.0.0.3' }));
    sink.add(hit({ src: '10.0.0.4' }));
    sink.flush();
    sink.flush(); // nothing pending: no call
    expect(batches).toEqual([['10.0.0.1'], ['10.0.0.2', '10.0.0.3'], ['10.0.0.4']]);
    expect(sink.written).toBe(5);
    db.close();
  });

  it('a database failure costs no hits and no cases: logged once, the sources retried with the next batch', () => {
    const { log, lines } = memoryLog();
    const db = openDatabase(join(dir, 'hits.db'));
    const events: CaseEvent[] = [];
    const tracker = new CaseTracker(db, { onEvent: (e) => events.push(e), log });
    const run = startRun(db, { command: 'test', inputs: [] });
    const sink = new HitSink(db, run, { batchSize: 1, onBatch: tracker.onBatch });
    db.exec(`CREATE TEMP TRIGGER fail BEFORE INSERT ON main.cases BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`);
    sink.add(hit({ src: '10.0.0.1' }));
    sink.add(hit({ src: '10.0.0.2' }));
    expect(sink.written).toBe(2);
    expect(tracker.stats.errors).toBe(2);
    expect(listCases(db)).toEqual([]);
    expect(events).toEqual([]);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([expect.stringMatching(/^cannot update cases, will retry: .*simulated failure/)]);
    db.exec('DROP TRIGGER fail');
    sink.add(hit({ src: '10.0.0.3' }));
    expect(listCases(db).map((c) => c.src)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(events.map((e) => e.src).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(lines.at(-1)?.msg).toBe('cases are updated again');
    db.close();
  });

  it('an alert hook that throws does not stop the cases', () => {
    const { log, lines } = memoryLog();
    const db = openDatabase(join(dir, 'hits.db'));
    const tracker = new CaseTracker(db, { onEvent: () => { throw new Error('boom'); }, log });
    expect(tracker.sync(['10.0.0.1'])).toEqual({ opened: 0, reopened: 0 }); // no hits: no case
    const run = startRun(db, { command: 'test', inputs: [] });
    const sink = new HitSink(db, run, { onBatch: tracker.onBatch });
    sink.add(hit({ src: '10.0.0.1' }));
    sink.add(hit({ src: '10.0.0.2' }));
    sink.flush();
    expect(listCases(db)).toHaveLength(2);
    expect(lines.filter((l) => /case alert failed: boom/.test(l.msg))).toHaveLength(2);
    db.close();
  });
});

describe('transitions, notes and history', () => {
  it('new → verified → notified → blocked → cleared, each with who, when and an optional note', () => {
    const { db, clock: c, record } = setup();
    record({ src: '10.0.0.2' });
    const steps = [
      ['2024-05-01T13:00:00.000Z', 'verified', 'alice', 'customer line 0212345678'],
      ['2024-05-02T09:00:00.000Z', 'notified', 'alice', undefined],
      ['2024-05-03T09:00:00.000Z', 'blocked', 'bob', 'port 3333 filtered'],
      ['2024-05-10T09:00:00.000Z', 'cleared', 'bob', undefined],
    ] as const;
    let from = 'new';
    for (const [at, to, by, note] of steps) {
      c.set(at);
      expect(setCaseState(db, '10.0.0.2', to, { by, note, now: c.now })).toEqual({ from, to, changed: true });
      from = to;
    }
    c.set('2024-05-04T10:00:00.000Z');
    addCaseNote(db, '10.0.0.2', '  customer says the PC is fixed\nsecond line ', { by: 'carol', now: c.now });
    expect(caseHistory(db, '10.0.0.2').map(({ id: _id, ...e }) => e)).toEqual([
      { at: '2024-05-01T12:00:00.000Z', by: 'poolwatch', kind: 'opened', from: null, to: 'new', note: expect.stringMatching(/^mining seen /) },
      { at: '2024-05-01T13:00:00.000Z', by: 'alice', kind: 'state', from: 'new', to: 'verified', note: 'customer line 0212345678' },
      { at: '2024-05-02T09:00:00.000Z', by: 'alice', kind: 'state', from: 'verified', to: 'notified', note: null },
      { at: '2024-05-03T09:00:00.000Z', by: 'bob', kind: 'state', from: 'notified', to: 'blocked', note: 'port 3333 filtered' },
      { at: '2024-05-10T09:00:00.000Z', by: 'bob', kind: 'state', from: 'blocked', to: 'cleared', note: null },
      { at: '2024-05-04T10:00:00.000Z', by: 'carol', kind: 'note', from: null, to: null, note: 'customer says the PC is fixed\nsecond line' },
    ]);
    expect(getCase(db, '10.0.0.2')).toMatchObject({ state: 'cleared', clearedAt: '2024-05-10T09:00:00.000Z', updatedAt: '2024-05-04T10:00:00.000Z', notes: 1 });

    // The same state again records nothing; a false positive may go straight from new to cleared.
    expect(setCaseState(db, '10.0.0.2', 'cleared', { by: 'bob' })).toEqual({ from: 'cleared', to: 'cleared', changed: false });
    expect(caseHistory(db, '10.0.0.2')).toHaveLength(6);
    record({ src: '10.0.0.7' });
    expect(setCaseState(db, '10.0.0.7', 'cleared', { by: 'bob', note: 'false positive: our own test rig' }).changed).toBe(true);
    db.close();
  });

  it('refuses an unknown case, an unknown state, an empty note and a bad name', () => {
    const { db, record } = setup();
    record({ src: '10.0.0.2' });
    expect(caught(() => setCaseState(db, '10.9.9.9', 'verified', { by: 'a' })).message).toMatch(/^no case for 10.9.9.9/);
    expect(caught(() => addCaseNote(db, '10.9.9.9', 'x', { by: 'a' })).code).toBe('PW_ERR_USAGE');
    expect(caught(() => setCaseState(db, '10.0.0.2', 'closed' as never, { by: 'a' })).message).toMatch(/unknown case state "closed"/);
    expect(caught(() => addCaseNote(db, '10.0.0.2', '   ', { by: 'a' })).message).toBe('the note is empty');
    expect(caught(() => addCaseNote(db, '10.0.0.2', 'x'.repeat(4001), { by: 'a' })).message).toMatch(/longer than 4000/);
    for (const by of ['', '  ', 'a\nb', 'x'.repeat(65)]) expect(caught(() => setCaseState(db, '10.0.0.2', 'verified', { by })).message).toMatch(/--by/);
    expect(caseHistory(db, '10.0.0.2')).toHaveLength(1);
    db.close();
  });
});

describe('recurrence', () => {
  it('a cleared case re-opens (new, recurrences + 1, reopened event, recurrence alert) on mining whose last packet is after the clearing', () => {
    const { db, clock: c, events, record } = setup();
    record({ src: '10.0.0.2', firstSeen: T0, lastSeen: T0 + 10 * SEC });
    c.set('2024-05-01T14:00:00.000Z');
    setCaseState(db, '10.0.0.2', 'cleared', { by: 'alice', now: c.now });

    // A replay of traffic from before the clearing (packet time) re-opens nothing, nor does a crypto-p2p hit after it.
    c.set('2024-05-02T08:00:00.000Z');
    record({ src: '10.0.0.2', firstSeen: T0 + 3600 * SEC, lastSeen: T0 + 7000 * SEC }); // ends 13:56:40, before 14:00
    record({ src: '10.0.0.2', category: 'crypto-p2p', evidence: ['bitcoin-p2p'], poolPort: 8333, firstSeen: T0 + 3 * 3600 * SEC, lastSeen: T0 + 4 * 3600 * SEC });
    expect(getCase(db, '10.0.0.2')?.state).toBe('cleared');
    expect(events.filter((e) => e.kind === 'recurrence')).toEqual([]);

    // Mining seen after the clearing: 14:30 to 15:00, at another pool.
    record({ src: '10.0.0.2', poolIp: '198.51.100.77', poolPort: 14444, coin: 'xmr', firstSeen: T0 + 9000 * SEC, lastSeen: T0 + 10800 * SEC });
    expect(getCase(db, '10.0.0.2')).toMatchObject({ state: 'new', recurrences: 1, reopenedAt: '2024-05-02T08:00:00.000Z', clearedAt: '2024-05-01T14:00:00.000Z', org: 'Example School' });
    expect(events.at(-1)).toEqual({
      kind: 'recurrence', src: '10.0.0.2', org: 'Example School', sector: 'school', contact: 'head@school.example',
      pools: ['198.51.100.77:14444'], coins: ['xmr'], firstSeen: '2024-05-01T14:30:00.000Z', lastSeen: '2024-05-01T15:00:00.000Z', recurrences: 1,
    });
    expect(caseHistory(db, '10.0.0.2').at(-1)).toMatchObject({
      by: 'poolwatch', kind: 'reopened', from: 'cleared', to: 'new', at: '2024-05-02T08:00:00.000Z',
      note: 'mining seen again 2024-05-01T14:30:00.000Z to 2024-05-01T15:00:00.000Z, after the case was cleared at 2024-05-01T14:00:00.000Z; recurrence 1',
    });

    // Open again: more mining is no further recurrence. Cleared once more, then seen again: 2.
    record({ src: '10.0.0.2', firstSeen: T0 + 11000 * SEC, lastSeen: T0 + 11100 * SEC });
    expect(getCase(db, '10.0.0.2')?.recurrences).toBe(1);
    c.set('2024-05-03T00:00:00.000Z');
    setCaseState(db, '10.0.0.2', 'notified', { by: 'alice', now: c.now });
    setCaseState(db, '10.0.0.2', 'cleared', { by: 'alice', now: c.now });
    record({ src: '10.0.0.2', firstSeen: Date.parse('2024-05-03T06:00:00Z') * 1000, lastSeen: Date.parse('2024-05-03T06:05:00Z') * 1000 });
    expect(getCase(db, '10.0.0.2')).toMatchObject({ state: 'new', recurrences: 2 });
    expect(events.map((e) => [e.kind, e.recurrences])).toEqual([['new', 0], ['recurrence', 1], ['recurrence', 2]]);
    expect(listCases(db)[0]).toMatchObject({ src: '10.0.0.2', recurrences: 2, lastSeen: '2024-05-03T06:05:00.000Z' });
    db.close();
  });

  it('a long-running flow whose row keeps growing past the clearing is a recurrence (same run, same row)', () => {
    const { db, clock: c, events, tracker } = setup('2024-05-01T12:00:00.000Z');
    const run = startRun(db, { command: 'live', inputs: ['eth0'] });
    const sink = new HitSink(db, run, { onBatch: tracker.onBatch });
    sink.add(hit({ src: '10.0.0.2', firstSeen: T0, lastSeen: T0 + 60 * SEC }));
    sink.flush();
    c.set('2024-05-01T12:05:00.000Z');
    setCaseState(db, '10.0.0.2', 'cleared', { by: 'alice', now: c.now });
    sink.add(hit({ src: '10.0.0.2', firstSeen: T0 + 120 * SEC, lastSeen: T0 + 290 * SEC })); // 12:04:50: before
    sink.flush();
    expect(getCase(db, '10.0.0.2')?.state).toBe('cleared');
    sink.add(hit({ src: '10.0.0.2', firstSeen: T0 + 300 * SEC, lastSeen: T0 + 360 * SEC })); // 12:06: after
    sink.flush();
    expect(db.prepare('SELECT COUNT(*) FROM hits').pluck().get()).toBe(1);
    expect(getCase(db, '10.0.0.2')).toMatchObject({ state: 'new', recurrences: 1 });
    expect(events.at(-1)).toMatchObject({ kind: 'recurrence', firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:06:00.000Z' });
    db.close();
  });

  it('a cleared case changed back by hand is not a recurrence, and its later mining re-opens nothing', () => {
    const { db, events, record } = setup();
    record({ src: '10.0.0.2' });
    setCaseState(db, '10.0.0.2', 'cleared', { by: 'alice', now: () => new Date('2024-05-01T12:10:00Z') });
    setCaseState(db, '10.0.0.2', 'blocked', { by: 'alice', note: 'cleared by mistake', now: () => new Date('2024-05-01T12:11:00Z') });
    record({ src: '10.0.0.2', firstSeen: T0 + 3600 * SEC, lastSeen: T0 + 3700 * SEC });
    expect(getCase(db, '10.0.0.2')).toMatchObject({ state: 'blocked', recurrences: 0 });
    expect(events).toHaveLength(1);
    db.close();
  });
});

describe('listing and showing', () => {
  it('listCases: workflow order, then oldest first, then address; filters by state and organisation', () => {
    const { db, clock: c, record } = setup();
    record({ src: '10.0.0.9' }, { src: '10.0.0.10' });
    c.set('2024-05-01T13:00:00.000Z');
    record({ src: '2001:db8::1' }, { src: '172.16.0.1' });
    setCaseState(db, '10.0.0.9', 'blocked', { by: 'a' });
    setCaseState(db, '172.16.0.1', 'verified', { by: 'a' });
    addCaseNote(db, '10.0.0.10', 'first', { by: 'a' });
    addCaseNote(db, '10.0.0.10', 'second', { by: 'b' });
    expect(listCases(db).map((r) => [r.src, r.state, r.notes])).toEqual([
      ['10.0.0.10', 'new', 2],
      ['2001:db8::1', 'new', 0],
      ['172.16.0.1', 'verified', 0],
      ['10.0.0.9', 'blocked', 0],
    ]);
    expect(listCases(db, { state: 'new' }).map((r) => r.src)).toEqual(['10.0.0.10', '2001:db8::1']);
    expect(listCases(db, { org: 'Example School' }).map((r) => r.src)).toEqual(['10.0.0.10', '10.0.0.9']);
    expect(listCases(db, { org: 'unknown' }).map((r) => r.src)).toEqual(['172.16.0.1']);
    expect(caught(() => listCases(db, { state: 'x' as never })).code).toBe('PW_ERR_USAGE');

    const csv = formatCases(listCases(db), 'csv').split('\r\n');
    expect(csv[0]).toBe('src,state,org,openedAt,updatedAt,recurrences,notes,firstSeen,lastSeen,clearedAt,reopenedAt');
    expect(csv[1]).toMatch(/^10\.0\.0\.10,new,Example School,2024-05-01T12:00:00\.000Z,.*,0,2,2024-05-01T12:00:00\.000Z,2024-05-01T12:00:01\.000Z,,$/);
    expect(formatCases(listCases(db), 'table').split('\n')[0]).toMatch(/^SRC +STATE +ORGANISATION +OPENED +UPDATED +RECURRENCES +NOTES +LAST MINING SEEN$/);
    expect(formatCases([], 'table')).toBe('no cases');
    expect(JSON.parse(formatCases(listCases(db), 'json'))).toHaveLength(4);
    db.close();
  });

  it('caseHits: one line per pool endpoint over every run and category, latest first', () => {
    const { db, record } = setup();
    record(
      { src: '10.0.0.2', coin: 'btc', login: 'bc1qwallet.rig1', worker: 'rig1', agent: 'cgminer/4.10', evidence: ['stratum'], firstSeen: T0, lastSeen: T0 + SEC },
      { src: '10.0.0.2', poolIp: '2001:db8:ffff::1', poolPort: 8333, category: 'crypto-p2p', evidence: ['bitcoin-p2p'], firstSeen: T0, lastSeen: T0 + 2 * SEC },
    );
    record({ src: '10.0.0.2', evidence: ['blacklist-ip'], poolHost: 'pool.example', firstSeen: T0 + 10 * SEC, lastSeen: T0 + 20 * SEC, bytesUp: 1000 });
    expect(caseHits(db, '10.0.0.2')).toEqual([
      {
        pool: '203.0.113.5:3333', poolHost: 'pool.example', category: 'mining', coins: ['btc'], logins: ['bc1qwallet.rig1'], workers: ['rig1'], agents: ['cgminer/4.10'],
        evidence: ['blacklist-ip', 'stratum'], runs: [1, 2], flows: 2, packets: 4, bytes: 1500, firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:00:20.000Z',
      },
      {
        pool: '[2001:db8:ffff::1]:8333', poolHost: null, category: 'crypto-p2p', coins: [], logins: [], workers: [], agents: [],
        evidence: ['bitcoin-p2p'], runs: [1], flows: 1, packets: 2, bytes: 300, firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:00:02.000Z',
      },
    ]);
    const text = formatCaseDetail(
      { case: getCase(db, '10.0.0.2')!, organisation: { ...orgs().lookup('10.0.0.2')!, range: '10.0.0.0/24' }, hits: caseHits(db, '10.0.0.2'), history: caseHistory(db, '10.0.0.2') },
      'table',
    );
    expect(text.split('\n').slice(0, 4)).toEqual([
      'case 10.0.0.2',
      '  state        new (since 2024-05-01 12:00:00Z)',
      '  opened       2024-05-01 12:00:00Z',
      '  organisation Example School, school, contact head@school.example (range 10.0.0.0/24)',
    ]);
    expect(text).toMatch(/\nhits\n  POOL +CATEGORY/);
    expect(text).toMatch(/\nhistory\n  AT +BY +EVENT +NOTE\n  2024-05-01 12:00:00Z +poolwatch +opened as new +mining seen/);
    db.close();
  });
});

describe('openFollowUp', () => {
  it('an in-memory database keeps no cases and sends no alerts; a file gets a tracker with the configured organisations', async () => {
    writeFileSync(join(dir, 'orgs.yaml'), 'organisations:\n  - name: School\n    ranges: [10.0.0.0/24]\n');
    const config = loadConfig(writeConfig(dir, { orgFiles: [join(dir, 'orgs.yaml')], syslog: { host: '127.0.0.1', port: 9 } }));
    const { log, lines } = memoryLog();
    const mem = openDatabase(':memory:');
    const none = openFollowUp(mem, config, log);
    expect(none.onBatch).toBeUndefined();
    expect(none.tracker).toBeNull();
    expect(lines.map((l) => l.msg)).toEqual(['no cases and no alerts without --db: cases live in the database']);
    await none.close();
    mem.close();

    const db = openDatabase(join(dir, 'hits.db'));
    const f = openFollowUp(db, config, log);
    expect(f.alerts?.channels.map((c) => c.name)).toEqual(['syslog']);
    const run = startRun(db, { command: 'test', inputs: [] });
    const sink = new HitSink(db, run, { onBatch: f.onBatch });
    sink.add(hit({ src: '10.0.0.2' }));
    sink.flush();
    await f.close();
    expect(listCases(db).map((c) => [c.src, c.org])).toEqual([['10.0.0.2', 'School']]);
    expect(lines.at(-1)).toMatchObject({ msg: 'cases updated', casesOpened: 1, casesReopened: 0, alerts: { events: 1, alerts: 1 } });
    db.close();

    // A broken organisation file stops the run before it starts.
    writeFileSync(join(dir, 'orgs.yaml'), 'organisations:\n  - name: School\n    ranges: [10.0.0.1/24]\n');
    const db2 = openDatabase(join(dir, 'hits.db'));
    expect(caught(() => openFollowUp(db2, config, log)).message).toMatch(/orgs.yaml, line 3: host bits set/);
    db2.close();
  });
});

describe('poolwatch case (built CLI)', () => {
  function fill(): { path: string; config: string } {
    writeFileSync(join(dir, 'orgs.csv'), 'range,name,sector,contact\n10.0.0.0/24,Example School,school,head@school.example\n');
    const path = join(dir, 'hits.db');
    const db: Database = openDatabase(path);
    const m = new OrgMap();
    m.add('10.0.0.0/24', { name: 'Example School', sector: 'school', contact: 'head@school.example' });
    const tracker = new CaseTracker(db, { orgs: m });
    const run = startRun(db, { command: 'test', inputs: [] });
    const sink = new HitSink(db, run, { onBatch: tracker.onBatch });
    sink.add(hit({ src: '10.0.0.2', coin: 'btc' }));
    sink.add(hit({ src: '2001:db8::5' }));
    sink.flush();
    db.close();
    return { path, config: writeConfig(dir, { orgFiles: [join(dir, 'orgs.csv')] }) };
  }

  it('list, set, note and show, with who from --by or $USER; IPv6 in any spelling', () => {
    const { path, config } = fill();
    let r = cli(['case', 'list', '--db', path, '-f', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { src: string; state: string; org: string | null }[]).map((c) => [c.src, c.state, c.org])).toEqual([
      ['10.0.0.2', 'new', 'Example School'],
      ['2001:db8::5', 'new', null],
    ]);
    r = cli(['case', 'set', '10.0.0.2', 'verified', '--db', path, '--by', 'alice', '--note', 'line 0212345678']);
    expect([r.code, r.stdout]).toEqual([0, 'case 10.0.0.2: new -> verified\n']);
    r = cli(['case', 'set', '2001:DB8:0::0005', 'notified', '--db', path], { env: { USER: 'carol' } });
    expect([r.code, r.stdout]).toEqual([0, 'case 2001:db8::5: new -> notified\n']);
    r = cli(['case', 'note', '10.0.0.2', '--db', path, 'called', 'the', 'head', 'teacher'], { env: { USER: 'dave' } });
    expect([r.code, r.stdout]).toEqual([0, 'case 10.0.0.2: note recorded\n']);
    r = cli(['case', 'set', '10.0.0.2', 'verified', '--db', path]);
    expect([r.code, r.stdout]).toEqual([0, 'case 10.0.0.2: already verified, nothing recorded\n']);

    r = cli(['case', 'show', '10.0.0.2', '--db', path, '-c', config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^case 10\.0\.0\.2\n  state        verified \(since /);
    expect(r.stdout).toMatch(/organisation Example School, school, contact head@school\.example \(range 10\.0\.0\.0\/24\)/);
    expect(r.stdout).toMatch(/  [0-9: -]+Z +alice +new -> verified +line 0212345678\n/);
    expect(r.stdout).toMatch(/  [0-9: -]+Z +dave +note +called the head teacher\n/);
    const json = JSON.parse(cli(['case', 'show', '10.0.0.2', '--db', path, '-c', config, '-f', 'json']).stdout);
    expect(json.case).toMatchObject({ src: '10.0.0.2', state: 'verified', notes: 1 });
    expect(json.organisation).toEqual({ name: 'Example School', sector: 'school', contact: 'head@school.example', range: '10.0.0.0/24' });
    expect(json.history.map((e: { by: string; kind: string }) => [e.by, e.kind])).toEqual([['poolwatch', 'opened'], ['alice', 'state'], ['dave', 'note']]);
    expect(json.hits).toHaveLength(1);
    const v6 = JSON.parse(cli(['case', 'show', '2001:db8::5', '--db', path, '-c', config, '-f', 'json']).stdout);
    expect(v6.organisation).toBeNull();
    expect(v6.history.at(-1)).toMatchObject({ by: 'carol', from: 'new', to: 'notified' });

    r = cli(['case', 'list', '--db', path, '--state', 'notified']);
    expect(r.stdout.split('\n')[1]).toMatch(/^2001:db8::5 +notified +unknown /);
  });

  it('errors exit 2 with one log line: no such case, bad state, bad address, a database that is not there (and is not created)', () => {
    const { path } = fill();
    const cases: [string[], RegExp][] = [
      [['case', 'set', '10.9.9.9', 'verified', '--db', path], /no case for 10\.9\.9\.9/],
      [['case', 'set', '10.0.0.2', 'closed', '--db', path], /unknown case state "closed"/],
      [['case', 'note', 'pool.example', 'x', '--db', path], /not an IPv4 or IPv6 address/],
      [['case', 'show', '10.9.9.9', '--db', path], /no case for 10\.9\.9\.9/],
      [['case', 'set', '10.0.0.2', 'verified', '--db', join(dir, 'typo.db')], /typo\.db: no such database/],
      [['case', 'list', '--db', join(dir, 'typo.db')], /no such database/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      const lines = logLines(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 50, msg: expect.stringMatching(re) });
    }
    expect(existsSync(join(dir, 'typo.db'))).toBe(false);
    const bad = cli(['case', 'list', '--db', path, '--state', 'open']);
    expect(bad.code).toBe(2);
  });
});
