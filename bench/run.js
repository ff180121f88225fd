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

/** `n` random list lines: /32s and /24s, a fifth with a port. */
function randomList(n) {
  const lines = [];
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const v24 = i % 3 === 0;
    const a = `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${v24 ? 0 : x & 255}${v24 ? '/24' : ''}`;
    lines.push(i % 5 === 0 ? `${a}:3333` : a);
  }
  return lines.join('\n') + '\n';
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
// The same scan with a 1,000,000-entry list added: the scan's own timing (logged, list loading
// excluded) tells whether the per-packet cost grows with the list.
const bigList = join(work, 'list-1m.txt');
writeFileSync(bigList, randomList(1_000_000));
const smallList = join(work, 'list-10.txt');
writeFileSync(smallList, randomList(10));
const scanSeconds = (r) => JSON.parse(r.stderr.split('\n').find((l) => l.includes('"scan finished"')) ?? '{}').seconds;
const withList = (list) => timed(process.execPath, [join(root, 'bin/poolwatch.js'), 'scan', '-q', '--no-progress', '-b', list, capture]);
const pwSmall = withList(smallList);
const pwBig = withList(bigList);
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

// Blacklist lookup cost as the list grows: the same 2 M lookups (a mix of hits and misses, IPv4
// and IPv6) against 10 and 1,000,000 entries. The pipeline calls match() once per new flow end.
const { buildIndex } = await import(join(root, 'dist/blacklist/index.js'));
function entries(n) {
  const out = [];
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const v6 = i % 8 === 0;
    const addr = new Uint8Array(v6 ? 16 : 4);
    if (v6) { addr[0] = 0x20; addr[1] = 0x01; addr[4] = x >>> 24; addr[5] = x >>> 16; addr[6] = x >>> 8; addr[7] = x; }
    else { addr[0] = x >>> 24; addr[1] = x >>> 16; addr[2] = x >>> 8; addr[3] = x; }
    const prefixLen = v6 ? 64 : i % 3 === 0 ? 24 : 32;
    if (!v6 && prefixLen === 24) addr[3] = 0;
    const port = i % 5 === 0 ? 3333 : 0;
    out.push({ version: v6 ? 6 : 4, addr, prefixLen, portLo: port, portHi: port || 65535, text: String(i), source: 'bench' });
  }
  return out;
}
// Half the probes are entries both lists hold (hits), half random addresses (misses in both).
const known = entries(10);
const probes = [];
for (let i = 0, x = 12345; i < 4096; i++) {
  x = (Math.imul(x, 22695477) + 1) >>> 0;
  const e = known[i % 10];
  const addr = new Uint8Array(16);
  if (i % 2 === 0) addr.set(e.addr);
  else for (let k = 0; k < 16; k++) addr[k] = (x >>> (k % 4) * 8) ^ k;
  probes.push({ addr, version: i % 2 === 0 ? e.version : i % 16 === 1 ? 6 : 4 });
}
function lookupRate(n) {
  const idx = buildIndex(entries(n));
  const lookups = 2_000_000;
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lookups; i++) {
    const p = probes[i & 4095];
    if (idx.match(p.addr, p.version, 3333) !== null) hits++;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: lookups / secs, hits };
}
lookupRate(10); // warm up the JIT on the same code path
const small = lookupRate(10);
const large = lookupRate(1_000_000);
const [s10, s1m] = [scanSeconds(pwSmall), scanSeconds(pwBig)];
console.log('\n| poolwatch scan with | scan seconds (list loading excluded) | packets/s | list load + scan, peak RSS MB |');
console.log('|---|---|---|---|');
console.log(`| default list + 10 entries | ${s10.toFixed(2)} | ${(packets / s10 / 1e6).toFixed(3)} M | ${pwSmall.rssMB.toFixed(0)} |`);
console.log(`| default list + 1,000,000 entries | ${s1m.toFixed(2)} | ${(packets / s1m / 1e6).toFixed(3)} M | ${pwBig.rssMB.toFixed(0)} |`);
console.log(`cost per packet, 1,000,000 vs 10 extra entries: ${((s1m / s10 - 1) * 100).toFixed(1)} %`);

console.log('\n| blacklist entries | lookups/s | hits in 2 M |');
console.log('|---|---|---|');
console.log(`| 10 | ${(small.rate / 1e6).toFixed(2)} M | ${small.hits} |`);
console.log(`| 1,000,000 | ${(large.rate / 1e6).toFixed(2)} M | ${large.hits} |`);
console.log(`cost per lookup, 1,000,000 vs 10 entries: ${((small.rate / large.rate - 1) * 100).toFixed(1)} %`);

// Flow-record decoding (NetFlow v9, IPFIX): vitest's bench runner compiles the TypeScript bench.
console.log('\nflow-record decoding, one core (records/s = hz x records a datagram):');
const vb = spawnSync('npx', ['vitest', 'bench', '--run', 'bench/netflow-decode.bench.ts'], { cwd: root, encoding: 'utf8' });
for (const line of (vb.stdout ?? '').split('\n')) {
  const m = /·\s+(.+?datagram, (\d+) (?:\w+ )?records.*?)\s{2,}([\d,.]+)\s/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  if (m) console.log(`  ${m[1].trim()}: ${((Number(m[3].replace(/,/g, '')) * Number(m[2])) / 1e6).toFixed(2)} M records/s`);
}
process.exit(0);
