import { isHex, isObject, param, str, type JsonRpcMessage } from '../jsonrpc.js';
import type { SessionState } from '../session.js';
import { ethproxy } from './ethproxy.js';
import { hostName, isSubscribeResult, readStratum } from './stratum.js';
import { newResult, type Dialect, type DialectResult } from './types.js';

/**
 * NiceHash EthereumStratum/1.0.0 (and the 2.0.0 "mining.hello" handshake): Stratum method names,
 * Ethereum work. Recognised by the protocol name in subscribe or its answer, or by the 4-parameter
 * notify [job, seedhash, headerhash, clean]; once recognised, every mining.* message of the flow is
 * read as EthereumStratum.
 */

const PROTO = /^EthereumStratum\//i;

function subscribeNamesProto(msg: JsonRpcMessage): boolean {
  return msg.method === 'mining.subscribe' && PROTO.test(str(param(msg.params, 1)) ?? '');
}

/** `[["mining.notify","ae6812eb…","EthereumStratum/1.0.0"],"080c"]` */
function answerNamesProto(msg: JsonRpcMessage): boolean {
  if (msg.method !== null || !isSubscribeResult(msg.result)) return false;
  const subs = (msg.result as unknown[])[0] as unknown[];
  return PROTO.test(str(subs[2]) ?? '');
}

function esNotify(msg: JsonRpcMessage): boolean {
  const p = msg.params;
  return (
    msg.method === 'mining.notify' &&
    Array.isArray(p) &&
    p.length === 4 &&
    isHex(p[1], 64, 64) &&
    isHex(p[2], 64, 64) &&
    typeof p[3] === 'boolean'
  );
}

function hello(msg: JsonRpcMessage): DialectResult | null {
  const p = msg.params;
  if (!isObject(p) || !PROTO.test(str(p.proto) ?? '')) return null;
  const r = newResult('ethereum-stratum', 'miner');
  r.agent = str(p.agent);
  r.poolHost = hostName(p.host);
  return r;
}

function isEthereumStratum(msg: JsonRpcMessage, state: SessionState): boolean {
  if (state.dialect === 'ethereum-stratum') return true;
  return subscribeNamesProto(msg) || answerNamesProto(msg) || esNotify(msg);
}

export const ethereumStratum: Dialect = (msg, dir, state) => {
  if (msg.method === 'mining.hello') return hello(msg);
  if (!isEthereumStratum(msg, state)) return null;
  // Ethereum miners in this mode still report eth_submitHashrate: same session, same evidence.
  const r = readStratum(msg, 'ethereum-stratum') ?? (state.dialect === 'ethereum-stratum' ? ethproxy(msg, dir, state) : null);
  if (r === null) return null;
  r.evidence = 'ethereum-stratum';
  r.coinHint = 'eth';
  r.coinHintStrong = true;
  return r;
};
