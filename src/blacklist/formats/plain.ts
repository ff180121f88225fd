/** The plain format (src/blacklist/plain.ts) seen as a ListParseResult: addresses only, each kept once. */
import { parsePlainList } from '../plain.js';
import type { ListParseResult } from '../types.js';
import { ListCollector } from './collect.js';

export function parsePlainFormat(text: string, source: string): ListParseResult {
  const r = parsePlainList(text, source);
  const out = new ListCollector(source);
  for (const e of r.entries) out.address(e);
  out.adopt(r.errors, r.warnings);
  return out.result();
}
