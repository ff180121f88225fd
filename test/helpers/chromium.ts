/**
 * Headless Chromium (Debian's `chromium`) for the HTML report tests: render a local file, dump the
 * DOM or take a screenshot, with every request the browser makes sent to a local proxy that
 * records it and answers nothing. Chromium's own housekeeping (time, update and account checks
 * to Google hosts) goes there too despite the flags; `pageRequests` leaves those out, so what is
 * left is what the page itself asked for.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasCommand } from './cli.js';

export const CHROMIUM = ['chromium', 'chromium-browser'].find(hasCommand) ?? null;

export interface ChromiumRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** First line of every request that reached the proxy (e.g. "GET http://host/x HTTP/1.1", "CONNECT host:443 HTTP/1.1"). */
  requests: string[];
}

/** Chromium's own background hosts, not the page's. */
const BROWSER_HOSTS = /\b(?:[a-z0-9-]+\.)*(?:google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com)\b/i;

export function pageRequests(requests: readonly string[]): string[] {
  return requests.filter((r) => !BROWSER_HOSTS.test(r.split(' ')[1] ?? ''));
}

/** Run Chromium on `url` with `args` (e.g. --dump-dom, --screenshot=FILE); resolves when it exits. */
export async function runChromium(url: string, args: string[]): Promise<ChromiumRun> {
  if (CHROMIUM === null) throw new Error('chromium is not installed');
  const requests: string[] = [];
  const trap = createServer((c) => {
    c.once('data', (d) => {
      requests.push(d.toString('latin1').split('\r\n')[0]!);
      c.destroy();
    });
    c.on('error', () => {});
  });
  await new Promise<void>((res) => trap.listen(0, '127.0.0.1', res));
  const port = (trap.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), 'pw-chromium-'));
  try {
    const child = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
      `--proxy-server=http://127.0.0.1:${port}`, '--proxy-bypass-list=<-loopback>',
      ...args, url,
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((res) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        res(c);
      });
    });
    return { code, stdout, stderr, requests };
  } finally {
    trap.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
