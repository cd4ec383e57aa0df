/**
 * `index`: brings the search index of one model up to date with folders of images.
 *
 *   walk the folders -> stat every image -> same stamp as when it was indexed: unchanged (nothing read)
 *   -> the rest go through the embedding engine (cache hits cost a hash, misses run the model) -> new rows
 *   -> indexed paths under the folders that are gone (or now unreadable) are removed -> compaction (writer.ts)
 *
 * A run where nothing changed stats the files and reads the index database only: no hashing, no decoding, and the
 * model graph is never loaded (the model is opened lazily, and only the embedding cache's graph fingerprint is
 * read). Progress is committed every `SEGMENT_ROWS` rows or `FLUSH_MS`, so a killed run keeps what it committed;
 * the embeddings themselves are in the embedding cache anyway, so a rerun re-embeds nothing it had computed.
 * A file's stamp is only trusted later if its last change is `racyWindowMs` older than the stat (as in
 * embed/cache.ts); otherwise it is re-checked next run and counted as updated only if its embedding changed.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { usageError, type ZsError } from '../errors.js';
import { imagesInFolder } from '../data/images.js';
import type { Model, LoadOptions } from '../embed/model.js';
import { stampFile, type FileStamp } from '../embed/hash.js';
import { sameStamp } from '../embed/engine-resolve.js';
import { IndexStore, indexDir, type Item } from './store.js';
import { IndexWriter, type Stamp } from './writer.js';
import { SegmentFile } from './segment.js';
import { paddedDim } from './kernel.js';

const FLUSH_MS = 20_000;
const STAT_CHUNK = 512;

export interface IndexOptions {
  /** Catalog name, hub id or model folder (default clip-vit-b32), or an open model (its cacheDir must match). */
  model?: string | Model;
  /** Options for loading `model` by name (cache and lazy are always on). */
  load?: Omit<LoadOptions, 'cache' | 'lazy' | 'cacheDir'>;
  /** zs home holding the embedding cache and the index. */
  cacheDir?: string;
  /** How long to wait for another writer of the index (default 30 s). */
  waitMs?: number;
  /** Minimum age of a file's last change before its stamp is trusted (default 2000 ms). */
  racyWindowMs?: number;
  onProgress?: (p: { done: number; total: number }) => void;
  /** Called with each image that could not be embedded (the run goes on). */
  onFailure?: (f: { path: string; error: ZsError }) => void;
}

export interface IndexResult {
  model: string;
  fingerprint: string;
  /** Images found under the folders. */
  total: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  failed: number;
  /** Images of this model in the whole index after the run. */
  indexed: number;
}

export const DEFAULT_MODEL = 'clip-vit-b32';

/** Opens a model for indexing or querying: lazily (no graph loaded until an image needs it), with the cache. */
export async function openModel(spec: string | Model | undefined, cacheDir: string | undefined, load: IndexOptions['load'] = {}): Promise<{ model: Model; owned: boolean }> {
  if (spec !== undefined && typeof spec !== 'string') return { model: spec, owned: false };
  const { Model: M } = await import('../embed/model.js');
  return { model: await M.load(spec ?? DEFAULT_MODEL, { ...load, cacheDir, cache: true, lazy: true }), owned: true };
}

async function folders(dirs: readonly string[]): Promise<string[]> {
  if (dirs.length === 0) throw usageError('E_NO_INPUT', 'no folders to index', 'name one or more image folders');
  const out: string[] = [];
  for (const d of dirs) {
    const st = await stat(d).catch(() => undefined);
    if (!st?.isDirectory()) throw usageError('E_NOT_FOUND', `${d} is not a folder`, 'name folders of images to index');
    out.push(resolve(d));
  }
  return out;
}

const stampOf = (s: FileStamp): Stamp => ({ size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, ino: s.ino, dev: s.dev });

/** Indexes the images below `dirs` for one model (see the header). */
export async function index(dirs: readonly string[], opts: IndexOptions = {}): Promise<IndexResult> {
  const roots = await folders(dirs);
  const racyNs = BigInt(opts.racyWindowMs ?? 2000) * 1_000_000n;
  const found = [...new Set((await Promise.all(roots.map((r) => imagesInFolder(r)))).flat())].sort();
  const { model, owned } = await openModel(opts.model, opts.cacheDir, opts.load);
  const store = (await IndexStore.open(indexDir(opts.cacheDir), { create: true }))!;
  let unlock: (() => void) | undefined;
  try {
    unlock = await store.lockWriter(opts.waitMs ?? 30_000);
    const fingerprint = await model.fingerprint();
    let m = store.model(fingerprint);
    const old = new Map<string, Item>((m ? store.items(m.id, roots) : []).map((it) => [it.path, it]));
    const r: IndexResult = { model: model.info.id, fingerprint, total: found.length, added: 0, updated: 0, removed: 0, unchanged: 0, failed: 0, indexed: 0 };

    const todo: { path: string; stamp?: FileStamp }[] = [];
    for (let i = 0; i < found.length; i += STAT_CHUNK) {
      const part = found.slice(i, i + STAT_CHUNK);
      const stamps = await Promise.all(part.map((p) => stampFile(p).catch(() => undefined)));
      part.forEach((path, j) => {
        const s = stamps[j];
        const prev = old.get(path)?.stamp;
        if (s && prev && sameFile(prev, s)) r.unchanged++;
        else todo.push({ path, stamp: s });
      });
    }
    const present = new Set(found);
    const gone = [...old.keys()].filter((p) => !present.has(p));
    r.removed = gone.length;
    opts.onProgress?.({ done: r.unchanged, total: found.length });
    if (todo.length === 0 && gone.length === 0) {
      if (m) store.addRoots(m.id, roots);
      r.indexed = m ? store.count(m.id) : 0;
      return r;
    }

    let writer: IndexWriter | undefined;
    const oldRows = new Map<number, SegmentFile>();
    const stale: string[] = [...gone];
    let flushed = Date.now();
    try {
      const chunks = model.embedImageChunks(todo.map((t) => t.path), {
        onProgress: (p) => opts.onProgress?.({ done: r.unchanged + p.done, total: found.length }),
      });
      let it = await chunks.next();
      for (; !it.done; it = await chunks.next()) {
        const { indices, embeddings, failures } = it.value;
        const d = embeddings.dims[1];
        if (indices.length > 0 && !writer) {
          m = store.ensureModel(fingerprint, model.info.id, d);
          writer = new IndexWriter(store, m);
        }
        const now = await Promise.all(indices.map((i) => stampFile(todo[i]!.path).catch(() => undefined)));
        for (const [j, i] of indices.entries()) {
          const { path, stamp } = todo[i]!;
          const vec = embeddings.data.subarray(j * d, (j + 1) * d);
          const steady = stamp && now[j] && sameStamp(stamp, now[j]!) && stamp.seenNs - (stamp.mtimeNs > stamp.ctimeNs ? stamp.mtimeNs : stamp.ctimeNs) >= racyNs;
          const prev = old.get(path);
          if (!prev) r.added++;
          else if (sameVector(store, m!.id, oldRows, prev, vec)) r.unchanged++;
          else r.updated++;
          await writer!.add(path, vec, steady ? stampOf(stamp!) : undefined);
        }
        for (const f of failures) {
          r.failed++;
          const path = todo[f.index]!.path;
          if (old.has(path)) stale.push(path); // its old embedding no longer describes the file
          opts.onFailure?.({ path, error: f.error });
        }
        if (writer && Date.now() - flushed > FLUSH_MS) { await writer.flush(); flushed = Date.now(); }
      }
      if (m) {
        writer ??= new IndexWriter(store, m);
        writer.remove(stale);
        r.removed = stale.length;
        await writer.compact();
        store.addRoots(m.id, roots);
      }
    } finally {
      for (const f of oldRows.values()) f.close();
    }
    r.indexed = m ? store.count(m.id) : 0;
    return r;
  } finally {
    unlock?.();
    store.close();
    if (owned) await model.close();
  }
}

function sameFile(a: Stamp, b: Stamp): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

/** Whether an item's stored float32 row equals `vec` exactly (segment files opened once, kept in `open`). */
function sameVector(store: IndexStore, model: number, open: Map<number, SegmentFile>, item: Item, vec: Float32Array): boolean {
  let file = open.get(item.seg);
  if (!file) {
    const seg = store.segments(model).find((s) => s.id === item.seg);
    if (!seg) return false;
    file = SegmentFile.open(join(store.dir, seg.file), { d: vec.length, dp: paddedDim(vec.length), n: seg.rows });
    open.set(item.seg, file);
  }
  const row = new Float32Array(vec.length);
  file.readF32(item.row, 1, row);
  for (let j = 0; j < vec.length; j++) if (row[j] !== vec[j]) return false;
  return true;
}
