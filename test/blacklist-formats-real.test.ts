/**
 * Every format parser on the real public lists in ../shared/lists (read at test time only: the
 * CoinBlocker files are AGPL and never copied), and the lists shipped in config/lists/.
 *
 * Expected counts come from shell tools on the files, not from the parsers (command beside each).
 * Where the shell command matches the parser's grammar exactly the tolerance is 0; the ABP count
 * is a regex approximation of the rule grammar, so it gets a little room.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isListFormat, parseAbpList, parseList } from '../src/blacklist/formats/index.js';
import type { ListFormat, ListParseResult } from '../src/blacklist/types.js';
import { expectWellFormed, summarize } from './helpers/list-formats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LISTS = path.resolve(here, '../../shared/lists');
const CONFIG = path.resolve(here, '../config');
const haveLists = existsSync(LISTS);
if (!haveLists) console.warn(`blacklist-formats-real: ${LISTS} is absent; the tests on public lists are skipped`);

function load(format: ListFormat, file: string): ListParseResult {
  const r = parseList(format, readFileSync(file, 'utf8'), file);
  expectWellFormed(r, file);
  return r;
}

/** Parsed cleanly: no errors, no warnings. */
function clean(format: ListFormat, file: string): ListParseResult {
  const r = load(format, file);
  expect(r.errors.map(String)).toEqual([]);
  expect(r.warnings.map(String)).toEqual([]);
  return r;
}

function near(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected} ± ${tolerance}`).toBeLessThanOrEqual(tolerance);
}

describe.skipIf(!haveLists)('public lists in shared/lists', () => {
  const list = (name: string): string => path.join(LISTS, name);

  it('nocoin-hosts.txt (hosts, MIT)', () => {
    const s = summarize(clean('hosts', list('nocoin-hosts.txt')));
    near(s.domains.length, 313, 0); // grep -c '^0\.0\.0\.0 ' → 313, all distinct (sort -u)
    expect(s.addresses).toEqual([]);
    expect(s.domains).toEqual(expect.arrayContaining(['1q2w3.fun', 'authedmine.com', 'webmine.cz', 'xmr.2miners.com', 'zymerget.win']));
  });

  it('nocoin-abp.txt (abp, MIT)', () => {
    const file = list('nocoin-abp.txt');
    const r = parseAbpList(readFileSync(file, 'utf8'), file);
    expect(r.errors.map(String)).toEqual([]);
    expect(r.warnings.map(String)).toEqual([]);
    const s = summarize(r);
    // grep -E '^\|\|[a-zA-Z0-9._-]+\^?(\$.*)?$' → 198 rules, one name twice (go.megabanners.cf),
    // 7 of them IPv4 addresses: 190 names, 7 addresses
    near(s.domains.length, 190, 2);
    near(s.addresses.length, 7, 0);
    // 342 non-blank lines - 24 "!" comments - 1 header = 317 rules; 317 - 198 = 119 skipped
    near(r.skipped, 119, 2);
    expect(s.domains).toEqual(expect.arrayContaining(['2miners.com', 'coinimp.com', 'freecontent.date', 'authedwebmine.cz', 'nahnoji.cz']));
    expect(s.domains.filter((d) => d === 'go.megabanners.cf')).toHaveLength(1);
    expect(s.domains).not.toContain('shrink-service.it'); // only a path rule names it
    expect(s.domains).not.toContain('aptal.pro'); // only an exception (@@) names it
    expect(s.addresses).toEqual(expect.arrayContaining(['23.83.114.131', '45.15.156.210', '185.165.169.108']));
  });

  it('minerchk-hostslist.txt (domains, Apache-2.0)', () => {
    const s = summarize(clean('domains', list('minerchk-hostslist.txt')));
    near(s.domains.length, 39, 0); // grep -c . → 39, sort -u → 39
    expect(s.domains).toEqual(expect.arrayContaining(['pool.minexmr.com', 'xmr-eu1.nanopool.org', 'mine.ppxxmr.com']));
  });

  it('minerchk-minerlist-all.txt (domains with "#ip" pairs, Apache-2.0)', () => {
    const r = clean('domains', list('minerchk-minerlist-all.txt'));
    const s = summarize(r);
    near(s.domains.length, 37, 0); // grep -v '^ ' | awk '{print $1}' | sort -u → 37
    // grep -oP '^\S+\s+#\K\d+\.\d+\.\d+\.\d+$' | sort -u → 116 (150 distinct pairs, addresses shared)
    near(s.addresses.length, 116, 0);
    expect(s.addresses).toEqual(expect.arrayContaining(['163.172.204.219 label=xmr.crypto-pool.fr', '51.254.238.27 label=cloudflare.hashfor.cash']));
    expect(s.domains).toEqual(expect.arrayContaining(['mine.sumo.fairpool.cloud', 'cryptonotepool.org'])); // no address / "#A"
    expect(s.addresses.some((a) => a.startsWith('104.197.211.117'))).toBe(false); // " #104.197.211.117": no name
  });

  it('minerchk-ip-only.txt (plain, Apache-2.0)', () => {
    const s = summarize(clean('plain', list('minerchk-ip-only.txt')));
    near(s.addresses.length, 121, 0); // 154 lines, sort -u → 121
  });

  it('coinblocker-2018-list.txt (domains, AGPL: read here, never copied)', () => {
    const s = summarize(clean('domains', list('coinblocker-2018-list.txt')));
    near(s.domains.length, 5837, 0); // grep -v '^#' | tr A-Z a-z | sort -u → 5837
    expect(s.domains).toEqual(
      expect.arrayContaining([
        '000.0x1f4b0.com',
        'hashbag.cc:8688', // the list's own "name:port"
        'bestetnpool.com', // "bestETNpool.com"
        'xn--mytherwllet-r8a0c.com', // "myètherwället.com"
        'xn--methrwallt-26ar0z.com', // "mÿethèrwallét.com"
        'xmr.-eu1.nanopool.org',
      ]),
    );
  });

  it('coinblocker-2018-hosts (hosts, AGPL): the two "name:port" lines are kept with a warning', () => {
    const r = load('hosts', list('coinblocker-2018-hosts'));
    expect(r.errors.map(String)).toEqual([]);
    expect(summarize(r).warningLines).toEqual([2055, 3733]); // grep -n ':' | grep -v '^[0-9]*:#'
    near(r.domains.length, 5837, 0); // grep -c '^0\.0\.0\.0 ' → 5837, all distinct
    expect(r.domains.map((d) => d.text)).toEqual(expect.arrayContaining(['000.0x1f4b0.com', 'server.com:1234', 'xn--mytherwllet-r8a0c.com']));
  });

  it('coinblocker-2018-MiningServerIPList.txt (plain, AGPL)', () => {
    const s = summarize(clean('plain', list('coinblocker-2018-MiningServerIPList.txt')));
    near(s.addresses.length, 1026, 0); // grep -v '^#' | grep . | sort -u → 1026
  });
});

describe('lists shipped in config/lists/', () => {
  const dir = path.join(CONFIG, 'lists');
  const files = readdirSync(dir).filter((f) => f !== 'README.md').sort();
  const expected: Record<string, number> = { 'minerchk-domains.txt': 39, 'nocoin-hosts.txt': 313 };

  it('holds exactly the documented lists', () => {
    expect(files).toEqual(Object.keys(expected).sort());
  });

  it.each(files)('%s declares its format, source, licence and date, and parses with zero errors', (name) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const header = text.slice(0, text.indexOf('\n#\n'));
    const format = /^# Format: (\w+)/m.exec(header)?.[1];
    expect(isListFormat(format), `format of ${name}`).toBe(true);
    expect(header).toMatch(/^# Source: https:\/\//m);
    expect(header).toMatch(/^# Licence: (MIT|Apache License 2\.0)/m); // never AGPL
    expect(header).toMatch(/^# Taken: 2026-11-24/m);
    const s = summarize(clean(format as ListFormat, path.join(dir, name)));
    expect(s.domains.length + s.addresses.length).toBe(expected[name]);
  });

  it.skipIf(!haveLists)('are the upstream files unchanged below their header', () => {
    const upstream: Record<string, string> = { 'minerchk-domains.txt': 'minerchk-hostslist.txt', 'nocoin-hosts.txt': 'nocoin-hosts.txt' };
    for (const name of files) {
      const text = readFileSync(path.join(dir, name), 'utf8');
      expect(text.slice(text.indexOf('\n#\n') + 3), name).toBe(readFileSync(path.join(LISTS, upstream[name]!), 'utf8'));
    }
  });

  it('config/LICENSES.md and config/lists/README.md name each of them', () => {
    const licences = readFileSync(path.join(CONFIG, 'LICENSES.md'), 'utf8');
    const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
    for (const name of files) {
      expect(licences, name).toContain(`config/lists/${name}`);
      expect(readme, name).toContain(`\`${name}\``);
    }
    expect(licences).toContain('Permission is hereby granted, free of charge'); // the MIT text for nocoin
  });
});
