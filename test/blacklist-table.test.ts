/**
 * The columnar address store (src/blacklist/address-table.ts), the index standing on several of
 * them (lookup.ts), the list reader that fills one without an object per line (list-reader.ts)
 * and the stored version read into one (store.ts loadStoredList).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AddressTable } from '../src/blacklist/address-table.js';
import { parseList } from '../src/blacklist/formats/index.js';
import { BlacklistIndex, buildIndex, tableOf, type BlacklistEntry } from '../src/blacklist/index.js';
import { readListInto } from '../src/blacklist/list-reader.js';
import { buildSnapshot, LiveBlacklist } from '../src/blacklist/live.js';
import { loadRunOnlyLists } from '../src/blacklist/run-list.js';
import { commitVersion, loadSnapshot, loadStoredList } from '../src/blacklist/store.js';
import { openDatabase } from '../src/report/db.js';
import { addressOf, entries as storeEntries, listEntries, matchText, memoryLog } from './helpers/blacklist.js';

const list = listEntries;
const ip = addressOf;
const m = matchText;
/** Every entry of a table, as objects. */
const all = (t: AddressTable): BlacklistEntry[] => Array.from({ length: t.size }, (_, i) => t.entry(i));
/** Table read from list text with the run-only reader. */
const read = (format: 'entries' | 'plain', text: string, source = 'run.txt') => {
  const t = new AddressTable();
  const r = readListInto(format, text, source, t);
  return { t, r };
};

describe('AddressTable: edges of the address space', () => {
  const idx = buildIndex(
    list(`
0.0.0.0/0:7777
[::/0]:7777
255.255.255.255
0.0.0.0
0.0.0.0/32:1
ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
::
::1
128.0.0.0/1:8888
[8000::/1]:8888
`),
  );

  it('/0 holds every address, and only on its port', () => {
    expect(m(idx, '1.2.3.4', 7777)).toBe('0.0.0.0/0:7777');
    expect(m(idx, '1.2.3.4', 7778)).toBeNull();
    expect(m(idx, '2001:db8::1', 7777)).toBe('[::/0]:7777');
    expect(m(idx, '2001:db8::1', 7778)).toBeNull();
  });

  it('/32 and /128 at both ends of the space, sign bit set or not', () => {
    expect(m(idx, '255.255.255.255', 1)).toBe('255.255.255.255');
    expect(m(idx, '255.255.255.254', 1)).toBeNull();
    expect(m(idx, '0.0.0.0', 2)).toBe('0.0.0.0');
    expect(m(idx, '0.0.0.0', 1)).toBe('0.0.0.0:1'); // narrower port range of the same network first
    expect(m(idx, '0.0.0.1', 1)).toBeNull();
    expect(m(idx, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 1)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    expect(m(idx, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', 1)).toBeNull();
    expect(m(idx, '::', 1)).toBe('::');
    expect(m(idx, '::1', 1)).toBe('::1');
    expect(m(idx, '::2', 1)).toBeNull();
  });

  it('/1 networks with the top bit set (negative int32 keys)', () => {
    expect(m(idx, '200.1.1.1', 8888)).toBe('128.0.0.0/1:8888');
    expect(m(idx, '127.255.255.255', 8888)).toBeNull();
    expect(m(idx, 'fe80::1', 8888)).toBe('[8000::/1]:8888');
    expect(m(idx, '7fff::1', 8888)).toBeNull();
  });

  it('longest prefix first: a /32 on its port, else the /0 on its port', () => {
    expect(m(idx, '255.255.255.255', 7777)).toBe('255.255.255.255');
    const i2 = buildIndex(list('10.0.0.0/8:3333\n10.1.0.0/16:4444\n10.1.1.1:5555'));
    expect(m(i2, '10.1.1.1', 3333)).toBe('10.0.0.0/8:3333');
    expect(m(i2, '10.1.1.1', 4444)).toBe('10.1.0.0/16:4444');
    expect(m(i2, '10.1.1.1', 5555)).toBe('10.1.1.1:5555');
    expect(m(i2, '10.1.1.1', 6666)).toBeNull();
  });
});

describe('AddressTable: entries', () => {
  it('rebuilds the canonical text of every kind of entry, with its fields', () => {
    const texts = ['203.0.113.7', '203.0.113.0/24:3333', '198.51.100.9:3333-3340', '2001:db8::/32', '[2001:db8::1]:3333', '[2001:db8::/48]:3333-3340', '::ffff:192.0.2.0/120', '[::ffff:192.0.2.9]:3333', '0.0.0.0/0', '::/0'];
    const parsed = list(texts.join('\n'));
    const t = tableOf(parsed);
    expect(t.size).toBe(texts.length);
    expect(all(t)).toEqual(parsed);
  });

  it('keeps a text that is not the canonical one, the version, the expiry and the labels', () => {
    const t = new AddressTable();
    const [a, b] = list('192.0.2.1\n2001:db8::/64');
    t.add({ ...a!, text: 'hand-made', listVersion: 3, expiresAt: 1_700_000_000_000, coin: 'xmr', label: 'pool' });
    t.add({ ...b!, source: 'other' });
    expect(t.entry(0)).toEqual({ ...a, text: 'hand-made', listVersion: 3, expiresAt: 1_700_000_000_000, coin: 'xmr', label: 'pool' });
    expect(t.entry(1)).toEqual({ ...b, source: 'other' });
    expect(t.entry(1)).not.toHaveProperty('expiresAt');
    expect(t.entry(1)).not.toHaveProperty('listVersion');
  });

  it('answers the same object for every hit on an entry', () => {
    const idx = buildIndex(list('192.0.2.0/24'));
    const a = idx.match(ip('192.0.2.1').addr, 4, 1);
    expect(a).not.toBeNull();
    expect(idx.match(ip('192.0.2.200').addr, 4, 1)).toBe(a);
    expect(idx.match(ip('::ffff:192.0.2.7').addr, 6, 1)).toBe(a);
  });

  it('exact duplicates are kept once, whatever the spelling; the first wins', () => {
    const t = new AddressTable();
    expect(t.add(list('192.0.2.1', 'a.txt')[0]!)).toBe(true);
    expect(t.add(list('192.0.2.1/32', 'b.txt')[0]!)).toBe(false);
    expect(t.add(list('::ffff:192.0.2.1', 'c.txt')[0]!)).toBe(false); // the same network, spelled as IPv6
    expect(t.add(list('192.0.2.1:3333', 'd.txt')[0]!)).toBe(true); // another port range
    expect(t.add(list('2001:db8::/32', 'a.txt')[0]!)).toBe(true);
    expect(t.add(list('2001:db8:0:0::/32', 'b.txt')[0]!)).toBe(false);
    expect(t.size).toBe(3);
    expect(all(t).map((e) => `${e.source} ${e.text}`)).toEqual(['a.txt 192.0.2.1', 'd.txt 192.0.2.1:3333', 'a.txt 2001:db8::/32']);
  });

  it('grows through many rehashes and keeps every entry findable', () => {
    const t = new AddressTable();
    const o = t.origin({ source: 'grow' });
    for (let i = 0; i < 50_000; i++) t.addV4(Math.imul(i, 0x9e3779b1) & -256, 24, 0, 65535, o);
    for (let i = 0; i < 5_000; i++) {
      const b = new Uint8Array(16);
      b.set([0x20, 0x01, 0x0d, 0xb8, i >>> 8, i & 255]);
      t.addBytes(6, b, 48, 0, 65535, o, NaN, null);
    }
    expect(t.size).toBe(55_000);
    const idx = new BlacklistIndex([t]);
    for (let i = 0; i < 50_000; i += 7) {
      const a = Math.imul(i, 0x9e3779b1) | 77;
      const e = idx.match(Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255), 4, 1);
      expect(e?.prefixLen).toBe(24);
    }
    for (let i = 1; i < 5_000; i += 7) {
      expect(m(idx, `2001:db8:${i.toString(16)}::9`, 1)).toBe(`2001:db8:${i.toString(16)}::/48`);
    }
  });

  it('addAll copies another table in its order, its duplicates dropped', () => {
    const a = tableOf(list('192.0.2.1\n2001:db8::/32\n::ffff:198.51.100.0/120', 'a.txt'));
    const b = tableOf([...list('192.0.2.1\n203.0.113.0/24:3333', 'b.txt'), { ...list('198.51.100.77')[0]!, text: 'custom', expiresAt: 5, listVersion: 9 }]);
    a.addAll(b);
    expect(all(a).map((e) => `${e.source} ${e.text}`)).toEqual([
      'a.txt 192.0.2.1', 'a.txt 2001:db8::/32', 'a.txt ::ffff:198.51.100.0/120', 'b.txt 203.0.113.0/24:3333', 'test.txt custom',
    ]);
    expect(a.entry(4)).toMatchObject({ expiresAt: 5, listVersion: 9 });
  });
});

describe('BlacklistIndex over several tables', () => {
  it('answers like one table holding them all in order (randomized)', () => {
    let seed = 99;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const int = (n: number) => Math.floor(rnd() * n);
    // Entries from random bytes (few values, so networks nest and collide), masked as the parser gives them.
    const mk = (src: string): BlacklistEntry => {
      const v6 = rnd() < 0.3;
      const addr = new Uint8Array(v6 ? 16 : 4).map(() => int(4) << 6);
      addr[0] = v6 ? 0x20 : 10;
      const max = v6 ? 128 : 32;
      const prefixLen = rnd() < 0.4 ? max : int(max + 1);
      for (let i = 0; i < addr.length; i++) {
        const keep = Math.min(8, Math.max(0, prefixLen - i * 8));
        addr[i]! &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
      }
      const [portLo, portHi] = [[0, 65535], [3333, 3333], [3330, 3340], [3333, 3334], [3334, 3335]][int(5)]!;
      return { version: v6 ? 6 : 4, addr, prefixLen, portLo: portLo!, portHi: portHi!, text: '', source: src };
    };
    const a = Array.from({ length: 400 }, () => mk('a'));
    const b = Array.from({ length: 400 }, () => mk('b'));
    const c = Array.from({ length: 100 }, () => mk('c'));
    const allow = Array.from({ length: 10 }, () => mk('allow')).filter((e) => e.prefixLen >= (e.version === 4 ? 28 : 120));
    const one = buildIndex([...a, ...b, ...c], allow);
    const layered = new BlacklistIndex([tableOf(a), tableOf(b), tableOf(c)], [tableOf(allow)]);
    let hits = 0;
    for (let i = 0; i < 20_000; i++) {
      const v6 = rnd() < 0.3;
      const addr = new Uint8Array(16).map(() => int(4) << 6);
      if (v6) addr[0] = 0x20;
      else addr[0] = 10;
      const version = v6 ? 6 : 4;
      const port = 3328 + int(10);
      const x = one.match(addr, version, port);
      const y = layered.match(addr, version, port);
      if (x !== null) hits++;
      expect(y === null ? null : `${y.source} ${y.text}`).toBe(x === null ? null : `${x.source} ${x.text}`);
      const ax = one.allowedBy(addr, version, port);
      const ay = layered.allowedBy(addr, version, port);
      expect(ay?.text ?? null).toBe(ax?.text ?? null);
    }
    expect(hits).toBeGreaterThan(2000);
  });

  it('an earlier table wins ties: the same network and ports in two tables', () => {
    const stored = tableOf(list('192.0.2.1:3333\n192.0.2.0/24', 'stored').map((e) => ({ ...e, listVersion: 4 })));
    const run = tableOf(list('192.0.2.1:3333\n192.0.2.1:3000-4000\n192.0.2.1', 'run'));
    const idx = new BlacklistIndex([stored, run]);
    expect(idx.size).toBe(5);
    expect(idx.match(ip('192.0.2.1').addr, 4, 3333)).toMatchObject({ source: 'stored', listVersion: 4 });
    expect(idx.match(ip('192.0.2.1').addr, 4, 3500)?.text).toBe('192.0.2.1:3000-4000'); // narrower than the run's any-port entry
    expect(idx.match(ip('192.0.2.1').addr, 4, 22)).toMatchObject({ source: 'run', text: '192.0.2.1' }); // the /32 beats the stored /24
    expect(idx.match(ip('192.0.2.2').addr, 4, 22)).toMatchObject({ source: 'stored', text: '192.0.2.0/24' });
  });

  it('the allow-list covers every table', () => {
    const idx = new BlacklistIndex([tableOf(list('104.16.0.0/12')), tableOf(list('104.17.1.1:3333\n2606:4700::1'))], [tableOf(list('104.17.0.0/16\n2606:4700::/32'))]);
    expect(m(idx, '104.17.1.1', 3333)).toBeNull();
    expect(m(idx, '104.18.1.1', 3333)).toBe('104.16.0.0/12');
    expect(m(idx, '2606:4700::1', 1)).toBeNull();
    expect(idx.allowedBy(ip('104.17.1.1').addr, 4, 3333)?.text).toBe('104.17.0.0/16');
  });

  it('an index with tables still takes entries one by one, after them', () => {
    const idx = new BlacklistIndex([tableOf(list('192.0.2.1', 'table'))]);
    idx.add(list('192.0.2.1', 'added')[0]!);
    idx.add(list('2001:db8::/32', 'added')[0]!);
    idx.addAllow(list('2001:db8:1::/48')[0]!);
    expect(idx.match(ip('192.0.2.1').addr, 4, 1)?.source).toBe('table');
    expect(m(idx, '2001:db8::1', 1)).toBe('2001:db8::/32');
    expect(m(idx, '2001:db8:1::1', 1)).toBeNull();
  });
});

describe('LiveBlacklist on tables: swap while running', () => {
  it('flows after a swap match the new tables; entries of the old one stay as they were', () => {
    const runOnly = read('entries', '198.51.100.0/24:3333\n').t;
    const v1 = tableOf(list('203.0.113.7', 'stored').map((e) => ({ ...e, listVersion: 1 })));
    const v2 = tableOf(list('203.0.113.8', 'stored').map((e) => ({ ...e, listVersion: 2 })));
    const snap = (t: AddressTable) => ({ addresses: new BlacklistIndex([t, runOnly]), domains: buildSnapshot([], []).domains });
    const l = new LiveBlacklist(snap(v1));
    const before = l.matchAddress(Uint8Array.of(203, 0, 113, 7), 4, 1, 0);
    const runHit = l.matchAddress(Uint8Array.of(198, 51, 100, 9), 4, 3333, 0);
    expect(before).toEqual({ entry: '203.0.113.7', version: 1, evidence: 'blacklist-ip', domain: null });
    l.swap(snap(v2));
    expect(l.matchAddress(Uint8Array.of(203, 0, 113, 7), 4, 1, 0)).toBeNull();
    expect(l.matchAddress(Uint8Array.of(203, 0, 113, 8), 4, 1, 0)).toEqual({ entry: '203.0.113.8', version: 2, evidence: 'blacklist-ip', domain: null });
    // The run-only table is shared by both snapshots: same entry, same answer.
    expect(l.matchAddress(Uint8Array.of(198, 51, 100, 9), 4, 3333, 0)).toEqual(runHit);
    expect(before).toEqual({ entry: '203.0.113.7', version: 1, evidence: 'blacklist-ip', domain: null });
  });
});

describe('list reader: the same result as the format parsers', () => {
  const messy = [
    '\ufeff# a list with everything',
    '203.0.113.7',
    '  203.0.113.8  # trailing comment',
    '\t203.0.113.0/24:3333\t',
    '198.51.100.9:3333-3340',
    '203.0.113.7',
    '203.0.113.7/32',
    '10.0.0.1/24',
    '010.0.0.1',
    '1.2.3.4/024',
    '1.2.3.4:03333',
    '1.2.3.4:0',
    '1.2.3.4:70000',
    '1.2.3.4:5-4',
    '1.2.3.4:3333-',
    '1.2.3.4:',
    '1.2.3.4/',
    '1.2.3.4/33',
    '1.2.3.256',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.4 junk',
    '1.2.3.4#x',
    '0.0.0.0/0',
    '255.255.255.255/32:65535',
    '2001:db8::/32',
    '[2001:db8::1]:3333',
    '::ffff:192.0.2.1',
    '192.0.2.1',
    'pool.example',
    'xmr.pool.example:4444',
    'Pool.Example.',
    'bad_name!',
    '',
    '   ',
    '# only a comment',
    '\u00a0203.0.113.99\u00a0',
    '203.0.113.98\r',
    '203.0.113.97\r\n203.0.113.96',
    '1.2.3.4\v',
  ];
  for (const eol of ['\n', '\r\n', '\r']) {
    for (const format of ['entries', 'plain'] as const) {
      it(`${format} format, lines ending ${JSON.stringify(eol)}`, () => {
        const text = messy.join(eol);
        const want = parseList(format, text, 'f.txt');
        const { t, r } = read(format, text, 'f.txt');
        const errs = (xs: { message: string; code: string; context: object }[]) => xs.map((e) => ({ message: e.message, code: e.code, context: e.context }));
        expect(errs(r.errors)).toEqual(errs(want.errors));
        expect(errs(r.warnings)).toEqual(errs(want.warnings));
        expect(r.domains).toEqual(want.domains);
        // The parsers keep each text once; the table keeps each network and port range once (both
        // spellings of a mapped address are one network, as they were in the index built from them).
        expect(all(t)).toEqual(all(tableOf(want.addresses)));
        expect(t.size).toBe(want.addresses.length - 1); // 192.0.2.1 after ::ffff:192.0.2.1
        expect(r.added).toBe(t.size);
        for (const e of all(t)) expect(e.source).toBe('f.txt');
      });
    }
  }

  it('a million-line list goes in without an entry object per line', () => {
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`${(i >>> 16) + 1}.${(i >>> 8) & 255}.${i & 255}.0/24${i % 5 === 0 ? ':3333' : ''}`);
    const { t, r } = read('entries', lines.join('\n'));
    expect(r.errors).toEqual([]);
    expect(t.size).toBe(200_000);
    const idx = new BlacklistIndex([t]);
    expect(m(idx, '1.0.0.77', 3333)).toBe('1.0.0.0/24:3333');
    expect(m(idx, '1.0.0.77', 80)).toBeNull();
    expect(m(idx, '4.13.63.1', 80)).toBe('4.13.63.0/24');
  });
});

describe('run-only lists and the stored version as tables', () => {
  it('loadRunOnlyLists reads --blacklist files and the allow-list into tables, logging problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-table-'));
    const black = join(dir, 'black.txt');
    const allow = join(dir, 'allow.txt');
    writeFileSync(black, '203.0.113.0/24\npool.example:3333\n[2001:db8::/32]:4444\nnot an entry\n');
    writeFileSync(allow, '203.0.113.128/25\n');
    const { log, lines } = memoryLog();
    const r = loadRunOnlyLists([black], { allowFiles: [allow] }, log);
    expect(r.addresses).toBeInstanceOf(AddressTable);
    expect((r.addresses as AddressTable).size).toBe(2);
    expect(r.domains.map((d) => d.text)).toEqual(['pool.example:3333']);
    expect((r.allow as AddressTable).size).toBe(1);
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringContaining('line 4')]);
    const l = new LiveBlacklist(buildSnapshot(r.addresses, r.domains, r.allow));
    expect(l.matchAddress(Uint8Array.of(203, 0, 113, 1), 4, 1, 0)?.entry).toBe('203.0.113.0/24');
    expect(l.matchAddress(Uint8Array.of(203, 0, 113, 200), 4, 1, 0)).toBeNull();
  });

  it('loadStoredList holds what loadSnapshot gives, labels, versions and expiry included', () => {
    const db = openDatabase(':memory:');
    const T0 = Date.UTC(2024, 0, 1);
    const a = storeEntries('a', ['203.0.113.1', '203.0.113.0/24:3333', '[2001:db8::1]:4444', '::ffff:192.0.2.0/120', 'pool.example'], { coin: 'xmr', label: 'p' });
    a[0]!.expiresAt = T0 + 60_000;
    const b = storeEntries('b', ['198.51.100.7', '203.0.113.1']);
    commitVersion(db, [{ source: 'a', replace: a, status: 'ok' }, { source: 'b', replace: b, status: 'ok' }], { reason: 'refresh', command: 'test', now: T0 });
    const want = loadSnapshot(db, T0);
    const got = loadStoredList(db, T0);
    expect(got.version).toBe(want.version);
    expect(got.domains).toEqual(want.domains);
    // The same entries, an address two sources list kept once (the first, as the index built from the snapshot did).
    expect(all(got.addresses)).toEqual(all(tableOf(want.addresses)));
    expect(got.addresses.size).toBe(want.addresses.length - 1);
    expect(all(loadStoredList(db, T0 + 60_000).addresses)).toEqual(all(tableOf(loadSnapshot(db, T0 + 60_000).addresses)));
    db.close();
  });
});
