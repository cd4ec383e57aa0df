/**
 * The search index's bookkeeping: `<zs home>/index/search.sqlite` (better-sqlite3, WAL) beside the segment files
 * (segment.ts) it lists. The embedding cache (embed/cache.ts) stays the source of the vectors; this database only
 * says which files are indexed under which folders for which model, and where each one's row is.
 *
 *   models(id, fingerprint UNIQUE, name, dim)
 *   roots(model, path)                       folders given to `zs index`
 *   segments(id, model, rows, file)          live segment files, every row of which is an item
 *   items(model, path, seg, row, size, mtime_ns, ctime_ns, ino, dev)   PK (model, path); stamp NULL: re-check next run
 *
 * Crash safety: segment files are written completely (fsync, rename) before the transaction that lists them
 * commits, and a replaced segment's file is deleted only after the commit that unlists it, so a kill -9 at any
 * point leaves the last committed state intact plus, at worst, an unlisted file, which the next writer deletes.
 * Writers: one at a time, by an exclusive SQLite lock on `writer.lock` held for the whole run (the OS drops it
 * when the process dies); a second writer waits up to `waitMs`, then fails with E_INDEX_BUSY.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { Database as Db } from 'better-sqlite3';
import { ZsError, wrapError } from '../errors.js';
import { zsHome } from '../util/home.js';
import type { FileStamp } from '../embed/hash.js';

const APPLICATION_ID = 0x7a736978; // 'zsix'
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, name TEXT NOT NULL, dim INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS roots (model INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (model, path)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, model INTEGER NOT NULL, rows INTEGER NOT NULL, file TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS items (model INTEGER NOT NULL, path TEXT NOT NULL, seg INTEGER NOT NULL, row INTEGER NOT NULL,
    size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, ino INTEGER, dev INTEGER, PRIMARY KEY (model, path)) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS items_by_row ON items (seg, row);`;

export interface IndexModel { id: number; fingerprint: string; name: string; dim: number; items: number }
export interface Segment { id: number; rows: number; file: string }
export interface Item { path: string; seg: number; row: number; stamp?: Omit<FileStamp, 'seenNs' | 'path'> }
export interface NewItem { path: string; row: number; stamp?: Omit<FileStamp, 'seenNs' | 'path'> }

/** Where the index lives: `<zs home>/index`. */
export function indexDir(cacheDir?: string): string {
  return join(zsHome(cacheDir), 'index');
}

const HINT = 'run zs index again (it rebuilds what it needs), or delete the index folder to start over';

export function indexError(e: unknown, file: string, waitedMs?: number): ZsError {
  if (e instanceof ZsError) return e;
  const code = String((e as { code?: unknown })?.code ?? '');
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    const waited = waitedMs === undefined ? '' : ` (waited ${(waitedMs / 1000).toFixed(1)} s)`;
    return new ZsError('E_INDEX_BUSY', `the search index ${file} is locked by another zs index run${waited}`, {
      hint: 'wait for the other run to finish, or pass --wait SECONDS to wait longer', cause: e,
    });
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new ZsError('E_INDEX_DAMAGED', `the search index ${file} is damaged`, { hint: `delete the folder ${file.slice(0, file.lastIndexOf(sep))} and run zs index again`, cause: e });
  }
  return wrapError(e, 'E_INDEX', `the search index ${file} failed`, HINT);
}

/** Path range of everything under folder `root` (the folder itself included): [lo, hi). */
export function underRange(root: string): [string, string] {
  const base = root.endsWith(sep) ? root.slice(0, -1) : root;
  return [`${base}${sep}`, `${base}${String.fromCharCode(sep.charCodeAt(0) + 1)}`];
}

const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export class IndexStore {
  private constructor(readonly dir: string, readonly file: string, private readonly db: Db) {}

  /** Opens the index; `create` makes it when missing (else a missing index returns undefined). */
  static async open(dir: string, opts: { create: boolean; busyTimeoutMs?: number }): Promise<IndexStore | undefined> {
    const file = join(dir, 'search.sqlite');
    if (!opts.create && !existsSync(file)) return undefined;
    const Database = (await import('better-sqlite3')).default;
    let db: Db | undefined;
    try {
      if (opts.create) mkdirSync(dir, { recursive: true });
      db = new Database(file, { timeout: opts.busyTimeoutMs ?? 30_000 });
      const appId = db.pragma('application_id', { simple: true }) as number;
      const objects = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
      if (appId !== APPLICATION_ID && !(appId === 0 && objects === 0)) {
        throw new ZsError('E_INDEX_FOREIGN', `${file} is not a zs search index; it was left untouched`, { hint: 'move that file away, or use --cache-dir elsewhere' });
      }
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      if (appId === 0) {
        db.transaction(() => { db!.exec(SCHEMA); db!.pragma(`application_id = ${APPLICATION_ID}`); }).immediate();
      }
      return new IndexStore(dir, file, db);
    } catch (e) {
      db?.close();
      throw indexError(e, file);
    }
  }

  private tx<T>(write: boolean, fn: () => T): T {
    try {
      const t = this.db.transaction(fn);
      return write ? t.immediate() : t.deferred();
    } catch (e) {
      throw indexError(e, this.file);
    }
  }

  /**
   * Takes the writer lock for this process (waits up to `waitMs`) and deletes segment files no committed state
   * lists (left by a killed run). Returns the release function.
   */
  async lockWriter(waitMs: number): Promise<() => void> {
    const Database = (await import('better-sqlite3')).default;
    const lockFile = join(this.dir, 'writer.lock');
    const lock = new Database(lockFile, { timeout: waitMs });
    try {
      lock.exec('BEGIN EXCLUSIVE');
    } catch (e) {
      lock.close();
      throw indexError(e, this.file, waitMs);
    }
    const listed = new Set(this.tx(false, () => this.db.prepare('SELECT file FROM segments').pluck().all() as string[]));
    for (const f of readdirSync(this.dir)) {
      if ((f.endsWith('.seg') || f.endsWith('.tmp')) && !listed.has(f)) rmSync(join(this.dir, f), { force: true });
    }
    return () => { try { lock.exec('ROLLBACK'); } finally { lock.close(); } };
  }

  models(): IndexModel[] {
    return this.tx(false, () => this.db.prepare(`SELECT id, fingerprint, name, dim,
      (SELECT count(*) FROM items i WHERE i.model = m.id) AS items FROM models m ORDER BY name`).all() as IndexModel[]);
  }

  /** A model by fingerprint; `items` is 1 when it has any (counting a million rows costs ~0.3 s), else 0. */
  model(fingerprint: string): IndexModel | undefined {
    return this.tx(false, () => this.db.prepare(`SELECT id, fingerprint, name, dim,
      EXISTS (SELECT 1 FROM items i WHERE i.model = m.id) AS items FROM models m WHERE fingerprint = ?`).get(fingerprint) as IndexModel | undefined);
  }

  /** Items of a model. */
  count(model: number): number {
    return this.tx(false, () => this.db.prepare('SELECT count(*) FROM items WHERE model = ?').pluck().get(model) as number);
  }

  ensureModel(fingerprint: string, name: string, dim: number): IndexModel {
    return this.tx(true, () => {
      this.db.prepare('INSERT INTO models (fingerprint, name, dim) VALUES (?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET name = excluded.name')
        .run(fingerprint, name, dim);
      const m = this.db.prepare('SELECT id, fingerprint, name, dim, 0 AS items FROM models WHERE fingerprint = ?').get(fingerprint) as IndexModel;
      if (m.dim !== dim) {
        throw new ZsError('E_INDEX_DIM', `model ${name} has dimension ${m.dim} in the index ${this.file}, not ${dim}`, { hint: HINT });
      }
      return m;
    });
  }

  addRoots(model: number, roots: readonly string[]): void {
    this.tx(true, () => { for (const r of roots) this.db.prepare('INSERT OR IGNORE INTO roots (model, path) VALUES (?, ?)').run(model, r); });
  }

  roots(model: number): string[] {
    return this.tx(false, () => this.db.prepare('SELECT path FROM roots WHERE model = ? ORDER BY path').pluck().all(model) as string[]);
  }

  /** Items of a model under the given folders (all items without folders), with their stamps. */
  items(model: number, under?: readonly string[]): Item[] {
    const st = this.db.prepare(`SELECT path, seg, row, size, mtime_ns, ctime_ns, ino, dev FROM items
      WHERE model = ? AND path >= ? AND path < ?`).safeIntegers(true);
    const ranges = under ? under.map(underRange) : [['', '\uffff']];
    type Row = { path: string; seg: bigint; row: bigint; size: bigint | null; mtime_ns: bigint; ctime_ns: bigint; ino: bigint; dev: bigint };
    return this.tx(false, () => ranges.flatMap(([lo, hi]) => (st.all(model, lo, hi) as Row[]).map((r) => ({
      path: r.path, seg: Number(r.seg), row: Number(r.row),
      stamp: r.size === null ? undefined : { size: Number(r.size), mtimeNs: r.mtime_ns, ctimeNs: r.ctime_ns, ino: r.ino, dev: r.dev },
    }))));
  }

  segments(model: number): Segment[] {
    return this.tx(false, () => this.db.prepare('SELECT id, rows, file FROM segments WHERE model = ? ORDER BY id').all(model) as Segment[]);
  }

  /** Rows still referenced by items, per segment of the model. */
  liveRows(model: number): Map<number, number> {
    const rows = this.tx(false, () => this.db.prepare('SELECT seg, count(*) AS n FROM items WHERE model = ? GROUP BY seg').all(model) as { seg: number; n: number }[]);
    return new Map(rows.map((r) => [r.seg, r.n]));
  }

  /** Paths of (segment, row) pairs; undefined where no item holds the row. */
  pathsAt(pairs: readonly { seg: number; row: number }[]): (string | undefined)[] {
    const st = this.db.prepare('SELECT path FROM items WHERE seg = ? AND row = ?').pluck();
    return this.tx(false, () => pairs.map((p) => st.get(p.seg, p.row) as string | undefined));
  }

  /** (segment, row) of every item of the model under `dir`. */
  rowsUnder(model: number, dir: string): { seg: number; row: number }[] {
    const [lo, hi] = underRange(dir);
    return this.tx(false, () => this.db.prepare('SELECT seg, row FROM items WHERE model = ? AND path >= ? AND path < ?').all(model, lo, hi) as { seg: number; row: number }[]);
  }

  /**
   * One commit: lists the new segment `file` (already written) with its items, drops `removed` paths and any
   * `dropSegments` (whose rows were copied into the new one; their files are deleted after the commit).
   */
  commit(model: number, seg: { file: string; rows: number } | undefined, items: readonly NewItem[], removed: readonly string[], dropSegments: readonly Segment[] = []): void {
    this.tx(true, () => {
      const del = this.db.prepare('DELETE FROM items WHERE model = ? AND path = ?');
      for (const p of removed) del.run(model, p);
      for (const s of dropSegments) {
        this.db.prepare('DELETE FROM segments WHERE id = ?').run(s.id);
      }
      if (!seg) return;
      const id = Number(this.db.prepare('INSERT INTO segments (model, rows, file) VALUES (?, ?, ?)').run(model, seg.rows, seg.file).lastInsertRowid);
      const put = this.db.prepare(`INSERT OR REPLACE INTO items (model, path, seg, row, size, mtime_ns, ctime_ns, ino, dev)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const it of items) {
        const s = it.stamp;
        put.run(model, it.path, id, it.row, s?.size ?? null, s?.mtimeNs ?? null, s?.ctimeNs ?? null, s ? i64(s.ino) : null, s ? i64(s.dev) : null);
      }
    });
    for (const s of dropSegments) rmSync(join(this.dir, s.file), { force: true });
  }

  /** Drops segments no item references any more (their files after the commit). */
  dropEmpty(model: number): void {
    const live = this.liveRows(model);
    const empty = this.segments(model).filter((s) => !live.has(s.id));
    if (empty.length > 0) this.commit(model, undefined, [], [], empty);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
