/**
 * Search benchmark (not a test): synthetic L2-normalized 512-d float32 vectors written through the real index path
 * (IndexStore + IndexWriter: segments, quantization, commits), then
 *   - index build time and peak RSS of the writing process, at each size (default 100k and 1M)
 *   - warm per-query latency: one process keeps SearchIndex open, top-10 for random unit queries and for queries
 *     near an indexed vector (median, p95, max; each near query must return its source first)
 *   - cold: a fresh plain-node process imports zs (dist/), opens the index (SQLite + segments) and answers one
 *     query; import+open+query inside the process, and the whole process from spawn to exit
 *   - 10,000 small real images indexed with the tiny CLIP fixture, then the unchanged re-run of `zs index`
 *     (spawned, whole process)
 *   - dupes over the 10,000 images (zs dupes, whole process, the index already current; the tiny model's 16-d
 *     random embeddings make them one group), and findDuplicates over 10k / 20k synthetic 512-d vectors with
 *     planted copies (the n^2 scaling)
 * Run (CPU-exclusive, numbers reported in docs/benchmarks.md):
 *   npx tsc -p . && flock -x /tmp/zs-cpu.lock node --import tsx scripts/bench-search.ts [--sizes 100000,1000000]
 *     [--queries 30] [--dupes 10000,20000] [--images 10000] [--work /tmp/zs-search-bench]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const TINY = join(ROOT, 'test', 'fixtures', 'tiny-random-clip');
const D = 512;
const FP = 'synthetic-512';

const opt = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};

/** Deterministic unit vectors: xorshift32 + Box-Muller. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return ((s >>> 0) + 0.5) / 2 ** 32; };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
function unitRows(n: number, g: () => number, out = new Float32Array(n * D)): Float32Array {
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let j = 0; j < D; j++) { const v = g(); out[i * D + j] = v; ss += v * v; }
    const inv = 1 / Math.sqrt(ss);
    for (let j = 0; j < D; j++) out[i * D + j]! *= inv;
  }
  return out;
}

async function build(home: string, n: number): Promise<void> {
  const { IndexStore, indexDir } = await import('../src/search/store.js');
  const { IndexWriter } = await import('../src/search/writer.js');
  const t0 = performance.now();
  const store = (await IndexStore.open(indexDir(home), { create: true }))!;
  const unlock = await store.lockWriter(1000);
  const m = store.ensureModel(FP, 'synthetic', D);
  const w = new IndexWriter(store, m);
  const g = rng(7);
  const chunk = new Float32Array(4096 * D);
  for (let i = 0; i < n; i += 4096) {
    const c = Math.min(4096, n - i);
    unitRows(c, g, chunk);
    for (let j = 0; j < c; j++) await w.add(`/synthetic/${String(i + j).padStart(8, '0')}.jpg`, chunk.subarray(j * D, (j + 1) * D));
  }
  await w.compact();
  unlock();
  store.close();
  const secs = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ n, secs, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

/** N synthetic vectors of which every 100th has a near copy (cosine ~0.99); times findDuplicates at 0.95. */
async function dupes(home: string, n: number): Promise<void> {
  const { IndexStore, indexDir } = await import('../src/search/store.js');
  const { IndexWriter } = await import('../src/search/writer.js');
  const { findDuplicates } = await import('../src/search/api.js');
  const store = (await IndexStore.open(indexDir(home), { create: true }))!;
  const m = store.ensureModel(FP, 'synthetic', D);
  const w = new IndexWriter(store, m);
  const g = rng(11);
  const rows = unitRows(n, g);
  let planted = 0;
  for (let i = 0; i < n; i++) {
    const v = rows.subarray(i * D, (i + 1) * D);
    await w.add(`/d/${String(i).padStart(8, '0')}`, v);
    if (i % 100 === 0) {
      const c = v.map((x) => x + 0.1 / Math.sqrt(D) * g());
      const norm = Math.hypot(...c);
      await w.add(`/d/${String(i).padStart(8, '0')}-copy`, c.map((x) => x / norm));
      planted++;
    }
  }
  await w.compact();
  store.close();
  const t0 = performance.now();
  const groups = await findDuplicates(undefined, { cacheDir: home, fingerprint: FP, threshold: 0.95 });
  const secs = (performance.now() - t0) / 1000;
  const ok = groups.length === planted && groups.every((x) => x.paths.length === 2 && x.paths[1] === `${x.paths[0]}-copy`);
  console.log(JSON.stringify({ n: n + planted, secs, groups: groups.length, planted, ok, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

function stats(ms: number[]): { median: number; p95: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!, max: s[s.length - 1]! };
}

async function warm(home: string, queries: number): Promise<void> {
  const { SearchIndex } = await import('../src/search/api.js');
  const t0 = performance.now();
  const ix = await SearchIndex.open({ cacheDir: home, fingerprint: FP, resident: true });
  const openMs = performance.now() - t0;
  const g = rng(99);
  const random: number[] = [];
  const near: number[] = [];
  const gData = rng(7); // the first data vectors, for "near" queries
  const data = unitRows(queries, gData);
  let checked = 0;
  for (let i = 0; i < queries; i++) {
    const q = unitRows(1, g);
    let t = performance.now();
    const hits = await ix.search(q, { topK: 10 });
    random.push(performance.now() - t);
    if (hits.length !== 10) throw new Error('expected 10 hits');
    const qn = data.slice(i * D, (i + 1) * D);
    for (let j = 0; j < D; j++) qn[j]! += 0.02 * g();
    t = performance.now();
    const nh = await ix.search(qn, { topK: 10 });
    near.push(performance.now() - t);
    if (nh[0]!.path !== `/synthetic/${String(i).padStart(8, '0')}.jpg`) throw new Error(`near query ${i} missed its source`);
    checked++;
  }
  await ix.close();
  console.log(JSON.stringify({ n: ix.size, openMs, random: stats(random), near: stats(near), checked, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

function child(args: string[]): { out: unknown; wallMs: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-search.ts'), ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop()!), wallMs };
}

/** A fresh plain-node process (built dist/, no tsx) that opens the index and answers one vector query. */
function coldChild(home: string): { openQueryMs: number; wallMs: number } {
  const code = `import { performance } from 'node:perf_hooks';
    const t0 = performance.now();
    const { search } = await import(${JSON.stringify(join(ROOT, 'dist', 'search', 'api.js'))});
    const q = new Float32Array(${D}); for (let j = 0; j < q.length; j++) q[j] = Math.sin(j * 7.1) / 16;
    const hits = await search(q, { cacheDir: ${JSON.stringify(home)}, fingerprint: ${JSON.stringify(FP)}, topK: 10 });
    if (hits.length !== 10) process.exit(3);
    console.log(JSON.stringify({ openQueryMs: performance.now() - t0 }));`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cold query failed: ${r.stderr}`);
  return { openQueryMs: (JSON.parse(r.stdout.trim()) as { openQueryMs: number }).openQueryMs, wallMs };
}

function zs(args: string[], home: string): { wallMs: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args, '--cache-dir', home, '--model', TINY], { encoding: 'utf8', env: { ...process.env, ZS_OFFLINE: '1' } });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`zs ${args.join(' ')}: ${r.stderr}`);
  return { wallMs, stderr: r.stderr.trim() };
}

async function images(work: string, count: number): Promise<void> {
  const dir = join(work, 'images');
  const sharp = (await import('sharp')).default;
  if (!existsSync(join(dir, 'done'))) {
    rmSync(dir, { recursive: true, force: true });
    for (let i = 0; i < count; i++) {
      const sub = join(dir, String(Math.floor(i / 1000)).padStart(2, '0'));
      if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
      const px = Buffer.alloc(32 * 32 * 3);
      for (let j = 0; j < px.length; j++) px[j] = (j * 131 + i * 7919 + ((i * j) % 253)) & 255;
      await sharp(px, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(sub, `${i}.png`));
    }
    mkdirSync(join(dir, 'done'));
  }
  const home = join(work, 'home-images');
  rmSync(home, { recursive: true, force: true });
  const first = zs(['index', dir, '--threads', '2'], home);
  await new Promise((r) => setTimeout(r, 2100)); // past the racy-stamp window, as a later run would be
  const again = zs(['index', dir], home); // stamps of files written within 2 s of the first stat are re-checked here
  const runs = [0, 1, 2].map(() => zs(['index', dir], home));
  const dupes = zs(['dupes', dir, '--json'], home);
  console.log(`\n10,000 images (32x32 PNG), tiny CLIP fixture: first index ${(first.wallMs / 1000).toFixed(1)} s; second ${(again.wallMs / 1000).toFixed(2)} s`);
  console.log(`  unchanged re-index (whole process, 3 runs): ${runs.map((r) => (r.wallMs / 1000).toFixed(2)).join(' / ')} s`);
  console.log(`  ${runs[2]!.stderr}`);
  console.log(`  zs dupes over them (index current; whole process): ${(dupes.wallMs / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === 'build') return build(process.argv[3]!, Number(process.argv[4]));
  if (mode === 'warm') return warm(process.argv[3]!, Number(process.argv[4]));
  if (mode === 'dupes') return dupes(process.argv[3]!, Number(process.argv[4]));
  const work = opt('work', '/tmp/zs-search-bench');
  const sizes = opt('sizes', '100000,1000000').split(',').map(Number);
  const queries = Number(opt('queries', '30'));
  mkdirSync(work, { recursive: true });
  console.log(`node ${process.version}, ${D}-d float32, top-10; shared 2-vCPU VM`);
  for (const n of sizes) {
    const home = join(work, `home-${n}`);
    rmSync(home, { recursive: true, force: true });
    const b = child(['build', home, String(n)]);
    const w = child(['warm', home, String(queries)]);
    const c = [0, 1, 2].map(() => coldChild(home));
    const bo = b.out as { secs: number; maxRssMB: number };
    const wo = w.out as { openMs: number; random: ReturnType<typeof stats>; near: ReturnType<typeof stats>; maxRssMB: number };
    console.log(`\nn = ${n}: build ${bo.secs.toFixed(1)} s, peak RSS of the writer ${bo.maxRssMB.toFixed(0)} MB`);
    console.log(`  warm: open ${wo.openMs.toFixed(0)} ms; random queries median ${wo.random.median.toFixed(1)} ms, p95 ${wo.random.p95.toFixed(1)}, max ${wo.random.max.toFixed(1)};`
      + ` near queries median ${wo.near.median.toFixed(1)} ms, p95 ${wo.near.p95.toFixed(1)}; searcher RSS ${wo.maxRssMB.toFixed(0)} MB`);
    console.log(`  cold (fresh process, 3 runs): import+open+query ${c.map((x) => x.openQueryMs.toFixed(0)).join(' / ')} ms; `
      + `whole process ${c.map((x) => x.wallMs.toFixed(0)).join(' / ')} ms`);
  }
  for (const n of opt('dupes', '10000,20000').split(',').filter(Boolean).map(Number)) {
    const home = join(work, `dupes-${n}`);
    rmSync(home, { recursive: true, force: true });
    const r = child(['dupes', home, String(n)]).out as { n: number; secs: number; groups: number; planted: number; ok: boolean; maxRssMB: number };
    console.log(`\nfindDuplicates, ${r.n} synthetic 512-d vectors (${r.planted} planted copies, threshold 0.95): ${r.secs.toFixed(1)} s, `
      + `${r.groups} groups, planted pairs ${r.ok ? 'all found, no other group' : 'NOT matched'}; peak RSS ${r.maxRssMB.toFixed(0)} MB`);
  }
  const count = Number(opt('images', '10000'));
  if (count > 0) await images(work, count);
}

await main();
