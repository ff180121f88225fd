import type { Findings } from '../rules/types.js';

/**
 * A bidirectional conversation. Side A is whoever sent the first packet we saw, side B the other
 * end; that is NOT necessarily client and server (a tap may join mid-session). Which side is the
 * miner is decided later by the rules (see rules/roles.ts).
 */
export interface Flow {
  id: number;
  /** Where the flow table keeps this flow's addresses and bookkeeping (FlowTable.address). */
  slot: number;
  ipVersion: 4 | 6;
  proto: number;
  aPort: number;
  bPort: number;
  /** Microseconds since epoch. */
  firstSeen: number;
  lastSeen: number;
  packetsAB: number;
  packetsBA: number;
  bytesAB: number;
  bytesBA: number;
  /** Which side sent a bare SYN (no ACK): 0 unseen, 1 side A, 2 side B. */
  synFrom: 0 | 1 | 2;
  /** TCP teardown seen: FIN from A (1), FIN from B (2), both or RST: closed (4). */
  closeState: number;
  /** When the flow closed (µs), while it lingers. */
  closedAt: number;
  /** Name of the input (file, "-", interface) the flow was seen in. */
  input: string;
  /** What the rules found so far; created lazily by the rules, null while nothing is known. */
  findings: Findings | null;
  /** Opaque per-flow inspection state owned by src/rules; null once the rules stop inspecting. */
  inspector: unknown;
  /** True once the rules will not look at payload any more (decided or excluded). */
  inspectionDone: boolean;
  /** Side whose address is in the blacklist: 0 none, 1 side A, 2 side B. Looked up once per flow. */
  blacklistSide: 0 | 1 | 2;

  /** Start of the current active-timeout period (µs); counters restart when a period is reported. */
  periodStart: number;
}

/** Packet direction within a flow. */
export const DIR_AB = 0;
export const DIR_BA = 1;
export type Direction = 0 | 1;
