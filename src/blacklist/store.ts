/**
 * The versioned blacklist in SQLite (tables in schema v3, docs/schema.md).
 *
 * Each entry row carries the interval of versions that hold it: `added_in <= V` and
 * (`removed_in` NULL or `> V`). A new version therefore writes only what changed: an entry that
 * survives a refresh keeps its row (its `last_seen` and expiry move on), an entry that goes away
 * gets `removed_in`, a new one gets a row. Any past version can still be listed and diffed, and
 * a hit's `blacklist_version` can be explained years later.
 *
 * An entry's identity is (source, kind, canonical text incl. ports, and for a resolved address
 * the name it came from). Its labels (coin, label) are content: a relabelled entry is the old
 * row removed and a new row added, so old versions keep showing what they said then. Its expiry,
 * TTL and last_seen are bookkeeping, updated in place.
 *
 * Every write is one IMMEDIATE transaction and every read of a version one read transaction: in
 * WAL mode a reader sees either the version before a commit or the one after, never a mix.
 */
import type { Database } from '../report/db.js';
import { guard } from '../report/db.js';
import { AddressTable, type EntryOrigin } from './address-table.js';
import { canonicalText } from './plain.js';
import type { BlacklistEntry, DomainEntry, EntryLabels } from './types.js';

export type VersionReason = 'bootstrap' | 'refresh' | 'add' | 'remove' | 'import';

interface EntryBase extends EntryLabels {
  source: string;
  /** Canonical text including the port range, e.g. "203.0.113.0/24:3333", "pool.example:3333". */
  text: string;
  portLo: number;
  portHi: number;
  /** When the entry stops counting (ms since epoch); undefined = never. */
  expiresAt?: number;
}

/** An address or network, as stored. Resolved addresses name their domain and its DNS TTL. */
export interface IpStoreEntry extends EntryBase {
  kind: 'ip';
  ipVersion: 4 | 6;
  addr: Uint8Array;
  prefixLen: number;
  /** The domain name this address was resolved from (resolved entries only). */
  domain?: string;
  /** The TTL of the DNS answer (seconds; resolved entries only). */
  ttl?: number;
}

/** A domain name (matches the name and the names below it), as stored. */
export interface DomainStoreEntry extends EntryBase {
  kind: 'domain';
  name: string;
}

export type StoreEntry = IpStoreEntry | DomainStoreEntry;

/** A stored row: the entry plus when it was seen and which versions hold it. */
export type StoredEntry = StoreEntry & {
  id: number;
  /** ms since epoch: the commit that first stored this row / the latest commit that confirmed it. */
  firstSeen: number;
  lastSeen: number;
  addedIn: number;
  removedIn: number | null;
};

/** What identifies an entry within the store (see the file comment). */
export interface EntryKey {
  source: string;
  kind: 'ip' | 'domain';
  text: string;
  domain?: string;
}

export interface VersionCounts {
  added: number;
  removed: number;
  unchanged: number;
}

export interface VersionSourceRecord extends VersionCounts {
  source: string;
  /** refresh: ok · unchanged · failed · refused · skipped · resolved; hand edits: edited; expiry: expired. */
  status: string;
  message: string | null;
  location: string | null;
  /** Entries of this source in the version. */
  entries: number;
}

export interface VersionRecord extends VersionCounts {
  id: number;
  /** ISO 8601 UTC with ms. */
  createdAt: string;
  reason: VersionReason;
  command: string;
  total: number;
  sources: VersionSourceRecord[];
}

/** The per-source state the refresh keeps between runs (conditional-request validators, last outcome). */
export interface SourceState {
  name: string;
  origin: 'config' | 'manual' | 'resolved';
  location: string;
  format: string;
  etag: string | null;
  lastModified: string | null;
  lastAttemptAt: string | null;
  lastOkAt: string | null;
  lastStatus: string | null;
  lastError: string | null;
  entries: number;
}

/** One source's part of a commit. */
export interface SourceChange {
  source: string;
  /** The source's complete new content (a successful fetch). Entries absent from it are removed. */
  replace?: readonly StoreEntry[];
  /** Entries added to the source (or relabelled, or given a new expiry); others are untouched. */
  add?: readonly StoreEntry[];
  /** Entries removed from the source. */
  remove?: readonly EntryKey[];
  /** Recorded in blacklist_version_sources: what happened to the source in this version. */
  status: string;
  message?: string | null;
  location?: string | null;
  /** Written to blacklist_sources (entries is filled in by the commit); absent: left as it is. */
  state?: Omit<SourceState, 'entries'>;
}

export interface CommitMeta {
  reason: VersionReason;
  command: string;
  /** The commit's clock (ms since epoch): created_at, first/last seen. */
  now: number;
  /** Remove live entries that expired at or before this time (refreshes pass `now`). */
  expireBefore?: number;
  /** Commit only when the database holds no version yet (bootstrap races with another process). */
  onlyIfEmpty?: boolean;
}

export interface CommitResult extends VersionCounts {
  version: number;
  total: number;
  sources: VersionSourceRecord[];
  /** Keys asked to be removed that no live entry had. */
  notFound: EntryKey[];
}

/** The stored version scans use, as the lookup wants it. */
export interface Snapshot {
  version: number | null;
  addresses: (BlacklistEntry & EntryLabels)[];
  domains: DomainEntry[];
}

export interface VersionDiff {
  from: number;
  to: number;
  added: StoredEntry[];
  removed: StoredEntry[];
}

// ---------------------------------------------------------------- keys and conversions

/** One string per identity, for maps. */
export function entryKey(e: EntryKey): string {
  return `${e.source}\u0000${e.kind}\u0000${e.text}\u0000${e.domain ?? ''}`;
}

function keyOf(e: StoreEntry): EntryKey {
  return { source: e.source, kind: e.kind, text: e.text, domain: e.kind === 'ip' ? e.domain : undefined };
}

/** A parsed address entry (any list format) as a store entry of `source`. */
export function ipStoreEntry(e: BlacklistEntry & EntryLabels, source: string): IpStoreEntry {
  const out: IpStoreEntry = {
    kind: 'ip', source, text: e.text, ipVersion: e.version, addr: e.addr, prefixLen: e.prefixLen, portLo: e.portLo, portHi: e.portHi,
  };
  if (e.coin !== undefined) out.coin = e.coin;
  if (e.label !== undefined) out.label = e.label;
  if (e.expiresAt !== undefined) out.expiresAt = e.expiresAt;
  return out;
}

/** A parsed domain entry as a store entry of `source`. */
export function domainStoreEntry(e: DomainEntry, source: string): DomainStoreEntry {
  const out: DomainStoreEntry = { kind: 'domain', source, text: e.text, name: e.name, portLo: e.portLo, portHi: e.portHi };
  if (e.coin !== undefined) out.coin = e.coin;
  if (e.label !== undefined) out.label = e.label;
  if (e.expiresAt !== undefined) out.expiresAt = e.expiresAt;
  return out;
}

interface EntryRow {
  id: number;
  source: string;
  kind: 'ip' | 'domain';
  text: string;
  ip_version: 4 | 6 | null;
  addr: Buffer | null;
  prefix_len: number | null;
  name: string | null;
  port_lo: number;
  port_hi: number;
  coin: string | null;
  label: string | null;
  domain: string | null;
  ttl: number | null;
  first_seen: number;
  last_seen: number;
  expires_at: number | null;
  added_in: number;
  removed_in: number | null;
}

function fromRow(r: EntryRow): StoredEntry {
  const base = { id: r.id, firstSeen: r.first_seen, lastSeen: r.last_seen, addedIn: r.added_in, removedIn: r.removed_in };
  const e: StoredEntry =
    r.kind === 'ip'
      ? { ...base, kind: 'ip', source: r.source, text: r.text, ipVersion: r.ip_version!, addr: new Uint8Array(r.addr!), prefixLen: r.prefix_len!, portLo: r.port_lo, portHi: r.port_hi }
      : { ...base, kind: 'domain', source: r.source, text: r.text, name: r.name!, portLo: r.port_lo, portHi: r.port_hi };
  if (r.coin !== null) e.coin = r.coin;
  if (r.label !== null) e.label = r.label;
  if (r.expires_at !== null) e.expiresAt = r.expires_at;
  if (e.kind === 'ip') {
    if (r.domain !== null) e.domain = r.domain;
    if (r.ttl !== null) e.ttl = r.ttl;
  }
  return e;
}

/** What a commit needs to know about a live row. */
type LiveRow = Pick<EntryRow, 'id' | 'coin' | 'label'>;

/** Rows of version V: the interval test every query shares. */
const IN_VERSION = 'added_in <= @v AND (removed_in IS NULL OR removed_in > @v)';

// ---------------------------------------------------------------- reads

/** The newest version, or null when the database holds none yet. */
export function currentVersion(db: Database): number | null {
  return guard(db, () => {
    const row = db.prepare('SELECT max(id) AS v FROM blacklist_versions').get() as { v: number | null };
    return row.v;
  });
}

/** Every entry of `version` (sorted by source, kind, text), optionally of one source. */
export function versionEntries(db: Database, version: number, opts: { source?: string } = {}): StoredEntry[] {
  return guard(db, () => {
    const where = opts.source === undefined ? IN_VERSION : `${IN_VERSION} AND source = @source`;
    const rows = db
      .prepare(`SELECT * FROM blacklist_entries WHERE ${where} ORDER BY source, kind, text, domain`)
      .all({ v: version, source: opts.source }) as EntryRow[];
    return rows.map(fromRow);
  });
}

/** Whether `version` exists. */
export function hasVersion(db: Database, version: number): boolean {
  return guard(db, () => db.prepare('SELECT 1 FROM blacklist_versions WHERE id = ?').get(version) !== undefined);
}

/**
 * What changed from `v1` to `v2` (either order; v1 > v2 gives the reverse). Compared by identity
 * and labels, so an entry removed and added again in between is not listed.
 */
export function diffVersions(db: Database, v1: number, v2: number): VersionDiff {
  return guard(db, () =>
    db.transaction(() => {
      const a = versionEntries(db, v1);
      const b = versionEntries(db, v2);
      const sameKey = (xs: StoredEntry[]) => new Map(xs.map((e) => [entryKey(keyOf(e)), e]));
      const inA = sameKey(a);
      const inB = sameKey(b);
      const kept = (e: StoredEntry, other: Map<string, StoredEntry>) => {
        const o = other.get(entryKey(keyOf(e)));
        return o !== undefined && o.coin === e.coin && o.label === e.label;
      };
      return { from: v1, to: v2, added: b.filter((e) => !kept(e, inA)), removed: a.filter((e) => !kept(e, inB)) };
    })(),
  );
}

/** Every version, newest first, with what happened to each source in it. */
export function history(db: Database, opts: { limit?: number } = {}): VersionRecord[] {
  return guard(db, () =>
    db.transaction(() => {
      const versions = db
        .prepare(`SELECT * FROM blacklist_versions ORDER BY id DESC ${opts.limit !== undefined ? 'LIMIT @limit' : ''}`)
        .all(opts.limit !== undefined ? { limit: opts.limit } : {}) as {
        id: number; created_at: string; reason: VersionReason; command: string; added: number; removed: number; unchanged: number; total: number;
      }[];
      const bySource = db.prepare('SELECT * FROM blacklist_version_sources WHERE version_id = ? ORDER BY source');
      return versions.map((v) => ({
        id: v.id,
        createdAt: v.created_at,
        reason: v.reason,
        command: v.command,
        added: v.added,
        removed: v.removed,
        unchanged: v.unchanged,
        total: v.total,
        sources: (bySource.all(v.id) as Record<string, any>[]).map(versionSourceFromRow),
      }));
    })(),
  );
}

function versionSourceFromRow(r: Record<string, any>): VersionSourceRecord {
  return {
    source: r.source, status: r.status, message: r.message, location: r.location,
    added: r.added, removed: r.removed, unchanged: r.unchanged, entries: r.entries,
  };
}

/** The stored state of every source (validators, last outcome), by name. */
export function sourceStates(db: Database): Map<string, SourceState> {
  return guard(db, () => {
    const rows = db.prepare('SELECT * FROM blacklist_sources').all() as Record<string, any>[];
    return new Map(
      rows.map((r) => [
        r.name,
        {
          name: r.name, origin: r.origin, location: r.location, format: r.format, etag: r.etag, lastModified: r.last_modified,
          lastAttemptAt: r.last_attempt_at, lastOkAt: r.last_ok_at, lastStatus: r.last_status, lastError: r.last_error, entries: r.entries,
        },
      ]),
    );
  });
}

/**
 * The current version as scans use it: entries that have not expired at `nowMs`, each naming the
 * version (`listVersion`) so a hit can record it. Expiry is decided here, at load time; the stored
 * version is not rewritten for it (the next refresh removes expired entries). One read transaction.
 */
export function loadSnapshot(db: Database, nowMs: number): Snapshot {
  const addresses: (BlacklistEntry & EntryLabels)[] = [];
  const got = readCurrent(db, nowMs, (r, version) => {
    const e: BlacklistEntry & EntryLabels = {
      version: r[A_IP_VERSION], addr: new Uint8Array(r[A_ADDR]), prefixLen: r[A_PREFIX_LEN],
      portLo: r[A_PORT_LO], portHi: r[A_PORT_HI], text: r[A_TEXT], source: r[A_SOURCE], listVersion: version,
    };
    if (r[A_EXPIRES_AT] !== null) e.expiresAt = r[A_EXPIRES_AT];
    if (r[A_COIN] !== null) e.coin = r[A_COIN];
    if (r[A_LABEL] !== null) e.label = r[A_LABEL];
    addresses.push(e);
  });
  return { version: got.version, addresses, domains: got.domains };
}

/** The current version as a scan holds it: address entries in a table (no object per entry). */
export interface StoredList {
  version: number | null;
  addresses: AddressTable;
  domains: DomainEntry[];
}

/** loadSnapshot for scans: the same entries, the addresses straight into an AddressTable. */
export function loadStoredList(db: Database, nowMs: number): StoredList {
  const table = new AddressTable();
  const fields = { version: 4 as 4 | 6, addr: new Uint8Array(0), prefixLen: 0, portLo: 0, portHi: 0 };
  let last: unknown[] | null = null;
  let origin = 0;
  const got = readCurrent(db, nowMs, (r, version) => {
    // Rows of one source and labels share an origin: look it up only when they change.
    if (last === null || r[A_SOURCE] !== last[A_SOURCE] || r[A_COIN] !== last[A_COIN] || r[A_LABEL] !== last[A_LABEL]) {
      const o: EntryOrigin = { source: r[A_SOURCE], listVersion: version };
      if (r[A_COIN] !== null) o.coin = r[A_COIN];
      if (r[A_LABEL] !== null) o.label = r[A_LABEL];
      origin = table.origin(o);
      last = r;
    }
    fields.version = r[A_IP_VERSION];
    fields.addr = r[A_ADDR];
    fields.prefixLen = r[A_PREFIX_LEN];
    fields.portLo = r[A_PORT_LO];
    fields.portHi = r[A_PORT_HI];
    // Stored texts are canonical (every parser writes canonicalText); keep one only if it is not.
    const text: string = r[A_TEXT];
    const own = canonicalText(fields) === text ? null : text;
    table.addBytes(fields.version, fields.addr, fields.prefixLen, fields.portLo, fields.portHi, origin, r[A_EXPIRES_AT] ?? NaN, own);
  });
  table.compact();
  return { version: got.version, addresses: table, domains: got.domains };
}

/** Columns of an address row as readCurrent hands it (raw rows: an array, not an object per row). */
const A_SOURCE = 0;
const A_TEXT = 1;
const A_IP_VERSION = 2;
const A_ADDR = 3;
const A_PREFIX_LEN = 4;
const A_PORT_LO = 5;
const A_PORT_HI = 6;
const A_COIN = 7;
const A_LABEL = 8;
const A_EXPIRES_AT = 9;
type AddressRow = any[];

/** One read transaction over the current version: address rows to `onAddress`, domain entries returned. */
function readCurrent(db: Database, nowMs: number, onAddress: (r: AddressRow, version: number) => void): { version: number | null; domains: DomainEntry[] } {
  const live = 'removed_in IS NULL AND (expires_at IS NULL OR expires_at > @now)';
  return guard(db, () =>
    db.transaction(() => {
      const version = currentVersion(db);
      const domains: DomainEntry[] = [];
      if (version === null) return { version, domains };
      // Raw rows (arrays) and only the columns used: a million rows are read in about half the time.
      const addresses = db
        .prepare(`SELECT source, text, ip_version, addr, prefix_len, port_lo, port_hi, coin, label, expires_at FROM blacklist_entries WHERE kind = 'ip' AND ${live}`)
        .raw(true)
        .iterate({ now: nowMs }) as IterableIterator<AddressRow>;
      for (const r of addresses) onAddress(r, version);
      const names = db
        .prepare(`SELECT source, text, name, port_lo, port_hi, coin, label, expires_at FROM blacklist_entries WHERE kind = 'domain' AND ${live}`)
        .iterate({ now: nowMs }) as IterableIterator<EntryRow>;
      for (const r of names) {
        const e: DomainEntry = { name: r.name!, portLo: r.port_lo, portHi: r.port_hi, text: r.text, source: r.source, listVersion: version };
        if (r.expires_at !== null) e.expiresAt = r.expires_at;
        if (r.coin !== null) e.coin = r.coin;
        if (r.label !== null) e.label = r.label;
        domains.push(e);
      }
      return { version, domains };
    })(),
  );
}

// ---------------------------------------------------------------- the one write

/**
 * Apply `changes` as ONE new version, in one IMMEDIATE transaction: either all of it is stored
 * and the version exists, or (on any error) nothing is and the previous version stays current.
 * Sources without a change keep their entries (minus expired ones when `expireBefore` is set).
 * Returns null only with `onlyIfEmpty` when a version already existed.
 */
export function commitVersion(db: Database, changes: readonly SourceChange[], meta: CommitMeta): CommitResult | null {
  return guard(db, () => db.transaction(() => commitInTransaction(db, changes, meta)).immediate());
}

function commitInTransaction(db: Database, changes: readonly SourceChange[], meta: CommitMeta): CommitResult | null {
  const previous = currentVersion(db);
  if (meta.onlyIfEmpty === true && previous !== null) return null;
  const createdAt = new Date(meta.now).toISOString();
  const v = Number(
    db
      .prepare(`INSERT INTO blacklist_versions (created_at, reason, command, added, removed, unchanged, total) VALUES (?, ?, ?, 0, 0, 0, 0)`)
      .run(createdAt, meta.reason, meta.command).lastInsertRowid,
  );
  const w = writer(db, v, meta.now);
  const notFound: EntryKey[] = [];
  for (const c of changes) {
    const live = w.liveRows(c.source);
    if (c.replace !== undefined) {
      const wanted = new Map<string, StoreEntry>();
      for (const e of c.replace) {
        const k = entryKey(keyOf(e));
        if (!wanted.has(k)) wanted.set(k, e); // a list naming an entry twice: the first wins
      }
      for (const k of [...live.keys()]) if (!wanted.has(k)) w.remove(k, live);
      for (const e of wanted.values()) w.put(e, live);
    }
    for (const e of c.add ?? []) w.put(e, live);
    for (const key of c.remove ?? []) if (!w.remove(entryKey(key), live)) notFound.push(key);
  }
  if (meta.expireBefore !== undefined) {
    // After the changes: an entry confirmed by this very refresh (e.g. resolved again) got a new
    // expiry above and stays.
    db.prepare('UPDATE blacklist_entries SET removed_in = ? WHERE removed_in IS NULL AND expires_at IS NOT NULL AND expires_at <= ?').run(v, meta.expireBefore);
  }

  const count = (where: string) =>
    new Map(
      (db.prepare(`SELECT source, count(*) AS n FROM blacklist_entries WHERE ${where} GROUP BY source`).all({ v }) as { source: string; n: number }[])
        .map((r) => [r.source, r.n]),
    );
  // A row both added and removed within this commit never was in any version: counted in neither.
  const added = count('added_in = @v AND removed_in IS NULL');
  const removed = count('removed_in = @v AND added_in < @v');
  const entries = count(IN_VERSION);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const total = sum(entries);
  const result: CommitResult = { version: v, added: sum(added), removed: sum(removed), unchanged: total - sum(added), total, sources: [], notFound };
  db.prepare('UPDATE blacklist_versions SET added = ?, removed = ?, unchanged = ?, total = ? WHERE id = ?').run(
    result.added, result.removed, result.unchanged, result.total, v,
  );

  // One row per source the version touched: every change, and any source that lost expired entries.
  const touched = new Map<string, SourceChange>(changes.map((c) => [c.source, c]));
  for (const s of removed.keys()) if (!touched.has(s)) touched.set(s, { source: s, status: 'expired' });
  const insertVs = db.prepare(
    `INSERT INTO blacklist_version_sources (version_id, source, status, message, location, added, removed, unchanged, entries)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const [name, c] of [...touched].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const rec: VersionSourceRecord = {
      source: name, status: c.status, message: c.message ?? null, location: c.location ?? null,
      added: added.get(name) ?? 0, removed: removed.get(name) ?? 0,
      unchanged: (entries.get(name) ?? 0) - (added.get(name) ?? 0), entries: entries.get(name) ?? 0,
    };
    insertVs.run(v, rec.source, rec.status, rec.message, rec.location, rec.added, rec.removed, rec.unchanged, rec.entries);
    result.sources.push(rec);
    if (c.state !== undefined) w.saveState({ ...c.state, entries: rec.entries });
  }
  return result;
}

/** The prepared statements of one commit. */
function writer(db: Database, v: number, now: number) {
  const selectLive = db.prepare('SELECT * FROM blacklist_entries WHERE source = ? AND removed_in IS NULL');
  const insert = db.prepare(
    `INSERT INTO blacklist_entries (source, kind, text, ip_version, addr, prefix_len, name, port_lo, port_hi, coin, label, domain, ttl,
       first_seen, last_seen, expires_at, added_in)
     VALUES (@source, @kind, @text, @ip_version, @addr, @prefix_len, @name, @port_lo, @port_hi, @coin, @label, @domain, @ttl,
       @now, @now, @expires_at, @v)`,
  );
  const touch = db.prepare('UPDATE blacklist_entries SET last_seen = ?, expires_at = ?, ttl = ? WHERE id = ?');
  const markRemoved = db.prepare('UPDATE blacklist_entries SET removed_in = ? WHERE id = ?');
  const upsertState = db.prepare(
    `INSERT INTO blacklist_sources (name, origin, location, format, etag, last_modified, last_attempt_at, last_ok_at, last_status, last_error, entries)
     VALUES (@name, @origin, @location, @format, @etag, @lastModified, @lastAttemptAt, @lastOkAt, @lastStatus, @lastError, @entries)
     ON CONFLICT (name) DO UPDATE SET origin = excluded.origin, location = excluded.location, format = excluded.format,
       etag = excluded.etag, last_modified = excluded.last_modified, last_attempt_at = excluded.last_attempt_at,
       last_ok_at = excluded.last_ok_at, last_status = excluded.last_status, last_error = excluded.last_error, entries = excluded.entries`,
  );
  return {
    /** The source's live rows by key; put and remove keep the map current within the commit. */
    liveRows(source: string): Map<string, LiveRow> {
      const rows = selectLive.all(source) as EntryRow[];
      return new Map(rows.map((r) => [entryKey({ source: r.source, kind: r.kind, text: r.text, domain: r.domain ?? undefined }), r]));
    },
    /** Store `e`: confirm the live row when it says the same, else replace it (or add a row). */
    put(e: StoreEntry, live: Map<string, LiveRow>): void {
      const k = entryKey(keyOf(e));
      const row = live.get(k);
      const ttl = e.kind === 'ip' ? e.ttl ?? null : null;
      if (row !== undefined && row.coin === (e.coin ?? null) && row.label === (e.label ?? null)) {
        touch.run(now, e.expiresAt ?? null, ttl, row.id);
        return;
      }
      if (row !== undefined) markRemoved.run(v, row.id);
      const info = insert.run({
        source: e.source, kind: e.kind, text: e.text,
        ip_version: e.kind === 'ip' ? e.ipVersion : null,
        addr: e.kind === 'ip' ? Buffer.from(e.addr.buffer, e.addr.byteOffset, e.addr.byteLength) : null,
        prefix_len: e.kind === 'ip' ? e.prefixLen : null,
        name: e.kind === 'domain' ? e.name : null,
        port_lo: e.portLo, port_hi: e.portHi, coin: e.coin ?? null, label: e.label ?? null,
        domain: e.kind === 'ip' ? e.domain ?? null : null, ttl,
        now, expires_at: e.expiresAt ?? null, v,
      });
      live.set(k, { id: Number(info.lastInsertRowid), coin: e.coin ?? null, label: e.label ?? null });
    },
    /** Remove the live row with key `k`; false when there is none. */
    remove(k: string, live: Map<string, LiveRow>): boolean {
      const row = live.get(k);
      if (row === undefined) return false;
      markRemoved.run(v, row.id);
      live.delete(k);
      return true;
    },
    saveState(s: SourceState): void {
      upsertState.run(s);
    },
  };
}
