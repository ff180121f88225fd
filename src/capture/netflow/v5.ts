/**
 * NetFlow v5: a 24-byte header and up to 30 fixed 48-byte records (Cisco's "NetFlow Export
 * Datagram Format", version 5). No templates; the sampling interval is in the header.
 */
import { copyBytes, u16, u32 } from './read.js';
import { drop, fail, type DomainState, type Header, type Run } from './state.js';
import { trackSequence, WINDOW_V5 } from './sequence.js';
import { uptimeToMs } from './times.js';
import type { FlowRecord } from './types.js';

export const V5_HEADER = 24;
const V5_RECORD = 48;
const V5_MAX_COUNT = 30;

/** Domain of a v5 datagram: engine type << 8 | engine id. */
export function v5Domain(b: Uint8Array, start: number): number {
  return (b[start + 20] << 8) | b[start + 21];
}

export function decodeV5(b: Uint8Array, start: number, end: number, dom: DomainState, h: Header, run: Run): void {
  dom.datagrams++;
  const count = u16(b, start + 2);
  const sysUptime = h.sysUptime;
  const seq = u32(b, start + 16);
  // Low 14 bits: the interval; top 2 bits: the mode (1 = deterministic, 2 = random). An
  // interval of 0 means unsampled.
  const interval = u16(b, start + 22) & 0x3fff;
  dom.rate = interval > 0 ? interval : null;
  const rate = interval > 0 ? interval : 1;
  trackSequence(dom, seq, count, 1, WINDOW_V5, sysUptime);

  const room = Math.floor((end - start - V5_HEADER) / V5_RECORD);
  let n = count;
  if (count > V5_MAX_COUNT) fail(run, dom, 2, `count ${count} is above v5's maximum of ${V5_MAX_COUNT}`);
  if (n > room) {
    fail(run, dom, V5_HEADER + room * V5_RECORD, `count says ${count} records, the datagram holds ${room}`);
    drop(run, dom, n - room);
    n = room;
  }
  const exportMs = h.exportMs;
  for (let k = 0, p = start + V5_HEADER; k < n; k++, p += V5_RECORD) {
    const rec: FlowRecord = {
      exporter: h.exporter,
      version: 5,
      domain: dom.domain,
      ipVersion: 4,
      src: copyBytes(b, p, 4),
      dst: copyBytes(b, p + 4, 4),
      srcPort: u16(b, p + 32),
      dstPort: u16(b, p + 34),
      proto: b[p + 38],
      tcpFlags: b[p + 37],
      bytes: u32(b, p + 20),
      packets: u32(b, p + 16),
      samplingRate: rate,
      start: uptimeToMs(exportMs, sysUptime, u32(b, p + 24)),
      end: uptimeToMs(exportMs, sysUptime, u32(b, p + 28)),
      nat: null,
    };
    dom.records++;
    run.records++;
    run.totals.records++;
    run.onRecord(rec);
  }
}
