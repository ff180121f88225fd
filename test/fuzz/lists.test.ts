/**
 * Fuzz: every blacklist format (src/blacklist/formats/: plain, hosts, domains, abp, csv, json,
 * entries) on mutated lists: lines duplicated, dropped, reordered and spliced from other lists;
 * addresses, prefixes, ports, brackets, wildcards, IDNs, ABP options, CSV quoting and JSON
 * shapes broken; hostile characters (NUL, BOM, bidi overrides, lone surrogates) inserted.
 *
 * Contract (formats/index.ts): parsers never throw on any text; a bad line or item is one
 * PW_ERR_LIST_SYNTAX error naming the source and the line (past MAX_REPORTS only counted), the
 * rest is read; entries are kept once, in their canonical form, which reads back as itself.
 */
import { describe } from 'vitest';
import { parseList, MAX_REPORTS } from '../../src/blacklist/formats/index.js';
import { parseEntriesList } from '../../src/blacklist/formats/entries.js';
import { domainText, normalizeDomain, parseDomainSpec } from '../../src/blacklist/formats/domain.js';
import { canonicalText, parsePlainLine } from '../../src/blacklist/plain.js';
import type { ListFormat, ListParseResult } from '../../src/blacklist/types.js';
import { PoolwatchError } from '../../src/errors.js';
import { LIST_DICT, LIST_SEEDS } from './corpus.js';
import { expectLinear, scaledText } from './linear.js';
import { applyJson, applyText, jsonCase, textCase } from './mutate.js';
import { check, fuzz } from './runs.js';

const SOURCE = 'fuzz.list';
const COIN_RE = /^[a-z0-9][a-z0-9._-]{0,31}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function hostBitsClear(addr: Uint8Array, prefixLen: number): boolean {
  for (let bit = prefixLen; bit < addr.length * 8; bit++) if ((addr[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  return true;
}

function checkReports(list: PoolwatchError[], lines: number, what: string): void {
  check(list.length <= MAX_REPORTS + 1, `${list.length} ${what}`);
  list.forEach((e, i) => {
    check(e instanceof PoolwatchError && e.code === 'PW_ERR_LIST_SYNTAX' && e.context.file === SOURCE, () => `${what} ${i}: ${String(e)} ${JSON.stringify(e.context)}`);
    const line = e.context.line;
    check(line === undefined || (Number.isInteger(line) && line >= 1 && line <= lines), () => `${what} ${i} names line ${line} of ${lines}`);
    check(e.context.omitted === undefined || i === list.length - 1, 'only the last report counts the omitted ones');
  });
}

/** Every entry canonical, kept once, and reading back as itself. */
function checkEntries(r: ListParseResult): void {
  const seen = new Set<string>();
  for (const e of r.addresses) {
    const bad = (what: string) => () => `${what}: ${e.text}`;
    check(e.source === SOURCE && !seen.has(`a ${e.text}`), bad('address source or duplicate'));
    seen.add(`a ${e.text}`);
    check((e.version === 4 && e.addr.length === 4 && e.prefixLen <= 32) || (e.version === 6 && e.addr.length === 16 && e.prefixLen <= 128), bad('address shape'));
    check(Number.isInteger(e.prefixLen) && e.prefixLen >= 0 && hostBitsClear(e.addr, e.prefixLen), bad('host bits'));
    check(Number.isInteger(e.portLo) && Number.isInteger(e.portHi) && 0 <= e.portLo && e.portLo <= e.portHi && e.portHi <= 65535, bad('ports'));
    check(e.text === canonicalText(e), bad('text is not canonical'));
    const again = parsePlainLine(e.text, SOURCE);
    check('entry' in again && again.entry.text === e.text && again.warning === null, bad('canonical text does not read back as itself'));
    check(e.coin === undefined || COIN_RE.test(e.coin), bad('coin'));
    // Labels: at most 200 characters from CSV/JSON, or a whole domain name (253) from a domains pair.
    check(e.label === undefined || (e.label.length > 0 && e.label.length <= 253 && !CONTROL_RE.test(e.label)), bad('label'));
  }
  for (const d of r.domains) {
    const bad = (what: string) => () => `${what}: ${JSON.stringify(d.text)}`;
    check(d.source === SOURCE && !seen.has(`d ${d.text}`), bad('domain source or duplicate'));
    seen.add(`d ${d.text}`);
    const n = normalizeDomain(d.name);
    check('name' in n && n.name === d.name && n.warning === null, bad('name is not normalised'));
    check(0 <= d.portLo && d.portLo <= d.portHi && d.portHi <= 65535 && d.text === domainText(d.name, d.portLo, d.portHi), bad('ports or text'));
    const again = parseDomainSpec(d.text);
    check('name' in again && again.name === d.name && again.portLo === d.portLo && again.portHi === d.portHi && again.warning === null, bad('canonical text does not read back as itself'));
    check(d.coin === undefined || COIN_RE.test(d.coin), bad('coin'));
    check(d.label === undefined || (d.label.length > 0 && d.label.length <= 200 && !CONTROL_RE.test(d.label)), bad('label'));
  }
  // What a list yields, written one entry a line, is a list that yields the same.
  const texts = [...r.addresses.map((e) => e.text), ...r.domains.map((d) => d.text)];
  const back = parseEntriesList(texts.join('\n'), SOURCE);
  check(back.errors.length === 0, () => `entries of the result do not read back: ${back.errors[0]}`);
  const backTexts = [...back.addresses.map((e) => e.text), ...back.domains.map((d) => d.text)];
  check(JSON.stringify(backTexts) === JSON.stringify(texts), () => `read back as ${JSON.stringify(backTexts)} instead of ${JSON.stringify(texts)}`);
}

function lineCount(text: string): number {
  return text.split(/\r\n|\n|\r/).length;
}

const FORMATS: ListFormat[] = ['plain', 'hosts', 'domains', 'abp', 'csv', 'entries'];

describe('fuzz: blacklist formats', () => {
  for (const format of FORMATS) {
    const corpus = LIST_SEEDS[format]!;
    fuzz(
      `list format ${format}: mutated lists never throw; errors name the source and a line; entries are canonical and read back as themselves`,
      textCase(corpus, LIST_DICT, { pad: true, maxChars: 5, boundaries: [63, 64, 253, 254, 255, 256, 1013, 1024] }),
      (t) => {
        const text = applyText(corpus, LIST_DICT, t);
        const r = parseList(format, text, SOURCE);
        const lines = lineCount(text);
        checkReports(r.errors, lines, 'error');
        checkReports(r.warnings, lines, 'warning');
        checkEntries(r);
      },
    );
  }

  const json = LIST_SEEDS.json!;
  fuzz(
    'list format json: mutated documents never throw; errors name the source and an item; entries are canonical and read back as themselves',
    jsonCase(json, LIST_DICT),
    (j) => {
      const text = applyJson(json, LIST_DICT, j);
      const r = parseList('json', text, SOURCE);
      let items = 1;
      try {
        const doc = JSON.parse(text) as unknown;
        const list = Array.isArray(doc) ? doc : (doc as Record<string, unknown>)?.entries ?? (doc as Record<string, unknown>)?.pools;
        if (Array.isArray(list)) items = Math.max(1, list.length);
      } catch {
        // one error for the file
      }
      checkReports(r.errors, items, 'error');
      checkReports(r.warnings, items, 'warning');
      checkEntries(r);
    },
  );

  for (const format of [...FORMATS, 'json' as const]) {
    const corpus = LIST_SEEDS[format]!;
    fuzz(
      `list format ${format}: time per byte does not grow with the number of lines`,
      textCase(corpus, LIST_DICT),
      (t) => {
        const text = format === 'json' ? corpus[t.seed % corpus.length]! : applyText(corpus, LIST_DICT, t);
        let s;
        if (format === 'json') {
          // Items of the array repeated: `[a, b, ` ... `x]`.
          const inner = text.trim().replace(/^\{"(entries|pools)":\s*\[/, '').replace(/^\[/, '').replace(/\]\}?\s*$/, '');
          const body = inner.trim() === '' ? '"a.example", ' : `${inner}, `;
          const k = Math.max(1, Math.ceil(4096 / body.length));
          const mk = (n: number) => `[${body.repeat(n)}"end.example"]`;
          const small = mk(k);
          const big = mk(10 * k);
          s = { small, big, smallSize: small.length, bigSize: big.length };
        } else {
          const nl = text.indexOf('\n');
          s = format === 'csv' && nl >= 0 ? scaledText(text.slice(0, nl + 1), text.slice(nl + 1), 4096) : scaledText('', text, 4096);
        }
        expectLinear(s, (x) => parseList(format, x, SOURCE), `${format} list`);
      },
      { scale: 0.005, min: 3 },
    );
  }
});
