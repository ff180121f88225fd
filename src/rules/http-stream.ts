/**
 * HTTP/1.x framing for one direction of a TCP stream: a pure head parser answering
 * ok | incomplete | error, and a bounded stream that hands over each message (head + body when
 * it is small enough to look into). Its only mining knowledge is which headers to flag; the rule
 * itself is in http.ts.
 */

/** Longest head, and longest body we look into; bigger bodies are skipped unread. */
export const HTTP_MAX_HEAD = 8 * 1024;
export const HTTP_MAX_BODY = 16 * 1024;

export interface HttpHead {
  isRequest: boolean;
  method: string | null;
  status: number;
  host: string | null;
  userAgent: string | null;
  authorization: string | null;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** A header that only mining software sends. */
  miningHeader: boolean;
  xStratum: string | null;
}

export type HttpAnswer =
  | { status: 'ok'; head: HttpHead; consumed: number }
  | { status: 'incomplete'; consumed: 0; needed: number }
  | { status: 'error' };

const HEAD_END = Buffer.from('\r\n\r\n');
const METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT '];
const TOKENS = [...METHODS, 'HTTP/'].map((t) => Buffer.from(t));
const MINING_HEADERS = new Set(['x-mining-extensions', 'x-stratum', 'x-long-polling', 'x-roll-ntime', 'x-mining-hashrate']);

/** Does buf[start, end) start an HTTP message? 'yes' | 'no' | 'more' (a prefix of a token). */
export function httpPrefix(buf: Buffer, start: number, end: number): 'yes' | 'no' | 'more' {
  const n = end - start;
  let more = false;
  for (const t of TOKENS) {
    const k = Math.min(n, t.length);
    if (buf.compare(t, 0, k, start, start + k) === 0) {
      if (n >= t.length) return 'yes';
      more = true;
    }
  }
  return more ? 'more' : 'no';
}

/** Host header value without port or IPv6 brackets. */
function hostOnly(v: string): string {
  const s = v.trim().toLowerCase();
  if (s.startsWith('[')) {
    const e = s.indexOf(']');
    return e > 0 ? s.slice(1, e) : s;
  }
  const c = s.indexOf(':');
  return c >= 0 && s.indexOf(':', c + 1) === -1 ? s.slice(0, c) : s;
}

/** Parse a request or status line and headers ending in CRLF CRLF. */
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d\.\d$/;
const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})/;

export function parseHttpHead(buf: Buffer, start: number, end: number): HttpAnswer {
  const view = buf.subarray(start, end);
  // Reject on the first line already: text protocols that borrow a method word (NATS "CONNECT {")
  // would otherwise be buffered until the head limit.
  const eol = view.indexOf(0x0a);
  if (eol !== -1) {
    const first = buf.toString('latin1', start, start + (eol > 0 && view[eol - 1] === 0x0d ? eol - 1 : eol));
    if (!REQUEST_LINE.test(first) && !STATUS_LINE.test(first)) return { status: 'error' };
  }
  const at = view.indexOf(HEAD_END);
  // Too long only once a CRLF CRLF starting within the limit would have shown (its 4 bytes end
  // at most 4 past it): a segment ending inside the head's final CRLF CRLF is still incomplete.
  if (at === -1) return end - start >= HTTP_MAX_HEAD + HEAD_END.length ? { status: 'error' } : { status: 'incomplete', consumed: 0, needed: 1 };
  if (at > HTTP_MAX_HEAD) return { status: 'error' };
  const lines = buf.toString('latin1', start, start + at).split('\r\n');
  const first = lines[0]!;
  const head: HttpHead = {
    isRequest: !first.startsWith('HTTP/'),
    method: null,
    status: 0,
    host: null,
    userAgent: null,
    authorization: null,
    contentLength: -1,
    chunked: false,
    miningHeader: false,
    xStratum: null,
  };
  if (head.isRequest) {
    if (!REQUEST_LINE.test(first)) return { status: 'error' };
    head.method = first.slice(0, first.indexOf(' '));
  } else {
    const m = STATUS_LINE.exec(first);
    if (m === null) return { status: 'error' };
    head.status = Number(m[1]);
  }
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const c = l.indexOf(':');
    if (c <= 0) continue;
    const name = l.slice(0, c).trim().toLowerCase();
    const value = l.slice(c + 1).trim();
    if (MINING_HEADERS.has(name)) head.miningHeader = true;
    switch (name) {
      case 'host':
        head.host = hostOnly(value) || null;
        break;
      case 'user-agent':
        head.userAgent = value.slice(0, 256) || null;
        break;
      case 'authorization':
        head.authorization = value;
        break;
      case 'content-length':
        if (!/^\d{1,10}$/.test(value)) return { status: 'error' };
        head.contentLength = Number(value);
        break;
      case 'transfer-encoding':
        head.chunked = /chunked/i.test(value);
        break;
      case 'x-stratum':
        head.xStratum = value;
        break;
    }
  }
  return { status: 'ok', head, consumed: at + 4 };
}

const P_HEAD = 0;
const P_BODY = 1;
const P_SKIP = 2;
/** Framing lost (chunked or close-delimited body, oversized head): nothing more to read. */
const P_DEAD = 3;

/** One direction of an HTTP conversation. */
export interface HttpStream {
  buf: Buffer | null;
  len: number;
  phase: number;
  remaining: number;
  head: HttpHead | null;
  /** After a TCP gap: wait for a segment that starts a new message. */
  resync: boolean;
}

export function newHttpStream(): HttpStream {
  return { buf: null, len: 0, phase: P_HEAD, remaining: 0, head: null, resync: false };
}

export function resetHttpStream(hs: HttpStream): void {
  hs.len = 0;
  hs.phase = P_HEAD;
  hs.head = null;
  hs.resync = true;
}

/** True once framing is lost for good. */
export function httpDead(hs: HttpStream): boolean {
  return hs.phase === P_DEAD;
}

/** Called once per message; body is null when it was absent, too big or unframed. */
export type HttpHandler<C> = (ctx: C, head: HttpHead, body: Buffer | null, start: number, end: number) => void;

/** Bytes of a head kept while waiting for its end. */
const HEAD_CAP = HTTP_MAX_HEAD + 4;

/** Append seg[from, to) to the stream buffer (callers keep hs.len + (to - from) <= HTTP_MAX_BODY). */
function keep(hs: HttpStream, seg: Buffer, from: number, to: number): void {
  const need = hs.len + (to - from);
  if (hs.buf === null || hs.buf.length < need) {
    const nb = Buffer.allocUnsafe(Math.max(need, Math.min(need * 2, HTTP_MAX_BODY), 1024));
    if (hs.buf !== null && hs.len > 0) hs.buf.copy(nb, 0, 0, hs.len);
    hs.buf = nb;
  }
  seg.copy(hs.buf, hs.len, from, to);
  hs.len = need;
}

function startBody<C>(hs: HttpStream, head: HttpHead, handler: HttpHandler<C>, ctx: C): void {
  // 1xx (100 Continue before the real answer), 204 and 304 never have a body.
  const bodiless = !head.isRequest && (head.status < 200 || head.status === 204 || head.status === 304);
  const n = bodiless ? 0 : head.contentLength;
  if (!bodiless && (head.chunked || (n < 0 && !head.isRequest))) {
    handler(ctx, head, null, 0, 0);
    hs.phase = P_DEAD;
  } else if (n <= 0) {
    handler(ctx, head, null, 0, 0);
    hs.phase = P_HEAD;
  } else if (n > HTTP_MAX_BODY) {
    handler(ctx, head, null, 0, 0);
    hs.phase = P_SKIP;
    hs.remaining = n;
  } else {
    hs.head = head;
    hs.phase = P_BODY;
    hs.remaining = n;
  }
}

/** Feed the next in-order bytes of one direction. */
export function feedHttp<C>(hs: HttpStream, seg: Buffer, handler: HttpHandler<C>, ctx: C): void {
  const n = seg.length;
  let p = 0;
  if (hs.resync) {
    if (httpPrefix(seg, 0, n) !== 'yes') return;
    hs.resync = false;
  }
  while (p < n && hs.phase !== P_DEAD) {
    if (hs.phase === P_HEAD) {
      let a: HttpAnswer;
      let prev = 0;
      if (hs.len === 0) {
        // Usual case: the whole head is in this segment and is parsed in place.
        a = parseHttpHead(seg, p, n);
        if (a.status === 'incomplete') keep(hs, seg, p, n);
      } else {
        prev = hs.len;
        keep(hs, seg, p, Math.min(n, p + HEAD_CAP - hs.len));
        a = parseHttpHead(hs.buf!, 0, hs.len);
        if (a.status === 'incomplete' && hs.len >= HEAD_CAP) a = { status: 'error' };
      }
      if (a.status === 'error') {
        hs.phase = P_DEAD;
        return;
      }
      if (a.status === 'incomplete') return;
      p += a.consumed - prev;
      hs.len = 0;
      startBody(hs, a.head, handler, ctx);
    } else if (hs.phase === P_BODY) {
      const take = Math.min(hs.remaining, n - p);
      if (hs.len === 0 && take === hs.remaining) {
        hs.phase = P_HEAD;
        handler(ctx, hs.head!, seg, p, p + take);
      } else {
        keep(hs, seg, p, p + take);
        hs.remaining -= take;
        if (hs.remaining === 0) {
          const len = hs.len;
          hs.len = 0;
          hs.phase = P_HEAD;
          handler(ctx, hs.head!, hs.buf!, 0, len);
        }
      }
      p += take;
    } else {
      const take = Math.min(hs.remaining, n - p);
      hs.remaining -= take;
      p += take;
      if (hs.remaining === 0) hs.phase = P_HEAD;
    }
  }
}
