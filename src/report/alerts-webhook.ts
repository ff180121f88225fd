/**
 * Webhook alerts: one JSON POST per alert (see `webhookBody` for the shape), one request at a
 * time in order, each attempt bounded by `timeoutMs` (connect to end of answer).
 *
 * Answers: 2xx delivered. 408, 425, 429 and 5xx, a network error or a timeout: tried again after
 * `backoffMs`, doubled at each retry up to 60 s (a Retry-After in seconds is honoured within the
 * same cap), until `maxAttempts` attempts; then the alert is dropped and logged. Any other answer
 * (3xx, 4xx: a wrong URL or token, which a retry will not mend) fails at once. Redirects are not
 * followed.
 *
 * The queue holds at most `maxQueue` alerts: when a dead endpoint lets it fill, the oldest are
 * dropped (counted, logged once per overflow). Nothing here blocks the caller: `deliver` only
 * pushes onto the queue, and the sockets and timers are the event loop's.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostname } from 'node:os';
import type { WebhookConfig } from '../config.js';
import type { Logger } from '../log.js';
import { alertText, type Alert, type AlertChannel, type ChannelStats } from './alerts.js';

/** Longest wait between two attempts. */
const MAX_BACKOFF_MS = 60_000;
const USER_AGENT = 'poolwatch/0.1.0';

/**
 * What the endpoint receives. `type`: "new" (a new case), "recurrence" (a cleared case seen
 * mining again) or "summary" (alerts the rate limit held back). `text`: one line for chat tools
 * (Slack and Mattermost incoming webhooks show it). `case` for new and recurrence, `summary` for
 * summaries.
 */
export function webhookBody(a: Alert, host: string = hostname()): Record<string, unknown> {
  const head = { source: 'poolwatch', id: a.id, at: a.at, host, type: a.type === 'case' ? a.event.kind : 'summary', text: alertText(a) };
  if (a.type === 'summary') {
    const { suppressed, new: n, recurrence, sources, more, from, to } = a;
    return { ...head, summary: { suppressed, new: n, recurrence, sources, more, from, to } };
  }
  const e = a.event;
  return {
    ...head,
    case: {
      src: e.src,
      org: e.org,
      sector: e.sector,
      contact: e.contact,
      pools: e.pools,
      coins: e.coins,
      firstSeen: e.firstSeen,
      lastSeen: e.lastSeen,
      recurrences: e.recurrences,
    },
  };
}

type Outcome = { ok: true } | { ok: false; retry: boolean; why: string; retryAfterMs: number | null };

export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook';
  readonly stats: ChannelStats = { sent: 0, failed: 0, dropped: 0, retries: 0 };
  private readonly queue: Alert[] = [];
  private readonly url: URL;
  private running = false;
  private closed = false;
  private overflowing = false;
  private current: ClientRequest | null = null;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  private waiters: (() => void)[] = [];
  private readonly host = hostname();

  constructor(
    private readonly cfg: WebhookConfig,
    private readonly log: Logger | null,
  ) {
    this.url = new URL(cfg.url);
  }

  deliver(alert: Alert): void {
    if (this.closed) return;
    if (this.queue.length >= this.cfg.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
      if (!this.overflowing) {
        this.overflowing = true;
        this.log?.warn({ url: this.url.origin, maxQueue: this.cfg.maxQueue }, `webhook queue full (${this.cfg.maxQueue}): dropping the oldest alerts`);
      }
    }
    this.queue.push(alert);
    if (!this.running) void this.pump();
  }

  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.dropped += this.queue.length + (this.running ? 1 : 0);
    this.queue.length = 0;
    this.current?.destroy(new Error('closed'));
    if (this.sleeping !== null) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const alert = this.queue.shift()!;
        await this.deliverOne(alert);
      }
    } finally {
      this.running = false;
      if (this.queue.length === 0) this.overflowing = false;
      const w = this.waiters;
      this.waiters = [];
      for (const r of w) r();
    }
  }

  private async deliverOne(alert: Alert): Promise<void> {
    const body = Buffer.from(JSON.stringify(webhookBody(alert, this.host)));
    for (let attempt = 1; ; attempt++) {
      const out = await this.post(body);
      if (this.closed) return; // counted as dropped by close()
      if (out.ok) {
        this.stats.sent++;
        return;
      }
      if (!out.retry || attempt >= this.cfg.maxAttempts) {
        this.stats.failed++;
        this.log?.warn(
          { url: this.url.origin, alert: alert.id, attempts: attempt, err: out.why },
          `webhook alert not delivered after ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'}: ${out.why}`,
        );
        return;
      }
      this.stats.retries++;
      const backoff = Math.min(MAX_BACKOFF_MS, this.cfg.backoffMs * 2 ** (attempt - 1));
      await this.sleep(Math.min(MAX_BACKOFF_MS, Math.max(backoff, out.retryAfterMs ?? 0)));
      if (this.closed) return;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      // Retries wait on a timer that does not hold the process: the end of a run decides how
      // long to wait (alerts.drainSeconds), not a backoff.
      timer.unref();
      this.sleeping = { timer, wake };
    });
  }

  /** One attempt. Never rejects. */
  private post(body: Buffer): Promise<Outcome> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (o: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.current = null;
        resolve(o);
      };
      const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(this.url, {
        method: 'POST',
        // A fresh connection per attempt: nothing pooled outlives the run.
        agent: false,
        headers: {
          'user-agent': USER_AGENT,
          ...this.cfg.headers,
          'content-type': 'application/json',
          'content-length': body.length,
          connection: 'close',
        },
      });
      this.current = req;
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.cfg.timeoutMs} ms`)), this.cfg.timeoutMs);
      req.on('error', (e) => done({ ok: false, retry: true, why: e.message, retryAfterMs: null }));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        // The body is not needed; read it away so the connection can end cleanly.
        res.resume();
        res.on('error', () => {});
        if (status >= 200 && status < 300) return done({ ok: true });
        const retry = status === 408 || status === 425 || status === 429 || status >= 500;
        const ra = Number(res.headers['retry-after']);
        done({ ok: false, retry, why: `HTTP ${status}`, retryAfterMs: Number.isFinite(ra) && ra >= 0 ? ra * 1000 : null });
      });
      req.end(body);
    });
  }
}
