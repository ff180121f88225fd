/**
 * Refresh against a real HTTP server and a real DNS server on loopback: every list format,
 * conditional requests, failures of every kind (status, garbage, reset, slow, oversized, endless,
 * redirect loops, other schemes), the shrink guard, resolution with TTLs and expiry, bootstrap.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { fetchSource } from '../src/blacklist/fetch.js';
import { parseList } from '../src/blacklist/formats/index.js';
import { ensureVersion, refreshBlacklist, type RefreshReport } from '../src/blacklist/refresh.js';
import { currentVersion, diffVersions, history, loadSnapshot, sourceStates, versionEntries } from '../src/blacklist/store.js';
import { PoolwatchError } from '../src/errors.js';
import { openDatabase, type Database } from '../src/report/db.js';
import { blacklistConfig, HOUR, memoryLog, source, T0 } from './helpers/blacklist.js';
import { startDnsServer, type DnsServer } from './helpers/dns-server.js';
import { startListServer, type ListServer } from './helpers/list-server.js';

const LISTS = resolve(__dirname, '../../shared/lists');
const haveLists = existsSync(LISTS);
if (!haveLists) console.warn(`blacklist-refresh: ${LISTS} is absent; the refresh of the real public lists is skipped`);

// Small lists in each format, shaped like the public ones.
const PLAIN = '# pool addresses\n203.0.113.10\n203.0.113.11\n203.0.113.0/28:3333\n[2001:db8:ff::/48]:14444\n198.51.100.9:3333-3340\n';
const HOSTS = '# Title: NoCoin hosts\n0.0.0.0 xmr.pool.example\n0.0.0.0 coinhive.example\n127.0.0.1 localhost\n0.0.0.0 gone.example\n';
const DOMAINS = 'btc.pool.example\n# comment\nsinkholed.example\n';
const ABP = '[Adblock Plus 2.0]\n! Title: NoCoin Filter List\n||webminer.example^$third-party\n||45.15.156.210^\n/miner.js\n';
const CSV = 'ip,port,coin,pool\n198.51.100.20,8008,eth,ethermine\n"192.0.2.0/24",,xmr,"Pool, Inc."\nxmr.pool.example,4444,xmr,\n';
const JSON_LIST = JSON.stringify({ entries: [{ ip: '198.51.100.30', port: 3333, coin: 'btc', label: 'f2pool' }, 'eth.pool.example:8008'] });

let http: ListServer;
let dns: DnsServer;
let dir: string;
let db: Database;

beforeAll(async () => {
  http = await startListServer();
  dns = await startDnsServer();
});
afterAll(async () => {
  await http.close();
  await dns.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-refresh-'));
  db = openDatabase(join(dir, 'bl.db'));
  http.routes.clear();
  http.requests.length = 0;
  dns.queries.length = 0;
  for (const k of Object.keys(dns.zone)) delete dns.zone[k];
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const resolver = () => ({ enabled: true, servers: [dns.address], timeoutMs: 300, tries: 1, minTtlMs: 5 * 60_000, maxTtlMs: 24 * HOUR });
const bySource = (r: RefreshReport) => Object.fromEntries(r.sources.map((s) => [s.name, s]));
const snapshotTexts = (now: number) => {
  const s = loadSnapshot(db, now);
  return [...s.addresses, ...s.domains].map((e) => `${e.source} ${e.text}`).sort();
};

/** The six formats served by the HTTP server, with validators. */
function serveAllFormats(): void {
  http.routes.set('/plain.txt', { body: PLAIN, etag: '"p1"' });
  http.routes.set('/hosts', { body: HOSTS, lastModified: 'Mon, 06 Jan 2025 10:00:00 GMT' });
  http.routes.set('/domains.txt', { body: DOMAINS, etag: 'W/"d1"', lastModified: 'Mon, 06 Jan 2025 10:00:00 GMT' });
  http.routes.set('/nocoin.txt', { body: ABP, etag: '"a1"' });
  http.routes.set('/pools.csv', { body: CSV, etag: '"c1"', headers: { 'content-type': 'text/csv' } });
  http.routes.set('/pools.json', { body: JSON_LIST, etag: '"j1"', headers: { 'content-type': 'application/json' } });
}

function allFormatsConfig(resolve = false) {
  return blacklistConfig(
    [
      source('plain', http.url('/plain.txt'), 'plain'),
      source('hosts', http.url('/hosts'), 'hosts'),
      source('domains', http.url('/domains.txt'), 'domains'),
      source('abp', http.url('/nocoin.txt'), 'abp'),
      source('csv', http.url('/pools.csv'), 'csv'),
      source('json', http.url('/pools.json'), 'json'),
    ],
    resolve ? resolver() : {},
  );
}

describe('refresh from http sources', () => {
  it('reads every format into one version, per source, with labels', async () => {
    serveAllFormats();
    const { log } = memoryLog();
    const r = await refreshBlacklist(db, allFormatsConfig(), { log, now: T0 });
    expect(r.incomplete).toBe(false);
    expect(r.version).toBe(1);
    const s = bySource(r);
    // Expected counts come from the parsers on the same bytes: the refresh must neither lose nor invent entries.
    for (const [name, text, format] of [
      ['plain', PLAIN, 'plain'], ['hosts', HOSTS, 'hosts'], ['domains', DOMAINS, 'domains'],
      ['abp', ABP, 'abp'], ['csv', CSV, 'csv'], ['json', JSON_LIST, 'json'],
    ] as const) {
      const p = parseList(format, text, name);
      expect(s[name], name).toMatchObject({ status: 'ok', entries: p.addresses.length + p.domains.length, added: p.addresses.length + p.domains.length, removed: 0 });
      expect(s[name]!.bytes).toBe(Buffer.byteLength(text));
    }
    expect(s.plain!.entries).toBe(5);
    expect(s.hosts!.entries).toBe(3); // localhost is boilerplate
    expect(r.total).toBe(r.added);
    const csv = versionEntries(db, 1, { source: 'csv' });
    expect(csv.map((e) => [e.text, e.coin, e.label])).toEqual([
      ['xmr.pool.example:4444', 'xmr', undefined],
      ['192.0.2.0/24', 'xmr', 'Pool, Inc.'],
      ['198.51.100.20:8008', 'eth', 'ethermine'],
    ]);
    expect(versionEntries(db, 1, { source: 'json' }).map((e) => [e.kind, e.text, e.label])).toEqual([
      ['domain', 'eth.pool.example:8008', undefined],
      ['ip', '198.51.100.30:3333', 'f2pool'],
    ]);
    expect(sourceStates(db).get('plain')).toMatchObject({ etag: '"p1"', lastStatus: 'ok', entries: 5 });
    expect(sourceStates(db).get('hosts')).toMatchObject({ etag: null, lastModified: 'Mon, 06 Jan 2025 10:00:00 GMT' });
  });

  it('sends If-None-Match / If-Modified-Since next time; a 304 keeps the entries as they are', async () => {
    serveAllFormats();
    const { log } = memoryLog();
    const cfg = allFormatsConfig();
    await refreshBlacklist(db, cfg, { log, now: T0 });
    const r = await refreshBlacklist(db, cfg, { log, now: T0 + HOUR });
    expect(r.sources.map((s) => s.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(r).toMatchObject({ version: 2, added: 0, removed: 0, incomplete: false });
    expect(r.unchanged).toBe(r.total);
    expect(http.requestsFor('/plain.txt').map((h) => h['if-none-match'])).toEqual([undefined, '"p1"']);
    expect(http.requestsFor('/hosts').map((h) => h['if-modified-since'])).toEqual([undefined, 'Mon, 06 Jan 2025 10:00:00 GMT']);
    expect(http.requestsFor('/domains.txt')[1]).toMatchObject({ 'if-none-match': 'W/"d1"', 'if-modified-since': 'Mon, 06 Jan 2025 10:00:00 GMT' });
    expect(versionEntries(db, 2).map((e) => [e.id, e.text])).toEqual(versionEntries(db, 1).map((e) => [e.id, e.text]));
    expect(history(db)[0]!.sources.every((s) => s.status === 'unchanged')).toBe(true);
  });

  it('applies a changed list as added and removed entries, and diff shows exactly those', async () => {
    http.routes.set('/plain.txt', { body: PLAIN, etag: '"p1"' });
    const { log } = memoryLog();
    const cfg = blacklistConfig([source('plain', http.url('/plain.txt'), 'plain')]);
    await refreshBlacklist(db, cfg, { log, now: T0 });
    http.routes.set('/plain.txt', { body: PLAIN.replace('203.0.113.11\n', '203.0.113.12\n'), etag: '"p2"' });
    const r = await refreshBlacklist(db, cfg, { log, now: T0 + HOUR });
    expect(r).toMatchObject({ version: 2, added: 1, removed: 1, unchanged: 4, total: 5 });
    expect(http.requestsFor('/plain.txt')[1]!['if-none-match']).toBe('"p1"');
    const d = diffVersions(db, 1, 2);
    expect(d.added.map((e) => e.text)).toEqual(['203.0.113.12']);
    expect(d.removed.map((e) => e.text)).toEqual(['203.0.113.11']);
    expect(sourceStates(db).get('plain')!.etag).toBe('"p2"');
  });

  it('follows a few redirects, and the validators of the final answer are kept', async () => {
    http.routes.set('/old', { redirect: '/older' });
    http.routes.set('/older', { redirect: `${http.origin}/plain.txt` });
    http.routes.set('/plain.txt', { body: PLAIN, etag: '"p1"' });
    const r = await refreshBlacklist(db, blacklistConfig([source('moved', http.url('/old'), 'plain')]), { log: memoryLog().log, now: T0 });
    expect(bySource(r).moved).toMatchObject({ status: 'ok', entries: 5 });
    expect(sourceStates(db).get('moved')!.etag).toBe('"p1"');
  });
});

describe('a source that fails keeps its entries; the others refresh', () => {
  /** Version 1 from good lists, then the "bad" source misbehaves as `route` says. */
  async function failing(route: Parameters<ListServer['routes']['set']>[1], over: Parameters<typeof source>[3] = {}) {
    http.routes.set('/good.txt', { body: '203.0.113.50\n', etag: '"g1"' });
    http.routes.set('/bad.txt', { body: PLAIN, etag: '"b1"' });
    const cfg = blacklistConfig([source('good', http.url('/good.txt'), 'plain'), source('bad', http.url('/bad.txt'), 'plain', over)]);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    http.routes.set('/good.txt', { body: '203.0.113.50\n203.0.113.51\n', etag: '"g2"' });
    http.routes.set('/bad.txt', route);
    const { log, lines } = memoryLog();
    const started = Date.now();
    const r = await refreshBlacklist(db, cfg, { log, now: T0 + HOUR });
    const elapsed = Date.now() - started;
    const bad = bySource(r).bad!;
    expect(bad.status).toBe('failed');
    expect(bad.entries).toBe(5);
    expect(bySource(r).good).toMatchObject({ status: 'ok', added: 1 });
    expect(r).toMatchObject({ version: 2, incomplete: true, added: 1, removed: 0 });
    expect(versionEntries(db, 2, { source: 'bad' }).map((e) => e.text)).toEqual(versionEntries(db, 1, { source: 'bad' }).map((e) => e.text));
    const logged = lines.find((l) => l.code === 'PW_ERR_FETCH');
    expect(logged?.source).toBe('bad');
    expect(logged?.msg).toContain('blacklist source bad failed');
    const st = sourceStates(db).get('bad')!;
    expect(st).toMatchObject({ etag: '"b1"', lastStatus: 'failed', lastError: bad.reason, lastOkAt: new Date(T0).toISOString() });
    expect(history(db)[0]!.sources.find((s) => s.source === 'bad')).toMatchObject({ status: 'failed', message: bad.reason });
    return { reason: bad.reason!, elapsed };
  }

  it('HTTP 500', async () => {
    expect((await failing({ status: 500, body: 'oops' })).reason).toBe('HTTP 500 Internal Server Error');
  });

  it('a garbage body (no usable entry, only bad lines)', async () => {
    const { reason } = await failing({ body: '<html><body>Captive portal: please log in</body></html>\n<p>x</p>\n' });
    expect(reason).toMatch(/^no usable entry, 2 bad line\(s\) or item\(s\), first: bad, line 1: not an IPv4 address/);
  });

  it('binary garbage', async () => {
    const { reason } = await failing({ body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x0a, 0x41, 0x42]) });
    expect(reason).toMatch(/^no usable entry/);
  });

  it('a connection reset', async () => {
    expect((await failing({ reset: true })).reason).toBe('connection reset or closed by the server');
  });

  it('an answer slower than the timeout', async () => {
    const { reason, elapsed } = await failing({ body: PLAIN, delayMs: 5000 }, { timeoutMs: 400 });
    expect(reason).toBe('timed out after 400ms (timeoutSeconds)');
    expect(elapsed).toBeLessThan(3000);
  });

  it('a body that trickles without end is cut at the timeout', async () => {
    const { reason, elapsed } = await failing({ drip: true }, { timeoutMs: 500 });
    expect(reason).toBe('timed out after 500ms (timeoutSeconds)');
    expect(elapsed).toBeLessThan(3000);
  });

  it('a declared Content-Length above maxBytes', async () => {
    const big = '203.0.113.99\n'.repeat(2000);
    expect((await failing({ body: big }, { maxBytes: 10_000 })).reason).toBe('answer is 26000 bytes (Content-Length), more than the 10000 allowed (maxBytes)');
  });

  it('an endless chunked body is cancelled as soon as it passes maxBytes, long before the timeout', async () => {
    http.flooded = 0;
    const { reason, elapsed } = await failing({ flood: true }, { maxBytes: 1_000_000, timeoutMs: 20_000 });
    expect(reason).toBe('answer is more than the 1000000 bytes allowed (maxBytes); transfer cancelled');
    expect(elapsed).toBeLessThan(5000);
    // The server stopped being read: far less than the 20 s a flood could push over loopback.
    await new Promise((r) => setTimeout(r, 200));
    const after = http.flooded;
    await new Promise((r) => setTimeout(r, 300));
    expect(http.flooded).toBe(after);
  });

  it('a redirect loop', async () => {
    http.routes.set('/loop-a', { redirect: '/loop-b' });
    http.routes.set('/loop-b', { redirect: '/bad.txt' });
    expect((await failing({ redirect: '/loop-a' })).reason).toMatch(/^more than 5 redirects/);
  });

  it('a redirect to another scheme', async () => {
    expect((await failing({ redirect: 'file:///etc/passwd' })).reason).toBe('redirected to a non-http(s) URL (file:)');
  });
});

describe('URL schemes and local files', () => {
  it('refuses a configuration with a non-http(s) URL', () => {
    for (const url of ['file:///etc/hosts', 'ftp://lists.example/x.txt', 'data:text/plain,1.2.3.4']) {
      const path = join(dir, 'c.yaml');
      writeFileSync(path, `blacklist:\n  sources:\n    - name: x\n      url: "${url}"\n      format: plain\n`);
      let err: unknown;
      try {
        loadConfig(path);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PoolwatchError);
      expect((err as PoolwatchError).code).toBe('PW_ERR_USAGE');
      expect((err as PoolwatchError).message).toContain('blacklist.sources[0].url must be an http:// or https:// URL');
    }
  });

  it('fetchSource itself refuses other schemes', async () => {
    const r = await fetchSource(source('x', 'ftp://127.0.0.1/list.txt', 'plain', { kind: 'url' }));
    expect(r).toEqual({ status: 'failed', reason: 'not an http(s) URL: ftp:' });
  });

  it('reads local files with the same size bound, and fails on a missing one', async () => {
    const ok = join(dir, 'ok.txt');
    const big = join(dir, 'big.txt');
    writeFileSync(ok, PLAIN);
    writeFileSync(big, '203.0.113.1\n'.repeat(1000));
    const cfg = blacklistConfig([
      source('ok', ok, 'plain'),
      source('big', big, 'plain', { maxBytes: 5000 }),
      source('missing', join(dir, 'nope.txt'), 'plain'),
      source('dir', dir, 'plain'),
    ]);
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    const s = bySource(r);
    expect(s.ok).toMatchObject({ status: 'ok', entries: 5 });
    expect(s.big).toMatchObject({ status: 'failed', reason: 'file is 12000 bytes, more than the 5000 allowed (maxBytes)' });
    expect(s.missing).toMatchObject({ status: 'failed', reason: 'cannot read file: ENOENT' });
    expect(s.dir!.status).toBe('failed');
    expect(r.incomplete).toBe(true);
  });
});

describe('shrink guard', () => {
  const ten = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`).join('\n');
  const three = Array.from({ length: 3 }, (_, i) => `203.0.113.${i + 1}`).join('\n');
  const five = Array.from({ length: 5 }, (_, i) => `203.0.113.${i + 1}`).join('\n');

  it('refuses a source that loses more than maxShrink, keeps its entries, and does not store its validators', async () => {
    http.routes.set('/l.txt', { body: ten, etag: '"ten"' });
    const cfg = blacklistConfig([source('l', http.url('/l.txt'), 'plain')]);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    http.routes.set('/l.txt', { body: three, etag: '"three"' });
    const { log, lines } = memoryLog();
    const r = await refreshBlacklist(db, cfg, { log, now: T0 + HOUR });
    expect(bySource(r).l).toMatchObject({
      status: 'refused', entries: 10, previous: 10,
      reason: 'would shrink from 10 to 3 entries (-70 %, more than maxShrink 50 %); kept the previous entries, use --force to apply',
    });
    expect(r.incomplete).toBe(true);
    expect(lines.find((l) => l.code === 'PW_ERR_SHRINK')?.source).toBe('l');
    expect(sourceStates(db).get('l')!.etag).toBe('"ten"');
    // Next refresh asks again with the old validator, so the refused list comes back in full.
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 2 * HOUR });
    expect(http.requestsFor('/l.txt').map((h) => h['if-none-match'])).toEqual([undefined, '"ten"', '"ten"']);
    const forced = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 3 * HOUR, force: true });
    expect(bySource(forced).l).toMatchObject({ status: 'ok', entries: 3, removed: 7 });
    expect(forced.incomplete).toBe(false);
    expect(sourceStates(db).get('l')!.etag).toBe('"three"');
  });

  it('accepts a shrink of exactly maxShrink, and honours a per-source maxShrink', async () => {
    http.routes.set('/l.txt', { body: ten });
    http.routes.set('/m.txt', { body: ten });
    const cfg = blacklistConfig([source('l', http.url('/l.txt'), 'plain'), source('m', http.url('/m.txt'), 'plain', { maxShrink: 0.2 })]);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    http.routes.set('/l.txt', { body: five });
    http.routes.set('/m.txt', { body: five });
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(bySource(r).l).toMatchObject({ status: 'ok', entries: 5 });
    expect(bySource(r).m).toMatchObject({ status: 'refused', entries: 10 });
  });

  it('an emptied list is refused too', async () => {
    http.routes.set('/l.txt', { body: ten });
    const cfg = blacklistConfig([source('l', http.url('/l.txt'), 'plain')]);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    http.routes.set('/l.txt', { body: '# nothing today\n' });
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(bySource(r).l).toMatchObject({ status: 'refused', entries: 10 });
  });

  it('a source removed from the configuration is dropped only with force', async () => {
    http.routes.set('/l.txt', { body: ten });
    http.routes.set('/k.txt', { body: '198.51.100.1\n' });
    await refreshBlacklist(db, blacklistConfig([source('l', http.url('/l.txt'), 'plain'), source('k', http.url('/k.txt'), 'plain')]), { log: memoryLog().log, now: T0 });
    const cfg = blacklistConfig([source('k', http.url('/k.txt'), 'plain')]);
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(bySource(r).l).toMatchObject({ status: 'refused', entries: 10, reason: 'no longer configured; its entries are kept until refresh --force' });
    const f = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 2 * HOUR, force: true });
    expect(bySource(f).l).toMatchObject({ status: 'ok', entries: 0, removed: 10 });
    expect(snapshotTexts(T0 + 2 * HOUR)).toEqual(['k 198.51.100.1']);
  });
});

describe('scheduling', () => {
  it('skips a source whose refresh interval has not passed, unless it is named', async () => {
    http.routes.set('/d.txt', { body: '203.0.113.1\n' });
    const cfg = blacklistConfig([source('daily', http.url('/d.txt'), 'plain', { refreshMs: 24 * HOUR })]);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(bySource(r).daily).toMatchObject({ status: 'skipped', entries: 1, reason: 'not due until 2025-01-02T00:00:00.000Z (refresh)' });
    expect(r.incomplete).toBe(false);
    expect(http.requestsFor('/d.txt')).toHaveLength(1);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR, only: ['daily'] });
    expect(http.requestsFor('/d.txt')).toHaveLength(2);
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 25 * HOUR });
    expect(http.requestsFor('/d.txt')).toHaveLength(3);
  });

  it('refuses to refresh a source the configuration does not name', async () => {
    await expect(refreshBlacklist(db, blacklistConfig([]), { log: memoryLog().log, only: ['nope'] })).rejects.toThrow(/no such source in the configuration: nope/);
  });
});

describe('resolution of domain entries', () => {
  function zone(): void {
    Object.assign(dns.zone, {
      'xmr.pool.example': { a: [{ address: '192.0.2.10', ttl: 60 }, { address: '192.0.2.11', ttl: 60 }], aaaa: [{ address: '2001:db8::10', ttl: 7200 }] },
      'btc.pool.example': { a: [{ address: '198.51.100.77', ttl: 2_000_000 }] },
      'sinkholed.example': { a: [{ address: '0.0.0.0', ttl: 300 }, { address: '10.1.2.3', ttl: 300 }], aaaa: [{ address: '::1', ttl: 300 }] },
      'coinhive.example': { aaaa: [{ address: '2001:db8::c0', ttl: 600 }] },
    });
  }

  it('resolves A and AAAA; addresses carry domain, TTL and an expiry held between the floor and the cap', async () => {
    zone();
    serveAllFormats();
    const r = await refreshBlacklist(db, allFormatsConfig(true), { log: memoryLog().log, now: T0 });
    expect(r.resolve).toMatchObject({ resolved: 3, failed: 0, dropped: 3 });
    // every distinct name was asked once for A and once for AAAA
    const names = new Set(versionEntries(db, 1).flatMap((e) => (e.kind === 'domain' ? [e.name] : [])));
    expect(r.resolve!.names).toBe(names.size);
    expect(r.resolve!.nxdomain).toBe(names.size - 4);
    expect(dns.queries.length).toBe(2 * names.size);
    const resolved = versionEntries(db, 1).filter((e) => e.source.endsWith(':resolved'));
    expect(resolved.map((e) => [e.source, e.text, e.kind === 'ip' ? e.domain : '', e.kind === 'ip' ? e.ttl : '', e.expiresAt! - T0])).toEqual([
      ['csv:resolved', '192.0.2.10:4444', 'xmr.pool.example', 60, 5 * 60_000], // the csv entry carries port 4444
      ['csv:resolved', '192.0.2.11:4444', 'xmr.pool.example', 60, 5 * 60_000],
      ['csv:resolved', '[2001:db8::10]:4444', 'xmr.pool.example', 7200, 7200_000],
      ['domains:resolved', '198.51.100.77', 'btc.pool.example', 2_000_000, 24 * HOUR], // capped
      ['hosts:resolved', '192.0.2.10', 'xmr.pool.example', 60, 5 * 60_000],
      ['hosts:resolved', '192.0.2.11', 'xmr.pool.example', 60, 5 * 60_000],
      ['hosts:resolved', '2001:db8::10', 'xmr.pool.example', 7200, 7200_000],
      ['hosts:resolved', '2001:db8::c0', 'coinhive.example', 600, 600_000],
    ]);
    expect(versionEntries(db, 1, { source: 'csv:resolved' }).every((e) => e.coin === 'xmr')).toBe(true);
    expect(bySource(r).hosts!.entries).toBe(3); // the resolved addresses are their own source
  });

  it('drops expired addresses from the snapshot, and the next refresh replaces what moved', async () => {
    Object.assign(dns.zone, { 'pool.example': { a: [{ address: '192.0.2.10', ttl: 600 }] } });
    http.routes.set('/d.txt', { body: 'pool.example\n' });
    const cfg = blacklistConfig([source('d', http.url('/d.txt'), 'domains')], resolver());
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    expect(snapshotTexts(T0 + 599_999)).toEqual(['d pool.example', 'd:resolved 192.0.2.10']);
    expect(snapshotTexts(T0 + 600_000)).toEqual(['d pool.example']);

    // The pool moved: the name stays, the address changes.
    dns.zone['pool.example'] = { a: [{ address: '192.0.2.20', ttl: 600 }] };
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(r).toMatchObject({ version: 2, added: 1, removed: 1, unchanged: 1 });
    const d = diffVersions(db, 1, 2);
    expect(d.added.map((e) => e.text)).toEqual(['192.0.2.20']);
    expect(d.removed.map((e) => e.text)).toEqual(['192.0.2.10']);
    expect(snapshotTexts(T0 + HOUR)).toEqual(['d pool.example', 'd:resolved 192.0.2.20']);
    const snap = loadSnapshot(db, T0 + HOUR);
    expect(snap.addresses[0]).toMatchObject({ listVersion: 2, expiresAt: T0 + HOUR + 600_000, source: 'd:resolved' });

    // Same answer again: the entry is unchanged and its expiry moves on.
    const again = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 2 * HOUR });
    expect(again).toMatchObject({ added: 0, removed: 0, unchanged: 2 });
    expect(loadSnapshot(db, T0 + 2 * HOUR).addresses[0]!.expiresAt).toBe(T0 + 2 * HOUR + 600_000);
  });

  it('keeps the last addresses of a name whose query fails, until they expire; NXDOMAIN removes them', async () => {
    Object.assign(dns.zone, { 'pool.example': { a: [{ address: '192.0.2.10', ttl: 3600 }] } });
    http.routes.set('/d.txt', { body: 'pool.example\n' });
    const cfg = blacklistConfig([source('d', http.url('/d.txt'), 'domains')], resolver());
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });

    dns.zone['pool.example'] = { drop: true }; // no answer: the resolver times out
    const { log, lines } = memoryLog();
    const r = await refreshBlacklist(db, cfg, { log, now: T0 + 10 * 60_000 });
    expect(r.resolve).toMatchObject({ failed: 1, resolved: 0 });
    expect(r.resolve!.failures[0]).toMatch(/^pool\.example: A ETIMEOUT/);
    expect(r.incomplete).toBe(false); // DNS trouble is reported, not a failed source
    expect(lines.find((l) => l.msg === 'blacklist names resolved')?.level).toBe(40);
    expect(snapshotTexts(T0 + 10 * 60_000)).toEqual(['d pool.example', 'd:resolved 192.0.2.10']);
    expect(loadSnapshot(db, T0 + 10 * 60_000).addresses[0]!.expiresAt).toBe(T0 + HOUR); // the old expiry, not extended

    dns.zone['pool.example'] = { servfail: true };
    const late = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 2 * HOUR });
    expect(late).toMatchObject({ removed: 1 }); // expired meanwhile: removed even though kept by the failure
    expect(snapshotTexts(T0 + 2 * HOUR)).toEqual(['d pool.example']);

    dns.zone['pool.example'] = { a: [{ address: '192.0.2.10', ttl: 3600 }] };
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 3 * HOUR });
    delete dns.zone['pool.example']; // NXDOMAIN now
    const gone = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + 3 * HOUR + 60_000 });
    expect(gone.resolve).toMatchObject({ nxdomain: 1, failed: 0 });
    expect(snapshotTexts(T0 + 3 * HOUR + 60_000)).toEqual(['d pool.example']);
  });

  it('resolves names a source kept after failing, and names added by hand', async () => {
    Object.assign(dns.zone, { 'pool.example': { a: [{ address: '192.0.2.10', ttl: 600 }] }, 'manual.example': { a: [{ address: '192.0.2.99', ttl: 600 }] } });
    http.routes.set('/d.txt', { body: 'pool.example\n' });
    const cfg = blacklistConfig([source('d', http.url('/d.txt'), 'domains')], resolver());
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    const { commitVersion } = await import('../src/blacklist/store.js');
    const { entries } = await import('./helpers/blacklist.js');
    const manual = entries('manual', ['manual.example:3333']);
    manual[0]!.expiresAt = T0 + HOUR + 60_000;
    commitVersion(db, [{ source: 'manual', add: manual, status: 'edited' }], { reason: 'add', command: 't', now: T0 });
    http.routes.set('/d.txt', { status: 503 });
    await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(snapshotTexts(T0 + HOUR)).toEqual(['d pool.example', 'd:resolved 192.0.2.10', 'manual manual.example:3333', 'manual:resolved 192.0.2.99:3333']);
    // the address resolved from a hand-added name expires with the name, not after its own TTL
    expect(loadSnapshot(db, T0 + HOUR).addresses.find((e) => e.source === 'manual:resolved')!.expiresAt).toBe(T0 + HOUR + 60_000);
  });
});

describe('bootstrap', () => {
  it('makes version 1 from local files only, without network or DNS, once', async () => {
    const local = join(dir, 'local.txt');
    writeFileSync(local, PLAIN);
    const dom = join(dir, 'names.txt');
    writeFileSync(dom, 'pool.example\n');
    http.routes.set('/plain.txt', { body: '198.51.100.1\n' });
    const cfg = blacklistConfig([source('local', local, 'plain'), source('names', dom, 'domains'), source('remote', http.url('/plain.txt'), 'plain')], resolver());
    expect(await ensureVersion(db, cfg, memoryLog().log)).toBe(1);
    expect(http.requests).toHaveLength(0);
    expect(dns.queries).toHaveLength(0);
    expect(history(db)[0]).toMatchObject({ reason: 'bootstrap', total: 6 });
    expect(history(db)[0]!.sources.find((s) => s.source === 'remote')).toMatchObject({ status: 'skipped' });
    expect(snapshotTexts(T0)).toHaveLength(6);
    expect(await ensureVersion(db, cfg, memoryLog().log)).toBe(1); // not again
    expect(currentVersion(db)).toBe(1);
    // the next refresh fetches the remote source
    const r = await refreshBlacklist(db, { blacklist: { ...cfg.blacklist, resolve: { ...cfg.blacklist.resolve, enabled: false } } }, { log: memoryLog().log });
    expect(bySource(r).remote).toMatchObject({ status: 'ok', added: 1 });
  });

  it('bootstraps the default configuration (shipped lists) offline', async () => {
    const cfg = loadConfig();
    const v = await ensureVersion(db, cfg, memoryLog().log);
    expect(v).toBe(1);
    const h = history(db)[0]!;
    expect(h.sources.map((s) => [s.source, s.status])).toEqual(cfg.blacklist.sources.map((s) => [s.name, 'ok']).sort());
    const snap = loadSnapshot(db, Date.now());
    expect(snap.addresses.length).toBe(121);
    expect(snap.domains.length).toBeGreaterThan(300);
  });
});

describe('the real public lists, served over HTTP', () => {
  const files: [string, 'plain' | 'hosts' | 'domains' | 'abp'][] = [
    ['minerchk-ip-only.txt', 'plain'],
    ['coinblocker-2018-MiningServerIPList.txt', 'plain'],
    ['nocoin-hosts.txt', 'hosts'],
    ['nocoin-abp.txt', 'abp'],
    ['minerchk-hostslist.txt', 'domains'],
    ['coinblocker-2018-list.txt', 'domains'],
    ['coinblocker-2018-hosts', 'hosts'],
  ];
  it.skipIf(!haveLists)('refreshes each one with the counts its parser gives, then gets 304s', async () => {
    const sources = files.map(([f, format]) => {
      const body = readFileSync(join(LISTS, f));
      http.routes.set(`/${f}`, { body, etag: `"${body.length}"` });
      return source(f.replace(/\./g, '-'), http.url(`/${f}`), format, { maxBytes: 1 << 20 });
    });
    const cfg = blacklistConfig(sources);
    const r = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 });
    expect(r.incomplete).toBe(false);
    for (const [i, [f, format]] of files.entries()) {
      const p = parseList(format, readFileSync(join(LISTS, f), 'utf8'), f);
      expect(r.sources[i], f).toMatchObject({ status: 'ok', entries: new Set([...p.addresses, ...p.domains].map((e) => e.text)).size });
      expect(r.sources[i]!.entries).toBeGreaterThan(10);
    }
    const again = await refreshBlacklist(db, cfg, { log: memoryLog().log, now: T0 + HOUR });
    expect(again.sources.every((s) => s.status === 'unchanged')).toBe(true);
    expect(again).toMatchObject({ added: 0, removed: 0, total: r.total });
  });
});
