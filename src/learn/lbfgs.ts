/**
 * Limited-memory BFGS for smooth unconstrained minimization, independent of logistic regression.
 *
 * - Direction: the two-loop recursion over the last `memory` (s, y) pairs, initial Hessian scaled by
 *   s'y / y'y (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4).
 * - Step: a line search that satisfies the strong Wolfe conditions (N&W Alg. 3.5 with the zoom of
 *   Alg. 3.6, cubic interpolation safeguarded by bisection). First step 1/||g|| as scipy's L-BFGS-B
 *   takes it, later steps start at 1.
 * - Stopping, as scipy's L-BFGS-B (which scikit-learn's lbfgs solver calls): the max-norm of the gradient
 *   <= gtol ("pgtol"), or the relative reduction (f_k - f_k+1) / max(|f_k|, |f_k+1|, fScale) <= ftol, or
 *   maxIter iterations. `gradNorm` may measure the gradient in other coordinates than the optimizer's
 *   (a preconditioned problem still stops on the original problem's gradient).
 * - A noisy f (fNoise > 0, e.g. summed in float32) cannot show a reduction smaller than its noise, so one
 *   iteration's reduction within the noise is not taken for stagnation. Instead, with ftol > 0: once the last
 *   `noiseWindow` iterations together lowered f by no more than fNoise (relative; an upper bound on the noise),
 *   the noise of f at the current point is measured (estimateNoise: Moré & Wild's ECnoise, 6 extra
 *   evaluations, once per run), and the run ends ('fnoise', converged; `noise` in the result) as soon as a
 *   window's reduction is within NOISE_SIGNIFICANCE times that noise, i.e. no longer distinguishable from it:
 *   the objective has stopped moving at the precision it is computed in. Where no noise is detected the test
 *   never fires. ftol = 0 turns off both tests.
 *
 * The objective fills the gradient it is given and returns f. All vectors (iterates, gradients, history)
 * are allocated once in a wasm memory whose SIMD dot/axpy (wasm-vec.ts) do the vector arithmetic, so an
 * iteration allocates nothing and costs little next to the objective. The curvature pairs are stored in
 * float32 (rounded once; s'y and y'y are computed from the rounded pair, so the inverse-Hessian model stays
 * positive definite): they only shape the search direction, never the objective or the stopping tests, and
 * the two-loop recursion, which streams all 2m of them twice per iteration, moves half the bytes.
 */
import { VecSpace } from './wasm-vec.js';
import { estimateNoise, NOISE_SIGNIFICANCE } from './noise.js';
import type { Objective } from './objective.js';
import { SCIPY_FTOL } from './select.js';

export type { Objective };

export interface LbfgsOptions {
  /** Number of (s, y) pairs kept (scipy: maxcor = 10). */
  memory?: number;
  /** Iteration limit (default 1000). */
  maxIter?: number;
  /** Stop when gradNorm(x, g) <= gtol (default 1e-5). */
  gtol?: number;
  /** Stop when the relative reduction of f in one iteration is <= ftol (default scipy's 2.22e-9; 0 disables this and the noise window). */
  ftol?: number;
  /** The floor of the denominator of the relative reduction (scipy: 1, for f on its natural scale). */
  fScale?: number;
  /** Gradient measure for the gtol test (default: max |g_i|). */
  gradNorm?: (x: Float64Array, g: Float64Array) => number;
  /**
   * Relative error of f (0 = exact). Where a trial's f is within fNoise * max(|f0|, fScale) of f0, the line search trusts the
   * slope instead: it accepts a step whose directional derivative meets the approximate Wolfe conditions of
   * Hager & Zhang (2005), so an objective summed in float32 can still be driven to its gradient's resolution.
   */
  fNoise?: number;
  /** With fNoise > 0: iterations over which a reduction within the noise ends the run (default 10). */
  noiseWindow?: number;
  /** Function evaluations allowed per line search (scipy: maxls = 20). */
  maxLineSearch?: number;
  /** Called after every iteration; return false to stop. */
  onIteration?: (info: { iteration: number; f: number; gradNorm: number; evaluations: number }) => boolean | void;
}

export type LbfgsStop = 'gtol' | 'ftol' | 'fnoise' | 'maxIter' | 'lineSearch' | 'callback';

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  /** With fNoise > 0: the measured noise (standard deviation) of f, where it was measured; 0 where none was detected. */
  noise?: number;
  gradNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  stop: LbfgsStop;
}

const C1 = 1e-4;
const C2 = 0.9;
/** Hager-Zhang's delta for the approximate Wolfe test. */
const C1_APPROX = 0.1;
export function maxAbs(_x: Float64Array, g: Float64Array): number {
  let m = 0;
  for (let i = 0; i < g.length; i++) { const a = Math.abs(g[i]!); if (a > m) m = a; }
  return m;
}

/** Minimizer of the cubic through (a, fa, ga) and (b, fb, gb), or NaN when it has none. */
function cubicMin(a: number, fa: number, ga: number, b: number, fb: number, gb: number): number {
  const d1 = ga + gb - 3 * (fa - fb) / (a - b);
  const disc = d1 * d1 - ga * gb;
  if (disc < 0) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - (b - a) * (gb + d2 - d1) / (gb - ga + 2 * d2);
}

interface Trial { x: Float64Array; g: Float64Array; f: number; dg: number }

function copyTrial(src: Trial, dst: Trial): void { dst.x.set(src.x); dst.g.set(src.g); dst.f = src.f; dst.dg = src.dg; }

/**
 * Line search along p from (x0, f0, dg0 = g0'p) for a step meeting the strong Wolfe conditions (or, with
 * fNoise > 0 and f within noise of f0, the approximate ones). The accepted point is left in `out` and its
 * step returned. When the budget runs out first, `out` holds the lowest point seen and its step is
 * returned if it lowered f (a usable step; the caller checks the curvature pair), else 0.
 */
function lineSearch(fg: Objective, vs: VecSpace, x0: Float64Array, f0: number, dg0: number, p: Float64Array, step0: number,
  out: Trial, tmp: Trial, maxEvals: number, counter: { evals: number }, fNoise: number): number {
  let tPrev = 0, fPrev = f0, gPrev = dg0;   // last trial (extrapolation phase)
  let lo = 0, flo = f0, glo = dg0;          // bracket end with the lowest f meeting sufficient decrease
  let hi = NaN, fhi = NaN, ghi = NaN;       // other bracket end
  let bracketed = false;
  let best = 0, fBest = f0;
  let t = step0;
  for (let evals = 1; evals <= maxEvals; evals++) {
    tmp.x.set(x0);
    vs.axpy(t, p, tmp.x);
    tmp.f = fg(tmp.x, tmp.g);
    tmp.dg = vs.dot(tmp.g, p);
    counter.evals++;
    const ft = tmp.f, gt = tmp.dg;
    if (!Number.isFinite(ft)) { // overflow: the bracket ends here
      if (!bracketed) { lo = tPrev; flo = fPrev; glo = gPrev; }
      hi = t; fhi = NaN; ghi = NaN; bracketed = true;
    } else {
      if (ft < fBest) { copyTrial(tmp, out); best = t; fBest = ft; }
      // approximate Wolfe (f within noise of f0, slope flattened enough): accept on the gradient's word
      if (fNoise > 0 && ft <= f0 + fNoise && gt >= C2 * dg0 && gt <= (1 - 2 * C1_APPROX) * -dg0) { copyTrial(tmp, out); return t; }
      const sufficient = ft <= f0 + C1 * t * dg0;
      if (!bracketed) {
        if (!sufficient || (evals > 1 && ft >= fPrev)) {
          lo = tPrev; flo = fPrev; glo = gPrev; hi = t; fhi = ft; ghi = gt; bracketed = true;
        } else if (Math.abs(gt) <= -C2 * dg0) {
          copyTrial(tmp, out); return t;
        } else if (gt >= 0) {
          lo = t; flo = ft; glo = gt; hi = tPrev; fhi = fPrev; ghi = gPrev; bracketed = true;
        } else { // still going down steeply: extrapolate (More-Thuente bounds)
          const ext = cubicMin(tPrev, fPrev, gPrev, t, ft, gt);
          const minT = t + 1.1 * (t - tPrev), maxT = t + 4 * (t - tPrev);
          tPrev = t; fPrev = ft; gPrev = gt;
          t = Number.isFinite(ext) ? Math.min(Math.max(ext, minT), maxT) : maxT;
          continue;
        }
      } else if (!sufficient || ft >= flo) {
        hi = t; fhi = ft; ghi = gt;
      } else {
        if (Math.abs(gt) <= -C2 * dg0) { copyTrial(tmp, out); return t; }
        if (gt * (hi - lo) >= 0) { hi = lo; fhi = flo; ghi = glo; }
        lo = t; flo = ft; glo = gt;
      }
    }
    // next trial inside the bracket: safeguarded cubic interpolation, else bisection
    const a = Math.min(lo, hi), b = Math.max(lo, hi);
    if (b - a <= 1e-12 * Math.max(1, b)) break;
    let next = Number.isFinite(fhi) ? cubicMin(lo, flo, glo, hi, fhi, ghi) : NaN;
    const margin = 0.1 * (b - a);
    if (!Number.isFinite(next) || next < a + margin || next > b - margin) next = 0.5 * (a + b);
    t = next;
  }
  return best > 0 ? best : 0;
}

/** Minimizes fg from x0 (not modified). */
export function lbfgs(fg: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const n = x0.length;
  const m = options.memory ?? 10;
  const maxIter = options.maxIter ?? 1000;
  const gtol = options.gtol ?? 1e-5;
  const ftol = options.ftol ?? SCIPY_FTOL;
  const fScale = options.fScale ?? 1;
  const gradNorm = options.gradNorm ?? maxAbs;
  const maxLs = options.maxLineSearch ?? 20;
  const fNoise = options.fNoise ?? 0;
  const window = Math.max(1, options.noiseWindow ?? 10);

  // curvature pairs in float32 (rounded once, then used exactly as stored), everything else in float64
  const vs = new VecSpace(n, 7, 2 * m + 2);
  const S = vs.vectors32.slice(0, m), Y = vs.vectors32.slice(m, 2 * m);
  let spareS = vs.vectors32[2 * m]!, spareY = vs.vectors32[2 * m + 1]!; // a new pair, until it is kept
  const [p, cx, cg, nx, ng, tx, tg] = vs.vectors as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const rho = new Float64Array(m);
  const yy = new Float64Array(m); // y'y of each pair
  const alpha = new Float64Array(m);
  const cur: Trial = { x: cx, g: cg, f: 0, dg: 0 };
  const next: Trial = { x: nx, g: ng, f: 0, dg: 0 };
  const tmp: Trial = { x: tx, g: tg, f: 0, dg: 0 };
  cur.x.set(x0);
  const counter = { evals: 1 };
  cur.f = fg(cur.x, cur.g);
  let gn = gradNorm(cur.x, cur.g);
  let stored = 0, head = 0; // ring buffer of pairs
  let iteration = 0;
  const recent = new Float64Array(window + 1); // f after iteration i at recent[i % (window + 1)]
  recent[0] = cur.f;
  let noise = NaN; // of f, measured once the window's reduction first falls within fNoise
  const finish = (s: LbfgsStop): LbfgsResult => ({
    x: Float64Array.from(cur.x), f: cur.f, gradNorm: gn, iterations: iteration, evaluations: counter.evals,
    converged: s === 'gtol' || s === 'ftol' || s === 'fnoise', stop: s, ...(Number.isNaN(noise) ? {} : { noise }),
  });
  if (gn <= gtol) return finish('gtol');
  while (iteration < maxIter) {
    // two-loop recursion: p = -H g
    const g = cur.g;
    p.set(g);
    vs.axpy(-2, g, p); // p = -g
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + m) % m;
      const a = rho[j]! * vs.dot32(S[j]!, p);
      alpha[j] = a;
      vs.axpy32(-a, Y[j]!, p);
    }
    if (stored > 0) {
      const j = (head - 1 + m) % m;
      const gamma = 1 / (rho[j]! * yy[j]!);
      vs.axpy(gamma - 1, p, p);
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m;
      const beta = rho[j]! * vs.dot32(Y[j]!, p);
      vs.axpy32(alpha[j]! - beta, S[j]!, p);
    }
    let dg0 = vs.dot(g, p);
    if (!(dg0 < 0)) { // not a descent direction (bad curvature pairs): restart from steepest descent
      stored = 0;
      p.set(g);
      vs.axpy(-2, g, p);
      dg0 = vs.dot(g, p);
    }
    const step0 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-dg0)) : 1;
    const t = lineSearch(fg, vs, cur.x, cur.f, dg0, p, step0, next, tmp, maxLs, counter, fNoise * Math.max(Math.abs(cur.f), fScale));
    if (t === 0) return finish('lineSearch');
    iteration++;
    // curvature pair s = x+ - x, y = g+ - g (in tmp's vectors, free after the line search), kept if s'y > 0
    const s = tmp.x, y = tmp.g;
    s.set(next.x); vs.axpy(-1, cur.x, s);
    y.set(next.g); vs.axpy(-1, cur.g, y);
    vs.round32(s, spareS);
    vs.round32(y, spareY);
    const sy = vs.dot(s, y), yy2 = vs.dot(y, y);
    if (sy > 1e-10 * yy2) {
      [S[head], spareS] = [spareS, S[head]!];
      [Y[head], spareY] = [spareY, Y[head]!];
      rho[head] = 1 / sy; yy[head] = yy2; head = (head + 1) % m; stored = Math.min(stored + 1, m);
    }
    const fOld = cur.f;
    copyTrial(next, cur);
    gn = gradNorm(cur.x, cur.g);
    const more = options.onIteration?.({ iteration, f: cur.f, gradNorm: gn, evaluations: counter.evals });
    if (gn <= gtol) return finish('gtol');
    const scale = Math.max(Math.abs(fOld), Math.abs(cur.f), fScale);
    const reduction = (fOld - cur.f) / scale;
    // a reduction within the noise of f says nothing about stagnation: only a measured one counts
    if (reduction <= ftol && (fNoise === 0 || reduction > fNoise)) return finish('ftol');
    recent[iteration % (window + 1)] = cur.f;
    const windowReduction = recent[(iteration - window) % (window + 1)]! - cur.f;
    if (ftol > 0 && fNoise > 0 && iteration >= window && windowReduction <= fNoise * scale) {
      if (Number.isNaN(noise)) noise = estimateNoise(fg, vs, cur.x, cur.f, p, tmp, counter);
      if (noise > 0 && windowReduction <= NOISE_SIGNIFICANCE * noise) return finish('fnoise');
    }
    if (more === false) return finish('callback');
  }
  return finish('maxIter');
}
