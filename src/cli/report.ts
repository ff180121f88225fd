/**
 * `poolwatch report …`: argument parsing and wiring only; the work is in src/report/.
 *
 *   report --db X                 one record per source, exactly as it always was
 *   report sources --db X         the same, plus hash rate fields
 *   report summary --db X         the regulator's figures for a window
 *   report pools | coins | timeline --db X
 *   report html --db X -o FILE    one self-contained HTML file with charts and tables
 *
 * `report orgs` is registered by src/cli/report-orgs.ts on the command this returns.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config.js';
import { PoolwatchError } from '../errors.js';
import { parseDurationMs } from '../blacklist/units.js';
import { openDatabase, type Database } from '../report/db.js';
import { formatSources, OUTPUT_FORMATS, type OutputFormat } from '../report/format.js';
import { renderHtmlReport } from '../report/html.js';
import { querySources } from '../report/query.js';
import {
  buildSummary, coinsView, loadViewData, poolsView, sourcesWithHashrate, timelineView, TIMELINE_UNITS, VIEW_CATEGORIES,
  type TimelineUnit, type ViewCategory,
} from '../report/views.js';
import { formatCoins, formatPools, formatSourcesWithHashrate, formatSummary, formatTimeline } from '../report/views-format.js';
import { loadProviders } from '../report/views-providers.js';

export const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
};

const count = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

/**
 * `--since` / `--until`: an ISO 8601 time (a date alone is midnight UTC; a time without a zone is
 * UTC too, never the local zone), or a duration back from now ("24h", "7d").
 */
export function parseWhen(value: string): Date {
  const ms = parseDurationMs(value);
  if (ms !== null && /[a-z]$/i.test(value.trim())) return new Date(Date.now() - ms);
  let v = value.trim();
  if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v)) v = `${v.replace(' ', 'T')}Z`;
  const t = /^\d{4}-\d\d-\d\d/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new InvalidArgumentError('must be an ISO 8601 time (2024-03-01, 2024-03-01T08:00:00Z) or a duration back from now (24h, 7d)');
  return new Date(t);
}

function print(text: string): void {
  if (text !== '') process.stdout.write(text + '\n');
}

/** Options given on `report` itself (before the view name) count for the view too. */
function merged(cmd: Command): Record<string, any> {
  const out: Record<string, any> = { ...cmd.opts() };
  const parent = cmd.parent;
  if (parent !== null) {
    for (const [k, v] of Object.entries(parent.opts())) {
      if (v === undefined || parent.getOptionValueSource(k) === 'default') continue;
      if (out[k] === undefined || cmd.getOptionValueSource(k) === 'default') out[k] = v;
    }
  }
  return out;
}

function needDb(cmd: Command, o: Record<string, any>): string {
  if (typeof o.db !== 'string') {
    cmd.error("error: required option '--db <path>' not specified", { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
  }
  return o.db as string;
}

function withDb<T>(path: string, fn: (db: Database) => T): T {
  const db = openDatabase(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const formatOption = () => new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table');
const categoryOption = (dflt: string) =>
  new Option('--category <c>', 'rows of this category only; a source counts when one of its rows does (all: every row)').choices(VIEW_CATEGORIES).default(dflt);

/** The options every view has. */
function viewOptions(cmd: Command, categoryDefault = 'mining'): Command {
  return cmd
    .option('--db <path>', 'SQLite database written by scan --db (required)')
    .addOption(formatOption())
    .option('--run <id>', 'only this run (see the runs table)', positiveInt)
    .option('--since <time>', 'only what was active at or after this time: ISO 8601 (UTC unless a zone is given) or a duration back from now (24h, 7d)', parseWhen)
    .option('--until <time>', 'only what began at or before this time (same forms as --since)', parseWhen)
    .addOption(categoryOption(categoryDefault));
}

function window(o: Record<string, any>): { runId?: number; since?: Date; until?: Date } {
  return { runId: o.run, since: o.since, until: o.until };
}

/**
 * Register `report` and its views on the program; returns the `report` command so that other
 * views (report orgs) can be added to it.
 */
export function registerReportCommands(program: Command): Command {
  const report = program
    .command('report')
    .description('Print one record per source IP from a database written by scan --db; or a view: sources, summary, orgs, pools, coins, timeline, html.')
    .option('--db <path>', 'SQLite database (required)')
    .addOption(formatOption())
    .option('--run <id>', 'only this run (see the runs table)', positiveInt)
    .addOption(new Option('--category <c>', 'only this category (a source counts as its strongest: mining > crypto-p2p > suspect)').choices(['mining', 'crypto-p2p', 'suspect']))
    .addHelpText('after', `
Examples:
  poolwatch report --db hits.db
  poolwatch report sources --db hits.db -f csv
  poolwatch report summary --db hits.db --since 2024-03-01 --until 2024-04-01
  poolwatch report timeline --db hits.db --per day -f csv
  poolwatch report html --db hits.db -o report.html`)
    .action((o, cmd: Command) => {
      const path = needDb(cmd, o);
      const records = withDb(path, (db) => querySources(db, { runId: o.run, category: o.category }));
      print(formatSources(records, o.format as OutputFormat));
    });

  viewOptions(report.command('sources'), 'all')
    .description("The per-source records of report, plus hash rate: hashrate (H/s), hashrateMethod (shares, reported, none), hashrateFromShares, hashrateShares, hashrateSeconds; and the organisation: org (unknown outside every range), orgSector")
    .option('-c, --config <file>', 'YAML configuration (organisations)', DEFAULT_CONFIG_PATH)
    .action(async (_o, cmd: Command) => {
      const o = merged(cmd);
      const path = needDb(cmd, o);
      const category = o.category === 'all' ? undefined : (o.category as string);
      const config = loadConfig(o.config);
      const db = openDatabase(path, { readonly: true });
      try {
        const providers = await loadProviders(config, db);
        print(formatSourcesWithHashrate(sourcesWithHashrate(db, { ...window(o), category }, providers.orgs), o.format as OutputFormat));
      } finally {
        db.close();
      }
    });

  viewOptions(report.command('summary'))
    .description('The figures for a window: flagged sources, organisations, coins, pools, pool traffic (average and busiest hour), estimated hash rate')
    .option('--screened <n>', 'customer addresses screened in the window, as the operator counts them (scans do not record it)', count)
    .option('-c, --config <file>', 'YAML configuration (organisations)', DEFAULT_CONFIG_PATH)
    .action(async (_o, cmd: Command) => {
      const o = merged(cmd);
      const path = needDb(cmd, o);
      const config = loadConfig(o.config);
      const db = openDatabase(path, { readonly: true });
      try {
        const providers = await loadProviders(config, db);
        const data = loadViewData(db, { ...window(o), category: o.category as ViewCategory });
        print(formatSummary(buildSummary(db, data, providers.orgs, o.screened ?? null), o.format as OutputFormat));
      } finally {
        db.close();
      }
    });

  viewOptions(report.command('pools'))
    .description('One record per pool endpoint: hosts, sources, coins, evidence, list entries, traffic, accepted shares, hash rate')
    .action((_o, cmd: Command) => {
      const o = merged(cmd);
      const rows = withDb(needDb(cmd, o), (db) => poolsView(loadViewData(db, { ...window(o), category: o.category as ViewCategory })));
      print(formatPools(rows, o.format as OutputFormat));
    });

  viewOptions(report.command('coins'))
    .description('One record per coin ("unknown" when the traffic did not tell): sources, pools, algorithms, traffic, hash rate')
    .action((_o, cmd: Command) => {
      const o = merged(cmd);
      const rows = withDb(needDb(cmd, o), (db) => coinsView(loadViewData(db, { ...window(o), category: o.category as ViewCategory })));
      print(formatCoins(rows, o.format as OutputFormat));
    });

  viewOptions(report.command('timeline'))
    .description('Per hour or day: flagged sources, sources seen for the first time, pool traffic (bytes, average and busiest-hour bit rate)')
    .addOption(new Option('--per <unit>', 'bucket size').choices(TIMELINE_UNITS).default('hour'))
    .action((_o, cmd: Command) => {
      const o = merged(cmd);
      const rows = withDb(needDb(cmd, o), (db) => timelineView(loadViewData(db, { ...window(o), category: o.category as ViewCategory }), o.per as TimelineUnit));
      print(formatTimeline(rows, o.format as OutputFormat));
    });

  viewOptions(report.command('html'))
    .description('One self-contained HTML file (no network needed to open it): summary, charts, cases, sources, pools, coins')
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .option('--screened <n>', 'customer addresses screened in the window, as the operator counts them', count)
    .addOption(new Option('--per <unit>', 'chart buckets (default: hours up to 72 hours, days beyond)').choices(TIMELINE_UNITS))
    .option('--max-sources <n>', 'most rows in the sources table (those with the most traffic)', positiveInt, 5000)
    .option('-c, --config <file>', 'YAML configuration (organisations)', DEFAULT_CONFIG_PATH)
    .action(async (_o, cmd: Command) => {
      const o = merged(cmd);
      const path = needDb(cmd, o);
      const config = loadConfig(o.config);
      const db = openDatabase(path, { readonly: true });
      let html: string;
      try {
        const providers = await loadProviders(config, db);
        html = renderHtmlReport(db, {
          ...window(o), category: o.category as ViewCategory, screened: o.screened ?? null, per: o.per as TimelineUnit | undefined,
          providers, source: path.split('/').pop() ?? path, maxSources: o.maxSources,
        });
      } finally {
        db.close();
      }
      try {
        writeFileSync(o.output, html);
      } catch (e) {
        throw new PoolwatchError('PW_ERR_IO', `cannot write report: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: o.output });
      }
    });

  return report;
}
