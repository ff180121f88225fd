/**
 * Lists are downloaded from strangers: every format parser must return (never throw, never hang,
 * never overflow the stack) on any text, keep what is good, and keep its messages short.
 */
import { describe, expect, it } from 'vitest';
import { LIST_FORMATS, countReports, parseList } from '../src/blacklist/formats/index.js';
import type { ListFormat, ListParseResult } from '../src/blacklist/types.js';
import { expectWellFormed, summarize } from './helpers/list-formats.js';

const SRC = 'hostile';
const MB = 1 << 20;

function run(format: ListFormat, text: string): ListParseResult {
  // No time limit here (speed belongs to the benchmark); a catastrophic regex would still show up
  // as this suite hanging into vitest's 60 s test timeout.
  const r = parseList(format, text, SRC);
  expectWellFormed(r, SRC);
  for (const e of [...r.errors, ...r.warnings]) expect(e.message.length, e.message.slice(0, 100)).toBeLessThan(1000);
  return r;
}

/** Deterministic pseudo-random text (xorshift), so a failure can be replayed. */
function randomText(seed: number, length: number, alphabet: string): string {
  let x = seed | 0 || 1;
  let s = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += alphabet[(x >>> 0) % alphabet.length];
  }
  return s;
}

const SYNTAX = '0123456789abcdef.:/[]-_#!|^$@*,"\'{}\\ \t\r\n\u0000\u00e9\u4e00\ud800';

describe('every format survives hostile text', () => {
  const inputs: [string, string][] = [
    ['100k-deep nesting', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['1M unclosed brackets', '['.repeat(MB)],
    ['100k-deep objects', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    ['a 1 MB single line of name characters', 'a'.repeat(MB)],
    ['a 1 MB single line of digits and dots', '1.'.repeat(MB / 2)],
    ['a 1 MB line of quotes', '"'.repeat(MB)],
    ['1 MB of doubled quotes after an open quote', 'ip\n"' + '""'.repeat(MB / 2)],
    ['20k lines with one lying quote each', 'ip,label\n' + '203.0.113.1,"x\n'.repeat(20_000)],
    ['NUL bytes', '\u0000'.repeat(1000) + '\n0.0.0.0 a\u0000.example\n'],
    ['lone surrogates', '\ud800\udc00\ud800.example\n\udfff'],
    ['random syntax characters', randomText(1, 256 * 1024, SYNTAX)],
    ['random syntax, another seed', randomText(7, 200_000, SYNTAX)],
    ['random bytes as latin1', Buffer.from(randomText(3, 100_000, 'x').split('').map((_, i) => (i * 7919 + 13) & 0xff)).toString('latin1')],
    ['50k short lines', '0.0.0.0 a.example\n'.repeat(50_000)],
  ];
  for (const [name, text] of inputs) {
    it.each(LIST_FORMATS.map((f) => [f]))(`${name}: %s`, (format) => {
      const r = run(format, text);
      expect(Array.isArray(r.addresses) && Array.isArray(r.domains)).toBe(true);
    });
  }
});

describe('hostile input, exact outcomes', () => {
  it('JSON: 100k-deep nesting parses without a stack overflow; the item is an array, one error', () => {
    const r = run('json', '[' + '['.repeat(100_000) + ']'.repeat(100_000) + ', "203.0.113.7"]');
    expect(summarize(r)).toEqual({ addresses: ['203.0.113.7'], domains: [], errorLines: [1], warningLines: [] });
  });

  it('JSON: 1M unclosed brackets is one error for the file', () => {
    const r = run('json', '['.repeat(MB));
    expect(summarize(r)).toEqual({ addresses: [], domains: [], errorLines: [0], warningLines: [] });
  });

  it('a 1 MB token is one short error, and the line after it still counts', () => {
    const big = 'a'.repeat(MB);
    const cases: [ListFormat, string][] = [
      ['hosts', `0.0.0.0 ${big}.example\n0.0.0.0 ok.example\n`],
      ['domains', `${big}.example\nok.example\n`],
      ['abp', `||${big}.example^\n||ok.example^\n`],
      ['csv', `domain\n${big}.example\nok.example\n`],
      ['json', `["${big}.example", "ok.example"]`],
    ];
    for (const [format, text] of cases) {
      const s = summarize(run(format, text));
      expect(s, format).toEqual({ addresses: [], domains: ['ok.example'], errorLines: [format === 'csv' ? 2 : 1], warningLines: [] });
    }
    expect(summarize(run('plain', `${big}\n203.0.113.7\n`))).toEqual({ addresses: ['203.0.113.7'], domains: [], errorLines: [1], warningLines: [] });
  });

  it('NUL bytes inside a name make that name an error, nothing more', () => {
    const s = summarize(run('hosts', '0.0.0.0 a\u0000.example b.example\n\u0000\n0.0.0.0 c.example\n'));
    expect(s).toEqual({ addresses: [], domains: ['b.example', 'c.example'], errorLines: [1, 2], warningLines: [] });
    expect(summarize(run('domains', 'a\u0000.example\nb.example\n')).errorLines).toEqual([1]);
    expect(summarize(run('json', '["a\\u0000.example", "b.example"]')).domains).toEqual(['b.example']);
    expect(summarize(run('abp', '||a\u0000.example^\n||b.example^\n')).domains).toEqual(['b.example']);
  });

  it('non-UTF-8 bytes: a Latin-1 list decoded as latin1 gives IDNs; decoded as UTF-8, errors', () => {
    const bytes = Buffer.concat([Buffer.from('b'), Buffer.from([0xfc]), Buffer.from('cher.example\nok.example\n')]); // "bücher" in Latin-1
    expect(summarize(run('domains', bytes.toString('latin1')))).toEqual({
      addresses: [],
      domains: ['xn--bcher-kva.example', 'ok.example'],
      errorLines: [],
      warningLines: [],
    });
    // the invalid byte becomes U+FFFD, which IDNA refuses
    expect(summarize(run('domains', bytes.toString('utf8')))).toEqual({ addresses: [], domains: ['ok.example'], errorLines: [1], warningLines: [] });
    // UTF-16 with its BOM, read as latin1: "ÿþ" and NULs, every line an error (line 2 is the NUL after "\n")
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('pool.example\n', 'utf16le')]);
    expect(summarize(run('domains', utf16.toString('latin1'))).errorLines).toEqual([1, 2]);
  });

  it('errors past the first 1000 are counted in one last error, not kept', () => {
    const r = run('domains', 'bad!name\n'.repeat(5000) + 'ok.example\n');
    expect(r.domains.map((d) => d.text)).toEqual(['ok.example']);
    expect(r.errors).toHaveLength(1001);
    expect(r.errors[999]!.context).toEqual({ file: SRC, line: 1000 });
    expect(r.errors[1000]!.context).toEqual({ file: SRC, omitted: 4000 });
    expect(r.errors[1000]!.message).toMatch(/4000 more errors not listed/);
    expect(countReports(r.errors)).toBe(5000);
    expect(countReports(r.warnings)).toBe(0);
    // the plain format's errors too
    expect(run('plain', 'x\n'.repeat(1500)).errors.at(-1)!.context).toEqual({ file: SRC, omitted: 500 });
  });

  it('CSV: a file of lying quotes keeps every honest row', () => {
    const rows = ['ip,label'];
    for (let i = 0; i < 1000; i++) rows.push(i % 2 === 0 ? `10.0.${i >> 8}.${i & 255},"lie${i}` : `10.0.${i >> 8}.${i & 255},honest`);
    const s = summarize(run('csv', rows.join('\n')));
    expect(s.addresses).toHaveLength(500);
    expect(s.addresses.every((a) => a.endsWith('label=honest'))).toBe(true);
    expect(s.errorLines).toHaveLength(500);
  });
});
