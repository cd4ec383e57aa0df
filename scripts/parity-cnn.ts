/**
 * CNN parity report (not a test; test/image-cnn.test.ts asserts the bounds): zs against what
 * scripts/export-cnn-fixtures.py wrote to test/fixtures/reference (PIL re-implementations of the transformers image
 * processors; PyTorch fp32 logits and the input of the final nn.Linear) for the tiny-random ResNet, VGG,
 * EfficientNet, DenseNet and ConvNeXt fixtures.
 *
 *   node --import tsx scripts/parity-cnn.ts [--json]
 *
 * Per family, over the 4 reference images: pixel mean / max |diff| (normalized units) of zs's preprocessing against
 * the reference pixel_values; worst cosine and max |diff| of the logits onnxruntime computes from zs's pixels
 * against PyTorch's; worst cosine of the pooled features (the tensor entering the last Gemm, exposed as a graph
 * output by src/onnx) against PyTorch's; whether findClassifierInput names the same tensor as the exporter; and end to
 * end, the worst cosine of zs's Model.embedImages on the fixture folder (decode, preprocessing, the edited graph it
 * caches) and the max |diff| of Model.imageLogits, against PyTorch.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPreprocessor } from '../src/image/index.js';
import { createSession } from '../src/runtime/session.js';
import { addGraphOutputs, findClassifierInput, readOnnxGraph } from '../src/onnx/index.js';
import { Model } from '../src/embed/model.js';

const ROOT = join(import.meta.dirname, '..');
const FIX = join(ROOT, 'test', 'fixtures');
const REF = join(FIX, 'reference');

interface FamilyRef {
  height: number; width: number; pixels: string; classifier_input: string; feature_size: number; num_labels: number;
  processor: string; images: Record<string, { features: number[]; logits: number[] }>;
}
const ref = JSON.parse(readFileSync(join(REF, 'cnn-reference.json'), 'utf8')) as { families: Record<string, FamilyRef> };

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

const tmp = mkdtempSync(join(tmpdir(), 'zs-parity-cnn-'));
const rows = [];
try {
  for (const [family, r] of Object.entries(ref.families)) {
    const dir = join(FIX, `tiny-random-${family}`);
    const pre = createPreprocessor(JSON.parse(readFileSync(join(dir, 'preprocessor_config.json'), 'utf8')));
    const names = Object.keys(r.images);
    const n = 3 * pre.height * pre.width;
    const pixels = new Float32Array(names.length * n);
    let sum = 0, max = 0;
    for (const [i, name] of names.entries()) {
      await pre.run(join(REF, 'images', name), pixels, i * n);
      const buf = readFileSync(join(REF, 'cnn-pixels', r.pixels, `${name}.f32`));
      const want = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      for (let j = 0; j < n; j++) { const d = Math.abs(pixels[i * n + j]! - want[j]!); sum += d; max = Math.max(max, d); }
    }
    const file = join(dir, 'onnx', 'model.onnx');
    const bytes = readFileSync(file);
    let finder: string;
    try {
      finder = findClassifierInput(readOnnxGraph(bytes, file), { file }).feature === r.classifier_input ? 'same' : 'different';
    } catch (e) {
      finder = `error: ${(e as Error).message.split(': ').slice(-1)[0]}`;
    }
    const edited = join(tmp, `${family}.onnx`);
    writeFileSync(edited, addGraphOutputs(bytes, [r.classifier_input], file));
    const session = await createSession(edited, { threads: 1 });
    const out = await session.run({ pixel_values: new session.ort.Tensor('float32', pixels, [names.length, 3, pre.height, pre.width]) });
    await session.release();
    const logits = out.logits!.data as Float32Array;
    const feats = out[r.classifier_input]!.data as Float32Array;
    let logitCos = 1, logitMax = 0, featCos = 1;
    names.forEach((name, i) => {
      const l = logits.subarray(i * r.num_labels, (i + 1) * r.num_labels);
      logitCos = Math.min(logitCos, cosine(l, r.images[name]!.logits));
      l.forEach((v, j) => { logitMax = Math.max(logitMax, Math.abs(v - r.images[name]!.logits[j]!)); });
      featCos = Math.min(featCos, cosine(feats.subarray(i * r.feature_size, (i + 1) * r.feature_size), r.images[name]!.features));
    });
    const model = await Model.load(dir, { threads: 1, workers: 0, cacheDir: tmp });
    const paths = names.map((name) => join(REF, 'images', name));
    const emb = (await model.embedImages(paths)).embeddings;
    const ml = (await model.imageLogits(paths)).embeddings;
    await model.close();
    let modelCos = 1, modelLogitMax = 0;
    names.forEach((name, i) => {
      modelCos = Math.min(modelCos, cosine(emb.data.subarray(i * r.feature_size, (i + 1) * r.feature_size), r.images[name]!.features));
      r.images[name]!.logits.forEach((v, j) => { modelLogitMax = Math.max(modelLogitMax, Math.abs(ml.data[i * r.num_labels + j]! - v)); });
    });
    rows.push({ modelCos, modelLogitMax,
      family, processor: r.processor, size: `${pre.height}x${pre.width}`, pixelMean: sum / pixels.length, pixelMax: max,
      logitCosMin: logitCos, logitMaxDiff: logitMax, featureCosMin: featCos, featureSize: r.feature_size, finder,
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log('| family | processor | size | pixel mean abs diff | pixel max abs diff | logits cosine (worst of 4) | logits max abs diff | features cosine (worst of 4) | feature size | findClassifierInput | Model.embedImages cosine (worst of 4) | Model.imageLogits max abs diff |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.family} | ${r.processor} | ${r.size} | ${r.pixelMean.toExponential(2)} | ${r.pixelMax.toFixed(4)} | ${r.logitCosMin.toFixed(12)} | ${r.logitMaxDiff.toExponential(2)} | ${r.featureCosMin.toFixed(12)} | ${r.featureSize} | ${r.finder} | ${r.modelCos.toFixed(12)} | ${r.modelLogitMax.toExponential(2)} |`);
  }
}
