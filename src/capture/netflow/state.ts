/**
 * What the decoder remembers, per exporter address and per observation domain (NetFlow v9 source
 * id / IPFIX observation domain id / v5 engine). Nothing here is global: two exporters, or two
 * domains of one exporter, never see each other's templates, sampling rates or sequence numbers.
 */
import type { FlowRecord } from './types.js';

export interface DecoderLimits {
  /** Exporter addresses remembered; the newcomer silent the longest is forgotten first (exporters.ts). */
  maxExporters: number;
  /** Templates and options templates per exporter address (all its domains); least recently used evicted. */
  maxTemplatesPerExporter: number;
  /** Data sets per exporter waiting for their template; the oldest is dropped first. */
  maxPendingPerExporter: number;
  /** How long a data set waits for its template (arrival time, ms). */
  pendingTtlMs: number;
  /** Observation domains per exporter address (extension: bounds a flood of domain ids). */
  maxDomainsPerExporter: number;
  /** Bytes of pending data sets per exporter (extension: 64 sets of 64 KiB would be 4 MiB each). */
  maxPendingBytesPerExporter: number;
  // Caps over all exporters together (extension). The per-exporter caps alone would let a crowd of
  // fake exporters hold maxExporters times each of them: 1000 x 1000 templates of 512 fields
  // would be 5.9 GB (measured: 1.77 GB of RSS at 300 exporters), 1000 x 256 domains 180 MB,
  // 1000 x 256 KiB of pending sets 256 MB.
  /** Observation domains of all exporters; beyond it the least recently heard newcomers lose theirs first. */
  maxDomains: number;
  /** Estimated bytes of all compiled templates (templateCost); evicted from newcomers first. */
  maxTemplateBytes: number;
  /** Bytes of pending data sets of all exporters; a set that would pass it is dropped (counted). */
  maxPendingBytes: number;
  /**
   * An established exporter keeps its place while it exports; silent this long (arrival time, ms)
   * it may give its place to a newcomer when the established tier (3/4 of maxExporters) is full.
   */
  establishedIdleMs: number;
}

export const DEFAULT_LIMITS: DecoderLimits = {
  maxExporters: 1000,
  maxTemplatesPerExporter: 1000,
  maxPendingPerExporter: 64,
  pendingTtlMs: 60_000,
  maxDomainsPerExporter: 256,
  maxPendingBytesPerExporter: 256 * 1024,
  maxDomains: 16_384,
  maxTemplateBytes: 64 * 1024 * 1024,
  maxPendingBytes: 32 * 1024 * 1024,
  establishedIdleMs: 10 * 60_000,
};

export interface ExporterStats {
  exporter: string;
  domain: number;
  version: number;
  datagrams: number;
  /** Flow records handed to onRecord. */
  records: number;
  /** Templates and options templates currently known for this domain. */
  templates: number;
  optionsTemplates: number;
  /**
   * Data sets waiting for their template. Without the template the records in a set cannot be
   * counted, so each waiting set counts as one record here (a lower bound); see setsPending.
   */
  recordsPending: number;
  /**
   * Records lost: bad records (lying lengths), v5 records cut off by a short datagram, and data
   * sets whose template never came in time or that a pending overflow pushed out (each such set
   * counts 1, a lower bound, see setsDropped).
   */
  recordsDropped: number;
  errors: number;
  /**
   * Records lost on the way, from sequence-number gaps: v5 sequences count flows and IPFIX
   * sequences data records (RFC 7011 §3.1), so their gaps are records; v9 sequences count export
   * packets (RFC 3954, packet header), so a v9 gap is multiplied by this domain's mean records per
   * datagram. A datagram arriving late (behind the sequence, within a small window) gives back
   * what its gap had counted.
   */
  sequenceLost: number;
  /** Sequence number jumping far back, or (v5/v9) sysUptime going back more than 60 s. */
  restarts: number;
  /** Latest sampling rate of this domain (1-in-N), from the v5 header or options records. */
  samplingRate: number | null;
  lastError: string | null;
  // Extensions beyond the interface in the issue (all counters):
  /** Options data records read (sampling, system init time); they are not flows. */
  optionsRecords: number;
  /** Data records with neither an address nor a decodable sampled frame (e.g. NAT pool events). */
  recordsSkipped: number;
  /** Exact numbers of data sets waiting for / dropped without their template. */
  setsPending: number;
  setsDropped: number;
  /** Templates of this exporter address evicted by maxTemplatesPerExporter or maxTemplateBytes. */
  templatesEvicted: number;
  /** Datagrams from this exporter address that were not flow export at all (exporter-wide, like templatesEvicted). */
  garbage: number;
  /** The exporter address has delivered records in two datagrams: a flood of newcomers evicts it last. */
  established: boolean;
}

/** A template compiled into a flat plan: one entry per field, adjacent skipped fields merged. */
export interface Template {
  /** domainKey * 65536 + template id: the key in ExporterState.templates. */
  key: number;
  id: number;
  dom: DomainState;
  options: boolean;
  /** Field kinds (fields.ts K_*) and exported lengths (VARIABLE for variable-length). */
  kinds: Uint8Array;
  lens: Int32Array;
  /** restMin[i]: bytes the fields after i need at least; checked only after a variable length. */
  restMin: Int32Array;
  /** Smallest record: fixed lengths plus one length byte per variable field. */
  minLen: number;
  /** The record carries its own sampling fields (interval, sampler id, ...). */
  recordSampling: boolean;
}

/** Sequence tracking state (see sequence.ts). */
export interface SeqState {
  /** Next sequence number expected; -1 when unknown (first datagram, or after damage). */
  expected: number;
  /** Last sysUptime (v5/v9), -1 when none. */
  lastUptime: number;
}

export class DomainState {
  readonly exporter: string;
  readonly domain: number;
  readonly version: 5 | 9 | 10;
  /** version * 2^32 + domain: a v9 source id and an IPFIX domain with the same number differ. */
  readonly key: number;
  datagrams = 0;
  records = 0;
  optionsRecords = 0;
  recordsSkipped = 0;
  recordsDropped = 0;
  setsPending = 0;
  setsDropped = 0;
  errors = 0;
  sequenceLost = 0;
  restarts = 0;
  templates = 0;
  optionsTemplates = 0;
  lastError: string | null = null;
  seq: SeqState = { expected: -1, lastUptime: -1 };
  /** Latest 1-in-N rate for the domain, from the v5 header or any options record. */
  rate: number | null = null;
  /** Rates by sampler/selector id and by template id (options scopes), bounded in size. */
  samplerRates = new Map<number, number>();
  templateRates = new Map<number, number>();
  /** systemInitTimeMilliseconds from an options record (IPFIX uptime-relative times). */
  sysInitMs = NaN;

  constructor(exporter: string, version: 5 | 9 | 10, domain: number) {
    this.exporter = exporter;
    this.version = version;
    this.domain = domain;
    this.key = domainKey(version, domain);
  }
}

export function domainKey(version: number, domain: number): number {
  return version * 4294967296 + domain;
}

/** A data set that arrived before its template: a copy of its records, with its header's clocks. */
export interface Pending {
  dom: DomainState;
  templateId: number;
  bytes: Uint8Array;
  header: Header;
  /** Offset of the set body in its datagram, for error messages. */
  offset: number;
  receivedAtMs: number;
}

/**
 * What an exporter needs of the table that holds all of them (exporters.ts): the caps, the totals
 * whose gauges its templates and pending sets are charged to, and both tiers in least recently
 * heard order, for the global caps to pick whom to take from.
 */
export interface ExporterTableRef {
  readonly limits: DecoderLimits;
  readonly totals: Totals;
  /** Exporters not (yet) established, least recently heard first: evicted first. */
  readonly probation: Map<string, ExporterState>;
  /** Exporters that delivered records in two datagrams, least recently heard first. */
  readonly established: Map<string, ExporterState>;
}

export class ExporterState {
  readonly address: string;
  readonly table: ExporterTableRef;
  readonly domains = new Map<number, DomainState>();
  /** All templates of all domains, in least-recently-used order (Map insertion order). */
  readonly templates = new Map<number, Template>();
  pending: Pending[] = [];
  templatesEvicted = 0;
  /** Estimated bytes of this exporter's templates (templateCost), part of totals.templateBytes. */
  templateBytes = 0;
  /** In the table's established tier. */
  established = false;
  /** Datagrams that delivered records (counted until established). */
  recordDatagrams = 0;
  /** Arrival time of its latest datagram (ms; NaN when the caller gave none). */
  lastHeardMs = NaN;
  /** Datagrams from this address that were not flow export (bad version, too short). */
  garbage = 0;
  private ownPendingBytes = 0;
  constructor(address: string, table: ExporterTableRef) {
    this.address = address;
    this.table = table;
  }
  /** Bytes of this exporter's pending sets; every change is mirrored in totals.pendingBytes. */
  get pendingBytes(): number {
    return this.ownPendingBytes;
  }
  set pendingBytes(v: number) {
    this.table.totals.pendingBytes += v - this.ownPendingBytes;
    this.ownPendingBytes = v;
  }
}

/** The clocks of one export datagram, kept with pending sets so they decode as if on time. */
export interface Header {
  exporter: string;
  version: 5 | 9 | 10;
  /** Export time: v5 unix_secs + nsecs, v9 unix_secs, IPFIX export time; ms since 1970. */
  exportMs: number;
  /** v5/v9 sysUptime in ms; -1 for IPFIX (no uptime in its header). */
  sysUptime: number;
}

export interface Totals {
  datagrams: number;
  records: number;
  dropped: number;
  errors: number;
  garbage: number;
  /** Extensions: exporter addresses forgotten by maxExporters, domains by maxDomainsPerExporter or maxDomains. */
  exportersEvicted: number;
  domainsEvicted: number;
  /** Templates evicted by maxTemplatesPerExporter or maxTemplateBytes. */
  templatesEvicted: number;
  // Gauges: what the decoder holds now, each bounded by its cap in DecoderLimits.
  /** Exporter addresses held (maxExporters), and of them established ones. */
  exporters: number;
  established: number;
  /** Observation domains held (maxDomains). */
  domains: number;
  /** Templates and options templates held, and their estimated bytes (maxTemplateBytes). */
  templates: number;
  templateBytes: number;
  /** Bytes of data sets waiting for their template (maxPendingBytes). */
  pendingBytes: number;
}

export function newTotals(): Totals {
  return {
    datagrams: 0, records: 0, dropped: 0, errors: 0, garbage: 0, exportersEvicted: 0, domainsEvicted: 0, templatesEvicted: 0,
    exporters: 0, established: 0, domains: 0, templates: 0, templateBytes: 0, pendingBytes: 0,
  };
}

/** One decode() call: where records go, and what it reports back. */
export interface Run {
  onRecord: (r: FlowRecord) => void;
  records: number;
  error: string | null;
  totals: Totals;
}

const NAMES: Record<number, string> = { 5: 'NetFlow v5', 9: 'NetFlow v9', 10: 'IPFIX' };

/** Counts a damaged spot and keeps the first message of the datagram for the caller. */
export function fail(run: Run, dom: DomainState, offset: number, msg: string): void {
  const text = `${NAMES[dom.version]} from ${dom.exporter} (domain ${dom.domain}), offset ${offset}: ${msg}`;
  dom.errors++;
  dom.lastError = text;
  run.totals.errors++;
  if (run.error === null) run.error = text;
}

export function drop(run: Run, dom: DomainState, n: number): void {
  dom.recordsDropped += n;
  run.totals.dropped += n;
}
