/** The CSV and JSON list formats on small hand-written inputs. */
import { describe, expect, it } from 'vitest';
import { parseList } from '../src/blacklist/formats/index.js';
import { readCsvRecords } from '../src/blacklist/formats/csv-records.js';
import type { ListFormat } from '../src/blacklist/types.js';
import { expectWellFormed, summarize } from './helpers/list-formats.js';

const SRC = 'test-list';
const parse = (format: ListFormat, text: string) => {
  const r = parseList(format, text, SRC);
  expectWellFormed(r, SRC);
  return r;
};
const EMPTY = { addresses: [], domains: [], errorLines: [], warningLines: [] };

describe('csv records (RFC 4180)', () => {
  it('splits quoted fields with commas, doubled quotes and line breaks, and counts lines', () => {
    const text = '\ufeffa,"b,c","say ""hi"""\r\n"multi\r\nline",x\n\ny\r# comment\nlast';
    expect(readCsvRecords(text)).toEqual([
      { line: 1, fields: ['a', 'b,c', 'say "hi"'], error: null },
      { line: 2, fields: ['multi\r\nline', 'x'], error: null },
      { line: 4, fields: [''], error: null },
      { line: 5, fields: ['y'], error: null },
      { line: 7, fields: ['last'], error: null },
    ]);
  });

  it('a broken record costs that record only: reading resumes on its next line', () => {
    const text = 'a,"unclosed\nb,ok\nc,"x"y\nd,fine\ne,"never\nf,z';
    expect(readCsvRecords(text).map((r) => [r.line, r.error === null ? r.fields.join('|') : r.error])).toEqual([
      [1, 'text after a closing quote'], // the quote closes on line 3, and "x" follows it
      [2, 'b|ok'],
      [3, 'text after a closing quote'],
      [4, 'd|fine'],
      [5, 'a quoted field never closes'],
      [6, 'f|z'],
    ]);
  });
});

describe('csv', () => {
  it('reads entries, ports, coins and labels by header name', () => {
    const text = [
      '\ufeffIP,Port,Coin,Pool',
      '203.0.113.7,3333,XMR,supportxmr',
      '2001:db8::/32,,,"Pool, Inc."',
      'pool.example,3333-3340,btc,',
      '"[2001:db8::1]:14444",,xmr,"say ""hi"""',
      '203.0.113.7,3333,eth,duplicate',
      '203.0.113.8,,, a"b ',
      '',
    ].join('\r\n');
    expect(summarize(parse('csv', text))).toEqual({
      addresses: ['203.0.113.7:3333 coin=xmr label=supportxmr', '2001:db8::/32 label=Pool, Inc.', '[2001:db8::1]:14444 coin=xmr label=say "hi"', '203.0.113.8 label=a"b'],
      domains: ['pool.example:3333-3340 coin=btc'],
      errorLines: [],
      warningLines: [],
    });
  });

  it('takes columns in any order, ignores unknown ones, prefers label over pool', () => {
    const text = 'Label,Entry,Notes,POOL\r\nmine,pool.example,"multi\r\nline, with comma",other\r\nb,10.0.0.1/24,,\r\nc,bad..example,,\r\n';
    const r = parse('csv', text);
    expect(summarize(r)).toEqual({ addresses: ['10.0.0.0/24 label=b'], domains: ['pool.example label=mine'], errorLines: [5], warningLines: [4] });
    expect(r.warnings[0]!.message).toMatch(/host bits/);
  });

  it('reports bad rows with their line numbers and keeps the rest', () => {
    const text = [
      'ip,port,coin,label', //           1
      '999.1.1.1,,,', //                 2  not an address
      '203.0.113.1,abc,,', //            3  bad port
      '203.0.113.2:80,3333,,', //        4  port twice
      '203.0.113.3,,x m r,', //          5  bad coin
      ',3333,,', //                      6  empty entry
      '203.0.113.4,,,"tab\there"', //    7  control character in label
      '203.0.113.5,,,ok', //             8
      '203.0.113.6,xmr,5555', //         9  fewer cells: fine; but "xmr" is no port
      '203.0.113.9,,,,extra', //        10  kept, warned
      'single,,,', //                   11  single-label name
    ].join('\n');
    const r = parse('csv', text);
    expect(summarize(r)).toEqual({
      addresses: ['203.0.113.5 label=ok', '203.0.113.9'],
      domains: [],
      errorLines: [2, 3, 4, 5, 6, 7, 9, 11],
      warningLines: [10],
    });
    expect(r.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/line 2: not an IPv4 address/),
      expect.stringMatching(/line 3: bad port/),
      expect.stringMatching(/line 4: .* names a port and a port is given beside it/),
      expect.stringMatching(/line 5: bad coin/),
      expect.stringMatching(/line 6: empty "ip" cell/),
      expect.stringMatching(/line 7: control characters/),
      expect.stringMatching(/line 9: bad port/),
      expect.stringMatching(/line 11: single-label/),
    ]);
  });

  it.each([
    ['no header row', '203.0.113.7,3333\n198.51.100.1,4444\n', /no header row/],
    ['no entry column', 'name,comment\nfoo,bar\n', /no entry column/],
    ['several entry columns', 'ip,domain\n203.0.113.7,pool.example\n', /several entry columns \(ip, domain\)/],
    ['a broken header', '"ip,port\n203.0.113.7,3333\n', /header row \(line 1\) is broken/],
  ])('%s: one error for the file, no entries', (_name, text, why) => {
    const r = parse('csv', text);
    expect(summarize(r)).toEqual({ ...EMPTY, errorLines: [0] });
    expect(r.errors[0]!.context).toEqual({ file: SRC });
    expect(r.errors[0]!.message).toMatch(why);
  });

  it('lying quotes: the rows around a broken one survive', () => {
    const text = 'ip,label\n203.0.113.1,"unclosed\n203.0.113.2,ok\n203.0.113.3,"x"y\n203.0.113.4,fine\n203.0.113.5,"never\n203.0.113.6,z\n';
    expect(summarize(parse('csv', text))).toEqual({
      addresses: ['203.0.113.2 label=ok', '203.0.113.4 label=fine', '203.0.113.6 label=z'],
      domains: [],
      errorLines: [2, 4, 6],
      warningLines: [],
    });
  });

  it('comments, blank lines and a header-only file', () => {
    expect(summarize(parse('csv', '# list\n\nip\n# c\n203.0.113.7\n\n'))).toEqual({ ...EMPTY, addresses: ['203.0.113.7'] });
    expect(summarize(parse('csv', 'ip,port\r\n'))).toEqual(EMPTY);
  });
});

describe('json', () => {
  it('an array of strings: addresses, CIDRs, names, ports, each once', () => {
    const text = '\ufeff["203.0.113.7", " 2001:db8::/32 ", "pool.example:3333", "[2001:db8::1]:3333", "203.0.113.7", "Pool.Example:3333", "2001:db8::1:3333"]';
    expect(summarize(parse('json', text))).toEqual({
      addresses: ['203.0.113.7', '2001:db8::/32', '[2001:db8::1]:3333', '2001:db8::1:3333'],
      domains: ['pool.example:3333'],
      errorLines: [],
      warningLines: [],
    });
  });

  it('an array of objects, and the same under "entries" or "pools"', () => {
    const items = `[
      {"ip": "203.0.113.7", "port": 3333, "coin": "XMR", "pool": "supportxmr"},
      {"domain": "pool.example", "port": "3333-3340", "label": "main", "pool": "ignored"},
      {"cidr": "198.51.100.0/24"},
      {"host": "2001:db8::5", "port": null, "coin": ""},
      {"entry": "other.example", "extra": {"deep": [1, 2, [3]]}},
      {"address": "10.0.0.1/8", "port": "14444"}
    ]`;
    const want = {
      addresses: ['203.0.113.7:3333 coin=xmr label=supportxmr', '198.51.100.0/24', '2001:db8::5', '10.0.0.0/8:14444'],
      domains: ['pool.example:3333-3340 label=main', 'other.example'],
      errorLines: [],
      warningLines: [6],
    };
    expect(summarize(parse('json', items))).toEqual(want);
    expect(summarize(parse('json', `{"version": 2, "entries": ${items}}`))).toEqual(want);
    expect(summarize(parse('json', `{"pools": ${items}}`))).toEqual(want);
    expect(parse('json', items).addresses[0]).toEqual({
      version: 4,
      addr: Uint8Array.of(203, 0, 113, 7),
      prefixLen: 32,
      portLo: 3333,
      portHi: 3333,
      text: '203.0.113.7:3333',
      source: SRC,
      coin: 'xmr',
      label: 'supportxmr',
    });
  });

  it('a bad item is an error whose line is its 1-based index; the rest is read', () => {
    const text = JSON.stringify([
      1, //                                              1
      null, //                                           2
      [], //                                             3
      { foo: 1 }, //                                     4
      { ip: '203.0.113.1', domain: 'x.example' }, //     5
      { ip: 5 }, //                                      6
      '', //                                             7
      'bad..name', //                                    8
      { ip: '203.0.113.1', port: 3.5 }, //               9
      { ip: '203.0.113.1', port: true }, //             10
      { ip: '203.0.113.1:80', port: 3333 }, //          11
      { ip: '203.0.113.1', coin: 7 }, //                12
      { ip: '203.0.113.1', label: 'a\u001b[31mred' }, // 13
      '203.0.113.9', //                                 14
    ]);
    const r = parse('json', text);
    expect(summarize(r)).toEqual({ addresses: ['203.0.113.9'], domains: [], errorLines: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], warningLines: [] });
    expect(r.errors[0]!.message).toMatch(/item 1 is a number; expected a string or an object/);
    expect(r.errors[4]!.message).toMatch(/several entry keys \(ip, domain\)/);
  });

  it.each([
    ['[1,2', 4],
    ['{"a":', undefined],
    ['', undefined],
    ['not json at all', undefined],
    ['["a" "b"]', 5],
  ])('garbage JSON %j: one error naming the file, no entries', (text, offset) => {
    const r = parse('json', text);
    expect(summarize(r)).toEqual({ ...EMPTY, errorLines: [0] });
    expect(r.errors[0]!.message).toMatch(/^test-list.*: not valid JSON: /);
    expect(r.errors[0]!.context.offset).toBe(offset);
  });

  it.each([['{"version": 1}'], ['"203.0.113.7"'], ['42'], ['null'], ['{"entries": "203.0.113.7"}']])('a document of another shape %s: one error', (text) => {
    const r = parse('json', text);
    expect(summarize(r)).toEqual({ ...EMPTY, errorLines: [0] });
    expect(r.errors[0]!.message).toMatch(/expected an array of entries/);
  });

  it('"__proto__" and inherited keys are never read', () => {
    const r = parse('json', '[{"__proto__": {"ip": "203.0.113.1"}}, {"constructor": "x"}]');
    expect(summarize(r)).toEqual({ ...EMPTY, errorLines: [1, 2] });
    expect(summarize(parse('json', '{"__proto__": {"entries": ["203.0.113.1"]}}')).errorLines).toEqual([0]);
    expect(({} as Record<string, unknown>)['ip']).toBeUndefined();
  });
});
