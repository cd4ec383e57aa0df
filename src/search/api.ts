/**
 * The search API over the index (store.ts + vectors.ts): `SearchIndex` keeps one model's vectors open for many
 * queries; `search` and `findDuplicates` open, answer and close. Queries are a text (embedded by the model's text
 * tower), an image file (embedded through the cache) or a vector. Scores are cosine similarities (all vectors are
 * L2-normalized), exact: the same top k a brute-force float64 scan of the float32 embeddings gives.
 */
import { resolve } from 'node:path';
import { ZsError, usageError } from '../errors.js';
import { int, nonEmptyString } from '../validate.js';
import type { Model } from '../embed/model.js';
import { IndexStore, indexDir, type IndexModel } from './store.js';
import { VectorSet } from './vectors.js';
import { duplicateGroups } from './dupes.js';
import { dot64 } from './quantize.js';
import { openModel, type IndexOptions } from './indexer.js';

export interface SearchHit { path: string; score: number }
/** A group of near-duplicates: paths sorted, and each one's cosine similarity to the first. */
export interface DuplicateGroup { paths: string[]; scores: number[] }
export type Query = string | { image: string } | Float32Array;

export interface OpenOptions {
  /** Model (name, hub id, folder or an open Model; default clip-vit-b32). Not needed with `fingerprint`. */
  model?: string | Model;
  load?: IndexOptions['load'];
  cacheDir?: string;
  /** Open the vectors of this model fingerprint directly (vector queries only). */
  fingerprint?: string;
  /**
   * Load all int8 rows into memory at open (n * 512 bytes for 512-d) for fast repeated queries; without it each
   * query streams them from the index files (a one-shot query opens faster and keeps memory flat). Default false.
   */
  resident?: boolean;
}

/**
 * The default duplicate threshold (cosine). Chosen from the measurement in docs/benchmarks.md ("Dupes threshold"):
 * re-encoded, resized and slightly cropped copies vs distinct images.
 */
export const DEFAULT_DUPE_THRESHOLD = 0.95;

function noIndex(dir: string, name: string): ZsError {
  return new ZsError('E_INDEX_EMPTY', `no images are indexed for model ${name} (index: ${dir})`, {
    hint: `run zs index DIR --model ${name} first`,
  });
}

/**
 * Opens the model's current segments. A concurrent `zs index` may replace a segment between reading the list and
 * opening its file (an open file stays readable); then the list is read again.
 */
function openSet(store: IndexStore, m: IndexModel, resident: boolean): VectorSet {
  for (let attempt = 1; ; attempt++) {
    try {
      return VectorSet.open(store.dir, store.segments(m.id), m.dim, { resident });
    } catch (e) {
      if (!(e instanceof ZsError && e.code === 'E_INDEX_DAMAGED') || attempt === 3) throw e;
    }
  }
}

export class SearchIndex {
  private constructor(
    private readonly store: IndexStore, private readonly set: VectorSet, readonly indexModel: IndexModel,
    private readonly model: Model | undefined, private readonly ownsModel: boolean,
  ) {}

  /** Opens a model's vectors (see OpenOptions); fails with a clear error when nothing is indexed for it. */
  static async open(opts: OpenOptions = {}): Promise<SearchIndex> {
    const dir = indexDir(opts.cacheDir);
    let model: Model | undefined;
    let owned = false;
    let fingerprint = opts.fingerprint;
    let name = fingerprint?.slice(0, 12) ?? '';
    if (fingerprint === undefined) {
      ({ model, owned } = await openModel(opts.model, opts.cacheDir, opts.load));
      fingerprint = await model.fingerprint();
      name = model.info.id;
    }
    let store: IndexStore | undefined;
    try {
      store = await IndexStore.open(dir, { create: false });
      if (!store) throw noIndex(dir, name);
      const m = store.model(fingerprint);
      if (!m || m.items === 0) {
        const others = store.models().filter((x) => x.items > 0);
        if (others.length === 0) throw noIndex(dir, name);
        const list = others.map((x) => `${x.name} (${x.items} images)`).join(', ');
        throw new ZsError('E_INDEX_MODEL', `the index holds images embedded by ${list}, none by ${name} (fingerprint ${fingerprint.slice(0, 12)})`, {
          kind: 'usage', hint: `pass --model ${others[0]!.name}, or run zs index DIR --model ${name}`,
        });
      }
      const set = openSet(store, m, opts.resident ?? false);
      return new SearchIndex(store, set, m, model, owned);
    } catch (e) {
      store?.close();
      if (owned) await model?.close();
      throw e;
    }
  }

  /** Number of indexed images. */
  get size(): number { return this.set.n; }

  private async vector(query: Query): Promise<Float32Array> {
    if (query instanceof Float32Array) {
      if (query.length !== this.set.d) throw usageError('E_INVALID_ARG', `query vector has ${query.length} dimensions, the index ${this.set.d}`, 'embed the query with the indexed model');
      return query;
    }
    if (!this.model) throw usageError('E_INVALID_ARG', 'text and image queries need the model', 'open the index with a model, not only a fingerprint');
    if (typeof query === 'string') {
      const t = await this.model.embedTexts([nonEmptyString('query', query)]);
      return t.data;
    }
    const r = await this.model.embedImages([query.image]);
    if (r.failures.length > 0) throw r.failures[0]!.error;
    return r.embeddings.data;
  }

  /** Rows whose path is under `dir`, as a mask over the vector set; a clear error when there are none. */
  private mask(dir: string): Uint8Array {
    const rows = this.store.rowsUnder(this.indexModel.id, resolve(dir));
    if (rows.length === 0) {
      throw new ZsError('E_INDEX_EMPTY', `no indexed images of model ${this.indexModel.name} under ${resolve(dir)}`, { kind: 'usage', hint: `run zs index ${dir} first` });
    }
    const mask = new Uint8Array(this.set.n);
    for (const r of rows) { const g = this.set.globalRow(r.seg, r.row); if (g >= 0) mask[g] = 1; }
    return mask;
  }

  private paths(rows: readonly number[]): string[] {
    const paths = this.store.pathsAt(rows.map((i) => this.set.locate(i)));
    return paths.map((p, j) => {
      if (p === undefined) throw new ZsError('E_INDEX_DAMAGED', `row ${rows[j]} of the index has no path`, { hint: 'run zs index again on the folders' });
      return p;
    });
  }

  /** The `topK` (default 10) indexed images most similar to the query, best first. */
  async search(query: Query, opts: { topK?: number; in?: string } = {}): Promise<SearchHit[]> {
    const k = int('top-k', opts.topK ?? 10, 1, 1_000_000);
    const q = await this.vector(query);
    const hits = this.set.nearest(q, k, opts.in === undefined ? undefined : this.mask(opts.in));
    const paths = this.paths(hits.map((h) => h.index));
    return hits.map((h, i) => ({ path: paths[i]!, score: h.score }));
  }

  /** Groups of near-duplicates (cosine >= threshold), largest first; paths in each group sorted. */
  findDuplicates(opts: { threshold?: number; in?: string; onProgress?: (done: number, total: number) => void } = {}): DuplicateGroup[] {
    const t = opts.threshold ?? DEFAULT_DUPE_THRESHOLD;
    if (!(t > -1 && t <= 1)) throw usageError('E_INVALID_ARG', `invalid --threshold ${t}: a cosine similarity in (-1, 1]`, `e.g. ${DEFAULT_DUPE_THRESHOLD}`);
    const groups = duplicateGroups(this.set, t, opts.in === undefined ? undefined : this.mask(opts.in), opts.onProgress);
    const a = new Float32Array(this.set.d);
    const b = new Float32Array(this.set.d);
    return groups.map((g) => {
      const paths = this.paths(g.rows);
      const order = g.rows.map((_, i) => i).sort((x, y) => (paths[x]! < paths[y]! ? -1 : paths[x]! > paths[y]! ? 1 : 0));
      this.set.row(g.rows[order[0]!]!, a);
      return { paths: order.map((i) => paths[i]!), scores: order.map((i) => dot64(a, this.set.row(g.rows[i]!, b))) };
    });
  }

  async close(): Promise<void> {
    this.set.close();
    this.store.close();
    if (this.ownsModel) await this.model?.close();
  }
}

/** One search: opens the index, answers, closes. */
export async function search(query: Query, opts: OpenOptions & { topK?: number; in?: string } = {}): Promise<SearchHit[]> {
  const ix = await SearchIndex.open(opts);
  try {
    return await ix.search(query, opts);
  } finally {
    await ix.close();
  }
}

/** Near-duplicate groups among the indexed images under `dir` (all indexed images without one). */
export async function findDuplicates(dir: string | undefined, opts: OpenOptions & { threshold?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<DuplicateGroup[]> {
  const ix = await SearchIndex.open({ ...opts, resident: true });
  try {
    return ix.findDuplicates({ threshold: opts.threshold, in: dir, onProgress: opts.onProgress });
  } finally {
    await ix.close();
  }
}
