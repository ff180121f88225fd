/**
 * Organisations and cases, for the report views and the HTML report. They are owned by
 * src/report/orgs.ts (`loadOrgMap(config)`) and src/report/cases.ts (`listCases(db)`); the views
 * only need the small shapes below, so they take them as optional providers. `loadProviders`
 * picks those modules up when they are there and leaves the sections empty ("no organisations
 * configured", "no cases") when they are not.
 */
import type { Config } from '../config.js';
import type { Database } from './db.js';

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

/** A module that may not exist yet; any other failure (a bad configuration) is the caller's. */
async function optionalModule(name: string): Promise<Record<string, unknown> | null> {
  // A computed specifier: TypeScript does not insist that the file exists at build time.
  const url = new URL(`./${name}.js`, import.meta.url).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`${name}.js`)) return null;
    throw e;
  }
}

/**
 * Organisation map and cases from src/report/orgs.ts and src/report/cases.ts when present.
 * `config` null: organisations are not looked up.
 */
export async function loadProviders(config: Config | null, db: Database): Promise<ReportProviders> {
  let orgs: OrgLookup | null = null;
  let cases: CaseRow[] | null = null;
  const orgMod = config === null ? null : await optionalModule('orgs');
  if (orgMod !== null && typeof orgMod.loadOrgMap === 'function') {
    const map = (orgMod.loadOrgMap as (c: Config) => unknown)(config!);
    // An empty map (no `organisations.files`) is "no organisations configured".
    if (isLookup(map) && (map as { size?: unknown }).size !== 0) orgs = map;
  }
  const caseMod = await optionalModule('cases');
  if (caseMod !== null && typeof caseMod.listCases === 'function') {
    const rows = (caseMod.listCases as (d: Database) => unknown)(db);
    if (Array.isArray(rows)) cases = rows.filter(isCase);
  }
  return { orgs, cases };
}

function isLookup(v: unknown): v is OrgLookup {
  return typeof v === 'object' && v !== null && typeof (v as { lookup?: unknown }).lookup === 'function';
}

function isCase(v: unknown): v is CaseRow {
  return typeof v === 'object' && v !== null && typeof (v as { src?: unknown }).src === 'string';
}

/** Name of a case's organisation, whatever shape it has. */
export function orgName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string') return (v as { name: string }).name;
  return null;
}
