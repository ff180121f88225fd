/** Running `poolwatch collect` from tests: start it, learn its ports, wait for what it took in. */
import { cliAsync, logLines } from './cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The log lines written so far, without a last line still being written. */
function written(stderr: string): Record<string, any>[] {
  return logLines(stderr.slice(0, stderr.lastIndexOf('\n') + 1));
}

/** Start `poolwatch collect` and wait until it listens; returns the bound "address:port" labels. */
export async function startCollector(args: string[]) {
  const c = cliAsync(['collect', '--stats-interval', '0.2', ...args]);
  for (let i = 0; i < 200; i++) {
    const l = written(c.stderr()).find((x) => x.msg === 'listening');
    if (l !== undefined) return { ...c, sockets: l.sockets as string[] };
    if (c.child.exitCode !== null) break;
    await sleep(25);
  }
  c.child.kill('SIGKILL');
  throw new Error(`collector did not start: ${c.stderr()}`);
}

/** Wait until the collector's stats line says it has taken `n` datagrams. */
export async function waitForDatagrams(c: { stderr: () => string }, n: number, ms = 10_000): Promise<Record<string, any>> {
  const t0 = Date.now();
  for (;;) {
    const s = written(c.stderr()).filter((l) => l.msg === 'collector stats').at(-1);
    if (s !== undefined && s.datagrams >= n) return s;
    if (Date.now() - t0 > ms) throw new Error(`collector saw ${s?.datagrams ?? 0} of ${n} datagrams: ${c.stderr()}`);
    await sleep(50);
  }
}

