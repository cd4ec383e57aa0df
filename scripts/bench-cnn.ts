/**
 * CNN backbone speed (not a test): zs embedding with an image-classifier backbone (the load-time edited graph that
 * also outputs the pooled feature) against a bare onnxruntime-node session on the same edited graph, fed
 * ready-made pixel tensors. Same images, batch size and intra-op threads; zs decodes and preprocesses the JPEGs
 * itself (worker threads, overlapped with inference), the bare loop only runs the graph. Also times the graph edit:
 * first load (parse + edit + atomic write) against a load that reuses the cached edited graph.
 *
 * Setup (once): a real-size ResNet-50 with random weights (torchvision, no download):
 *   /usr/bin/python3 scripts/export-onnx.py --torchvision resnet50 --random-weights /tmp/zs-cnn-bench/resnet50
 * Run:
 *   flock -x /tmp/zs-cpu.lock node --import tsx scripts/bench-cnn.ts [--model /tmp/zs-cnn-bench/resnet50]
 *     [--set photos|small] [--images 64] [--batch 16] [--rounds 3] [--work /tmp/zs-cnn-bench]
 * --set photos: the synthetic 4032x3024 phone photos of the engine benchmark (scripts/bench-embed-data.ts, decoded
 * with JPEG shrink-on-load, zs's default); --set small: 640x480 JPEGs, which no shrink-on-load helps.
 * Rounds are interleaved (zs, bare, zs, bare, ...) and each side's best round is reported: the machine is shared and
 * other processes only ever slow a run down. The ratio is zs images/s over bare images/s.
 */
import { availableParallelism, cpus } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Model } from '../src/embed/model.js';
import { photoSet } from './bench-embed-data.js';

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const work = opt('work', '/tmp/zs-cnn-bench');
const modelDir = opt('model', join(work, 'resnet50'));
const count = Number(opt('images', '64'));
const batch = Number(opt('batch', '16'));
const rounds = Number(opt('rounds', '3'));
const threads = availableParallelism();
const set = opt('set', 'photos');

/** The image set: phone photos (bench-embed-data.ts) or small photo-like JPEGs (640x480, colour fields plus noise), made once. */
async function images(): Promise<string[]> {
  if (set === 'photos') {
    const dir = await photoSet(join(work, 'photos'), count);
    return Array.from({ length: count }, (_, i) => join(dir, `photo-${String(i).padStart(4, '0')}.jpg`));
  }
  const dir = join(work, `images-${count}`);
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  let seed = 7;
  for (let i = 0; i < count; i++) {
    const file = join(dir, `img-${String(i).padStart(4, '0')}.jpg`);
    paths.push(file);
    if (existsSync(file)) continue;
    const w = 640, h = 480;
    const px = Buffer.alloc(w * h * 3);
    for (let p = 0; p < w * h; p++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const x = p % w, y = Math.floor(p / w);
      px[p * 3] = (x * 255 / w + i * 37 + (seed & 31)) & 255;
      px[p * 3 + 1] = (y * 255 / h + i * 11 + ((seed >> 5) & 31)) & 255;
      px[p * 3 + 2] = ((x + y) * 128 / w + i * 53 + ((seed >> 10) & 31)) & 255;
    }
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
  }
  return paths;
}

async function main(): Promise<void> {
  const paths = await images();
  const home = mkdtempSync(join(work, 'home-'));
  try {
    // graph edit: first load edits and writes the graph, the second reuses it
    let t = performance.now();
    const first = await Model.load(modelDir, { cacheDir: home, cache: false, batchSize: batch, threads });
    const firstLoadS = (performance.now() - t) / 1000;
    await first.close();
    t = performance.now();
    const model = await Model.load(modelDir, { cacheDir: home, cache: false, batchSize: batch, threads });
    const reuseLoadS = (performance.now() - t) / 1000;
    const dim = await model.embeddingDim(); // warm-up run
    const { featureGraph } = await import('../src/models/feature-graph.js');
    const g = await featureGraph(join(modelDir, 'onnx', 'model.onnx'), { home });

    // bare: the same edited graph, same threads and batch, on ready-made tensors (zs's own preprocessing, untimed)
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(g.file, {
      executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    });
    const { height: H, width: W } = model.preprocess;
    const tensors: Float32Array[] = [];
    const tPrep = performance.now(); // zs's preprocessing alone, one image at a time on this thread: what the engine must fit beside inference
    for (let s = 0; s < paths.length; s += batch) {
      const part = paths.slice(s, s + batch);
      const data = new Float32Array(part.length * 3 * H * W); // [b, 3, H, W]
      for (const [i, p] of part.entries()) await model.preprocess.run(p, data, i * 3 * H * W);
      tensors.push(data);
    }
    const prepMsPerImage = (performance.now() - tPrep) / paths.length;
    await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', tensors[0]!, [tensors[0]!.length / (3 * H * W), 3, H, W]) }, [g.feature]);

    const zsTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      t = performance.now();
      const res = await model.embedImages(paths);
      zsTimes.push((performance.now() - t) / 1000);
      if (res.failures.length || res.embeddings.dims[0] !== paths.length) throw new Error('zs failed on some images');
      t = performance.now();
      for (const data of tensors) {
        const n = data.length / (3 * H * W);
        await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [n, 3, H, W]) }, [g.feature]);
      }
      bareTimes.push((performance.now() - t) / 1000);
    }
    await session.release();
    await model.close();
    const zsBest = Math.min(...zsTimes), bareBest = Math.min(...bareTimes);
    const out = {
      machine: `${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}`, set, model: modelDir, feature: g.feature, dim,
      images: paths.length, batch, threads, rounds,
      zs: { bestS: zsBest, imagesPerS: paths.length / zsBest, roundsS: zsTimes },
      bare: { bestS: bareBest, imagesPerS: paths.length / bareBest, roundsS: bareTimes },
      ratio: bareBest / zsBest,
      // CPU bound: with every core busy, zs can at best spread inference (threads x bare time) plus preprocessing over the cores
      prepMsPerImage,
      ratioBound: (bareBest * threads) / (bareBest * threads + (prepMsPerImage / 1000) * paths.length),
      load: { firstS: firstLoadS, reuseS: reuseLoadS },
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
