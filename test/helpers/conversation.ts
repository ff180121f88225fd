/**
 * Turns a scripted TCP conversation into real packets (correct sequence numbers, optional
 * handshake, optional splitting of messages over segments) so tests and fixtures describe
 * mining sessions as what each side says, and get bytes a tap would see.
 */
import { tcpPacket } from './frames.js';
import type { TestPacket } from './pcap-writer.js';

export interface Say {
  /** 'c' = client (the side that connects), 's' = server. */
  from: 'c' | 's';
  text: string | Uint8Array;
}

export interface ConversationOptions {
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  /** Emit SYN, SYN-ACK, ACK first (default true). */
  handshake?: boolean;
  /** Emit FIN/ACK exchange at the end (default true). */
  close?: boolean;
  /** Cut each message into segments of at most this many bytes. */
  segmentSize?: number;
  /** Keep only packets from this side (a tap that sees one direction). */
  only?: 'c' | 's';
  /** Drop the first N bytes of the payload stream of each side (a tap that joins mid-session). */
  skipBytes?: number;
  /** Wrap each IP packet (e.g. in Ethernet). */
  link?: (ip: Uint8Array) => Uint8Array;
  startMicros?: number;
  stepMicros?: number;
}

export function conversation(says: Say[], o: ConversationOptions): TestPacket[] {
  const out: { from: 'c' | 's'; data: Uint8Array }[] = [];
  let cseq = 1000;
  let sseq = 500000;
  const wrap = o.link ?? ((x: Uint8Array) => x);
  const pkt = (from: 'c' | 's', flags: string, payload: Uint8Array = new Uint8Array()) => {
    const c = from === 'c';
    const ip = tcpPacket(c ? o.client : o.server, c ? o.server : o.client, c ? o.clientPort : o.serverPort, c ? o.serverPort : o.clientPort, payload, {
      flags,
      seq: c ? cseq : sseq,
      ack: c ? sseq : cseq,
    });
    out.push({ from, data: wrap(ip) });
    if (c) cseq += payload.length + (flags.includes('S') || flags.includes('F') ? 1 : 0);
    else sseq += payload.length + (flags.includes('S') || flags.includes('F') ? 1 : 0);
  };
  if (o.handshake !== false && !o.skipBytes) {
    pkt('c', 'S');
    pkt('s', 'SA');
    pkt('c', 'A');
  }
  const skip = { c: o.skipBytes ?? 0, s: o.skipBytes ?? 0 };
  for (const say of says) {
    let bytes: Uint8Array = typeof say.text === 'string' ? Buffer.from(say.text, 'utf8') : say.text;
    if (skip[say.from] > 0) {
      const cut = Math.min(skip[say.from], bytes.length);
      skip[say.from] -= cut;
      if (say.from === 'c') cseq += cut;
      else sseq += cut;
      bytes = bytes.subarray(cut);
      if (bytes.length === 0) continue;
    }
    const size = o.segmentSize ?? bytes.length;
    for (let i = 0; i < bytes.length; i += size) pkt(say.from, 'PA', bytes.subarray(i, i + size));
  }
  if (o.close !== false) {
    pkt('c', 'FA');
    pkt('s', 'FA');
    pkt('c', 'A');
  }
  const start = o.startMicros ?? Date.UTC(2024, 0, 1) * 1000;
  const step = o.stepMicros ?? 10_000;
  return out
    .filter((p) => o.only === undefined || p.from === o.only)
    .map((p, i) => ({ data: p.data, tsMicros: start + i * step }));
}

/** Newline-terminated JSON lines, as Stratum speaks. */
export const line = (obj: unknown) => JSON.stringify(obj) + '\n';
