import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, fixture, logLines } from './helpers/cli.js';
import { startCollector, waitForDatagrams } from './helpers/collector.js';
import { expectedDump, exportScenario, SCENARIO_SOURCES } from './helpers/netflow-writer.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pw-collect-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const ndjson = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const portOf = (label: string) => Number(label.slice(label.lastIndexOf(':') + 1));

describe('poolwatch collect (live UDP collector)', () => {
  it('takes v5, v9 and IPFIX on IPv4 and IPv6 sockets, logs what it learns, flushes on SIGINT and exits 0', async () => {
    const dir = tmp();
    const db = join(dir, 'hits.db');
    const c = await startCollector(['--listen', '127.0.0.1:0', '--listen', '[::1]:0', '--db', db, '-b', fixture('pools.txt'), '--dump-flows']);
    const [v4, v6] = c.sockets;
    expect(v4).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(v6).toMatch(/^\[::1\]:\d+$/);
    const s4 = createSocket('udp4');
    const s6 = createSocket('udp6');
    const { datagrams, flows } = exportScenario();
    for (const d of datagrams) {
      // IPv6 exporters come in over the IPv6 socket.
      if (d.exporter.includes(':')) s6.send(d.payload, portOf(v6!), '::1');
      else s4.send(d.payload, portOf(v4!), '127.0.0.1');
      await sleep(2);
    }
    const stats = await waitForDatagrams(c, datagrams.length);
    expect(stats).toMatchObject({ datagrams: 12, decoder: { records: 11 }, kernelDrops: 0, exportLoss: 15 });
    // Hits are in the database while the collector runs.
    await sleep(600);
    const live = new Database(db, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM hits').get() as { n: number };
    expect(live.n).toBe(2);
    c.child.kill('SIGINT');
    const r = await c.done;
    s4.close();
    s6.close();
    expect(r.code, r.stderr).toBe(0);

    // Every record, as exported; the exporter is the address the datagram came from.
    // Over loopback every exporter is 127.0.0.1 or ::1.
    const local = (e: string) => (e.includes(':') ? '::1' : '127.0.0.1');
    expect(ndjson(r.stdout)).toEqual(flows.map((f, i) => expectedDump(f, local(SCENARIO_SOURCES[i]![0]), SCENARIO_SOURCES[i]![1])));

    const logs = logLines(r.stderr);
    expect(logs.filter((l) => l.msg === 'exporter seen').map((l) => l.exporter).sort()).toEqual(['127.0.0.1', '::1']);
    expect(logs.some((l) => l.msg === 'templates learned' && l.exporter === '::1' && l.templates === 2)).toBe(true);
    const fin = logs.find((l) => l.msg === 'collect finished')!;
    expect(fin).toMatchObject({ datagrams: 12, exportLoss: 15, kernelDrops: 0, dumped: 11 });
    expect(fin.decoder).toMatchObject({ records: 11, dropped: 1, garbage: 3 });
    expect(fin.rules).toMatchObject({ records: 11, matched: 3, hits: 3 });

    const h = new Database(db, { readonly: true });
    expect(h.prepare('SELECT src, pool_ip, pool_port, evidence, input_kind, input, bytes_up, bytes_down FROM hits ORDER BY src').all()).toEqual([
      { src: '10.20.30.50', pool_ip: '203.0.113.77', pool_port: 14444, evidence: '["blacklist-ip"]', input_kind: 'netflow', input: `netflow ${v4}`, bytes_up: 804, bytes_down: 990 },
      { src: '2001:db8:1::50', pool_ip: '2001:db8:ff::77', pool_port: 14444, evidence: '["blacklist-ip"]', input_kind: 'netflow', input: `netflow ${v6}`, bytes_up: 2000, bytes_down: 0 },
    ]);
    const runRow = h.prepare('SELECT command, inputs, packets, flows, hits, status FROM runs').get() as Record<string, unknown>;
    expect(runRow).toMatchObject({ inputs: JSON.stringify([`netflow ${v4}`, `netflow ${v6}`]), packets: 12, flows: 11, hits: 2, status: 'ok' });
  });

  it('prints the report at the end like scan; [::] takes IPv4 exporters too; an address in use is exit 2', async () => {
    // A dual-stack socket: IPv4 exporters arrive as ::ffff:127.0.0.1 and are named 127.0.0.1.
    const c = await startCollector(['--listen', '[::]:0', '-b', fixture('pools.txt'), '-f', 'json']);
    expect(c.sockets[0]).toMatch(/^\[::\]:\d+$/);
    const s = createSocket('udp4');
    const { datagrams } = exportScenario();
    const v4only = datagrams.filter((d) => !d.exporter.includes(':'));
    for (const d of v4only) s.send(d.payload, portOf(c.sockets[0]!), '127.0.0.1');
    await waitForDatagrams(c, v4only.length);
    // The port is taken now.
    const busy = cli(['collect', '--listen', c.sockets[0]!]);
    expect(busy.code).toBe(2);
    expect(logLines(busy.stderr).find((l) => l.level >= 50)!.msg).toMatch(/EADDRINUSE/);
    c.child.kill('SIGTERM');
    const r = await c.done;
    s.close();
    expect(r.code, r.stderr).toBe(0);
    const recs = JSON.parse(r.stdout);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ src: '10.20.30.50', category: 'mining', evidence: ['blacklist-ip'], pools: [{ ip: '203.0.113.77', port: 14444 }], bytes: 804 + 990 });
    const seen = logLines(r.stderr).filter((l) => l.msg === 'exporter seen').map((l) => l.exporter);
    expect(seen).toEqual(['127.0.0.1']);

    for (const bad of ['2055', 'localhost:2055', '::1:2055', '127.0.0.1:70000']) {
      const b = cli(['collect', '--listen', bad]);
      expect(b.code, bad).toBe(2);
    }
    expect(cli(['collect']).code).toBe(2);
  });
});
