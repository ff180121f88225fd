#!/usr/bin/env node
// npm run bench: builds a large capture from the committed fixtures (nothing big is committed),
// then measures poolwatch scan on it: packets/s, MB/s, peak RSS. Peers (ndpiReader, tshark) run on
// the same file in the same run when installed. Always exits 0: the figures go in the README.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.bench');
mkdirSync(work, { recursive: true });
const copies = Number(process.env.BENCH_COPIES ?? 20000);

/** Replicate sample.pcap `copies` times; each copy moves the 10.x customers to their own /16-ish block. */
function buildCapture(path) {
  const src = readFileSync(join(root, 'fixtures/sample.pcap'));
  const records = [];
  for (let off = 24; off + 16 <= src.length; ) {
    const incl = src.readUInt32LE(off + 8);
    records.push(src.subarray(off, off + 16 + incl));
    off += 16 + incl;
  }
  const per = records.reduce((n, r) => n + r.length, 0);
  const out = Buffer.alloc(24 + per * copies);
  src.copy(out, 0, 0, 24);
  let o = 24;
  for (let k = 0; k < copies; k++) {
    for (const r of records) {
      r.copy(out, o);
      const sec = out.readUInt32LE(o) + Math.floor(k / 50);
      out.writeUInt32LE(sec, o);
      const ip = o + 16 + 14;
      if (out[ip] >> 4 === 4) {
        for (const a of [ip + 12, ip + 16]) {
          if (out[a] === 10) {
            out[a + 1] = (k >> 8) & 255;
            out[a + 2] = k & 255;
          }
        }
      }
      o += r.length;
    }
  }
  writeFileSync(path, out);
  return records.length * copies;
}

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  return { ok: r.status === 0 || r.status === 1, secs, rssMB: kb / 1024, status: r.status, stderr: r.stderr };
}

const has = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
const capture = join(work, 'mixed.pcap');
const packets = buildCapture(capture);
const mb = statSync(capture).size / 1e6;
console.log(`machine: ${cpus()[0].model}, ${cpus().length} cores, node ${process.version}`);
console.log(`input: ${capture}: ${packets.toLocaleString()} packets, ${mb.toFixed(1)} MB\n`);

const rows = [];
if (!existsSync('/usr/bin/time')) console.log('(GNU time missing: apt-get install time, for peak RSS)');
const pw = timed(process.execPath, [join(root, 'bin/poolwatch.js'), 'scan', '-q', '--no-progress', '--db', join(work, 'bench.db'), capture]);
rows.push(['poolwatch scan (all rules, SQLite)', pw]);
if (has('ndpiReader')) rows.push(['ndpiReader', timed('ndpiReader', ['-i', capture, '-q'])]);
else console.log('(ndpiReader not installed: apt-get install libndpi-bin to compare)');
if (has('tshark')) rows.push(['tshark -r (read only)', timed('tshark', ['-r', capture, '-T', 'fields', '-e', 'frame.number'])]);

const base = pw.secs > 0 ? packets / pw.secs : 0;
console.log('| tool | seconds | packets/s | MB/s | peak RSS MB | poolwatch / tool |');
console.log('|---|---|---|---|---|---|');
for (const [name, r] of rows) {
  const pps = r.secs > 0 ? packets / r.secs : 0;
  console.log(`| ${name} | ${r.secs.toFixed(2)} | ${(pps / 1e6).toFixed(3)} M | ${(mb / r.secs).toFixed(1)} | ${r.rssMB.toFixed(0)} | ${(base / pps).toFixed(2)}x |`);
}
process.exit(0);
