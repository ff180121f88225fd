/**
 * What the blacklist commands print: tables for people, JSON and CSV for scripts (like
 * `poolwatch report`), and the list formats `blacklist export` writes for `blacklist import`.
 * Entries and labels come from strangers' lists: table cells lose control and bidi characters,
 * CSV cells get the same formula guard as the report.
 */
import { PoolwatchError } from '../errors.js';
import { csvField, stripControl } from '../report/format.js';
import { formatIPv4, formatIPv6 } from './addr.js';
import type { RefreshReport } from './refresh.js';
import type { CommitResult, StoredEntry, VersionDiff, VersionRecord } from './store.js';

export type ViewFormat = 'table' | 'json' | 'csv';
export const VIEW_FORMATS: readonly ViewFormat[] = ['table', 'json', 'csv'];

export type ExportFormat = 'plain' | 'hosts' | 'csv' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['plain', 'hosts', 'csv', 'json'];

// ---------------------------------------------------------------- entries

/** An entry as JSON shows it (times as ISO 8601 UTC). */
export function entryJson(e: StoredEntry) {
  return {
    source: e.source,
    kind: e.kind,
    entry: e.text,
    ...(e.kind === 'ip' ? { network: networkText(e) } : { name: e.name }),
    portLo: e.portLo,
    portHi: e.portHi,
    coin: e.coin ?? null,
    label: e.label ?? null,
    domain: e.kind === 'ip' ? e.domain ?? null : null,
    ttl: e.kind === 'ip' ? e.ttl ?? null : null,
    expiresAt: e.expiresAt === undefined ? null : iso(e.expiresAt),
    firstSeen: iso(e.firstSeen),
    lastSeen: iso(e.lastSeen),
    addedIn: e.addedIn,
    removedIn: e.removedIn,
  };
}

const ENTRY_COLUMNS: readonly [string, (e: StoredEntry) => string][] = [
  ['source', (e) => e.source],
  ['kind', (e) => e.kind],
  ['entry', (e) => e.text],
  ['coin', (e) => e.coin ?? ''],
  ['label', (e) => e.label ?? ''],
  ['domain', (e) => (e.kind === 'ip' ? e.domain ?? '' : '')],
  ['expiresAt', (e) => (e.expiresAt === undefined ? '' : iso(e.expiresAt))],
  ['firstSeen', (e) => iso(e.firstSeen)],
  ['lastSeen', (e) => iso(e.lastSeen)],
  ['addedIn', (e) => String(e.addedIn)],
];

export function renderEntries(entries: readonly StoredEntry[], format: ViewFormat, version: number | null): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ version, entries: entries.map(entryJson) }, null, 2);
    case 'csv':
      return csv(ENTRY_COLUMNS.map(([n]) => n), entries.map((e) => ENTRY_COLUMNS.map(([, get]) => get(e))));
    case 'table':
      if (version === null) return 'no blacklist version stored yet (run poolwatch blacklist refresh)';
      return (
        `version ${version}: ${entries.length} entries\n` +
        table(
          ['SOURCE', 'KIND', 'ENTRY', 'COIN', 'LABEL', 'RESOLVED FROM', 'EXPIRES', 'SINCE'],
          entries.map((e) => [
            e.source, e.kind, e.text, e.coin ?? '-', e.label ?? '-', e.kind === 'ip' ? e.domain ?? '-' : '-',
            e.expiresAt === undefined ? '-' : shortTime(e.expiresAt), `v${e.addedIn}`,
          ]),
        )
      );
  }
  return unknownFormat(format);
}

// ---------------------------------------------------------------- versions

export function renderHistory(versions: readonly VersionRecord[], format: ViewFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(versions, null, 2);
    case 'csv':
      return csv(
        ['version', 'createdAt', 'reason', 'added', 'removed', 'unchanged', 'total', 'command', 'sources'],
        versions.map((v) => [
          String(v.id), v.createdAt, v.reason, String(v.added), String(v.removed), String(v.unchanged), String(v.total), v.command,
          v.sources.map((s) => `${s.source}=${s.status}`).join(';'),
        ]),
      );
    case 'table':
      if (versions.length === 0) return 'no blacklist version stored yet';
      return table(
        ['VERSION', 'CREATED', 'REASON', 'ADDED', 'REMOVED', 'UNCHANGED', 'TOTAL', 'SOURCES'],
        versions.map((v) => [
          String(v.id), shortTime(Date.parse(v.createdAt)), v.reason, String(v.added), String(v.removed), String(v.unchanged), String(v.total),
          v.sources.length === 0 ? '-' : v.sources.map(sourceNote).join(', '),
        ]),
        [3, 4, 5, 6],
        200,
      );
  }
  return unknownFormat(format);
}

/** "nocoin-hosts +3 -1" for an applied source, "nocoin-hosts failed: HTTP 500" otherwise. */
function sourceNote(s: VersionRecord['sources'][number]): string {
  if (s.status === 'failed' || s.status === 'refused' || s.status === 'skipped') return `${s.source} ${s.status}${s.message ? `: ${s.message}` : ''}`;
  return `${s.source} ${s.status} +${s.added} -${s.removed}`;
}

export function renderDiff(d: VersionDiff, format: ViewFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify({ from: d.from, to: d.to, added: d.added.map(entryJson), removed: d.removed.map(entryJson) }, null, 2);
    case 'csv':
      return csv(
        ['change', ...ENTRY_COLUMNS.map(([n]) => n)],
        [...d.added.map((e) => ['added', e] as const), ...d.removed.map((e) => ['removed', e] as const)].map(([c, e]) => [
          c,
          ...ENTRY_COLUMNS.map(([, get]) => get(e)),
        ]),
      );
    case 'table': {
      const head = `version ${d.from} → ${d.to}: ${d.added.length} added, ${d.removed.length} removed`;
      const rows = [...d.added.map((e) => ['+', e] as const), ...d.removed.map((e) => ['-', e] as const)].map(([c, e]) => [
        c, e.source, e.kind, e.text, e.coin ?? '-', e.label ?? '-', e.kind === 'ip' ? e.domain ?? '-' : '-',
      ]);
      return rows.length === 0 ? head : `${head}\n${table(['', 'SOURCE', 'KIND', 'ENTRY', 'COIN', 'LABEL', 'RESOLVED FROM'], rows)}`;
    }
  }
  return unknownFormat(format);
}

export function renderRefresh(r: RefreshReport, format: ViewFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(r, null, 2);
    case 'csv':
      return csv(
        ['source', 'status', 'reason', 'previous', 'entries', 'added', 'removed', 'unchanged', 'parseErrors', 'bytes', 'location'],
        r.sources.map((s) => [
          s.name, s.status, s.reason ?? '', String(s.previous), String(s.entries), String(s.added), String(s.removed), String(s.unchanged),
          String(s.parseErrors), String(s.bytes), s.location,
        ]),
      );
    case 'table': {
      const head = `version ${r.version}: ${r.added} added, ${r.removed} removed, ${r.unchanged} unchanged, ${r.total} entries`;
      const dns = r.resolve === null ? '' : `\nnames resolved: ${r.resolve.resolved} of ${r.resolve.names} (${r.resolve.nxdomain} NXDOMAIN, ${r.resolve.failed} failed, ${r.resolve.dropped} unroutable addresses dropped)`;
      return `${head}${dns}\n${table(
        ['SOURCE', 'STATUS', 'ENTRIES', 'ADDED', 'REMOVED', 'BAD LINES', 'REASON'],
        r.sources.map((s) => [s.name, s.status, String(s.entries), String(s.added), String(s.removed), String(s.parseErrors), s.reason ?? '-']),
        [2, 3, 4, 5],
        200,
      )}`;
    }
  }
  return unknownFormat(format);
}

/** What add, remove and import print: the version they made. */
export function renderCommit(c: CommitResult, format: ViewFormat): string {
  const notFound = c.notFound.map((k) => `${k.source}:${k.text}`);
  switch (format) {
    case 'json':
      return JSON.stringify({ version: c.version, added: c.added, removed: c.removed, unchanged: c.unchanged, total: c.total, notFound }, null, 2);
    case 'csv':
      return csv(['version', 'added', 'removed', 'unchanged', 'total'], [[c.version, c.added, c.removed, c.unchanged, c.total].map(String)]);
    case 'table':
      return `version ${c.version}: ${c.added} added, ${c.removed} removed, ${c.unchanged} unchanged, ${c.total} entries`;
  }
  return unknownFormat(format);
}

// ---------------------------------------------------------------- export

/**
 * Entries in a list format `blacklist import` (and a `sources:` entry) reads back. plain holds
 * addresses only and hosts names without ports only; what a format cannot hold is left out and
 * counted in `skipped`. csv and json hold everything, labels included.
 */
export function exportEntries(entries: readonly StoredEntry[], format: ExportFormat, version: number | null): { text: string; skipped: number } {
  const head = `poolwatch blacklist export, version ${version ?? 'none'}, ${new Date().toISOString()}`;
  let skipped = 0;
  switch (format) {
    case 'plain': {
      const lines = [`# ${head}`];
      for (const e of entries) {
        if (e.kind === 'ip') lines.push(e.text);
        else skipped++;
      }
      return { text: lines.join('\n') + '\n', skipped };
    }
    case 'hosts': {
      const lines = [`# ${head}`];
      for (const e of entries) {
        if (e.kind === 'domain' && e.portLo === 0 && e.portHi === 65535) lines.push(`0.0.0.0 ${e.name}`);
        else skipped++;
      }
      return { text: lines.join('\n') + '\n', skipped };
    }
    case 'csv':
      // No comment line: CSV has none, and the header row must come first.
      return { text: csv(['entry', 'coin', 'label'], entries.map((e) => [e.text, e.coin ?? '', e.label ?? ''])) + '\r\n', skipped };
    case 'json': {
      const items = entries.map((e) => ({
        entry: e.text,
        ...(e.coin !== undefined ? { coin: e.coin } : {}),
        ...(e.label !== undefined ? { label: e.label } : {}),
        source: e.source,
      }));
      return { text: JSON.stringify({ comment: head, version, entries: items }, null, 2) + '\n', skipped };
    }
  }
  return unknownFormat(format);
}

// ---------------------------------------------------------------- helpers

/** "203.0.113.0/24", "2001:db8::1": the entry without its ports. */
function networkText(e: Extract<StoredEntry, { kind: 'ip' }>): string {
  const a = e.ipVersion === 4 ? formatIPv4(e.addr) : formatIPv6(e.addr);
  return e.prefixLen === (e.ipVersion === 4 ? 32 : 128) ? a : `${a}/${e.prefixLen}`;
}

function csv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n');
}

/** Columns padded to the widest cell; `right` columns right-aligned; cells cut at `max` characters. */
function table(header: string[], rows: string[][], right: number[] = [], max = 60): string {
  const clean = rows.map((r) => r.map((c) => cut(stripControl(c), max)));
  const widths = header.map((h, i) => Math.max([...h].length, ...clean.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - [...c].length);
        return right.includes(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...clean.map(line)].join('\n');
}

function cut(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function shortTime(ms: number): string {
  const s = iso(ms);
  return `${s.slice(0, 10)} ${s.slice(11, 19)}Z`;
}

function unknownFormat(format: never): never {
  throw new PoolwatchError('PW_ERR_USAGE', `unknown format "${String(format)}"`);
}
