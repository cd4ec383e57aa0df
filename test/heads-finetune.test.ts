/** Fine-tuning the projection: the gradient against finite differences, the loss falls, lambda keeps W near W0. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { finetuneObjective, fitFinetune, minClassCount } from '../src/heads/finetune.js';
import type { Dataset } from '../src/learn/logreg.js';
import { ORT_MIN_FLOPS } from '../src/learn/ort-matmul.js';
import { Rng } from '../src/data/rng.js';

function gauss(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r.float())) * Math.cos(2 * Math.PI * r.float());
}

/** Pre-projection rows h [n, p], a projection W0 [d, p] and unit class embeddings T [K, d] that disagree with the labels a little. */
function problem(seed: number, n = 24, p = 7, d = 4, K = 3) {
  const r = new Rng(seed);
  const W0 = Float32Array.from({ length: d * p }, () => gauss(r) / Math.sqrt(p));
  const T = Float32Array.from({ length: K * d }, () => gauss(r));
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += T[k * d + j]! ** 2;
    for (let j = 0; j < d; j++) T[k * d + j]! /= Math.sqrt(s);
  }
  const centres = Float32Array.from({ length: K * p }, () => gauss(r));
  const x = new Float32Array(n * p);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % K;
    for (let j = 0; j < p; j++) x[i * p + j] = centres[(i % K) * p + j]! + 0.7 * gauss(r);
  }
  const data: Dataset = { x, labels, n, d: p, K };
  return { data, W0, T, d, p, K };
}

test('float32 products (onnxruntime above the switch point, WASM below) match the float64 objective and gradient', () => {
  const { data, W0, T, d, p, K } = problem(4, 200, 96, 64, 40); // A = H W' and dW: 200 x 64 x 96 = 1.2M >= ORT_MIN_FLOPS
  assert.ok(200 * 64 * 96 >= ORT_MIN_FLOPS && 200 * 40 * 64 < ORT_MIN_FLOPS);
  const x = Float64Array.from([...W0, ...T]);
  for (let i = 0; i < x.length; i++) x[i]! += 0.01 * Math.sin(i);
  const g32 = new Float64Array(x.length), g64 = new Float64Array(x.length);
  const o32 = finetuneObjective(data, W0, d, T, 7, 0.3);
  const o64 = finetuneObjective(data, W0, d, T, 7, 0.3, 'f64');
  const f32 = o32.fg(x, g32), f64 = o64.fg(x, g64);
  o32.close();
  o64.close();
  assert.ok(Math.abs(f32 - f64) < 1e-5 * Math.abs(f64), `f ${f32} vs ${f64}`);
  let num = 0, den = 0;
  for (let i = 0; i < x.length; i++) { num += (g32[i]! - g64[i]!) ** 2; den += g64[i]! ** 2; }
  assert.ok(Math.sqrt(num / den) < 1e-4, `gradient rel. error ${Math.sqrt(num / den)}`);
});

test('the gradient matches central differences (float64 products)', () => {
  const { data, W0, T, d, p, K } = problem(1);
  const obj = finetuneObjective(data, W0, d, T, 7, 0.3, 'f64');
  const r = new Rng(9);
  const x = new Float64Array(d * p + K * d);
  for (let i = 0; i < x.length; i++) x[i] = (i < d * p ? W0[i]! : T[i - d * p]!) + 0.1 * gauss(r);
  const g = new Float64Array(x.length);
  obj.fg(x, g);
  const h = 1e-6;
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[i]! += h; xm[i]! -= h;
    const fd = (obj.fg(xp, new Float64Array(x.length)) - obj.fg(xm, new Float64Array(x.length))) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - g[i]!) / Math.max(1e-3, Math.abs(fd)));
  }
  assert.ok(worst < 1e-5, `worst relative error ${worst}`);
});

test('fine-tuning lowers the training loss, and a larger lambda keeps W closer to W0', () => {
  const { data, W0, T, d, p, K } = problem(2);
  const zs = { T, scale: 7, bias: 0 };
  const start = finetuneObjective(data, W0, d, T, 7, 0);
  start.fg(Float64Array.from([...W0, ...T]), new Float64Array(d * p + K * d));
  const loss0 = start.lastLoss();
  const dist: number[] = [];
  const losses: number[] = [];
  for (const lambda of [0.001, 0.01, 0.1, 1]) {
    const h = fitFinetune({ fitOn: data, W0, d, feature: 'h' }, zs, { lambda, maxIter: 300 });
    assert.is(h.params.head, 'finetune');
    if (h.params.head !== 'finetune') return;
    let s = 0;
    for (let i = 0; i < W0.length; i++) s += (h.params.projection[i]! - W0[i]!) ** 2;
    dist.push(Math.sqrt(s));
    const o = finetuneObjective(data, W0, d, T, 7, 0);
    o.fg(Float64Array.from([...h.params.projection, ...h.params.classes]), new Float64Array(d * p + K * d));
    losses.push(o.lastLoss());
    const scores = h.score(data.x, data.n);
    assert.ok(scores.every((v) => Number.isFinite(v) && v <= 1e-12));
  }
  for (const l of losses) assert.ok(l < loss0, `loss ${l} vs ${loss0} before`);
  for (let i = 1; i < dist.length; i++) assert.ok(dist[i]! < dist[i - 1]!, `||W - W0|| by lambda: ${dist.join(', ')}`);
  assert.ok(losses[0]! < losses[3]!, `weak pull fits the training rows better: ${losses.join(', ')}`);
});

test('lambda defaults to 1/k', () => {
  const { data, W0, T, d } = problem(3, 12);
  assert.is(minClassCount(data), 4);
  const h = fitFinetune({ fitOn: data, W0, d, feature: 'h' }, { T, scale: 5, bias: 0 }, { maxIter: 5 });
  assert.is(h.settings.lambda, 0.25);
});

test.run();
