/**
 * Names seen on the wire, end to end: a DNS answer teaches the live list, and the flow that
 * follows is flagged (dns); a TLS ClientHello's SNI (sni) and an HTTP Host (http-host) flag their
 * own flow; the live list is swapped while a scan runs. Through the Pipeline packet by packet,
 * and through runScan with captures written by the pcap writer.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseList } from '../src/blacklist/formats/index.js';
import { parsePlainList } from '../src/blacklist/index.js';
import { buildSnapshot, LiveBlacklist } from '../src/blacklist/live.js';
import type { BlacklistEntry, DomainEntry } from '../src/blacklist/types.js';
import { CaptureReader } from '../src/capture/reader.js';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../src/config.js';
import { DEFAULT_FLOW_OPTIONS } from '../src/flow/table.js';
import type { Logger } from '../src/log.js';
import { decodePacket } from '../src/decode/index.js';
import { newDecodedPacket } from '../src/decode/types.js';
import { ownerOf } from '../src/flow/shard.js';
import { Pipeline } from '../src/pipeline.js';
import { querySources } from '../src/report/query.js';
import type { FlowHit } from '../src/report/types.js';
import { DEFAULT_POOL_PORTS } from '../src/rules/roles.js';
import { runScan } from '../src/scan.js';
import { ROOT } from './helpers/cli.js';
import { conversation, type Say } from './helpers/conversation.js';
import { dnsAnswer, dnsTcp } from './helpers/dns.js';
import { ethernet, packetView, udpPacket } from './helpers/frames.js';
import { snapshot } from './helpers/names.js';
import { writePcap, type TestPacket } from './helpers/pcap-writer.js';
import { clientHello } from './helpers/tls.js';

const silent = pino({ level: 'silent' }) as unknown as Logger;
const T0 = Date.UTC(2024, 5, 1, 9, 0, 0) * 1000;
const SEC = 1e6;
const tmp = () => mkdtempSync(join(tmpdir(), 'pw-names-'));

const CLIENT = '10.9.0.10';
const RESOLVER = '192.0.2.53';
const POOL_IP = '198.51.100.77';

/** A DNS answer from the resolver to the client, at `t` µs. */
function dnsUdp(answer: Uint8Array, t: number, client = CLIENT): TestPacket {
  return { data: ethernet(udpPacket(RESOLVER, client, 53, 53001, answer)), tsMicros: t };
}

/** A TCP conversation over Ethernet starting at `t`. */
function tcpConv(says: Say[], client: string, clientPort: number, server: string, serverPort: number, t: number): TestPacket[] {
  return conversation(says, { client, server, clientPort, serverPort, link: (ip) => ethernet(ip), startMicros: t, stepMicros: 1000 });
}

/** Opaque TLS application data, as a session already past its handshake (or a private protocol) shows. */
const opaque: Say[] = [
  { from: 'c', text: Buffer.from('1703030040' + 'ab'.repeat(64), 'hex') },
  { from: 's', text: Buffer.from('1703030040' + 'cd'.repeat(64), 'hex') },
];
const tlsTo = (sni: string): Say[] => [{ from: 'c', text: clientHello({ sni }) }, ...opaque.slice(1)];
const httpTo = (host: string): Say[] => [
  { from: 'c', text: `GET /lib/crypta.js HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0\r\n\r\n` },
  { from: 's', text: 'HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 5\r\n\r\nvar x' },
];

/** Run packets through one Pipeline; `before(i)` runs before packet i (to swap lists mid-stream). */
function pipe(packets: TestPacket[], live: LiveBlacklist, before?: (i: number) => void) {
  const hits: FlowHit[] = [];
  const p = new Pipeline({ blacklist: live, poolPorts: DEFAULT_POOL_PORTS, flows: DEFAULT_FLOW_OPTIONS, onHit: (h) => hits.push(h), log: silent });
  p.beginInput('test.pcap', 'pcap');
  packets.forEach((pk, i) => {
    before?.(i);
    const v = packetView(pk.data, 1);
    v.tsMicros = pk.tsMicros!;
    p.handlePacket(v);
  });
  const stats = p.finish();
  return { hits, stats };
}

const byTime = (...lists: TestPacket[][]) => lists.flat().sort((a, b) => a.tsMicros! - b.tsMicros!);
const brief = (h: FlowHit) => ({ src: h.src, poolIp: h.poolIp, poolPort: h.poolPort, evidence: h.evidence, blacklistEntry: h.blacklistEntry, blacklistVersion: h.blacklistVersion, poolHost: h.poolHost });

describe('passive DNS through the Pipeline', () => {
  const list = () => new LiveBlacklist(snapshot({ domains: ['pool.example'], version: 3 }));

  it('a DNS answer for a listed name, then a flow to the answered address: dns, the client is the source, the resolver is not flagged', () => {
    const packets = byTime(
      [dnsUdp(dnsAnswer('xmr.pool.example', [], [POOL_IP], { ttl: 300 }), T0)],
      tcpConv(opaque, CLIENT, 50123, POOL_IP, 443, T0 + SEC),
    );
    const { hits, stats } = pipe(packets, list());
    expect(hits.map(brief)).toEqual([
      { src: CLIENT, poolIp: POOL_IP, poolPort: 443, evidence: ['dns'], blacklistEntry: 'pool.example', blacklistVersion: 3, poolHost: 'xmr.pool.example' },
    ]);
    expect(stats.dnsLearned).toBe(1);
  });

  it('through a CNAME chain, over IPv6, and when the tap sees the pool speak first', () => {
    const packets = byTime(
      [dnsUdp(dnsAnswer('miner.innocent.example', ['edge.pool.example'], ['2001:db8:77::1']), T0)],
      tcpConv(opaque, '2001:db8:1::10', 50123, '2001:db8:77::1', 14444, T0 + SEC).filter((_, i) => i !== 0),
    );
    const { hits } = pipe(packets, list());
    expect(hits.map(brief)).toEqual([
      { src: '2001:db8:1::10', poolIp: '2001:db8:77::1', poolPort: 14444, evidence: ['dns'], blacklistEntry: 'pool.example', blacklistVersion: 3, poolHost: 'edge.pool.example' },
    ]);
  });

  it('split over workers (scan --workers), a customer\'s DNS answers and its connections meet in one worker: the same hits', () => {
    const packets = byTime(
      ...Array.from({ length: 12 }, (_, i) => [dnsUdp(dnsAnswer(`n${i}.pool.example`, [], [`198.51.100.${100 + i}`]), T0 + i, `10.9.1.${i}`)]),
      ...Array.from({ length: 12 }, (_, i) => tcpConv(opaque, `10.9.1.${i}`, 50000 + i, `198.51.100.${100 + i}`, 443, T0 + SEC + i)),
      tcpConv(opaque, CLIENT, 50123, '192.0.2.80', 443, T0 + SEC),
    );
    const whole = pipe(packets, list());
    expect(whole.hits.length).toBe(12);
    for (const count of [2, 3]) {
      // What scan --workers does: each packet to the pipeline its owner names.
      const shares: TestPacket[][] = Array.from({ length: count }, () => []);
      const pkt = newDecodedPacket();
      for (const pk of packets) shares[ownerOf(decodePacket(packetView(pk.data, 1), pkt), pkt, count)]!.push(pk);
      const parts = shares.map((share) => pipe(share, list()));
      const key = (h: FlowHit) => `${h.src} ${h.poolIp}:${h.poolPort} ${h.evidence} ${h.packetsUp}/${h.packetsDown}`;
      expect(parts.flatMap((r) => r.hits.map(key)).sort()).toEqual(whole.hits.map(key).sort());
      // Every worker got some of the customers, and every packet was counted once.
      expect(parts.every((r) => r.hits.length > 0)).toBe(true);
      expect(parts.reduce((n, r) => n + r.stats.packets, 0)).toBe(whole.stats.packets);
      expect(parts.reduce((n, r) => n + r.stats.flows, 0)).toBe(whole.stats.flows);
      expect(parts.reduce((n, r) => n + r.stats.dnsLearned, 0)).toBe(12);
    }
  });

  it('DNS over TCP teaches too', () => {
    const answer = tcpConv([{ from: 'c', text: Buffer.from('0000', 'hex') }, { from: 's', text: dnsTcp(dnsAnswer('pool.example', [], [POOL_IP])) }], CLIENT, 53002, RESOLVER, 53, T0);
    const { hits } = pipe(byTime(answer, tcpConv(opaque, CLIENT, 50124, POOL_IP, 3333, T0 + SEC)), list());
    expect(hits.map((h) => [h.src, h.evidence])).toEqual([[CLIENT, ['dns']]]);
  });

  it('flows before the answer, after its TTL, to other addresses, or after an unlisted answer: nothing', () => {
    const packets = byTime(
      tcpConv(opaque, CLIENT, 50100, POOL_IP, 443, T0 - 10 * SEC),
      [dnsUdp(dnsAnswer('pool.example', [], [POOL_IP], { ttl: 120 }), T0)],
      [dnsUdp(dnsAnswer('www.example.com', [], ['192.0.2.80']), T0)],
      tcpConv(opaque, CLIENT, 50101, POOL_IP, 443, T0 + 200 * SEC),
      tcpConv(opaque, CLIENT, 50102, '192.0.2.80', 443, T0 + SEC),
      tcpConv(opaque, CLIENT, 50103, '198.51.100.78', 443, T0 + SEC),
    );
    expect(pipe(packets, list()).hits).toEqual([]);
  });

  it('a DNS query to a listed name alone, and the resolver conversation itself, are never flagged', () => {
    const q = dnsAnswer('pool.example', [], [POOL_IP]);
    const packets = [
      { data: ethernet(udpPacket(CLIENT, RESOLVER, 53001, 53, q.subarray(0, 30))), tsMicros: T0 },
      dnsUdp(q, T0 + 1000),
      { data: ethernet(udpPacket(CLIENT, RESOLVER, 53001, 53, q.subarray(0, 30))), tsMicros: T0 + 2000 },
    ];
    expect(pipe(packets, list()).hits).toEqual([]);
  });
});

describe('SNI and HTTP Host through the Pipeline', () => {
  const list = () => new LiveBlacklist(snapshot({ domains: ['pool.example', 'webminer.example'], version: 5 }));

  it('a TLS flow whose SNI is listed: sni', () => {
    const { hits } = pipe(tcpConv(tlsTo('eu.pool.example'), CLIENT, 50200, '203.0.113.20', 443, T0), list());
    expect(hits.map(brief)).toEqual([
      { src: CLIENT, poolIp: '203.0.113.20', poolPort: 443, evidence: ['sni'], blacklistEntry: 'pool.example', blacklistVersion: 5, poolHost: 'eu.pool.example' },
    ]);
  });

  it('an HTTP request with a listed Host: http-host', () => {
    const { hits } = pipe(tcpConv(httpTo('cdn.webminer.example'), CLIENT, 50201, '203.0.113.21', 80, T0), list());
    expect(hits.map(brief)).toEqual([
      { src: CLIENT, poolIp: '203.0.113.21', poolPort: 80, evidence: ['http-host'], blacklistEntry: 'webminer.example', blacklistVersion: 5, poolHost: 'cdn.webminer.example' },
    ]);
  });

  it('unlisted names: nothing', () => {
    const packets = byTime(tcpConv(tlsTo('www.example.com'), CLIENT, 50202, '203.0.113.22', 443, T0), tcpConv(httpTo('www.example.org'), CLIENT, 50203, '203.0.113.23', 80, T0));
    expect(pipe(packets, list()).hits).toEqual([]);
  });
});

describe('swapping the list while packets flow', () => {
  it('flows started after the swap use the new list; earlier flows keep what they matched', () => {
    const v1 = snapshot({ addresses: '203.0.113.1', domains: ['old.example'], version: 1 });
    const v2 = snapshot({ addresses: '203.0.113.2', domains: ['new.example'], version: 2 });
    const live = new LiveBlacklist(v1);
    const first = byTime(
      tcpConv(opaque, CLIENT, 50300, '203.0.113.1', 443, T0),
      tcpConv(tlsTo('new.example'), CLIENT, 50301, '203.0.113.50', 443, T0),
      tcpConv(tlsTo('a.old.example'), CLIENT, 50302, '203.0.113.51', 443, T0),
    );
    const second = byTime(
      tcpConv(opaque, CLIENT, 50310, '203.0.113.1', 443, T0 + 10 * SEC),
      tcpConv(opaque, CLIENT, 50311, '203.0.113.2', 443, T0 + 10 * SEC),
      tcpConv(tlsTo('new.example'), CLIENT, 50312, '203.0.113.60', 443, T0 + 10 * SEC),
      tcpConv(tlsTo('a.old.example'), CLIENT, 50313, '203.0.113.61', 443, T0 + 10 * SEC),
    );
    const { hits } = pipe([...first, ...second], live, (i) => {
      if (i === first.length) live.swap(v2);
    });
    expect(hits.map((h) => [h.poolIp, h.evidence[0], h.blacklistEntry, h.blacklistVersion]).sort()).toEqual([
      ['203.0.113.1', 'blacklist-ip', '203.0.113.1', 1],
      ['203.0.113.2', 'blacklist-ip', '203.0.113.2', 2],
      ['203.0.113.51', 'sni', 'old.example', 1],
      ['203.0.113.60', 'sni', 'new.example', 2],
    ]);
  });

  it('a swap before every packet, between two versions that both list the pool: no packet ever sees an empty list', () => {
    const a = snapshot({ addresses: '203.0.113.9', domains: ['pool.example'], version: 1 });
    const b = snapshot({ addresses: '203.0.113.9', domains: ['pool.example'], version: 2 });
    const live = new LiveBlacklist(a);
    const packets: TestPacket[] = [];
    for (let i = 0; i < 20; i++) {
      packets.push(...tcpConv(opaque, CLIENT, 51000 + i, '203.0.113.9', 443, T0 + i * SEC));
      packets.push(...tcpConv(tlsTo('pool.example'), CLIENT, 52000 + i, '203.0.113.10', 443, T0 + i * SEC));
    }
    const { hits } = pipe(byTime(packets), live, (i) => live.swap(i % 2 === 0 ? b : a));
    expect(hits).toHaveLength(40);
    expect(live.stats.swaps).toBe(packets.length);
  });

  it('addresses DNS taught survive a swap only while their name stays listed', () => {
    const live = new LiveBlacklist(snapshot({ domains: ['pool.example', 'gone.example'] }));
    const packets = byTime(
      [dnsUdp(dnsAnswer('pool.example', [], ['198.51.100.1']), T0), dnsUdp(dnsAnswer('gone.example', [], ['198.51.100.2']), T0)],
      tcpConv(opaque, CLIENT, 50400, '198.51.100.1', 443, T0 + 10 * SEC),
      tcpConv(opaque, CLIENT, 50401, '198.51.100.2', 443, T0 + 10 * SEC),
    );
    const { hits } = pipe(packets, live, (i) => {
      if (i === 2) live.swap(snapshot({ domains: ['pool.example'], version: 8 }));
    });
    expect(hits.map((h) => [h.poolIp, h.evidence, h.blacklistVersion])).toEqual([['198.51.100.1', ['dns'], 8]]);
  });
});

describe('runScan: names from a --blacklist file, and a swap during a running scan', () => {
  const capture = () =>
    writePcap(
      byTime(
        [dnsUdp(dnsAnswer('xmr.pool.example', [], [POOL_IP]), T0)],
        tcpConv(opaque, CLIENT, 50500, POOL_IP, 443, T0 + SEC),
        tcpConv(tlsTo('stratum.pool.example'), '10.9.0.11', 50501, '203.0.113.30', 443, T0 + 2 * SEC),
        tcpConv(httpTo('webminer.example'), '10.9.0.12', 50502, '203.0.113.31', 80, T0 + 3 * SEC),
        tcpConv(tlsTo('www.example.com'), '10.9.0.13', 50503, '203.0.113.32', 443, T0 + 4 * SEC),
        tcpConv(httpTo('www.example.org'), '10.9.0.14', 50504, '203.0.113.33', 80, T0 + 5 * SEC),
      ),
    );

  it('domain lines in a --blacklist file flag by dns, sni and http-host; unlisted names nothing', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'cap.pcap'), capture());
    writeFileSync(join(dir, 'list.txt'), '# pools and miners\npool.example\nwebminer.example:80\n198.51.100.250\n');
    let seen: LiveBlacklist | null = null;
    const r = await runScan({
      inputs: [join(dir, 'cap.pcap')],
      dbPath: ':memory:',
      blacklistFiles: [join(dir, 'list.txt')],
      config: loadConfig(DEFAULT_CONFIG_PATH),
      command: 'test',
      log: silent,
      onLive: (l) => (seen = l),
    });
    expect(seen).toBe(r.live);
    const recs = querySources(r.db, { runId: r.runId });
    r.db.close();
    const got = recs.map((x) => ({ src: x.src, evidence: x.evidence, pools: x.pools, entries: x.blacklistEntries })).sort((a, b) => a.src.localeCompare(b.src));
    expect(got).toEqual([
      { src: CLIENT, evidence: ['dns'], pools: [{ ip: POOL_IP, port: 443, host: 'xmr.pool.example' }], entries: ['pool.example'] },
      { src: '10.9.0.11', evidence: ['sni'], pools: [{ ip: '203.0.113.30', port: 443, host: 'stratum.pool.example' }], entries: ['pool.example'] },
      { src: '10.9.0.12', evidence: ['http-host'], pools: [{ ip: '203.0.113.31', port: 80, host: 'webminer.example' }], entries: ['webminer.example:80'] },
    ]);
    expect(r.stats.dnsLearned).toBe(1);
  });

  it('a line that is neither an address nor a name is reported, with the reason of what it looks like', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'cap.pcap'), capture());
    writeFileSync(join(dir, 'list.txt'), 'pool.example\nnot_a#comment\n300.1.2.3\n');
    const lines: any[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => lines.push(JSON.parse(s)) }) as unknown as Logger;
    const r = await runScan({ inputs: [join(dir, 'cap.pcap')], dbPath: ':memory:', blacklistFiles: [join(dir, 'list.txt')], config: loadConfig(DEFAULT_CONFIG_PATH), command: 'test', log });
    r.db.close();
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/line 2: .*nor a domain name.*not_a/), expect.stringMatching(/line 3: not an IPv4 address.*300\.1\.2\.3/)]);
  });

  const fifoOk = (() => {
    try {
      const d = tmp();
      execFileSync('mkfifo', [join(d, 'probe')]);
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!fifoOk)('a running scan of a live stream (a FIFO) picks up a swapped list between packets, without a restart', async () => {
    const dir = tmp();
    const fifo = join(dir, 'live.pcap');
    execFileSync('mkfifo', [fifo]);
    // Before the swap: a SNI flow to a name only the second list has. After: the same name again.
    const part1 = tcpConv(tlsTo('later.example'), CLIENT, 50600, '203.0.113.40', 443, T0);
    const part2 = tcpConv(tlsTo('later.example'), CLIENT, 50601, '203.0.113.41', 443, T0 + 10 * SEC);
    const whole = writePcap([...part1, ...part2]);
    const cut = whole.length - writePcap(part2).length + 24; // the pcap header is written once
    let live: LiveBlacklist | null = null;
    let packets = 0;
    const scan = runScan({
      inputs: [fifo],
      dbPath: ':memory:',
      blacklistFiles: [],
      config: loadConfig(DEFAULT_CONFIG_PATH),
      command: 'test',
      log: silent,
      onLive: (l) => (live = l),
      onProgress: (n) => (packets = n),
    });
    const w = createWriteStream(fifo);
    w.write(whole.subarray(0, cut));
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(ok()).toBe(true);
    };
    await until(() => live !== null && packets >= part1.length);
    live!.swap(snapshot({ domains: ['later.example'], version: 2 }));
    w.end(whole.subarray(cut));
    const r = await scan;
    const recs = querySources(r.db, { runId: r.runId });
    r.db.close();
    expect(recs.map((x) => [x.src, x.evidence, x.pools.map((p) => p.ip), x.blacklistVersions])).toEqual([[CLIENT, ['sni'], ['203.0.113.41'], [2]]]);
  });
});

const SHARED = resolve(ROOT, '../shared/pcaps');
describe('real traffic with the default configuration\'s domain lists in force', () => {
  const present = existsSync(SHARED);
  if (!present) console.warn(`skipping: ${SHARED} is absent`);
  it.skipIf(!present)('the clean captures (DNS, DoH, TLS, QUIC, HTTP) flag nothing: resolvers and their clients are not miners', () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);
    const addresses: BlacklistEntry[] = [];
    const domains: DomainEntry[] = [];
    for (const s of config.blacklist.sources) {
      if (s.kind !== 'file') continue;
      const r = parseList(s.format, readFileSync(s.location, 'utf8'), s.location);
      addresses.push(...r.addresses);
      domains.push(...r.domains);
    }
    const allow = config.allowFiles.flatMap((f) => parsePlainList(readFileSync(f, 'utf8'), f).entries);
    expect(domains.length).toBeGreaterThan(100);
    const live = new LiveBlacklist(buildSnapshot(addresses, domains, allow));
    const hits: FlowHit[] = [];
    const p = new Pipeline({ blacklist: live, poolPorts: new Set(config.poolPorts), flows: config.flows, onHit: (h) => hits.push(h), log: silent });
    const files = readdirSync(SHARED).filter((f) => /\.pcap(ng)?$/.test(f));
    for (const f of files) {
      p.beginInput(f, 'pcap');
      const reader = new CaptureReader(f, p.handlePacket);
      reader.push(readFileSync(join(SHARED, f)));
      p.endInput(reader.end());
    }
    const stats = p.finish();
    expect(stats.ipPackets).toBeGreaterThan(1000);
    expect(hits.map((h) => `${h.input}: ${h.src} → ${h.poolIp}:${h.poolPort} ${h.evidence}`)).toEqual([]);
  });
});
