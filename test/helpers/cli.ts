import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const BIN = resolve(ROOT, 'bin/poolwatch.js');
export const fixture = (name: string) => resolve(ROOT, 'fixtures', name);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (npm test builds first) the way a user does. */
export function cli(args: string[], opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input: opts.input,
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Start the CLI in the background (for live capture); resolves with its output when it exits. */
export function cliAsync(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  return { child, done, stderr: () => stderr };
}

/** The pino lines a run wrote to stderr. */
export function logLines(stderr: string): Record<string, any>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
