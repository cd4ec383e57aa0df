/**
 * Choosing C the way CLIP's linear-probe evaluation does: hold out a stratified validation split (seeded),
 * fit at C = 1e-6, 1e-4, ..., 1e6, then repeatedly halve the step (in log10 C) around the best value,
 * trying its two neighbours, until the step is 1/8 decade (8 steps per decade) — 7 + 2 * 4 = 15 fits
 * instead of the 96 of a full grid. Each fit is warm-started from the fitted C nearest to it, on one
 * engine holding the training split. Ties in validation accuracy (common on small validation sets) go to the
 * lower validation log-loss, then to the smaller C (the stronger penalty, the simpler model). The caller refits
 * on train + validation at the chosen C.
 */
import { ZsError } from '../errors.js';
import { rngFor } from '../data/rng.js';
import { fitOnEngine, prepareFit, startEngine, type FitOptions } from './fit.js';
import { predictProbaRows, type Dataset } from './logreg.js';
import { foldStandardization } from './standardize.js';
import { beats, PROB_FLOOR } from './select.js';

export interface CSearchOptions extends Omit<FitOptions, 'C' | 'init' | 'maxIter'> {
  /** Fraction of each class held out for validation (default 0.2). */
  valFraction?: number;
  /** Seed of the split (default 0). */
  seed?: number;
  /** Iteration cap of each sweep fit (default 100; validation accuracy settles long before the optimum). */
  sweepMaxIter?: number;
  /** Relative objective reduction that ends a sweep fit (default 1e-6). */
  sweepFtol?: number;
  onFit?: (info: CandidateResult & { fit: number }) => void;
}

export interface CandidateResult {
  C: number;
  valAccuracy: number;
  /** Mean validation log-loss (breaks accuracy ties). */
  valLoss: number;
  iterations: number;
  seconds: number;
}

export interface CSearchResult {
  C: number;
  valAccuracy: number;
  /** Mean validation log-loss at the chosen C. */
  valLoss: number;
  fits: number;
  seconds: number;
  candidates: CandidateResult[];
  /** Weights at the chosen C on the training split (a warm start for the refit), model coordinates. */
  init: { W: Float64Array; b: Float64Array };
}

/** The CLIP sweep's starting points, log10 C. */
export const COARSE_LOG10_C = [-6, -4, -2, 0, 2, 4, 6];
/** Bisection ends at this step, in decades. */
export const FINEST_STEP = 1 / 8;

/** Row indices of a stratified split: round(valFraction * count) of each class (at least 1 when it has 2+). */
export function stratifiedSplit(labels: Int32Array, K: number, valFraction: number, seed: number): { train: Int32Array; val: Int32Array } {
  const byClass: number[][] = Array.from({ length: K }, () => []);
  labels.forEach((y, i) => byClass[y]!.push(i));
  const train: number[] = [], val: number[] = [];
  for (const [k, rows] of byClass.entries()) {
    rngFor(seed, 'c-search', k).shuffle(rows);
    const nVal = rows.length < 2 ? 0 : Math.max(1, Math.round(valFraction * rows.length));
    val.push(...rows.slice(0, nVal));
    train.push(...rows.slice(nVal));
  }
  return { train: Int32Array.from(train.sort((a, b) => a - b)), val: Int32Array.from(val.sort((a, b) => a - b)) };
}

/** The rows `idx` of a dataset, copied. */
export function subset(data: Dataset, idx: Int32Array): Dataset {
  const { d } = data;
  const x = new Float32Array(idx.length * d);
  const labels = new Int32Array(idx.length);
  idx.forEach((i, r) => { x.set(data.x.subarray(i * d, (i + 1) * d), r * d); labels[r] = data.labels[i]!; });
  return { x, labels, n: idx.length, d, K: data.K };
}

/** Validation accuracy, and mean log-loss to break ties between equally accurate candidates. */
function validate(data: Dataset, W: Float64Array, b: Float64Array): { acc: number; loss: number } {
  const { n, d, K } = data;
  const p = predictProbaRows(data.x, n, d, W, b, K, new Float64Array(n * K));
  let ok = 0, loss = 0;
  for (let i = 0; i < n; i++) {
    const y = data.labels[i]!;
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
    if (best === y) ok++;
    loss -= Math.log(Math.max(p[i * K + y]!, PROB_FLOOR));
  }
  return { acc: ok / n, loss: loss / n };
}

/** Runs the sweep on a stratified split of `data`; returns the chosen C and the path it took. */
export async function searchC(data: Dataset, options: CSearchOptions = {}): Promise<CSearchResult> {
  const split = stratifiedSplit(data.labels, data.K, options.valFraction ?? 0.2, options.seed ?? 0);
  if (split.val.length === 0 || split.train.length === 0) {
    throw new ZsError('E_TOO_FEW', `C auto needs at least 2 examples of some class to hold out for validation (got ${data.n} examples)`,
      { kind: 'usage', hint: 'add examples or pass a fixed --C' });
  }
  return searchCOn(subset(data, split.train), subset(data, split.val), options);
}

/** The sweep with given training and validation sets (e.g. the few-shot protocol's). */
export async function searchCOn(train: Dataset, val: Dataset, options: Omit<CSearchOptions, 'valFraction' | 'seed'> = {}): Promise<CSearchResult> {
  const started = performance.now();
  const ctx = prepareFit(train, options.standardize ?? false);
  const engine = await startEngine(ctx, options);
  const fitted = new Map<number, { W: Float64Array; b: Float64Array; acc: number; loss: number }>();
  const candidates: CandidateResult[] = [];
  try {
    const evaluate = (logC: number): void => {
      if (fitted.has(logC)) return;
      let init: { W: Float64Array; b: Float64Array } | undefined;
      let nearest = Infinity;
      for (const [l, f] of fitted) if (Math.abs(l - logC) < nearest) { nearest = Math.abs(l - logC); init = f; }
      const C = 10 ** logC;
      const r = fitOnEngine(engine, ctx, {
        ...options, C, init, maxIter: options.sweepMaxIter ?? 100, ftol: options.sweepFtol ?? 1e-6,
      });
      const folded = foldStandardization(r.W, r.b, train.K, train.d, r.standardization);
      const { acc, loss } = validate(val, folded.W, folded.b);
      fitted.set(logC, { W: r.W, b: r.b, acc, loss });
      const c: CandidateResult = { C, valAccuracy: acc, valLoss: loss, iterations: r.iterations, seconds: r.seconds };
      candidates.push(c);
      options.onFit?.({ ...c, fit: candidates.length });
    };
    const best = (): number => { // smallest C first, so exact ties go to the stronger penalty
      let bl = NaN, bs = { accuracy: -1, loss: Infinity };
      for (const [l, f] of [...fitted].sort((a, b) => a[0] - b[0])) {
        const s = { accuracy: f.acc, loss: f.loss };
        if (beats(s, bs)) { bs = s; bl = l; }
      }
      return bl;
    };
    for (const l of COARSE_LOG10_C) evaluate(l);
    const lo = COARSE_LOG10_C[0]!, hi = COARSE_LOG10_C[COARSE_LOG10_C.length - 1]!;
    for (let step = (COARSE_LOG10_C[1]! - COARSE_LOG10_C[0]!) / 2; step >= FINEST_STEP; step /= 2) {
      const center = best();
      for (const l of [center - step, center + step]) if (l >= lo && l <= hi) evaluate(l);
    }
    const chosen = best();
    const f = fitted.get(chosen)!;
    return {
      C: 10 ** chosen, valAccuracy: f.acc, valLoss: f.loss, fits: candidates.length, candidates,
      seconds: (performance.now() - started) / 1000, init: { W: f.W, b: f.b },
    };
  } finally {
    await engine.close();
  }
}
