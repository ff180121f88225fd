/**
 * The database schema as an ordered list of migrations. `PRAGMA user_version` holds how many have
 * been applied, so migration N (0-based) takes a database from version N to N + 1. Never edit a
 * migration that has shipped; append a new one instead (and describe it in docs/schema.md).
 */
export const MIGRATIONS: readonly string[] = [
  // v1: runs and hits.
  `
  CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    command     TEXT NOT NULL,
    inputs      TEXT NOT NULL DEFAULT '[]',
    packets     INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    flows       INTEGER NOT NULL DEFAULT 0,
    hits        INTEGER NOT NULL DEFAULT 0,
    damaged     INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'running'
  );

  CREATE TABLE hits (
    run_id            INTEGER NOT NULL REFERENCES runs(id),
    src               TEXT NOT NULL,
    pool_ip           TEXT NOT NULL,
    pool_port         INTEGER NOT NULL,
    proto             INTEGER NOT NULL,
    category          TEXT NOT NULL CHECK (category IN ('mining', 'crypto-p2p')),
    evidence          TEXT NOT NULL DEFAULT '[]',
    blacklist_entry   TEXT,
    coin              TEXT,
    login             TEXT,
    worker            TEXT,
    agent             TEXT,
    algo              TEXT,
    pool_host         TEXT,
    difficulty        REAL,
    shares_submitted  INTEGER NOT NULL DEFAULT 0,
    shares_accepted   INTEGER NOT NULL DEFAULT 0,
    shares_rejected   INTEGER NOT NULL DEFAULT 0,
    reported_hashrate REAL,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    flows             INTEGER NOT NULL DEFAULT 0,
    packets_up        INTEGER NOT NULL DEFAULT 0,
    bytes_up          INTEGER NOT NULL DEFAULT 0,
    packets_down      INTEGER NOT NULL DEFAULT 0,
    bytes_down        INTEGER NOT NULL DEFAULT 0,
    input_kind        TEXT NOT NULL,
    input             TEXT NOT NULL,
    PRIMARY KEY (run_id, src, pool_ip, pool_port, proto)
  );

  CREATE INDEX hits_src ON hits (src);
  CREATE INDEX hits_pool ON hits (pool_ip, pool_port);
  `,
  // v2: which blacklist version held the entry that matched.
  `
  ALTER TABLE hits ADD COLUMN blacklist_version INTEGER;
  `,
  // v3: the versioned blacklist (src/blacklist/store.ts). Entries are stored once and carry the
  // interval of versions that hold them (added_in <= V < removed_in), so a refresh that changes
  // ten of a million entries writes ten rows, and any old version can still be listed and diffed.
  `
  CREATE TABLE blacklist_versions (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('bootstrap', 'refresh', 'add', 'remove', 'import')),
    command     TEXT NOT NULL,
    added       INTEGER NOT NULL,
    removed     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    total       INTEGER NOT NULL
  );

  CREATE TABLE blacklist_version_sources (
    version_id  INTEGER NOT NULL REFERENCES blacklist_versions(id),
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    message     TEXT,
    location    TEXT,
    added       INTEGER NOT NULL,
    removed     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    PRIMARY KEY (version_id, source)
  );

  CREATE TABLE blacklist_sources (
    name            TEXT PRIMARY KEY,
    origin          TEXT NOT NULL CHECK (origin IN ('config', 'manual', 'resolved')),
    location        TEXT NOT NULL,
    format          TEXT NOT NULL,
    etag            TEXT,
    last_modified   TEXT,
    last_attempt_at TEXT,
    last_ok_at      TEXT,
    last_status     TEXT,
    last_error      TEXT,
    entries         INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE blacklist_entries (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('ip', 'domain')),
    text        TEXT NOT NULL,
    ip_version  INTEGER CHECK (ip_version IN (4, 6)),
    addr        BLOB,
    prefix_len  INTEGER,
    name        TEXT,
    port_lo     INTEGER NOT NULL,
    port_hi     INTEGER NOT NULL,
    coin        TEXT,
    label       TEXT,
    domain      TEXT,
    ttl         INTEGER,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER,
    added_in    INTEGER NOT NULL REFERENCES blacklist_versions(id),
    removed_in  INTEGER REFERENCES blacklist_versions(id),
    CHECK (kind = 'ip' AND addr IS NOT NULL AND ip_version IS NOT NULL AND prefix_len IS NOT NULL
        OR kind = 'domain' AND name IS NOT NULL)
  );

  -- One live row per identity; a resolved address is also told apart by the name it came from.
  CREATE UNIQUE INDEX blacklist_entries_live ON blacklist_entries (source, kind, text, coalesce(domain, ''))
    WHERE removed_in IS NULL;
  CREATE INDEX blacklist_entries_added ON blacklist_entries (added_in);
  CREATE INDEX blacklist_entries_removed ON blacklist_entries (removed_in);
  `,
  // v4: flow records (NetFlow v5/v9, IPFIX, nfdump). sampling_rate: the 1-in-N sampling the
  // packet and byte counts were multiplied by (1 = counted, not estimated); nat_outside: the
  // customer's public address behind carrier-grade NAT (src is then the inside address); and the
  // category 'suspect'. SQLite cannot alter a CHECK constraint, so the hits table is rebuilt:
  // created anew with the same columns in the same order (blacklist_version still after input,
  // where v2 put it) plus the two new ones, filled from the old one, which is dropped; then the
  // indexes are made again. Nothing refers to hits, and foreign keys are only switched on after
  // the migrations (openDatabase), so the drop cannot cascade or fail.
  `
  CREATE TABLE hits_v4 (
    run_id            INTEGER NOT NULL REFERENCES runs(id),
    src               TEXT NOT NULL,
    pool_ip           TEXT NOT NULL,
    pool_port         INTEGER NOT NULL,
    proto             INTEGER NOT NULL,
    category          TEXT NOT NULL CHECK (category IN ('mining', 'crypto-p2p', 'suspect')),
    evidence          TEXT NOT NULL DEFAULT '[]',
    blacklist_entry   TEXT,
    coin              TEXT,
    login             TEXT,
    worker            TEXT,
    agent             TEXT,
    algo              TEXT,
    pool_host         TEXT,
    difficulty        REAL,
    shares_submitted  INTEGER NOT NULL DEFAULT 0,
    shares_accepted   INTEGER NOT NULL DEFAULT 0,
    shares_rejected   INTEGER NOT NULL DEFAULT 0,
    reported_hashrate REAL,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    flows             INTEGER NOT NULL DEFAULT 0,
    packets_up        INTEGER NOT NULL DEFAULT 0,
    bytes_up          INTEGER NOT NULL DEFAULT 0,
    packets_down      INTEGER NOT NULL DEFAULT 0,
    bytes_down        INTEGER NOT NULL DEFAULT 0,
    input_kind        TEXT NOT NULL,
    input             TEXT NOT NULL,
    blacklist_version INTEGER,
    sampling_rate     INTEGER NOT NULL DEFAULT 1 CHECK (sampling_rate >= 1),
    nat_outside       TEXT,
    PRIMARY KEY (run_id, src, pool_ip, pool_port, proto)
  );

  INSERT INTO hits_v4 (run_id, src, pool_ip, pool_port, proto, category, evidence, blacklist_entry, coin, login,
    worker, agent, algo, pool_host, difficulty, shares_submitted, shares_accepted, shares_rejected,
    reported_hashrate, first_seen, last_seen, flows, packets_up, bytes_up, packets_down, bytes_down,
    input_kind, input, blacklist_version)
  SELECT run_id, src, pool_ip, pool_port, proto, category, evidence, blacklist_entry, coin, login,
    worker, agent, algo, pool_host, difficulty, shares_submitted, shares_accepted, shares_rejected,
    reported_hashrate, first_seen, last_seen, flows, packets_up, bytes_up, packets_down, bytes_down,
    input_kind, input, blacklist_version
  FROM hits;

  DROP TABLE hits;
  ALTER TABLE hits_v4 RENAME TO hits;

  CREATE INDEX hits_src ON hits (src);
  CREATE INDEX hits_pool ON hits (pool_ip, pool_port);
  `,
  // v5: follow-up (src/report/cases.ts). One case per source address that was seen mining, in a
  // workflow state; every change, note and automatic (re)opening is one case_events row, so the
  // history says who did what and when. Times are wall-clock ISO 8601 UTC text (when people or
  // poolwatch acted), not packet times; hits.last_seen (packet time, µs) is compared with
  // cleared_at to tell a recurrence.
  `
  CREATE TABLE cases (
    src          TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('new', 'verified', 'notified', 'blocked', 'cleared')),
    opened_at    TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    cleared_at   TEXT,
    recurrences  INTEGER NOT NULL DEFAULT 0 CHECK (recurrences >= 0),
    reopened_at  TEXT,
    org          TEXT
  );

  CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    src         TEXT NOT NULL REFERENCES cases(src),
    at          TEXT NOT NULL,
    by          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('opened', 'state', 'note', 'reopened')),
    from_state  TEXT,
    to_state    TEXT,
    note        TEXT
  );

  CREATE INDEX case_events_src ON case_events (src, id);

  -- Every source already recorded mining is a case, opened by the upgrade (no organisation: the
  -- migration does not read the configuration; case show looks it up).
  INSERT INTO cases (src, state, opened_at, updated_at)
    SELECT src, 'new', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM hits WHERE category = 'mining' GROUP BY src ORDER BY src;
  INSERT INTO case_events (src, at, by, kind, to_state, note)
    SELECT src, opened_at, 'poolwatch', 'opened', 'new', 'opened by the upgrade to schema version 5: mining recorded before cases were kept'
    FROM cases ORDER BY src;
  `,
  // v6: which process runs a run (src/report/sink.ts): host name, process id, and the process's
  // start (Linux: boot id and start time in clock ticks), so that the next run can tell a run
  // whose process is gone (kill -9, a crash, a power cut) from one still going, and mark it
  // 'interrupted'. NULL in runs from before this version.
  `
  ALTER TABLE runs ADD COLUMN host TEXT;
  ALTER TABLE runs ADD COLUMN pid INTEGER;
  ALTER TABLE runs ADD COLUMN pid_start TEXT;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
