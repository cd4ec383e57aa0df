/**
 * CNN backbone parity (issue #10) on the tiny-random ResNet / VGG / EfficientNet / DenseNet / ConvNeXt fixtures of
 * scripts/export-cnn-fixtures.py, against its references (test/fixtures/reference/cnn-reference.json, cnn-pixels/):
 *   pixels: zs's preprocessing of each fixture's preprocessor_config.json against the PIL re-implementation of the
 *     transformers processor (ConvNeXt crop_pct, EfficientNet include_top, BiT), mean |diff| <= 0.005, max <= 0.02
 *     (in fact exact), plus the ConvNeXt 384 warp and EfficientNet crop + rescale_offset variants;
 *   logits: onnxruntime on zs's pixels against PyTorch's logits (cosine >= 0.99999, |diff| <= 1e-4);
 *   features: the tensor the exporter recorded as the Gemm input, exposed as an output (src/onnx addGraphOutputs),
 *     against the input of PyTorch's final nn.Linear (cosine >= 0.99999); findClassifierInput names the same tensor;
 *   end to end: Model.load on each fixture folder embeds the 4 images (decode, preprocessing, edited graph) with
 *     cosine >= 0.99999 to PyTorch's pooled features, and imageLogits gives PyTorch's logits.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REF_DIR, REF_IMAGES, tempDir } from './_helpers.js';
import { createPreprocessor, type Preprocessor } from '../src/image/index.js';
import { createSession } from '../src/runtime/session.js';
import { addGraphOutputs, findClassifierInput, readOnnxGraph } from '../src/onnx/index.js';
import { Model } from '../src/embed/model.js';

interface FamilyRef {
  model: string; processor: string; height: number; width: number; pixels: string; classifier_input: string;
  feature_size: number; num_labels: number;
  images: Record<string, { pixel_mean: number[]; features: number[]; logits: number[] }>;
}
interface Ref {
  families: Record<string, FamilyRef>;
  variants: Record<string, { config: unknown; image: string; pixels: string; height: number; width: number }>;
}
const ref = JSON.parse(readFileSync(join(REF_DIR, 'cnn-reference.json'), 'utf8')) as Ref;
const FAMILIES = ['resnet', 'vgg', 'efficientnet', 'densenet', 'convnext'];
const IMAGES = ['chelsea.png', 'chelsea_q90.jpg', 'coffee.png', 'gradient_320x200.png'];
const dir = (family: string) => join(FIXTURES, `tiny-random-${family}`);
const preprocessor = (family: string, edit: Record<string, unknown> = {}): Preprocessor =>
  createPreprocessor({ ...JSON.parse(readFileSync(join(dir(family), 'preprocessor_config.json'), 'utf8')), ...edit });

function f32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function stats(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  assert.is(a.length, b.length);
  let sum = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.length, max };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

/** zs's pixels of the 4 reference images as one [4, 3, H, W] batch. */
async function batch(family: string): Promise<{ data: Float32Array; pre: Preprocessor }> {
  const pre = preprocessor(family);
  const n = 3 * pre.height * pre.width;
  const data = new Float32Array(IMAGES.length * n);
  for (const [i, name] of IMAGES.entries()) await pre.run(join(REF_IMAGES, name), data, i * n);
  return { data, pre };
}

test('the reference covers every family, image and variant', () => {
  assert.equal(Object.keys(ref.families).sort(), [...FAMILIES].sort());
  for (const f of FAMILIES) assert.equal(Object.keys(ref.families[f]!.images).sort(), [...IMAGES].sort());
  assert.equal(Object.keys(ref.variants).sort(), ['convnext-384-warp', 'efficientnet-crop-offset']);
});

for (const family of FAMILIES) {
  test(`${family}: pixel_values of the PIL reference within mean 0.005 / max 0.02 (exact for PNG)`, async () => {
    const r = ref.families[family]!;
    const pre = preprocessor(family);
    assert.equal([pre.height, pre.width], [r.height, r.width]);
    for (const name of IMAGES) {
      const out = await pre.run(join(REF_IMAGES, name));
      const s = stats(out, f32(join(REF_DIR, 'cnn-pixels', r.pixels, `${name}.f32`)));
      assert.ok(s.mean <= 0.005 && s.max <= 0.02, `${family} ${name}: mean ${s.mean} max ${s.max}`);
      if (name.endsWith('.png')) assert.is(s.max, 0, `${family} ${name}: max ${s.max}`);
      const plane = r.height * r.width;
      r.images[name]!.pixel_mean.forEach((m, c) => {
        let sum = 0;
        for (let i = 0; i < plane; i++) sum += out[c * plane + i]!;
        assert.ok(Math.abs(sum / plane - m) < 1e-4, `${family} ${name} channel ${c}: ${sum / plane} vs ${m}`);
      });
    }
  });
}

test('variants: ConvNeXt at 384 (warp, no crop) and EfficientNet with center crop + rescale_offset', async () => {
  for (const [name, v] of Object.entries(ref.variants)) {
    const pre = createPreprocessor(v.config);
    assert.equal([pre.height, pre.width], [v.height, v.width], name);
    const s = stats(await pre.run(join(REF_IMAGES, v.image)), f32(join(REF_DIR, 'cnn-pixels', v.pixels)));
    assert.is(s.max, 0, `${name}: mean ${s.mean} max ${s.max}`);
  }
});

test('the pixel comparison is sensitive: a wrong rule does not match', async () => {
  const name = 'chelsea.png';
  const want = (family: string) => f32(join(REF_DIR, 'cnn-pixels', ref.families[family]!.pixels, `${name}.f32`));
  const cases: Array<[string, Record<string, unknown>, number]> = [
    ['efficientnet', { include_top: false }, 0.1], // the second division by std
    ['convnext', { crop_pct: 1 }, 0.05], // resize to 224 instead of 256
    ['resnet', { resample: 2 }, 0.005], // bilinear instead of bicubic
    ['densenet', { size: { shortest_edge: 257 } }, 0.05],
  ];
  for (const [family, edit, minMean] of cases) {
    const s = stats(await preprocessor(family, edit).run(join(REF_IMAGES, name)), want(family));
    assert.ok(s.mean > minMean, `${family} ${JSON.stringify(edit)}: mean ${s.mean}`);
  }
});

for (const family of FAMILIES) {
  test(`${family}: logits (onnxruntime on zs pixels) and pooled features match PyTorch`, async () => {
    const r = ref.families[family]!;
    const file = join(dir(family), 'onnx', 'model.onnx');
    const bytes = readFileSync(file);
    const feature = r.classifier_input; // the Gemm input recorded by the exporter
    const tmp = tempDir('zs-cnn-');
    try {
      const edited = join(tmp.dir, 'model.onnx');
      writeFileSync(edited, addGraphOutputs(bytes, [feature], file));
      const session = await createSession(edited, { threads: 1 });
      const { data, pre } = await batch(family);
      const ort = session.ort;
      const out = await session.run({ pixel_values: new ort.Tensor('float32', data, [IMAGES.length, 3, pre.height, pre.width]) });
      await session.release();
      const logits = out.logits!.data as Float32Array;
      const feats = out[feature]!.data as Float32Array;
      assert.equal(out.logits!.dims, [IMAGES.length, r.num_labels]);
      assert.equal(out[feature]!.dims, [IMAGES.length, r.feature_size]);
      for (const [i, name] of IMAGES.entries()) {
        const want = r.images[name]!;
        const l = logits.subarray(i * r.num_labels, (i + 1) * r.num_labels);
        const f = feats.subarray(i * r.feature_size, (i + 1) * r.feature_size);
        assert.ok(cosine(l, want.logits) >= 0.99999, `${family} ${name} logits cosine ${cosine(l, want.logits)}`);
        l.forEach((v, j) => assert.ok(Math.abs(v - want.logits[j]!) <= 1e-4, `${family} ${name} logit ${j}: ${v} vs ${want.logits[j]}`));
        assert.ok(cosine(f, want.features) >= 0.99999, `${family} ${name} features cosine ${cosine(f, want.features)}`);
        const top = (a: ArrayLike<number>) => Array.from(a).indexOf(Math.max(...Array.from(a)));
        assert.is(top(l), top(want.logits), `${family} ${name} top-1`);
      }
    } finally {
      tmp.cleanup();
    }
  });
}

test('findClassifierInput finds the tensor the exporter recorded as the classifier input', () => {
  for (const family of FAMILIES) {
    const file = join(dir(family), 'onnx', 'model.onnx');
    const head = findClassifierInput(readOnnxGraph(readFileSync(file), file), { file });
    assert.equal([head.output, head.feature, head.op], ['logits', ref.families[family]!.classifier_input, 'Gemm'], family);
  }
});

test('Model on the fixture folders: image embeddings are the pooled features, imageLogits the logits of PyTorch', async () => {
  const home = tempDir('zs-cnn-home-');
  try {
    for (const family of FAMILIES) {
      const r = ref.families[family]!;
      const model = await Model.load(dir(family), { threads: 1, workers: 0, cacheDir: home.dir });
      try {
        const paths = IMAGES.map((n) => join(REF_IMAGES, n));
        const { embeddings } = await model.embedImages(paths);
        assert.equal(embeddings.dims, [IMAGES.length, r.feature_size], family);
        const logits = (await model.imageLogits(paths)).embeddings;
        assert.equal(logits.dims, [IMAGES.length, r.num_labels], family);
        assert.equal(model.classLabels?.length, r.num_labels);
        for (const [i, name] of IMAGES.entries()) {
          const want = r.images[name]!;
          const e = embeddings.data.subarray(i * r.feature_size, (i + 1) * r.feature_size);
          assert.ok(cosine(e, want.features) >= 0.99999, `${family} ${name} embedding cosine ${cosine(e, want.features)}`);
          const l = logits.data.subarray(i * r.num_labels, (i + 1) * r.num_labels);
          l.forEach((v, j) => assert.ok(Math.abs(v - want.logits[j]!) <= 1e-4, `${family} ${name} logit ${j}: ${v} vs ${want.logits[j]}`));
        }
      } finally {
        await model.close();
      }
    }
  } finally {
    home.cleanup();
  }
});

test.run();
