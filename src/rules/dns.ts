/**
 * Passive DNS: a pure DNS message parser (RFC 1035 §4, with the RFC 2181 TTL rule and RFC 3596
 * AAAA), and the one channel that feeds what answers say back into the live blacklist. A DNS
 * answer never flags its own flow (the resolver is not a miner); it only teaches which addresses
 * a listed name has, so that the flows which follow to those addresses are flagged (evidence dns).
 *
 * Everything here reads bytes from strangers: every length is checked against the end before it
 * is used, compression pointers may only jump backwards, each before the last (so a pointer loop
 * cannot exist), and at most MAX_JUMPS times, and a message that does not add up is null, never an exception.
 */

export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const TYPE_AAAA = 28;
const CLASS_IN = 1;
/** A name is at most 255 octets on the wire (RFC 1035 §3.1). */
const MAX_NAME_OCTETS = 255;
/** Decreasing jumps already end every walk; this bounds the work a hostile message can ask for. */
const MAX_JUMPS = 64;
const HEADER = 12;

export interface DnsRecord {
  /** Owner name, lower case, no trailing dot ("" for the root); null when it is not a host name. */
  name: string | null;
  type: number;
  /** Seconds; values with the top bit set count as 0 (RFC 2181 §8). */
  ttl: number;
  /** A / AAAA: the address, a view into the parsed buffer (copy it to keep it). */
  addr: Uint8Array | null;
  /** CNAME: the canonical name, as `name`. */
  target: string | null;
}

export interface DnsMessage {
  id: number;
  /** QR bit: an answer rather than a query. */
  response: boolean;
  opcode: number;
  rcode: number;
  /** TC bit: the server cut the answer short; the records present are still whole. */
  truncated: boolean;
  questions: (string | null)[];
  /** A, AAAA and CNAME records of the answer section, in order; other types are skipped. */
  answers: DnsRecord[];
}

/** A name read at some position: its text (null when not a host name) and where the record goes on. */
interface NameRead {
  value: string | null;
  next: number;
}

// One name is decoded into this before it becomes a string: one allocation (the string) per name.
const scratch = Buffer.allocUnsafe(MAX_NAME_OCTETS + 1);

/**
 * The name at `pos` of the message buf[msg, end). Null when malformed: a label past the end,
 * a reserved label type, a pointer that does not go backwards, too many jumps, too long a name.
 */
function readName(buf: Uint8Array, msg: number, end: number, pos: number): NameRead | null {
  let p = pos;
  let next = -1;
  let out = 0;
  let octets = 1; // the root label
  let hostName = true;
  let jumps = 0;
  // Each jump must land before the previous landing point (before the name itself for the first):
  // positions only ever decrease across jumps, so no pointer chain can loop.
  let limit = pos;
  for (;;) {
    if (p >= end) return null;
    const len = buf[p]!;
    if (len === 0) {
      p++;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end) return null;
      const target = msg + (((len & 0x3f) << 8) | buf[p + 1]!);
      if (target >= limit || ++jumps > MAX_JUMPS) return null;
      if (next < 0) next = p + 2;
      p = limit = target;
      continue;
    }
    if (kind !== 0) return null; // 0x40 / 0x80: extended and reserved label types (RFC 6891 §5)
    if (p + 1 + len > end) return null;
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) return null;
    if (out > 0) scratch[out++] = 0x2e;
    for (let i = p + 1; i <= p + len; i++) {
      let c = buf[i]!;
      // Host names are letters, digits, hyphens (and in practice underscores): a dot or a control
      // byte inside a label would let a name pose as another once written as text.
      if (c <= 0x20 || c >= 0x7f || c === 0x2e) hostName = false;
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      scratch[out++] = c;
    }
    p += len + 1;
  }
  return { value: hostName ? scratch.toString('latin1', 0, out) : null, next: next < 0 ? p : next };
}

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/**
 * Parse the DNS message buf[start, end) (the UDP payload). Null when it is not a whole DNS
 * message: cut short, a count that promises more than is there, a malformed name. Only the
 * question and answer sections are read; authority and additional records are left alone.
 */
export function parseDns(buf: Uint8Array, start: number, end: number): DnsMessage | null {
  if (start < 0 || end > buf.length || end - start < HEADER) return null;
  const flags = u16(buf, start + 2);
  const qd = u16(buf, start + 4);
  const an = u16(buf, start + 6);
  const m: DnsMessage = {
    id: u16(buf, start),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0x0f,
    rcode: flags & 0x0f,
    truncated: (flags & 0x0200) !== 0,
    questions: [],
    answers: [],
  };
  let p = start + HEADER;
  for (let i = 0; i < qd; i++) {
    const n = readName(buf, start, end, p);
    if (n === null || n.next + 4 > end) return null;
    m.questions.push(n.value);
    p = n.next + 4;
  }
  for (let i = 0; i < an; i++) {
    const n = readName(buf, start, end, p);
    if (n === null || n.next + 10 > end) return null;
    p = n.next;
    const type = u16(buf, p);
    const cls = u16(buf, p + 2) & 0x7fff; // top bit: mDNS cache-flush, harmless here
    let ttl = u32(buf, p + 4);
    if (ttl > 0x7fffffff) ttl = 0;
    const rdlen = u16(buf, p + 8);
    const rd = p + 10;
    if (rd + rdlen > end) return null;
    p = rd + rdlen;
    if (cls !== CLASS_IN) continue;
    if (type === TYPE_A || type === TYPE_AAAA) {
      // A record of the wrong size is skipped, not trusted: the rest of the message may be fine.
      if (rdlen !== (type === TYPE_A ? 4 : 16)) continue;
      m.answers.push({ name: n.value, type, ttl, addr: buf.subarray(rd, rd + rdlen), target: null });
    } else if (type === TYPE_CNAME) {
      const t = readName(buf, start, rd + rdlen, rd);
      if (t === null) continue;
      m.answers.push({ name: n.value, type, ttl, addr: null, target: t.value });
    }
  }
  return m;
}

/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766): a 2-byte length, then the message. One message per
 * segment is read: the first one, when the segment holds all of it. A message split over
 * segments, or a second message pipelined behind the first, is not read; resolvers answer over
 * TCP rarely, and almost always in one segment per answer.
 */
export function parseDnsTcp(buf: Uint8Array, start: number, end: number): DnsMessage | null {
  if (end - start < 2 + HEADER) return null;
  const len = u16(buf, start);
  if (start + 2 + len > end) return null;
  return parseDns(buf, start + 2, start + 2 + len);
}

/** One address of an answer, with every name that leads to it. */
export interface DnsAddress {
  addr: Uint8Array;
  ipVersion: 4 | 6;
  /** Seconds: the smallest TTL along the chain (a cache forgets the chain at its weakest link). */
  ttl: number;
  /**
   * The record's owner name first, then each alias pointing at it, ending with the name asked
   * (at most MAX_CHAIN). Shared by the addresses of one owner: read it, do not change it.
   */
  names: readonly string[];
}

/**
 * Names one address is known by at most: its owner and the aliases leading to it. Resolvers give
 * up on CNAME chains far shorter (BIND and Unbound after 11-16 links); a longer one is hostile.
 */
export const MAX_CHAIN = 16;

/**
 * The addresses of an answer and the names they belong to: the question name → CNAME → … →
 * A/AAAA, every link of a chain owns the addresses at its end. CNAME loops and dangling links are
 * harmless: each name joins a chain at most once. Linear in the answer: CNAMEs are indexed by
 * target once, each owner's chain is walked once (addresses of one owner share its `names`
 * array) and holds at most MAX_CHAIN names, so no crafted answer costs more than its size.
 */
export function answerAddresses(m: DnsMessage): DnsAddress[] {
  const out: DnsAddress[] = [];
  const answers = m.answers;
  // Aliases by the name they point at, each (alias, target) pair once: the first record's TTL.
  const byTarget = new Map<string, DnsRecord[]>();
  const edges = new Set<string>();
  for (const c of answers) {
    if (c.type !== TYPE_CNAME || c.target === null || c.name === null) continue;
    const key = `${c.name} ${c.target}`;
    if (edges.has(key)) continue;
    edges.add(key);
    const list = byTarget.get(c.target);
    if (list === undefined) byTarget.set(c.target, [c]);
    else list.push(c);
  }
  const chains = new Map<string, { names: string[]; ttl: number }>();
  for (const r of answers) {
    if (r.addr === null || r.name === null) continue;
    let chain = chains.get(r.name);
    if (chain === undefined) {
      const names = [r.name];
      const seen = new Set(names);
      let ttl = Infinity;
      for (let k = 0; k < names.length && names.length < MAX_CHAIN; k++) {
        const aliases = byTarget.get(names[k]!);
        if (aliases === undefined) continue;
        for (const c of aliases) {
          if (seen.has(c.name!)) continue;
          seen.add(c.name!);
          names.push(c.name!);
          if (c.ttl < ttl) ttl = c.ttl;
          if (names.length >= MAX_CHAIN) break;
        }
      }
      chain = { names, ttl };
      chains.set(r.name, chain);
    }
    out.push({ addr: r.addr, ipVersion: r.type === TYPE_A ? 4 : 6, ttl: r.ttl < chain.ttl ? r.ttl : chain.ttl, names: chain.names });
  }
  return out;
}

/** Where DNS answers teach addresses: the live blacklist (src/blacklist/live.ts). */
export interface DnsLearner {
  /** No listed names: nothing to learn, so nothing is parsed. */
  readonly hasNames: boolean;
  /** Keep `addr` for `name` when the name is listed; answers whether it was. */
  learn(name: string, addr: Uint8Array, ipVersion: 4 | 6, ttlSec: number, tsMicros: number): boolean;
}

/**
 * A DNS payload seen at capture time `tsMicros` (UDP, or TCP with its length prefix): every
 * address a successful answer gives a listed name is taught to `list`. Answers the number of
 * addresses learned. Queries, errors and anything unparsable teach nothing.
 */
export function learnFromDns(
  buf: Uint8Array,
  start: number,
  end: number,
  tcp: boolean,
  list: DnsLearner,
  tsMicros: number,
): number {
  if (!list.hasNames) return 0;
  // Cheap refusals before any allocation: a query, an error or an empty answer teaches nothing.
  const h = tcp ? start + 2 : start;
  if (end - h < HEADER || (buf[h + 2]! & 0x80) === 0 || (buf[h + 3]! & 0x0f) !== 0 || u16(buf, h + 6) === 0) return 0;
  const m = tcp ? parseDnsTcp(buf, start, end) : parseDns(buf, start, end);
  if (m === null || !m.response || m.opcode !== 0 || m.rcode !== 0) return 0;
  let learned = 0;
  for (const a of answerAddresses(m)) {
    // The name asked first: it is what the client wanted, and what the report should show.
    for (let i = a.names.length - 1; i >= 0; i--) {
      if (list.learn(a.names[i]!, a.addr, a.ipVersion, a.ttl, tsMicros)) {
        learned++;
        break;
      }
    }
  }
  return learned;
}
