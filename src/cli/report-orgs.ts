/**
 * `poolwatch report orgs`: per organisation (src/report/orgs.ts) the flagged sources, coins, pools,
 * traffic and first/last seen. Argument parsing and wiring only.
 */
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config.js';
import { openDatabase } from '../report/db.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../report/format.js';
import { formatOrgs, loadOrgMap, queryOrgs } from '../report/orgs.js';
import { parseWhen, positiveInt } from './report.js';

/** Options given on `report` itself (before `orgs`) count too, unless given again after it. */
function merged(cmd: Command): Record<string, any> {
  const out: Record<string, any> = { ...cmd.opts() };
  const parent = cmd.parent;
  if (parent === null) return out;
  for (const [k, v] of Object.entries(parent.opts())) {
    if (v === undefined || parent.getOptionValueSource(k) === 'default') continue;
    if (out[k] === undefined || cmd.getOptionValueSource(k) === 'default') out[k] = v;
  }
  return out;
}

/** Add `orgs` to the program's `report` command (register `report` first). */
export function registerReportOrgsCommand(program: Command): Command {
  const report = program.commands.find((c) => c.name() === 'report');
  if (report === undefined) throw new Error('register the report command before report orgs');
  return report
    .command('orgs')
    .description('One record per organisation (organisations.files in the configuration): flagged IPs, open cases, coins, pools, traffic, first/last seen; "unknown" for addresses outside every range')
    .option('--db <path>', 'SQLite database written by scan --db (required)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('--run <id>', 'only this run (see the runs table)', positiveInt)
    .option('--since <time>', 'only sources active at or after this time: ISO 8601 (UTC unless a zone is given) or a duration back from now (24h, 7d)', parseWhen)
    .option('--until <time>', 'only sources seen at or before this time (same forms as --since)', parseWhen)
    .addOption(new Option('--category <c>', 'only sources of this (strongest) category').choices(['mining', 'crypto-p2p', 'suspect']))
    .option('-c, --config <file>', 'YAML configuration (organisations)', DEFAULT_CONFIG_PATH)
    .addHelpText('after', `
Examples:
  poolwatch report orgs --db hits.db
  poolwatch report orgs --db hits.db --since 7d --category mining -f csv
  poolwatch report orgs --db hits.db -c /etc/poolwatch/poolwatch.yaml -f json`)
    .action((_o, cmd: Command) => {
      const o = merged(cmd);
      if (typeof o.db !== 'string') {
        cmd.error("error: required option '--db <path>' not specified", { exitCode: 2, code: 'commander.missingMandatoryOptionValue' });
      }
      const orgs = loadOrgMap(loadConfig(o.config));
      const db = openDatabase(o.db, { readonly: true });
      let text: string;
      try {
        text = formatOrgs(queryOrgs(db, orgs, { runId: o.run, since: o.since, until: o.until, category: o.category }), o.format as OutputFormat);
      } finally {
        db.close();
      }
      if (text !== '') process.stdout.write(text + '\n');
    });
}
