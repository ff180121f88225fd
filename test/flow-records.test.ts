/**
 * The rules for flow records (src/rules/flow-records.ts): blacklist and DNS-learned matching,
 * orientation of both directions, carrier-grade NAT, sampling, the `suspect` pattern, and the way
 * through HitSink and SQLite into the report. Records are built directly; no decoder involved.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveBlacklist } from '../src/blacklist/live.js';
import type { FlowRecord } from '../src/capture/netflow/types.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/report/db.js';
import { formatSources } from '../src/report/format.js';
import { querySources, type SourceRecord } from '../src/report/query.js';
import { HitSink, startRun } from '../src/report/sink.js';
import type { FlowHit } from '../src/report/types.js';
import { customerOf, DEFAULT_SUSPECT, isPrivate, RecordPipeline, type SuspectConfig } from '../src/rules/flow-records.js';
import { memoryLog } from './helpers/blacklist.js';
import { parseAddress } from './helpers/frames.js';
import { live } from './helpers/names.js';

/** 2024-05-01T12:00:00Z in milliseconds, the unit of FlowRecord times. */
const T = Date.UTC(2024, 4, 1, 12);
const S = 1000;
const MIN = 60 * S;
/** FlowRecord ms → FlowHit µs. */
const us = (ms: number) => ms * 1000;

const CUST = '10.0.0.2';
const POOL = '203.0.113.5';
const LIST = { addresses: '203.0.113.0/24:3333\n198.51.100.77', version: 5 };

interface RecSpec {
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  proto?: number;
  packets?: number;
  bytes?: number;
  samplingRate?: number;
  start?: number;
  end?: number;
  nat?: { postSrc?: string | null; postDst?: string | null; postSrcPort?: number | null; postDstPort?: number | null } | null;
}

/** A record customer → pool (10.0.0.2:50000 → 203.0.113.5:3333, TCP, one minute) unless told otherwise. */
function rec(o: RecSpec = {}): FlowRecord {
  const src = o.src ?? CUST;
  const dst = o.dst ?? POOL;
  const start = o.start ?? T;
  const addr = (s: string | null | undefined) => (s === null || s === undefined ? null : parseAddress(s));
  return {
    exporter: '192.0.2.1',
    version: 10,
    domain: 0,
    ipVersion: src.includes(':') ? 6 : 4,
    src: parseAddress(src),
    dst: parseAddress(dst),
    srcPort: o.srcPort ?? 50000,
    dstPort: o.dstPort ?? 3333,
    proto: o.proto ?? 6,
    tcpFlags: 0x18,
    bytes: o.bytes ?? 1000,
    packets: o.packets ?? 10,
    samplingRate: o.samplingRate ?? 1,
    start,
    end: o.end ?? start + MIN,
    nat:
      o.nat === undefined || o.nat === null
        ? null
        : { postSrc: addr(o.nat.postSrc), postDst: addr(o.nat.postDst), postSrcPort: o.nat.postSrcPort ?? null, postDstPort: o.nat.postDstPort ?? null },
  };
}

/** The same record the other way round: pool → customer. */
function back(o: RecSpec = {}): FlowRecord {
  return rec({ src: POOL, dst: CUST, srcPort: 3333, dstPort: 50000, ...o });
}

/** What every blacklist hit of a record has; `over` sets the rest. */
function expected(over: Partial<FlowHit>): FlowHit {
  return {
    src: CUST,
    poolIp: POOL,
    poolPort: 3333,
    proto: 6,
    category: 'mining',
    evidence: ['blacklist-ip'],
    blacklistEntry: '203.0.113.0/24:3333',
    blacklistVersion: 5,
    coin: null,
    login: null,
    worker: null,
    agent: null,
    algo: null,
    poolHost: null,
    difficulty: null,
    sharesSubmitted: 0,
    sharesAccepted: 0,
    sharesRejected: 0,
    reportedHashrate: null,
    firstSeen: us(T),
    lastSeen: us(T + MIN),
    packetsUp: 0,
    bytesUp: 0,
    packetsDown: 0,
    bytesDown: 0,
    samplingRate: 1,
    natOutside: null,
    inputKind: 'netflow',
    input: 'netflow 192.0.2.1',
    ...over,
  };
}

const POOL_PORTS = new Set([3333, 4444, 14444, 45560]);

function pipeline(o: { blacklist?: LiveBlacklist; suspect?: Partial<SuspectConfig> } = {}) {
  const hits: FlowHit[] = [];
  const { log, lines } = memoryLog();
  const p = new RecordPipeline({
    blacklist: o.blacklist ?? live(LIST),
    poolPorts: POOL_PORTS,
    suspect: { ...DEFAULT_SUSPECT, ...o.suspect },
    onHit: (h) => hits.push(h),
    log,
  });
  const feed = (...rs: FlowRecord[]) => {
    for (const r of rs) p.handleRecord(r, 'netflow 192.0.2.1', 'netflow');
  };
  return { p, hits, feed, lines };
}

/** Hits through a HitSink into an in-memory database, back out as report records. */
function report(hits: FlowHit[], opts: { category?: string } = {}): SourceRecord[] {
  const db = openDatabase(':memory:');
  const sink = new HitSink(db, startRun(db, { command: 'collect', inputs: [] }));
  for (const h of hits) sink.add(h);
  sink.flush();
  const out = querySources(db, opts);
  db.close();
  return out;
}

/** A report record with nothing in it but what flow records give; `over` sets the rest. */
function source(over: Partial<SourceRecord>): SourceRecord {
  return {
    src: CUST,
    category: 'mining',
    evidence: ['blacklist-ip'],
    pools: [{ ip: POOL, port: 3333 }],
    coins: [],
    logins: [],
    workers: [],
    agents: [],
    algos: [],
    flows: 1,
    packets: 0,
    bytes: 0,
    bytesUp: 0,
    bytesDown: 0,
    sharesSubmitted: 0,
    sharesAccepted: 0,
    sharesRejected: 0,
    difficulty: null,
    reportedHashrate: null,
    blacklistEntries: ['203.0.113.0/24:3333'],
    blacklistVersions: [5],
    firstSeen: '2024-05-01T12:00:00.000Z',
    lastSeen: '2024-05-01T12:01:00.000Z',
    inputs: ['netflow 192.0.2.1'],
    natOutside: [],
    scaled: false,
    samplingRates: [1],
    ...over,
  };
}

describe('RecordPipeline: blacklist matches', () => {
  it('customer → pool and pool → customer records: one hit each, up and down, merged into one report record', () => {
    for (const order of ['up first', 'down first']) {
      const { p, hits, feed } = pipeline();
      const up = rec({ packets: 10, bytes: 1000 });
      const down = back({ packets: 12, bytes: 3000, start: T + 5 * S, end: T + 65 * S });
      if (order === 'up first') feed(up, down);
      else feed(down, up);
      const want = [
        expected({ packetsUp: 10, bytesUp: 1000 }),
        expected({ packetsDown: 12, bytesDown: 3000, firstSeen: us(T + 5 * S), lastSeen: us(T + 65 * S) }),
      ];
      expect(hits).toEqual(order === 'up first' ? want : [want[1], want[0]]);
      expect(p.stats).toEqual({ records: 2, matched: 2, hits: 2, suspects: 0, natAttributed: 0, scaled: 0, candidatesEvicted: 0 });
      expect(report(hits)).toStrictEqual([
        source({ flows: 2, packets: 22, bytes: 4000, bytesUp: 1000, bytesDown: 3000, lastSeen: '2024-05-01T12:01:05.000Z' }),
      ]);
    }
  });

  it('CIDR with a port: the port must match; a plain address entry matches any port', () => {
    const { p, hits, feed } = pipeline();
    feed(rec({ dst: '203.0.113.9', dstPort: 4444 }), back({ src: '203.0.113.9', srcPort: 4444 }));
    expect(hits).toEqual([]);
    feed(rec({ dst: '203.0.113.9', dstPort: 3333 }));
    feed(rec({ dst: '198.51.100.77', dstPort: 443, proto: 17 }));
    expect(hits).toEqual([
      expected({ poolIp: '203.0.113.9', packetsUp: 10, bytesUp: 1000 }),
      expected({ poolIp: '198.51.100.77', poolPort: 443, proto: 17, blacklistEntry: '198.51.100.77', packetsUp: 10, bytesUp: 1000 }),
    ]);
    expect(p.stats).toMatchObject({ records: 4, matched: 2, hits: 2 });
  });

  it('an address learned from a DNS answer for a listed name → evidence dns, the domain entry, its version and the name; not after expiry', () => {
    const bl = live({ domains: ['pool.example:3333'], version: 9 });
    expect(bl.learn('eu.pool.example', parseAddress('198.51.100.9'), 4, 300, us(T))).toBe(true);
    const { hits, feed } = pipeline({ blacklist: bl });
    feed(rec({ dst: '198.51.100.9', start: T + 10 * S }));
    feed(rec({ dst: '198.51.100.9', dstPort: 443, start: T + 20 * S })); // the name's entry has a port
    feed(back({ src: '198.51.100.9', start: T + 30 * S }));
    feed(rec({ dst: '198.51.100.9', start: T + 301 * S })); // the answer's TTL has run out (record start)
    expect(hits).toEqual([
      expected({
        poolIp: '198.51.100.9', evidence: ['dns'], blacklistEntry: 'pool.example:3333', blacklistVersion: 9, poolHost: 'eu.pool.example',
        firstSeen: us(T + 10 * S), lastSeen: us(T + 70 * S), packetsUp: 10, bytesUp: 1000,
      }),
      expected({
        poolIp: '198.51.100.9', evidence: ['dns'], blacklistEntry: 'pool.example:3333', blacklistVersion: 9, poolHost: 'eu.pool.example',
        firstSeen: us(T + 30 * S), lastSeen: us(T + 90 * S), packetsDown: 10, bytesDown: 1000,
      }),
    ]);
    expect(report(hits)).toStrictEqual([
      source({
        evidence: ['dns'], pools: [{ ip: '198.51.100.9', port: 3333, host: 'eu.pool.example' }], flows: 2, packets: 20, bytes: 2000,
        bytesUp: 1000, bytesDown: 1000, blacklistEntries: ['pool.example:3333'], blacklistVersions: [9],
        firstSeen: '2024-05-01T12:00:10.000Z', lastSeen: '2024-05-01T12:01:30.000Z',
      }),
    ]);
  });

  it('a list read for one run has no version; a swapped list version is recorded on later records', () => {
    const bl = live({ addresses: '203.0.113.0/24:3333' });
    const { hits, feed } = pipeline({ blacklist: bl });
    feed(rec());
    bl.swap(live({ addresses: '203.0.113.0/24:3333', version: 12 }).snapshot);
    feed(rec({ dst: '203.0.113.6', start: T + MIN }));
    expect(hits.map((h) => [h.poolIp, h.blacklistEntry, h.blacklistVersion])).toEqual([
      [POOL, '203.0.113.0/24:3333', null],
      ['203.0.113.6', '203.0.113.0/24:3333', 12],
    ]);
    expect(report(hits)[0]!.blacklistVersions).toEqual([12]);
  });

  it('IPv6 records', () => {
    const { hits, feed } = pipeline({ blacklist: live({ addresses: '[2001:db8:99::/48]:3333', version: 1 }) });
    feed(rec({ src: '2001:db8:1::7', dst: '2001:db8:99::5' }), back({ src: '2001:db8:99::5', dst: '2001:db8:1::7' }));
    expect(hits.map((h) => [h.src, h.poolIp, h.poolPort, h.blacklistEntry, h.packetsUp, h.packetsDown])).toEqual([
      ['2001:db8:1::7', '2001:db8:99::5', 3333, '[2001:db8:99::/48]:3333', 10, 0],
      ['2001:db8:1::7', '2001:db8:99::5', 3333, '[2001:db8:99::/48]:3333', 0, 10],
    ]);
  });

  it('sampling 1:100 multiplies packets and bytes; the report says the figures are scaled', () => {
    const { p, hits, feed } = pipeline();
    feed(rec({ packets: 3, bytes: 180, samplingRate: 100 }), back({ packets: 2, bytes: 500, samplingRate: 100 }));
    expect(hits).toEqual([
      expected({ packetsUp: 300, bytesUp: 18_000, samplingRate: 100 }),
      expected({ packetsDown: 200, bytesDown: 50_000, samplingRate: 100 }),
    ]);
    expect(p.stats.scaled).toBe(2);
    const recs = report(hits);
    expect(recs).toStrictEqual([
      source({ flows: 2, packets: 500, bytes: 68_000, bytesUp: 18_000, bytesDown: 50_000, scaled: true, samplingRates: [100] }),
    ]);
    expect(formatSources(recs, 'table').split('\n').at(-1)).toBe(
      '* estimated: from sampled flow records, exported counts multiplied by the sampling rate (1:100)',
    );
  });

  it('a sampling rate of 0 (not exported) or not a number counts as 1', () => {
    const { hits, feed } = pipeline();
    feed(rec({ samplingRate: 0 }), rec({ samplingRate: Number.NaN }));
    expect(hits.map((h) => [h.samplingRate, h.packetsUp])).toEqual([[1, 10], [1, 10]]);
  });

  it('a pool port alone is never a hit (suspect off by default)', () => {
    const { p, hits, feed } = pipeline();
    const steady = Array.from({ length: 60 }, (_, i) => rec({ dst: '192.0.2.50', start: T + i * MIN, packets: 20, bytes: 2000 }));
    feed(...steady);
    p.finish();
    expect(hits).toEqual([]);
    expect(p.stats).toEqual({ records: 60, matched: 0, hits: 0, suspects: 0, natAttributed: 0, scaled: 0, candidatesEvicted: 0 });
  });
});

describe('RecordPipeline: carrier-grade NAT', () => {
  const INSIDE = '100.64.0.7';
  const OUTSIDE = '198.51.100.1';

  it('both directions are attributed to the inside address, the outside kept beside it', () => {
    const { p, hits, feed } = pipeline();
    // Inside → outside: src is the inside address, postSrc the public one it was translated to.
    feed(rec({ src: INSIDE, srcPort: 40000, nat: { postSrc: OUTSIDE, postSrcPort: 1024, postDst: POOL, postDstPort: 3333 } }));
    // Pool → public address: dst is the outside address, postDst the inside one.
    feed(back({ dst: OUTSIDE, dstPort: 1024, packets: 12, bytes: 3000, nat: { postSrc: POOL, postDst: INSIDE, postDstPort: 40000 } }));
    expect(hits).toEqual([
      expected({ src: INSIDE, natOutside: OUTSIDE, packetsUp: 10, bytesUp: 1000 }),
      expected({ src: INSIDE, natOutside: OUTSIDE, packetsDown: 12, bytesDown: 3000 }),
    ]);
    expect(p.stats).toMatchObject({ matched: 2, hits: 2, natAttributed: 2 });
    expect(report(hits)).toStrictEqual([
      source({ src: INSIDE, natOutside: [OUTSIDE], flows: 2, packets: 22, bytes: 4000, bytesUp: 1000, bytesDown: 3000 }),
    ]);
  });

  it('NAT fields with the same address, all zeros or absent: no NAT', () => {
    const { p, hits, feed } = pipeline();
    feed(rec({ nat: { postSrc: CUST, postDst: POOL } }));
    feed(rec({ nat: { postSrc: '0.0.0.0', postDst: '0.0.0.0', postSrcPort: 0, postDstPort: 0 } }));
    feed(rec({ nat: { postSrc: null, postDst: null } }));
    feed(back({ nat: { postSrc: POOL, postDst: CUST } }));
    feed(back({ nat: { postSrc: '0.0.0.0', postDst: '0.0.0.0' } }));
    expect(hits.map((h) => [h.src, h.natOutside, h.poolIp, h.poolPort])).toEqual(Array.from({ length: 5 }, () => [CUST, null, POOL, 3333]));
    expect(p.stats.natAttributed).toBe(0);
  });

  it('an exporter with the inverse convention: a private or shared address is never the outside', () => {
    const { hits, feed } = pipeline();
    feed(rec({ src: OUTSIDE, nat: { postSrc: INSIDE } }));
    feed(back({ dst: INSIDE, nat: { postDst: OUTSIDE } }));
    expect(hits.map((h) => [h.src, h.natOutside])).toEqual([[INSIDE, OUTSIDE], [INSIDE, OUTSIDE]]);
  });

  it('both inside and outside public (or both private): the record direction decides', () => {
    expect(customerOf(rec({ src: '192.0.2.7', nat: { postSrc: OUTSIDE } }), true)).toEqual({ inside: '192.0.2.7', outside: OUTSIDE });
    expect(customerOf(back({ dst: OUTSIDE, nat: { postDst: '192.0.2.7' } }), false)).toEqual({ inside: '192.0.2.7', outside: OUTSIDE });
    expect(customerOf(rec({ src: '192.168.1.7', nat: { postSrc: INSIDE } }), true)).toEqual({ inside: '192.168.1.7', outside: INSIDE });
  });

  it('the pool is matched at its internet-side address: post-NAT destination out, source in (NAT64, DNAT)', () => {
    const { hits, feed } = pipeline();
    // NAT64: an IPv6 customer reaches the IPv4 pool through 64:ff9b::/96.
    feed(rec({ src: '2001:db8:1::7', dst: '64:ff9b::203.0.113.5', nat: { postSrc: OUTSIDE, postSrcPort: 2000, postDst: POOL } }));
    feed(back({ dst: OUTSIDE, dstPort: 2000, nat: { postSrc: '64:ff9b::203.0.113.5', postDst: '2001:db8:1::7', postDstPort: 50000 } }));
    // A port-translated destination: the customer sent to :443, the pool listens on :3333.
    feed(rec({ dstPort: 443, nat: { postDstPort: 3333 } }));
    expect(hits.map((h) => [h.src, h.natOutside, h.poolIp, h.poolPort, h.packetsUp, h.packetsDown])).toEqual([
      ['2001:db8:1::7', OUTSIDE, POOL, 3333, 10, 0],
      ['2001:db8:1::7', OUTSIDE, POOL, 3333, 0, 10],
      [CUST, null, POOL, 3333, 10, 0],
    ]);
  });

  it('isPrivate: RFC 1918, RFC 6598, ULA, IPv4-mapped', () => {
    const t = (a: string) => isPrivate(parseAddress(a));
    expect(['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.0.1', '100.64.0.1', '100.127.255.255', 'fd00::1', 'fc00::1', '::ffff:10.0.0.1'].map(t)).toEqual(
      Array(9).fill(true),
    );
    expect(['172.32.0.1', '100.128.0.1', '100.63.255.255', '8.8.8.8', '2001:db8::1', 'fe80::1', '::ffff:8.8.8.8'].map(t)).toEqual(Array(7).fill(false));
  });
});

describe('RecordPipeline: suspect', () => {
  const ON = { enabled: true };
  const OTHER = '192.0.2.50';
  /** `n` back-to-back one-minute records each way between the customer and OTHER:3333, from `from`. */
  function steady(n: number, o: { from?: number; up?: Partial<RecSpec>; down?: Partial<RecSpec> } = {}): FlowRecord[] {
    const out: FlowRecord[] = [];
    for (let i = 0; i < n; i++) {
      const start = (o.from ?? T) + i * MIN;
      out.push(rec({ dst: OTHER, start, packets: 20, bytes: 2000, ...o.up }));
      out.push(back({ src: OTHER, start, packets: 15, bytes: 3000, ...o.down }));
    }
    return out;
  }
  const suspectHit = (over: Partial<FlowHit>): FlowHit =>
    expected({ poolIp: OTHER, category: 'suspect', evidence: ['steady-flow'], blacklistEntry: null, blacklistVersion: null, ...over });

  it('a 15-minute steady low-volume flow to a pool port: one suspect hit (enabled only)', () => {
    const off = pipeline();
    off.feed(...steady(15));
    off.p.finish();
    expect(off.hits).toEqual([]);

    const { p, hits, feed } = pipeline({ suspect: ON });
    feed(...steady(15));
    // Reported as soon as it qualifies: the up record ending at 10 minutes makes it 10 minutes long
    // (the down record of that minute comes after it) ...
    expect(hits).toEqual([
      suspectHit({ lastSeen: us(T + 10 * MIN), packetsUp: 200, bytesUp: 20_000, packetsDown: 135, bytesDown: 27_000 }),
    ]);
    p.finish();
    // ... and the rest at the end of input.
    expect(hits.slice(1)).toEqual([
      suspectHit({ firstSeen: us(T + 9 * MIN), lastSeen: us(T + 15 * MIN), packetsUp: 100, bytesUp: 10_000, packetsDown: 90, bytesDown: 18_000 }),
    ]);
    expect(p.stats).toEqual({ records: 30, matched: 0, hits: 2, suspects: 2, natAttributed: 0, scaled: 0, candidatesEvicted: 0 });
    expect(report(hits)).toStrictEqual([
      source({
        category: 'suspect', evidence: ['steady-flow'], pools: [{ ip: OTHER, port: 3333 }], flows: 2, packets: 525, bytes: 75_000,
        bytesUp: 30_000, bytesDown: 45_000, blacklistEntries: [], blacklistVersions: [], lastSeen: '2024-05-01T12:15:00.000Z',
      }),
    ]);
    expect(report(hits, { category: 'suspect' })).toHaveLength(1);
    expect(report(hits, { category: 'mining' })).toHaveLength(0);
  });

  it('not suspect: too short, too heavy, a long silence, too few packets, not a pool port', () => {
    const cases: [string, FlowRecord[]][] = [
      ['9 minutes', steady(9)],
      ['1,200 B/s', steady(15, { up: { bytes: 36_000 }, down: { bytes: 36_000 } })],
      // 7 minutes, 6 minutes of silence, 7 minutes: two runs, neither long enough.
      ['a silence longer than maxGapSec', [...steady(7), ...steady(7, { from: T + 13 * MIN })]],
      // One 20-minute record each way with a handful of packets (keepalives): 0.5 packets a minute.
      ['0.5 packets a minute', [rec({ dst: OTHER, end: T + 20 * MIN, packets: 5, bytes: 300 }), back({ src: OTHER, end: T + 20 * MIN, packets: 5, bytes: 300 })]],
      ['port 443', steady(15, { up: { dstPort: 443 }, down: { srcPort: 443 } })],
      // A pool port in the ephemeral range used by a client talking to an ordinary service.
      ['client port 45560 to port 443', steady(15, { up: { srcPort: 45560, dstPort: 443 }, down: { srcPort: 443, dstPort: 45560 } })],
    ];
    for (const [why, records] of cases) {
      const { p, hits, feed } = pipeline({ suspect: ON });
      feed(...records);
      p.finish();
      expect([why, hits]).toEqual([why, []]);
    }
  });

  it('both ends on pool ports: the lower port is the pool', () => {
    const { p, hits, feed } = pipeline({ suspect: ON });
    feed(...steady(12, { up: { srcPort: 4444 }, down: { dstPort: 4444 } }));
    p.finish();
    expect(hits.map((h) => [h.src, h.poolIp, h.poolPort])).toEqual([[CUST, OTHER, 3333], [CUST, OTHER, 3333]]);
    expect(hits.reduce((n, h) => n + h.packetsUp + h.packetsDown, 0)).toBe(12 * 35);
  });

  it('silences up to maxGapSec are bridged (an exporter idle timeout cutting a quiet connection)', () => {
    const { p, hits, feed } = pipeline({ suspect: ON });
    // 30-second records with 4-minute silences between them: 0, 4.5, 9, 13.5 and 18 minutes.
    for (let start = T; start < T + 22 * MIN; start += 4.5 * MIN) {
      feed(rec({ dst: OTHER, start, end: start + 30 * S, packets: 30, bytes: 1500 }));
    }
    p.finish();
    expect(hits).toEqual([
      suspectHit({ lastSeen: us(T + 14 * MIN), packetsUp: 120, bytesUp: 6000 }),
      suspectHit({ firstSeen: us(T + 18 * MIN), lastSeen: us(T + 18 * MIN + 30 * S), packetsUp: 30, bytesUp: 1500 }),
    ]);
  });

  it('records out of order and a NAT view join the same run; the outside address is kept', () => {
    const { p, hits, feed } = pipeline({ suspect: ON });
    const rs = steady(12, {
      up: { src: '100.64.0.7', nat: { postSrc: '198.51.100.1' } },
      down: { dst: '198.51.100.1', nat: { postDst: '100.64.0.7' } },
    }).reverse();
    feed(...rs);
    p.finish();
    expect(hits).toEqual([
      suspectHit({ src: '100.64.0.7', natOutside: '198.51.100.1', lastSeen: us(T + 12 * MIN), packetsUp: 240, bytesUp: 24_000, packetsDown: 180, bytesDown: 36_000 }),
    ]);
    expect(p.stats.natAttributed).toBe(1);
  });

  it('a blacklisted pool is mining, never also suspect', () => {
    const { p, hits, feed } = pipeline({ suspect: ON });
    feed(...steady(15, { up: { dst: POOL }, down: { src: POOL } }));
    p.finish();
    expect(hits).toHaveLength(30);
    expect(new Set(hits.map((h) => h.category))).toEqual(new Set(['mining']));
    expect(p.stats.suspects).toBe(0);
  });

  it('a long flow is reported when it qualifies, every reportIntervalSec, and at the end; the parts add up', () => {
    const { p, hits, feed } = pipeline({ suspect: ON });
    feed(...steady(180).filter((_, i) => i % 2 === 0)); // up only, 3 hours
    p.finish();
    expect(hits.map((h) => [(h.firstSeen - us(T)) / us(MIN), (h.lastSeen - us(T)) / us(MIN), h.packetsUp])).toEqual([
      [0, 10, 200],
      [10, 40, 600],
      [40, 70, 600],
      [70, 100, 600],
      [100, 130, 600],
      [130, 160, 600],
      [160, 180, 400],
    ]);
    expect(report(hits)[0]).toMatchObject({ flows: 7, packets: 3600, firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T15:00:00.000Z' });
  });

  it('a run idle for idleTimeoutSec (record time) is closed and reported before the end of input', () => {
    const { hits, feed } = pipeline({ suspect: ON });
    feed(...steady(12).filter((_, i) => i % 2 === 0));
    expect(hits.map((h) => h.packetsUp)).toEqual([200]);
    // Another customer's record two hours later moves the clock past the first run's idle timeout.
    feed(rec({ src: '10.0.0.3', dst: OTHER, start: T + 2 * 3600 * S }));
    expect(hits.map((h) => [h.src, h.packetsUp, (h.lastSeen - us(T)) / us(MIN)])).toEqual([[CUST, 200, 10], [CUST, 40, 12]]);
  });

  it('thresholds are configurable', () => {
    const { p, hits, feed } = pipeline({ suspect: { enabled: true, minDurationSec: 120, maxBytesPerSec: 50, minPacketsPerMin: 10 } });
    feed(...steady(3, { up: { bytes: 1200 }, down: { bytes: 1200 } })); // 40 B/s, 35 packets a minute, 3 minutes
    feed(...steady(3, { from: T + 60 * MIN, up: { bytes: 3000 }, down: { bytes: 3000 } })); // 100 B/s
    feed(...steady(3, { from: T + 120 * MIN, up: { packets: 4, bytes: 1200 }, down: { packets: 4, bytes: 1200 } })); // 8 packets a minute
    p.finish();
    // Qualifies at 2 minutes (up, down, up: 3600 bytes); the rest at the end.
    expect(hits.map((h) => [h.firstSeen, h.lastSeen, h.bytesUp + h.bytesDown])).toEqual([
      [us(T), us(T + 2 * MIN), 3600],
      [us(T + MIN), us(T + 3 * MIN), 3600],
    ]);
  });

  it('candidates beyond maxCandidates: the least recently updated is judged and dropped, with one warning', () => {
    const { p, hits, feed, lines } = pipeline({ suspect: { enabled: true, maxCandidates: 1 } });
    feed(...steady(12).filter((_, i) => i % 2 === 0).slice(0, 11)); // reported at 10 minutes, 1 more pending
    feed(rec({ src: '10.0.0.3', dst: OTHER, start: T + 11 * MIN }));
    feed(rec({ src: '10.0.0.4', dst: OTHER, start: T + 11 * MIN }));
    p.finish();
    expect(hits.map((h) => [h.src, h.packetsUp])).toEqual([[CUST, 200], [CUST, 20]]);
    expect(p.stats.candidatesEvicted).toBe(2);
    expect(lines.filter((l) => /suspect candidates/.test(l.msg))).toHaveLength(1);
  });
});

describe('configuration: netflow.suspect', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-nfcfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const load = (yaml: string) => {
    const path = join(dir, 'c.yaml');
    writeFileSync(path, yaml);
    return loadConfig(path);
  };

  it('the shipped configuration: off, with the default thresholds', () => {
    expect(loadConfig(DEFAULT_CONFIG_PATH).netflow.suspect).toEqual(DEFAULT_SUSPECT);
    expect(DEFAULT_SUSPECT).toEqual({
      enabled: false, minDurationSec: 600, maxBytesPerSec: 1000, maxGapSec: 300, minPacketsPerMin: 1, idleTimeoutSec: 3600,
      reportIntervalSec: 1800, maxCandidates: 100_000,
    });
  });

  it('left out: the defaults; given: checked and used', () => {
    expect(load('poolPorts: [3333]\n').netflow.suspect).toEqual(DEFAULT_SUSPECT);
    expect(load('netflow:\n  suspect:\n    enabled: true\n    minDurationSec: 900\n    maxBytesPerSec: 500.5\n').netflow.suspect).toEqual({
      ...DEFAULT_SUSPECT, enabled: true, minDurationSec: 900, maxBytesPerSec: 500.5,
    });
  });

  it('bad values name the key', () => {
    const bad: [string, RegExp][] = [
      ['netflow: 3\n', /key netflow must be a mapping/],
      ['netflow:\n  suspect: [1]\n', /netflow\.suspect must be a mapping/],
      ['netflow:\n  suspect:\n    enabled: yes please\n', /netflow\.suspect\.enabled must be true or false/],
      ['netflow:\n  suspect:\n    minDurationSec: 0\n', /netflow\.suspect\.minDurationSec must be/],
      ['netflow:\n  suspect:\n    maxBytesPerSec: "1k"\n', /netflow\.suspect\.maxBytesPerSec must be/],
      ['netflow:\n  suspect:\n    maxCandidates: 1.5\n', /netflow\.suspect\.maxCandidates must be a whole number/],
      ['netflow:\n  suspect:\n    minDuration: 600\n', /netflow\.suspect\.minDuration must be one of enabled, minDurationSec.*unknown key/],
      ['netflow:\n  suspect:\n    maxGapSec: 600\n    idleTimeoutSec: 300\n', /netflow\.suspect\.idleTimeoutSec must be at least netflow\.suspect\.maxGapSec/],
    ];
    for (const [yaml, re] of bad) {
      expect(() => load(yaml)).toThrow(expect.objectContaining({ code: 'PW_ERR_USAGE', message: expect.stringMatching(re) }));
    }
  });
});
