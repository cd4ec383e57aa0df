/**
 * src/models/feature-graph.ts on the CNN fixtures (test/fixtures/tiny-random-<family>, PyTorch-exported): the edited
 * graph returns the pooled features and logits PyTorch computed for the reference pixels, is cached by the original's
 * sha256 and reused, and --feature-output / bad graphs behave.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { featureGraph } from '../src/models/feature-graph.js';
import { ZsError } from '../src/errors.js';
import { FIXTURES, REF_DIR, tempDir } from './_helpers.js';

interface Family {
  model: string; pixels: string; classifier_input: string; feature_size: number; num_labels: number; height: number; width: number;
  images: Record<string, { features: number[]; logits: number[] }>;
}
const ref = JSON.parse(readFileSync(join(REF_DIR, 'cnn-reference.json'), 'utf8')) as { families: Record<string, Family> };

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

function pixels(fam: Family, image: string): Float32Array {
  const b = readFileSync(join(REF_DIR, 'cnn-pixels', fam.pixels, `${image}.f32`));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const graphOf = (fam: Family) => join(FIXTURES, fam.model, 'onnx', 'model.onnx');

function throwsZs(e: unknown, code: string, ...parts: string[]): void {
  assert.instance(e, ZsError);
  assert.is((e as ZsError).code, code);
  const line = (e as ZsError).toLine();
  assert.not.match(line, '\n');
  for (const p of parts) assert.ok(line.includes(p), `${JSON.stringify(p)} in ${line}`);
}

test('each family: the detected feature and the kept logits equal PyTorch on the reference pixels', async () => {
  const ort = await import('onnxruntime-node');
  const home = tempDir();
  try {
    for (const [name, fam] of Object.entries(ref.families)) {
      const g = await featureGraph(graphOf(fam), { home: home.dir });
      assert.is(g.feature, fam.classifier_input, name);
      assert.is(g.reused, false);
      const images = Object.keys(fam.images);
      const px = new Float32Array(images.length * 3 * fam.height * fam.width); // [n, 3, H, W]
      images.forEach((im, i) => px.set(pixels(fam, im), i * 3 * fam.height * fam.width));
      const s = await ort.InferenceSession.create(g.file);
      const out = await s.run({ pixel_values: new ort.Tensor('float32', px, [images.length, 3, fam.height, fam.width]) });
      await s.release();
      const f = out[g.feature]!.data as Float32Array;
      const l = out.logits!.data as Float32Array;
      assert.equal(out[g.feature]!.dims, [images.length, fam.feature_size], name);
      images.forEach((im, i) => {
        const want = fam.images[im]!;
        const cf = cosine(f.subarray(i * fam.feature_size, (i + 1) * fam.feature_size), want.features);
        const cl = cosine(l.subarray(i * fam.num_labels, (i + 1) * fam.num_labels), want.logits);
        assert.ok(cf >= 0.99999 && cl >= 0.99999, `${name} ${im}: features ${cf}, logits ${cl}`);
      });
    }
  } finally {
    home.cleanup();
  }
});

test('the edited graph is cached by the original sha256 and reused; --feature-output is its own entry', async () => {
  const home = tempDir();
  try {
    const fam = ref.families.resnet!;
    const sha = createHash('sha256').update(readFileSync(graphOf(fam))).digest('hex');
    const first = await featureGraph(graphOf(fam), { home: home.dir });
    assert.is(first.file, join(home.dir, 'graphs', sha, 'classifier-input-v1.onnx'));
    const stamp = statSync(first.file).mtimeMs;
    const again = await featureGraph(graphOf(fam), { home: home.dir });
    assert.equal([again.reused, again.file, again.feature, statSync(again.file).mtimeMs], [true, first.file, first.feature, stamp]);
    assert.is(again.detected?.op, 'Gemm');
    const named = await featureGraph(graphOf(fam), { home: home.dir, featureOutput: '/avgpool/GlobalAveragePool_output_0' });
    assert.is.not(named.file, first.file);
    assert.equal([named.feature, named.detected, named.reused], ['/avgpool/GlobalAveragePool_output_0', undefined, false]);
    assert.ok(existsSync(first.file), 'the auto entry stays');
  } finally {
    home.cleanup();
  }
});

test('--feature-output naming no tensor, no pooled layer and two heads are one-line errors naming the graph', async () => {
  const home = tempDir();
  try {
    const fam = ref.families.vgg!;
    await featureGraph(graphOf(fam), { home: home.dir, featureOutput: 'pool5' }).then(() => assert.unreachable(), (e) => {
      throwsZs(e, 'E_FEATURE_OUTPUT', '"pool5"', graphOf(fam), fam.classifier_input);
      assert.is((e as ZsError).kind, 'usage');
    });
    for (const [file, part] of [['no-pool.onnx', 'pooling layer'], ['two-heads.onnx', 'several candidate']] as const) {
      const path = join(FIXTURES, 'onnx', file);
      await featureGraph(path, { home: home.dir }).then(() => assert.unreachable(), (e) => throwsZs(e, 'E_FEATURE_OUTPUT', path, part, '--feature-output NAME'));
    }
  } finally {
    home.cleanup();
  }
});

test('a graph with external data is edited next to the original, where its data file resolves', async () => {
  const home = tempDir();
  const src = tempDir();
  try {
    mkdirSync(join(src.dir, 'onnx'));
    for (const f of ['mean-norm-ext.onnx', 'mean-norm-ext.onnx.data']) copyFileSync(join(FIXTURES, 'onnx', f), join(src.dir, 'onnx', f));
    const g = await featureGraph(join(src.dir, 'onnx', 'mean-norm-ext.onnx'), { home: home.dir });
    assert.match(g.file, join(src.dir, 'onnx', 'mean-norm-ext.'));
    assert.ok(g.file.endsWith('.classifier-input-v1.onnx'));
    const ort = await import('onnxruntime-node');
    const input = (JSON.parse(readFileSync(join(FIXTURES, 'onnx', 'reference.json'), 'utf8')) as { input: number[] }).input;
    const s = await ort.InferenceSession.create(g.file);
    const out = await s.run({ pixel_values: new ort.Tensor('float32', Float32Array.from(input), [2, 3, 16, 16]) });
    await s.release();
    assert.equal(out[g.feature]!.dims, [2, 8]);
  } finally {
    home.cleanup();
    src.cleanup();
  }
});

test.run();
