/**
 * zs probe fit --head, predict, eval and zs classify --probe end to end with the tiny random CLIP on a small
 * generated image folder, and the one-line refusals (another model, a hand-edited file, a head without the text
 * tower it needs). Random weights: nothing here asserts an accuracy value.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { zs, tempDir, CLIP_DIR, VIT_DIR } from './_helpers.js';

const { dir: tmp, cleanup } = tempDir();
const DATA = join(tmp, 'colors');
const CLASSES = { red_thing: [220, 40, 40], green_thing: [40, 200, 60], blue_thing: [40, 60, 220] } as const;
const common = ['--model', CLIP_DIR, '--threads', '1'];

test.before(async () => {
  let seed = 5;
  for (const [name, rgb] of Object.entries(CLASSES)) {
    for (const part of ['train', 'test'] as const) {
      mkdirSync(join(DATA, part, name), { recursive: true });
      for (let i = 0; i < (part === 'train' ? 6 : 2); i++) {
        const w = 30 + (i % 5), h = 28;
        const px = Buffer.alloc(w * h * 3);
        for (let p = 0; p < w * h; p++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          for (let c = 0; c < 3; c++) px[p * 3 + c] = Math.max(0, Math.min(255, rgb[c]! + ((seed >>> (8 * c)) & 63) - 32));
        }
        await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(DATA, part, name, `${i}.png`));
      }
    }
  }
});

test('probe fit --head for every head, then predict, eval and classify --probe use the file', () => {
  for (const head of ['linear', 'anchored', 'wise', 'tip', 'gda', 'finetune']) {
    const out = join(tmp, `${head}.json`);
    const fit = zs(['probe', 'fit', DATA, ...common, '--head', head, '--out', out, '--json']);
    assert.is(fit.code, 0, `${head}: ${fit.stderr}`);
    const summary = JSON.parse(fit.stdout) as { head: string; labels: string[] };
    assert.is(summary.head, head);
    const file = JSON.parse(readFileSync(out, 'utf8')) as { schema: number; head: string; headVersion: number };
    assert.equal([file.schema, file.head, file.headVersion], [2, head, 1]);
    const pred = zs(['probe', 'predict', out, join(DATA, 'test'), '--threads', '1', '--json']);
    assert.is(pred.code, 0, pred.stderr);
    const rows = JSON.parse(pred.stdout) as { path: string; predictions: { label: string; score: number }[] }[];
    assert.is(rows.length, 6);
    for (const r of rows) {
      assert.is(r.predictions.length, 3);
      assert.ok(Math.abs(r.predictions.reduce((s, p) => s + p.score, 0) - 1) < 1e-6);
    }
    const cls = zs(['classify', '--probe', out, join(DATA, 'test'), '--threads', '1', '--json']);
    assert.is(cls.code, 0, cls.stderr);
    assert.equal(JSON.parse(cls.stdout), rows, 'classify --probe gives what probe predict gives');
    const ev = zs(['probe', 'eval', out, DATA, '--threads', '1', '--json']);
    assert.is(ev.code, 0, ev.stderr);
    const e = JSON.parse(ev.stdout) as { n: number; top1: number };
    assert.is(e.n, 6);
    assert.ok(e.top1 >= 0 && e.top1 <= 1);
  }
});

test('refusals, one line each: hand-edited file, another model, a head needing text on an image-only model, bad --head', () => {
  const out = join(tmp, 'gda.json');
  const json = JSON.parse(readFileSync(out, 'utf8'));
  json.params.W[1][3] = 'x';
  const edited = join(tmp, 'edited.json');
  writeFileSync(edited, JSON.stringify(json));
  const r1 = zs(['probe', 'predict', edited, join(DATA, 'test'), '--threads', '1']);
  assert.is(r1.code, 1);
  assert.match(r1.stderr, /params\.W\[1\]\[3\] is "x", not a number/);
  assert.is(r1.stderr.trim().split('\n').filter((l) => l.startsWith('zs:')).length, 1);
  const r2 = zs(['classify', '--probe', out, '--model', VIT_DIR, join(DATA, 'test'), '--threads', '1']);
  assert.is(r2.code, 2);
  assert.match(r2.stderr, /was made for model/);
  const r3 = zs(['probe', 'fit', DATA, '--model', VIT_DIR, '--threads', '1', '--head', 'tip', '--out', join(tmp, 'x.json')]);
  assert.is(r3.code, 2);
  assert.match(r3.stderr, /head tip needs the class text embeddings, but .* has no text tower/);
  const r4 = zs(['probe', 'fit', DATA, ...common, '--head', 'magic', '--out', join(tmp, 'y.json')]);
  assert.is(r4.code, 2);
  assert.match(r4.stderr, /unknown --head "magic"/);
  const r5 = zs(['classify', '--probe', out, '--labels', 'a,b', join(DATA, 'test')]);
  assert.is(r5.code, 2);
  assert.match(r5.stderr, /--probe brings its own labels/);
});

test('finetune: the fine-tuned projection is saved with the head and differs from the graph\'s', async () => {
  const file = JSON.parse(readFileSync(join(tmp, 'finetune.json'), 'utf8')) as { input: string; dim: number; params: { feature: string; projection: number[][]; embedDim: number } };
  assert.is(file.input, 'pre-projection');
  assert.match(file.params.feature, /post_layernorm/);
  const { readProjection } = await import('../src/heads/projection.js');
  const proj = await readProjection(join(CLIP_DIR, 'onnx', 'vision_model.onnx'));
  assert.equal([file.dim, file.params.embedDim], [proj.p, proj.d]);
  let diff = 0;
  file.params.projection.forEach((row, k) => row.forEach((v, j) => { diff = Math.max(diff, Math.abs(v - proj.W0[k * proj.p + j]!)); }));
  assert.ok(diff > 1e-4, `moved by ${diff}`);
  const r = zs(['probe', 'fit', DATA, '--model', VIT_DIR, '--threads', '1', '--head', 'finetune', '--out', join(tmp, 'z.json')]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /zs: .*(no image_embeds output|no text tower)/);
});

test('gda on an image-only model: the discriminant alone', () => {
  const out = join(tmp, 'vit-gda.json');
  const r = zs(['probe', 'fit', DATA, '--model', VIT_DIR, '--threads', '1', '--head', 'gda', '--out', out, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is((JSON.parse(r.stdout) as { settings: { zeroShot: boolean } }).settings.zeroShot, false);
  const p = zs(['probe', 'predict', out, join(DATA, 'test'), '--threads', '1', '--json']);
  assert.is(p.code, 0, p.stderr);
});

test.after(() => cleanup());
test.run();
