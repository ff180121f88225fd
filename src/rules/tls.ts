/**
 * The server name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2, SNI: RFC 6066 §3):
 * the one clear-text fact a TLS session gives away, and enough to catch stratum+ssl and browser
 * miners over WebSocket, which no payload rule can read. A pure parser answering
 * ok | incomplete(needed) | error, Suricata style; the caller keeps the bytes between segments.
 *
 * Every length comes from the sender and is checked against both the end of the enclosing
 * structure and the end of the bytes present before anything is read.
 */

/** Bytes of one direction kept while a ClientHello is incomplete; a bigger one is not read. */
export const TLS_MAX_HELLO = 16 * 1024;

const CT_HANDSHAKE = 22;
const HS_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const NAME_TYPE_HOST = 0;
/** TLSPlaintext.length MUST NOT exceed 2^14 (RFC 8446 §5.1). */
const MAX_RECORD = 1 << 14;

export type ClientHelloAnswer =
  /** `sni`: the host_name, lower case; null when the hello names no host (or an unusable one). */
  | { status: 'ok'; sni: string | null }
  /** `needed`: bytes from the start that must be present before the answer can change. */
  | { status: 'incomplete'; needed: number }
  /** Not a ClientHello (another record or handshake type), malformed, or over TLS_MAX_HELLO. */
  | { status: 'error' };

const ERROR: ClientHelloAnswer = { status: 'error' };

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** A plausible record header at p (p + 5 <= end): handshake, version 3.x, a legal length. */
function recordHeader(b: Uint8Array, p: number): number {
  if (b[p] !== CT_HANDSHAKE || b[p + 1] !== 3 || b[p + 2]! > 4) return -1;
  const len = u16(b, p + 3);
  return len === 0 || len > MAX_RECORD ? -1 : len;
}

/**
 * Read the ClientHello starting at buf[start] (the first byte of a TLS record) from the bytes in
 * buf[start, end). A handshake message split over several records is put back together (the
 * only case that copies).
 */
export function parseClientHello(buf: Uint8Array, start: number, end: number): ClientHelloAnswer {
  if (end - start < 5) return { status: 'incomplete', needed: 5 };
  const len0 = recordHeader(buf, start);
  if (len0 < 0) return ERROR;
  // The handshake header (type + 24-bit length) may itself straddle records in theory; in
  // practice it opens the first record, which is at least 4 bytes long for any real hello.
  if (len0 < 4) return ERROR;
  if (end - start < 9) return { status: 'incomplete', needed: 9 };
  if (buf[start + 5] !== HS_CLIENT_HELLO) return ERROR;
  const hsLen = (buf[start + 6]! << 16) | u16(buf, start + 7);
  // Version, random, and three length bytes at least; and within the bound.
  if (hsLen < 2 + 32 + 1 + 2 + 1 || hsLen + 9 > TLS_MAX_HELLO) return ERROR;
  if (hsLen + 4 <= len0) {
    // The usual case: the whole hello in the first record, read in place.
    if (end - start < 9 + hsLen) return { status: 'incomplete', needed: 9 + hsLen };
    return helloBody(buf, start + 9, start + 9 + hsLen);
  }
  // Fragments over several records: find them all before copying anything.
  let have = len0 - 4;
  let p = start + 5 + len0;
  while (have < hsLen) {
    if (end - p < 5) return { status: 'incomplete', needed: p - start + 5 };
    const len = recordHeader(buf, p);
    if (len < 0) return ERROR;
    if (p + 5 + len - start > TLS_MAX_HELLO) return ERROR;
    if (end - p < 5 + len) return { status: 'incomplete', needed: p - start + 5 + len };
    have += len;
    p += 5 + len;
  }
  const body = new Uint8Array(hsLen);
  let o = Math.min(len0 - 4, hsLen);
  body.set(buf.subarray(start + 9, start + 9 + o), 0);
  for (let q = start + 5 + len0; o < hsLen; ) {
    const len = u16(buf, q + 3);
    const k = Math.min(len, hsLen - o);
    body.set(buf.subarray(q + 5, q + 5 + k), o);
    o += k;
    q += 5 + len;
  }
  return helloBody(body, 0, hsLen);
}

/** The ClientHello body in b[p, end): skip to the extensions and find server_name. */
function helloBody(b: Uint8Array, start: number, end: number): ClientHelloAnswer {
  let p = start + 2 + 32; // legacy_version, random
  if (p + 1 > end) return ERROR;
  const sid = b[p]!;
  if (sid > 32) return ERROR;
  p += 1 + sid;
  if (p + 2 > end) return ERROR;
  const cs = u16(b, p);
  if (cs < 2 || (cs & 1) !== 0) return ERROR;
  p += 2 + cs;
  if (p + 1 > end) return ERROR;
  const comp = b[p]!;
  if (comp < 1) return ERROR;
  p += 1 + comp;
  if (p > end) return ERROR;
  // A TLS 1.0-1.2 hello may stop here: no extensions, so no name.
  if (p === end) return { status: 'ok', sni: null };
  if (p + 2 > end) return ERROR;
  const extEnd = p + 2 + u16(b, p);
  if (extEnd > end) return ERROR;
  p += 2;
  while (p + 4 <= extEnd) {
    const type = u16(b, p);
    const len = u16(b, p + 2);
    const data = p + 4;
    if (data + len > extEnd) return ERROR;
    if (type === EXT_SERVER_NAME) return { status: 'ok', sni: serverName(b, data, data + len) };
    p = data + len;
  }
  return p === extEnd ? { status: 'ok', sni: null } : ERROR;
}

/** First host_name of a ServerNameList in b[p, end), lower case; null when absent or not a host name. */
function serverName(b: Uint8Array, p: number, end: number): string | null {
  if (p + 2 > end) return null;
  const listEnd = p + 2 + u16(b, p);
  if (listEnd > end) return null;
  p += 2;
  while (p + 3 <= listEnd) {
    const type = b[p]!;
    const len = u16(b, p + 1);
    const name = p + 3;
    if (name + len > listEnd) return null;
    if (type === NAME_TYPE_HOST) return hostName(b, name, name + len);
    p = name + len;
  }
  return null;
}

/** A DNS host name as text (RFC 6066: ASCII, no trailing dot), or null for anything else. */
function hostName(b: Uint8Array, p: number, end: number): string | null {
  const n = end - p;
  if (n === 0 || n > 253) return null;
  let upper = false;
  for (let i = p; i < end; i++) {
    const c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f)) return null;
  }
  const s = Buffer.from(b.buffer, b.byteOffset + p, n).toString('latin1');
  return upper ? s.toLowerCase() : s;
}

/** Could buf[start, end) be the start of a handshake record (the first byte of a ClientHello)? */
export function looksLikeHandshake(buf: Uint8Array, start: number, end: number): boolean {
  return end > start && buf[start] === CT_HANDSHAKE;
}
