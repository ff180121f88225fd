import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/report/db.js';
import { finishRun, HitSink, startRun } from '../src/report/sink.js';
import type { FlowHit } from '../src/report/types.js';
import { hit, T0 } from './helpers/hits.js';



function rows(db: Database): Record<string, unknown>[] {
  return db.prepare('SELECT * FROM hits ORDER BY run_id, src, pool_ip, pool_port, proto').all() as Record<string, unknown>[];
}

/** Write `hits` through a fresh in-memory database with the given batch size; return the rows. */
function writeAll(hits: FlowHit[], batchSize: number): Record<string, unknown>[] {
  const db = openDatabase(':memory:');
  const runId = startRun(db, { command: 'scan', inputs: ['a.pcap'] });
  const sink = new HitSink(db, runId, { batchSize });
  for (const h of hits) sink.add(h);
  sink.flush();
  expect(sink.written).toBe(hits.length);
  const out = rows(db);
  db.close();
  return out;
}

const SEQUENCE: FlowHit[] = [
  hit({
    category: 'crypto-p2p',
    evidence: ['blacklist-ip'],
    blacklistEntry: null,
    difficulty: 1000,
    firstSeen: T0 + 5_000_000,
    lastSeen: T0 + 6_000_000,
    packetsUp: 3,
    bytesUp: 300,
    packetsDown: 4,
    bytesDown: 400,
    input: 'b.pcap',
  }),
  hit({
    evidence: ['stratum', 'blacklist-ip'],
    blacklistEntry: '203.0.113.0/24:3333',
    blacklistVersion: 3,
    login: 'wallet1',
    worker: 'rig1',
    agent: 'cgminer/4.10',
    coin: 'btc',
    algo: 'sha256d',
    poolHost: 'pool.example',
    difficulty: null,
    reportedHashrate: 5e6,
    sharesSubmitted: 10,
    sharesAccepted: 9,
    sharesRejected: 1,
    firstSeen: T0,
    lastSeen: T0 + 2_000_000,
  }),
  hit({
    category: 'crypto-p2p',
    evidence: ['ethproxy'],
    blacklistEntry: '203.0.113.5',
    blacklistVersion: 4,
    login: 'wallet2',
    worker: 'rig2',
    agent: 'other',
    coin: 'eth',
    algo: 'ethash',
    poolHost: 'other.example',
    difficulty: 2048,
    reportedHashrate: null,
    sharesSubmitted: 5,
    sharesAccepted: 5,
    firstSeen: T0 + 1_000_000,
    lastSeen: T0 + 9_000_000,
    input: 'c.pcap',
  }),
];

const MERGED = {
  run_id: 1,
  src: '10.0.0.2',
  pool_ip: '203.0.113.5',
  pool_port: 3333,
  proto: 6,
  category: 'mining',
  evidence: '["blacklist-ip","ethproxy","stratum"]',
  blacklist_entry: '203.0.113.0/24:3333',
  blacklist_version: 3,
  coin: 'btc',
  login: 'wallet1',
  worker: 'rig1',
  agent: 'cgminer/4.10',
  algo: 'sha256d',
  pool_host: 'pool.example',
  difficulty: 2048,
  shares_submitted: 15,
  shares_accepted: 14,
  shares_rejected: 1,
  reported_hashrate: 5e6,
  first_seen: T0,
  last_seen: T0 + 9_000_000,
  flows: 3,
  packets_up: 5,
  bytes_up: 500,
  packets_down: 6,
  bytes_down: 800,
  input_kind: 'pcap',
  input: 'b.pcap',
  sampling_rate: 1,
  nat_outside: null,
};

describe('HitSink merging', () => {
  it('merges hits of one key in memory exactly', () => {
    expect(writeAll(SEQUENCE, 500)).toEqual([MERGED]);
  });

  it('merges across batches (one transaction per hit) to the same row', () => {
    expect(writeAll(SEQUENCE, 1)).toEqual([MERGED]);
    expect(writeAll(SEQUENCE, 2)).toEqual([MERGED]);
  });

  it('mining beats crypto-p2p in either order', () => {
    for (const bs of [1, 500]) {
      const a = writeAll([hit({ category: 'mining' }), hit({ category: 'crypto-p2p' })], bs);
      const b = writeAll([hit({ category: 'crypto-p2p' }), hit({ category: 'mining' })], bs);
      expect(a[0]!.category).toBe('mining');
      expect(b[0]!.category).toBe('mining');
      const c = writeAll([hit({ category: 'crypto-p2p' }), hit({ category: 'crypto-p2p' })], bs);
      expect(c[0]!.category).toBe('crypto-p2p');
    }
  });

  it('category: mining > crypto-p2p > suspect, in any order, in memory and across batches', () => {
    const cats = ['mining', 'crypto-p2p', 'suspect'] as const;
    for (const bs of [1, 500]) {
      for (const a of cats) {
        for (const b of cats) {
          const want = a === 'mining' || b === 'mining' ? 'mining' : a === 'crypto-p2p' || b === 'crypto-p2p' ? 'crypto-p2p' : 'suspect';
          const r = writeAll([hit({ category: a }), hit({ category: b })], bs);
          expect([a, b, bs, r[0]!.category]).toEqual([a, b, bs, want]);
        }
      }
      // Three rows: the strongest wins wherever it comes.
      expect(writeAll([hit({ category: 'suspect' }), hit({ category: 'crypto-p2p' }), hit({ category: 'suspect' })], bs)[0]!.category).toBe('crypto-p2p');
    }
  });

  it('sampling_rate: the largest; nat_outside: the first non-null', () => {
    for (const bs of [1, 2, 500]) {
      const r = writeAll(
        [
          hit({ samplingRate: 1 }),
          hit({ samplingRate: 100, natOutside: '198.51.100.1' }),
          hit({ samplingRate: 10, natOutside: '198.51.100.2' }),
        ],
        bs,
      );
      expect(r[0]).toMatchObject({ sampling_rate: 100, nat_outside: '198.51.100.1', flows: 3 });
    }
  });

  it('a sampling rate that is not a whole number >= 1 is stored as 1 or rounded', () => {
    const r = writeAll([hit({ src: '10.0.0.1', samplingRate: 0 }), hit({ src: '10.0.0.3', samplingRate: Number.NaN }), hit({ src: '10.0.0.4', samplingRate: 99.6 })], 500);
    expect(r.map((x) => x.sampling_rate)).toEqual([1, 1, 100]);
  });

  it('difficulty and hashrate take the latest non-null', () => {
    for (const bs of [1, 500]) {
      const r = writeAll(
        [hit({ difficulty: 1, reportedHashrate: 10 }), hit({ difficulty: 3 }), hit({ difficulty: null, reportedHashrate: null })],
        bs,
      );
      expect(r[0]).toMatchObject({ difficulty: 3, reported_hashrate: 10 });
    }
  });

  it('keeps separate rows per src, pool ip, pool port and proto', () => {
    const r = writeAll(
      [hit(), hit({ proto: 17 }), hit({ poolPort: 4444 }), hit({ poolIp: '203.0.113.6' }), hit({ src: '10.0.0.3' }), hit()],
      2,
    );
    expect(r.map((x) => [x.src, x.pool_ip, x.pool_port, x.proto, x.flows])).toEqual([
      ['10.0.0.2', '203.0.113.5', 3333, 6, 2],
      ['10.0.0.2', '203.0.113.5', 3333, 17, 1],
      ['10.0.0.2', '203.0.113.5', 4444, 6, 1],
      ['10.0.0.2', '203.0.113.6', 3333, 6, 1],
      ['10.0.0.3', '203.0.113.5', 3333, 6, 1],
    ]);
  });

  it('writes evidence sorted and unique even from one hit', () => {
    const r = writeAll([hit({ evidence: ['stratum', 'blacklist-ip', 'stratum'] })], 500);
    expect(r[0]!.evidence).toBe('["blacklist-ip","stratum"]');
  });

  it('counts written hits per committed batch', () => {
    const db = openDatabase(':memory:');
    const sink = new HitSink(db, startRun(db, { command: 'scan', inputs: [] }), { batchSize: 3 });
    sink.add(hit());
    sink.add(hit());
    expect(sink.written).toBe(0);
    sink.add(hit({ src: '10.0.0.9' }));
    expect(sink.written).toBe(3);
    sink.add(hit());
    sink.flush();
    sink.flush(); // nothing pending: no-op
    expect(sink.written).toBe(4);
    expect(rows(db).map((x) => x.flows)).toEqual([3, 1]);
    db.close();
  });
});

describe('runs', () => {
  it('startRun and finishRun record the run', () => {
    const db = openDatabase(':memory:');
    const before = new Date().toISOString();
    const id = startRun(db, { command: 'scan a.pcap b.pcap', inputs: ['a.pcap', 'b.pcap'] });
    expect(id).toBe(1);
    const started = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Record<string, unknown>;
    expect(started).toMatchObject({ command: 'scan a.pcap b.pcap', inputs: '["a.pcap","b.pcap"]', status: 'running', finished_at: null, hits: 0 });
    expect(String(started.started_at) >= before).toBe(true);

    const sink = new HitSink(db, id);
    sink.add(hit());
    sink.add(hit({ src: '10.0.0.3' }));
    sink.add(hit());
    sink.flush();
    finishRun(db, id, { packets: 1000, bytes: 123456, flows: 42, damaged: 1, status: 'incomplete' });
    const run = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Record<string, unknown>;
    expect(run).toMatchObject({ packets: 1000, bytes: 123456, flows: 42, hits: 2, damaged: 1, status: 'incomplete' });
    expect(run.finished_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(startRun(db, { command: 'scan', inputs: [] })).toBe(2);
    db.close();
  });

  it('finishRun of an unknown run is PW_ERR_DB', () => {
    const db = openDatabase(':memory:');
    expect(() => finishRun(db, 7, { packets: 0, bytes: 0, flows: 0, damaged: 0, status: 'ok' })).toThrow(
      expect.objectContaining({ code: 'PW_ERR_DB' }),
    );
    db.close();
  });

  it('a hit for a run that does not exist is refused (foreign key)', () => {
    const db = openDatabase(':memory:');
    const sink = new HitSink(db, 99);
    sink.add(hit());
    expect(() => sink.flush()).toThrow(expect.objectContaining({ code: 'PW_ERR_DB' }));
    db.close();
  });
});
