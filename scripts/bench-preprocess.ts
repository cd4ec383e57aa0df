/**
 * Preprocessing benchmark: large phone-size JPEGs through the exact path (full decode + Pillow-exact resample),
 * the fast path (JPEG shrink-on-load, then the same resample) at several margins, and sharp's own resize, with
 * the pixel differences between them in normalized units (CLIP preprocessing of test/fixtures/tiny-random-clip).
 * Also checks the parity targets on the reference images with fastDecode on, and how far sharp's resize is from
 * the transformers reference pixels.
 *
 * Writes its synthetic 4032x3024 q90 JPEGs (reference photos upscaled, with added grain and fine texture, ~1.7 MB)
 * under /tmp/zs-bench-preprocess. Run on a quiet machine:
 *   flock /tmp/zs-bench.lock node --import tsx scripts/bench-preprocess.ts [--images 8] [--concurrency 2]
 */
import { mkdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import sharp from 'sharp';
import { createPreprocessor, type Preprocessor } from '../src/image/index.js';
import { Rng } from '../src/data/rng.js';

const ROOT = join(import.meta.dirname, '..');
const REF = join(ROOT, 'test', 'fixtures', 'reference');
const REF_NAMES = ['chelsea.png', 'chelsea_q90.jpg', 'coffee.png', 'gradient_320x200.png'];
const OUT_DIR = '/tmp/zs-bench-preprocess';
const GOLDEN_DIR = join(ROOT, 'test', 'fixtures', 'image-goldens');
const config = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'tiny-random-clip', 'preprocessor_config.json'), 'utf8'));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}


/** 4032x3024 q90 JPEG from a reference photo: upscaled, plus grain and a fine texture so it compresses like a photo. */
async function makeLarge(i: number): Promise<string> {
  const file = join(OUT_DIR, `phone-${i}.jpg`);
  if (existsSync(file)) return file;
  const src = join(REF, 'images', ['chelsea.png', 'coffee.png'][i % 2]!);
  const W = 4032, H = 3024;
  const up = await sharp(src).resize(W, H, { kernel: 'cubic', fit: 'fill' }).flop(i % 4 >= 2).raw().toBuffer();
  const r = new Rng(1234 + i);
  const next = () => r.float();
  const grain = 3 + i / 2;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const texture = 3 * Math.sin(x * 0.9 + i) * Math.sin(y * 0.7);
      const p = (y * W + x) * 3;
      const n = (next() - 0.5) * grain + texture;
      for (let c = 0; c < 3; c++) up[p + c] = Math.max(0, Math.min(255, Math.round(up[p + c]! + n)));
    }
  }
  await sharp(up, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
  return file;
}

/** Sharp's own pipeline: resize the short side with its default (lanczos3) kernel, center crop, then normalize. */
async function sharpResize(file: string, out: Float32Array, kernel: 'lanczos3' | 'cubic' = 'lanczos3'): Promise<Float32Array> {
  const img = sharp(file, { autoOrient: true, ignoreIcc: true });
  const meta = await sharp(file).metadata();
  const [w, h] = [meta.width!, meta.height!];
  const s = 224;
  const [tw, th] = w <= h ? [s, Math.trunc((s * h) / w)] : [Math.trunc((s * w) / h), s];
  const raw = await img.resize(tw, th, { kernel, fit: 'fill' }).removeAlpha().toColourspace('srgb').raw().toBuffer();
  return createPreprocessor(config).fromRgb({ data: new Uint8Array(raw), width: tw, height: th }, out);
}

function diff(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  let s = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    s += d;
    if (d > m) m = d;
  }
  return { mean: s / a.length, max: m };
}

async function timeRuns(pre: Preprocessor, files: string[], reps: number): Promise<number> {
  const out = new Float32Array(3 * pre.height * pre.width);
  await pre.run(files[0]!, out); // warm-up
  const t = performance.now();
  for (let r = 0; r < reps; r++) for (const f of files) await pre.run(f, out);
  return (performance.now() - t) / (reps * files.length);
}

async function throughput(pre: Preprocessor, files: string[], concurrency: number, total: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    const out = new Float32Array(3 * pre.height * pre.width);
    while (next < total) await pre.run(files[next++ % files.length]!, out);
  }));
  return total / ((performance.now() - t) / 1000);
}

async function sharpThroughput(files: string[], concurrency: number, total: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    const out = new Float32Array(3 * 224 * 224);
    while (next < total) await sharpResize(files[next++ % files.length]!, out);
  }));
  return total / ((performance.now() - t) / 1000);
}

const fmt = (d: { mean: number; max: number }) => `mean|diff| ${d.mean.toFixed(5)}  max|diff| ${d.max.toFixed(4)}`;

async function main(): Promise<void> {
  const n = arg('images', 8);
  const concurrency = arg('concurrency', 2);
  mkdirSync(OUT_DIR, { recursive: true });
  sharp.cache(false); // no libvips operation cache between repeated runs of the same files
  console.log(`# bench-preprocess: ${cpus().length} CPUs (${cpus()[0]?.model}), sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`);
  const files: string[] = [];
  for (let i = 0; i < n; i++) files.push(await makeLarge(i));
  const mb = files.reduce((s, f) => s + statSync(f).size, 0) / files.length / 1e6;
  console.log(`${n} synthetic 4032x3024 q90 JPEGs, ${mb.toFixed(2)} MB on average, in ${OUT_DIR}\n`);

  const exact = createPreprocessor(config);
  const margins = [1, 1.5, 2, 3];
  const fast = margins.map((m) => createPreprocessor(config, { fastDecode: true, fastDecodeMargin: m }));

  console.log('## Pixel differences on the large JPEGs (normalized units, vs the exact path)');
  const a = new Float32Array(3 * 224 * 224), b = new Float32Array(3 * 224 * 224);
  for (const [k, m] of margins.entries()) {
    let worst = { mean: 0, max: 0 };
    for (const f of files) {
      await exact.run(f, a);
      await fast[k]!.run(f, b);
      const d = diff(a, b);
      worst = { mean: Math.max(worst.mean, d.mean), max: Math.max(worst.max, d.max) };
    }
    console.log(`fastDecode margin ${m}: worst image ${fmt(worst)}`);
  }
  for (const kernel of ['lanczos3', 'cubic'] as const) {
    let worst = { mean: 0, max: 0 };
    for (const f of files) {
      await exact.run(f, a);
      await sharpResize(f, b, kernel);
      const d = diff(a, b);
      worst = { mean: Math.max(worst.mean, d.mean), max: Math.max(worst.max, d.max) };
    }
    console.log(`sharp resize (${kernel}): worst image ${fmt(worst)}`);
  }

  console.log('\n## Reference images (transformers pixel_values), targets mean <= 0.005, max <= 0.02 (fastDecode: default margin)');
  const fastDefault = createPreprocessor(config, { fastDecode: true });
  for (const name of REF_NAMES) {
    const buf = readFileSync(join(REF, 'pixels', `${name}.f32`));
    const ref = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const file = join(REF, 'images', name);
    const e = diff(await exact.run(file, a), ref);
    const f = diff(await fastDefault.run(file, b), ref);
    const s = diff(await sharpResize(file, b), ref);
    console.log(`${name.padEnd(22)} exact: ${fmt(e)} | fastDecode: ${fmt(f)} | sharp resize: ${fmt(s)}`);
  }

  console.log('\n## Small upscaled images (PIL goldens of scripts/make-image-goldens.py, CLIP config)');
  const goldens = JSON.parse(readFileSync(join(GOLDEN_DIR, 'goldens.json'), 'utf8')) as {
    tables: Record<string, number[][]>; cases: Array<{ input: string; config: string; golden: string }>;
  };
  for (const g of goldens.cases.filter((c) => c.config === 'clip' && ['tiny_7x5.png', 'wide.png', 'gray.png'].includes(c.input))) {
    const png = await sharp(join(GOLDEN_DIR, 'out', g.golden)).raw().toBuffer();
    const expected = new Float32Array(3 * 224 * 224);
    for (let i = 0; i < 224 * 224; i++) for (let c = 0; c < 3; c++) expected[c * 224 * 224 + i] = goldens.tables.clip![c]![png[i * 3 + c]!]!;
    const file = join(GOLDEN_DIR, 'inputs', g.input);
    const e = diff(await exact.run(file, a), expected);
    const s = diff(await sharpResize(file, b), expected);
    console.log(`${g.input.padEnd(22)} exact: ${fmt(e)} | sharp resize: ${fmt(s)}`);
  }

  console.log('\n## Time per image (sequential, one image in flight)');
  const reps = arg('reps', 2);
  console.log(`exact (full decode + PIL resample): ${(await timeRuns(exact, files, reps)).toFixed(1)} ms`);
  for (const [k, m] of margins.entries()) console.log(`fastDecode margin ${m}: ${(await timeRuns(fast[k]!, files, reps)).toFixed(1)} ms`);
  const t0 = performance.now();
  for (const f of files) await sharpResize(f, a);
  console.log(`sharp resize (lanczos3): ${((performance.now() - t0) / files.length).toFixed(1)} ms`);

  console.log(`\n## Throughput with ${concurrency} images in flight (sharp's libvips threads: ${sharp.concurrency()})`);
  const total = 4 * n;
  console.log(`exact: ${(await throughput(exact, files, concurrency, Math.max(n, 8))).toFixed(1)} images/s`);
  for (const [k, m] of margins.entries()) {
    console.log(`fastDecode margin ${m}: ${(await throughput(fast[k]!, files, concurrency, total)).toFixed(1)} images/s`);
  }
  console.log(`sharp resize (lanczos3): ${(await sharpThroughput(files, concurrency, total)).toFixed(1)} images/s`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
