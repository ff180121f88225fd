/**
 * Newline-delimited JSON-RPC framing over a TCP byte stream, one direction at a time.
 *
 * `parseLine` is a pure parser in the Suricata app-layer shape: it answers `ok` (a whole line),
 * `incomplete` (no newline yet) or `error` (the line is longer than the bound and is skipped).
 * `feedLines` keeps the only state there is: the unfinished tail of the last segment, copied into a
 * buffer that never grows past the bound. Whole lines inside a segment are handed over in place.
 */

/** Longest line kept, in bytes. Longer lines are dropped, never accumulated. */
export const MAX_LINE = 16 * 1024;

export type LineAnswer =
  /** A line is [start, end) (newline and a trailing CR excluded); `consumed` includes the newline. */
  | { status: 'ok'; end: number; consumed: number }
  /** No newline yet: nothing consumed, at least `needed` more bytes wanted. */
  | { status: 'incomplete'; consumed: 0; needed: number }
  /** Line longer than the bound: skip `consumed` bytes; if `lineEnded` is false keep skipping. */
  | { status: 'error'; consumed: number; lineEnded: boolean };

/** Find the next line in buf[start, end). `buf` must not hold bytes past `end` worth scanning. */
export function parseLine(buf: Buffer, start: number, end: number, maxLen: number): LineAnswer {
  let nl = buf.indexOf(0x0a, start);
  if (nl >= end) nl = -1;
  if (nl === -1) {
    if (end - start > maxLen) return { status: 'error', consumed: end - start, lineEnded: false };
    return { status: 'incomplete', consumed: 0, needed: 1 };
  }
  if (nl - start > maxLen) return { status: 'error', consumed: nl + 1 - start, lineEnded: true };
  const e = nl > start && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  return { status: 'ok', end: e, consumed: nl + 1 - start };
}

/** The unfinished line of one direction. */
export interface LineStream {
  buf: Buffer | null;
  len: number;
  /** Inside an over-long line: drop bytes up to the next newline. */
  skipping: boolean;
}

export function newLineStream(): LineStream {
  return { buf: null, len: 0, skipping: false };
}

/** A gap in the TCP stream: the partial line can no longer be completed. */
export function resetLineStream(ls: LineStream): void {
  ls.len = 0;
  ls.skipping = false;
}

/** Called once per complete line; the bytes are only valid during the call. */
export type LineHandler<C> = (ctx: C, buf: Buffer, start: number, end: number) => void;

function keep(ls: LineStream, seg: Buffer, from: number, to: number, maxLine: number): void {
  const need = ls.len + (to - from);
  if (ls.buf === null || ls.buf.length < need) {
    // Grow by doubling from 1 KiB; the caller guarantees need <= maxLine.
    let cap = ls.buf === null ? 1024 : ls.buf.length * 2;
    while (cap < need) cap *= 2;
    if (cap > maxLine) cap = maxLine;
    const nb = Buffer.allocUnsafe(cap);
    if (ls.buf !== null && ls.len > 0) ls.buf.copy(nb, 0, 0, ls.len);
    ls.buf = nb;
  }
  seg.copy(ls.buf, ls.len, from, to);
  ls.len = need;
}

/** Feed the next in-order bytes of one direction; calls `handler` for every complete line. */
export function feedLines<C>(
  ls: LineStream,
  seg: Buffer,
  handler: LineHandler<C>,
  ctx: C,
  maxLine: number = MAX_LINE,
): void {
  const n = seg.length;
  let p = 0;
  if (ls.skipping) {
    const nl = seg.indexOf(0x0a);
    if (nl === -1) return;
    ls.skipping = false;
    p = nl + 1;
  } else if (ls.len > 0) {
    // Finish the line started in an earlier segment.
    const a = parseLine(seg, 0, n, maxLine - ls.len);
    if (a.status === 'incomplete') {
      keep(ls, seg, 0, n, maxLine);
      return;
    }
    if (a.status === 'error') {
      ls.len = 0;
      if (!a.lineEnded) {
        ls.skipping = true;
        return;
      }
    } else {
      keep(ls, seg, 0, a.end, maxLine);
      // The CR of a CRLF split across segments is still in the buffer; only then (the newline
      // opens this segment): a CR before it in this segment was already dropped by parseLine.
      const len = a.consumed === 1 && ls.len > 0 && ls.buf![ls.len - 1] === 0x0d ? ls.len - 1 : ls.len;
      ls.len = 0;
      handler(ctx, ls.buf!, 0, len);
    }
    p = a.consumed;
  }
  while (p < n) {
    const a = parseLine(seg, p, n, maxLine);
    if (a.status === 'ok') {
      handler(ctx, seg, p, a.end);
    } else if (a.status === 'error') {
      if (!a.lineEnded) {
        ls.skipping = true;
        return;
      }
    } else {
      keep(ls, seg, p, n, maxLine);
      return;
    }
    p += a.consumed;
  }
}
