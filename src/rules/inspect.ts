import type { Direction, Flow } from '../flow/types.js';
import { applyMining, applyP2p, type ResultMemory } from './apply.js';
import { readMessage } from './dialects/index.js';
import { feedLines, MAX_LINE, newLineStream, resetLineStream, type LineStream } from './framing.js';
import {
  feedHttp,
  httpDead,
  httpPrefix,
  newHttpStream,
  resetHttpStream,
  type HttpHead,
  type HttpStream,
} from './http-stream.js';
import { httpHostListed, httpMining } from './http.js';
import { parseJsonRpc } from './jsonrpc.js';
import { P2P_MAX_HEAD, p2pPrefix, parseP2p } from './p2p.js';
import { newSession, type SessionState } from './session.js';
import { looksLikeHandshake, parseClientHello, TLS_MAX_HELLO } from './tls.js';
import { addEvidence, newFindings, type Evidence, type ListedNames } from './types.js';
import type { DomainEntry } from '../blacklist/types.js';

/**
 * Payload inspection of one TCP flow: per direction, decide from the first bytes what it could be
 * (JSON lines, HTTP, a P2P handshake, a TLS ClientHello, or nothing of interest), then feed the
 * in-order bytes to that framer and the rules. Names read on the way (SNI, HTTP Host) are matched
 * against the listed domains right there. Flows that cannot be mining stop being inspected
 * quickly; flows that are mining keep being read, within fixed buffers, to count shares.
 */

/** Bytes per direction inspected without any finding before the direction is given up. */
export const BUDGET = 64 * 1024;
/** Joined mid-stream: bytes searched for the start of a JSON line before giving up. */
export const SCAN_LIMIT = MAX_LINE;
/** One direction was given up and the other never spoke: stop after this much. */
export const ONE_SIDED = 8 * 1024;
/** Bytes kept while the first bytes are too few to classify. */
const HEAD_BYTES = 24;

// Direction modes.
const M_UNKNOWN = 0; // nothing seen yet, or too few bytes to tell
const M_SCAN = 1; // maybe joined mid-stream: look for a line start
const M_JSON = 2;
const M_HTTP = 3;
const M_P2P = 4;
const M_OTHER = 5; // nothing to find here
const M_TLS = 6; // a handshake record: read the ClientHello for its server name

// Classification of first bytes.
const C_MORE = 0;
const C_JSON = 1;
const C_HTTP = 2;
const C_P2P = 3;
const C_TLS = 4;
const C_NONE = 5;

interface DirState {
  mode: number;
  /** Next expected TCP sequence number, -1 before the first segment. */
  nextSeq: number;
  /** New (non-retransmitted) payload bytes seen. */
  bytes: number;
  head: Buffer | null;
  headLen: number;
  lines: LineStream | null;
  http: HttpStream | null;
  p2p: Buffer | null;
  p2pLen: number;
  /** ClientHello bytes kept while it spans segments (only then). */
  tls: Buffer | null;
  tlsLen: number;
}

/** Per-flow state kept in flow.inspector. Exported for tests and diagnostics only. */
export interface InspectorState extends ResultMemory {
  flow: Flow;
  dirs: [DirState, DirState];
  session: SessionState;
  /** Direction being fed: context for the line and HTTP handlers, which are not closures. */
  dir: Direction;
  /** A mining.notify has been parsed on this mining flow; later ones are skipped. */
  notifySeen: boolean;
  /** Listed domains for SNI and Host; null when the caller has none. */
  names: ListedNames | null;
}

function newDir(): DirState {
  return { mode: M_UNKNOWN, nextSeq: -1, bytes: 0, head: null, headLen: 0, lines: null, http: null, p2p: null, p2pLen: 0, tls: null, tlsLen: 0 };
}

function newInspector(flow: Flow, names: ListedNames | null): InspectorState {
  return {
    flow,
    dirs: [newDir(), newDir()],
    session: newSession(),
    dir: 0,
    notifySeen: false,
    names,
    mining: false,
    protocolRole: false,
    familyCoin: null,
    familyStrong: false,
  };
}

/** Stop inspecting this flow and let its buffers go. */
function finish(flow: Flow): void {
  flow.inspectionDone = true;
  flow.inspector = null;
}

function giveUp(ds: DirState): void {
  ds.mode = M_OTHER;
  ds.head = null;
  ds.lines = null;
  ds.http = null;
  ds.p2p = null;
  ds.tls = null;
  ds.tlsLen = 0;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** What the first bytes of a direction look like; C_MORE when too few bytes to tell. */
function classify(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n <= 0) return C_MORE;
  let more = false;
  const b0 = buf[start]!;
  // TLS record header: content type 20-23, protocol major version 3.
  if (b0 >= 0x14 && b0 <= 0x17) {
    if (n < 3) more = true;
    else if (buf[start + 1] === 0x03 && buf[start + 2]! <= 0x04) return C_TLS;
  }
  const p = p2pPrefix(buf, start, end);
  if (p === 'yes') return C_P2P;
  if (p === 'more') more = true;
  const h = httpPrefix(buf, start, end);
  if (h === 'yes') return C_HTTP;
  if (h === 'more') more = true;
  let s = start;
  while (s < end && isSpace(buf[s]!)) s++;
  if (s < end) {
    if (buf[s] === 0x7b) return C_JSON;
  } else more = true;
  return more && n < HEAD_BYTES ? C_MORE : C_NONE;
}

const NL_BRACE = Buffer.from('\n{');
const NOTIFY = Buffer.from('"mining.notify"');

function onLine(st: InspectorState, buf: Buffer, start: number, end: number): void {
  // Job notifications are the bulk of a pool's lines and, after the first (which can reveal the
  // dialect), carry nothing we report: skip their parse once the flow is known to be mining.
  if (st.mining && buf.subarray(start, end).indexOf(NOTIFY) !== -1) {
    if (st.notifySeen) return;
    st.notifySeen = true;
  }
  const msg = parseJsonRpc(buf, start, end);
  if (msg === null) return;
  const r = readMessage(msg, st.dir, st.session);
  if (r !== null) applyMining(st.flow, st, st.dir, r);
}

function onHttp(st: InspectorState, head: HttpHead, body: Buffer | null, start: number, end: number): void {
  if (head.isRequest && head.host !== null && st.names !== null) {
    const e = httpHostListed(head, st.names, serverPort(st.flow, st.dir), st.flow.lastSeen);
    if (e !== null) listedName(st, st.dir, 'http-host', e, head.host);
  }
  const msg = body !== null ? parseJsonRpc(body, start, end) : null;
  const r = httpMining(head, msg, st.dir, st.session);
  if (r !== null) applyMining(st.flow, st, st.dir, r);
  // A web page, not JSON-RPC: this direction has nothing more to show.
  else if (!st.mining && msg === null) st.dirs[st.dir].mode = M_OTHER;
}

/** The port the sender of `dir` talks to: where a client's name is meant to be served. */
function serverPort(flow: Flow, dir: Direction): number {
  return dir === 0 ? flow.bPort : flow.aPort;
}

/**
 * A name the sender of `dir` used (SNI, Host) is listed: the flow is mining, the sender is the
 * client and so the miner, the name is the pool's. An address entry matched at flow start keeps
 * its place as the flow's blacklist entry.
 */
function listedName(st: InspectorState, dir: Direction, evidence: Evidence, e: DomainEntry, host: string): void {
  const f = (st.flow.findings ??= newFindings());
  addEvidence(f, evidence);
  f.category = 'mining';
  if (f.blacklistEntry === null) {
    f.blacklistEntry = e.text;
    f.blacklistVersion = e.listVersion ?? null;
  }
  if (f.poolHost === null) f.poolHost = host;
  if (!st.protocolRole) {
    f.minerSide = dir === 0 ? 1 : 2;
    st.protocolRole = true;
  }
}

/** TLS seen: nothing after the handshake can be read, so the flow is done (this direction only, on a mining flow). */
function tls(st: InspectorState, ds: DirState): void {
  if (st.mining) giveUp(ds);
  else finish(st.flow);
}

/** Append seg to the direction's ClientHello buffer, up to TLS_MAX_HELLO; grown by doubling. */
function keepTls(ds: DirState, seg: Buffer): void {
  const want = Math.min(TLS_MAX_HELLO, ds.tlsLen + seg.length);
  if (ds.tls === null || ds.tls.length < want) {
    const cap = ds.tls === null ? 0 : ds.tls.length;
    const nb = Buffer.allocUnsafe(Math.min(TLS_MAX_HELLO, Math.max(want, 2 * cap, 2048)));
    if (ds.tls !== null && ds.tlsLen > 0) ds.tls.copy(nb, 0, 0, ds.tlsLen);
    ds.tls = nb;
  }
  seg.copy(ds.tls, ds.tlsLen, 0, want - ds.tlsLen);
  ds.tlsLen = want;
}

/**
 * In-order bytes of a direction that opened with a handshake record. The hello is read in place
 * when one segment holds it, else kept (bounded) until it is whole. Whatever the outcome, TLS
 * shows nothing more after it.
 */
function feedTls(st: InspectorState, ds: DirState, seg: Buffer, dir: Direction): void {
  let buf = seg;
  let end = seg.length;
  if (ds.tlsLen > 0) {
    keepTls(ds, seg);
    buf = ds.tls!;
    end = ds.tlsLen;
  }
  const a = parseClientHello(buf, 0, end);
  if (a.status === 'incomplete') {
    if (a.needed > TLS_MAX_HELLO || end >= TLS_MAX_HELLO) tls(st, ds);
    else if (buf === seg) keepTls(ds, seg);
    return;
  }
  if (a.status === 'ok' && a.sni !== null && st.names !== null) {
    const e = st.names.matchName(a.sni, serverPort(st.flow, dir), st.flow.lastSeen);
    if (e !== null) listedName(st, dir, 'sni', e, a.sni);
  }
  tls(st, ds);
}

function feedP2p(st: InspectorState, ds: DirState, seg: Buffer, dir: Direction): void {
  let buf = seg;
  let end = seg.length;
  if (ds.p2pLen > 0) {
    const take = Math.min(seg.length, P2P_MAX_HEAD - ds.p2pLen);
    seg.copy(ds.p2p!, ds.p2pLen, 0, take);
    ds.p2pLen += take;
    buf = ds.p2p!;
    end = ds.p2pLen;
  }
  const a = parseP2p(buf, 0, end);
  if (a.status === 'incomplete') {
    if (end >= P2P_MAX_HEAD) giveUp(ds);
    else if (buf === seg) {
      ds.p2p = Buffer.allocUnsafe(P2P_MAX_HEAD);
      seg.copy(ds.p2p, 0, 0, end);
      ds.p2pLen = end;
    }
    return;
  }
  if (a.status === 'error') {
    giveUp(ds);
    return;
  }
  const flow = st.flow;
  const other = st.dirs[dir === 0 ? 1 : 0];
  // The side that opened the handshake: from the SYN if seen, else the sender of a handshake
  // request the other side had not spoken before.
  const initiator = flow.synFrom !== 0 ? flow.synFrom : a.handshake && other.bytes === 0 ? (dir === 0 ? 1 : 2) : 0;
  applyP2p(flow, { evidence: a.evidence, coin: a.coin, agent: a.agent, initiator });
  if (st.mining) giveUp(ds);
  else finish(flow);
}

function enter(ds: DirState, mode: number): void {
  ds.mode = mode;
  if (mode === M_JSON) ds.lines = newLineStream();
  else if (mode === M_HTTP) ds.http = newHttpStream();
}

/** Feed in-order bytes to the direction's framer. */
function feed(st: InspectorState, ds: DirState, seg: Buffer, dir: Direction): void {
  switch (ds.mode) {
    case M_JSON:
      feedLines(ds.lines!, seg, onLine, st);
      break;
    case M_HTTP:
      feedHttp(ds.http!, seg, onHttp, st);
      // onHttp may have given the direction up (a web page); or framing was lost.
      if ((ds.mode as number) === M_OTHER || httpDead(ds.http!)) giveUp(ds);
      break;
    case M_P2P:
      feedP2p(st, ds, seg, dir);
      break;
    case M_TLS:
      feedTls(st, ds, seg, dir);
      break;
    case M_UNKNOWN:
      start(st, ds, seg, dir);
      break;
    case M_SCAN:
      scan(st, ds, seg, dir);
      break;
  }
}

/**
 * Switch the direction to the mode `c` calls for; false when there is nothing to feed. `seg`
 * holds the direction's first bytes (its start, when classified from a segment).
 */
function classified(st: InspectorState, ds: DirState, c: number, seg: Buffer): boolean {
  switch (c) {
    case C_JSON:
      enter(ds, M_JSON);
      return true;
    case C_HTTP:
      enter(ds, M_HTTP);
      return true;
    case C_P2P:
      enter(ds, M_P2P);
      return true;
    case C_TLS:
      // Only a handshake record can be a ClientHello, and only listed names make one worth reading.
      if (st.names !== null && st.names.hasNames && !st.mining && looksLikeHandshake(seg, 0, seg.length)) {
        ds.mode = M_TLS;
        return true;
      }
      tls(st, ds);
      return false;
  }
  return false;
}

/** First bytes of a direction. */
function start(st: InspectorState, ds: DirState, seg: Buffer, dir: Direction): void {
  let c: number;
  if (ds.headLen === 0) c = classify(seg, 0, seg.length);
  else {
    const take = Math.min(seg.length, HEAD_BYTES - ds.headLen);
    seg.copy(ds.head!, ds.headLen, 0, take);
    c = classify(ds.head!, 0, ds.headLen + take);
  }
  if (c === C_MORE) {
    if (ds.head === null) ds.head = Buffer.allocUnsafe(HEAD_BYTES);
    seg.copy(ds.head, ds.headLen);
    ds.headLen += seg.length;
    return;
  }
  const prev = ds.headLen > 0 ? ds.head!.subarray(0, ds.headLen) : null;
  ds.headLen = 0;
  ds.head = null;
  if (classified(st, ds, c, prev ?? seg)) {
    if (prev !== null) feed(st, ds, prev, dir);
    if (ds.mode !== M_OTHER && !st.flow.inspectionDone) feed(st, ds, seg, dir);
  } else if (c === C_NONE) {
    // From the start of a connection (SYN seen) the first bytes are the protocol's first bytes.
    // Otherwise the tap may have joined mid-line: look for the next line start.
    if (st.flow.synFrom !== 0) giveUp(ds);
    else {
      ds.mode = M_SCAN;
      scan(st, ds, seg, dir);
    }
  }
}

/** Possibly joined mid-stream: a segment that starts a message, or a newline followed by `{`. */
function scan(st: InspectorState, ds: DirState, seg: Buffer, dir: Direction): void {
  const c = classify(seg, 0, seg.length);
  if (c !== C_MORE && c !== C_NONE) {
    if (classified(st, ds, c, seg)) feed(st, ds, seg, dir);
    return;
  }
  const i = seg.indexOf(NL_BRACE);
  if (i >= 0) {
    enter(ds, M_JSON);
    feed(st, ds, seg.subarray(i + 1), dir);
  } else if (ds.bytes >= SCAN_LIMIT) giveUp(ds);
}

/** A hole in the sequence space: whatever was half-read cannot be completed. */
function gap(ds: DirState): void {
  switch (ds.mode) {
    case M_JSON:
      resetLineStream(ds.lines!);
      break;
    case M_HTTP:
      resetHttpStream(ds.http!);
      break;
    case M_P2P:
    case M_TLS:
      giveUp(ds);
      break;
    case M_UNKNOWN:
      if (ds.headLen > 0) {
        ds.headLen = 0;
        ds.head = null;
        ds.mode = M_SCAN;
      }
      break;
  }
}

/** Give up directions over budget; end the flow when no direction can show anything. */
function settle(st: InspectorState, ds: DirState): void {
  if (st.mining) return;
  if (ds.mode !== M_OTHER && ds.bytes >= BUDGET) giveUp(ds);
  else if (ds.mode === M_OTHER && (ds.lines !== null || ds.http !== null)) giveUp(ds);
  const a = st.dirs[0];
  const b = st.dirs[1];
  const ao = a.mode === M_OTHER;
  const bo = b.mode === M_OTHER;
  if ((ao && bo) || (ao && b.bytes === 0 && a.bytes >= ONE_SIDED) || (bo && a.bytes === 0 && b.bytes >= ONE_SIDED)) {
    finish(st.flow);
  }
}

/**
 * Inspect one TCP payload segment of `flow` travelling in `dir` (data[offset, offset+length),
 * starting at sequence number tcpSeq). Called while flow.inspectionDone is false. `names` are the
 * listed domains that SNI and HTTP Host are matched against (kept for the flow's life: pass the
 * live list, not one of its snapshots, so a swap reaches flows in progress).
 */
export function inspectPayload(
  flow: Flow,
  dir: Direction,
  data: Buffer,
  offset: number,
  length: number,
  tcpSeq: number,
  names: ListedNames | null = null,
): void {
  if (flow.inspectionDone || length <= 0) return;
  let st = flow.inspector as InspectorState | null;
  if (st === null) {
    st = newInspector(flow, names);
    flow.inspector = st;
  }
  const ds = st.dirs[dir];
  let skip = 0;
  const seq = tcpSeq >>> 0;
  if (ds.nextSeq < 0) ds.nextSeq = (seq + length) >>> 0;
  else {
    const diff = (seq - ds.nextSeq) | 0;
    if (diff < 0) {
      // Retransmission: only bytes past what we already have are new.
      if (diff + length <= 0) return;
      skip = -diff;
    } else if (diff > 0) gap(ds);
    ds.nextSeq = (seq + length) >>> 0;
  }
  ds.bytes += length - skip;
  if (ds.mode !== M_OTHER) {
    st.dir = dir;
    feed(st, ds, data.subarray(offset + skip, offset + length), dir);
  }
  if (!flow.inspectionDone) settle(st, ds);
}
