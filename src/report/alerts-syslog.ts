/**
 * Syslog alerts: RFC 5424 messages, one per UDP datagram (RFC 5426), to `host:port`.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [poolwatch@32473 k="v" ...] MSG
 *
 * PRI = facility × 8 + severity: warning (4) for a new case and for a summary, error (3) for a
 * recurrence (the customer was told, and mines again). MSGID: CASE_NEW, CASE_RECURRENCE or
 * ALERT_SUMMARY. The structured data carries the fields (kind, src, org, sector, contact,
 * recurrences, pools, coins, firstSeen, lastSeen; or suppressed, new, recurrence, sources for a
 * summary); its SD-ID uses 32473, the example enterprise number of RFC 5612, as poolwatch has no
 * number of its own. MSG is the same one-line text as the webhook's `text`, with a UTF-8 BOM when
 * it is not plain ASCII (RFC 5424 6.4). A datagram is kept within 2048 bytes (RFC 5426 3.2):
 * lists are shortened first, then MSG is cut.
 *
 * UDP has no answer to wait for: a datagram is handed to the kernel and counted as sent; a send
 * error is counted and logged once until a send succeeds again. No retries. Writing to /dev/log
 * is not supported (Node has no Unix datagram sockets): point `host` at the local syslog daemon's
 * UDP input (rsyslog imudp, syslog-ng udp()) instead.
 */
import { createSocket, type Socket } from 'node:dgram';
import { hostname } from 'node:os';
import { isIPv6 } from 'node:net';
import type { SyslogConfig } from '../config.js';
import type { Logger } from '../log.js';
import { alertText, shortList, type Alert, type AlertChannel, type ChannelStats } from './alerts.js';

export const SD_ID = 'poolwatch@32473';
/** Largest datagram sent (RFC 5426: receivers SHOULD take 2048 bytes). */
export const MAX_SYSLOG_BYTES = 2048;

const SEVERITY_ERROR = 3;
const SEVERITY_WARNING = 4;
const BOM = '\ufeff';

export interface SyslogHeader {
  facility: number;
  appName: string;
  hostname: string;
  pid: number;
}

/** One RFC 5424 message for an alert, as the bytes of one datagram. */
export function formatSyslog(a: Alert, h: SyslogHeader): Buffer {
  const severity = a.type === 'case' && a.event.kind === 'recurrence' ? SEVERITY_ERROR : SEVERITY_WARNING;
  const msgid = a.type === 'summary' ? 'ALERT_SUMMARY' : a.event.kind === 'new' ? 'CASE_NEW' : 'CASE_RECURRENCE';
  const head = `<${h.facility * 8 + severity}>1 ${a.at} ${headerField(h.hostname, 255)} ${headerField(h.appName, 48)} ${h.pid} ${msgid} `;
  const text = alertText(a);
  // Lists and long values are shortened until the datagram fits; then MSG is cut. At the last
  // step every value is at most 32 characters, so the header and structured data alone always fit.
  const steps: [number, number][] = [[10, 256], [3, 64], [1, 32]];
  for (const [maxList, maxValue] of steps) {
    const buf = withMsg(head + structuredData(a, maxList, maxValue), text);
    if (buf.length <= MAX_SYSLOG_BYTES) return buf;
  }
  return cutTo(head + structuredData(a, 1, 32), text);
}

function withMsg(prefix: string, msg: string): Buffer {
  const text = clean(msg);
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(text);
  return Buffer.from(`${prefix} ${ascii ? '' : BOM}${text}`, 'utf8');
}

/** The datagram with MSG cut so the whole fits in MAX_SYSLOG_BYTES, on a character boundary. */
function cutTo(prefix: string, msg: string): Buffer {
  const chars = [...clean(msg)];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (withMsg(prefix, chars.slice(0, mid).join('') + '…').length <= MAX_SYSLOG_BYTES) lo = mid;
    else hi = mid - 1;
  }
  return withMsg(prefix, chars.slice(0, lo).join('') + '…');
}

/** SD-ELEMENT with the alert's fields; parameters without a value are left out. */
function structuredData(a: Alert, maxList: number, maxValue: number): string {
  const params: [string, string | number | null][] =
    a.type === 'summary'
      ? [
          ['kind', 'summary'],
          ['suppressed', a.suppressed],
          ['new', a.new],
          ['recurrence', a.recurrence],
          ['sources', shortList(a.sources, maxList)],
          ['from', a.from],
          ['to', a.to],
        ]
      : [
          ['kind', a.event.kind],
          ['src', a.event.src],
          ['org', a.event.org],
          ['sector', a.event.sector],
          ['contact', a.event.contact],
          ['recurrences', a.event.recurrences],
          ['pools', a.event.pools.length === 0 ? null : shortList(a.event.pools, maxList)],
          ['coins', a.event.coins.length === 0 ? null : shortList(a.event.coins, maxList)],
          ['firstSeen', a.event.firstSeen],
          ['lastSeen', a.event.lastSeen],
        ];
  const body = params
    .filter((p): p is [string, string | number] => p[1] !== null)
    .map(([k, v]) => ` ${k}="${escapeParam(cutChars(clean(String(v)), maxValue))}"`)
    .join('');
  return `[${SD_ID} id="${a.id}"${body}]`;
}

function cutChars(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** PARAM-VALUE: '"', '\' and ']' are escaped with a backslash (RFC 5424 6.3.3). */
export function escapeParam(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** Header fields are PRINTUSASCII (33-126) or "-" (NILVALUE) when empty. */
function headerField(v: string, max: number): string {
  const s = v.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return s === '' ? '-' : s;
}

/** No control characters in a one-line message (a line break would split it at line-based receivers). */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

export class SyslogChannel implements AlertChannel {
  readonly name = 'syslog';
  readonly stats: ChannelStats = { sent: 0, failed: 0, dropped: 0, retries: 0 };
  private readonly socket: Socket;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private failing = false;
  private closed = false;
  private readonly header: SyslogHeader;

  constructor(
    private readonly cfg: SyslogConfig,
    private readonly log: Logger | null,
  ) {
    this.socket = createSocket(isIPv6(cfg.host) ? 'udp6' : 'udp4');
    // The socket must not keep a finished run alive.
    this.socket.unref();
    this.socket.on('error', (e) => this.failed(e));
    this.header = { facility: cfg.facility, appName: cfg.appName, hostname: hostname(), pid: process.pid };
  }

  deliver(alert: Alert): void {
    if (this.closed) return;
    const buf = formatSyslog(alert, this.header);
    this.inFlight++;
    try {
      this.socket.send(buf, this.cfg.port, this.cfg.host, (e) => {
        if (this.closed) return; // counted as dropped by close()
        if (e) this.failed(e);
        else {
          this.stats.sent++;
          this.failing = false;
        }
        this.settle();
      });
    } catch (e) {
      this.failed(e as Error);
      this.settle();
    }
  }

  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.dropped += this.inFlight;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private failed(e: Error): void {
    this.stats.failed++;
    if (!this.failing) this.log?.warn({ host: this.cfg.host, port: this.cfg.port, err: e.message }, `syslog alert not sent: ${e.message}`);
    this.failing = true;
  }

  private settle(): void {
    if (--this.inFlight > 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
