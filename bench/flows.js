// Flow-record figures for `npm run bench`: NetFlow v9 datagrams built here (a Cisco-like
// 9-field template, 24 records a datagram, 1 % of records to listed pools), then
//  - `poolwatch scan --netflow` on a capture of them: decode + match + record, records/s;
//  - `poolwatch collect` on loopback fed at several rates: records sent, received, lost.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RECORDS = 24;
const FIELDS = [[8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [2, 4], [1, 4], [22, 4], [21, 4]];
const RECORD_BYTES = FIELDS.reduce((n, [, l]) => n + l, 0);
const POOLS = Array.from({ length: 50 }, (_, i) => [203, 0, 113, i + 1]);

export function poolList() {
  return POOLS.map((p) => `${p.join('.')}:3333`).join('\n') + '\n';
}

/** Datagram `seq`: header, template every 20th datagram (and the first), 24 records. */
function datagram(seq, withTemplate, x) {
  const tpl = withTemplate ? 8 + FIELDS.length * 4 : 0;
  const dataLen = 4 + RECORDS * RECORD_BYTES;
  const pad = (4 - (dataLen % 4)) % 4;
  const b = Buffer.alloc(20 + tpl + dataLen + pad);
  const uptime = 1_000_000 + seq;
  b.writeUInt16BE(9, 0);
  b.writeUInt16BE(RECORDS + (withTemplate ? 1 : 0), 2);
  b.writeUInt32BE(uptime, 4);
  b.writeUInt32BE(1_790_000_000 + Math.floor(seq / 1000), 8);
  b.writeUInt32BE(seq, 12);
  b.writeUInt32BE(1, 16);
  let o = 20;
  if (withTemplate) {
    b.writeUInt16BE(0, o); b.writeUInt16BE(tpl, o + 2); b.writeUInt16BE(256, o + 4); b.writeUInt16BE(FIELDS.length, o + 6);
    o += 8;
    for (const [t, l] of FIELDS) { b.writeUInt16BE(t, o); b.writeUInt16BE(l, o + 2); o += 4; }
  }
  b.writeUInt16BE(256, o); b.writeUInt16BE(dataLen + pad, o + 2);
  o += 4;
  for (let r = 0; r < RECORDS; r++) {
    x.v = (Math.imul(x.v, 1664525) + 1013904223) >>> 0;
    const v = x.v;
    b.writeUInt32BE((0x0a000000 | (v & 0xffffff)) >>> 0, o); // customer
    const pool = v % 100 === 7 ? POOLS[(v >>> 8) % POOLS.length] : null;
    if (pool) b.set(pool, o + 4); else b.writeUInt32BE((0x17000000 + (v >>> 3)) >>> 0, o + 4);
    b.writeUInt16BE(32768 + (v & 0x3fff), o + 8);
    b.writeUInt16BE(pool ? 3333 : 443, o + 10);
    b[o + 12] = 6;
    b.writeUInt32BE(10 + (v & 63), o + 13);
    b.writeUInt32BE(4000 + (v & 0xffff), o + 17);
    b.writeUInt32BE(uptime - 5000, o + 21);
    b.writeUInt32BE(uptime - 10, o + 25);
    o += RECORD_BYTES;
  }
  return b;
}

/** A pcap of `count` export datagrams to 2055/udp, as `tcpdump -w` on a collector port gives. */
export function buildExportCapture(path, count) {
  const x = { v: 12345 };
  const parts = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0); head.writeUInt16LE(2, 4); head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16); head.writeUInt32LE(1, 20);
  parts.push(head);
  for (let i = 0; i < count; i++) {
    const nf = datagram(i, i % 20 === 0, x);
    const frame = Buffer.alloc(14 + 20 + 8 + nf.length);
    frame.writeUInt16BE(0x0800, 12);
    frame[14] = 0x45; frame.writeUInt16BE(28 + nf.length, 16); frame[22] = 64; frame[23] = 17;
    frame.set([192, 0, 2, 1], 26); frame.set([192, 0, 2, 2], 30);
    frame.writeUInt16BE(50000, 34); frame.writeUInt16BE(2055, 36); frame.writeUInt16BE(8 + nf.length, 38);
    nf.copy(frame, 42);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_790_000_000 + Math.floor(i / 1000), 0); rec.writeUInt32LE((i % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8); rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  writeFileSync(path, Buffer.concat(parts));
  return count * RECORDS;
}

function finished(stderr, msg) {
  const line = stderr.split('\n').find((l) => l.includes(`"${msg}"`));
  return line ? JSON.parse(line) : null;
}

/** scan --netflow on the export capture: records/s for decode + match + record. */
export function scanExports(root, work, path, records, listPath) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'bin/poolwatch.js'), 'scan', '--netflow', '-q', '--no-progress', '-b', listPath, '--db', join(work, 'flows.db'), path], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const fin = finished(r.stderr, 'scan finished');
  return { wall, seconds: fin?.seconds ?? NaN, records, matched: fin?.rules?.matched ?? null, fin };
}

/**
 * The collector on loopback fed for `seconds` at `rate` records/s, sender on the same machine.
 * Returns what was sent and what the collector says it received and decoded.
 */
export async function collectorAtRate(root, work, rate, seconds, listPath) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [join(root, 'bin/poolwatch.js'), 'collect', '--listen', `127.0.0.1:${port}`, '--db', join(work, `collect-${rate}.db`), '-b', listPath, '--recv-buffer', '8MiB', '--stats-interval', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 15000;
  while (!stderr.includes('"listening"')) {
    if (Date.now() > deadline || child.exitCode !== null) { child.kill('SIGKILL'); return null; }
    await new Promise((r) => setTimeout(r, 50));
  }
  const sock = createSocket('udp4');
  const x = { v: 999 };
  const perSecond = Math.max(1, Math.round(rate / RECORDS));
  const total = perSecond * seconds;
  // Prebuilt datagrams, so the sender spends its time sending.
  const grams = Array.from({ length: 200 }, (_, i) => datagram(i, i === 0 || i % 20 === 0, x));
  let sent = 0;
  const t0 = Date.now();
  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.round(((Date.now() - t0) / 1000) * perSecond));
      while (sent < due) {
        const g = grams[sent % grams.length];
        g.writeUInt32BE(sent, 12);
        sock.send(g, port, '127.0.0.1');
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendSeconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  sock.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const fin = finished(stderr, 'collect finished');
  const got = fin?.datagrams ?? 0;
  return { rate, sentDatagrams: sent, sentRecords: sent * RECORDS, sendSeconds, gotDatagrams: got, lost: sent - got, kernelDrops: fin?.kernelDrops ?? null, fin };
}
