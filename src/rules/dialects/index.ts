import type { Direction } from '../../flow/types.js';
import type { JsonRpcMessage } from '../jsonrpc.js';
import { takeAnswer, trackRequest, type SessionState } from '../session.js';
import { cryptonote } from './cryptonote.js';
import { ethereumStratum } from './ethereum-stratum.js';
import { ethproxy } from './ethproxy.js';
import { stratum } from './stratum.js';
import type { Dialect, DialectResult } from './types.js';

export type { Dialect, DialectResult } from './types.js';

/**
 * Every JSON-lines mining dialect, tried in order; the first that recognises a message wins.
 * EthereumStratum comes before Stratum because it shares Stratum's method names.
 * A new dialect is one module plus one line here.
 */
export const DIALECTS: readonly Dialect[] = [ethereumStratum, stratum, ethproxy, cryptonote];

/**
 * Read one message sent in `dir`: link a response to its request, ask the dialects, remember the
 * message's own id if it is a request the other side will answer.
 */
export function readMessage(msg: JsonRpcMessage, dir: Direction, state: SessionState): DialectResult | null {
  if (msg.method === null) msg.answers = takeAnswer(state, dir, msg.id);
  let r: DialectResult | null = null;
  for (const d of DIALECTS) {
    r = d(msg, dir, state);
    if (r !== null) break;
  }
  if (r === null) return null;
  if (r.request !== null) trackRequest(state, dir, msg.id, r.request);
  // EthereumStratum may be recognised only from the pool's answer after a plain-looking subscribe.
  if (!r.weak && (state.dialect === null || r.evidence === 'ethereum-stratum')) state.dialect = r.evidence;
  return r;
}
