/**
 * `poolwatch blacklist …` end to end: the built CLI (npm test builds first) against a real HTTP
 * server and DNS server on loopback, checking stdout, the JSON log lines on stderr and exit codes.
 * The CLI runs as a child process without blocking this one, which serves its requests.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliAsync, logLines, type CliResult } from './helpers/cli.js';
import { startDnsServer, type DnsServer } from './helpers/dns-server.js';
import { startListServer, type ListServer } from './helpers/list-server.js';

let http: ListServer;
let dns: DnsServer;
let dir: string;
let db: string;
let cfg: string;

const run = (args: string[]): Promise<CliResult> => cliAsync(args).done;
const bl = (...args: string[]) => run(['blacklist', ...args, '--db', db, '-c', cfg]);
const json = (r: CliResult) => JSON.parse(r.stdout);

const IPS = '# pools\n203.0.113.10\n203.0.113.11\n203.0.113.12\n203.0.113.0/28:3333\n';
const HOSTS = '0.0.0.0 xmr.pool.example\n0.0.0.0 web.miner.example\n';

beforeAll(async () => {
  http = await startListServer();
  dns = await startDnsServer({ 'xmr.pool.example': { a: [{ address: '192.0.2.10', ttl: 600 }] } });
});
afterAll(async () => {
  await http.close();
  await dns.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-blcli-'));
  db = join(dir, 'hits.db');
  cfg = join(dir, 'poolwatch.yaml');
  http.routes.clear();
  http.requests.length = 0;
  http.routes.set('/ips.txt', { body: IPS, etag: '"i1"' });
  http.routes.set('/hosts', { body: HOSTS, lastModified: 'Mon, 06 Jan 2025 10:00:00 GMT' });
  writeConfig();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(extra = ''): void {
  writeFileSync(
    cfg,
    `blacklist:
  sources:
    - name: ips
      url: ${http.url('/ips.txt')}
      format: plain
    - name: hosts
      url: ${http.url('/hosts')}
      format: hosts
      timeoutSeconds: 2
${extra}  resolver: ["${dns.address}"]
  resolve:
    timeoutSeconds: 0.5
    tries: 1
    minTtl: 5m
`,
  );
}

describe('blacklist refresh', () => {
  it('stores version 1, prints a table, and exits 0; a second run is all 304s', async () => {
    const r = await bl('refresh');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('version 1: 7 added, 0 removed, 0 unchanged, 7 entries');
    expect(lines[1]).toBe('names resolved: 1 of 2 (1 NXDOMAIN, 0 failed, 0 unroutable addresses dropped)');
    expect(lines[2]).toMatch(/^SOURCE\s+STATUS\s+ENTRIES\s+ADDED\s+REMOVED\s+BAD LINES\s+REASON$/);
    expect(lines.slice(3, 5).map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      ['ips', 'ok', '4', '4', '0'],
      ['hosts', 'ok', '2', '2', '0'],
    ]);
    expect(logLines(r.stderr).find((l) => l.msg === 'blacklist refresh finished')).toMatchObject({ version: 1, total: 7 });

    const again = await bl('refresh', '-f', 'json');
    expect(again.code).toBe(0);
    const rep = json(again);
    expect(rep).toMatchObject({ version: 2, added: 0, removed: 0, unchanged: 7, total: 7, incomplete: false });
    expect(rep.sources.map((s: any) => s.status)).toEqual(['unchanged', 'unchanged']);
    expect(http.requestsFor('/ips.txt')[1]!['if-none-match']).toBe('"i1"');
  });

  it('exits 1 when a source fails, naming it in an error line; the rest is applied', async () => {
    await bl('refresh');
    http.routes.set('/hosts', { status: 503 });
    http.routes.set('/ips.txt', { body: IPS + '198.51.100.5\n', etag: '"i2"' });
    const r = await bl('refresh', '-f', 'json');
    expect(r.code).toBe(1);
    const err = logLines(r.stderr).filter((l) => l.level === 50);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatchObject({ code: 'PW_ERR_FETCH', source: 'hosts', msg: 'blacklist source hosts failed: HTTP 503 Service Unavailable' });
    const rep = json(r);
    expect(rep).toMatchObject({ version: 2, added: 1, removed: 0, incomplete: true });
    expect(rep.sources.find((s: any) => s.name === 'hosts')).toMatchObject({ status: 'failed', entries: 2 });
  });

  it('exits 1 on a shrink beyond maxShrink, and applies it with --force', async () => {
    await bl('refresh');
    http.routes.set('/ips.txt', { body: '203.0.113.10\n', etag: '"i3"' });
    const refused = await bl('refresh');
    expect(refused.code).toBe(1);
    expect(logLines(refused.stderr).find((l) => l.code === 'PW_ERR_SHRINK')).toMatchObject({ source: 'ips' });
    expect(refused.stdout).toMatch(/ips\s+refused\s+4\s+0\s+0\s+0\s+would shrink from 4 to 1 entries/);
    const forced = await bl('refresh', '--force');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/ips\s+ok\s+1\s+0\s+3\s+0\s+-/);
  });

  it('exits 2 on a configuration with a non-http(s) URL, and touches nothing', async () => {
    writeFileSync(cfg, `blacklist:\n  sources:\n    - name: x\n      url: file:///etc/hosts\n      format: hosts\n`);
    const r = await bl('refresh');
    expect(r.code).toBe(2);
    expect(logLines(r.stderr)).toEqual([expect.objectContaining({ level: 50, code: 'PW_ERR_USAGE' })]);
    expect(logLines(r.stderr)[0]!.msg).toContain('blacklist.sources[0].url must be an http:// or https:// URL (not file:)');
    expect(r.stdout).toBe('');
  });

  it('requires --db', async () => {
    const r = await run(['blacklist', 'history']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--db <path>' not specified");
  });
});

describe('history, diff, list', () => {
  it('shows what each version did', async () => {
    await bl('refresh');
    http.routes.set('/ips.txt', { body: IPS.replace('203.0.113.12\n', '203.0.113.13\n'), etag: '"i2"' });
    http.routes.set('/hosts', { status: 500 });
    await bl('refresh');

    const h = await bl('history', '-f', 'json');
    expect(h.code).toBe(0);
    const versions = json(h);
    expect(versions.map((v: any) => [v.id, v.reason, v.added, v.removed, v.total])).toEqual([
      [2, 'refresh', 1, 1, 7],
      [1, 'refresh', 7, 0, 7],
    ]);
    expect(versions[0].sources.find((s: any) => s.source === 'hosts')).toMatchObject({ status: 'failed', message: 'HTTP 500 Internal Server Error' });
    const table = await bl('history');
    expect(table.stdout.split('\n')[0]).toMatch(/^VERSION\s+CREATED\s+REASON\s+ADDED\s+REMOVED\s+UNCHANGED\s+TOTAL\s+SOURCES$/);
    expect(table.stdout).toContain('hosts failed: HTTP 500 Internal Server Error');

    const d = await bl('diff', '1', '2');
    expect(d.code).toBe(0);
    expect(d.stdout.split('\n')).toEqual([
      'version 1 → 2: 1 added, 1 removed',
      expect.stringMatching(/^\s+SOURCE\s+KIND\s+ENTRY/),
      expect.stringMatching(/^\+\s+ips\s+ip\s+203\.0\.113\.13\s/),
      expect.stringMatching(/^-\s+ips\s+ip\s+203\.0\.113\.12\s/),
      '',
    ]);
    const dj = json(await bl('diff', '1', '2', '-f', 'json'));
    expect(dj.added.map((e: any) => e.entry)).toEqual(['203.0.113.13']);
    expect(dj.removed.map((e: any) => [e.entry, e.addedIn, e.removedIn])).toEqual([['203.0.113.12', 1, 2]]);
    const missing = await bl('diff', '1', '9');
    expect(missing.code).toBe(2);
    expect(logLines(missing.stderr)[0]!.msg).toContain('no blacklist version 9');
  });

  it('lists a version with resolved addresses, their name and expiry', async () => {
    await bl('refresh');
    const l = json(await bl('list', '-f', 'json'));
    expect(l.version).toBe(1);
    const resolved = l.entries.filter((e: any) => e.source === 'hosts:resolved');
    expect(resolved).toEqual([expect.objectContaining({ kind: 'ip', entry: '192.0.2.10', network: '192.0.2.10', domain: 'xmr.pool.example', ttl: 600, addedIn: 1 })]);
    expect(Date.parse(resolved[0].expiresAt) - Date.parse(resolved[0].firstSeen)).toBe(600_000);
    const csv = await bl('list', '1', '--source', 'ips', '-f', 'csv');
    expect(csv.stdout.split('\r\n')[0]).toBe('source,kind,entry,coin,label,domain,expiresAt,firstSeen,lastSeen,addedIn');
    expect(csv.stdout.trim().split('\r\n')).toHaveLength(5);
  });

  it('reads an empty database as empty', async () => {
    const r = await bl('list');
    expect(r.code).toBe(2); // no such database yet: list never creates one
    writeFileSync(cfg, 'blacklist:\n  sources: []\n');
    await bl('refresh');
    const e = await bl('list');
    expect(e.code).toBe(0);
    expect(e.stdout).toBe('version 1: 0 entries\nSOURCE  KIND  ENTRY  COIN  LABEL  RESOLVED FROM  EXPIRES  SINCE\n');
  });
});

describe('hand edits', () => {
  it('add, relabel, remove: each a version; remove of an absent entry exits 1', async () => {
    await bl('refresh');
    const before = Date.now();
    const a = await bl('add', '203.0.113.7', 'Pool.Example:3333', '[2001:db8::1]:4444-4450', '--coin', 'XMR', '--label', 'test pool', '--expires', '1d');
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe('version 2: 3 added, 0 removed, 7 unchanged, 10 entries\n');
    const manual = json(await bl('list', '--source', 'manual', '-f', 'json')).entries;
    expect(manual.map((e: any) => [e.kind, e.entry, e.coin, e.label])).toEqual([
      ['domain', 'pool.example:3333', 'xmr', 'test pool'],
      ['ip', '203.0.113.7', 'xmr', 'test pool'],
      ['ip', '[2001:db8::1]:4444-4450', 'xmr', 'test pool'],
    ]);
    const exp = Date.parse(manual[0].expiresAt);
    expect(exp).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(exp).toBeLessThan(Date.now() + 86_400_000);

    const relabel = await bl('add', '203.0.113.7', '--label', 'renamed', '-f', 'json');
    expect(json(relabel)).toMatchObject({ version: 3, added: 1, removed: 1, total: 10 });

    const rm = await bl('remove', '203.0.113.7/32', '192.0.2.200');
    expect(rm.code).toBe(1);
    expect(rm.stdout).toBe('version 4: 0 added, 1 removed, 9 unchanged, 9 entries\n');
    expect(logLines(rm.stderr).find((l) => l.level === 40)).toMatchObject({ entry: '192.0.2.200', source: 'manual' });

    const h = json(await bl('history', '-f', 'json'));
    expect(h.map((v: any) => v.reason)).toEqual(['remove', 'add', 'add', 'refresh']);
    expect(h[0].command).toBe(`blacklist remove 203.0.113.7/32 192.0.2.200 --db ${db} -c ${cfg}`);
  });

  it('refuses bad entries, bad labels and configured sources, changing nothing (exit 2)', async () => {
    await bl('refresh');
    for (const args of [
      ['add', '203.0.113.300'],
      ['add', '203.0.113.7', 'not a name'],
      ['add', 'pool.example:99999'],
      ['add', '203.0.113.7', '--coin', 'x\u001b[31m'],
      ['add', '203.0.113.7', '--source', 'ips'],
      ['add', '203.0.113.7', '--expires', 'soon'],
    ]) {
      const r = await bl(...args);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(json(await bl('history', '-f', 'json'))).toHaveLength(1);
  });

  it('bootstraps from local files first when the database has no version yet', async () => {
    const local = join(dir, 'local.txt');
    writeFileSync(local, '203.0.113.200\n');
    writeFileSync(cfg, `blacklist:\n  sources:\n    - name: local\n      file: ${local}\n      format: plain\n    - name: ips\n      url: ${http.url('/ips.txt')}\n      format: plain\n`);
    const r = await bl('add', 'pool.example');
    expect(r.code).toBe(0);
    expect(http.requests).toHaveLength(0);
    const h = json(await bl('history', '-f', 'json'));
    expect(h.map((v: any) => [v.reason, v.total])).toEqual([['add', 2], ['bootstrap', 1]]);
  });
});

describe('import and export', () => {
  it('round-trips every entry with its labels through csv and json', async () => {
    await bl('refresh');
    await bl('add', '198.51.100.0/24:3333-3340', 'eth.pool.example:8008', '--coin', 'eth', '--label', 'Pool, "quoted"');
    const original = json(await bl('list', '-f', 'json')).entries.filter((e: any) => !e.source.endsWith(':resolved'));
    for (const format of ['csv', 'json']) {
      const out = join(dir, `export.${format}`);
      const ex = await bl('export', '--format', format, '-o', out);
      expect(ex.code, ex.stderr).toBe(0);
      const other = join(dir, `copy-${format}.db`);
      const im = await run(['blacklist', 'import', out, '--format', format, '--source', 'copy', '--db', other, '-c', cfg]);
      expect(im.code, im.stderr).toBe(0);
      expect(im.stdout).toContain(`read ${original.length} entries, 0 bad lines`);
      const copy = json(await run(['blacklist', 'list', '--source', 'copy', '-f', 'json', '--db', other, '-c', cfg])).entries;
      const strip = (es: any[]) => es.map((e: any) => [e.kind, e.entry, e.coin, e.label]).sort();
      expect(strip(copy)).toEqual(strip(original));
    }
  });

  it('plain holds addresses and hosts names; what they cannot hold is counted in a warning', async () => {
    await bl('refresh');
    await bl('add', 'eth.pool.example:8008');
    const plain = await bl('export');
    expect(plain.stdout.split('\n').filter((l) => !l.startsWith('#') && l !== '').sort()).toEqual(['203.0.113.0/28:3333', '203.0.113.10', '203.0.113.11', '203.0.113.12']);
    expect(logLines(plain.stderr)[0]).toMatchObject({ skipped: 3, format: 'plain' });
    const hosts = await bl('export', '--format', 'hosts');
    expect(hosts.stdout.split('\n').filter((l) => !l.startsWith('#') && l !== '').sort()).toEqual(['0.0.0.0 web.miner.example', '0.0.0.0 xmr.pool.example']);
    // and both read back
    writeFileSync(join(dir, 'p.txt'), plain.stdout);
    const im = await bl('import', join(dir, 'p.txt'), '--format', 'plain', '--source', 'from-plain');
    expect(im.code).toBe(0);
    expect(json(await bl('list', '--source', 'from-plain', '-f', 'json')).entries).toHaveLength(4);
  });

  it('import --replace makes the source hold exactly the file; a file of garbage exits 2 and changes nothing', async () => {
    const f = join(dir, 'vendor.json');
    writeFileSync(f, JSON.stringify([{ ip: '203.0.113.1', coin: 'xmr' }, { domain: 'a.pool.example' }]));
    expect((await bl('import', f, '--format', 'json', '--source', 'vendor')).code).toBe(0);
    writeFileSync(f, JSON.stringify([{ domain: 'a.pool.example' }, { domain: 'b.pool.example' }]));
    const r = await bl('import', f, '--format', 'json', '--source', 'vendor', '--replace');
    expect(r.stdout).toMatch(/^version 3: 1 added, 1 removed, 1 unchanged, 2 entries/);
    const entries = json(await bl('list', '--source', 'vendor', '-f', 'json')).entries.map((e: any) => e.entry);
    expect(entries).toEqual(['a.pool.example', 'b.pool.example']);

    writeFileSync(f, '{"oops": ');
    const bad = await bl('import', f, '--format', 'json', '--source', 'vendor', '--replace');
    expect(bad.code).toBe(2);
    expect(logLines(bad.stderr).find((l) => l.level === 50)).toMatchObject({ code: 'PW_ERR_LIST_SYNTAX' });
    expect(json(await bl('history', '-f', 'json'))).toHaveLength(3);
    // a partly bad file imports the good part and exits 1
    writeFileSync(f, JSON.stringify(['c.pool.example', 42]));
    const partial = await bl('import', f, '--format', 'json', '--source', 'vendor');
    expect(partial.code).toBe(1);
  });
});

describe('help', () => {
  it('every command explains itself with examples', async () => {
    for (const c of ['refresh', 'history', 'diff', 'list', 'add', 'remove', 'import', 'export']) {
      const r = await run(['blacklist', c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain('Examples:');
      expect(r.stdout, c).toContain('--db <path>');
    }
    expect(readFileSync(cfg, 'utf8')).toContain('resolver');
  });
});
