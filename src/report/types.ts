import type { Category, Evidence } from '../rules/types.js';

/**
 * One flagged flow, oriented miner → pool, as the report stage receives it. The HitSink merges
 * these into per (source, pool endpoint) rows.
 */
export interface FlowHit {
  /** The miner / customer address. */
  src: string;
  /** The pool (or peer) endpoint. */
  poolIp: string;
  poolPort: number;
  /** IP protocol number. */
  proto: number;
  category: Category;
  evidence: Evidence[];
  blacklistEntry: string | null;
  /** Blacklist version that held the entry (null: a list given for one run only). */
  blacklistVersion: number | null;
  coin: string | null;
  login: string | null;
  worker: string | null;
  agent: string | null;
  algo: string | null;
  poolHost: string | null;
  difficulty: number | null;
  sharesSubmitted: number;
  sharesAccepted: number;
  sharesRejected: number;
  reportedHashrate: number | null;
  /** Microseconds since epoch. */
  firstSeen: number;
  lastSeen: number;
  /** Miner → pool. */
  packetsUp: number;
  bytesUp: number;
  /** Pool → miner. */
  packetsDown: number;
  bytesDown: number;
  /** Input kind and name: "pcap" + file name, "interface" + name, "stdin" + "-". */
  inputKind: string;
  input: string;
}
