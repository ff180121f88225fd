import type { PacketView } from './capture/packet.js';
import type { CaptureStats } from './capture/reader.js';
import type { LiveBlacklist } from './blacklist/live.js';
import { decodePacket } from './decode/index.js';
import { newDecodedPacket, PROTO_TCP, PROTO_UDP } from './decode/types.js';
import { FlowTable, type FlowEndReason, type FlowTableOptions } from './flow/table.js';
import type { Flow } from './flow/types.js';
import { learnFromDns } from './rules/dns.js';
import { inspectPayload } from './rules/inspect.js';
import { decideMinerSide } from './rules/roles.js';
import { addEvidence, newFindings } from './rules/types.js';
import type { FlowHit } from './report/types.js';
import type { Logger } from './log.js';

/** DNS answers come from this port; only packets from it are read as DNS. */
const DNS_PORT = 53;

export interface PipelineOptions {
  /**
   * The list in force: addresses matched once per new flow, names where the rules read them, and
   * DNS answers teach it addresses. Swappable while the pipeline runs (LiveBlacklist.swap).
   */
  blacklist: LiveBlacklist;
  poolPorts: ReadonlySet<number>;
  flows: FlowTableOptions;
  /** Receives every flagged flow, oriented miner → pool. */
  onHit: (hit: FlowHit) => void;
  log: Logger;
}

export interface InputSummary {
  input: string;
  kind: string;
  packets: number;
  bytes: number;
  damaged: string | null;
  skippedLinkTypes: number[];
}

export interface RunStats {
  packets: number;
  /** Input bytes consumed (file bytes, not wire bytes). */
  bytes: number;
  ipPackets: number;
  notIp: number;
  unsupportedLink: number;
  truncated: number;
  malformed: number;
  laterFragments: number;
  otherProtocols: number;
  flows: number;
  flowsEvicted: number;
  flaggedFlows: number;
  /** Addresses DNS answers for listed names taught (one per address and answer). */
  dnsLearned: number;
  inputs: InputSummary[];
}

/**
 * The packet path in one place: decode → flow table → rules → hits. One instance lives for a
 * whole run so that flows continue across consecutive files (rotated captures of one link).
 */
export class Pipeline {
  readonly stats: RunStats = {
    packets: 0,
    bytes: 0,
    ipPackets: 0,
    notIp: 0,
    unsupportedLink: 0,
    truncated: 0,
    malformed: 0,
    laterFragments: 0,
    otherProtocols: 0,
    flows: 0,
    flowsEvicted: 0,
    flaggedFlows: 0,
    dnsLearned: 0,
    inputs: [],
  };
  private readonly pkt = newDecodedPacket();
  private readonly table: FlowTable;
  private input = '';
  private inputKind = '';
  private warnedLinkTypes = new Set<number>();

  constructor(private readonly opts: PipelineOptions) {
    this.table = new FlowTable(opts.flows, (f) => this.flowStarted(f), (f, r) => this.flowEnded(f, r));
  }

  beginInput(name: string, kind: string): void {
    this.input = name;
    this.inputKind = kind;
    this.warnedLinkTypes = new Set();
  }

  /** Bound once so the capture reader can call it without a closure per packet. */
  readonly handlePacket = (p: PacketView): void => {
    this.stats.packets++;
    const pkt = this.pkt;
    const outcome = decodePacket(p, pkt);
    if (outcome !== 'ok') {
      this.countFailure(outcome, p.linkType);
      return;
    }
    this.stats.ipPackets++;
    if (pkt.laterFragment) {
      // No transport header: attributing it to a flow would need reassembly; counted instead.
      this.stats.laterFragments++;
      return;
    }
    if (pkt.proto !== PROTO_TCP && pkt.proto !== PROTO_UDP) {
      this.stats.otherProtocols++;
      return;
    }
    const flow = this.table.track(pkt, p.tsMicros, this.input);
    if (pkt.payloadLength === 0) return;
    if (pkt.proto === PROTO_TCP) {
      if (!flow.inspectionDone) {
        inspectPayload(flow, this.table.dir, p.data, pkt.payloadOffset, pkt.payloadLength, pkt.tcpSeq, this.opts.blacklist);
      }
      // Not instead of the payload rules: port 53 is a pool port too for miners dodging firewalls.
      if (pkt.srcPort === DNS_PORT) this.dns(p, true);
    } else if (pkt.srcPort === DNS_PORT) this.dns(p, false);
    // Any other UDP packet costs one port comparison here.
  };

  /**
   * A DNS answer teaches the live list the addresses of listed names; it never flags its own flow
   * (the resolver is not a miner). The flows that follow to those addresses are what get flagged.
   */
  private dns(p: PacketView, tcp: boolean): void {
    const pkt = this.pkt;
    const end = pkt.payloadOffset + pkt.payloadLength;
    this.stats.dnsLearned += learnFromDns(p.data, pkt.payloadOffset, end, tcp, this.opts.blacklist, p.tsMicros);
  }

  /**
   * Capture time seen elsewhere has reached `tsMicros` (scan --workers: packets that went to other
   * workers): idle flows here end as they would had this pipeline seen them.
   */
  advanceTo(tsMicros: number): void {
    this.table.tick(tsMicros);
  }

  endInput(capture: CaptureStats): void {
    this.stats.bytes += capture.bytes;
    this.stats.inputs.push({
      input: this.input,
      kind: this.inputKind,
      packets: capture.packets,
      bytes: capture.bytes,
      damaged: capture.damaged ? capture.damaged.message : null,
      skippedLinkTypes: [...this.warnedLinkTypes],
    });
  }

  /** End every flow still open and report what was flagged. */
  finish(): RunStats {
    this.table.flush();
    this.stats.flows = this.table.stats.flows;
    this.stats.flowsEvicted = this.table.stats.evicted;
    return this.stats;
  }

  private countFailure(outcome: string, linkType: number): void {
    switch (outcome) {
      case 'not-ip':
        this.stats.notIp++;
        break;
      case 'unsupported-link':
        this.stats.unsupportedLink++;
        if (!this.warnedLinkTypes.has(linkType)) {
          this.warnedLinkTypes.add(linkType);
          this.opts.log.warn({ input: this.input, linkType }, 'unsupported link type: packets skipped');
        }
        break;
      case 'truncated':
        this.stats.truncated++;
        break;
      default:
        this.stats.malformed++;
    }
  }

  /**
   * The blacklist is consulted once per flow, for both ends: a tap may see the pool speak first.
   * Against the snapshot in force at the flow's first packet, and the addresses DNS taught so far.
   */
  private flowStarted(flow: Flow): void {
    const bl = this.opts.blacklist;
    const table = this.table;
    let m = bl.matchAddress(table.addressBytes(flow, 2), flow.ipVersion, flow.bPort, flow.firstSeen);
    if (m !== null) flow.blacklistSide = 2;
    else {
      m = bl.matchAddress(table.addressBytes(flow, 1), flow.ipVersion, flow.aPort, flow.firstSeen);
      if (m !== null) flow.blacklistSide = 1;
    }
    if (m === null) return;
    const f = (flow.findings ??= newFindings());
    f.blacklistEntry = m.entry;
    f.blacklistVersion = m.version;
    f.category = 'mining';
    if (m.domain !== null) f.poolHost = m.domain;
    addEvidence(f, m.evidence);
  }

  private flowEnded(flow: Flow, reason: FlowEndReason): void {
    const f = flow.findings;
    if (reason !== 'active') flow.inspector = null;
    if (f === null || f.category === null) return;
    this.stats.flaggedFlows++;
    const minerIsA = decideMinerSide(flow, this.opts.poolPorts).side === 1;
    this.opts.onHit({
      src: this.table.address(flow, minerIsA ? 1 : 2),
      poolIp: this.table.address(flow, minerIsA ? 2 : 1),
      poolPort: minerIsA ? flow.bPort : flow.aPort,
      proto: flow.proto,
      category: f.category,
      evidence: f.evidence.slice(),
      blacklistEntry: f.blacklistEntry,
      blacklistVersion: f.blacklistVersion,
      coin: f.coin,
      login: f.login,
      worker: f.worker,
      agent: f.agent,
      algo: f.algo,
      poolHost: f.poolHost,
      difficulty: f.difficulty,
      sharesSubmitted: f.sharesSubmitted,
      sharesAccepted: f.sharesAccepted,
      sharesRejected: f.sharesRejected,
      reportedHashrate: f.reportedHashrate,
      firstSeen: flow.firstSeen,
      lastSeen: flow.lastSeen,
      packetsUp: minerIsA ? flow.packetsAB : flow.packetsBA,
      bytesUp: minerIsA ? flow.bytesAB : flow.bytesBA,
      packetsDown: minerIsA ? flow.packetsBA : flow.packetsAB,
      bytesDown: minerIsA ? flow.bytesBA : flow.bytesAB,
      samplingRate: 1, natOutside: null, // packets are counted, not sampled; no NAT view
      inputKind: this.inputKind,
      input: flow.input,
    });
    if (reason === 'active') {
      // The next period reports only the shares it sees itself.
      f.sharesSubmitted = 0;
      f.sharesAccepted = 0;
      f.sharesRejected = 0;
    }
  }
}
