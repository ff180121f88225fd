/**
 * Fuzz: TCP stream framing and reassembly — newline-delimited JSON (src/rules/framing.ts), HTTP
 * messages (src/rules/http-stream.ts) and the per-flow payload inspector (src/rules/inspect.ts)
 * that puts segments in order, drops retransmitted bytes and keeps bounded buffers per direction.
 *
 * Contracts: framers hand over exactly the messages of the byte stream however it was cut into
 * segments (a Suricata-style parser answers ok | incomplete | error, and the state between
 * segments is a bounded buffer); nothing throws on any bytes; buffers never grow past their
 * bounds; retransmissions and segmentation do not change what a flow shows.
 */
import fc from 'fast-check';
import { describe, expect } from 'vitest';
import type { Flow } from '../../src/flow/types.js';
import { feedLines, MAX_LINE, newLineStream, type LineStream } from '../../src/rules/framing.js';
import { feedHttp, HTTP_MAX_BODY, HTTP_MAX_HEAD, newHttpStream, parseHttpHead, type HttpHead } from '../../src/rules/http-stream.js';
import { inspectPayload, type InspectorState } from '../../src/rules/inspect.js';
import { MAX_PENDING } from '../../src/rules/session.js';
import { TLS_MAX_HELLO } from '../../src/rules/tls.js';
import { P2P_MAX_HEAD } from '../../src/rules/p2p.js';
import type { ListedNames } from '../../src/rules/types.js';
import type { DomainEntry } from '../../src/blacklist/types.js';
import { jsonLines, sessions } from './corpus.js';
import { expectLinear, scaledText } from './linear.js';
import { applyText, chunking, chunks, textCase } from './mutate.js';
import { check, fuzz } from './runs.js';

const enc = (s: string) => Buffer.from(s, 'latin1');

// ------------------------------------------------------------------------------------------------
// JSON lines

/** What the framer must hand over: every complete line, CR-stripped once, if not over the bound. */
function referenceLines(stream: Buffer, maxLine: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = stream.indexOf(0x0a, start);
    if (nl < 0) break;
    if (nl - start <= maxLine) {
      const end = nl > start && stream[nl - 1] === 0x0d ? nl - 1 : nl;
      out.push(stream.toString('latin1', start, end));
    }
    start = nl + 1;
  }
  return out;
}

function frameLines(segs: Uint8Array[], maxLine: number): { lines: string[]; ls: LineStream } {
  const lines: string[] = [];
  const ls = newLineStream();
  for (const s of segs) {
    feedLines(ls, Buffer.from(s), (acc: string[], b, st, e) => acc.push(b.toString('latin1', st, e)), lines, maxLine);
    check(ls.len <= maxLine && (ls.buf === null || ls.buf.length <= maxLine), 'line buffer over its bound');
  }
  return { lines, ls };
}

const LINE_DICT = ['\n', '\r', '\r\n', '\r\r\n', '{', '}', '"method"', '"result"', '"jsonrpc"', 'mining.notify', '\n{'];

// ------------------------------------------------------------------------------------------------
// HTTP

const HTTP_DICT = ['\r\n', '\r\n\r\n', 'Content-Length: 0', 'Content-Length: 16385', 'Content-Length: 99999999999', 'Content-Length: -1', 'Transfer-Encoding: chunked', 'Host: [2001:db8::1]:80', 'HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 204 No Content', 'GET / HTTP/1.1', 'POST', 'X-Stratum: stratum+tcp://pool.example:3333', 'X-Mining-Extensions: midstate', ':', ' '];

function httpTexts(): string[] {
  const out: string[] = [];
  for (const s of sessions()) {
    const bySide = { c: '', s: '' };
    for (const say of s.says) bySide[say.from] += typeof say.text === 'string' ? say.text : Buffer.from(say.text).toString('latin1');
    for (const t of [bySide.c, bySide.s]) if (/^(GET|POST|HTTP\/)/.test(t)) out.push(t);
  }
  return out;
}

interface Message {
  head: HttpHead;
  body: string | null;
}

function feedAll(segs: Uint8Array[]): { msgs: Message[]; dead: boolean; maxBuf: number } {
  const hs = newHttpStream();
  const msgs: Message[] = [];
  let maxBuf = 0;
  for (const s of segs) {
    feedHttp(hs, Buffer.from(s), (acc: Message[], head, body, st, e) => acc.push({ head, body: body === null ? null : body.toString('latin1', st, e) }), msgs);
    maxBuf = Math.max(maxBuf, hs.buf?.length ?? 0, hs.len);
  }
  return { msgs, dead: hs.phase === 3, maxBuf };
}

/** Cut points: random sizes, and some right inside a head's final CRLF CRLF (where a head limit bites). */
function cutAt(b: Uint8Array, sizes: number[], delim: number[]): Uint8Array[] {
  const ends = new Set<number>();
  let pos = 0;
  if (sizes.length > 0) for (let i = 0; pos < b.length; i++) ends.add((pos += Math.max(1, sizes[i % sizes.length]!)));
  const text = Buffer.from(b).toString('latin1');
  const heads: number[] = [];
  for (let at = text.indexOf('\r\n\r\n'); at >= 0; at = text.indexOf('\r\n\r\n', at + 1)) heads.push(at);
  for (const d of delim) if (heads.length > 0) ends.add(heads[d % heads.length]! + 1 + (d % 3));
  const sorted = [...ends].filter((e) => e > 0 && e < b.length).sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const e of sorted) {
    out.push(b.subarray(start, e));
    start = e;
  }
  out.push(b.subarray(start));
  return out;
}

/** Make the first head exactly `len` bytes up to its CRLF CRLF, with a padding header. */
function padHead(text: string, len: number | null): string {
  if (len === null) return text;
  const at = text.indexOf('\r\n');
  const end = text.indexOf('\r\n\r\n');
  if (at < 0 || end < 0 || at > end) return text;
  const fixed = 'X-Pad: \r\n'.length;
  const need = len - end - fixed;
  if (need < 0) return text;
  return text.slice(0, at + 2) + 'X-Pad: ' + 'a'.repeat(need) + '\r\n' + text.slice(at + 2);
}

// ------------------------------------------------------------------------------------------------
// The inspector

const LISTED: DomainEntry = { name: 'pool.example', portLo: 0, portHi: 65535, text: 'pool.example', source: 'fuzz' };
const NAMES: ListedNames = {
  hasNames: true,
  matchName: (name) => (name === 'pool.example' || name.endsWith('.pool.example') ? LISTED : null),
};

/** A flow as the inspector sees it (the flow table's own bookkeeping is not its business). */
function newFlow(syn: boolean): Flow {
  const f = {
    id: 1, ipVersion: 4, proto: 6, aPort: 50000, bPort: 3333, firstSeen: 0, lastSeen: 0, packetsAB: 0, packetsBA: 0, bytesAB: 0,
    bytesBA: 0, synFrom: syn ? 1 : 0, input: 'fuzz', findings: null, inspector: null, inspectionDone: false, blacklistSide: 0, periodStart: 0,
  };
  return f as unknown as Flow;
}

/** Inspector buffers are within their bounds. */
function checkBounds(flow: Flow): void {
  const st = flow.inspector as InspectorState | null;
  if (st === null) return;
  for (const d of st.dirs) {
    check(d.headLen <= 24 && (d.head === null || d.head.length <= 24), 'first-bytes buffer over 24 bytes');
    check(!d.lines?.buf || d.lines.buf.length <= MAX_LINE, 'line buffer over MAX_LINE');
    check(!d.http?.buf || d.http.buf.length <= Math.max(HTTP_MAX_BODY, HTTP_MAX_HEAD + 4), 'HTTP buffer over its bound');
    check((d.tls === null || d.tls.length <= TLS_MAX_HELLO) && d.tlsLen <= TLS_MAX_HELLO, 'ClientHello buffer over TLS_MAX_HELLO');
    check((d.p2p === null || d.p2p.length <= P2P_MAX_HEAD) && d.p2pLen <= P2P_MAX_HEAD, 'P2P buffer over P2P_MAX_HEAD');
  }
  for (const m of st.session.pending) check(m === null || m.size <= MAX_PENDING, 'pending requests over MAX_PENDING');
}

function checkFindings(flow: Flow): void {
  const f = flow.findings;
  if (f === null) return;
  expect([null, 'mining', 'crypto-p2p']).toContain(f.category);
  expect(new Set(f.evidence).size).toBe(f.evidence.length);
  expect([0, 1, 2]).toContain(f.minerSide);
  for (const k of ['login', 'worker', 'agent', 'coin', 'algo', 'poolHost', 'target'] as const) {
    const v = f[k];
    if (v !== null) expect(typeof v === 'string' && v.length > 0 && v.length <= 4096, `${k} = ${JSON.stringify(v)}`).toBe(true);
  }
  for (const k of ['difficulty', 'reportedHashrate'] as const) {
    const v = f[k];
    if (v !== null) expect(Number.isFinite(v) && v > 0, `${k} = ${v}`).toBe(true);
  }
  for (const k of ['sharesSubmitted', 'sharesAccepted', 'sharesRejected'] as const) expect(Number.isInteger(f[k]) && f[k] >= 0).toBe(true);
}

function findingsOf(flow: Flow) {
  return { findings: flow.findings, done: flow.inspectionDone };
}

interface Segment {
  dir: 0 | 1;
  seq: number;
  bytes: Uint8Array;
}

/**
 * Segments of a conversation: each side's bytes cut by `sizes`, interleaved in message order;
 * retransmissions (a copy of an earlier segment of the same side, possibly only its tail) are
 * inserted where `retx` says. Sequence numbers start at isn[dir].
 */
function segmentsOf(says: { from: 'c' | 's'; bytes: Uint8Array }[], sizes: number[], retx: number[], isn: [number, number]): Segment[] {
  const out: Segment[] = [];
  const sent: [Segment[], Segment[]] = [[], []];
  const seq: [number, number] = [isn[0], isn[1]];
  let k = 0;
  for (const say of says) {
    const dir = say.from === 'c' ? 0 : 1;
    for (const piece of chunks(say.bytes, sizes)) {
      const seg: Segment = { dir, seq: seq[dir] >>> 0, bytes: piece };
      out.push(seg);
      sent[dir].push(seg);
      seq[dir] += piece.length;
      if (retx.length > 0 && retx[k++ % retx.length]! % 3 === 0) {
        const prev = sent[dir];
        const r = prev[(retx[k % retx.length]! >> 2) % prev.length]!;
        const cut = (retx[k % retx.length]! >> 4) % Math.max(1, r.bytes.length);
        out.push({ dir, seq: (r.seq + cut) >>> 0, bytes: r.bytes.subarray(cut) });
      }
    }
  }
  return out;
}

function inspect(segs: Segment[], syn: boolean, names: ListedNames | null, bounds = true): Flow {
  const flow = newFlow(syn);
  for (const s of segs) {
    if (flow.inspectionDone) break;
    inspectPayload(flow, s.dir, Buffer.from(s.bytes), 0, s.bytes.length, s.seq, names);
    if (bounds) checkBounds(flow);
  }
  checkFindings(flow);
  return flow;
}

const sayBytes = (t: string | Uint8Array) => (typeof t === 'string' ? Buffer.from(t, 'utf8') : t);

describe('fuzz: TCP stream framing and reassembly', () => {
  const lines = jsonLines();
  const lineCorpus = [lines.join('\n') + '\n', lines.slice(0, 6).join('\r\n') + '\r\n', lines.slice(6).join('\n')];

  fuzz(
    'JSON lines: any segmentation hands over exactly the complete lines within the bound; the carry buffer stays bounded',
    fc.record({ t: textCase(lineCorpus, LINE_DICT, { pad: true }), sizes: chunking(), maxLine: fc.constantFrom(16, 64, 1024, MAX_LINE) }),
    ({ t, sizes, maxLine }) => {
      const stream = enc(applyText(lineCorpus, LINE_DICT, t));
      const got = frameLines(chunks(stream, sizes), maxLine).lines;
      expect(got).toEqual(referenceLines(stream, maxLine));
    },
  );

  const httpCorpus = httpTexts();
  fuzz(
    'HTTP: any segmentation hands over the same heads and bodies as the whole stream; buffers stay bounded',
    fc.record({ t: textCase(httpCorpus, HTTP_DICT, { pad: true }), sizes: chunking(), delim: fc.array(fc.nat(), { maxLength: 3 }), padTo: fc.option(fc.integer({ min: HTTP_MAX_HEAD - 8, max: HTTP_MAX_HEAD + 6 })) }),
    ({ t, sizes, delim, padTo }) => {
      const stream = enc(padHead(applyText(httpCorpus, HTTP_DICT, t), padTo));
      const ref = feedAll([stream]);
      const got = feedAll(cutAt(stream, sizes, delim));
      expect(got.maxBuf).toBeLessThanOrEqual(Math.max(HTTP_MAX_BODY, HTTP_MAX_HEAD + 4));
      expect(got.msgs).toEqual(ref.msgs);
      expect(got.dead).toBe(ref.dead);
    },
  );

  fuzz(
    'HTTP head parser: a prefix answers incomplete, or what the whole input answers',
    fc.record({ t: textCase(httpCorpus, HTTP_DICT, { pad: true }), cut: fc.nat(), padTo: fc.option(fc.integer({ min: HTTP_MAX_HEAD - 8, max: HTTP_MAX_HEAD + 6 })) }),
    ({ t, cut, padTo }) => {
      const b = enc(padHead(applyText(httpCorpus, HTTP_DICT, t), padTo));
      const full = parseHttpHead(b, 0, b.length);
      const end = b.indexOf('\r\n\r\n');
      // Cuts anywhere, and just inside the head's end.
      for (const n of [cut % (b.length + 1), end + 1, end + 2, end + 3].filter((x) => x >= 0 && x <= b.length)) {
        const a = parseHttpHead(b, 0, n);
        if (a.status !== 'incomplete') expect(a, `prefix of ${n} bytes`).toEqual(full);
      }
    },
  );

  fuzz(
    'HTTP: time per byte does not grow with the number of pipelined messages',
    fc.record({ t: textCase(httpCorpus, HTTP_DICT), size: fc.integer({ min: 64, max: 4000 }) }),
    ({ t, size }) => {
      const s = scaledText('', applyText(httpCorpus, HTTP_DICT, t), 16_384);
      expectLinear(s, (text) => feedAll(chunks(enc(text), [size])), 'HTTP messages');
    },
    { scale: 0.01, min: 5 },
  );

  const sess = sessions();
  fuzz(
    'inspector: segmentation and retransmissions do not change what a session shows',
    fc.record({ s: fc.nat(sess.length - 1), sizes: chunking(), retx: fc.array(fc.nat(), { maxLength: 6 }), isn: fc.tuple(fc.nat(), fc.nat()), syn: fc.boolean() }),
    ({ s, sizes, retx, isn, syn }) => {
      const says = sess[s]!.says.map((x) => ({ from: x.from, bytes: sayBytes(x.text) }));
      const ref = inspect(segmentsOf(says, [], [], isn), syn, NAMES);
      const got = inspect(segmentsOf(says, sizes, retx, isn), syn, NAMES);
      expect(findingsOf(got)).toEqual(findingsOf(ref));
    },
  );

  const INSPECT_BOUNDARIES = [23, 24, 25, 63, 64, 511, 512, 8191, 8192, 8193, 8195, 8196, 16383, 16384, 16385];
  const sessText = sess.map((x) => x.says.map((y) => `${y.from}${Buffer.from(sayBytes(y.text)).toString('latin1').replace(/\n/g, '\\n')}`).join('\n'));
  fuzz(
    'inspector: mutated sessions, gaps and retransmissions never throw and keep every buffer bounded',
    fc.record({ t: textCase(sessText, [...LINE_DICT, ...HTTP_DICT, '\\n', '\x16\x03\x01', '\xf9\xbe\xb4\xd9'], { pad: true, boundaries: INSPECT_BOUNDARIES }), sizes: chunking(), retx: fc.array(fc.nat(), { maxLength: 6 }), gaps: fc.array(fc.nat(), { maxLength: 3 }), isn: fc.tuple(fc.nat(), fc.nat()), syn: fc.boolean(), names: fc.boolean() }),
    ({ t, sizes, retx, gaps, isn, syn, names }) => {
      const text = applyText(sessText, [...LINE_DICT, ...HTTP_DICT, '\\n', '\x16\x03\x01', '\xf9\xbe\xb4\xd9'], t);
      const says = text.split('\n').map((l) => ({ from: (l[0] === 's' ? 's' : 'c') as 'c' | 's', bytes: enc(l.slice(1).replace(/\\n/g, '\n')) }));
      let segs = segmentsOf(says, sizes, retx, isn);
      // Gaps: lose a segment (the stream jumps ahead).
      for (const g of gaps) if (segs.length > 1) segs = segs.filter((_, i) => i !== g % segs.length);
      inspect(segs, syn, names ? NAMES : null);
    },
  );

  fuzz(
    'framing and inspector: time per byte does not grow with the length of the stream',
    fc.record({ t: textCase(lineCorpus, LINE_DICT), size: fc.integer({ min: 64, max: 2000 }) }),
    ({ t, size }) => {
      const body = applyText(lineCorpus, LINE_DICT, t);
      const s = scaledText('', body, 8192);
      expectLinear(
        s,
        (text) => {
          const b = enc(text);
          frameLines(chunks(b, [size]), MAX_LINE);
          const flow = newFlow(true);
          let seq = 1;
          for (const c of chunks(b, [size])) {
            inspectPayload(flow, 0, Buffer.from(c), 0, c.length, seq, null);
            seq += c.length;
          }
        },
        'JSON lines',
      );
    },
    { scale: 0.01, min: 5 },
  );
});
