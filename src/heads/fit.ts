/**
 * Fitting multinomial logistic regression: L-BFGS (lbfgs.ts) on the objective of logreg.ts, evaluated by
 * the fast engine (engine.ts), in preconditioned coordinates (precondition.ts).
 *
 * Coordinates, from the optimizer's to the engine's (all linear, so the optimum is the same in each):
 *   theta --precondition--> model (W, b): the weights the penalty applies to and the probe stores
 *         --fold standardization--> raw (W / scale, b - (W / scale) . mean): applied to the features as given
 * Gradients travel back the same way. The stopping test is scikit-learn 1.2's: the max-norm of the gradient
 * of the summed objective n * f in model coordinates <= tol (scipy's pgtol), or a relative reduction of f
 * below ftol (scipy's factr * eps), or maxIter. Not converging is a warning in the result, never an error.
 */
import { lbfgs, type LbfgsStop } from './lbfgs.js';
import { sumSquares, type Dataset } from './logreg.js';
import { createEngine, type LossEngine, type Precision } from './engine.js';
import { defaultPreconditioner, makePreconditioner, type FeatureView, type PreconditionerKind } from './precondition.js';
import { featureMoments, standardization, type Moments, type Standardization } from './standardize.js';

export interface FitOptions {
  /** Inverse regularization strength, as scikit-learn's C. */
  C: number;
  /** L-BFGS iterations allowed (default 1000). */
  maxIter?: number;
  /** Gradient tolerance on the summed objective, as scikit-learn 1.2's tol (default 1e-4). */
  tol?: number;
  /** Relative objective reduction that ends the run (default scipy's 2.22e-9). */
  ftol?: number;
  /** Fit on standardized features (stored with the model). Default false. */
  standardize?: boolean;
  precision?: Precision;
  threads?: number;
  preconditioner?: PreconditionerKind | 'auto';
  /** L-BFGS memory (default 10, as scipy). */
  memory?: number;
  /** Warm start, in model coordinates. */
  init?: { W: Float64Array; b: Float64Array };
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
  covCache: { cov?: Float64Array };
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
    covCache: {},
  };
}

function warningFor(stop: LbfgsStop, iterations: number, gradNorm: number, tol: number, standardized: boolean, precision: Precision): string | undefined {
  const g = `gradient norm ${gradNorm.toPrecision(3)} > tol ${tol}`;
  if (stop === 'maxIter') {
    const it = `${iterations} iteration${iterations === 1 ? '' : 's'}`;
    return `lbfgs did not converge in ${it} (${g}); raise maxIter${standardized ? '' : ' or standardize the features'}`;
  }
  if (stop === 'lineSearch') {
    return `lbfgs stopped after ${iterations} iterations: no step lowered the objective any further (${g}); ` +
      (precision === 'f32' ? "the float32 engine's resolution is reached: use precision 'f64' for a tighter fit" : 'check the features for huge values');
  }
  return undefined;
}

/** One fit on an engine already holding the context's data (the engine is not closed). */
export function fitOnEngine(engine: LossEngine, ctx: FitContext, options: FitOptions): FitResult {
  const started = performance.now();
  const { data, view, standardization: st } = ctx;
  const { n, d, K } = data;
  const C = options.C;
  const tol = options.tol ?? 1e-4;
  const kind = !options.preconditioner || options.preconditioner === 'auto' ? defaultPreconditioner(n, d) : options.preconditioner;
  const pre = makePreconditioner(kind, view, C, ctx.covCache);
  const Wm = new Float64Array(K * d), bm = new Float64Array(K);
  const We = new Float64Array(K * d), be = new Float64Array(K);
  const gWe = new Float64Array(K * d), gbe = new Float64Array(K);
  const gWm = new Float64Array(K * d), gbm = new Float64Array(K);
  const invCn = 1 / (C * n);

  const fg = (theta: Float64Array, gTheta: Float64Array): number => {
    pre.toModel(theta, Wm, bm);
    if (st) {
      for (let k = 0; k < K; k++) {
        let shift = 0;
        for (let j = 0; j < d; j++) { const w = Wm[k * d + j]! / st.scale[j]!; We[k * d + j] = w; shift += w * st.mean[j]!; }
        be[k] = bm[k]! - shift;
      }
    } else { We.set(Wm); be.set(bm); }
    const loss = engine.evaluate(We, be, gWe, gbe);
    for (let k = 0; k < K; k++) {
      const gb = gbe[k]!;
      gbm[k] = gb / n;
      for (let j = 0; j < d; j++) {
        const i = k * d + j;
        const raw = st ? (gWe[i]! - gb * st.mean[j]!) / st.scale[j]! : gWe[i]!;
        gWm[i] = raw / n + Wm[i]! * invCn;
      }
    }
    pre.gradToTheta(gWm, gbm, gTheta);
    return loss / n + sumSquares(Wm) * invCn / 2;
  };
  const gW2 = new Float64Array(K * d), gb2 = new Float64Array(K);
  const gradNorm = (_theta: Float64Array, gTheta: Float64Array): number => {
    pre.gradFromTheta(gTheta, gW2, gb2);
    let m = 0;
    for (let i = 0; i < gW2.length; i++) m = Math.max(m, Math.abs(gW2[i]!));
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(gb2[k]!));
    return m * n;
  };

  const theta0 = new Float64Array(K * d + K);
  if (options.init) pre.fromModel(options.init.W, options.init.b, theta0);
  const onIteration = options.onIteration;
  const r = lbfgs(fg, theta0, {
    memory: options.memory ?? 10,
    maxIter: options.maxIter ?? 1000,
    gtol: tol,
    ftol: options.ftol ?? 2.220446049250313e-9,
    fScale: 1 / n,
    gradNorm,
    onIteration: onIteration ? (i) => { onIteration({ iteration: i.iteration, objective: i.f, gradNorm: i.gradNorm }); } : undefined,
  });
  const W = new Float64Array(K * d), b = new Float64Array(K);
  pre.toModel(r.x, W, b);
  const warning = warningFor(r.stop, r.iterations, r.gradNorm, tol, !!st, engine.precision);
  return {
    W, b, standardization: st, C, objective: r.f, gradNorm: r.gradNorm, iterations: r.iterations,
    evaluations: r.evaluations, converged: r.converged, stop: r.stop, preconditioner: kind,
    seconds: (performance.now() - started) / 1000, ...(warning ? { warning } : {}),
  };
}

/** Fits one model: prepares the data, starts the engine, fits, stops the engine. */
export async function fitLogReg(data: Dataset, options: FitOptions): Promise<FitResult> {
  const started = performance.now();
  const ctx = prepareFit(data, options.standardize ?? false);
  const engine = await createEngine(data, { precision: options.precision, threads: options.threads });
  try {
    const result = fitOnEngine(engine, ctx, options);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  } finally {
    await engine.close();
  }
}
