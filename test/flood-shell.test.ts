/**
 * `--interface` and `--bpf` never reach a shell (issue #7). src/capture/sources.ts spawns tcpdump
 * (or dumpcap) with an argument array and no shell option. Checked three ways with strings full of
 * shell metacharacters: a stand-in tool on PATH records the argv it was given (each string must
 * arrive whole, as one argument, or as the filter's words after "--"), the real tcpdump gets them
 * through the real CLI and fails cleanly with PW_ERR_IO, and no marker file the strings try to
 * create ever appears.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { interfaceSource } from '../src/capture/sources.js';
import { PoolwatchError } from '../src/errors.js';
import { cli, logLines } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pw-shell-'));
const marks = join(dir, 'marks');
mkdirSync(marks);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

/** Strings that would each create a file in `marks` if any shell ever saw them. */
const HOSTILE = [
  `lo; touch ${marks}/semicolon`,
  `lo && touch ${marks}/and`,
  `lo | touch ${marks}/pipe`,
  `$(touch ${marks}/dollar)`,
  `\`touch ${marks}/backtick\``,
  `lo\ntouch ${marks}/newline`,
  `lo' ; touch ${marks}/quote ; '`,
  `lo > ${marks}/redirect`,
];

const tcpdump = spawnSync('sh', ['-c', 'command -v tcpdump']).stdout.toString().trim();
const root = process.getuid?.() === 0;

/** A stand-in capture tool named `name` that writes its argv, one per line (NUL-separated), and fails. */
function fakeTool(name: 'tcpdump' | 'dumpcap'): { dir: string; argv: () => string[][] } {
  const bin = mkdtempSync(join(dir, `bin-${name}-`));
  const log = join(bin, 'argv.log');
  // printf with "%s\0" keeps every argument whole, newlines included; the script never evals them.
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s\\0' "$@" >> '${log}'\nprintf '\\n' >> '${log}'\necho "${name}: stand-in: no such device" >&2\nexit 1\n`);
  chmodSync(join(bin, name), 0o755);
  return {
    dir: bin,
    argv: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\0\n')
            .filter((l) => l !== '')
            .map((l) => l.split('\0'))
        : [],
  };
}

async function openFails(iface: string, bpf?: string): Promise<PoolwatchError> {
  const src = interfaceSource(iface, bpf);
  const err = await src.open().then(
    () => src.done!.then(() => null, (e: unknown) => e),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PoolwatchError);
  return err as PoolwatchError;
}

describe('--interface and --bpf never reach a shell', () => {
  it('tcpdump gets each interface string as one argument and each filter after "--", verbatim', async () => {
    const fake = fakeTool('tcpdump');
    process.env.PATH = fake.dir;
    for (const s of HOSTILE) {
      const err = await openFails(s);
      expect(err.code).toBe('PW_ERR_IO');
      expect(err.message).toBe(`interface ${s}: tcpdump failed (exit code 1): tcpdump: stand-in: no such device`);
      await openFails('lo', s);
    }
    const calls = fake.argv();
    expect(calls).toHaveLength(2 * HOSTILE.length);
    HOSTILE.forEach((s, i) => {
      expect(calls[2 * i]).toEqual(['-i', s, '-U', '-n', '-s', '0', '-w', '-']);
      // The filter's words, split on white space only, after "--" (so none can be an option).
      expect(calls[2 * i + 1]).toEqual(['-i', 'lo', '-U', '-n', '-s', '0', '-w', '-', '--', ...s.trim().split(/\s+/)]);
    });
    expect(readdirSync(marks)).toEqual([]);
  });

  it('dumpcap gets the filter as the one argument of -f', async () => {
    const fake = fakeTool('dumpcap');
    process.env.PATH = fake.dir;
    for (const s of HOSTILE) await openFails(s, s);
    expect(fake.argv()).toEqual(HOSTILE.map((s) => ['-i', s, '-w', '-', '-f', s]));
    expect(readdirSync(marks)).toEqual([]);
  });

  it.skipIf(!tcpdump || !root)('the real CLI with the real tcpdump: a clean PW_ERR_IO, exit 2, nothing executed', () => {
    for (const [args, msg] of [
      [['--interface', HOSTILE[0]!], /^interface lo; touch .*\/semicolon: tcpdump failed \(exit code 1\): tcpdump: lo; touch .*semicolon: No such device exists/],
      [['--interface', HOSTILE[3]!], /^interface \$\(touch .*\/dollar\): tcpdump failed \(exit code 1\): tcpdump: /],
      [['--interface', 'lo', '--bpf', `udp port 1; touch ${marks}/bpf $(touch ${marks}/bpf2) \`touch ${marks}/bpf3\``], /^interface lo: tcpdump failed \(exit code 1\): tcpdump: .*syntax error/],
    ] as const) {
      const r = cli(['scan', ...args]);
      expect(r.code, r.stderr).toBe(2);
      const err = logLines(r.stderr).filter((l) => l.level >= 50);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatchObject({ code: 'PW_ERR_IO' });
      expect(err[0]!.msg).toMatch(msg);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    }
    expect(readdirSync(marks)).toEqual([]);
  });

  it('an interface that reads as an option is refused before anything runs', () => {
    const fake = fakeTool('tcpdump');
    process.env.PATH = fake.dir;
    for (const s of ['-r/etc/passwd', '--version', '-']) expect(() => interfaceSource(s)).toThrow(/invalid interface name/);
    expect(fake.argv()).toEqual([]);
  });
});
