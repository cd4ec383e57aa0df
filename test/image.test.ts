/**
 * Preprocessing parity tests: the reference pixel_values written by transformers (CLIP .f32 files, ViT channel
 * means) within the targets (mean |diff| <= 0.005, max |diff| <= 0.02), every pixel of the PIL + numpy
 * goldens of scripts/make-image-goldens.py (grayscale, RGBA, LA, palette, GIF, tiny upscaled, portrait, wide,
 * EXIF-rotated, 16-bit, SigLIP/DINOv2/unknown-type configs, zero-padded crops, every filter), batch writing at an
 * offset, and the fast (shrink-on-load) decode path.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLIP_DIR, VIT_DIR, REF_DIR, REF_IMAGES, FIXTURES, tempDir } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import { createPreprocessor, decodeImage } from '../src/image/index.js';

const GOLDENS = join(FIXTURES, 'image-goldens');
const clipConfig = JSON.parse(readFileSync(join(CLIP_DIR, 'preprocessor_config.json'), 'utf8'));
const vitConfig = JSON.parse(readFileSync(join(VIT_DIR, 'preprocessor_config.json'), 'utf8'));
const REF_NAMES = ['chelsea.png', 'chelsea_q90.jpg', 'coffee.png', 'gradient_320x200.png'];

interface Goldens {
  configs: Record<string, unknown>;
  tables: Record<string, number[][]>;
  cases: Array<{ case: string; input: string; config: string; golden: string; height: number; width: number; mean: number[] }>;
}
const goldens = JSON.parse(readFileSync(join(GOLDENS, 'goldens.json'), 'utf8')) as Goldens;

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

function channelMeans(a: Float32Array, plane: number): number[] {
  return [0, 1, 2].map((c) => {
    let s = 0;
    for (let i = 0; i < plane; i++) s += a[c * plane + i]!;
    return s / plane;
  });
}

test('CLIP: reference pixel_values of transformers within mean 0.005 / max 0.02', async () => {
  const pre = createPreprocessor(clipConfig);
  assert.is(pre.height, 224);
  assert.is(pre.width, 224);
  for (const name of REF_NAMES) {
    const buf = readFileSync(join(REF_DIR, 'pixels', `${name}.f32`));
    const ref = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const out = await pre.run(join(REF_IMAGES, name));
    const s = stats(out, ref);
    assert.ok(s.mean <= 0.005 && s.max <= 0.02, `${name}: mean ${s.mean} max ${s.max}`);
    // In fact within one 8-bit level of the torchvision-based processor that wrote them.
    assert.ok(s.mean < 1e-4 && s.max < 0.016, `${name}: mean ${s.mean} max ${s.max}`);
  }
});

test('ViT: reference channel means of transformers', async () => {
  const ref = JSON.parse(readFileSync(join(REF_DIR, 'vit-reference.json'), 'utf8')) as { images: Record<string, { vit_pixel_mean: number[] }> };
  const pre = createPreprocessor(vitConfig);
  for (const name of REF_NAMES) {
    const out = await pre.run(join(REF_IMAGES, name));
    const means = channelMeans(out, 224 * 224);
    means.forEach((m, c) => assert.ok(Math.abs(m - ref.images[name]!.vit_pixel_mean[c]!) < 1e-4, `${name} channel ${c}: ${m}`));
  }
});

test('every pixel of the PIL + numpy goldens (exact for lossless inputs)', async () => {
  assert.ok(goldens.cases.length >= 20);
  for (const g of goldens.cases) {
    const input = g.input.startsWith('ref:') ? join(REF_IMAGES, g.input.slice(4)) : join(GOLDENS, 'inputs', g.input);
    const pre = createPreprocessor(goldens.configs[g.config]);
    assert.is(pre.height, g.height, g.case);
    assert.is(pre.width, g.width, g.case);
    const out = await pre.run(input);
    // Expected floats: numpy's value table applied to the golden 8-bit image.
    const png = await sharp(join(GOLDENS, 'out', g.golden)).raw().toBuffer({ resolveWithObject: true });
    assert.is(png.info.channels, 3);
    const table = goldens.tables[g.config]!;
    const plane = g.height * g.width;
    const expected = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) expected[c * plane + i] = table[c]![png.data[i * 3 + c]!]!;
    const s = stats(out, expected);
    if (g.input.endsWith('.jpg')) {
      // libjpeg builds may differ by one level on some platforms; on linux-x64 these are exact too.
      assert.ok(s.mean <= 0.005 && s.max <= 0.02, `${g.case}: mean ${s.mean} max ${s.max}`);
    } else {
      assert.is(s.max, 0, `${g.case}: mean ${s.mean} max ${s.max}`);
    }
    channelMeans(out, plane).forEach((m, c) => assert.ok(Math.abs(m - g.mean[c]!) < 1e-3, `${g.case} mean ${c}`));
  }
});

test('the golden comparison is sensitive: bilinear instead of bicubic does not match', async () => {
  const g = goldens.cases.find((c) => c.case === 'ref_chelsea_png__siglip')!;
  const config = { ...(goldens.configs.siglip as object), resample: 2 };
  const out = await createPreprocessor(config).run(join(REF_IMAGES, 'chelsea.png'));
  const png = await sharp(join(GOLDENS, 'out', g.golden)).raw().toBuffer();
  const table = goldens.tables.siglip!;
  let differ = 0;
  for (let i = 0; i < 224 * 224; i++) if (out[i] !== table[0]![png[i * 3]!]) differ++;
  assert.ok(differ > 1000, `${differ}`);
});

test('writes into a batch at an offset without touching the rest', async () => {
  const pre = createPreprocessor(clipConfig);
  const n = 3 * 224 * 224;
  const single = await pre.run(join(REF_IMAGES, 'coffee.png'));
  const batch = new Float32Array(2 * n).fill(7);
  const ret = await pre.run(join(REF_IMAGES, 'coffee.png'), batch, n);
  assert.ok(ret === batch);
  assert.ok(batch.subarray(0, n).every((v) => v === 7));
  assert.equal(Array.from(batch.subarray(n)), Array.from(single));
  try {
    await pre.run(join(REF_IMAGES, 'coffee.png'), batch, n + 1);
    assert.unreachable('offset past the end should throw');
  } catch (e) {
    assert.instance(e, ZsError);
    assert.match((e as Error).message, /offset/);
  }
});

test('buffers with a name give the same pixels; the name labels errors', async () => {
  const pre = createPreprocessor(vitConfig);
  const fromPath = await pre.run(join(REF_IMAGES, 'chelsea_q90.jpg'));
  const fromBuf = await pre.run(new Uint8Array(readFileSync(join(REF_IMAGES, 'chelsea_q90.jpg'))), undefined, 0, 'cat.jpg');
  assert.equal(Array.from(fromBuf), Array.from(fromPath));
  try {
    await pre.run(new Uint8Array([1, 2, 3, 4]), undefined, 0, 'upload-17.jpg');
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, ZsError);
    assert.match((e as Error).message, /upload-17\.jpg/);
  }
});

test('fastDecode: small images are never shrunk (identical output)', async () => {
  const exact = createPreprocessor(clipConfig);
  const fast = createPreprocessor(clipConfig, { fastDecode: true });
  for (const name of REF_NAMES) {
    const a = await exact.run(join(REF_IMAGES, name));
    const b = await fast.run(join(REF_IMAGES, name));
    assert.is(stats(a, b).max, 0, name);
  }
});

test('fastDecode: a large JPEG is decoded shrunk and stays within 0.01 mean of full decoding', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'large.jpg');
    // 1804x1200: shrink 2 still covers 2x the 224 short side, shrink 4 would not.
    await sharp(join(REF_IMAGES, 'chelsea.png')).resize(1804, 1200, { kernel: 'cubic' }).jpeg({ quality: 90 }).toFile(file);
    const dec = await decodeImage(file, { shrinkOnLoad: { minSize: () => ({ width: 448, height: 448 }) } });
    assert.is(dec.shrink, 2);
    assert.equal([dec.width, dec.height, dec.sourceWidth, dec.sourceHeight], [902, 600, 1804, 1200]);
    const exact = await createPreprocessor(clipConfig).run(file);
    const fast = await createPreprocessor(clipConfig, { fastDecode: true }).run(file);
    const s = stats(exact, fast);
    assert.ok(s.mean > 0 && s.mean <= 0.01, `mean ${s.mean} max ${s.max}`);
    // Buffers are always decoded at full scale.
    const fromBuf = await createPreprocessor(clipConfig, { fastDecode: true }).run(new Uint8Array(readFileSync(file)));
    assert.is(stats(exact, fromBuf).max, 0);
  } finally {
    cleanup();
  }
});

test('bad options are usage errors', () => {
  assert.throws(() => createPreprocessor(clipConfig, { fastDecodeMargin: 0.5 }), (e: unknown) => e instanceof ZsError && e.kind === 'usage');
});

test.run();
