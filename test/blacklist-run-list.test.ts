import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePlainList } from '../src/blacklist/plain.js';
import { addEntries } from '../src/blacklist/edit.js';
import { keepCurrent, openRunBlacklist, type RunOnlyLists } from '../src/blacklist/run-list.js';
import { currentVersion } from '../src/blacklist/store.js';
import { openDatabase, type Database } from '../src/report/db.js';
import { blacklistConfig, memoryLog, source } from './helpers/blacklist.js';

const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
const NONE: RunOnlyLists = { addresses: [], domains: [], allow: [] };
const until = async (cond: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
};

describe('the blacklist a scan runs with', () => {
  const stops: (() => void)[] = [];
  const dbs: Database[] = [];
  afterEach(() => {
    for (const s of stops.splice(0)) s();
    for (const d of dbs.splice(0)) d.close();
  });
  function setup() {
    const dir = mkdtempSync(join(tmpdir(), 'pw-runlist-'));
    const file = join(dir, 'pools.txt');
    writeFileSync(file, '203.0.113.7\n');
    const config = blacklistConfig([source('pools', file, 'plain')]);
    const db = openDatabase(join(dir, 'hits.db'));
    dbs.push(db);
    return { dir, file, config, db, ...memoryLog() };
  }

  it('a first scan bootstraps version 1 from the local sources; run-only entries carry no version', async () => {
    const { config, db, log } = setup();
    const runOnly = { ...NONE, addresses: parsePlainList('198.51.100.9:3333\n', 'run.txt').entries };
    const run = await openRunBlacklist(db, config, runOnly, log);
    expect(run.version).toBe(1);
    expect(run.live.matchAddress(v4('203.0.113.7'), 4, 443, 0)).toMatchObject({ entry: '203.0.113.7', version: 1, evidence: 'blacklist-ip' });
    expect(run.live.matchAddress(v4('198.51.100.9'), 4, 3333, 0)).toMatchObject({ entry: '198.51.100.9:3333', version: null });
    expect(run.live.matchAddress(v4('198.51.100.9'), 4, 80, 0)).toBeNull();
  });

  it('the allow-list wins over stored entries', async () => {
    const { config, db, log } = setup();
    const allow = parsePlainList('203.0.113.0/24\n', 'allow.txt').entries;
    const run = await openRunBlacklist(db, config, { ...NONE, allow }, log);
    expect(run.live.matchAddress(v4('203.0.113.7'), 4, 443, 0)).toBeNull();
  });

  it('a running scan swaps in a version another process stored, without a moment of empty list', async () => {
    const { config, db, dir, log, lines } = setup();
    const run = await openRunBlacklist(db, config, NONE, log);
    stops.push(keepCurrent(db, config, run, NONE, log, { pollMs: 25, refreshMs: 0 }));
    // Another process (a cron `blacklist add` / `refresh`) writes version 2 through its own connection.
    const other = openDatabase(join(dir, 'hits.db'));
    dbs.push(other);
    await addEntries(other, config, ['192.0.2.66:4444'], { log, command: 'test' });
    expect(currentVersion(other)).toBe(2);
    // Until the swap the old list serves in full; after it the new entry matches with its version.
    await until(() => {
      expect(run.live.matchAddress(v4('203.0.113.7'), 4, 1, 0)).not.toBeNull();
      return run.live.matchAddress(v4('192.0.2.66'), 4, 4444, 0) !== null;
    });
    expect(run.live.matchAddress(v4('192.0.2.66'), 4, 4444, 0)).toMatchObject({ version: 2 });
    expect(run.version).toBe(2);
    expect(lines.find((l) => l.msg === 'blacklist version swapped in')).toMatchObject({ from: 1, to: 2 });
  });

  it('refreshes its sources every refreshInterval and swaps the result in', async () => {
    const { config, db, file, log } = setup();
    const run = await openRunBlacklist(db, config, NONE, log);
    stops.push(keepCurrent(db, config, run, NONE, log, { pollMs: 60_000, refreshMs: 50 }));
    writeFileSync(file, '203.0.113.7\n203.0.113.8\n');
    await until(() => run.live.matchAddress(v4('203.0.113.8'), 4, 1, 0) !== null);
    expect(run.version).toBeGreaterThanOrEqual(2);
    expect(currentVersion(db)).toBe(run.version);
  });
});
