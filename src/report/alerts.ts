/**
 * Alerts for the follow-up: a new case, or a cleared one seen mining again (src/report/cases.ts),
 * announced on an HTTP webhook (alerts-webhook.ts) and/or syslog (alerts-syslog.ts).
 *
 * The capture path must never wait for an alert. `send` only appends to in-memory queues and
 * returns; delivery runs on the event loop between packets (HTTP requests, UDP sends, retry
 * timers), each channel with its own bounded queue, so a dead or hanging webhook endpoint costs
 * memory up to its queue bound, never time.
 *
 * Rate limit: a token bucket of `maxPerMinute` tokens, refilled continuously (maxPerMinute / 60
 * a second), full at the start, so a burst of up to maxPerMinute alerts goes out at once and then
 * about one every 60 / maxPerMinute seconds. An event that finds the bucket empty is not dropped:
 * it is held, with every later one, and they go out together as one `summary` alert (how many,
 * how many new and how many recurrences, and the first 50 addresses) as soon as a token is there
 * again — and at the latest when the run ends. One alert (case or summary) goes to every channel
 * and costs one token.
 */
import { randomUUID } from 'node:crypto';
import type { AlertsConfig } from '../config.js';
import type { Logger } from '../log.js';
import { WebhookChannel } from './alerts-webhook.js';
import { SyslogChannel } from './alerts-syslog.js';
import type { CaseEvent } from './cases.js';

export interface CaseAlert {
  type: 'case';
  /** Unique per alert (a UUID), the same on every retry: receivers can drop duplicates. */
  id: string;
  /** When the alert was made (ISO 8601 UTC, ms). */
  at: string;
  event: CaseEvent;
}

/** The events the rate limit held back, in one alert. */
export interface SummaryAlert {
  type: 'summary';
  id: string;
  at: string;
  /** Events held back. */
  suppressed: number;
  /** Of those, new cases and recurrences. */
  new: number;
  recurrence: number;
  /** Their source addresses, in arrival order, at most SUMMARY_SOURCES. */
  sources: string[];
  /** Addresses left out of `sources`. */
  more: number;
  /** When the first and the last held-back event came (ISO 8601 UTC, ms). */
  from: string;
  to: string;
}

export type Alert = CaseAlert | SummaryAlert;

/** Addresses a summary names; the rest are counted in `more`. */
export const SUMMARY_SOURCES = 50;

export interface ChannelStats {
  /** Alerts delivered (webhook: answered 2xx; syslog: handed to the kernel). */
  sent: number;
  /** Alerts given up on (attempts exhausted, refused, send error). */
  failed: number;
  /** Alerts thrown away unsent: the queue overflowed, or still queued when the run ended. */
  dropped: number;
  /** Extra attempts made (webhook). */
  retries: number;
}

/** Where alerts go. Implementations never throw from deliver and never block. */
export interface AlertChannel {
  readonly name: string;
  readonly stats: ChannelStats;
  /** Queue one alert and return at once. */
  deliver(alert: Alert): void;
  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void>;
  /** Stop: abort what is in flight, drop what is queued (counted in stats.dropped). */
  close(): void;
}

export interface AlertTotals {
  /** Case events handed to `send`. */
  events: number;
  /** Alerts made (case alerts and summaries); each went to every channel. */
  alerts: number;
  /** Summary alerts among them, and the events they stood for. */
  summaries: number;
  coalesced: number;
  channels: Record<string, ChannelStats>;
}

/** Token bucket: `perMinute` tokens at most, refilled continuously. `now` in ms. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perMinute;
    this.last = now();
    this.perMs = perMinute / 60_000;
  }

  private refill(): void {
    const t = this.now();
    if (t > this.last) this.tokens = Math.min(this.perMinute, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
  }

  /** Take a token when there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there (0: now). */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }
}

export interface DispatcherOptions {
  maxPerMinute: number;
  log?: Logger | null;
  /** Clock for the bucket and the alert times (ms); tests pass their own. */
  now?: () => number;
}

/** Rate limits and fans out case events to the channels. */
export class AlertDispatcher {
  private readonly bucket: TokenBucket;
  private readonly now: () => number;
  private readonly log: Logger | null;
  private held: { events: CaseEvent[]; count: number; new: number; recurrence: number; from: number; to: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly totals = { events: 0, alerts: 0, summaries: 0, coalesced: 0 };

  constructor(
    readonly channels: readonly AlertChannel[],
    opts: DispatcherOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.bucket = new TokenBucket(opts.maxPerMinute, this.now);
    this.log = opts.log ?? null;
  }

  /** Announce one case event. Returns at once; never throws. */
  send(event: CaseEvent): void {
    if (this.closed) return;
    this.totals.events++;
    // While events are held, newer ones join them: order is kept, and one summary says it all.
    if (this.held === null && this.bucket.take()) {
      this.emit({ type: 'case', id: randomUUID(), at: this.iso(), event });
      return;
    }
    const t = this.now();
    const h = (this.held ??= { events: [], count: 0, new: 0, recurrence: 0, from: t, to: t });
    if (h.events.length < SUMMARY_SOURCES) h.events.push(event);
    h.count++;
    if (event.kind === 'new') h.new++;
    else h.recurrence++;
    h.to = t;
    this.schedule();
  }

  /**
   * End: send what the rate limit still holds as one summary (whatever the bucket says), wait
   * at most `drainMs` for the channels to deliver, then abort what is left (logged and counted).
   */
  async close(drainMs: number): Promise<AlertTotals> {
    if (!this.closed) {
      this.closed = true;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.flushHeld();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => (timer = setTimeout(r, drainMs)));
      await Promise.race([Promise.all(this.channels.map((c) => c.idle())), deadline]);
      clearTimeout(timer);
      for (const c of this.channels) {
        const before = c.stats.dropped;
        c.close();
        const lost = c.stats.dropped - before;
        if (lost > 0) this.log?.warn({ channel: c.name, dropped: lost }, `${lost} ${c.name} alerts not delivered before the end of the run`);
      }
    }
    return this.stats();
  }

  stats(): AlertTotals {
    const channels: Record<string, ChannelStats> = {};
    for (const c of this.channels) channels[c.name] = { ...c.stats };
    return { ...this.totals, channels };
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private emit(alert: Alert): void {
    this.totals.alerts++;
    for (const c of this.channels) {
      try {
        c.deliver(alert);
      } catch (e) {
        // A channel must not throw; if one does, the others still get the alert.
        this.log?.error({ channel: c.name, err: (e as Error).message }, `alert channel ${c.name} failed: ${(e as Error).message}`);
      }
    }
  }

  /** A timer for when the next token is there, to send the summary of what is held. */
  private schedule(): void {
    if (this.timer !== null || this.closed) return;
    const wait = Math.max(1, this.bucket.wait());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.held === null) return;
      if (this.bucket.take()) this.flushHeld();
      else this.schedule();
    }, wait);
    // A long-running collector keeps the loop alive itself; a one-shot run must not wait for this.
    this.timer.unref();
  }

  private flushHeld(): void {
    const h = this.held;
    if (h === null) return;
    this.held = null;
    const sources = h.events.map((e) => e.src);
    this.totals.summaries++;
    this.totals.coalesced += h.count;
    this.emit({
      type: 'summary',
      id: randomUUID(),
      at: this.iso(),
      suppressed: h.count,
      new: h.new,
      recurrence: h.recurrence,
      sources,
      more: h.count - sources.length,
      from: new Date(h.from).toISOString(),
      to: new Date(h.to).toISOString(),
    });
  }
}

/** The dispatcher for the configured channels, or null when no channel is configured. */
export function createAlerts(cfg: AlertsConfig, log: Logger | null): AlertDispatcher | null {
  const channels: AlertChannel[] = [];
  if (cfg.webhook !== null) channels.push(new WebhookChannel(cfg.webhook, log));
  if (cfg.syslog !== null) channels.push(new SyslogChannel(cfg.syslog, log));
  if (channels.length === 0) return null;
  return new AlertDispatcher(channels, { maxPerMinute: cfg.maxPerMinute, log });
}

// ------------------------------------------------------------------------------ text

/** One line for people (chat tools, syslog MSG): what happened, to whom, where it mines. */
export function alertText(a: Alert): string {
  if (a.type === 'summary') {
    const what = `${a.new} new, ${a.recurrence} ${a.recurrence === 1 ? 'recurrence' : 'recurrences'}`;
    const list = a.sources.join(', ') + (a.more > 0 ? ` and ${a.more} more` : '');
    return `${a.suppressed} case ${a.suppressed === 1 ? 'alert' : 'alerts'} held back by the rate limit (${what}) from ${a.from} to ${a.to}: ${list}`;
  }
  const e = a.event;
  const who = e.org === null ? 'organisation unknown' : [e.org, e.sector, e.contact === null ? null : `contact ${e.contact}`].filter((x) => x !== null).join(', ');
  const head =
    e.kind === 'new'
      ? `new mining case ${e.src} (${who})`
      : `mining again from ${e.src} after its case was cleared, recurrence ${e.recurrences} (${who})`;
  const pools = e.pools.length === 0 ? '-' : shortList(e.pools, 5);
  const coins = e.coins.length === 0 ? '-' : e.coins.join(',');
  return `${head}: pools ${pools}; coins ${coins}; seen ${e.firstSeen} to ${e.lastSeen}`;
}

/** "a, b, c +2 more". */
export function shortList(xs: readonly string[], max: number): string {
  return xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} +${xs.length - max} more`;
}
