import type { Direction } from '../flow/types.js';
import type { Evidence } from './types.js';

/**
 * What a request was, remembered by its JSON-RPC id until the other side answers. Responses carry
 * only the id, so "is this `{"id":4,"result":true}` an accepted share?" needs this memory.
 */
export type PendingKind =
  | 'subscribe'
  | 'authorize'
  | 'submit'
  | 'get_version'
  | 'eth_login'
  | 'eth_getwork'
  | 'eth_submit'
  | 'eth_hashrate'
  | 'cn_login'
  | 'cn_submit'
  | 'cn_getjob'
  | 'cn_keepalive'
  | 'getwork'
  | 'getwork_submit'
  | 'gbt'
  | 'submitblock';

interface Pending {
  kind: PendingKind;
  /** Miners reuse ids (Claymore sends every eth_submitWork as id 4): count them. */
  n: number;
}

/** Per-flow protocol memory shared by the dialects and the HTTP rule. Bounded. */
export interface SessionState {
  /** Dialect established by a strong message, e.g. 'ethereum-stratum' once its subscribe is seen. */
  dialect: Evidence | null;
  /**
   * Requests sent by each direction that are still unanswered, keyed by id. Made at the first
   * request: most flows carry none, and a tap holds hundreds of thousands of flows.
   */
  pending: [Map<unknown, Pending> | null, Map<unknown, Pending> | null];
}

/** Unanswered requests kept per direction; the oldest is forgotten first. */
export const MAX_PENDING = 64;

export function newSession(): SessionState {
  return { dialect: null, pending: [null, null] };
}

function usableId(id: unknown): boolean {
  return typeof id === 'number' || (typeof id === 'string' && id.length > 0 && id.length <= 64);
}

/** Remember that `dir` sent request `id` of this kind. Notifications (no id) are not answered. */
export function trackRequest(s: SessionState, dir: Direction, id: unknown, kind: PendingKind): void {
  if (!usableId(id)) return;
  const m = (s.pending[dir] ??= new Map());
  const p = m.get(id);
  if (p !== undefined && p.kind === kind) {
    if (p.n < MAX_PENDING) p.n++;
    return;
  }
  if (p === undefined && m.size >= MAX_PENDING) {
    const oldest = m.keys().next().value;
    m.delete(oldest);
  }
  m.set(id, { kind, n: 1 });
}

/** A response travelling in `dir` answers a request sent the other way: which one was it? */
export function takeAnswer(s: SessionState, dir: Direction, id: unknown): PendingKind | null {
  if (!usableId(id)) return null;
  const m = s.pending[dir === 0 ? 1 : 0];
  if (m === null) return null;
  const p = m.get(id);
  if (p === undefined) return null;
  if (--p.n <= 0) m.delete(id);
  return p.kind;
}
