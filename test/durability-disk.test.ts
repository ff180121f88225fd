/**
 * A disk that fills up under a live scan or a collector, and a database that cannot be written:
 * one clear error (PW_ERR_DB naming the database file), the capture stopped, no partial batch
 * (each batch is one transaction: the rows in the file are exactly the batches that committed),
 * exit code 2, and the file still sound for the next run.
 *
 * The full disk is real: a small tmpfs mounted for the test (root only; skipped with a message
 * when mount is refused), filled to the last page once the first hits are in. A read-only
 * database: the same tmpfs remounted read-only (root), and a file and directory without write
 * permission (chmod 0444/0555), the program run as nobody when the test runs as root (root
 * ignores permissions).
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers/cli.js';
import {
  committed, PCAP_HEADER, session, sessionTs, soundness, srcOf, start, v5Datagram, writeConfig, type Proc,
  tempDirs, waitForHits,
} from './helpers/durability.js';

const POOL = '198.51.100.99';
const PORT = 5555;
const isRoot = process.getuid?.() === 0;

const mounts: string[] = [];
const tmp = tempDirs('pw-disk-', () => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
});

/** A fresh tmpfs of `size` (e.g. "2m"), or null when this machine refuses the mount. */
function tmpfs(size: string): string | null {
  if (!isRoot) return null;
  const d = tmp();
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', d]);
  if (r.status !== 0) return null;
  mounts.push(d);
  return d;
}
const canMount = (() => {
  const d = tmpfs('1m');
  if (d === null) console.warn('skipping the disk-full and read-only-mount tests: they need root and mount -t tmpfs (refused here)');
  return d !== null;
})();

/** Fill the file system holding `dir` to the last byte; returns the filler's path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The two error lines of a write that failed for good: where it stopped, and the command's end. */
function expectDbFailure(p: Proc, db: string, written: number) {
  const errors = p.logs().filter((l) => l.level >= 50);
  const stop = errors.find((l) => l.msg.startsWith('cannot write hits, stopping'))!;
  expect(stop, p.stderr()).toMatchObject({ code: 'PW_ERR_DB', file: db, hitsWritten: written });
  expect(stop.msg).toContain(`${db}: database or disk is full`);
  expect(stop.hitsPending).toBeGreaterThan(0);
  expect(errors.at(-1)).toMatchObject({ code: 'PW_ERR_DB', file: db, msg: `${db}: database or disk is full` });
}

/** After the failure, with room again: sound, exactly the committed batches, and a rerun works. */
async function expectRecovery(dir: string, db: string, filler: string, srcs: string[], args: string[]) {
  unlinkSync(filler);
  expect(soundness(db)).toEqual({ integrity: 'ok', foreignKeyProblems: 0 });
  const c = committed(db)!;
  // No partial batch: the rows are exactly the hits committed before the disk filled.
  expect(c.hits.map((h) => h.src).sort()).toEqual([...srcs].sort());
  const failedRun = c.runs.at(-1)!;
  // Closing the run row needs a write too, which the full disk refused: the row stays 'running'
  // until the next run finds its process gone.
  expect(failedRun).toMatchObject({ status: 'running', finished_at: null });
  const again = start(args);
  again.child.stdin!.end(Buffer.concat([PCAP_HEADER, session(srcOf(9000), POOL, PORT, sessionTs(9000))]));
  const r = await again.done;
  expect(r.code, r.stderr).toBe(0);
  const after = committed(db)!;
  expect(after.runs.find((x) => x.id === failedRun.id)).toMatchObject({ status: 'interrupted', hits: srcs.length });
  expect(after.runs.at(-1)).toMatchObject({ status: 'ok', hits: 1 });
  void dir;
}

describe('a disk that fills up during a live run', () => {
  it.skipIf(!canMount)('scan -: PW_ERR_DB naming the file, capture stopped, no partial batch, exit 2; the next run goes on', async () => {
    const dir = tmpfs('2m')!;
    const db = join(dir, 'hits.db');
    const list = join(dir, 'list.txt');
    writeFileSync(list, `${POOL}:${PORT}\n`);
    const config = writeConfig(dir, ['203.0.113.10:3333']);
    const args = ['scan', '-q', '--no-progress', '--db', db, '-c', config, '-b', list, '-'];
    const p = start(args);
    await p.waitForLog((l) => l.msg === 'blacklist loaded');
    p.write(PCAP_HEADER);
    // Batch A: 20 hits, committed (session 21 ends session 20's flow).
    for (let i = 1; i <= 21; i++) p.write(session(srcOf(i), POOL, PORT, sessionTs(i)));
    await waitForHits(db, 20);
    const filler = fill(dir);
    // Batch B: 20 more, in one flush that cannot be written.
    for (let i = 22; i <= 42; i++) p.write(session(srcOf(i), POOL, PORT, sessionTs(i)));
    const r = await p.done;
    expect(r.code, r.stderr).toBe(2);
    expectDbFailure(p, db, 20);
    await expectRecovery(dir, db, filler, Array.from({ length: 20 }, (_, j) => srcOf(j + 1)), args);
  });

  it.skipIf(!canMount)('collect: PW_ERR_DB naming the file, sockets closed, no partial batch, exit 2; the next run goes on', async () => {
    const dir = tmpfs('2m')!;
    const db = join(dir, 'hits.db');
    const list = join(dir, 'list.txt');
    writeFileSync(list, `${POOL}:${PORT}\n`);
    const config = writeConfig(dir, ['203.0.113.10:3333']);
    const p = start(['collect', '-q', '--listen', '127.0.0.1:0', '--db', db, '-c', config, '-b', list, '--stats-interval', '0.1']);
    const l = await p.waitForLog((x) => x.msg === 'listening');
    const port = Number((l.sockets[0] as string).split(':').at(-1));
    const sock = createSocket('udp4');
    const a = Array.from({ length: 20 }, (_, j) => srcOf(100 + j));
    a.forEach((s, j) => sock.send(v5Datagram(j, [s], POOL, PORT), port, '127.0.0.1'));
    await waitForHits(db, 20);
    const filler = fill(dir);
    for (let j = 0; j < 20; j++) sock.send(v5Datagram(20 + j, [srcOf(200 + j)], POOL, PORT), port, '127.0.0.1');
    const r = await p.done;
    sock.close();
    expect(r.code, r.stderr).toBe(2);
    expectDbFailure(p, db, 20);
    await expectRecovery(dir, db, filler, a, ['scan', '-q', '--no-progress', '--db', db, '-c', config, '-b', list, '-']);
  });
});

describe('a database that cannot be written', () => {
  it.skipIf(!canMount)('on a file system remounted read-only: scan - and collect stop before reading anything, PW_ERR_DB naming the file, exit 2', async () => {
    const dir = tmpfs('2m')!;
    const db = join(dir, 'hits.db');
    const config = writeConfig(dir, ['203.0.113.10:3333']);
    const first = start(['scan', '-q', '--db', db, '-c', config, fixture('sample.pcap')]);
    expect((await first.done).code).toBe(0);
    expect(spawnSync('mount', ['-o', 'remount,ro', dir]).status).toBe(0);
    try {
      for (const args of [
        ['scan', '-q', '--no-progress', '--db', db, '-c', config, '-'],
        ['collect', '-q', '--listen', '127.0.0.1:0', '--db', db, '-c', config],
      ]) {
        const p = start(args);
        p.child.stdin!.end(Buffer.concat([PCAP_HEADER, session(srcOf(1), POOL, PORT, sessionTs(1))]));
        const r = await p.done;
        expect(r.code, r.stderr).toBe(2);
        expect(p.logs()).toEqual([
          expect.objectContaining({ level: 50, code: 'PW_ERR_DB', file: db, msg: `${db}: database is read-only: it is on a read-only file system` }),
        ]);
      }
    } finally {
      spawnSync('mount', ['-o', 'remount,rw', dir]);
    }
    // Nothing was added: still the one run of the first scan.
    expect(committed(db)!.runs.map((r) => r.status)).toEqual(['ok']);
  });

  const as = isRoot ? { uid: 65534, gid: 65534 } : {};
  for (const [what, fileMode, dirMode, message] of [
    ['file 0444, directory 0555', 0o444, 0o555, 'database is read-only: no permission to write the file'],
    ['file writable, directory 0555 (no room for the -wal and -shm files)', 0o644, 0o555, 'database is read-only: no permission to write its directory'],
  ] as const) {
    it(`without write permission (${what}${isRoot ? ', run as nobody' : ''}): scan - stops before reading, PW_ERR_DB naming the file, exit 2`, async () => {
      const parent = tmp();
      chmodSync(parent, 0o755); // mkdtemp makes it 0700: nobody could not even look inside
      const dir = join(parent, 'db');
      mkdirSync(dir);
      const db = join(dir, 'hits.db');
      const config = writeConfig(dir, ['203.0.113.10:3333']);
      const first = start(['scan', '-q', '--db', db, '-c', config, fixture('sample.pcap')]);
      expect((await first.done).code).toBe(0);
      if (isRoot) {
        chownSync(dir, 65534, 65534);
        chownSync(db, 65534, 65534);
      }
      chmodSync(db, fileMode);
      chmodSync(dir, dirMode);
      try {
        const p = start(['scan', '-q', '--no-progress', '--db', db, '-c', config, '-'], as);
        p.child.stdin!.end(Buffer.concat([PCAP_HEADER, session(srcOf(1), POOL, PORT, sessionTs(1))]));
        const r = await p.done;
        expect(r.code, r.stderr).toBe(2);
        const errors = p.logs().filter((l) => l.level >= 50);
        expect(errors).toEqual([expect.objectContaining({ code: 'PW_ERR_DB', file: db })]);
        expect(errors[0]!.msg).toContain(`${db}: ${message}`);
      } finally {
        chmodSync(dir, 0o755);
        chmodSync(db, 0o644);
      }
      expect(committed(db)!.runs.map((r) => r.status)).toEqual(['ok']);
    });
  }
});
