/**
 * Where zs embed's time goes on phone photos, against a bare onnxruntime session (not a test; issue #13):
 *   1. stages, one photo at a time on one thread: CPU ms per photo for reading + hashing (the cache key), the
 *      JPEG header, the 1/8-scale decode, the PIL-exact resample + crop + normalize, and the whole preprocessing;
 *   2. interleaved rounds of: the bare session (zs's thread count, onnxruntime's defaults, i.e. spinning threads;
 *      and with spinning off), zs's engine in-process (Model.embedImages, no cache; with the engine's defaults and
 *      with spinning on), and `zs embed` as a whole process (cold: a fresh cache). The loops report images/s and
 *      CPU ms per image; the engine also reports its batch loop's own split (EmbedStats.timings): time inside
 *      inference and time stalled waiting for preprocessing.
 * Ratios zs / bare are taken within each round (the runs next to each other) and given as the median over rounds;
 * rates are the best and the median round (a shared machine only ever slows a run down).
 *
 * Setup: as scripts/bench-embed.ts (random-weight CLIP ViT-B/32 under /tmp/zs-embed-bench, `npx tsc -p .`).
 * Run:   flock -x /tmp/zs-cpu.lock node --import tsx scripts/bench-embed-breakdown.ts [--rounds 5] [--batch 16]
 *          [--photos 128] [--work /tmp/zs-embed-bench] [--model DIR] [--stages 32] [--json out.json]
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { photoSet } from './bench-embed-data.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const SELF = join(ROOT, 'scripts', 'bench-embed-breakdown.ts');
const opt = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const listJpegs = (dir: string): string[] => readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => join(dir, f));
const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

interface Loop { loop_s: number; cpu_s: number; inferMs?: number; prepWaitMs?: number }

/** Child: the bare session on one pre-made batch tensor, as many images as the photo set. */
async function bareChild(model: string, batch: number, n: number, spinning: boolean): Promise<Loop> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(join(model, 'onnx', 'vision_model.onnx'), {
    intraOpNumThreads: availableParallelism(), interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  });
  const px = 3 * 224 * 224;
  const pix = new Float32Array(batch * px); // [batch, 3, 224, 224]
  for (let i = 0; i < pix.length; i++) pix[i] = Math.sin(i * 0.37);
  await s.run({ pixel_values: new ort.Tensor('float32', pix.subarray(0, px), [1, 3, 224, 224]) }); // warm-up
  const c0 = process.cpuUsage();
  const t = performance.now();
  for (let done = 0; done < n; done += batch) {
    const k = Math.min(batch, n - done);
    await s.run({ pixel_values: new ort.Tensor('float32', pix.subarray(0, k * px), [k, 3, 224, 224]) });
  }
  return { loop_s: (performance.now() - t) / 1000, cpu_s: cpuMs(process.cpuUsage(c0)) / 1000 };
}

/** Child: zs's engine in-process (model loaded, workers warmed up on 2 photos), no cache. */
async function engineChild(model: string, batch: number, dir: string, spinning: boolean | undefined): Promise<Loop> {
  const { Model } = await import('../src/embed/model.js');
  const files = listJpegs(dir);
  const m = await Model.load(model, { batchSize: batch, spinning });
  await m.embedImages(files.slice(0, 2));
  const c0 = process.cpuUsage();
  const t = performance.now();
  const r = await m.embedImages(files);
  const loop = { loop_s: (performance.now() - t) / 1000, cpu_s: cpuMs(process.cpuUsage(c0)) / 1000, ...r.stats.timings };
  if (r.failures.length > 0) throw new Error(`${r.failures.length} photos failed: ${r.failures[0]!.error.message}`);
  await m.close();
  return loop;
}

interface Timed { wall: number; cpu: number; out: string }

function timed(args: string[]): Timed {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'ZS_TIME %U %S', process.execPath, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ZS_OFFLINE: '1' } });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const m = /ZS_TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN, out: r.stdout.trim().split('\n').pop() ?? '' };
}

/** Stage costs, one photo at a time on this thread: CPU ms per photo (libuv's and libvips' threads included). */
async function stages(model: string, files: string[]): Promise<Record<string, number>> {
  const { createPreprocessor } = await import('../src/image/index.js');
  const { decodeImage, headerPixels } = await import('../src/image/decode.js');
  const { hashBytes } = await import('../src/embed/hash.js');
  const pre = createPreprocessor(JSON.parse(readFileSync(join(model, 'preprocessor_config.json'), 'utf8')), { fastDecode: true, fastDecodeMargin: 1.5 });
  const shrink = { minSize: (w: number, h: number) => { const s = 224 / Math.min(w, h); return { width: Math.round(w * s) * 1.5, height: Math.round(h * s) * 1.5 }; } };
  const out = new Float32Array(3 * 224 * 224);
  const decoded = await Promise.all(files.map((f) => decodeImage(f, { shrinkOnLoad: shrink })));
  const bytes = await Promise.all(files.map((f) => fsp.readFile(f)));
  const measure = async (fn: (i: number) => unknown): Promise<number> => {
    for (let i = 0; i < 2; i++) await fn(i); // warm-up
    const c0 = process.cpuUsage();
    for (let i = 0; i < files.length; i++) await fn(i);
    return cpuMs(process.cpuUsage(c0)) / files.length;
  };
  const r: Record<string, number> = {};
  r['read file'] = await measure((i) => fsp.readFile(files[i]!));
  r['sha256 of the bytes'] = await measure((i) => hashBytes(bytes[i]!));
  r['JPEG header (sharp metadata)'] = await measure((i) => headerPixels(files[i]!));
  r['decode at 1/8 (header + DCT-scaled decode)'] = await measure((i) => decodeImage(files[i]!, { shrinkOnLoad: shrink }));
  r['resample + crop + normalize'] = await measure((i) => {
    const d = decoded[i]!;
    return pre.fromRgb(d, out, 0, { width: d.sourceWidth, height: d.sourceHeight, box: d.box });
  });
  r['preprocessing in all (decode + the above)'] = await measure((i) => pre.run(files[i]!, out));
  return r;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

async function main(): Promise<void> {
  const child = process.argv.indexOf('--child');
  if (child > 0) {
    const [kind, model, batch, arg, spin] = process.argv.slice(child + 1);
    const spinning = spin === 'default' ? undefined : spin === 'on';
    const r = kind === 'bare' ? await bareChild(model!, Number(batch), Number(arg), spinning ?? true) : await engineChild(model!, Number(batch), arg!, spinning);
    console.log(JSON.stringify(r));
    return;
  }
  const work = opt('work', '/tmp/zs-embed-bench');
  const model = opt('model', join(work, 'clip-vit-b32'));
  const batch = Number(opt('batch', '16'));
  const rounds = Number(opt('rounds', '5'));
  if (!existsSync(BIN)) throw new Error('build zs first: npx tsc -p .');
  const dir = await photoSet(join(work, 'photos'), Number(opt('photos', '128')));
  const files = listJpegs(dir);
  const n = files.length;
  const load0 = loadavg()[0]!;
  const started = new Date().toISOString();
  const stage = await stages(model, files.slice(0, Number(opt('stages', '32'))));

  const runs: Record<string, { rate: number; cpuMs: number; inferMs?: number; prepWaitMs?: number }[]> = {};
  const add = (k: string, v: { rate: number; cpuMs: number; inferMs?: number; prepWaitMs?: number }) => { (runs[k] ??= []).push(v); };
  const loop = (name: string, kind: string, arg: string, spin: string) => {
    const t = timed(['--import', 'tsx', SELF, '--child', kind, model, String(batch), arg, spin]);
    const l = JSON.parse(t.out) as Loop;
    add(name, { rate: n / l.loop_s, cpuMs: (l.cpu_s / n) * 1000, inferMs: l.inferMs, prepWaitMs: l.prepWaitMs });
    if (kind === 'bare' && spin === 'on') add('bare session, whole process', { rate: n / t.wall, cpuMs: (t.cpu / n) * 1000 });
  };
  const steps = [
    () => loop('bare session (spinning, onnxruntime default)', 'bare', String(n), 'on'),
    () => loop('zs engine (defaults)', 'engine', dir, 'default'),
    () => {
      const cache = mkdtempSync('/tmp/zs-breakdown-cache-');
      const t = timed([BIN, 'embed', dir, '--model', model, '-b', String(batch), '--cache-dir', cache, '--out', join(cache, 'out.npy')]);
      add('zs embed, whole process (cold cache)', { rate: n / t.wall, cpuMs: (t.cpu / n) * 1000 });
      rmSync(cache, { recursive: true, force: true });
    },
    () => loop('bare session (spinning off)', 'bare', String(n), 'off'),
    () => loop('zs engine (spinning on, as before 2026-12-06)', 'engine', dir, 'on'),
  ];
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? steps : [...steps].reverse()) s();
    console.error(`round ${r + 1}/${rounds}: ${Object.entries(runs).map(([k, v]) => `${k.split(' (')[0]} ${v.at(-1)!.rate.toFixed(1)}`).join(', ')}`);
  }
  const load1 = loadavg()[0]!;
  const ratio = (a: string, b: string) => median(runs[a]!.map((x, i) => x.rate / runs[b]![i]!.rate));
  const bare = 'bare session (spinning, onnxruntime default)';
  const lines = [
    `Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model}), Node ${process.version}; load average ${load0.toFixed(2)} at start, ${load1.toFixed(2)} at the end; ${started}`,
    `Model: ${model}, batch ${batch}, ${n} photos; ${rounds} interleaved rounds.`, '',
    '| stage (one photo at a time, one thread) | CPU ms per photo |', '|---|---|',
    ...Object.entries(stage).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`), '',
    '| run | images/s best | median | CPU ms per image (median) | zs / bare session, median of per-round ratios | in inference / stalled on preprocessing (s, median) |',
    '|---|---|---|---|---|---|',
    ...Object.entries(runs).map(([k, v]) => {
      const whole = k.includes('whole process');
      const ref = whole ? 'bare session, whole process' : bare;
      const split = v[0]!.inferMs === undefined ? '' : `${(median(v.map((x) => x.inferMs!)) / 1000).toFixed(2)} / ${(median(v.map((x) => x.prepWaitMs!)) / 1000).toFixed(2)}`;
      return `| ${k} | ${Math.max(...v.map((x) => x.rate)).toFixed(1)} | ${median(v.map((x) => x.rate)).toFixed(1)} | ${median(v.map((x) => x.cpuMs)).toFixed(0)} | ${k.startsWith('zs') ? ratio(k, ref).toFixed(2) : ''} | ${split} |`;
    }),
  ];
  console.log(lines.join('\n'));
  const json = opt('json', '');
  if (json) writeFileSync(json, JSON.stringify({ started, load0, load1, stage, runs }, null, 1));
}

await main();
