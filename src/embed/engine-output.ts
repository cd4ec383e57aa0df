/**
 * Where streamed embeddings go (`zs embed --out`), written as they arrive so memory stays flat:
 *   - JSONL (data/features.ts lines: {"path"|"text", "label"?, "embedding": [...]}) to stdout or a file
 *   - `.npy`: a float32 [n, d] C-order array (NumPy format 1.0), plus `<name>.json` beside it, the index:
 *       { format: "zs-embeddings", version: 1, npy, dtype: "float32", dims: [n, d], normalized: true,
 *         model, fingerprint, paths: [...], labels?: [...], texts?: [...] }
 *     Rows are the images (`paths`, `labels` alike) followed by the texts. n is known only at the end, so the
 *     .npy header is a fixed 128 bytes, rewritten on close.
 * Files are written to a temporary name in the target folder and renamed into place on close (the index after the
 * array); `abort` removes them, leaving any earlier file untouched.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ZsError, wrapError } from '../errors.js';
import { FeatureWriter, featureLine } from '../data/features.js';
import { writeFileAtomic } from '../util/fs.js';

export interface RowMeta { path?: string; text?: string; label?: string }

export interface EmbeddingSink {
  /** Appends rows: `data` is [meta.length, d] row-major. */
  write(meta: readonly RowMeta[], data: Float32Array, d: number): Promise<void>;
  /** Finishes the output; returns the number of rows. */
  close(): Promise<number>;
  /** Drops a partial output (files only). */
  abort(): Promise<void>;
}

export interface IndexInfo { model: string; fingerprint: () => Promise<string> }

const NPY_HEADER = 128;

function writeError(file: string, e: unknown): ZsError {
  return wrapError(e, 'E_WRITE', `cannot write ${file}`, 'check that the folder exists and is writable and the disk has room');
}

/** JSONL on stdout, respecting backpressure. */
function stdoutSink(): EmbeddingSink {
  let rows = 0;
  return {
    async write(meta, data, d) {
      let text = '';
      meta.forEach((m, i) => { text += featureLine({ ...m, embedding: data.subarray(i * d, (i + 1) * d) }) + '\n'; });
      rows += meta.length;
      if (!process.stdout.write(text)) await new Promise<void>((r) => process.stdout.once('drain', r));
    },
    close: async () => rows,
    abort: async () => {},
  };
}

async function jsonlFileSink(file: string): Promise<EmbeddingSink> {
  const w = await FeatureWriter.open(file);
  return {
    async write(meta, data, d) {
      for (let i = 0; i < meta.length; i++) await w.write({ ...meta[i]!, embedding: data.subarray(i * d, (i + 1) * d) });
    },
    close: () => w.close(),
    abort: () => w.abort(),
  };
}

/** The NumPy 1.0 header for a little-endian float32 [n, d] array, padded to NPY_HEADER bytes. */
export function npyHeader(n: number, d: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
  const body = dict.padEnd(NPY_HEADER - 10 - 1, ' ') + '\n';
  if (body.length !== NPY_HEADER - 10) throw new ZsError('E_WRITE', `array shape (${n}, ${d}) is too large for the .npy header`);
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(body.length, 8);
  return Buffer.concat([head, Buffer.from(body, 'latin1')]);
}

async function npySink(file: string, info: IndexInfo): Promise<EmbeddingSink> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const indexFile = file.replace(/\.npy$/i, '') + '.json';
  let fh: FileHandle;
  try {
    fh = await fsp.open(tmp, 'wx');
  } catch (e) {
    throw writeError(file, e);
  }
  const paths: string[] = [];
  const labels: string[] = [];
  const texts: string[] = [];
  let rows = 0;
  let dim = 0;
  let pos = NPY_HEADER;
  let done = false;
  const abort = async (): Promise<void> => {
    if (!done) { done = true; await fh.close().catch(() => undefined); }
    await fsp.rm(tmp, { force: true });
  };
  return {
    async write(meta, data, d) {
      if (meta.length === 0) return;
      if (dim !== 0 && d !== dim) throw new ZsError('E_WRITE', `${file}: rows of ${d} values after rows of ${dim}`);
      dim = d;
      for (const m of meta) {
        if (m.text !== undefined) texts.push(m.text);
        else {
          if (texts.length > 0) throw new ZsError('E_WRITE', `${file}: image rows must come before text rows`);
          paths.push(m.path ?? '');
          if (m.label !== undefined) labels.push(m.label);
        }
      }
      const bytes = Buffer.from(data.buffer, data.byteOffset, meta.length * d * 4); // little-endian hosts only (the cache checks)
      try {
        await fh.write(bytes, 0, bytes.length, pos);
      } catch (e) {
        await abort();
        throw writeError(file, e);
      }
      pos += bytes.length;
      rows += meta.length;
    },
    async close() {
      try {
        await fh.write(npyHeader(rows, dim), 0, NPY_HEADER, 0);
        await fh.sync();
        await fh.close();
        done = true;
        await fsp.rename(tmp, file);
      } catch (e) {
        await abort();
        throw writeError(file, e);
      }
      const index = {
        format: 'zs-embeddings', version: 1, npy: basename(file), dtype: 'float32', dims: [rows, dim], normalized: true,
        model: info.model, fingerprint: await info.fingerprint(), paths,
        ...(labels.length > 0 ? { labels } : {}), ...(texts.length > 0 ? { texts } : {}),
      };
      await writeFileAtomic(indexFile, JSON.stringify(index) + '\n');
      return rows;
    },
    abort,
  };
}

/** A sink for `--out`: stdout JSONL when undefined, .npy + index for names ending in .npy, else a JSONL file. */
export async function openSink(out: string | undefined, info: IndexInfo): Promise<EmbeddingSink> {
  if (out === undefined || out === '-') return stdoutSink();
  if (/\.npy$/i.test(out)) return npySink(out, info);
  return jsonlFileSink(out);
}
