/**
 * Every blacklist format by name. Adding a format is one module returning a ListParseResult and
 * one line in PARSERS; the configuration validates format names against LIST_FORMATS.
 *
 * Parsers never throw on any text (lists come from strangers on the internet): a bad line or
 * item is an error in the result and the rest is read (past 1,000 errors only counted, see
 * collect.ts); entries are kept once per file.
 */
import { PoolwatchError } from '../../errors.js';
import { readListFile } from '../plain.js';
import type { ListFormat, ListParseResult } from '../types.js';
import { parseAbpList } from './abp.js';
import { parseCsvList } from './csv.js';
import { parseDomainsList } from './domains.js';
import { parseEntriesList } from './entries.js';
import { parseHostsList } from './hosts.js';
import { parseJsonList } from './json.js';
import { parsePlainFormat } from './plain.js';

export type ListParser = (text: string, source: string) => ListParseResult;

// Record<ListFormat, ...>: the compiler refuses a format without a parser, and a parser without a format.
const PARSERS: Readonly<Record<ListFormat, ListParser>> = {
  plain: parsePlainFormat,
  hosts: parseHostsList,
  domains: parseDomainsList,
  abp: parseAbpList,
  csv: parseCsvList,
  json: parseJsonList,
  entries: parseEntriesList,
};

/** The format names a list source may declare, for configuration validation. */
export const LIST_FORMATS: readonly ListFormat[] = Object.freeze(Object.keys(PARSERS) as ListFormat[]);

export function isListFormat(name: unknown): name is ListFormat {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(PARSERS, name);
}

/**
 * Parse one list's text. `source` names the list in entries and errors (a path or URL).
 * Throws only for a format name outside LIST_FORMATS (PW_ERR_USAGE): that is a configuration
 * bug for the caller to catch with isListFormat, not something in the list.
 */
export function parseList(format: ListFormat, text: string, source: string): ListParseResult {
  if (!isListFormat(format)) {
    throw new PoolwatchError('PW_ERR_USAGE', `unknown list format ${JSON.stringify(String(format))}; known: ${LIST_FORMATS.join(', ')}`, { file: source });
  }
  return PARSERS[format](text, source);
}

/** Read and parse a list file. A file that cannot be read is fatal (PW_ERR_IO naming it). */
export function loadListFile(format: ListFormat, path: string): ListParseResult {
  return parseList(format, readListFile(path), path);
}

/**
 * How many lines or items `errors` (or `warnings`) of a ListParseResult stand for: past
 * MAX_REPORTS, the rest are counted in one last error whose context.omitted holds their number.
 */
export function countReports(reports: readonly PoolwatchError[]): number {
  const omitted = reports.at(-1)?.context.omitted;
  return typeof omitted === 'number' ? reports.length - 1 + omitted : reports.length;
}

export { MAX_REPORTS } from './collect.js';
export { parseAbpList, type AbpParseResult } from './abp.js';
export { parseCsvList } from './csv.js';
export { parseDomainsList } from './domains.js';
export { parseHostsList } from './hosts.js';
export { parseJsonList } from './json.js';
export { parsePlainFormat } from './plain.js';
export { domainText, normalizeDomain, parseDomainSpec } from './domain.js';
