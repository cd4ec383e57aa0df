/**
 * One shard of a sharded embedding job (`zs embed --manifest M --shard-index I --shard-count P --out DIR`).
 *
 * Assignment: manifest row r (0-based, file order, blank lines not counted) belongs to shard r mod P. Round-robin
 * on the row number is deterministic for a given manifest, needs no first pass to count the rows (a worker streams
 * the manifest once and parses only its own rows), gives shards sizes within one row of each other, and spreads
 * runs of big or slow images (one folder, one host) over all workers. Keys are not hashed: a hash balances only in
 * expectation and would need every key read; the price is that the manifest must not change while a job runs
 * (the done marker records its size and a re-run against a different one is refused).
 *
 * Finishing and resuming: the data files are written under temporary names and renamed into place, and only then
 * is `part-IIIII.done.json` written (atomically): counts, timings, the model's sha256. A run that finds a done
 * marker matching its model, shard count, layout and manifest returns at once (skipped); a run killed at any point
 * leaves at most hidden `.*.tmp` files (removed by the next run of that shard) and no done marker. Readers should
 * take a part as finished only when its done marker exists.
 *
 * Inputs stream through in windows of WINDOW rows: URLs of the next window are fetched (to files in a hidden
 * folder of DIR) while the current window is embedded. A row whose image cannot be fetched or decoded is an error
 * row; the shard still completes.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ZsError, usageError, wrapError } from '../errors.js';
import { int } from '../validate.js';
import { readInputRows, type InputRow } from '../data/inputs.js';
import { DEFAULT_FETCH, fetchToFile, mapLimit, type FetchOptions } from '../data/fetch-url.js';
import { hashFile } from './hash.js';
import { writeFileAtomic } from '../util/fs.js';
import { openShardWriter, shardFiles, type ShardLayout, type ShardRow, type ShardWriter } from './shard-writer.js';
import type { Model } from './model.js';

export interface ShardOptions {
  manifest: string;
  index: number;
  count: number;
  out: string;
  layout: ShardLayout;
  fetch?: FetchOptions;
  /** URLs fetched at once (default 16). */
  fetchConcurrency?: number;
  /** Rows per window (default 256). */
  window?: number;
  onProgress?: (p: { done: number; failed: number }) => void;
}

export interface ShardDone {
  format: 'zs-shard';
  version: 1;
  shard: { index: number; count: number; rule: 'row mod count' };
  layout: ShardLayout;
  manifest: { file: string; bytes: number };
  model: { id: string; sha256: string; fingerprint: string; dim: number };
  files: string[];
  counts: { rows: number; ok: number; failed: number };
  /** seconds: the whole shard; loadSeconds: model load and first inference; imagesPerSecond: rows / (seconds - loadSeconds). */
  timings: { started: string; finished: string; seconds: number; loadSeconds: number; imagesPerSecond: number };
  failures?: { key: string; path: string; error: string }[];
}

export interface ShardResult { skipped: boolean; done: ShardDone; doneFile: string }

const WINDOW = 256;

/** The shard a manifest row belongs to (see the header). */
export function shardOf(row: number, count: number): number {
  return row % count;
}

async function readDone(file: string): Promise<ShardDone | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as ShardDone;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return undefined; // an unreadable marker is no marker: the shard is redone
  }
}

const exists = (f: string) => fsp.stat(f).then(() => true, () => false);

/** Removes what a killed run of this shard left: hidden temporaries of its files and its fetch folder. */
async function clearLeftovers(dir: string, files: string[], fetchDir: string): Promise<void> {
  for (const f of files) {
    const folder = join(dir, f, '..');
    const base = f.split(/[\\/]/).pop()!;
    const names = await fsp.readdir(folder).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.startsWith(`.${base}.`) && n.endsWith('.tmp')).map((n) => fsp.rm(join(folder, n), { force: true })));
  }
  await fsp.rm(fetchDir, { recursive: true, force: true });
}

/** Fetches a window's URL rows into `fetchDir`; returns the file (or the fetch error) per row. */
async function fetchWindow(rows: InputRow[], fetchDir: string, o: ShardOptions): Promise<(string | Error)[]> {
  const urls = rows.filter((r) => r.isUrl);
  if (urls.length > 0) await fsp.mkdir(fetchDir, { recursive: true });
  const got = await mapLimit(urls, o.fetchConcurrency ?? 16, async (r) => {
    const file = join(fetchDir, `${r.row}.img`);
    await fetchToFile(r.source, file, o.fetch ?? DEFAULT_FETCH);
    return file;
  });
  let u = 0;
  return rows.map((r) => {
    if (!r.isUrl) return r.source;
    const g = got[u++]!;
    return g.status === 'fulfilled' ? g.value : (g.reason as Error);
  });
}

/** Embeds one window into shard rows, in row order. */
async function embedWindow(model: Model, rows: InputRow[], sources: (string | Error)[], write: (rows: ShardRow[]) => Promise<void>): Promise<number> {
  const ready: number[] = []; // positions in `rows` handed to the engine
  sources.forEach((s, i) => { if (typeof s === 'string') ready.push(i); });
  const out: (ShardRow | undefined)[] = rows.map((r, i) => {
    const s = sources[i]!;
    return typeof s === 'string' ? undefined : { key: r.key, path: r.source, error: s.message };
  });
  let failed = out.filter(Boolean).length;
  let next = 0; // rows before this are written
  const flush = async () => {
    const batch: ShardRow[] = [];
    while (next < rows.length && out[next]) batch.push(out[next++]!);
    if (batch.length) await write(batch);
  };
  const it = model.embedImageChunks(ready.map((i) => sources[i] as string));
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const { indices, embeddings, failures } = r.value;
    const d = embeddings.dims[1];
    indices.forEach((j, k) => {
      const i = ready[j]!;
      out[i] = { key: rows[i]!.key, path: rows[i]!.source, embedding: embeddings.data.slice(k * d, (k + 1) * d) };
    });
    for (const f of failures) {
      const i = ready[f.index]!;
      // a fetched image's message names the temporary file: name the URL instead
      out[i] = { key: rows[i]!.key, path: rows[i]!.source, error: f.error.toLine().split(sources[i] as string).join(rows[i]!.source) };
      failed++;
    }
    await flush();
  }
  await flush();
  return failed;
}

/** Runs shard `o.index` of `o.count` (see the header). */
export async function embedShard(model: Model, o: ShardOptions): Promise<ShardResult> {
  const count = int('--shard-count', o.count, 1);
  const index = int('--shard-index', o.index, 0, count - 1);
  const names = shardFiles(index, o.layout);
  const doneFile = join(o.out, names.done);
  const manifestBytes = (await fsp.stat(o.manifest).catch((e: unknown) => {
    throw usageError('E_NOT_FOUND', `no manifest file ${o.manifest}: ${(e as Error).message}`, 'check the --manifest path');
  })).size;
  const sha256 = await hashFile(model.folder.graphs.vision);
  const prior = await readDone(doneFile);
  if (prior) {
    const differs = [
      prior.model?.sha256 !== sha256 && `model (sha256 ${String(prior.model?.sha256).slice(0, 12)}..., now ${sha256.slice(0, 12)}...)`,
      prior.shard?.count !== count && `shard count (${prior.shard?.count}, now ${count})`,
      prior.layout !== o.layout && `layout (${prior.layout}, now ${o.layout})`,
      prior.manifest?.bytes !== manifestBytes && `manifest size (${prior.manifest?.bytes} bytes, now ${manifestBytes})`,
    ].filter(Boolean);
    if (differs.length > 0) {
      throw usageError('E_SHARD_MISMATCH', `${doneFile} records a finished shard made with another ${differs.join(', ')}`,
        'use a new --out folder, or delete that shard\'s files to redo it');
    }
    if ((await Promise.all(names.data.map((f) => exists(join(o.out, f))))).every(Boolean)) return { skipped: true, done: prior, doneFile };
    await fsp.rm(doneFile, { force: true });
  }
  const fetchDir = join(o.out, `.zs-fetch-${String(index).padStart(5, '0')}`);
  await fsp.mkdir(o.out, { recursive: true }).catch((e: unknown) => { throw wrapError(e, 'E_WRITE', `cannot create ${o.out}`); });
  await clearLeftovers(o.out, names.data, fetchDir);
  const started = new Date();
  const dim = await model.embeddingDim();
  const loaded = Date.now();
  const writer: ShardWriter = await openShardWriter(o.out, index, o.layout, model.info.id, dim);
  let rows = 0;
  let failed = 0;
  const failures: NonNullable<ShardDone['failures']> = [];
  const write = async (batch: ShardRow[]) => {
    if (o.layout === 'clip-retrieval') for (const r of batch) if (r.error !== undefined) failures.push({ key: r.key, path: r.path, error: r.error });
    await writer.write(batch);
  };
  try {
    const window = o.window ?? WINDOW;
    const it = readInputRows(o.manifest, (r) => shardOf(r, count) === index);
    const take = async (): Promise<InputRow[]> => {
      const w: InputRow[] = [];
      while (w.length < window) {
        const r = await it.next();
        if (r.done) break;
        w.push(r.value);
      }
      return w;
    };
    let cur = await take();
    let curSources = fetchWindow(cur, fetchDir, o);
    while (cur.length > 0) {
      const nextRows = await take();
      const nextSources = fetchWindow(nextRows, fetchDir, o); // overlaps embedding this window
      nextSources.catch(() => undefined);
      const sources = await curSources;
      failed += await embedWindow(model, cur, sources, write);
      rows += cur.length;
      await Promise.all(sources.map((s, i) => (cur[i]!.isUrl && typeof s === 'string' ? fsp.rm(s, { force: true }) : undefined)));
      o.onProgress?.({ done: rows, failed });
      cur = nextRows;
      curSources = nextSources;
    }
    const files = await writer.close();
    const secs = (Date.now() - started.getTime()) / 1000;
    const done: ShardDone = {
      format: 'zs-shard', version: 1, shard: { index, count, rule: 'row mod count' }, layout: o.layout,
      manifest: { file: o.manifest, bytes: manifestBytes },
      model: { id: model.info.id, sha256, fingerprint: await model.fingerprint(), dim },
      files, counts: { rows, ok: rows - failed, failed },
      timings: {
        started: started.toISOString(), finished: new Date().toISOString(), seconds: secs, loadSeconds: (loaded - started.getTime()) / 1000,
        imagesPerSecond: rows / Math.max((Date.now() - loaded) / 1000, 1e-3),
      },
      ...(o.layout === 'clip-retrieval' ? { failures } : {}),
    };
    await writeFileAtomic(doneFile, JSON.stringify(done, null, 1) + '\n');
    await fsp.rm(fetchDir, { recursive: true, force: true });
    return { skipped: false, done, doneFile };
  } catch (e) {
    await writer.abort();
    await fsp.rm(fetchDir, { recursive: true, force: true });
    throw e instanceof ZsError ? e : wrapError(e, 'E_SHARD', `shard ${index} of ${count} failed`);
  }
}
