import type { Direction } from '../flow/types.js';
import { splitLogin } from './coin.js';
import { ethashDifficulty, getworkDifficulty } from './difficulty.js';
import { isWorkPackage } from './dialects/ethproxy.js';
import { newResult, type DialectResult } from './dialects/types.js';
import type { HttpHead } from './http-stream.js';
import { hasError, isHex, isObject, param, str, type JsonRpcMessage } from './jsonrpc.js';
import { takeAnswer, trackRequest, type PendingKind, type SessionState } from './session.js';
import type { ListedNames } from './types.js';
import type { DomainEntry } from '../blacklist/types.js';

/**
 * Mining over HTTP: getwork / getblocktemplate / submitblock (Bitcoin family, and monerod's
 * get_block_template) and the EthProxy methods POSTed as JSON-RPC, plus the headers only mining
 * software sends (X-Mining-Extensions, X-Stratum, long polling).
 */

/** JSON-RPC methods that only mining software calls, and what their answer will be. */
const MINING_METHODS: ReadonlyMap<string, PendingKind> = new Map([
  ['getwork', 'getwork'],
  ['getblocktemplate', 'gbt'],
  ['submitblock', 'submitblock'],
  // monerod's spelling (XMRig daemon mode, pool back ends) at /json_rpc.
  ['get_block_template', 'gbt'],
  ['submit_block', 'submitblock'],
  ['eth_getWork', 'eth_getwork'],
  ['eth_submitWork', 'eth_submit'],
  ['eth_submitLogin', 'eth_login'],
  ['eth_submitHashrate', 'eth_hashrate'],
]);

/** "Basic base64(user:pass)" → user. */
function basicUser(auth: string | null): string | null {
  const m = auth === null ? null : /^Basic\s+([A-Za-z0-9+/=]{4,512})$/i.exec(auth);
  if (m === null) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const c = text.indexOf(':');
  const user = c >= 0 ? text.slice(0, c) : text;
  return user.length > 0 && /^[\x21-\x7e]+$/.test(user) ? user : null;
}

/** getwork answer {data, target, ...} or getblocktemplate answer. */
function isWorkResult(v: unknown): v is Record<string, unknown> {
  if (!isObject(v)) return false;
  if (isHex(v.data, 160, 512) && isHex(v.target, 64, 64)) return true;
  if (isHex(v.blocktemplate_blob, 76, 1 << 20) && typeof v.difficulty === 'number') return true; // monerod
  return (
    (typeof v.coinbasevalue === 'number' || isHex(v.previousblockhash, 64, 64)) && Array.isArray(v.transactions)
  );
}

function request(head: HttpHead, msg: JsonRpcMessage | null, r: DialectResult): void {
  r.agent = head.userAgent;
  r.poolHost = head.host;
  r.login = basicUser(head.authorization);
  if (r.login !== null) r.worker = splitLogin(r.login, true).worker;
  if (msg === null || msg.method === null) return;
  const kind = MINING_METHODS.get(msg.method);
  if (kind === undefined) return;
  r.request = kind;
  const p0 = param(msg.params, 0);
  switch (msg.method) {
    case 'getwork':
      // getwork with data is a solved share being handed in.
      if (p0 !== undefined) {
        r.request = 'getwork_submit';
        r.share = 'submitted';
      }
      break;
    case 'submitblock':
    case 'submit_block':
    case 'eth_submitWork':
      r.share = 'submitted';
      break;
    case 'get_block_template': {
      const p = msg.params;
      const wallet = isObject(p) ? str(p.wallet_address, 128) : null;
      if (wallet !== null) r.login = wallet;
      r.coinHint = 'xmr';
      break;
    }
    case 'eth_submitLogin': {
      const login = str(p0);
      if (login !== null) {
        r.login = login;
        r.worker = splitLogin(login).worker;
      }
      break;
    }
    case 'eth_submitHashrate':
      if (typeof p0 === 'string' && /^0x[0-9a-fA-F]{1,64}$/.test(p0)) r.reportedHashrate = parseInt(p0.slice(2), 16);
      break;
  }
  if (msg.method.startsWith('eth_')) {
    r.coinHint = 'eth';
    r.coinHintStrong = true;
  }
}

function response(msg: JsonRpcMessage | null, answers: PendingKind | null, r: DialectResult): void {
  if (msg === null) return;
  const res = msg.result;
  switch (answers) {
    case 'getwork_submit':
    case 'eth_submit':
      if (res === true && !hasError(msg)) r.share = 'accepted';
      else if (res === false || hasError(msg)) r.share = 'rejected';
      break;
    case 'submitblock':
      // bitcoind answers null on success and a reason string otherwise.
      r.share = res === null && !hasError(msg) ? 'accepted' : 'rejected';
      break;
  }
  if (isObject(res) && typeof res.difficulty === 'number' && isHex(res.blocktemplate_blob, 76, 1 << 20)) {
    // JSON reads 1e999 as Infinity; 0 and negatives are no difficulty either (as set_difficulty).
    r.difficulty = Number.isFinite(res.difficulty) && res.difficulty > 0 ? res.difficulty : null;
    r.coinHint = 'xmr';
  } else if (isObject(res) && isHex(res.data, 160, 512) && isHex(res.target, 64, 64)) {
    r.target = res.target;
    r.difficulty = getworkDifficulty(res.target);
  } else if (isWorkPackage(res)) {
    r.target = res[2]!;
    r.difficulty = ethashDifficulty(res[2]!);
  }
}

/** X-Stratum: stratum+tcp://host:port → host. */
function stratumHost(v: string | null): string | null {
  const m = v === null ? null : /^stratum\+[a-z]+:\/\/([^/:\s]+)/i.exec(v);
  return m === null ? null : m[1]!.toLowerCase();
}

/**
 * One HTTP message sent in `dir`: mining evidence and fields, or null when nothing marks it as
 * mining. A request's sender is the miner; a response's sender is the pool.
 */
export function httpMining(
  head: HttpHead,
  msg: JsonRpcMessage | null,
  dir: Direction,
  session: SessionState,
): DialectResult | null {
  let mining = head.miningHeader;
  let answers: PendingKind | null = null;
  if (head.isRequest) {
    if (msg !== null && msg.method !== null && MINING_METHODS.has(msg.method)) mining = true;
  } else if (msg !== null && msg.method === null) {
    answers = takeAnswer(session, dir, msg.id);
    if (answers !== null) mining = true;
    else if (isWorkResult(msg.result) || (isWorkPackage(msg.result) && msg.result[2]!.startsWith('0x00'))) mining = true;
  }
  if (!mining) return null;
  const r = newResult('http-mining', head.isRequest ? 'miner' : 'pool');
  if (head.isRequest) request(head, msg, r);
  else {
    response(msg, answers, r);
    r.poolHost = stratumHost(head.xStratum);
  }
  if (r.request !== null && msg !== null) trackRequest(session, dir, msg.id, r.request);
  return r;
}

/**
 * The listed domain a request's Host names (evidence http-host), or null. Ordinary web traffic is
 * exactly what this is for: a page fetching a browser miner's script or opening its WebSocket
 * says nothing in the payload, only in the name. `port` is the server's port.
 */
export function httpHostListed(head: HttpHead, names: ListedNames, port: number, tsMicros?: number): DomainEntry | null {
  if (!head.isRequest || head.host === null || !names.hasNames) return null;
  return names.matchName(head.host, port, tsMicros);
}
