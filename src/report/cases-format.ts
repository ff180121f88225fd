/** How `poolwatch case list` and `case show` print cases (the data is in cases.ts). */
import type { CaseHistoryEntry, CaseHitLine, CaseRecord } from './cases.js';
import { humanBytes, stripControl, type OutputFormat } from './format.js';
import { UNKNOWN_ORG, type Organisation } from './orgs.js';
import { formatList, shortTime, textTable, type TextColumn } from './render.js';

const CASE_CSV: readonly [string, (r: CaseRecord) => string][] = [
  ['src', (r) => r.src],
  ['state', (r) => r.state],
  ['org', (r) => r.org ?? UNKNOWN_ORG],
  ['openedAt', (r) => r.openedAt],
  ['updatedAt', (r) => r.updatedAt],
  ['recurrences', (r) => String(r.recurrences)],
  ['notes', (r) => String(r.notes)],
  ['firstSeen', (r) => r.firstSeen ?? ''],
  ['lastSeen', (r) => r.lastSeen ?? ''],
  ['clearedAt', (r) => r.clearedAt ?? ''],
  ['reopenedAt', (r) => r.reopenedAt ?? ''],
];

const CASE_TABLE: readonly TextColumn<CaseRecord>[] = [
  { title: 'SRC', get: (r) => r.src },
  { title: 'STATE', get: (r) => r.state },
  { title: 'ORGANISATION', get: (r) => r.org ?? UNKNOWN_ORG },
  { title: 'OPENED', get: (r) => shortTime(r.openedAt) },
  { title: 'UPDATED', get: (r) => shortTime(r.updatedAt) },
  { title: 'RECURRENCES', right: true, get: (r) => String(r.recurrences) },
  { title: 'NOTES', right: true, get: (r) => String(r.notes) },
  { title: 'LAST MINING SEEN', get: (r) => shortTime(r.lastSeen) },
];

/** `case list`: one record per case. JSON keys are CaseRecord's. */
export function formatCases(records: CaseRecord[], format: OutputFormat): string {
  return formatList(records, format, CASE_CSV, CASE_TABLE, 'no cases');
}

/** Everything `case show` prints. */
export interface CaseDetail {
  case: CaseRecord;
  /** The organisation holding the address in the current map, and the range that matched; null = unknown. */
  organisation: (Organisation & { range: string }) | null;
  hits: CaseHitLine[];
  history: CaseHistoryEntry[];
}

const HIT_TABLE: readonly TextColumn<CaseHitLine>[] = [
  { title: 'POOL', get: (h) => (h.poolHost === null ? h.pool : `${h.pool} (${h.poolHost})`) },
  { title: 'CATEGORY', get: (h) => h.category },
  { title: 'EVIDENCE', get: (h) => list(h.evidence) },
  { title: 'COINS', get: (h) => list(h.coins) },
  { title: 'LOGINS', get: (h) => list(h.logins) },
  { title: 'WORKERS', get: (h) => list(h.workers) },
  { title: 'AGENTS', get: (h) => list(h.agents) },
  { title: 'RUNS', get: (h) => h.runs.join(',') },
  { title: 'FLOWS', right: true, get: (h) => String(h.flows) },
  { title: 'BYTES', right: true, get: (h) => humanBytes(h.bytes) },
  { title: 'FIRST SEEN', get: (h) => shortTime(h.firstSeen) },
  { title: 'LAST SEEN', get: (h) => shortTime(h.lastSeen) },
];

const HISTORY_TABLE: readonly TextColumn<CaseHistoryEntry>[] = [
  { title: 'AT', get: (e) => shortTime(e.at) },
  { title: 'BY', get: (e) => e.by },
  { title: 'EVENT', get: eventText },
  // Notes are shown whole (only control characters dropped): they are the point of the history.
  { title: 'NOTE', whole: true, get: (e) => e.note ?? '' },
];

/** `case show`: the case, its organisation, its hits and its history; `json` gives CaseDetail. */
export function formatCaseDetail(d: CaseDetail, format: 'table' | 'json'): string {
  if (format === 'json') return JSON.stringify(d, null, 2);
  const c = d.case;
  const o = d.organisation;
  const orgLine =
    o === null
      ? `${UNKNOWN_ORG} (no range holds this address)`
      : [o.name, o.sector, o.contact === null ? null : `contact ${o.contact}`].filter((x) => x !== null).join(', ') + ` (range ${o.range})`;
  const openedUnder = (o?.name ?? null) !== c.org ? `  [opened under ${c.org ?? UNKNOWN_ORG}]` : '';
  const fields: [string, string][] = [
    ['state', `${c.state} (since ${shortTime([...d.history].reverse().find((e) => e.kind !== 'note')?.at ?? c.openedAt)})`],
    ['opened', shortTime(c.openedAt)],
    ['organisation', orgLine + openedUnder],
    ['mining seen', c.firstSeen === null ? '-' : `${shortTime(c.firstSeen)} to ${shortTime(c.lastSeen)}`],
    ['recurrences', String(c.recurrences) + (c.recurrences > 0 ? ` (last re-opened ${shortTime(c.reopenedAt)})` : '')],
    ['cleared', shortTime(c.clearedAt)],
    ['notes', String(c.notes)],
  ];
  const lines = [`case ${c.src}`, ...fields.map(([k, v]) => `  ${k.padEnd(13)}${stripControl(v)}`), '', 'hits'];
  lines.push(d.hits.length === 0 ? '  none' : indent(textTable(HIT_TABLE, d.hits)), '', 'history');
  lines.push(d.history.length === 0 ? '  none' : indent(textTable(HISTORY_TABLE, d.history.map((e) => ({ ...e, note: e.note === null ? null : oneLine(e.note) })))));
  return lines.join('\n');
}

/** "opened as new", "new -> verified", "reopened cleared -> new", "note". */
function eventText(e: CaseHistoryEntry): string {
  switch (e.kind) {
    case 'opened':
      return `opened as ${e.to ?? '-'}`;
    case 'state':
      return `${e.from ?? '-'} -> ${e.to ?? '-'}`;
    case 'reopened':
      return `reopened ${e.from ?? '-'} -> ${e.to ?? '-'}`;
    default:
      return e.kind;
  }
}

function list(xs: string[]): string {
  return xs.length === 0 ? '-' : xs.join(',');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Notes may hold line breaks; in a table row they become " / ". */
function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' / ');
}
