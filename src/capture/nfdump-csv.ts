/**
 * Flow records from what `nfdump -o csv` prints, so archives that only nfdump can read (years of
 * nfcapd files) can be screened: `nfdump -R /data/flows -o csv | poolwatch flows -`.
 *
 * What nfdump prints (checked against nfdump 1.7.1, and the 1.6 layout, which differs only after
 * the mpls columns):
 *
 *   ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,...,ra,eng,exid,tr
 *   2024-03-01 08:00:00,2024-03-01 08:00:00,0.140,10.20.30.40,198.51.100.10,50123,3333,TCP,...AP.SF,0,0,8,753,0,0,...
 *   ...
 *   Summary
 *   flows,bytes,packets,avg_bps,avg_pps,avg_bpp
 *   13,7441,79,10158,13,94
 *
 * - Columns are found by name from the header, so another nfdump layout (or a hand-made CSV with
 *   those names) reads the same; `-q` prints no header, and then nfdump's standard layout is
 *   assumed. Needed: ts, sa, da, ipkt, ibyt (or pkt, byt). Used when present: te (else ts + td),
 *   sp, dp, pr, flg, opkt/obyt (the reverse direction of a bidirectional record: a second record),
 *   eng, and NAT columns xsa/xda/xsp/xdp or nsa/nda/nsp/ndp.
 * - Times are nfdump's "YYYY-MM-DD HH:MM:SS[.mmm]" in the LOCAL time zone, as nfdump writes them
 *   (both programs follow TZ: run both sides of the pipe with the same TZ, e.g. TZ=UTC). ISO
 *   8601 with a Z or an offset, and plain epoch seconds, are read too.
 * - The summary nfdump appends ("Summary", its own header and totals), "No matching flows" and
 *   the statistics lines of older versions are skipped; a new header after them (several nfdump
 *   outputs concatenated) starts a new table.
 * - Counters are taken as printed. nfcapd has already multiplied sampled exports by their rate, so
 *   records read here carry samplingRate 1.
 * - A line that cannot be read is reported (line number, reason) and skipped; the rest is read.
 *
 * This module knows bytes and text; it never decides what is mining.
 */
import { parseDottedQuad, parseIPv6Text } from '../blacklist/addr.js';
import type { FlowRecord } from './netflow/types.js';

/** nfdump 1.7's `-o csv` header, assumed when the input has none (`nfdump -q -o csv`). */
export const NFDUMP_CSV_HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,' +
  'mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';

/** Longest line kept; a longer one (binary garbage, a broken pipe mid-line) is one bad line. */
export const MAX_LINE_BYTES = 64 * 1024;

/** The nfdump binary file magic (0xA50C, little-endian): someone gave us nfcapd.* instead of CSV. */
const NFFILE_MAGIC_LE = [0x0c, 0xa5];

export interface CsvProblem {
  /** 1-based line number in the input. */
  line: number;
  reason: string;
  /** The line, cut to 200 characters, for the log. */
  text: string;
}

export interface NfdumpCsvStats {
  lines: number;
  /** Flow records handed on (a bidirectional line gives two). */
  records: number;
  /** Lines that could not be read (reported through onBad). */
  bad: number;
  /** Header lines seen. */
  headers: number;
  /** Summary, statistics and blank lines skipped. */
  skipped: number;
  /** The input is not nfdump CSV at all (e.g. an nfcapd binary file); nothing was read. */
  notCsv: string | null;
  /** No header: the standard layout was assumed. */
  assumedHeader: boolean;
}

interface Columns {
  count: number;
  ts: number;
  te: number;
  td: number;
  sa: number;
  da: number;
  sp: number;
  dp: number;
  pr: number;
  flg: number;
  ipkt: number;
  ibyt: number;
  opkt: number;
  obyt: number;
  eng: number;
  xsa: number;
  xda: number;
  xsp: number;
  xdp: number;
  /** Highest index of a needed column: a line must have at least this many + 1 fields. */
  need: number;
}

/** Column names of a header, or null when the line is not a flow header. */
function parseHeader(line: string): Columns | null {
  const names = line.split(',').map((s) => s.trim().toLowerCase());
  if (!names.every((n) => /^[a-z][a-z0-9_]*$/.test(n))) return null;
  const at = (...alts: string[]) => {
    for (const a of alts) {
      const i = names.indexOf(a);
      if (i >= 0) return i;
    }
    return -1;
  };
  const c: Columns = {
    count: names.length,
    ts: at('ts'),
    te: at('te'),
    td: at('td'),
    sa: at('sa'),
    da: at('da'),
    sp: at('sp'),
    dp: at('dp'),
    pr: at('pr'),
    flg: at('flg'),
    ipkt: at('ipkt', 'pkt'),
    ibyt: at('ibyt', 'byt'),
    opkt: at('opkt'),
    obyt: at('obyt'),
    eng: at('eng'),
    xsa: at('xsa', 'nsa'),
    xda: at('xda', 'nda'),
    xsp: at('xsp', 'nsp'),
    xdp: at('xdp', 'ndp'),
    need: 0,
  };
  if (c.sa < 0 || c.da < 0 || c.ts < 0 || c.ipkt < 0 || c.ibyt < 0) return null;
  c.need = Math.max(c.ts, c.sa, c.da, c.ipkt, c.ibyt);
  return c;
}

const DEFAULT_COLUMNS = parseHeader(NFDUMP_CSV_HEADER)!;

/** Lines nfdump prints around the records that carry no flow. */
const TRAILER_RE = /^(?:No matching flows|Time window:|Total flows processed:|Sys:|Aggregated flows|Top \d+|Total:|Summary:)/;

/**
 * Push-driven: feed it chunks of any size, then end(). Lines split across chunks are kept in a
 * carry string, bounded by MAX_LINE_BYTES.
 */
export class NfdumpCsvReader {
  readonly stats: NfdumpCsvStats = { lines: 0, records: 0, bad: 0, headers: 0, skipped: 0, notCsv: null, assumedHeader: false };
  private cols: Columns | null = null;
  /** Inside nfdump's summary: skip until a flow header comes back. */
  private inSummary = false;
  private carry = '';
  /** The current line is longer than MAX_LINE_BYTES: drop it up to the next newline. */
  private overlong = false;
  private first = true;
  /** A first chunk of one byte, held until the next: the binary-file magic is two bytes. */
  private held: Buffer | null = null;
  private stopped = false;

  constructor(
    private readonly onRecord: (r: FlowRecord) => void,
    private readonly onBad: (p: CsvProblem) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.first) {
      if (this.held !== null) {
        chunk = Buffer.concat([this.held, chunk]);
        this.held = null;
      } else if (chunk.length < 2) {
        this.held = Buffer.from(chunk);
        return;
      }
      this.first = false;
      if (chunk[0] === NFFILE_MAGIC_LE[0] && chunk[1] === NFFILE_MAGIC_LE[1]) {
        this.stats.notCsv = 'an nfdump binary file (nfcapd.*), not CSV: convert it with nfdump -r FILE -o csv';
        this.stopped = true;
        return;
      }
    }
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      const nl = chunk.indexOf(10, pos);
      const end = nl < 0 ? n : nl;
      if (this.overlong) {
        if (nl >= 0) {
          this.overlong = false;
          this.stats.lines++;
        }
      } else if (this.carry.length + (end - pos) > MAX_LINE_BYTES) {
        // 201: more than bad() keeps, so the excerpt ends in "…" however the line was chunked.
        this.bad(this.stats.lines + 1, `line longer than ${MAX_LINE_BYTES} bytes`, this.carry + chunk.toString('latin1', pos, Math.min(end, pos + 201)));
        this.carry = '';
        if (nl >= 0) this.stats.lines++;
        else this.overlong = true;
      } else if (nl < 0) {
        this.carry += chunk.toString('latin1', pos, end);
      } else {
        const text = this.carry.length > 0 ? this.carry + chunk.toString('latin1', pos, end) : chunk.toString('latin1', pos, end);
        this.carry = '';
        this.line(text);
      }
      pos = nl < 0 ? n : nl + 1;
    }
  }

  end(): NfdumpCsvStats {
    if (this.held !== null) {
      // The whole input was one byte: no magic, read it as text.
      const h = this.held;
      this.held = null;
      this.first = false;
      this.push(h);
    }
    if (!this.stopped && (this.carry.length > 0 || this.overlong)) {
      if (this.overlong) this.stats.lines++;
      else this.line(this.carry);
    }
    this.carry = '';
    this.stopped = true;
    return this.stats;
  }

  private bad(line: number, reason: string, text: string): void {
    this.stats.bad++;
    this.onBad({ line, reason, text: text.length > 200 ? text.slice(0, 200) + '…' : text });
  }

  private line(raw: string): void {
    const lineNo = ++this.stats.lines;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '') {
      this.stats.skipped++;
      return;
    }
    const c0 = trimmed.charCodeAt(0);
    // Data lines start with a digit (a date or epoch seconds); anything else is a header or trailer.
    if (c0 < 48 || c0 > 57) {
      const header = parseHeader(trimmed);
      if (header !== null) {
        this.cols = header;
        this.inSummary = false;
        this.stats.headers++;
        return;
      }
      if (trimmed === 'Summary' || trimmed.startsWith('flows,')) {
        this.inSummary = true;
        this.stats.skipped++;
        return;
      }
      if (this.inSummary || TRAILER_RE.test(trimmed)) {
        this.stats.skipped++;
        return;
      }
      this.bad(lineNo, 'neither a flow record nor an nfdump header or summary line', line);
      return;
    }
    if (this.inSummary) {
      this.stats.skipped++;
      return;
    }
    if (this.cols === null) {
      this.cols = DEFAULT_COLUMNS;
      this.stats.assumedHeader = true;
    }
    const why = this.record(line, this.cols);
    if (why !== null) this.bad(lineNo, why, line);
  }

  /** Parse one data line; returns why it is bad, or null when its records were handed on. */
  private record(line: string, c: Columns): string | null {
    const f = line.split(',');
    if (f.length <= c.need) return `${f.length} fields, the header has ${c.count}`;
    const start = parseTime(f[c.ts]!);
    if (start === null) return `bad start time "${f[c.ts]!.trim()}"`;
    let end = c.te >= 0 && c.te < f.length ? parseTime(f[c.te]!) : null;
    if (end === null) {
      const td = c.td >= 0 && c.td < f.length ? Number(f[c.td]!.trim()) : 0;
      end = Number.isFinite(td) && td >= 0 && td < 1e9 ? start + Math.round(td * 1000) : start;
    }
    const src = parseAddress(f[c.sa]!);
    if (src === null) return `bad source address "${f[c.sa]!.trim()}"`;
    const dst = parseAddress(f[c.da]!);
    if (dst === null) return `bad destination address "${f[c.da]!.trim()}"`;
    if (src.length !== dst.length) return 'source and destination are of different IP versions';
    const srcPort = c.sp >= 0 ? parsePort(field(f, c.sp)) : 0;
    if (srcPort === null) return `bad source port "${field(f, c.sp)}"`;
    const dstPort = c.dp >= 0 ? parsePort(field(f, c.dp)) : 0;
    if (dstPort === null) return `bad destination port "${field(f, c.dp)}"`;
    const proto = c.pr >= 0 ? parseProto(field(f, c.pr)) : 0;
    if (proto === null) return `unknown protocol "${field(f, c.pr)}"`;
    const packets = parseCount(f[c.ipkt]!);
    if (packets === null) return `bad packet count "${f[c.ipkt]!.trim()}"`;
    const bytes = parseCount(f[c.ibyt]!);
    if (bytes === null) return `bad byte count "${f[c.ibyt]!.trim()}"`;
    const outPackets = c.opkt >= 0 ? parseCount(field(f, c.opkt) || '0') : 0;
    const outBytes = c.obyt >= 0 ? parseCount(field(f, c.obyt) || '0') : 0;
    if (outPackets === null || outBytes === null) return 'bad reverse counters (opkt, obyt)';
    const tcpFlags = c.flg >= 0 ? parseFlags(field(f, c.flg)) : 0;
    const domain = c.eng >= 0 ? parseEngine(field(f, c.eng)) : 0;
    const nat = parseNat(f, c, src.length);
    const ipVersion = src.length === 4 ? 4 : 6;
    this.stats.records++;
    this.onRecord({
      exporter: 'nfdump',
      version: 0,
      domain,
      ipVersion,
      src,
      dst,
      srcPort,
      dstPort,
      proto,
      tcpFlags,
      bytes,
      packets,
      samplingRate: 1,
      start,
      end,
      nat,
    });
    // A bidirectional record (NSEL, IPFIX biflows) carries the answer's counters in opkt/obyt.
    if (outPackets > 0 || outBytes > 0) {
      this.stats.records++;
      this.onRecord({
        exporter: 'nfdump',
        version: 0,
        domain,
        ipVersion,
        src: dst,
        dst: src,
        srcPort: dstPort,
        dstPort: srcPort,
        proto,
        tcpFlags,
        bytes: outBytes,
        packets: outPackets,
        samplingRate: 1,
        start,
        end,
        nat: null,
      });
    }
    return null;
  }
}

function field(f: string[], i: number): string {
  return i >= 0 && i < f.length ? f[i]!.trim() : '';
}

/** Whole counts as nfdump prints them (plain digits; never its "1.2 M" human form). */
function parseCount(s: string): number | null {
  const t = s.trim();
  if (!/^\d{1,16}$/.test(t)) return null;
  return Number(t);
}

/** A port, or ICMP "type.code" (nfdump prints ICMP's type and code in the dp column). */
function parsePort(s: string): number | null {
  if (s === '') return 0;
  if (/^\d{1,5}$/.test(s)) {
    const n = Number(s);
    return n <= 65535 ? n : null;
  }
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m !== null && Number(m[1]) < 256 && Number(m[2]) < 256) return Number(m[1]) * 256 + Number(m[2]);
  return null;
}

/** nfdump's flag string ("...AP.SF", right-aligned C E U A P R S F) or a number. */
function parseFlags(s: string): number {
  if (/^\d+$/.test(s)) return Number(s) & 0xff;
  if (s.startsWith('0x')) return parseInt(s, 16) & 0xff || 0;
  const letters = 'CEUAPRSF';
  let v = 0;
  const n = s.length;
  for (let i = 0; i < n && i < 8; i++) {
    const ch = s[n - 1 - i];
    if (ch === letters[7 - i]) v |= 1 << i;
  }
  return v;
}

/** "engine type/engine id" → type << 8 | id, like a v5 record's domain. */
function parseEngine(s: string): number {
  const m = /^(\d{1,3})\/(\d{1,3})$/.exec(s);
  return m === null ? 0 : ((Number(m[1]) & 0xff) << 8) | (Number(m[2]) & 0xff);
}

function parseNat(f: string[], c: Columns, len: number): FlowRecord['nat'] {
  if (c.xsa < 0 && c.xda < 0 && c.xsp < 0 && c.xdp < 0) return null;
  const addr = (i: number) => {
    const s = field(f, i);
    const a = s === '' ? null : parseAddress(s);
    // nfdump prints 0.0.0.0 / :: when the record has no translation.
    return a !== null && a.length === len && a.some((b) => b !== 0) ? a : null;
  };
  const port = (i: number) => {
    const p = i >= 0 ? parsePort(field(f, i)) : null;
    return p === null || p === 0 ? null : p;
  };
  const nat = { postSrc: addr(c.xsa), postDst: addr(c.xda), postSrcPort: port(c.xsp), postDstPort: port(c.xdp) };
  if (nat.postSrc === null && nat.postDst === null && nat.postSrcPort === null && nat.postDstPort === null) return null;
  return nat;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Milliseconds since the epoch, or null. */
export function parseTime(s: string): number | null {
  const t = s.trim();
  const m = TIME_RE.exec(t);
  if (m === null) {
    // Epoch seconds, as some nfdump formats and hand-made exports write them.
    if (/^\d{9,10}(?:\.\d{1,9})?$/.test(t)) return Math.round(Number(t) * 1000);
    return null;
  }
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || sec! > 60) return null;
  const ms = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));
  const zone = m[8];
  if (zone === undefined) {
    // nfdump formats with localtime(): read back in the same zone.
    return new Date(y!, mo! - 1, d!, h!, mi!, sec!, ms).getTime();
  }
  const utc = Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!, ms);
  if (zone === 'Z') return utc;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
  return utc - sign * offMin * 60_000;
}

/** 4 bytes for a dotted quad, 16 for IPv6 text; null otherwise. */
export function parseAddress(s: string): Uint8Array | null {
  const t = s.trim();
  return t.includes(':') ? parseIPv6Text(t) : parseDottedQuad(t);
}

/**
 * nfdump's protocol names (its output_util.c table: IANA numbers 0-137, nfdump's own short
 * names) back to numbers. Numbers it prints as such ("  0", "99", "138  ") are read as numbers.
 */
const PROTO_NAMES: readonly string[] = [
  '0', 'ICMP', 'IGMP', 'GGP', 'IPIP', 'ST', 'TCP', 'CBT', 'EGP', 'IGP', 'BBN', 'NVPII', 'PUP', 'ARGUS', 'ENCOM', 'XNET',
  'CHAOS', 'UDP', 'MUX', 'DCN', 'HMP', 'PRM', 'XNS', 'Trnk1', 'Trnk2', 'Leaf1', 'Leaf2', 'RDP', 'IRTP', 'ISO-4', 'NETBK',
  'MFESP', 'MEINP', 'DCCP', '3PC', 'IDPR', 'XTP', 'DDP', 'IDPR', 'TP++', 'IL', 'IPv6', 'SDRP', 'Rte6', 'Frag6', 'IDRP',
  'RSVP', 'GRE', 'MHRP', 'BNA', 'ESP', 'AH', 'INLSP', 'SWIPE', 'NARP', 'MOBIL', 'TLSP', 'SKIP', 'ICMP6', 'NOHE6', 'OPTS6',
  'HOST', 'CFTP', 'NET', 'SATNT', 'KLAN', 'RVD', 'IPPC', 'FS', 'SATM', 'VISA', 'IPCV', 'CPNX', 'CPHB', 'WSN', 'PVP', 'BSATM',
  'SUNND', 'WBMON', 'WBEXP', 'ISOIP', 'VMTP', 'SVMTP', 'VINES', 'TTP', 'NSIGP', 'DGP', 'TCF', 'EIGRP', 'OSPF', 'S-RPC',
  'LARP', 'MTP', 'AX.25', 'OS', 'MICP', 'SCCSP', 'ETHIP', 'ENCAP', '99', 'GMTP', 'IFMP', 'PNNI', 'PIM', 'ARIS', 'SCPS',
  'QNX', 'A/N', 'IPcmp', 'SNP', 'CpqPP', 'IPXIP', 'VRRP', 'PGM', '0hop', 'L2TP', 'DDX', 'IATP', 'STP', 'SRP', 'UTI', 'SMP',
  'SM', 'PTP', 'ISIS4', 'FIRE', 'CRTP', 'CRUDP', '128', 'IPLT', 'SPS', 'PIPE', 'SCTP', 'FC', '134', 'MHEAD', 'UDP-L', 'MPLS',
];
const PROTO_BY_NAME = new Map<string, number>();
for (let i = PROTO_NAMES.length - 1; i >= 0; i--) PROTO_BY_NAME.set(PROTO_NAMES[i]!.toUpperCase(), i);

function parseProto(s: string): number | null {
  if (/^\d{1,3}$/.test(s)) {
    const n = Number(s);
    return n <= 255 ? n : null;
  }
  return PROTO_BY_NAME.get(s.toUpperCase()) ?? null;
}

/**
 * Read a whole stream of nfdump CSV. Resolves with the stats when it ends (or at once when it
 * is not CSV at all); rejects with what the stream or onRecord threw.
 */
export function readNfdumpCsvStream(
  stream: NodeJS.ReadableStream,
  onRecord: (r: FlowRecord) => void,
  onBad: (p: CsvProblem) => void,
): Promise<NfdumpCsvStats> {
  return new Promise((resolve, reject) => {
    const reader = new NfdumpCsvReader(onRecord, onBad);
    let settled = false;
    const finish = (err: unknown, stats?: NfdumpCsvStats) => {
      if (settled) return;
      settled = true;
      if (err !== null) reject(err);
      else resolve(stats!);
    };
    stream.on('data', (chunk: Buffer | string) => {
      if (settled) return;
      try {
        reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
      } catch (e) {
        (stream as { destroy?: () => void }).destroy?.();
        finish(e);
        return;
      }
      if (reader.stats.notCsv !== null) {
        (stream as { destroy?: () => void }).destroy?.();
        finish(null, reader.end());
      }
    });
    stream.once('end', () => {
      try {
        finish(null, reader.end());
      } catch (e) {
        finish(e);
      }
    });
    stream.once('close', () => {
      try {
        finish(null, reader.end());
      } catch (e) {
        finish(e);
      }
    });
    stream.on('error', (e) => finish(e));
  });
}
