import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type WebhookConfig } from '../src/config.js';
import { NFDUMP_CSV_HEADER } from '../src/capture/nfdump-csv.js';
import { runFlowsCsv } from '../src/netflow-scan.js';
import { runScan } from '../src/scan.js';
import {
  AlertDispatcher, alertText, createAlerts, SUMMARY_SOURCES, TokenBucket, type Alert, type AlertChannel, type ChannelStats,
} from '../src/report/alerts.js';
import { WebhookChannel, webhookBody } from '../src/report/alerts-webhook.js';
import { listCases } from '../src/report/cases.js';
import { fixture } from './helpers/cli.js';
import { caseEvent, memoryLog, webhookServer, writeConfig } from './helpers/follow-up.js';

let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-alerts-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** A channel that keeps what it is given. */
class MemoryChannel implements AlertChannel {
  readonly name = 'memory';
  readonly stats: ChannelStats = { sent: 0, failed: 0, dropped: 0, retries: 0 };
  readonly alerts: Alert[] = [];
  deliver(a: Alert): void {
    this.alerts.push(a);
    this.stats.sent++;
  }
  idle(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {}
}

const webhookConfig = (url: string, over: Partial<WebhookConfig> = {}): WebhookConfig => ({
  url, timeoutMs: 2000, maxAttempts: 3, backoffMs: 20, maxQueue: 100, headers: {}, ...over,
});

async function server(answer?: Parameters<typeof webhookServer>[0]) {
  const s = await webhookServer(answer);
  cleanups.push(() => s.close());
  return s;
}

describe('rate limit', () => {
  it('TokenBucket: bursts up to the limit, then refills continuously', () => {
    let t = 0;
    const b = new TokenBucket(60, () => t);
    for (let i = 0; i < 60; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    expect(b.wait()).toBe(1000);
    t = 500;
    expect(b.take()).toBe(false);
    expect(b.wait()).toBe(500);
    t = 1000;
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    t = 1_000_000; // never more than the limit stored up
    for (let i = 0; i < 60; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });

  it('the excess is coalesced into one summary, never dropped; later events join what is held, in order', async () => {
    let t = Date.parse('2026-01-01T00:00:00Z');
    const ch = new MemoryChannel();
    const d = new AlertDispatcher([ch], { maxPerMinute: 3, now: () => t });
    for (let i = 1; i <= 3; i++) d.send(caseEvent({ src: `10.0.0.${i}` }));
    expect(ch.alerts.map((a) => (a.type === 'case' ? a.event.src : 'summary'))).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    d.send(caseEvent({ src: '10.0.0.4' }));
    t += 1000;
    d.send(caseEvent({ src: '10.0.0.5', kind: 'recurrence', recurrences: 1 }));
    t += 30_000; // a token is back, but events are held: the next one joins them
    d.send(caseEvent({ src: '10.0.0.6' }));
    expect(ch.alerts).toHaveLength(3);
    const totals = await d.close(0);
    expect(ch.alerts).toHaveLength(4);
    const s = ch.alerts[3]!;
    expect(s).toEqual({
      type: 'summary', id: expect.stringMatching(/^[0-9a-f-]{36}$/), at: '2026-01-01T00:00:31.000Z', suppressed: 3, new: 2, recurrence: 1,
      sources: ['10.0.0.4', '10.0.0.5', '10.0.0.6'], more: 0, from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:00:31.000Z',
    });
    expect(alertText(s)).toBe('3 case alerts held back by the rate limit (2 new, 1 recurrence) from 2026-01-01T00:00:00.000Z to 2026-01-01T00:00:31.000Z: 10.0.0.4, 10.0.0.5, 10.0.0.6');
    expect(totals).toEqual({ events: 6, alerts: 4, summaries: 1, coalesced: 3, channels: { memory: { sent: 4, failed: 0, dropped: 0, retries: 0 } } });
    d.send(caseEvent()); // after close: ignored
    expect(ch.alerts).toHaveLength(4);
  });

  it('the summary goes out by itself as soon as a token is back, and names at most 50 sources', async () => {
    const ch = new MemoryChannel();
    // The clock stands still while the events are sent (a slow machine must not refill the bucket
    // half-way), then runs: the summary must come from the timer alone.
    let frozen: number | null = Date.now();
    const d = new AlertDispatcher([ch], { maxPerMinute: 1200, now: () => frozen ?? Date.now() }); // a token every 50 ms
    for (let i = 0; i < 1200 + SUMMARY_SOURCES + 10; i++) d.send(caseEvent({ src: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` }));
    frozen = null;
    expect(ch.alerts).toHaveLength(1200);
    const started = Date.now();
    while (ch.alerts.length === 1200 && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 10));
    expect(ch.alerts).toHaveLength(1201);
    const s = ch.alerts[1200]!;
    expect(s.type).toBe('summary');
    if (s.type !== 'summary') return;
    expect(s.suppressed).toBe(SUMMARY_SOURCES + 10);
    expect(s.sources).toHaveLength(SUMMARY_SOURCES);
    expect(s.sources[0]).toBe('10.0.4.176'); // the 1201st event
    expect(s.more).toBe(10);
    expect(alertText(s)).toMatch(/and 10 more$/);
    await d.close(0);
  });
});

describe('webhook', () => {
  it('POSTs one JSON document per alert: the payload shape, headers, and the text line', async () => {
    const srv = await server();
    const { log } = memoryLog();
    const ch = new WebhookChannel(webhookConfig(srv.url, { headers: { Authorization: 'Bearer s3cret', 'X-Team': 'noc' } }), log);
    const d = new AlertDispatcher([ch], { maxPerMinute: 60 });
    d.send(caseEvent());
    d.send(caseEvent({ kind: 'recurrence', src: '2001:db8::5', org: null, sector: null, contact: null, pools: ['[2001:db8:ffff::1]:3333'], coins: [], recurrences: 2 }));
    await srv.waitFor(2);
    await d.close(1000);
    const [a, b] = srv.received;
    expect(a!.method).toBe('POST');
    expect(a!.url).toBe('/hook');
    expect(a!.headers['content-type']).toBe('application/json');
    expect(a!.headers['user-agent']).toMatch(/^poolwatch\//);
    expect(a!.headers.authorization).toBe('Bearer s3cret');
    expect(a!.headers['x-team']).toBe('noc');
    expect(Number(a!.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(a!.body)));
    expect(a!.body).toEqual({
      source: 'poolwatch',
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      host: expect.any(String),
      type: 'new',
      text: 'new mining case 10.0.0.2 (Example School, school, contact head@school.example): pools 203.0.113.5:3333; coins btc; seen 2024-05-01T12:00:00.000Z to 2024-05-01T12:00:01.000Z',
      case: {
        src: '10.0.0.2', org: 'Example School', sector: 'school', contact: 'head@school.example', pools: ['203.0.113.5:3333'], coins: ['btc'],
        firstSeen: '2024-05-01T12:00:00.000Z', lastSeen: '2024-05-01T12:00:01.000Z', recurrences: 0,
      },
    });
    expect(b!.body).toMatchObject({
      type: 'recurrence',
      text: 'mining again from 2001:db8::5 after its case was cleared, recurrence 2 (organisation unknown): pools [2001:db8:ffff::1]:3333; coins -; seen 2024-05-01T12:00:00.000Z to 2024-05-01T12:00:01.000Z',
      case: { src: '2001:db8::5', org: null, sector: null, contact: null, recurrences: 2 },
    });
    expect(a!.body.id).not.toBe(b!.body.id);
    expect(ch.stats).toEqual({ sent: 2, failed: 0, dropped: 0, retries: 0 });
    // A summary has a summary object instead of a case.
    const summary = webhookBody({ type: 'summary', id: 'x', at: 't', suppressed: 2, new: 2, recurrence: 0, sources: ['10.0.0.1', '10.0.0.2'], more: 0, from: 'f', to: 't' }, 'h');
    expect(summary).toEqual({
      source: 'poolwatch', id: 'x', at: 't', host: 'h', type: 'summary', text: expect.stringMatching(/^2 case alerts held back/),
      summary: { suppressed: 2, new: 2, recurrence: 0, sources: ['10.0.0.1', '10.0.0.2'], more: 0, from: 'f', to: 't' },
    });
  });

  it('retries after 500s with exponential backoff, the same alert id each time, until 2xx', async () => {
    const srv = await server((n) => (n <= 2 ? 500 : 200));
    const ch = new WebhookChannel(webhookConfig(srv.url, { maxAttempts: 5, backoffMs: 60 }), null);
    const d = new AlertDispatcher([ch], { maxPerMinute: 60 });
    d.send(caseEvent());
    await srv.waitFor(3);
    await d.close(1000);
    expect(srv.received).toHaveLength(3);
    expect(new Set(srv.received.map((r) => r.body.id)).size).toBe(1);
    const gaps = [srv.received[1]!.at - srv.received[0]!.at, srv.received[2]!.at - srv.received[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(55); // 60 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(115); // 120 ms
    expect(ch.stats).toEqual({ sent: 1, failed: 0, dropped: 0, retries: 2 });
  });

  it('gives up after maxAttempts (logged); a 4xx is not retried; the next alert still goes', async () => {
    const srv = await server((_n, r) => (r.body.case.src === '10.0.0.1' ? 503 : r.body.case.src === '10.0.0.2' ? 401 : 204));
    const { log, lines } = memoryLog();
    const ch = new WebhookChannel(webhookConfig(srv.url, { maxAttempts: 3, backoffMs: 10 }), log);
    const d = new AlertDispatcher([ch], { maxPerMinute: 60 });
    d.send(caseEvent({ src: '10.0.0.1' }));
    d.send(caseEvent({ src: '10.0.0.2' }));
    d.send(caseEvent({ src: '10.0.0.3' }));
    await srv.waitFor(5);
    await d.close(1000);
    expect(srv.received.map((r) => r.body.case.src)).toEqual(['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(ch.stats).toEqual({ sent: 1, failed: 2, dropped: 0, retries: 2 });
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'webhook alert not delivered after 3 attempts: HTTP 503',
      'webhook alert not delivered after 1 attempt: HTTP 401',
    ]);
  });

  it('rate limiting: maxPerMinute alerts go out, the rest arrive as one summary', async () => {
    const srv = await server();
    const ch = new WebhookChannel(webhookConfig(srv.url), null);
    const d = new AlertDispatcher([ch], { maxPerMinute: 2 });
    for (let i = 1; i <= 7; i++) d.send(caseEvent({ src: `10.0.0.${i}` }));
    await d.close(2000);
    expect(srv.received.map((r) => r.body.type)).toEqual(['new', 'new', 'summary']);
    expect(srv.received[2]!.body.summary).toMatchObject({ suppressed: 5, new: 5, recurrence: 0, sources: ['10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7'], more: 0 });
  });

  it('a hanging endpoint blocks nobody: send returns at once, the queue stays bounded, close keeps its deadline', async () => {
    const srv = await server(() => 'hang');
    const { log, lines } = memoryLog();
    const ch = new WebhookChannel(webhookConfig(srv.url, { timeoutMs: 60_000, maxQueue: 10 }), log);
    const d = new AlertDispatcher([ch], { maxPerMinute: 100_000, log });
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) d.send(caseEvent({ src: `10.0.${i >> 8}.${i & 255}` }));
    expect(performance.now() - t0).toBeLessThan(200);
    await srv.waitFor(1);
    const t1 = performance.now();
    const totals = await d.close(150);
    const took = performance.now() - t1;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1000);
    // one in flight, 10 queued, 989 dropped by the bound; at close the 11 are dropped too
    expect(totals.channels.webhook).toEqual({ sent: 0, failed: 0, dropped: 1000, retries: 0 });
    expect(lines.map((l) => l.msg)).toEqual([
      'webhook queue full (10): dropping the oldest alerts',
      '11 webhook alerts not delivered before the end of the run',
    ]);
  });

  it('a request that hangs times out and is retried (timeoutSeconds)', async () => {
    const srv = await server((n) => (n === 1 ? 'hang' : 200));
    const ch = new WebhookChannel(webhookConfig(srv.url, { timeoutMs: 100, backoffMs: 10 }), null);
    const d = new AlertDispatcher([ch], { maxPerMinute: 60 });
    d.send(caseEvent());
    await srv.waitFor(2);
    await d.close(1000);
    expect(ch.stats).toEqual({ sent: 1, failed: 0, dropped: 0, retries: 1 });
  });

  it('a dead endpoint (connection refused) is retried, then given up', async () => {
    const srv = await webhookServer();
    await srv.close(); // the port is free now: connections are refused
    const { log, lines } = memoryLog();
    const ch = new WebhookChannel(webhookConfig(srv.url, { maxAttempts: 2, backoffMs: 10 }), log);
    const d = new AlertDispatcher([ch], { maxPerMinute: 60 });
    d.send(caseEvent());
    await d.close(2000);
    expect(ch.stats).toEqual({ sent: 0, failed: 1, dropped: 0, retries: 1 });
    expect(lines[0]?.msg).toMatch(/^webhook alert not delivered after 2 attempts: .*ECONNREFUSED/);
  });
});

describe('configuration', () => {
  const load = (yaml: string) => {
    const path = join(dir, 'pw.yaml');
    writeFileSync(path, yaml);
    return loadConfig(path);
  };

  it('defaults: no channels, 60 a minute, 5 s drain', () => {
    expect(load('poolPorts: [3333]\n').alerts).toEqual({ webhook: null, syslog: null, maxPerMinute: 60, drainMs: 5000 });
    expect(createAlerts(load('{}\n').alerts, null)).toBeNull();
  });

  it('reads webhook and syslog, with defaults for what is left out', () => {
    const a = load(`alerts:
  maxPerMinute: 10
  drainSeconds: 0
  webhook:
    url: https://hooks.example.net/pw
    headers: { Authorization: "Bearer x" }
  syslog:
    host: "::1"
    facility: daemon
`).alerts;
    expect(a).toEqual({
      webhook: { url: 'https://hooks.example.net/pw', timeoutMs: 10_000, maxAttempts: 5, backoffMs: 1000, maxQueue: 1000, headers: { Authorization: 'Bearer x' } },
      syslog: { host: '::1', port: 514, facility: 3, appName: 'poolwatch' },
      maxPerMinute: 10,
      drainMs: 0,
    });
    expect(load('alerts:\n  syslog: { host: logs.example.net, port: 5514, facility: 23, appName: pw-noc }\n').alerts.syslog).toEqual({ host: 'logs.example.net', port: 5514, facility: 23, appName: 'pw-noc' });
    const d = createAlerts(a, null)!;
    expect(d.channels.map((c) => c.name)).toEqual(['webhook', 'syslog']);
    return d.close(0);
  });

  it('refuses what cannot work, naming the key', () => {
    const cases: [string, RegExp][] = [
      ['alerts:\n  webhook: { url: ftp://x.example/ }\n', /alerts.webhook.url must be an http/],
      ['alerts:\n  webhook: { url: http://x.example/, maxAttempts: 0 }\n', /alerts.webhook.maxAttempts must be a whole number 1-20/],
      ['alerts:\n  webhook: { url: http://x.example/, timeoutSeconds: -1 }\n', /alerts.webhook.timeoutSeconds/],
      ['alerts:\n  webhook: { url: http://x.example/, headers: { "Bad Name": x } }\n', /alerts.webhook.headers.Bad Name must be a header name/],
      ['alerts:\n  webhook: { url: http://x.example/, headers: { X-A: "a\\r\\nb" } }\n', /must be text on one line/],
      ['alerts:\n  webhook: { url: http://x.example/, retries: 3 }\n', /alerts.webhook.retries must be one of/],
      ['alerts:\n  syslog: { port: 514 }\n', /alerts.syslog.host must be an address or host name/],
      ['alerts:\n  syslog: { host: 127.0.0.1, port: 70000 }\n', /alerts.syslog.port must be a whole number 1-65535/],
      ['alerts:\n  syslog: { host: 127.0.0.1, facility: local9 }\n', /alerts.syslog.facility must be a facility name/],
      ['alerts:\n  syslog: { host: 127.0.0.1, appName: "two words" }\n', /alerts.syslog.appName/],
      ['alerts:\n  maxPerMinute: 0\n', /alerts.maxPerMinute must be a whole number 1-100000/],
      ['alerts:\n  webhooks: {}\n', /alerts.webhooks must be one of/],
    ];
    for (const [yaml, re] of cases) expect(() => load(yaml), yaml).toThrow(re);
  });
});

describe('wired into the runs that record hits', () => {
  it('scan --db: cases opened with their organisation, one webhook each; a hanging endpoint does not hold the scan', async () => {
    writeFileSync(join(dir, 'orgs.yaml'), 'organisations:\n  - name: Lab\n    sector: school\n    ranges: [10.20.30.40/30]\n');
    const srv = await server();
    const config = loadConfig(writeConfig(dir, { orgFiles: [join(dir, 'orgs.yaml')], webhook: { url: srv.url } }));
    const { log } = memoryLog();
    const db = join(dir, 'hits.db');
    const r = await runScan({ inputs: [fixture('sample.pcap')], dbPath: db, blacklistFiles: [], config, command: 'test', log });
    expect(listCases(r.db).map((c) => [c.src, c.state, c.org])).toEqual([
      ['10.20.30.40', 'new', 'Lab'],
      ['10.20.30.50', 'new', null],
      ['10.20.30.60', 'new', null],
    ]);
    r.db.close();
    expect(srv.received.map((x) => [x.body.type, x.body.case.src, x.body.case.org, x.body.case.coins]).sort()).toEqual([
      ['new', '10.20.30.40', 'Lab', ['btc']],
      ['new', '10.20.30.50', null, ['xmr']],
      ['new', '10.20.30.60', null, ['eth']],
    ]);

    // The same capture again: the cases exist, nothing is announced.
    const again = await runScan({ inputs: [fixture('sample.pcap')], dbPath: db, blacklistFiles: [], config, command: 'test', log });
    again.db.close();
    expect(srv.received).toHaveLength(3);

    // A hanging endpoint: the scan takes no longer than the drain it is given.
    const hang = await server(() => 'hang');
    const slow = loadConfig(writeConfig(dir, { webhook: { url: hang.url, timeoutSeconds: 60 }, drainSeconds: 0.2 }));
    const t0 = performance.now();
    const s = await runScan({ inputs: [fixture('sample.pcap')], dbPath: join(dir, 'other.db'), blacklistFiles: [], config: slow, command: 'test', log });
    const took = performance.now() - t0;
    expect(listCases(s.db)).toHaveLength(3);
    s.db.close();
    expect(took).toBeLessThan(2000);
    expect(s.seconds).toBeLessThan(1);
    // The endpoint was called (and left hanging), not skipped.
    await Promise.race([hang.waitFor(1), new Promise((r) => setTimeout(r, 2000))]);
    expect(hang.received.length).toBeGreaterThanOrEqual(1);
  });

  it('flows (nfdump CSV) --db: the flow-record runs open cases and alert too', async () => {
    const srv = await server();
    const config = loadConfig(writeConfig(dir, { webhook: { url: srv.url } }));
    const cols = NFDUMP_CSV_HEADER.split(',');
    const v: Record<string, string> = {
      ts: '2024-03-01 08:00:00', te: '2024-03-01 08:00:10', td: '10.000', sa: '100.64.1.2', da: '5.196.13.29', sp: '40000', dp: '3333', pr: 'TCP',
      flg: '...AP.SF', ipkt: '10', ibyt: '1000', opkt: '0', obyt: '0', ra: '127.0.0.1', eng: '0/0',
    };
    writeFileSync(join(dir, 'flows.csv'), `${NFDUMP_CSV_HEADER}\n${cols.map((c) => v[c] ?? '0').join(',')}\n`);
    const { log } = memoryLog();
    const r = await runFlowsCsv({ inputs: [join(dir, 'flows.csv')], dbPath: join(dir, 'hits.db'), blacklistFiles: [], config, command: 'test', log, onRecord: null });
    expect(listCases(r.db).map((c) => c.src)).toEqual(['100.64.1.2']);
    r.db.close();
    expect(srv.received.map((x) => [x.body.type, x.body.case.src, x.body.case.pools])).toEqual([['new', '100.64.1.2', ['5.196.13.29:3333']]]);
  });
});
