/**
 * LinearProbe (probe.ts) and the fit behind it (fit.ts, csearch.ts): scikit-learn's coefficients on a small
 * problem (golden values from test/fixtures/probe/make-golden.py, sklearn's LogisticRegression as
 * /work/shared/tools/sklearn-probe.py runs it), predictions, the convergence warning, C auto, the probe
 * file, and the bad inputs that must each give one clear error.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tempDir } from './_helpers.js';
import { LinearProbe, type ModelRef } from '../src/heads/probe.js';
import { fitLogReg } from '../src/learn/fit.js';
import { objective } from '../src/learn/logreg.js';
import { stratifiedSplit, searchC, COARSE_LOG10_C } from '../src/learn/csearch.js';
import { ZsError } from '../src/errors.js';

interface Golden {
  classes: string[]; C: number; x: number[][]; y: number[];
  raw: { coef: number[][]; intercept: number[]; objective: number; objective_lbfgs: number };
  standardized: { coef: number[][]; intercept: number[]; objective: number; mean: number[]; scale: number[] };
}
const golden = JSON.parse(readFileSync(join(FIXTURES, 'probe', 'golden.json'), 'utf8')) as Golden;
const X = Float32Array.from(golden.x.flat());
const Y = Int32Array.from(golden.y);
const d = golden.x[0]!.length, K = golden.classes.length, n = golden.y.length;
const MODEL: ModelRef = { id: 'test/model', fingerprint: 'sha256:abc' };

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function rejects(fn: () => Promise<unknown> | unknown, code: string, pattern: RegExp): Promise<ZsError> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, ZsError);
    const z = e as ZsError;
    assert.is(z.code, code, z.message);
    assert.match(z.message, pattern);
    assert.not.match(z.message, /\n/, 'one line');
    return z;
  }
  throw new assert.Assertion({ message: `expected ${code}` });
}

for (const preconditioner of ['whiten', 'center'] as const) {
  test(`coefficients match scikit-learn within 1e-4 (raw features, ${preconditioner})`, async () => {
    const r = await fitLogReg({ x: X, labels: Y, n, d, K }, { C: golden.C, tol: 1e-5, ftol: 0, preconditioner });
    assert.ok(r.converged, r.warning);
    const diff = Math.max(maxDiff(r.W, golden.raw.coef.flat()), maxDiff(r.b, golden.raw.intercept));
    assert.ok(diff < 1e-4, `max |coef - sklearn| = ${diff}`);
    const exact = objective({ x: X, labels: Y, n, d, K }, r.W, r.b, golden.C);
    assert.ok(exact <= golden.raw.objective + 1e-8, `objective ${exact} vs sklearn ${golden.raw.objective}`);
    assert.ok(exact < golden.raw.objective_lbfgs, 'lower than sklearn lbfgs reaches');
  });
}

test('standardized fit matches scikit-learn on StandardScaler features within 1e-4', async () => {
  const r = await fitLogReg({ x: X, labels: Y, n, d, K }, { C: golden.C, tol: 1e-5, ftol: 0, standardize: true });
  assert.ok(r.converged, r.warning);
  assert.ok(maxDiff(r.standardization!.mean, golden.standardized.mean) < 1e-6);
  assert.ok(maxDiff(r.standardization!.scale, golden.standardized.scale) < 1e-6);
  const diff = Math.max(maxDiff(r.W, golden.standardized.coef.flat()), maxDiff(r.b, golden.standardized.intercept));
  assert.ok(diff < 1e-4, `max |coef - sklearn| = ${diff}`);
});

test('float64 engine and two threads give the same coefficients', async () => {
  const r = await fitLogReg({ x: X, labels: Y, n, d, K }, { C: golden.C, tol: 1e-5, ftol: 0, precision: 'f64', threads: 2 });
  assert.ok(maxDiff(r.W, golden.raw.coef.flat()) < 1e-4);
});

test('max_iter = 1 gives the convergence warning and keeps the coefficients', async () => {
  const r = await fitLogReg({ x: X, labels: Y, n, d, K }, { C: golden.C, maxIter: 1 });
  assert.not.ok(r.converged);
  assert.is(r.iterations, 1);
  assert.match(r.warning ?? '', /did not converge in 1 iteration \(gradient norm .* > tol 0\.0001\); raise maxIter or standardize the features/);
  assert.ok(r.W.some((v) => v !== 0), 'coefficients kept');
  const p = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: 1, maxIter: 1 });
  assert.match(p.training.warning ?? '', /did not converge/);
  assert.is(p.training.converged, false);
});

test('probabilities sum to 1, argmax equals predict, and accuracy is sklearn\'s', async () => {
  const probe = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: golden.C, tol: 1e-5, ftol: 0 });
  const P = probe.predictProba(X);
  const pred = probe.predict(X);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const row = P.subarray(i * K, (i + 1) * K);
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-12);
    let best = 0;
    for (let k = 1; k < K; k++) if (row[k]! > row[best]!) best = k;
    assert.is(pred[i], best);
    if (pred[i] === Y[i]) ok++;
  }
  assert.is(ok / n, 0.6); // sklearn-probe.py: train_acc 0.6
  assert.is(probe.training.trainAccuracy, 0.6);
});

test('save and load round-trip exactly; loading refuses another model', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const probe = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: golden.C, standardize: true });
    const file = join(dir, 'probe.json');
    await probe.save(file);
    assert.equal(readdirSync(dir), ['probe.json'], 'no temporary file left');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    assert.is(json.schema, 1);
    assert.equal(json.model, MODEL);
    assert.is(json.dim, d);
    const back = await LinearProbe.load(file, MODEL);
    assert.equal(Array.from(back.predictProba(X)), Array.from(probe.predictProba(X)));
    assert.equal(back.labels, golden.classes);
    await rejects(() => LinearProbe.load(file, { id: 'other/model', fingerprint: 'x' }), 'E_PROBE_MODEL',
      /was made for model "test\/model", not for "other\/model"/);
    await rejects(() => LinearProbe.load(file, { id: MODEL.id, fingerprint: 'sha256:def' }), 'E_PROBE_MODEL',
      /another version of "test\/model"/);
  } finally {
    cleanup();
  }
});

test('a corrupt or tampered probe file gives one clear error', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const probe = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: 1 });
    const good = probe.toJSON();
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(good).slice(0, 200));
    await rejects(() => LinearProbe.load(file), 'E_PROBE_CORRUPT', /is not valid JSON/);
    const cases: Array<[(j: any) => void, RegExp]> = [
      [(j) => { j.weights[1] = j.weights[1].slice(1); }, /weights\[1\] must be a list of 5 numbers/],
      [(j) => { j.intercepts[0] = null; }, /intercepts\[0\] is null/],
      [(j) => { j.labels[2] = j.labels[0]; }, /labels has "alpha" twice/],
      [(j) => { delete j.model; }, /model must be/],
      [(j) => { j.kind = 'something'; }, /kind is "something"/],
      [(j) => { j.standardization = { mean: [0, 0, 0, 0, 0], scale: [1, 1, 0, 1, 1] }; }, /standardization.scale\[2\] is 0/],
    ];
    for (const [mutate, pattern] of cases) {
      const j = JSON.parse(JSON.stringify(good));
      mutate(j);
      writeFileSync(file, JSON.stringify(j));
      await rejects(() => LinearProbe.load(file), 'E_PROBE_CORRUPT', pattern);
    }
    const newer = { ...good, schema: 2 };
    writeFileSync(file, JSON.stringify(newer));
    await rejects(() => LinearProbe.load(file), 'E_PROBE_SCHEMA', /schema 2; this zs reads schema 1/);
    await rejects(() => LinearProbe.load(join(dir, 'missing.json')), 'E_PROBE_READ', /cannot read probe file/);
  } finally {
    cleanup();
  }
});

test('bad training input: one class, NaN, wrong length, label out of range', async () => {
  const opts = { classes: golden.classes, model: MODEL, C: 1 };
  await rejects(() => LinearProbe.fit(X, new Int32Array(n).fill(1), opts), 'E_ONE_CLASS', /one class only \("beta"\)/);
  const nan = X.slice(); nan[7] = NaN;
  await rejects(() => LinearProbe.fit(nan, Y, opts), 'E_FEATURES', /row 2 has a non-finite value \(NaN\) at position 3/);
  await rejects(() => LinearProbe.fit(X.subarray(1), Y, opts), 'E_FEATURES', /599 values for 120 labels/);
  const y = Y.slice(); y[4] = 3;
  await rejects(() => LinearProbe.fit(X, y, opts), 'E_LABELS', /label 5 is 3, not a class index from 0 to 2/);
  await rejects(() => LinearProbe.fit(X, Y, { ...opts, C: -1 }), 'E_INVALID_ARG', /invalid C: -1/);
});

test('bad prediction input and labels a dataset lacks', async () => {
  const probe = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: 1 });
  await rejects(() => probe.predict(new Float32Array(7)), 'E_FEATURES', /7 values, not a whole number of 5-value rows/);
  await rejects(() => probe.predictProba(Float32Array.from([1, 2, Infinity, 4, 5])), 'E_FEATURES', /row 1 has a non-finite value/);
  probe.checkLabels(['gamma', 'beta', 'alpha', 'delta']);
  await rejects(() => probe.checkLabels(['alpha', 'beta'], 'dataset pets/'), 'E_PROBE_LABELS', /labels "gamma" are not in dataset pets\//);
});

test('saving into a missing folder fails cleanly and writes nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const probe = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: 1 });
    await rejects(() => probe.save(join(dir, 'nope', 'p.json')), 'E_WRITE', /cannot write/);
    assert.not.ok(existsSync(join(dir, 'nope')));
    assert.equal(readdirSync(dir), []);
  } finally {
    cleanup();
  }
});

test('stratified split keeps each class\'s share and is reproducible', () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : 1));
  const a = stratifiedSplit(labels, 2, 0.2, 3), b = stratifiedSplit(labels, 2, 0.2, 3);
  assert.equal(Array.from(a.val), Array.from(b.val));
  assert.is(a.val.length, 20);
  assert.is(Array.from(a.val).filter((i) => labels[i] === 0).length, 14);
  assert.is(a.train.length + a.val.length, 100);
  assert.not.equal(Array.from(stratifiedSplit(labels, 2, 0.2, 4).val), Array.from(a.val));
});

test('C auto: the CLIP sweep (7 coarse values, then bisection to 1/8 decade) picks the best validation C', async () => {
  const data = { x: X, labels: Y, n, d, K };
  const r = await searchC(data, { seed: 1 });
  assert.is(r.fits, 15);
  const logs = r.candidates.map((c) => Math.log10(c.C));
  assert.equal(logs.slice(0, 7).map((v) => Math.round(v)), COARSE_LOG10_C);
  for (const l of logs) assert.ok(Math.abs(l * 8 - Math.round(l * 8)) < 1e-9, `${l} is on the 1/8-decade grid`);
  const bestAcc = Math.max(...r.candidates.map((c) => c.valAccuracy));
  assert.is(r.valAccuracy, bestAcc);
  const tied = r.candidates.filter((c) => c.valAccuracy === bestAcc);
  const lowestLoss = Math.min(...tied.map((c) => c.valLoss));
  assert.is(r.C, Math.min(...tied.filter((c) => c.valLoss === lowestLoss).map((c) => c.C)), 'accuracy ties go to the lower log-loss, then the smaller C');
  const probe = await LinearProbe.fit(X, Y, { classes: golden.classes, model: MODEL, C: 'auto', seed: 1 });
  assert.is(probe.C, r.C);
  assert.is(probe.training.cSearch?.fits, 15);
});

test.run();
