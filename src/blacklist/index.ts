/** Public face of the blacklist: entry type, plain-list parser, lookup index. */
export type { BlacklistEntry } from './types.js';
export { parsePlainList, loadPlainListFile, canonicalText, type PlainListResult } from './plain.js';
export { BlacklistIndex, buildIndex, tableOf } from './lookup.js';
export { AddressTable, type EntryOrigin } from './address-table.js';
export { readListInto, loadListFileInto, type TableListFormat, type TableListResult } from './list-reader.js';
export { formatIPv4, formatIPv6 } from './addr.js';
