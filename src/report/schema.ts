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
];

export const SCHEMA_VERSION = MIGRATIONS.length;
