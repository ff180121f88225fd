/**
 * The rules for flow records (NetFlow v5/v9, IPFIX, nfdump CSV): what the packet path does per
 * flow, done per exported record, so that both paths meet at FlowHit and the same HitSink, report,
 * blacklist and follow-up serve both (../shared/DESIGN.md).
 *
 * A record has no payload: only addresses, ports, counters and times. So a record is a hit only
 * when one end is on the blacklist (or was learned from a DNS answer for a listed name): category
 * `mining`, evidence `blacklist-ip` or `dns`. A pool port alone never is; long-lived, low-volume,
 * steady flows to a pool port may be recorded as `suspect` when the configuration enables it
 * (see SuspectConfig for the definition).
 *
 * Orientation. Records are one-directional and the pool may be either end: the end that matches
 * is the pool, the other the customer. A record customer → pool counts as "up", pool → customer as
 * "down", so the two records of one conversation fill one hits row (the HitSink merges rows per
 * run, source, pool endpoint and protocol). The destination is tried first (most records that
 * matter go to the pool), then the source.
 *
 * Carrier-grade NAT. `src`/`dst` are the addresses before translation, `nat.postSrc`/`postDst`
 * after (see FlowRecord). For the customer end:
 *  1. customer → pool record (customer is `src`): inside = `src`, outside = `nat.postSrc`;
 *  2. pool → customer record (customer is `dst`; the packet arrives at the public address):
 *     inside = `nat.postDst`, outside = `dst`;
 *  3. the post-NAT address is missing, all zeros (exporters that fill absent fields with 0), or
 *     the same address as the pre-NAT one (NAT fields present but nothing translated, e.g. a
 *     flow exempted from translation): no NAT; `src` is that address and
 *     `natOutside` is null;
 *  4. if the rule above would make a private or shared address (RFC 1918, RFC 6598 100.64/10,
 *     IPv6 ULA fc00::/7) the outside and a public one the inside, the two are swapped: an address
 *     that talks to a pool on the internet cannot be private, so the exporter uses the inverse
 *     convention. Both public or both private: the rule stands;
 *  5. the post-NAT address may be of the other family (NAT64: IPv6 inside, IPv4 outside); each
 *     address is written in its own family.
 * The hit names the inside address as `src` and keeps the outside beside it (`natOutside`).
 * For the pool end, both its addresses are tried against the list, the one on the internet side
 * first (`nat.postDst` of a customer → pool record, `src` of a pool → customer record), each with
 * its own port (a missing or zero post-NAT port means unchanged); the one that matched is the
 * hit's pool endpoint. Without NAT fields that is one probe per end.
 *
 * Sampling. Packet and byte counts are multiplied by the record's sampling rate (1-in-N); the hit
 * carries the rate, and reports mark such counts as estimates.
 *
 * Hot path: a record that matches nothing allocates nothing here (one address-index probe per
 * end, two per end with translated NAT fields, and a port lookup when `suspect` is enabled); see
 * `probe` for why the record time is not computed per record.
 */
import { isV4Mapped } from '../blacklist/addr.js';
import type { AddressMatch, LiveBlacklist } from '../blacklist/live.js';
import type { FlowRecord } from '../capture/netflow/types.js';
import { formatAddress } from '../decode/address.js';
import type { Logger } from '../log.js';
import type { FlowHit } from '../report/types.js';

/**
 * When a flow to a pool port with no list match is recorded as `suspect` (evidence
 * `steady-flow`). The pool end of a record is the end on a pool port (`poolPorts`; both ends on
 * one: the lower port); a pool port facing a port below 1024 that is not one is a client's
 * ephemeral port talking to an ordinary service, and the record is no candidate. Records of one
 * customer (inside address), pool address, pool port and protocol, both directions together, are
 * chained into a **run**: a record joins the run when it starts no
 * more than `maxGapSec` after the run's last traffic ended (or overlaps it). A run is suspect when
 * it is
 *  - long-lived: it lasts at least `minDurationSec` (first record start to last record end);
 *  - low-volume: its bytes (both directions, scaled by sampling) over its duration average at
 *    most `maxBytesPerSec`;
 *  - steady: no silence longer than `maxGapSec` anywhere in it (that is how runs are built), and
 *    at least `minPacketsPerMin` packets a minute on average, so one long record holding a
 *    handful of keepalives is not steady either.
 * Why these: a mining session is one long TCP connection on which the pool pushes a job at least
 * every minute or two (new blocks, job refreshes, XMRig's 60 s keepalive) and the miner submits
 * shares at a rate the pool holds steady (vardiff): tens to hundreds of bytes a second, never
 * silent for minutes. An exporter cuts such a connection into back-to-back records at its active
 * timeout, and into fragments separated by short gaps when the connection is quiet for longer
 * than its idle timeout; both chain into one run. Interactive and idle connections (silences of
 * many minutes) break into short runs; bulk transfers exceed the byte rate.
 *
 * Counts are scaled by the sampling rate as for hits; with heavy sampling (1:1000) a low-volume flow
 * leaves few records and gaps, so it rarely qualifies: the rule is meant for unsampled exports.
 *
 * Reporting: a qualifying run is reported when the record clock (the latest record end seen)
 * next passes a sweep point, then again every `reportIntervalSec` while it goes on (each report
 * carries the records since the previous one; the HitSink adds them up), and finally when it has
 * had no record for `idleTimeoutSec` or the input ends (`finish`). Each time the run so far is
 * judged: what was reported stays reported if a later burst makes the run exceed the byte rate,
 * and nothing more is. The record clock is shared by all exporters: one whose clock runs far ahead
 * ends other runs early (they start again, and must last `minDurationSec` again). Candidates are
 * bounded (`maxCandidates`, least recently updated evicted, and judged, first).
 *
 * Configured under `netflow.suspect` (src/config.ts, config/poolwatch.yaml).
 */
export interface SuspectConfig {
  /** Off by default: a pool port alone is never a hit, and `suspect` needs an explicit choice. */
  enabled: boolean;
  /** Least duration of a run (seconds). */
  minDurationSec: number;
  /** Largest average byte rate of a run, both directions together (bytes/second, scaled). */
  maxBytesPerSec: number;
  /** Longest silence inside a run (seconds): records further apart start a new run. */
  maxGapSec: number;
  /** Least average packet rate of a run (packets/minute, scaled). */
  minPacketsPerMin: number;
  /**
   * A run with no new record for this long (record time, seconds) is judged and dropped. Must be
   * at least the exporters' active timeout (records of a steady flow come that far apart).
   */
  idleTimeoutSec: number;
  /** A qualifying run still going on is reported again after this long (seconds). */
  reportIntervalSec: number;
  /** Candidates (customer, pool endpoint, protocol) kept in memory at most. */
  maxCandidates: number;
}

export const DEFAULT_SUSPECT: Readonly<SuspectConfig> = {
  enabled: false,
  minDurationSec: 600,
  maxBytesPerSec: 1000,
  maxGapSec: 300,
  minPacketsPerMin: 1,
  idleTimeoutSec: 3600,
  reportIntervalSec: 1800,
  maxCandidates: 100_000,
};

export interface RecordPipelineOptions {
  blacklist: LiveBlacklist;
  /** Ports pools listen on (config `poolPorts`): only for `suspect` candidates. */
  poolPorts: ReadonlySet<number>;
  suspect: SuspectConfig;
  /** Receives every hit, oriented customer → pool. */
  onHit: (hit: FlowHit) => void;
  log: Logger;
}

export interface RecordStats {
  /** Records handed in. */
  records: number;
  /** Records an end of which matched the blacklist (each gave one `mining` hit). */
  matched: number;
  /** Hits handed to onHit: `matched` plus `suspects`. */
  hits: number;
  /** `suspect` hits handed on (a long run may be reported more than once). */
  suspects: number;
  /** Hits attributed to an inside address through NAT fields (natOutside set). */
  natAttributed: number;
  /** Hits whose packets and bytes were multiplied by a sampling rate above 1. */
  scaled: number;
  /** Suspect candidates evicted because `maxCandidates` was reached (judged first). */
  candidatesEvicted: number;
}

/** What only payload shows (coin, login, shares...): a flow record never carries it. */
const NO_PAYLOAD = {
  coin: null,
  login: null,
  worker: null,
  agent: null,
  algo: null,
  difficulty: null,
  sharesSubmitted: 0,
  sharesAccepted: 0,
  sharesRejected: 0,
  reportedHashrate: null,
} as const;

/** Runs kept per candidate; beyond it the earliest is judged and dropped. */
const MAX_RUNS = 16;
/** How often (record time, ms) the candidates are swept for runs to report or close. */
const SWEEP_MS = 60_000;

/** Chained records of one candidate; the `p*` fields are what has not been reported yet. */
interface Run {
  /** First start and last end of its records (ms). */
  start: number;
  end: number;
  /** Whole run, scaled: what it is judged on. */
  packets: number;
  bytes: number;
  pRecords: number;
  pStart: number;
  pEnd: number;
  pPacketsUp: number;
  pBytesUp: number;
  pPacketsDown: number;
  pBytesDown: number;
  pRate: number;
  pInput: string;
  pInputKind: string;
  /** `end` when last reported; -1 never. */
  reportedAt: number;
}

interface Candidate {
  src: string;
  natOutside: string | null;
  poolIp: string;
  poolPort: number;
  proto: number;
  /** Sorted by start, disjoint (further than maxGap apart). */
  runs: Run[];
}

/** The inside / outside address of a record's customer end (see the module comment). */
interface Customer {
  inside: string;
  outside: string | null;
}

export class RecordPipeline {
  readonly stats: RecordStats = { records: 0, matched: 0, hits: 0, suspects: 0, natAttributed: 0, scaled: 0, candidatesEvicted: 0 };
  private readonly suspectOn: boolean;
  private readonly candidates = new Map<string, Candidate>();
  /** The latest record end seen (ms): the clock runs are judged by. */
  private clock = -Infinity;
  private nextSweep = -Infinity;
  /** Where the last match was found (set by matchPool). */
  private poolAddr: Uint8Array = new Uint8Array(0);
  private poolPort = 0;

  constructor(private readonly opts: RecordPipelineOptions) {
    this.suspectOn = opts.suspect.enabled;
  }

  /**
   * One record. `input` names where it came from for hits.input: "netflow 192.0.2.1" (exporter)
   * or a file name. `inputKind` goes to hits.input_kind: 'netflow' for export datagrams (live or
   * from a capture), 'nfdump' for CSV.
   */
  handleRecord(r: FlowRecord, input: string, inputKind: 'netflow' | 'nfdump'): void {
    this.stats.records++;
    let m = this.matchPool(r, true);
    let poolAtDst = true;
    if (m === null) {
      m = this.matchPool(r, false);
      poolAtDst = false;
    }
    if (m !== null) {
      this.stats.matched++;
      this.emitMatch(r, m, poolAtDst, input, inputKind);
      return;
    }
    if (!this.suspectOn) return;
    if (r.end > this.clock) this.clock = r.end;
    const ports = this.opts.poolPorts;
    const nat = r.nat;
    // The ports on the internet side: post-NAT for the destination, as sent for the source.
    const dstPort = nat !== null && nat.postDstPort !== null && nat.postDstPort !== 0 ? nat.postDstPort : r.dstPort;
    const srcPort = r.srcPort;
    const dstPool = ports.has(dstPort);
    const srcPool = ports.has(srcPort);
    if (dstPool || srcPool) {
      // The pool is the end on a pool port; both on one: the lower port (the server's). One end
      // on a pool port and the other on a well-known port below 1024 that is not one: the pool
      // port is a client's ephemeral port (pool ports such as 45560 lie in the ephemeral range)
      // talking to an ordinary service, not a pool.
      if (dstPool && (!srcPool || dstPort <= srcPort)) {
        if (srcPool || srcPort >= 1024) this.addCandidate(r, true, dstPort, input, inputKind);
      } else if (dstPool || dstPort >= 1024) this.addCandidate(r, false, srcPort, input, inputKind);
    }
    if (this.clock >= this.nextSweep && this.candidates.size > 0) this.sweep();
  }

  /** End of input: judge every run still held, report those that qualify, forget all. */
  finish(): void {
    for (const c of this.candidates.values()) {
      for (const run of c.runs) this.closeRun(c, run);
    }
    this.candidates.clear();
  }

  /**
   * Try one end of `r` as the pool: its internet-side address first, then the other one when NAT
   * fields give a different one. On a match, `poolAddr` / `poolPort` say which address and port.
   */
  private matchPool(r: FlowRecord, dst: boolean): AddressMatch | null {
    const nat = r.nat;
    const pre = dst ? r.dst : r.src;
    const prePort = dst ? r.dstPort : r.srcPort;
    if (nat === null) return this.probe(pre, prePort, r);
    let post = dst ? nat.postDst : nat.postSrc;
    const p = dst ? nat.postDstPort : nat.postSrcPort;
    const postPort = p !== null && p !== 0 ? p : prePort;
    if (post !== null && isUnspecified(post)) post = null;
    if (post === null) {
      // Only the port translated (port forwarding): the same address with the other port.
      if (postPort !== prePort) post = pre;
    } else if (postPort === prePort && sameAddress(pre, post)) post = null;
    if (post === null) return this.probe(pre, prePort, r);
    // Internet side first: after translation for the destination, before it for the source.
    const m = dst ? this.probe(post, postPort, r) : this.probe(pre, prePort, r);
    if (m !== null) return m;
    return dst ? this.probe(pre, prePort, r) : this.probe(post, postPort, r);
  }

  /**
   * One address and port against the list at the record's start (µs: learned DNS addresses and
   * entries expire by record time). On a match, `poolAddr` / `poolPort` say where.
   *
   * The time is a double beyond the small-integer range: handed to a call the JIT does not
   * inline, it is boxed, one allocation per record. So the common miss is settled first by the
   * address index alone, which takes no time (the same lookup matchAddress starts with; with no
   * learned address it is the whole answer), and matchAddress, with the time, runs only for a
   * static match or while DNS-learned addresses are held.
   */
  private probe(addr: Uint8Array, port: number, r: FlowRecord): AddressMatch | null {
    const bl = this.opts.blacklist;
    const fam = addr.length === 4 ? 4 : 6;
    if (bl.learnedSize === 0 && bl.snapshot.addresses.match(addr, fam, port) === null) return null;
    const m = bl.matchAddress(addr, fam, port, r.start * 1000);
    if (m !== null) {
      this.poolAddr = addr;
      this.poolPort = port;
    }
    return m;
  }

  private emitMatch(r: FlowRecord, m: AddressMatch, poolAtDst: boolean, input: string, inputKind: string): void {
    const c = customerOf(r, poolAtDst);
    const rate = samplingRate(r.samplingRate);
    const packets = r.packets * rate;
    const bytes = r.bytes * rate;
    this.emit({
      src: c.inside,
      poolIp: formatAddress(this.poolAddr, family(this.poolAddr)),
      poolPort: this.poolPort,
      proto: r.proto,
      category: 'mining',
      evidence: [m.evidence],
      blacklistEntry: m.entry,
      blacklistVersion: m.version,
      ...NO_PAYLOAD,
      // As on the packet path: for `dns`, the listed name the address was learned for.
      poolHost: m.domain,
      firstSeen: r.start * 1000,
      lastSeen: Math.max(r.start, r.end) * 1000,
      packetsUp: poolAtDst ? packets : 0,
      bytesUp: poolAtDst ? bytes : 0,
      packetsDown: poolAtDst ? 0 : packets,
      bytesDown: poolAtDst ? 0 : bytes,
      samplingRate: rate,
      natOutside: c.outside,
      inputKind,
      input,
    });
  }

  private emit(hit: FlowHit): void {
    this.stats.hits++;
    if (hit.natOutside !== null) this.stats.natAttributed++;
    if (hit.samplingRate > 1) this.stats.scaled++;
    this.opts.onHit(hit);
  }

  // ------------------------------------------------------------ suspect

  private addCandidate(r: FlowRecord, poolAtDst: boolean, poolPort: number, input: string, inputKind: string): void {
    const cust = customerOf(r, poolAtDst);
    const nat = r.nat;
    // The pool's internet-side address (see matchPool).
    let pool = poolAtDst ? r.dst : r.src;
    if (poolAtDst && nat !== null && nat.postDst !== null && !isUnspecified(nat.postDst)) pool = nat.postDst;
    const poolIp = formatAddress(pool, family(pool));
    const key = `${cust.inside} ${poolIp} ${poolPort} ${r.proto}`;
    let c = this.candidates.get(key);
    if (c === undefined) {
      if (this.candidates.size >= this.opts.suspect.maxCandidates) this.evictOldest();
      c = { src: cust.inside, natOutside: cust.outside, poolIp, poolPort, proto: r.proto, runs: [] };
    } else {
      // Most recently updated last: the Map's order is the eviction order.
      this.candidates.delete(key);
      c.natOutside ??= cust.outside;
    }
    this.candidates.set(key, c);

    const rate = samplingRate(r.samplingRate);
    const packets = r.packets * rate;
    const bytes = r.bytes * rate;
    const start = r.start;
    const end = Math.max(r.start, r.end);
    const gap = this.opts.suspect.maxGapSec * 1000;
    const runs = c.runs;
    // Runs this record touches (within the gap) are merged into the first of them.
    let into: Run | null = null;
    let at = runs.length;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (run.start - gap > end) {
        if (into === null) at = i;
        break;
      }
      if (start > run.end + gap) continue;
      if (into === null) into = run;
      else {
        mergeRuns(into, run);
        runs.splice(i, 1);
        i--;
      }
    }
    if (into === null) {
      into = newRun(start, end, input, inputKind);
      runs.splice(at, 0, into);
      // Too many: the earliest other run is judged and dropped.
      if (runs.length > MAX_RUNS) this.closeRun(c, runs.splice(runs[0] === into ? 1 : 0, 1)[0]!);
    }
    into.start = Math.min(into.start, start);
    into.end = Math.max(into.end, end);
    into.packets += packets;
    into.bytes += bytes;
    if (into.pRecords === 0) {
      into.pStart = start;
      into.pEnd = end;
      into.pInput = input;
      into.pInputKind = inputKind;
    } else {
      into.pStart = Math.min(into.pStart, start);
      into.pEnd = Math.max(into.pEnd, end);
    }
    into.pRecords++;
    if (poolAtDst) {
      into.pPacketsUp += packets;
      into.pBytesUp += bytes;
    } else {
      into.pPacketsDown += packets;
      into.pBytesDown += bytes;
    }
    if (rate > into.pRate) into.pRate = rate;
  }

  /** Report qualifying runs that are due; judge and drop runs idle past idleTimeoutSec. */
  private sweep(): void {
    const s = this.opts.suspect;
    const idle = s.idleTimeoutSec * 1000;
    const every = s.reportIntervalSec * 1000;
    for (const [key, c] of this.candidates) {
      const runs = c.runs;
      for (let i = 0; i < runs.length; i++) {
        const run = runs[i]!;
        if (this.clock - run.end > idle) {
          this.closeRun(c, run);
          runs.splice(i, 1);
          i--;
        } else if (run.pRecords > 0 && (run.reportedAt < 0 || run.end - run.reportedAt >= every) && this.qualifies(run)) {
          this.report(c, run);
        }
      }
      if (runs.length === 0) this.candidates.delete(key);
    }
    this.nextSweep = this.clock + SWEEP_MS;
  }

  private evictOldest(): void {
    for (const [key, c] of this.candidates) {
      for (const run of c.runs) this.closeRun(c, run);
      this.candidates.delete(key);
      if (this.stats.candidatesEvicted++ === 0) {
        this.opts.log.warn({ maxCandidates: this.opts.suspect.maxCandidates }, 'suspect candidates at their limit: the least recently updated are judged and dropped early');
      }
      return;
    }
  }

  /** A run leaves memory: its unreported part is reported if the run qualifies. */
  private closeRun(c: Candidate, run: Run): void {
    if (run.pRecords > 0 && this.qualifies(run)) this.report(c, run);
  }

  private qualifies(run: Run): boolean {
    const s = this.opts.suspect;
    const sec = (run.end - run.start) / 1000;
    if (sec < s.minDurationSec || sec <= 0) return false;
    if (run.bytes / sec > s.maxBytesPerSec) return false;
    return run.packets / (sec / 60) >= s.minPacketsPerMin;
  }

  private report(c: Candidate, run: Run): void {
    this.stats.suspects++;
    this.emit({
      src: c.src,
      poolIp: c.poolIp,
      poolPort: c.poolPort,
      proto: c.proto,
      category: 'suspect',
      evidence: ['steady-flow'],
      blacklistEntry: null,
      blacklistVersion: null,
      ...NO_PAYLOAD,
      poolHost: null,
      firstSeen: run.pStart * 1000,
      lastSeen: run.pEnd * 1000,
      packetsUp: run.pPacketsUp,
      bytesUp: run.pBytesUp,
      packetsDown: run.pPacketsDown,
      bytesDown: run.pBytesDown,
      samplingRate: run.pRate,
      natOutside: c.natOutside,
      inputKind: run.pInputKind,
      input: run.pInput,
    });
    run.reportedAt = run.end;
    run.pRecords = 0;
    run.pPacketsUp = 0;
    run.pBytesUp = 0;
    run.pPacketsDown = 0;
    run.pBytesDown = 0;
    run.pRate = 1;
  }
}

function newRun(start: number, end: number, input: string, inputKind: string): Run {
  return {
    start,
    end,
    packets: 0,
    bytes: 0,
    pRecords: 0,
    pStart: start,
    pEnd: end,
    pPacketsUp: 0,
    pBytesUp: 0,
    pPacketsDown: 0,
    pBytesDown: 0,
    pRate: 1,
    pInput: input,
    pInputKind: inputKind,
    reportedAt: -1,
  };
}

/** A record joined two runs: `b` goes into `a` (`a` starts earlier). */
function mergeRuns(a: Run, b: Run): void {
  a.start = Math.min(a.start, b.start);
  a.end = Math.max(a.end, b.end);
  a.packets += b.packets;
  a.bytes += b.bytes;
  if (b.pRecords > 0) {
    if (a.pRecords === 0) {
      a.pStart = b.pStart;
      a.pEnd = b.pEnd;
      a.pInput = b.pInput;
      a.pInputKind = b.pInputKind;
    } else {
      a.pStart = Math.min(a.pStart, b.pStart);
      a.pEnd = Math.max(a.pEnd, b.pEnd);
    }
    a.pRecords += b.pRecords;
    a.pPacketsUp += b.pPacketsUp;
    a.pBytesUp += b.pBytesUp;
    a.pPacketsDown += b.pPacketsDown;
    a.pBytesDown += b.pBytesDown;
    a.pRate = Math.max(a.pRate, b.pRate);
  }
  a.reportedAt = Math.max(a.reportedAt, b.reportedAt);
}

/** The customer end of `r` when the pool is its destination (`poolAtDst`) or its source. */
export function customerOf(r: FlowRecord, poolAtDst: boolean): Customer {
  const pre = poolAtDst ? r.src : r.dst;
  const nat = r.nat;
  const post = nat === null ? null : poolAtDst ? nat.postSrc : nat.postDst;
  if (post === null || isUnspecified(post) || sameAddress(pre, post)) {
    return { inside: formatAddress(pre, r.ipVersion), outside: null };
  }
  // Customer → pool: translated on the way out (inside = before). Pool → customer: on the way in.
  let inside = poolAtDst ? pre : post;
  let outside = poolAtDst ? post : pre;
  if (isPrivate(outside) && !isPrivate(inside)) {
    const t = inside;
    inside = outside;
    outside = t;
  }
  return { inside: formatAddress(inside, family(inside)), outside: formatAddress(outside, family(outside)) };
}

/** 1 for unsampled; a rate that is missing, below 1 or not a number counts as 1. */
function samplingRate(n: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.round(n) : 1;
}

function family(b: Uint8Array): 4 | 6 {
  return b.length === 4 ? 4 : 6;
}

function isUnspecified(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Same address, an IPv4 address and its IPv4-mapped IPv6 form included. */
function sameAddress(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const v4 = a.length === 4 ? a : b;
  const v6 = a.length === 4 ? b : a;
  if (v4.length !== 4 || v6.length !== 16 || !isV4Mapped(v6)) return false;
  return v6[12] === v4[0] && v6[13] === v4[1] && v6[14] === v4[2] && v6[15] === v4[3];
}

/** RFC 1918, RFC 6598 (CGNAT shared space 100.64/10) and IPv6 ULA fc00::/7 (IPv4-mapped too). */
export function isPrivate(b: Uint8Array): boolean {
  let o = 0;
  if (b.length === 16) {
    if (!isV4Mapped(b)) return (b[0]! & 0xfe) === 0xfc;
    o = 12;
  }
  const a0 = b[o]!;
  const a1 = b[o + 1]!;
  return a0 === 10 || (a0 === 172 && (a1 & 0xf0) === 16) || (a0 === 192 && a1 === 168) || (a0 === 100 && (a1 & 0xc0) === 64);
}
