/**
 * `poolwatch blacklist …`: argument parsing and wiring only; the work is in src/blacklist/.
 * Results go to stdout, logs (pino JSON) to stderr. Exit codes as everywhere: 0 done, 1 partly
 * done (a source failed or was refused, an entry to remove was not there; the rest applied),
 * 2 nothing done.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config.js';
import { PoolwatchError } from '../errors.js';
import { LIST_FORMATS } from '../blacklist/formats/index.js';
import { addEntries, importList, removeEntries, typedLabels } from '../blacklist/edit.js';
import { refreshBlacklist } from '../blacklist/refresh.js';
import {
  EXPORT_FORMATS, exportEntries, renderCommit, renderDiff, renderEntries, renderHistory, renderRefresh, VIEW_FORMATS,
  type ExportFormat, type ViewFormat,
} from '../blacklist/render.js';
import { isResolvedSource } from '../blacklist/resolve.js';
import { currentVersion, diffVersions, hasVersion, history, versionEntries } from '../blacklist/store.js';
import type { ListFormat } from '../blacklist/types.js';
import { parseDurationMs } from '../blacklist/units.js';
import { log } from '../log.js';
import { openDatabase, type Database } from '../report/db.js';

const EXIT_INCOMPLETE = 1;

const versionNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a version number (see poolwatch blacklist history)');
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];

/** `--expires 30d` or `--expires 2025-01-31T00:00:00Z` → ms since epoch. */
function expiresAt(value: string): number {
  const ms = parseDurationMs(value);
  if (ms !== null && ms > 0) return Date.now() + ms;
  const t = /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : NaN;
  if (Number.isFinite(t)) return t;
  throw new InvalidArgumentError('must be a duration such as "12h", "30d", or an ISO 8601 time such as 2025-01-31T00:00:00Z');
}

/** The options every blacklist command has. */
function common(cmd: Command): Command {
  return cmd
    .requiredOption('--db <path>', 'SQLite database holding the blacklist versions (the one scans write their hits to)')
    .option('-c, --config <file>', 'YAML configuration (sources, resolver, limits)', DEFAULT_CONFIG_PATH);
}

const viewOption = () => new Option('-f, --format <format>', 'output format').choices(VIEW_FORMATS).default('table');

function print(text: string): void {
  if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Open for reading: a database without a version yet reads as empty rather than failing. */
function withReadDb<T>(path: string, fn: (db: Database) => T): T {
  const db = openDatabase(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

async function withWriteDb<T>(path: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = openDatabase(path);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

function checkVersion(db: Database, v: number): void {
  if (!hasVersion(db, v)) throw new PoolwatchError('PW_ERR_USAGE', `no blacklist version ${v} (see poolwatch blacklist history)`, { file: db.name });
}

/**
 * Register `poolwatch blacklist` and its subcommands on `program`. `setCode` raises the process
 * exit code (to 1 when a command was only partly done); `argv` is recorded with each version.
 */
export function registerBlacklistCommands(program: Command, setCode: (code: number) => void, argv: readonly string[]): void {
  const command = argv.slice(2).join(' ');
  const bl = program
    .command('blacklist')
    .description('The versioned blacklist: refresh it from its sources, edit it by hand, list, diff and export versions.')
    .addHelpText('after', `
Every refresh and every hand edit is stored as a new version in the database; hits name the
version that flagged them (hits.blacklist_version). See poolwatch blacklist <command> --help.`);

  common(bl.command('refresh'))
    .description('Fetch every configured source (files and http(s) URLs), resolve domain entries, store the result as one new version.')
    .option('--force', 'apply sources that shrank by more than their maxShrink (and drop sources no longer configured)')
    .option('-s, --source <name>', 'refresh only this source (repeatable); named sources are fetched even when not due', collect, [])
    .addOption(viewOption())
    .addHelpText('after', `
A source that fails (unreachable, HTTP error, too big, too slow, no usable entry) or shrinks by more
than maxShrink keeps its previous entries and is reported by name; the others are applied.
Exit codes: 0 every source applied or unchanged; 1 some source failed or was refused (the rest was
applied as a new version); 2 nothing was done.

Examples:
  poolwatch blacklist refresh --db hits.db
  poolwatch blacklist refresh --db hits.db --force --source nocoin-hosts
  poolwatch blacklist refresh --db hits.db -c /etc/poolwatch.yaml -f json`)
    .action(async (o) => {
      const config = loadConfig(o.config);
      const report = await withWriteDb(o.db, (db) =>
        refreshBlacklist(db, config, { log, force: o.force === true, only: o.source.length > 0 ? o.source : undefined, command }),
      );
      print(renderRefresh(report, o.format as ViewFormat));
      if (report.incomplete) setCode(EXIT_INCOMPLETE);
    });

  common(bl.command('history'))
    .description('List the stored versions, newest first: when, why, what was added and removed, what each source did.')
    .option('-n, --limit <n>', 'only the newest N versions', versionNumber)
    .addOption(viewOption())
    .addHelpText('after', `
Examples:
  poolwatch blacklist history --db hits.db
  poolwatch blacklist history --db hits.db -n 10 -f json`)
    .action((o) => {
      print(withReadDb(o.db, (db) => renderHistory(history(db, { limit: o.limit }), o.format as ViewFormat)));
    });

  common(bl.command('diff'))
    .description('Entries added and removed between two versions.')
    .argument('<v1>', 'older version', versionNumber)
    .argument('<v2>', 'newer version', versionNumber)
    .addOption(viewOption())
    .addHelpText('after', `
Examples:
  poolwatch blacklist diff 3 4 --db hits.db
  poolwatch blacklist diff 1 12 --db hits.db -f csv > changes.csv`)
    .action((v1: number, v2: number, o) => {
      print(
        withReadDb(o.db, (db) => {
          checkVersion(db, v1);
          checkVersion(db, v2);
          return renderDiff(diffVersions(db, v1, v2), o.format as ViewFormat);
        }),
      );
    });

  // The version is an argument, not --version: the root command owns --version (it prints
  // poolwatch's own version wherever it appears on the command line).
  common(bl.command('list'))
    .description('The entries of a version (default: the current one), with source, labels, resolved-from name and expiry.')
    .argument('[version]', 'this version instead of the current one', versionNumber)
    .option('-s, --source <name>', 'only entries of this source (e.g. manual, nocoin-hosts:resolved)')
    .addOption(viewOption())
    .addHelpText('after', `
Expired entries are listed (with their expiry) until the next refresh removes them; scans skip them.

Examples:
  poolwatch blacklist list --db hits.db
  poolwatch blacklist list 7 --db hits.db --source manual -f json`)
    .action((version: number | undefined, o) => {
      print(
        withReadDb(o.db, (db) => {
          if (version !== undefined) checkVersion(db, version);
          const v = version ?? currentVersion(db);
          return renderEntries(v === null ? [] : versionEntries(db, v, { source: o.source }), o.format as ViewFormat, v);
        }),
      );
    });

  common(bl.command('add'))
    .description('Add entries by hand (source "manual" unless --source): addresses, networks or domain names, with optional ports.')
    .argument('<entry...>', 'ADDRESS[/LEN][:PORT[-PORT]], [IPv6[/LEN]]:PORT, or NAME[:PORT[-PORT]]')
    .option('--coin <ticker>', 'coin label, e.g. xmr')
    .option('--label <text>', 'pool or operator name, e.g. supportxmr')
    .option('--expires <when>', 'the entries stop counting after this long ("12h", "30d") or at this time (ISO 8601)', expiresAt)
    .option('-s, --source <name>', 'hand-edit source to add to (not a configured one)')
    .addOption(viewOption())
    .addHelpText('after', `
A domain name matches itself and every name below it; refresh also resolves it to addresses.
Adding an entry that is there already gives it the new labels or expiry.

Examples:
  poolwatch blacklist add --db hits.db 203.0.113.7 198.51.100.0/24:3333-3340 --coin xmr --label examplepool
  poolwatch blacklist add --db hits.db pool.example:4444 --expires 30d
  poolwatch blacklist add --db hits.db "[2001:db8::/48]:14444"`)
    .action(async (values: string[], o) => {
      const config = loadConfig(o.config);
      const labels = typedLabels(o.coin, o.label);
      const r = await withWriteDb(o.db, (db) => addEntries(db, config, values, { log, source: o.source, labels, expiresAt: o.expires, command }));
      print(renderCommit(r, o.format as ViewFormat));
    });

  common(bl.command('remove'))
    .description('Remove entries added by hand (source "manual" unless --source).')
    .argument('<entry...>', 'entries as they were added (any spelling of the same address, network and ports)')
    .option('-s, --source <name>', 'hand-edit source to remove from')
    .addOption(viewOption())
    .addHelpText('after', `
Entries of configured sources come from their lists: edit the list or the configuration instead.
Exit code 1 when some entry was not there (the others are removed).

Examples:
  poolwatch blacklist remove --db hits.db 203.0.113.7 pool.example:4444`)
    .action(async (values: string[], o) => {
      const config = loadConfig(o.config);
      const r = await withWriteDb(o.db, (db) => removeEntries(db, config, values, { log, source: o.source, command }));
      for (const k of r.notFound) log.warn({ code: 'PW_ERR_USAGE', source: k.source, entry: k.text }, `${k.text} is not in source ${k.source}; nothing removed for it`);
      print(renderCommit(r, o.format as ViewFormat));
      if (r.notFound.length > 0) setCode(EXIT_INCOMPLETE);
    });

  common(bl.command('import'))
    .description('Read a list file in any supported format into a hand-edit source, as one new version.')
    .argument('<file>', 'the list file')
    .addOption(new Option('--format <format>', 'list format of the file').choices(LIST_FORMATS).makeOptionMandatory())
    .option('-s, --source <name>', 'hand-edit source to import into (default manual)')
    .option('--replace', 'the source then holds exactly the file\'s entries (others of the source are removed)')
    .addHelpText('after', `
Bad lines are reported (the first 20) and skipped; exit code 1 when there were any.
A file with no usable entry fails with exit code 2 and changes nothing.

Examples:
  poolwatch blacklist export --db old.db --format csv > list.csv && poolwatch blacklist import --db new.db list.csv --format csv
  poolwatch blacklist import --db hits.db vendor.json --format json --source vendor-x --replace`)
    .action(async (file: string, o) => {
      const config = loadConfig(o.config);
      const r = await withWriteDb(o.db, (db) =>
        importList(db, config, file, o.format as ListFormat, { log, source: o.source, replace: o.replace === true, command }),
      );
      print(`${renderCommit(r.commit, 'table')} (read ${r.entries} entries, ${r.parseErrors} bad lines)`);
      if (r.parseErrors > 0) setCode(EXIT_INCOMPLETE);
    });

  common(bl.command('export'))
    .description('Write the entries of a version in a list format that blacklist import (or a file source) reads back.')
    .argument('[version]', 'this version instead of the current one', versionNumber)
    .addOption(new Option('--format <format>', 'list format').choices(EXPORT_FORMATS).default('plain'))
    .option('-s, --source <name>', 'only entries of this source')
    .option('--resolved', 'also the addresses resolved from domain entries (left out by default: refresh derives them again)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText('after', `
plain holds addresses and networks only; hosts holds domain names without ports only; csv and json
hold every entry with its coin and label. Entries a format cannot hold are counted in a warning.

Examples:
  poolwatch blacklist export --db hits.db > blacklist.txt
  poolwatch blacklist export 12 --db hits.db --format json -o v12.json`)
    .action((version: number | undefined, o) => {
      const { text, skipped } = withReadDb(o.db, (db) => {
        if (version !== undefined) checkVersion(db, version);
        const v = version ?? currentVersion(db);
        const all = v === null ? [] : versionEntries(db, v, { source: o.source });
        const entries = o.resolved === true || o.source !== undefined ? all : all.filter((e) => !isResolvedSource(e.source));
        return exportEntries(entries, o.format as ExportFormat, v);
      });
      if (skipped > 0) log.warn({ skipped, format: o.format }, `${skipped} entries cannot be written in the ${o.format} format and were left out (use csv or json for all)`);
      if (o.output === undefined) process.stdout.write(text);
      else {
        try {
          writeFileSync(o.output, text);
        } catch (e) {
          throw new PoolwatchError('PW_ERR_IO', `cannot write: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: o.output });
        }
      }
    });
}
