/**
 * The embedding engine (src/embed/engine*.ts) through Model.embedImages / embedImageChunks and embedStream:
 * worker-thread pipelining gives the simple path's embeddings in input order, failures mid-batch are reported,
 * the cache answers without computing, changed files and models are recomputed, cache: false bypasses it, and a
 * full cache stops the run with E_CACHE_FULL leaving what was committed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/embed/model.js';
import { embedStream, type EmbedChunk, type EmbedStats } from '../src/embed/engine.js';
import { mainThreadPrep } from '../src/embed/engine-prep.js';
import { EmbeddingCache, cacheFile } from '../src/embed/cache.js';
import { ZsError } from '../src/errors.js';
import { CLIP_DIR, REF_IMAGES, tempDir } from './_helpers.js';

const NAMES = ['chelsea.png', 'coffee.png', 'chelsea_q90.jpg', 'gradient_320x200.png'];
const REF = NAMES.map((n) => join(REF_IMAGES, n));
const { dir: tmp, cleanup } = tempDir('zs-engine-');

/** Embeds one image at a time the plain way: preprocess on this thread, one inference per image. */
async function simplePath(model: Model, paths: string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of paths) {
    const pix = await model.preprocess.run(p);
    out.push((await model.embedPixels(pix, 1)).data);
  }
  return out;
}

/** The counts of a run's stats (its timings vary from run to run). */
function counts(s: EmbedStats): Omit<EmbedStats, 'timings'> {
  const { timings: _, ...rest } = s;
  return rest;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('workers and the main-thread path give the simple path\'s embeddings, in order, past failures mid-batch', async () => {
  const bad = join(tmp, 'not-an-image.jpg');
  writeFileSync(bad, 'hello');
  // 11 inputs, batch 3: failures in the middle and at the end of batches, a missing file, repeated images
  const inputs = [REF[0]!, REF[1]!, bad, REF[2]!, REF[3]!, join(tmp, 'missing.png'), REF[1]!, REF[0]!, bad, REF[3]!, REF[2]!];
  const good = inputs.map((_, i) => i).filter((i) => ![2, 5, 8].includes(i));
  for (const workers of [2, 0]) {
    const model = await Model.load(CLIP_DIR, { threads: 1, workers, batchSize: 3 });
    const expected = await simplePath(model, good.map((i) => inputs[i]!));
    const r = await model.embedImages(inputs);
    assert.equal(r.indices, good, `workers ${workers}`);
    assert.equal(r.failures.map((f) => f.index), [2, 5, 8]);
    assert.match(r.failures[0]!.error.message, /not-an-image\.jpg/);
    assert.match(r.failures[1]!.error.message, /missing\.png/);
    assert.is(r.failures[0]!.input, bad);
    const d = r.embeddings.dims[1];
    good.forEach((_, k) => {
      const diff = maxDiff(r.embeddings.data.subarray(k * d, (k + 1) * d), expected[k]!);
      assert.ok(diff < 1e-5, `workers ${workers}, row ${k}: max |diff| ${diff}`);
    });
    assert.equal(counts(r.stats), { total: 11, computed: 8, cached: 0, failed: 3, batches: 4 });
    await model.close();
  }
});

test('buffers (including views into larger buffers) embed like their files', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, batchSize: 2 });
  const bytes = readFileSync(REF[1]!);
  const big = new Uint8Array(bytes.length + 100);
  big.set(bytes, 50);
  const r = await model.embedImages([REF[1]!, bytes, big.subarray(50, 50 + bytes.length), new Uint8Array([1, 2, 3])]);
  assert.equal(r.indices, [0, 1, 2]);
  assert.match(r.failures[0]!.input, /image #4 \(buffer\)/);
  const d = r.embeddings.dims[1];
  for (const k of [1, 2]) assert.ok(maxDiff(r.embeddings.data.subarray(k * d, (k + 1) * d), r.embeddings.data.subarray(0, d)) === 0);
  await model.close();
});

test('embedImageChunks streams consecutive chunks that add up to the whole', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, batchSize: 2 });
  const inputs = [...REF, ...REF, ...REF];
  const whole = await model.embedImages(inputs);
  const it = model.embedImageChunks(inputs);
  const chunks: EmbedChunk[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) chunks.push(r.value);
  assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
  const indices = chunks.flatMap((c) => c.indices);
  assert.equal(indices, whole.indices);
  const data = Float32Array.from(chunks.flatMap((c) => Array.from(c.embeddings.data)));
  assert.is(maxDiff(data, whole.embeddings.data), 0);
  await model.close();
});

test('a warm cache computes nothing; changed files, other content and another decode mode are recomputed', async () => {
  const cacheDir = join(tmp, 'c1');
  const imgs = join(tmp, 'imgs');
  mkdirSync(imgs, { recursive: true });
  const files = NAMES.map((n) => join(imgs, n));
  NAMES.forEach((n, i) => cpSync(REF[i]!, files[i]!));
  const load = (fastDecode = true) => Model.load(CLIP_DIR, { threads: 1, workers: 1, batchSize: 3, cache: true, cacheDir, fastDecode });

  let model = await load();
  const cold = await model.embedImages(files);
  assert.equal(counts(cold.stats), { total: 4, computed: 4, cached: 0, failed: 0, batches: 2 });
  assert.ok(cold.stats.timings.inferMs > 0 && cold.stats.timings.prepWaitMs >= 0, 'the batch loop reports where its time went');
  await model.close();

  model = await load();
  const warm = await model.embedImages(files);
  assert.equal(counts(warm.stats), { total: 4, computed: 0, cached: 4, failed: 0, batches: 0 });
  assert.equal(warm.stats.timings, { inferMs: 0, prepWaitMs: 0 }, 'a run the cache answers neither infers nor preprocesses');
  assert.is(maxDiff(warm.embeddings.data, cold.embeddings.data), 0);
  // same content under another name: a hit by content hash
  cpSync(REF[0]!, join(imgs, 'copy.png'));
  const copy = await model.embedImages([join(imgs, 'copy.png')]);
  assert.is(copy.stats.cached, 1);
  // a file whose content changed is recomputed and gets the new content's embedding
  cpSync(REF[1]!, files[0]!);
  const changed = await model.embedImages(files);
  assert.is(changed.stats.computed, 0, 'coffee.png\'s content is already cached');
  const d = changed.embeddings.dims[1];
  assert.is(maxDiff(changed.embeddings.data.subarray(0, d), cold.embeddings.data.subarray(d, 2 * d)), 0);
  writeFileSync(files[0]!, readFileSync(REF[2]!).subarray(0)); // a JPEG under a .png name: content decides
  const again = await model.embedImages([files[0]!]);
  assert.is(again.stats.cached, 1);
  await model.close();

  // exact decoding is another fingerprint: recomputed, then cached under it too
  model = await load(false);
  const fpExact = await model.fingerprint();
  const exact = await model.embedImages(files);
  assert.is(exact.stats.computed, 4);
  await model.close();
  model = await load(true);
  assert.is.not(await model.fingerprint(), fpExact);
  await model.close();

  const store = await EmbeddingCache.open(cacheFile(cacheDir));
  const info = store.info();
  store.close();
  assert.is(info.models.length, 2);
  assert.equal(info.models.map((m) => m.entries).sort(), [3, 4], 'exact: three distinct contents left; fast: all four');
});

test('cache: false neither reads nor writes the cache', async () => {
  const cacheDir = join(tmp, 'c2');
  let model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, cache: true, cacheDir });
  await model.embedImages(REF.slice(0, 2));
  await model.close();
  model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, cache: false, cacheDir });
  const r = await model.embedImages(REF);
  assert.is(r.stats.computed, 4);
  assert.is(r.stats.cached, 0);
  await model.close();
  const store = await EmbeddingCache.open(cacheFile(cacheDir));
  assert.is(store.info().models[0]!.entries, 2);
  store.close();
});

test('the cache is transparent to an explicit pixel limit: a cached image over it is still refused', async () => {
  const cacheDir = join(tmp, 'c4');
  let model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, cache: true, cacheDir });
  assert.is((await model.embedImages(REF.slice(0, 2))).stats.computed, 2);
  await model.close();
  model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, cache: true, cacheDir, maxPixels: 200 * 200 });
  const r = await model.embedImages(REF.slice(0, 2)); // chelsea.png is 451x300, coffee.png 600x400
  assert.equal(r.indices, []);
  assert.equal(r.failures.map((f) => f.error.code), ['E_IMAGE_TOO_LARGE', 'E_IMAGE_TOO_LARGE']);
  await model.close();
  model = await Model.load(CLIP_DIR, { threads: 1, workers: 1, cache: true, cacheDir, maxPixels: 1000 * 1000 });
  assert.is((await model.embedImages(REF.slice(0, 2))).stats.cached, 2);
  await model.close();
});

test('a full cache stops the run with E_CACHE_FULL; committed batches stay and are reused', async () => {
  const file = join(tmp, 'full', 'embeddings.sqlite');
  const model = await Model.load(CLIP_DIR, { threads: 1, workers: 0 });
  const store = await EmbeddingCache.open(file, { maxBytes: 128 * 1024 });
  const fingerprint = await model.fingerprint();
  const prep = mainThreadPrep(model.preprocess);
  const { height: h, width: w } = model.preprocess;
  // distinct contents (so every image is a new key): 224x224 crops (no resample needed) of the reference photo
  const sharp = (await import('sharp')).default;
  const raw = await sharp(REF[0]!).raw().toBuffer({ resolveWithObject: true });
  const inputs: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    inputs.push(await sharp(raw.data, { raw: raw.info }).extract({ left: i % 40, top: Math.floor(i / 40), width: 224, height: 224 })
      .png({ compressionLevel: 0 }).toBuffer());
  }
  const run = (cache: EmbeddingCache) => embedStream(inputs, {
    batchSize: 8, floats: 3 * h * w, prep, infer: (p, n) => model.embedPixels(p, n),
    cache: { store: cache, fingerprint, name: 'tiny' },
  });
  let stored = 0;
  try {
    for await (const c of run(store)) stored += c.indices.length;
    assert.unreachable('expected E_CACHE_FULL');
  } catch (e) {
    assert.instance(e, ZsError, String(e));
    assert.is((e as ZsError).code, 'E_CACHE_FULL');
    assert.match((e as ZsError).toLine(), /free space or use --no-cache/);
  }
  store.close();
  const reopened = await EmbeddingCache.open(file);
  const entries = reopened.info().models[0]!.entries;
  assert.ok(entries > 0 && entries % 8 === 0 && entries <= stored, `${entries} entries, ${stored} emitted`);
  // rerun (now without the cap) computes only what was not committed
  const it = run(reopened);
  let r = await it.next();
  while (!r.done) r = await it.next();
  assert.is(r.value.cached, entries);
  assert.is(r.value.computed, 200 - entries);
  reopened.close();
  await model.close();
});

test('a partial batch runs when many results wait behind one image in preprocessing', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, workers: 0 });
  const cacheFilePath = join(tmp, 'c3', 'embeddings.sqlite');
  const store = await EmbeddingCache.open(cacheFilePath);
  const fingerprint = await model.fingerprint();
  const { height: h, width: w } = model.preprocess;
  const opts = (chunk: number) => ({
    batchSize: 16, floats: 3 * h * w, prep: mainThreadPrep(model.preprocess), chunk,
    infer: (p: Float32Array, n: number) => model.embedPixels(p, n), cache: { store, fingerprint, name: 'tiny' },
  });
  for await (const _ of embedStream([REF[0]!], opts(4))) { /* cache REF[0] */ }
  // 1 miss then 40 hits: with chunk 4, the lone miss must not wait for 15 more misses before anything is emitted
  const inputs = [REF[1]!, ...Array.from({ length: 40 }, () => REF[0]!)];
  let first: EmbedChunk | undefined;
  const it = embedStream(inputs, opts(4));
  let r = await it.next();
  first = r.done ? undefined : r.value;
  while (!r.done) r = await it.next();
  assert.ok(first && first.indices[0] === 0);
  assert.equal(counts(r.value), { total: 41, computed: 1, cached: 40, failed: 0, batches: 1 });
  store.close();
  await model.close();
});

test.after(cleanup);
test.run();
