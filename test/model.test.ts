/** The model's embeddings against the reference Python stack, and zero-shot probabilities against the combined graph. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/embed/model.js';
import { ZeroShotClassifier } from '../src/heads/zeroshot.js';
import { createSession } from '../src/runtime/session.js';
import { ZsError } from '../src/errors.js';
import { CLIP_DIR, VIT_DIR, REF_DIR, REF_IMAGES, FIXTURES, tempDir } from './_helpers.js';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync as writeFile } from 'node:fs';

interface RefImage { image_embeds: number[] }
interface RefText { text: string; input_ids: number[]; text_embeds: number[] }
const ref = JSON.parse(readFileSync(join(REF_DIR, 'clip-reference.json'), 'utf8')) as {
  logit_scale: number;
  images: Record<string, RefImage>;
  texts: RefText[];
};
const vitRef = JSON.parse(readFileSync(join(REF_DIR, 'vit-reference.json'), 'utf8')) as {
  images: Record<string, { vit_pooler_output: number[] }>;
};

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

const names = Object.keys(ref.images);

test('image embeddings match the reference (cosine >= 0.99999)', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1 });
  const r = await model.embedImages(names.map((n) => join(REF_IMAGES, n)));
  assert.equal(r.failures.length, 0);
  const d = r.embeddings.dims[1];
  assert.is(d, 16);
  names.forEach((n, i) => {
    const cos = cosine(r.embeddings.data.subarray(i * d, (i + 1) * d), ref.images[n]!.image_embeds);
    assert.ok(cos >= 0.99999, `${n}: cosine ${cos}`);
  });
  await model.close();
});

test('text embeddings match the reference on all reference strings (cosine >= 0.99999)', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1 });
  const e = await model.embedTexts(ref.texts.map((t) => t.text));
  const d = e.dims[1];
  let worst = 1;
  ref.texts.forEach((t, i) => { worst = Math.min(worst, cosine(e.data.subarray(i * d, (i + 1) * d), t.text_embeds)); });
  assert.ok(worst >= 0.99999, `worst cosine ${worst}`);
  await model.close();
});

test('the logit scale is read from the combined graph', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1 });
  const { scale, bias } = await model.logitScale();
  assert.ok(Math.abs(scale - ref.logit_scale) < 1e-4 * ref.logit_scale, `scale ${scale} vs ${ref.logit_scale}`);
  assert.is(bias, 0);
  await model.close();
});

test('zero-shot probabilities equal the combined graph to 1e-5', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1 });
  const labels = ['cat', 'coffee cup', 'rainbow gradient', 'a very long label '.repeat(12).trim()];
  const zs = await ZeroShotClassifier.create(model, labels);
  const paths = names.map((n) => join(REF_IMAGES, n));
  const { embeddings } = await model.embedImages(paths);
  const ours = zs.scores(embeddings);
  // the combined graph on the same pixels and prompt ids
  const session = await createSession(join(CLIP_DIR, 'onnx', 'model.onnx'), { threads: 1 });
  const ort = session.ort;
  const { height: h, width: w } = model.preprocess;
  const pix = new Float32Array(paths.length * 3 * h * w);
  for (let i = 0; i < paths.length; i++) await model.preprocess.run(paths[i]!, pix, i * 3 * h * w);
  const tok = await model.tokenize(labels.map((l) => `a photo of a ${l}.`));
  const out = await session.run({
    input_ids: new ort.Tensor('int64', tok.inputIds, tok.dims),
    attention_mask: new ort.Tensor('int64', tok.attentionMask, tok.dims),
    pixel_values: new ort.Tensor('float32', pix, [paths.length, 3, h, w]),
  });
  const logits = out.logits_per_image!.data as Float32Array;
  const C = labels.length;
  let maxDiff = 0;
  for (let i = 0; i < paths.length; i++) {
    let m = -Infinity, s = 0;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[i * C + c]!);
    for (let c = 0; c < C; c++) s += Math.exp(logits[i * C + c]! - m);
    for (let c = 0; c < C; c++) maxDiff = Math.max(maxDiff, Math.abs(Math.exp(logits[i * C + c]! - m) / s - ours[i * C + c]!));
  }
  assert.ok(maxDiff <= 1e-5, `max probability difference ${maxDiff}`);
  await session.release();
  await model.close();
});

test('the vision session gives the same embeddings with its intra-op threads spinning or sleeping', async () => {
  const paths = names.map((n) => join(REF_IMAGES, n));
  const runs: Float32Array[] = [];
  for (const spinning of [true, false]) {
    const model = await Model.load(CLIP_DIR, { threads: 2, spinning });
    runs.push((await model.embedImages(paths)).embeddings.data);
    await model.close();
  }
  assert.equal(Array.from(runs[1]!), Array.from(runs[0]!));
});

test('prompt ensembles average normalized prompt embeddings', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1 });
  const templates = ['a photo of a {}.', 'a drawing of a {}.', 'a {} in a video game.'];
  const zs = await ZeroShotClassifier.create(model, ['cat', 'dog'], { templates });
  const prompts = await model.embedTexts(templates.map((t) => t.replace('{}', 'dog')));
  const mean = new Float64Array(16);
  for (let t = 0; t < 3; t++) for (let k = 0; k < 16; k++) mean[k]! += prompts.data[t * 16 + k]!;
  const dog = zs.classEmbeddings.data.subarray(16, 32);
  assert.ok(cosine(mean, dog) > 0.999999);
  let norm = 0;
  for (const v of dog) norm += v * v;
  assert.ok(Math.abs(norm - 1) < 1e-5);
  await model.close();
});

test('a ViT folder embeds images with its pooled output and has no text tower', async () => {
  const model = await Model.load(VIT_DIR, { threads: 1 });
  const vnames = Object.keys(vitRef.images);
  const r = await model.embedImages(vnames.map((n) => join(REF_IMAGES, n)));
  assert.is(r.embeddings.dims[1], 32);
  vnames.forEach((n, i) => {
    const cos = cosine(r.embeddings.data.subarray(i * 32, (i + 1) * 32), vitRef.images[n]!.vit_pooler_output);
    assert.ok(cos >= 0.99999, `${n}: cosine ${cos}`);
  });
  try {
    await model.embedTexts(['a cat']);
    assert.unreachable('expected an error');
  } catch (e) {
    assert.instance(e, ZsError);
    assert.match((e as ZsError).message, /without a text tower/);
  }
  await model.close();
});

test('a batch keeps going past a bad file and reports it', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, batchSize: 2 });
  const paths = [join(REF_IMAGES, names[0]!), join(REF_DIR, 'clip-reference.json'), join(REF_IMAGES, 'missing.png'), join(REF_IMAGES, names[1]!)];
  const r = await model.embedImages(paths);
  assert.equal(r.indices, [0, 3]);
  assert.equal(r.failures.map((f) => f.index), [1, 2]);
  assert.match(r.failures[0]!.error.message, /clip-reference\.json/);
  assert.match(r.failures[1]!.error.message, /missing\.png/);
  await model.close();
});

test('--dtype q8 loads the quantized graphs', async () => {
  const model = await Model.load(CLIP_DIR, { threads: 1, dtype: 'q8' });
  assert.match(model.folder.graphs.vision, /vision_model_quantized\.onnx$/);
  const e = await model.embedTexts(['a photo of a cat.']);
  assert.is(e.dims[1], 16);
  await model.close();
});

// image classifiers (test/fixtures/tiny-random-<family>, PyTorch-exported) as backbones

const cnnRef = JSON.parse(readFileSync(join(REF_DIR, 'cnn-reference.json'), 'utf8')) as {
  families: Record<string, { model: string; classifier_input: string; feature_size: number; num_labels: number; images: Record<string, { features: number[]; logits: number[] }> }>;
};

test('image classifiers embed with the pooled input of their head (normalized) and keep their own logits', async () => {
  const home = tempDir();
  try {
    for (const [family, r] of Object.entries(cnnRef.families)) {
      const model = await Model.load(join(FIXTURES, r.model), { threads: 1, workers: 0, cacheDir: home.dir });
      try {
        assert.is(model.info.kind, 'image-classifier');
        assert.is(model.info.featureOutput, r.classifier_input, family);
        assert.not.ok(model.hasText);
        const images = Object.keys(r.images);
        const { embeddings, failures } = await model.embedImages(images.map((n) => join(REF_IMAGES, n)));
        assert.equal([failures.length, ...embeddings.dims], [0, images.length, r.feature_size]);
        const logits = await model.imageLogits(images.map((n) => join(REF_IMAGES, n)));
        assert.equal(logits.embeddings.dims, [images.length, r.num_labels]);
        images.forEach((name, i) => {
          const row = embeddings.data.subarray(i * r.feature_size, (i + 1) * r.feature_size);
          assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5, 'L2-normalized');
          assert.ok(cosine(row, r.images[name]!.features) >= 0.99999, `${family} ${name} features ${cosine(row, r.images[name]!.features)}`);
          const l = logits.embeddings.data.subarray(i * r.num_labels, (i + 1) * r.num_labels);
          assert.ok(cosine(l, r.images[name]!.logits) >= 0.99999, `${family} ${name} logits`);
        });
        assert.is(model.classLabels!.length, r.num_labels);
        assert.is(model.classLabels![0], 'tench, Tinca tinca');
      } finally {
        await model.close();
      }
    }
    // one edited graph per original, reused by the next load
    assert.is(readdirSync(join(home.dir, 'graphs')).length, Object.keys(cnnRef.families).length);
  } finally {
    home.cleanup();
  }
});

test('--feature-output picks another tensor and changes the fingerprint; encoders without labels have no own classes', async () => {
  const home = tempDir();
  const dir = join(FIXTURES, cnnRef.families.resnet!.model);
  try {
    const auto = await Model.load(dir, { threads: 1, workers: 0, cacheDir: home.dir, lazy: true });
    const named = await Model.load(dir, { threads: 1, workers: 0, cacheDir: home.dir, featureOutput: '/avgpool/GlobalAveragePool_output_0' });
    try {
      assert.is.not(await named.fingerprint(), await auto.fingerprint());
      assert.is.not(await named.probeFingerprint(), await auto.probeFingerprint());
      const a = await auto.embedImages([join(REF_IMAGES, 'coffee.png')]);
      const b = await named.embedImages([join(REF_IMAGES, 'coffee.png')]);
      assert.equal(b.embeddings.dims, [1, 256]); // [1, 256, 1, 1] flattened
      assert.ok(cosine(a.embeddings.data, b.embeddings.data) > 0.999999, 'GlobalAveragePool output = its flattened copy');
    } finally {
      await auto.close();
      await named.close();
    }
    const vit = await Model.load(VIT_DIR, { threads: 1, lazy: true });
    try {
      assert.is(vit.classLabels, undefined);
      await vit.imageLogits([join(REF_IMAGES, 'coffee.png')]).then(() => assert.unreachable(), (e) => assert.is((e as ZsError).code, 'E_NO_LOGITS'));
    } finally {
      await vit.close();
    }
  } finally {
    home.cleanup();
  }
});

test('a classifier folder whose graph has two heads fails at load with the candidates and --feature-output', async () => {
  const t = tempDir();
  try {
    const dir = join(t.dir, 'two-heads');
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    copyFileSync(join(FIXTURES, 'onnx', 'two-heads.onnx'), join(dir, 'onnx', 'model.onnx'));
    copyFileSync(join(FIXTURES, cnnRef.families.resnet!.model, 'preprocessor_config.json'), join(dir, 'preprocessor_config.json'));
    writeFile(join(dir, 'config.json'), JSON.stringify({ architectures: ['DistilledForImageClassification'], model_type: 'distilled' }));
    try {
      await Model.load(dir, { threads: 1, cacheDir: join(t.dir, 'home') });
      assert.unreachable('expected an error');
    } catch (e) {
      assert.instance(e, ZsError);
      assert.is((e as ZsError).code, 'E_FEATURE_OUTPUT');
      assert.match((e as ZsError).toLine(), /two-heads\/onnx\/model\.onnx: logits comes from 2 linear layers, so there are several candidate feature tensors: .+, .+ \(pass --feature-output NAME/);
    }
  } finally {
    t.cleanup();
  }
});

test.run();
