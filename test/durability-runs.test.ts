/**
 * Run rows left 'running' (src/report/sink.ts markInterruptedRuns, src/report/owner.ts): the next
 * run marks those whose process is gone 'interrupted', and leaves alone what it cannot be sure of.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/report/db.js';
import { currentOwner, ownerGone } from '../src/report/owner.js';
import { finishRun, HitSink, markInterruptedRuns, startRun } from '../src/report/sink.js';
import { hit } from './helpers/hits.js';

/** The id of a process that has exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('runs left running', () => {
  it('this process is alive; an exited one, another boot, a reused id are gone; another host or no owner is never judged', () => {
    const me = currentOwner();
    expect(me).toMatchObject({ host: hostname(), pid: process.pid });
    expect(ownerGone(me)).toBe(false);
    expect(ownerGone({ ...me, pid: deadPid(), start: null })).toBe(true);
    if (me.start !== null) {
      const [boot, ticks] = me.start.split(':');
      expect(ownerGone({ ...me, pid: deadPid() })).toBe(true);
      // Same id, another process (another start time), or the machine rebooted since.
      expect(ownerGone({ ...me, start: `${boot}:${Number(ticks) + 1}` })).toBe(true);
      expect(ownerGone({ ...me, start: `00000000-0000-0000-0000-000000000000:${ticks}` })).toBe(true);
    }
    expect(ownerGone({ host: 'another-host', pid: deadPid(), start: null })).toBe(false);
    expect(ownerGone({ host: null, pid: null, start: null })).toBe(false);
  });

  it('marks only the dead ones interrupted, counts their committed hits, keeps finished_at NULL; a finished run is untouched', () => {
    const db = openDatabase(':memory:');
    const finished = startRun(db, { command: 'scan a.pcap', inputs: ['a.pcap'] });
    finishRun(db, finished, { packets: 1, bytes: 1, flows: 1, damaged: 0, status: 'ok' });
    const alive = startRun(db, { command: 'scan -', inputs: ['-'] });
    const killed = startRun(db, { command: 'scan -', inputs: ['-'] });
    const sink = new HitSink(db, killed);
    sink.add(hit({ src: '10.0.0.1' }));
    sink.add(hit({ src: '10.0.0.2' }));
    sink.flush();
    const gone = deadPid();
    db.prepare('UPDATE runs SET pid = ?, pid_start = NULL WHERE id = ?').run(gone, killed);
    const old = startRun(db, { command: 'scan -', inputs: ['-'] });
    db.prepare('UPDATE runs SET host = NULL, pid = NULL, pid_start = NULL WHERE id = ?').run(old); // from before schema 6
    const elsewhere = startRun(db, { command: 'collect', inputs: [] });
    db.prepare(`UPDATE runs SET host = 'another-host', pid = ? WHERE id = ?`).run(gone, elsewhere);

    expect(markInterruptedRuns(db)).toEqual([{ id: killed, pid: gone, startedAt: expect.any(String), hits: 2 }]);
    const status = (id: number) => db.prepare('SELECT status, finished_at, hits FROM runs WHERE id = ?').get(id);
    expect(status(killed)).toEqual({ status: 'interrupted', finished_at: null, hits: 2 });
    expect(status(alive)).toMatchObject({ status: 'running' });
    expect(status(old)).toMatchObject({ status: 'running' });
    expect(status(elsewhere)).toMatchObject({ status: 'running' });
    expect(status(finished)).toMatchObject({ status: 'ok' });
    // Once marked, never again.
    expect(markInterruptedRuns(db)).toEqual([]);
    db.close();
  });

  it('a batch write that fails goes to the write-error handler once, not once per hit, until a flush succeeds', () => {
    const db = openDatabase(':memory:');
    const run = startRun(db, { command: 'x', inputs: [] });
    const sink = new HitSink(db, run, { batchSize: 2 });
    const errors: unknown[] = [];
    sink.onWriteError((e) => errors.push(e));
    // Make every write fail: a trigger that refuses hit rows.
    db.exec(`CREATE TEMP TRIGGER refuse BEFORE INSERT ON hits BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    for (let i = 0; i < 10; i++) sink.add(hit({ src: `10.0.1.${i}` }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'PW_ERR_DB' });
    expect(sink.pendingCount).toBe(10);
    expect(sink.written).toBe(0);
    db.exec('DROP TRIGGER refuse');
    sink.flush();
    expect(sink.written).toBe(10);
    expect(db.prepare('SELECT COUNT(*) FROM hits').pluck().get()).toBe(10);
    // Adding flushes by batch again.
    sink.add(hit({ src: '10.0.2.1' }));
    sink.add(hit({ src: '10.0.2.2' }));
    expect(sink.pendingCount).toBe(0);
    db.close();
  });
});
