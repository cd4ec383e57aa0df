/**
 * index / search / findDuplicates on real images with the tiny CLIP fixture: incremental runs (added, updated,
 * removed, unchanged counts; an unchanged run never loads the vision graph), exact search against brute force over
 * the model's own embeddings, a planted duplicate, an unreadable file among good ones, and the faults: nothing
 * indexed, a model the index does not hold, the index locked by another writer.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/embed/model.js';
import { index } from '../src/search/indexer.js';
import { search, findDuplicates, SearchIndex } from '../src/search/api.js';
import { IndexStore, indexDir } from '../src/search/store.js';
import { ZsError } from '../src/errors.js';
import { tempDir, CLIP_DIR, VIT_DIR, REF_IMAGES } from './_helpers.js';

const { dir: tmp, cleanup } = tempDir('zs-search-index-');
const HOME = join(tmp, 'home');
const LIB = join(tmp, 'lib');
const opts = { model: CLIP_DIR, cacheDir: HOME, load: { threads: 1, workers: 0 }, racyWindowMs: 0 };

mkdirSync(join(LIB, 'cats'), { recursive: true });
mkdirSync(join(LIB, 'other'), { recursive: true });
cpSync(join(REF_IMAGES, 'chelsea.png'), join(LIB, 'cats', 'chelsea.png'));
cpSync(join(REF_IMAGES, 'chelsea_q90.jpg'), join(LIB, 'cats', 'chelsea_q90.jpg'));
cpSync(join(REF_IMAGES, 'coffee.png'), join(LIB, 'other', 'coffee.png'));
cpSync(join(REF_IMAGES, 'gradient_320x200.png'), join(LIB, 'other', 'gradient.png'));

async function thrown(p: Promise<unknown>): Promise<ZsError> {
  try { await p; } catch (e) { assert.instance(e, ZsError); return e as ZsError; }
  throw new Error('expected a ZsError');
}

test('faults before anything is indexed: a clear E_INDEX_EMPTY', async () => {
  const e = await thrown(search('a cat', opts));
  assert.is(e.code, 'E_INDEX_EMPTY');
  assert.match(e.toLine(), 'zs index');
});

test('index is incremental: added, then unchanged (graph not loaded), then added / updated / removed', async () => {
  const r1 = await index([LIB], opts);
  assert.equal([r1.total, r1.added, r1.updated, r1.removed, r1.unchanged, r1.failed, r1.indexed], [4, 4, 0, 0, 0, 0, 4]);
  const model = await Model.load(CLIP_DIR, { cacheDir: HOME, cache: true, lazy: true, threads: 1, workers: 0 });
  const r2 = await index([LIB], { ...opts, model });
  assert.equal([r2.added, r2.updated, r2.removed, r2.unchanged], [0, 0, 0, 4]);
  assert.ok(Number.isNaN(model.info.dim), 'the vision graph never ran');
  await model.close();
  // change one file's content, delete one, add one
  writeFileSync(join(LIB, 'other', 'coffee.png'), readFileSync(join(REF_IMAGES, 'gradient_320x200.png')));
  rmSync(join(LIB, 'other', 'gradient.png'));
  cpSync(join(REF_IMAGES, 'coffee.png'), join(LIB, 'cats', 'new.png'));
  const r3 = await index([LIB], opts);
  assert.equal([r3.total, r3.added, r3.updated, r3.removed, r3.unchanged, r3.indexed], [4, 1, 1, 1, 2, 4]);
  // a touched but identical file is re-read and found unchanged
  writeFileSync(join(LIB, 'cats', 'new.png'), readFileSync(join(REF_IMAGES, 'coffee.png')));
  const r4 = await index([LIB], opts);
  assert.equal([r4.added, r4.updated, r4.removed, r4.unchanged], [0, 0, 0, 4]);
});

test('search returns the exact nearest neighbours (brute force over the model\'s embeddings), text and image queries', async () => {
  const model = await Model.load(CLIP_DIR, { cacheDir: HOME, cache: true, threads: 1, workers: 0 });
  const paths = ['cats/chelsea.png', 'cats/chelsea_q90.jpg', 'cats/new.png', 'other/coffee.png'].map((p) => join(LIB, p));
  const { embeddings: e } = await model.embedImages(paths);
  const d = e.dims[1];
  const brute = (q: Float32Array) => paths.map((p, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += q[j]! * e.data[i * d + j]!;
    return { path: p, score: s };
  }).sort((a, b) => b.score - a.score);
  const q = (await model.embedTexts(['a photo of a cat'])).data;
  const ix = await SearchIndex.open({ model, cacheDir: HOME });
  try {
    for (const k of [1, 3, 10]) {
      const got = await ix.search('a photo of a cat', { topK: k });
      const want = brute(q).slice(0, k);
      assert.equal(got.map((h) => h.path), want.map((h) => h.path));
      got.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) < 1e-9));
    }
    const byImage = await ix.search({ image: join(REF_IMAGES, 'chelsea.png') }, { topK: 2 });
    assert.is(byImage[0]!.path, join(LIB, 'cats', 'chelsea.png'));
    assert.ok(byImage[0]!.score > 0.9999);
    const inOther = await ix.search('a photo of a cat', { topK: 5, in: join(LIB, 'other') });
    assert.equal(inOther.map((h) => h.path), [join(LIB, 'other', 'coffee.png')]);
  } finally {
    await ix.close();
    await model.close();
  }
});

test('findDuplicates: a planted copy forms the only group at a strict threshold', async () => {
  cpSync(join(REF_IMAGES, 'chelsea.png'), join(LIB, 'other', 'chelsea-copy.png'));
  await index([LIB], opts);
  const groups = await findDuplicates(LIB, { ...opts, threshold: 0.99999 });
  assert.equal(groups.map((g) => g.paths), [[join(LIB, 'cats', 'chelsea.png'), join(LIB, 'other', 'chelsea-copy.png')]]);
  assert.ok(Math.abs(groups[0]!.scores[0]! - 1) < 1e-6);
  assert.ok(groups[0]!.scores[1]! > 0.99999);
});

test('an unreadable file among good ones is reported and skipped; the rest are indexed', async () => {
  const bad = join(LIB, 'other', 'broken.jpg');
  writeFileSync(bad, 'not a jpeg at all');
  const failed: string[] = [];
  const r = await index([LIB], { ...opts, onFailure: (f) => failed.push(f.path) });
  assert.equal(failed, [bad]);
  assert.equal([r.failed, r.indexed], [1, 5]);
  rmSync(bad);
});

test('model mismatch: the index holds another model -> E_INDEX_MODEL naming it', async () => {
  const e = await thrown(search({ image: join(REF_IMAGES, 'chelsea.png') }, { model: VIT_DIR, cacheDir: HOME, load: { threads: 1, workers: 0 } }));
  assert.is(e.code, 'E_INDEX_MODEL');
  assert.match(e.message, 'tiny-random-clip');
});

test('a second writer waits, then fails with E_INDEX_BUSY; the index is intact', async () => {
  const store = (await IndexStore.open(indexDir(HOME), { create: true }))!;
  const unlock = await store.lockWriter(1000);
  try {
    const t0 = Date.now();
    const e = await thrown(index([LIB], { ...opts, waitMs: 300 }));
    assert.is(e.code, 'E_INDEX_BUSY');
    assert.ok(Date.now() - t0 >= 250, 'it waited');
  } finally {
    unlock();
    store.close();
  }
  const r = await index([LIB], opts);
  assert.equal([r.added, r.updated, r.removed, r.indexed], [0, 0, 0, 5]);
});

test.after(cleanup);
test.run();
