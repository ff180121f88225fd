/**
 * What every flow-export decoder (NetFlow v5, v9, IPFIX) and the nfdump CSV reader hand on: one
 * record per exported flow, with the counters exactly as exported. The rules and the report work
 * on these; nothing downstream knows which version a record came from except by `version`.
 */
export interface FlowRecord {
  /** Exporter address as text ("192.0.2.1", "2001:db8::1"); "nfdump" for records read from CSV. */
  exporter: string;
  /** 5, 9, 10 (IPFIX); 0 for records read from nfdump CSV. */
  version: 0 | 5 | 9 | 10;
  /** IPFIX observation domain id, NetFlow v9 source id, v5 engine type << 8 | engine id. */
  domain: number;
  ipVersion: 4 | 6;
  /** 4 bytes (IPv4) or 16 (IPv6); owned by the record (never a view into a datagram). */
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** IP protocol number (6 TCP, 17 UDP, ...). */
  proto: number;
  /** Cumulative TCP flags, 0 when not exported. */
  tcpFlags: number;
  /** Octets and packets as exported: NOT multiplied by the sampling rate. */
  bytes: number;
  packets: number;
  /** 1 for unsampled; N for 1-in-N sampling (from the v5 header, options records or a field). */
  samplingRate: number;
  /** Flow start and end, milliseconds since 1970-01-01 UTC, whatever the wire encoding was. */
  start: number;
  end: number;
  /**
   * Carrier-grade NAT, when the record carries it (IPFIX 225-228 / 281-282, NetFlow v9 NSEL
   * 40001-40004): the addresses and ports after translation. `src`/`dst` stay the pre-NAT
   * (inside) view. null when the record has no NAT fields.
   */
  nat: {
    postSrc: Uint8Array | null;
    postDst: Uint8Array | null;
    postSrcPort: number | null;
    postDstPort: number | null;
  } | null;
}
