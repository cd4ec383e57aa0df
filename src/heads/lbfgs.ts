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
 *
 * The objective fills the gradient it is given and returns f; x and g arrays are never reallocated
 * during the run (the history is preallocated), so an iteration allocates nothing.
 */

/** f(x), writing the gradient into g (same length as x). */
export type Objective = (x: Float64Array, g: Float64Array) => number;

export interface LbfgsOptions {
  /** Number of (s, y) pairs kept (scipy: maxcor = 10). */
  memory?: number;
  /** Iteration limit (default 1000). */
  maxIter?: number;
  /** Stop when gradNorm(x, g) <= gtol (default 1e-5). */
  gtol?: number;
  /** Stop when the relative reduction of f in one iteration is <= ftol (default scipy's 2.22e-9; 0 disables). */
  ftol?: number;
  /** The floor of the denominator of the relative reduction (scipy: 1, for f on its natural scale). */
  fScale?: number;
  /** Gradient measure for the gtol test (default: max |g_i|). */
  gradNorm?: (x: Float64Array, g: Float64Array) => number;
  /** Function evaluations allowed per line search (scipy: maxls = 20). */
  maxLineSearch?: number;
  /** Called after every iteration; return false to stop. */
  onIteration?: (info: { iteration: number; f: number; gradNorm: number; evaluations: number }) => boolean | void;
}

export type LbfgsStop = 'gtol' | 'ftol' | 'maxIter' | 'lineSearch' | 'callback';

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  stop: LbfgsStop;
}

const C1 = 1e-4;
const C2 = 0.9;

// Small monomorphic vector helpers (V8 inlines them); n is passed so loops have a known bound.
function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) { s0 += a[i]! * b[i]!; s1 += a[i + 1]! * b[i + 1]!; }
  if (i < n) s0 += a[i]! * b[i]!;
  return s0 + s1;
}
/** y += a * x */
function axpy(a: number, x: Float64Array, y: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) y[i] = y[i]! + a * x[i]!;
}
/** out = x0 + t * p */
function stepTo(x0: Float64Array, t: number, p: Float64Array, out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = x0[i]! + t * p[i]!;
}
/** out = a - b */
function diff(a: Float64Array, b: Float64Array, out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
}

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

/**
 * Strong-Wolfe line search along p from (x0, f0, dg0 = g0'p). On success the accepted point is left in
 * `out` and its step returned. When the budget runs out first, `out` holds the lowest point seen and its
 * step is returned if it lowered f (a usable step; the curvature pair is checked by the caller), else 0.
 */
function lineSearch(fg: Objective, x0: Float64Array, f0: number, dg0: number, p: Float64Array, step0: number,
  out: Trial, tmp: Trial, maxEvals: number, counter: { evals: number }): number {
  const n = x0.length;
  const copy = (src: Trial, dst: Trial): void => { dst.x.set(src.x); dst.g.set(src.g); dst.f = src.f; dst.dg = src.dg; };
  let tPrev = 0, fPrev = f0, gPrev = dg0;   // last trial (extrapolation phase)
  let lo = 0, flo = f0, glo = dg0;          // bracket end with the lowest f meeting sufficient decrease
  let hi = NaN, fhi = NaN, ghi = NaN;       // other bracket end
  let bracketed = false;
  let best = 0, fBest = f0;
  let t = step0;
  for (let evals = 1; evals <= maxEvals; evals++) {
    stepTo(x0, t, p, tmp.x, n);
    tmp.f = fg(tmp.x, tmp.g);
    tmp.dg = dot(tmp.g, p, n);
    counter.evals++;
    const ft = tmp.f, gt = tmp.dg;
    if (!Number.isFinite(ft)) { // overflow: the bracket ends here
      if (!bracketed) { lo = tPrev; flo = fPrev; glo = gPrev; }
      hi = t; fhi = NaN; ghi = NaN; bracketed = true;
    } else {
      if (ft < fBest) { copy(tmp, out); best = t; fBest = ft; }
      const sufficient = ft <= f0 + C1 * t * dg0;
      if (!bracketed) {
        if (!sufficient || (evals > 1 && ft >= fPrev)) {
          lo = tPrev; flo = fPrev; glo = gPrev; hi = t; fhi = ft; ghi = gt; bracketed = true;
        } else if (Math.abs(gt) <= -C2 * dg0) {
          copy(tmp, out); return t;
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
        if (Math.abs(gt) <= -C2 * dg0) { copy(tmp, out); return t; }
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
  const ftol = options.ftol ?? 2.220446049250313e-9;
  const fScale = options.fScale ?? 1;
  const gradNorm = options.gradNorm ?? maxAbs;
  const maxLs = options.maxLineSearch ?? 20;

  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  const p = new Float64Array(n);
  const cur: Trial = { x: Float64Array.from(x0), g: new Float64Array(n), f: 0, dg: 0 };
  let next: Trial = { x: new Float64Array(n), g: new Float64Array(n), f: 0, dg: 0 };
  const tmp: Trial = { x: new Float64Array(n), g: new Float64Array(n), f: 0, dg: 0 };
  const counter = { evals: 1 };
  cur.f = fg(cur.x, cur.g);
  let gn = gradNorm(cur.x, cur.g);
  let stored = 0, head = 0; // ring buffer of pairs
  let iteration = 0;
  let stop: LbfgsStop = 'maxIter';
  const finish = (s: LbfgsStop): LbfgsResult => ({
    x: cur.x, f: cur.f, gradNorm: gn, iterations: iteration, evaluations: counter.evals,
    converged: s === 'gtol' || s === 'ftol', stop: s,
  });
  if (gn <= gtol) return finish('gtol');
  while (iteration < maxIter) {
    // two-loop recursion: p = -H g
    const g = cur.g;
    for (let i = 0; i < n; i++) p[i] = -g[i]!;
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + m) % m;
      const a = rho[j]! * dot(S[j]!, p, n);
      alpha[j] = a;
      axpy(-a, Y[j]!, p, n);
    }
    if (stored > 0) {
      const j = (head - 1 + m) % m;
      const yj = Y[j]!;
      const gamma = 1 / (rho[j]! * dot(yj, yj, n));
      for (let i = 0; i < n; i++) p[i] = p[i]! * gamma;
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m;
      const beta = rho[j]! * dot(Y[j]!, p, n);
      axpy(alpha[j]! - beta, S[j]!, p, n);
    }
    let dg0 = dot(g, p, n);
    if (!(dg0 < 0)) { // not a descent direction (bad curvature pairs): restart from steepest descent
      stored = 0;
      for (let i = 0; i < n; i++) p[i] = -g[i]!;
      dg0 = dot(g, p, n);
    }
    if (process.env.ZSDBG && iteration % 10 === 0) process.stderr.write(`DBG ${iteration} f=${cur.f.toFixed(8)} gap=${(-dg0/2).toExponential(2)} gth=${maxAbs(g,g).toExponential(2)} gn=${gn.toExponential(2)}\n`);
    const step0 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-dg0)) : 1;
    const t = lineSearch(fg, cur.x, cur.f, dg0, p, step0, next, tmp, maxLs, counter);
    if (t === 0) { stop = 'lineSearch'; break; }
    iteration++;
    // curvature pair
    const s = S[head]!, y = Y[head]!;
    diff(next.x, cur.x, s, n);
    diff(next.g, cur.g, y, n);
    const sy = dot(s, y, n);
    if (sy > 1e-10 * dot(y, y, n)) { rho[head] = 1 / sy; head = (head + 1) % m; stored = Math.min(stored + 1, m); }
    const fOld = cur.f;
    const swap = cur.x; cur.x = next.x; next.x = swap;
    const swapG = cur.g; cur.g = next.g; next.g = swapG;
    cur.f = next.f;
    gn = gradNorm(cur.x, cur.g);
    const more = options.onIteration?.({ iteration, f: cur.f, gradNorm: gn, evaluations: counter.evals });
    if (gn <= gtol) { stop = 'gtol'; break; }
    if ((fOld - cur.f) / Math.max(Math.abs(fOld), Math.abs(cur.f), fScale) <= ftol) { stop = 'ftol'; break; }
    if (more === false) { stop = 'callback'; break; }
    stop = 'maxIter';
  }
  return finish(stop);
}
