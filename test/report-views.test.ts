import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/report/db.js';
import { HitSink, startRun } from '../src/report/sink.js';
import {
  buildSummary, coinsView, loadViewData, orgTotals, poolsView, sourcesWithHashrate, timelineView,
} from '../src/report/views.js';
import { formatCoins, formatPools, formatSummary, formatTimeline, summarySentence } from '../src/report/views-format.js';
import { bucketsFor, HOUR_US, spreadBytes, trafficFigures } from '../src/report/views-traffic.js';
import type { OrgLookup } from '../src/report/views-providers.js';
import { cli } from './helpers/cli.js';
import { hit, SEC } from './helpers/hits.js';

const H = HOUR_US;
/** 2024-05-01T10:00:00Z */
const T10 = Date.UTC(2024, 4, 1, 10) * 1000;

describe('traffic spread over hours', () => {
  it('spreads a row uniformly over its interval and clips it to the window', () => {
    // 10:30 → 12:30, 7200 bytes: 1800 in the 10h bucket, 3600 in 11h, 1800 in 12h.
    const w = { start: T10, end: T10 + 3 * H };
    const b = bucketsFor(w, H);
    expect(b.count).toBe(4); // 10h, 11h, 12h and the instant 13:00 itself
    const bytes = spreadBytes([{ start: T10 + H / 2, end: T10 + 2.5 * H, bytes: 7200 }], b, w);
    expect([...bytes]).toEqual([1800, 3600, 1800, 0]);
    // Clipped to 11:00 → 12:00: only that hour's 3600 bytes.
    const w2 = { start: T10 + H, end: T10 + 2 * H };
    const b2 = bucketsFor(w2, H);
    expect([...spreadBytes([{ start: T10 + H / 2, end: T10 + 2.5 * H, bytes: 7200 }], b2, w2)]).toEqual([3600, 0]);
    // A row with no duration puts its bytes in the bucket of its instant.
    expect([...spreadBytes([{ start: T10 + 1.2 * H, end: T10 + 1.2 * H, bytes: 99 }], b, w)]).toEqual([0, 99, 0, 0]);
    // Long rows: full buckets in the middle.
    const long = spreadBytes([{ start: T10, end: T10 + 3 * H, bytes: 3 * 3600 }], b, w);
    expect([...long]).toEqual([3600, 3600, 3600, 0]);
  });

  it('average over the window, peak over the busiest hour', () => {
    // 10:00-12:00: a steady 1000 B/s; 10:00-10:30 another 4000 B/s burst.
    const items = [
      { start: T10, end: T10 + 2 * H, bytes: 1000 * 7200 },
      { start: T10, end: T10 + H / 2, bytes: 4000 * 1800 },
    ];
    const f = trafficFigures(items, { start: T10, end: T10 + 2 * H });
    expect(f.bytes).toBe(1000 * 7200 + 4000 * 1800);
    // average: (7.2 MB + 7.2 MB) × 8 / 7200 s = 16,000 bps; peak hour 10h: (3.6 MB + 7.2 MB) × 8 / 3600 = 24,000 bps
    expect(f.averageBps).toBeCloseTo(16_000, 6);
    expect(f.peakHourBps).toBeCloseTo(24_000, 6);
    expect(f.peakHourStart).toBe(T10);
    // A window with no length has no rate.
    expect(trafficFigures([{ start: T10, end: T10, bytes: 10 }], { start: T10, end: T10 })).toMatchObject({ bytes: 10, averageBps: null, peakHourBps: null });
  });
});

/** Run 1 at 10:00-12:00, run 2 the next day; a P2P node and a suspect flow beside the miners. */
function fixture(): Database {
  const db = openDatabase(':memory:');
  const s1 = new HitSink(db, startRun(db, { command: 'scan a', inputs: ['a.pcap'] }));
  // 10.0.0.2: BTC stratum, 100 shares at 65536 over 10:00-10:10 (600 s), at two pools at once.
  s1.add(hit({ src: '10.0.0.2', coin: 'btc', algo: 'sha256d', poolHost: 'btc.pool.example', difficulty: 65536, sharesAccepted: 60, firstSeen: T10, lastSeen: T10 + 600 * SEC, bytesUp: 3000, bytesDown: 3000 }));
  s1.add(hit({ src: '10.0.0.2', poolIp: '203.0.113.6', coin: 'btc', difficulty: 65536, sharesAccepted: 40, firstSeen: T10 + 300 * SEC, lastSeen: T10 + 600 * SEC, bytesUp: 1000, bytesDown: 1000 }));
  // 10.0.0.3: XMR, 10:30-11:30, reported nothing, 3600 shares at difficulty 10000 → 10 kH/s.
  s1.add(hit({ src: '10.0.0.3', poolIp: '198.51.100.7', poolPort: 14444, evidence: ['cryptonote'], coin: 'xmr', algo: 'rx/0', difficulty: 10000, sharesAccepted: 3600, firstSeen: T10 + H / 2, lastSeen: T10 + 1.5 * H, bytesUp: 36_000, bytesDown: 36_000 }));
  // 2001:db8::9: EthProxy, only its own report.
  s1.add(hit({ src: '2001:db8::9', poolIp: '198.51.100.20', poolPort: 8008, evidence: ['ethproxy'], coin: 'eth', reportedHashrate: 5e8, firstSeen: T10, lastSeen: T10 + 2 * H, bytesUp: 100, bytesDown: 100 }));
  // A Bitcoin node (crypto-p2p) and a suspect flow: not pool traffic.
  s1.add(hit({ src: '10.0.0.50', poolIp: '192.0.2.33', poolPort: 8333, category: 'crypto-p2p', evidence: ['bitcoin-p2p'], coin: 'btc', firstSeen: T10, lastSeen: T10 + 2 * H, bytesUp: 5_000_000, bytesDown: 5_000_000 }));
  s1.add(hit({ src: '10.0.0.60', poolIp: '192.0.2.44', poolPort: 3333, category: 'suspect', evidence: ['steady-flow'], firstSeen: T10, lastSeen: T10 + H, bytesUp: 500, bytesDown: 500 }));
  s1.flush();
  const s2 = new HitSink(db, startRun(db, { command: 'scan b', inputs: ['b.pcap'] }));
  // 10.0.0.3 again the next day, and a new source 10.0.0.4.
  s2.add(hit({ src: '10.0.0.3', poolIp: '198.51.100.7', poolPort: 14444, evidence: ['cryptonote'], coin: 'xmr', difficulty: 10000, sharesAccepted: 360, firstSeen: T10 + 24 * H, lastSeen: T10 + 24 * H + 360 * SEC, bytesUp: 10, bytesDown: 10 }));
  s2.add(hit({ src: '10.0.0.4', coin: 'btc', firstSeen: T10 + 25 * H, lastSeen: T10 + 25 * H + 10 * SEC, bytesUp: 10, bytesDown: 10 }));
  s2.flush();
  return db;
}

const orgs: OrgLookup = {
  lookup: (ip) => (ip === '10.0.0.2' || ip === '10.0.0.3' ? { name: 'Ministry of Examples', sector: 'government' } : ip === '2001:db8::9' ? { name: 'School <b>' } : null),
};

describe('report views', () => {
  const db = fixture();
  const day1 = { since: new Date(T10 / 1000), until: new Date((T10 + 2 * H) / 1000) };

  it('summary: the regulator figures for a window', () => {
    const s = buildSummary(db, loadViewData(db, day1), orgs, 4699);
    expect(s.flaggedSources).toBe(3); // mining rows only by default
    expect(s.sourcesByCategory).toEqual({ mining: 3, 'crypto-p2p': 1, suspect: 1 });
    expect(s.organisations).toBe(2);
    expect(s.unattributedSources).toBe(0);
    expect(s.coins).toEqual(['btc', 'eth', 'xmr']);
    expect(s.poolEndpoints).toBe(4);
    expect(s.poolAddresses).toBe(4);
    expect(s.screened).toEqual({ sources: 4699, runs: 2, packets: 0, flows: 0 });
    // traffic: 8,000 + 72,000 + 200 bytes in a 2-hour window; the busiest hour is 10h.
    expect(s.traffic.bytes).toBe(80_200);
    expect(s.traffic.averageBps).toBeCloseTo((80_200 * 8) / 7200, 6);
    // 10h: 8000 + half of 72,000 + half of 200 = 44,100 bytes
    expect(s.traffic.peakHourBps).toBeCloseTo((44_100 * 8) / 3600, 6);
    expect(s.traffic.peakHour).toBe('2024-05-01T10:00:00.000Z');
    // hash rate: BTC 100 × 2^48 / 600 s + XMR 3600 × 10000 / 3600 s + ETH reported 5e8
    expect(s.hashrate.hashrate).toBeCloseTo((100 * 2 ** 48) / 600 + 10_000 + 5e8, 0);
    expect(s.hashrate.methods).toEqual({ shares: 2, reported: 1, none: 0 });
    expect(summarySentence(s)).toBe('4,699 IPs screened, 3 IPs flagged in 2 organisations, 3 coins, 89 bps of pool traffic on average, about 46.91 TH/s estimated hash rate');
    // without organisations
    const none = buildSummary(db, loadViewData(db, day1), null);
    expect(none.organisations).toBeNull();
    expect(formatSummary(none, 'table')).toContain('organisations                              no organisations configured');
  });

  it('summary formats: json, ndjson, csv (one header and one data row), table', () => {
    const s = buildSummary(db, loadViewData(db, {}), orgs);
    expect(JSON.parse(formatSummary(s, 'json'))).toEqual(JSON.parse(JSON.stringify(s)));
    expect(JSON.parse(formatSummary(s, 'ndjson'))).toEqual(JSON.parse(JSON.stringify(s)));
    const [head, row, extra] = formatSummary(s, 'csv').split('\r\n');
    expect(extra).toBeUndefined();
    const cols = head!.split(',');
    const vals = row!.split(',');
    expect(vals[cols.indexOf('flaggedSources')]).toBe('4');
    expect(vals[cols.indexOf('coins')]).toBe('"btc;eth;xmr"'); // quoted: ';' is a separator in some locales
    expect(formatSummary(s, 'table')).toMatch(/^flagged sources\s+4$/m);
  });

  it('pools: per endpoint, most sources first, with hash rate', () => {
    const pools = poolsView(loadViewData(db, {}));
    expect(pools.map((p) => `${p.ip}:${p.port}`)).toEqual(['203.0.113.5:3333', '198.51.100.7:14444', '203.0.113.6:3333', '198.51.100.20:8008']);
    expect(pools[0]).toMatchObject({ sources: 2, hosts: ['btc.pool.example'], coins: ['btc'], sharesAccepted: 60 });
    // 10.0.0.2's 60 shares at this pool over its 600 s there
    expect(pools[0]!.hashrate).toBeCloseTo((60 * 2 ** 48) / 600, 0);
    expect(pools[0]!.hashrateMethods).toEqual({ shares: 1, reported: 0, none: 1 });
    expect(formatPools(pools, 'csv').split('\r\n')[0]).toBe('pool,hosts,sources,coins,evidence,blacklistEntries,flows,bytes,sharesAccepted,hashrate,hashrateMethods,firstSeen,lastSeen');
    expect(formatPools(pools, 'table').split('\n')[1]).toMatch(/^203\.0\.113\.5:3333\s+btc\.pool\.example\s+2\s+btc/);
    // the node's peer is no pool unless asked for
    expect(poolsView(loadViewData(db, { category: 'crypto-p2p' })).map((p) => p.port)).toEqual([8333]);
    expect(poolsView(loadViewData(db, { category: 'all' }))).toHaveLength(6);
  });

  it('coins: per coin, unknown last', () => {
    const coins = coinsView(loadViewData(db, { category: 'all' }));
    expect(coins.map((c) => [c.coin, c.sources])).toEqual([['btc', 3], ['xmr', 1], ['eth', 1], ['unknown', 1]]);
    const xmr = coins.find((c) => c.coin === 'xmr')!;
    // 10.0.0.3: 3960 shares × 10000 over 3960 s of observation (two sessions)
    expect(xmr.hashrate).toBeCloseTo(10_000, 6);
    expect(JSON.parse(formatCoins(coins, 'json'))).toHaveLength(4);
  });

  it('timeline: flagged and new sources and traffic per hour and per day', () => {
    const data = loadViewData(db, {});
    const hours = timelineView(data, 'hour');
    expect(hours[0]!.start).toBe('2024-05-01T10:00:00.000Z');
    expect(hours).toHaveLength(26); // 10h on day 1 to 11h on day 2
    expect(hours.slice(0, 3).map((h) => [h.flaggedSources, h.newSources])).toEqual([[3, 3], [2, 0], [1, 0]]);
    expect(hours[24]).toMatchObject({ flaggedSources: 1, newSources: 0 }); // 10.0.0.3 back
    expect(hours[25]).toMatchObject({ flaggedSources: 1, newSources: 1 }); // 10.0.0.4 new
    expect(hours.reduce((a, h) => a + h.bytes, 0)).toBe(80_200 + 40);
    const days = timelineView(data, 'day');
    expect(days.map((d) => [d.start.slice(0, 10), d.flaggedSources, d.newSources])).toEqual([['2024-05-01', 3, 3], ['2024-05-02', 2, 1]]);
    expect(days[0]!.peakHourBps).toBeCloseTo((44_100 * 8) / 3600, 6);
    // A window starting on day 2: 10.0.0.3 is not new there.
    const late = timelineView(loadViewData(db, { since: new Date((T10 + 20 * H) / 1000) }), 'day');
    expect(late.map((d) => d.newSources)).toEqual([1]);
    expect(formatTimeline(days, 'csv').split('\r\n')[0]).toBe('start,flaggedSources,newSources,bytes,averageBps,peakHourBps');
  });

  it('organisation totals', () => {
    const t = orgTotals(loadViewData(db, day1), orgs);
    expect(t.map((o) => [o.name, o.sources, o.coins])).toEqual([['Ministry of Examples', 2, ['btc', 'xmr']], ['School <b>', 1, ['eth']]]);
    expect(t[0]!.hashrate).toBeCloseTo((100 * 2 ** 48) / 600 + 10_000, 0);
  });

  it('report sources = report plus hash rate fields', () => {
    const r = sourcesWithHashrate(db, {});
    const src2 = r.find((x) => x.src === '10.0.0.2')!;
    expect(src2).toMatchObject({ hashrateMethod: 'shares', hashrateShares: 100, hashrateSeconds: 600 });
    expect(src2.hashrate).toBeCloseTo((100 * 2 ** 48) / 600, 0);
    expect(r.find((x) => x.src === '2001:db8::9')).toMatchObject({ hashrate: 5e8, hashrateMethod: 'reported', hashrateFromShares: null });
    expect(r.find((x) => x.src === '10.0.0.50')).toMatchObject({ hashrate: null, hashrateMethod: 'none' });
  });

  it('rejects a window that ends before it starts', () => {
    expect(() => loadViewData(db, { since: new Date(2000), until: new Date(1000) })).toThrow(/before/);
  });
});

describe('poolwatch report (CLI)', () => {
  let dir: string;
  let path: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-views-'));
    path = join(dir, 'hits.db');
    const db = openDatabase(path);
    const s = new HitSink(db, startRun(db, { command: 't', inputs: [] }));
    s.add(hit({ src: '10.0.0.2', difficulty: 65536, sharesAccepted: 100, firstSeen: T10, lastSeen: T10 + 600 * SEC, login: '=cmd|calc' }));
    s.add(hit({ src: '10.0.0.3', evidence: ['cryptonote'], coin: 'xmr', firstSeen: T10, lastSeen: T10 + 2 * H }));
    s.flush();
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('report with no view prints what it always printed; report sources adds the hash rate after', () => {
    const plain = cli(['report', '--db', path]);
    const sources = cli(['report', 'sources', '--db', path]);
    expect(plain.code).toBe(0);
    expect(sources.code).toBe(0);
    const p = plain.stdout.trimEnd().split('\n');
    const s = sources.stdout.trimEnd().split('\n');
    expect(p[0]).not.toContain('HASH RATE');
    expect(s[0]!.startsWith(p[0]!)).toBe(true);
    expect(s[0]).toMatch(/HASH RATE\s+METHOD\s+ORGANISATION$/);
    expect(s[1]).toMatch(/46\.91 TH\/s\s+shares\s+unknown$/);
    const pj = JSON.parse(cli(['report', '--db', path, '-f', 'json']).stdout);
    const sj = JSON.parse(cli(['report', 'sources', '--db', path, '-f', 'json']).stdout);
    expect(sj.map((r: Record<string, unknown>) => Object.keys(r).slice(0, Object.keys(pj[0]).length))).toEqual(pj.map((r: Record<string, unknown>) => Object.keys(r)));
    for (let i = 0; i < pj.length; i++) expect(sj[i]).toMatchObject(pj[i]);
    expect(Object.keys(sj[0]).slice(-7)).toEqual(['hashrate', 'hashrateMethod', 'hashrateFromShares', 'hashrateShares', 'hashrateSeconds', 'org', 'orgSector']);
    // CSV: the old header, then the new columns; a formula-looking login is defused
    const csv = cli(['report', 'sources', '--db', path, '-f', 'csv']).stdout.split('\r\n');
    const old = cli(['report', '--db', path, '-f', 'csv']).stdout.split('\r\n');
    expect(csv[0]).toBe(`${old[0]},hashrate,hashrateMethod,hashrateFromShares,hashrateShares,hashrateSeconds,org,orgSector`);
    expect(csv[1]).toContain("'=cmd|calc");
  });

  it('options given before the view name count too; --db is required', () => {
    const r = cli(['report', '--db', path, 'summary', '-f', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ flaggedSources: 2, coins: ['xmr'] });
    const missing = cli(['report', 'pools']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--db <path>' not specified");
  });

  it('summary, pools, coins, timeline in every format, with --since/--until', () => {
    const other: Record<string, string> = { summary: 'table', pools: 'csv', coins: 'ndjson', timeline: 'table' };
    for (const view of ['summary', 'pools', 'coins', 'timeline']) {
      for (const f of ['json', other[view]!]) {
        const r = cli(['report', view, '--db', path, '-f', f, '--since', '2024-05-01T10:00', '--until', '2024-05-01T12:00:00Z']);
        expect(r.code, `${view} ${f}: ${r.stderr}`).toBe(0);
        expect(r.stdout.length).toBeGreaterThan(0);
        if (f === 'json') JSON.parse(r.stdout);
        if (f === 'ndjson') for (const line of r.stdout.trim().split('\n')) JSON.parse(line);
      }
    }
    const tl = JSON.parse(cli(['report', 'timeline', '--db', path, '-f', 'json', '--since', '2024-05-01T10:00:00Z', '--until', '2024-05-01T12:00:00Z']).stdout);
    expect(tl.map((b: { start: string }) => b.start)).toEqual(['2024-05-01T10:00:00.000Z', '2024-05-01T11:00:00.000Z', '2024-05-01T12:00:00.000Z']);
    const bad = cli(['report', 'summary', '--db', path, '--since', 'yesterday']);
    expect(bad.code).toBe(2);
  });
});
