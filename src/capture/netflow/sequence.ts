/**
 * Loss and restarts from header sequence numbers, per exporter + domain.
 *
 * What a sequence number counts differs by version, and so does how far it moves per datagram:
 * - v5 flow_sequence: flows seen before this datagram → advances by the header's count;
 * - v9 sequence: export packets (RFC 3954, packet header) → advances by 1;
 * - IPFIX sequence: data records sent before this message (RFC 7011 §3.1) → advances by the
 *   data records in the message (options data included), unknown when a set waits for its
 *   template (the next datagram then re-synchronises without counting anything).
 *
 * A number ahead of the expected one is a gap (lost datagrams). One a little behind is a
 * datagram UDP delivered late: it gives back what its gap had counted. One far behind (more than
 * the window) or absurdly far ahead (2^30) is an exporter restart: counted, and the sequence
 * re-synchronises. v5/v9 also carry sysUptime: uptime going back more than a minute is a restart
 * too (a late datagram is behind by far less).
 *
 * Templates are NOT dropped on a restart. The template rules of RFC 3954 and RFC 7011 §8 make a
 * restarted exporter send its templates again, and a re-sent template replaces the old one by
 * id, so keeping them costs nothing when the exporter behaves; dropping them would lose data
 * whenever a restart is detected falsely (reordered datagrams; the real captures in shared/netflow include exporters
 * whose uptime or sequence goes back between the template and the data datagram).
 */
import type { DomainState } from './state.js';

const TWO32 = 4294967296;
const FAR_AHEAD = 1073741824; // 2^30
const UPTIME_BACK_MS = 60_000;

/** How far behind (in sequence units) a late datagram may be before it counts as a restart. */
export const WINDOW_V5 = 3000; // ~100 datagrams of 30 flows
export const WINDOW_V9 = 100; // datagrams
export const WINDOW_IPFIX = 5000; // records

/**
 * One datagram's sequence number. `units` is how far it moves the sequence (-1: unknown);
 * `recordsPerUnit` converts a gap to records (1, or v9's mean records per datagram); `uptime` is
 * the header's sysUptime (-1 for IPFIX).
 */
export function trackSequence(dom: DomainState, seq: number, units: number, recordsPerUnit: number, window: number, uptime: number): void {
  const s = dom.seq;
  let restart = false;
  if (uptime >= 0 && s.lastUptime >= 0) {
    const d = (uptime - s.lastUptime) | 0; // signed: uptime wraps after 49.7 days
    if (d < -UPTIME_BACK_MS) restart = true;
  }
  let late = false;
  if (!restart && s.expected >= 0) {
    const ahead = (((seq - s.expected) % TWO32) + TWO32) % TWO32;
    if (ahead !== 0) {
      if (ahead < FAR_AHEAD) {
        dom.sequenceLost += Math.round(ahead * recordsPerUnit);
      } else if (TWO32 - ahead <= window) {
        late = true;
        const back = Math.round((units > 0 ? units : 1) * recordsPerUnit);
        dom.sequenceLost = dom.sequenceLost > back ? dom.sequenceLost - back : 0;
      } else {
        restart = true;
      }
    }
  }
  if (restart) dom.restarts++;
  if (late) return; // expectations stay with the newest datagram
  s.expected = units >= 0 ? (seq + units) % TWO32 : -1;
  if (uptime >= 0) s.lastUptime = uptime;
}
