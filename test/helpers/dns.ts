/**
 * DNS messages for tests, laid out from RFC 1035 §4.1 (header, question, resource records, name
 * compression §4.1.4) and RFC 3596 (AAAA), never from our parser.
 */
import { concat, parseAddress } from './frames.js';

export const QTYPE = { A: 1, CNAME: 5, AAAA: 28, TXT: 16, MX: 15 } as const;

export interface DnsRR {
  name: string;
  type: keyof typeof QTYPE | number;
  ttl?: number;
  /** A/AAAA: address text; CNAME: the target name; anything else: raw rdata. */
  data: string | Uint8Array;
  cls?: number;
}

export interface DnsMessageOptions {
  id?: number;
  /** QR bit (default true: an answer). */
  response?: boolean;
  rcode?: number;
  opcode?: number;
  truncated?: boolean;
  questions?: { name: string; type?: keyof typeof QTYPE | number }[];
  answers?: DnsRR[];
  /** Records of the authority and additional sections (counted and written after the answers). */
  authority?: DnsRR[];
  additional?: DnsRR[];
  /** Compress names against earlier ones (RFC 1035 §4.1.4); default true. */
  compress?: boolean;
}

const typeNum = (t: keyof typeof QTYPE | number) => (typeof t === 'number' ? t : QTYPE[t]);

function be16(v: number): Uint8Array {
  return Uint8Array.of((v >>> 8) & 0xff, v & 0xff);
}

function be32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** Builds one message; names written so far are remembered by their lower-case suffix for compression. */
class Writer {
  parts: Uint8Array[] = [];
  len = 0;
  private known = new Map<string, number>();
  constructor(private readonly compress: boolean) {}
  put(b: Uint8Array): void {
    this.parts.push(b);
    this.len += b.length;
  }
  name(n: string): void {
    const labels = n === '' || n === '.' ? [] : n.replace(/\.$/, '').split('.');
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.known.get(suffix);
      if (this.compress && at !== undefined) {
        this.put(be16(0xc000 | at));
        return;
      }
      if (this.len < 0x4000) this.known.set(suffix, this.len);
      const l = Buffer.from(labels[i]!, 'latin1');
      this.put(concat(Uint8Array.of(l.length), l));
    }
    this.put(Uint8Array.of(0));
  }
  rr(r: DnsRR): void {
    this.name(r.name);
    const type = typeNum(r.type);
    this.put(concat(be16(type), be16(r.cls ?? 1), be32(r.ttl ?? 300)));
    if (type === QTYPE.CNAME && typeof r.data === 'string') {
      // rdlength is known only after the (maybe compressed) target is written.
      const lenAt = this.parts.length;
      this.put(be16(0));
      const before = this.len;
      this.name(r.data);
      this.parts[lenAt] = be16(this.len - before);
      return;
    }
    const rd = typeof r.data === 'string' ? parseAddress(r.data) : r.data;
    this.put(concat(be16(rd.length), rd));
  }
}

export function dnsMessage(o: DnsMessageOptions = {}): Uint8Array {
  const w = new Writer(o.compress ?? true);
  const qs = o.questions ?? [];
  const an = o.answers ?? [];
  const ns = o.authority ?? [];
  const ar = o.additional ?? [];
  const flags =
    ((o.response ?? true) ? 0x8000 : 0) | ((o.opcode ?? 0) << 11) | (o.truncated ? 0x0200 : 0) | 0x0100 | ((o.response ?? true) ? 0x0080 : 0) | (o.rcode ?? 0);
  w.put(concat(be16(o.id ?? 0x4242), be16(flags), be16(qs.length), be16(an.length), be16(ns.length), be16(ar.length)));
  for (const q of qs) {
    w.name(q.name);
    w.put(concat(be16(typeNum(q.type ?? 'A')), be16(1)));
  }
  for (const r of [...an, ...ns, ...ar]) w.rr(r);
  return concat(...w.parts);
}

/** The usual answer: the question, then a CNAME chain from it, then addresses of the chain's end. */
export function dnsAnswer(name: string, chain: string[], addrs: string[], o: { ttl?: number; id?: number } = {}): Uint8Array {
  const answers: DnsRR[] = [];
  let owner = name;
  for (const c of chain) {
    answers.push({ name: owner, type: 'CNAME', data: c, ttl: o.ttl });
    owner = c;
  }
  for (const a of addrs) answers.push({ name: owner, type: a.includes(':') ? 'AAAA' : 'A', data: a, ttl: o.ttl });
  return dnsMessage({ id: o.id, questions: [{ name, type: addrs.some((a) => a.includes(':')) ? 'AAAA' : 'A' }], answers });
}

/** DNS over TCP: the 2-byte length prefix (RFC 1035 §4.2.2). */
export function dnsTcp(msg: Uint8Array): Uint8Array {
  return concat(be16(msg.length), msg);
}
