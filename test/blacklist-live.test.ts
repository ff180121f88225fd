import { describe, expect, it } from 'vitest';
import { LiveBlacklist } from '../src/blacklist/live.js';
import { parseAddress } from './helpers/frames.js';
import { dom, live, snapshot } from './helpers/names.js';

const T0 = Date.UTC(2024, 4, 1) * 1000;
const SEC = 1e6;
const v = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);
const at = (l: LiveBlacklist, addr: string, port: number, ts = T0) => l.matchAddress(parseAddress(addr), v(addr), port, ts);
const learn = (l: LiveBlacklist, name: string, addr: string, ttl = 300, ts = T0) => l.learn(name, parseAddress(addr), v(addr), ttl, ts);

describe('LiveBlacklist: static addresses', () => {
  it('an address entry matches as blacklist-ip, with the version of the list that held it', () => {
    const l = live({ addresses: '203.0.113.7\n198.51.100.0/24:3333', version: 12 });
    expect(at(l, '203.0.113.7', 443)).toEqual({ entry: '203.0.113.7', version: 12, evidence: 'blacklist-ip', domain: null });
    expect(at(l, '198.51.100.9', 3333)?.entry).toBe('198.51.100.0/24:3333');
    expect(at(l, '198.51.100.9', 3334)).toBeNull();
    expect(at(l, '192.0.2.1', 443)).toBeNull();
  });

  it('a list read for one run has no version', () => {
    expect(at(live({ addresses: '203.0.113.7' }), '203.0.113.7', 1)?.version).toBeNull();
  });

  it('an entry past its expiresAt (packet time) no longer counts', () => {
    const s = snapshot({ addresses: '203.0.113.7' });
    const e = s.addresses.match(parseAddress('203.0.113.7'), 4, 1)!;
    e.expiresAt = T0 / 1000 + 60_000;
    const l = new LiveBlacklist(s);
    expect(at(l, '203.0.113.7', 1, T0 + 59 * SEC)).not.toBeNull();
    expect(at(l, '203.0.113.7', 1, T0 + 61 * SEC)).toBeNull();
  });
});

describe('LiveBlacklist: addresses taught by DNS', () => {
  it('only names (or names below them) that are listed are learned', () => {
    const l = live({ domains: ['pool.example'] });
    expect(learn(l, 'eu.pool.example', '198.51.100.9')).toBe(true);
    expect(learn(l, 'www.example.com', '192.0.2.80')).toBe(false);
    expect(l.learnedSize).toBe(1);
    expect(at(l, '192.0.2.80', 443)).toBeNull();
  });

  it('a learned address matches as dns, naming the domain entry, its version and the name', () => {
    const l = live({ domains: ['pool.example'], version: 7 });
    learn(l, 'eu.pool.example', '198.51.100.9');
    expect(at(l, '198.51.100.9', 3333)).toEqual({ entry: 'pool.example', version: 7, evidence: 'dns', domain: 'eu.pool.example' });
  });

  it('a static entry wins over a learned one', () => {
    const l = live({ addresses: '198.51.100.9', domains: ['pool.example'] });
    learn(l, 'pool.example', '198.51.100.9');
    expect(at(l, '198.51.100.9', 1)?.evidence).toBe('blacklist-ip');
  });

  it('the domain entry decides the ports', () => {
    const l = live({ domains: ['pool.example:3333', 'pool.example:5555'] });
    learn(l, 'pool.example', '198.51.100.9');
    expect(at(l, '198.51.100.9', 3333)?.entry).toBe('pool.example:3333');
    expect(at(l, '198.51.100.9', 5555)?.entry).toBe('pool.example:5555');
    expect(at(l, '198.51.100.9', 443)).toBeNull();
  });

  it('IPv6, and an IPv4 answer matching an IPv4-mapped IPv6 flow', () => {
    const l = live({ domains: ['pool.example'] });
    learn(l, 'pool.example', '2001:db8::77');
    learn(l, 'pool.example', '198.51.100.9');
    expect(at(l, '2001:db8::77', 1)?.evidence).toBe('dns');
    expect(at(l, '2001:db8::78', 1)).toBeNull();
    expect(at(l, '::ffff:198.51.100.9', 1)?.evidence).toBe('dns');
  });

  it('allow-listed ranges are never flagged, even when a listed name resolves into them (CDN fronts)', () => {
    const l = live({ domains: ['pool.example'], allow: '104.16.0.0/13' });
    learn(l, 'pool.example', '104.16.1.1');
    expect(at(l, '104.16.1.1', 443)).toBeNull();
  });

  it('expires by packet time: answer time + TTL, not the wall clock', () => {
    const l = live({ domains: ['pool.example'] });
    learn(l, 'pool.example', '198.51.100.9', 120, T0);
    expect(at(l, '198.51.100.9', 1, T0 + 119 * SEC)).not.toBeNull();
    expect(at(l, '198.51.100.9', 1, T0 + 121 * SEC)).toBeNull();
    expect(l.learnedSize).toBe(0);
    expect(l.stats.expired).toBe(1);
  });

  it('a new answer renews the address', () => {
    const l = live({ domains: ['pool.example'] });
    learn(l, 'pool.example', '198.51.100.9', 120, T0);
    learn(l, 'pool.example', '198.51.100.9', 120, T0 + 100 * SEC);
    expect(at(l, '198.51.100.9', 1, T0 + 200 * SEC)).not.toBeNull();
    expect(l.learnedSize).toBe(1);
  });

  it('TTLs are held between a floor and a cap', () => {
    const l = live({ domains: ['pool.example'] }, { minTtlSec: 30, maxTtlSec: 3600 });
    learn(l, 'pool.example', '198.51.100.1', 0, T0);
    learn(l, 'pool.example', '198.51.100.2', 10 * 86400, T0);
    expect(at(l, '198.51.100.1', 1, T0 + 29 * SEC)).not.toBeNull();
    expect(at(l, '198.51.100.1', 1, T0 + 31 * SEC)).toBeNull();
    expect(at(l, '198.51.100.2', 1, T0 + 3599 * SEC)).not.toBeNull();
    expect(at(l, '198.51.100.2', 1, T0 + 3601 * SEC)).toBeNull();
  });

  it('the number of learned addresses is capped: the least recently learned goes first', () => {
    const l = live({ domains: ['pool.example'] }, { maxLearned: 3 });
    learn(l, 'pool.example', '198.51.100.1');
    learn(l, 'pool.example', '198.51.100.2');
    learn(l, 'pool.example', '198.51.100.3');
    learn(l, 'pool.example', '198.51.100.1'); // renewed: now the newest
    learn(l, 'pool.example', '198.51.100.4');
    expect(l.learnedSize).toBe(3);
    expect(l.stats.evicted).toBe(1);
    expect(at(l, '198.51.100.2', 1)).toBeNull();
    for (const a of ['198.51.100.1', '198.51.100.3', '198.51.100.4']) expect(at(l, a, 1), a).not.toBeNull();
  });

  it('100,000 learned addresses (the default cap) and misses still answer null', () => {
    const l = live({ domains: ['pool.example'] });
    for (let i = 0; i < 100_500; i++) l.learn('pool.example', Uint8Array.of(10, (i >> 16) & 255, (i >> 8) & 255, i & 255), 4, 300, T0);
    expect(l.learnedSize).toBe(100_000);
    expect(at(l, '10.0.0.0', 1)).toBeNull();
    expect(at(l, '10.1.136.147', 1)?.evidence).toBe('dns'); // 100,499
    expect(at(l, '192.0.2.1', 1)).toBeNull();
  });
});

describe('LiveBlacklist: swap', () => {
  it('replaces the whole list in one step: old entries gone, new ones in force, no empty moment', () => {
    const l = live({ addresses: '203.0.113.1', domains: ['old.example'], version: 1 });
    const before = l.snapshot;
    const next = snapshot({ addresses: '203.0.113.2', domains: ['new.example'], version: 2 });
    l.swap(next);
    expect(l.snapshot).toBe(next);
    expect(l.snapshot).not.toBe(before);
    expect(at(l, '203.0.113.1', 1)).toBeNull();
    expect(at(l, '203.0.113.2', 1)).toMatchObject({ entry: '203.0.113.2', version: 2 });
    expect(l.matchName('a.old.example', 443)).toBeNull();
    expect(l.matchName('a.new.example', 443)?.listVersion).toBe(2);
    expect(l.stats.swaps).toBe(1);
  });

  it('learned addresses survive only while their name is still listed, and take the new entry', () => {
    const l = live({ domains: ['pool.example', 'gone.example'], version: 1 });
    learn(l, 'eu.pool.example', '198.51.100.1');
    learn(l, 'gone.example', '198.51.100.2');
    l.swap(snapshot({ domains: ['pool.example', 'other.example'], version: 2 }));
    expect(l.learnedSize).toBe(1);
    expect(l.stats.droppedOnSwap).toBe(1);
    expect(at(l, '198.51.100.1', 1)).toEqual({ entry: 'pool.example', version: 2, evidence: 'dns', domain: 'eu.pool.example' });
    expect(at(l, '198.51.100.2', 1)).toBeNull();
  });

  it('a learned name now covered only by a port-limited entry is still held, for those ports', () => {
    const l = live({ domains: ['pool.example'] });
    learn(l, 'pool.example', '198.51.100.1');
    l.swap(snapshot({ domains: [dom('pool.example:3333')] }));
    expect(at(l, '198.51.100.1', 3333)?.entry).toBe('pool.example:3333');
    expect(at(l, '198.51.100.1', 443)).toBeNull();
  });

  it('hasNames follows the snapshot', () => {
    const l = live();
    expect(l.hasNames).toBe(false);
    l.swap(snapshot({ domains: ['pool.example'] }));
    expect(l.hasNames).toBe(true);
  });
});
