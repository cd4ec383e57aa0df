/**
 * Fitting multinomial logistic regression: L-BFGS (lbfgs.ts) on the objective of logreg.ts, evaluated by
 * the fast engine (engine.ts), in preconditioned coordinates (precondition.ts).
 *
 * Coordinates, from the optimizer's to the engine's (all linear, so the optimum is the same in each):
 *   theta --precondition--> model (W, b): the weights the penalty applies to and the probe stores
 *         --fold standardization--> raw (W / scale, b - (W / scale) . mean): applied to the features as given
 * Gradients travel back the same way.
 *
 * Stopping (`stop` in the result):
 *   'gtol'    the max-norm of the gradient of the summed objective n * f in model coordinates <= tol
 *             (scikit-learn 1.2's test, scipy's pgtol);
 *   'ftol'    one iteration lowered f by a relative ftol or less (scipy's factr * eps), where that is measurable;
 *   'fnoise'  float32 engine only (and ftol > 0): the objective stopped moving at the precision it is computed in.
 *             An objective summed from float32 logits carries rounding noise; once the last NOISE_WINDOW
 *             iterations together lowered f by no more than F32_NOISE (relative, an upper bound), lbfgs.ts
 *             measures that noise at the current point (ECnoise, 6 extra evaluations, once) and stops when a
 *             window's reduction is within NOISE_SIGNIFICANCE (2 sqrt 2) of it: further progress cannot be
 *             measured. Measured noise on Fashion-MNIST pixels: ~6e-9 to 1e-8 relative on 60,000 rows, ~2e-8 on
 *             1,000. converged is true (f has converged at float32 precision), but where the gradient test is
 *             not met the result carries a warning naming the fix, precision 'f64' (which has no noise and runs
 *             on to the gradient test, or to maxIter). Per-iteration reductions of noise size are never taken
 *             for 'ftol' stagnation, and the line search may accept steps on the gradient's word (approximate
 *             Wolfe, lbfgs.ts fNoise).
 *   'maxIter' not converged: a warning in the result, never an error; so is 'lineSearch'.
 */
import { lbfgs, type LbfgsStop } from './lbfgs.js';
import type { Dataset } from './logreg.js';
import { createEngine, type LossEngine, type Precision } from './engine.js';
import { defaultPreconditioner, leadingSpectrum, makePreconditioner, type FeatureView, type PreconditionerKind, type Spectrum } from './precondition.js';
import { SCIPY_FTOL } from './select.js';
import { featureMoments, standardization, type Moments, type Standardization } from './standardize.js';

/** Upper bound on the relative rounding noise of an objective summed from float32 logits (measured: ~6e-9 to 3e-8). */
export const F32_NOISE = 1e-7;
/** Iterations whose combined reduction of the objective is compared with its noise ('fnoise'). */
export const NOISE_WINDOW = 10;

export interface FitOptions {
  /** Inverse regularization strength, as scikit-learn's C. */
  C: number;
  /** L-BFGS iterations allowed (default 1000). */
  maxIter?: number;
  /** Gradient tolerance on the summed objective, as scikit-learn 1.2's tol (default 1e-4). */
  tol?: number;
  /** Relative objective reduction in one iteration that ends the run (default scipy's 2.22e-9); 0 also turns off 'fnoise'. */
  ftol?: number;
  /** Fit on standardized features (stored with the model). Default false. */
  standardize?: boolean;
  precision?: Precision;
  threads?: number;
  preconditioner?: PreconditionerKind | 'auto';
  /** L-BFGS memory (default 30; scipy keeps 10, but more pairs cut iterations by a quarter here at little cost). */
  memory?: number;
  /** Warm start, in model coordinates. */
  init?: { W: Float64Array; b: Float64Array };
  /**
   * Centre of the L2 penalty, [K, d] in model coordinates: the objective's penalty becomes ||W - prior||^2 / (2Cn),
   * pulling the weights toward a given classifier (e.g. the zero-shot one) instead of toward zero. Default: zero.
   */
  prior?: Float64Array;
  onIteration?: (info: { iteration: number; objective: number; gradNorm: number }) => void;
}

export interface FitResult {
  /** [K, d], for standardized features when `standardization` is set. */
  W: Float64Array;
  /** [K] */
  b: Float64Array;
  standardization?: Standardization;
  C: number;
  /** Mean log-loss + ||W||^2 / (2Cn) at the result, as the engine evaluated it. */
  objective: number;
  /** Max-norm of the gradient of n * objective (scikit-learn 1.2's measure). */
  gradNorm: number;
  /** float32 engine, where measured (see 'fnoise'): the rounding noise (standard deviation) of the objective. */
  noise?: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  stop: LbfgsStop;
  warning?: string;
  preconditioner: PreconditionerKind;
  seconds: number;
}

/** What one dataset's fits share along a path of C values: moments, standardization, covariance. */
export interface FitContext {
  data: Dataset;
  moments: Moments;
  standardization?: Standardization;
  view: FeatureView;
  spectrumCache: { spectrum?: Spectrum };
}

export function prepareFit(data: Dataset, standardize: boolean, moments = featureMoments(data.x, data.n, data.d)): FitContext {
  const { d } = data;
  const st = standardize ? standardization(moments) : undefined;
  const scale = st ? st.scale : new Float64Array(d).fill(1);
  const shift = st ? st.mean : new Float64Array(d);
  const center = new Float64Array(d);
  for (let j = 0; j < d; j++) center[j] = (moments.mean[j]! - shift[j]!) / scale[j]!;
  return {
    data, moments, standardization: st,
    view: { x: data.x, n: data.n, d, K: data.K, center, xMean: moments.mean, scale },
    spectrumCache: {},
  };
}

function warningFor(stop: LbfgsStop, iterations: number, gradNorm: number, tol: number, standardized: boolean, precision: Precision,
  noise: number | undefined): string | undefined {
  const g = `gradient norm ${gradNorm.toPrecision(3)} > tol ${tol}`;
  if (stop === 'fnoise') {
    return `lbfgs stopped after ${iterations} iterations at float32 resolution: the objective no longer decreases by more than ` +
      `its rounding noise (${(noise ?? NaN).toPrecision(2)}), ${g}; use precision 'f64' (raising maxIter if needed) to run on to the gradient test`;
  }
  if (stop === 'maxIter') {
    const it = `${iterations} iteration${iterations === 1 ? '' : 's'}`;
    return `lbfgs did not converge in ${it} (${g}); raise maxIter${standardized ? '' : ' or standardize the features'}`;
  }
  if (stop === 'lineSearch') {
    return `lbfgs stopped after ${iterations} iterations: no step lowered the objective any further (${g}); ` +
      (precision === 'f32' ? "the float32 engine's resolution is reached: use precision 'f64' for a tighter fit" : 'check the features for huge values');
  }
  return undefined; // 'gtol', 'ftol', 'callback'
}

/** One fit on an engine already holding the context's data (the engine is not closed). */
export function fitOnEngine(engine: LossEngine, ctx: FitContext, options: FitOptions): FitResult {
  const started = performance.now();
  const { data, view, standardization: st } = ctx;
  const { n, d, K } = data;
  const C = options.C;
  const tol = options.tol ?? 1e-4;
  const kind = preconditionerKind(options, n, d);
  const pre = makePreconditioner(kind, view, C, ctx.spectrumCache);
  const Wm = new Float64Array(K * d), bm = new Float64Array(K);
  const We = st ? new Float64Array(K * d) : Wm, be = st ? new Float64Array(K) : bm; // what the engine sees
  const gWe = new Float64Array(K * d), gbe = new Float64Array(K);
  const gWm = new Float64Array(K * d), gbm = new Float64Array(K);
  const invN = 1 / n, invCn = 1 / (C * n);
  const prior = options.prior;
  if (prior && prior.length !== K * d) throw new RangeError(`prior has ${prior.length} values, expected ${K * d}`);
  const Wd = prior ? new Float64Array(K * d) : Wm; // W - prior, what the penalty sees

  const fg = (theta: Float64Array, gTheta: Float64Array): number => {
    pre.toModel(theta, Wm, bm);
    if (st) {
      for (let k = 0; k < K; k++) {
        let shift = 0;
        for (let j = 0; j < d; j++) { const w = Wm[k * d + j]! / st.scale[j]!; We[k * d + j] = w; shift += w * st.mean[j]!; }
        be[k] = bm[k]! - shift;
      }
    }
    const loss = engine.evaluate(We, be, gWe, gbe);
    if (prior) for (let i = 0; i < Wd.length; i++) Wd[i] = Wm[i]! - prior[i]!;
    let norm = 0, squares = 0; // max |gradient|, ||W - prior||^2
    for (let k = 0; k < K; k++) {
      const gb = gbe[k]!;
      gbm[k] = gb * invN;
      norm = Math.max(norm, Math.abs(gb * invN));
      for (let j = 0; j < d; j++) {
        const i = k * d + j;
        const raw = st ? (gWe[i]! - gb * st.mean[j]!) / st.scale[j]! : gWe[i]!;
        const w = Wd[i]!, g = raw * invN + w * invCn;
        gWm[i] = g;
        squares += w * w;
        norm = Math.max(norm, Math.abs(g));
      }
    }
    pre.gradToTheta(gWm, gbm, gTheta);
    last.norm = norm * n;
    last.gTheta.set(gTheta);
    return loss * invN + squares * invCn / 2;
  };
  // The gradient test measures model coordinates. The point L-BFGS tests is nearly always the one fg evaluated
  // last, whose model gradient fg has at hand; any other is mapped back.
  const last = { gTheta: new Float64Array(K * d + K), norm: NaN };
  const gW2 = new Float64Array(K * d), gb2 = new Float64Array(K);
  const gradNorm = (_theta: Float64Array, gTheta: Float64Array): number => {
    if (sameValues(gTheta, last.gTheta)) return last.norm;
    pre.gradFromTheta(gTheta, gW2, gb2);
    return maxNorm(gW2, gb2) * n;
  };

  const theta0 = new Float64Array(K * d + K);
  if (options.init) pre.fromModel(options.init.W, options.init.b, theta0);
  else if (prior) pre.fromModel(prior, new Float64Array(K), theta0);
  const onIteration = options.onIteration;
  const r = lbfgs(fg, theta0, {
    memory: options.memory ?? 30,
    maxIter: options.maxIter ?? 1000,
    gtol: tol,
    ftol: options.ftol ?? SCIPY_FTOL,
    fScale: 1 / n,
    fNoise: engine.precision === 'f32' ? F32_NOISE : 0,
    noiseWindow: NOISE_WINDOW,
    gradNorm,
    onIteration: onIteration ? (i) => { onIteration({ iteration: i.iteration, objective: i.f, gradNorm: i.gradNorm }); } : undefined,
  });
  const W = new Float64Array(K * d), b = new Float64Array(K);
  pre.toModel(r.x, W, b);
  const warning = warningFor(r.stop, r.iterations, r.gradNorm, tol, !!st, engine.precision, r.noise);
  return {
    W, b, standardization: st, C, objective: r.f, gradNorm: r.gradNorm, ...(r.noise === undefined ? {} : { noise: r.noise }), iterations: r.iterations,
    evaluations: r.evaluations, converged: r.converged, stop: r.stop, preconditioner: kind,
    seconds: (performance.now() - started) / 1000, ...(warning ? { warning } : {}),
  };
}

function maxNorm(gW: Float64Array, gb: Float64Array): number {
  let m = 0;
  for (let i = 0; i < gW.length; i++) m = Math.max(m, Math.abs(gW[i]!));
  for (let k = 0; k < gb.length; k++) m = Math.max(m, Math.abs(gb[k]!));
  return m;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function preconditionerKind(options: Pick<FitOptions, 'preconditioner'>, n: number, d: number): PreconditionerKind {
  return !options.preconditioner || options.preconditioner === 'auto' ? defaultPreconditioner(n, d) : options.preconditioner;
}

/**
 * Starts the engine for a context's data (copying it, starting any worker threads) and, while the workers
 * boot, fills the context's preconditioner cache (main thread only), so neither waits for the other.
 */
export async function startEngine(ctx: FitContext, options: Pick<FitOptions, 'precision' | 'threads' | 'preconditioner'>): Promise<LossEngine> {
  const { data, view } = ctx;
  const starting = createEngine(data, { precision: options.precision, threads: options.threads, shift: ctx.moments.mean });
  try {
    if (preconditionerKind(options, data.n, data.d) === 'whiten') ctx.spectrumCache.spectrum ??= leadingSpectrum(view);
  } catch (e) {
    await starting.then((engine) => engine.close(), () => undefined);
    throw e;
  }
  return starting;
}

/** Fits one model: prepares the data, starts the engine, fits, stops the engine. */
export async function fitLogReg(data: Dataset, options: FitOptions): Promise<FitResult> {
  const started = performance.now();
  const ctx = prepareFit(data, options.standardize ?? false);
  const engine = await startEngine(ctx, options);
  try {
    const result = fitOnEngine(engine, ctx, options);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  } finally {
    await engine.close();
  }
}
