/**
 * The CLI on image-classifier backbones (test/fixtures/tiny-random-<family>): zs embed, zs classify --imagenet,
 * zs probe fit/predict, the two-heads error, offline, through the built binary. Random weights: values are checked
 * against PyTorch, accuracies are not asserted.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zs, tempDir, FIXTURES, REF_DIR, REF_IMAGES, CLIP_DIR } from './_helpers.js';
import { makeColorDataset } from './helpers/color-dataset.js';

const ref = JSON.parse(readFileSync(join(REF_DIR, 'cnn-reference.json'), 'utf8')) as {
  families: Record<string, { model: string; feature_size: number; images: Record<string, { features: number[]; logits: number[] }> }>;
};
const RESNET = join(FIXTURES, ref.families.resnet!.model);
const EFFICIENTNET = join(FIXTURES, ref.families.efficientnet!.model);
const VGG = join(FIXTURES, ref.families.vgg!.model);
const { dir: tmp, cleanup } = tempDir();
const home = join(tmp, 'home');
const DATA = join(tmp, 'colors');

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

test.before(async () => {
  await makeColorDataset(DATA, { train: 6, test: 2 });
});
test.after(cleanup);

test('zs embed --model <resnet folder> writes the pooled features PyTorch computed, L2-normalized', () => {
  const r = zs(['embed', '--model', RESNET, '--threads', '1', '--cache-dir', home, REF_IMAGES]);
  assert.is(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; embedding: number[] });
  assert.is(rows.length, 4);
  for (const row of rows) {
    const name = row.path.split('/').pop()!;
    assert.is(row.embedding.length, ref.families.resnet!.feature_size);
    assert.ok(Math.abs(Math.hypot(...row.embedding) - 1) < 1e-5);
    assert.ok(cosine(row.embedding, ref.families.resnet!.images[name]!.features) >= 0.99999, name);
  }
  // a second run is answered by the embedding cache (keyed with the feature output)
  const again = zs(['embed', '--model', RESNET, '--threads', '1', '--cache-dir', home, REF_IMAGES]);
  assert.is(again.code, 0);
  assert.match(again.stderr, /4 from the cache/);
  const named = zs(['embed', '--model', RESNET, '--threads', '1', '--cache-dir', home, '--feature-output', '/avgpool/GlobalAveragePool_output_0', REF_IMAGES]);
  assert.is(named.code, 0, named.stderr);
  assert.match(named.stderr, /0 from the cache/);
});

test('zs classify --imagenet prints the backbone\'s own top-k labels, as a table and as JSON', () => {
  const table = zs(['classify', '--imagenet', '--model', VGG, '--threads', '1', '--cache-dir', home, join(REF_IMAGES, 'coffee.png')]);
  assert.is(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /IMAGE\s+LABEL\s+SCORE/);
  assert.is(lines.length, 6, 'default top 5');
  const json = zs(['classify', '--imagenet', '--model', VGG, '-k', '3', '--json', '--cache-dir', home, join(REF_IMAGES, 'coffee.png')]);
  assert.is(json.code, 0, json.stderr);
  const [res] = JSON.parse(json.stdout) as { predictions: { label: string; score: number }[] }[];
  const logits = ref.families.vgg!.images['coffee.png']!.logits;
  const labels = (JSON.parse(readFileSync(join(VGG, 'config.json'), 'utf8')) as { id2label: Record<string, string> }).id2label;
  const order = logits.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, i]) => labels[String(i)]);
  assert.equal(res!.predictions.map((p) => p.label), order);
  const z = logits.reduce((s, v) => s + Math.exp(v), 0);
  assert.ok(Math.abs(res!.predictions[0]!.score - Math.exp(Math.max(...logits)) / z) < 1e-4, 'softmax score');
  const mixed = zs(['classify', '--imagenet', '--labels', 'cat,dog', '--model', VGG, join(REF_IMAGES, 'coffee.png')]);
  assert.is(mixed.code, 2);
  assert.match(mixed.stderr, /--imagenet .* cannot be combined with --labels/);
});

test('zs probe fit --model <efficientnet folder> fits on its pooled features; predict uses the same backbone', () => {
  const probe = join(tmp, 'probe.json');
  const fit = zs(['probe', 'fit', DATA, '--model', EFFICIENTNET, '--threads', '1', '--cache-dir', home, '--out', probe]);
  assert.is(fit.code, 0, fit.stderr);
  const p = JSON.parse(readFileSync(probe, 'utf8')) as { dim: number; model: { id: string }; labels: string[] };
  assert.equal([p.dim, p.model.id, p.labels.length], [ref.families.efficientnet!.feature_size, EFFICIENTNET, 3]);
  const pred = zs(['probe', 'predict', probe, join(DATA, 'test'), '--json', '--cache-dir', home]);
  assert.is(pred.code, 0, pred.stderr);
  assert.is((JSON.parse(pred.stdout) as unknown[]).length, 6);
});

test('a classifier graph with two heads: one line naming the graph and the candidates, exit 1; --feature-output resolves it', () => {
  const dir = join(tmp, 'two-heads');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  copyFileSync(join(FIXTURES, 'onnx', 'two-heads.onnx'), join(dir, 'onnx', 'model.onnx'));
  const vitPre = JSON.parse(readFileSync(join(FIXTURES, 'tiny-random-vit', 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify({ ...vitPre, size: { height: 16, width: 16 } })); // the graph takes 16x16
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['DistilledForImageClassification'], model_type: 'distilled' }));
  const r = zs(['embed', '--model', dir, '--cache-dir', home, join(REF_IMAGES, 'coffee.png')]);
  assert.is(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /two-heads\/onnx\/model\.onnx: .*several candidate feature tensors: \S+, \S+ \(pass --feature-output NAME/);
  const name = lines[0]!.match(/tensors: (\S+),/)![1]!;
  const ok = zs(['embed', '--model', dir, '--cache-dir', home, '--feature-output', name, join(REF_IMAGES, 'coffee.png')]);
  assert.is(ok.code, 0, ok.stderr);
  assert.ok(existsSync(join(home, 'graphs')));
});

test('zs bench --model <cnn>,<clip> writes one report for both backbones offline', () => {
  const out = join(tmp, 'bench');
  const args = ['bench', DATA, '--model', `${RESNET},${CLIP_DIR}`, '--threads', '1', '--shots', '1,2', '--seeds', '1', '--templates', 'cifar10', '--cache-dir', home, '--out', out];
  const r = zs(args);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Linear probe top-1 with 2 shots per class: /);
  assert.match(r.stderr, /backbone 1 of 2: .*tiny-random-resnet/);
  const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { kind: string; backbones: { model: { id: string }; zeroShot: unknown[] }[] };
  assert.equal(res.backbones.map((b) => [b.model.id, b.zeroShot.length > 0]), [[RESNET, false], [CLIP_DIR, true]]);
  assert.ok(existsSync(join(out, 'chart.svg')) && existsSync(join(out, 'report.md')));
  const bad = zs([...args, '--force', '--feature-output', 'x']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--feature-output names a tensor of one graph/);
});

test.run();
