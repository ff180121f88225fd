/** Compact views of list parse results, so tests can state the exact expected entries in a line each. */
import { expect } from 'vitest';
import type { EntryLabels, ListParseResult } from '../../src/blacklist/types.js';

export interface Summary {
  /** Canonical text, then labels when present: "203.0.113.7:3333 coin=xmr label=supportxmr". */
  addresses: string[];
  domains: string[];
  /** Context line of each error (for JSON items: the item index; 0 when the error is about the whole file). */
  errorLines: number[];
  warningLines: number[];
}

function withLabels(text: string, e: EntryLabels): string {
  let s = text;
  if (e.coin !== undefined) s += ` coin=${e.coin}`;
  if (e.label !== undefined) s += ` label=${e.label}`;
  return s;
}

export function summarize(r: ListParseResult): Summary {
  return {
    addresses: r.addresses.map((e) => withLabels(e.text, e)),
    domains: r.domains.map((e) => withLabels(e.text, e)),
    errorLines: r.errors.map((e) => e.context.line ?? 0),
    warningLines: r.warnings.map((e) => e.context.line ?? 0),
  };
}

/** Every error and warning is PW_ERR_LIST_SYNTAX naming the source; every entry names it too. */
export function expectWellFormed(r: ListParseResult, source: string): void {
  for (const e of [...r.errors, ...r.warnings]) {
    expect(e.code).toBe('PW_ERR_LIST_SYNTAX');
    expect(e.context.file).toBe(source);
  }
  for (const e of [...r.addresses, ...r.domains]) expect(e.source).toBe(source);
}
