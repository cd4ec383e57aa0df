/**
 * Speed of the training-free and fine-tuned heads on synthetic features of a real model's shape (zs's own code,
 * in-process; the accuracy side is scripts/bench-fewshot.ts):
 *
 *   flock -x /tmp/zs-cpu.lock node --import tsx scripts/bench-heads.ts [--classes 1000] [--shots 16] [--dim 512]
 *     [--val 4] [--ft-rows 16000] [--ft-classes 1000] [--ft-pre 768] [--ft-iter 100] [--out FILE.json]
 *
 * - GDA: the closed form (class means, scatter, Ledoit-Wolf shrinkage, Cholesky, K solves) on classes x shots rows
 *   of `dim` values; then the whole head as zs bench / zs probe fit run it (closed form on the shots, zero-shot mix
 *   weight chosen on `val` validation rows per class).
 * - Tip-Adapter: the whole head (the cache of classes x shots keys, beta and alpha chosen on the validation rows:
 *   their affinities to every key, one exp per affinity for every beta).
 * - Fine-tuning: the projection [dim, pre] and the class head [ft-classes, dim] on ft-rows pre-projection rows,
 *   L-BFGS for ft-iter iterations at most; time per objective evaluation and in total.
 * Rows are unit vectors around unit class centres (Gaussian noise 0.06 per value), seeded; timings do not depend
 * on the values. One thread, except large products on onnxruntime's Gemm (src/learn/ort-matmul.ts, all cores). Prints a Markdown table; --out writes the numbers as JSON.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Rng } from '../src/data/rng.js';
import { gdaClosedForm, fitGda } from '../src/heads/gda.js';
import { fitTip } from '../src/heads/tip.js';
import { fitFinetune, finetuneObjective } from '../src/heads/finetune.js';
import type { Dataset } from '../src/learn/logreg.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number): number => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : fallback; };
const K = opt('classes', 1000), k = opt('shots', 16), d = opt('dim', 512), v = opt('val', 4);
const ftRows = opt('ft-rows', 16000), ftK = opt('ft-classes', 1000), ftP = opt('ft-pre', 768), ftIter = opt('ft-iter', 100);
const outIdx = argv.indexOf('--out');

function gauss(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r.float())) * Math.cos(2 * Math.PI * r.float());
}
function unitRows(r: Rng, n: number, dim: number): Float32Array {
  const x = Float32Array.from({ length: n * dim }, () => gauss(r));
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j]! ** 2;
    for (let j = 0; j < dim; j++) x[i * dim + j]! /= Math.sqrt(s);
  }
  return x;
}
function sample(r: Rng, centres: Float32Array, classes: number, perClass: number, dim: number, noise: number): Dataset {
  const n = classes * perClass;
  const x = new Float32Array(n * dim), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels[i] = c;
    let s = 0;
    for (let j = 0; j < dim; j++) { const val = centres[c * dim + j]! + noise * gauss(r); x[i * dim + j] = val; s += val * val; }
    for (let j = 0; j < dim; j++) x[i * dim + j]! /= Math.sqrt(s);
  }
  return { x, labels, n, d: dim, K: classes };
}
const time = <T>(f: () => T): [T, number] => { const t = performance.now(); const r = f(); return [r, (performance.now() - t) / 1000]; };
const timeAsync = async <T>(f: () => Promise<T>): Promise<[T, number]> => { const t = performance.now(); const r = await f(); return [r, (performance.now() - t) / 1000]; };

const r = new Rng(7);
const centres = unitRows(r, K, d);
const train = sample(r, centres, K, k, d, 0.06);
const val = sample(r, centres, K, v, d, 0.06);
const zs = { T: unitRows(r, K, d).map((x, i) => 0.8 * x + 0.2 * centres[i]!), scale: 100, bias: 0 };
for (let c = 0; c < K; c++) { let s = 0; for (let j = 0; j < d; j++) s += zs.T[c * d + j]! ** 2; for (let j = 0; j < d; j++) zs.T[c * d + j]! /= Math.sqrt(s); }

const rows: [string, string, number][] = [];
const [g, gdaClosedS] = time(() => gdaClosedForm(train));
rows.push([`GDA closed form (${K} x ${k} x ${d})`, `shrinkage ${g.shrinkage.toFixed(3)}`, gdaClosedS]);
const [gh, gdaS] = time(() => fitGda(train, val, zs));
rows.push([`GDA head with zero-shot mix chosen on ${K * v} validation rows`, `alpha ${(gh.settings.alpha as number).toPrecision(3)}, val acc ${gh.val!.accuracy.toFixed(3)}`, gdaS]);
const [th, tipS] = await timeAsync(() => fitTip(train, val, zs));
rows.push([`Tip-Adapter head, beta/alpha chosen on ${K * v} validation rows`, `beta ${th.settings.beta}, alpha ${(th.settings.alpha as number).toPrecision(3)}, val acc ${th.val!.accuracy.toFixed(3)}`, tipS]);
const val1 = sample(r, centres, K, 1, d, 0.06);
const [th1, tip1S] = await timeAsync(() => fitTip(train, val1, zs));
rows.push([`Tip-Adapter head, chosen on ${K} validation rows (1 per class)`, `beta ${th1.settings.beta}, val acc ${th1.val!.accuracy.toFixed(3)}`, tip1S]);

// fine-tuning: pre-projection rows [ftRows, ftP], W0 [d, ftP], class head [ftK, d] (--ft-rows 0 skips it)
if (ftRows > 0) {
const W0 = Float32Array.from({ length: d * ftP }, () => gauss(r) / Math.sqrt(ftP));
const preCentres = Float32Array.from({ length: ftK * ftP }, () => gauss(r));
const per = Math.ceil(ftRows / ftK);
const ft = sample(r, preCentres, ftK, per, ftP, 1.5);
const T = unitRows(r, ftK, d);
const obj = finetuneObjective(ft, W0, d, T, 100, 1 / per);
const x0 = new Float64Array(d * ftP + ftK * d); x0.set(W0); x0.set(T, d * ftP);
const [, evalS] = time(() => obj.fg(x0, new Float64Array(x0.length)));
obj.close();
rows.push([`fine-tune: one objective + gradient evaluation (${ft.n} rows, ${ftP} -> ${d}, ${ftK} classes)`, '', evalS]);
let its = 0;
const [fh, ftS] = time(() => fitFinetune({ fitOn: ft, W0, d, feature: 'h' }, { T, scale: 100, bias: 0 }, { maxIter: ftIter, onIteration: (i) => { its = i.iteration; } }));
rows.push([`fine-tune: L-BFGS, at most ${ftIter} iterations`, `${its} iterations, converged ${fh.settings.converged}, objective ${(fh.settings.objective as number).toFixed(4)}`, ftS]);
}

console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node ${process.version}, one thread (large products: onnxruntime, all cores).\n`);
console.log('| step | result | seconds |\n| --- | --- | ---: |');
for (const [a, b, s] of rows) console.log(`| ${a} | ${b} | ${s.toFixed(2)} |`);
if (outIdx >= 0) writeFileSync(argv[outIdx + 1]!, JSON.stringify({ K, k, d, v, ftRows, ftK, ftP, ftIter, rows }, null, 2) + '\n');
