/**
 * Organisations and cases, for the report views and the HTML report. They are owned by
 * src/report/orgs.ts (`loadOrgMap(config)`) and src/report/cases.ts (`listCases(db)`); the views
 * only need the small shapes below, so tests can hand them their own.
 */
import type { Config } from '../config.js';
import { listCases } from './cases.js';
import type { Database } from './db.js';
import { loadOrgMap } from './orgs.js';

/** What the views need to know about an organisation. */
export interface OrgInfo {
  name: string;
  sector?: string | null;
  contact?: string | null;
}

export interface OrgLookup {
  /** The organisation that holds this address, or null. */
  lookup(ip: string): OrgInfo | null;
}

/**
 * One case, as src/report/cases.ts lists it. Fields are shown as text; the types are kept loose
 * (times may be ISO strings or numbers, the organisation a name or an object with one).
 */
export interface CaseRow {
  src: string;
  state: string;
  openedAt?: unknown;
  updatedAt?: unknown;
  recurrences?: unknown;
  org?: unknown;
  lastSeen?: unknown;
  notes?: unknown;
}

export interface ReportProviders {
  /** null: no organisations configured (or the organisation module is not there). */
  orgs: OrgLookup | null;
  /** null: no case module; [] no cases. */
  cases: CaseRow[] | null;
}

export const NO_PROVIDERS: ReportProviders = { orgs: null, cases: null };

/** Organisation map (`config` null: not looked up) and cases, for the views. */
export async function loadProviders(config: Config | null, db: Database): Promise<ReportProviders> {
  const map = config === null ? null : loadOrgMap(config);
  // An empty map (no `organisations.files`) is "no organisations configured".
  const orgs = map !== null && map.size > 0 ? map : null;
  // A database from before cases existed (opened read-only, so not migrated) has no cases table.
  const hasCases = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cases'`).get() !== undefined;
  return { orgs, cases: hasCases ? listCases(db) : null };
}

/** Name of a case's organisation, whatever shape it has. */
export function orgName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string') return (v as { name: string }).name;
  return null;
}
