/**
 * Sharded-embedding benchmark (not a test): do local `zs embed --manifest` workers scale with the cores they get,
 * and is a worker's memory bounded by the batch rather than the shard?
 *
 * Setup (once): a real-size random-weight CLIP ViT-B/32 and the built CLI:
 *   /usr/bin/python3 scripts/tools/make-random-clip.py --preset clip-vit-b32 /tmp/zs-shards-bench/clip-vit-b32
 *   npx tsc -p .
 * Run (exclusive CPU lock, so test runs of other sessions do not overlap the timings):
 *   flock -x /tmp/zs-cpu.lock node --import tsx scripts/bench-shards.ts [--images 512] [--rows-small 128]
 *     [--rows-big 1024] [--no-memory] [--model DIR] [--work /tmp/zs-shards-bench] [--json out.json]
 *
 * Definitions (C = the cores the machine has, 2 here; every worker is a whole `zs embed` process, timed from spawn
 * to exit, model load included, `--no-cache`):
 *   one worker      one process pinned to one core (taskset -c 0, so --threads 1 and one decode worker), embedding
 *                   `images / 2` manifest rows; rate r1 = rows / wall seconds.
 *   4 workers       4 processes at once, shards 0..3 of all `images` rows, each --threads 1, two pinned to each
 *                   core (taskset -c i mod 2): each core carries the same work as the one-worker run. Aggregate
 *                   rate R4 = rows / wall seconds from the first spawn to the last exit. Also unpinned.
 *   scaling         R4 / (r1 x C): 1.0 is perfect; the issue asks for >= 0.9. Whole-process rates charge each worker its
 *                   model load (~2-3 CPU s for ViT-B/32: 2 per core in the fleet, 1 in the baseline), so the steady
 *                   rates are given too: rows / (last finish - first model loaded), from the done markers' timings.
 *   memory          peak RSS (/usr/bin/time %M) of one unpinned worker on `rows-small` and `rows-big` rows (the
 *                   manifest repeats the images under distinct keys): equal figures mean memory follows the batch.
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const opt = (name: string, fallback: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : fallback; };
const WORK = opt('work', '/tmp/zs-shards-bench');
const MODEL = opt('model', join(WORK, 'clip-vit-b32'));
const N = Number(opt('images', '512'));
const CORES = availableParallelism();

async function makeImages(dir: string, n: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const sharp = (await import('sharp')).default;
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = join(dir, `img-${String(i).padStart(4, '0')}.jpg`);
    if (!existsSync(f)) {
      // 640x480 JPEG (a web-size photo): smooth random colour field plus noise, different per image
      const w = 640, h = 480, px = Buffer.alloc(w * h * 3);
      let s = i * 2654435761 >>> 0;
      const rnd = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
      const [a, b, c] = [rnd(), rnd(), rnd()];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        px[o] = 255 * (0.5 + 0.5 * Math.sin(x * a * 0.05 + y * 0.01));
        px[o + 1] = 255 * (0.5 + 0.5 * Math.sin(y * b * 0.05));
        px[o + 2] = Math.min(255, 255 * c * ((x + y) / (w + h)) + rnd() * 40);
      }
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 88 }).toFile(f);
    }
    files.push(f);
  }
  return files;
}

function manifest(file: string, images: string[], rows: number): string {
  writeFileSync(file, Array.from({ length: rows }, (_, r) => JSON.stringify({ key: `r${r}`, path: images[r % images.length] })).join('\n') + '\n');
  return file;
}

interface Run { wall: number; rssMb: number; done: { counts: { rows: number }; timings: { started: string; finished: string; seconds: number; loadSeconds: number; imagesPerSecond: number } } }

/** Rows per second of a fleet once loaded: rows / (last finish - first end of a model load), from the done markers. */
function steady(runs: Run[], rows: number): number {
  const first = Math.min(...runs.map((r) => Date.parse(r.done.timings.started) + r.done.timings.loadSeconds * 1000));
  const last = Math.max(...runs.map((r) => Date.parse(r.done.timings.finished)));
  return rows / ((last - first) / 1000);
}

/** One worker process (optionally pinned with taskset); resolves with its wall time, peak RSS and done marker. */
function worker(args: { manifest: string; out: string; index: number; count: number; cpus?: string; threads?: number }): Promise<Run> {
  const zsArgs = [BIN, 'embed', '--model', MODEL, '--no-cache', '-q', '--manifest', args.manifest, '--out', args.out,
    '--shard-index', String(args.index), '--shard-count', String(args.count), ...(args.threads ? ['--threads', String(args.threads)] : [])];
  const cmd = ['/usr/bin/time', '-f', 'ZS_TIME %M', ...(args.cpus ? ['taskset', '-c', args.cpus] : []), process.execPath, ...zsArgs];
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: ROOT, env: { ...process.env, ZS_OFFLINE: '1' } });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      const wall = (performance.now() - t) / 1000;
      if (code !== 0) return reject(new Error(`worker ${args.index} exited ${code}: ${err}`));
      const rss = /ZS_TIME (\d+)/.exec(err);
      const done = JSON.parse(readFileSync(join(args.out, `part-${String(args.index).padStart(5, '0')}.done.json`), 'utf8'));
      resolve({ wall, rssMb: rss ? Number(rss[1]) / 1024 : NaN, done });
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(join(MODEL, 'onnx', 'vision_model.onnx'))) {
    throw new Error(`no model at ${MODEL}: /usr/bin/python3 scripts/tools/make-random-clip.py --preset clip-vit-b32 ${MODEL}`);
  }
  const images = await makeImages(join(WORK, 'images'), N);
  const runDir = join(WORK, 'runs');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const all = manifest(join(runDir, 'all.jsonl'), images, N);
  const half = manifest(join(runDir, 'half.jsonl'), images, N / 2);
  spawnSync('sync');

  const one = await worker({ manifest: half, out: join(runDir, 'one'), index: 0, count: 1, cpus: '0', threads: 1 });
  const r1 = N / 2 / one.wall;

  const fleet = async (pinned: boolean) => {
    const t = performance.now();
    const runs = await Promise.all([0, 1, 2, 3].map((i) => worker({
      manifest: all, out: join(runDir, pinned ? 'four-pinned' : 'four'), index: i, count: 4, threads: 1, ...(pinned ? { cpus: String(i % CORES) } : {}),
    })));
    return { wall: (performance.now() - t) / 1000, runs };
  };
  const pinned = await fleet(true);
  const free = await fleet(false);
  const both = await worker({ manifest: half, out: join(runDir, 'one-all-cores'), index: 0, count: 1 });

  const small = Number(opt('rows-small', '128'));
  const big = Number(opt('rows-big', '1024'));
  const memory = !process.argv.includes('--no-memory');
  const memSmall = memory ? await worker({ manifest: manifest(join(runDir, 'small.jsonl'), images, small), out: join(runDir, 'mem-small'), index: 0, count: 1 }) : undefined;
  const memBig = memory ? await worker({ manifest: manifest(join(runDir, 'big.jsonl'), images, big), out: join(runDir, 'mem-big'), index: 0, count: 1 }) : undefined;

  const f = (x: number, d = 2) => x.toFixed(d);
  const lines = [
    `machine: ${CORES} cores (availableParallelism), model ${MODEL}, ${N} images 640x480 JPEG, batch 16, --no-cache`,
    `one worker, pinned to 1 core, --threads 1: ${N / 2} rows in ${f(one.wall)} s = ${f(r1)} img/s whole process, ${f(steady([one], N / 2))} img/s once loaded (load ${f(one.done.timings.loadSeconds)} s), peak RSS ${f(one.rssMb, 0)} MB`,
    `one worker, unpinned (${CORES} cores, default threads): ${N / 2} rows in ${f(both.wall)} s = ${f(N / 2 / both.wall)} img/s`,
    ...([['4 workers pinned 2 per core', pinned], ['4 workers unpinned', free]] as const).flatMap(([name, r]) => [
      `${name}, --threads 1 each: ${N} rows in ${f(r.wall)} s = ${f(N / r.wall)} img/s = ${f(N / r.wall / (r1 * CORES), 3)} x (one worker x ${CORES} cores) whole process; `
        + `once loaded ${f(steady(r.runs, N))} img/s = ${f(steady(r.runs, N) / (steady([one], N / 2) * CORES), 3)} x`,
      ...r.runs.map((w, i) => `  worker ${i}: ${w.done.counts.rows} rows, 1 intra-op thread, ${f(w.wall)} s, ${f(w.done.counts.rows / w.wall)} img/s (${f(w.done.timings.imagesPerSecond)} once loaded), peak RSS ${f(w.rssMb, 0)} MB`),
    ]),
    ...(memSmall && memBig ? [`memory: ${small} rows peak RSS ${f(memSmall.rssMb, 0)} MB (${f(memSmall.wall)} s); ${big} rows peak RSS ${f(memBig.rssMb, 0)} MB (${f(memBig.wall)} s); ratio ${f(memBig.rssMb / memSmall.rssMb, 3)}`] : []),
  ];
  console.log(lines.join('\n'));
  const json = opt('json', '');
  if (json) writeFileSync(json, JSON.stringify({ one, both, pinned, free, memSmall, memBig, r1, lines }, null, 1));
  if (readdirSync(runDir).length) rmSync(runDir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
