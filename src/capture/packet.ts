/**
 * One captured packet as the readers hand it out. The same object is reused for every packet
 * of a reader and `data` is a view into the reader's chunk: consumers must finish with it (or
 * copy what they keep) before returning from the callback.
 */
export interface PacketView {
  /** Buffer holding the packet; the packet is data[offset, offset + caplen). */
  data: Buffer;
  offset: number;
  /** Bytes captured. */
  caplen: number;
  /** Length on the wire (>= caplen when the snap length cut it). */
  origLen: number;
  /** Timestamp in microseconds since the Unix epoch (nanosecond captures are rounded down). */
  tsMicros: number;
  /** LINKTYPE_* value (tcpdump.org/linktypes.html) of the interface the packet came from. */
  linkType: number;
  /** 0-based packet number within the current input, for messages. */
  index: number;
  /** Byte offset of the record in the input, for messages. */
  fileOffset: number;
}

export function newPacketView(): PacketView {
  return {
    data: Buffer.alloc(0),
    offset: 0,
    caplen: 0,
    origLen: 0,
    tsMicros: 0,
    linkType: 0,
    index: 0,
    fileOffset: 0,
  };
}

/** Link types we decode. Values from the tcpdump LINKTYPE registry. */
export const LINKTYPE = {
  NULL: 0, // BSD loopback, host byte order family
  ETHERNET: 1,
  RAW: 101, // raw IPv4/IPv6
  LOOP: 108, // OpenBSD loopback, network byte order family
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
  PPP: 9,
  PPP_HDLC: 50,
  DLT_RAW_12: 12, // DLT_RAW on some BSDs
  DLT_RAW_14: 14, // DLT_RAW on OpenBSD
} as const;
