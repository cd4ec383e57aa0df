/**
 * Wiring of the embedding engine for a model folder (used by model.ts): the model fingerprint the cache keys by,
 * opening the cache and the preprocessing stage, and gathering streamed chunks into one result.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelFolder } from '../models/folder.js';
import type { Preprocessor, PreprocessorOptions } from '../image/index.js';
import type { EmbeddingCache } from './cache.js';
import type { Embeddings } from './embeddings.js';
import type { EmbedChunk, EmbedStats, ImageFailure } from './engine.js';
import { mainThreadPrep, workerPrep, type Prep } from './engine-prep.js';
import type { CacheBinding } from './engine-resolve.js';
import { PREP_CONCURRENCY } from './engine-config.js';

export interface ImageEmbedResult {
  /** One row per successfully embedded input, in input order. */
  embeddings: Embeddings;
  /** Input index of each row. */
  indices: number[];
  failures: ImageFailure[];
  /** How many images were computed, taken from the cache or failed. */
  stats: EmbedStats;
}

/**
 * Fingerprint of a model's image embeddings: the vision graph's bytes (and its external-data file, if any), the
 * preprocessing config and, with `withDecode`, the decode mode (fast decode changes pixels slightly). `memo` (the
 * cache) remembers the graph's hash by file stamp, so an unchanged graph is not re-read.
 */
export async function modelFingerprint(
  folder: ModelFolder, prep: PreprocessorOptions, memo?: EmbeddingCache, withDecode = true, onRead?: (file: string) => void,
): Promise<string> {
  const { fingerprintModel } = await import('./hash.js');
  const graph = folder.graphs.vision;
  const files = [graph, ...[`${graph}_data`, `${graph}.data`].filter((f) => existsSync(f))];
  // the feature choice joins the key only where the graph's own output is not used (older keys stay valid)
  const edited = folder.family.imageFeature === 'classifier-input' || folder.featureOutput !== undefined;
  const feature = edited ? { feature: (await import('../models/feature-graph.js')).featureKey(folder.featureOutput) } : {};
  if (!withDecode) return fingerprintModel(files, { preprocessor: folder.preprocessor, ...feature }, memo, onRead);
  const decode = prep.fastDecode ? { shrinkOnLoad: prep.fastDecodeMargin } : 'full';
  return fingerprintModel(files, { preprocessor: folder.preprocessor, decode, ...feature }, memo, onRead);
}

export interface EngineParts { prep: Prep; cache?: CacheBinding }

/** Opens the cache (when `cache` is set) and the preprocessing stage (`workers` threads, 0: this thread). */
export async function openEngine(
  folder: ModelFolder,
  preprocess: Preprocessor,
  opts: {
    prep: PreprocessorOptions; workers: number; cache: boolean; cacheDir?: string; explicitMaxPixels?: number;
    /** Called when the cache has never seen this vision graph as it is now (so it holds none of its embeddings), before hashing it. */
    onUnknownGraph?: () => void;
  },
): Promise<EngineParts> {
  let cache: CacheBinding | undefined;
  if (opts.cache) {
    const { EmbeddingCache, cacheFile } = await import('./cache.js');
    const store = await EmbeddingCache.open(cacheFile(opts.cacheDir));
    try {
      const fingerprint = await modelFingerprint(folder, opts.prep, store, true, opts.onUnknownGraph);
      cache = { store, fingerprint, name: folder.id, maxPixels: opts.explicitMaxPixels };
    } catch (e) {
      store.close();
      throw e;
    }
  }
  const { height: h, width: w } = preprocess;
  const prep = opts.workers === 0
    ? mainThreadPrep(preprocess, PREP_CONCURRENCY)
    : workerPrep({
      config: folder.preprocessor, options: opts.prep,
      file: join(folder.dir, 'preprocessor_config.json'), concurrency: PREP_CONCURRENCY,
    }, opts.workers, 3 * h * w);
  return { prep, cache };
}

/** Drains a chunk stream into one result; `d` is the embedding length to use when no row was embedded. */
export async function collect(stream: AsyncGenerator<EmbedChunk, EmbedStats>, d0: number): Promise<ImageEmbedResult> {
  const parts: EmbedChunk[] = [];
  let r = await stream.next();
  for (; !r.done; r = await stream.next()) parts.push(r.value);
  const n = parts.reduce((s, p) => s + p.indices.length, 0);
  const d = parts.find((p) => p.indices.length > 0)?.embeddings.dims[1] ?? d0;
  const data = new Float32Array(n * d); // [n, d]
  const indices: number[] = [];
  const failures: ImageFailure[] = [];
  for (const p of parts) {
    data.set(p.embeddings.data, indices.length * d);
    indices.push(...p.indices);
    failures.push(...p.failures);
  }
  return { embeddings: { data, dims: [n, d] }, indices, failures, stats: r.value };
}
