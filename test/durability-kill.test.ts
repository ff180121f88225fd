/**
 * kill -9 at random (seeded) moments of a live scan and of a collector: afterwards the database
 * opens, passes integrity_check, holds every batch another connection had seen committed before
 * the kill, and the next run on it goes on (a new run id, the old runs intact, the killed one
 * marked 'interrupted', exit 0).
 *
 * POOLWATCH_KILL_SEED and POOLWATCH_KILLS change the seed and the number of kills per mode (for a
 * longer soak run); the defaults keep the file near 25 s here. DEBUG_KILL=1 prints each kill and
 * the totals (kills, committed hit rows checked, runs marked interrupted).
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  committed, hitKey, PCAP_HEADER, session, SESSION_PACKETS, sessionTs, sleep, soundness, srcOf, start, v5Datagram, writeConfig,
  waitForOpenFile, type HitRow, type Proc, type RunRow,
  tempDirs,
} from './helpers/durability.js';
import { prng } from './helpers/prng.js';

const SEED = Number(process.env.POOLWATCH_KILL_SEED ?? 7);
const KILLS = Number(process.env.POOLWATCH_KILLS ?? 12);
const POOL = '198.51.100.99';
const PORT = 5555;

/** A configured source of 5,000 entries: writing the first version and loading it take a while to kill in. */
const bigList = () => Array.from({ length: 5000 }, (_, i) => `172.16.${i >> 8}.${i & 255}:3333`);

const tmp = tempDirs('pw-kill-');

/**
 * Where each kill lands. A quarter while the process works on the database file before the first
 * packet ('open': 0-40 ms after the process opened the file: the schema created or migrated,
 * interrupted runs marked, the first blacklist version written, the list loaded, the run row
 * inserted); the rest while hits flow and are flushed ('flow': 400-2000 ms after the start).
 */
interface Kill {
  phase: 'open' | 'flow';
  ms: number;
}
function kills(seed: number, n: number): Kill[] {
  const r = prng(seed);
  return Array.from({ length: n }, (_, i) => (i % 4 === 0 ? { phase: 'open', ms: Math.floor(r() * 40) } : { phase: 'flow', ms: Math.floor(400 + r() * 1600) }));
}
const describeKill = (k: Kill) => (k.phase === 'open' ? `${k.ms} ms after opening the database` : `${k.ms} ms after the start`);

/** What the test saw committed, kept across kills: every row must survive every later kill. */
class Ledger {
  readonly hits = new Map<string, HitRow>();
  readonly runs = new Map<number, RunRow>();
  observe(db: string): void {
    const c = committed(db);
    if (c === null) return;
    for (const h of c.hits) this.hits.set(hitKey(h), h);
    for (const r of c.runs) if (!this.runs.has(r.id)) this.runs.set(r.id, r);
  }
  /** After a kill: the file is sound and everything seen committed is still there, unchanged. */
  check(db: string, what: string): { hits: HitRow[]; runs: RunRow[] } {
    const s = soundness(db);
    expect(s, what).toEqual({ integrity: 'ok', foreignKeyProblems: 0 });
    const now = committed(db);
    if (now === null) {
      expect(this.hits.size, `${what}: hits were seen but the database is gone`).toBe(0);
      return { hits: [], runs: [] };
    }
    const byKey = new Map(now.hits.map((h) => [hitKey(h), h]));
    const missing = [...this.hits.keys()].filter((k) => !byKey.has(k));
    expect(missing, `${what}: committed hits missing after the kill`).toEqual([]);
    for (const [k, h] of this.hits) expect(byKey.get(k), `${what}: hit ${k}`).toEqual(h);
    const runs = new Map(now.runs.map((r) => [r.id, r]));
    for (const [id, r] of this.runs) {
      expect(runs.get(id), `${what}: run ${id}`).toMatchObject({ id, started_at: r.started_at, command: r.command });
    }
    return now;
  }
}

/** Kill with SIGKILL at the moment `kill` says, looking at the database until the last moment. */
async function killAt(p: Proc, kill: Kill, db: string, ledger: Ledger): Promise<void> {
  let t0 = Date.now();
  if (kill.phase === 'open') {
    expect(await waitForOpenFile(p.child.pid!, db), p.stderr()).toBe(true);
    t0 = Date.now();
  }
  while (Date.now() - t0 < kill.ms) {
    ledger.observe(db);
    await sleep(kill.phase === 'open' ? 2 : 30);
  }
  // The last look happens before the kill, so all it saw was committed before it.
  ledger.observe(db);
  p.child.kill('SIGKILL');
  const r = await p.done;
  expect(r.signal, r.stderr).toBe('SIGKILL');
}

/** After the last kill: every run is closed, none left 'running'; the killed ones 'interrupted'. */
function checkRunsAfter(db: string, ledger: Ledger, lastRun: number, lastStatus: string, what: string) {
  const now = ledger.check(db, what);
  const last = now.runs.find((r) => r.id === lastRun)!;
  expect(last.status).toBe(lastStatus);
  for (const r of now.runs.filter((x) => x.id !== lastRun)) {
    // Every earlier run was killed: the next run that opened the database marked it.
    expect(r, `${what}: run ${r.id}`).toMatchObject({ status: 'interrupted', finished_at: null });
    expect(r.hits, `${what}: run ${r.id} hit count`).toBe(now.hits.filter((h) => h.run_id === r.id).length);
    expect(r.id).toBeLessThan(lastRun);
  }
  return now;
}

describe(`kill -9 (seed ${SEED}, ${KILLS} kills per mode)`, () => {
  it(`scan - from a slow pipe: ${KILLS} kills, then a clean run on the same database`, async () => {
    const dir = tmp();
    const db = join(dir, 'hits.db');
    const pools = join(dir, 'pools.txt');
    writeFileSync(pools, `${POOL}:${PORT}\n`);
    const config = writeConfig(dir, bigList());
    const args = ['scan', '-q', '--no-progress', '--db', db, '-c', config, '-b', pools, '-'];
    const ledger = new Ledger();
    let next = 1;
    const marked: number[] = [];
    for (const [k, kill] of kills(SEED, KILLS).entries()) {
      const p = start(args);
      // The writer: a new customer every 15 ms (each session ends the one before: a hit).
      let writing = true;
      const writer = (async () => {
        p.write(PCAP_HEADER);
        while (writing) {
          const i = next++;
          p.write(session(srcOf(i), POOL, PORT, sessionTs(i)));
          await sleep(15);
        }
      })();
      await killAt(p, kill, db, ledger);
      writing = false;
      await writer;
      ledger.check(db, `scan kill ${k + 1}, ${describeKill(kill)}`);
      if (process.env.DEBUG_KILL) console.log(`scan kill ${k + 1}, ${describeKill(kill)}: seen ${ledger.hits.size} hits, ${ledger.runs.size} runs; stderr lines ${p.logs().length}: ${p.logs().map((x) => x.msg).join(" / ")}`);
      for (const l of p.logs().filter((x) => x.msg.includes('marked interrupted'))) marked.push(l.runId);
    }
    // Kills mid-stream had committed batches to lose: there must have been some to check.
    expect(ledger.hits.size).toBeGreaterThan(20);

    // A clean run on the same database: reads to the end of its input and exits 0.
    const p = start(args);
    const first = next;
    const chunks = [PCAP_HEADER];
    for (let i = first; i < first + 25; i++) chunks.push(session(srcOf(i), POOL, PORT, sessionTs(i)));
    p.child.stdin!.end(Buffer.concat(chunks));
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    const lastRun = p.logs().find((l) => l.msg === 'scan finished')!.runId as number;
    expect(Math.max(...ledger.runs.keys(), 0)).toBeLessThan(lastRun);
    for (const l of p.logs().filter((x) => x.msg.includes('marked interrupted'))) marked.push(l.runId);
    const now = checkRunsAfter(db, ledger, lastRun, 'ok', 'after the clean run');
    expect(now.hits.filter((h) => h.run_id === lastRun).map((h) => h.src).sort()).toEqual(
      Array.from({ length: 25 }, (_, j) => srcOf(first + j)).sort(),
    );
    expect(now.runs.find((x) => x.id === lastRun)!.packets).toBe(25 * SESSION_PACKETS);
    // Each interrupted run was marked once, by the run after it, and logged.
    expect(marked.sort((a, b) => a - b)).toEqual(now.runs.filter((x) => x.status === 'interrupted').map((x) => x.id));
    if (process.env.DEBUG_KILL) console.log(`scan: ${KILLS} kills, ${ledger.hits.size} committed hit rows seen before kills and found after, ${marked.length} runs marked interrupted`);
  });

  it(`collect: ${KILLS} kills while datagrams arrive, then a clean run on the same database`, async () => {
    const dir = tmp();
    const db = join(dir, 'hits.db');
    const pools = join(dir, 'pools.txt');
    writeFileSync(pools, `${POOL}:${PORT}\n`);
    const config = writeConfig(dir, bigList());
    const args = ['collect', '-q', '--listen', '127.0.0.1:0', '--db', db, '-c', config, '-b', pools, '--stats-interval', '0.2'];
    const sock = createSocket('udp4');
    const ledger = new Ledger();
    let next = 1;
    let seq = 0;
    try {
      for (const [k, kill] of kills(SEED + 1, KILLS).entries()) {
        const p = start(args);
        let sending = true;
        // The sender starts once the collector listens (a kill may come before that).
        const sender = (async () => {
          let port = 0;
          while (sending && port === 0) {
            const l = p.logs().find((x) => x.msg === 'listening');
            if (l !== undefined) port = Number((l.sockets[0] as string).split(':').at(-1));
            else await sleep(10);
          }
          while (sending) {
            const srcs = [next++, next++, next++].map(srcOf);
            sock.send(v5Datagram(seq++, srcs, POOL, PORT), port, '127.0.0.1');
            await sleep(15);
          }
        })();
        await killAt(p, kill, db, ledger);
        sending = false;
        await sender;
        ledger.check(db, `collect kill ${k + 1}, ${describeKill(kill)}`);
        if (process.env.DEBUG_KILL) console.log(`collect kill ${k + 1}, ${describeKill(kill)}: seen ${ledger.hits.size} hits, ${ledger.runs.size} runs: ${p.logs().map((x) => x.msg).join(' / ')}`);
      }
      expect(ledger.hits.size).toBeGreaterThan(20);

      // A clean run: takes datagrams, stops on SIGTERM, exits 0.
      const p = start(args);
      const l = await p.waitForLog((x) => x.msg === 'listening');
      const port = Number((l.sockets[0] as string).split(':').at(-1));
      const first = next;
      for (let j = 0; j < 10; j++) sock.send(v5Datagram(seq++, [srcOf(next++)], POOL, PORT), port, '127.0.0.1');
      await p.waitForLog((x) => x.msg === 'collector stats' && x.datagrams >= 10);
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const lastRun = p.logs().find((x) => x.msg === 'collect finished')!.runId as number;
      expect(Math.max(...ledger.runs.keys(), 0)).toBeLessThan(lastRun);
      const now = checkRunsAfter(db, ledger, lastRun, 'ok', 'after the clean collector run');
      expect(now.hits.filter((h) => h.run_id === lastRun).map((h) => h.src).sort()).toEqual(
        Array.from({ length: 10 }, (_, j) => srcOf(first + j)).sort(),
      );
      if (process.env.DEBUG_KILL) console.log(`collect: ${KILLS} kills, ${ledger.hits.size} committed hit rows seen before kills and found after, ${now.runs.filter((x) => x.status === 'interrupted').length} runs marked interrupted`);
    } finally {
      sock.close();
    }
  });
});
