/**
 * Sampling rates as "1 in N" (FlowRecord.samplingRate). Counters stay as exported; scaling by N
 * happens downstream. N may be fractional (e.g. 3 of every 10 packets: N = 10/3).
 *
 * Where a rate comes from, most specific first (records.ts applies this order):
 *   1. the data record's own sampling fields;
 *   2. the record's samplerId (48) / selectorId (302) → the rate an options record gave that id;
 *   3. the template id → the rate an options record scoped to that template gave (IPFIX routers
 *      scope samplingPacketInterval/Space by templateId);
 *   4. the latest rate of the exporter+domain (v5 header, any options record);
 *   5. 1 (unsampled, or not known).
 */
import type { DomainState } from './state.js';

/**
 * N from whichever sampling parameters a record carries (0 = none):
 * - samplingInterval (34) / samplerRandomInterval (50), NetFlow v9 and RFC 7012: one packet of
 *   every N is sampled → N.
 * - samplingPacketInterval (305) p and samplingPacketSpace (306) s, systematic count-based
 *   sampling (RFC 5475 §5.1, element definitions RFC 5477 §8.2): p consecutive packets selected,
 *   then s skipped → (p + s) / p.
 * - samplingSize (309) n and samplingPopulation (310) N, random n-out-of-N (RFC 5475 §5.2.1)
 *   → N / n.
 * - samplingProbability (311) q, uniform probabilistic sampling (RFC 5475 §5.2.2) → 1 / q.
 */
export function rateOf(
  interval: number,
  pktInterval: number,
  pktSpace: number,
  size: number,
  population: number,
  probability: number,
): number {
  if (interval > 0) return interval;
  if (pktInterval > 0 && pktSpace >= 0) return (pktInterval + pktSpace) / pktInterval;
  if (size > 0 && population >= size) return population / size;
  if (probability > 0 && probability <= 1) return 1 / probability;
  return 0;
}

/** Rates remembered per sampler or template id; more than this and the oldest go. */
const MAX_IDS = 1024;

function remember(m: Map<number, number>, id: number, rate: number): void {
  m.delete(id);
  m.set(id, rate);
  if (m.size > MAX_IDS) m.delete(m.keys().next().value as number);
}

/** What an options data record says about sampling; samplerId/templateId -1 when not scoped. */
export function learnRate(dom: DomainState, rate: number, samplerId: number, templateId: number): void {
  if (rate <= 0) return;
  dom.rate = rate;
  if (samplerId >= 0) remember(dom.samplerRates, samplerId, rate);
  if (templateId >= 0) remember(dom.templateRates, templateId, rate);
}
