/**
 * Signals of long-running commands, end to end on the built CLI: SIGTERM and SIGINT stop a live
 * scan (standard input, an interface) and the collector cleanly (every pending hit written, the
 * run row closed, exit 0); SIGHUP reloads the configuration and the lists without losing a packet,
 * and a configuration that does not read on reload is logged and changes nothing.
 */
import { createSocket } from 'node:dgram';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NFDUMP_CSV_HEADER } from '../src/capture/nfdump-csv.js';
import { hasCommand } from './helpers/cli.js';
import { ethernet, udpPacket } from './helpers/frames.js';
import {
  committed, PCAP_HEADER, pcapRecord, session, SESSION_PACKETS, sessionTs, sleep, srcOf, start, v5Datagram, writeConfig, type Proc,
  tempDirs, waitForHits,
} from './helpers/durability.js';

const POOL = '198.51.100.99';
const PORT = 5555;
/** A pool on no list when the run starts. */
const NEW_POOL = '192.0.2.77';
const NEW_PORT = 7777;

const tmp = tempDirs('pw-signals-');

function setup() {
  const dir = tmp();
  const db = join(dir, 'hits.db');
  const list = join(dir, 'run-list.txt');
  writeFileSync(list, `${POOL}:${PORT}\n`);
  const config = writeConfig(dir, ['203.0.113.10:3333']);
  return { dir, db, list, config };
}

const lastRun = (db: string) => committed(db)!.runs.at(-1)!;
const portOf = (p: Proc) => Number((p.logs().find((l) => l.msg === 'listening')!.sockets[0] as string).split(':').at(-1));

describe('SIGTERM and SIGINT stop a live run cleanly', () => {
  for (const [signal, extra] of [['SIGTERM', []], ['SIGINT', []], ['SIGTERM', ['--workers', '2']]] as const) {
    it(`scan ${extra.join(' ')} - on a pipe the writer keeps open: ${signal} writes every pending hit (flows still open too), closes the run row, exit 0`, async () => {
      const { db, list, config } = setup();
      const p = start(['scan', '-q', '--no-progress', ...extra, '--db', db, '-c', config, '-b', list, '-']);
      await p.waitForLog((l) => l.msg === 'blacklist loaded');
      const n = 30;
      p.write(PCAP_HEADER);
      for (let i = 1; i <= n; i++) {
        p.write(session(srcOf(i), POOL, PORT, sessionTs(i)));
        await sleep(5);
      }
      // Each session ends the one before: n - 1 hits get written as the scan runs; the last flow is
      // still open in the flow table (each session is one pipe write: seeing its hit written means
      // the next session was read whole).
      await waitForHits(db, n - 1);
      p.child.kill(signal);
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const c = committed(db)!;
      expect(c.hits.map((h) => h.src).sort()).toEqual(Array.from({ length: n }, (_, j) => srcOf(j + 1)).sort());
      expect(c.runs).toHaveLength(1);
      expect(c.runs[0]).toMatchObject({ status: 'ok', hits: n, packets: n * SESSION_PACKETS });
      expect(c.runs[0]!.finished_at).not.toBeNull();
      const logs = p.logs();
      expect(logs.find((l) => l.msg.startsWith(`${signal}: stopping`))).toBeDefined();
      expect(logs.find((l) => l.msg === 'scan finished')).toMatchObject({ packets: n * SESSION_PACKETS, flaggedFlows: n, damagedInputs: [] });
      expect(logs.filter((l) => l.level >= 50)).toEqual([]);
    });
  }

  it('scan --netflow - and flows - on pipes the writer keeps open: SIGTERM writes every pending hit, closes the run row, exit 0', async () => {
    const srcs = Array.from({ length: 12 }, (_, j) => srcOf(j + 1));
    // Export datagrams in a capture on standard input (tcpdump -w - on a collector port).
    {
      const { db, list, config } = setup();
      const p = start(['scan', '--netflow', '-q', '--no-progress', '--db', db, '-c', config, '-b', list, '-']);
      await p.waitForLog((l) => l.msg === 'blacklist loaded');
      p.write(PCAP_HEADER);
      for (let i = 0; i < srcs.length; i += 3) {
        const frame = ethernet(udpPacket('192.0.2.1', '192.0.2.2', 50000, 2055, v5Datagram(i, srcs.slice(i, i + 3), POOL, PORT)));
        p.write(pcapRecord(frame, sessionTs(i)));
        await sleep(5);
      }
      await waitForHits(db, srcs.length);
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const c = committed(db)!;
      expect(c.hits.map((h) => h.src).sort()).toEqual([...srcs].sort());
      expect(c.runs[0]).toMatchObject({ status: 'ok', packets: 4 });
      expect(c.runs[0]!.finished_at).not.toBeNull();
      expect(p.logs().find((l) => l.msg === 'SIGTERM: stopping, writing what is pending')).toBeDefined();
      expect(p.logs().filter((l) => l.level >= 50)).toEqual([]);
    }
    // nfdump -o csv on standard input.
    {
      const { db, list, config } = setup();
      const p = start(['flows', '-q', '--db', db, '-c', config, '-b', list, '-']);
      await p.waitForLog((l) => l.msg === 'blacklist loaded');
      const cols = NFDUMP_CSV_HEADER.split(',');
      const csv = (src: string) => {
        const v: Record<string, string> = {
          ts: '2024-03-01 08:00:00', te: '2024-03-01 08:00:10', td: '10.000', sa: src, da: POOL, sp: '40000', dp: String(PORT),
          pr: 'TCP', flg: '...AP.SF', ipkt: '10', ibyt: '1500', opkt: '0', obyt: '0', ra: '127.0.0.1', eng: '0/0',
        };
        return cols.map((k) => v[k] ?? '0').join(',') + '\n';
      };
      p.write(Buffer.from(NFDUMP_CSV_HEADER + '\n'));
      for (const src of srcs) {
        p.write(Buffer.from(csv(src)));
        await sleep(5);
      }
      await waitForHits(db, srcs.length);
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const c = committed(db)!;
      expect(c.hits.map((h) => h.src).sort()).toEqual([...srcs].sort());
      expect(c.runs[0]).toMatchObject({ status: 'ok' });
      expect(c.runs[0]!.finished_at).not.toBeNull();
      expect(p.logs().filter((l) => l.level >= 50)).toEqual([]);
    }
  });

  it('collect: SIGTERM right after the datagrams came writes hits still pending in memory, closes the run row, exit 0', async () => {
    const { db, list, config } = setup();
    const p = start(['collect', '-q', '--listen', '127.0.0.1:0', '--db', db, '-c', config, '-b', list, '--stats-interval', '0.1']);
    await p.waitForLog((l) => l.msg === 'listening');
    const sock = createSocket('udp4');
    const n = 40;
    for (let i = 0; i < n; i++) sock.send(v5Datagram(i, [srcOf(1000 + i)], POOL, PORT), portOf(p), '127.0.0.1');
    await p.waitForLog((l) => l.msg === 'collector stats' && l.datagrams >= n);
    p.child.kill('SIGTERM');
    const r = await p.done;
    sock.close();
    expect(r.code, r.stderr).toBe(0);
    const c = committed(db)!;
    expect(c.hits).toHaveLength(n);
    expect(c.runs[0]).toMatchObject({ status: 'ok', hits: n, packets: n });
    expect(c.runs[0]!.finished_at).not.toBeNull();
    expect(p.logs().find((l) => l.msg === 'collect finished')).toMatchObject({ datagrams: n, kernelDrops: 0 });
  });

  const canCapture = hasCommand('tcpdump') && process.getuid?.() === 0;
  if (!canCapture) console.warn('skipping the SIGTERM test of scan --interface: it needs tcpdump and root (apt-get install tcpdump)');
  it.skipIf(!canCapture)('scan --interface lo: SIGTERM stops tcpdump, writes the open flow, closes the run row, exit 0', async () => {
    const { dir, db, config } = setup();
    const server = createServer((s) => s.on('data', () => s.write('ok\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const list = join(dir, 'lo-list.txt');
    writeFileSync(list, `127.0.0.1:${port}\n`);
    const p = start(['scan', '-q', '--no-progress', '--db', db, '-c', config, '-b', list, '--interface', 'lo', '--bpf', `tcp port ${port}`]);
    try {
      await p.waitForLog((l) => l.msg === 'blacklist loaded');
      await sleep(1500); // tcpdump starting
      await new Promise<void>((resolve, reject) => {
        const c = createConnection(port, '127.0.0.1', () => c.write('opaque bytes\n'));
        c.on('data', () => c.end());
        c.on('close', () => resolve());
        c.on('error', reject);
      });
      await sleep(700);
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code, r.stderr).toBe(0);
      const c = committed(db)!;
      expect(c.hits).toHaveLength(1);
      expect(c.hits[0]).toMatchObject({ src: '127.0.0.1', pool_ip: '127.0.0.1', pool_port: port, blacklist_entry: `127.0.0.1:${port}` });
      expect(c.runs[0]).toMatchObject({ status: 'ok', hits: 1 });
      expect(c.runs[0]!.packets).toBeGreaterThanOrEqual(6);
    } finally {
      p.child.kill('SIGKILL');
      server.close();
    }
  });
});

describe('SIGHUP reloads the configuration and the lists without stopping', () => {
  it.each([[[]], [['--workers', '2']]])('scan - %j: a pool added to a --blacklist file is flagged for flows after the reload, no packet lost; a bad configuration on reload is logged and the old one kept', async (extra: string[]) => {
    const { db, list, config } = setup();
    const p = start(['scan', '-q', '--no-progress', ...extra, '--db', db, '-c', config, '-b', list, '-']);
    await p.waitForLog((l) => l.msg === 'blacklist loaded');
    let next = 1;
    let sent = 0;
    /** Session i goes to the listed pool when even, to the new pool when odd. */
    const to = (i: number) => (i % 2 === 0 ? { pool: POOL, port: PORT } : { pool: NEW_POOL, port: NEW_PORT });
    const send = () => {
      const i = next++;
      p.write(session(srcOf(i), to(i).pool, to(i).port, sessionTs(i)));
      sent += SESSION_PACKETS;
    };
    p.write(PCAP_HEADER);
    for (let j = 0; j < 40; j++) send();
    // Everything so far read: the hit of the last session to the listed pool but one is written
    // (sessions to the new pool are not hits yet).
    const before = next;
    await waitForHits(db, 19);

    // Packets keep coming during the reload, every 5 ms.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        send();
        await sleep(5);
      }
    })();
    appendFileSync(list, `${NEW_POOL}:${NEW_PORT}\n`);
    p.child.kill('SIGHUP');
    const reloaded = await p.waitForLog((l) => l.msg.startsWith('configuration reloaded'));
    const after = next; // written from now on: read after the swap
    expect(reloaded).toMatchObject({ reload: 1, changed: [], runOnlyEntries: 2, version: { from: 1, to: 2 } });

    // A configuration that does not parse: logged, the one in force stays, the scan goes on.
    writeFileSync(config, 'flows: [\n');
    p.child.kill('SIGHUP');
    const failed = await p.waitForLog((l) => l.msg.startsWith('reload failed'));
    expect(failed).toMatchObject({ level: 50, reload: 2, code: 'PW_ERR_USAGE' });
    expect(failed.msg).toContain(config);
    // A valid one again, with a setting only a restart applies: said so.
    writeConfig(join(config, '..'), ['203.0.113.10:3333'], 'report:\n  batchSize: 100\n');
    p.child.kill('SIGHUP');
    const third = await p.waitForLog((l) => l.msg.startsWith('configuration reloaded') && l.reload === 3);
    expect(third).toMatchObject({ changed: ['batchSize'], needRestart: ['batchSize'] });
    for (let j = 0; j < 20; j++) send();
    writing = false;
    await writer;
    for (let j = 0; j < 10; j++) send();
    p.child.stdin!.end();
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);

    // No packet lost: every packet written was counted.
    const finished = p.logs().find((l) => l.msg === 'scan finished')!;
    expect(finished.packets).toBe(sent);
    const hits = committed(db)!.hits;
    const flagged = new Set(hits.map((h) => h.src));
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, j) => a + j);
    // The listed pool: every session, before, during and after the reloads.
    expect(range(1, next).filter((i) => i % 2 === 0 && !flagged.has(srcOf(i)))).toEqual([]);
    // The new pool: not before the reload, every session after it.
    expect(range(1, before).filter((i) => i % 2 === 1 && flagged.has(srcOf(i)))).toEqual([]);
    const late = range(after, next).filter((i) => i % 2 === 1);
    expect(late.length).toBeGreaterThan(10);
    expect(late.filter((i) => !flagged.has(srcOf(i)))).toEqual([]);
    const h = hits.find((x) => x.src === srcOf(late[0]!))!;
    expect(h).toMatchObject({ pool_ip: NEW_POOL, pool_port: NEW_PORT, evidence: '["blacklist-ip"]', blacklist_entry: `${NEW_POOL}:${NEW_PORT}`, blacklist_version: null });
    expect(lastRun(db)).toMatchObject({ status: 'ok', packets: sent });
  });

  it('collect: an entry added to a configured source is flagged after the reload with the new stored version; a bad configuration changes nothing', async () => {
    const { dir, db, list, config } = setup();
    const p = start(['collect', '-q', '--listen', '127.0.0.1:0', '--db', db, '-c', config, '-b', list, '--stats-interval', '0.1']);
    await p.waitForLog((l) => l.msg === 'listening');
    const sock = createSocket('udp4');
    let seq = 0;
    let src = 5000;
    const send = (pool: string, port: number) => {
      const s = srcOf(src++);
      sock.send(v5Datagram(seq++, [s], pool, port), portOf(p), '127.0.0.1');
      return s;
    };
    const early = Array.from({ length: 10 }, () => send(NEW_POOL, NEW_PORT));
    for (let j = 0; j < 10; j++) send(POOL, PORT);
    await p.waitForLog((l) => l.msg === 'collector stats' && l.datagrams >= seq);

    writeConfig(dir, ['203.0.113.10:3333', `${NEW_POOL}:${NEW_PORT}`]);
    p.child.kill('SIGHUP');
    const reloaded = await p.waitForLog((l) => l.msg.startsWith('configuration reloaded'));
    expect(reloaded).toMatchObject({ version: { from: 1, to: 2 }, entries: { from: 2, to: 3 } });
    const late = Array.from({ length: 10 }, () => send(NEW_POOL, NEW_PORT));
    await p.waitForLog((l) => l.msg === 'collector stats' && l.datagrams >= seq);

    writeFileSync(config, 'poolPorts: [70000]\n');
    p.child.kill('SIGHUP');
    await p.waitForLog((l) => l.msg.startsWith('reload failed'));
    const later = Array.from({ length: 10 }, () => send(NEW_POOL, NEW_PORT));
    await p.waitForLog((l) => l.msg === 'collector stats' && l.datagrams >= seq);
    p.child.kill('SIGTERM');
    const r = await p.done;
    sock.close();
    expect(r.code, r.stderr).toBe(0);
    expect(p.logs().find((l) => l.msg === 'collect finished')).toMatchObject({ datagrams: seq, kernelDrops: 0 });
    const hits = committed(db)!.hits;
    const bySrc = new Map(hits.map((h) => [h.src, h]));
    expect(early.filter((s) => bySrc.has(s))).toEqual([]);
    for (const s of [...late, ...later]) {
      expect(bySrc.get(s), s).toMatchObject({ pool_ip: NEW_POOL, pool_port: NEW_PORT, blacklist_entry: `${NEW_POOL}:${NEW_PORT}`, blacklist_version: 2 });
    }
    expect(hits).toHaveLength(30);
  });
});
