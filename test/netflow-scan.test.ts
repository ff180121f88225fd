import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, fixture, logLines, ROOT } from './helpers/cli.js';
import { ethernet, tcpPacket, udpPacket } from './helpers/frames.js';
import { expectedDump, exportScenario, SCENARIO_SOURCES } from './helpers/netflow-writer.js';
import { writePcap, type TestPacket } from './helpers/pcap-writer.js';
import { SCENARIO_T0 } from './helpers/netflow-writer.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pw-nfscan-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const ndjson = (s: string) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l));

/** The scenario as `tcpdump -w` on the collector would have it, plus a TCP packet and a datagram cut by the snap length. */
function scenarioCapture(): Buffer {
  const { datagrams } = exportScenario();
  const pkts: TestPacket[] = datagrams.map((d, i) => ({
    data: ethernet(udpPacket(d.exporter, d.exporter.includes(':') ? '2001:db8::250' : '192.0.2.250', 40000 + i, 2055, d.payload)),
    tsMicros: (SCENARIO_T0 + d.at * 1000) * 1000,
  }));
  // Not export traffic: a TCP segment, and a datagram the snap length cut (its decode would be garbage).
  pkts.push({ data: ethernet(tcpPacket('192.0.2.9', '192.0.2.250', 1234, 22, 'ssh')), tsMicros: (SCENARIO_T0 + 30_000) * 1000 });
  const full = ethernet(udpPacket('192.0.2.1', '192.0.2.250', 40999, 2055, datagrams[1]!.payload));
  pkts.push({ data: full.subarray(0, 60), origLen: full.length, tsMicros: (SCENARIO_T0 + 31_000) * 1000 });
  return writePcap(pkts);
}

describe('poolwatch scan --netflow (captures of export datagrams)', () => {
  it('decodes v5, v9 and IPFIX: late templates, an exporter restart, sequence gaps, garbage, IPv6', () => {
    const dir = tmp();
    const cap = join(dir, 'export.pcap');
    writeFileSync(cap, scenarioCapture());
    const db = join(dir, 'hits.db');
    const r = cli(['scan', '--netflow', '--dump-flows', '--db', db, '-b', fixture('pools.txt'), cap]);
    expect(r.code, r.stderr).toBe(0);
    const { flows } = exportScenario();
    expect(ndjson(r.stdout)).toEqual(flows.map((f, i) => expectedDump(f, ...SCENARIO_SOURCES[i]!)));

    const fin = logLines(r.stderr).find((l) => l.msg === 'scan finished')!;
    expect(fin).toMatchObject({ packets: 14, datagrams: 12, skipped: { notIp: 0, notUdp: 1, laterFragments: 0, cutDatagrams: 1 }, dumped: 11, exportLoss: 15 });
    // Garbage: the HTTP request, the random bytes and the v9 datagram cut inside its header.
    expect(fin.decoder).toMatchObject({ datagrams: 12, records: 11, dropped: 1, errors: 0, garbage: 3 });
    const ex = (e: string, v: number) => fin.exporters.find((x: any) => x.exporter === e && x.version === v);
    // The data set for template 999 waited for its template until the end, then was dropped.
    expect(ex('192.0.2.1', 9)).toMatchObject({ domain: 1, records: 5, restarts: 1, templates: 1, sequenceLost: 0, setsPending: 0, setsDropped: 1 });
    expect(ex('2001:db8::2', 10)).toMatchObject({ domain: 7, records: 3, templates: 2, sequenceLost: 5, restarts: 0 });
    expect(ex('192.0.2.3', 5)).toMatchObject({ records: 3, sequenceLost: 10 });
    // The decode problems are logged, naming the packet.
    expect(logLines(r.stderr).some((l) => l.level === 40 && /packet 3\b/.test(l.msg))).toBe(true);

    const rows = new Database(db, { readonly: true })
      .prepare('SELECT src, pool_ip, pool_port, category, evidence, input_kind, input, packets_up, bytes_up, packets_down, bytes_down, flows FROM hits ORDER BY src')
      .all();
    expect(rows).toEqual([
      { src: '10.20.30.50', pool_ip: '203.0.113.77', pool_port: 14444, category: 'mining', evidence: '["blacklist-ip"]', input_kind: 'netflow', input: cap, packets_up: 7, bytes_up: 804, packets_down: 5, bytes_down: 990, flows: 2 },
      { src: '2001:db8:1::50', pool_ip: '2001:db8:ff::77', pool_port: 14444, category: 'mining', evidence: '["blacklist-ip"]', input_kind: 'netflow', input: cap, packets_up: 20, bytes_up: 2000, packets_down: 0, bytes_down: 0, flows: 1 },
    ]);
  });

  it('prints the same report as scan; a damaged capture is exit 1 and the others are still read', () => {
    const dir = tmp();
    const good = join(dir, 'good.pcap');
    const bad = join(dir, 'cut.pcap');
    const whole = scenarioCapture();
    writeFileSync(good, whole);
    writeFileSync(bad, whole.subarray(0, whole.length - 30));
    const r = cli(['scan', '--netflow', '-f', 'json', '-b', fixture('pools.txt'), bad, good]);
    expect(r.code, r.stderr).toBe(1);
    const recs = JSON.parse(r.stdout);
    expect(recs.map((x: any) => x.src).sort()).toEqual(['10.20.30.50', '2001:db8:1::50']);
    expect(recs.find((x: any) => x.src === '10.20.30.50')).toMatchObject({ category: 'mining', evidence: ['blacklist-ip'], pools: [{ ip: '203.0.113.77', port: 14444 }] });
    const err = logLines(r.stderr).find((l) => l.level >= 50)!;
    expect(err).toMatchObject({ input: bad, code: 'PW_ERR_TRUNCATED' });
    expect(cli(['scan', '--netflow', join(dir, 'missing.pcap')]).code).toBe(2);
  });

  it('options that belong to packet scans are refused with --netflow, and --dump-flows needs it', () => {
    expect(cli(['scan', '--netflow', '--interface', 'lo']).code).toBe(2);
    const r = cli(['scan', '--dump-flows', fixture('sample.pcap')]);
    expect(r.code).toBe(2);
    expect(logLines(r.stderr)[0]!.msg).toMatch(/--netflow/);
  });

  const shared = resolve(ROOT, '../shared/netflow');
  const haveShared = existsSync(join(shared, 'template.pcap'));
  if (!haveShared) console.warn('skipping the real-exporter captures: ../shared/netflow is absent');
  it.skipIf(!haveShared)('one decoder spans the files of a run: templates read from one capture decode the data of the next', () => {
    const tpl = join(shared, 'template.pcap');
    const data = join(shared, 'data.pcap');
    const inOrder = cli(['scan', '--netflow', '--dump-flows', tpl, data]);
    expect(inOrder.code, inOrder.stderr).toBe(0);
    const dumped = ndjson(inOrder.stdout);
    expect(dumped.length).toBeGreaterThan(0);
    expect(dumped.every((d) => d.version === 9)).toBe(true);
    // The data alone cannot be decoded: its records wait for a template that never comes.
    const alone = cli(['scan', '--netflow', '--dump-flows', data]);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toBe('');
  });
});
