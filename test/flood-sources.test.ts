/**
 * Abusive blacklist sources (issue #7), through the real `poolwatch blacklist refresh` against a
 * real HTTP server on loopback: decompression bombs, a 100 MB single line, millions of 1-byte
 * chunks, bytes trickled to beat a per-read timeout (headers and body), redirect loops and
 * redirects to other schemes, oversized headers, an escape sequence in the status text, NUL
 * bytes, invalid UTF-8, 1M-deep JSON, a CSV with a million columns. Every source first serves a
 * good list (version 1), then misbehaves: each must be refused with its reason in the output,
 * and the stored entries must be exactly those of version 1. Lists that are only unusual (BOMs,
 * CRLF/CR mixes, UTF-16) are read as the same entries.
 */
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentVersion, versionEntries } from '../src/blacklist/store.js';
import { openDatabase } from '../src/report/db.js';
import { cliAsync, logLines } from './helpers/cli.js';

const GOOD_IPS = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`);
const GOOD = GOOD_IPS.join('\n') + '\n';
const GOOD_CSV = 'ip,coin\n' + GOOD_IPS.map((ip) => `${ip},xmr`).join('\n') + '\n';
const GOOD_JSON = JSON.stringify(GOOD_IPS);
const MB = 1 << 20;

type Handler = (res: ServerResponse, path: string) => void;

/** What each source serves in its second, hostile life; the first serves GOOD in its format. */
const served = { hostile: false };
const written = { oneLine: 0, tinyChunks: 0, trickle: 0, slowHeaders: 0 };
const hits = new Map<string, number>();

/** Writes `chunk` until the client stops reading or `total` bytes went out (chunked, no length). */
function endless(res: ServerResponse, chunk: Buffer, total: number, count: (n: number) => void): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  let sent = 0;
  const pump = () => {
    while (!res.destroyed && sent < total) {
      sent += chunk.length;
      count(chunk.length);
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (sent >= total) res.end();
  };
  pump();
}

let gzipBomb: Buffer;
let brotliBomb: Buffer;

const HOSTILE: Record<string, { format: string; extra?: string; handler: Handler; reason: RegExp | string; status?: string }> = {
  'gzip-bomb': {
    format: 'plain',
    extra: 'maxBytes: 1MiB',
    // 64 MiB of list in about 300 KB, declared with its compressed Content-Length (under maxBytes)
    handler: (res) => res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gzipBomb.length) }).end(gzipBomb),
    reason: 'answer is more than the 1048576 bytes allowed (maxBytes); transfer cancelled',
  },
  'brotli-bomb': {
    format: 'plain',
    extra: 'maxBytes: 1MiB',
    handler: (res) => res.writeHead(200, { 'content-encoding': 'br' }).end(brotliBomb),
    reason: 'answer is more than the 1048576 bytes allowed (maxBytes); transfer cancelled',
  },
  'one-line-100mb': {
    format: 'plain',
    extra: 'maxBytes: 4MiB',
    handler: (res) => endless(res, Buffer.alloc(MB, 'a'), 100 * MB, (n) => (written.oneLine += n)),
    reason: 'answer is more than the 4194304 bytes allowed (maxBytes); transfer cancelled',
  },
  'one-line-3mb': {
    format: 'plain',
    extra: 'maxBytes: 4MiB',
    handler: (res) => res.writeHead(200).end('a'.repeat(3 * MB)),
    reason: /^no usable entry, 1 bad line\(s\) or item\(s\), first: one-line-3mb, line 1: not an IPv4 address: "a+\.\.\."$/,
  },
  'tiny-chunks': {
    format: 'plain',
    extra: 'maxBytes: 256KiB',
    handler: (res) => endless(res, Buffer.from('1'), 64 * MB, (n) => (written.tinyChunks += n)),
    reason: 'answer is more than the 262144 bytes allowed (maxBytes); transfer cancelled',
  },
  trickle: {
    format: 'plain',
    extra: 'timeoutSeconds: 1',
    handler: (res) => {
      res.writeHead(200);
      const t = setInterval(() => {
        written.trickle++;
        res.write('2');
      }, 100);
      res.on('close', () => clearInterval(t));
    },
    reason: 'timed out after 1s (timeoutSeconds)',
  },
  'slow-headers': { format: 'plain', extra: 'timeoutSeconds: 1', handler: () => {}, reason: 'timed out after 1s (timeoutSeconds)' },
  'redirect-loop': {
    format: 'plain',
    handler: (res) => res.writeHead(302, { location: '/redirect-loop' }).end(),
    reason: /^more than 5 redirects \(last to http:\/\/127\.0\.0\.1:\d+\/redirect-loop\)$/,
  },
  'redirect-ftp': { format: 'plain', handler: (res) => res.writeHead(301, { location: 'ftp://127.0.0.1/list.txt' }).end(), reason: 'redirected to a non-http(s) URL (ftp:)' },
  'redirect-file': { format: 'plain', handler: (res) => res.writeHead(307, { location: 'file:///etc/passwd' }).end(), reason: 'redirected to a non-http(s) URL (file:)' },
  'redirect-data': { format: 'plain', handler: (res) => res.writeHead(308, { location: 'data:text/plain,203.0.113.99' }).end(), reason: 'redirected to a non-http(s) URL (data:)' },
  'redirect-invalid': { format: 'plain', handler: (res) => res.writeHead(302, { location: 'http://[zz' }).end(), reason: 'HTTP 302 redirect to an invalid URL: http://[zz' },
  'huge-headers': {
    format: 'plain',
    handler: (res) => res.writeHead(200, { 'x-filler': 'a'.repeat(MB) }).end(GOOD),
    reason: "the answer's headers are larger than allowed (UND_ERR_HEADERS_OVERFLOW)",
  },
  'status-escape': { format: 'plain', handler: () => {}, reason: /^HTTP 500 \\x1b\]0;pwned\\x07 x{109}\.\.\.$/ },
  nul: {
    format: 'plain',
    handler: (res) => res.writeHead(200).end('\u0000'.repeat(MB) + '\n0.0.0.0 a\u0000b.example\n\u0000203.0.113.1\u0000\n'),
    reason: /^no usable entry, 3 bad line\(s\) or item\(s\), first: nul, line 1: /,
  },
  'invalid-utf8': {
    format: 'plain',
    handler: (res) => res.writeHead(200).end(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i % 64 === 63 ? 10 : 0x80 + ((i * 37) % 128))))),
    reason: /^no usable entry, 64 bad line\(s\) or item\(s\), first: invalid-utf8, line 1: /,
  },
  'deep-json': {
    format: 'json',
    handler: (res) => res.writeHead(200).end('['.repeat(1_000_000) + ']'.repeat(1_000_000)),
    reason: /^no usable entry, 1 bad line\(s\) or item\(s\), first: deep-json, line 1: item 1 is an array/,
  },
  'wide-csv': {
    format: 'csv',
    // a million columns; the two rows that do hold an address would shrink the list from 10 to 2
    handler: (res) => res.writeHead(200).end('ip' + ',c'.repeat(1_000_000) + '\n' + ['203.0.113.1', '203.0.113.2'].map((ip) => ip + ',x'.repeat(1_000_000)).join('\n') + '\n'),
    reason: 'would shrink from 10 to 2 entries (-80 %, more than maxShrink 50 %); kept the previous entries, use --force to apply',
    status: 'refused',
  },
};

/** Lists that are only unusual: read as the same ten entries. */
const ODD: Record<string, { format: string; body: () => Buffer }> = {
  'bom-crlf': {
    format: 'plain',
    // a BOM, CRLF, a bare CR, blank CRLF lines, and a second BOM where two files were concatenated
    body: () => Buffer.from('\ufeff' + GOOD_IPS.slice(0, 4).join('\r\n') + '\r\n\r\n' + GOOD_IPS[4] + '\r' + GOOD_IPS[5] + '\n\ufeff' + GOOD_IPS.slice(6).join('\r\n') + '\r\n'),
  },
  'csv-bom-crlf': { format: 'csv', body: () => Buffer.from('\ufeff' + GOOD_CSV.replace(/\n/g, '\r\n')) },
  'utf16-bom': { format: 'plain', body: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD.replace(/\n/g, '\r\n'), 'utf16le')]) },
};

const goodBody = (format: string) => (format === 'csv' ? GOOD_CSV : format === 'json' ? GOOD_JSON : GOOD);

let dir: string;
let http: ReturnType<typeof createHttpServer>;
let slow: ReturnType<typeof createTcpServer>;
let origin: string;
let slowOrigin: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  gzipBomb = gzipSync(Buffer.alloc(64 * MB, '203.0.113.77\n'), { level: 9 });
  brotliBomb = brotliCompressSync(Buffer.alloc(64 * MB, '203.0.113.77\n'), { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } });
  dir = mkdtempSync(join(tmpdir(), 'pw-hostile-'));
  http = createHttpServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const h = HOSTILE[name];
    const o = ODD[name];
    if (!served.hostile) return void res.writeHead(200).end(goodBody(h?.format ?? o?.format ?? 'plain'));
    if (o !== undefined) return void res.writeHead(200).end(o.body());
    if (h === undefined) return void res.writeHead(404).end();
    h.handler(res, name);
  });
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Raw TCP for what node:http will not send: a status line byte by byte, an escape in the status text.
  slow = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.once('data', (req) => {
      const path = /^GET \/(\S*)/.exec(req.toString('latin1'))?.[1] ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (!served.hostile) return void s.end(`HTTP/1.1 200 OK\r\ncontent-length: ${GOOD.length}\r\n\r\n${GOOD}`);
      if (path === 'status-escape') return void s.end(`HTTP/1.1 500 \x1b]0;pwned\x07 ${'x'.repeat(3000)}\r\ncontent-length: 0\r\n\r\n`);
      const line = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n';
      let i = 0;
      const t = setInterval(() => {
        if (s.destroyed) return clearInterval(t);
        written.slowHeaders++;
        s.write(line[i++ % line.length]!);
      }, 100);
      s.on('close', () => clearInterval(t));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  slowOrigin = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => http.close(r));
  await new Promise((r) => slow.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('blacklist refresh against abusive sources', () => {
  it('refuses each with its reason, keeps every stored entry, and reads merely odd lists as the same list', async () => {
    const db = join(dir, 'hits.db');
    const cfg = join(dir, 'poolwatch.yaml');
    const names = [...Object.keys(HOSTILE), ...Object.keys(ODD)];
    const yaml = names
      .map((n) => {
        const h = HOSTILE[n];
        const base = n === 'slow-headers' || n === 'status-escape' ? slowOrigin : origin;
        const extra = h?.extra ? `\n      ${h.extra}` : '';
        return `    - name: ${n}\n      url: ${base}/${n}\n      format: ${h?.format ?? ODD[n]!.format}${extra}`;
      })
      .join('\n');
    writeFileSync(cfg, `blacklist:\n  resolve:\n    enabled: false\n  sources:\n${yaml}\n`);
    const refresh = (...args: string[]) => cliAsync(['blacklist', 'refresh', '--db', db, '-c', cfg, ...args]).done;

    const first = await refresh('-f', 'json');
    expect(first.code, first.stderr.slice(-2000)).toBe(0);
    const v1 = JSON.parse(first.stdout);
    expect(v1.sources.map((s: any) => [s.name, s.status, s.entries])).toEqual(names.map((n) => [n, 'ok', 10]));

    served.hostile = true;
    hits.clear();
    const r = await refresh('-f', 'json');
    expect(r.code, r.stderr.slice(-2000)).toBe(1); // some sources failed, the rest applied
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stderr).not.toContain('\x1b');
    const rep = JSON.parse(r.stdout);
    const by = Object.fromEntries(rep.sources.map((s: any) => [s.name, s]));
    const errors = logLines(r.stderr).filter((l) => l.level === 50);
    for (const [name, h] of Object.entries(HOSTILE)) {
      const s = by[name];
      expect(s, name).toBeDefined();
      expect([name, s.status], s.reason).toEqual([name, h.status ?? 'failed']);
      if (typeof h.reason === 'string') expect(s.reason, name).toBe(h.reason);
      else expect(s.reason, name).toMatch(h.reason);
      expect(s.reason.length, name).toBeLessThan(1000);
      expect(s.entries, name).toBe(10);
      // and the reason is in the log, with its stable code
      const line = errors.find((l) => l.source === name);
      expect(line, name).toMatchObject({ code: h.status === 'refused' ? 'PW_ERR_SHRINK' : 'PW_ERR_FETCH' });
      expect(line!.msg).toContain(s.reason);
    }
    for (const name of Object.keys(ODD)) expect(by[name], name).toMatchObject({ status: 'ok', entries: 10, added: 0, removed: 0, unchanged: 10, parseErrors: 0 });
    expect(rep).toMatchObject({ version: 2, added: 0, removed: 0, incomplete: true });

    // The stored list: every source holds exactly what version 1 gave it.
    const h = openDatabase(db);
    try {
      const v = currentVersion(h)!;
      expect(v).toBe(2);
      for (const name of names) {
        const now = versionEntries(h, v, { source: name }).map((e) => e.text).sort();
        const before = versionEntries(h, 1, { source: name }).map((e) => e.text).sort();
        expect(now, name).toEqual(before);
        expect(now, name).toEqual([...GOOD_IPS].sort());
      }
    } finally {
      h.close();
    }

    // Bounds held on the wire too: the client stopped reading long before the server ran dry,
    // followed exactly 5 redirects (6 requests), and hung up on the trickles at the deadline.
    expect(written.oneLine).toBeLessThan(40 * MB);
    expect(written.tinyChunks).toBeLessThan(4 * MB);
    expect(hits.get('redirect-loop')).toBe(6);
    expect(hits.get('redirect-ftp')).toBe(1);
    expect(written.trickle).toBeLessThan(40);
    expect(written.slowHeaders).toBeLessThan(40);
  });
});
