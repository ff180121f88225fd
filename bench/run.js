#!/usr/bin/env node
// npm run bench: builds its large inputs from code and the committed fixtures (nothing big is
// committed), runs poolwatch and, where installed, ndpiReader and tshark on the same files in the
// same run, and prints tables: packets/s, MB/s, ratio to each peer, peak RSS, the cost of a big
// blacklist, flow records/s and collector loss at several rates. Always exits 0: the figures go
// in the README with the machine they came from.
//   BENCH_QUICK=1  smaller inputs (a smoke run, minutes become seconds)
//   BENCH_NDPI_BIG=0  skip ndpiReader on the 1 M-flow capture (it takes a minute and GBs)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMixedCapture, BULK, SHORT } from './mixed.js';
import { buildExportCapture, collectorAtRate, poolList, scanExports } from './flows.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, '.bench');
mkdirSync(work, { recursive: true });
const quick = process.env.BENCH_QUICK === '1';
const sample = join(root, 'fixtures/sample.pcap');
const pw = join(root, 'bin/poolwatch.js');

/** Build an input once; rebuilt when its recipe changes. */
function cached(name, recipe, build) {
  const path = join(work, name);
  const stampPath = `${path}.json`;
  const want = JSON.stringify(recipe);
  if (existsSync(path) && existsSync(stampPath)) {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    if (JSON.stringify(stamp.recipe) === want) return { path, ...stamp.info };
  }
  const info = build(path);
  writeFileSync(stampPath, JSON.stringify({ recipe, info }));
  return { path, ...info };
}

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [secs, kb] = last.split(' ').map(Number);
  return { ok: r.status === 0 || r.status === 1, secs, rssMB: kb / 1024, status: r.status, stderr: r.stderr };
}
const logLine = (stderr, msg) => JSON.parse(stderr.split('\n').find((l) => l.includes(`"msg":"${msg}"`)) ?? '{}');
const has = (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
const M = (x) => `${(x / 1e6).toFixed(3)} M`;

console.log(`machine: ${cpus()[0].model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
if (!existsSync('/usr/bin/time')) console.log('(GNU time missing: apt-get install time, for peak RSS)');

// ---- 1. Mixed traffic, side by side ----
const mixRecipe = { flows: quick ? 3000 : 30_000, shape: BULK, seed: 1, v: 1 };
const mix = cached('mix.pcap', mixRecipe, (p) => buildMixedCapture(p, { ...mixRecipe, samplePath: sample }));
const mixMB = statSync(mix.path).size / 1e6;
console.log(`\nmixed traffic: ${mix.path}: ${mix.packets.toLocaleString()} packets, ${mixMB.toFixed(0)} MB, ${mix.flows.toLocaleString()} flows (HTTPS, HTTP, DNS, QUIC-like UDP; ${mix.miningFlows} replay sample.pcap's pool conversations)`);
const rows = [];
const scanArgs = (extra, input) => [pw, 'scan', '-q', '--no-progress', ...extra, input];
const helpText = spawnSync(process.execPath, [pw, 'scan', '--help'], { encoding: 'utf8' }).stdout;
// Page cache warm for everyone: the first reader would otherwise pay the disk.
spawnSync('cat', [mix.path], { stdio: ['ignore', 'ignore', 'ignore'] });
const pw1 = timed(process.execPath, scanArgs(['--db', join(work, 'bench.db')], mix.path));
rows.push(['poolwatch scan (all rules, SQLite file)', pw1]);
if (helpText.includes('--workers')) {
  rows.push(['poolwatch scan --workers 2', timed(process.execPath, scanArgs(['--workers', '2', '--db', join(work, 'bench-w2.db')], mix.path))]);
}
if (has('ndpiReader')) rows.push(['ndpiReader (nDPI)', timed('ndpiReader', ['-i', mix.path, '-q'])]);
else console.log('(ndpiReader not installed: apt-get install libndpi-bin to compare)');
if (has('tshark')) rows.push(['tshark -r (read only)', timed('tshark', ['-r', mix.path, '-T', 'fields', '-e', 'frame.number'])]);

console.log('\n| tool | seconds | packets/s | MB/s | peak RSS MB | poolwatch (1 thread) ÷ this row, packets/s |');
console.log('|---|---|---|---|---|---|');
for (const [name, r] of rows) {
  const pps = r.secs > 0 ? mix.packets / r.secs : 0;
  console.log(`| ${name} | ${r.secs.toFixed(2)} | ${M(pps)} | ${(mixMB / r.secs).toFixed(0)} | ${r.rssMB.toFixed(0)} | ${(r.secs / pw1.secs).toFixed(2)}x |`);
}
const s1 = logLine(pw1.stderr, 'scan finished');
console.log(`poolwatch: ${s1.flaggedFlows} flows flagged, ${s1.sourcesFlagged} sources; analysis alone ${s1.seconds} s (${M(s1.packetsPerSecond)} packets/s)`);

// ---- 1b. Inspection-heavy: every flow a mining session (sample.pcap many times over) ----
/** Replicate sample.pcap `copies` times; each copy moves the 10.x customers to their own addresses. */
function buildMiningCapture(path, copies) {
  const src = readFileSync(sample);
  const records = [];
  for (let off = 24; off + 16 <= src.length; ) {
    const incl = src.readUInt32LE(off + 8);
    records.push(src.subarray(off, off + 16 + incl));
    off += 16 + incl;
  }
  const out = Buffer.alloc(24 + records.reduce((n, r) => n + r.length, 0) * copies);
  src.copy(out, 0, 0, 24);
  let o = 24;
  for (let k = 0; k < copies; k++) {
    for (const r of records) {
      r.copy(out, o);
      out.writeUInt32LE(out.readUInt32LE(o) + Math.floor(k / 50), o);
      const ip = o + 16 + 14;
      if (out[ip] >> 4 === 4) {
        for (const a of [ip + 12, ip + 16]) {
          if (out[a] === 10) { out[a + 1] = (k >> 8) & 255; out[a + 2] = k & 255; }
        }
      }
      o += r.length;
    }
  }
  writeFileSync(path, out);
  return { packets: records.length * copies, copies };
}
const mining = cached('mining.pcap', { copies: quick ? 2000 : 20_000, v: 1 }, (p) => buildMiningCapture(p, quick ? 2000 : 20_000));
console.log(`\ninspection-heavy: ${mining.path}: ${mining.packets.toLocaleString()} packets, ${(statSync(mining.path).size / 1e6).toFixed(0)} MB, sample.pcap ${mining.copies.toLocaleString()} times (7 flows each, 3 of them mining)`);
const heavy = [['poolwatch scan', timed(process.execPath, scanArgs(['--db', join(work, 'bench-mining.db')], mining.path))]];
if (helpText.includes('--workers')) heavy.push(['poolwatch scan --workers 2', timed(process.execPath, scanArgs(['--workers', '2', '--db', join(work, 'bench-mining-w2.db')], mining.path))]);
if (has('ndpiReader')) heavy.push(['ndpiReader (nDPI)', timed('ndpiReader', ['-i', mining.path, '-q'])]);
console.log('\n| tool | seconds | packets/s | peak RSS MB | poolwatch (1 thread) ÷ this row, packets/s |');
console.log('|---|---|---|---|---|');
for (const [name, r] of heavy) console.log(`| ${name} | ${r.secs.toFixed(2)} | ${M(mining.packets / r.secs)} | ${r.rssMB.toFixed(0)} | ${(r.secs / heavy[0][1].secs).toFixed(2)}x |`);

// ---- 2. Memory: many short flows ----
const bigRecipe = { flows: quick ? 100_000 : 1_000_000, concurrent: quick ? 10_000 : 100_000, shape: SHORT, seed: 2, v: 1 };
const big = cached('flows-1m.pcap', bigRecipe, (p) => buildMixedCapture(p, { ...bigRecipe, samplePath: sample }));
console.log(`\nmany flows: ${big.path}: ${big.packets.toLocaleString()} packets, ${(statSync(big.path).size / 1e6).toFixed(0)} MB, ${big.flows.toLocaleString()} flows, ${bigRecipe.concurrent.toLocaleString()} open at once`);
const memRows = [['poolwatch scan', timed(process.execPath, scanArgs(['--db', join(work, 'bench-big.db')], big.path))]];
if (has('ndpiReader') && process.env.BENCH_NDPI_BIG !== '0') memRows.push(['ndpiReader (nDPI)', timed('ndpiReader', ['-i', big.path, '-q'])]);
console.log('\n| tool | seconds | packets/s | peak RSS MB |');
console.log('|---|---|---|---|');
for (const [name, r] of memRows) console.log(`| ${name} | ${r.secs.toFixed(2)} | ${M(big.packets / r.secs)} | ${r.rssMB.toFixed(0)} |`);
const sb = logLine(memRows[0][1].stderr, 'scan finished');
console.log(`poolwatch: ${sb.flows?.toLocaleString()} flows tracked, ${sb.flowsEvicted} evicted, ${sb.flaggedFlows} flagged`);

// ---- 3. The cost of a big blacklist ----
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
const bigList = join(work, 'list-1m.txt');
writeFileSync(bigList, randomList(1_000_000));
const smallList = join(work, 'list-10.txt');
writeFileSync(smallList, randomList(10));
const withList = (list) => timed(process.execPath, scanArgs(['-b', list], mix.path));
// Twice each, best of two: the difference sought is a few per cent.
const best = (f) => [f(), f()].sort((a, b) => logLine(a.stderr, 'scan finished').seconds - logLine(b.stderr, 'scan finished').seconds)[0];
const pwSmall = best(() => withList(smallList));
const pwBig = best(() => withList(bigList));
const [s10, s1m] = [logLine(pwSmall.stderr, 'scan finished').seconds, logLine(pwBig.stderr, 'scan finished').seconds];
console.log('\n| poolwatch scan (mixed traffic) with | scan seconds (list loading excluded) | packets/s | whole run seconds | peak RSS MB |');
console.log('|---|---|---|---|---|');
console.log(`| default list + 10 entries | ${s10.toFixed(2)} | ${M(mix.packets / s10)} | ${pwSmall.secs.toFixed(2)} | ${pwSmall.rssMB.toFixed(0)} |`);
console.log(`| default list + 1,000,000 entries | ${s1m.toFixed(2)} | ${M(mix.packets / s1m)} | ${pwBig.secs.toFixed(2)} | ${pwBig.rssMB.toFixed(0)} |`);
console.log(`cost per packet, 1,000,000 vs 10 extra entries: ${((s1m / s10 - 1) * 100).toFixed(1)} %`);

// Lookups alone: the same 2 M probes (hits and misses, IPv4 and IPv6) against 10 and 1,000,000 entries.
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
console.log('\n| blacklist entries | lookups/s | hits in 2 M |');
console.log('|---|---|---|');
console.log(`| 10 | ${(small.rate / 1e6).toFixed(1)} M | ${small.hits} |`);
console.log(`| 1,000,000 | ${(large.rate / 1e6).toFixed(1)} M | ${large.hits} |`);

// ---- 4. Flow records ----
const pools = join(work, 'pools.txt');
writeFileSync(pools, poolList());
const exportsInfo = cached('exports.pcap', { datagrams: quick ? 5000 : 40_000, v: 1 }, (p) => ({ records: buildExportCapture(p, quick ? 5000 : 40_000) }));
const ex = scanExports(root, work, exportsInfo.path, exportsInfo.records, pools);
console.log('\n| flow records, one core | records/s |');
console.log('|---|---|');
const vb = spawnSync('npx', ['vitest', 'bench', '--run', 'bench/netflow-decode.bench.ts'], { cwd: root, encoding: 'utf8' });
for (const line of (vb.stdout ?? '').split('\n')) {
  const m = /·\s+(.+?datagram, (\d+) (?:\w+ )?records.*?)\s{2,}([\d,.]+)\s/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
  if (m) console.log(`| ${m[1].trim()}, decode only | ${((Number(m[3].replace(/,/g, '')) * Number(m[2])) / 1e6).toFixed(2)} M |`);
}
console.log(`| \`scan --netflow\`: v9, ${exportsInfo.records.toLocaleString()} records (decode + match + record, ${ex.matched} matched) | ${M(exportsInfo.records / ex.seconds)} |`);

console.log('\n| collector on loopback, v9, 24 records a datagram, sender on the same cores | records/s offered | datagrams sent | received | lost | counted as kernel drops |');
console.log('|---|---|---|---|---|---|');
for (const rate of quick ? [100_000] : [100_000, 400_000, 800_000, 1_600_000, 3_200_000]) {
  const c = await collectorAtRate(root, work, rate, quick ? 2 : 4, pools);
  if (c === null) { console.log(`| ${rate} | collector did not start | | | | |`); continue; }
  const offered = c.sentRecords / c.sendSeconds;
  console.log(`| \`poolwatch collect\` | ${M(offered)} | ${c.sentDatagrams.toLocaleString()} | ${c.gotDatagrams.toLocaleString()} | ${c.lost.toLocaleString()} (${((100 * c.lost) / c.sentDatagrams).toFixed(1)} %) | ${c.kernelDrops} |`);
}
process.exit(0);
