/**
 * Data sets that arrived before their template (UDP reorders, exporters send templates only every
 * few seconds, and a datagram may carry data ahead of its own template). They wait, copied, per
 * exporter, bounded in count, bytes and age; a template that arrives decodes its waiting sets at
 * once, with the clocks of the datagram they came in. What waits too long, or is pushed out, is
 * counted as dropped.
 */
import { decodeDataSet } from './records.js';
import { drop, type DecoderLimits, type DomainState, type ExporterState, type Header, type Pending, type Run, type Template } from './state.js';

export function addPending(
  exp: ExporterState,
  dom: DomainState,
  templateId: number,
  b: Uint8Array,
  body: number,
  end: number,
  header: Header,
  offset: number,
  receivedAtMs: number,
  limits: DecoderLimits,
  run: Run,
): void {
  const size = end - body;
  // Past the cap over all exporters the new set is dropped: the waiting ones expire or are drained.
  if (limits.maxPendingPerExporter <= 0 || size > limits.maxPendingBytesPerExporter || exp.table.totals.pendingBytes + size > limits.maxPendingBytes) {
    dom.setsDropped++;
    drop(run, dom, 1);
    return;
  }
  // A copy: the caller's datagram buffer is reused for the next one.
  const bytes = new Uint8Array(size);
  bytes.set(b.subarray(body, end));
  exp.pending.push({ dom, templateId, bytes, header, offset, receivedAtMs });
  exp.pendingBytes += size;
  dom.setsPending++;
  while (exp.pending.length > limits.maxPendingPerExporter || exp.pendingBytes > limits.maxPendingBytesPerExporter) {
    dropEntry(exp, exp.pending.shift() as Pending, run);
  }
}

function dropEntry(exp: ExporterState, e: Pending, run: Run): void {
  exp.pendingBytes -= e.bytes.length;
  e.dom.setsPending--;
  e.dom.setsDropped++;
  drop(run, e.dom, 1);
}

/** Drops sets older than the TTL (arrival order is age order). */
export function expirePending(exp: ExporterState, nowMs: number, ttlMs: number, run: Run): void {
  while (exp.pending.length > 0 && nowMs - exp.pending[0].receivedAtMs > ttlMs) {
    dropEntry(exp, exp.pending.shift() as Pending, run);
  }
}

/** Drops every waiting set of the exporter (finish, eviction) or of one domain (dom given). */
export function dropPending(exp: ExporterState, run: Run, dom?: DomainState): void {
  if (exp.pending.length === 0) return;
  const keep: Pending[] = [];
  for (const e of exp.pending) {
    if (dom === undefined || e.dom === dom) dropEntry(exp, e, run);
    else keep.push(e);
  }
  exp.pending = keep;
}

/** A template arrived: decode the sets that were waiting for it, oldest first. */
export function drainPending(exp: ExporterState, t: Template, run: Run): void {
  if (exp.pending.length === 0) return;
  let match = false;
  for (const e of exp.pending) {
    if (e.dom === t.dom && e.templateId === t.id) {
      match = true;
      break;
    }
  }
  if (!match) return;
  const keep: Pending[] = [];
  const ready: Pending[] = [];
  for (const e of exp.pending) (e.dom === t.dom && e.templateId === t.id ? ready : keep).push(e);
  exp.pending = keep;
  for (const e of ready) {
    exp.pendingBytes -= e.bytes.length;
    e.dom.setsPending--;
    decodeDataSet(e.bytes, 0, e.bytes.length, t, e.header, run, e.offset);
  }
}
