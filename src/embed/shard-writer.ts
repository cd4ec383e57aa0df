/**
 * The files one shard writes into `--out DIR` (names from `shardFiles`), row groups at a time so memory is bounded
 * by the batch, every file under a temporary name until `close` renames them into place:
 *
 *   layout 'parquet' (default)   part-IIIII.parquet: key, path, model (UTF8), embedding (LIST<FLOAT>, d values,
 *                                null when the row failed; FixedSizeList<float32, d> for Arrow readers through the
 *                                ARROW:schema entry), error (UTF8, null when it did not). Every input is a row.
 *   layout 'clip-retrieval'      img_emb/img_emb_I.npy (float32 [n, d]) + metadata/metadata_I.parquet (key, path,
 *                                model), the same row order, as clip-retrieval and embedding-reader lay them out.
 *                                Failed inputs are left out of both (as clip-retrieval does); the shard's
 *                                .done.json lists them.
 * Both: `part-IIIII.done.json` is written by the caller after `close`, and marks the shard finished.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { wrapError } from '../errors.js';
import { npyHeader } from './engine-output.js';
import { shardFiles, type ShardLayout } from './worker-config.js';
import { arrowSchemaEntry } from './arrow-schema.js';
import { openParquetFile, tempPath, type Column, type ParquetFile } from './parquet-file.js';

export { LAYOUTS, shardFiles, type ShardLayout } from './worker-config.js';

export interface ShardRow {
  key: string;
  /** The path or URL the row came from. */
  path: string;
  /** d values, or undefined when the row failed. */
  embedding?: Float32Array;
  error?: string;
}

export interface ShardWriter {
  write(rows: readonly ShardRow[]): Promise<void>;
  /** Flushes and renames the files into place; returns their paths relative to the output folder. */
  close(): Promise<string[]>;
  abort(): Promise<void>;
}

const PART_COLUMNS = [
  { name: 'key', kind: 'string' }, { name: 'path', kind: 'string' }, { name: 'model', kind: 'string' },
  { name: 'embedding', kind: 'floats' }, { name: 'error', kind: 'string', optional: true },
] as const;
const META_COLUMNS = [{ name: 'key', kind: 'string' }, { name: 'path', kind: 'string' }, { name: 'model', kind: 'string' }] as const;

/** Rows kept before a row group is written: bounds memory (~rows x d x 8 bytes while encoding). */
const GROUP_ROWS = 1024;

/** A float32 [n, d] .npy written as rows arrive; the header (n is known only at the end) is rewritten on close. */
async function openNpy(file: string, dim: number): Promise<{ append(rows: Float32Array): Promise<void>; close(): Promise<void>; abort(): Promise<void> }> {
  const tmp = tempPath(file);
  let fh: FileHandle | undefined = await fsp.open(tmp, 'wx');
  let n = 0;
  let pos = npyHeader(0, dim).length;
  await fh.write(npyHeader(0, dim), 0, pos, 0); // a valid (empty) array until close writes the real shape
  const abort = async () => { const h = fh; fh = undefined; await h?.close().catch(() => undefined); await fsp.rm(tmp, { force: true }); };
  return {
    async append(rows) {
      const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength); // little-endian hosts (the cache checks)
      await fh!.write(bytes, 0, bytes.length, pos);
      pos += bytes.length;
      n += rows.length / dim;
    },
    async close() {
      const head = npyHeader(n, dim);
      await fh!.write(head, 0, head.length, 0);
      await fh!.sync();
      await fh!.close();
      fh = undefined;
      await fsp.rename(tmp, file);
    },
    abort,
  };
}

/** Opens the writer for shard `index` of `layout` in `dir` (see the header); rows have `dim` values. */
export async function openShardWriter(dir: string, index: number, layout: ShardLayout, model: string, dim: number): Promise<ShardWriter> {
  const names = shardFiles(index, layout);
  const files = names.data.map((f) => join(dir, f));
  try {
    await Promise.all(files.map((f) => fsp.mkdir(join(f, '..'), { recursive: true })));
  } catch (e) {
    throw wrapError(e, 'E_WRITE', `cannot create ${dir}`, 'check that --out names a writable folder');
  }
  const meta: Record<string, string> = { 'zs.model': model, 'zs.dim': String(dim), 'zs.normalized': 'true' };
  if (layout === 'parquet') {
    // Arrow readers (pyarrow, arrow-rs, polars) then read `embedding` as FixedSizeList<float32, dim>
    meta['ARROW:schema'] = arrowSchemaEntry([
      { name: 'key', nullable: false, type: { kind: 'utf8' } }, { name: 'path', nullable: false, type: { kind: 'utf8' } },
      { name: 'model', nullable: false, type: { kind: 'utf8' } }, { name: 'embedding', nullable: true, type: { kind: 'fixed-float32-list', size: dim } },
      { name: 'error', nullable: true, type: { kind: 'utf8' } },
    ]);
  }
  // opened at once: a shard's temporaries exist from its start, so a killed run is seen (and cleared) by the next
  const pq: ParquetFile = await openParquetFile(files[layout === 'parquet' ? 0 : 1]!, layout === 'parquet' ? PART_COLUMNS : META_COLUMNS, meta);
  const npy = layout === 'parquet' ? undefined : await openNpy(files[0]!, dim).catch(async (e: unknown) => { await pq.abort(); throw e; });
  let pending: ShardRow[] = [];
  const strings = (name: string, rows: ShardRow[], get: (r: ShardRow) => string | undefined, optional = false): Column =>
    ({ name, kind: 'string', optional, data: rows.map((r) => get(r) ?? null) });

  const flushGroup = async (): Promise<void> => {
    const rows = pending;
    pending = [];
    if (!npy) {
      await pq.writeGroup([
        strings('key', rows, (r) => r.key), strings('path', rows, (r) => r.path), strings('model', rows, () => model),
        { name: 'embedding', kind: 'floats', data: rows.map((r) => (r.embedding ? Array.from(r.embedding) : null)) },
        strings('error', rows, (r) => r.error, true),
      ]);
      return;
    }
    const ok = rows.filter((r) => r.embedding);
    if (ok.length === 0) return;
    const block = new Float32Array(ok.length * dim); // [rows, d]
    ok.forEach((r, i) => block.set(r.embedding!, i * dim));
    await npy.append(block);
    await pq.writeGroup([strings('key', ok, (r) => r.key), strings('path', ok, (r) => r.path), strings('model', ok, () => model)]);
  };
  const abort = async (): Promise<void> => {
    await Promise.all([pq.abort(), npy?.abort()]);
  };
  return {
    async write(rows) {
      pending.push(...rows);
      if (pending.length >= GROUP_ROWS) await flushGroup();
    },
    async close() {
      try {
        if (pending.length > 0) await flushGroup();
        await npy?.close();
        await pq.close();
      } catch (e) {
        await abort();
        throw wrapError(e, 'E_WRITE', `cannot finish shard ${index} in ${dir}`, 'check that the disk has room');
      }
      return names.data;
    },
    abort,
  };
}
