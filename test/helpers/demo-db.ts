/**
 * A realistic demo database for the report views, the HTML report and its screenshot
 * (docs/report.png): the fixtures scanned by the real CLI (`poolwatch scan --db … fixtures/…`),
 * plus made-up but plausible hits written through HitSink — 3 days, 8 organisations, 10 coins,
 * ASIC farms, GPU rigs and CPU miners with share counts that match their hash rates, a few that
 * only report their rate, and a few hostile strings from the wire.
 *
 * Addresses are private (10/8) and documentation ranges (192.0.2/24, 198.51.100/24,
 * 203.0.113/24, 2001:db8::/32); pool host names end in .example.
 */
import { openDatabase } from '../../src/report/db.js';
import { prng } from './prng.js';
import { HitSink, startRun, finishRun } from '../../src/report/sink.js';
import type { CaseRow, OrgInfo, OrgLookup } from '../../src/report/views-providers.js';
import { cli, fixture } from './cli.js';
import { hit } from './hits.js';

/** 2024-03-01T00:00:00Z in microseconds. */
export const DEMO_T0 = Date.UTC(2024, 2, 1) * 1000;
const H = 3_600_000_000;

/** The organisations of the demo, by address prefix (string prefix: enough for these ranges). */
export const DEMO_ORGS: readonly { prefix: string; org: OrgInfo }[] = [
  { prefix: '10.1.', org: { name: 'Ministry of Examples', sector: 'government', contact: 'noc@ministry.example' } },
  { prefix: '10.2.', org: { name: 'State Power Company', sector: 'state-enterprise', contact: 'soc@power.example' } },
  { prefix: '10.3.', org: { name: 'Riverside School District', sector: 'school', contact: 'it@riverside.example' } },
  { prefix: '10.4.', org: { name: 'Net Café Central', sector: 'internet-cafe', contact: null } },
  { prefix: '10.5.', org: { name: 'Harbour Logistics Ltd', sector: 'business', contact: 'ops@harbour.example' } },
  { prefix: '10.6.', org: { name: 'City Hospital', sector: 'government', contact: 'it@hospital.example' } },
  { prefix: '10.7.', org: { name: 'Residential broadband', sector: 'residential', contact: null } },
  { prefix: '2001:db8:100:', org: { name: 'University of Examples', sector: 'school', contact: 'cert@uni.example' } },
];

export const demoOrgs: OrgLookup = {
  lookup(ip: string) {
    return DEMO_ORGS.find((o) => ip.startsWith(o.prefix))?.org ?? null;
  },
};

interface Profile {
  coin: string;
  algo: string | null;
  evidence: ('stratum' | 'cryptonote' | 'ethproxy' | 'ethereum-stratum')[];
  pools: { ip: string; port: number; host: string }[];
  agent: string;
  /** Hash rate range of one miner (H/s) and the share difficulty the pool sets. */
  rate: [number, number];
  difficulty: number;
  /** Hashes per difficulty unit (the convention src/report/hashrate.ts applies). */
  factor: number;
  login: (r: () => number) => string;
  /** Bytes a second, both directions. */
  bps: [number, number];
}

const hex = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
const b58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const base58 = (r: () => number, n: number) => Array.from({ length: n }, () => b58[Math.floor(r() * b58.length)]).join('');

const PROFILES: Profile[] = [
  { coin: 'btc', algo: 'sha256d', evidence: ['stratum'], agent: 'bmminer/2.0.0', rate: [9e13, 2.2e14], difficulty: 65536, factor: 2 ** 32, bps: [150, 400],
    pools: [{ ip: '198.51.100.10', port: 3333, host: 'btc.pool-a.example' }, { ip: '198.51.100.11', port: 443, host: 'stratum.pool-b.example' }],
    login: (r) => `bc1q${hex(r, 38).replace(/[1bio]/g, 'q')}.rig${Math.floor(r() * 9) + 1}` },
  { coin: 'xmr', algo: 'rx/0', evidence: ['cryptonote'], agent: 'XMRig/6.21.0 (Windows NT 10.0; Win64; x64)', rate: [2e3, 2.5e4], difficulty: 120001, factor: 1, bps: [60, 180],
    pools: [{ ip: '203.0.113.77', port: 14444, host: 'xmr.pool-c.example' }, { ip: '2001:db8:ff::5', port: 443, host: 'gulf.pool-d.example' }],
    login: (r) => `4${base58(r, 94)}` },
  { coin: 'etc', algo: 'etchash', evidence: ['ethproxy'], agent: 'lolMiner/1.82', rate: [3e8, 9e8], difficulty: 4e9, factor: 1, bps: [200, 500],
    pools: [{ ip: '198.51.100.20', port: 8008, host: 'etc.pool-e.example' }], login: (r) => `0x${hex(r, 40)}` },
  { coin: 'rvn', algo: 'kawpow', evidence: ['stratum'], agent: 'T-Rex/0.26.8', rate: [2e7, 6e7], difficulty: 0.5, factor: 2 ** 32, bps: [150, 350],
    pools: [{ ip: '203.0.113.30', port: 3636, host: 'rvn.pool-f.example' }], login: (r) => `R${base58(r, 33)}` },
  { coin: 'ltc', algo: 'scrypt', evidence: ['stratum'], agent: 'cgminer/4.11.1', rate: [8e9, 1.6e10], difficulty: 131072, factor: 2 ** 16, bps: [120, 300],
    pools: [{ ip: '198.51.100.40', port: 3333, host: 'ltc.pool-g.example' }], login: (r) => `ltc1q${hex(r, 38).replace(/[1bio]/g, 'q')}` },
  { coin: 'kas', algo: 'kheavyhash', evidence: ['stratum'], agent: 'BzMiner/v21.1.3', rate: [1e12, 1.2e13], difficulty: 8192, factor: 2 ** 32, bps: [200, 600],
    pools: [{ ip: '192.0.2.50', port: 5555, host: 'kas.pool-h.example' }], login: (r) => `kaspa:qr${hex(r, 59).replace(/[1bio]/g, 'q')}` },
  { coin: 'zec', algo: 'equihash', evidence: ['stratum'], agent: 'lolMiner/1.82', rate: [2e5, 1e6], difficulty: 0.02, factor: 2 ** 32, bps: [100, 250],
    pools: [{ ip: '203.0.113.60', port: 3357, host: 'zec.pool-i.example' }], login: (r) => `t1${base58(r, 33)}` },
  { coin: 'erg', algo: 'autolykos2', evidence: ['stratum'], agent: 'TeamRedMiner/0.10.21', rate: [1e8, 3e8], difficulty: 1, factor: 2 ** 32, bps: [150, 300],
    pools: [{ ip: '198.51.100.70', port: 9999, host: 'erg.pool-j.example' }], login: (r) => `9${base58(r, 50)}` },
  { coin: 'doge', algo: 'scrypt', evidence: ['stratum'], agent: 'cgminer/4.11.1', rate: [5e8, 9e8], difficulty: 8192, factor: 2 ** 16, bps: [100, 200],
    pools: [{ ip: '198.51.100.40', port: 3334, host: 'doge.pool-g.example' }], login: (r) => `D${base58(r, 33)}` },
];

/** Where the fixtures' own sources go: scanned, they come from the capture files. */
const FIXTURES = ['sample.pcap', 'stratum-btc.pcap', 'ethproxy-vlan-ns.pcap', 'xmrig-ipv6.pcapng', 'getwork-http.pcap', 'nicehash-pool-only-midstream.pcap', 'bitcoin-p2p.pcap', 'blacklisted-tls.pcap'];

export interface DemoInfo {
  /** Sources the made-up hits add (the fixtures add their own). */
  madeUpSources: number;
  hostileLogin: string;
  hostileAgent: string;
  hostileHost: string;
  cases: CaseRow[];
}

export const HOSTILE_LOGIN = '<script>alert("pw")</script>';
export const HOSTILE_AGENT = '<img src=x onerror=alert(1)> https://evil.example/miner';
export const HOSTILE_HOST = 'x"><svg onload=alert(2)>.example';

/**
 * Build the demo database at `path` (a file that does not exist yet). Needs the built CLI
 * (npm test builds first).
 */
export function buildDemoDb(path: string): DemoInfo {
  const scan = cli(['scan', '--db', path, '-q', '--no-progress', '-b', fixture('pools.txt'), ...FIXTURES.map(fixture)]);
  if (scan.code !== 0) throw new Error(`demo scan failed (${scan.code}): ${scan.stderr}`);
  const db = openDatabase(path);
  const runs = [startRun(db, { command: 'collect --listen 0.0.0.0:2055', inputs: ['netflow 192.0.2.1'] }), startRun(db, { command: 'scan export-day2.pcap', inputs: ['export-day2.pcap'] })];
  const sinks = runs.map((id) => new HitSink(db, id, { batchSize: 200 }));
  const r = prng(20240301);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const between = (lo: number, hi: number) => lo + (hi - lo) * r();
  // Sources per organisation (made up): a few big ones, many small.
  const perOrg = [14, 9, 12, 10, 6, 4, 22, 5];
  let madeUp = 0;
  const cases: CaseRow[] = [];
  DEMO_ORGS.forEach(({ prefix }, oi) => {
    for (let k = 0; k < perOrg[oi]!; k++) {
      const src = prefix.includes(':') ? `${prefix}:${(k + 1).toString(16)}` : `${prefix}${Math.floor(k / 200) + 1}.${(k % 200) + 10}`;
      madeUp++;
      // Government and schools: CPU miners mostly; business and residential: everything.
      const p = oi <= 2 ? pick([PROFILES[1]!, PROFILES[1]!, PROFILES[0]!, PROFILES[2]!, PROFILES[3]!]) : pick(PROFILES);
      const rate = between(p.rate[0], p.rate[1]);
      const sessions = 1 + Math.floor(r() * 3);
      let start = DEMO_T0 + Math.floor(between(0, 40)) * H + Math.floor(r() * H);
      for (let s = 0; s < sessions; s++) {
        const hours = between(2, 26);
        const end = Math.min(start + hours * H, DEMO_T0 + 72 * H - 1);
        if (end <= start) break;
        const seconds = (end - start) / 1e6;
        const shares = Math.max(0, Math.round((rate * seconds) / (p.difficulty * p.factor) * between(0.9, 1.1)));
        const reportsOnly = r() < 0.12; // saw the session mid-way: no answers, only the miner's report
        const pool = pick(p.pools);
        const bytes = Math.round(between(p.bps[0], p.bps[1]) * seconds);
        const day = Math.floor((start - DEMO_T0) / (24 * H));
        sinks[day >= 2 ? 1 : 0]!.add(hit({
          src, poolIp: pool.ip, poolPort: pool.port, evidence: [...p.evidence], coin: p.coin, algo: p.algo,
          login: p.login(r), agent: p.agent, poolHost: pool.host, difficulty: reportsOnly ? null : p.difficulty,
          sharesSubmitted: reportsOnly ? 0 : shares + Math.round(shares * 0.01), sharesAccepted: reportsOnly ? 0 : shares,
          sharesRejected: reportsOnly ? 0 : Math.round(shares * 0.01), reportedHashrate: reportsOnly || p.coin === 'etc' ? Math.round(rate) : null,
          firstSeen: Math.round(start), lastSeen: Math.round(end), packetsUp: Math.round(bytes / 180), bytesUp: Math.round(bytes * 0.35),
          packetsDown: Math.round(bytes / 220), bytesDown: Math.round(bytes * 0.65), inputKind: 'netflow', input: 'netflow 192.0.2.1',
        }));
        start = end + between(0.5, 12) * H;
        if (start >= DEMO_T0 + 72 * H) break;
      }
      if (k < 2) {
        const org = DEMO_ORGS[oi]!.org.name;
        cases.push({ src, state: k === 0 ? 'new' : 'notified', openedAt: '2024-03-01T09:12:00.000Z', updatedAt: '2024-03-02T10:00:00.000Z', recurrences: k, org, lastSeen: '2024-03-03T18:00:00.000Z', notes: k + 1 });
      }
    }
  });
  // Strings from the wire that must stay text in every output.
  sinks[0]!.add(hit({
    src: '10.7.9.99', poolIp: '203.0.113.99', poolPort: 3333, coin: 'btc', login: HOSTILE_LOGIN, worker: '<b>w</b>', agent: HOSTILE_AGENT, poolHost: HOSTILE_HOST,
    firstSeen: DEMO_T0 + 30 * H, lastSeen: DEMO_T0 + 31 * H, bytesUp: 50_000, bytesDown: 90_000, inputKind: 'netflow', input: 'netflow 192.0.2.1',
  }));
  madeUp++;
  cases.push({ src: '10.7.9.99', state: 'new', openedAt: '2024-03-02T06:00:00.000Z', updatedAt: '2024-03-02T06:00:00.000Z', recurrences: 0, org: 'Residential broadband', lastSeen: '2024-03-02T07:00:00.000Z', notes: '<i>called</i>' });
  for (const s of sinks) s.flush();
  for (const id of runs) finishRun(db, id, { packets: 0, bytes: 0, flows: 0, damaged: 0, status: 'ok' });
  db.close();
  return { madeUpSources: madeUp, hostileLogin: HOSTILE_LOGIN, hostileAgent: HOSTILE_AGENT, hostileHost: HOSTILE_HOST, cases };
}
