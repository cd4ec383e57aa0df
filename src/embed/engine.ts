/**
 * The embedding engine: images in, L2-normalized embeddings out, in input order, streamed in chunks.
 *
 *   resolve (engine-resolve.ts)   cache lookups, one chunk ahead          main thread + libuv pool (stat, read, hash)
 *   prep    (engine-prep.ts)      decode + resample + normalize           worker threads (+ libuv pool for sharp)
 *   infer   (the model's session) [n, 3, H, W] -> [n, d]                  main thread (onnxruntime's intra-op threads)
 *   store                         putMany after each batch                main thread (SQLite, one transaction)
 *
 * Overlap: up to 2 x batchSize images are handed to the preprocessing workers at once. Before a batch goes to
 * onnxruntime (which blocks the main thread for the whole batch), the next batch's images are already queued in
 * the workers, so decoding batch k+1 overlaps inference of batch k. Cache hits skip both stages.
 *
 * Memory is bounded by the batch, not the dataset: the batch tensor, at most 3 x batchSize pixel buffers, one or
 * two resolve chunks (DEFAULT_CHUNK inputs) and the embeddings not yet emitted (a chunk's worth at most: a partial
 * batch is run when `EMIT_LIMIT` finished rows wait behind an image still in preprocessing).
 *
 * Failures (unreadable or undecodable images) are reported per input and never stop the run. Inference errors
 * and cache write errors (disk full: E_CACHE_FULL) stop it; what was committed before stays in the cache (one
 * transaction per batch).
 */
import { wrapError, type ZsError } from '../errors.js';
import type { ImageInput } from '../image/decode.js';
import type { Embeddings } from './embeddings.js';
import type { Prep } from './engine-prep.js';
import { stampFile } from './hash.js';
import { resolveInputs, sameStamp, DEFAULT_CHUNK, type CacheBinding, type Resolved } from './engine-resolve.js';

export interface ImageFailure {
  index: number;
  input: string;
  error: ZsError;
}

export interface EmbedProgress {
  done: number;
  total: number;
  failed: number;
}

export interface EngineOptions {
  batchSize: number;
  /** Floats per preprocessed image (3 * H * W). */
  floats: number;
  prep: Prep;
  /** Runs the vision graph on `[n, 3, H, W]` and returns normalized `[n, d]`. */
  infer: (pixels: Float32Array, n: number) => Promise<Embeddings>;
  cache?: CacheBinding;
  /** Inputs resolved against the cache at a time (default 256). */
  chunk?: number;
  onProgress?: (p: EmbedProgress) => void;
  /** Called once, when the first input turns out to need the model (e.g. to start loading it while it decodes). */
  onFirstMiss?: () => void;
}

/** Consecutive results: rows for the embedded inputs and the failures among them. */
export interface EmbedChunk {
  /** Input index of each row, ascending. */
  indices: number[];
  embeddings: Embeddings;
  failures: ImageFailure[];
}

export interface EmbedStats {
  total: number;
  /** Images run through the model. */
  computed: number;
  /** Images answered by the cache. */
  cached: number;
  failed: number;
  /** Inference calls. */
  batches: number;
  /** Where the calling thread's time went (scripts/bench-embed-breakdown.ts reports it). */
  timings: EngineTimings;
}

/** Milliseconds the calling thread spent in each stage of the batch loop (the rest: cache lookups and emitting). */
export interface EngineTimings {
  /** Inside `infer` (onnxruntime, whose threads also contend with preprocessing for the cores). */
  inferMs: number;
  /** Waiting for a batch's images to finish preprocessing (the pipeline's stall: preprocessing fell behind). */
  prepWaitMs: number;
}

interface Job { r: Resolved; pixels: Promise<Float32Array> }

export function describeInput(input: ImageInput, index: number): string {
  return typeof input === 'string' ? input : `image #${index + 1} (buffer)`;
}

/** Embeds `inputs` (see the header); yields chunks in input order and returns the run's counts. */
export async function* embedStream(inputs: readonly ImageInput[], o: EngineOptions): AsyncGenerator<EmbedChunk, EmbedStats> {
  const B = o.batchSize;
  const inFlightCap = 2 * B;
  const emitLimit = o.chunk ?? DEFAULT_CHUNK;
  const stats: EmbedStats = { total: inputs.length, computed: 0, cached: 0, failed: 0, batches: 0, timings: { inferMs: 0, prepWaitMs: 0 } };
  let batch: Float32Array | undefined; // [B, 3, H, W], allocated by the first batch: a run the cache answers needs none
  const queue: Resolved[] = []; // misses not yet handed to preprocessing
  const inflight: Job[] = [];
  const finished = new Map<number, Float32Array | ImageFailure>(); // waiting to be emitted in order
  let next = 0; // next input index to emit
  let dim = 0;
  let firstMiss = o.onFirstMiss;

  const fail = (r: Resolved, e: unknown): void => {
    const where = describeInput(r.input, r.index);
    finished.set(r.index, { index: r.index, input: where, error: wrapError(e, 'E_IMAGE', `cannot read ${where}`) });
    stats.failed++;
  };
  const fill = (): void => {
    while (inflight.length < inFlightCap && queue.length > 0) {
      const r = queue.shift()!;
      const pixels = o.prep.submit(r.input, describeInput(r.input, r.index));
      pixels.catch(() => {}); // handled when the batch is assembled
      inflight.push({ r, pixels });
    }
  };

  const runBatch = async (jobs: Job[]): Promise<void> => {
    const waited = performance.now();
    const settled = await Promise.allSettled(jobs.map((j) => j.pixels));
    stats.timings.prepWaitMs += performance.now() - waited;
    const ok: Resolved[] = [];
    settled.forEach((s, j) => {
      if (s.status === 'rejected') return fail(jobs[j]!.r, s.reason);
      batch ??= new Float32Array(B * o.floats);
      batch.set(s.value, ok.length * o.floats);
      o.prep.release(s.value);
      ok.push(jobs[j]!.r);
    });
    if (ok.length === 0) return;
    // re-stat while inference runs: a file that changed since it was hashed is not stored under the old hash
    const restamp = o.cache ? Promise.all(ok.map((r) => (r.stamp ? stampFile(r.stamp.path).catch(() => undefined) : undefined))) : undefined;
    const started = performance.now();
    const emb = await o.infer(batch!, ok.length);
    stats.timings.inferMs += performance.now() - started;
    stats.batches++;
    stats.computed += ok.length;
    const d = emb.dims[1];
    dim = d;
    ok.forEach((r, i) => finished.set(r.index, emb.data.subarray(i * d, (i + 1) * d)));
    if (o.cache && restamp) {
      const now = await restamp;
      const entries = ok.flatMap((r, i) => {
        if (r.key === undefined) return [];
        if (r.stamp && !(now[i] && sameStamp(r.stamp, now[i]!))) return [];
        return [{ key: r.key, embedding: emb.data.subarray(i * d, (i + 1) * d) }];
      });
      o.cache.store.putMany({ fingerprint: o.cache.fingerprint, name: o.cache.name }, entries);
    }
  };

  const emit = (): EmbedChunk | undefined => {
    const indices: number[] = [];
    const rows: Float32Array[] = [];
    const failures: ImageFailure[] = [];
    for (let v = finished.get(next); v !== undefined; v = finished.get(next)) {
      finished.delete(next);
      if (v instanceof Float32Array) { indices.push(next); rows.push(v); } else failures.push(v);
      next++;
    }
    if (indices.length === 0 && failures.length === 0) return undefined;
    const d = rows[0]?.length ?? dim;
    const data = new Float32Array(rows.length * d); // [rows, d]
    rows.forEach((row, i) => data.set(row, i * d));
    o.onProgress?.({ done: next, total: inputs.length, failed: stats.failed });
    return { indices, embeddings: { data, dims: [rows.length, d] }, failures };
  };

  const chunks = resolveInputs(inputs, o.cache, o.chunk ?? DEFAULT_CHUNK);
  let exhausted = inputs.length === 0;
  try {
    for (;;) {
      if (!exhausted && queue.length < inFlightCap) {
        const it = await chunks.next();
        if (it.done) exhausted = true;
        else {
          for (const r of it.value) {
            if (r.hit) { finished.set(r.index, r.hit); stats.cached++; } else queue.push(r);
          }
          if (queue.length > 0 && firstMiss) { firstMiss(); firstMiss = undefined; }
        }
        fill();
      }
      const drained = exhausted && queue.length === 0;
      if (inflight.length >= B || (inflight.length > 0 && (drained || finished.size >= emitLimit))) {
        const jobs = inflight.splice(0, B);
        fill(); // the next batch decodes while this one runs
        await runBatch(jobs);
      } else if (drained && inflight.length === 0) {
        const last = emit();
        if (last) yield last;
        return stats;
      }
      const out = emit();
      if (out) yield out;
    }
  } finally {
    await chunks.return(undefined);
  }
}
