/**
 * `poolwatch case list|show|set|note`: the follow-up of flagged sources (src/report/cases.ts).
 * Argument parsing and wiring only.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config.js';
import { PoolwatchError } from '../errors.js';
import { addCaseNote, caseHistory, caseHits, CASE_STATES, getCase, isCaseState, listCases, setCaseState, type CaseState } from '../report/cases.js';
import { formatCaseDetail, formatCases } from '../report/cases-format.js';
import { openDatabase, type Database } from '../report/db.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../report/format.js';
import { canonicalAddress, loadOrgMap } from '../report/orgs.js';

/** Who acts when --by is not given: $USER, else the login name, else "unknown". */
export function defaultActor(): string {
  const env = process.env.USER ?? process.env.LOGNAME;
  if (env !== undefined && env.trim() !== '') return env.trim();
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The address as the hits table spells it (IPv6 in RFC 5952 form), or a usage error. */
function address(ip: string): string {
  const a = canonicalAddress(ip);
  if (a === null) throw new PoolwatchError('PW_ERR_USAGE', `not an IPv4 or IPv6 address: ${JSON.stringify(ip)}`);
  return a;
}

/** For writing: the file must exist already (a typo must not create an empty database). */
function openForWrite(path: string): Database {
  if (path !== ':memory:' && !existsSync(path)) throw new PoolwatchError('PW_ERR_DB', 'no such database', { file: path });
  return openDatabase(path);
}

function withDb<T>(db: Database, fn: (db: Database) => T): T {
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function print(text: string): void {
  if (text !== '') process.stdout.write(text + '\n');
}

export function registerCaseCommands(program: Command): void {
  const cases = program
    .command('case')
    .description('Follow up flagged sources: one case per source IP seen mining (new, verified, notified, blocked, cleared).')
    .addHelpText(
      'after',
      `
A case opens by itself when a source is first recorded mining (scan/collect/flows with --db);
a cleared case seen mining again (a hit whose last packet is after the clearing) re-opens as new
and counts a recurrence. Every change and note is kept with who (--by, default $USER) and when.

Examples:
  poolwatch case list --db hits.db --state new
  poolwatch case show 10.20.30.40 --db hits.db
  poolwatch case set 10.20.30.40 notified --db hits.db --note "letter sent to the school"
  poolwatch case note 10.20.30.40 --db hits.db "customer says the PC is fixed"`,
    );

  cases
    .command('list')
    .description('List cases: workflow order (new first), oldest first.')
    .requiredOption('--db <path>', 'SQLite database')
    .addOption(new Option('--state <state>', 'only cases in this state').choices(CASE_STATES))
    .option('--org <name>', `only cases opened under this organisation ("unknown": outside every range)`)
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action((o: { db: string; state?: CaseState; org?: string; format: OutputFormat }) => {
      const records = withDb(openDatabase(o.db, { readonly: true }), (db) => listCases(db, { state: o.state, org: o.org }));
      print(formatCases(records, o.format));
    });

  cases
    .command('show')
    .description('Show one case: its state, organisation, hits and history.')
    .argument('<ip>', 'source address')
    .requiredOption('--db <path>', 'SQLite database')
    .option('-c, --config <file>', 'YAML configuration (for the organisations)', DEFAULT_CONFIG_PATH)
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action((ip: string, o: { db: string; config: string; format: 'table' | 'json' }) => {
      const src = address(ip);
      const orgs = loadOrgMap(loadConfig(o.config));
      const detail = withDb(openDatabase(o.db, { readonly: true }), (db) => {
        const c = getCase(db, src);
        if (c === null) throw new PoolwatchError('PW_ERR_USAGE', `no case for ${src} (see poolwatch case list)`);
        const m = orgs.match(src);
        return { case: c, organisation: m === null ? null : { ...m.org, range: m.range }, hits: caseHits(db, src), history: caseHistory(db, src) };
      });
      print(formatCaseDetail(detail, o.format));
    });

  cases
    .command('set')
    .description(`Move a case to another state (${CASE_STATES.join(', ')}).`)
    .argument('<ip>', 'source address')
    .argument('<state>', CASE_STATES.join(' | '))
    .requiredOption('--db <path>', 'SQLite database')
    .option('--by <name>', 'who does it (default: $USER)')
    .option('--note <text>', 'why, recorded with the change')
    .action((ip: string, state: string, o: { db: string; by?: string; note?: string }) => {
      const src = address(ip);
      if (!isCaseState(state)) throw new PoolwatchError('PW_ERR_USAGE', `unknown case state "${state}" (${CASE_STATES.join(', ')})`);
      const r = withDb(openForWrite(o.db), (db) => setCaseState(db, src, state, { by: o.by ?? defaultActor(), note: o.note }));
      print(r.changed ? `case ${src}: ${r.from} -> ${r.to}` : `case ${src}: already ${r.to}, nothing recorded`);
    });

  cases
    .command('note')
    .description('Write a note on a case.')
    .argument('<ip>', 'source address')
    .argument('<text...>', 'the note (several words are joined with spaces)')
    .requiredOption('--db <path>', 'SQLite database')
    .option('--by <name>', 'who writes it (default: $USER)')
    .action((ip: string, text: string[], o: { db: string; by?: string }) => {
      const src = address(ip);
      withDb(openForWrite(o.db), (db) => addCaseNote(db, src, text.join(' '), { by: o.by ?? defaultActor() }));
      print(`case ${src}: note recorded`);
    });
}
