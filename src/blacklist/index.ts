/** Public face of the blacklist: entry type, plain-list parser, lookup index. */
export type { BlacklistEntry } from './types.js';
export { parsePlainList, loadPlainListFile, canonicalText, type PlainListResult } from './plain.js';
export { BlacklistIndex, buildIndex } from './lookup.js';
export { formatIPv4, formatIPv6 } from './addr.js';
