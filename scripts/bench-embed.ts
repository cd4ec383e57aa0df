/**
 * Embedding-engine benchmark (not a test): zs embed against transformers.js and a bare onnxruntime-node session,
 * on (a) phone photos and (b) small images, same batch size, fp32, one run; then the warm cache, q8 against fp32,
 * what fast decoding changes (pixels and embeddings), and peak RSS for 2,000 and 20,000 images.
 *
 * Setup (once):
 *   /usr/bin/python3 scripts/tools/make-random-clip.py --preset clip-vit-b32 /tmp/zs-embed-bench/clip-vit-b32
 *   for g in vision_model text_model; do /usr/bin/python3 scripts/bench-embed-quantize.py \
 *     /tmp/zs-embed-bench/clip-vit-b32/onnx/$g.onnx /tmp/zs-embed-bench/clip-vit-b32/onnx/${g}_quantized.onnx; done
 *   npm --prefix scripts/peers install      # @huggingface/transformers, only for this script
 *   npx tsc -p .                             # zs embed runs from dist/
 * Run (images are made under --work on first use):
 *   flock /tmp/zs-bench.lock node --import tsx scripts/bench-embed.ts [--batch 16] [--photos 128] [--small 256]
 *     [--rounds 3] [--model DIR] [--work /tmp/zs-embed-bench] [--rss | --rss-only] [--rss-model DIR] [--json out.json]
 * Every process is timed from spawn to exit ("whole process"); zs's engine (in-process, Model.embedImages without
 * the cache), transformers.js and the bare session also report their batch loop alone (model loaded and warmed up).
 * The rounds are interleaved and each figure is the best round's: the machine is shared, and other processes only
 * ever slow a run down.
 */
import { spawnSync } from 'node:child_process';
import { cpus, availableParallelism, loadavg } from 'node:os';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { photoSet, fashionSet, meanBytes } from './bench-embed-data.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const PEER = join(ROOT, 'scripts', 'peers', 'transformers-embed.mjs');

function opt(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** Image files below `dir`, sorted (what zs embed walks). */
function listImages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(png|jpe?g)$/i.test(e.name))
    .map((e) => join(e.parentPath, e.name)).sort();
}

interface Timed { wall: number; cpu: number; rssMb: number; stdout: string; stderr: string }

/** Runs a command under /usr/bin/time: wall-clock seconds from spawn to exit, CPU seconds (user + system), peak RSS in MB. */
function timed(cmd: string, args: string[]): Timed {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'ZS_TIME %M %U %S', cmd, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ZS_OFFLINE: '1' } });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const m = /ZS_TIME (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[2]) + Number(m[3]) : NaN, rssMb: m ? Number(m[1]) / 1024 : NaN, stdout: r.stdout, stderr: r.stderr };
}

function zsEmbed(model: string, dir: string, batch: number, cacheDir: string, extra: string[] = []): Timed {
  const out = join(cacheDir, 'out.npy');
  return timed(process.execPath, [BIN, 'embed', dir, '--model', model, '-b', String(batch), '--cache-dir', cacheDir, '--out', out, ...extra]);
}

function statsLine(t: Timed): string {
  return /(\d+) from the cache, (\d+) computed/.exec(t.stderr)?.[0] ?? '?';
}

const fresh = (): string => mkdtempSync('/tmp/zs-embed-bench-cache-');

interface SetResult {
  name: string; images: number; meanKb: number; rounds: number;
  zsCold: number; zsLoop: number; zsWarm: number; zsWarmLoop: number; zsColdRss: number; zsColdCpuMs: number; zsQ8?: number; zsExact?: number;
  tjsWhole?: number; tjsLoop?: number; bareWhole: number; bareLoop: number; bareCpuMs: number;
}

const loopRate = (t: Timed, n: number) => n / (JSON.parse(t.stdout.trim().split('\n').pop()!).loop_s as number);

/**
 * `rounds` rounds of: bare session, zs engine in-process, zs cold, zs warm, transformers.js, zs q8; each number is
 * the best round's (other processes on a shared machine only ever slow a run down), the CPU times are per image.
 */
function runSet(name: string, dir: string, model: string, batch: number, rounds: number, peers: boolean, q8: boolean, exact: boolean): SetResult {
  const files = listImages(dir);
  const n = files.length;
  const list = join(fresh(), 'files.txt');
  writeFileSync(list, files.join('\n') + '\n');
  const child = (mode: string, ...args: string[]) => timed(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-embed.ts'), mode, model, String(batch), ...args]);
  const best: SetResult = {
    name, images: n, meanKb: meanBytes(files) / 1000, rounds, zsCold: 0, zsLoop: 0, zsWarm: 0, zsWarmLoop: 0, zsColdRss: 0, zsColdCpuMs: Infinity,
    bareWhole: 0, bareLoop: 0, bareCpuMs: Infinity,
  };
  const max = (k: keyof SetResult, v: number) => { (best as unknown as Record<string, number>)[k] = Math.max((best[k] as number | undefined) ?? 0, v); };
  for (let r = 0; r < rounds; r++) {
    const bare = child('--bare', String(n));
    max('bareWhole', n / bare.wall);
    max('bareLoop', loopRate(bare, n));
    best.bareCpuMs = Math.min(best.bareCpuMs, (bare.cpu / n) * 1000);
    max('zsLoop', loopRate(child('--engine', dir), n));
    if (r === 0) max('zsWarmLoop', loopRate(child('--engine-warm', dir), n));
    const cache = fresh();
    const cold = zsEmbed(model, dir, batch, cache);
    const warm = zsEmbed(model, dir, batch, cache);
    console.error(`[${name} round ${r + 1}] zs cold ${statsLine(cold)} ${(n / cold.wall).toFixed(1)}/s, warm ${statsLine(warm)}`);
    max('zsCold', n / cold.wall);
    max('zsWarm', n / warm.wall);
    max('zsColdRss', cold.rssMb);
    best.zsColdCpuMs = Math.min(best.zsColdCpuMs, (cold.cpu / n) * 1000);
    if (peers) {
      const t = timed(process.execPath, [PEER, model, String(batch), list]);
      max('tjsWhole', n / t.wall);
      max('tjsLoop', loopRate(t, n));
    }
    if (q8) max('zsQ8', n / zsEmbed(model, dir, batch, fresh(), ['--dtype', 'q8']).wall);
    rmSync(cache, { recursive: true, force: true });
  }
  if (exact) best.zsExact = n / zsEmbed(model, dir, batch, fresh(), ['--no-fast-decode']).wall;
  return best;
}

/**
 * Child mode: zs's engine in-process, images/s over the images alone. Cold (`warm` false): model loaded and warmed
 * up on 2 images, no cache. Warm: a fresh cache, every image embedded once, then the second pass timed.
 */
async function engineLoop(model: string, batch: number, dir: string, warm: boolean): Promise<void> {
  const { Model } = await import('../src/embed/model.js');
  const files = listImages(dir);
  const cacheDir = warm ? fresh() : undefined;
  const m = await Model.load(model, { batchSize: batch, cache: warm, cacheDir });
  await m.embedImages(warm ? files : files.slice(0, 2));
  const t = performance.now();
  const r = await m.embedImages(files);
  console.log(JSON.stringify({ loop_s: (performance.now() - t) / 1000, failed: r.failures.length, cached: r.stats.cached }));
  await m.close();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
}

/** Child mode: a bare session (zs's thread count) over one pre-made random batch tensor. */
async function bare(model: string, batch: number, n: number): Promise<void> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(join(model, 'onnx', 'vision_model.onnx'), {
    intraOpNumThreads: availableParallelism(), interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const pix = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < pix.length; i++) pix[i] = Math.sin(i * 0.37);
  await s.run({ pixel_values: new ort.Tensor('float32', pix.subarray(0, 3 * 224 * 224), [1, 3, 224, 224]) }); // warm-up
  const t = performance.now();
  for (let done = 0; done < n; done += batch) {
    const k = Math.min(batch, n - done);
    await s.run({ pixel_values: new ort.Tensor('float32', pix.subarray(0, k * 3 * 224 * 224), [k, 3, 224, 224]) });
  }
  console.log(JSON.stringify({ loop_s: (performance.now() - t) / 1000 }));
}

/** Fast vs exact decode on the photos (pixels, embeddings), fast decode on the reference images, q8 vs fp32. */
async function accuracy(model: string, photos: string[]): Promise<Record<string, number>> {
  const { Model } = await import('../src/embed/model.js');
  const ref = join(ROOT, 'test', 'fixtures', 'reference');
  const cos = (a: Float32Array, b: Float32Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
  const diff = (a: Float32Array, b: Float32Array) => { let s = 0, m = 0; for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i]! - b[i]!); s += d; m = Math.max(m, d); } return { mean: s / a.length, max: m }; };
  const fast = await Model.load(model, { fastDecode: true, workers: 1 });
  const exact = await Model.load(model, { fastDecode: false, workers: 1 });
  const q8 = await Model.load(model, { dtype: 'q8', fastDecode: true, workers: 1 });
  const out: Record<string, number> = { photoMeanDiffWorst: 0, photoMaxDiffWorst: 0, refMaxDiffWorst: 0 };
  for (const p of photos) {
    const d = diff(await fast.preprocess.run(p), await exact.preprocess.run(p));
    out.photoMeanDiffWorst = Math.max(out.photoMeanDiffWorst!, d.mean);
    out.photoMaxDiffWorst = Math.max(out.photoMaxDiffWorst!, d.max);
  }
  for (const name of readdirSync(join(ref, 'images'))) {
    const file = join(ref, 'images', name);
    const buf = readFileSync(join(ref, 'pixels', `${name}.f32`));
    const golden = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    out.refMaxDiffWorst = Math.max(out.refMaxDiffWorst!, diff(await fast.preprocess.run(file), golden).max);
    out[`refFastEqualsExact_${name}`] = diff(await fast.preprocess.run(file), await exact.preprocess.run(file)).max === 0 ? 1 : 0;
  }
  const [ef, ee, eq] = [await fast.embedImages(photos), await exact.embedImages(photos), await q8.embedImages(photos)];
  const d = ef.embeddings.dims[1];
  out.embedCosFastExactMin = 1;
  out.embedCosQ8Fp32Min = 1;
  for (let i = 0; i < photos.length; i++) {
    const row = (e: typeof ef) => e.embeddings.data.subarray(i * d, (i + 1) * d);
    out.embedCosFastExactMin = Math.min(out.embedCosFastExactMin, cos(row(ef), row(ee)));
    out.embedCosQ8Fp32Min = Math.min(out.embedCosQ8Fp32Min, cos(row(ef), row(eq)));
  }
  await Promise.all([fast.close(), exact.close(), q8.close()]);
  return out;
}

const f1 = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(2));

async function main(): Promise<void> {
  for (const mode of ['engine', 'engine-warm']) {
    if (!flag(mode)) continue;
    const i = process.argv.indexOf(`--${mode}`);
    return engineLoop(process.argv[i + 1]!, Number(process.argv[i + 2]), process.argv[i + 3]!, mode === 'engine-warm');
  }
  if (flag('bare')) {
    const i = process.argv.indexOf('--bare');
    return bare(process.argv[i + 1]!, Number(process.argv[i + 2]), Number(process.argv[i + 3]));
  }
  const work = opt('work', '/tmp/zs-embed-bench');
  const model = opt('model', join(work, 'clip-vit-b32'));
  const batch = Number(opt('batch', '16'));
  if (!existsSync(BIN)) throw new Error('build zs first: npx tsc -p .');
  if (!existsSync(join(model, 'onnx', 'vision_model.onnx'))) {
    throw new Error(`no model at ${model}: /usr/bin/python3 scripts/tools/make-random-clip.py --preset clip-vit-b32 ${model}`);
  }
  const peers = existsSync(join(ROOT, 'scripts', 'peers', 'node_modules', '@huggingface', 'transformers'));
  const q8 = existsSync(join(model, 'onnx', 'vision_model_quantized.onnx'));
  const photos = await photoSet(join(work, 'photos'), Number(opt('photos', '128')));
  const small = fashionSet(join(work, 'small'), 'test', 26, Number(opt('small', '256')));
  const load0 = loadavg()[0]!;
  const started = new Date().toISOString();
  const rounds = Number(opt('rounds', '3'));
  const throughput = !flag('rss-only');
  const sets = throughput ? [runSet('(a) photos', photos, model, batch, rounds, peers, q8, true), runSet('(b) small', small, model, batch, rounds, peers, q8, false)] : [];
  const load1 = loadavg()[0]!;
  const acc = throughput ? await accuracy(model, listImages(photos).slice(0, 16)) : undefined;
  const rss: { images: number; model: string; rssMb: number; rate: number }[] = [];
  if (flag('rss') || flag('rss-only')) {
    const rssModel = opt('rss-model', join(ROOT, 'test', 'fixtures', 'tiny-random-clip'));
    for (const [k, per] of [[2000, 200], [20000, 2000]] as const) {
      const dir = fashionSet(join(work, `fm-${k / 1000}k`), 'train', per, k);
      const cache = fresh();
      const t = zsEmbed(rssModel, dir, batch, cache);
      rss.push({ images: k, model: rssModel, rssMb: t.rssMb, rate: k / t.wall });
      rmSync(cache, { recursive: true, force: true });
    }
  }
  const machine = `${availableParallelism()} CPUs (${cpus()[0]?.model}), Node ${process.version}`;
  const lines: string[] = [];
  lines.push(`Machine: ${machine}; load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} after the throughput runs; ${started}`);
  lines.push(`Model: ${model} (random-weight CLIP ViT-B/32, fp32), batch ${batch}; images/s (best of ${rounds} interleaved rounds), higher is better.`, '');
  lines.push('| set | images | mean size | zs cold (whole / loop) | zs warm (whole / loop) | transformers.js (whole / loop) | bare session (whole / loop) | zs / tjs (whole, loop) | zs / bare (whole, loop) | warm / cold (whole, loop) | zs q8 | zs exact decode | zs peak RSS |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of sets) {
    const size = s.meanKb >= 1000 ? `${(s.meanKb / 1000).toFixed(2)} MB` : `${s.meanKb.toFixed(1)} kB`;
    lines.push(`| ${s.name} | ${s.images} | ${size} | ${f1(s.zsCold)} / ${f1(s.zsLoop)} | ${f1(s.zsWarm)} / ${s.zsWarmLoop.toFixed(0)} | ${f1(s.tjsWhole)} / ${f1(s.tjsLoop)} | ${f1(s.bareWhole)} / ${f1(s.bareLoop)} | `
      + `${f2(s.tjsWhole && s.zsCold / s.tjsWhole)}, ${f2(s.tjsLoop && s.zsLoop / s.tjsLoop)} | ${f2(s.zsCold / s.bareWhole)}, ${f2(s.zsLoop / s.bareLoop)} | `
      + `${f1(s.zsWarm / s.zsCold)}x, ${(s.zsWarmLoop / s.zsLoop).toFixed(0)}x | ${f1(s.zsQ8)} | ${f1(s.zsExact)} | ${s.zsColdRss.toFixed(0)} MB |`);
  }
  lines.push('', 'CPU time per image (user + system, whole process): ' + sets.map((s) => `${s.name}: zs cold ${s.zsColdCpuMs.toFixed(0)} ms, bare session ${s.bareCpuMs.toFixed(0)} ms`).join('; '));
  if (acc) {
    lines.push('', 'Fast decode and q8 (first 16 photos; pixels in normalized units):');
    lines.push(`- photos, fast vs exact decode: worst mean |diff| ${acc.photoMeanDiffWorst!.toFixed(5)}, worst max |diff| ${acc.photoMaxDiffWorst!.toFixed(4)}; embedding cosine min ${acc.embedCosFastExactMin!.toFixed(6)}`);
    lines.push(`- reference images with fast decode vs transformers' pixel_values: worst max |diff| ${acc.refMaxDiffWorst!.toFixed(5)}; identical to exact decode: ${Object.entries(acc).filter(([k]) => k.startsWith('refFast')).map(([k, v]) => `${k.slice(18)} ${v ? 'yes' : 'NO'}`).join(', ')}`);
    lines.push(`- q8 vs fp32 embeddings (fast decode): cosine min ${acc.embedCosQ8Fp32Min!.toFixed(4)}`);
  }
  if (rss.length) {
    lines.push('', 'Peak RSS of `zs embed DIR --out x.npy` (cold cache), Fashion-MNIST PNGs:');
    for (const r of rss) lines.push(`- ${r.images} images: ${r.rssMb.toFixed(0)} MB (${r.rate.toFixed(0)} images/s, model ${r.model})`);
  }
  console.log(lines.join('\n'));
  const json = opt('json', '');
  if (json) writeFileSync(json, JSON.stringify({ machine, started, load: [load0, load1], model, batch, sets, accuracy: acc, rss }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
