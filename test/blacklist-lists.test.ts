/**
 * The real public lists (read at test time only, never copied: the CoinBlocker one is AGPL) and
 * the lists shipped in config/.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildIndex, loadPlainListFile, parsePlainList, type BlacklistEntry } from '../src/blacklist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LISTS = path.resolve(here, '../../shared/lists');
const CONFIG = path.resolve(here, '../config');
const haveLists = existsSync(LISTS);
if (!haveLists) console.warn(`blacklist-lists: ${LISTS} is absent; the tests on public lists are skipped`);

/** Load a list that must be clean: no errors, no warnings. */
function clean(file: string): BlacklistEntry[] {
  const r = loadPlainListFile(file);
  expect(r.errors.map(String)).toEqual([]);
  expect(r.warnings.map(String)).toEqual([]);
  return r.entries;
}

/** Every entry of a list matches itself in an index built from the list. */
function everyEntryMatches(entries: BlacklistEntry[]): void {
  const idx = buildIndex(entries);
  for (const e of entries) {
    const port = e.portLo === 0 && e.portHi === 65535 ? 3333 : e.portLo;
    const hit = idx.match(e.addr, e.version, port);
    expect(hit, e.text).not.toBeNull();
    // a longer entry inside the same network may win, but it must cover the address
    expect(hit!.prefixLen).toBeGreaterThanOrEqual(e.prefixLen);
  }
}

/** Is entry e's network address inside an allow range? (The reverse direction is checked separately.) */
function overlapsAllowList(e: BlacklistEntry, allow: ReturnType<typeof buildIndex>): boolean {
  return allow.allowedBy(e.addr, e.version, e.portLo) !== null;
}

describe('public lists in shared/lists', () => {
  it.skipIf(!haveLists)('minerchk-ip-only.txt parses with zero errors and every address matches', () => {
    const entries = clean(path.join(LISTS, 'minerchk-ip-only.txt'));
    expect(entries.length).toBeGreaterThan(100);
    expect(entries.every((e) => e.version === 4 && e.prefixLen === 32)).toBe(true);
    everyEntryMatches(entries);
  });

  it.skipIf(!haveLists)('coinblocker-2018-MiningServerIPList.txt parses with zero errors and every address matches', () => {
    const entries = clean(path.join(LISTS, 'coinblocker-2018-MiningServerIPList.txt'));
    expect(entries.length).toBeGreaterThan(1000);
    everyEntryMatches(entries);
  });
});

describe('lists shipped in config/', () => {
  const black = clean(path.join(CONFIG, 'blacklist.txt'));
  const allowEntries = clean(path.join(CONFIG, 'allowlist.txt'));
  const allowOnly = buildIndex([], allowEntries);

  it('blacklist.txt and allowlist.txt parse with zero errors', () => {
    expect(black.length).toBeGreaterThan(100);
    expect(allowEntries.length).toBeGreaterThan(10);
  });

  it('blacklist.txt has no address inside allowlist.txt, and no duplicates', () => {
    expect(black.filter((e) => overlapsAllowList(e, allowOnly)).map((e) => e.text)).toEqual([]);
    // also the other way round: no allow-list network address inside a blacklist entry
    const blackIdx = buildIndex(black);
    expect(allowEntries.filter((a) => blackIdx.match(a.addr, a.version, 3333) !== null).map((a) => a.text)).toEqual([]);
    expect(new Set(black.map((e) => e.text)).size).toBe(black.length);
  });

  it('every blacklist.txt entry matches with the allow-list in force', () => {
    const idx = buildIndex(black, allowEntries);
    for (const e of black) expect(idx.match(e.addr, e.version, 3333)?.text, e.text).toBe(e.text);
  });

  it('the allow-list covers the CDN fronts that resolved pool lists pick up', () => {
    // pretend a resolved list held these: with the allow-list in force they must never match
    const cdn = ['104.16.1.1', '172.67.0.1', '162.159.0.1', '188.114.97.1', '8.8.8.8', '1.1.1.1', '2606:4700::6810:1'];
    const idx = buildIndex(parsePlainList(cdn.join('\n'), 'resolved.txt').entries, allowEntries);
    for (const e of parsePlainList(cdn.join('\n'), 'lookup').entries) expect(idx.match(e.addr, e.version, 443), e.text).toBeNull();
  });

  it('blacklist.txt names its source and licence, and LICENSES.md carries the Apache-2.0 notice', () => {
    const head = readFileSync(path.join(CONFIG, 'blacklist.txt'), 'utf8').split('\n').slice(0, 15).join('\n');
    expect(head).toMatch(/Hestat\/minerchk/);
    expect(head).toMatch(/Apache License 2\.0/);
    expect(head).toMatch(/\d{4}-\d{2}-\d{2}/);
    const lic = readFileSync(path.join(CONFIG, 'LICENSES.md'), 'utf8');
    expect(lic).toMatch(/minerchk/);
    expect(lic).toMatch(/Apache License/);
    expect(lic).toMatch(/TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
  });

  it.skipIf(!haveLists)('blacklist.txt holds only minerchk addresses (nothing from the AGPL CoinBlocker list)', () => {
    const minerchk = new Set(clean(path.join(LISTS, 'minerchk-ip-only.txt')).map((e) => e.text));
    expect(black.filter((e) => !minerchk.has(e.text)).map((e) => e.text)).toEqual([]);
  });
});
