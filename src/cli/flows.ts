/**
 * The flow-record commands: `collect` (live NetFlow v5/v9/IPFIX), `flows` (nfdump CSV) and the
 * `scan --netflow` route (captures of export datagrams). Argument parsing and wiring only.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseSize } from '../blacklist/units.js';
import { MAX_EXPORTERS_IN_STATS, runCollect, parseListen } from '../collect.js';
import { worstExporters } from '../capture/netflow/decoder.js';
import { DEFAULT_CONFIG_PATH, loadConfig, type Config } from '../config.js';
import { PoolwatchError } from '../errors.js';
import { log } from '../log.js';
import { runFlowsCsv, runNetflowScan, type FlowRunRequest, type FlowRunResult } from '../netflow-scan.js';
import { FlowDumper } from '../report/flow-dump.js';
import { formatSources, OUTPUT_FORMATS, type OutputFormat } from '../report/format.js';
import { querySources } from '../report/query.js';
import { reloadOnHangup, stopOnSignal } from '../signals.js';
import { progressMeter, type Progress } from './progress.js';

const EXIT_OK = 0;
const EXIT_INCOMPLETE = 1;

const collectList = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const size = (value: string) => {
  const n = parseSize(value);
  if (n === null || n < 1) throw new InvalidArgumentError('must be a size in bytes, e.g. 8388608 or 8MiB');
  return n;
};
const seconds = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds above 0');
  return n;
};

/** Options common to the flow commands: where hits go, which lists, what is printed. */
function commonOptions(c: Command): Command {
  return c
    .option('--db <path>', 'SQLite database to append the hits to (default: keep them in memory for this run)')
    .option('-b, --blacklist <file>', 'extra list for this run only, one ADDRESS[/LEN][:PORT[-PORT]] or DOMAIN[:PORT[-PORT]] a line (repeatable)', collectList, [])
    .option('-c, --config <file>', 'YAML configuration', DEFAULT_CONFIG_PATH)
    .addOption(new Option('-f, --format <format>', 'report printed on stdout at the end').choices(OUTPUT_FORMATS).default('table'))
    .option('-q, --quiet', 'print no report on stdout (use with --db)')
    .option('--dump-flows', 'print every decoded flow record as NDJSON on stdout (instead of the report)');
}

interface CommonOpts {
  db?: string;
  blacklist: string[];
  config: string;
  format: string;
  quiet?: boolean;
  dumpFlows?: boolean;
}

/** What every flow command asks of its run, from the options they share. */
function flowRun(o: CommonOpts, config: Config, argv: string[], dumper: FlowDumper | null): FlowRunRequest {
  return {
    dbPath: o.db ?? ':memory:',
    blacklistFiles: o.blacklist,
    config,
    command: argv.slice(2).join(' '),
    log,
    onRecord: dumper === null ? null : dumper.write,
  };
}

/** The end of every flow run: the report (unless quiet or dumping), the database closed, the exit code. */
async function finish(result: FlowRunResult, o: CommonOpts, dumper: FlowDumper | null): Promise<number> {
  if (dumper !== null) await dumper.drained();
  else if (!o.quiet) {
    const text = formatSources(querySources(result.db, { runId: result.runId }), o.format as OutputFormat);
    if (text !== '') process.stdout.write(text + '\n');
  }
  result.db.close();
  return result.incomplete ? EXIT_INCOMPLETE : EXIT_OK;
}

/** `scan --netflow FILE...`: called by the scan command when --netflow is given. */
export async function scanNetflow(inputs: string[], o: CommonOpts & { progress: boolean }, argv: string[]): Promise<number> {
  const config = loadConfig(o.config);
  const dumper = o.dumpFlows ? new FlowDumper() : null;
  let meter: Progress | null = null;
  const started = Date.now();
  const result = await runNetflowScan({
    ...flowRun(o, config, argv, dumper),
    inputs,
    // Standard input may run for hours (tcpdump -w - on a collector port): stop it cleanly.
    stopSignal: inputs.includes('-') ? stopOnSignal(log) : undefined,
    onProgress: (packets, bytes, totalBytes) => {
      if (o.progress) meter ??= progressMeter(totalBytes, started);
      meter?.update(packets, bytes);
      dumper?.flush();
    },
  }).finally(() => (meter as Progress | null)?.done());
  const s = result.stats;
  log.info(
    {
      runId: result.runId,
      packets: s.packets,
      datagrams: s.datagrams,
      skipped: { notIp: s.notIp, notUdp: s.notUdp, laterFragments: s.fragments, cutDatagrams: s.cutDatagrams },
      decoder: result.decoder,
      exportLoss: result.exporters.reduce((n, e) => n + e.sequenceLost, 0),
      exporters: worstExporters(result.exporters, MAX_EXPORTERS_IN_STATS),
      rules: result.records,
      dumped: dumper?.lines,
      damagedInputs: s.inputs.filter((i) => i.damaged !== null).map((i) => i.input),
      seconds: Number(result.seconds.toFixed(3)),
    },
    'scan finished',
  );
  return finish(result, o, dumper);
}

export function registerFlowCommands(program: Command, setCode: (code: number) => void, argv: string[]): void {
  commonOptions(
    program
      .command('collect')
      .description('Collect NetFlow v5, v9 and IPFIX over UDP from routers, live; record miners per source IP.')
      .requiredOption('--listen <address:port>', 'UDP address to receive exports on, e.g. 0.0.0.0:2055 or [::]:4739 (repeatable)', collectList),
  )
    .option('--recv-buffer <size>', 'socket receive buffer to ask the kernel for (Linux caps it at net.core.rmem_max)', size, 8 * 1024 * 1024)
    .option('--stats-interval <seconds>', 'how often the collector stats line is logged', seconds, 60)
    .addHelpText(
      'after',
      `
Runs until SIGINT or SIGTERM, then writes every pending hit and exits 0; SIGHUP re-reads the
configuration, the list sources and the --blacklist files and swaps the new list in without
stopping. Hits are written to the database about twice a second while it runs, so 'poolwatch
report --db' sees them at once; after kill -9 the next run marks the killed run 'interrupted'. One
port takes v5, v9 and IPFIX alike (told apart by the version field). Logs (JSON, stderr): each
exporter when first heard, templates learned, and every --stats-interval the datagrams, records,
records dropped (no template), decode errors, estimated export loss (sequence gaps) and the
datagrams the kernel dropped on the sockets (Linux: /proc/net/udp "drops").

Exit codes: 0 stopped by a signal; 2 nothing could be done, or hits could not be written (bad
arguments, address in use, unusable, read-only or full database).

Examples:
  poolwatch collect --listen 0.0.0.0:2055 --db hits.db
  poolwatch collect --listen 0.0.0.0:2055 --listen [::]:4739 --db hits.db --recv-buffer 32MiB
  poolwatch collect --listen 127.0.0.1:2055 --dump-flows | jq -c 'select(.dstPort == 3333)'`,
    )
    .action(async (o: CommonOpts & { listen: string[]; recvBuffer: number; statsInterval: number }) => {
      const listen = o.listen.map(parseListen);
      const config = loadConfig(o.config);
      // From here on neither signal has its default effect: SIGINT/SIGTERM stop and flush (even
      // while the run opens), SIGHUP reloads (once the run is open).
      const stopSignal = stopOnSignal(log);
      const reload = reloadOnHangup(() => loadConfig(o.config));
      const dumper = o.dumpFlows ? new FlowDumper() : null;
      const result = await runCollect({
        ...flowRun(o, config, argv, dumper),
        listen,
        recvBufferSize: o.recvBuffer,
        statsIntervalMs: Math.round(o.statsInterval * 1000),
        stopSignal,
        reload,
        onTick: () => dumper?.flush(),
      });
      log.info(
        {
          runId: result.runId,
          datagrams: result.stats.datagrams,
          bytes: result.stats.bytes,
          decoder: result.decoder,
          exportLoss: result.exporters.reduce((n, e) => n + e.sequenceLost, 0),
          kernelDrops: result.stats.kernelDrops,
          exporters: worstExporters(result.exporters, MAX_EXPORTERS_IN_STATS),
          rules: result.records,
          dumped: dumper?.lines,
          seconds: Number(result.seconds.toFixed(3)),
        },
        'collect finished',
      );
      setCode(await finish(result, o, dumper));
    });

  commonOptions(
    program
      .command('flows')
      .description('Screen flow records printed by nfdump -o csv (files, or - for standard input); record miners per source IP.')
      .argument('[inputs...]', 'CSV files from nfdump -o csv; - reads standard input'),
  )
    .addHelpText(
      'after',
      `
Reads the header nfdump prints (ts,te,td,sa,da,sp,dp,pr,flg,...,ipkt,ibyt,...) and finds the
columns by name; without one (nfdump -q) nfdump's standard columns are assumed. The summary
nfdump appends is skipped. Times are read in the local time zone, as nfdump writes them: give
both programs the same TZ. A line that cannot be read is logged with its line number (the first
20 per input), counted, and skipped; the rest is read.

Exit codes: 0 every line read (standard input: or stopped by SIGINT/SIGTERM, after writing every
pending hit); 1 some line or input could not be read (the rest was analysed and recorded); 2 nothing
could be done, or hits could not be written (bad arguments, missing file, unusable, read-only or
full database).

Examples:
  nfdump -R /data/flows -o csv | poolwatch flows --db hits.db -
  nfdump -r nfcapd.202403010800 -o csv 'port 3333 or port 14444' > flows.csv && poolwatch flows flows.csv
  poolwatch flows --dump-flows flows.csv | jq -c 'select(.bytes > 1000000)'`,
    )
    .action(async (inputs: string[], o: CommonOpts) => {
      const config = loadConfig(o.config);
      const dumper = o.dumpFlows ? new FlowDumper() : null;
      const result = await runFlowsCsv({
        ...flowRun(o, config, argv, dumper),
        inputs,
        // A pipe from nfdump over years of archives runs for hours: stop it cleanly.
        stopSignal: inputs.includes('-') ? stopOnSignal(log) : undefined,
      });
      log.info(
        {
          runId: result.runId,
          lines: result.lines,
          records: result.inputs.reduce((n, i) => n + i.records, 0),
          badLines: result.bad,
          rules: result.records,
          dumped: dumper?.lines,
          damagedInputs: result.inputs.filter((i) => i.bad > 0 || i.notCsv !== null).map((i) => i.input),
          seconds: Number(result.seconds.toFixed(3)),
        },
        'flows finished',
      );
      setCode(await finish(result, o, dumper));
    });
}

/** scan's options that make no sense with --netflow, refused rather than ignored. */
export function checkNetflowScanOptions(o: { interface?: string; bpf?: string; maxFlows?: number; workers?: number }): void {
  if (o.interface !== undefined) {
    throw new PoolwatchError('PW_ERR_USAGE', '--netflow reads captures of export datagrams from files; to receive exports live use poolwatch collect --listen');
  }
  if (o.maxFlows !== undefined) throw new PoolwatchError('PW_ERR_USAGE', '--max-flows is for packet scans; flow records are not tracked in the flow table');
  if (o.workers !== undefined && o.workers > 1) throw new PoolwatchError('PW_ERR_USAGE', '--workers is for packet scans; flow records are decoded on one thread');
}
