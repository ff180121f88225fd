/**
 * `poolwatch export blocklist`: argument parsing and wiring only; src/report/blocklist.ts makes
 * the lists.
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { PoolwatchError } from '../errors.js';
import { log } from '../log.js';
import { BLOCKLIST_FORMATS, BLOCKLIST_WHAT, blocklistComment, collectBlocklist, renderBlocklist, type BlocklistFormat, type BlocklistWhat } from '../report/blocklist.js';
import { openDatabase } from '../report/db.js';
import { CATEGORY_STRENGTH, type HitCategory } from '../report/types.js';
import { parseWhen, positiveInt } from './report.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function registerExportCommands(program: Command): void {
  const ex = program.command('export').description('Export what the hits say in forms other tools load: block lists.');
  ex.command('blocklist')
    .description('Pool endpoints and/or customer addresses as an nftables file, an ipset restore file or a plain list')
    .requiredOption('--db <path>', 'SQLite database written by scan --db')
    .addOption(new Option('--format <format>', 'nft: nft -f file (sets, atomic reload); ipset: ipset restore file; plain: poolwatch plain list').choices(BLOCKLIST_FORMATS).default('nft'))
    .addOption(new Option('--what <what>', 'pool endpoints, customer (source) addresses, or both').choices(BLOCKLIST_WHAT).default('pools'))
    .option('--category <c>', 'rows of this category (repeatable; default mining: a P2P peer is a node, not a pool)', collect)
    .option('--run <id>', 'only this run', positiveInt)
    .option('--since <time>', 'only rows active at or after this time (ISO 8601, or 24h / 7d back from now)', parseWhen)
    .option('--until <time>', 'only rows that began at or before this time', parseWhen)
    .option('--name <name>', 'nft table name / ipset set name prefix', 'poolwatch')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText('after', `
Examples:
  poolwatch export blocklist --db hits.db --format nft -o /etc/nftables.d/poolwatch.nft && nft -f /etc/nftables.d/poolwatch.nft
  poolwatch export blocklist --db hits.db --format ipset --what both | ipset restore
  poolwatch export blocklist --db hits.db --format plain --since 30d -o pools.txt`)
    .action((o) => {
      const categories = (o.category as string[] | undefined) ?? ['mining'];
      for (const c of categories) {
        if (!(CATEGORY_STRENGTH as readonly string[]).includes(c)) throw new PoolwatchError('PW_ERR_USAGE', `unknown category "${c}" (${CATEGORY_STRENGTH.join(', ')})`);
      }
      const db = openDatabase(o.db, { readonly: true });
      let list;
      try {
        list = collectBlocklist(db, { what: o.what as BlocklistWhat, categories: categories as HitCategory[], runId: o.run, since: o.since, until: o.until });
      } finally {
        db.close();
      }
      if (list.skipped > 0) log.warn({ skipped: list.skipped }, `${list.skipped} rows left out: an address in them is not an IPv4 or IPv6 address`);
      const dbName = String(o.db).split('/').pop() ?? String(o.db);
      const text = renderBlocklist(list, o.format as BlocklistFormat, { what: o.what as BlocklistWhat, name: o.name, comment: blocklistComment(o.what, dbName, categories) });
      if (o.output === undefined) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(o.output, text);
      } catch (e) {
        throw new PoolwatchError('PW_ERR_IO', `cannot write block list: ${(e as NodeJS.ErrnoException).code ?? e}`, { file: o.output });
      }
      log.info({ file: o.output, pools: list.pools.length, sources: list.sources.length }, 'block list written');
    });
}
