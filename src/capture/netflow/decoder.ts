/**
 * FlowDecoder: UDP payloads of NetFlow v5, v9 and IPFIX exporters in, FlowRecords out.
 *
 * It tells the versions apart by the first two bytes, keeps all state per exporter address and
 * observation domain (templates, sampling, sequence numbers, sets waiting for a template), bounds
 * that state (exporters, domains, templates, pending sets: least recently used go first, and
 * every eviction is counted), and never throws on any bytes: damage is counted on the exporter
 * and described, with the exporter and byte offset, in the `error` of decode().
 */
import { ExporterTable } from './exporters.js';
import { decodeIpfix, IPFIX_HEADER, ipfixDomain } from './ipfix.js';
import { dropPending, expirePending } from './pending.js';
import { u16, u32 } from './read.js';
import type { Msg } from './sets.js';
import {
  DEFAULT_LIMITS,
  newTotals,
  type DecoderLimits,
  type ExporterState,
  type ExporterStats,
  type Header,
  type Run,
  type Totals,
} from './state.js';
import type { FlowRecord } from './types.js';
import { decodeV5, V5_HEADER, v5Domain } from './v5.js';
import { decodeV9, V9_HEADER, v9Domain } from './v9.js';

export type { DecoderLimits, ExporterStats } from './state.js';
export type { FlowRecord } from './types.js';

export interface DecodeResult {
  /** The version field (5, 9, 10), or what the first bytes said for garbage (-1: not even 2 bytes). */
  version: number;
  /** Records handed to onRecord during this call (including ones that waited for this datagram's template). */
  records: number;
  /** The first problem found in this datagram, naming the exporter and byte offset; null when clean. */
  error: string | null;
}

export class FlowDecoder {
  readonly limits: DecoderLimits;
  readonly totals: Totals = newTotals();
  /** Exporters in two tiers (probation, established), each in least-recently-heard order. */
  private readonly table: ExporterTable;
  private lastSweepMs = -Infinity;

  constructor(limits?: Partial<DecoderLimits>) {
    const l: DecoderLimits = { ...DEFAULT_LIMITS };
    if (limits) {
      for (const k of Object.keys(DEFAULT_LIMITS) as (keyof DecoderLimits)[]) {
        const v = limits[k];
        if (typeof v === 'number' && Number.isFinite(v) && v >= 0) l[k] = v;
      }
    }
    // At least one exporter, domain and template, or nothing could ever decode.
    l.maxExporters = Math.max(1, Math.floor(l.maxExporters));
    l.maxDomainsPerExporter = Math.max(1, Math.floor(l.maxDomainsPerExporter));
    l.maxTemplatesPerExporter = Math.max(1, Math.floor(l.maxTemplatesPerExporter));
    l.maxDomains = Math.max(1, Math.floor(l.maxDomains));
    this.limits = l;
    this.table = new ExporterTable(l, this.totals);
  }

  decode(
    buf: Uint8Array,
    offset: number,
    length: number,
    exporter: string,
    receivedAtMs: number,
    onRecord: (r: FlowRecord) => void,
  ): DecodeResult {
    const totals = this.totals;
    totals.datagrams++;
    const run: Run = { onRecord, records: 0, error: null, totals };
    // A caller's bad offset/length must not turn into reads past the buffer.
    const start = offset >= 0 && offset <= buf.length ? Math.floor(offset) : buf.length;
    const end = Math.min(buf.length, start + Math.max(0, Math.floor(length) || 0));
    const size = end - start;

    if (size < 2) return this.garbage(-1, exporter, `${size} bytes, too short for any flow export`);
    const version = u16(buf, start);
    let need: number;
    if (version === 5) need = V5_HEADER;
    else if (version === 9) need = V9_HEADER;
    else if (version === 10) need = IPFIX_HEADER;
    else return this.garbage(version, exporter, `version ${version} is not NetFlow v5, v9 or IPFIX (10)`);
    const names = version === 10 ? 'IPFIX' : `NetFlow v${version}`;
    if (size < need) return this.garbage(version, exporter, `${size} bytes, too short for the ${need}-byte ${names} header`);

    const exp = this.table.heard(exporter, receivedAtMs, run);
    if (receivedAtMs === receivedAtMs) this.expire(exp, receivedAtMs, run);

    let domain: number;
    let h: Header;
    if (version === 5) {
      domain = v5Domain(buf, start);
      h = {
        exporter,
        version: 5,
        exportMs: u32(buf, start + 8) * 1000 + Math.floor(u32(buf, start + 12) / 1e6),
        sysUptime: u32(buf, start + 4),
      };
    } else if (version === 9) {
      domain = v9Domain(buf, start);
      h = { exporter, version: 9, exportMs: u32(buf, start + 8) * 1000, sysUptime: u32(buf, start + 4) };
    } else {
      domain = ipfixDomain(buf, start);
      h = { exporter, version: 10, exportMs: u32(buf, start + 4) * 1000, sysUptime: -1 };
    }
    const dom = this.table.domain(exp, h.version, domain, run);

    if (version === 5) {
      decodeV5(buf, start, end, dom, h, run);
    } else {
      const m: Msg = { exp, dom, h, run, limits: this.limits, receivedAtMs, base: start };
      if (version === 9) decodeV9(buf, start, end, m);
      else decodeIpfix(buf, start, end, m);
    }
    this.table.delivered(exp, run.records);
    return { version, records: run.records, error: run.error };
  }

  /** End of input: sets still waiting for a template are dropped (and counted). */
  finish(): void {
    const run: Run = { onRecord: () => {}, records: 0, error: null, totals: this.totals };
    for (const exp of this.table.all()) dropPending(exp, run);
  }

  /**
   * Per exporter and domain. With `limit`, at most that many: the domains with the most errors,
   * garbage and dropped records, then the most datagrams (a log line under a flood of fake
   * exporters stays short; totals count them all).
   */
  exporters(limit = Infinity): ExporterStats[] {
    const out: ExporterStats[] = [];
    for (const exp of this.table.all()) {
      for (const d of exp.domains.values()) {
        out.push({
          exporter: d.exporter,
          domain: d.domain,
          version: d.version,
          datagrams: d.datagrams,
          records: d.records,
          templates: d.templates,
          optionsTemplates: d.optionsTemplates,
          recordsPending: d.setsPending,
          recordsDropped: d.recordsDropped,
          errors: d.errors,
          sequenceLost: d.sequenceLost,
          restarts: d.restarts,
          samplingRate: d.rate,
          lastError: d.lastError,
          optionsRecords: d.optionsRecords,
          recordsSkipped: d.recordsSkipped,
          setsPending: d.setsPending,
          setsDropped: d.setsDropped,
          templatesEvicted: exp.templatesEvicted,
          garbage: exp.garbage,
          established: exp.established,
        });
      }
    }
    return worstExporters(out, limit);
  }

  private garbage(version: number, exporter: string, why: string): DecodeResult {
    this.totals.garbage++;
    // Counted on a known exporter; an unknown address gets no state from garbage.
    const exp = this.table.peek(exporter);
    if (exp !== undefined) this.table.garbage(exp);
    return { version, records: 0, error: `datagram from ${exporter}, offset 0: ${why}` };
  }

  /** Pending sets past their TTL: this exporter's now, everyone's every TTL/2 of arrival time. */
  private expire(exp: ExporterState, now: number, run: Run): void {
    const ttl = this.limits.pendingTtlMs;
    if (exp.pending.length > 0) expirePending(exp, now, ttl, run);
    if (now - this.lastSweepMs >= ttl / 2) {
      this.lastSweepMs = now;
      for (const e of this.table.all()) if (e.pending.length > 0) expirePending(e, now, ttl, run);
    }
  }
}

/**
 * At most `limit` exporter domains for a log line: the most damaged, then the busiest (a flood of
 * fake exporters would otherwise make one line megabytes). The list itself when it is short enough.
 */
export function worstExporters(list: ExporterStats[], limit: number): ExporterStats[] {
  if (list.length <= limit) return list;
  const trouble = (e: ExporterStats) => e.errors + e.garbage + e.recordsDropped;
  return [...list].sort((a, b) => trouble(b) - trouble(a) || b.datagrams - a.datagrams).slice(0, Math.max(0, limit));
}
