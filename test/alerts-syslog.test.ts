import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertDispatcher, type Alert } from '../src/report/alerts.js';
import { escapeParam, formatSyslog, MAX_SYSLOG_BYTES, SD_ID, SyslogChannel, type SyslogHeader } from '../src/report/alerts-syslog.js';
import { caseEvent, memoryLog, udpCollector } from './helpers/follow-up.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

interface Parsed {
  pri: number;
  facility: number;
  severity: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: { id: string; params: [string, string][] }[];
  msg: string | null;
  bom: boolean;
}

/**
 * An RFC 5424 parser written from the ABNF (section 6), strict: it throws on anything the grammar
 * does not allow, so the tests check the format and not only some fields.
 */
function parse5424(buf: Buffer): Parsed {
  const s = buf.toString('utf8');
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not RFC 5424 at ${i}: ${why}: ${JSON.stringify(s)}`);
  };
  const token = (what: string, max: number): string => {
    const start = i;
    while (i < s.length && s[i] !== ' ') {
      const c = s.charCodeAt(i);
      if (c < 33 || c > 126) fail(`${what}: not PRINTUSASCII`);
      i++;
    }
    const t = s.slice(start, i);
    if (t.length === 0 || t.length > max) fail(`${what}: length ${t.length}`);
    return t;
  };
  const sp = () => (s[i] === ' ' ? i++ : fail('SP expected'));
  const m = /^<(\d{1,3})>([1-9]\d{0,2})/.exec(s) ?? fail('PRI VERSION');
  const pri = Number(m[1]);
  if (pri > 191 || (m[1]!.length > 1 && m[1]!.startsWith('0'))) fail('PRIVAL');
  i = m[0].length;
  sp();
  const timestamp = token('TIMESTAMP', 64);
  if (timestamp !== '-' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(timestamp)) fail('TIMESTAMP');
  sp();
  const host = token('HOSTNAME', 255);
  sp();
  const app = token('APP-NAME', 48);
  sp();
  const proc = token('PROCID', 128);
  sp();
  const msgId = token('MSGID', 32);
  sp();
  const sd: Parsed['sd'] = [];
  if (s[i] === '-') i++;
  else {
    while (s[i] === '[') {
      i++;
      const idStart = i;
      while (i < s.length && !' =]"'.includes(s[i]!)) i++;
      const id = s.slice(idStart, i);
      if (id.length === 0 || id.length > 32) fail('SD-ID');
      const params: [string, string][] = [];
      while (s[i] === ' ') {
        i++;
        const nStart = i;
        while (i < s.length && !' =]"'.includes(s[i]!)) i++;
        const name = s.slice(nStart, i);
        if (name.length === 0 || name.length > 32) fail('PARAM-NAME');
        if (s[i++] !== '=' || s[i++] !== '"') fail('="');
        let value = '';
        for (;;) {
          if (i >= s.length) fail('unterminated PARAM-VALUE');
          const c = s[i]!;
          if (c === '\\' && '"\\]'.includes(s[i + 1] ?? '')) {
            value += s[i + 1];
            i += 2;
          } else if (c === '"') {
            i++;
            break;
          } else if (c === ']') fail('unescaped ] in PARAM-VALUE');
          else {
            value += c;
            i++;
          }
        }
        params.push([name, value]);
      }
      if (s[i++] !== ']') fail('] expected');
      sd.push({ id, params });
    }
    if (sd.length === 0) fail('STRUCTURED-DATA');
  }
  let msg: string | null = null;
  let bom = false;
  if (i < s.length) {
    sp();
    msg = s.slice(i);
    if (msg.startsWith('\ufeff')) {
      bom = true;
      msg = msg.slice(1);
    }
  }
  return { pri, facility: pri >> 3, severity: pri & 7, version: Number(m[2]), timestamp, hostname: host, appName: app, procId: proc, msgId, sd, msg, bom };
}

const header: SyslogHeader = { facility: 16, appName: 'poolwatch', hostname: 'collector-1', pid: 4242 };
const caseAlert = (over: Parameters<typeof caseEvent>[0] = {}): Alert => ({ type: 'case', id: '0f8fad5b-d9cb-469f-a165-70867728950e', at: '2026-03-01T08:00:00.123Z', event: caseEvent(over) });

describe('RFC 5424 messages', () => {
  it('a new case, field by field', () => {
    const p = parse5424(formatSyslog(caseAlert(), header));
    expect(p.pri).toBe(132); // local0 (16) × 8 + warning (4)
    expect([p.facility, p.severity, p.version]).toEqual([16, 4, 1]);
    expect(p.timestamp).toBe('2026-03-01T08:00:00.123Z');
    expect(p.hostname).toBe('collector-1');
    expect(p.appName).toBe('poolwatch');
    expect(p.procId).toBe('4242');
    expect(p.msgId).toBe('CASE_NEW');
    expect(p.sd).toEqual([
      {
        id: SD_ID,
        params: [
          ['id', '0f8fad5b-d9cb-469f-a165-70867728950e'],
          ['kind', 'new'],
          ['src', '10.0.0.2'],
          ['org', 'Example School'],
          ['sector', 'school'],
          ['contact', 'head@school.example'],
          ['recurrences', '0'],
          ['pools', '203.0.113.5:3333'],
          ['coins', 'btc'],
          ['firstSeen', '2024-05-01T12:00:00.000Z'],
          ['lastSeen', '2024-05-01T12:00:01.000Z'],
        ],
      },
    ]);
    expect(SD_ID).toBe('poolwatch@32473');
    expect(p.bom).toBe(false); // plain ASCII: MSG-ANY
    expect(p.msg).toBe('new mining case 10.0.0.2 (Example School, school, contact head@school.example): pools 203.0.113.5:3333; coins btc; seen 2024-05-01T12:00:00.000Z to 2024-05-01T12:00:01.000Z');
  });

  it('a recurrence is an error (3), MSGID CASE_RECURRENCE; unknown organisation leaves its parameters out', () => {
    const p = parse5424(formatSyslog(caseAlert({ kind: 'recurrence', recurrences: 2, org: null, sector: null, contact: null, coins: [] }), { ...header, facility: 3 }));
    expect([p.pri, p.facility, p.severity]).toEqual([27, 3, 3]);
    expect(p.msgId).toBe('CASE_RECURRENCE');
    expect(p.sd[0]!.params.map(([k]) => k)).toEqual(['id', 'kind', 'src', 'recurrences', 'pools', 'firstSeen', 'lastSeen']);
    expect(Object.fromEntries(p.sd[0]!.params)).toMatchObject({ kind: 'recurrence', recurrences: '2' });
    expect(p.msg).toMatch(/^mining again from 10\.0\.0\.2 after its case was cleared, recurrence 2 \(organisation unknown\)/);
  });

  it('a summary: ALERT_SUMMARY, counts and sources', () => {
    const p = parse5424(
      formatSyslog({ type: 'summary', id: 'x1', at: '2026-03-01T08:01:00.000Z', suppressed: 12, new: 10, recurrence: 2, sources: ['10.0.0.1', '10.0.0.2'], more: 10, from: '2026-03-01T08:00:00.000Z', to: '2026-03-01T08:00:59.000Z' }, header),
    );
    expect([p.severity, p.msgId]).toEqual([4, 'ALERT_SUMMARY']);
    expect(p.sd[0]!.params).toEqual([
      ['id', 'x1'], ['kind', 'summary'], ['suppressed', '12'], ['new', '10'], ['recurrence', '2'], ['sources', '10.0.0.1, 10.0.0.2'],
      ['from', '2026-03-01T08:00:00.000Z'], ['to', '2026-03-01T08:00:59.000Z'],
    ]);
    expect(p.msg).toBe('12 case alerts held back by the rate limit (10 new, 2 recurrences) from 2026-03-01T08:00:00.000Z to 2026-03-01T08:00:59.000Z: 10.0.0.1, 10.0.0.2 and 10 more');
  });

  it('escapes " \\ ] in parameter values, drops control characters, BOM before non-ASCII text, "-" for an empty header field', () => {
    expect(escapeParam('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    const org = 'Café "Net] \\ Corner';
    const buf = formatSyslog(caseAlert({ org, contact: 'line1\nline2\ttab' }), { ...header, hostname: 'my host\u00e9', appName: '' });
    const raw = buf.toString('utf8');
    expect(raw).toContain('org="Café \\"Net\\] \\\\ Corner"');
    const p = parse5424(buf);
    expect(Object.fromEntries(p.sd[0]!.params)).toMatchObject({ org, contact: 'line1 line2 tab' });
    expect(p.hostname).toBe('myhost');
    expect(p.appName).toBe('-');
    expect(p.bom).toBe(true);
    expect(buf.indexOf(Buffer.from([0xef, 0xbb, 0xbf]))).toBeGreaterThan(0);
    expect(p.msg).toMatch(/^new mining case 10\.0\.0\.2 \(Café "Net\] \\ Corner, school, contact line1 line2 tab\)/);
    expect(p.msg).not.toMatch(/[\n\t]/);
  });

  it('stays within 2048 bytes: long lists are shortened, then the message is cut on a character boundary', () => {
    const pools = Array.from({ length: 300 }, (_, i) => `[2001:db8:${i.toString(16)}::1]:3333`);
    const p1 = formatSyslog(caseAlert({ pools }), header);
    expect(p1.length).toBeLessThanOrEqual(MAX_SYSLOG_BYTES);
    const parsed = parse5424(p1);
    expect(Object.fromEntries(parsed.sd[0]!.params).pools).toBe(`${pools.slice(0, 10).join(', ')} +290 more`);
    expect(parsed.msg).toMatch(/\+295 more; coins btc;/);
    const huge = formatSyslog(caseAlert({ org: 'É'.repeat(200), contact: 'ü'.repeat(200), coins: Array.from({ length: 200 }, (_, i) => `coin${i}`) }), header);
    expect(huge.length).toBeLessThanOrEqual(MAX_SYSLOG_BYTES);
    const ph = parse5424(huge); // still valid UTF-8 and RFC 5424
    expect(ph.msg!.endsWith('…')).toBe(true);
    expect(huge.toString('utf8')).not.toContain('\ufffd');
  });
});

describe('syslog over UDP', () => {
  it('every alert is one datagram to host:port, parsed field by field on arrival', async () => {
    const udp = await udpCollector();
    cleanups.push(() => udp.close());
    const ch = new SyslogChannel({ host: '127.0.0.1', port: udp.port, facility: 20, appName: 'pw-test' }, null);
    const d = new AlertDispatcher([ch], { maxPerMinute: 2 });
    d.send(caseEvent({ src: '10.0.0.1' }));
    d.send(caseEvent({ src: '10.0.0.2', kind: 'recurrence', recurrences: 1 }));
    d.send(caseEvent({ src: '10.0.0.3' })); // over the limit: held for the summary
    const totals = await d.close(1000);
    await udp.waitFor(3);
    const got = udp.datagrams.map(parse5424);
    expect(got.map((p) => [p.facility, p.severity, p.msgId, p.appName, p.procId])).toEqual([
      [20, 4, 'CASE_NEW', 'pw-test', String(process.pid)],
      [20, 3, 'CASE_RECURRENCE', 'pw-test', String(process.pid)],
      [20, 4, 'ALERT_SUMMARY', 'pw-test', String(process.pid)],
    ]);
    expect(got[0]!.hostname).toBe(hostname().replace(/[^\x21-\x7e]/g, '') || '-');
    expect(Math.abs(Date.parse(got[0]!.timestamp) - Date.now())).toBeLessThan(10_000);
    expect(Object.fromEntries(got[2]!.sd[0]!.params)).toMatchObject({ suppressed: '1', sources: '10.0.0.3' });
    expect(totals.channels.syslog).toEqual({ sent: 3, failed: 0, dropped: 0, retries: 0 });
  });

  it('a name that does not resolve is counted and logged once, and never throws', async () => {
    const { log, lines } = memoryLog();
    const ch = new SyslogChannel({ host: 'no-such-host.invalid', port: 514, facility: 16, appName: 'poolwatch' }, log);
    const d = new AlertDispatcher([ch], { maxPerMinute: 60, log });
    d.send(caseEvent());
    d.send(caseEvent({ src: '10.0.0.9' }));
    const totals = await d.close(5000);
    expect(totals.channels.syslog).toMatchObject({ sent: 0, failed: 2 });
    expect(lines.filter((l) => /^syslog alert not sent/.test(l.msg))).toHaveLength(1);
  });
});
