/**
 * The real collector under a flood (issue #7): `poolwatch collect` on a loopback port takes
 * garbage, IPFIX template churn and NetFlow v9 datagrams of random source ids from 1,200 fake
 * exporters (sockets bound to 127.3.x.y: more addresses than maxExporters, 1,000), while one
 * genuine exporter that sent its template once, before the flood, exports records to a listed
 * pool. Checked from its own log and database: the decoder's state stayed within the caps, every
 * datagram is accounted for (handled or dropped by the kernel), garbage is counted on the
 * exporter that sent it, and every genuine record that reached the collector became a hit.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, logLines } from './helpers/cli.js';
import { startCollector } from './helpers/collector.js';
import { concat, IE, ip4, ipfix, ipfixData, ipfixTemplates, u16, u32, u8, v9, v9Data, v9Templates, type Bytes } from './helpers/netflow-build.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECS = Math.floor(Date.now() / 1000);
const POOL = '203.0.113.77';
const FAKES = 1200;

function bound(address: string): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(0, address, () => res(s));
  });
}

const send = (s: Socket, d: Bytes, port: number) =>
  new Promise<void>((res, rej) => s.send(d, port, '127.0.0.1', (e) => (e ? rej(e) : res())));

const genuineTemplate = ipfixTemplates({
  id: 256,
  fields: [
    { id: IE.sourceIPv4Address, len: 4 },
    { id: IE.destinationIPv4Address, len: 4 },
    { id: IE.sourceTransportPort, len: 2 },
    { id: IE.destinationTransportPort, len: 2 },
    { id: IE.protocolIdentifier, len: 1 },
    { id: IE.octetDeltaCount, len: 4 },
    { id: IE.packetDeltaCount, len: 4 },
  ],
});
let gseq = 0;
/** One record from customer 10.77.0.k to the pool (listed in fixtures/pools.txt: 203.0.113.0/24:14444). */
const genuineData = (k: number) =>
  ipfix({ exportTime: SECS, sequence: gseq++, domain: 1 }, ipfixData(256, [concat(ip4(`10.77.0.${k}`), ip4(POOL), u16(40000 + k), u16(14444), u8(6), u32(5000), u32(20))]));

/** 20 new templates of 30 fields (ids from `first`), and a data set for a template never sent. */
function churn(i: number): Bytes {
  const ts = Array.from({ length: 20 }, (_, k) => ({ id: 256 + ((i * 20 + k) % 65000), fields: Array.from({ length: 30 }, () => ({ id: IE.destinationIPv4Address, len: 4 })) }));
  return ipfix({ exportTime: SECS, sequence: i, domain: i % 5 }, ipfixTemplates(...ts), ipfixData(60000, [new Uint8Array(300)]));
}

/** v9 from a random source id: a template, a record for it, and data for a template never sent. */
const v9Random = (i: number) =>
  v9(
    { sysUptime: 1000, unixSecs: SECS, sequence: i, sourceId: (i * 2654435761) >>> 0 },
    v9Templates({ id: 256, fields: [[IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4]] }),
    v9Data(256, concat(ip4('10.66.0.1'), ip4('198.51.100.1'))),
    v9Data(999, new Uint8Array(100)),
  );

const garbage = (i: number) => concat(u16(0xdead), new Uint8Array(60 + (i % 700)).fill(i & 255));

describe('poolwatch collect under a flood', () => {
  it('keeps its state within the caps, counts garbage per exporter, and records every genuine hit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-flood-'));
    dirs.push(dir);
    const db = join(dir, 'hits.db');
    const c = await startCollector(['--listen', '127.0.0.1:0', '--db', db, '-b', fixture('pools.txt')]);
    const port = Number(c.sockets[0]!.split(':').pop());
    const genuine = await bound('127.0.0.1');
    const fakes: Socket[] = [];
    try {
      for (let i = 0; i < FAKES; i++) fakes.push(await bound(`127.3.${i >> 8}.${i & 255}`));
      let sent = 0;
      let garbageSent = 0;
      let genuineRecords = 0;

      // Before the flood: the router's template once, and records in two datagrams.
      await send(genuine, ipfix({ exportTime: SECS, sequence: gseq, domain: 1 }, genuineTemplate), port);
      for (; genuineRecords < 2; genuineRecords++) await send(genuine, genuineData(genuineRecords), port);
      sent += 3;

      // The flood: each fake sends churn, v9 and garbage; the genuine exporter a record every 1,100 (more new addresses than maxExporters in between).
      const kinds = [churn, v9Random, garbage];
      for (let n = 0; n < FAKES * 3; n++) {
        const i = n % FAKES;
        await send(fakes[(i * 7) % FAKES]!, kinds[Math.floor(n / FAKES)]!(n), port);
        sent++;
        if (n >= 2 * FAKES) garbageSent++;
        if (n % 1100 === 1099) {
          await send(genuine, genuineData(genuineRecords++), port);
          sent++;
        }
        // Paced (no wall-clock claim): a burst of 50, then the collector gets a moment.
        if (n % 50 === 49) await sleep(3);
      }

      // After the flood, garbage from the genuine exporter: counted on it, and it loses its
      // established place (ten datagrams that are not flow export).
      for (let i = 0; i < 10; i++, sent++, garbageSent++) await send(genuine, garbage(i), port);

      // Every datagram accounted for: handled, or dropped by the kernel (reported, not assumed away).
      let stats: Record<string, any> | undefined;
      for (let t = 0; t < 400; t++) {
        stats = logLines(c.stderr().slice(0, c.stderr().lastIndexOf('\n') + 1)).filter((l) => l.msg === 'collector stats').at(-1);
        if (stats !== undefined && stats.datagrams + (stats.kernelDrops ?? 0) >= sent) break;
        await sleep(50);
      }
      expect(stats!.datagrams + (stats!.kernelDrops ?? 0)).toBe(sent);
      await sleep(700); // one more flush of hits
      c.child.kill('SIGINT');
      const r = await c.done;
      expect(r.code, r.stderr.slice(-3000)).toBe(0);

      const fin = logLines(r.stderr).find((l) => l.msg === 'collect finished')!;
      const drops: number = fin.kernelDrops ?? 0;
      expect(fin.datagrams + drops).toBe(sent);
      const d = fin.decoder;
      // Within the default caps (state.ts DEFAULT_LIMITS) ...
      expect(d.exporters).toBeLessThanOrEqual(1000);
      expect(d.domains).toBeLessThanOrEqual(16_384);
      expect(d.templateBytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      expect(d.pendingBytes).toBe(0); // finish() dropped what still waited
      // ... though far more came in: 1,201 addresses, 24,000 templates, 2,400 sets that never got one.
      expect(d.exportersEvicted).toBeGreaterThanOrEqual(FAKES + 1 - 1000 - drops);
      expect(d.garbage + drops).toBeGreaterThanOrEqual(garbageSent);
      expect(d.garbage).toBeLessThanOrEqual(garbageSent);

      const g = fin.exporters.filter((e: any) => e.exporter === '127.0.0.1');
      expect(g).toHaveLength(1);
      expect(g[0]).toMatchObject({ domain: 1, version: 10, established: false, templates: 1, errors: 0, recordsDropped: 0 });
      expect(g[0].garbage).toBeLessThanOrEqual(10);
      expect(g[0].garbage + drops).toBeGreaterThanOrEqual(10);
      expect(g[0].records + drops).toBeGreaterThanOrEqual(genuineRecords);

      // Every genuine record that arrived is a hit: customer → listed pool.
      const h = new Database(db, { readonly: true });
      const hits = h.prepare("SELECT src, pool_ip, pool_port FROM hits WHERE src LIKE '10.77.%' ORDER BY src").all() as { src: string; pool_ip: string; pool_port: number }[];
      h.close();
      expect(hits.length).toBe(g[0].records);
      if (drops === 0) {
        expect(g[0].records).toBe(genuineRecords);
        expect(g[0].garbage).toBe(10);
        expect(d.garbage).toBe(garbageSent);
      }
      for (const x of hits) expect(x).toMatchObject({ pool_ip: POOL, pool_port: 14444 });
    } finally {
      c.child.kill('SIGKILL');
      genuine.close();
      for (const s of fakes) s.close();
    }
  });
});
