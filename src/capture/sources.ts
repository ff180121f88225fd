import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PoolwatchError } from '../errors.js';
import { ioError } from './reader.js';

export interface CaptureSource {
  name: string;
  kind: 'file' | 'stdin' | 'interface';
  open(): Promise<NodeJS.ReadableStream>;
  stop?(): void;
  /** Settles when a live capture's child has exited; rejects with PW_ERR_IO if it died badly. */
  done?: Promise<void>;
}

/** A capture file, or standard input for "-". */
export function fileSource(path: string): CaptureSource {
  if (path === '-') {
    return { name: '-', kind: 'stdin', open: async () => process.stdin };
  }
  return {
    name: path,
    kind: 'file',
    // Waits for the file to open so a missing file fails here, with its name, not mid-pipeline.
    open: () =>
      new Promise((resolve, reject) => {
        const s = createReadStream(path, { highWaterMark: 1 << 20 });
        const onError = (e: unknown) => reject(ioError(path, e));
        s.once('error', onError);
        s.once('ready', () => {
          s.removeListener('error', onError);
          resolve(s);
        });
      }),
  };
}

interface Tool {
  name: 'tcpdump' | 'dumpcap';
  path: string;
}

/** First of tcpdump, dumpcap found on PATH (looked up at open time so tests can change PATH). */
function findCaptureTool(): Tool | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of ['tcpdump', 'dumpcap'] as const) {
    for (const dir of dirs) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        if (statSync(path).isFile()) return { name, path };
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** The line of a tool's stderr that says what went wrong: its own "tool: ..." line, else the last one. */
function reason(tool: string, stderr: string): string {
  const lines = stderr
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].startsWith(`${tool}:`)) return lines[i];
  return lines.at(-1) ?? 'no message';
}

/**
 * Live capture through tcpdump (or dumpcap) writing a capture to its stdout. The child gets an
 * argument array, never a shell, and the filter comes after "--" so it cannot smuggle options.
 */
export function interfaceSource(iface: string, bpf?: string): CaptureSource {
  if (iface === '' || iface.startsWith('-')) {
    throw new PoolwatchError('PW_ERR_USAGE', `invalid interface name '${iface}'`);
  }
  const name = `interface ${iface}`;
  let child: ChildProcess | null = null;
  let stopping = false;
  let settleDone!: (e?: PoolwatchError) => void;
  const done = new Promise<void>((resolve, reject) => {
    settleDone = (e) => (e ? reject(e) : resolve());
  });
  // Whoever awaits `done` still sees the rejection; this only stops Node calling it unhandled.
  done.catch(() => {});
  const filter = bpf?.trim() ?? '';

  const open = (): Promise<NodeJS.ReadableStream> => {
    const tool = findCaptureTool();
    if (tool === null) {
      const e = new PoolwatchError('PW_ERR_IO', 'cannot capture: neither tcpdump nor dumpcap is on PATH', { file: name });
      settleDone(e);
      return Promise.reject(e);
    }
    const args =
      tool.name === 'tcpdump'
        ? ['-i', iface, '-U', '-n', '-s', '0', '-w', '-', ...(filter ? ['--', ...filter.split(/\s+/)] : [])]
        : // dumpcap writes pcapng by default (older versions lack -F); the reader takes either.
          ['-i', iface, '-w', '-', ...(filter ? ['-f', filter] : [])];
    const c = spawn(tool.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    if (stopping) c.kill('SIGTERM');
    let stderr = '';
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4096);
    });
    // A pass-through lets us see the first bytes (the tool's file header = capture is live)
    // without taking them from the consumer.
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    c.stdout!.pipe(out);
    return new Promise((resolve, reject) => {
      c.stdout!.once('data', () => resolve(out));
      // A tool that holds its header back until the first packet is still running fine.
      setTimeout(() => resolve(out), 2000).unref();
      c.once('error', (e) => {
        const err = new PoolwatchError('PW_ERR_IO', `cannot run ${tool.path}: ${e.message}`, { file: name });
        settleDone(err);
        reject(err);
        out.end();
      });
      c.once('close', (code, signal) => {
        // SIGPIPE: the reader stopped reading (damaged input), which it has already reported.
        const ok = code === 0 || signal === 'SIGPIPE' || (stopping && signal === 'SIGTERM');
        if (ok) {
          settleDone();
          resolve(out);
          return;
        }
        const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
        const err = new PoolwatchError('PW_ERR_IO', `${tool.name} failed (${how}): ${reason(tool.name, stderr)}`, { file: name });
        settleDone(err);
        reject(err); // no-op once the capture had started: then `done` carries the failure
      });
    });
  };

  return {
    name,
    kind: 'interface',
    open,
    stop: () => {
      stopping = true;
      // tcpdump and dumpcap flush and exit on SIGTERM, which ends the stream.
      if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    done,
  };
}
