/**
 * TLS ClientHello bytes for tests, laid out from RFC 8446 §4.1.2 / §4.2 (and RFC 5246 §7.4.1.2
 * for TLS 1.2), with server_name from RFC 6066 §3, never from our parser.
 */
import { concat } from './frames.js';

function be16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

function be24(v: number): Uint8Array {
  return Uint8Array.of((v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** An extension: type, 2-byte length, data. */
export function extension(type: number, data: Uint8Array): Uint8Array {
  return concat(be16(type), be16(data.length), data);
}

/** server_name extension body: ServerNameList of one host_name (type 0). */
export function serverNameExt(host: string): Uint8Array {
  const name = Buffer.from(host, 'latin1');
  const entry = concat(Uint8Array.of(0), be16(name.length), name);
  return extension(0, concat(be16(entry.length), entry));
}

export interface ClientHelloOptions {
  /** Host for server_name; null: no server_name extension at all. */
  sni?: string | null;
  /** 'tls13' adds supported_versions/key_share as browsers send them; 'tls12' is a plain 1.2 hello. */
  flavor?: 'tls13' | 'tls12';
  /** Put server_name after the other extensions instead of first. */
  sniLast?: boolean;
  /** Leave the extensions block out entirely (legal before TLS 1.3). */
  noExtensions?: boolean;
  /** Bytes of padding extension (21), to make a big hello. */
  padding?: number;
  /** Cut the handshake message into records of at most this many bytes (record fragmentation). */
  recordSize?: number;
  /** Record-layer version (default 0x0301 as browsers send). */
  recordVersion?: number;
}

/** The ClientHello handshake message body (after the 4-byte handshake header). */
export function clientHelloBody(o: ClientHelloOptions = {}): Uint8Array {
  const random = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
  const sessionId = new Uint8Array(32).map((_, i) => (i * 13 + 5) & 0xff);
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009c, 0x002f];
  const cs = concat(...suites.map(be16));
  const exts: Uint8Array[] = [];
  const tls13 = (o.flavor ?? 'tls13') === 'tls13';
  const others: Uint8Array[] = [
    extension(23, new Uint8Array(0)), // extended_master_secret
    extension(65281, Uint8Array.of(0)), // renegotiation_info
    extension(10, concat(be16(6), be16(0x001d), be16(0x0017), be16(0x0018))), // supported_groups
    extension(11, Uint8Array.of(1, 0)), // ec_point_formats
    extension(16, concat(be16(12), Uint8Array.of(2), Buffer.from('h2'), Uint8Array.of(8), Buffer.from('http/1.1'))), // ALPN
    extension(13, concat(be16(8), be16(0x0403), be16(0x0804), be16(0x0401), be16(0x0503))), // signature_algorithms
  ];
  if (tls13) {
    others.push(extension(43, concat(Uint8Array.of(4), be16(0x0304), be16(0x0303)))); // supported_versions
    const key = new Uint8Array(32).fill(0x5a);
    others.push(extension(51, concat(be16(36), be16(0x001d), be16(32), key))); // key_share x25519
    others.push(extension(45, Uint8Array.of(1, 1))); // psk_key_exchange_modes
  }
  if (o.padding !== undefined) others.push(extension(21, new Uint8Array(o.padding)));
  const sni = o.sni === undefined ? 'example.com' : o.sni;
  if (sni !== null && !o.sniLast) exts.push(serverNameExt(sni));
  exts.push(...others);
  if (sni !== null && o.sniLast) exts.push(serverNameExt(sni));
  const extBlock = concat(...exts);
  return concat(
    be16(0x0303), // legacy_version
    random,
    Uint8Array.of(sessionId.length),
    sessionId,
    be16(cs.length),
    cs,
    Uint8Array.of(1, 0), // compression: null only
    ...(o.noExtensions ? [] : [be16(extBlock.length), extBlock]),
  );
}

/** Records of content type 22 carrying `hs`, cut into fragments of at most `size` bytes. */
export function handshakeRecords(hs: Uint8Array, size = 1 << 14, version = 0x0301): Uint8Array {
  const out: Uint8Array[] = [];
  for (let i = 0; i < hs.length; i += size) {
    const frag = hs.subarray(i, Math.min(hs.length, i + size));
    out.push(concat(Uint8Array.of(22), be16(version), be16(frag.length), frag));
  }
  return concat(...out);
}

/** A whole ClientHello as the client's first TCP bytes: record header(s), handshake header, body. */
export function clientHello(o: ClientHelloOptions = {}): Buffer {
  const body = clientHelloBody(o);
  const hs = concat(Uint8Array.of(1), be24(body.length), body);
  return Buffer.from(handshakeRecords(hs, o.recordSize, o.recordVersion));
}

/** A ServerHello-like record (handshake type 2): what the server says first. */
export function serverHello(): Buffer {
  const body = concat(be16(0x0303), new Uint8Array(32).fill(0x33), Uint8Array.of(0), be16(0x1301), Uint8Array.of(0), be16(0));
  return Buffer.from(handshakeRecords(concat(Uint8Array.of(2), be24(body.length), body)));
}
