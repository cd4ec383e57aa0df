/** The few-shot heads on synthetic features where the truth is known: zero-shot strong, shots few. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fitProbe, fitAnchored, fitWise, zeroShotScorer, withTextSamples, logSoftmaxRows, type ZeroShotWeights } from '../src/heads/fewshot.js';
import type { Dataset } from '../src/learn/logreg.js';
import { Rng } from '../src/data/rng.js';

const K = 6, d = 24;

function gauss(r: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - r.float())) * Math.cos(2 * Math.PI * r.float());
}

function normalize(v: Float32Array, off: number): void {
  let s = 0;
  for (let j = 0; j < d; j++) s += v[off + j]! ** 2;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < d; j++) v[off + j]! *= inv;
}

/** Class centres T (the "text embeddings") and images around them; `offset` shifts images away from the texts. */
function world(seed: number) {
  const r = new Rng(seed);
  const T = new Float32Array(K * d).map(() => gauss(r));
  for (let k = 0; k < K; k++) normalize(T, k * d);
  // what images have that texts lack: CLIP's modality gap, one offset shared by all classes, plus a little per class
  const gap = Float32Array.from({ length: d }, () => gauss(r) * 0.2);
  const shift = Float32Array.from({ length: K * d }, (_, i) => gap[i % d]! + gauss(r) * 0.12);
  const sample = (n: number, noise: number, drawSeed: number): Dataset => {
    const r = new Rng(drawSeed);
    const x = new Float32Array(n * K * d);
    const labels = new Int32Array(n * K);
    for (let i = 0; i < n * K; i++) {
      const k = i % K;
      labels[i] = k;
      for (let j = 0; j < d; j++) x[i * d + j] = T[k * d + j]! + shift[k * d + j]! + gauss(r) * noise;
      normalize(x, i * d);
    }
    return { x, labels, n: n * K, d, K };
  };
  return { T, sample };
}

function accuracy(logp: Float64Array, data: Dataset): number {
  let ok = 0;
  for (let i = 0; i < data.n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logp[i * K + k]! > logp[i * K + best]!) best = k;
    if (best === data.labels[i]) ok++;
  }
  return ok / data.n;
}

test('text samples are appended with their class labels', () => {
  const { T, sample } = world(1);
  const train = sample(2, 0.3, 2);
  const withText = withTextSamples(train, { T, scale: 50, bias: 0 });
  assert.is(withText.n, train.n + K);
  assert.equal(Array.from(withText.labels.subarray(train.n)), [0, 1, 2, 3, 4, 5]);
  assert.equal(Array.from(withText.x.subarray(train.n * d, (train.n + 1) * d)), Array.from(T.subarray(0, d)));
});

test('log-softmax rows exponentiate to 1', () => {
  const z = logSoftmaxRows(Float64Array.from([1, 2, 3, 1000, 1000, -1000]), 3);
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(Math.exp(z[i * 3]!) + Math.exp(z[i * 3 + 1]!) + Math.exp(z[i * 3 + 2]!) - 1) < 1e-12);
});

test('WiSE stays near the better of zero-shot and the plain probe at 1 and 16 shots; the anchored probe beats the plain one with few shots', async () => {
  const { T, sample } = world(7);
  const zsW: ZeroShotWeights = { T, scale: 30, bias: 0 };
  const zs = zeroShotScorer(zsW, d, K);
  const testSet = sample(60, 0.45, 99);
  const zsAcc = accuracy(zs(testSet.x, testSet.n), testSet);
  for (const k of [1, 16]) {
    const acc = { probe: 0, anchored: 0, wise: 0 };
    const seeds = [11, 12, 13, 14, 15, 16, 17, 18];
    for (const seed of seeds) {
      const train = sample(k, 0.45, seed);
      const val = sample(Math.min(k, 4), 0.45, seed + 1000);
      const probe = await fitProbe(train, val);
      const anchored = await fitAnchored(train, val, zsW);
      const wise = fitWise(zsW, probe, val);
      acc.probe += accuracy(probe.score(testSet.x, testSet.n), testSet) / seeds.length;
      acc.anchored += accuracy(anchored.score(testSet.x, testSet.n), testSet) / seeds.length;
      acc.wise += accuracy(wise.score(testSet.x, testSet.n), testSet) / seeds.length;
    }
    const better = Math.max(zsAcc, acc.probe);
    const msg = `k=${k}: zero-shot ${zsAcc.toFixed(3)}, probe ${acc.probe.toFixed(3)}, anchored ${acc.anchored.toFixed(3)}, wise ${acc.wise.toFixed(3)}`;
    assert.ok(acc.wise >= better - 0.04, msg);
    if (k === 1) assert.ok(acc.anchored >= acc.probe + 0.1, msg);
    else assert.ok(acc.anchored >= better - 0.04, msg);
  }
});

test.run();
