/**
 * What every list parser shares: one collector that keeps each entry once
 * and builds errors and warnings with the same code and context. Parsers only decide what a line
 * means; how results are stored, deduplicated and reported is here, once.
 */
import { PoolwatchError } from '../../errors.js';
import type { BlacklistEntry, DomainEntry, EntryLabels, ListParseResult } from '../types.js';
import { domainText } from './domain.js';

/**
 * Errors (and warnings) kept per list; past this, only counted. Each is an Error with a stack:
 * a hostile list of a million bad lines would otherwise cost ~800 MB and seconds. A thousand is
 * more than anyone reads, and the count of the rest is kept in one last entry (context.omitted).
 */
export const MAX_REPORTS = 1000;

export class ListCollector {
  private readonly addresses: (BlacklistEntry & EntryLabels)[] = [];
  private readonly domains: DomainEntry[] = [];
  private readonly errors: PoolwatchError[] = [];
  private readonly warnings: PoolwatchError[] = [];
  // Keyed by canonical text, so "1.2.3.4" and "1.2.3.4/32" are one entry. The first occurrence
  // wins, labels included: a later duplicate adds nothing a lookup could use.
  private readonly seenAddresses = new Set<string>();
  private readonly seenDomains = new Set<string>();
  private omittedErrors = 0;
  private omittedWarnings = 0;

  constructor(readonly source: string) {}

  /** Keep an address entry (the object is adopted, labels are set on it) unless already kept. */
  address(entry: BlacklistEntry, labels?: EntryLabels): void {
    if (this.seenAddresses.has(entry.text)) return;
    this.seenAddresses.add(entry.text);
    this.addresses.push(labels === undefined ? entry : withLabels(entry, labels));
  }

  /** Keep a domain entry (name already normalised by domain.ts) unless already kept. */
  domain(name: string, portLo: number, portHi: number, labels?: EntryLabels): void {
    const text = domainText(name, portLo, portHi);
    if (this.seenDomains.has(text)) return;
    this.seenDomains.add(text);
    const entry: DomainEntry = { name, portLo, portHi, text, source: this.source };
    this.domains.push(labels === undefined ? entry : withLabels(entry, labels));
  }

  /**
   * A line or item that was skipped. `line` is the 1-based line, or for JSON the 1-based item
   * index; undefined for a problem with the whole file. `offset`: a character index into the text.
   */
  error(message: string, line?: number, offset?: number): void {
    if (this.errors.length >= MAX_REPORTS) {
      this.omittedErrors++;
      return;
    }
    const ctx = this.context(line);
    if (offset !== undefined) ctx.offset = offset;
    this.errors.push(new PoolwatchError('PW_ERR_LIST_SYNTAX', message, ctx));
  }

  /** A line or item kept after a repair the author may not have meant. */
  warning(message: string, line?: number): void {
    if (this.warnings.length >= MAX_REPORTS) {
      this.omittedWarnings++;
      return;
    }
    this.warnings.push(new PoolwatchError('PW_ERR_LIST_SYNTAX', message, this.context(line)));
  }

  /** Take errors and warnings another parser already built (the plain-format adapter). */
  adopt(errors: PoolwatchError[], warnings: PoolwatchError[]): void {
    for (const e of errors) {
      if (this.errors.length < MAX_REPORTS) this.errors.push(e);
      else this.omittedErrors++;
    }
    for (const w of warnings) {
      if (this.warnings.length < MAX_REPORTS) this.warnings.push(w);
      else this.omittedWarnings++;
    }
  }

  result(): ListParseResult {
    const errors = this.errors.slice();
    const warnings = this.warnings.slice();
    if (this.omittedErrors > 0) errors.push(this.omitted(this.omittedErrors, 'errors'));
    if (this.omittedWarnings > 0) warnings.push(this.omitted(this.omittedWarnings, 'warnings'));
    return { addresses: this.addresses, domains: this.domains, errors, warnings };
  }

  private omitted(count: number, what: string): PoolwatchError {
    return new PoolwatchError('PW_ERR_LIST_SYNTAX', `${count} more ${what} not listed (only the first ${MAX_REPORTS} are kept)`, {
      file: this.source,
      omitted: count,
    });
  }

  private context(line: number | undefined): { file: string; line?: number; offset?: number } {
    return line === undefined ? { file: this.source } : { file: this.source, line };
  }
}

/** Labels set only when present, so entries without them compare equal to plain ones. */
function withLabels<T extends object>(entry: T, labels: EntryLabels): T & EntryLabels {
  const out: T & EntryLabels = entry;
  if (labels.coin !== undefined) out.coin = labels.coin;
  if (labels.label !== undefined) out.label = labels.label;
  return out;
}
