/** GDA: the closed form against a case worked by hand, the one-shot fallback, selection with zero-shot. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gdaClosedForm, fitGda } from '../src/heads/gda.js';
import type { Dataset } from '../src/learn/logreg.js';
import { ZsError } from '../src/errors.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// class 0: (1,0), (3,2) -> mean (2,1), residuals +-(1,1); class 1: (0,1), (2,1) -> mean (1,1), residuals +-(1,0)
// S = (1/4) [[4,2],[2,2]] = [[1, .5], [.5, .5]]; m = tr(S)/2 = 0.75
const data: Dataset = { x: Float32Array.from([1, 0, 3, 2, 0, 1, 2, 1]), labels: Int32Array.from([0, 0, 1, 1]), n: 4, d: 2, K: 2 };

test('closed form with shrinkage 0.5, by hand', () => {
  // Sigma = 0.5 S + 0.5 * 0.75 I = [[7/8, 1/4], [1/4, 5/8]], det 31/64, Sigma^-1 = 64/31 [[5/8, -1/4], [-1/4, 7/8]]
  // w0 = Sigma^-1 (2, 1) = (64/31, 24/31); w1 = Sigma^-1 (1, 1) = (24/31, 40/31)
  // b0 = log 1/2 - (2 * 64 + 24) / 31 / 2 = log 1/2 - 76/31; b1 = log 1/2 - (24 + 40) / 31 / 2 = log 1/2 - 32/31
  const g = gdaClosedForm(data, 0.5);
  const W = [64 / 31, 24 / 31, 24 / 31, 40 / 31];
  W.forEach((w, i) => close(g.W[i]!, w));
  close(g.b[0]!, Math.log(0.5) - 76 / 31);
  close(g.b[1]!, Math.log(0.5) - 32 / 31);
  assert.is(g.shrinkage, 0.5);
  assert.is(g.identity, false);
});

test('Ledoit-Wolf shrinkage, by hand: 0.3', () => {
  // ||S||_F^2 = 1.75; d2 = 1.75 - 2 * 0.75^2 = 0.625; sum ||r||^4 = 4 + 4 + 1 + 1 = 10;
  // b2 = 10/16 - 1.75/4 = 0.1875; g = 0.1875 / 0.625 = 0.3
  const g = gdaClosedForm(data);
  close(g.shrinkage, 0.3);
  // Sigma = 0.7 S + 0.3 * 0.75 I = [[0.925, 0.35], [0.35, 0.575]]
  const det = 0.925 * 0.575 - 0.35 * 0.35;
  close(g.W[0]!, (0.575 * 2 - 0.35 * 1) / det);
  close(g.W[1]!, (-0.35 * 2 + 0.925 * 1) / det);
});

test('one shot per class: no scatter, identity covariance (nearest class mean), never NaN', () => {
  const one: Dataset = { x: Float32Array.from([0.6, 0.8, 1, 0, 0, 1]), labels: Int32Array.from([0, 1, 2]), n: 3, d: 2, K: 3 };
  const g = gdaClosedForm(one);
  assert.is(g.identity, true);
  assert.equal(Array.from(g.W), [0.6000000238418579, 0.800000011920929, 1, 0, 0, 1]);
  for (const [k, sq] of [[0, 1], [1, 1], [2, 1]] as const) close(g.b[k]!, Math.log(1 / 3) - sq / 2);
  const h = fitGda(one, one, { T: Float32Array.from([1, 0, 0, 1, 0.6, 0.8]), scale: 10, bias: 0 });
  const s = h.score(one.x, 3);
  assert.ok(s.every((v) => Number.isFinite(v)));
  assert.is(h.settings.identityCovariance, true);
});

test('a class with no examples is a clear error', () => {
  try {
    gdaClosedForm({ ...data, K: 3 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ZsError);
    assert.match((e as Error).message, /class 2 has none/);
  }
});

test('mixed with zero-shot: alpha 0 where zero-shot is right and the shots mislead; > 0 where the shots help', () => {
  const T = Float32Array.from([1, 0, 0, 1]); // zero-shot: class = larger coordinate
  // validation rows agree with zero-shot; the training rows put class 0 near (0,1) and class 1 near (1,0)
  const swapped: Dataset = { x: Float32Array.from([0.1, 1, 0, 0.9, 1, 0.1, 0.9, 0]), labels: Int32Array.from([0, 0, 1, 1]), n: 4, d: 2, K: 2 };
  const val: Dataset = { x: Float32Array.from([1, 0.2, 0.2, 1]), labels: Int32Array.from([0, 1]), n: 2, d: 2, K: 2 };
  const h = fitGda(swapped, val, { T, scale: 5, bias: 0 });
  assert.is(h.settings.alpha, 0);
  assert.equal(Array.from(h.params.head === 'gda' ? h.params.W : []), [5, 0, 0, 5]);
  const agree: Dataset = { x: Float32Array.from([1, 0.1, 0.9, 0, 0.1, 1, 0, 0.9]), labels: Int32Array.from([0, 0, 1, 1]), n: 4, d: 2, K: 2 };
  const weakT = { T: Float32Array.from([0.8, 0.6, 0.6, 0.8]), scale: 1, bias: 0 }; // right but nearly flat
  const h2 = fitGda(agree, val, weakT);
  assert.ok((h2.settings.alpha as number) > 0, `alpha ${h2.settings.alpha}`);
  assert.is(h2.val!.accuracy, 1);
});

test.run();
