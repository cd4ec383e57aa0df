/** Tip-Adapter: the scorer against a case worked by hand, and the choice of alpha and beta on validation rows. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TIP_ALPHA_EXPONENTS, TIP_BETAS, fitTip } from '../src/heads/tip.js';
import { valScore } from '../src/heads/logits.js';
import { bestIndex } from '../src/learn/select.js';
import { scorerOf } from '../src/heads/state.js';
import type { Dataset } from '../src/learn/logreg.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('scores by hand: zero-shot logits plus alpha * exp(-beta (1 - cos)) per class', () => {
  const zeroShot = { T: Float32Array.from([0.6, 0.8, 0.8, 0.6]), scale: 10, bias: 0 };
  const score = scorerOf({ head: 'tip', zeroShot, keys: Float32Array.from([1, 0, 0, 1]), keyLabels: Int32Array.from([0, 1]), alpha: 2, beta: 3 }, 2, 2);
  // x = (0.6, 0.8): zero-shot 10 * (1.0, 0.96) = (10, 9.6); affinities (0.6, 0.8) -> cache (e^-1.2, e^-0.6)
  const l0 = 10 + 2 * Math.exp(-1.2), l1 = 9.6 + 2 * Math.exp(-0.6);
  const lse = Math.log(Math.exp(l0) + Math.exp(l1));
  const s = score(Float32Array.from([0.6, 0.8]), 1);
  close(s[0]!, l0 - lse);
  close(s[1]!, l1 - lse);
  assert.ok(s[1]! > s[0]!, 'the cache overturns zero-shot here');
});

test('alpha > 0 and beta chosen when the cache fixes what zero-shot gets wrong on the validation rows', async () => {
  const T = Float32Array.from([0.8, 0.6, 0.6, 0.8]);
  const keys: Dataset = { x: Float32Array.from([1, 0, 0, 1]), labels: Int32Array.from([0, 1]), n: 2, d: 2, K: 2 };
  // zero-shot is right on these already
  const easy: Dataset = { x: Float32Array.from([0.8, 0.6, 0.6, 0.8]), labels: Int32Array.from([0, 1]), n: 2, d: 2, K: 2 };
  const zs = { T, scale: 1, bias: 0 };
  const a = await fitTip(keys, easy, zs);
  assert.is(a.val!.accuracy, 1);
  // validation rows zero-shot gets wrong (its class 0 leans to coordinate 2) but the cache gets right
  const swappedZs = { T: Float32Array.from([0.6, 0.8, 0.8, 0.6]), scale: 1, bias: 0 };
  const hard: Dataset = { x: Float32Array.from([0.96, 0.28, 0.28, 0.96]), labels: Int32Array.from([0, 1]), n: 2, d: 2, K: 2 };
  const b = await fitTip(keys, hard, swappedZs);
  assert.ok((b.settings.alpha as number) > 0, `alpha ${b.settings.alpha}`);
  assert.is(b.val!.accuracy, 1);
  const wrongZs = scorerOf({ head: 'linear', W: Float64Array.from([0.6, 0.8, 0.8, 0.6]), b: new Float64Array(2) }, 2, 2)(hard.x, 2);
  assert.ok(wrongZs[0]! < wrongZs[1]!, 'zero-shot alone gets row 0 wrong');
  const cacheOnly = await fitTip(keys, keys, swappedZs); // keys are the validation rows: the cache is right on them
  assert.ok((cacheOnly.settings.beta as number) >= 1);
});

test('the selection equals a plain scan of every beta/alpha candidate scored in full on a random problem', async () => {
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
  const K = 4, d = 6;
  const unitRows = (n: number, labels: number[]): Float32Array => {
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) { x[i * d + j] = (j === labels[i]! ? 0.5 : 0) + rnd(); s += x[i * d + j]! ** 2; }
      for (let j = 0; j < d; j++) x[i * d + j]! /= Math.sqrt(s);
    }
    return x;
  };
  const trainLabels = Array.from({ length: 12 }, (_, i) => i % K), valLabels = Array.from({ length: 40 }, (_, i) => i % K);
  const train: Dataset = { x: unitRows(12, trainLabels), labels: Int32Array.from(trainLabels), n: 12, d, K };
  const val: Dataset = { x: unitRows(40, valLabels), labels: Int32Array.from(valLabels), n: 40, d, K };
  const zs = { T: unitRows(K, [1, 0, 3, 2]), scale: 5, bias: 0 }; // zero-shot leans wrong: the cache matters
  const fit = await fitTip(train, val, zs);
  const candidates = [{ alpha: 0, beta: TIP_BETAS[0]! }];
  for (const beta of TIP_BETAS) for (const e of TIP_ALPHA_EXPONENTS) candidates.push({ alpha: zs.scale * 10 ** e, beta });
  const scores = candidates.map(({ alpha, beta }) => {
    const logp = scorerOf({ head: 'tip', zeroShot: zs, keys: train.x, keyLabels: train.labels, alpha, beta }, K, d)(val.x, val.n);
    return valScore(Float64Array.from(logp), val.labels, K);
  });
  const ref = candidates[bestIndex(scores)]!;
  assert.equal(fit.settings, ref);
  assert.ok(ref.alpha > 0 && fit.val!.accuracy > scores[0]!.accuracy, 'the cache beats zero-shot here');
  close(fit.val!.loss, scores[bestIndex(scores)]!.loss, 1e-6); // the scorer computes affinities in float32
});

test.run();
