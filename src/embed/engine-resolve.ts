/**
 * The cache stage of the embedding engine: splits inputs, in order and in chunks, into cached embeddings (hits)
 * and images still to compute (misses), each with its content key.
 *
 * Per chunk of paths: stat them all (one stamp each) -> the cache's stat shortcut gives the content hash of
 * unchanged files -> the other files are read and hashed -> `getMany` fetches the embeddings under the model's
 * fingerprint. Buffers are hashed directly. Hashes of newly read files are remembered (rememberFiles) at once: a
 * content hash is true whatever happens to the embedding later.
 *
 * Hashing uses WebCrypto's SHA-256 (`crypto.subtle.digest`), which runs on libuv's thread pool, so hashing a
 * 1.7 MB photo costs the main thread nothing while it is blocked in inference; files are read at most
 * `HASH_CONCURRENCY` at a time, so memory stays bounded. The next chunk is resolved while the caller works on the
 * current one. A file that cannot be stamped or read gets no key: the preprocessing stage then reports the exact
 * problem (missing, unreadable, not an image) as a per-image failure. The cache is transparent: a hit gives what
 * computing would, and with an explicit pixel limit (`maxPixels`) hits over it are recomputed, i.e. refused.
 */
import { promises as fsp } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { headerPixels, type ImageInput } from '../image/decode.js';
import type { EmbeddingCache } from './cache.js';
import { CONTENT_HASH, stampFile, type FileStamp, type StampedHash } from './hash.js';

/** The WebCrypto name of hash.ts's CONTENT_HASH (a compile error here if that hash changes). */
const SUBTLE_NAME: Record<typeof CONTENT_HASH, string> = { sha256: 'SHA-256' };
const HASH_CONCURRENCY = 4;
export const DEFAULT_CHUNK = 256;

/** Where and under which model the engine keeps embeddings. */
export interface CacheBinding {
  store: EmbeddingCache;
  /** Model fingerprint (hash.ts fingerprintModel). */
  fingerprint: string;
  /** Name stored with the model (shown by `zs cache info`). */
  name: string;
  /**
   * A pixel limit the caller set explicitly: cache hits are checked against the image header too, so an image over
   * it fails as it would without the cache (E_IMAGE_TOO_LARGE from decoding) instead of being answered.
   */
  maxPixels?: number;
}

export interface Resolved {
  index: number;
  input: ImageInput;
  /** The cached embedding: nothing to compute. */
  hit?: Float32Array;
  /** Content hash of the bytes, when a cache is used and they could be read. */
  key?: string;
  /** Stamp taken before the bytes were hashed (paths only): the file must still match it when the result is stored. */
  stamp?: FileStamp;
}

/** sha256 hex of bytes, computed off the main thread. */
export async function hashBytesAsync(bytes: Uint8Array): Promise<string> {
  const digest = await webcrypto.subtle.digest(SUBTLE_NAME[CONTENT_HASH], bytes);
  return Buffer.from(digest).toString('hex');
}

/** Runs `fn` over `items` with at most `limit` calls at once; results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** True when two stamps describe the same file state (seen time aside). */
export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.path === b.path && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;
}

async function resolveChunk(inputs: readonly ImageInput[], start: number, cache: CacheBinding): Promise<Resolved[]> {
  const items: Resolved[] = inputs.map((input, j) => ({ index: start + j, input }));
  const paths = items.filter((r) => typeof r.input === 'string');
  const stamps = await Promise.all(paths.map((r) => stampFile(r.input as string).catch(() => undefined)));
  paths.forEach((r, j) => { r.stamp = stamps[j]; });
  const stamped = paths.filter((r) => r.stamp !== undefined);
  const known = cache.store.lookupFiles(stamped.map((r) => r.stamp!));
  stamped.forEach((r, j) => { r.key = known[j]; });

  const toHash = items.filter((r) => r.key === undefined && (typeof r.input !== 'string' || r.stamp !== undefined));
  const fresh: StampedHash[] = [];
  await mapLimited(toHash, HASH_CONCURRENCY, async (r) => {
    let bytes: Uint8Array;
    try {
      bytes = typeof r.input === 'string' ? await fsp.readFile(r.input) : r.input;
    } catch {
      r.stamp = undefined;
      return; // preprocessing reports why
    }
    r.key = await hashBytesAsync(bytes);
    if (r.stamp) fresh.push({ ...r.stamp, hash: r.key });
  });
  if (fresh.length > 0) cache.store.rememberFiles(fresh);

  const keyed = items.filter((r) => r.key !== undefined);
  const vectors = cache.store.getMany(cache.fingerprint, keyed.map((r) => r.key!));
  keyed.forEach((r, j) => { r.hit = vectors[j]; });
  if (cache.maxPixels !== undefined) await dropOversized(items.filter((r) => r.hit), cache.maxPixels);
  return items;
}

/** Turns hits whose image is over `limit` pixels (per its header) back into misses, so decoding reports them. */
async function dropOversized(hits: Resolved[], limit: number): Promise<void> {
  await mapLimited(hits, HASH_CONCURRENCY, async (r) => {
    try {
      if (await headerPixels(r.input) > limit) r.hit = undefined;
    } catch {
      r.hit = undefined; // unreadable now: decoding says why
    }
  });
}

/**
 * Yields the inputs in order, in chunks of `chunk`, resolved against `cache` (or all as misses without one).
 * One chunk is resolved ahead.
 */
export async function* resolveInputs(inputs: readonly ImageInput[], cache: CacheBinding | undefined, chunk = DEFAULT_CHUNK): AsyncGenerator<Resolved[]> {
  const load = (start: number): Promise<Resolved[]> => {
    const part = inputs.slice(start, start + chunk);
    if (!cache) return Promise.resolve(part.map((input, j) => ({ index: start + j, input })));
    return resolveChunk(part, start, cache);
  };
  let ahead: Promise<Resolved[]> | undefined = inputs.length > 0 ? load(0) : undefined;
  try {
    for (let start = 0; ahead; start += chunk) {
      const current = await ahead;
      ahead = start + chunk < inputs.length ? load(start + chunk) : undefined;
      ahead?.catch(() => {}); // rethrown when awaited; never an unhandled rejection if the caller stops early
      yield current;
    }
  } finally {
    ahead = undefined;
  }
}
