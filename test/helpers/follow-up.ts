/**
 * Helpers for the organisation, case and alert tests: a configuration file that works offline,
 * a local webhook endpoint (node:http on 127.0.0.1:0) that answers as told, and a local UDP
 * socket that collects syslog datagrams.
 */
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino from 'pino';
import YAML from 'yaml';
import type { Logger } from '../../src/log.js';
import type { CaseEvent } from '../../src/report/cases.js';

const ROOT = resolve(__dirname, '../..');

export interface ConfigOptions {
  orgFiles?: string[];
  webhook?: Record<string, unknown>;
  syslog?: Record<string, unknown>;
  maxPerMinute?: number;
  drainSeconds?: number;
}

/** A configuration in `dir` (poolwatch.yaml) using the shipped blacklist file offline; answers its path. */
export function writeConfig(dir: string, o: ConfigOptions = {}): string {
  const doc: Record<string, unknown> = {
    blacklist: {
      sources: [{ name: 'minerchk-ips', file: join(ROOT, 'config/blacklist.txt'), format: 'plain' }],
      allow: [join(ROOT, 'config/allowlist.txt')],
      resolver: false,
    },
    poolPorts: [3333, 4444, 8008, 14444],
    organisations: { files: o.orgFiles ?? [] },
    alerts: {
      ...(o.webhook ? { webhook: o.webhook } : {}),
      ...(o.syslog ? { syslog: o.syslog } : {}),
      ...(o.maxPerMinute !== undefined ? { maxPerMinute: o.maxPerMinute } : {}),
      ...(o.drainSeconds !== undefined ? { drainSeconds: o.drainSeconds } : {}),
    },
  };
  const path = join(dir, 'poolwatch.yaml');
  writeFileSync(path, YAML.stringify(doc));
  return path;
}

export interface Received {
  at: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: any;
}

/**
 * A webhook endpoint on 127.0.0.1:0. `answer(n)` decides the reply to the n-th request (1-based):
 * a status code, or 'hang' (never answer). Requests are recorded once their body has arrived.
 */
export async function webhookServer(answer: (n: number, r: Received) => number | 'hang' = () => 200) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      let parsed: unknown = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        // kept as text
      }
      const r: Received = { at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: parsed };
      received.push(r);
      waiters = waiters.filter((w) => (received.length >= w.count ? (w.resolve(), false) : true));
      const a = answer(received.length, r);
      if (a === 'hang') {
        hanging.push(res);
        return;
      }
      res.statusCode = a;
      res.end(a >= 200 && a < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Resolves once `count` requests have arrived. */
    waitFor(count: number): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close(): Promise<void> {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A UDP socket on 127.0.0.1:0 that keeps every datagram. */
export async function udpCollector() {
  const datagrams: Buffer[] = [];
  let waiters: { count: number; resolve: () => void }[] = [];
  const sock: Socket = createSocket('udp4');
  sock.on('message', (m) => {
    datagrams.push(m);
    waiters = waiters.filter((w) => (datagrams.length >= w.count ? (w.resolve(), false) : true));
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return {
    port: sock.address().port,
    datagrams,
    waitFor(count: number): Promise<void> {
      if (datagrams.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/** A case event with plausible fields; `over` changes some. */
export function caseEvent(over: Partial<CaseEvent> = {}): CaseEvent {
  return {
    kind: 'new',
    src: '10.0.0.2',
    org: 'Example School',
    sector: 'school',
    contact: 'head@school.example',
    pools: ['203.0.113.5:3333'],
    coins: ['btc'],
    firstSeen: '2024-05-01T12:00:00.000Z',
    lastSeen: '2024-05-01T12:00:01.000Z',
    recurrences: 0,
    ...over,
  };
}

/** A logger that keeps its lines (parsed) instead of writing them. */
export function memoryLog(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) }) as unknown as Logger;
  return { log, lines };
}
