/**
 * The objective and its gradient (logreg.ts), the fast engine that evaluates them (engine.ts, wasm kernels,
 * worker threads), and the preconditioner's change of variables (precondition.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logLossGrad, objective, predictProbaRows, softmaxRows, type Dataset } from '../src/learn/logreg.js';
import { createEngine } from '../src/learn/engine.js';
import { leadingSpectrum, makePreconditioner } from '../src/learn/precondition.js';
import { prepareFit, fitLogReg } from '../src/learn/fit.js';
import { featureMoments, foldStandardization, standardization } from '../src/learn/standardize.js';

/** Deterministic pseudo-random numbers in [-1, 1). */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 31 - 1; };
}

function dataset(n: number, d: number, K: number, seed = 1): Dataset {
  const r = noise(seed);
  const x = new Float32Array(n * d).map(() => r() * 2 + 0.5);
  const labels = new Int32Array(n).map((_, i) => i % K);
  for (let i = 0; i < n; i++) x[i * d + (labels[i]! % d)]! += 1.5; // some signal
  return { x, labels, n, d, K };
}

function params(K: number, d: number, seed = 2): { W: Float64Array; b: Float64Array } {
  const r = noise(seed);
  return { W: new Float64Array(K * d).map(() => r() * 0.7), b: new Float64Array(K).map(() => r()) };
}

test('gradient matches central finite differences', () => {
  const data = dataset(30, 7, 4);
  const { W, b } = params(4, 7);
  const C = 0.3;
  const gW = new Float64Array(W.length), gb = new Float64Array(b.length);
  objective(data, W, b, C, gW, gb);
  const h = 1e-6;
  const check = (arr: Float64Array, grad: Float64Array, name: string): void => {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i]!;
      arr[i] = v + h; const fp = objective(data, W, b, C);
      arr[i] = v - h; const fm = objective(data, W, b, C);
      arr[i] = v;
      const fd = (fp - fm) / (2 * h);
      assert.ok(Math.abs(fd - grad[i]!) < 1e-7, `${name}[${i}]: analytic ${grad[i]} vs numeric ${fd}`);
    }
  };
  check(W, gW, 'W');
  check(b, gb, 'b');
});

test('objective is mean log-loss plus ||W||^2 / (2Cn), computed independently', () => {
  const data = dataset(12, 3, 3);
  const { W, b } = params(3, 3);
  let loss = 0;
  for (let i = 0; i < data.n; i++) {
    const z = [0, 1, 2].map((k) => b[k]! + [0, 1, 2].reduce((s, j) => s + data.x[i * 3 + j]! * W[k * 3 + j]!, 0));
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    loss += lse - z[data.labels[i]!]!;
  }
  const pen = W.reduce((s, v) => s + v * v, 0) / (2 * 2 * data.n);
  assert.ok(Math.abs(objective(data, W, b, 2) - (loss / data.n + pen)) < 1e-12);
});

test('softmax rows: probabilities sum to 1, residuals sum to 0, stable for huge logits', () => {
  const K = 4;
  const z = Float64Array.from([1000, 999, -1000, 0, 1, 2, 3, 4]);
  const r = new Float64Array(8), gb = new Float64Array(K);
  const loss = softmaxRows(z, 0, r, 0, Int32Array.from([1, 3]), 0, 2, K, new Float64Array(K), gb);
  assert.ok(Number.isFinite(loss));
  for (let i = 0; i < 2; i++) {
    const s = r.subarray(i * K, (i + 1) * K).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(s) < 1e-12, `residuals of row ${i} sum to ${s}`);
  }
  assert.ok(Math.abs(r[0]! - (1 / (1 + Math.exp(-1)))) < 1e-9); // p of 1000 vs 999, label 1
  const P = predictProbaRows(Float32Array.from([1, -2, 0.5, 3]), 2, 2, Float64Array.from([1, 2, -1, 0.5, 0, 0]), Float64Array.from([0.1, 0, -0.1]), 3, new Float64Array(6));
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(P[i * 3]! + P[i * 3 + 1]! + P[i * 3 + 2]! - 1) < 1e-12);
});

for (const precision of ['f32', 'f64'] as const) {
  for (const threads of [1, 2]) {
    test(`engine (${precision}, ${threads} thread${threads > 1 ? 's' : ''}) matches the float64 reference`, async () => {
      const data = dataset(333, 37, 5, 3); // d not a multiple of the SIMD width, rows not a multiple of the block
      const { W, b } = params(5, 37, 4);
      const rW = new Float64Array(W.length), rb = new Float64Array(5);
      const ref = logLossGrad(data, W, b, rW, rb);
      const m = featureMoments(data.x, data.n, data.d);
      const engine = await createEngine(data, { precision, threads, blockRows: 16, shift: m.mean });
      try {
        assert.is(engine.threads, threads);
        const gW = new Float64Array(W.length), gb = new Float64Array(5);
        for (let rep = 0; rep < 2; rep++) { // a second pass must not accumulate into the first
          const loss = engine.evaluate(W, b, gW, gb);
          const tol = precision === 'f32' ? 1e-5 : 1e-11;
          assert.ok(Math.abs(loss - ref) / ref < tol, `loss ${loss} vs ${ref}`);
          const scale = Math.max(...rW.map(Math.abs));
          for (let i = 0; i < W.length; i++) assert.ok(Math.abs(gW[i]! - rW[i]!) < tol * scale * 10, `gW[${i}] ${gW[i]} vs ${rW[i]}`);
          for (let k = 0; k < 5; k++) assert.ok(Math.abs(gb[k]! - rb[k]!) < tol * scale * 10);
        }
      } finally {
        await engine.close();
      }
    });
  }
}

test('worker threads start in a process run as `node --input-type=module -e` (an option a file worker refuses)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zs-worker-'));
  try {
    const file = join(dir, 'worker.mjs');
    writeFileSync(file, "import { parentPort } from 'node:worker_threads'; parentPort.postMessage('ready');\n");
    const engineUrl = new URL('../src/learn/engine.ts', import.meta.url).href;
    const code = `const { Worker } = await import('node:worker_threads');
      const { workerExecArgv } = await import(${JSON.stringify(engineUrl)});
      const start = (execArgv) => new Promise((done) => {
        const w = new Worker(${JSON.stringify(file)}, { execArgv });
        w.once('message', (m) => { done(m); void w.terminate(); });
        w.once('error', (e) => done(e.code ?? e.message));
      });
      console.log(JSON.stringify({ inherited: await start(process.execArgv), engine: await start(workerExecArgv(process.execArgv)) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { inherited: string; engine: string };
    assert.is(out.inherited, 'ERR_INPUT_TYPE_NOT_ALLOWED', 'the failure the engine avoids');
    assert.is(out.engine, 'ready');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('preconditioners: toModel/fromModel invert each other, gradToTheta is the adjoint of toModel', () => {
  const data = dataset(200, 6, 3, 5);
  for (const standardize of [false, true]) {
    const ctx = prepareFit(data, standardize);
    for (const kind of ['center', 'whiten'] as const) {
      const pre = makePreconditioner(kind, ctx.view, 0.7, ctx.spectrumCache);
      const K = 3, d = 6, len = K * d + K;
      const r = noise(9);
      const theta = new Float64Array(len).map(() => r());
      const W = new Float64Array(K * d), b = new Float64Array(K);
      pre.toModel(theta, W, b);
      const back = new Float64Array(len);
      pre.fromModel(W, b, back);
      for (let i = 0; i < len; i++) assert.ok(Math.abs(back[i]! - theta[i]!) < 1e-9, `${kind}: theta[${i}] round trip`);
      // <gW, dW> + <gb, db> == <gTheta, dTheta> for the linear map dTheta -> (dW, db)
      const gW = new Float64Array(K * d).map(() => r()), gb = new Float64Array(K).map(() => r());
      const gTheta = new Float64Array(len);
      pre.gradToTheta(gW, gb, gTheta);
      let lhs = 0, rhs = 0;
      for (let i = 0; i < K * d; i++) lhs += gW[i]! * W[i]!;
      for (let k = 0; k < K; k++) lhs += gb[k]! * b[k]!;
      for (let i = 0; i < len; i++) rhs += gTheta[i]! * theta[i]!;
      assert.ok(Math.abs(lhs - rhs) < 1e-9 * Math.max(1, Math.abs(lhs)), `${kind}: adjoint ${lhs} vs ${rhs}`);
      const gW2 = new Float64Array(K * d), gb2 = new Float64Array(K);
      pre.gradFromTheta(gTheta, gW2, gb2);
      for (let i = 0; i < K * d; i++) assert.ok(Math.abs(gW2[i]! - gW[i]!) < 1e-9, `${kind}: gradient round trip`);
    }
  }
});

test('leading spectrum: finds planted principal directions and their variances, with orthonormal rows', () => {
  // u = sum_i z_i sqrt(v_i) e_(3i) + small isotropic noise: variances 9, 4, 1 along e0, e3, e6, 0.0001 elsewhere
  const n = 3000, d = 40, r = noise(5);
  const planted = [[0, 9], [3, 4], [6, 1]] as const;
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = 0.5 + 0.01 * Math.sqrt(3) * r();
    for (const [j, v] of planted) x[i * d + j]! += Math.sqrt(3 * v) * r(); // uniform on [-1, 1) has variance 1/3
  }
  const ctx = prepareFit({ x, labels: new Int32Array(n), n, d, K: 2 }, false);
  const sp = leadingSpectrum(ctx.view);
  assert.is(sp.s.length, 16);
  for (const [i, [j, v]] of planted.entries()) {
    assert.ok(Math.abs(sp.s[i]! - v) < 0.1 * v, `eigenvalue ${i}: ${sp.s[i]} vs ${v}`);
    assert.ok(Math.abs(Math.abs(sp.U[i * d + j]!) - 1) < 1e-2, `direction ${i} is e${j}`);
  }
  for (let i = 3; i < 16; i++) assert.ok(sp.s[i]! < 1e-3, `eigenvalue ${i} = ${sp.s[i]} is noise`);
  for (let a = 0; a < 16; a++) {
    for (let c = 0; c < 16; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += sp.U[a * d + j]! * sp.U[c * d + j]!;
      assert.ok(Math.abs(dot - (a === c ? 1 : 0)) < 1e-12, `U U^T [${a}, ${c}] = ${dot}`);
    }
  }
  assert.ok(Math.abs(sp.meanVariance - (14 + 37 * 1e-4) / d) < 0.05 * 14 / d, `mean variance ${sp.meanVariance}`);
});

test('standardization: scale 1 for constant features, folding gives the same logits', () => {
  const x = Float32Array.from([1, 5, 2, 5, 3, 5, 4, 5]); // 4 rows, feature 2 constant
  const st = standardization(featureMoments(x, 4, 2));
  assert.is(st.scale[1], 1);
  assert.ok(Math.abs(st.mean[0]! - 2.5) < 1e-12 && Math.abs(st.scale[0]! - Math.sqrt(1.25)) < 1e-12);
  const W = Float64Array.from([0.5, -1, 2, 3]), b = Float64Array.from([0.1, -0.2]);
  const f = foldStandardization(W, b, 2, 2, st);
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 2; k++) {
      const zStd = b[k]! + W[k * 2]! * (x[i * 2]! - st.mean[0]!) / st.scale[0]! + W[k * 2 + 1]! * (x[i * 2 + 1]! - st.mean[1]!) / st.scale[1]!;
      const zRaw = f.b[k]! + f.W[k * 2]! * x[i * 2]! + f.W[k * 2 + 1]! * x[i * 2 + 1]!;
      assert.ok(Math.abs(zStd - zRaw) < 1e-9);
    }
  }
});

test('a penalty centred on a prior: the fit is stationary for ||W - prior||^2 / (2Cn) and tends to the prior as C shrinks', async () => {
  const data = dataset(60, 5, 3);
  const prior = params(3, 5, 9).W;
  const C = 0.05;
  const r = await fitLogReg(data, { C, prior, tol: 1e-8, ftol: 0, precision: 'f64', threads: 1 });
  // stationarity: d/dW [mean loss] + (W - prior) / (C n) = 0, d/db [mean loss] = 0
  const gW = new Float64Array(r.W.length), gb = new Float64Array(3);
  logLossGrad(data, r.W, r.b, gW, gb);
  let worst = 0;
  for (let i = 0; i < gW.length; i++) worst = Math.max(worst, Math.abs(gW[i]! / data.n + (r.W[i]! - prior[i]!) / (C * data.n)));
  for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(gb[k]! / data.n));
  assert.ok(worst < 1e-6, `gradient ${worst}`);
  const tight = await fitLogReg(data, { C: 1e-7, prior, precision: 'f64', threads: 1 });
  let far = 0;
  for (let i = 0; i < prior.length; i++) far = Math.max(far, Math.abs(tight.W[i]! - prior[i]!));
  assert.ok(far < 1e-4, `distance to the prior ${far}`);
});

test('float32 fit: stops where its rounding noise hides progress, says so, and matches the float64 optimum', async () => {
  const data = dataset(3000, 40, 4, 5);
  const C = 1;
  // tol far below what float32 can show, so only the noise test can end the float32 run
  const r32 = await fitLogReg(data, { C, tol: 1e-12, threads: 1 });
  assert.is(r32.stop, 'fnoise');
  assert.ok(r32.converged);
  assert.ok(r32.noise! > 0 && r32.noise! < 1e-6 * r32.objective, `noise ${r32.noise}`);
  assert.match(r32.warning ?? '', /float32 resolution: .* rounding noise .*gradient norm .* > tol 1e-12; use precision 'f64'/);
  const r64 = await fitLogReg(data, { C, tol: 1e-12, precision: 'f64', threads: 1 });
  assert.is.not(r64.stop, 'fnoise');
  assert.is(r64.noise, undefined);
  const f32 = objective(data, r32.W, r32.b, C), f64 = objective(data, r64.W, r64.b, C);
  assert.ok(f32 - f64 < 1e-7 * f64, `float32 run ${f32} vs float64 run ${f64}`);
});

test.run();
