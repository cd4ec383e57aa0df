/** The generic L-BFGS optimizer (lbfgs.ts): minima of known functions, stopping rules, noisy objectives. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lbfgs, type Objective } from '../src/learn/lbfgs.js';
import { noiseFromDifferences } from '../src/learn/noise.js';
import { VecSpace } from '../src/learn/wasm-vec.js';

/** Rosenbrock in n dimensions: minimum 0 at (1, ..., 1), a curved narrow valley. */
const rosenbrock: Objective = (x, g) => {
  let f = 0;
  g.fill(0);
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!, c = 1 - x[i]!;
    f += 100 * a * a + c * c;
    g[i]! += -400 * x[i]! * a - 2 * c;
    g[i + 1]! += 200 * a;
  }
  return f;
};

test('finds the minimum of Rosenbrock (n = 10) to the gradient tolerance', () => {
  const x0 = new Float64Array(10).fill(-1.2);
  const r = lbfgs(rosenbrock, x0, { gtol: 1e-8, ftol: 0, maxIter: 2000 });
  assert.is(r.stop, 'gtol');
  assert.ok(r.converged);
  for (const v of r.x) assert.ok(Math.abs(v - 1) < 1e-6, `x = ${v}`);
  assert.ok(r.f < 1e-12);
  assert.is(x0[0], -1.2, 'x0 is not modified');
});

test('an ill-conditioned quadratic (condition 1e4) converges in far fewer iterations than its dimension x 10', () => {
  const n = 200;
  const D = Float64Array.from({ length: n }, (_, i) => 10 ** (4 * i / (n - 1)));
  const fg: Objective = (x, g) => {
    let f = 0;
    for (let i = 0; i < n; i++) { const v = x[i]! - 1; f += 0.5 * D[i]! * v * v; g[i] = D[i]! * v; }
    return f;
  };
  const r = lbfgs(fg, new Float64Array(n), { gtol: 1e-6, ftol: 0, maxIter: 2000 });
  assert.is(r.stop, 'gtol');
  assert.ok(r.iterations < 1000, `${r.iterations} iterations`);
  assert.ok(r.evaluations <= 2 * r.iterations + 5, 'the line search mostly accepts its first step');
});

test('maxIter = 1 stops after one iteration, not converged, with the iterate kept', () => {
  const r = lbfgs(rosenbrock, new Float64Array(4).fill(-1.2), { maxIter: 1, gtol: 1e-10 });
  assert.is(r.iterations, 1);
  assert.is(r.stop, 'maxIter');
  assert.not.ok(r.converged);
  assert.ok(r.f < rosenbrock(new Float64Array(4).fill(-1.2), new Float64Array(4)), 'one step lowered f');
});

test('every accepted step lowers f and satisfies the strong Wolfe curvature condition', () => {
  const fs: number[] = [];
  const r = lbfgs(rosenbrock, new Float64Array(6).fill(-1.2), {
    gtol: 1e-8, ftol: 0, onIteration: (i) => { fs.push(i.f); },
  });
  assert.ok(r.converged);
  for (let i = 1; i < fs.length; i++) assert.ok(fs[i]! < fs[i - 1]!, `f rose at iteration ${i + 1}`);
});

test('ftol stops on a small relative reduction; the callback can stop the run', () => {
  const r = lbfgs(rosenbrock, new Float64Array(6).fill(-1.2), { gtol: 0, ftol: 1e-3, maxIter: 5000 });
  assert.is(r.stop, 'ftol');
  assert.ok(r.converged);
  const c = lbfgs(rosenbrock, new Float64Array(6).fill(-1.2), { gtol: 0, ftol: 0, onIteration: (i) => i.iteration < 3 });
  assert.is(c.stop, 'callback');
  assert.is(c.iterations, 3);
});

test('with noise in f, fNoise lets the gradient finish the job', () => {
  // f carries deterministic noise of relative size 1e-7 (like a float32-summed loss); the gradient is exact
  const n = 50;
  const D = Float64Array.from({ length: n }, (_, i) => 1 + i);
  const fg: Objective = (x, g) => {
    let f = 1;
    let h = 0;
    for (let i = 0; i < n; i++) { const v = x[i]! - 1; f += 0.5 * D[i]! * v * v; g[i] = D[i]! * v; h = (h * 31 + Math.round(x[i]! * 1e9)) % 1000003; }
    return f * (1 + 1e-7 * (h / 1000003 - 0.5));
  };
  const noisy = lbfgs(fg, new Float64Array(n), { gtol: 1e-9, ftol: 0, fNoise: 2e-7, maxIter: 500 });
  assert.is(noisy.stop, 'gtol');
  for (const v of noisy.x) assert.ok(Math.abs(v - 1) < 1e-9);
});

test('a noisy f that moves less than its measured noise over noiseWindow iterations ends the run, converged (fnoise)', () => {
  const n = 50;
  const D = Float64Array.from({ length: n }, (_, i) => 1 + i);
  const fg: Objective = (x, g) => { // minimum 1 at x = 1; f carries relative noise of 1e-7, the gradient is exact
    let f = 1, h = 0;
    for (let i = 0; i < n; i++) { const v = x[i]! - 1; f += 0.5 * D[i]! * v * v; g[i] = D[i]! * v; h = (h * 31 + Math.round(x[i]! * 1e9)) % 1000003; }
    return f * (1 + 1e-7 * (h / 1000003 - 0.5));
  };
  const fs: number[] = [];
  const r = lbfgs(fg, new Float64Array(n), { gtol: 0, fNoise: 2e-7, noiseWindow: 10, maxIter: 500, onIteration: (i) => { fs.push(i.f); } });
  assert.is(r.stop, 'fnoise');
  assert.ok(r.converged);
  assert.ok(r.f < 1 + 1e-6, `f = ${r.f}, within the noise of the minimum`);
  // the noise is measured (uniform relative noise of width 1e-7: standard deviation 2.9e-8) ...
  assert.ok(r.noise! > 1e-8 && r.noise! < 1e-7, `measured noise ${r.noise}`);
  // ... and the run ends at the first window whose reduction is within the fNoise bound and within 2 sqrt 2 noise
  const floor = 2 * Math.SQRT2 * r.noise!;
  assert.ok(fs[fs.length - 11]! - r.f <= Math.min(2e-7 * r.f, floor), 'the last 10 iterations moved f by no more than the noise');
  for (let k = 10; k < fs.length - 1; k++) {
    const moved = fs[k - 10]! - fs[k]!;
    assert.ok(moved > 2e-7 * fs[k]! || moved > floor, `not stopped at iteration ${k + 1}, where f still moved`);
  }
  // ftol = 0 turns the test off, and an exact f (fNoise = 0) never stops on it
  assert.is.not(lbfgs(fg, new Float64Array(n), { gtol: 0, ftol: 0, fNoise: 2e-7, maxIter: 200 }).stop, 'fnoise');
  assert.is.not(lbfgs(fg, new Float64Array(n), { gtol: 0, maxIter: 200 }).stop, 'fnoise');
});

test('vector space: float32 pairs round once, and mixed dot/axpy equal float64 arithmetic on the rounded values', () => {
  const n = 37; // not a multiple of 4: the padding must stay out of every result
  const vs = new VecSpace(n, 3, 1);
  const [a, b, c] = vs.vectors as [Float64Array, Float64Array, Float64Array];
  const a32 = vs.vectors32[0]!;
  for (let i = 0; i < n; i++) { a[i] = Math.sin(i + 1) / 3; b[i] = Math.cos(0.7 * i) * 1e3; }
  const original = Float64Array.from(a);
  vs.round32(a, a32);
  for (let i = 0; i < n; i++) {
    assert.is(a32[i], Math.fround(original[i]!));
    assert.is(a[i], a32[i], 'the float64 source is rounded to the stored value');
  }
  let dot = 0;
  for (let i = 0; i < n; i++) dot += a32[i]! * b[i]!;
  assert.ok(Math.abs(vs.dot32(a32, b) - dot) <= 1e-12 * Math.abs(dot) + 1e-12);
  assert.is(vs.dot32(a32, b), vs.dot(a, b), 'same value from either copy');
  c.set(b);
  vs.axpy32(-0.25, a32, c);
  for (let i = 0; i < n; i++) assert.is(c[i], b[i]! - 0.25 * a32[i]!);
});

test('noise estimate (ECnoise): recovers the standard deviation of noise on a smooth curve, none on a noise-free one', () => {
  let s = 7;
  const uniform = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
  const sigma = 1e-8; // uniform noise of this standard deviation: width sigma * sqrt(12)
  const estimates: number[] = [];
  for (let trial = 0; trial < 200; trial++) {
    const fv = Array.from({ length: 7 }, (_, i) => 0.35 + 1e-7 * i + 3e-9 * i * i + sigma * Math.sqrt(12) * uniform());
    const e = noiseFromDifferences(fv);
    if (Number.isFinite(e)) estimates.push(e);
  }
  assert.ok(estimates.length >= 150, `noise found in ${estimates.length} of 200 trials`);
  estimates.sort((a, b) => a - b);
  const median = estimates[estimates.length >> 1]!;
  assert.ok(median > 0.5 * sigma && median < 2 * sigma, `median estimate ${median} for sigma ${sigma}`);
  // an exact straight line: no difference changes sign, so no noise level settles
  assert.ok(Number.isNaN(noiseFromDifferences([0, 1, 2, 3, 4, 5, 6])));
});

test.run();
