/**
 * Fuzz: the byte-level protocol parsers of the rules — DNS messages and what their answers teach
 * (src/rules/dns.ts), the TLS ClientHello server name (src/rules/tls.ts) and the crypto P2P
 * handshakes (src/rules/p2p.ts) — on mutated valid messages: records duplicated, dropped and
 * reordered, counts and lengths lying, compression pointers and record fragments broken.
 *
 * Contracts: null / error for anything that does not add up, never an exception; names are host
 * names as text (or null), addresses views of the right size; a parser answering ok | incomplete
 * | error answers a prefix of its input with incomplete (asking for more than it has) or with
 * what the whole input answers; no input takes more than linear time.
 */
import fc from 'fast-check';
import { describe } from 'vitest';
import { answerAddresses, learnFromDns, parseDns, parseDnsTcp, TYPE_A, TYPE_AAAA, TYPE_CNAME, type DnsMessage } from '../../src/rules/dns.js';
import { parseP2p, P2P_MAX_HEAD } from '../../src/rules/p2p.js';
import { parseClientHello, TLS_MAX_HELLO } from '../../src/rules/tls.js';
import { concat } from '../helpers/frames.js';
import { bitcoinVersionMessage } from '../helpers/sessions.js';
import { dnsSeeds, tlsSeeds } from './corpus.js';
import { expectLinear } from './linear.js';
import { applyBinary, binaryCase, unit, whole, type Seed } from './mutate.js';
import { check, fuzz } from './runs.js';

/** A name as text: at most 253 printable ASCII characters, lower case; DNS names also in labels of 1-63. */
function checkName(n: string | null, what: string, labels = true): void {
  if (n === null) return;
  check(n.length <= 253, `${what}: name longer than 253: ${n.length}`);
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    check(c > 0x20 && c < 0x7f && !(c >= 0x41 && c <= 0x5a), () => `${what}: character ${c} in name ${JSON.stringify(n)}`);
  }
  check(!labels || n === '' || n.split('.').every((l) => l.length > 0 && l.length <= 63), () => `${what}: bad label in ${JSON.stringify(n)}`);
}

function checkDns(m: DnsMessage | null, buf: Uint8Array): void {
  if (m === null) return;
  check([m.id, m.opcode, m.rcode].every((v) => Number.isInteger(v) && v >= 0), 'header numbers');
  for (const q of m.questions) checkName(q, 'question');
  for (const r of m.answers) {
    checkName(r.name, 'owner');
    check(r.ttl >= 0 && r.ttl <= 0x7fffffff, 'ttl');
    if (r.type === TYPE_A || r.type === TYPE_AAAA) {
      check(r.addr !== null && r.addr.length === (r.type === TYPE_A ? 4 : 16) && r.addr.buffer === buf.buffer, 'address is a view of the right size');
    } else {
      check(r.type === TYPE_CNAME && r.addr === null, 'only A, AAAA and CNAME records are kept');
      checkName(r.target, 'cname target');
    }
  }
  for (const a of answerAddresses(m)) {
    check(a.names.length > 0 && new Set(a.names).size === a.names.length, 'each name once per address');
    check(a.ttl >= 0 && a.ttl <= 0x7fffffff, 'chain ttl');
  }
}

/** A learner that lists every name (so every answer is walked) and checks what it is taught. */
function learner() {
  let learned = 0;
  return {
    hasNames: true,
    learn(name: string, addr: Uint8Array, ipVersion: 4 | 6, ttl: number): boolean {
      checkName(name, 'learned name');
      check(addr.length === (ipVersion === 4 ? 4 : 16), 'learned address size');
      check(Number.isFinite(ttl) && ttl >= 0, 'learned ttl');
      learned++;
      return name.length % 2 === 0; // some listed, some not: both branches of the chain walk
    },
    get count() {
      return learned;
    },
  };
}

/** P2P seeds: a Bitcoin version message (header fields and the user agent's length), levin headers. */
function p2pSeeds(): Seed[] {
  const v = bitcoinVersionMessage();
  const levin = Buffer.from('0121010101010101' + '0a00000000000000' + '01' + 'e9030000' + '00000000' + '01000000' + '01000000', 'hex');
  const ping = Buffer.from(v);
  ping.write('ping\0\0\0\0\0\0\0\0', 4, 'latin1');
  ping.writeUInt32LE(8, 16);
  return [
    { name: 'version', head: unit(v.subarray(0, 24), [{ off: 16, size: 4, le: true, kind: 'len' }, { off: 4, size: 1, kind: 'type' }, { off: 0, size: 4 }]), units: [unit(v.subarray(24, 24 + 80)), unit(v.subarray(104), [{ off: 0, size: 1, kind: 'len' }])] },
    { name: 'ping', head: unit(ping.subarray(0, 24), [{ off: 16, size: 4, le: true, kind: 'len' }]), units: [unit(ping.subarray(24, 32))] },
    whole('levin', concat(levin, new Uint8Array(10)), [{ off: 8, size: 4, le: true, kind: 'len' }, { off: 12, size: 4, le: true }, { off: 16, size: 1 }, { off: 17, size: 4, le: true, kind: 'type' }, { off: 25, size: 4, le: true }, { off: 29, size: 4, le: true }]),
  ];
}

describe('fuzz: DNS, TLS ClientHello, P2P handshakes', () => {
  const dns = dnsSeeds();
  fuzz(
    'DNS: mutated messages (UDP and TCP framing) parse to null or well-formed records; learning walks every chain',
    fc.record({ c: binaryCase(dns, { maxRepeat: 30 }), lead: fc.nat(4) }),
    ({ c, lead }) => {
      const msg = applyBinary(dns, c);
      // Inside a bigger buffer, as a packet's payload is.
      const buf = new Uint8Array(lead + 2 + msg.length + 3);
      buf.set(Uint8Array.of(msg.length >> 8, msg.length & 0xff), lead);
      buf.set(msg, lead + 2);
      const end = lead + 2 + msg.length;
      checkDns(parseDns(buf, lead + 2, end), buf);
      checkDns(parseDnsTcp(buf, lead, end), buf);
      const l = learner();
      const n = learnFromDns(buf, lead + 2, end, false, l, 0) + learnFromDns(buf, lead, end, true, l, 0);
      check(n <= l.count, 'learned no more than it was taught');
    },
  );

  fuzz(
    'DNS: time per byte does not grow with the number of answer records',
    binaryCase(dns, { maxRepeat: 4 }),
    (c) => {
      const seed = dns[c.seed % dns.length]!;
      // Resource records (4 fields) repeat; the header and the questions stay, counts told truly.
      const rrs = seed.units.filter((u) => u.fields.length === 4);
      if (rrs.length === 0) return;
      const questions = seed.units.filter((u) => u.fields.length !== 4);
      const head = unit(concat(seed.head.bytes, ...questions.map((q) => q.bytes)));
      const build = (k: number) => {
        const units = Array.from({ length: k }, () => rrs).flat();
        const b = applyBinary([{ name: seed.name, head, units }], { ...c, seed: 0, bytes: [] });
        const n = Math.min(0xffff, units.length);
        b.set([0, questions.length, n >> 8, n & 0xff, 0, 0, 0, 0], 4);
        return b;
      };
      const k = Math.max(1, Math.ceil(400 / rrs.length));
      const small = build(k);
      const big = build(10 * k);
      const l = learner();
      expectLinear({ small, big, smallSize: small.length, bigSize: big.length }, (b) => learnFromDns(b, 0, b.length, false, l, 0), 'DNS answer');
    },
    { scale: 0.01, min: 5 },
  );

  const tls = tlsSeeds();
  fuzz(
    'TLS ClientHello: mutated hellos answer ok (a host name or null), error, or incomplete asking for more; a prefix answers incomplete or what the whole answers',
    fc.record({ c: binaryCase(tls, { maxRepeat: 8 }), cut: fc.nat() }),
    ({ c, cut }) => {
      const b = applyBinary(tls, c);
      const full = parseClientHello(b, 0, b.length);
      if (full.status === 'ok') {
        // RFC 6066 host_name: letters, digits, '-', '_', '.' (the parser does not judge label lengths).
        checkName(full.sni, 'sni', false);
        check(full.sni === null || /^[a-z0-9._-]+$/.test(full.sni), 'sni characters');
      }
      if (full.status === 'incomplete') check(full.needed > b.length && full.needed <= TLS_MAX_HELLO + 5, `needed ${full.needed} of ${b.length}`);
      const cuts = [cut % (b.length + 1)];
      if (full.status === 'incomplete' || b.length === 0) cuts.push(0);
      for (const n of cuts) {
        const a = parseClientHello(b, 0, n);
        if (a.status === 'incomplete') check(a.needed > n, `prefix of ${n}: needed ${a.needed}`);
        else check(JSON.stringify(a) === JSON.stringify(full), () => `prefix of ${n} answered ${JSON.stringify(a)}, the whole ${JSON.stringify(full)}`);
        // Asking again with exactly what was asked for moves on.
        if (a.status === 'incomplete' && a.needed <= b.length) {
          const again = parseClientHello(b, 0, a.needed);
          check(again.status !== 'incomplete' || again.needed > a.needed, 'needed grows');
        }
      }
    },
  );

  fuzz(
    'TLS ClientHello: time per byte does not grow with the number of extensions (up to TLS_MAX_HELLO)',
    fc.record({ ext: fc.uint8Array({ minLength: 0, maxLength: 12 }), sniLast: fc.boolean(), recordSize: fc.option(fc.integer({ min: 64, max: 1 << 14 })) }),
    ({ ext, sniLast, recordSize }) => {
      // A hello whose extension block holds k copies of an unknown extension, then server_name.
      const hello = (k: number) => {
        const one = concat(Uint8Array.of(0xfe, 0x01, 0, ext.length), ext);
        const sni = concat(Uint8Array.of(0, 0, 0, 17, 0, 15, 0, 0, 12), Buffer.from('pool.example'));
        const exts = concat(...(sniLast ? [...Array.from({ length: k }, () => one), sni] : [sni, ...Array.from({ length: k }, () => one)]));
        const body = concat(Uint8Array.of(3, 3), new Uint8Array(32), Uint8Array.of(0, 0, 2, 0x13, 0x01, 1, 0, exts.length >> 8, exts.length & 0xff), exts);
        const hs = concat(Uint8Array.of(1, 0, body.length >> 8, body.length & 0xff), body);
        const size = recordSize ?? 1 << 14;
        const recs: Uint8Array[] = [];
        for (let i = 0; i < hs.length; i += size) {
          const f = hs.subarray(i, Math.min(hs.length, i + size));
          recs.push(concat(Uint8Array.of(22, 3, 1, f.length >> 8, f.length & 0xff), f));
        }
        return concat(...recs);
      };
      const per = 4 + ext.length;
      const k = Math.max(1, Math.floor(1400 / per));
      const small = hello(k);
      const big = hello(10 * k);
      if (big.length > TLS_MAX_HELLO) return;
      expectLinear({ small, big, smallSize: small.length, bigSize: big.length }, (b) => {
        for (let i = 0; i < 20; i++) parseClientHello(b, 0, b.length);
      }, 'ClientHello');
    },
    { scale: 0.01, min: 5 },
  );

  const p2p = p2pSeeds();
  fuzz(
    'P2P handshakes: mutated version and levin messages answer ok, error or incomplete; a prefix answers incomplete or the same',
    fc.record({ c: binaryCase(p2p, { maxRepeat: 8 }), cut: fc.nat() }),
    ({ c, cut }) => {
      const b = Buffer.from(applyBinary(p2p, c));
      const full = parseP2p(b, 0, b.length);
      if (full.status === 'ok') check(full.agent === null || (full.agent.length > 0 && full.agent.length <= 256), 'agent');
      if (full.status === 'incomplete') check(full.needed > 0, 'needed');
      const n = cut % (b.length + 1);
      const a = parseP2p(b, 0, n);
      if (a.status === 'incomplete') check(a.needed > 0, 'needed');
      else if (a.status === 'ok' && full.status === 'ok') {
        // The user agent of a version too big to wait for (P2P_MAX_HEAD) may be cut off in a prefix.
        const len = b.length >= 20 ? b.readUInt32LE(16) : 0;
        const agentMayDiffer = len > P2P_MAX_HEAD - 24;
        check(a.evidence === full.evidence && a.coin === full.coin && a.handshake === full.handshake && (agentMayDiffer || a.agent === full.agent), () => `prefix ${JSON.stringify(a)} vs whole ${JSON.stringify(full)}`);
      } else check(a.status === full.status, () => `prefix of ${n} answered ${a.status}, the whole ${full.status}`);
    },
  );
});
