/** The blacklist part of the YAML configuration: sources, defaults, legacy keys, and refusals. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../src/config.js';
import { PoolwatchError } from '../src/errors.js';
import { formatDuration, parseDurationMs, parseSize } from '../src/blacklist/units.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-cfg-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function load(yaml: string) {
  const path = join(dir, 'c.yaml');
  writeFileSync(path, yaml);
  return loadConfig(path);
}

function refusal(yaml: string): string {
  try {
    load(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(PoolwatchError);
    expect((e as PoolwatchError).code).toBe('PW_ERR_USAGE');
    return (e as PoolwatchError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('blacklist configuration', () => {
  it('the shipped configuration names the three shipped lists, resolves with the system resolver', () => {
    const c = loadConfig(DEFAULT_CONFIG_PATH);
    expect(c.blacklist.sources.map((s) => [s.name, s.kind, s.format, s.location.replace(/^.*\/config\//, '')])).toEqual([
      ['minerchk-ips', 'file', 'plain', 'blacklist.txt'],
      ['minerchk-domains', 'file', 'domains', 'lists/minerchk-domains.txt'],
      ['nocoin-hosts', 'file', 'hosts', 'lists/nocoin-hosts.txt'],
    ]);
    expect(c.blacklist.sources[0]).toMatchObject({ maxBytes: 16 * 1024 * 1024, timeoutMs: 30_000, maxShrink: 0.5, refreshMs: 0 });
    expect(c.blacklist.refreshIntervalMs).toBe(6 * 3_600_000);
    expect(c.blacklist.resolve).toEqual({ enabled: true, servers: null, timeoutMs: 5000, tries: 2, concurrency: 16, minTtlMs: 6 * 3_600_000, maxTtlMs: 86_400_000 });
    expect(c.allowFiles.map((f) => f.replace(/^.*\/config\//, ''))).toEqual(['allowlist.txt']);
  });

  it('reads sources with their own limits, relative paths against the file, and the defaults', () => {
    const c = load(`
blacklist:
  maxShrink: 0.3
  maxBytes: 1MiB
  timeoutSeconds: 10
  refreshInterval: 2h
  resolver: ["127.0.0.1:5353", "192.0.2.53", "[2001:db8::53]:53"]
  resolve: { minTtl: 10m, maxTtl: 2d, tries: 3 }
  files: [old.txt]
  sources:
    - { name: local, file: lists/a.txt, format: domains }
    - { name: remote, url: "https://lists.example/x.json", format: json, refresh: 1d, maxBytes: 2048, timeoutSeconds: 2.5, maxShrink: 0.9 }
`);
    expect(c.blacklist.sources).toEqual([
      { name: 'old.txt', kind: 'file', location: join(dir, 'old.txt'), format: 'plain', refreshMs: 0, maxBytes: 1_048_576, timeoutMs: 10_000, maxShrink: 0.3 },
      { name: 'local', kind: 'file', location: join(dir, 'lists/a.txt'), format: 'domains', refreshMs: 0, maxBytes: 1_048_576, timeoutMs: 10_000, maxShrink: 0.3 },
      { name: 'remote', kind: 'url', location: 'https://lists.example/x.json', format: 'json', refreshMs: 86_400_000, maxBytes: 2048, timeoutMs: 2500, maxShrink: 0.9 },
    ]);
    expect(c.blacklist.refreshIntervalMs).toBe(7_200_000);
    expect(c.blacklist.resolve).toMatchObject({ enabled: true, servers: ['127.0.0.1:5353', '192.0.2.53', '[2001:db8::53]:53'], tries: 3, minTtlMs: 600_000, maxTtlMs: 172_800_000 });
  });

  it('turns resolution off with resolver: false', () => {
    expect(load('blacklist:\n  resolver: false\n').blacklist.resolve.enabled).toBe(false);
  });

  it('refuses what it cannot use, naming the key', () => {
    expect(refusal('blacklist:\n  sources:\n    - { name: x, url: "ftp://a.example/l", format: plain }\n')).toContain('blacklist.sources[0].url must be an http:// or https:// URL (not ftp:)');
    expect(refusal('blacklist:\n  sources:\n    - { name: x, file: a, url: "http://a.example/", format: plain }\n')).toContain('exactly one of file or url');
    expect(refusal('blacklist:\n  sources:\n    - { name: x, file: a, format: xml }\n')).toContain('blacklist.sources[0].format must be one of plain, hosts, domains, abp, csv, json');
    expect(refusal('blacklist:\n  sources:\n    - { name: manual, file: a, format: plain }\n')).toContain('reserved for hand edits');
    expect(refusal('blacklist:\n  sources:\n    - { name: "a:resolved", file: a, format: plain }\n')).toContain('blacklist.sources[0].name must be');
    expect(refusal('blacklist:\n  files: [x/a.txt]\n  sources:\n    - { name: a.txt, file: b, format: plain }\n')).toContain('"a.txt" appears twice');
    expect(refusal('blacklist:\n  sources:\n    - { name: x, file: a, format: plain, maxShrnk: 0.2 }\n')).toContain('blacklist.sources[0].maxShrnk must be one of');
    expect(refusal('blacklist:\n  maxShrink: 1.5\n')).toContain('blacklist.maxShrink must be a share between 0 and 1');
    expect(refusal('blacklist:\n  maxBytes: lots\n')).toContain('blacklist.maxBytes must be a size');
    expect(refusal('blacklist:\n  refreshInterval: 10s\n')).toContain('blacklist.refreshInterval must be a duration');
    expect(refusal('blacklist:\n  resolver: ["dns.example"]\n')).toContain('blacklist.resolver must be a list of DNS servers');
    expect(refusal('blacklist:\n  resolve: { minTtl: 2d, maxTtl: 1d }\n')).toContain('blacklist.resolve.maxTtl must be at least');
  });
});

describe('durations and sizes', () => {
  it('parse the way people write them', () => {
    expect([parseDurationMs('90'), parseDurationMs('90s'), parseDurationMs('15m'), parseDurationMs('6h'), parseDurationMs('1.5d'), parseDurationMs('2w'), parseDurationMs(30)]).toEqual([
      90_000, 90_000, 900_000, 21_600_000, 129_600_000, 1_209_600_000, 30_000,
    ]);
    expect([parseDurationMs('soon'), parseDurationMs('-1h'), parseDurationMs('1y'), parseDurationMs(null)]).toEqual([null, null, null, null]);
    expect([parseSize(1024), parseSize('16MiB'), parseSize('512 KiB'), parseSize('1GB'), parseSize('3x'), parseSize(1.5)]).toEqual([1024, 16_777_216, 524_288, 1e9, null, null]);
    expect([formatDuration(21_600_000), formatDuration(90_000), formatDuration(400)]).toEqual(['6h', '90s', '400ms']);
  });
});
