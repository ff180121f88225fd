import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/report/db.js';
import { finishRun, HitSink, startRun } from '../src/report/sink.js';
import { setCaseState, CaseTracker } from '../src/report/cases.js';
import { canonicalAddress, formatOrgs, loadOrgFiles, loadOrgMap, OrgMap, parseOrgCsv, parseOrgYaml, queryOrgs, UNKNOWN_ORG, type Organisation } from '../src/report/orgs.js';
import { cli, ROOT } from './helpers/cli.js';
import { hit, SEC, T0 } from './helpers/hits.js';
import { writeConfig } from './helpers/follow-up.js';
import { caught } from './helpers/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-orgs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const org = (name: string, sector: string | null = null, contact: string | null = null): Organisation => ({ name, sector, contact });

describe('OrgMap: longest prefix wins', () => {
  it('IPv4: nested ranges, host routes, the edges of each range, outside every range', () => {
    const m = new OrgMap();
    m.add('10.0.0.0/8', org('Residential', 'residential'));
    m.add('10.1.0.0/16', org('Ministry', 'government', 'noc@ministry.example'));
    m.add('10.1.2.0/24', org('School', 'school'));
    m.add('10.1.2.7', org('Cafe', 'internet-cafe'));
    m.add('0.0.0.0/0', org('Everyone else'));
    expect(m.size).toBe(5);
    const name = (ip: string) => m.lookup(ip)?.name ?? null;
    expect(name('10.200.0.1')).toBe('Residential');
    expect(name('10.1.0.0')).toBe('Ministry');
    expect(name('10.1.255.255')).toBe('Ministry');
    expect(name('10.1.1.255')).toBe('Ministry');
    expect(name('10.1.2.0')).toBe('School');
    expect(name('10.1.2.6')).toBe('School');
    expect(name('10.1.2.7')).toBe('Cafe');
    expect(name('10.1.2.8')).toBe('School');
    expect(name('10.1.3.0')).toBe('Ministry');
    expect(name('11.0.0.0')).toBe('Everyone else');
    expect(name('9.255.255.255')).toBe('Everyone else');
    expect(m.lookup('10.1.0.1')).toEqual({ name: 'Ministry', sector: 'government', contact: 'noc@ministry.example' });
    expect(m.match('10.1.2.9')).toEqual({ org: org('School', 'school'), range: '10.1.2.0/24' });
    // addresses above 128.0.0.0 (signed words inside the table)
    m.add('200.1.0.0/16', org('High'));
    expect(name('200.1.255.1')).toBe('High');
    expect(name('200.2.0.1')).toBe('Everyone else');
  });

  it('IPv6: nested ranges across word boundaries, every spelling of an address, IPv4-mapped addresses', () => {
    const m = new OrgMap();
    m.add('2001:db8::/32', org('Residential v6', 'residential'));
    m.add('2001:db8:100::/48', org('Ministry', 'government'));
    m.add('2001:db8:100:7::/64', org('School', 'school'));
    m.add('2001:db8:100:7::42/128', org('Lab PC'));
    m.add('2001:db8:100:7:8000::/65', org('Upper half'));
    m.add('192.0.2.0/24', org('v4 net'));
    const name = (ip: string) => m.lookup(ip)?.name ?? null;
    expect(name('2001:db8:ffff::1')).toBe('Residential v6');
    expect(name('2001:db8:100::1')).toBe('Ministry');
    expect(name('2001:db8:100:6:ffff:ffff:ffff:ffff')).toBe('Ministry');
    expect(name('2001:db8:100:7::1')).toBe('School');
    expect(name('2001:DB8:100:7:0:0:0:42')).toBe('Lab PC');
    expect(name('2001:0db8:0100:0007:0000:0000:0000:0042')).toBe('Lab PC');
    expect(name('2001:db8:100:7:7fff:ffff:ffff:ffff')).toBe('School');
    expect(name('2001:db8:100:7:8000::1')).toBe('Upper half');
    expect(name('2001:db9::1')).toBeNull();
    expect(name('::ffff:192.0.2.9')).toBe('v4 net'); // an IPv4 address in IPv6 spelling
    expect(name('192.0.2.9')).toBe('v4 net');
    expect(name('2001:db8:100:7::42%eth0')).toBeNull(); // zone ids are not addresses
  });

  it('IPv4 and IPv6 live side by side; not-addresses and an empty map answer null', () => {
    const empty = new OrgMap();
    expect(empty.size).toBe(0);
    expect(empty.lookup('10.0.0.1')).toBeNull();
    const m = new OrgMap();
    m.add('::/0', org('All v6'));
    m.add('0.0.0.0/0', org('All v4'));
    expect(m.lookup('8.8.8.8')?.name).toBe('All v4');
    expect(m.lookup('2606:4700::1')?.name).toBe('All v6');
    for (const bad of ['', 'x', '10.0.0', '10.0.0.256', '1.2.3.4.5', '::g', 'pool.example']) expect(m.lookup(bad)).toBeNull();
  });

  it('one name is one organisation, and must keep its sector and contact', () => {
    const m = new OrgMap();
    m.add('10.0.0.0/24', org('School', 'school', 'head@school.example'), 'a.yaml, line 3');
    m.add('2001:db8::/48', org('School', 'school', 'head@school.example'), 'a.yaml, line 4');
    expect(m.lookup('10.0.0.1')).toBe(m.lookup('2001:db8::1'));
    expect(m.organisations()).toEqual([org('School', 'school', 'head@school.example')]);
    const e = caught(() => m.add('10.0.1.0/24', org('School', 'government', 'head@school.example'), 'b.csv, line 9'));
    expect(e.code).toBe('PW_ERR_USAGE');
    expect(e.message).toBe('b.csv, line 9: organisation "School" has another sector or contact here than at a.yaml, line 3');
  });

  it('refuses what would attribute wrongly: bad ranges, ports, host bits, duplicates, the reserved name', () => {
    const m = new OrgMap();
    m.add('10.0.0.0/24', org('A'), 'orgs.csv, line 2');
    const msg = (range: string, o = org('B')) => caught(() => m.add(range, o, 'orgs.csv, line 5')).message;
    expect(msg('10.0.0.0/24')).toBe('orgs.csv, line 5: range 10.0.0.0/24 is already defined (orgs.csv, line 2)');
    expect(msg('10.0.0.1/24')).toBe('orgs.csv, line 5: host bits set in "10.0.0.1/24": did you mean 10.0.0.0/24?');
    expect(msg('10.0.1.0/24:3333')).toMatch(/has no port/);
    expect(msg('[2001:db8::/32]:3333')).toMatch(/has no port/);
    expect(msg('10.0.1.0/33')).toMatch(/longer than 32 bits/);
    expect(msg('school.example')).toMatch(/not an IPv4 address/);
    expect(msg('')).toMatch(/empty address range/);
    expect(msg('10.0.2.0/24', org('Unknown'))).toMatch(/reserved/);
    expect(m.size).toBe(1);
  });

  it('canonicalAddress spells addresses as the hits table does', () => {
    expect(canonicalAddress('2001:DB8:0:0::0001')).toBe('2001:db8::1');
    expect(canonicalAddress(' 10.0.0.1 ')).toBe('10.0.0.1');
    expect(canonicalAddress('::FFFF:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(canonicalAddress('010.0.0.1')).toBeNull();
    expect(canonicalAddress('nope')).toBeNull();
  });
});

describe('organisation files', () => {
  it('YAML: a list or a mapping, ranges as a list or one string, optional sector and contact', () => {
    const m = new OrgMap();
    parseOrgYaml(
      `organisations:
  - name: Ministry
    sector: government
    contact: noc@ministry.example
    ranges: [192.0.2.0/26, "2001:db8:100::/48"]
  - name: Cafe
    ranges: 192.0.2.160/29
`,
      'orgs.yaml',
      m,
    );
    parseOrgYaml(`- name: Home\n  sector: residential\n  ranges:\n    - 198.51.100.0/24\n`, 'more.yaml', m);
    parseOrgYaml('', 'empty.yaml', m);
    parseOrgYaml('organisations:\n', 'none.yaml', m);
    expect(m.size).toBe(4);
    expect(m.lookup('192.0.2.1')).toEqual(org('Ministry', 'government', 'noc@ministry.example'));
    expect(m.lookup('2001:db8:100::9')?.name).toBe('Ministry');
    expect(m.lookup('192.0.2.161')).toEqual(org('Cafe'));
    expect(m.lookup('198.51.100.200')).toEqual(org('Home', 'residential'));
  });

  it('YAML errors name the file and the line', () => {
    const err = (text: string) => caught(() => parseOrgYaml(text, 'orgs.yaml', new OrgMap()));
    let e = err(`organisations:\n  - name: A\n    ranges:\n      - 10.0.0.0/24\n      - 10.0.1.1/24\n`);
    expect(e.message).toBe('orgs.yaml, line 5: host bits set in "10.0.1.1/24": did you mean 10.0.1.0/24?');
    e = err(`organisations:\n  - name: A\n    contcat: x\n    ranges: [10.0.0.0/24]\n`);
    expect(e.message).toBe('orgs.yaml, line 3: unknown key "contcat" (want name, sector, contact, ranges)');
    e = err(`organisations:\n  - name: A\n    ranges: []\n`);
    expect(e.message).toBe('orgs.yaml, line 2: organisation "A" has no ranges (a list of addresses or networks)');
    e = err(`organisations:\n  - sector: school\n    ranges: [10.0.0.0/24]\n`);
    expect(e.message).toMatch(/^orgs.yaml, line 2: the organisation has no name/);
    e = err(`organisations:\n  - name: A\n    contact: 6620000000\n    ranges: [10.0.0.0/24]\n`);
    expect(e.message).toBe('orgs.yaml, line 3: contact must be text (quote it)');
    e = err(`organisations: [\n`);
    expect(e.message).toMatch(/^orgs.yaml, line \d+: not valid YAML/);
    e = err(`orgs:\n  - name: A\n`);
    expect(e.message).toMatch(/single key organisations/);
    expect(e.code).toBe('PW_ERR_USAGE');
  });

  it('CSV: columns by header in any order, quoted commas, comments, rows of one organisation', () => {
    const m = new OrgMap();
    parseOrgCsv(
      `# a comment\r\nContact,Name,CIDR,Sector,extra\r\n"noc@ministry.example, +66 2 000 0000",Ministry,192.0.2.0/26,government,x\r\n"noc@ministry.example, +66 2 000 0000",Ministry,2001:db8:100::/48,government,y\r\n,Home,198.51.100.0/24,,\r\n\r\n`,
      'orgs.csv',
      m,
    );
    expect(m.size).toBe(3);
    expect(m.lookup('2001:db8:100::1')).toEqual(org('Ministry', 'government', 'noc@ministry.example, +66 2 000 0000'));
    expect(m.lookup('198.51.100.1')).toEqual(org('Home'));
  });

  it('CSV errors name the file and the line', () => {
    const err = (text: string) => caught(() => parseOrgCsv(text, 'orgs.csv', new OrgMap())).message;
    expect(err('name,sector\nA,school\n')).toBe('orgs.csv, line 1: the header has no range column (one of range, cidr, network, prefix, address, ip)');
    expect(err('range,cidr,name\n')).toBe('orgs.csv, line 1: the header names the range twice');
    expect(err('range,name\n10.0.0.0/24,A\n10.0.0.0/24,B\n')).toBe('orgs.csv, line 3: range 10.0.0.0/24 is already defined (orgs.csv, line 2)');
    expect(err('range,name\n10.0.0.0/24,\n')).toBe('orgs.csv, line 2: the row has no organisation name');
    expect(err('range,name\n10.0.0.0/24,"A\n')).toMatch(/^orgs.csv, line 2: a quoted field never closes/);
    expect(err('range,name,sector\n10.0.0.0/24,A,school\n10.0.1.0/24,A,government\n')).toMatch(/^orgs.csv, line 3: organisation "A" has another sector/);
  });

  it('the shipped examples load, agree with each other, cover every sector in IPv4 and IPv6, and use documentation ranges only', () => {
    const yaml = loadOrgFiles([join(ROOT, 'config/orgs.example.yaml')]);
    const csv = loadOrgFiles([join(ROOT, 'config/orgs.example.csv')]);
    expect(yaml.size).toBe(12);
    expect(csv.organisations()).toEqual(yaml.organisations());
    expect(new Set(yaml.organisations().map((o) => o.sector))).toEqual(new Set(['government', 'state-enterprise', 'school', 'internet-cafe', 'residential', 'business']));
    const probes = ['192.0.2.1', '192.0.2.70', '192.0.2.130', '192.0.2.161', '198.51.100.1', '198.51.100.130', '198.51.100.200',
      '2001:db8:100::1', '2001:db8:200::1', '2001:db8:300::1', '2001:db8:400::1', '2001:db8:1000::1', '2001:db8:1000:100::1', '2001:db8:1000:200::1', '203.0.113.1', '10.0.0.1'];
    for (const ip of probes) expect(csv.lookup(ip), ip).toEqual(yaml.lookup(ip));
    // longest prefix: the business /28 inside the residential /24, and its /56 inside the /36
    expect(yaml.lookup('198.51.100.130')?.sector).toBe('business');
    expect(yaml.lookup('198.51.100.200')?.sector).toBe('residential');
    expect(yaml.lookup('2001:db8:1000:100::1')?.sector).toBe('business');
    expect(yaml.lookup('2001:db8:1000:200::1')?.sector).toBe('residential');
    expect(yaml.lookup('10.0.0.1')).toBeNull();
  });

  it('loadOrgMap reads config.organisations.files (relative to the configuration), YAML and CSV by extension; none → empty map', () => {
    writeFileSync(join(dir, 'a.yaml'), 'organisations:\n  - name: A\n    ranges: [10.0.0.0/8]\n');
    writeFileSync(join(dir, 'b.csv'), 'range,name\n10.1.0.0/16,B\n');
    const path = join(dir, 'pw.yaml');
    writeFileSync(path, 'organisations:\n  files: [a.yaml, b.csv]\n');
    const config = loadConfig(path);
    expect(config.organisations.files).toEqual([join(dir, 'a.yaml'), join(dir, 'b.csv')]);
    const m = loadOrgMap(config);
    expect(m.lookup('10.1.0.1')?.name).toBe('B');
    expect(m.lookup('10.2.0.1')?.name).toBe('A');

    writeFileSync(path, 'poolPorts: [3333]\n');
    expect(loadOrgMap(loadConfig(path)).size).toBe(0);
    for (const [text, re] of [
      ['organisations:\n  files: [orgs.txt]\n', /organisations.files must be a list of .yaml, .yml or .csv files/],
      ['organisations:\n  file: [a.yaml]\n', /organisations.file must be files/],
      ['organisations: [a.yaml]\n', /organisations must be a mapping/],
    ] as const) {
      writeFileSync(path, text);
      expect(() => loadConfig(path)).toThrow(re);
    }
    writeFileSync(path, 'organisations:\n  files: [missing.yaml]\n');
    expect(caught(() => loadOrgMap(loadConfig(path))).code).toBe('PW_ERR_IO');
  });
});

describe('report orgs', () => {
  function fill(path: string) {
    writeFileSync(join(dir, 'orgs.csv'), 'range,name,sector,contact\n10.0.0.0/24,School,school,head@school.example\n2001:db8::/32,School,school,head@school.example\n10.0.1.0/24,Cafe,internet-cafe,\n');
    const db = openDatabase(path);
    const run = startRun(db, { command: 'test', inputs: [] });
    const tracker = new CaseTracker(db, { orgs: loadOrgFiles([join(dir, 'orgs.csv')]) });
    const sink = new HitSink(db, run, { onBatch: tracker.onBatch });
    sink.add(hit({ src: '10.0.0.2', coin: 'btc', bytesUp: 1000, bytesDown: 0, firstSeen: T0, lastSeen: T0 + 10 * SEC }));
    sink.add(hit({ src: '2001:db8::7', poolIp: '203.0.113.9', poolPort: 4444, coin: 'xmr', bytesUp: 500, bytesDown: 0, firstSeen: T0 + 5 * SEC, lastSeen: T0 + 20 * SEC }));
    sink.add(hit({ src: '10.0.1.5', category: 'crypto-p2p', evidence: ['bitcoin-p2p'], poolPort: 8333, bytesUp: 100, bytesDown: 0, firstSeen: T0 + 3600 * SEC, lastSeen: T0 + 3601 * SEC }));
    sink.add(hit({ src: '172.16.0.1', bytesUp: 50, bytesDown: 0, firstSeen: T0, lastSeen: T0 + SEC }));
    sink.flush();
    finishRun(db, run, { packets: 0, bytes: 0, flows: 4, damaged: 0, status: 'ok' });
    setCaseState(db, '172.16.0.1', 'cleared', { by: 'test' });
    db.close();
    return join(dir, 'orgs.csv');
  }

  it('groups sources by organisation, "unknown" outside every range; counts open cases; filters like report', () => {
    const path = join(dir, 'hits.db');
    const orgFile = fill(path);
    const db = openDatabase(path, { readonly: true });
    const orgs = loadOrgFiles([orgFile]);
    const all = queryOrgs(db, orgs);
    expect(all).toMatchObject([
      {
        org: 'School', sector: 'school', contact: 'head@school.example', sources: ['10.0.0.2', '2001:db8::7'], openCases: 2, mining: 2, cryptoP2p: 0, suspect: 0,
        coins: ['btc', 'xmr'], pools: ['203.0.113.5:3333', '203.0.113.9:4444'], flows: 2, packets: 4, bytes: 1500,
        firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:00:20.000Z',
      },
      {
        org: 'Cafe', sector: 'internet-cafe', contact: null, sources: ['10.0.1.5'], openCases: 0, mining: 0, cryptoP2p: 1, suspect: 0,
        coins: [], pools: ['203.0.113.5:8333'], flows: 1, packets: 2, bytes: 100,
        firstSeen: '2024-05-01T13:00:00.000Z', lastSeen: '2024-05-01T13:00:01.000Z',
      },
      {
        org: UNKNOWN_ORG, sector: null, contact: null, sources: ['172.16.0.1'], openCases: 0, mining: 1, cryptoP2p: 0, suspect: 0,
        coins: [], pools: ['203.0.113.5:3333'], flows: 1, packets: 2, bytes: 50,
        firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:00:01.000Z',
      },
    ]);
    // Traffic: the rows' bytes spread over their intervals, inside the window the rows span
    // (12:00:00 to 13:00:01); all of School's 1,500 bytes fall in the 12:00 hour.
    expect(all[0]!.averageBps).toBeCloseTo((1500 * 8) / 3601, 3);
    expect(all[0]!.peakHourBps).toBeCloseTo((1500 * 8) / 3600, 3);
    expect(all.map((r) => r.hashrateMethods.shares + r.hashrateMethods.reported + r.hashrateMethods.none)).toEqual([2, 1, 1]);
    expect(queryOrgs(db, orgs, { category: 'mining' }).map((r) => r.org)).toEqual(['School', UNKNOWN_ORG]);
    expect(queryOrgs(db, orgs, { since: new Date(Date.UTC(2024, 4, 1, 12, 30)) }).map((r) => r.org)).toEqual(['Cafe']);
    expect(queryOrgs(db, orgs, { until: new Date(Date.UTC(2024, 4, 1, 12, 0, 4)) }).map((r) => [r.org, r.sources])).toEqual([
      ['School', ['10.0.0.2']],
      [UNKNOWN_ORG, ['172.16.0.1']],
    ]);
    // without organisations, everything is unknown
    expect(queryOrgs(db, new OrgMap()).map((r) => [r.org, r.sources.length])).toEqual([[UNKNOWN_ORG, 4]]);

    const csv = formatOrgs(all, 'csv').split('\r\n');
    expect(csv[0]).toBe('org,sector,contact,sources,openCases,mining,cryptoP2p,suspect,coins,pools,flows,packets,bytes,firstSeen,lastSeen,hashrate,averageBps,peakHourBps');
    expect(csv[1]).toBe(`School,school,head@school.example,"10.0.0.2;2001:db8::7",2,2,0,0,"btc;xmr","203.0.113.5:3333;203.0.113.9:4444",2,4,1500,2024-05-01T12:00:00.000Z,2024-05-01T12:00:20.000Z,${all[0]!.hashrate},3,3`);
    expect(formatOrgs(all, 'ndjson').split('\n').map((l) => JSON.parse(l).org)).toEqual(['School', 'Cafe', UNKNOWN_ORG]);
    expect(JSON.parse(formatOrgs(all, 'json'))).toEqual(all);
    const table = formatOrgs(all, 'table').split('\n');
    expect(table[0]).toMatch(/^ORGANISATION +SECTOR +CONTACT +SOURCES +OPEN CASES +ADDRESSES +COINS +POOLS +FLOWS +BYTES +FIRST SEEN +LAST SEEN +HASH RATE +AVG +PEAK HOUR$/);
    expect(table[1]).toMatch(/^School +school +head@school.example +2 +2 +10.0.0.2,2001:db8::7 +btc,xmr /);
    expect(formatOrgs([], 'table')).toBe('no flagged sources');
    expect(formatOrgs([], 'ndjson')).toBe('');
    db.close();
  });

  it('poolwatch report orgs (built CLI): formats, options before and after "orgs", --since, a missing --db', () => {
    const path = join(dir, 'hits.db');
    const orgFile = fill(path);
    const config = writeConfig(dir, { orgFiles: [orgFile] });
    const r = cli(['report', 'orgs', '--db', path, '-c', config, '-f', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { org: string }[]).map((o) => o.org)).toEqual(['School', 'Cafe', UNKNOWN_ORG]);
    const before = cli(['report', '--db', path, '-f', 'csv', 'orgs', '-c', config, '--since', '2024-05-01T12:30:00Z']);
    expect(before.code).toBe(0);
    expect(before.stdout.trimEnd().split('\r\n').map((l) => l.split(',')[0])).toEqual(['org', 'Cafe']);
    const table = cli(['report', 'orgs', '--db', path, '-c', config, '--category', 'mining']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[1]).toMatch(/^School +school/);
    expect(table.stdout).not.toMatch(/Cafe/);
    const noDb = cli(['report', 'orgs', '-c', config]);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/--db/);
  });
});
