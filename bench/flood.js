#!/usr/bin/env node
// node bench/flood.js [--seconds 10] [--rate 8000] [--fakes 3000] [--genuine-ms 250]   (after npm run build)
//
// The collector under a flood (issue #7): `poolwatch collect` on a loopback port, and a sender
// process (the other core) firing, at a paced rate, a mix of garbage, IPFIX template churn (new
// templates every datagram, plus data for templates nobody sends) and NetFlow v9 datagrams of
// random source ids, from `--fakes` fake exporters (sockets bound to 127.1.x.y). Beside it one
// genuine IPFIX exporter (127.0.0.1) sends its template ONCE, then every `--genuine-ms` a record
// from a new customer address to a listed pool (more fake exporters than maxExporters speak up
// between two of its datagrams). Prints what was sent, what the collector handled and
// what the kernel dropped (its stats), the collector's peak RSS (VmHWM) and decoder state, and
// how many of the genuine records became hits. Always exits 0: the figures go in the README.
// FLOOD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" passes node options to the collector.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SECS = Math.floor(Date.now() / 1000);
const POOL = [203, 0, 113, 77];
const POOL_PORT = 14444;

// ------------------------------------------------------------------------------ datagrams

function ipfixHeader(len, seq, domain) {
  const b = Buffer.alloc(16);
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(len, 2);
  b.writeUInt32BE(SECS, 4);
  b.writeUInt32BE(seq >>> 0, 8);
  b.writeUInt32BE(domain >>> 0, 12);
  return b;
}

function ipfix(seq, domain, ...sets) {
  const body = Buffer.concat(sets);
  return Buffer.concat([ipfixHeader(16 + body.length, seq, domain), body]);
}

function set(id, body) {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(4 + body.length, 2);
  return Buffer.concat([h, body]);
}

/** Template set: [id, [[element, length], ...]], ... */
function templates(...ts) {
  return set(
    2,
    Buffer.concat(
      ts.map(([id, fields]) => {
        const b = Buffer.alloc(4 + fields.length * 4);
        b.writeUInt16BE(id, 0);
        b.writeUInt16BE(fields.length, 2);
        fields.forEach(([e, l], i) => {
          b.writeUInt16BE(e, 4 + i * 4);
          b.writeUInt16BE(l, 6 + i * 4);
        });
        return b;
      }),
    ),
  );
}

// sourceIPv4Address 8, destinationIPv4Address 12, sourceTransportPort 7, destinationTransportPort 11,
// protocolIdentifier 4, octetDeltaCount 1, packetDeltaCount 2
const GENUINE_FIELDS = [[8, 4], [12, 4], [7, 2], [11, 2], [4, 1], [1, 4], [2, 4]];

function genuineRecord(k) {
  const r = Buffer.alloc(21);
  Buffer.from([10, 77, (k >> 8) & 255, k & 255]).copy(r, 0);
  Buffer.from(POOL).copy(r, 4);
  r.writeUInt16BE(40000 + (k % 20000), 8);
  r.writeUInt16BE(POOL_PORT, 10);
  r[12] = 6;
  r.writeUInt32BE(5000 + k, 13);
  r.writeUInt32BE(20, 17);
  return r;
}

/** The flood's datagram kinds; each gets a fresh buffer from a few templates patched per send. */
function floodKinds() {
  // 1. garbage: 64-1400 bytes whose version field is no flow export version
  const garbage = Array.from({ length: 16 }, (_, i) => {
    const b = Buffer.alloc(64 + ((i * 331) % 1336));
    for (let k = 0; k < b.length; k++) b[k] = (k * 7919 + i * 104729) & 255;
    b.writeUInt16BE(0xdead, 0);
    return b;
  });
  // 2. IPFIX template churn: 20 new templates of 100 fields, and a data set for a template never sent
  const churnFields = Array.from({ length: 100 }, (_, i) => [8 + (i % 2) * 4, 4]);
  const churn = ipfix(0, 0, templates(...Array.from({ length: 20 }, (_, i) => [256 + i, churnFields])), set(60000, Buffer.alloc(600)));
  const churnIds = Array.from({ length: 20 }, (_, i) => 16 + 4 + i * (4 + 100 * 4));
  // 3. NetFlow v9 with a random source id: a small template and data for it, plus data waiting
  //    for a template that never comes
  const v9 = Buffer.alloc(20 + 4 + 4 + 8 + 4 + 8 + 4 + 200);
  v9.writeUInt16BE(9, 0);
  v9.writeUInt32BE(SECS, 8);
  let o = 20;
  v9.writeUInt16BE(0, o); // template flowset
  v9.writeUInt16BE(16, o + 2);
  v9.writeUInt16BE(256, o + 4);
  v9.writeUInt16BE(2, o + 6);
  v9.writeUInt16BE(8, o + 8); // src 4
  v9.writeUInt16BE(4, o + 10);
  v9.writeUInt16BE(12, o + 12); // dst 4
  v9.writeUInt16BE(4, o + 14);
  o += 16;
  v9.writeUInt16BE(256, o);
  v9.writeUInt16BE(12, o + 2);
  Buffer.from([10, 66, 0, 1, 198, 51, 100, 1]).copy(v9, o + 4);
  o += 12;
  v9.writeUInt16BE(999, o);
  v9.writeUInt16BE(v9.length - o, o + 2);
  let n = 0;
  return {
    garbage: () => garbage[n++ & 15],
    churn: () => {
      n++;
      for (let i = 0; i < 20; i++) churn.writeUInt16BE(256 + ((n * 20 + i) % 65000), churnIds[i]);
      churn.writeUInt32BE(n & 7, 12); // one of 8 observation domains
      churn.writeUInt32BE(n, 8);
      return churn;
    },
    v9: () => {
      n++;
      v9.writeUInt32BE(n, 16); // source id
      v9.writeUInt32BE(n, 12);
      return v9;
    },
  };
}

// --------------------------------------------------------------------------------- sender

async function sender(port, seconds, rate, fakes, genuineMs) {
  const bind = (s, address) => new Promise((res, rej) => s.once('error', rej).bind(0, address, () => res()));
  const socks = [];
  for (let i = 0; i < fakes; i++) {
    const s = createSocket('udp4');
    await bind(s, `127.1.${(i >> 8) & 255}.${i & 255}`);
    s.on('error', () => {});
    socks.push(s);
  }
  const genuine = createSocket('udp4');
  await bind(genuine, '127.0.0.1');
  genuine.on('error', () => {});
  const kinds = floodKinds();
  const sent = { garbage: 0, churn: 0, v9: 0, genuine: 0, genuineRecords: 0, templateOnce: 1 };

  // The genuine exporter: its template once, then one record every genuineMs, from a second
  // before the flood starts (a router that was exporting when the attack began).
  let seq = 0;
  genuine.send(ipfix(seq, 1, templates([256, GENUINE_FIELDS])), port, '127.0.0.1');
  const genuineSend = () => {
    const k = sent.genuineRecords++;
    genuine.send(ipfix(seq++, 1, set(256, genuineRecord(k))), port, '127.0.0.1');
    sent.genuine++;
  };
  const gTimer = setInterval(genuineSend, genuineMs);
  await sleep(1000);

  const t0 = performance.now();
  let total = 0;
  const order = ['garbage', 'churn', 'v9', 'garbage', 'churn', 'v9', 'garbage'];
  await new Promise((resolve) => {
    const tick = () => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds) return resolve();
      const due = Math.min(Math.floor(elapsed * rate), total + 2000);
      for (; total < due; total++) {
        const kind = order[total % order.length];
        const s = socks[(total * 7919) % fakes];
        s.send(kinds[kind](), port, '127.0.0.1');
        sent[kind]++;
      }
      setImmediate(tick);
    };
    tick();
  });
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(gTimer);
  await sleep(200);
  for (const s of socks) s.close();
  genuine.close();
  process.stdout.write(JSON.stringify({ ...sent, flood: total, seconds: elapsed }) + '\n');
}

// ------------------------------------------------------------------------------ collector

function rssPeakKiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function main() {
  const seconds = arg('seconds', 10);
  const rate = arg('rate', 8000);
  const fakes = arg('fakes', 3000);
  const genuineMs = arg('genuine-ms', 250);
  const dir = mkdtempSync(join(tmpdir(), 'pw-flood-'));
  const db = join(dir, 'hits.db');
  const bin = join(root, 'bin/poolwatch.js');
  const c = spawn(process.execPath, [...(process.env.FLOOD_NODE_ARGS ?? '').split(' ').filter(Boolean), bin, 'collect', '--listen', '127.0.0.1:0', '--db', db, '-b', join(root, 'fixtures/pools.txt'), '--stats-interval', '1', '--recv-buffer', '8MiB'], { cwd: root });
  let stderr = '';
  c.stderr.on('data', (d) => (stderr += d));
  c.stdout.resume();
  const exited = new Promise((r) => c.on('close', (code) => r(code)));
  const lines = () => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return {};
    }
  });
  try {
    let port = null;
    for (let i = 0; i < 400 && port === null; i++) {
      const l = lines().find((x) => x.msg === 'listening');
      if (l) port = Number(l.sockets[0].split(':').pop());
      else await sleep(25);
    }
    if (port === null) throw new Error(`collector did not start: ${stderr.slice(0, 2000)}`);

    console.log(`flood: ${seconds} s at ${rate} datagrams/s asked, from ${fakes} fake exporters (127.1.x.y), one genuine exporter (127.0.0.1, a record every ${genuineMs} ms); load average ${loadavg()[0].toFixed(1)}`);
    const s = spawn(process.execPath, [fileURLToPath(import.meta.url), '--sender', String(port), String(seconds), String(rate), String(fakes), String(genuineMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    s.stdout.on('data', (d) => (out += d));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssPeakKiB(c.pid) ?? 0)), 250);
    await new Promise((r) => s.on('close', r));
    const sent = JSON.parse(out.trim().split('\n').pop());
    // Let the collector take what is in its socket buffer, then one more stats line.
    await sleep(1500);
    clearInterval(sampler);
    peak = Math.max(peak, rssPeakKiB(c.pid) ?? 0);
    c.kill('SIGINT');
    const code = await exited;
    const fin = lines().find((l) => l.msg === 'collect finished');
    if (!fin) throw new Error(`collector exited ${code} without its final line: ${stderr.slice(-2000)}`);

    const { default: Database } = await import('better-sqlite3');
    const h = new Database(db, { readonly: true });
    const hits = h.prepare("SELECT COUNT(*) AS n FROM hits WHERE src LIKE '10.77.%' AND pool_ip = '203.0.113.77'").get().n;
    h.close();
    const genuine = fin.exporters.filter((e) => e.exporter === '127.0.0.1');
    const logLines = lines().length;
    const sentTotal = sent.flood + sent.genuine + 1;
    const handled = fin.datagrams;
    const f = (x) => Math.round(x).toLocaleString('en-US');
    console.log(`sent:      ${f(sentTotal)} datagrams in ${sent.seconds.toFixed(1)} s = ${f(sentTotal / sent.seconds)}/s (garbage ${f(sent.garbage)}, template churn ${f(sent.churn)}, v9 random domains ${f(sent.v9)}, genuine ${f(sent.genuine + 1)})`);
    console.log(`collector: handled ${f(handled)} (${f(handled / sent.seconds)}/s, ${((100 * handled) / sentTotal).toFixed(1)} %), kernel drops ${fin.kernelDrops ?? 'n/a'}`);
    console.log(`decoder:   ${JSON.stringify(fin.decoder)}`);
    console.log(`peak RSS:  ${(peak / 1024).toFixed(0)} MiB (VmHWM of the collector)`);
    const state = genuine.length === 0 ? 'not among the exporters listed' : JSON.stringify(genuine.map((g) => ({ records: g.records, templates: g.templates, established: g.established, recordsDropped: g.recordsDropped })));
    console.log(`genuine:   ${hits} hits of ${sent.genuineRecords} records sent (template sent once, a second before the flood); its state at the end: ${state}`);
    const count = (pred) => lines().filter(pred).length;
    console.log(
      `log:       ${f(logLines)} lines, ${(stderr.length / 1048576).toFixed(1)} MiB on stderr (templates learned ${f(count((l) => /^templates learned/.test(l.msg)))}, ` +
        `exporter seen ${f(count((l) => l.msg === 'exporter seen'))}, warnings ${f(count((l) => l.level === 40))}, stats ${f(count((l) => l.msg === 'collector stats'))})`,
    );
  } catch (e) {
    console.log(`flood bench failed: ${e.message}`);
    c.kill('SIGKILL');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--sender') {
  sender(...process.argv.slice(3, 8).map(Number)).catch((e) => {
    console.error(`sender: ${e.message}`);
    process.stdout.write(JSON.stringify({ garbage: 0, churn: 0, v9: 0, genuine: 0, genuineRecords: 0, flood: 0, seconds: 1 }) + '\n');
  });
} else {
  main().finally(() => process.exit(0));
}
