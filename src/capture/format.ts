import type { ErrorCode } from '../errors.js';

/**
 * Contract between the chunking reader and one capture format. A parser sees one unit (file
 * header, record or block) at a time and answers with a number so the hot loop never allocates:
 *   > 0  bytes consumed (the unit was handled, packets delivered through the host)
 *   < 0  -(total bytes this unit needs); it must not change any state, it will be asked again
 *   = 0  the input is damaged; the parser has already called host.damage()
 */
export interface FormatParser {
  step(buf: Buffer, off: number, avail: number): number;
}

/** What a parser may do to the reader; implemented by CaptureReader. */
export interface FormatHost {
  deliver(data: Buffer, offset: number, caplen: number, origLen: number, tsMicros: number, linkType: number): void;
  /** A packet record that cannot be delivered (e.g. undeclared interface): counted, not fatal. */
  skip(): void;
  /** Record the damage at the current unit's offset and stop the input. Always returns 0. */
  damage(code: ErrorCode, message: string): 0;
  addLinkType(linkType: number): void;
}

/**
 * Largest packet record we believe. libpcap refuses caplen above 262144 for almost every link
 * type; a bigger number is a lying header, and believing it would swallow the rest of the file
 * (or megabytes of memory) as one "packet".
 */
export const MAX_SNAPLEN = 262144;
/** Hard ceiling for any one record or block, whatever a header claims. */
export const MAX_RECORD = 16 * 1024 * 1024;
