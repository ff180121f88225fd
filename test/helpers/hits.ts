import type { FlowHit } from '../../src/report/types.js';

/** 2024-05-01T12:00:00.000Z in microseconds, the unit of FlowHit times. */
export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
export const SEC = 1_000_000;

/** A flagged Stratum flow 10.0.0.2 → 203.0.113.5:3333, one packet each way; `over` changes fields. */
export function hit(over: Partial<FlowHit> = {}): FlowHit {
  return {
    src: '10.0.0.2',
    poolIp: '203.0.113.5',
    poolPort: 3333,
    proto: 6,
    category: 'mining',
    evidence: ['stratum'],
    blacklistEntry: null,
    blacklistVersion: null,
    coin: null,
    login: null,
    worker: null,
    agent: null,
    algo: null,
    poolHost: null,
    difficulty: null,
    sharesSubmitted: 0,
    sharesAccepted: 0,
    sharesRejected: 0,
    reportedHashrate: null,
    firstSeen: T0,
    lastSeen: T0 + SEC,
    packetsUp: 1,
    bytesUp: 100,
    packetsDown: 1,
    bytesDown: 200,
    samplingRate: 1,
    natOutside: null,
    inputKind: 'pcap',
    input: 'a.pcap',
    ...over,
  };
}
