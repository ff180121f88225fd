/**
 * `--dump-flows`: every decoded flow record as one JSON object a line on stdout, like `nfdump -r`
 * lists a file, so an analyst can see what the exporter really sent (and compare with nfdump).
 *
 *   {"exporter":"192.0.2.1","version":9,"src":"10.0.0.1","dst":"203.0.113.7","srcPort":50123,
 *    "dstPort":3333,"proto":6,"bytes":753,"packets":8,"samplingRate":1,
 *    "start":"2024-03-01T08:00:00.000Z","end":"2024-03-01T08:00:00.140Z"}
 *
 * Counters are exactly as exported (never multiplied by the sampling rate); NAT fields (natSrc,
 * natDst, natSrcPort, natDstPort) appear only when the record carries them.
 */
import { formatAddress } from '../decode/address.js';
import type { FlowRecord } from '../capture/netflow/types.js';

/** ISO 8601 UTC, or null for a time no Date can hold (a broken exporter clock). */
function iso(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
}

export interface DumpedFlow {
  exporter: string;
  version: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  bytes: number;
  packets: number;
  samplingRate: number;
  start: string | null;
  end: string | null;
  natSrc?: string;
  natDst?: string;
  natSrcPort?: number;
  natDstPort?: number;
}

export function dumpedFlow(r: FlowRecord): DumpedFlow {
  const o: DumpedFlow = {
    exporter: r.exporter,
    version: r.version,
    src: formatAddress(r.src, r.ipVersion),
    dst: formatAddress(r.dst, r.ipVersion),
    srcPort: r.srcPort,
    dstPort: r.dstPort,
    proto: r.proto,
    bytes: r.bytes,
    packets: r.packets,
    samplingRate: r.samplingRate,
    start: iso(r.start),
    end: iso(r.end),
  };
  const nat = r.nat;
  if (nat !== null) {
    if (nat.postSrc !== null) o.natSrc = formatAddress(nat.postSrc, nat.postSrc.length === 4 ? 4 : 6);
    if (nat.postDst !== null) o.natDst = formatAddress(nat.postDst, nat.postDst.length === 4 ? 4 : 6);
    if (nat.postSrcPort !== null) o.natSrcPort = nat.postSrcPort;
    if (nat.postDstPort !== null) o.natDstPort = nat.postDstPort;
  }
  return o;
}

/** Text written per batch: big enough to cost one write per few hundred records. */
const BATCH_CHARS = 64 * 1024;

/**
 * Buffers dump lines and writes them in batches. A slow reader of stdout makes the batches
 * queue in memory (a collector cannot stop the exporters); `drained()` waits for them at the end.
 */
export class FlowDumper {
  private buf = '';
  lines = 0;
  /** The reader went away (EPIPE: `... --dump-flows | head`): stop writing, keep analysing. */
  broken = false;

  constructor(private readonly out: NodeJS.WritableStream = process.stdout) {
    out.on('error', () => {
      this.broken = true;
    });
  }

  /** Bound, so decoders can call it without a closure per record. */
  readonly write = (r: FlowRecord): void => {
    this.buf += JSON.stringify(dumpedFlow(r)) + '\n';
    this.lines++;
    if (this.buf.length >= BATCH_CHARS) this.flush();
  };

  flush(): void {
    if (this.buf === '') return;
    if (!this.broken) this.out.write(this.buf);
    this.buf = '';
  }

  /** Flush, then resolve once the stream has taken everything written (or failed: EPIPE). */
  drained(): Promise<void> {
    this.flush();
    return new Promise((resolve) => {
      const out = this.out as NodeJS.WritableStream & { writableNeedDrain?: boolean };
      if (this.broken || !out.writableNeedDrain) {
        resolve();
        return;
      }
      const done = () => {
        out.removeListener('drain', done);
        out.removeListener('error', done);
        out.removeListener('close', done);
        resolve();
      };
      out.once('drain', done);
      out.once('error', done);
      out.once('close', done);
    });
  }
}
