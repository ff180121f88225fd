import { hasError, isHex0x, param, str, type JsonRpcMessage } from '../jsonrpc.js';
import { splitLogin } from '../coin.js';
import { ethashDifficulty } from '../difficulty.js';
import { newResult, type Dialect, type DialectResult } from './types.js';

/**
 * EthProxy (Claymore, Phoenix, ethminer "stratum1"): Ethereum node RPC method names over
 * newline-delimited JSON. Node RPC proper (eth_blockNumber, eth_call, ...) is not mining and is
 * left alone: only the four work methods and their answers count.
 */

/** Worker names as miners send them in params[1] (never a password like "x"). */
const WORKER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function ethResult(sender: 'miner' | 'pool'): DialectResult {
  const r = newResult('ethproxy', sender);
  r.coinHint = 'eth';
  r.coinHintStrong = true;
  return r;
}

/** Work package [headerhash, seedhash, boundary(, height)]: three 0x-prefixed 32-byte hashes. */
export function isWorkPackage(v: unknown): v is string[] {
  return (
    Array.isArray(v) &&
    (v.length === 3 || v.length === 4) &&
    isHex0x(v[0], 64) &&
    isHex0x(v[1], 64) &&
    isHex0x(v[2], 64)
  );
}

function work(r: DialectResult, pkg: string[]): DialectResult {
  r.target = pkg[2]!;
  r.difficulty = ethashDifficulty(pkg[2]!);
  return r;
}

function login(msg: JsonRpcMessage): DialectResult {
  const r = ethResult('miner');
  r.request = 'eth_login';
  r.login = str(param(msg.params, 0));
  const p1 = str(param(msg.params, 1), 64);
  r.worker =
    workerField(msg) ??
    (r.login !== null ? splitLogin(r.login).worker : null) ??
    (p1 !== null && p1.toLowerCase() !== 'x' && WORKER_NAME.test(p1) ? p1 : null);
  return r;
}

/** The "worker" member, except Claymore's constant "eth1.0", which names the protocol, not a rig. */
function workerField(msg: JsonRpcMessage): string | null {
  const w = str(msg.obj.worker, 64);
  return w === 'eth1.0' ? null : w;
}

function hexNumber(v: unknown): number | null {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) return null;
  const n = parseInt(v.slice(2), 16);
  return Number.isFinite(n) ? n : null;
}

export const ethproxy: Dialect = (msg) => {
  switch (msg.method) {
    case 'eth_submitLogin':
      return login(msg);
    case 'eth_getWork': {
      const r = ethResult('miner');
      r.request = 'eth_getwork';
      return r;
    }
    case 'eth_submitWork': {
      const r = ethResult('miner');
      r.request = 'eth_submit';
      r.share = 'submitted';
      r.worker = workerField(msg);
      return r;
    }
    case 'eth_submitHashrate': {
      const r = ethResult('miner');
      r.request = 'eth_hashrate';
      r.reportedHashrate = hexNumber(param(msg.params, 0));
      return r;
    }
    case null:
      break;
    default:
      return null;
  }
  switch (msg.answers) {
    case 'eth_getwork': {
      const r = ethResult('pool');
      return isWorkPackage(msg.result) ? work(r, msg.result) : r;
    }
    case 'eth_submit': {
      const r = ethResult('pool');
      if (msg.result === true && !hasError(msg)) r.share = 'accepted';
      else if (msg.result === false || hasError(msg)) r.share = 'rejected';
      return r;
    }
    case 'eth_login':
    case 'eth_hashrate':
      return ethResult('pool');
  }
  // Pools push new work unasked as a "response" with id 0 (or null). The boundary of a share
  // target starts with zero bytes, which a list of three block hashes would not.
  if (
    msg.answers === null &&
    (msg.id === 0 || msg.id === null) &&
    isWorkPackage(msg.result) &&
    msg.result[2]!.startsWith('0x00')
  ) {
    return work(ethResult('pool'), msg.result);
  }
  return null;
};
