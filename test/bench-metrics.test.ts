import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argmaxRows, confusionMatrix, evaluate, labelIndices, meanPerClassRecall, meanStd, perClassStats, topKAccuracy } from '../src/bench/metrics.js';
import { ZsError } from '../src/errors.js';
import { FIXTURES } from './_helpers.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

// Hand-computed example: 3 classes, 6 rows.
//   truth:  0 0 1 1 2 2
//   scores argmax: 0 1 1 1 0 2  -> top-1 = 4/6
const S = new Float32Array([
  0.9, 0.1, 0.0,
  0.2, 0.5, 0.3, // true 0 ranks 3rd
  0.1, 0.8, 0.1,
  0.3, 0.6, 0.1,
  0.5, 0.1, 0.4, // true 2 ranks 2nd
  0.0, 0.1, 0.9,
]);
const T = [0, 0, 1, 1, 2, 2];

test('top-1 / top-k by hand', () => {
  assert.equal(Array.from(argmaxRows(S, [6, 3])), [0, 1, 1, 1, 0, 2]);
  close(topKAccuracy(S, [6, 3], T, 1), 4 / 6);
  close(topKAccuracy(S, [6, 3], T, 2), 5 / 6);
  close(topKAccuracy(S, [6, 3], T, 3), 1);
  close(topKAccuracy(S, [6, 3], T, 10), 1);
});

test('ties: the lower class index wins, never a free hit', () => {
  const tied = new Float32Array([0.5, 0.5, 0.5, 0.5]);
  assert.equal(Array.from(argmaxRows(tied, [2, 2])), [0, 0]);
  close(topKAccuracy(tied, [2, 2], [0, 1], 1), 0.5);
  close(topKAccuracy(tied, [2, 2], [0, 1], 2), 1);
});

test('confusion matrix, per-class stats, balanced accuracy by hand', () => {
  const cm = confusionMatrix(T, [0, 1, 1, 1, 0, 2], 3);
  assert.equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
  const pc = perClassStats(cm, ['a', 'b', 'c']);
  assert.equal(pc.map((c) => [c.support, c.predicted, c.correct]), [[2, 2, 1], [2, 3, 2], [2, 1, 1]]);
  close(pc[1]!.precision!, 2 / 3);
  close(pc[1]!.recall!, 1);
  close(pc[1]!.f1!, 0.8);
  close(meanPerClassRecall(cm), (0.5 + 1 + 0.5) / 3);
});

test('0/0 is null; classes absent from the truth leave the mean recall', () => {
  const cm = confusionMatrix([0, 0, 1], [0, 0, 0], 3); // class 1 never predicted, class 2 never true
  const pc = perClassStats(cm, ['a', 'b', 'c']);
  assert.is(pc[1]!.precision, null);
  close(pc[1]!.recall!, 0);
  assert.is(pc[1]!.f1, null);
  assert.is(pc[2]!.recall, null);
  assert.is(pc[2]!.precision, null);
  close(meanPerClassRecall(cm), (1 + 0) / 2);
  close(perClassStats(confusionMatrix([0, 1], [1, 0], 2), ['a', 'b'])[0]!.f1!, 0);
});

test('matches scikit-learn on a random 120 x 7 problem', () => {
  const g = JSON.parse(readFileSync(join(FIXTURES, 'datasets', 'metrics-sklearn.json'), 'utf8'));
  const scores = new Float64Array(g.scores);
  const classes = Array.from({ length: g.classes }, (_, i) => `c${i}`);
  const ev = evaluate(scores, [g.n, g.classes], g.truth, classes);
  close(ev.top1, g.top1);
  close(ev.top5!, g.top5);
  close(topKAccuracy(scores, [g.n, g.classes], g.truth, 3), g.top3);
  close(ev.meanPerClassRecall, g.balancedAccuracy);
  assert.equal(ev.confusion, g.confusion);
  ev.perClass.forEach((c, i) => {
    assert.is(c.support, g.support[i]);
    for (const key of ['precision', 'recall', 'f1'] as const) {
      if (g[key][i] === null) assert.is(c[key], null, `${key} ${i}`);
      else close(c[key]!, g[key][i]);
    }
  });
});

test('evaluate: top-5 only with more than 5 classes; shape and NaN errors', () => {
  const ev = evaluate(S, [6, 3], T, ['a', 'b', 'c']);
  assert.is(ev.top5, null);
  close(ev.top1, 4 / 6);
  assert.is(ev.n, 6);
  assert.throws(() => evaluate(S, [6, 3], T, ['a', 'b']), /2 class names for 3 score columns/);
  assert.throws(() => evaluate(S, [5, 3], T, ['a', 'b', 'c']), /expected 5 x 3/);
  assert.throws(() => evaluate(S, [6, 3], [0, 0, 1, 1, 2, 3], ['a', 'b', 'c']), /true label 3 of row 6/);
  const bad = S.slice();
  bad[4] = NaN;
  assert.throws(() => evaluate(bad, [6, 3], T, ['a', 'b', 'c']), (e: unknown) => e instanceof ZsError && /score row 2 holds NaN/.test(e.message));
});

test('labelIndices', () => {
  assert.equal(Array.from(labelIndices(['b', 'a', 'b'], ['a', 'b'])), [1, 0, 1]);
  assert.throws(() => labelIndices(['a', 'z'], ['a', 'b']), /label "z" \(row 2\) is not one of the 2 classes/);
});

test('meanStd: sample std (n - 1), null for one value', () => {
  const m = meanStd([0.5, 0.7, 0.9]);
  close(m.mean, 0.7);
  close(m.std!, 0.2);
  assert.equal(meanStd([0.4]), { mean: 0.4, std: null, n: 1 });
  assert.throws(() => meanStd([]), /no values/);
});

test.run();
