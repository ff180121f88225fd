/** Shared pieces of the blacklist store, refresh and CLI tests: configs, a log that records, entries. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { expect } from 'vitest';
import { parsePlainList, type BlacklistEntry, type BlacklistIndex } from '../../src/blacklist/index.js';
import type { BlacklistConfig, ResolveConfig, SourceConfig } from '../../src/config.js';
import { domainText } from '../../src/blacklist/formats/domain.js';
import { parseEntryValue } from '../../src/blacklist/formats/entry.js';
import { domainStoreEntry, ipStoreEntry, type StoreEntry } from '../../src/blacklist/store.js';
import type { Logger } from '../../src/log.js';

/** A pino logger whose lines are kept in `lines` (parsed), for asserting codes and messages. */
export function memoryLog(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'debug', base: undefined }, sink) as unknown as Logger, lines };
}

export const NO_RESOLVE: ResolveConfig = {
  enabled: false, servers: null, timeoutMs: 1000, tries: 1, concurrency: 4, minTtlMs: 300_000, maxTtlMs: 86_400_000,
};

/** A source with test-friendly limits (small maxBytes, short timeout) unless overridden. */
export function source(name: string, location: string, format: SourceConfig['format'], over: Partial<SourceConfig> = {}): SourceConfig {
  const kind = /^[a-z]+:\/\//.test(location) ? 'url' : 'file';
  return { name, kind, location, format, refreshMs: 0, maxBytes: 256 * 1024, timeoutMs: 2000, maxShrink: 0.5, ...over };
}

export function blacklistConfig(sources: SourceConfig[], resolve: Partial<ResolveConfig> = {}): { blacklist: BlacklistConfig } {
  return { blacklist: { sources, allowFiles: [], refreshIntervalMs: 3_600_000, resolve: { ...NO_RESOLVE, ...resolve } } };
}

/** Store entries of `source` from typed values ("203.0.113.0/24:3333", "pool.example"), with labels. */
export function entries(source: string, values: string[], labels: { coin?: string; label?: string } = {}): StoreEntry[] {
  return values.map((v) => {
    const r = parseEntryValue(v, source);
    if ('error' in r) throw new Error(r.error);
    if ('address' in r) return ipStoreEntry({ ...r.address, ...labels }, source);
    return domainStoreEntry({ ...r.domain, text: domainText(r.domain.name, r.domain.portLo, r.domain.portHi), source, ...labels }, source);
  });
}

/** 2025-01-01T00:00:00Z: a fixed clock for expiry tests. */
export const T0 = Date.UTC(2025, 0, 1);
export const HOUR = 3_600_000;

/** Entries from list text (must parse cleanly). */
export const listEntries = (text: string, source = 'test.txt'): BlacklistEntry[] => {
  const r = parsePlainList(text, source);
  expect(r.errors.map(String)).toEqual([]);
  return r.entries;
};

/** Address bytes as the pipeline hands them: IPv4 in 4 bytes, IPv6 in 16. */
export const addressOf = (s: string): { addr: Uint8Array; version: 4 | 6 } => {
  const e = listEntries(s)[0]!;
  return { addr: e.addr, version: e.version };
};

/** Text of the entry `idx` matches for `addr` on `port`, or null. */
export const matchText = (idx: BlacklistIndex, addr: string, port: number): string | null => {
  const a = addressOf(addr);
  return idx.match(a.addr, a.version, port)?.text ?? null;
};
