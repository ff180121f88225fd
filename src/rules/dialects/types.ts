import type { Direction } from '../../flow/types.js';
import type { JsonRpcMessage } from '../jsonrpc.js';
import type { PendingKind, SessionState } from '../session.js';
import type { Evidence } from '../types.js';

/** Who sent the message, as the protocol says; null when the message does not tell. */
export type Sender = 'miner' | 'pool' | null;

/** What one message told us. Fields stay null when the message does not carry them. */
export interface DialectResult {
  evidence: Evidence;
  sender: Sender;
  /**
   * Weak messages (getjob, keepalived, an unknown mining.* method) only add to a flow already shown
   * to be mining; alone they prove nothing.
   */
  weak: boolean;
  /** This message is a request; remember its id so the answer can be read (submit → accepted). */
  request: PendingKind | null;
  share: 'submitted' | 'accepted' | 'rejected' | null;
  login: string | null;
  worker: string | null;
  agent: string | null;
  algo: string | null;
  poolHost: string | null;
  difficulty: number | null;
  target: string | null;
  reportedHashrate: number | null;
  /** Coin implied by the protocol family (eth for EthProxy, xmr for CryptoNote). */
  coinHint: string | null;
  /** True when the family is a better hint than the wallet (EthProxy paid out to a BTC address). */
  coinHintStrong: boolean;
}

/** A dialect: one parsed message in, what it shows out, or null when it is not this dialect's. */
export type Dialect = (msg: JsonRpcMessage, dir: Direction, state: SessionState) => DialectResult | null;

export function newResult(evidence: Evidence, sender: Sender, weak = false): DialectResult {
  return {
    evidence,
    sender,
    weak,
    request: null,
    share: null,
    login: null,
    worker: null,
    agent: null,
    algo: null,
    poolHost: null,
    difficulty: null,
    target: null,
    reportedHashrate: null,
    coinHint: null,
    coinHintStrong: false,
  };
}
