/**
 * Hand edits by analysts — `blacklist add`, `remove`, `import` — each stored as a version of its
 * own, like a refresh, so `history` shows who changed what and `diff` what it did.
 *
 * Hand edits go to sources that no configuration names ("manual" by default): a refresh replaces
 * a configured source's entries with what the list says, which would silently undo the edit.
 */
import { MANUAL_SOURCE, SOURCE_DEFAULTS, SOURCE_NAME_RE, type BlacklistConfig } from '../config.js';
import { PoolwatchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Database } from '../report/db.js';
import { fetchSource } from './fetch.js';
import { parseEntryValue } from './formats/entry.js';
import { domainText } from './formats/domain.js';
import { parseList } from './formats/index.js';
import { parseLabels } from './formats/labels.js';
import { ensureVersion } from './refresh.js';
import { isResolvedSource } from './resolve.js';
import { commitVersion, domainStoreEntry, ipStoreEntry, type CommitResult, type EntryKey, type StoreEntry } from './store.js';
import type { EntryLabels, ListFormat } from './types.js';

export interface EditOptions {
  log: Logger;
  /** Hand-edit source (default "manual"). */
  source?: string;
  now?: number;
  command: string;
}

type Cfg = { blacklist: BlacklistConfig };

/** The source name for a hand edit: valid, and not one the configuration refreshes. */
export function handSource(config: Cfg, name: string | undefined): string {
  const source = name ?? MANUAL_SOURCE;
  if (!SOURCE_NAME_RE.test(source) || isResolvedSource(source)) {
    throw new PoolwatchError('PW_ERR_USAGE', `bad source name ${JSON.stringify(source)}: letters, digits, ".", "_" or "-", at most 64`);
  }
  if (config.blacklist.sources.some((s) => s.name === source)) {
    throw new PoolwatchError(
      'PW_ERR_USAGE',
      `source "${source}" is a configured source: the next refresh would undo a hand edit; edit its list, or use another --source`,
    );
  }
  return source;
}

/**
 * Entries as typed by an analyst: an address or network, or a domain name, each with an optional
 * ":port" or ":lo-hi" (the plain-list syntax, "[v6]:port" for IPv6). Any bad one fails them all:
 * a half-applied command line is worse than none.
 */
export function parseTypedEntries(values: readonly string[], source: string, labels: EntryLabels = {}, expiresAt?: number): StoreEntry[] {
  const out: StoreEntry[] = [];
  for (const raw of values) {
    const value = raw.trim();
    const v = value === '' ? { error: 'empty entry' } : parseEntryValue(value, source);
    if ('error' in v) throw new PoolwatchError('PW_ERR_LIST_SYNTAX', v.error, { entry: raw });
    const e: StoreEntry =
      'address' in v
        ? ipStoreEntry({ ...v.address, ...labels }, source)
        : domainStoreEntry({ ...v.domain, text: domainText(v.domain.name, v.domain.portLo, v.domain.portHi), source, ...labels }, source);
    if (expiresAt !== undefined) e.expiresAt = expiresAt;
    out.push(e);
  }
  return out;
}

/** Check --coin and --label as a list's would be checked. */
export function typedLabels(coin: string | undefined, label: string | undefined): EntryLabels {
  const l = parseLabels(coin, label);
  if ('error' in l) throw new PoolwatchError('PW_ERR_USAGE', l.error);
  return l.labels;
}

/** `blacklist add`: add (or relabel, or give a new expiry to) entries of a hand source. */
export async function addEntries(
  db: Database,
  config: Cfg,
  values: readonly string[],
  opts: EditOptions & { labels?: EntryLabels; expiresAt?: number },
): Promise<CommitResult> {
  const now = opts.now ?? Date.now();
  const source = handSource(config, opts.source);
  const entries = parseTypedEntries(values, source, opts.labels, opts.expiresAt);
  await ensureVersion(db, config, opts.log);
  return commitVersion(db, [{ source, add: entries, status: 'edited', message: `${entries.length} added by hand`, state: handState(source, 'manual', 'manual', now) }], {
    reason: 'add', command: opts.command, now,
  })!;
}

/** `blacklist remove`: remove entries of a hand source; `notFound` lists those it did not hold. */
export async function removeEntries(db: Database, config: Cfg, values: readonly string[], opts: EditOptions): Promise<CommitResult> {
  const now = opts.now ?? Date.now();
  const source = handSource(config, opts.source);
  const keys: EntryKey[] = parseTypedEntries(values, source).map((e) => ({ source, kind: e.kind, text: e.text }));
  await ensureVersion(db, config, opts.log);
  return commitVersion(db, [{ source, remove: keys, status: 'edited', message: `${keys.length} removed by hand`, state: handState(source, 'manual', 'manual', now) }], {
    reason: 'remove', command: opts.command, now,
  })!;
}

export interface ImportResult {
  commit: CommitResult;
  parseErrors: number;
  parseWarnings: number;
  entries: number;
}

/**
 * `blacklist import FILE`: read a list in any format into a hand source; with `replace` the
 * source then holds exactly the file's entries (re-importing a vendor's new file updates it),
 * otherwise they are added. A file with no usable entry and errors fails (PW_ERR_LIST_SYNTAX).
 */
export async function importList(
  db: Database,
  config: Cfg,
  file: string,
  format: ListFormat,
  opts: EditOptions & { replace?: boolean; maxBytes?: number },
): Promise<ImportResult> {
  const now = opts.now ?? Date.now();
  const source = handSource(config, opts.source);
  const got = await fetchSource({
    name: source, kind: 'file', location: file, format, refreshMs: 0,
    maxBytes: opts.maxBytes ?? SOURCE_DEFAULTS.maxBytes, timeoutMs: SOURCE_DEFAULTS.timeoutMs, maxShrink: 1,
  });
  if (got.status !== 'ok') throw new PoolwatchError('PW_ERR_IO', got.status === 'failed' ? got.reason : 'not read', { file });
  const parsed = parseList(format, got.text, file);
  for (const p of parsed.errors.concat(parsed.warnings).slice(0, 20)) opts.log.warn({ code: p.code }, p.message);
  const entries: StoreEntry[] = [...parsed.addresses.map((a) => ipStoreEntry(a, source)), ...parsed.domains.map((d) => domainStoreEntry(d, source))];
  if (entries.length === 0 && parsed.errors.length > 0) {
    throw new PoolwatchError('PW_ERR_LIST_SYNTAX', `no usable entry in the file (${parsed.errors.length} bad lines or items); nothing imported`, { file });
  }
  await ensureVersion(db, config, opts.log);
  const change = opts.replace === true ? { replace: entries } : { add: entries };
  const commit = commitVersion(
    db,
    [{ source, ...change, status: 'edited', location: file, message: `imported ${entries.length} from ${file} (${format})`, state: handState(source, file, format, now) }],
    { reason: 'import', command: opts.command, now },
  )!;
  return { commit, parseErrors: parsed.errors.length, parseWarnings: parsed.warnings.length, entries: entries.length };
}

function handState(name: string, location: string, format: string, now: number) {
  const at = new Date(now).toISOString();
  return {
    name, origin: 'manual' as const, location, format, etag: null, lastModified: null,
    lastAttemptAt: at, lastOkAt: at, lastStatus: 'edited', lastError: null,
  };
}
