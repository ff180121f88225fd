/**
 * The real export captures in ../shared/netflow: read with the project's capture reader and
 * packet decoder (UDP payload → FlowDecoder), and decoded by tshark for comparison. The files are
 * AGPL data: they are read where they are, at run time, and never copied into this repository
 * (the merged file tshark needs goes to the system temp directory and is removed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FlowDecoder } from '../../src/capture/netflow/decoder.js';
import type { FlowRecord } from '../../src/capture/netflow/types.js';
import { readCaptureFile } from '../../src/capture/reader.js';
import { decodePacket, formatAddress } from '../../src/decode/index.js';
import { newDecodedPacket, PROTO_UDP } from '../../src/decode/types.js';

export interface Fed {
  records: FlowRecord[];
  results: { file: string; version: number; records: number; error: string | null }[];
}

/** Every UDP payload of the files, in order, to one decoder; the exporter is the IP source. */
export async function feedCaptures(dec: FlowDecoder, files: string[]): Promise<Fed> {
  const out: Fed = { records: [], results: [] };
  const pkt = newDecodedPacket();
  for (const file of files) {
    await readCaptureFile(file, (p) => {
      if (decodePacket(p, pkt) !== 'ok' || pkt.proto !== PROTO_UDP) throw new Error(`${file}: packet ${p.index} is not UDP`);
      const exporter = formatAddress(pkt.src, pkt.ipVersion === 6 ? 6 : 4);
      const res = dec.decode(p.data, pkt.payloadOffset, pkt.payloadLength, exporter, Math.floor(p.tsMicros / 1000), (r) => out.records.push(r));
      out.results.push({ file: path.basename(file), ...res });
    });
  }
  return out;
}

/**
 * Classic pcap files (same link type) → one file holding all their packets in order, so tshark
 * sees the templates before the data. Only the first global header is kept.
 */
function mergePcaps(files: string[], out: string): void {
  const parts: Buffer[] = [];
  files.forEach((f, i) => {
    const b = readFileSync(f);
    const magic = b.readUInt32LE(0);
    if (magic !== 0xa1b2c3d4 && magic !== 0xd4c3b2a1) throw new Error(`${f}: not a classic pcap file`);
    if (i === 0) {
      const head = Buffer.from(b.subarray(0, 24));
      // the snap length of the first file might be smaller than a later file's packets
      if (magic === 0xa1b2c3d4) head.writeUInt32LE(262144, 16);
      else head.writeUInt32BE(262144, 16);
      parts.push(head);
    } else if (b.readUInt32LE(0) !== readFileSync(files[0]).readUInt32LE(0) || b.readUInt32LE(20) !== readFileSync(files[0]).readUInt32LE(20)) {
      throw new Error(`${f}: byte order or link type differs from ${files[0]}`);
    }
    parts.push(b.subarray(24));
  });
  writeFileSync(out, Buffer.concat(parts));
}

export function haveTshark(): boolean {
  return spawnSync('tshark', ['--version']).status === 0;
}

/** tshark's JSON for the files (merged in order), decoding `port` as NetFlow/IPFIX. */
export function tsharkJson(files: string[], port: number): TsharkPacket[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'poolwatch-netflow-'));
  try {
    const merged = path.join(dir, 'merged.pcap');
    mergePcaps(files, merged);
    const r = spawnSync('tshark', ['-r', merged, '-d', `udp.port==${port},cflow`, '-T', 'json', '--no-duplicate-keys'], {
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as TsharkPacket[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Json = string | Json[] | { [k: string]: Json };
export interface TsharkPacket {
  _source: { layers: { [layer: string]: { [k: string]: Json } } };
}
