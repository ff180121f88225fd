/**
 * Flow times, whatever the wire encoding, to milliseconds since 1970 UTC (FlowRecord.start/end).
 * Sub-millisecond parts are cut (floor), so every encoding of the same instant gives the same
 * number.
 *
 * - v5 and v9 FIRST/LAST_SWITCHED (and IPFIX flowStart/EndSysUpTime, 22/21) are milliseconds of
 *   exporter uptime. v5/v9 headers give the uptime and the wall clock at export, so
 *   time = export wall clock - (sysUptime - value), with the difference taken as a signed 32-bit
 *   number: uptime wraps after 49.7 days, and a flow may end a few ms "after" the header's
 *   uptime on some exporters. IPFIX has no uptime in its header: systemInitTimeMilliseconds (160,
 *   in the record or from an options record) is when uptime was 0.
 * - dateTimeSeconds (150/151) and dateTimeMilliseconds (152/153): Unix time.
 * - dateTimeMicroseconds/Nanoseconds (154-157): NTP format (RFC 7011 §6.1.9, §6.1.10): seconds
 *   since 1900 and a 2^-32 fraction; for microseconds the low 11 fraction bits are ignored.
 * - flowStart/EndDeltaMicroseconds (158/159): microseconds before the export time in the header.
 *
 * A zero absolute time is "not filled in" (exporters send zeros for absent times), never 1970.
 *
 * When a record lacks one end, it is derived from the other and flowDurationMilli/Microseconds
 * (161/162), else taken equal to the other. A record with only an observation time (322-325, NAT
 * events) uses it for both ends; one with no usable time at all (no time fields, or IPFIX uptimes
 * with no systemInitTime known) gets the export time of its datagram.
 */

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2208988800;
const TWO32 = 4294967296;

/**
 * Milliseconds since 1970 from an NTP timestamp (seconds, 2^-32 fraction); NaN for zero. The
 * fraction is first rounded to the unit the exporter had (µs or ns): 1 ms sent as microseconds is
 * 0.99993 ms in 2^-32 units once the low 11 bits are dropped, and must not floor to 0.
 */
export function ntpToMs(sec: number, frac: number, micro: boolean): number {
  if (sec === 0 && frac === 0) return NaN;
  // NTP seconds wrap in 2036 (era 1). Flow times before 1968 (top bit clear in era 0) do not
  // exist, so a clear top bit means era 1 (the convention of RFC 4330 §3).
  if (sec < 2147483648) sec += TWO32;
  const ms = (sec - NTP_UNIX_OFFSET) * 1000;
  if (micro) {
    const us = Math.round(((frac - (frac % 2048)) * 1e6) / TWO32); // low 11 bits ignored (§6.1.9)
    return ms + Math.floor(us / 1000);
  }
  const ns = Math.round((frac * 1e9) / TWO32);
  return ms + Math.floor(ns / 1e6);
}

/** A time given in ms of exporter uptime, for v5/v9 where the header has both clocks. */
export function uptimeToMs(exportMs: number, sysUptime: number, value: number): number {
  return exportMs - ((sysUptime - value) | 0);
}
