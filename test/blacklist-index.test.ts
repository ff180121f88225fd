import { describe, expect, it } from 'vitest';
import { BlacklistIndex, buildIndex, type BlacklistEntry } from '../src/blacklist/index.js';
import { addressOf, listEntries, matchText } from './helpers/blacklist.js';

const list = listEntries;
const ip = addressOf;
const m = matchText;

describe('BlacklistIndex: basics', () => {
  const idx = buildIndex(
    list(`
198.51.100.7
203.0.113.0/24
10.0.0.0/8:3333
10.1.0.0/16:4444-4450
10.1.2.0/24:80
10.1.2.3:9999
2001:db8::1
2001:db8:1::/48
[2001:db8:1:2::/64]:3333
[2001:db8:1:2::5]:5555-5556
[::/0]:7777
`),
  );

  it('counts distinct entries', () => expect(idx.size).toBe(11));

  it('exact /32 and /128', () => {
    expect(m(idx, '198.51.100.7', 1)).toBe('198.51.100.7');
    expect(m(idx, '198.51.100.6', 1)).toBeNull();
    expect(m(idx, '198.51.100.8', 1)).toBeNull();
    expect(m(idx, '2001:db8::1', 443)).toBe('2001:db8::1');
    expect(m(idx, '2001:db8::2', 443)).toBeNull();
    expect(m(idx, '2001:db8::', 443)).toBeNull();
  });

  it('CIDR, with no match just outside the range (network-1, broadcast+1)', () => {
    expect(m(idx, '203.0.113.0', 1)).toBe('203.0.113.0/24');
    expect(m(idx, '203.0.113.128', 1)).toBe('203.0.113.0/24');
    expect(m(idx, '203.0.113.255', 1)).toBe('203.0.113.0/24');
    expect(m(idx, '203.0.112.255', 1)).toBeNull();
    expect(m(idx, '203.0.114.0', 1)).toBeNull();
    expect(m(idx, '10.255.255.255', 3333)).toBe('10.0.0.0/8:3333');
    expect(m(idx, '9.255.255.255', 3333)).toBeNull();
    expect(m(idx, '11.0.0.0', 3333)).toBeNull();
    expect(m(idx, '2001:db8:1::', 1)).toBe('2001:db8:1::/48');
    expect(m(idx, '2001:db8:1:ffff:ffff:ffff:ffff:ffff', 1)).toBe('2001:db8:1::/48');
    expect(m(idx, '2001:db8:0:ffff:ffff:ffff:ffff:ffff', 1)).toBeNull();
    expect(m(idx, '2001:db8:2::', 1)).toBeNull();
  });

  it('longest prefix wins, falling back to shorter prefixes whose port fits', () => {
    expect(m(idx, '10.1.2.3', 9999)).toBe('10.1.2.3:9999');
    expect(m(idx, '10.1.2.3', 80)).toBe('10.1.2.0/24:80');
    expect(m(idx, '10.1.2.3', 4445)).toBe('10.1.0.0/16:4444-4450');
    expect(m(idx, '10.1.2.3', 3333)).toBe('10.0.0.0/8:3333');
    expect(m(idx, '10.1.2.3', 3334)).toBeNull();
    expect(m(idx, '2001:db8:1:2::5', 5556)).toBe('[2001:db8:1:2::5]:5555-5556');
    expect(m(idx, '2001:db8:1:2::5', 3333)).toBe('[2001:db8:1:2::/64]:3333');
    expect(m(idx, '2001:db8:1:2::5', 22)).toBe('2001:db8:1::/48');
    expect(m(idx, '2001:db9::', 7777)).toBe('[::/0]:7777');
    expect(m(idx, '2001:db9::', 7778)).toBeNull();
  });

  it('port ranges are inclusive at both ends', () => {
    expect(m(idx, '10.1.9.9', 4443)).toBeNull();
    expect(m(idx, '10.1.9.9', 4444)).toBe('10.1.0.0/16:4444-4450');
    expect(m(idx, '10.1.9.9', 4450)).toBe('10.1.0.0/16:4444-4450');
    expect(m(idx, '10.1.9.9', 4451)).toBeNull();
    expect(m(idx, '198.51.100.7', 0)).toBe('198.51.100.7'); // no port given: every port, even 0
    expect(m(idx, '198.51.100.7', 65535)).toBe('198.51.100.7');
  });

  it('IPv4 in a 16-byte buffer uses only the first 4 bytes', () => {
    const a = new Uint8Array(16).fill(0xee);
    a.set([198, 51, 100, 7], 0);
    expect(idx.match(a, 4, 1)?.text).toBe('198.51.100.7');
  });

  it('IPv4-mapped IPv6 matches IPv4 entries', () => {
    expect(m(idx, '::ffff:198.51.100.7', 1)).toBe('198.51.100.7');
    expect(m(idx, '::ffff:10.1.2.3', 3333)).toBe('10.0.0.0/8:3333');
    expect(m(idx, '::ffff:198.51.100.8', 1)).toBeNull();
    // not mapped (::fffe:...): no IPv4 match, only the IPv6 catch-all
    expect(m(idx, '::fffe:c633:6407', 1)).toBeNull();
  });

  it('IPv4-mapped IPv6 entries match both spellings', () => {
    const i2 = buildIndex(list('::ffff:192.0.2.0/120\n[::ffff:192.0.2.9]:3333'));
    expect(m(i2, '192.0.2.200', 1)).toBe('::ffff:192.0.2.0/120');
    expect(m(i2, '::ffff:192.0.2.200', 1)).toBe('::ffff:192.0.2.0/120');
    expect(m(i2, '192.0.2.9', 3333)).toBe('[::ffff:192.0.2.9]:3333');
    expect(m(i2, '192.0.3.0', 1)).toBeNull();
  });

  it('among entries of one network, the narrowest port range holding the port is reported', () => {
    const i2 = buildIndex(list('192.0.2.1\n192.0.2.1:3000-4000\n192.0.2.1:3333'));
    expect(m(i2, '192.0.2.1', 3333)).toBe('192.0.2.1:3333');
    expect(m(i2, '192.0.2.1', 3334)).toBe('192.0.2.1:3000-4000');
    expect(m(i2, '192.0.2.1', 22)).toBe('192.0.2.1');
  });

  it('exact duplicates are kept once; the first one added wins', () => {
    const i2 = buildIndex([...list('192.0.2.1\n2001:db8::/32', 'a.txt'), ...list('192.0.2.1\n2001:db8::/32', 'b.txt')]);
    expect(i2.size).toBe(2);
    expect(i2.match(ip('192.0.2.1').addr, 4, 1)?.source).toBe('a.txt');
  });

  it('an empty index matches nothing', () => {
    const i2 = new BlacklistIndex();
    expect(i2.size).toBe(0);
    expect(m(i2, '1.2.3.4', 1)).toBeNull();
    expect(m(i2, '2001:db8::1', 1)).toBeNull();
  });
});

describe('BlacklistIndex: allow-list', () => {
  const idx = buildIndex(
    list('104.16.0.0/12\n104.17.1.1:3333\n104.32.0.1\n10.0.0.0/8\n2606:4700::/32\n2001:db8::/32'),
    list('104.16.0.0/12\n10.1.0.0/16:443\n2606:4700::/32'),
  );

  it('allow-listed ranges never match, even for a longer blacklist entry inside them', () => {
    expect(idx.allowSize).toBe(3);
    expect(m(idx, '104.16.0.1', 80)).toBeNull();
    expect(m(idx, '104.17.1.1', 3333)).toBeNull();
    expect(m(idx, '104.31.255.255', 1)).toBeNull();
    expect(m(idx, '::ffff:104.17.1.1', 3333)).toBeNull();
    expect(m(idx, '2606:4700::1', 3333)).toBeNull();
    expect(idx.allowedBy(ip('104.17.1.1').addr, 4, 3333)?.text).toBe('104.16.0.0/12');
  });

  it('just outside the allowed range the blacklist still matches', () => {
    expect(m(idx, '104.32.0.1', 80)).toBe('104.32.0.1');
    expect(m(idx, '2001:db8::1', 80)).toBe('2001:db8::/32');
  });

  it('an allow entry with a port only exempts that port', () => {
    expect(m(idx, '10.1.2.3', 443)).toBeNull();
    expect(m(idx, '10.1.2.3', 3333)).toBe('10.0.0.0/8');
    expect(m(idx, '10.2.0.0', 443)).toBe('10.0.0.0/8');
  });
});

// ---------------------------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32) so a failure can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function maskInPlace(b: Uint8Array, len: number): Uint8Array {
  for (let i = 0; i < b.length; i++) {
    const keep = Math.min(8, Math.max(0, len - i * 8));
    b[i]! &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return b;
}

function contains(e: BlacklistEntry, addr: Uint8Array, version: 4 | 6, port: number): boolean {
  if (e.version !== version || port < e.portLo || port > e.portHi) return false;
  const a = maskInPlace(addr.slice(0, version === 4 ? 4 : 16), e.prefixLen);
  return a.every((x, i) => x === e.addr[i]);
}

/** The obvious implementation: scan everything. */
function naive(entries: BlacklistEntry[], allow: BlacklistEntry[], addr: Uint8Array, version: 4 | 6, port: number): BlacklistEntry | null {
  if (allow.some((a) => contains(a, addr, version, port))) return null;
  let best: BlacklistEntry | null = null;
  for (const e of entries) if (contains(e, addr, version, port) && (best === null || e.prefixLen > best.prefixLen)) best = e;
  return best;
}

describe('BlacklistIndex: randomized cross-check against a linear scan', () => {
  it('agrees on thousands of random entries and lookups (IPv4, IPv6, mapped, ports, allow-list)', () => {
    const rnd = prng(20261122);
    const int = (n: number) => Math.floor(rnd() * n);
    // Few distinct leading bytes so that prefixes nest and collide often.
    const randAddr = (v: 4 | 6): Uint8Array => {
      const b = new Uint8Array(v === 4 ? 4 : 16);
      for (let i = 0; i < b.length; i++) b[i] = int(256);
      b[0] = v === 4 ? 10 + int(2) : 0x20;
      b[1] = int(2);
      if (v === 6) b[2] = int(2);
      return b;
    };
    const randEntry = (v: 4 | 6, source: string): BlacklistEntry => {
      const max = v === 4 ? 32 : 128;
      const prefixLen = rnd() < 0.3 ? max : int(max + 1);
      let portLo = 0;
      let portHi = 65535;
      const r = rnd();
      if (r < 0.3) portLo = portHi = 3333 + int(4);
      else if (r < 0.5) {
        portLo = 3330 + int(10);
        portHi = portLo + int(10);
      }
      return { version: v, addr: maskInPlace(randAddr(v), prefixLen), prefixLen, portLo, portHi, text: '', source };
    };
    const entries: BlacklistEntry[] = [];
    for (let i = 0; i < 3000; i++) entries.push(randEntry(rnd() < 0.6 ? 4 : 6, 'black'));
    entries.forEach((e, i) => (e.text = `e${i}`));
    const allow: BlacklistEntry[] = [];
    for (let i = 0; i < 30; i++) {
      const a = randEntry(rnd() < 0.6 ? 4 : 6, 'allow');
      // only longish allow ranges, else they would swallow everything
      a.prefixLen = Math.max(a.prefixLen, a.version === 4 ? 20 : 100);
      maskInPlace(a.addr, a.prefixLen);
      allow.push(a);
    }
    const idx = buildIndex(entries, allow);

    let hits = 0;
    for (let i = 0; i < 6000; i++) {
      // half the lookups start from an entry's network with random host bits, to hit often
      let addr: Uint8Array;
      let v: 4 | 6;
      if (rnd() < 0.5) {
        const e = entries[int(entries.length)]!;
        v = e.version;
        addr = randAddr(v);
        const keep = maskInPlace(e.addr.slice(), e.prefixLen);
        const hostMask = maskInPlace(new Uint8Array(addr.length).fill(255), e.prefixLen);
        for (let k = 0; k < addr.length; k++) addr[k] = keep[k]! | (addr[k]! & ~hostMask[k]! & 255);
      } else {
        v = rnd() < 0.6 ? 4 : 6;
        addr = randAddr(v);
      }
      const port = rnd() < 0.7 ? 3330 + int(20) : int(65536);
      const want = naive(entries, allow, addr, v, port);
      const got = idx.match(addr, v, port);
      // the same prefix may hold several entries holding the port: any of them is right
      if (want === null) expect(got).toBeNull();
      else {
        hits++;
        expect(got).not.toBeNull();
        expect(got!.prefixLen).toBe(want.prefixLen);
        expect(contains(got!, addr, v, port)).toBe(true);
      }
      if (v === 4) {
        // the same lookup spelled as IPv4-mapped IPv6 answers the same
        const mapped = new Uint8Array(16);
        mapped[10] = mapped[11] = 0xff;
        mapped.set(addr, 12);
        expect(idx.match(mapped, 6, port)).toBe(got);
      }
    }
    expect(hits).toBeGreaterThan(1000); // the test really exercised matches
  });
});

describe('BlacklistIndex: 1,000,000 entries', () => {
  it('builds and answers correctly', () => {
    const N = 1_000_000;
    const MUL = 0x9e3779b1; // odd, so i → i*MUL mod 2^32 is a bijection: distinct addresses
    const addrOf = (i: number) => Math.imul(i, MUL) >>> 0;
    const bytes = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    const idx = new BlacklistIndex();
    // 990,000 IPv4 hosts (every third with a port), 5,000 IPv4 /24s in 100.64.0.0/10, 5,000 IPv6 /64s
    const hosts = N - 10_000;
    for (let i = 0; i < hosts; i++) {
      const a = addrOf(i);
      if (a >>> 22 === 0x191) continue; // keep 100.64.0.0/10 for the /24s; skipped ones are counted below
      const withPort = i % 3 === 0;
      idx.add({ version: 4, addr: bytes(a), prefixLen: 32, portLo: withPort ? 3333 : 0, portHi: withPort ? 3333 : 65535, text: `h${i}`, source: 'big' });
    }
    for (let j = 0; j < 5000; j++) {
      const a = (0x64400000 + j * 256) >>> 0;
      idx.add({ version: 4, addr: bytes(a), prefixLen: 24, portLo: 0, portHi: 65535, text: `n${j}`, source: 'big' });
    }
    for (let j = 0; j < 5000; j++) {
      const b = new Uint8Array(16);
      b.set([0x20, 0x01, 0x0d, 0xb8, (j >>> 8) & 255, j & 255, 0, 1]);
      idx.add({ version: 6, addr: b, prefixLen: 64, portLo: 0, portHi: 65535, text: `v${j}`, source: 'big' });
    }
    let skipped = 0;
    for (let i = 0; i < hosts; i++) if (addrOf(i) >>> 22 === 0x191) skipped++;
    expect(idx.size).toBe(N - skipped);
    expect(skipped).toBeLessThan(hosts / 500); // /10 is 1/1024 of the space

    /** The /24 entry covering a (inside 100.64.0.0/10), or null past the 5,000 added. */
    const inNet = (a: number): string | null => ((a - 0x64400000) >>> 8 < 5000 ? `n${(a - 0x64400000) >>> 8}` : null);
    const rnd = prng(7);
    const probe = new Uint8Array(16);
    for (let k = 0; k < 20_000; k++) {
      const i = Math.floor(rnd() * hosts);
      const a = addrOf(i);
      probe.set(bytes(a), 0);
      const e = idx.match(probe, 4, 3333);
      if (a >>> 22 === 0x191) expect(e?.text ?? null).toBe(inNet(a));
      else {
        expect(e?.text).toBe(`h${i}`);
        // port-restricted hosts miss on other ports
        expect(idx.match(probe, 4, 80)?.text ?? null).toBe(i % 3 === 0 ? null : `h${i}`);
      }
      // an address that was never added (i >= N maps outside the set) misses, unless in a /24
      const b = addrOf(N + i);
      probe.set(bytes(b), 0);
      const miss = idx.match(probe, 4, 3333);
      expect(miss?.text ?? null).toBe(b >>> 22 === 0x191 ? inNet(b) : null);
    }
    for (let j = 0; j < 5000; j += 7) {
      probe.fill(0).set([0x20, 0x01, 0x0d, 0xb8, (j >>> 8) & 255, j & 255, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9]);
      expect(idx.match(probe, 6, 1)?.text).toBe(`v${j}`);
      probe[7] = 2;
      expect(idx.match(probe, 6, 1)).toBeNull();
    }
  });
});
