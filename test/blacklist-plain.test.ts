import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPv4 } from 'ip-num';
import { PoolwatchError } from '../src/errors.js';
import { loadPlainListFile, parsePlainList, type BlacklistEntry } from '../src/blacklist/index.js';
import { formatIPv6, parseDottedQuad } from '../src/blacklist/addr.js';

const one = (line: string): BlacklistEntry => {
  const r = parsePlainList(line, 'test.txt');
  expect(r.errors.map(String)).toEqual([]);
  expect(r.entries).toHaveLength(1);
  return r.entries[0]!;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('parsePlainList: good lines', () => {
  it.each([
    // input, version, addr hex, prefixLen, portLo, portHi, canonical text
    ['198.51.100.7', 4, 'c6336407', 32, 0, 65535, '198.51.100.7'],
    ['198.51.100.7/32', 4, 'c6336407', 32, 0, 65535, '198.51.100.7'],
    ['203.0.113.0/24', 4, 'cb007100', 24, 0, 65535, '203.0.113.0/24'],
    ['203.0.113.0/24:3333', 4, 'cb007100', 24, 3333, 3333, '203.0.113.0/24:3333'],
    ['198.51.100.7:3333-3340', 4, 'c6336407', 32, 3333, 3340, '198.51.100.7:3333-3340'],
    ['198.51.100.7:1-65535', 4, 'c6336407', 32, 1, 65535, '198.51.100.7:1-65535'],
    ['0.0.0.0/0', 4, '00000000', 0, 0, 65535, '0.0.0.0/0'],
    ['255.255.255.255:65535', 4, 'ffffffff', 32, 65535, 65535, '255.255.255.255:65535'],
    ['2001:db8::/32', 6, '20010db8000000000000000000000000', 32, 0, 65535, '2001:db8::/32'],
    ['2001:DB8:0:0:0:0:0:1', 6, '20010db8000000000000000000000001', 128, 0, 65535, '2001:db8::1'],
    ['2001:db8::1:3333', 6, '20010db8000000000000000000013333', 128, 0, 65535, '2001:db8::1:3333'],
    ['[2001:db8::1]', 6, '20010db8000000000000000000000001', 128, 0, 65535, '2001:db8::1'],
    ['[2001:db8::1]:3333', 6, '20010db8000000000000000000000001', 128, 3333, 3333, '[2001:db8::1]:3333'],
    ['[2001:db8::/32]:3333-3340', 6, '20010db8000000000000000000000000', 32, 3333, 3340, '[2001:db8::/32]:3333-3340'],
    ['[2001:db8::1/128]:14444', 6, '20010db8000000000000000000000001', 128, 14444, 14444, '[2001:db8::1]:14444'],
    ['::/0', 6, '00000000000000000000000000000000', 0, 0, 65535, '::/0'],
    ['::ffff:192.0.2.1', 6, '00000000000000000000ffffc0000201', 128, 0, 65535, '::ffff:192.0.2.1'],
  ] as const)('%s', (line, version, addr, prefixLen, portLo, portHi, text) => {
    const e = one(line);
    expect({ version: e.version, addr: hex(e.addr), prefixLen: e.prefixLen, portLo: e.portLo, portHi: e.portHi, text: e.text, source: e.source }).toEqual({
      version, addr, prefixLen, portLo, portHi, text, source: 'test.txt',
    });
    expect(e.addr.length).toBe(version === 4 ? 4 : 16);
    // the canonical text parses back to the same entry
    expect(one(text)).toEqual(e);
  });

  it('skips comments, blank lines and whitespace; handles CRLF, lone CR and a BOM', () => {
    const text = '\uFEFF# header\r\n\r\n  198.51.100.7  \r\n203.0.113.0/24:3333 # trailing comment\r\n\t# indented comment\n   \n[2001:db8::1]:3333#no space\r2001:db8::/32\r\n';
    const r = parsePlainList(text, 'crlf.txt');
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.entries.map((e) => e.text)).toEqual(['198.51.100.7', '203.0.113.0/24:3333', '[2001:db8::1]:3333', '2001:db8::/32']);
  });

  it('an empty or comment-only list has no entries and no errors', () => {
    expect(parsePlainList('', 'e')).toEqual({ entries: [], errors: [], warnings: [] });
    expect(parsePlainList('# nothing\n\n', 'e')).toEqual({ entries: [], errors: [], warnings: [] });
  });

  it('host bits set in a CIDR: normalised to the network, kept, with a warning naming file and line', () => {
    const r = parsePlainList('# x\n10.0.0.1/24:3333\n[2001:db8::1/32]\n', 'hb.txt');
    expect(r.errors).toEqual([]);
    expect(r.entries.map((e) => e.text)).toEqual(['10.0.0.0/24:3333', '2001:db8::/32']);
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toBeInstanceOf(PoolwatchError);
    expect(r.warnings[0]!.code).toBe('PW_ERR_LIST_SYNTAX');
    expect(r.warnings[0]!.context).toMatchObject({ file: 'hb.txt', line: 2 });
    expect(r.warnings[0]!.message).toMatch(/hb\.txt, line 2: host bits set .*10\.0\.0\.0\/24/);
    expect(r.warnings[1]!.context).toMatchObject({ line: 3 });
  });
});

describe('parsePlainList: bad lines are collected, not fatal', () => {
  it.each([
    ['garbage', 'hello'],
    ['two addresses', '1.2.3.4 5.6.7.8'],
    ['octet > 255', '1.2.3.256'],
    ['three octets', '1.2.3'],
    ['leading zero', '01.2.3.4'],
    ['bad IPv6', '2001:db8:::1'],
    ['IPv6 zone id', 'fe80::1%eth0'],
    ['port 0', '1.2.3.4:0'],
    ['port > 65535', '1.2.3.4:65536'],
    ['port way too big', '1.2.3.4:999999'],
    ['port range 0-…', '1.2.3.4:0-100'],
    ['port range end > 65535', '[2001:db8::1]:3333-70000'],
    ['port range reversed', '1.2.3.4:3340-3333'],
    ['IPv6 port range reversed', '[2001:db8::/32]:3340-3333'],
    ['empty port', '1.2.3.4:'],
    ['non-numeric port', '1.2.3.4:http'],
    ['host name with port', 'pool.example:3333'],
    ['IPv4 prefix too long', '1.2.3.4/33'],
    ['IPv6 prefix too long', '2001:db8::/129'],
    ['bracketed IPv6 prefix too long', '[2001:db8::/200]:3333'],
    ['empty prefix', '1.2.3.4/'],
    ['non-numeric prefix', '1.2.3.4/abc'],
    ['two prefixes', '1.2.3.0/24/8'],
    ['bare IPv6 with a port', '2001:db8::/32:3333'],
    ['missing ]', '[2001:db8::1:3333'],
    ['text after ]', '[2001:db8::1]3333'],
    ['brackets around IPv4', '[1.2.3.4]:3333'],
    ['host name', 'pool.minexmr.com'],
  ])('%s: %s', (_kind, bad) => {
    const text = `198.51.100.7\n# comment\n${bad}\n203.0.113.0/24:3333\r\n`;
    const r = parsePlainList(text, 'lists/bad.txt');
    expect(r.entries.map((e) => e.text)).toEqual(['198.51.100.7', '203.0.113.0/24:3333']);
    expect(r.errors).toHaveLength(1);
    const err = r.errors[0]!;
    expect(err).toBeInstanceOf(PoolwatchError);
    expect(err.code).toBe('PW_ERR_LIST_SYNTAX');
    expect(err.context).toMatchObject({ file: 'lists/bad.txt', line: 3 });
    expect(err.message).toMatch(/^lists\/bad\.txt, line 3: /);
  });

  it('a bare IPv6 network with a port gets a hint about brackets', () => {
    expect(parsePlainList('2001:db8::/32:3333', 'f').errors[0]!.message).toMatch(/must be in brackets/);
  });

  it('every bad line is reported once, with its own line number', () => {
    const r = parsePlainList('x\n1.2.3.4\ny\n\nz:1\n', 'f');
    expect(r.entries).toHaveLength(1);
    expect(r.errors.map((e) => e.context.line)).toEqual([1, 3, 5]);
  });
});

describe('loadPlainListFile', () => {
  it('reads a file, using its path as source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-bl-'));
    try {
      const f = join(dir, 'list.txt');
      writeFileSync(f, '198.51.100.7:3333\nbad line\n');
      const r = loadPlainListFile(f);
      expect(r.entries.map((e) => [e.text, e.source])).toEqual([['198.51.100.7:3333', f]]);
      expect(r.errors[0]!.context).toMatchObject({ file: f, line: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing file throws PW_ERR_IO naming the file', () => {
    const f = join(tmpdir(), 'pw-no-such-list-' + process.pid + '.txt');
    let caught: unknown;
    try {
      loadPlainListFile(f);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PoolwatchError);
    expect((caught as PoolwatchError).code).toBe('PW_ERR_IO');
    expect((caught as PoolwatchError).context.file).toBe(f);
    expect((caught as PoolwatchError).message).toContain(f);
  });
});

describe('address helpers', () => {
  it('IPv6 text follows RFC 5952', () => {
    const b = (h: string) => Uint8Array.from(Buffer.from(h.replace(/:/g, ''), 'hex'));
    expect(formatIPv6(b('2001:0db8:0000:0000:0001:0000:0000:0001'))).toBe('2001:db8::1:0:0:1');
    expect(formatIPv6(b('2001:0db8:0000:0001:0001:0001:0001:0001'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIPv6(b('0000:0000:0000:0000:0000:0000:0000:0001'))).toBe('::1');
    expect(formatIPv6(b('0001:0000:0000:0000:0000:0000:0000:0000'))).toBe('1::');
    expect(formatIPv6(b('0001:0000:0000:0002:0000:0000:0000:0003'))).toBe('1:0:0:2::3');
    expect(formatIPv6(b('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  });

  it('the dotted-quad fast path accepts exactly what ip-num accepts (random strings)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const alphabet = '0123456789.....x -';
    const ipnum = (s: string): string | null => {
      try {
        return IPv4.fromString(s).toString();
      } catch {
        return null;
      }
    };
    for (let i = 0; i < 20000; i++) {
      let s: string;
      if (rnd() < 0.5) {
        // near-valid: four numbers, sometimes with leading zeros or too big
        s = [0, 0, 0, 0].map(() => String(Math.floor(rnd() * 300)).padStart(rnd() < 0.1 ? 3 : 0, '0')).join('.');
      } else {
        s = '';
        const n = 1 + Math.floor(rnd() * 16);
        for (let k = 0; k < n; k++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      }
      const fast = parseDottedQuad(s);
      const want = ipnum(s);
      expect([s, fast === null ? null : [...fast].join('.')]).toEqual([s, want]);
    }
  });
});
