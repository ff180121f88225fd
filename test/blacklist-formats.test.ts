/**
 * List formats on small hand-written inputs: the format table, the domain grammar, plain, hosts,
 * domains and abp. CSV and JSON: blacklist-formats-tabular.test.ts; hostile input:
 * blacklist-formats-hostile.test.ts; the real public lists: blacklist-formats-real.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  LIST_FORMATS,
  isListFormat,
  normalizeDomain,
  parseAbpList,
  parseDomainSpec,
  parseList,
  domainText,
} from '../src/blacklist/formats/index.js';
import { parsePlainList } from '../src/blacklist/plain.js';
import type { ListFormat } from '../src/blacklist/types.js';
import { expectWellFormed, summarize } from './helpers/list-formats.js';

const SRC = 'test-list';
const parse = (format: ListFormat, text: string) => {
  const r = parseList(format, text, SRC);
  expectWellFormed(r, SRC);
  return r;
};

describe('the format table', () => {
  it('names every format once, in the ListFormat union', () => {
    expect([...LIST_FORMATS]).toEqual(['plain', 'hosts', 'domains', 'abp', 'csv', 'json', 'entries']);
    expect(Object.isFrozen(LIST_FORMATS)).toBe(true);
  });

  it('isListFormat accepts exactly those names', () => {
    for (const f of LIST_FORMATS) expect(isListFormat(f)).toBe(true);
    for (const f of ['', 'Plain', 'txt', 'constructor', 'toString', '__proto__', 3, null, undefined]) {
      expect(isListFormat(f), String(f)).toBe(false);
    }
  });

  it('dispatches by name: the same text gives different entries in different formats', () => {
    expect(summarize(parse('domains', 'pool.example\n')).domains).toEqual(['pool.example']);
    expect(summarize(parse('hosts', '0.0.0.0 pool.example\n')).domains).toEqual(['pool.example']);
    expect(summarize(parse('abp', '||pool.example^\n')).domains).toEqual(['pool.example']);
    expect(summarize(parse('csv', 'domain\npool.example\n')).domains).toEqual(['pool.example']);
    expect(summarize(parse('json', '["pool.example"]')).domains).toEqual(['pool.example']);
    expect(summarize(parse('plain', 'pool.example\n')).errorLines).toEqual([1]);
  });

  it('entries: addresses and names mixed; a bad line gets the reason of what it looks like', () => {
    const r = parse('entries', '203.0.113.0/24:3333\n[2001:db8::1]:14444\nxmr.pool.example:4444 # pool\nnot a name\n10.0.0.1/24\n300.1.2.3\n');
    expect(summarize(r)).toEqual({
      addresses: ['203.0.113.0/24:3333', '[2001:db8::1]:14444', '10.0.0.0/24'],
      domains: ['xmr.pool.example:4444'],
      errorLines: [4, 6],
      warningLines: [5],
    });
    expect(r.errors[0]!.message).toMatch(/not an address, nor a domain name/);
    expect(r.errors[1]!.message).toMatch(/not an IPv4 address/);
  });

  it('an unknown format is a usage error, not a list error', () => {
    expect(() => parseList('yaml' as ListFormat, '', SRC)).toThrow(expect.objectContaining({ code: 'PW_ERR_USAGE' }));
  });

  it('every format drops a BOM and reads CRLF lines', () => {
    const texts: Record<ListFormat, string> = {
      plain: '# list\r\n203.0.113.7\r\n',
      hosts: '# list\r\n0.0.0.0 pool.example\r\n',
      domains: '# list\r\npool.example\r\n',
      abp: '[Adblock Plus 2.0]\r\n! list\r\n||pool.example^\r\n',
      csv: 'entry\r\npool.example\r\n',
      json: '[\r\n"pool.example"\r\n]\r\n',
      entries: '# list\r\npool.example\r\n',
    };
    for (const f of LIST_FORMATS) {
      const s = summarize(parse(f, `\ufeff${texts[f]}`));
      expect([...s.addresses, ...s.domains, ...s.errorLines, ...s.warningLines], f).toEqual([f === 'plain' ? '203.0.113.7' : 'pool.example']);
    }
  });

  it('every format reads an empty text as an empty list', () => {
    for (const f of LIST_FORMATS) {
      expect(summarize(parse(f, f === 'json' ? '[]' : '')), f).toEqual({ addresses: [], domains: [], errorLines: [], warningLines: [] });
    }
  });
});

describe('normalizeDomain', () => {
  it.each([
    ['pool.example', 'pool.example'],
    ['Pool.EXAMPLE.', 'pool.example'],
    ['xmr-eu1.nanopool.org', 'xmr-eu1.nanopool.org'],
    ['xmr.-eu1.nanopool.org', 'xmr.-eu1.nanopool.org'], // as CoinBlocker lists it; resolvers look it up
    ['my_host.example', 'my_host.example'],
    ['pööl.example', 'xn--pl-fkaa.example'],
    ['myètherwället.com', 'xn--mytherwllet-r8a0c.com'],
    ['例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['ＢＵＣＨＥＲ.example', 'bucher.example'], // full-width letters mapped (UTS 46)
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`],
  ])('%s → %s', (raw, name) => {
    expect(normalizeDomain(raw)).toEqual({ name, warning: null });
  });

  it('a leading "*." is dropped with a warning (entries already cover subdomains)', () => {
    const r = normalizeDomain('*.Pool.example');
    expect(r).toEqual({ name: 'pool.example', warning: expect.stringContaining('"pool.example"') });
    expect(normalizeDomain('*.Pööl.example')).toEqual({ name: 'xn--pl-fkaa.example', warning: expect.stringContaining('kept as "xn--pl-fkaa.example"') });
  });

  it.each([
    ['', /empty label/],
    ['.', /empty label/],
    ['a..example', /empty label/],
    ['.pool.example', /empty label/],
    ['pool.example..', /empty label/],
    [`${'a'.repeat(64)}.example`, /label longer than 63/],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, /longer than 253/],
    ['x'.repeat(5000), /longer than 253/],
    ['localhost', /single-label/],
    ['com', /single-label/],
    ['example.', /single-label/],
    ['1.2.3.4', /numeric last label/],
    ['pool.123', /numeric last label/],
    ['a b.example', /only letters/],
    ['pool.example/path', /only letters/],
    ['pool.example:3333', /only letters/],
    ['%41.example', /only letters/], // the WHATWG mapping would percent-decode this into a name
    ['p\tool.example', /only letters/], // ... and drop the tab
    ['pööl\u0000.example', /only letters/],
    ['pool*.example', /only letters/],
    ['xn--zz.example', /internationalised/],
    ['p\u00adöö\u200b.example'.replace('ö', '\u0378'), /internationalised/], // unassigned code point
  ])('rejects %j', (raw, why) => {
    const r = normalizeDomain(raw);
    expect('error' in r && r.error).toMatch(why);
  });

  it('parseDomainSpec reads an optional port or port range', () => {
    expect(parseDomainSpec('Pool.example:3333')).toEqual({ name: 'pool.example', portLo: 3333, portHi: 3333, warning: null });
    expect(parseDomainSpec('pool.example:3333-3340')).toEqual({ name: 'pool.example', portLo: 3333, portHi: 3340, warning: null });
    expect(parseDomainSpec('pool.example')).toEqual({ name: 'pool.example', portLo: 0, portHi: 65535, warning: null });
    for (const bad of ['pool.example:', 'pool.example:0', 'pool.example:65536', 'pool.example:3340-3333', 'pool.example:x', 'a:1:2', `pool.example:${'9'.repeat(1000)}`]) {
      expect(parseDomainSpec(bad), bad).toEqual({ error: expect.any(String) });
    }
    expect(JSON.stringify(parseDomainSpec(`pool.example:${'9'.repeat(100000)}`)).length).toBeLessThan(300);
  });

  it('domainText is the canonical spelling', () => {
    expect(domainText('pool.example', 0, 65535)).toBe('pool.example');
    expect(domainText('pool.example', 3333, 3333)).toBe('pool.example:3333');
    expect(domainText('pool.example', 3333, 3340)).toBe('pool.example:3333-3340');
    expect(domainText('pool.example', 1, 65535)).toBe('pool.example:1-65535');
  });
});

describe('plain', () => {
  it('is parsePlainList with duplicates kept once and no domains', () => {
    const text = '203.0.113.7\n203.0.113.7/32\n[2001:db8::1]:3333\nnot-an-address\n10.0.0.1/24\n2001:db8:0::1:3333 # bare IPv6\n';
    const r = parse('plain', text);
    expect(summarize(r)).toEqual({
      addresses: ['203.0.113.7', '[2001:db8::1]:3333', '10.0.0.0/24', '2001:db8::1:3333'],
      domains: [],
      errorLines: [4],
      warningLines: [5],
    });
    const p = parsePlainList(text, SRC);
    expect(r.errors.map(String)).toEqual(p.errors.map(String));
    expect(r.addresses[0]).toEqual(p.entries[0]);
  });
});

describe('hosts', () => {
  const text = [
    '# a hosts file', //                                      1
    '127.0.0.1 localhost', //                                 2
    '127.0.0.1 localhost.localdomain', //                     3
    '255.255.255.255 broadcasthost', //                       4
    '::1 localhost ip6-localhost ip6-loopback', //            5
    'fe80::1%lo0 localhost', //                               6
    'ff02::1 ip6-allnodes', //                                7
    '0.0.0.0 0.0.0.0', //                                     8
    '0.0.0.0', //                                             9
    '0.0.0.0 Pool.Example   # trailing comment', //          10
    '127.0.0.1 a.example b.example\tc.example', //           11
    ':: v6sink.example', //                                  12
    '0.0.0.0 pool.example', //                               13  duplicate
    '0.0.0.0 hashbag.cc:8688', //                            14  port: kept, warned
    'pool.example', //                                       15  no address
    '0.0.0.0 bad..name good.example', //                     16  one bad name, one good
    '0.0.0.0 local', //                                      17
    '0.0.0.0 *.wild.example', //                             18  wildcard: kept, warned
    '1.2.3.4 redirected.example', //                         19  any address, names still taken
    '0.0.0.0 single', //                                     20  bare TLD
    '', //                                                   21
  ].join('\n');

  it('takes the names, skips system names and sink-only lines, reports bad lines and names', () => {
    const r = parse('hosts', text);
    expect(summarize(r)).toEqual({
      addresses: [],
      domains: ['pool.example', 'a.example', 'b.example', 'c.example', 'v6sink.example', 'hashbag.cc:8688', 'good.example', 'wild.example', 'redirected.example'],
      errorLines: [15, 16, 20],
      warningLines: [14, 18],
    });
    expect(r.domains[0]).toEqual({ name: 'pool.example', portLo: 0, portHi: 65535, text: 'pool.example', source: SRC });
    expect(r.domains[5]).toMatchObject({ name: 'hashbag.cc', portLo: 8688, portHi: 8688 });
    expect(r.errors[0]!.message).toMatch(/starts with an address/);
    expect(r.errors[1]!.message).toMatch(/empty label in "bad..name"/);
  });

  it('handles BOM, CRLF and lone CR', () => {
    const r = parse('hosts', '\ufeff0.0.0.0 a.example\r\n0.0.0.0 b.example\r0.0.0.0 c.example\r\n\r\n');
    expect(summarize(r)).toEqual({ addresses: [], domains: ['a.example', 'b.example', 'c.example'], errorLines: [], warningLines: [] });
  });
});

describe('domains', () => {
  const text = [
    '# one domain a line', //                  1
    'pool.example', //                         2
    'POOL.example.', //                        3  duplicate after normalisation
    'xmr.pool.example:3333', //                4
    '  spaced.example  ', //                   5
    'two names.example', //                    6  error
    'bad_!.example', //                        7  error
    'xmr.crypto-pool.fr #163.172.204.219', //  8  pair
    'xmr.crypto-pool.fr #163.172.207.69', //   9  pair, name already kept
    'other.example\t#163.172.204.219', //     10  address already kept (first label wins)
    'cryptonotepool.org #A', //               11  prose comment
    ' #104.197.211.117', //                   12  an address with no name: a comment
    'v6.example # 2001:db8::7', //            13  IPv6 pair
    'port.example:4444 #198.51.100.1', //     14  the pair's address takes the name's port
    'cidr.example #10.0.0.0/8', //            15  not a host address: prose
    'big.example #resolved 2018', //          16
    '*.wild.example', //                      17  warning
    '0.0.0.0 hosts.example', //               18  error: hosts syntax
  ].join('\r\n');

  it('yields names, and minerchk address comments as labelled address entries', () => {
    const r = parse('domains', text);
    expect(summarize(r)).toEqual({
      addresses: [
        '163.172.204.219 label=xmr.crypto-pool.fr',
        '163.172.207.69 label=xmr.crypto-pool.fr',
        '2001:db8::7 label=v6.example',
        '198.51.100.1:4444 label=port.example',
      ],
      domains: [
        'pool.example',
        'xmr.pool.example:3333',
        'spaced.example',
        'xmr.crypto-pool.fr',
        'other.example',
        'cryptonotepool.org',
        'v6.example',
        'port.example:4444',
        'cidr.example',
        'big.example',
        'wild.example',
      ],
      errorLines: [6, 7, 18],
      warningLines: [17],
    });
    expect(r.addresses[0]).toEqual({
      version: 4,
      addr: Uint8Array.of(163, 172, 204, 219),
      prefixLen: 32,
      portLo: 0,
      portHi: 65535,
      text: '163.172.204.219',
      source: SRC,
      label: 'xmr.crypto-pool.fr',
    });
    expect(r.addresses[2]!.version).toBe(6);
    expect(r.errors[2]!.message).toMatch(/format "hosts"/);
  });

  it('converts IDNs and keeps a name once whatever its spelling', () => {
    const r = parse('domains', '\ufeffmyètherwället.com\nxn--mytherwllet-r8a0c.com\nMYÈTHERWÄLLET.COM.\n');
    expect(summarize(r)).toEqual({ addresses: [], domains: ['xn--mytherwllet-r8a0c.com'], errorLines: [], warningLines: [] });
  });
});

describe('abp', () => {
  const text = [
    '[Adblock Plus 2.0]', //                                   1
    '! Title: test', //                                        2
    '||pool.example^', //                                      3
    '||pool.example^$third-party', //                          4  duplicate
    '||Third.Example^$third-party,domain=~webmine.cz', //      5
    '||nosep.example$third-party', //                          6
    '||plain.example', //                                      7
    '||ws.example^$websocket', //                              8
    '||end.example^|', //                                      9
    '||203.0.113.7^', //                                      10
    '||[2001:db8::1]^$third-party', //                        11
    '||path.example/miner.js', //                             12  skipped
    '||wild-*.example^', //                                   13  skipped
    '||tk^', //                                               14  skipped
    '@@||allowed.example^', //                                15  skipped
    'example.com##.miner', //                                 16  skipped
    '/miner.js', //                                           17  skipped
    '$websocket,domain=a.example', //                         18  skipped
    "||csp.example^$csp=worker-src 'none'", //                19  skipped
    '/^https?:\\/\\/x/', //                                   20  skipped
    '||999.1.2.3^', //                                        21  error
    '||a..example^', //                                       22  error
    '||pööl.example^', //                                     23
    '||port.example:8080^', //                                24  skipped
    '', //                                                    25
  ].join('\n');

  it('keeps whole-host rules, skips and counts the rest, reports broken hosts', () => {
    const r = parseAbpList(text, SRC);
    expectWellFormed(r, SRC);
    expect(summarize(r)).toEqual({
      addresses: ['203.0.113.7', '2001:db8::1'],
      domains: ['pool.example', 'third.example', 'nosep.example', 'plain.example', 'ws.example', 'end.example', 'xn--pl-fkaa.example'],
      errorLines: [21, 22],
      warningLines: [],
    });
    expect(r.skipped).toBe(10);
    expect(r.addresses[1]!.version).toBe(6);
  });
});
