import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, DEFAULT_CONFIG_PATH } from '../config.js';
import { isPoolwatchError } from '../errors.js';
import { log } from '../log.js';
import { formatSources, OUTPUT_FORMATS, type OutputFormat } from '../report/format.js';
import { countSources, querySources } from '../report/query.js';
import { runScan } from '../scan.js';
import { progressMeter, type Progress } from './progress.js';
import { registerBlacklistCommands } from './blacklist.js';
import { checkNetflowScanOptions, registerFlowCommands, scanNetflow } from './flows.js';
import { registerExportCommands } from './export.js';
import { registerReportCommands } from './report.js';
import { registerReportOrgsCommand } from './report-orgs.js';
import { registerCaseCommands } from './case.js';
import { PoolwatchError } from '../errors.js';
import { reloadOnHangup, stopOnSignal } from '../signals.js';

/** Exit codes scripts can rely on (documented in the README). */
export const EXIT_OK = 0;
export const EXIT_INCOMPLETE = 1;
export const EXIT_FATAL = 2;


const collect = (value: string, previous: string[]) => [...previous, value];
const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return n;
};

/**
 * A reader that goes away (`poolwatch ... | head`) is not an error of ours: like tcpdump, stop
 * writing quietly. Without this listener Node throws an unhandled EPIPE.
 */
function ignoreClosedStdout(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
  });
}

export async function main(argv: string[]): Promise<number> {
  ignoreClosedStdout();
  let code = EXIT_OK;
  const program = new Command('poolwatch')
    .description('Find cryptocurrency-mining traffic in packet captures, live interfaces and flow exports.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Options after a command name are that command's: `report sources --db X` gives --db to
    // sources, not to report (which has a --db of its own for the plain per-source report).
    .enablePositionalOptions()
    .exitOverride();

  program
    .command('scan')
    .description('Replay captures (pcap/pcapng, - for stdin) or watch an interface; record miners per source IP.')
    .argument('[inputs...]', 'capture files; - reads standard input (tcpdump -w - | poolwatch scan -)')
    .option('-i, --interface <if>', 'capture live from this interface (runs tcpdump, or dumpcap)')
    .option('--bpf <expr>', 'capture filter for --interface, e.g. "tcp and not port 22"')
    .option('--db <path>', 'SQLite database to append the hits to (default: keep them in memory for this run)')
    .option('-b, --blacklist <file>', 'extra list for this run only, one ADDRESS[/LEN][:PORT[-PORT]] or DOMAIN[:PORT[-PORT]] a line (repeatable)', collect, [])
    .option('-c, --config <file>', 'YAML configuration', DEFAULT_CONFIG_PATH)
    .addOption(new Option('-f, --format <format>', 'report printed on stdout at the end').choices(OUTPUT_FORMATS).default('table'))
    .option('-q, --quiet', 'print no report on stdout (use with --db)')
    .option('--max-flows <n>', 'flows kept in memory (overrides the configuration)', positiveInt)
    .option('--workers <n>', 'threads for the packet path, each taking a share of the customers (default 1: the main thread)', positiveInt, 1)
    .option('--no-progress', 'no progress line on stderr')
    .option('--netflow', 'the captures hold NetFlow v5/v9/IPFIX export datagrams (tcpdump -w on a collector port): decode the flow records they carry')
    .option('--dump-flows', 'with --netflow: print every decoded flow record as NDJSON on stdout (instead of the report)')
    .addHelpText('after', `
Exit codes: 0 all input read (live: stopped by SIGINT/SIGTERM); 1 some input damaged or skipped (the
rest was analysed and recorded); 2 nothing could be done, or hits could not be written (bad
arguments, missing file, unusable, read-only or full database, capture tool failed).

Live capture (--interface, or - on a pipe): SIGINT/SIGTERM stop it, write every pending hit and close
the run; SIGHUP re-reads the configuration, the list sources and the --blacklist files and swaps the
new list in without stopping. After kill -9, the next run marks the killed run 'interrupted'.

Examples:
  poolwatch scan fixtures/stratum-btc.pcap
  poolwatch scan --db hits.db day1.pcap day2.pcapng
  tcpdump -i eth0 -U -w - | poolwatch scan --db hits.db -
  poolwatch scan --interface eth0 --bpf "tcp" --db hits.db
  poolwatch scan --workers 2 --db hits.db big.pcap
  poolwatch scan --netflow --db hits.db export-2055.pcap
  poolwatch scan --netflow --dump-flows export-2055.pcap | jq -c 'select(.dstPort == 3333)'`)
    .action(async (inputs: string[], o) => {
      if (o.netflow) {
        checkNetflowScanOptions(o);
        code = await scanNetflow(inputs, o, argv);
        return;
      }
      if (o.dumpFlows) throw new PoolwatchError('PW_ERR_USAGE', '--dump-flows needs --netflow (or use poolwatch collect / flows)');
      const readConfig = () => {
        const c = loadConfig(o.config);
        if (o.maxFlows !== undefined) c.flows.maxFlows = o.maxFlows;
        return c;
      };
      const config = readConfig();
      let meter: Progress | null = null;
      // A live capture (an interface, or standard input) runs until stopped: SIGINT/SIGTERM stop
      // it cleanly, SIGHUP reloads the configuration and the lists.
      const liveInput = o.interface !== undefined || inputs.includes('-');
      const stop = liveInput ? stopOnSignal(log) : undefined;
      const reload = liveInput ? reloadOnHangup(readConfig) : undefined;
      const started = Date.now();
      const result = await runScan({
        inputs,
        iface: o.interface,
        bpf: o.bpf,
        dbPath: o.db ?? ':memory:',
        blacklistFiles: o.blacklist,
        config,
        command: argv.slice(2).join(' '),
        log,
        stopSignal: stop,
        reload,
        workers: o.workers,
        onProgress: (packets, bytes, totalBytes) => {
          // The meter is made at the first tick, but its rate counts from the start of the run.
          if (o.progress) meter ??= progressMeter(totalBytes, started);
          meter?.update(packets, bytes);
        },
      }).finally(() => meter?.done());
      meter = null;
      const s = result.stats;
      // A quiet run only logs the count: building every record would cost seconds on a big run.
      const records = o.quiet ? null : querySources(result.db, { runId: result.runId });
      log.info(
        {
          runId: result.runId,
          packets: s.packets,
          ipPackets: s.ipPackets,
          flows: s.flows,
          flowsEvicted: s.flowsEvicted,
          flaggedFlows: s.flaggedFlows,
          sourcesFlagged: records?.length ?? countSources(result.db, result.runId),
          dnsLearned: s.dnsLearned,
          skipped: { notIp: s.notIp, unsupportedLink: s.unsupportedLink, truncated: s.truncated, malformed: s.malformed, laterFragments: s.laterFragments },
          damagedInputs: s.inputs.filter((i) => i.damaged).map((i) => i.input),
          seconds: Number(result.seconds.toFixed(3)),
          packetsPerSecond: Math.round(s.packets / Math.max(result.seconds, 1e-6)),
        },
        'scan finished',
      );
      if (records !== null) printReport(formatSources(records, o.format as OutputFormat));
      result.db.close();
      if (result.incomplete) code = EXIT_INCOMPLETE;
    });

  registerReportCommands(program);
  registerReportOrgsCommand(program);
  registerCaseCommands(program);
  registerExportCommands(program);
  registerBlacklistCommands(program, (c) => (code = Math.max(code, c)), argv);
  registerFlowCommands(program, (c) => (code = Math.max(code, c)), argv);

  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? EXIT_OK : EXIT_FATAL;
    }
    if (isPoolwatchError(e)) {
      log.error(e.context.file !== undefined ? { code: e.code, file: e.context.file } : { code: e.code }, e.message);
      return EXIT_FATAL;
    }
    log.fatal({ err: e }, `unexpected error: ${err.message ?? e}`);
    return EXIT_FATAL;
  }
}

/** Results go to stdout with one final newline; an empty NDJSON report prints nothing at all. */
function printReport(text: string): void {
  if (text !== '') process.stdout.write(text + '\n');
}
