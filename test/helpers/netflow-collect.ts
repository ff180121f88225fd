/**
 * Runs datagrams through a FlowDecoder and turns the records into plain objects with addresses
 * as text, so tests compare whole records with toEqual.
 */
import type { FlowDecoder } from '../../src/capture/netflow/decoder.js';
import type { FlowRecord } from '../../src/capture/netflow/types.js';
import { formatAddress } from '../../src/decode/address.js';

export interface PlainNat {
  postSrc: string | null;
  postDst: string | null;
  postSrcPort: number | null;
  postDstPort: number | null;
}

export interface PlainRecord extends Omit<FlowRecord, 'src' | 'dst' | 'nat'> {
  src: string;
  dst: string;
  nat: PlainNat | null;
}

function addr(b: Uint8Array | null): string | null {
  if (b === null) return null;
  if (b.length !== 4 && b.length !== 16) throw new Error(`address of ${b.length} bytes`);
  return formatAddress(b, b.length === 4 ? 4 : 6);
}

export function plain(r: FlowRecord): PlainRecord {
  if (r.src.length !== (r.ipVersion === 4 ? 4 : 16) || r.dst.length !== r.src.length) {
    throw new Error(`IPv${r.ipVersion} record with ${r.src.length}/${r.dst.length}-byte addresses`);
  }
  return {
    ...r,
    src: addr(r.src) as string,
    dst: addr(r.dst) as string,
    nat: r.nat === null ? null : { ...r.nat, postSrc: addr(r.nat.postSrc), postDst: addr(r.nat.postDst) },
  };
}

export interface Fed {
  records: PlainRecord[];
  raw: FlowRecord[];
  results: { version: number; records: number; error: string | null }[];
}

/** Feeds each datagram (from `exporter`, at `atMs` + 1 ms per datagram unless given). */
export function feed(dec: FlowDecoder, datagrams: Uint8Array[], exporter = '192.0.2.1', atMs = 1_700_000_000_000): Fed {
  const out: Fed = { records: [], raw: [], results: [] };
  datagrams.forEach((d, i) => {
    const res = dec.decode(d, 0, d.length, exporter, atMs + i, (r) => {
      out.raw.push(r);
      out.records.push(plain(r));
    });
    out.results.push(res);
  });
  return out;
}

export function statsOf(dec: FlowDecoder, exporter: string, domain: number) {
  const s = dec.exporters().find((e) => e.exporter === exporter && e.domain === domain);
  if (s === undefined) throw new Error(`no stats for ${exporter} domain ${domain}`);
  return s;
}
