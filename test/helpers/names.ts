/** Domain entries and live lists for the name-matching tests, written the way a list reads. */
import { parsePlainList } from '../../src/blacklist/index.js';
import { buildSnapshot, LiveBlacklist, type BlacklistSnapshot, type LiveBlacklistOptions } from '../../src/blacklist/live.js';
import type { DomainEntry } from '../../src/blacklist/types.js';

/** "name[:lo[-hi]]" → a DomainEntry, as the list formats give it. */
export function dom(spec: string, over: Partial<DomainEntry> = {}): DomainEntry {
  const [name, ports] = spec.split(':') as [string, string | undefined];
  let portLo = 0;
  let portHi = 65535;
  if (ports !== undefined) {
    const [a, b] = ports.split('-');
    portLo = Number(a);
    portHi = Number(b ?? a);
  }
  return { name, portLo, portHi, text: spec, source: 'test', ...over };
}

/** A snapshot from plain address lines, domain specs and allow-list lines. */
export function snapshot(o: { addresses?: string; domains?: (string | DomainEntry)[]; allow?: string; version?: number } = {}): BlacklistSnapshot {
  const entries = parsePlainList(o.addresses ?? '', 'test-addresses').entries.map((e) => (o.version === undefined ? e : { ...e, listVersion: o.version }));
  const allow = parsePlainList(o.allow ?? '', 'test-allow').entries;
  const domains = (o.domains ?? []).map((d) => (typeof d === 'string' ? dom(d, o.version === undefined ? {} : { listVersion: o.version }) : d));
  return buildSnapshot(entries, domains, allow);
}

export function live(o: Parameters<typeof snapshot>[0] = {}, opts: LiveBlacklistOptions = {}): LiveBlacklist {
  return new LiveBlacklist(snapshot(o), opts);
}
