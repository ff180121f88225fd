import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/report/db.js';
import { formatSources } from '../src/report/format.js';
import { querySources, type SourceRecord } from '../src/report/query.js';
import { HitSink, startRun } from '../src/report/sink.js';
import { hit, SEC, T0 } from './helpers/hits.js';



/** Run 1: three sources; run 2: one more hit for 10.0.0.2 and a p2p-only source. */
function fixture(): Database {
  const db = openDatabase(':memory:');
  const run1 = startRun(db, { command: 'scan a.pcap', inputs: ['a.pcap'] });
  const s1 = new HitSink(db, run1, { batchSize: 2 });
  // 10.0.0.2: stratum to a BTC pool (two flows) plus an EthProxy pool found by blacklist.
  s1.add(hit({
    coin: 'btc', login: 'bc1qwallet', worker: 'rig1', agent: 'cgminer/4.10', algo: 'sha256d', poolHost: 'btc.pool.example',
    difficulty: 512, sharesSubmitted: 10, sharesAccepted: 9, sharesRejected: 1, firstSeen: T0 + 10 * SEC, lastSeen: T0 + 20 * SEC,
    packetsUp: 10, bytesUp: 1000, packetsDown: 12, bytesDown: 3000,
  }));
  s1.add(hit({
    difficulty: 1024, firstSeen: T0 + 30 * SEC, lastSeen: T0 + 40 * SEC, packetsUp: 2, bytesUp: 200, packetsDown: 3, bytesDown: 300,
  }));
  s1.add(hit({
    poolIp: '198.51.100.7', poolPort: 8008, evidence: ['ethproxy', 'blacklist-ip'], blacklistEntry: '198.51.100.0/24', blacklistVersion: 7,
    coin: 'eth', login: '0xabc', algo: 'ethash', reportedHashrate: 3.5e7, firstSeen: T0 + 5 * SEC, lastSeen: T0 + 15 * SEC,
    packetsUp: 5, bytesUp: 500, packetsDown: 5, bytesDown: 500,
  }));
  // 10.0.0.10: same bytes as 10.0.0.9 → sorted by address numerically (9 before 10).
  s1.add(hit({ src: '10.0.0.10', evidence: ['cryptonote'], coin: 'xmr', login: '4Adwallet', agent: 'XMRig/6.21.0', algo: 'rx/0', packetsUp: 1, bytesUp: 100, packetsDown: 1, bytesDown: 100 }));
  s1.add(hit({ src: '10.0.0.9', poolIp: '2001:db8::10', poolPort: 443, evidence: ['stratum'], packetsUp: 1, bytesUp: 150, packetsDown: 1, bytesDown: 50 }));
  s1.flush();

  const run2 = startRun(db, { command: 'scan b.pcap', inputs: ['b.pcap'] });
  const s2 = new HitSink(db, run2);
  s2.add(hit({
    input: 'b.pcap', login: 'bc1qother', difficulty: 4096, sharesSubmitted: 1, sharesAccepted: 1,
    firstSeen: T0 + 3600 * SEC, lastSeen: T0 + 3700 * SEC, packetsUp: 1, bytesUp: 10, packetsDown: 1, bytesDown: 10,
  }));
  s2.add(hit({
    src: '2001:db8::1', poolIp: '192.0.2.33', poolPort: 8333, category: 'crypto-p2p', evidence: ['bitcoin-p2p'], input: 'b.pcap',
    firstSeen: T0 + 3600 * SEC, lastSeen: T0 + 3601 * SEC, packetsUp: 3, bytesUp: 30, packetsDown: 3, bytesDown: 30,
  }));
  s2.flush();
  return db;
}

const SRC_2_ALL: SourceRecord = {
  src: '10.0.0.2',
  category: 'mining',
  evidence: ['blacklist-ip', 'ethproxy', 'stratum'],
  pools: [
    { ip: '198.51.100.7', port: 8008 },
    { ip: '203.0.113.5', port: 3333, host: 'btc.pool.example' },
  ],
  coins: ['btc', 'eth'],
  logins: ['0xabc', 'bc1qother', 'bc1qwallet'],
  workers: ['rig1'],
  agents: ['cgminer/4.10'],
  algos: ['ethash', 'sha256d'],
  flows: 4,
  packets: 10 + 12 + 2 + 3 + 5 + 5 + 1 + 1,
  bytes: 1000 + 3000 + 200 + 300 + 500 + 500 + 10 + 10,
  bytesUp: 1000 + 200 + 500 + 10,
  bytesDown: 3000 + 300 + 500 + 10,
  sharesSubmitted: 11,
  sharesAccepted: 10,
  sharesRejected: 1,
  difficulty: 4096,
  reportedHashrate: 3.5e7,
  blacklistEntries: ['198.51.100.0/24'],
  blacklistVersions: [7],
  firstSeen: '2024-05-01T12:00:05.000Z',
  lastSeen: '2024-05-01T13:01:40.000Z',
  inputs: ['a.pcap', 'b.pcap'],
  natOutside: [],
  scaled: false,
  samplingRates: [1],
};

const SRC_9: SourceRecord = {
  src: '10.0.0.9',
  category: 'mining',
  evidence: ['stratum'],
  pools: [{ ip: '2001:db8::10', port: 443 }],
  coins: [],
  logins: [],
  workers: [],
  agents: [],
  algos: [],
  flows: 1,
  packets: 2,
  bytes: 200,
  bytesUp: 150,
  bytesDown: 50,
  sharesSubmitted: 0,
  sharesAccepted: 0,
  sharesRejected: 0,
  difficulty: null,
  reportedHashrate: null,
  blacklistEntries: [],
  blacklistVersions: [],
  firstSeen: '2024-05-01T12:00:00.000Z',
  lastSeen: '2024-05-01T12:00:01.000Z',
  inputs: ['a.pcap'],
  natOutside: [],
  scaled: false,
  samplingRates: [1],
};

const SRC_10: SourceRecord = {
  ...SRC_9,
  src: '10.0.0.10',
  evidence: ['cryptonote'],
  pools: [{ ip: '203.0.113.5', port: 3333 }],
  coins: ['xmr'],
  logins: ['4Adwallet'],
  agents: ['XMRig/6.21.0'],
  algos: ['rx/0'],
  bytesUp: 100,
  bytesDown: 100,
};

const SRC_V6: SourceRecord = {
  ...SRC_9,
  src: '2001:db8::1',
  category: 'crypto-p2p',
  evidence: ['bitcoin-p2p'],
  pools: [{ ip: '192.0.2.33', port: 8333 }],
  packets: 6,
  bytes: 60,
  bytesUp: 30,
  bytesDown: 30,
  firstSeen: '2024-05-01T13:00:00.000Z',
  lastSeen: '2024-05-01T13:00:01.000Z',
  inputs: ['b.pcap'],
};

describe('querySources', () => {
  it('aggregates per source over all runs, sorted by bytes desc then address', () => {
    const db = fixture();
    const got = querySources(db);
    expect(got).toStrictEqual([SRC_2_ALL, SRC_9, SRC_10, SRC_V6]);
    // Key order is part of the JSON contract.
    expect(Object.keys(got[0]!)).toEqual(Object.keys(SRC_2_ALL));
    db.close();
  });

  it('runId keeps only that run', () => {
    const db = fixture();
    const run1 = querySources(db, { runId: 1 });
    expect(run1.map((r) => r.src)).toEqual(['10.0.0.2', '10.0.0.9', '10.0.0.10']);
    expect(run1[0]).toMatchObject({
      logins: ['0xabc', 'bc1qwallet'], flows: 3, bytes: 5500, difficulty: 1024, inputs: ['a.pcap'],
      lastSeen: '2024-05-01T12:00:40.000Z', sharesSubmitted: 10,
    });
    expect(querySources(db, { runId: 2 }).map((r) => [r.src, r.category, r.flows])).toEqual([
      ['2001:db8::1', 'crypto-p2p', 1],
      ['10.0.0.2', 'mining', 1],
    ]);
    expect(querySources(db, { runId: 3 })).toEqual([]);
    db.close();
  });

  it('filters by category and time', () => {
    const db = fixture();
    expect(querySources(db, { category: 'crypto-p2p' }).map((r) => r.src)).toEqual(['2001:db8::1']);
    expect(querySources(db, { category: 'mining' }).map((r) => r.src)).toEqual(['10.0.0.2', '10.0.0.9', '10.0.0.10']);
    const since = new Date('2024-05-01T12:30:00Z');
    expect(querySources(db, { since }).map((r) => [r.src, r.flows])).toEqual([['2001:db8::1', 1], ['10.0.0.2', 1]]);
    const until = new Date('2024-05-01T12:00:04Z');
    expect(querySources(db, { until }).map((r) => r.src)).toEqual(['10.0.0.9', '10.0.0.10']);
    expect(() => querySources(db, { category: 'nope' })).toThrow(expect.objectContaining({ code: 'PW_ERR_USAGE' }));
    db.close();
  });

  it('an empty database gives no records', () => {
    const db = openDatabase(':memory:');
    expect(querySources(db)).toEqual([]);
    db.close();
  });
});

/** A small RFC 4180 reader: quoted fields with "" escapes, commas and line breaks; CRLF records. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      expect(c).not.toBe('"'); // a bare quote inside an unquoted field is not RFC 4180
      expect(c).not.toBe('\n');
      field += c;
      i++;
    }
  }
  expect(quoted).toBe(false);
  row.push(field);
  out.push(row);
  return out;
}

const HEADER = [
  'src', 'category', 'evidence', 'pools', 'poolHosts', 'coins', 'logins', 'workers', 'agents', 'algos', 'flows', 'packets',
  'bytes', 'bytesUp', 'bytesDown', 'sharesSubmitted', 'sharesAccepted', 'sharesRejected', 'difficulty', 'reportedHashrate',
  'blacklistEntries', 'blacklistVersions', 'firstSeen', 'lastSeen', 'inputs', 'natOutside', 'scaled', 'samplingRates',
];

/** Two records with hostile strings from the wire. */
const NASTY: SourceRecord[] = [
  {
    ...SRC_2_ALL,
    logins: ['=HYPERLINK("http://evil.example","x")', 'a,b', 'say "hi"', 'two\nlines'],
    agents: ['@SUM(1)'],
    workers: ['-rig', '+rig'],
  },
  { ...SRC_V6, pools: [{ ip: '2001:db8::10', port: 443, host: 'v6.pool' }, { ip: '192.0.2.33', port: 8333 }] },
];

describe('formatSources', () => {
  it('json: a pretty array that parses back to the records', () => {
    const db = fixture();
    const records = querySources(db);
    const text = formatSources(records, 'json');
    expect(JSON.parse(text)).toStrictEqual(records);
    expect(text.startsWith('[\n  {\n    "src": "10.0.0.2",\n    "category": "mining",')).toBe(true);
    expect(formatSources([], 'json')).toBe('[]');
    db.close();
  });

  it('ndjson: one object per line', () => {
    const records = [SRC_9, SRC_V6];
    const text = formatSources(records, 'ndjson');
    expect(text.split('\n').map((l) => JSON.parse(l))).toStrictEqual(records);
    expect(formatSources([], 'ndjson')).toBe('');
  });

  it('csv: exact fields, parsed back by an RFC 4180 reader', () => {
    const text = formatSources(NASTY, 'csv');
    const rows = parseCsv(text);
    expect(rows).toEqual([
      HEADER,
      [
        '10.0.0.2', 'mining', 'blacklist-ip;ethproxy;stratum', '198.51.100.7:8008;203.0.113.5:3333', 'btc.pool.example',
        'btc;eth', `'=HYPERLINK("http://evil.example","x");a,b;say "hi";two\nlines`, `'-rig;+rig`, `'@SUM(1)`, 'ethash;sha256d',
        '4', '39', '5520', '1710', '3810', '11', '10', '1', '4096', '35000000', '198.51.100.0/24', '7',
        '2024-05-01T12:00:05.000Z', '2024-05-01T13:01:40.000Z', 'a.pcap;b.pcap', '', 'false', '1',
      ],
      [
        '2001:db8::1', 'crypto-p2p', 'bitcoin-p2p', '[2001:db8::10]:443;192.0.2.33:8333', 'v6.pool', '', '', '', '', '',
        '1', '6', '60', '30', '30', '0', '0', '0', '', '', '', '', '2024-05-01T13:00:00.000Z', '2024-05-01T13:00:01.000Z', 'b.pcap', '', 'false', '1',
      ],
    ]);
    // Quoting is exactly where it is needed.
    expect(text.split('\r\n')[0]).toBe(HEADER.join(','));
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"");a,b;say ""hi"";two\nlines",`);
    expect(text).toContain(`,'@SUM(1),`);
    expect(text.endsWith('b.pcap,,false,1')).toBe(true);
    expect(formatSources([], 'csv')).toBe(HEADER.join(','));
  });

  it('table: aligned columns, exact', () => {
    const db = fixture();
    const text = formatSources(querySources(db, { runId: 1 }), 'table');
    expect(text.split('\n')).toEqual([
      'SRC        CATEGORY  EVIDENCE                       POOLS                                                  COINS    LOGINS            FLOWS  PACKETS    BYTES  FIRST SEEN            LAST SEEN',
      '10.0.0.2   mining    blacklist-ip,ethproxy,stratum  198.51.100.7:8008,203.0.113.5:3333 (btc.pool.example)  btc,eth  0xabc,bc1qwallet      3       37  5.4 KiB  2024-05-01 12:00:05Z  2024-05-01 12:00:40Z',
      '10.0.0.9   mining    stratum                        [2001:db8::10]:443                                     -        -                     1        2    200 B  2024-05-01 12:00:00Z  2024-05-01 12:00:01Z',
      '10.0.0.10  mining    cryptonote                     203.0.113.5:3333                                       xmr      4Adwallet             1        2    200 B  2024-05-01 12:00:00Z  2024-05-01 12:00:01Z',
    ]);
    expect(formatSources([], 'table')).toBe('no mining activity found');
    db.close();
  });

  it('table: control and bidi characters from the wire are stripped, long cells cut', () => {
    const rec: SourceRecord = {
      ...SRC_9,
      logins: ['evil\u001b[31mred\u0007', 'rtl\u202etxt', 'x'.repeat(80)],
      coins: ['x\u009bmr'],
    };
    const text = formatSources([rec], 'table');
    // Only the table's own line breaks remain.
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    const row = text.split('\n')[1]!;
    expect(row).toContain('xmr');
    expect(row).toContain(`evil[31mred,rtltxt,${'x'.repeat(60 - 'evil[31mred,rtltxt,'.length - 1)}…`);
    expect(text.split('\n')).toHaveLength(2);
  });

  it('rejects an unknown format', () => {
    expect(() => formatSources([], 'xml' as never)).toThrow(expect.objectContaining({ code: 'PW_ERR_USAGE' }));
  });
});

/**
 * Flow-record hits: 100.64.0.7 behind NAT (outside 198.51.100.1), sampled 1:100 to a listed pool,
 * plus a suspect flow; 10.0.0.20 suspect only; 10.0.0.21 suspect and (from packets) crypto-p2p.
 */
function flowFixture(): Database {
  const db = openDatabase(':memory:');
  const run = startRun(db, { command: 'collect', inputs: [] });
  const s = new HitSink(db, run);
  const nf = { inputKind: 'netflow', input: 'netflow 192.0.2.1' };
  s.add(hit({
    ...nf, src: '100.64.0.7', natOutside: '198.51.100.1', samplingRate: 100, evidence: ['blacklist-ip'], blacklistEntry: '203.0.113.0/24',
    blacklistVersion: 2, packetsUp: 500, bytesUp: 40_000, packetsDown: 0, bytesDown: 0,
  }));
  s.add(hit({
    ...nf, src: '100.64.0.7', natOutside: '198.51.100.1', samplingRate: 100, evidence: ['blacklist-ip'], blacklistEntry: '203.0.113.0/24',
    blacklistVersion: 2, packetsUp: 0, bytesUp: 0, packetsDown: 400, bytesDown: 60_000,
  }));
  s.add(hit({
    ...nf, src: '100.64.0.7', natOutside: '198.51.100.2', poolIp: '192.0.2.50', poolPort: 4444, category: 'suspect', evidence: ['steady-flow'],
    packetsUp: 10, bytesUp: 1000, packetsDown: 10, bytesDown: 1000,
  }));
  s.add(hit({ ...nf, src: '10.0.0.20', category: 'suspect', evidence: ['steady-flow'], packetsUp: 30, bytesUp: 3000, packetsDown: 30, bytesDown: 3000 }));
  s.add(hit({ ...nf, src: '10.0.0.21', category: 'suspect', evidence: ['steady-flow'], packetsUp: 1, bytesUp: 10, packetsDown: 1, bytesDown: 10 }));
  s.add(hit({ src: '10.0.0.21', poolIp: '192.0.2.33', poolPort: 8333, category: 'crypto-p2p', evidence: ['bitcoin-p2p'], packetsUp: 1, bytesUp: 10, packetsDown: 1, bytesDown: 10 }));
  s.flush();
  return db;
}

const NAT_SRC: SourceRecord = {
  src: '100.64.0.7',
  category: 'mining',
  evidence: ['blacklist-ip', 'steady-flow'],
  pools: [{ ip: '192.0.2.50', port: 4444 }, { ip: '203.0.113.5', port: 3333 }],
  coins: [],
  logins: [],
  workers: [],
  agents: [],
  algos: [],
  flows: 3,
  packets: 500 + 400 + 20,
  bytes: 40_000 + 60_000 + 2000,
  bytesUp: 41_000,
  bytesDown: 61_000,
  sharesSubmitted: 0,
  sharesAccepted: 0,
  sharesRejected: 0,
  difficulty: null,
  reportedHashrate: null,
  blacklistEntries: ['203.0.113.0/24'],
  blacklistVersions: [2],
  firstSeen: '2024-05-01T12:00:00.000Z',
  lastSeen: '2024-05-01T12:00:01.000Z',
  inputs: ['netflow 192.0.2.1'],
  natOutside: ['198.51.100.1', '198.51.100.2'],
  scaled: true,
  samplingRates: [1, 100],
};

describe('flow-record fields: NAT, sampling, suspect', () => {
  it('querySources: natOutside, scaled, samplingRates; the strongest category', () => {
    const db = flowFixture();
    const got = querySources(db);
    expect(got[0]).toStrictEqual(NAT_SRC);
    expect(got.map((r) => [r.src, r.category, r.natOutside, r.scaled, r.samplingRates, r.evidence])).toEqual([
      ['100.64.0.7', 'mining', ['198.51.100.1', '198.51.100.2'], true, [1, 100], ['blacklist-ip', 'steady-flow']],
      ['10.0.0.20', 'suspect', [], false, [1], ['steady-flow']],
      ['10.0.0.21', 'crypto-p2p', [], false, [1], ['bitcoin-p2p', 'steady-flow']],
    ]);
    db.close();
  });

  it('--category suspect keeps only sources whose strongest category is suspect', () => {
    const db = flowFixture();
    expect(querySources(db, { category: 'suspect' }).map((r) => r.src)).toEqual(['10.0.0.20']);
    expect(querySources(db, { category: 'crypto-p2p' }).map((r) => r.src)).toEqual(['10.0.0.21']);
    expect(querySources(db, { category: 'mining' }).map((r) => r.src)).toEqual(['100.64.0.7']);
    expect(() => querySources(db, { category: 'suspicious' })).toThrow(expect.objectContaining({ code: 'PW_ERR_USAGE', message: expect.stringContaining('mining, crypto-p2p, suspect') }));
    db.close();
  });

  it('json and ndjson carry the new fields', () => {
    const db = flowFixture();
    const records = querySources(db);
    expect(JSON.parse(formatSources(records, 'json'))).toStrictEqual(records);
    const first = JSON.parse(formatSources(records, 'ndjson').split('\n')[0]!);
    expect(first).toMatchObject({ natOutside: ['198.51.100.1', '198.51.100.2'], scaled: true, samplingRates: [1, 100] });
    db.close();
  });

  it('csv: natOutside, scaled and samplingRates columns', () => {
    const rows = parseCsv(formatSources([NAT_SRC], 'csv'));
    expect(rows[0]).toEqual(HEADER);
    expect(rows[1]).toEqual([
      '100.64.0.7', 'mining', 'blacklist-ip;steady-flow', '192.0.2.50:4444;203.0.113.5:3333', '', '', '', '', '', '',
      '3', '920', '102000', '41000', '61000', '0', '0', '0', '', '', '203.0.113.0/24', '2',
      '2024-05-01T12:00:00.000Z', '2024-05-01T12:00:01.000Z', 'netflow 192.0.2.1', '198.51.100.1;198.51.100.2', 'true', '1;100',
    ]);
  });

  it('table: the NAT outside beside the source, * on estimated counts and a footnote', () => {
    const db = flowFixture();
    const text = formatSources(querySources(db), 'table');
    expect(text.split('\n')).toEqual([
      'SRC                                         CATEGORY    EVIDENCE                  POOLS                             COINS  LOGINS  FLOWS  PACKETS      BYTES  FIRST SEEN            LAST SEEN',
      '100.64.0.7 (nat 198.51.100.1,198.51.100.2)  mining      blacklist-ip,steady-flow  192.0.2.50:4444,203.0.113.5:3333  -      -           3     920*  99.6 KiB*  2024-05-01 12:00:00Z  2024-05-01 12:00:01Z',
      '10.0.0.20                                   suspect     steady-flow               203.0.113.5:3333                  -      -           1      60    5.9 KiB   2024-05-01 12:00:00Z  2024-05-01 12:00:01Z',
      '10.0.0.21                                   crypto-p2p  bitcoin-p2p,steady-flow   192.0.2.33:8333,203.0.113.5:3333  -      -           2       4       40 B   2024-05-01 12:00:00Z  2024-05-01 12:00:01Z',
      '* estimated: from sampled flow records, exported counts multiplied by the sampling rate (1:100)',
    ]);
    db.close();
  });
});

describe('address order', () => {
  it('IPv4 numerically, then IPv6 numerically, then anything else', async () => {
    const { compareIp } = await import('../src/report/ipsort.js');
    const ips = ['zzz', '2001:db8::1:0', '::ffff:10.0.0.1', '10.0.0.10', '2001:db8::2', '9.255.255.255', '10.0.0.9', '2001:DB8::1', '::1'];
    expect([...ips].sort(compareIp)).toEqual([
      '9.255.255.255', '10.0.0.9', '10.0.0.10', '::1', '::ffff:10.0.0.1', '2001:DB8::1', '2001:db8::2', '2001:db8::1:0', 'zzz',
    ]);
  });
});
