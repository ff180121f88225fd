/**
 * The versioned store on its own: interval versioning, counts, diffs, history, expiry at load
 * time, and atomicity (a failed commit changes nothing; a reader on another connection, or in
 * another thread, sees a whole version or the one before, never a mix).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PoolwatchError } from '../src/errors.js';
import { openDatabase, type Database } from '../src/report/db.js';
import {
  commitVersion, currentVersion, diffVersions, history, loadSnapshot, sourceStates, versionEntries, type StoreEntry,
} from '../src/blacklist/store.js';
import { buildIndex } from '../src/blacklist/lookup.js';
import { entries, HOUR, T0 } from './helpers/blacklist.js';

let dir: string;
let db: Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-store-'));
  db = openDatabase(join(dir, 'bl.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const texts = (xs: { source: string; text: string }[]) => xs.map((e) => `${e.source} ${e.text}`).sort();
const replace = (source: string, list: StoreEntry[], status = 'ok') => ({ source, replace: list, status });
const meta = (now = T0) => ({ reason: 'refresh' as const, command: 'test', now });
const rowCount = () => (db.prepare('SELECT count(*) AS n FROM blacklist_entries').get() as { n: number }).n;

describe('versions', () => {
  it('starts empty, and the first commit is version 1 with every entry added', () => {
    expect(currentVersion(db)).toBeNull();
    expect(loadSnapshot(db, T0)).toEqual({ version: null, addresses: [], domains: [] });
    const r = commitVersion(db, [replace('a', entries('a', ['203.0.113.7', '198.51.100.0/24:3333', 'pool.example:4444-4450']))], meta())!;
    expect(r).toMatchObject({ version: 1, added: 3, removed: 0, unchanged: 0, total: 3 });
    expect(currentVersion(db)).toBe(1);
    expect(texts(versionEntries(db, 1))).toEqual(['a 198.51.100.0/24:3333', 'a 203.0.113.7', 'a pool.example:4444-4450']);
  });

  it('stores only what changed: surviving entries keep their row, old versions stay listable', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', '203.0.113.2', '203.0.113.3']))], meta(T0));
    const before = versionEntries(db, 1);
    const r = commitVersion(db, [replace('a', entries('a', ['203.0.113.2', '203.0.113.3', '203.0.113.4']))], meta(T0 + HOUR))!;
    expect(r).toMatchObject({ version: 2, added: 1, removed: 1, unchanged: 2, total: 3 });
    expect(r.sources).toEqual([{ source: 'a', status: 'ok', message: null, location: null, added: 1, removed: 1, unchanged: 2, entries: 3 }]);
    expect(rowCount()).toBe(4); // 3 + the one new entry; nothing copied
    expect(texts(versionEntries(db, 1))).toEqual(['a 203.0.113.1', 'a 203.0.113.2', 'a 203.0.113.3']);
    expect(texts(versionEntries(db, 2))).toEqual(['a 203.0.113.2', 'a 203.0.113.3', 'a 203.0.113.4']);
    const kept = versionEntries(db, 2).find((e) => e.text === '203.0.113.2')!;
    expect(kept.id).toBe(before.find((e) => e.text === '203.0.113.2')!.id);
    expect(kept.firstSeen).toBe(T0);
    expect(kept.lastSeen).toBe(T0 + HOUR);
    expect(kept.addedIn).toBe(1);
  });

  it('leaves sources without a change alone, and counts per source', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1'])), replace('b', entries('b', ['pool.example']))], meta());
    const r = commitVersion(db, [{ source: 'a', status: 'failed', message: 'HTTP 500' }, replace('b', [])], meta())!;
    expect(r).toMatchObject({ version: 2, added: 0, removed: 1, unchanged: 1, total: 1 });
    expect(r.sources.map((s) => [s.source, s.status, s.entries, s.removed])).toEqual([['a', 'failed', 1, 0], ['b', 'ok', 0, 1]]);
    expect(texts(versionEntries(db, 2))).toEqual(['a 203.0.113.1']);
  });

  it('treats a relabelled entry as removed and added, so old versions keep their labels', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1'], { coin: 'xmr', label: 'old' }))], meta());
    const r = commitVersion(db, [replace('a', entries('a', ['203.0.113.1'], { coin: 'xmr', label: 'new' }))], meta())!;
    expect(r).toMatchObject({ added: 1, removed: 1, unchanged: 0, total: 1 });
    expect(versionEntries(db, 1)[0]!.label).toBe('old');
    expect(versionEntries(db, 2)[0]!.label).toBe('new');
    const d = diffVersions(db, 1, 2);
    expect(d.added.map((e) => e.label)).toEqual(['new']);
    expect(d.removed.map((e) => e.label)).toEqual(['old']);
  });

  it('keeps the first of duplicate entries in one list', () => {
    const list = [...entries('a', ['203.0.113.1'], { label: 'first' }), ...entries('a', ['203.0.113.1/32'], { label: 'second' })];
    const r = commitVersion(db, [replace('a', list)], meta())!;
    expect(r.total).toBe(1);
    expect(versionEntries(db, 1)[0]!.label).toBe('first');
  });

  it('tells resolved addresses of different names apart (two pool names on one CDN address)', () => {
    const ip = (domain: string) => ({ ...(entries('s:resolved', ['104.16.1.1'])[0] as Extract<StoreEntry, { kind: 'ip' }>), domain, ttl: 60, expiresAt: T0 + HOUR });
    const r = commitVersion(db, [replace('s:resolved', [ip('a.example'), ip('b.example')])], meta())!;
    expect(r.total).toBe(2);
    expect(versionEntries(db, 1).map((e) => (e.kind === 'ip' ? e.domain : null)).sort()).toEqual(['a.example', 'b.example']);
  });

  it('adds, relabels and removes by hand, reporting keys it did not have', () => {
    commitVersion(db, [{ source: 'manual', add: entries('manual', ['203.0.113.9', 'pool.example:3333']), status: 'edited' }], { ...meta(), reason: 'add' });
    const r = commitVersion(
      db,
      [{ source: 'manual', remove: [{ source: 'manual', kind: 'ip', text: '203.0.113.9' }, { source: 'manual', kind: 'ip', text: '192.0.2.1' }], status: 'edited' }],
      { ...meta(), reason: 'remove' },
    )!;
    expect(r).toMatchObject({ version: 2, added: 0, removed: 1, unchanged: 1, total: 1 });
    expect(r.notFound).toEqual([{ source: 'manual', kind: 'ip', text: '192.0.2.1' }]);
    expect(history(db).map((v) => [v.id, v.reason, v.added, v.removed, v.unchanged, v.total])).toEqual([
      [2, 'remove', 0, 1, 1, 1],
      [1, 'add', 2, 0, 0, 2],
    ]);
  });

  it('records source state with the version, in the same transaction', () => {
    commitVersion(
      db,
      [{
        ...replace('a', entries('a', ['203.0.113.1', '203.0.113.2'])), location: 'https://lists.example/a.txt',
        state: {
          name: 'a', origin: 'config', location: 'https://lists.example/a.txt', format: 'plain', etag: '"v1"', lastModified: null,
          lastAttemptAt: new Date(T0).toISOString(), lastOkAt: new Date(T0).toISOString(), lastStatus: 'ok', lastError: null,
        },
      }],
      meta(),
    );
    expect(sourceStates(db).get('a')).toMatchObject({ etag: '"v1"', entries: 2, lastStatus: 'ok', origin: 'config' });
    expect(history(db)[0]!.sources[0]).toMatchObject({ source: 'a', location: 'https://lists.example/a.txt', added: 2, entries: 2 });
  });
});

describe('diff', () => {
  it('lists what was added and removed, in both directions, with details', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', 'pool.example'], { coin: 'xmr' }))], meta());
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', '[2001:db8::/48]:14444'], { coin: 'xmr' }))], meta());
    const d = diffVersions(db, 1, 2);
    expect(texts(d.added)).toEqual(['a [2001:db8::/48]:14444']);
    expect(texts(d.removed)).toEqual(['a pool.example']);
    expect(d.added[0]).toMatchObject({ kind: 'ip', ipVersion: 6, prefixLen: 48, portLo: 14444, portHi: 14444, coin: 'xmr', addedIn: 2 });
    const back = diffVersions(db, 2, 1);
    expect(texts(back.added)).toEqual(['a pool.example']);
    expect(texts(back.removed)).toEqual(['a [2001:db8::/48]:14444']);
    expect(diffVersions(db, 2, 2)).toMatchObject({ added: [], removed: [] });
  });

  it('does not list an entry that went away and came back between the two versions', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', '203.0.113.2']))], meta());
    commitVersion(db, [replace('a', entries('a', ['203.0.113.2']))], meta());
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', '203.0.113.2']))], meta());
    expect(rowCount()).toBe(3); // the comeback is a new row
    expect(diffVersions(db, 1, 3)).toMatchObject({ added: [], removed: [] });
    expect(texts(diffVersions(db, 1, 2).removed)).toEqual(['a 203.0.113.1']);
    expect(texts(diffVersions(db, 2, 3).added)).toEqual(['a 203.0.113.1']);
  });
});

describe('expiry', () => {
  it('leaves expired entries out of the snapshot without rewriting the version; a refresh removes them', () => {
    const list = entries('a', ['203.0.113.1', '203.0.113.2', 'pool.example']);
    list[1]!.expiresAt = T0 + HOUR;
    list[2]!.expiresAt = T0 + 2 * HOUR;
    commitVersion(db, [replace('a', list)], meta(T0));

    const early = loadSnapshot(db, T0 + HOUR - 1);
    expect(early.version).toBe(1);
    expect(early.addresses.map((e) => e.text).sort()).toEqual(['203.0.113.1', '203.0.113.2']);
    expect(early.addresses.every((e) => e.listVersion === 1)).toBe(true);
    expect(early.addresses.find((e) => e.text === '203.0.113.2')!.expiresAt).toBe(T0 + HOUR);
    expect(early.domains).toEqual([{ name: 'pool.example', portLo: 0, portHi: 65535, text: 'pool.example', source: 'a', listVersion: 1, expiresAt: T0 + 2 * HOUR }]);

    const late = loadSnapshot(db, T0 + HOUR); // expiry is exclusive: at expiresAt the entry is gone
    expect(late.addresses.map((e) => e.text)).toEqual(['203.0.113.1']);
    expect(late.domains).toHaveLength(1);
    expect(versionEntries(db, 1)).toHaveLength(3); // the version itself is unchanged

    // The lookup built from the snapshot no longer matches the expired address.
    const idx = buildIndex(late.addresses);
    expect(idx.match(Uint8Array.of(203, 0, 113, 2), 4, 3333)).toBeNull();
    expect(idx.match(Uint8Array.of(203, 0, 113, 1), 4, 3333)?.listVersion).toBe(1);

    const r = commitVersion(db, [], { ...meta(T0 + 3 * HOUR), expireBefore: T0 + 3 * HOUR })!;
    expect(r).toMatchObject({ version: 2, added: 0, removed: 2, unchanged: 1, total: 1 });
    expect(r.sources).toEqual([{ source: 'a', status: 'expired', message: null, location: null, added: 0, removed: 2, unchanged: 1, entries: 1 }]);
    expect(texts(versionEntries(db, 1))).toHaveLength(3);
  });

  it('keeps an entry that the same commit confirms with a later expiry', () => {
    const first = entries('a', ['203.0.113.1']);
    first[0]!.expiresAt = T0 + HOUR;
    commitVersion(db, [replace('a', first)], meta(T0));
    const again = entries('a', ['203.0.113.1']);
    again[0]!.expiresAt = T0 + 5 * HOUR;
    const r = commitVersion(db, [replace('a', again)], { ...meta(T0 + 2 * HOUR), expireBefore: T0 + 2 * HOUR })!;
    expect(r).toMatchObject({ added: 0, removed: 0, unchanged: 1, total: 1 });
    expect(versionEntries(db, 2)[0]!.expiresAt).toBe(T0 + 5 * HOUR);
  });
});

describe('atomicity', () => {
  it('a failure inside a commit leaves the previous version intact and current', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', '203.0.113.2']))], meta());
    const bad = entries('b', ['198.51.100.1'])[0] as Extract<StoreEntry, { kind: 'ip' }>;
    // ip_version 5 violates the table's CHECK: the failure comes from SQLite, half-way through.
    const broken = { ...bad, ipVersion: 5 as unknown as 4 };
    let err: unknown;
    try {
      commitVersion(db, [replace('a', entries('a', ['203.0.113.3'])), replace('b', [broken])], meta());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PoolwatchError);
    expect((err as PoolwatchError).code).toBe('PW_ERR_DB');
    expect(currentVersion(db)).toBe(1);
    expect(history(db)).toHaveLength(1);
    expect(texts(versionEntries(db, 1))).toEqual(['a 203.0.113.1', 'a 203.0.113.2']);
    expect(rowCount()).toBe(2);
    expect(db.prepare('SELECT count(*) AS n FROM blacklist_entries WHERE removed_in IS NOT NULL').get()).toEqual({ n: 0 });
    // and the store still works
    expect(commitVersion(db, [replace('a', entries('a', ['203.0.113.3']))], meta())!.version).toBe(2);
  });

  it('a reader in a transaction on another connection sees the old version whole until it is done', () => {
    commitVersion(db, [replace('a', entries('a', ['203.0.113.1', '203.0.113.2']))], meta());
    const reader = openDatabase(join(dir, 'bl.db'), { readonly: true });
    try {
      const inside = reader.transaction(() => {
        const first = loadSnapshot(reader, T0);
        commitVersion(db, [replace('a', entries('a', ['198.51.100.1', '198.51.100.2', '198.51.100.3']))], meta());
        const second = loadSnapshot(reader, T0);
        return [first, second];
      })();
      for (const s of inside) {
        expect(s.version).toBe(1);
        expect(s.addresses.map((e) => e.text).sort()).toEqual(['203.0.113.1', '203.0.113.2']);
      }
      const after = loadSnapshot(reader, T0);
      expect(after.version).toBe(2);
      expect(after.addresses.map((e) => e.text).sort()).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    } finally {
      reader.close();
    }
  });

  const DIST_STORE = resolve(__dirname, '../dist/blacklist/store.js');
  it.skipIf(!existsSync(DIST_STORE))('a reader thread polling while versions are committed never sees a mix', async () => {
    // Version v holds 300 entries all labelled "v<v>": a snapshot mixing two versions would show two labels or a wrong count.
    const N = 300;
    const version = (v: number) =>
      Array.from({ length: N }, (_, i) => entries('a', [i % 2 === 0 ? `198.${v}.${i >> 8}.${i & 255}` : `pool${i}.v${v}.example`], { label: `v${v}` })[0]!);
    commitVersion(db, [replace('a', version(1))], meta());
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { loadSnapshot } = await import(workerData.store);
        const Database = require(workerData.sqlite);
        const db = new Database(workerData.path, { readonly: true });
        const seen = [];
        while (Atomics.load(workerData.stop, 0) === 0) {
          const s = loadSnapshot(db, 0);
          const labels = new Set([...s.addresses, ...s.domains].map((e) => e.label));
          seen.push({ version: s.version, count: s.addresses.length + s.domains.length, labels: [...labels] });
        }
        db.close();
        parentPort.postMessage(seen);
      })();
      `,
      { eval: true, workerData: { store: DIST_STORE, sqlite: require.resolve('better-sqlite3'), path: join(dir, 'bl.db'), stop } },
    );
    const done = new Promise<{ version: number; count: number; labels: string[] }[]>((res, rej) => {
      worker.on('message', res);
      worker.on('error', rej);
    });
    await new Promise((r) => setTimeout(r, 200)); // let the worker start reading
    for (let v = 2; v <= 40; v++) {
      commitVersion(db, [replace('a', version(v))], meta());
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    Atomics.store(stop, 0, 1);
    const seen = await done;
    expect(seen.length).toBeGreaterThan(10);
    for (const s of seen) {
      expect(s.count).toBe(N);
      expect(s.labels).toEqual([`v${s.version}`]);
    }
    expect(new Set(seen.map((s) => s.version)).size).toBeGreaterThan(2);
  });
});
