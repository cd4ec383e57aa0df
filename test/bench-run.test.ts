/**
 * zs bench end to end on a small generated image folder with the tiny random CLIP: the protocol (shots per class
 * actually used, validation sizes, skipped k, reproducibility with the same seeds), the report files, bad input.
 * Random weights make accuracies meaningless, so nothing here asserts an accuracy value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/embed/model.js';
import { runBench } from '../src/bench/run.js';
import { ZsError } from '../src/errors.js';
import { zs, tempDir, CLIP_DIR } from './_helpers.js';
import { makeColorDataset, COLOR_CLASSES } from './helpers/color-dataset.js';

const { dir: tmp, cleanup } = tempDir();
const DATA = join(tmp, 'colors');

test.before(async () => {
  await makeColorDataset(DATA, { train: 10, test: 4 });
});

test('the protocol: k shots and min(k, 4) validation rows per class, k too large skipped with a note, same seeds same numbers', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, cacheDir: join(tmp, 'home') });
  const opts = { data: DATA, shots: [1, 2, 4, 8, 'all'] as (number | 'all')[], seeds: 2, templates: ['a photo of a {}.', 'a drawing of a {}.'], zsVersion: 'test' };
  const warnings: string[] = [];
  const r = await runBench(model, { ...opts, onWarning: (m) => warnings.push(m) });
  assert.is(r.dataset.nTrain, 30);
  assert.is(r.dataset.nTest, 12);
  assert.equal(r.dataset.classes.map((c) => c.prompt), ['blue_thing', 'green_thing', 'red_thing']);
  assert.equal(r.zeroShot.map((z) => z.templates), [1, 2]);
  // 8 shots need 8 + 4 = 12 training images per class; there are 10
  assert.equal(r.skipped.map((s) => s.shots), [8]);
  assert.ok(warnings.some((w) => /skipping 8 shots/.test(w)));
  assert.equal(r.heads.map((h) => h.name), ['linear probe', 'anchored probe', 'WiSE mix', 'Tip-Adapter', 'GDA']);
  assert.equal(r.best.map((b) => b.shots), [1, 2, 4, 'all']);
  for (const b of r.best) assert.ok(Math.abs(b.margin! - (b.top1 - b.baseline!)) < 1e-12 && b.margin! >= 0);
  for (const h of r.heads) {
    assert.equal(h.shots.map((s) => s.shots), [1, 2, 4, 'all']);
    for (const s of h.shots) {
      assert.equal(s.seeds.map((x) => x.seed), [0, 1]);
      for (const x of s.seeds) {
        if (s.shots === 'all') {
          assert.is(x.nTrain, 30); // refit on train + validation: every training image
          assert.is(x.nVal, 6);
        } else {
          assert.is(x.trainPerClass, s.shots);
          assert.is(x.nTrain, 3 * (s.shots as number));
          assert.is(x.valPerClass, Math.min(s.shots as number, 4));
          assert.is(x.nVal, 3 * Math.min(s.shots as number, 4));
        }
        assert.ok(x.top1 >= 0 && x.top1 <= 1);
      }
    }
  }
  const again = await runBench(model, opts);
  const numbers = (x: typeof r) => JSON.stringify(x.heads.map((h) => h.shots.map((s) => s.seeds.map((q) => [q.top1, q.C]))));
  assert.is(numbers(again), numbers(r), 'same seeds, same results');
  // fitted heads are kept: a second run over the same data refits nothing and gives the same numbers
  const headCache = join(tmp, 'head-cache');
  const fits: boolean[] = [];
  const first = await runBench(model, { ...opts, headCache, onFit: (f) => fits.push(f.cached) });
  assert.ok(fits.length === 40 && fits.every((c) => !c), `first run: ${fits.length} fits`);
  fits.length = 0;
  const second = await runBench(model, { ...opts, headCache, onFit: (f) => fits.push(f.cached) });
  assert.ok(fits.length === 40 && fits.every((c) => c), 'second run: every head from the cache');
  assert.is(numbers(second), numbers(first));
  assert.is(numbers(second), numbers(r));
  fits.length = 0;
  await runBench(model, { ...opts, seed: 1, seeds: 1, headCache, onFit: (f) => fits.push(f.cached) });
  assert.ok(fits.every((c) => c), 'seed 1 was fitted in the first run');
  fits.length = 0;
  await runBench(model, { ...opts, seed: 2, seeds: 1, headCache, onFit: (f) => fits.push(f.cached) });
  assert.ok(fits.every((c) => !c), 'seed 2 is new');
  const other = await runBench(model, { ...opts, seed: 5, seeds: 1, shots: [2] });
  assert.equal(other.protocol.seeds, [5]);
  await model.close();
});

test('finetune runs on pre-projection features of the same images and is cached like the others', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, cacheDir: join(tmp, 'home') });
  const opened: string[] = [];
  const openPreProjection = (featureOutput: string) => { opened.push(featureOutput); return Model.load(CLIP_DIR, { threads: 1, cacheDir: join(tmp, 'home'), featureOutput }); };
  const headCache = join(tmp, 'head-cache-ft');
  const opts = { data: DATA, shots: [1, 2] as number[], seeds: 1, templates: ['a photo of a {}.'], zsVersion: 'test', heads: ['linear', 'finetune'] as never, headCache, openPreProjection };
  const cached: boolean[] = [];
  const r = await runBench(model, { ...opts, onFit: (f) => cached.push(f.cached) });
  assert.equal(r.heads.map((h) => h.name), ['linear probe', 'fine-tuned projection']);
  assert.equal(opened.length, 1);
  assert.match(opened[0]!, /post_layernorm/);
  const ft = r.heads[1]!.shots.map((s) => s.seeds[0]!);
  for (const x of ft) assert.ok(x.C === 1 / x.trainPerClass, `lambda = 1/k: ${x.C}`);
  const again = await runBench(model, { ...opts, onFit: (f) => cached.push(f.cached) });
  assert.equal(cached, [false, false, false, false, true, true, true, true]);
  assert.equal(again.heads[1]!.shots.map((s) => s.top1.mean), r.heads[1]!.shots.map((s) => s.top1.mean));
  await model.close();
});

test('a folder without train/ and test/ is split by --test-split with the seed', async () => {
  const flat = join(tmp, 'flat');
  await makeColorDataset(join(tmp, 'flat-src'), { train: 6, test: 0 });
  // move the train/ classes up one level: flat/<class>/*.png
  for (const name of Object.keys(COLOR_CLASSES)) {
    mkdirSync(join(flat, name), { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(flat, name, `${i}.png`), readFileSync(join(tmp, 'flat-src', 'train', name, `train-${i}.png`)));
  }
  const model = await Model.load(CLIP_DIR, { threads: 1, cacheDir: join(tmp, 'home') });
  const r = await runBench(model, { data: flat, shots: [1], seeds: 1, templates: ['a photo of a {}.'], testSplit: 0.5, zsVersion: 'test' });
  assert.equal(r.dataset.layout, 'split');
  assert.is(r.dataset.nTest, 9);
  assert.is(r.dataset.nTrain, 9);
  assert.is(r.zeroShot.length, 1);
  await model.close();
});

test('bad input: unknown head, bad shots, an image encoder', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, cacheDir: join(tmp, 'home') });
  for (const [o, re] of [[{ heads: ['linear', 'magic'] }, /unknown head "magic"/], [{ shots: [0] }, /shots/], [{ seeds: 0 }, /seeds/]] as const) {
    try {
      await runBench(model, { data: DATA, templates: ['a {}'], zsVersion: 'test', ...(o as object) });
      assert.unreachable('expected an error');
    } catch (e) {
      assert.instance(e, ZsError);
      assert.match((e as Error).message, re);
    }
  }
  await model.close();
});

test('zs bench writes report.md, results.json and chart.svg, and refuses an existing --out without --force', () => {
  const out = join(tmp, 'report');
  const args = ['bench', DATA, '--model', CLIP_DIR, '--threads', '1', '--shots', '1,2', '--seeds', '1', '--templates', 'cifar10', '--out', out, '--cache-dir', join(tmp, 'home')];
  const r = zs(args);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /zero-shot/i);
  for (const f of ['report.md', 'results.json', 'chart.svg']) assert.ok(existsSync(join(out, f)), f);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { schema: number; heads: unknown[] };
  assert.is(results.schema, 1);
  assert.is(results.heads.length, 6);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /fine-tuned projection/);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /linear probe/);
  const again = zs(args);
  assert.is(again.code, 2);
  assert.match(again.stderr, /already exists.*--force/);
  assert.is(zs([...args, '--force']).code, 0);
  const bad = zs(['bench', DATA, '--model', CLIP_DIR, '--heads', 'linear,oracle', '--out', join(tmp, 'r2')]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /unknown head "oracle"/);
});

test.after(cleanup);
test.run();
