import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { PoolwatchError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export type Database = BetterSqlite3.Database;
export { SCHEMA_VERSION };

export interface OpenOptions {
  /** Open for queries only: never creates, migrates or writes the file. */
  readonly?: boolean;
}

/** How long a writer waits for another process's lock before giving up (ms). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Open (and in write mode create or migrate) a poolwatch database. ':memory:' is allowed for
 * writing. Every failure, whatever layer it comes from (missing directory, not a database file,
 * read-only file, newer schema), becomes one PW_ERR_DB naming the path.
 */
export function openDatabase(path: string, opts: OpenOptions = {}): Database {
  const readonly = opts.readonly === true;
  // Check ourselves so the message is clear and so SQLite never gets the chance to create it.
  if (readonly && !isMemory(path) && !existsSync(path)) {
    throw dbError(path, 'no such database');
  }
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(path, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
    // The file is only read here: a non-database file fails on the first pragma.
    if (readonly) {
      checkVersion(db);
    } else {
      // WAL: the CLI writes while an analyst queries; NORMAL is durable enough under WAL and
      // keeps batch commits cheap (a crash can lose the last batch, never corrupt the file).
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      /* already failing; the original error is the useful one */
    }
    if (e instanceof PoolwatchError) throw e;
    throw dbError(path, readonly ? reason(e) : writeReason(path, e), sqliteCode(e));
  }
}

/**
 * Why a database could not be opened for writing. SQLite says "unable to open database file" when
 * it cannot create the -wal and -shm files beside a WAL database: say instead what is read-only.
 */
function writeReason(path: string, e: unknown): string {
  const code = sqliteCode(e);
  if (!isMemory(path) && (code?.startsWith('SQLITE_CANTOPEN') || code?.startsWith('SQLITE_READONLY'))) {
    const dir = dirname(path);
    for (const p of existsSync(path) ? [path, dir] : [dir]) {
      try {
        accessSync(p, constants.W_OK);
      } catch (err) {
        const c = (err as NodeJS.ErrnoException).code;
        if (c === 'EROFS') return 'database is read-only: it is on a read-only file system';
        if (c === 'EACCES' || c === 'EPERM') {
          return p === path
            ? 'database is read-only: no permission to write the file'
            : `database is read-only: no permission to write its directory ${dir} (SQLite keeps its -wal and -shm files there)`;
        }
      }
    }
  }
  return reason(e);
}

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

/** Apply missing migrations in one IMMEDIATE transaction, so two processes cannot race. */
function migrate(db: Database): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new Error(`schema version ${version} is newer than this poolwatch supports (${SCHEMA_VERSION})`);
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    // Written even when nothing changed: it is a cheap real write, so a file we may open but
    // not write (read-only file or directory) fails here and not half-way through a capture.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

function checkVersion(db: Database): void {
  const version = userVersion(db);
  if (version === 0) throw new Error('not a poolwatch database (schema version 0)');
  if (version < SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is old; open it once without --readonly to upgrade`);
  }
  if (version > SCHEMA_VERSION) {
    throw new Error(`schema version ${version} is newer than this poolwatch supports (${SCHEMA_VERSION})`);
  }
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** SQLite's extended result code of a thrown value ('SQLITE_FULL', 'SQLITE_READONLY_DBMOVED', ...), if any. */
function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** A one-line reason from any thrown value; SQLite's read-only message gets a plainer wording. */
export function reason(e: unknown): string {
  const code = sqliteCode(e);
  if (code?.startsWith('SQLITE_READONLY')) return 'database is read-only';
  if (code === 'SQLITE_FULL') return 'database or disk is full';
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s+/g, ' ').trim();
}

/** PW_ERR_DB naming the file; `sqlite` keeps SQLite's result code for isTransientDbError. */
export function dbError(path: string, message: string, sqlite?: string): PoolwatchError {
  return new PoolwatchError('PW_ERR_DB', message, sqlite === undefined ? { file: path } : { file: path, sqlite });
}

/** Run a database call; any failure (SQLite, closed connection) becomes PW_ERR_DB. */
export function guard<T>(db: Database, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PoolwatchError) throw e;
    throw dbError(db.name, reason(e), sqliteCode(e));
  }
}

/**
 * A write that may work if tried again: another process held the lock longer than the busy
 * timeout (a big blacklist refresh). Everything else (disk full, read-only file or file system,
 * I/O error, corruption, a closed connection) will not get better by waiting.
 */
export function isTransientDbError(e: unknown): boolean {
  if (!(e instanceof PoolwatchError) || e.code !== 'PW_ERR_DB') return false;
  const code = e.context.sqlite;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
