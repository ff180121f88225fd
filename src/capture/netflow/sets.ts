/**
 * What v9 and IPFIX share once a set is found: a data set is decoded with its template or waits
 * for it; a compiled template is stored and releases the sets that waited for it.
 */
import { addPending, drainPending } from './pending.js';
import { decodeDataSet } from './records.js';
import { fail, type DecoderLimits, type DomainState, type ExporterState, type Header, type Run, type Template } from './state.js';
import { compileTemplate, findTemplate, storeTemplate, type FieldSpecs } from './templates.js';

/** One datagram being decoded. */
export interface Msg {
  exp: ExporterState;
  dom: DomainState;
  h: Header;
  run: Run;
  limits: DecoderLimits;
  receivedAtMs: number;
  /** Index of the datagram's first byte in the buffer: offsets in messages are relative to it. */
  base: number;
}

/** Returns the data records decoded, or -1 when unknown (waiting for the template, or damaged). */
export function dataSet(m: Msg, id: number, b: Uint8Array, body: number, end: number): number {
  const t = findTemplate(m.exp, m.dom, id);
  if (t === undefined) {
    addPending(m.exp, m.dom, id, b, body, end, m.h, body - m.base, m.receivedAtMs, m.limits, m.run);
    return -1;
  }
  return decodeDataSet(b, body, end, t, m.h, m.run, -m.base);
}

export function installTemplate(m: Msg, id: number, options: boolean, plan: Omit<Template, 'key' | 'id' | 'dom' | 'options'>): void {
  const t = storeTemplate(m.exp, m.dom, id, options, plan, m.limits.maxTemplatesPerExporter);
  drainPending(m.exp, t, m.run);
}

const specs: FieldSpecs = { start: 0, end: 0 };

/**
 * One (options) template record of a v9 flowset or IPFIX set, whose field specifiers start at
 * `fields`: compiled and installed, or counted as an error naming the record at `at`. Returns where
 * the next record starts, or -1 when the lengths leave no way to find it.
 */
export function learnTemplate(
  m: Msg,
  b: Uint8Array,
  at: number,
  fields: number,
  end: number,
  id: number,
  options: boolean,
  count: number,
  scopeCount: number,
  ipfix: boolean,
): number {
  const plan = compileTemplate(b, fields, end, count, scopeCount, ipfix, specs);
  if (typeof plan === 'string') {
    fail(m.run, m.dom, at - m.base, `${options ? 'options template' : 'template'} ${id}: ${plan}`);
    if (specs.end < 0) return -1;
  } else {
    installTemplate(m, id, options, plan);
  }
  return specs.end;
}
