/**
 * The persistent embedding cache: one SQLite file (better-sqlite3, loaded lazily) at `<zs home>/embeddings.sqlite`.
 *
 * Keys: model fingerprint (hash.ts: graph bytes + preprocessing config) x content hash of the image bytes.
 * Values: float32 embeddings stored as little-endian blobs of exactly dim*4 bytes, copied out into fresh
 * Float32Arrays (no views into driver buffers, so alignment and byte offsets never matter).
 *
 * Tables (schema 1):
 *   meta(key, value)                         format marker, schema version, creation time
 *   models(id, fingerprint UNIQUE, name, dim, created)
 *   embeddings(model -> models.id, hash, vector)   PRIMARY KEY (model, hash)
 *   files(path PK, size, mtime_ns, ctime_ns, ino, dev, hash)   the stat shortcut: path + stamp -> content hash
 * File marking, the refusal of foreign / newer files and SQLite error mapping live in cache-format.ts.
 *
 * Concurrency and crashes: WAL mode (readers never block, one writer at a time), busy_timeout so a second process
 * waits for the lock instead of failing, every write is one BEGIN IMMEDIATE transaction (no deadlocking read->write
 * upgrades). synchronous=NORMAL is safe with WAL: a commit is written to the WAL (in the OS page cache) before it
 * returns, so a kill -9 loses nothing committed; only a power loss or OS crash can lose the last commits, and even
 * then the WAL's checksummed frames keep the database consistent (older state). For a cache that is the right trade.
 *
 * Stat shortcut (lookupFiles/rememberFiles): a file's content hash is reused when path, size, mtime (ns), ctime
 * (ns), inode and device all match the remembered stamp. Why that stays correct:
 *  - writing a file changes mtime and ctime; tools that restore mtime (cp -p, rsync -t, touch -r) still change
 *    ctime, which user space cannot set; replacing a file by rename changes the inode.
 *  - "racily clean" stamps: a write in the same timestamp tick as our stat would leave mtime/ctime unchanged, so a
 *    stamp is only remembered when the file's last change (max of mtime, ctime) is at least `racyWindowMs`
 *    (default 2 s, covers FAT's 2 s and HFS+'s 1 s granularity) older than the moment before the stat.
 *    Such files are simply re-hashed on the next run.
 *  - false misses (rehash, harmless): chmod/chown/link change ctime; copying or restoring the folder, other machines
 *    or filesystems without stable inodes change ino/dev.
 *  - limits: clock skew over 2 s on a network filesystem, or software writing through mmap without updating mtime,
 *    can defeat it; rows for deleted files stay until `clear()`.
 * Model graphs use the same table (hash.ts fingerprintModel), so a 600 MB graph is hashed once, not every run.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import { ZsError, wrapError } from '../errors.js';
import { zsHome } from '../util/home.js';
import { nonEmptyString, int } from '../validate.js';
import type { FileHashMemo, FileStamp, StampedHash } from './hash.js';
import { cacheError, damaged, inspectExisting, setUp } from './cache-format.js';

export { APPLICATION_ID, SCHEMA_VERSION } from './cache-format.js';

export interface CacheOptions {
  /** How long to wait for another process's write lock (default 30 s). */
  busyTimeoutMs?: number;
  /** Size cap of the database; writing past it fails like a full disk (E_CACHE_FULL). */
  maxBytes?: number;
  /** Minimum age of a file's last change before its stamp is trusted (default 2000 ms). */
  racyWindowMs?: number;
}
export interface CacheModel { fingerprint: string; name: string }
export interface CacheEntry { key: string; embedding: Float32Array }
export interface CacheModelInfo { fingerprint: string; name: string; dim: number; entries: number; created: number }
export interface CacheInfo { file: string; bytes: number; files: number; models: CacheModelInfo[] }
export interface ClearResult { removed: number; models: { fingerprint: string; name: string }[] }

/** Where the cache lives: `<zs home>/embeddings.sqlite` (`--cache-dir` > ZS_HOME > platform cache folder). */
export function cacheFile(cacheDir?: string): string {
  return join(zsHome(cacheDir), 'embeddings.sqlite');
}

const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export class EmbeddingCache implements FileHashMemo {
  readonly file: string;
  private readonly db: Db;
  private readonly racyNs: bigint;
  private readonly limit: number | undefined;
  private readonly selModel: Statement;
  private readonly upModel: Statement;
  private readonly selVec: Statement;
  private readonly putVec: Statement;
  private readonly selFile: Statement;
  private readonly putFile: Statement;

  /** Opens (creating folder and file when missing) or refuses the cache at `file`. */
  static async open(file: string, opts: CacheOptions = {}): Promise<EmbeddingCache> {
    const path = resolve(nonEmptyString('cache file', file));
    const timeout = int('busyTimeoutMs', opts.busyTimeoutMs ?? 30_000, 0);
    const checked: CacheOptions = {
      racyWindowMs: int('racyWindowMs', opts.racyWindowMs ?? 2000, 0),
      maxBytes: opts.maxBytes === undefined ? undefined : int('maxBytes', opts.maxBytes, 1),
    };
    if (endianness() !== 'LE') {
      throw new ZsError('E_CACHE_OPEN', 'the embedding cache needs a little-endian CPU', { hint: 'use --no-cache' });
    }
    let Database: typeof import('better-sqlite3');
    try {
      Database = (await import('better-sqlite3')).default;
    } catch (e) {
      throw wrapError(e, 'E_CACHE_OPEN', 'cannot load better-sqlite3', 'reinstall zs (npm rebuild better-sqlite3), or use --no-cache');
    }
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      throw wrapError(e, 'E_CACHE_OPEN', `cannot create the cache folder ${dirname(path)}`, 'use --cache-dir with a writable folder, or --no-cache');
    }
    inspectExisting(Database, path, timeout);
    let db: Db | undefined;
    try {
      db = new Database(path, { timeout });
      setUp(db, path);
      return new EmbeddingCache(path, db, checked);
    } catch (e) {
      db?.close();
      throw cacheError(e, path, 'open');
    }
  }

  private constructor(file: string, db: Db, opts: CacheOptions) {
    this.file = file;
    this.db = db;
    this.racyNs = BigInt(opts.racyWindowMs ?? 2000) * 1_000_000n;
    if (opts.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / pageSize))}`);
      this.limit = opts.maxBytes;
    }
    this.selModel = db.prepare('SELECT id, dim FROM models WHERE fingerprint = ?');
    this.upModel = db.prepare(`INSERT INTO models (fingerprint, name, dim, created) VALUES (?, ?, ?, ?)
      ON CONFLICT (fingerprint) DO UPDATE SET name = excluded.name WHERE name <> excluded.name`);
    this.selVec = db.prepare('SELECT vector FROM embeddings WHERE model = ? AND hash = ?').pluck();
    this.putVec = db.prepare('INSERT OR REPLACE INTO embeddings (model, hash, vector) VALUES (?, ?, ?)');
    this.selFile = db.prepare(`SELECT hash FROM files
      WHERE path = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ? AND ino = ? AND dev = ?`).pluck();
    this.putFile = db.prepare('INSERT OR REPLACE INTO files (path, size, mtime_ns, ctime_ns, ino, dev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  private run<T>(kind: 'read' | 'write', fn: () => T): T {
    if (!this.db.open) throw new ZsError('E_CACHE_CLOSED', `the embedding cache ${this.file} is closed`, { hint: 'open it again' });
    try {
      const tx = this.db.transaction(fn);
      return kind === 'write' ? tx.immediate() : tx.deferred();
    } catch (e) {
      throw cacheError(e, this.file, kind, this.limit);
    }
  }

  /** Embeddings for `keys` under one model, in order; undefined where missing. */
  getMany(fingerprint: string, keys: readonly string[]): (Float32Array | undefined)[] {
    nonEmptyString('fingerprint', fingerprint);
    return this.run('read', () => {
      const model = this.selModel.get(fingerprint) as { id: number; dim: number } | undefined;
      const out: (Float32Array | undefined)[] = new Array(keys.length).fill(undefined);
      if (!model) return out;
      const bytes = model.dim * 4;
      for (let i = 0; i < keys.length; i++) {
        const blob = this.selVec.get(model.id, keys[i]) as Buffer | undefined;
        if (blob === undefined) continue;
        if (blob.byteLength !== bytes) throw damaged(this.file, `an entry holds ${blob.byteLength} bytes, expected ${bytes}`);
        const vec = new Float32Array(model.dim); // [dim], fresh and aligned
        new Uint8Array(vec.buffer).set(blob);
        out[i] = vec;
      }
      return out;
    });
  }

  /** Stores embeddings (all of one length) for a model in one transaction; registers the model on first use. */
  putMany(model: CacheModel, entries: readonly CacheEntry[]): void {
    const fingerprint = nonEmptyString('fingerprint', model.fingerprint);
    const name = nonEmptyString('model name', model.name);
    if (entries.length === 0) return;
    const dim = entries[0]!.embedding.length;
    for (const [i, e] of entries.entries()) {
      nonEmptyString(`key of entry ${i + 1}`, e.key);
      if (!(e.embedding instanceof Float32Array) || e.embedding.length !== dim || dim === 0) {
        throw new ZsError('E_INVALID_ARG', `invalid embedding of entry ${i + 1}: expected a Float32Array of length ${dim}`, { kind: 'usage' });
      }
    }
    this.run('write', () => {
      this.upModel.run(fingerprint, name, dim, Date.now());
      const row = this.selModel.get(fingerprint) as { id: number; dim: number };
      if (row.dim !== dim) {
        throw new ZsError('E_CACHE_DIM', `model ${name} (${fingerprint.slice(0, 12)}) has dimension ${row.dim} in ${this.file}, not ${dim}`, {
          hint: 'the model fingerprint must change with the model; run zs cache clear --model to drop the old entries',
        });
      }
      for (const e of entries) {
        const v = e.embedding;
        this.putVec.run(row.id, e.key, Buffer.from(v.buffer, v.byteOffset, v.byteLength)); // SQLite copies on bind
      }
    });
  }

  /** Remembered content hashes for unchanged files (see the header for when a stamp matches). */
  lookupFiles(stamps: readonly FileStamp[]): (string | undefined)[] {
    return this.run('read', () =>
      stamps.map((s) => this.selFile.get(s.path, s.size, s.mtimeNs, s.ctimeNs, i64(s.ino), i64(s.dev)) as string | undefined));
  }

  /** Remembers hashes whose stamps are old enough to trust; returns how many were stored. */
  rememberFiles(entries: readonly StampedHash[]): number {
    const safe = entries.filter((e) => e.seenNs - (e.mtimeNs > e.ctimeNs ? e.mtimeNs : e.ctimeNs) >= this.racyNs);
    if (safe.length === 0) return 0;
    this.run('write', () => {
      for (const e of safe) this.putFile.run(e.path, e.size, e.mtimeNs, e.ctimeNs, i64(e.ino), i64(e.dev), e.hash);
    });
    return safe.length;
  }

  /** Size on disk (database + WAL), remembered files, and entries per model. */
  info(): CacheInfo {
    const { models, files } = this.run('read', () => ({
      models: this.db.prepare(`SELECT fingerprint, name, dim, created,
          (SELECT count(*) FROM embeddings e WHERE e.model = m.id) AS entries FROM models m ORDER BY name, fingerprint`)
        .all() as CacheModelInfo[],
      files: this.db.prepare('SELECT count(*) FROM files').pluck().get() as number,
    }));
    const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
    return { file: this.file, bytes: size(this.file) + size(`${this.file}-wal`), files, models };
  }

  /**
   * Removes everything (no selector), or one model's entries: `selector` is a stored model name (all models of that
   * name) or a unique fingerprint prefix (>= 4 hex digits). Then returns the freed pages to the filesystem.
   */
  clear(selector?: string): ClearResult {
    const result = this.run('write', (): ClearResult => {
      const all = this.db.prepare('SELECT id, fingerprint, name FROM models ORDER BY name, fingerprint')
        .all() as { id: number; fingerprint: string; name: string }[];
      if (selector === undefined) {
        const removed = this.db.prepare('SELECT count(*) FROM embeddings').pluck().get() as number;
        this.db.exec('DELETE FROM embeddings; DELETE FROM models; DELETE FROM files;');
        return { removed, models: all.map(({ fingerprint, name }) => ({ fingerprint, name })) };
      }
      const chosen = this.select(all, nonEmptyString('model', selector));
      let removed = 0;
      for (const m of chosen) {
        removed += this.db.prepare('DELETE FROM embeddings WHERE model = ?').run(m.id).changes;
        this.db.prepare('DELETE FROM models WHERE id = ?').run(m.id);
      }
      return { removed, models: chosen.map(({ fingerprint, name }) => ({ fingerprint, name })) };
    });
    try {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (e) {
      throw cacheError(e, this.file, 'write', this.limit);
    }
    return result;
  }

  private select<M extends { fingerprint: string; name: string }>(all: M[], selector: string): M[] {
    const byName = all.filter((m) => m.name === selector);
    if (byName.length > 0) return byName;
    const prefix = selector.toLowerCase();
    const byPrint = /^[0-9a-f]{4,}$/.test(prefix) ? all.filter((m) => m.fingerprint.startsWith(prefix)) : [];
    if (byPrint.length === 1) return byPrint;
    if (byPrint.length > 1) {
      throw new ZsError('E_CACHE_MODEL', `model ${JSON.stringify(selector)} matches ${byPrint.length} fingerprints in ${this.file}`, {
        kind: 'usage', hint: 'give more digits of the fingerprint (see zs cache info)',
      });
    }
    throw new ZsError('E_CACHE_MODEL', `no model named ${JSON.stringify(selector)} in the embedding cache ${this.file}`, {
      kind: 'usage', hint: 'use a name or fingerprint prefix (4+ hex digits) listed by zs cache info',
    });
  }

  /** Closes the connection (idempotent). The last process to close checkpoints and removes the WAL. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
