/**
 * Precomputed features as JSONL, one embedding per line (the output of `zs embed`):
 *   {"path": "cat/1.jpg", "label": "cat", "embedding": [0.0123, -0.04, ...]}
 * `path` or `text` name the source (both optional), `label` is optional, `embedding` is required.
 *
 * Reading streams line by line into one growing Float32Array `[n, d]` row-major; blank lines are skipped.
 * Errors name the line: bad JSON, a missing or empty embedding, a value that is not a finite float32
 * (NaN, Infinity, null, a string, or beyond float32 range), a length other than the first line's (or `dim`),
 * a label that is not a string or number (numbers become their decimal string). Labels are all-or-none: a line
 * without a label after labelled lines (or the reverse) is an error, as is any unlabelled line when
 * `requireLabels` is set.
 *
 * Writing streams lines to a temporary file in the target folder and renames it into place on `close()`
 * (the src/util/fs.ts idea, for data too big to hold as one string). Numbers are written with the fewest
 * significant digits from 6 to 9 that read back as the same float32 (exact round trip, compact lines).
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ZsError, wrapError } from '../errors.js';

export interface FeatureSet {
  data: Float32Array; // [n, d] row-major
  dims: [number, number];
  /** One label per row, or undefined when the file has none. */
  labels: string[] | undefined;
  /** `path` / `text` of each row (null where a line lacks it), or undefined when no line has one. */
  paths: (string | null)[] | undefined;
  texts: (string | null)[] | undefined;
}

export interface ReadFeaturesOptions {
  /** Every line must carry a label (probe fit/eval). */
  requireLabels?: boolean;
  /** Expected embedding length (e.g. a probe's input size). */
  dim?: number;
}

export interface FeatureRow {
  path?: string;
  text?: string;
  label?: string;
  embedding: ArrayLike<number>;
}

function lineError(source: string, line: number, what: string, hint: string): ZsError {
  return new ZsError('E_FEATURES', `${source} line ${line}: ${what}`, { kind: 'usage', hint });
}

/** Reads JSONL features from a stream; `source` names it in errors. */
export async function readFeaturesFrom(stream: Readable, source: string, options: ReadFeaturesOptions = {}): Promise<FeatureSet> {
  let d = options.dim ?? 0;
  let n = 0;
  let data = new Float32Array(0);
  let labels: string[] | undefined;
  const paths: (string | null)[] = [];
  const texts: (string | null)[] = [];
  let anyPath = false;
  let anyText = false;
  let lineNo = 0;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const raw of rl) {
      lineNo++;
      if (raw.trim() === '') continue;
      let rec: unknown;
      try {
        rec = JSON.parse(raw);
      } catch (e) {
        if (/\b(NaN|-?Infinity)\b/.test(raw)) throw lineError(source, lineNo, 'the embedding holds NaN or Infinity', 'recompute the embedding; every value must be a finite number');
        throw lineError(source, lineNo, `not valid JSON (${(e as Error).message})`, 'write one JSON object per line');
      }
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
        throw lineError(source, lineNo, 'not a JSON object', 'write one {"label": ..., "embedding": [...]} object per line');
      }
      const r = rec as Record<string, unknown>;
      const emb = r.embedding;
      if (!Array.isArray(emb) || emb.length === 0) {
        throw lineError(source, lineNo, emb === undefined ? 'no "embedding"' : '"embedding" is not a non-empty list of numbers',
          'each line needs "embedding": [numbers]');
      }
      if (d === 0) d = emb.length;
      if (emb.length !== d) {
        const from = options.dim !== undefined ? `expected ${d}` : `the first line's is ${d}`;
        throw lineError(source, lineNo, `embedding has ${emb.length} values, ${from}`, 'every embedding must come from the same model');
      }
      if ((n + 1) * d > data.length) {
        const grown = new Float32Array(Math.max(1024, 2 * (n + 1)) * d);
        grown.set(data);
        data = grown;
      }
      const off = n * d;
      for (let j = 0; j < d; j++) {
        const v = emb[j];
        const f = typeof v === 'number' ? Math.fround(v) : NaN;
        if (!Number.isFinite(f)) {
          throw lineError(source, lineNo, `embedding value ${j + 1} is ${JSON.stringify(v) ?? String(v)}, not a finite float32`,
            'recompute the embedding; every value must be a finite number');
        }
        data[off + j] = f;
      }
      const lab = r.label;
      const hasLabel = lab !== undefined && lab !== null;
      if (hasLabel && !((typeof lab === 'string' && lab.trim() !== '') || (typeof lab === 'number' && Number.isFinite(lab)))) {
        throw lineError(source, lineNo, `"label" is ${JSON.stringify(lab)}`, 'give labels as non-empty strings');
      }
      if (n === 0 && hasLabel) labels = [];
      if ((labels !== undefined) !== hasLabel || (!hasLabel && options.requireLabels)) {
        throw lineError(source, lineNo, hasLabel ? 'has a label but earlier lines have none' : 'has no "label"',
          'give every line a "label" (or none of them)');
      }
      labels?.push(String(lab));
      const p = typeof r.path === 'string' ? r.path : null;
      const t = typeof r.text === 'string' ? r.text : null;
      anyPath ||= p !== null;
      anyText ||= t !== null;
      paths.push(p);
      texts.push(t);
      n++;
    }
  } catch (e) {
    throw wrapError(e, 'E_READ', `cannot read ${source}`, 'check the file');
  } finally {
    rl.close();
  }
  if (n === 0) throw new ZsError('E_FEATURES', `${source} has no embeddings`, { kind: 'usage', hint: 'write features with `zs embed --labels`' });
  return { data: data.slice(0, n * d), dims: [n, d], labels, paths: anyPath ? paths : undefined, texts: anyText ? texts : undefined };
}

/** Reads a JSONL features file (see the header). */
export async function readFeatures(file: string, options: ReadFeaturesOptions = {}): Promise<FeatureSet> {
  try {
    await fsp.access(file);
  } catch {
    throw new ZsError('E_NOT_FOUND', `no features file ${file}`, { kind: 'usage', hint: 'check the path' });
  }
  return readFeaturesFrom(createReadStream(file), file, options);
}

/** The rows `rows` of a feature set, as a new set (labels, paths and texts follow). */
export function selectRows(set: FeatureSet, rows: readonly number[]): FeatureSet {
  const [n, d] = set.dims;
  const data = new Float32Array(rows.length * d); // [rows.length, d]
  rows.forEach((r, i) => {
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new ZsError('E_INVALID_ARG', `row ${r} is outside 0..${n - 1}`);
    data.set(set.data.subarray(r * d, (r + 1) * d), i * d);
  });
  const pick = <T>(xs: T[] | undefined) => (xs ? rows.map((r) => xs[r]!) : undefined);
  return { data, dims: [rows.length, d], labels: pick(set.labels), paths: pick(set.paths), texts: pick(set.texts) };
}

/** A decimal string with 6 to 9 significant digits that reads back (through Math.fround) as the same float32. */
export function formatFloat32(x: number): string {
  if (!Number.isFinite(x)) throw new ZsError('E_FEATURES', `cannot write ${x} as JSON`, { hint: 'the embedding holds a non-finite value' });
  const f = Math.fround(x);
  if (f === 0) return '0';
  for (let p = 6; p < 9; p++) {
    const s = String(Number(f.toPrecision(p)));
    if (Math.fround(Number(s)) === f) return s;
  }
  return String(Number(f.toPrecision(9)));
}

/** One JSONL line (no newline): path, text, label, then the embedding. */
export function featureLine(row: FeatureRow): string {
  const head: string[] = [];
  if (row.path !== undefined) head.push(`"path":${JSON.stringify(row.path)}`);
  if (row.text !== undefined) head.push(`"text":${JSON.stringify(row.text)}`);
  if (row.label !== undefined) head.push(`"label":${JSON.stringify(row.label)}`);
  const e = row.embedding;
  const parts = new Array<string>(e.length);
  for (let j = 0; j < e.length; j++) parts[j] = formatFloat32(e[j]!);
  head.push(`"embedding":[${parts.join(',')}]`);
  return `{${head.join(',')}}`;
}

/** Streams JSONL lines to a temporary file; `close()` renames it onto the target, `abort()` removes it. */
export class FeatureWriter {
  private buf = '';
  private count = 0;
  private done = false;

  private constructor(readonly file: string, private readonly tmp: string, private readonly fh: FileHandle) {}

  static async open(file: string): Promise<FeatureWriter> {
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      return new FeatureWriter(file, tmp, await fsp.open(tmp, 'wx'));
    } catch (e) {
      throw wrapError(e, 'E_WRITE', `cannot write ${file}`, 'check that the folder exists and is writable');
    }
  }

  async write(row: FeatureRow): Promise<void> {
    if (this.done) throw new ZsError('E_WRITE', `${this.file} is already closed`);
    this.buf += featureLine(row) + '\n';
    this.count++;
    if (this.buf.length >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = this.buf;
    this.buf = '';
    try {
      await this.fh.write(chunk);
    } catch (e) {
      await this.abort();
      throw wrapError(e, 'E_WRITE', `cannot write ${this.file}`, 'check that the disk has room');
    }
  }

  /** Flushes, syncs and renames into place; returns the number of lines written. */
  async close(): Promise<number> {
    if (this.done) return this.count;
    await this.flush();
    try {
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      await fsp.rename(this.tmp, this.file);
    } catch (e) {
      await this.abort();
      throw wrapError(e, 'E_WRITE', `cannot write ${this.file}`, 'check that the folder is writable and the disk has room');
    }
    return this.count;
  }

  /** Drops the temporary file; the target is left as it was. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => undefined);
    }
    await fsp.rm(this.tmp, { force: true });
  }
}

/** Writes rows to `file` atomically; returns the number of lines. */
export async function writeFeatures(file: string, rows: Iterable<FeatureRow> | AsyncIterable<FeatureRow>): Promise<number> {
  const w = await FeatureWriter.open(file);
  try {
    for await (const row of rows) await w.write(row);
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.close();
}
