import { hasError, isHex, param, str, type JsonRpcMessage } from '../jsonrpc.js';
import { splitLogin } from '../coin.js';
import { btcTargetDifficulty } from '../difficulty.js';
import type { Evidence } from '../types.js';
import { newResult, type Dialect, type DialectResult } from './types.js';

/**
 * Bitcoin-style Stratum v1 (slush, cgminer, bfgminer, bmminer, most ASIC and GPU pools).
 * Miner: mining.subscribe / authorize / submit / configure ...; pool: mining.notify /
 * set_difficulty / set_target ..., and answers to the miner's requests.
 */

/** Methods only a miner sends. */
const MINER_METHODS = new Set([
  'mining.subscribe',
  'mining.authorize',
  'mining.submit',
  'mining.configure',
  'mining.extranonce.subscribe',
  'mining.get_transactions',
  'mining.suggest_difficulty',
  'mining.suggest_target',
  'mining.capabilities',
  'mining.multi_version',
]);

/** Methods only a pool sends. */
const POOL_METHODS = new Set([
  'mining.notify',
  'mining.set_difficulty',
  'mining.set_target',
  'mining.set_extranonce',
  'mining.set_version_mask',
  'client.reconnect',
  'client.show_message',
  'client.get_version',
]);

/** Keep-alives that either side may send (implementations disagree). */
const EITHER = new Set(['mining.ping', 'mining.pong']);

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export function hostName(v: unknown): string | null {
  const s = str(v, 253);
  return s !== null && HOSTNAME.test(s) ? s.toLowerCase() : null;
}

function minerMessage(m: string, msg: JsonRpcMessage, evidence: Evidence): DialectResult {
  const r = newResult(evidence, 'miner');
  const p = msg.params;
  switch (m) {
    case 'mining.subscribe':
      r.request = 'subscribe';
      r.agent = str(param(p, 0));
      // Some miners pass the host they dialled: [agent, session, host, port].
      r.poolHost = hostName(param(p, 2));
      break;
    case 'mining.authorize':
      r.request = 'authorize';
      r.login = str(param(p, 0));
      if (r.login !== null) r.worker = splitLogin(r.login, true).worker;
      break;
    case 'mining.submit':
      r.request = 'submit';
      r.share = 'submitted';
      // The first parameter is the authorised user: the login when authorize was not seen.
      r.login = str(param(p, 0));
      if (r.login !== null) r.worker = splitLogin(r.login, true).worker;
      break;
  }
  return r;
}

function poolMessage(m: string, msg: JsonRpcMessage, evidence: Evidence): DialectResult {
  const r = newResult(evidence, 'pool');
  const p = msg.params;
  switch (m) {
    case 'mining.set_difficulty': {
      const d = param(p, 0);
      if (typeof d === 'number' && Number.isFinite(d) && d > 0) r.difficulty = d;
      break;
    }
    case 'mining.set_target': {
      const t = param(p, 0);
      if (isHex(t, 1, 64)) {
        r.target = t;
        r.difficulty = btcTargetDifficulty(t);
      }
      break;
    }
    case 'client.reconnect':
      r.poolHost = hostName(param(p, 0));
      break;
    case 'client.get_version':
      r.request = 'get_version';
      break;
  }
  return r;
}

/** Does this subscribe answer list "mining.notify"? `[[["mining.set_difficulty","1"],["mining.notify","1"]],"08000002",4]` */
export function isSubscribeResult(result: unknown): boolean {
  if (!Array.isArray(result) || result.length < 2 || !Array.isArray(result[0])) return false;
  const subs = result[0] as unknown[];
  if (subs[0] === 'mining.notify') return true;
  for (const s of subs) if (Array.isArray(s) && s[0] === 'mining.notify') return true;
  return false;
}

/** Stratum reading shared with EthereumStratum, which differs only in a few shapes. */
export function readStratum(msg: JsonRpcMessage, evidence: Evidence): DialectResult | null {
  const m = msg.method;
  if (m !== null) {
    if (MINER_METHODS.has(m)) return minerMessage(m, msg, evidence);
    if (POOL_METHODS.has(m)) return poolMessage(m, msg, evidence);
    if (EITHER.has(m)) return newResult(evidence, null);
    if (m.startsWith('mining.')) return newResult(evidence, null, true);
    return null;
  }
  switch (msg.answers) {
    case 'subscribe':
    case 'authorize':
      return newResult(evidence, 'pool');
    case 'submit': {
      const r = newResult(evidence, 'pool');
      if (msg.result === true && !hasError(msg)) r.share = 'accepted';
      else if (msg.result === false || hasError(msg)) r.share = 'rejected';
      return r;
    }
    case 'get_version': {
      const r = newResult(evidence, 'miner');
      r.agent = str(msg.result);
      return r;
    }
  }
  // The pool's answer to subscribe is recognisable alone (a capture of the pool side only).
  if (msg.answers === null && isSubscribeResult(msg.result)) return newResult(evidence, 'pool');
  return null;
}

export const stratum: Dialect = (msg) => readStratum(msg, 'stratum');
