/**
 * Crypto P2P handshakes: the Bitcoin-family message header (network magic + command) and Monero's
 * levin header. Pure parsers over the first bytes a side sends, answering
 * ok | incomplete | error like the line framer.
 */

/** Network magic (first 4 bytes of every message) → coin. */
const MAGICS: ReadonlyMap<number, string> = new Map([
  [0xf9beb4d9, 'btc'], // mainnet
  [0x0b110907, 'btc'], // testnet3
  [0x1c163f28, 'btc'], // testnet4
  [0x0a03cf40, 'btc'], // signet
  [0xfabfb5da, 'btc'], // regtest
  [0xfbc0b6db, 'ltc'],
  [0xc0c0c0c0, 'doge'],
  [0xe3e1f3e8, 'bch'],
]);

/** Commands accepted when the tap joins after `version`; anything else is not trusted. */
const COMMANDS = new Set([
  'version', 'verack', 'ping', 'pong', 'inv', 'getdata', 'notfound', 'tx', 'block', 'headers',
  'getheaders', 'getblocks', 'addr', 'addrv2', 'getaddr', 'sendheaders', 'sendcmpct', 'cmpctblock',
  'getblocktxn', 'blocktxn', 'feefilter', 'wtxidrelay', 'sendaddrv2', 'mempool', 'merkleblock',
]);

/** Levin signature 0x0101010101012101 as it appears on the wire (little-endian). */
const LEVIN = Buffer.from([0x01, 0x21, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01]);
const LEVIN_HEADER = 33;
const LEVIN_HANDSHAKE = 1001;

/** Bitcoin's MAX_SIZE for a message payload. */
const MAX_PAYLOAD = 0x02000000;
/** How many bytes a side may send before we must have decided. */
export const P2P_MAX_HEAD = 512;

export type P2pAnswer =
  | {
      status: 'ok';
      evidence: 'bitcoin-p2p' | 'monero-levin';
      coin: string;
      agent: string | null;
      /** The message opens a handshake: its sender initiated the connection. */
      handshake: boolean;
    }
  | { status: 'incomplete'; needed: number }
  | { status: 'error' };

/** Could these first bytes start a P2P message? 'yes' | 'no' | 'more' (too few bytes to tell). */
export function p2pPrefix(buf: Buffer, start: number, end: number): 'yes' | 'no' | 'more' {
  const n = end - start;
  let maybe = false;
  for (const magic of MAGICS.keys()) {
    let ok = true;
    for (let i = 0; i < 4 && i < n; i++) {
      if (buf[start + i] !== ((magic >>> (24 - 8 * i)) & 0xff)) {
        ok = false;
        break;
      }
    }
    if (ok) {
      if (n >= 4) return 'yes';
      maybe = true;
    }
  }
  let lev = true;
  for (let i = 0; i < 8 && i < n; i++) {
    if (buf[start + i] !== LEVIN[i]) {
      lev = false;
      break;
    }
  }
  if (lev) {
    if (n >= 8) return 'yes';
    maybe = true;
  }
  return maybe ? 'more' : 'no';
}

function printable(buf: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! < 0x20 || buf[i]! > 0x7e) return false;
  return true;
}

/** User agent var_str of a version payload (offset 80), or null if absent or odd. */
function versionAgent(buf: Buffer, p: number, end: number): string | null {
  // version(4) services(8) timestamp(8) addr_recv(26) addr_from(26) nonce(8)
  let o = p + 80;
  if (o >= end) return null;
  let len = buf[o]!;
  o++;
  if (len === 0xfd) {
    if (o + 2 > end) return null;
    len = buf.readUInt16LE(o);
    o += 2;
  } else if (len > 0xfd) return null;
  if (len === 0 || len > 256 || o + len > end || !printable(buf, o, o + len)) return null;
  return buf.toString('latin1', o, o + len);
}

function parseBitcoin(buf: Buffer, start: number, end: number, coin: string): P2pAnswer {
  if (end - start < 24) return { status: 'incomplete', needed: 24 - (end - start) };
  // Command: lower-case ASCII letters/digits, NUL-padded to 12 bytes.
  let c = start + 4;
  const cmdEnd = start + 16;
  while (c < cmdEnd && buf[c] !== 0) {
    const ch = buf[c]!;
    if (!((ch >= 0x61 && ch <= 0x7a) || (ch >= 0x30 && ch <= 0x39))) return { status: 'error' };
    c++;
  }
  const command = buf.toString('latin1', start + 4, c);
  for (let i = c; i < cmdEnd; i++) if (buf[i] !== 0) return { status: 'error' };
  const len = buf.readUInt32LE(start + 16);
  if (!COMMANDS.has(command) || len > MAX_PAYLOAD) return { status: 'error' };
  if (command !== 'version') return { status: 'ok', evidence: 'bitcoin-p2p', coin, agent: null, handshake: false };
  const p = start + 24;
  // A version message is ~100-130 bytes; wait for all of it when it is that small.
  if (len <= P2P_MAX_HEAD - 24 && end - p < len) return { status: 'incomplete', needed: len - (end - p) };
  if (len < 85) return { status: 'error' };
  const agent = versionAgent(buf, p, Math.min(end, p + len));
  return { status: 'ok', evidence: 'bitcoin-p2p', coin, agent, handshake: true };
}

function parseLevin(buf: Buffer, start: number, end: number): P2pAnswer {
  if (end - start < LEVIN_HEADER) return { status: 'incomplete', needed: LEVIN_HEADER - (end - start) };
  const cbLow = buf.readUInt32LE(start + 8);
  const cbHigh = buf.readUInt32LE(start + 12);
  const haveToReturn = buf[start + 16]!;
  const command = buf.readUInt32LE(start + 17);
  const flags = buf.readUInt32LE(start + 25);
  const version = buf.readUInt32LE(start + 29);
  // Sane header: body under levin's 100 MB limit, a boolean, a command id in the protocol's
  // range, request (1) or response (2) possibly with fragment bits, protocol version 1.
  if (cbHigh !== 0 || cbLow > 100_000_000 || haveToReturn > 1) return { status: 'error' };
  if (command === 0 || command > 10_000 || flags === 0 || flags > 0x0f || version !== 1) return { status: 'error' };
  const handshake = command === LEVIN_HANDSHAKE && (flags & 1) === 1 && haveToReturn === 1;
  return { status: 'ok', evidence: 'monero-levin', coin: 'xmr', agent: null, handshake };
}

/** Parse the first message a side sent. */
export function parseP2p(buf: Buffer, start: number, end: number): P2pAnswer {
  if (end - start < 8) return { status: 'incomplete', needed: 8 - (end - start) };
  if (buf.compare(LEVIN, 0, 8, start, start + 8) === 0) return parseLevin(buf, start, end);
  const coin = MAGICS.get(buf.readUInt32BE(start));
  if (coin === undefined) return { status: 'error' };
  return parseBitcoin(buf, start, end, coin);
}
