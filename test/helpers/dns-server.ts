/**
 * A small authoritative DNS server on 127.0.0.1 (UDP, port chosen by the system) for the
 * resolution tests: A and AAAA answers with the TTLs given, NOERROR without answers for a name
 * that exists but has no record of the type asked, NXDOMAIN for any other name, and on request
 * SERVFAIL or no answer at all (so the resolver times out). Records can change between queries.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface DnsRecord {
  address: string;
  ttl: number;
}

export interface DnsZone {
  [name: string]: { a?: DnsRecord[]; aaaa?: DnsRecord[]; servfail?: boolean; drop?: boolean };
}

export interface DnsServer {
  /** "127.0.0.1:PORT", as the configuration's resolver list takes it. */
  address: string;
  zone: DnsZone;
  /** Every question asked: "name A", "name AAAA". */
  queries: string[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

export async function startDnsServer(zone: DnsZone = {}): Promise<DnsServer> {
  const sock: Socket = createSocket('udp4');
  const server: DnsServer = {
    address: '',
    zone,
    queries: [],
    close: () => new Promise((res) => sock.close(() => res())),
  };
  sock.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    if (q === null) return;
    server.queries.push(`${q.name} ${q.type === TYPE_A ? 'A' : q.type === TYPE_AAAA ? 'AAAA' : q.type}`);
    const entry = server.zone[q.name];
    if (entry?.drop) return;
    let rcode = 0;
    let answers: DnsRecord[] = [];
    if (entry === undefined) rcode = 3; // NXDOMAIN
    else if (entry.servfail) rcode = 2;
    else if (q.type === TYPE_A) answers = entry.a ?? [];
    else if (q.type === TYPE_AAAA) answers = entry.aaaa ?? [];
    sock.send(buildResponse(msg, q, rcode, answers), rinfo.port, rinfo.address);
  });
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  server.address = `127.0.0.1:${sock.address().port}`;
  return server;
}

interface Query {
  id: number;
  name: string;
  type: number;
  /** Offset just past the question (the question is echoed back as is). */
  end: number;
}

function parseQuery(msg: Buffer): Query | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const labels: string[] = [];
  let off = 12;
  while (off < msg.length) {
    const len = msg[off]!;
    off++;
    if (len === 0) break;
    if (len > 63 || off + len > msg.length) return null;
    labels.push(msg.subarray(off, off + len).toString('ascii').toLowerCase());
    off += len;
  }
  if (off + 4 > msg.length) return null;
  return { id: msg.readUInt16BE(0), name: labels.join('.'), type: msg.readUInt16BE(off), end: off + 4 };
}

function buildResponse(query: Buffer, q: Query, rcode: number, answers: DnsRecord[]): Buffer {
  const rrs = answers.map((r) => {
    const rdata = q.type === TYPE_A ? ipv4Bytes(r.address) : ipv6Bytes(r.address);
    const rr = Buffer.alloc(12 + rdata.length);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(r.ttl, 6);
    rr.writeUInt16BE(rdata.length, 10);
    rdata.copy(rr, 12);
    return rr;
  });
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, AA, RD (copied), RA, rcode
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rrs.length, 6);
  return Buffer.concat([header, query.subarray(12, q.end), ...rrs]);
}

function ipv4Bytes(a: string): Buffer {
  if (!isIPv4(a)) throw new Error(`not IPv4: ${a}`);
  return Buffer.from(a.split('.').map(Number));
}

function ipv6Bytes(a: string): Buffer {
  if (!isIPv6(a)) throw new Error(`not IPv6: ${a}`);
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
