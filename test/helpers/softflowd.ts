/**
 * Real flow-export tools for the end-to-end tests: softflowd (turns a capture into NetFlow v5, v9
 * or IPFIX export datagrams), nfcapd + nfdump (the reference collector and reader), tcpdump (to
 * keep the export datagrams as a capture). All Debian packages (`apt-get install softflowd nfdump
 * tcpdump`); tcpdump on loopback needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { hasCommand } from './cli.js';

export const isRoot = process.getuid?.() === 0;
export const haveSoftflowd = hasCommand('softflowd');
export const haveNfdump = hasCommand('nfcapd') && hasCommand('nfdump');
export const haveTcpdump = hasCommand('tcpdump') && isRoot;

/** Resolves when `text` shows up in what the child wrote so far (stdout or stderr), or rejects after `ms`. */
function waitFor(child: ChildProcess, out: () => string, text: string | RegExp, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const o = out();
      if (typeof text === 'string' ? o.includes(text) : text.test(o)) return resolve();
      if (child.exitCode !== null) return reject(new Error(`${what} exited (${child.exitCode}): ${o}`));
      if (Date.now() - t0 > ms) return reject(new Error(`${what} did not say ${text} within ${ms} ms: ${o}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('close', (code) => r(code)));
}

/**
 * softflowd reads `pcap` and exports every flow in it to 127.0.0.1:port when the file ends
 * (flows are flushed at end of file). -a: flow times from the capture, not the clock; -d: stay in
 * the foreground. No -c: with -r softflowd opens no control socket, but a -c given after -r
 * brings it back, and softflowd 1.1.0 then reads uninitialised poll results in file mode and can
 * block for ever in accept() (depending on what is on its stack).
 */
export async function softflowdExport(pcap: string, port: number, version: 5 | 9 | 10): Promise<{ output: string; status: number | null; datagrams: number }> {
  const args = ['-d', '-a', '-n', `127.0.0.1:${port}`, '-v', String(version)];
  // v9 and IPFIX carry IPv6 flows; v5 cannot.
  if (version !== 5) args.push('-6');
  args.push('-r', pcap);
  const child = spawn('softflowd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const status = await exited(child);
  clearTimeout(timer);
  // "Flows exported: 7 (13 records) in 1 packets (0 failures)"
  const datagrams = Number(/Flows exported: \d+ \(\d+ records\) in (\d+) packets/.exec(output)?.[1] ?? NaN);
  return { output, status, datagrams };
}

/** nfcapd on 127.0.0.1:port writing into `dir`; stop() ends it (SIGTERM), which flushes its file. */
export async function startNfcapd(port: number, dir: string): Promise<{ stop: () => Promise<string> }> {
  mkdirSync(dir, { recursive: true });
  const child = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-t', '3600'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await waitFor(child, () => out, 'Startup', 10_000, 'nfcapd');
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited(child);
      return out;
    },
  };
}

/** nfdump -o csv over every file nfcapd wrote into `dir`, in UTC. */
export function nfdumpCsv(dir: string, extra: string[] = []): string {
  const files = readdirSync(dir).filter((f) => f.startsWith('nfcapd.') && !f.includes('current'));
  if (files.length === 0) throw new Error(`nfcapd wrote no file into ${dir}`);
  const r = spawnSync('nfdump', ['-R', dir, '-o', 'csv', ...extra], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`nfdump failed: ${r.stderr}`);
  return r.stdout.toString();
}

/**
 * tcpdump on loopback writing a pcap of `filter` to its stdout; stop() ends it and returns the
 * capture. --immediate-mode: without it the kernel hands packets over in ring-buffer blocks (up
 * to a second late), and a tcpdump stopped before that loses them.
 */
export async function startTcpdump(filter: string): Promise<{ stop: () => Promise<Buffer> }> {
  const child = spawn('tcpdump', ['-i', 'lo', '--immediate-mode', '-U', '-w', '-', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => chunks.push(d));
  child.stderr!.on('data', (d) => (err += d));
  await waitFor(child, () => err, 'listening on', 10_000, 'tcpdump');
  return {
    stop: async () => {
      // Give the kernel a moment to hand tcpdump the last datagrams before it stops.
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGINT');
      await exited(child);
      return Buffer.concat(chunks);
    },
  };
}

/** Flow totals of nfdump CSV text: the records, their packets and bytes. */
export function csvTotals(csv: string): { flows: number; packets: number; bytes: number; keys: string[] } {
  const lines = csv.split('\n');
  const header = lines[0]!.split(',');
  const col = (n: string) => header.indexOf(n);
  const out = { flows: 0, packets: 0, bytes: 0, keys: [] as string[] };
  for (const l of lines.slice(1)) {
    if (!/^\d{4}-/.test(l)) continue;
    const f = l.split(',');
    out.flows++;
    out.packets += Number(f[col('ipkt')]);
    out.bytes += Number(f[col('ibyt')]);
    out.keys.push(`${f[col('sa')]} ${f[col('sp')]} > ${f[col('da')]} ${f[col('dp')]} ${f[col('pr')]} ${f[col('ipkt')]} ${f[col('ibyt')]}`);
  }
  out.keys.sort();
  return out;
}


/**
 * What nfdump 1.7.1 (Debian 12) printed for `nfdump -R DIR -o csv` (TZ=UTC) after nfcapd received
 * softflowd's NetFlow v9 export (-a) of fixtures/sample.pcap, then of fixtures/blacklisted-tls.pcap:
 * real tool output, for machines without nfdump.
 */
export const RECORDED_NFDUMP_CSV = [
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr',
  '2024-03-01 08:00:00,2024-03-01 08:00:00,0.140,10.20.30.40,198.51.100.10,50123,3333,TCP,...AP.SF,0,0,8,753,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:00,2024-03-01 08:00:00,0.140,198.51.100.10,10.20.30.40,3333,50123,TCP,...AP.SF,0,0,7,1025,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:01,2024-03-01 08:00:01,0.110,10.20.30.50,203.0.113.77,41000,14444,TCP,...AP.SF,0,0,7,804,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:01,2024-03-01 08:00:01,0.110,203.0.113.77,10.20.30.50,14444,41000,TCP,...AP.SF,0,0,5,990,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:02,2024-03-01 08:00:02,0.240,10.20.30.60,198.51.100.20,42000,8008,TCP,...AP.SF,0,0,16,1247,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:02,2024-03-01 08:00:02,0.240,198.51.100.20,10.20.30.60,8008,42000,TCP,...AP.SF,0,0,9,681,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:03,2024-03-01 08:00:03,0.070,10.20.30.41,192.0.2.80,51000,80,TCP,...AP.SF,0,0,5,289,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:03,2024-03-01 08:00:03,0.070,192.0.2.80,10.20.30.41,80,51000,TCP,...AP.SF,0,0,3,228,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:04,2024-03-01 08:00:04,0.070,10.20.30.41,192.0.2.81,51001,8332,TCP,...AP.SF,0,0,5,389,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:04,2024-03-01 08:00:04,0.070,192.0.2.81,10.20.30.41,8332,51001,TCP,...AP.SF,0,0,3,232,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:05,2024-03-01 08:00:05,0.090,10.20.30.41,192.0.2.82,51002,3333,TCP,...AP.SF,0,0,6,472,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:05,2024-03-01 08:00:05,0.090,192.0.2.82,10.20.30.41,3333,51002,TCP,...AP.SF,0,0,4,270,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 08:00:06,2024-03-01 08:00:06,0.000,10.20.30.41,192.0.2.53,53001,53,UDP,........,0,0,1,61,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.970',
  '2024-03-01 07:59:59,2024-03-01 08:00:00,0.070,10.20.30.95,198.51.100.99,47000,5555,TCP,...AP.SF,0,0,5,249,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.972',
  '2024-03-01 07:59:59,2024-03-01 08:00:00,0.070,198.51.100.99,10.20.30.95,5555,47000,TCP,...AP.SF,0,0,3,169,0,0,0,0,0,0,0,0,0,1,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,127.0.0.1,0/0,1,2026-11-24 11:24:10.972',
  'Summary',
  'flows,bytes,packets,avg_bps,avg_pps,avg_bpp',
  '15,7859,87,10357,14,90',
].join('\n') + '\n';