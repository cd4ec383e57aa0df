/**
 * Content hashing for the embedding cache: image bytes -> content key, model files + preprocessing -> fingerprint.
 *
 * Algorithm: SHA-256 (hex). Measured on the dev machine (x86-64 with SHA-NI, Node 20, 1.7 MB random buffer,
 * `node` one-off script, 200 runs each): sha256 1.42 ms (1.2 GB/s), sha1 1.73 ms, blake2b512 2.51 ms, md5 2.89 ms,
 * sha512 3.59 ms. With SHA extensions sha256 is the fastest *and* collision resistant, so nothing is traded away.
 * On CPUs without SHA-NI sha256 is ~2x slower than there (still ~2-3 ms per 4032x3024 JPEG), which is small next to
 * decoding such a photo (~50 ms), and the cache's stat shortcut skips hashing unchanged files on re-runs anyway.
 *
 * File stamps: `stampFile` records what the cache needs to decide that a file is unchanged without reading it
 * (size, mtime and ctime in ns, inode, device) and the wall-clock time just before the stat, which the cache uses to
 * refuse "racily clean" stamps (see cache.ts). Stamps are taken with bigint stat so nanoseconds are exact.
 *
 * Model fingerprint: sha256 over a versioned text that joins the content hash of each graph file (in the given
 * order) and the canonical JSON of the preprocessing config. Graph files can be GBs, so their content hash is taken
 * through an optional `FileHashMemo` (the embedding cache implements it): an unchanged graph is not re-read.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { ZsError, wrapError } from '../errors.js';

/** Name of the content hash, for docs and `zs cache info`. Changing it requires a cache schema bump. */
export const CONTENT_HASH = 'sha256';
/** Bumped when the fingerprint recipe changes, so old fingerprints can never collide with new ones. */
const FINGERPRINT_VERSION = 1;

/** What identifies a file's current content without reading it. Times in ns since the epoch. */
export interface FileStamp {
  /** Absolute path. */
  path: string;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
  /** Wall-clock time (ns) taken just before the stat call. */
  seenNs: bigint;
}

/** A stamp with the content hash of the bytes read after the stamp was taken. */
export interface StampedHash extends FileStamp {
  hash: string;
}

/** Remembers content hashes by file stamp (implemented by EmbeddingCache). */
export interface FileHashMemo {
  /** For each stamp, the remembered hash when every stamp field matches, else undefined. */
  lookupFiles(stamps: readonly FileStamp[]): (string | undefined)[];
  /** Stores hashes for stamps that are safe to trust later; returns how many were stored. */
  rememberFiles(entries: readonly StampedHash[]): number;
}

/** sha256 hex of a byte buffer (the cache key of an image's content). */
export function hashBytes(bytes: Uint8Array): string {
  return createHash(CONTENT_HASH).update(bytes).digest('hex');
}

/** sha256 hex of a file, streamed in 1 MiB chunks (for graphs that do not fit comfortably in memory). */
export async function hashFile(file: string): Promise<string> {
  const h = createHash(CONTENT_HASH);
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } catch (e) {
    throw wrapError(e, 'E_READ', `cannot read ${file}`, 'check that the file exists and is readable');
  }
  return h.digest('hex');
}

/** Stats a regular file with ns precision. */
export async function stampFile(file: string): Promise<FileStamp> {
  const path = resolve(file);
  const seenNs = BigInt(Date.now()) * 1_000_000n;
  let st;
  try {
    st = await fsp.stat(path, { bigint: true });
  } catch (e) {
    throw wrapError(e, 'E_READ', `cannot read ${file}`, 'check that the file exists and is readable');
  }
  if (!st.isFile()) throw new ZsError('E_READ', `not a regular file: ${file}`, { hint: 'pass image files, not folders or devices' });
  return { path, size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev, seenNs };
}

/** Stamps many files (concurrently; the stat calls run on libuv's thread pool). */
export function stampFiles(files: readonly string[]): Promise<FileStamp[]> {
  return Promise.all(files.map((f) => stampFile(f)));
}

/**
 * Content hash of a file, read from `memo` when its stamp is unchanged, else hashed and remembered (`onRead` is
 * called first, with the file, when it has to be read).
 */
export async function hashFileMemo(file: string, memo?: FileHashMemo, onRead?: (file: string) => void): Promise<string> {
  const stamp = await stampFile(file);
  const known = memo?.lookupFiles([stamp])[0];
  if (known !== undefined) return known;
  onRead?.(stamp.path);
  const hash = await hashFile(stamp.path);
  memo?.rememberFiles([{ ...stamp, hash }]);
  return hash;
}

/**
 * JSON with object keys sorted at every level, so equal configs give equal text whatever their key order.
 * Refuses values JSON cannot represent faithfully (NaN, Infinity, bigint, functions, cycles).
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, where: string): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw badConfig(where, String(v));
      return JSON.stringify(v);
    }
    if (typeof v !== 'object') throw badConfig(where, typeof v);
    if (seen.has(v)) throw badConfig(where, 'a cycle');
    seen.add(v);
    let text: string;
    if (Array.isArray(v)) {
      text = `[${v.map((x, i) => walk(x === undefined ? null : x, `${where}[${i}]`)).join(',')}]`;
    } else {
      const rec = v as Record<string, unknown>;
      const keys = Object.keys(rec).filter((k) => rec[k] !== undefined).sort();
      text = `{${keys.map((k) => `${JSON.stringify(k)}:${walk(rec[k], `${where}.${k}`)}`).join(',')}}`;
    }
    seen.delete(v);
    return text;
  };
  return walk(value, 'config');
}

function badConfig(where: string, what: string): ZsError {
  return new ZsError('E_INVALID_ARG', `invalid preprocessing config: ${where} is ${what}`, {
    kind: 'usage',
    hint: 'use only finite numbers, strings, booleans, null, arrays and plain objects',
  });
}

/**
 * Fingerprint of a model as the cache sees it: the bytes of its graph file(s) plus the preprocessing config.
 * Any change to either gives a new fingerprint, so stale embeddings are never returned. Pass the graph and its
 * external-data file(s), if any, in a fixed order. `memo` avoids re-reading unchanged graphs; `onRead` hears of
 * each graph file that has to be read (one `memo` has not seen as it is now).
 */
export async function fingerprintModel(
  graphFiles: string | readonly string[],
  preprocessConfig: object,
  memo?: FileHashMemo,
  onRead?: (file: string) => void,
): Promise<string> {
  const files = typeof graphFiles === 'string' ? [graphFiles] : graphFiles;
  if (files.length === 0) {
    throw new ZsError('E_INVALID_ARG', 'invalid graph files: an empty list', { kind: 'usage', hint: 'pass the model graph file' });
  }
  const hashes: string[] = [];
  for (const f of files) hashes.push(await hashFileMemo(f, memo, onRead));
  const text = `zs-model-fingerprint\nversion ${FINGERPRINT_VERSION}\n${hashes.join('\n')}\n${canonicalJson(preprocessConfig)}`;
  return createHash(CONTENT_HASH).update(text).digest('hex');
}
