import type { Direction, Flow } from '../flow/types.js';
import { inferCoin } from './coin.js';
import type { DialectResult } from './dialects/types.js';
import { addEvidence, newFindings, type Evidence, type Findings } from './types.js';

/** The part of the per-flow inspector state that folding results into findings needs. */
export interface ResultMemory {
  /** A strong mining message has been seen. */
  mining: boolean;
  /** minerSide was set from the protocol (it then beats a blacklist-based guess). */
  protocolRole: boolean;
  familyCoin: string | null;
  familyStrong: boolean;
}

function side(sender: 'miner' | 'pool', dir: Direction): 1 | 2 {
  // dir 0 is A → B: the sender is side A.
  const senderSide = dir === 0 ? 1 : 2;
  return sender === 'miner' ? senderSide : senderSide === 1 ? 2 : 1;
}

function findingsOf(flow: Flow): Findings {
  if (flow.findings === null) flow.findings = newFindings();
  return flow.findings;
}

/** Fold one mining message into the flow's findings. */
export function applyMining(flow: Flow, mem: ResultMemory, dir: Direction, r: DialectResult): void {
  if (r.weak && !mem.mining) return;
  const f = findingsOf(flow);
  mem.mining = true;
  // EthereumStratum is a Stratum dialect: messages read as plain Stratum before the dialect
  // showed itself (a tap that missed subscribe) were this session all along.
  if (r.evidence === 'ethereum-stratum') {
    const i = f.evidence.indexOf('stratum');
    if (i >= 0) f.evidence.splice(i, 1);
  }
  addEvidence(f, r.evidence);
  f.category = 'mining';
  if (r.sender !== null && !mem.protocolRole) {
    f.minerSide = side(r.sender, dir);
    mem.protocolRole = true;
  }
  let coinInputs = false;
  // Identity fields: the first value seen stays (authorize comes before submit repeats it).
  if (r.login !== null && f.login === null) {
    f.login = r.login;
    coinInputs = true;
  }
  if (r.worker !== null && f.worker === null) f.worker = r.worker;
  if (r.agent !== null && f.agent === null) f.agent = r.agent;
  if (r.poolHost !== null && f.poolHost === null) {
    f.poolHost = r.poolHost;
    coinInputs = true;
  }
  // The pool's algorithm is current (jobs may switch it); a miner's only fills a gap.
  if (r.algo !== null && (f.algo === null || r.sender === 'pool') && f.algo !== r.algo) {
    f.algo = r.algo;
    coinInputs = true;
  }
  if (r.coinHint !== null && (mem.familyCoin === null || (r.coinHintStrong && !mem.familyStrong))) {
    mem.familyCoin = r.coinHint;
    mem.familyStrong = r.coinHintStrong;
    coinInputs = true;
  }
  // Pool settings: the last one counts.
  if (r.difficulty !== null) f.difficulty = r.difficulty;
  if (r.target !== null) f.target = r.target;
  if (r.reportedHashrate !== null) f.reportedHashrate = r.reportedHashrate;
  if (r.share === 'submitted') f.sharesSubmitted++;
  else if (r.share === 'accepted') f.sharesAccepted++;
  else if (r.share === 'rejected') f.sharesRejected++;
  if (coinInputs) {
    const coin = inferCoin({
      algo: f.algo,
      host: f.poolHost,
      login: f.login,
      family: mem.familyCoin,
      familyStrong: mem.familyStrong,
    });
    if (coin !== null) f.coin = coin;
  }
}

/** What a crypto P2P handshake told us. */
export interface P2pFinding {
  evidence: Evidence;
  coin: string;
  agent: string | null;
  /** Side that opened the conversation, 0 when unknown. */
  initiator: 0 | 1 | 2;
}

/** Fold a P2P detection into the findings; mining (if any) keeps the category. */
export function applyP2p(flow: Flow, p: P2pFinding): void {
  const f = findingsOf(flow);
  addEvidence(f, p.evidence);
  if (f.category === null) f.category = 'crypto-p2p';
  if (f.coin === null) f.coin = p.coin;
  if (f.agent === null) f.agent = p.agent;
  // A peer is nobody's "miner": the initiator stands in for the client side.
  if (f.minerSide === 0) f.minerSide = p.initiator;
}
