/**
 * Templates: compiled once from their field specifiers into a flat plan (templates change rarely,
 * records arrive by the million), and kept per exporter address in one LRU map whose size is
 * capped, so a template flood costs bounded memory. All exporters' templates together are capped
 * too, in estimated bytes (maxTemplateBytes): past it, the templates of the least recently heard
 * newcomers go first, then those of the least recently heard established exporters.
 */
import {
  K_PKT_INTERVAL,
  K_SAMPLER_ID,
  K_SAMPLING_INTERVAL,
  K_SAMPLING_POPULATION,
  K_SAMPLING_PROBABILITY,
  K_SAMPLING_SIZE,
  K_SKIP,
  VARIABLE,
  kindFor,
} from './fields.js';
import { u16 } from './read.js';
import type { DomainState, ExporterState, Template } from './state.js';

/**
 * Plan entries per template. Skipped fields merge, so this bounds only the fields we read plus
 * variable-length ones; real templates have a few dozen fields. Beyond it the template is refused:
 * its plan would be the memory a flood needs.
 */
const MAX_PLAN = 512;

/** Records are at most a set: 65535 bytes minus the set header. */
const MAX_RECORD = 65535 - 4;

/**
 * Estimated bytes a compiled template holds: its plan (1 + 4 + 4 bytes an entry, in one buffer),
 * the three views on it, the object and its map slot. Measured before the plan shared one buffer:
 * 300,000 templates of 512 entries took 1.77 GB of RSS, 5.9 KB each; 9 x 512 = 4.6 KB of entries,
 * the rest fixed.
 */
const TEMPLATE_OVERHEAD = 1280;

export function templateCost(entries: number): number {
  return TEMPLATE_OVERHEAD + 9 * entries;
}

export interface FieldSpecs {
  /** Offset of the first field specifier. */
  start: number;
  /** Offset just past the last one; -1 when they ran past the set (nothing after is trusted). */
  end: number;
}

/**
 * Compiles the `count` field specifiers at b[start..] (v9: type, length; IPFIX: id, length, and a
 * 4-byte enterprise number when the id's top bit is set). The first `scopeCount` are scope
 * fields: in v9 their types are scope types (1 = system, 2 = interface, ...), not element ids, so
 * they are skipped; IPFIX scopes are real elements (templateId, samplerId, ...).
 * Returns the plan, or an error text; `specs.end` tells where the specifiers ended.
 */
export function compileTemplate(
  b: Uint8Array,
  start: number,
  end: number,
  count: number,
  scopeCount: number,
  ipfix: boolean,
  specs: FieldSpecs,
): Omit<Template, 'key' | 'id' | 'dom' | 'options'> | string {
  const kinds: number[] = [];
  const lens: number[] = [];
  let p = start;
  let recordSampling = false;
  let tooMany = false;
  specs.start = start;
  specs.end = -1;
  for (let i = 0; i < count; i++) {
    if (end - p < 4) return `template field ${i + 1} of ${count} does not fit in its set`;
    let id = u16(b, p);
    const len = u16(b, p + 2);
    p += 4;
    let kind: number;
    if (ipfix && id & 0x8000) {
      // Enterprise-specific: a 4-byte PEN follows; we know none of them, the length skips it.
      if (end - p < 4) return `enterprise number of field ${i + 1} does not fit in its set`;
      p += 4;
      kind = K_SKIP;
      id &= 0x7fff;
    } else if (!ipfix && i < scopeCount) {
      kind = K_SKIP;
    } else {
      kind = kindFor(id, len);
    }
    if (
      kind === K_SAMPLING_INTERVAL ||
      kind === K_SAMPLER_ID ||
      kind === K_PKT_INTERVAL ||
      kind === K_SAMPLING_SIZE ||
      kind === K_SAMPLING_POPULATION ||
      kind === K_SAMPLING_PROBABILITY
    ) {
      recordSampling = true;
    }
    const last = kinds.length - 1;
    if (kind === K_SKIP && len !== VARIABLE) {
      if (len === 0) continue;
      // Merge runs of fixed-length fields we do not read: one step in the record loop.
      if (last >= 0 && kinds[last] === K_SKIP && lens[last] !== VARIABLE && lens[last] + len <= MAX_RECORD) {
        lens[last] += len;
        continue;
      }
    }
    if (kinds.length >= MAX_PLAN) {
      tooMany = true; // keep parsing: the caller still learns where the next template starts
      continue;
    }
    kinds.push(kind);
    lens.push(len);
  }
  specs.end = p;
  if (tooMany) return `template has more than ${MAX_PLAN} fields we would have to walk`;

  const n = kinds.length;
  // One buffer for the three arrays: one backing-store allocation per template, not three.
  const block = new ArrayBuffer(9 * n);
  const lensA = new Int32Array(block, 0, n);
  const restMin = new Int32Array(block, 4 * n, n);
  const kindsA = new Uint8Array(block, 8 * n, n);
  lensA.set(lens);
  kindsA.set(kinds);
  let need = 0;
  for (let i = n - 1; i >= 0; i--) {
    restMin[i] = need;
    need += lens[i] === VARIABLE ? 1 : lens[i];
  }
  if (need === 0) return 'template describes empty records';
  if (need > MAX_RECORD) return `template records of ${need} bytes cannot fit in a set`;
  return { kinds: kindsA, lens: lensA, restMin, minLen: need, recordSampling };
}

function samePlan(a: Template, kinds: Uint8Array, lens: Int32Array, options: boolean): boolean {
  if (a.options !== options || a.kinds.length !== kinds.length) return false;
  for (let i = 0; i < kinds.length; i++) if (a.kinds[i] !== kinds[i] || a.lens[i] !== lens[i]) return false;
  return true;
}

/** The template for (domain, id), marked as just used; undefined when unknown. */
export function findTemplate(exp: ExporterState, dom: DomainState, id: number): Template | undefined {
  const key = dom.key * 65536 + id;
  const t = exp.templates.get(key);
  if (t !== undefined) {
    // Re-insert: Map keeps insertion order, so the first entry is the least recently used.
    exp.templates.delete(key);
    exp.templates.set(key, t);
  }
  return t;
}

/**
 * Stores a template (a refresh with the same id replaces the layout) and evicts the least
 * recently used ones beyond `max`. Returns the stored template.
 */
export function storeTemplate(
  exp: ExporterState,
  dom: DomainState,
  id: number,
  options: boolean,
  plan: Omit<Template, 'key' | 'id' | 'dom' | 'options'>,
  max: number,
): Template {
  const key = dom.key * 65536 + id;
  const old = exp.templates.get(key);
  if (old !== undefined) {
    exp.templates.delete(key);
    if (samePlan(old, plan.kinds, plan.lens, options)) {
      exp.templates.set(key, old);
      return old;
    }
    count(exp, old, -1);
  }
  const t: Template = { key, id, dom, options, ...plan };
  exp.templates.set(key, t);
  count(exp, t, 1);
  while (exp.templates.size > max) evict(exp, exp.templates.values().next().value as Template);
  const { limits, totals } = exp.table;
  if (totals.templateBytes > limits.maxTemplateBytes) fitBudget(exp, t);
  return t;
}

function evict(exp: ExporterState, t: Template): void {
  exp.templates.delete(t.key);
  count(exp, t, -1);
  exp.templatesEvicted++;
  exp.table.totals.templatesEvicted++;
}

/**
 * All exporters' templates over maxTemplateBytes: take the least recently used templates of the
 * least recently heard exporter in probation, then the next, then the established ones; never
 * `keep`, the template just stored. A flood of templates from fake exporters thus evicts its own.
 */
function fitBudget(exp: ExporterState, keep: Template): void {
  const { limits, totals, probation, established } = exp.table;
  for (const tier of [probation, established]) {
    for (const c of tier.values()) {
      while (totals.templateBytes > limits.maxTemplateBytes) {
        const first = c.templates.values().next().value;
        if (first === undefined || first === keep) break;
        evict(c, first);
      }
      if (totals.templateBytes <= limits.maxTemplateBytes) return;
    }
  }
}

/** IPFIX template withdrawal (RFC 7011 §8.1): one id, or every (options) template of the domain. */
export function withdrawTemplate(exp: ExporterState, dom: DomainState, id: number): void {
  const key = dom.key * 65536 + id;
  const t = exp.templates.get(key);
  if (t === undefined) return;
  exp.templates.delete(key);
  count(exp, t, -1);
}

export function withdrawAll(exp: ExporterState, dom: DomainState, options: boolean): void {
  for (const t of exp.templates.values()) {
    if (t.dom === dom && t.options === options) {
      exp.templates.delete(t.key);
      count(exp, t, -1);
    }
  }
}

/** A domain forgotten (maxDomainsPerExporter, maxDomains): its templates go with it. */
export function dropDomainTemplates(exp: ExporterState, dom: DomainState): void {
  for (const t of exp.templates.values()) {
    if (t.dom === dom) {
      exp.templates.delete(t.key);
      count(exp, t, -1);
    }
  }
}

/** An exporter forgotten: its templates leave the totals (the state itself is dropped). */
export function dropAllTemplates(exp: ExporterState): void {
  const totals = exp.table.totals;
  totals.templates -= exp.templates.size;
  totals.templateBytes -= exp.templateBytes;
  exp.templates.clear();
  exp.templateBytes = 0;
}

/** Keeps the per-domain counts, the exporter's bytes and the totals in step with the maps. */
function count(exp: ExporterState, t: Template, d: number): void {
  if (t.options) t.dom.optionsTemplates += d;
  else t.dom.templates += d;
  const bytes = d * templateCost(t.kinds.length);
  exp.templateBytes += bytes;
  const totals = exp.table.totals;
  totals.templates += d;
  totals.templateBytes += bytes;
}
