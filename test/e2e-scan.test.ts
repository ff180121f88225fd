import { mkdtempSync, readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fixture, logLines, ROOT } from './helpers/cli.js';
import { SAMPLE_MINERS, samplePackets } from './helpers/fixtures.js';
import { BTC_WALLET, ETH_WALLET, XMR_WALLET } from './helpers/sessions.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pw-e2e-'));
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>[];
const iso = (micros: number) => new Date(micros / 1000).toISOString();

/** Packets, bytes (IP length, i.e. frame minus the 14-byte Ethernet header) and times of a sample miner. */
function counted(m: (typeof SAMPLE_MINERS)[keyof typeof SAMPLE_MINERS]) {
  const pk = samplePackets(m);
  return {
    packets: pk.length,
    bytes: pk.reduce((n, p) => n + p.data.length - 14, 0),
    firstSeen: iso(pk[0].tsMicros!),
    lastSeen: iso(pk[pk.length - 1].tsMicros!),
  };
}

describe('poolwatch scan: the sample capture, in full', () => {
  const r = cli(['scan', '--format', 'json', fixture('sample.pcap')]);

  it('exits 0 and prints one record per miner, the customers and never the pools or benign hosts', () => {
    expect(r.code, r.stderr).toBe(0);
    const recs = json(r.stdout);
    expect(recs.map((x) => x.src).sort()).toEqual(['10.20.30.40', '10.20.30.50', '10.20.30.60']);
  });

  it('reports the Bitcoin Stratum miner exactly', () => {
    const rec = json(r.stdout).find((x) => x.src === '10.20.30.40')!;
    expect(rec).toMatchObject({
      src: '10.20.30.40',
      category: 'mining',
      evidence: ['stratum'],
      pools: [{ ip: '198.51.100.10', port: 3333 }],
      coins: ['btc'],
      logins: [`${BTC_WALLET}.rig1`],
      agents: ['cgminer/4.10.0'],
      flows: 1,
      sharesSubmitted: 2,
      sharesAccepted: 1,
      sharesRejected: 1,
      difficulty: 8192,
      ...counted(SAMPLE_MINERS.btc),
    });
  });

  it('reports the XMRig miner exactly', () => {
    const rec = json(r.stdout).find((x) => x.src === '10.20.30.50')!;
    expect(rec).toMatchObject({
      category: 'mining',
      evidence: ['cryptonote'],
      pools: [{ ip: '203.0.113.77', port: 14444 }],
      coins: ['xmr'],
      logins: [XMR_WALLET],
      agents: ['XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0'],
      sharesSubmitted: 1,
      sharesAccepted: 1,
      sharesRejected: 0,
      ...counted(SAMPLE_MINERS.xmr),
    });
    expect(rec.difficulty).toBeCloseTo(0xffffffff / 0x00068db8, 3);
  });

  it('reports the EthProxy miner exactly, with its reported hash rate', () => {
    const rec = json(r.stdout).find((x) => x.src === '10.20.30.60')!;
    expect(rec).toMatchObject({
      category: 'mining',
      evidence: ['ethproxy'],
      pools: [{ ip: '198.51.100.20', port: 8008 }],
      coins: ['eth'],
      logins: [ETH_WALLET],
      reportedHashrate: 0x1dcd6500,
      sharesSubmitted: 1,
      sharesAccepted: 1,
      ...counted(SAMPLE_MINERS.eth),
    });
  });

  it('sorts by bytes, descending', () => {
    const bytes = json(r.stdout).map((x) => x.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
  });

  it('logs a final summary on stderr as JSON, and nothing but the report on stdout', () => {
    const summary = logLines(r.stderr).find((l) => l.msg === 'scan finished')!;
    // Count the records of the little-endian µs pcap by walking its record headers.
    const file = readFileSync(fixture('sample.pcap'));
    let records = 0;
    for (let off = 24; off < file.length; off += 16 + file.readUInt32LE(off + 8)) records++;
    expect(summary).toMatchObject({ packets: records, ipPackets: records, sourcesFlagged: 3, flaggedFlows: 3, damagedInputs: [] });
    expect(summary.seconds).toBeGreaterThan(0);
    // seconds is logged rounded to the millisecond, the rate from the unrounded time.
    expect(Math.abs(summary.packetsPerSecond * summary.seconds - records)).toBeLessThanOrEqual(summary.packetsPerSecond * 0.0005 + 1);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  it('gives the same report from standard input', () => {
    const s = cli(['scan', '--format', 'json', '-'], { input: readFileSync(fixture('sample.pcap')) });
    expect(s.code, s.stderr).toBe(0);
    expect(json(s.stdout)).toEqual(json(r.stdout).map((x) => ({ ...x, inputs: ['-'] })));
  });
});

describe('poolwatch scan: dialects, link layers and roles from the fixtures', () => {
  it('IPv6 XMRig in a two-interface pcapng', () => {
    const r = cli(['scan', '-f', 'json', fixture('xmrig-ipv6.pcapng')]);
    expect(r.code, r.stderr).toBe(0);
    const recs = json(r.stdout);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ src: '2001:db8:1::10', pools: [{ ip: '2001:db8:ff::5', port: 14444 }], coins: ['xmr'], evidence: ['cryptonote'] });
  });

  it('EthProxy over VLAN in a big-endian nanosecond pcap, cut into 17-byte segments', () => {
    const r = cli(['scan', '-f', 'json', fixture('ethproxy-vlan-ns.pcap')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject([{ src: '10.20.30.60', evidence: ['ethproxy'], logins: [ETH_WALLET], sharesSubmitted: 1 }]);
  });

  it('NiceHash seen only from the pool, joined mid-session: the customer is still the source', () => {
    const r = cli(['scan', '-f', 'json', fixture('nicehash-pool-only-midstream.pcap')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject([{ src: '10.20.30.70', evidence: ['ethereum-stratum'], pools: [{ ip: '198.51.100.30', port: 3353 }] }]);
  });

  it('getwork over HTTP on a raw-IP capture', () => {
    const r = cli(['scan', '-f', 'json', fixture('getwork-http.pcap')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject([{ src: '10.20.30.80', evidence: ['http-mining'], agents: ['cgminer 2.7.2'], pools: [{ ip: '198.51.100.40', port: 8332, host: 'pool.example.net' }] }]);
  });

  it('a Bitcoin full node is crypto-p2p, not mining', () => {
    const r = cli(['scan', '-f', 'json', fixture('bitcoin-p2p.pcap')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject([{ src: '10.20.30.90', category: 'crypto-p2p', evidence: ['bitcoin-p2p'], coins: ['btc'] }]);
  });

  it('an opaque session is flagged only when its destination is blacklisted (--blacklist)', () => {
    const without = cli(['scan', '-f', 'json', fixture('blacklisted-tls.pcap')]);
    expect(without.code, without.stderr).toBe(0);
    expect(json(without.stdout)).toEqual([]);
    const withList = cli(['scan', '-f', 'json', '--blacklist', fixture('pools.txt'), fixture('blacklisted-tls.pcap')]);
    expect(withList.code, withList.stderr).toBe(0);
    expect(json(withList.stdout)).toMatchObject([{ src: '10.20.30.95', category: 'mining', evidence: ['blacklist-ip'], pools: [{ ip: '198.51.100.99', port: 5555 }], blacklistEntries: ['198.51.100.99:5555'] }]);
  });

  it('a blacklist hit and a protocol hit on the same flow both show as evidence', () => {
    const r = cli(['scan', '-f', 'json', '-b', fixture('pools.txt'), fixture('sample.pcap')]);
    expect(json(r.stdout).find((x) => x.src === '10.20.30.50')!.evidence).toEqual(['blacklist-ip', 'cryptonote']);
  });

  it('a 300,000-line list loads (no call-stack limit) and its broken lines are logged, capped', () => {
    const dir = tmp();
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++) lines.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    lines.push('198.51.100.99:5555');
    for (let i = 0; i < 50; i++) lines.push(`not-an-address-${i}`);
    writeFileSync(join(dir, 'big.txt'), lines.join('\n'));
    const r = cli(['scan', '-f', 'json', '-b', join(dir, 'big.txt'), fixture('blacklisted-tls.pcap')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject([{ src: '10.20.30.95', blacklistEntries: ['198.51.100.99:5555'] }]);
    const warnings = logLines(r.stderr).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(21);
    expect(warnings[0].msg).toContain('not-an-address-0');
    expect(warnings[20].msg).toContain('30 more problems not logged');
  });
});

describe('poolwatch scan: several inputs, databases and reports', () => {
  it('scans several files in one run and appends to a database across runs', () => {
    const db = join(tmp(), 'hits.db');
    const a = cli(['scan', '-q', '--db', db, fixture('stratum-btc.pcap'), fixture('xmrig-ipv6.pcapng')]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe('');
    const b = cli(['scan', '-q', '--db', db, fixture('stratum-btc.pcap')]);
    expect(b.code, b.stderr).toBe(0);
    const rep = cli(['report', '--db', db, '--format', 'json']);
    expect(rep.code, rep.stderr).toBe(0);
    const recs = json(rep.stdout);
    expect(recs.map((x) => x.src).sort()).toEqual(['10.20.30.40', '2001:db8:1::10']);
    const once = json(cli(['scan', '-f', 'json', fixture('stratum-btc.pcap')]).stdout)[0];
    const btc = recs.find((x) => x.src === '10.20.30.40')!;
    expect(btc.packets).toBe(2 * once.packets);
    expect(btc.flows).toBe(2);
    const run1 = json(cli(['report', '--db', db, '--format', 'json', '--run', '1']).stdout);
    expect(run1.find((x) => x.src === '10.20.30.40')!.packets).toBe(once.packets);
  });

  it('--workers 2 and 3 give the report one thread gives, from files, standard input and a database, with a damaged input', () => {
    const inputs = ['sample.pcap', 'stratum-btc.pcap', 'xmrig-ipv6.pcapng', 'ethproxy-vlan-ns.pcap', 'getwork-http.pcap', 'nicehash-pool-only-midstream.pcap', 'bitcoin-p2p.pcap', 'truncated.pcap'].map(fixture);
    const list = join(tmp(), 'list.txt');
    writeFileSync(list, '192.0.2.80\n');
    const run = (n: number) => {
      const db = join(tmp(), 'hits.db');
      const r = cli(['scan', '--workers', String(n), '--no-progress', '-f', 'json', '-b', list, '--db', db, ...inputs]);
      const fin = logLines(r.stderr).find((l) => l.msg === 'scan finished')!;
      return { code: r.code, recs: json(r.stdout), fin, stderr: r.stderr };
    };
    const one = run(1);
    expect(one.code, one.stderr).toBe(1); // truncated.pcap
    expect(one.recs.length).toBeGreaterThan(5);
    for (const n of [2, 3]) {
      const many = run(n);
      expect(many.code, many.stderr).toBe(1);
      expect(many.recs).toEqual(one.recs);
      for (const k of ['packets', 'ipPackets', 'flows', 'flaggedFlows', 'sourcesFlagged', 'damagedInputs']) expect(many.fin[k]).toEqual(one.fin[k]);
    }
    const piped = cli(['scan', '--workers', '2', '--no-progress', '-f', 'json', '-'], { input: readFileSync(fixture('sample.pcap')) });
    expect(piped.code, piped.stderr).toBe(0);
    expect(json(piped.stdout)).toEqual(json(cli(['scan', '--no-progress', '-f', 'json', '-'], { input: readFileSync(fixture('sample.pcap')) }).stdout));
  });

  it('prints CSV with a header and one line per source, and a table for people', () => {
    const csv = cli(['scan', '-f', 'csv', fixture('sample.pcap')]);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^src,category,evidence/);
    expect(lines).toHaveLength(4);
    const table = cli(['scan', fixture('sample.pcap')]);
    expect(table.stdout).toContain('10.20.30.40');
    expect(table.stdout).toContain('cryptonote');
    const empty = cli(['scan', fixture('blacklisted-tls.pcap')]);
    expect(empty.stdout.trim()).toBe('no mining activity found');
  });
});

describe('poolwatch scan: damaged input and errors', () => {
  it('a truncated capture: earlier packets are analysed and recorded, the error names file and offset, exit 1', () => {
    const db = join(tmp(), 'hits.db');
    const r = cli(['scan', '-f', 'json', '--db', db, fixture('truncated.pcap'), fixture('xmrig-ipv6.pcapng')]);
    expect(r.code).toBe(1);
    const err = logLines(r.stderr).find((l) => l.level === 50)!;
    expect(err.msg).toContain('truncated.pcap');
    expect(err.msg).toMatch(/offset \d+/);
    expect(err.code).toBe('PW_ERR_TRUNCATED');
    const srcs = json(r.stdout).map((x) => x.src).sort();
    // The damage comes after subscribe and authorize, and the next file is still read.
    expect(srcs).toEqual(['10.20.30.40', '2001:db8:1::10']);
    const rep = json(cli(['report', '--db', db, '-f', 'json']).stdout);
    expect(rep.find((x) => x.src === '10.20.30.40')!.logins).toEqual([`${BTC_WALLET}.rig1`]);
  });

  it('a missing file: one error line naming it, exit 2', () => {
    const r = cli(['scan', fixture('sample.pcap'), '/nonexistent/x.pcap']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).msg).toContain('/nonexistent/x.pcap');
  });

  it('an unusable database: one error line, exit 2', () => {
    const r = cli(['scan', '--db', '/nonexistent-dir/hits.db', fixture('sample.pcap')]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1)!).msg).toContain('/nonexistent-dir/hits.db');
    const rep = cli(['report', '--db', join(tmp(), 'missing.db')]);
    expect(rep.code).toBe(2);
  });

  it('not a capture at all: named as such, exit 1', () => {
    const r = cli(['scan', resolve(ROOT, 'package.json')]);
    expect(r.code).toBe(1);
    expect(logLines(r.stderr).find((l) => l.level === 50)!.code).toBe('PW_ERR_BAD_MAGIC');
  });

  it('usage errors exit 2; --help explains the exit codes', () => {
    expect(cli(['scan', '--format', 'xml', fixture('sample.pcap')]).code).toBe(2);
    expect(cli(['bogus']).code).toBe(2);
    const help = cli(['scan', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });
});

const SHARED = resolve(ROOT, '../shared/pcaps');
describe('real traffic from ../shared/pcaps', () => {
  const present = existsSync(SHARED);
  if (!present) console.warn(`skipping real-traffic scan: ${SHARED} is absent`);
  it.skipIf(!present)('produces no mining record from any of the clean captures', () => {
    const files = readdirSync(SHARED).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(SHARED, f));
    expect(files.length).toBeGreaterThan(10);
    const r = cli(['scan', '-f', 'json', ...files]);
    expect([0, 1]).toContain(r.code);
    expect(json(r.stdout)).toEqual([]);
    const summary = logLines(r.stderr).find((l) => l.msg === 'scan finished')!;
    expect(summary.ipPackets).toBeGreaterThan(1000);
  });
});

describe('poolwatch scan with the stored, versioned blacklist', () => {
  it('a hit names the version that held the entry; a later version does not rewrite it', () => {
    const db = join(tmp(), 'hits.db');
    const add = cli(['blacklist', 'add', '--db', db, '--label', 'test-pool', '198.51.100.99:5555']);
    expect(add.code, add.stderr).toBe(0);
    const first = cli(['scan', '-f', 'json', '--db', db, fixture('blacklisted-tls.pcap')]);
    expect(first.code, first.stderr).toBe(0);
    // Version 1 is the bootstrap from config/'s local lists, version 2 the hand edit.
    expect(json(first.stdout)).toMatchObject([{ src: '10.20.30.95', evidence: ['blacklist-ip'], blacklistEntries: ['198.51.100.99:5555'], blacklistVersions: [2] }]);
    expect(logLines(first.stderr).find((l) => l.msg === 'blacklist loaded')).toMatchObject({ version: 2 });

    expect(cli(['blacklist', 'add', '--db', db, '192.0.2.1']).code).toBe(0);
    const second = cli(['scan', '-q', '--db', db, fixture('blacklisted-tls.pcap')]);
    expect(second.code, second.stderr).toBe(0);
    const byRun = (run: number) => json(cli(['report', '--db', db, '-f', 'json', '--run', String(run)]).stdout);
    expect(byRun(1)[0].blacklistVersions).toEqual([2]);
    expect(byRun(2)[0].blacklistVersions).toEqual([3]);
  });

  it('removing the entry stops the flagging in the next scan', () => {
    const db = join(tmp(), 'hits.db');
    expect(cli(['blacklist', 'add', '--db', db, '198.51.100.99:5555']).code).toBe(0);
    expect(cli(['blacklist', 'remove', '--db', db, '198.51.100.99:5555']).code).toBe(0);
    const r = cli(['scan', '-f', 'json', '--db', db, fixture('blacklisted-tls.pcap')]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toEqual([]);
  });
});

describe('a reader that goes away', () => {
  it('poolwatch ... | head: no EPIPE crash, the run still ends normally', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [resolve(ROOT, 'bin/poolwatch.js'), 'scan', '-f', 'ndjson', fixture('sample.pcap')], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Close our end before the report is written, as `head -0` would.
    child.stdout.destroy();
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
    expect(logLines(stderr).find((l) => l.msg === 'scan finished')).toMatchObject({ sourcesFlagged: 3 });
  });
});

describe('poolwatch report sources: organisations', () => {
  it('names the organisation of each source by longest prefix, and "unknown" outside every range', () => {
    const dir = tmp();
    const db = join(dir, 'hits.db');
    writeFileSync(join(dir, 'orgs.yaml'), [
      'organisations:',
      '  - name: Example Residential', '    sector: residential', '    ranges: [10.20.0.0/16]',
      '  - name: Example School', '    sector: school', '    ranges: [10.20.30.32/28]',
    ].join('\n'));
    writeFileSync(join(dir, 'poolwatch.yaml'), 'organisations:\n  files: [orgs.yaml]\n');
    expect(cli(['scan', '-q', '--db', db, fixture('sample.pcap'), fixture('xmrig-ipv6.pcapng')]).code).toBe(0);
    const r = cli(['report', 'sources', '--db', db, '-c', join(dir, 'poolwatch.yaml'), '-f', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const org = Object.fromEntries(json(r.stdout).map((x) => [x.src, [x.org, x.orgSector]]));
    expect(org).toEqual({
      '10.20.30.40': ['Example School', 'school'], // inside the /28: the longer prefix wins
      '10.20.30.50': ['Example Residential', 'residential'],
      '10.20.30.60': ['Example Residential', 'residential'],
      '2001:db8:1::10': ['unknown', null],
    });
  });
});
