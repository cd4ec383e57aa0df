/**
 * The embedding cache's file format and its guard (used by cache.ts): schema, opening checks, SQLite error mapping.
 *
 * Marking: PRAGMA application_id = 0x7a736563 ('zsec') and user_version = schema version (both in the 100-byte
 * header) plus a meta row format = 'zs-embedding-cache'. A file that is not SQLite, is SQLite but not a zs cache, or
 * has a newer schema is refused with a ZsError and never written to: its header bytes are checked first (no SQLite
 * at all), then a read-only connection looks inside (the header can lag behind the WAL). Only a file that is ours,
 * an empty database or an empty file is opened for writing. (A foreign WAL-mode database with application_id 0 gets
 * the -wal/-shm side files any SQLite reader creates; its main file stays byte-identical.)
 * Setting up a new file is one BEGIN IMMEDIATE transaction that re-checks first, so processes racing to create the
 * same cache serialize and only one creates the tables.
 *
 * SQLite result codes (better-sqlite3's SqliteError.code) map to ZsErrors naming the file and the fix:
 *   SQLITE_FULL          -> E_CACHE_FULL  disk full (or the maxBytes cap) while writing; the transaction rolled back
 *   SQLITE_IOERR_*       -> E_CACHE_IO    the disk failed a read or write
 *   SQLITE_BUSY/LOCKED   -> E_CACHE_BUSY  another process held the write lock past busy_timeout
 *   SQLITE_NOTADB        -> E_CACHE_FOREIGN  not a SQLite file
 *   SQLITE_CORRUPT       -> E_CACHE_DAMAGED
 *   SQLITE_CANTOPEN/READONLY/PERM/AUTH -> E_CACHE_OPEN
 */
import { openSync, readSync, closeSync } from 'node:fs';
import type { Database as Db } from 'better-sqlite3';
import { ZsError, wrapError } from '../errors.js';

export const APPLICATION_ID = 0x7a736563; // 'zsec'
export const SCHEMA_VERSION = 1;
const FORMAT = 'zs-embedding-cache';
const PAGE_SIZE = 16384;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

type Verdict = 'empty' | 'ours';

/** Reads what a connection holds and refuses anything that is not an empty database or a zs cache of our schema. */
function verdict(db: Db, file: string): Verdict {
  // one read transaction, so all three come from one snapshot: separately, a process creating the cache meanwhile
  // could be seen half-way (its tables, but not yet its marker)
  return db.inTransaction ? look(db, file) : db.transaction(() => look(db, file))();
}

function look(db: Db, file: string): Verdict {
  const objects = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (appId === 0 && version === 0 && objects === 0) return 'empty';
  if (appId !== APPLICATION_ID) throw foreign(file);
  if (version > SCHEMA_VERSION) throw newer(file, version, SCHEMA_VERSION);
  const hasMeta = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get() as number;
  const format = hasMeta ? (db.prepare("SELECT value FROM meta WHERE key = 'format'").pluck().get() as string | undefined) : undefined;
  if (version < SCHEMA_VERSION || format !== FORMAT) throw damaged(file, 'its zs marker is incomplete');
  return 'ours';
}

/** Refuses an existing file that is not ours without writing to it: header bytes first, then a read-only look. */
export function inspectExisting(Database: typeof import('better-sqlite3'), file: string, timeout: number): void {
  let header: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      header = Buffer.alloc(100);
      header = header.subarray(0, readSync(fd, header, 0, 100, 0));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw wrapError(e, 'E_CACHE_OPEN', `cannot read the embedding cache ${file}`, 'check its permissions, or use --cache-dir elsewhere or --no-cache');
  }
  if (header.length === 0) return; // an empty file is an empty database: nothing to lose
  if (header.length < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) throw notSqlite(file);
  const appId = header.readInt32BE(68);
  if (appId !== 0 && appId !== APPLICATION_ID) throw foreign(file);
  let ro: Db | undefined;
  try {
    ro = new Database(file, { readonly: true, fileMustExist: true, timeout });
    verdict(ro, file);
  } catch (e) {
    throw cacheError(e, file, 'open');
  } finally {
    ro?.close();
  }
}

const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE models (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                       dim INTEGER NOT NULL, created INTEGER NOT NULL);
  CREATE TABLE embeddings (model INTEGER NOT NULL, hash TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, hash));
  CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
                      ino INTEGER NOT NULL, dev INTEGER NOT NULL, hash TEXT NOT NULL) WITHOUT ROWID;
  PRAGMA application_id = ${APPLICATION_ID};
  PRAGMA user_version = ${SCHEMA_VERSION};`;

/** Puts a connection in WAL mode and creates the schema when the database is empty (racing processes serialize). */
export function setUp(db: Db, file: string): void {
  if (verdict(db, file) === 'empty') {
    // Both only take effect before the first table exists. 16 KiB pages hold 7 rows of a 512-d vector (2 KiB):
    // file size 1.19x the raw floats for d=512, 1.10x for 768, vs 2.05x with the default 4 KiB pages (measured).
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('auto_vacuum = INCREMENTAL');
  }
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    throw new ZsError('E_CACHE_OPEN', `cannot use WAL mode on the embedding cache ${file} (got ${String(mode)})`, {
      hint: 'put the cache on a local disk with --cache-dir, or use --no-cache',
    });
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 256'); // pages: ~4 MiB of WAL before folding it into the database
  db.pragma('journal_size_limit = 16777216'); // truncate a WAL left larger than 16 MiB after a checkpoint
  db.transaction(() => {
    if (verdict(db, file) === 'ours') return; // another process may have set it up meanwhile
    db.exec(SCHEMA);
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    put.run('format', FORMAT);
    put.run('schema', String(SCHEMA_VERSION));
    put.run('created', new Date().toISOString());
  }).immediate();
}

const ELSEWHERE = 'use --cache-dir to put the cache elsewhere, or --no-cache';

export function notSqlite(file: string): ZsError {
  return new ZsError('E_CACHE_FOREIGN', `${file} is not a zs embedding cache (not a SQLite database); it was left untouched`, {
    hint: `move or delete that file, or ${ELSEWHERE}`,
  });
}

export function foreign(file: string): ZsError {
  return new ZsError('E_CACHE_FOREIGN', `${file} is a SQLite database but not a zs embedding cache; it was left untouched`, {
    hint: `move that file away, or ${ELSEWHERE}`,
  });
}

export function newer(file: string, version: number, ours: number): ZsError {
  return new ZsError('E_CACHE_NEWER', `the embedding cache ${file} has schema ${version}, newer than this zs understands (${ours}); it was left untouched`, {
    hint: `upgrade zs, or ${ELSEWHERE}`,
  });
}

export function damaged(file: string, why: string): ZsError {
  return new ZsError('E_CACHE_DAMAGED', `the embedding cache ${file} is damaged: ${why}`, {
    hint: `delete it (it only holds recomputable embeddings), or ${ELSEWHERE}`,
  });
}

/** Maps anything thrown while using the cache to a ZsError (ZsErrors pass through unchanged). */
export function cacheError(e: unknown, file: string, during: 'open' | 'read' | 'write', maxBytes?: number): ZsError {
  if (e instanceof ZsError) return e;
  const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : '';
  const reason = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_FULL') {
    const cap = maxBytes === undefined ? '' : ` (or its ${maxBytes}-byte limit was reached)`;
    return new ZsError('E_CACHE_FULL', `disk full while writing the embedding cache ${file}${cap}; the last batch was not stored`, {
      hint: 'free space or use --no-cache', cause: e,
    });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new ZsError('E_CACHE_IO', `I/O error (${code}) during ${during} of the embedding cache ${file}: ${reason}`, {
      hint: 'check that the disk has room and works, or use --no-cache', cause: e,
    });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new ZsError('E_CACHE_BUSY', `the embedding cache ${file} stayed locked by another process`, {
      hint: `wait for the other zs run to finish, or ${ELSEWHERE}`, cause: e,
    });
  }
  if (code === 'SQLITE_NOTADB') return notSqlite(file);
  if (code.startsWith('SQLITE_CORRUPT')) return damaged(file, reason);
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH)/.test(code)) {
    return new ZsError('E_CACHE_OPEN', `cannot ${during === 'open' ? 'open' : 'write'} the embedding cache ${file}: ${reason}`, {
      hint: `check the file and folder permissions, or ${ELSEWHERE}`, cause: e,
    });
  }
  return wrapError(e, 'E_CACHE', `embedding cache ${file} failed during ${during}`, ELSEWHERE);
}
