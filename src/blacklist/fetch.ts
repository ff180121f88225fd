/**
 * Fetch one blacklist source: a local file or an http(s) URL, bounded in size and time.
 *
 * Lists come from strangers' servers, so nothing here trusts the answer: the body is counted as
 * it streams and the transfer cancelled the moment it passes the limit (a chunked body that never
 * ends costs `maxBytes` and no more), one deadline covers headers, redirects and body, and
 * redirects are followed by hand so that none can lead to a scheme other than http(s).
 * Conditional requests (If-None-Match / If-Modified-Since) make an unchanged list cost a 304.
 * Whatever the server says that ends up in a reason (status text, a redirect target, an error
 * message) is cut short and has its control characters escaped: reasons are printed to terminals
 * and stored in the version history.
 */
import { open } from 'node:fs/promises';
import type { SourceConfig } from '../config.js';
import { formatDuration } from './units.js';

export type FetchOutcome =
  | {
      status: 'ok';
      text: string;
      bytes: number;
      /** Validators to send next time (null when the server gave none, and for files). */
      etag: string | null;
      lastModified: string | null;
      /** Where the body came from in the end (after redirects). */
      finalLocation: string;
    }
  | { status: 'unchanged' }
  | { status: 'failed'; reason: string };

export interface FetchOptions {
  /** Validators stored from the last successful fetch of this same location. */
  etag?: string | null;
  lastModified?: string | null;
  /** Stands in for the global fetch (tests). */
  fetchImpl?: typeof fetch;
}

/** Redirects followed before giving up: enough for http → https → CDN, too few for a loop. */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'poolwatch/0.1 (blacklist refresh)';

/** Read or download a source. Never throws: every problem is a 'failed' outcome with a reason. */
export async function fetchSource(src: SourceConfig, opts: FetchOptions = {}): Promise<FetchOutcome> {
  try {
    return src.kind === 'file' ? await readFileSource(src) : await fetchUrl(src, opts);
  } catch (e) {
    return { status: 'failed', reason: describeError(e, src) };
  }
}

/** A local file, read up to maxBytes + 1 so a file that grows while read is still caught. */
async function readFileSource(src: SourceConfig): Promise<FetchOutcome> {
  const fh = await open(src.location, 'r');
  try {
    const st = await fh.stat();
    // A FIFO or a device would block or never end: lists are regular files.
    if (!st.isFile()) return failed('not a regular file');
    if (st.size > src.maxBytes) return failed(`file is ${st.size} bytes, more than the ${src.maxBytes} allowed (maxBytes)`);
    const buf = Buffer.alloc(Math.min(st.size, src.maxBytes) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    if (got > src.maxBytes) return failed(`file is more than the ${src.maxBytes} bytes allowed (maxBytes)`);
    return { status: 'ok', text: decode([buf.subarray(0, got)]), bytes: got, etag: null, lastModified: null, finalLocation: src.location };
  } finally {
    await fh.close();
  }
}

async function fetchUrl(src: SourceConfig, opts: FetchOptions): Promise<FetchOutcome> {
  const doFetch = opts.fetchImpl ?? fetch;
  // One deadline for everything: each redirect hop and the body share it.
  const signal = AbortSignal.timeout(src.timeoutMs);
  let url = new URL(src.location);
  const conditional = opts.etag != null || opts.lastModified != null;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return failed(hop === 0 ? `not an http(s) URL: ${url.protocol}` : `redirected to a non-http(s) URL (${url.protocol})`);
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'text/plain, text/csv, application/json;q=0.9, */*;q=0.5' };
    if (opts.etag != null) headers['if-none-match'] = opts.etag;
    if (opts.lastModified != null) headers['if-modified-since'] = opts.lastModified;
    const res = await doFetch(url, { headers, redirect: 'manual', signal });
    if (REDIRECT_STATUSES.has(res.status)) {
      await res.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) return failed(`more than ${MAX_REDIRECTS} redirects (last to ${serverText(url.href)})`);
      const location = res.headers.get('location');
      if (location === null) return failed(`HTTP ${res.status} redirect without a Location header`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return failed(`HTTP ${res.status} redirect to an invalid URL: ${serverText(location)}`);
      }
      url = next;
      continue;
    }
    if (res.status === 304) {
      await res.body?.cancel().catch(() => undefined);
      // A 304 to an unconditional request leaves us with nothing: a broken server, not "unchanged".
      return conditional ? { status: 'unchanged' } : failed('HTTP 304 to a request that was not conditional');
    }
    if (res.status < 200 || res.status > 299) {
      await res.body?.cancel().catch(() => undefined);
      return failed(`HTTP ${res.status}${res.statusText ? ` ${serverText(res.statusText)}` : ''}`);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > src.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      return failed(`answer is ${declared} bytes (Content-Length), more than the ${src.maxBytes} allowed (maxBytes)`);
    }
    const body = await readBounded(res, src.maxBytes);
    if (body === null) return failed(`answer is more than the ${src.maxBytes} bytes allowed (maxBytes); transfer cancelled`);
    return {
      status: 'ok',
      text: decode(body.chunks),
      bytes: body.bytes,
      etag: res.headers.get('etag'),
      lastModified: res.headers.get('last-modified'),
      finalLocation: url.href,
    };
  }
}

/**
 * The body, or null as soon as it passes `max` bytes (the stream is cancelled then). Chunks are
 * copied into one growing buffer: a server that sends millions of 1-byte chunks costs `max`
 * bytes, not millions of small buffers each holding on to the socket read it came from.
 */
async function readBounded(res: Response, max: number): Promise<{ chunks: Uint8Array[]; bytes: number } | null> {
  let buf = Buffer.allocUnsafe(0);
  let bytes = 0;
  if (res.body === null) return { chunks: [], bytes };
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks: [buf.subarray(0, bytes)], bytes };
    if (bytes + value.byteLength > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    if (bytes + value.byteLength > buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(max, Math.max(64 * 1024, 2 * buf.length, bytes + value.byteLength)));
      buf.copy(grown, 0, 0, bytes);
      buf = grown;
    }
    buf.set(value, bytes);
    bytes += value.byteLength;
  }
}

/**
 * Text of a list: UTF-8 with a BOM dropped and bad bytes replaced (the parser then reports those
 * lines as bad); UTF-16 when a UTF-16 BOM says so (lists saved by Windows editors).
 */
function decode(chunks: Uint8Array[]): string {
  const b = Buffer.concat(chunks);
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) {
    const le = Buffer.from(b.subarray(2, 2 + ((b.length - 2) & ~1)));
    return le.swap16().toString('utf16le');
  }
  const text = b.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Text from the server in a reason: at most `max` characters, control characters escaped. */
function serverText(s: string, max = 120): string {
  const cut = s.length > max ? `${s.slice(0, max)}...` : s;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function failed(reason: string): FetchOutcome {
  return { status: 'failed', reason };
}

/** A one-line reason for a thrown error: timeouts, refused or reset connections, DNS, files. */
function describeError(e: unknown, src: SourceConfig): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  // AbortSignal.timeout rejects fetch and a pending body read alike with a TimeoutError.
  if (err?.name === 'TimeoutError') {
    return `timed out after ${formatDuration(src.timeoutMs)} (timeoutSeconds)`;
  }
  if (typeof err?.code === 'string' && src.kind === 'file') return `cannot read file: ${err.code}`;
  const cause = err?.cause;
  if (cause !== undefined) {
    // undici wraps socket errors: "fetch failed" with the real reason in cause.
    if (cause.code === 'UND_ERR_SOCKET' || cause.code === 'ECONNRESET') return 'connection reset or closed by the server';
    if (cause.code === 'UND_ERR_HEADERS_OVERFLOW') return 'the answer\'s headers are larger than allowed (UND_ERR_HEADERS_OVERFLOW)';
    return serverText(`${err.message ?? 'fetch failed'}: ${cause.code ?? cause.message ?? String(cause)}`);
  }
  return serverText(err?.message ?? String(e));
}
