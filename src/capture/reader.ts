import { createReadStream } from 'node:fs';
import { PoolwatchError, type ErrorCode } from '../errors.js';
import type { FormatHost, FormatParser } from './format.js';
import { newPacketView, type PacketView } from './packet.js';
import { isPcapMagic, PcapParser } from './pcap.js';
import { PCAPNG_SHB, PcapngParser } from './pcapng.js';

export interface CaptureStats {
  format: 'pcap' | 'pcapng' | null;
  /** Packets delivered to onPacket. */
  packets: number;
  /** Bytes of input consumed as complete headers and records (the file size for a sound file). */
  bytes: number;
  /** Link types declared by the input, each once, in order of appearance. */
  linkTypes: number[];
  /** Why the input stopped early; packets before it were delivered. */
  damaged: PoolwatchError | null;
  /** Packet records that could not be delivered (pcapng packet naming an undeclared interface). */
  skipped: number;
}

const INITIAL_CARRY = 64 * 1024;

/**
 * Push-driven reader for pcap and pcapng. Chunks may split records anywhere: a record lying
 * wholly inside a chunk is handed out as a view of that chunk (zero copy); only a record
 * straddling chunks is assembled in `carry`, one buffer grown as needed and reused.
 */
export class CaptureReader implements FormatHost {
  readonly stats: CaptureStats = { format: null, packets: 0, bytes: 0, linkTypes: [], damaged: null, skipped: 0 };
  private readonly pv: PacketView = newPacketView();
  private parser: FormatParser | null = null;
  /** Absolute input offset of the unit the parser is looking at. */
  private unitOffset = 0;
  private records = 0;
  private carry: Buffer = Buffer.allocUnsafe(INITIAL_CARRY);
  private carryLen = 0;
  /** Bytes the unit in `carry` needs before the parser can say more. */
  private need = 0;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly onPacket: (p: PacketView) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    const n = chunk.length;
    let pos = 0;
    if (this.carryLen > 0) {
      for (;;) {
        const take = Math.min(this.need - this.carryLen, n - pos);
        chunk.copy(this.carry, this.carryLen, pos, pos + take);
        this.carryLen += take;
        pos += take;
        if (this.carryLen < this.need) {
          this.stats.bytes = this.unitOffset;
          return;
        }
        const r = this.step(this.carry, 0, this.carryLen);
        if (r === 0) return;
        if (r < 0) {
          if (-r <= this.carryLen) throw new Error(`capture parser asked for ${-r} bytes while holding ${this.carryLen}`);
          // Header complete, now the parser knows the whole unit's size.
          this.growCarry(-r);
          this.need = -r;
          continue;
        }
        // `need` was exact, so the parser consumed exactly the carried unit.
        this.unitOffset += r;
        this.carryLen = 0;
        break;
      }
    }
    for (;;) {
      const r = this.step(chunk, pos, n - pos);
      if (r > 0) {
        pos += r;
        this.unitOffset += r;
        continue;
      }
      if (r === 0) return;
      // Incomplete unit at the chunk's end: keep its bytes for the next push.
      if (-r <= n - pos) throw new Error(`capture parser asked for ${-r} bytes while holding ${n - pos}`);
      this.growCarry(-r);
      this.need = -r;
      this.carryLen = n - pos;
      chunk.copy(this.carry, 0, pos, n);
      break;
    }
    this.stats.bytes = this.unitOffset;
  }

  end(): CaptureStats {
    if (this.stopped) return this.stats;
    if (this.carryLen > 0) {
      this.damage('PW_ERR_TRUNCATED', `input ends inside a record: ${this.carryLen} of its ${this.need} bytes present`);
    } else if (this.unitOffset === 0) {
      this.damage('PW_ERR_TRUNCATED', 'input is empty: no capture file header');
    }
    this.stopped = true;
    this.stats.bytes = this.unitOffset;
    return this.stats;
  }

  private step(buf: Buffer, off: number, avail: number): number {
    const p = this.parser;
    if (p !== null) return p.step(buf, off, avail);
    if (avail < 4) return -4;
    // The format comes from the magic number alone; file names lie.
    const magic = buf.readUInt32BE(off);
    if (isPcapMagic(magic)) {
      this.stats.format = 'pcap';
      this.parser = new PcapParser(this, magic);
    } else if (magic === PCAPNG_SHB) {
      this.stats.format = 'pcapng';
      this.parser = new PcapngParser(this);
    } else {
      return this.damage('PW_ERR_BAD_MAGIC', `not a pcap or pcapng capture (first bytes 0x${magic.toString(16).padStart(8, '0')})`);
    }
    return this.parser.step(buf, off, avail);
  }

  private growCarry(size: number): void {
    if (size <= this.carry.length) return;
    const next = Buffer.allocUnsafe(Math.max(size, this.carry.length * 2));
    this.carry.copy(next, 0, 0, this.carryLen);
    this.carry = next;
  }

  // ---- FormatHost: called by the parsers ----

  deliver(data: Buffer, offset: number, caplen: number, origLen: number, tsMicros: number, linkType: number): void {
    const pv = this.pv;
    pv.data = data;
    pv.offset = offset;
    pv.caplen = caplen;
    pv.origLen = origLen;
    pv.tsMicros = tsMicros;
    pv.linkType = linkType;
    // Counts skipped records too, so index + 1 matches the frame number other tools show.
    pv.index = this.records++;
    pv.fileOffset = this.unitOffset;
    this.stats.packets++;
    this.onPacket(pv);
  }

  skip(): void {
    this.records++;
    this.stats.skipped++;
  }

  damage(code: ErrorCode, message: string): 0 {
    this.stats.damaged = new PoolwatchError(code, message, { file: this.name, offset: this.unitOffset });
    this.stats.bytes = this.unitOffset;
    this.stopped = true;
    return 0;
  }

  addLinkType(linkType: number): void {
    if (!this.stats.linkTypes.includes(linkType)) this.stats.linkTypes.push(linkType);
  }
}

/** A stream failure as one line naming the input (Node's own message repeats the path). */
export function ioError(name: string, e: unknown): PoolwatchError {
  const err = e as NodeJS.ErrnoException;
  const detail = typeof err?.message === 'string' ? err.message.split(', ')[0] : String(e);
  return new PoolwatchError('PW_ERR_IO', `cannot read: ${detail}`, { file: name, cause: err?.code });
}

/**
 * Reads a whole stream. Resolves with the stats when the stream ends or the input turns out
 * damaged (then the stream is destroyed: nothing after damage is believed); rejects with
 * PW_ERR_IO when the stream fails, or with whatever onPacket threw.
 */
export function readCaptureStream(
  stream: NodeJS.ReadableStream,
  name: string,
  onPacket: (p: PacketView) => void,
): Promise<CaptureStats> {
  return new Promise((resolve, reject) => {
    const reader = new CaptureReader(name, onPacket);
    let settled = false;
    const stop = () => {
      stream.removeListener('data', onData);
      (stream as { destroy?: () => void }).destroy?.();
    };
    const onData = (chunk: Buffer | string) => {
      if (settled) return;
      // One try per chunk, never per packet: an onPacket exception ends the read cleanly.
      try {
        reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
      } catch (e) {
        settled = true;
        stop();
        reject(e);
        return;
      }
      if (reader.stats.damaged !== null) {
        settled = true;
        stop();
        resolve(reader.stats);
      }
    };
    const onEnd = () => {
      if (settled) return;
      settled = true;
      resolve(reader.end());
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    // 'close' without 'end' means the stream was cut off: end() reports a partial record.
    stream.once('close', onEnd);
    // Stays attached after settling, so a late error cannot become an uncaught exception.
    stream.on('error', (e) => {
      if (settled) return;
      settled = true;
      stop();
      reject(ioError(name, e));
    });
  });
}

/** Reads a capture file in 1 MiB chunks. A missing or unreadable file rejects with PW_ERR_IO. */
export function readCaptureFile(path: string, onPacket: (p: PacketView) => void): Promise<CaptureStats> {
  return readCaptureStream(createReadStream(path, { highWaterMark: 1 << 20 }), path, onPacket);
}
