// A carrier-like mixed capture for the benchmark, built from code and the committed fixtures
// (nothing big is committed): customers in 10.0.0.0/8 talk to the internet over HTTPS (TLS with
// SNI, then bulk downloads), plain HTTP, DNS and QUIC-like UDP; a small share of customers mine,
// replaying the mining conversations of fixtures/sample.pcap with their own addresses. Many flows
// are open at once and packets interleave as on a real link. TCP flows close with FIN, so a capture
// of many flows also tests that ended flows leave the table.
import { openSync, writeSync, closeSync, readFileSync } from 'node:fs';

const ETH = 14;

/** Deterministic generator: the same options give the same bytes on every machine. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

/** The mining flows of sample.pcap as lists of Ethernet frames (pool side kept, customer rewritten). */
function miningFlows(samplePath) {
  const src = readFileSync(samplePath);
  const flows = new Map();
  for (let off = 24; off + 16 <= src.length; ) {
    const incl = src.readUInt32LE(off + 8);
    const frame = src.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.readUInt16BE(12) !== 0x0800 || frame[ETH + 9] !== 6) continue;
    const ihl = (frame[ETH] & 15) * 4;
    const a = frame.readUInt32BE(ETH + 12), b = frame.readUInt32BE(ETH + 16);
    const pa = frame.readUInt16BE(ETH + ihl), pb = frame.readUInt16BE(ETH + ihl + 2);
    const key = a < b || (a === b && pa < pb) ? `${a}:${pa}-${b}:${pb}` : `${b}:${pb}-${a}:${pa}`;
    if (!flows.has(key)) flows.set(key, []);
    flows.get(key).push(Buffer.from(frame));
  }
  // Only the conversations with a stratum-like pool (ports other than 80 and 8332, which are
  // benign web and wallet RPC in the fixture).
  return [...flows.values()].filter((f) => {
    const ihl = (f[0][ETH] & 15) * 4;
    const ports = [f[0].readUInt16BE(ETH + ihl), f[0].readUInt16BE(ETH + ihl + 2)];
    return !ports.includes(80) && !ports.includes(8332);
  });
}

function tlsClientHello(host) {
  const sni = Buffer.from(host);
  const ext = Buffer.alloc(9 + sni.length);
  ext.writeUInt16BE(0, 0); // server_name
  ext.writeUInt16BE(sni.length + 5, 2);
  ext.writeUInt16BE(sni.length + 3, 4);
  ext[6] = 0;
  ext.writeUInt16BE(sni.length, 7);
  sni.copy(ext, 9);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7), Buffer.from([0]),
    Buffer.from([0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0]),
    Buffer.from([ext.length >> 8, ext.length & 255]), ext,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 255]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 255]), hs]);
}

function dnsQuery(id, name, answer) {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(answer ? 0x8180 : 0x0100, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answer ? 1 : 0, 6);
  const q = Buffer.concat([labels, Buffer.from([0, 1, 0, 1])]);
  if (!answer) return Buffer.concat([head, q]);
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...answer]);
  return Buffer.concat([head, q, rr]);
}

const NAMES = ['www.example.com', 'cdn.example.net', 'video.example.org', 'api.example.io', 'mail.example.com', 'static.example.net'];

/**
 * One conversation as a generator of [fromClient, tcpFlags, payload] steps; the writer turns them
 * into frames. Payload lengths are what a link carries: full-size segments for bulk data.
 */
function* tcpConversation(kind, rand, r, shape) {
  yield [true, 0x02, null];
  yield [false, 0x12, null];
  yield [true, 0x10, null];
  if (kind === 'https') {
    yield [true, 0x18, tlsClientHello(NAMES[Math.floor(r * NAMES.length)])];
    yield [false, 0x18, 1400];
    const segments = 1 + Math.floor(rand() * rand() * shape.httpsSegments);
    for (let i = 0; i < segments; i++) {
      yield [false, 0x10, shape.segmentSize];
      if (i % 2 === 1) yield [true, 0x10, null];
    }
  } else {
    yield [true, 0x18, Buffer.from(`GET /img/${Math.floor(r * 1e6)}.jpg HTTP/1.1\r\nHost: ${NAMES[Math.floor(r * NAMES.length)]}\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\n\r\n`)];
    yield [false, 0x18, Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 40000\r\n\r\n')];
    const segments = 1 + Math.floor(rand() * shape.httpSegments);
    for (let i = 0; i < segments; i++) {
      yield [false, 0x10, shape.segmentSize];
      if (i % 2 === 1) yield [true, 0x10, null];
    }
  }
  yield [true, 0x11, null];
  yield [false, 0x11, null];
  yield [true, 0x10, null];
}

/** Web traffic as a link carries it: bulk downloads in full-size segments. */
export const BULK = { httpsSegments: 120, httpSegments: 30, segmentSize: 1448, quicPackets: 80 };
/** Many short conversations with small packets: what fills a flow table (the memory test). */
export const SHORT = { httpsSegments: 6, httpSegments: 4, segmentSize: 200, quicPackets: 8 };

/**
 * Write a mixed capture. `flows` conversations, about `concurrent` open at once; `miningShare`
 * of them replay a mining conversation. Returns { packets, flows, miningFlows }.
 */
export function buildMixedCapture(path, { flows, concurrent = 2000, miningShare = 0.01, seed = 1, samplePath, shape = BULK }) {
  const rand = rng(seed);
  const mining = miningFlows(samplePath);
  const fd = openSync(path, 'w');
  const CHUNK = 1 << 24;
  let out = Buffer.alloc(CHUNK);
  let o = 0;
  const flush = () => { writeSync(fd, out, 0, o); o = 0; };
  out.writeUInt32LE(0xa1b2c3d4, 0); out.writeUInt16LE(2, 4); out.writeUInt16LE(4, 6);
  out.writeUInt32LE(262144, 16); out.writeUInt32LE(1, 20);
  o = 24;
  let tsMicros = 1_790_000_000 * 1e6;
  let packets = 0, started = 0, minedFlows = 0;
  const fill = Buffer.alloc(shape.segmentSize, 0xa5);

  function record(frameLen) {
    if (o + 16 + frameLen > CHUNK) flush();
    tsMicros += 1 + Math.floor(rand() * 40);
    out.writeUInt32LE(Math.floor(tsMicros / 1e6), o);
    out.writeUInt32LE(tsMicros % 1e6, o + 4);
    out.writeUInt32LE(frameLen, o + 8);
    out.writeUInt32LE(frameLen, o + 12);
    packets++;
    const at = o + 16;
    o = at + frameLen;
    return at;
  }

  function ipFrame(at, srcIp, dstIp, proto, l4len) {
    out.fill(0, at, at + 12);
    out[at + 5] = 1; out[at + 11] = 2; // locally administered MACs
    out.writeUInt16BE(0x0800, at + 12);
    const ip = at + ETH;
    out[ip] = 0x45; out[ip + 1] = 0;
    out.writeUInt16BE(20 + l4len, ip + 2);
    out.writeUInt16BE(packets & 0xffff, ip + 4); out.writeUInt16BE(0x4000, ip + 6); // id, DF
    out[ip + 8] = 62; out[ip + 9] = proto;
    out.writeUInt16BE(0, ip + 10);
    out.writeUInt32BE(srcIp >>> 0, ip + 12);
    out.writeUInt32BE(dstIp >>> 0, ip + 16);
    return ip + 20;
  }

  function newFlow() {
    started++;
    const client = (0x0a000000 | Math.floor(rand() * 0xffffff)) >>> 0;
    const port = 32768 + Math.floor(rand() * 28000);
    const server = (0x17000000 + Math.floor(rand() * 0x60000000)) >>> 0; // public space
    const r = rand();
    if (r < miningShare) {
      minedFlows++;
      const frames = mining[Math.floor(rand() * mining.length)];
      return { kind: 'mining', frames, i: 0, client };
    }
    if (r < miningShare + 0.08) return { kind: 'dns', client, port, server, step: 0, id: Math.floor(rand() * 65535), name: NAMES[Math.floor(rand() * NAMES.length)] };
    if (r < miningShare + 0.18) return { kind: 'quic', client, port, server, left: 2 + Math.floor(rand() * shape.quicPackets), step: 0 };
    const kind = r < miningShare + 0.33 ? 'http' : 'https';
    return { kind, client, port, server, seqC: 1000, seqS: 5000, steps: tcpConversation(kind, rand, rand(), shape) };
  }

  /** Emit one packet of `f`; false when the conversation is over. */
  function step(f) {
    if (f.kind === 'mining') {
      if (f.i >= f.frames.length) return false;
      const src = f.frames[f.i++];
      const at = record(src.length);
      src.copy(out, at);
      const ip = at + ETH;
      for (const a of [ip + 12, ip + 16]) {
        if (out[a] === 10) out.writeUInt32BE(f.client, a);
      }
      return true;
    }
    if (f.kind === 'dns') {
      if (f.step === 2) return false;
      const answer = f.step === 1;
      const msg = dnsQuery(f.id, f.name, answer ? [93, 184, 216, 34] : null);
      const at = record(ETH + 20 + 8 + msg.length);
      const udp = answer ? ipFrame(at, f.server, f.client, 17, 8 + msg.length) : ipFrame(at, f.client, f.server, 17, 8 + msg.length);
      out.writeUInt16BE(answer ? 53 : f.port, udp);
      out.writeUInt16BE(answer ? f.port : 53, udp + 2);
      out.writeUInt16BE(8 + msg.length, udp + 4);
      out.writeUInt16BE(0, udp + 6);
      msg.copy(out, udp + 8);
      f.step++;
      return true;
    }
    if (f.kind === 'quic') {
      if (f.left-- <= 0) return false;
      const up = f.step++ % 4 === 0;
      const len = up ? 60 : 1200;
      const at = record(ETH + 20 + 8 + len);
      const udp = up ? ipFrame(at, f.client, f.server, 17, 8 + len) : ipFrame(at, f.server, f.client, 17, 8 + len);
      out.writeUInt16BE(up ? f.port : 443, udp);
      out.writeUInt16BE(up ? 443 : f.port, udp + 2);
      out.writeUInt16BE(8 + len, udp + 4);
      out.writeUInt16BE(0, udp + 6);
      out.fill(f.step === 1 ? 0xc3 : 0x43, udp + 8, udp + 8 + len);
      return true;
    }
    const n = f.steps.next();
    if (n.done) return false;
    const [fromClient, flags, payload] = n.value;
    const len = payload === null ? 0 : typeof payload === 'number' ? payload : payload.length;
    const at = record(ETH + 20 + 20 + len);
    const tcp = fromClient ? ipFrame(at, f.client, f.server, 6, 20 + len) : ipFrame(at, f.server, f.client, 6, 20 + len);
    const dport = f.kind === 'https' ? 443 : 80;
    out.writeUInt16BE(fromClient ? f.port : dport, tcp);
    out.writeUInt16BE(fromClient ? dport : f.port, tcp + 2);
    out.writeUInt32BE(fromClient ? f.seqC : f.seqS, tcp + 4);
    out.writeUInt32BE(fromClient ? f.seqS : f.seqC, tcp + 8);
    out[tcp + 12] = 0x50; out[tcp + 13] = flags;
    out.writeUInt16BE(65535, tcp + 14);
    out.writeUInt32BE(0, tcp + 16);
    if (typeof payload === 'number') fill.copy(out, tcp + 20, 0, payload);
    else if (payload !== null) payload.copy(out, tcp + 20);
    const adv = len + (flags & 0x03 ? 1 : 0);
    if (fromClient) f.seqC = (f.seqC + adv) >>> 0;
    else f.seqS = (f.seqS + adv) >>> 0;
    return true;
  }

  const open = [];
  while (open.length < concurrent && started < flows) open.push(newFlow());
  while (open.length > 0) {
    const k = Math.floor(rand() * open.length);
    if (!step(open[k])) {
      if (started < flows) open[k] = newFlow();
      else { open[k] = open[open.length - 1]; open.pop(); }
    }
  }
  flush();
  closeSync(fd);
  return { packets, flows: started, miningFlows: minedFlows };
}
