/**
 * Real exporters, real collectors: softflowd turns the project's captures into NetFlow v5, v9 and
 * IPFIX; the same export goes to `poolwatch collect` and to nfcapd, and poolwatch's --dump-flows
 * must hold exactly the flows nfdump reads back. tcpdump keeps the export datagrams as a capture,
 * which `scan --netflow` must decode to the same records and hits; nfdump's CSV of it goes through
 * `poolwatch flows` to the same hits.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fixture, logLines } from './helpers/cli.js';
import { conversation } from './helpers/conversation.js';
import { ethernet } from './helpers/frames.js';
import { writePcap } from './helpers/pcap-writer.js';
import { xmrigSession } from './helpers/sessions.js';
import { csvTotals, haveNfdump, haveSoftflowd, haveTcpdump, nfdumpCsv, softflowdExport, startNfcapd, startTcpdump } from './helpers/softflowd.js';
import { startCollector, waitForDatagrams } from './helpers/collector.js';

const ready = haveSoftflowd && haveNfdump && haveTcpdump;
if (!ready) {
  console.warn(
    `skipping the softflowd/nfcapd end-to-end tests: they need softflowd, nfcapd, nfdump and tcpdump, and root (apt-get install softflowd nfdump tcpdump)` +
      ` [softflowd ${haveSoftflowd}, nfdump ${haveNfdump}, tcpdump as root ${haveTcpdump}]`,
  );
}

const ndjson = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const PROTO: Record<number, string> = { 6: 'TCP', 17: 'UDP' };
/** A dumped record in the shape csvTotals gives nfdump's lines. */
const keyOf = (d: any) => `${d.src} ${d.srcPort} > ${d.dst} ${d.dstPort} ${PROTO[d.proto] ?? d.proto} ${d.packets} ${d.bytes}`;

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface VersionRun {
  version: 5 | 9 | 10;
  dir: string;
  db: string;
  collect: { code: number | null; stdout: string; stderr: string };
  exportPcap: string;
  nfdump: string;
  socket: string;
  softflowd: string[];
}

/**
 * One exporter version end to end. The captures: the sample (three miners, one of them to a
 * listed pool), the listed TLS pool, and for v9/IPFIX an XMRig miner over IPv6 to a listed range.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function runVersion(version: 5 | 9 | 10, captures: string[]): Promise<VersionRun> {
  const dir = mkdtempSync(join(tmpdir(), `pw-softflowd-v${version}-`));
  dirs.push(dir);
  const db = join(dir, 'hits.db');
  const stops: (() => unknown)[] = [];
  try {
    const c = await startCollector(['--listen', '127.0.0.1:0', '--db', db, '-b', fixture('pools.txt'), '--dump-flows']);
    stops.push(() => c.child.kill('SIGKILL'));
    const port = Number(c.sockets[0]!.split(':')[1]);
    const nfPort = await freeUdpPort();
    const nfcapd = await startNfcapd(nfPort, join(dir, 'nfcapd'));
    stops.push(nfcapd.stop);
    const tcpdump = await startTcpdump(`udp dst port ${port}`);
    stops.push(tcpdump.stop);
    const softflowd: string[] = [];
    let datagrams = 0;
    for (const cap of captures) {
      for (const p of [port, nfPort]) {
        const r = await softflowdExport(cap, p, version);
        if (r.status !== 0 || !(r.datagrams > 0)) throw new Error(`softflowd failed (${r.status}): ${r.output}`);
        softflowd.push(r.output);
        if (p === port) datagrams += r.datagrams;
      }
    }
    await waitForDatagrams(c, datagrams);
    const exportPcap = join(dir, 'export.pcap');
    writeFileSync(exportPcap, await tcpdump.stop());
    c.child.kill('SIGINT');
    const collect = await c.done;
    await nfcapd.stop();
    stops.length = 0;
    return { version, dir, db, collect, exportPcap, nfdump: nfdumpCsv(join(dir, 'nfcapd')), socket: c.sockets[0]!, softflowd };
  } finally {
    // A failure must not leave a collector, nfcapd or tcpdump behind.
    for (const stop of stops) await stop();
  }
}

describe.skipIf(!ready)('softflowd → poolwatch collect and nfcapd, v5, v9 and IPFIX', () => {
  const runs = new Map<number, VersionRun>();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-softflowd-'));
    dirs.push(dir);
    // An XMRig miner over IPv6 to a listed range ([2001:db8:ff::/48]:14444 in fixtures/pools.txt).
    const v6 = join(dir, 'xmrig-v6.pcap');
    writeFileSync(
      v6,
      writePcap(conversation(xmrigSession, { client: '2001:db8:1::50', server: '2001:db8:ff::77', clientPort: 41000, serverPort: 14444, link: (ip) => ethernet(ip), startMicros: Date.UTC(2024, 2, 1, 9) * 1000 })),
    );
    const base = [fixture('sample.pcap'), fixture('blacklisted-tls.pcap')];
    // The three versions run side by side, each on its own ports.
    const all = await Promise.all([runVersion(5, base), runVersion(9, [...base, v6]), runVersion(10, [...base, v6])]);
    for (const r of all) runs.set(r.version, r);
  });

  for (const version of [5, 9, 10] as const) {
    it(`v${version}: the collector exits 0 on SIGINT and dumps exactly the flows nfdump reads back`, () => {
      const r = runs.get(version)!;
      expect(r.collect.code, r.collect.stderr).toBe(0);
      const dump = ndjson(r.collect.stdout);
      const nf = csvTotals(r.nfdump);
      expect(dump.length).toBe(nf.flows);
      expect(dump.reduce((n, d) => n + d.packets, 0)).toBe(nf.packets);
      expect(dump.reduce((n, d) => n + d.bytes, 0)).toBe(nf.bytes);
      expect(dump.map(keyOf).sort()).toEqual(nf.keys);
      expect(dump.every((d) => d.exporter === '127.0.0.1' && d.version === version)).toBe(true);
      // 15 flows from the IPv4 captures; v9 and IPFIX add the IPv6 miner's two.
      expect(dump.length).toBe(version === 5 ? 15 : 17);
      const fin = logLines(r.collect.stderr).find((l) => l.msg === 'collect finished')!;
      expect(fin.decoder).toMatchObject({ records: dump.length, errors: 0, garbage: 0 });
      expect(fin.kernelDrops).toBe(0);
    });

    it(`v${version}: the miners to listed pools are recorded with evidence blacklist-ip and input kind netflow`, () => {
      const r = runs.get(version)!;
      const rows = new Database(r.db, { readonly: true }).prepare('SELECT src, pool_ip, pool_port, evidence, input_kind, input, packets_up, bytes_up, packets_down, bytes_down FROM hits ORDER BY src').all();
      const expected = [
        { src: '10.20.30.50', pool_ip: '203.0.113.77', pool_port: 14444, evidence: '["blacklist-ip"]', input_kind: 'netflow', input: `netflow ${r.socket}`, packets_up: 7, bytes_up: 804, packets_down: 5, bytes_down: 990 },
        { src: '10.20.30.95', pool_ip: '198.51.100.99', pool_port: 5555, evidence: '["blacklist-ip"]', input_kind: 'netflow', input: `netflow ${r.socket}`, packets_up: 5, bytes_up: 249, packets_down: 3, bytes_down: 169 },
      ];
      if (version !== 5) {
        expected.push({ src: '2001:db8:1::50', pool_ip: '2001:db8:ff::77', pool_port: 14444, evidence: '["blacklist-ip"]', input_kind: 'netflow', input: `netflow ${r.socket}` } as any);
      }
      expect(rows).toMatchObject(expected);
    });

    it(`v${version}: scan --netflow of the tcpdump capture gives the same dump and the same hits`, () => {
      const r = runs.get(version)!;
      const scan = cli(['scan', '--netflow', '--dump-flows', r.exportPcap]);
      expect(scan.code, scan.stderr).toBe(0);
      // Same records, same times: flow times come from the datagrams, not from when they arrived.
      expect(ndjson(scan.stdout)).toEqual(ndjson(r.collect.stdout));

      const db = join(r.dir, 'scan.db');
      expect(cli(['scan', '--netflow', '-q', '--db', db, '-b', fixture('pools.txt'), r.exportPcap]).code).toBe(0);
      const q = 'SELECT src, pool_ip, pool_port, evidence, input_kind, packets_up, bytes_up, packets_down, bytes_down, flows FROM hits ORDER BY src';
      expect(new Database(db, { readonly: true }).prepare(q).all()).toEqual(new Database(r.db, { readonly: true }).prepare(q).all());
    });

    it(`v${version}: nfdump's CSV of the same export through poolwatch flows gives the same hits`, () => {
      const r = runs.get(version)!;
      const db = join(r.dir, 'flows.db');
      const f = cli(['flows', '--db', db, '-b', fixture('pools.txt'), '--dump-flows', '-'], { input: r.nfdump, env: { TZ: 'UTC' } });
      expect(f.code, f.stderr).toBe(0);
      expect(ndjson(f.stdout).map(keyOf).sort()).toEqual(csvTotals(r.nfdump).keys);
      const q = 'SELECT src, pool_ip, pool_port, evidence, packets_up, bytes_up, packets_down, bytes_down, flows FROM hits ORDER BY src';
      const viaNfdump = new Database(db, { readonly: true }).prepare(q).all();
      expect(viaNfdump).toEqual(new Database(r.db, { readonly: true }).prepare(q).all());
      expect((new Database(db, { readonly: true }).prepare('SELECT DISTINCT input_kind FROM hits').all() as any[]).map((x) => x.input_kind)).toEqual(['nfdump']);
    });
  }
});
