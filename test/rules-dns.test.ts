import { describe, expect, it } from 'vitest';
import { answerAddresses, learnFromDns, parseDns, parseDnsTcp, type DnsLearner, type DnsMessage } from '../src/rules/dns.js';
import { dnsAnswer, dnsMessage, dnsTcp } from './helpers/dns.js';
import { rng } from './helpers/read-capture.js';

const hex = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('hex'));
const parse = (b: Uint8Array) => parseDns(b, 0, b.length);
/** Records as plain values. */
const records = (m: DnsMessage | null) => m?.answers.map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, addr: hex(r.addr), target: r.target }));

describe('parseDns: well-formed answers', () => {
  it('an A answer with its question, compressed against the question', () => {
    const msg = dnsAnswer('pool.example', [], ['203.0.113.7', '203.0.113.8'], { ttl: 120, id: 0xbeef });
    const m = parse(msg)!;
    expect(m).toMatchObject({ id: 0xbeef, response: true, opcode: 0, rcode: 0, truncated: false, questions: ['pool.example'] });
    expect(records(m)).toEqual([
      { name: 'pool.example', type: 1, ttl: 120, addr: 'cb007107', target: null },
      { name: 'pool.example', type: 1, ttl: 120, addr: 'cb007108', target: null },
    ]);
    // Compression was really used: the answer names are 2-byte pointers.
    expect(msg.length).toBe(12 + 14 + 4 + 2 * (2 + 10 + 4));
  });

  it('the same message uncompressed reads the same', () => {
    const o = { questions: [{ name: 'pool.example' }], answers: [{ name: 'pool.example', type: 'A' as const, data: '203.0.113.7' }] };
    expect(records(parse(dnsMessage({ ...o, compress: false })))).toEqual(records(parse(dnsMessage(o))));
  });

  it('AAAA records', () => {
    const m = parse(dnsAnswer('v6.pool.example', [], ['2001:db8::77']))!;
    expect(records(m)).toEqual([{ name: 'v6.pool.example', type: 28, ttl: 300, addr: '20010db8000000000000000000000077', target: null }]);
  });

  it('names are lower case whatever the wire says (0x20 randomisation), without a trailing dot', () => {
    const m = parse(dnsAnswer('PoOl.ExAmPlE', [], ['192.0.2.1']))!;
    expect(m.questions).toEqual(['pool.example']);
    expect(m.answers[0]!.name).toBe('pool.example');
  });

  it('a CNAME chain: question → CNAME → CNAME → A, each target compressed', () => {
    const m = parse(dnsAnswer('www.miner.example', ['edge.cdn.example', 'node7.pool.example'], ['198.51.100.9'], { ttl: 60 }))!;
    expect(records(m)).toEqual([
      { name: 'www.miner.example', type: 5, ttl: 60, addr: null, target: 'edge.cdn.example' },
      { name: 'edge.cdn.example', type: 5, ttl: 60, addr: null, target: 'node7.pool.example' },
      { name: 'node7.pool.example', type: 1, ttl: 60, addr: 'c6336409', target: null },
    ]);
    expect(answerAddresses(m)).toEqual([
      { addr: m.answers[2]!.addr, ipVersion: 4, ttl: 60, names: ['node7.pool.example', 'edge.cdn.example', 'www.miner.example'] },
    ]);
  });

  it('the chain TTL is its weakest link', () => {
    const m = parse(
      dnsMessage({
        questions: [{ name: 'a.example' }],
        answers: [
          { name: 'a.example', type: 'CNAME', data: 'b.example', ttl: 30 },
          { name: 'b.example', type: 'A', data: '192.0.2.5', ttl: 3600 },
        ],
      }),
    )!;
    expect(answerAddresses(m)[0]!.ttl).toBe(30);
  });

  it('a CNAME loop in the answer ends: every name joins the chain once', () => {
    const m = parse(
      dnsMessage({
        questions: [{ name: 'a.example' }],
        answers: [
          { name: 'a.example', type: 'CNAME', data: 'b.example' },
          { name: 'b.example', type: 'CNAME', data: 'a.example' },
          { name: 'b.example', type: 'A', data: '192.0.2.5' },
        ],
      }),
    )!;
    expect(answerAddresses(m)[0]!.names).toEqual(['b.example', 'a.example']);
  });

  it('TTLs with the top bit set count as 0 (RFC 2181 §8)', () => {
    const m = parse(dnsAnswer('pool.example', [], ['192.0.2.1'], { ttl: 0x80000001 }))!;
    expect(m.answers[0]!.ttl).toBe(0);
  });

  it('other record types, other classes and wrongly sized addresses are skipped, the rest read', () => {
    const m = parse(
      dnsMessage({
        questions: [{ name: 'pool.example' }],
        answers: [
          { name: 'pool.example', type: 'TXT', data: Uint8Array.of(3, 0x61, 0x62, 0x63) },
          { name: 'pool.example', type: 'A', data: Uint8Array.of(1, 2, 3) },
          { name: 'pool.example', type: 'A', data: '192.0.2.1', cls: 3 },
          { name: 'pool.example', type: 'A', data: '192.0.2.2' },
        ],
      }),
    )!;
    expect(records(m)).toEqual([{ name: 'pool.example', type: 1, ttl: 300, addr: 'c0000202', target: null }]);
  });

  it('a truncated (TC) answer still gives the records it holds', () => {
    const m = parse(dnsMessage({ truncated: true, questions: [{ name: 'pool.example' }], answers: [{ name: 'pool.example', type: 'A', data: '192.0.2.2' }] }))!;
    expect(m.truncated).toBe(true);
    expect(m.answers).toHaveLength(1);
  });

  it('a query and an error answer parse, and are told apart', () => {
    expect(parse(dnsMessage({ response: false, questions: [{ name: 'pool.example' }] }))).toMatchObject({ response: false, answers: [] });
    expect(parse(dnsMessage({ rcode: 3, questions: [{ name: 'nx.example' }] }))).toMatchObject({ response: true, rcode: 3 });
  });

  it('a label with a dot or a control byte is not a host name: null name, the message still parses', () => {
    // The builder splits names on dots, so these labels are written by hand: "a.pool" + "example".
    const head = Buffer.from([0, 1, 0x81, 0x80, 0, 2, 0, 0, 0, 0, 0, 0]);
    const dotted = Buffer.concat([Buffer.from([6]), Buffer.from('a.pool'), Buffer.from([7]), Buffer.from('example'), Buffer.from([0, 0, 1, 0, 1])]);
    const control = Buffer.concat([Buffer.from([4]), Buffer.from('po\x00l'), Buffer.from([7]), Buffer.from('example'), Buffer.from([0, 0, 1, 0, 1])]);
    expect(parse(Buffer.concat([head, dotted, control]))!.questions).toEqual([null, null]);
  });
});

describe('parseDns: damaged and hostile messages are null, never an exception', () => {
  const good = dnsAnswer('www.miner.example', ['node7.pool.example'], ['198.51.100.9', '2001:db8::9']);

  it('every truncation of a good answer', () => {
    for (let n = 0; n < good.length; n++) expect(parseDns(good, 0, n), `cut at ${n}`).toBeNull();
    expect(parseDns(good, 0, good.length)).not.toBeNull();
  });

  it('a count that promises more records than there are', () => {
    const b = Buffer.from(good);
    b.writeUInt16BE(9, 6);
    expect(parse(b)).toBeNull();
  });

  it('a pointer to itself, a pointer loop, a forward pointer, a pointer past the end', () => {
    const head = (qd: number) => Buffer.from([0, 1, 0x81, 0x80, 0, qd, 0, 0, 0, 0, 0, 0]);
    // Question name is a pointer to offset 12: itself.
    expect(parse(Buffer.concat([head(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]))).toBeNull();
    // "a" then a pointer back to its own first label: a loop through a label.
    expect(parse(Buffer.concat([head(1), Buffer.from([1, 0x61, 0xc0, 12, 0, 1, 0, 1])]))).toBeNull();
    // Two names pointing at each other: the second question's pointer goes to the first name,
    // whose own pointer goes forward to the second.
    expect(parse(Buffer.concat([head(2), Buffer.from([0xc0, 18, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1])]))).toBeNull();
    // Forward pointer into later bytes.
    expect(parse(Buffer.concat([head(1), Buffer.from([0xc0, 20, 0, 1, 0, 1, 0, 0, 1, 0x61, 0])]))).toBeNull();
    // Pointer far past the end.
    expect(parse(Buffer.concat([head(1), Buffer.from([0xff, 0xff, 0, 1, 0, 1])]))).toBeNull();
  });

  it('a long chain of backward pointers is bounded', () => {
    // Question 0 is "a"; question i is a pointer to question i-1's name: i jumps to read.
    const build = (qd: number) => {
      const parts = [0, 1, 0x81, 0x80, qd >> 8, qd & 255, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1];
      for (let i = 1, prev = 12; i < qd; i++) {
        const at = parts.length;
        parts.push(0xc0 | (prev >> 8), prev & 255, 0, 1, 0, 1);
        prev = at;
      }
      return Buffer.from(parts);
    };
    expect(parse(build(60))!.questions).toHaveLength(60);
    expect(parse(build(60))!.questions.every((q) => q === 'a')).toBe(true);
    expect(parse(build(100))).toBeNull();
  });

  it('reserved label types and labels running past the end', () => {
    const head = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(parse(Buffer.concat([head, Buffer.from([0x41, 0x61, 0, 0, 1, 0, 1])]))).toBeNull();
    expect(parse(Buffer.concat([head, Buffer.from([0x81, 0x61, 0, 0, 1, 0, 1])]))).toBeNull();
    expect(parse(Buffer.concat([head, Buffer.from([40, 0x61, 0x62])]))).toBeNull();
  });

  it('a name over 255 octets', () => {
    const labels = Array.from({ length: 5 }, () => 'x'.repeat(60));
    expect(parse(dnsMessage({ questions: [{ name: labels.join('.') }] }))).toBeNull();
  });

  it('random garbage and bit flips of a good answer, 20,000 times', () => {
    const r = rng(53);
    for (let i = 0; i < 10_000; i++) {
      const n = Math.floor(r() * 300);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(r() * 256);
      expect(() => parseDns(b, 0, n)).not.toThrow();
      const f = Buffer.from(good);
      for (let k = 0; k < 3; k++) f[Math.floor(r() * f.length)] ^= 1 << Math.floor(r() * 8);
      const m = parseDns(f, 0, f.length);
      if (m !== null) expect(() => answerAddresses(m)).not.toThrow();
    }
  });

  it('never reads outside [start, end) of a bigger buffer', () => {
    const wrapped = Buffer.concat([Buffer.alloc(7, 0xc0), Buffer.from(good), Buffer.alloc(9, 0xc0)]);
    expect(records(parseDns(wrapped, 7, 7 + good.length))).toEqual(records(parse(good)));
    expect(parseDns(wrapped, 7, 7 + good.length - 1)).toBeNull();
  });
});

describe('parseDnsTcp: the length prefix', () => {
  const msg = dnsAnswer('pool.example', [], ['192.0.2.1']);

  it('one message after its 2-byte length', () => {
    const t = dnsTcp(msg);
    expect(records(parseDnsTcp(t, 0, t.length))).toEqual(records(parse(msg)));
  });

  it('a message cut short, or a length beyond the segment, is null (no reassembly across segments)', () => {
    const t = dnsTcp(msg);
    expect(parseDnsTcp(t, 0, t.length - 1)).toBeNull();
    expect(parseDnsTcp(t, 0, 1)).toBeNull();
  });

  it('trailing bytes after the message (a second, pipelined message) are left alone', () => {
    const t = Buffer.concat([dnsTcp(msg), dnsTcp(dnsAnswer('other.example', [], ['192.0.2.2']))]);
    expect(parseDnsTcp(t, 0, t.length)!.questions).toEqual(['pool.example']);
  });
});

describe('learnFromDns', () => {
  class Learner implements DnsLearner {
    hasNames = true;
    got: string[] = [];
    constructor(private readonly listed: string[]) {}
    learn(name: string, addr: Uint8Array, v: 4 | 6, ttl: number, ts: number): boolean {
      if (!this.listed.includes(name)) return false;
      this.got.push(`${name} ${hex(addr)} v${v} ttl${ttl} @${ts}`);
      return true;
    }
  }

  it('teaches each address once, under the name asked first', () => {
    const l = new Learner(['www.miner.example', 'node7.pool.example']);
    const msg = dnsAnswer('www.miner.example', ['node7.pool.example'], ['198.51.100.9', '198.51.100.10'], { ttl: 90 });
    expect(learnFromDns(msg, 0, msg.length, false, l, 5)).toBe(2);
    expect(l.got).toEqual(['www.miner.example c6336409 v4 ttl90 @5', 'www.miner.example c633640a v4 ttl90 @5']);
  });

  it('any link of the chain may be the listed one', () => {
    const l = new Learner(['node7.pool.example']);
    const msg = dnsAnswer('innocent.example', ['node7.pool.example'], ['2001:db8::9']);
    expect(learnFromDns(msg, 0, msg.length, false, l, 1)).toBe(1);
    expect(l.got).toEqual(['node7.pool.example 20010db8000000000000000000000009 v6 ttl300 @1']);
  });

  it('over TCP', () => {
    const l = new Learner(['pool.example']);
    const t = dnsTcp(dnsAnswer('pool.example', [], ['192.0.2.1']));
    expect(learnFromDns(t, 0, t.length, true, l, 1)).toBe(1);
  });

  it('queries, errors, unlisted names and an empty list teach nothing', () => {
    const l = new Learner(['pool.example']);
    const q = dnsMessage({ response: false, questions: [{ name: 'pool.example' }], answers: [{ name: 'pool.example', type: 'A', data: '192.0.2.1' }] });
    expect(learnFromDns(q, 0, q.length, false, l, 1)).toBe(0);
    const err = dnsMessage({ rcode: 2, questions: [{ name: 'pool.example' }], answers: [{ name: 'pool.example', type: 'A', data: '192.0.2.1' }] });
    expect(learnFromDns(err, 0, err.length, false, l, 1)).toBe(0);
    const other = dnsAnswer('example.com', [], ['192.0.2.1']);
    expect(learnFromDns(other, 0, other.length, false, l, 1)).toBe(0);
    const ok = dnsAnswer('pool.example', [], ['192.0.2.1']);
    l.hasNames = false;
    expect(learnFromDns(ok, 0, ok.length, false, l, 1)).toBe(0);
    expect(l.got).toEqual([]);
  });
});
