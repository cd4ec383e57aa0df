/**
 * Dense products X W' on the WASM SIMD kernel (src/learn/matmul.ts, one thread) and on onnxruntime's CPU Gemm
 * (src/learn/ort-matmul.ts, all cores), realistic head sizes plus small ones for the switch point:
 *
 *   flock -x /tmp/zs-cpu.lock node --import tsx scripts/bench-matmul.ts [--reps 3]
 *
 * Prints n x d . d x K, seconds and GFLOP/s for each, and the largest difference between the two.
 */
import { Rng } from '../src/data/rng.js';
import { denseProducts } from '../src/learn/ort-matmul.js';

const argv = process.argv.slice(2);
const i = argv.indexOf('--reps');
const reps = i >= 0 ? Number(argv[i + 1]) : 3;
const sizes: [number, number, number][] = [
  [4000, 512, 16000], [16000, 768, 512], [16000, 512, 1000], [1000, 512, 1000], [256, 512, 256], [64, 512, 64],
];
const r = new Rng(1);
const dp = denseProducts();
console.log('| n x d . d x K | GFLOP | WASM s | ORT s | WASM GFLOP/s | ORT GFLOP/s | ratio | max diff |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [n, d, K] of sizes) {
  const x = Float32Array.from({ length: n * d }, () => r.float() - 0.5);
  const w = Float32Array.from({ length: K * d }, () => r.float() - 0.5);
  const best = async (force: 'ort' | 'wasm'): Promise<[number, Float32Array]> => {
    let t = Infinity, z = new Float32Array();
    const m = n * K * d > 1e10 ? 1 : reps;
    for (let k = 0; k < m; k++) { const t0 = performance.now(); z = await dp.matmulT(x, n, w, K, d, force); t = Math.min(t, (performance.now() - t0) / 1000); }
    return [t, z];
  };
  await best('ort'); // warm the session
  const [tw, zw] = await best('wasm');
  const [to, zo] = await best('ort');
  let diff = 0;
  for (let k = 0; k < zw.length; k++) diff = Math.max(diff, Math.abs(zw[k]! - zo[k]!));
  const gf = (2 * n * K * d) / 1e9;
  console.log(`| ${n} x ${d} . ${d} x ${K} | ${gf.toFixed(3)} | ${tw.toFixed(4)} | ${to.toFixed(4)} | ${(gf / tw).toFixed(1)} | ${(gf / to).toFixed(1)} | ${(tw / to).toFixed(1)} | ${diff.toExponential(1)} |`);
}
await dp.close();
