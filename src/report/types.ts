import type { Category, Evidence } from '../rules/types.js';

/**
 * The category of a hit. The packet rules give `mining` or `crypto-p2p`; flow records add
 * `suspect`: no list or protocol says it is mining, only a long-lived, low-volume, steady flow to
 * a pool port (src/rules/flow-records.ts). When rows or sources merge, the strongest wins:
 * mining > crypto-p2p > suspect.
 */
export type HitCategory = Category | 'suspect';

/** Strongest first: the order merges use. */
export const CATEGORY_STRENGTH: readonly HitCategory[] = ['mining', 'crypto-p2p', 'suspect'];

/** The stronger of two categories: mining > crypto-p2p > suspect. */
export function strongerCategory(a: HitCategory, b: HitCategory): HitCategory {
  if (a === 'mining' || b === 'mining') return 'mining';
  if (a === 'crypto-p2p' || b === 'crypto-p2p') return 'crypto-p2p';
  return 'suspect';
}

/**
 * Evidence as recorded in hits: the packet rules' names, plus `steady-flow` for a `suspect` flow
 * record pattern (long-lived, low-volume, steady traffic to a pool port; never a hit on its own
 * without the configuration enabling it).
 */
export type HitEvidence = Evidence | 'steady-flow';

/**
 * One flagged flow, oriented miner → pool, as the report stage receives it. The HitSink merges
 * these into per (source, pool endpoint) rows.
 */
export interface FlowHit {
  /** The miner / customer address; behind carrier-grade NAT, the customer's inside address. */
  src: string;
  /** The pool (or peer) endpoint. */
  poolIp: string;
  poolPort: number;
  /** IP protocol number. */
  proto: number;
  category: HitCategory;
  evidence: HitEvidence[];
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
  /** Miner → pool. For sampled flow records: the exported counts times `samplingRate`. */
  packetsUp: number;
  bytesUp: number;
  /** Pool → miner. Scaled like the up counts. */
  packetsDown: number;
  bytesDown: number;
  /**
   * 1-in-N packet sampling the counts were multiplied by: 1 for packet captures and unsampled
   * flow exports; N > 1 means packets and bytes are estimates (exported count × N).
   */
  samplingRate: number;
  /**
   * Carrier-grade NAT: the customer's public (outside, post-translation) address when the flow
   * record said it was translated; `src` is then the inside address. null otherwise.
   */
  natOutside: string | null;
  /**
   * Input kind and name: "pcap" + file name, "interface" + name, "stdin" + "-"; for flow records
   * "netflow" + exporter or file, "nfdump" + CSV file.
   */
  inputKind: string;
  input: string;
}
