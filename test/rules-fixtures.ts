// Shared by the test/rules-*.test.ts files: a fake Flow and a tiny TCP sender that keeps
// sequence numbers per direction, so tests feed real protocol bytes through inspectPayload.
import type { Direction, Flow } from '../src/flow/types.js';
import { inspectPayload } from '../src/rules/inspect.js';
import type { ListedNames } from '../src/rules/types.js';

export function makeFlow(over: Partial<Flow> = {}): Flow {
  return {
    id: 1,
    slot: 0,
    ipVersion: 4,
    proto: 6,
    aPort: 50000,
    bPort: 3333,
    firstSeen: 0,
    lastSeen: 0,
    packetsAB: 0,
    packetsBA: 0,
    bytesAB: 0,
    bytesBA: 0,
    synFrom: 0,
    closeState: 0,
    closedAt: 0,
    input: 'test',
    findings: null,
    inspector: null,
    inspectionDone: false,
    blacklistSide: 0,
    periodStart: 0,
    ...over,
  };
}

export const AB: Direction = 0;
export const BA: Direction = 1;

/** A TCP conversation: each direction's next sequence number, starting somewhere odd. */
export class Conn {
  readonly flow: Flow;
  readonly seq: [number, number] = [0xfffff000, 1000];
  /** `names`: listed domains for SNI and Host matching (none by default). */
  constructor(flow: Flow = makeFlow(), readonly names: ListedNames | null = null) {
    this.flow = flow;
  }
  /** Send bytes as one segment, inside a bigger buffer so offsets are exercised. */
  send(dir: Direction, data: Buffer | string): this {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const wrapped = Buffer.concat([Buffer.from('JUNK'), b, Buffer.from('TAIL')]);
    inspectPayload(this.flow, dir, wrapped, 4, b.length, this.seq[dir], this.names);
    this.seq[dir] = (this.seq[dir] + b.length) >>> 0;
    return this;
  }
  /** Send at an explicit sequence number without moving the counter (retransmission). */
  sendAt(dir: Direction, data: Buffer | string, seq: number): this {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    inspectPayload(this.flow, dir, b, 0, b.length, seq >>> 0, this.names);
    return this;
  }
  /** Pretend `n` bytes were lost. */
  lose(dir: Direction, n: number): this {
    this.seq[dir] = (this.seq[dir] + n) >>> 0;
    return this;
  }
  /** Send split into segments at the given cut positions. */
  sendSplit(dir: Direction, data: Buffer | string, cuts: number[]): this {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let p = 0;
    for (const c of [...cuts, b.length]) {
      if (c > p) this.send(dir, b.subarray(p, c));
      p = c;
    }
    return this;
  }
}

/** Lines as a miner/pool writes them: JSON + '\n'. */
export function lines(...msgs: string[]): string {
  return msgs.map((m) => m + '\n').join('');
}

/** Bytes of a plausible non-mining payload. */
export function randomBytes(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}
