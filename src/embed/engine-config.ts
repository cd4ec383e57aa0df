/**
 * Defaults of the embedding engine and the measurements behind them (scripts/bench-embed.ts, docs/benchmarks.md;
 * 2 x AMD EPYC vCPUs, random-weight CLIP ViT-B/32, fp32).
 *
 * Threads. onnxruntime's intra-op threads default to all cores: its `session.run` blocks the main thread anyway,
 * and one intra-op thread halves inference (7.5 against 14.4 images/s bare on 2 cores). They do not spin
 * (VISION_SPINNING): onnxruntime's idle intra-op threads otherwise busy-wait between and after operators, on the
 * cores the preprocessing threads need. Measured 2026-12-06 (scripts/bench-embed-breakdown.ts, 128 photos, medians
 * of two runs): the bare session costs 72-77 CPU ms per image spinning against 59-63 not; zs's engine 110-119
 * against 95-100, and it ran faster without spinning in 12 of 14 rounds (docs/benchmarks.md, section 1). Preprocessing runs in
 * worker threads beside it (engine-prep.ts); on 2 cores one worker with 2 images in flight is enough (its decodes
 * run on libuv's pool, its JavaScript resample takes ~16 ms of the ~50 ms a 12 MP photo costs, so it can feed
 * ~60 photos/s, far above what inference takes), and a second worker measured no faster on photos and costs
 * startup and contention. More cores get one worker per 4 (at most 4: sharp's decodes share libuv's 4-thread pool).
 * The whole pipeline is CPU-bound on 2 cores: a photo costs ~50 ms of preprocessing plus ~140 ms of inference
 * CPU time, so ~0.7 of the bare session's rate is the ceiling for phone photos; small images (~3 ms) reach ~0.95.
 *
 * Batch size 16: the bare session ran at about the same rate for 8, 16 and 32 (within the machine's noise); 16
 * keeps a batch's pixels at 9.6 MB and the first results early.
 *
 * Fast decode on: JPEG/WebP photos at least 2x the resize target decode at 1/2..1/8 scale (libjpeg DCT scaling),
 * then the same PIL-exact resample runs. On 4032x3024 photos that is ~50 ms instead of ~500 ms; pixels differ from
 * full decoding by mean |diff| 0.007 (normalized units, worst of 16 photos) and embeddings by cosine >= 0.99999;
 * images too small to shrink (every reference image) are byte-identical to the exact path, so the transformers
 * parity targets hold. `--no-fast-decode` gives full decoding. The decode mode is part of the cache fingerprint.
 */
import { availableParallelism } from 'node:os';
import type { Device } from '../runtime/session.js';

/** Whether the vision session's idle intra-op threads spin (see the header). */
export const VISION_SPINNING = false;
/** Images per inference batch. */
export const DEFAULT_BATCH_SIZE = 16;
/** Images decoding at once in one preprocessing worker. */
export const PREP_CONCURRENCY = 2;
/** Fast decode (JPEG/WebP shrink-on-load) unless --no-fast-decode. */
export const DEFAULT_FAST_DECODE = true;
/** With fast decode, the shrunk image covers at least this multiple of the resize target per axis. */
export const FAST_DECODE_MARGIN = 1.5;

export interface ThreadSplit {
  /** onnxruntime intra-op threads. */
  threads: number;
  /** Preprocessing worker threads (0: on the main thread). */
  workers: number;
}

/**
 * How the cores are shared between inference and preprocessing, unless the caller says. On a GPU the CPU only
 * preprocesses, so the workers get up to all cores (still at most 4).
 */
export function defaultSplit(device: Device, given: Partial<ThreadSplit> = {}, cores = availableParallelism()): ThreadSplit {
  const threads = given.threads ?? Math.max(1, cores);
  const perWorker = device === 'cpu' ? 4 : 1;
  const workers = given.workers ?? Math.max(1, Math.min(4, Math.floor(cores / perWorker)));
  return { threads, workers };
}
