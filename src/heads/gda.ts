/**
 * Gaussian discriminant analysis on frozen embeddings (training-free, closed form; Wang et al., "A hard-to-beat
 * baseline for training-free CLIP-based adaptation", ICLR 2024), mixed with the zero-shot logits.
 *
 *   class means     mu_k = mean of class k's rows                                   Mu [K, d]
 *   scatter         S = (1/n) sum_i (x_i - mu_{y_i})(x_i - mu_{y_i})'               [d, d]
 *   shrinkage       Sigma = (1 - g) S + g m I, m = tr(S) / d, g by Ledoit & Wolf (2004) unless given:
 *                   g = min(1, max(G_FLOOR, b2 / d2)), d2 = ||S - m I||_F^2, b2 = (1/n^2) sum_i ||r_i||^4 - ||S||_F^2 / n
 *                   (G_FLOOR = 1e-3 keeps Sigma positive definite where the estimate says 0 but S is singular,
 *                   e.g. residuals all along one direction)
 *   discriminant    logit_k(x) = x' Sigma^-1 mu_k - mu_k' Sigma^-1 mu_k / 2 + log(n_k / n)
 *   head            w * zero-shot logits + alpha * discriminant, (w, alpha) chosen on the validation rows (`beats`,
 *                   simplest first: zero-shot alone (1, 0), then w = 1 with alpha up a log grid scaled so the
 *                   discriminant spans the zero-shot logits' spread (unit spread where zero-shot is flat), then the
 *                   discriminant alone (0, base)); one linear map in the end.
 *
 * One shot per class leaves no within-class scatter (S = 0, singular): then Sigma = I (documented fallback,
 * `identity` in the result): the discriminant becomes nearest class mean, x' mu_k - |mu_k|^2 / 2. A model without
 * a text tower gets the discriminant alone (alpha 1, no zero-shot term).
 */
import { ZsError } from '../errors.js';
import type { Dataset } from '../learn/logreg.js';
import { productWith } from '../learn/matmul.js';
import type { ValScore } from '../learn/select.js';
import { scoreIfBetter, valScore } from './logits.js';
import { scorerOf, zeroShotLogits, type HeadParams, type ZeroShotWeights } from './state.js';
import type { FittedHead } from './fewshot.js';

/** Least shrinkage Ledoit-Wolf may choose (see the header). */
export const G_FLOOR = 1e-3;

export interface GdaModel {
  /** [K, d] Sigma^-1 mu_k */
  W: Float64Array;
  /** [K] */
  b: Float64Array;
  /** The shrinkage g used (1 with the identity fallback). */
  shrinkage: number;
  /** No within-class scatter: Sigma = I. */
  identity: boolean;
}

/** Lower Cholesky factor of a symmetric positive definite A [d, d] (in place), or false where A is not. */
function cholesky(A: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j]!;
    for (let k = 0; k < j; k++) s -= A[j * d + k]! ** 2;
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    A[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = A[i * d + j]!;
      for (let k = 0; k < j; k++) t -= A[i * d + k]! * A[j * d + k]!;
      A[i * d + j] = t / ljj;
    }
  }
  return true;
}

/** Solves L L' x = v in place (L lower, [d, d]). */
function cholSolve(L: Float64Array, d: number, v: Float64Array): void {
  for (let i = 0; i < d; i++) {
    let s = v[i]!;
    for (let k = 0; k < i; k++) s -= L[i * d + k]! * v[k]!;
    v[i] = s / L[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = v[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k * d + i]! * v[k]!;
    v[i] = s / L[i * d + i]!;
  }
}

/** The closed-form discriminant of `data` (see the header); `shrinkage` fixes g instead of Ledoit-Wolf. */
export function gdaClosedForm(data: Dataset, shrinkage?: number): GdaModel {
  const { x, labels, n, d, K } = data;
  const counts = new Float64Array(K);
  const mu = new Float64Array(K * d);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    counts[y]!++;
    for (let j = 0; j < d; j++) mu[y * d + j]! += x[i * d + j]!;
  }
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) {
    throw new ZsError('E_TOO_FEW', `GDA needs at least one example of every class; class ${empty} has none`, { kind: 'usage', hint: 'add examples of every class' });
  }
  for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) mu[k * d + j]! /= counts[k]!;
  // residuals, transposed: Rt [d, n] (float32 for the SIMD product S = Rt Rt' / n)
  const Rt = new Float32Array(d * n);
  let sumR4 = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    let r2 = 0;
    for (let j = 0; j < d; j++) { const r = x[i * d + j]! - mu[y * d + j]!; Rt[j * n + i] = r; r2 += r * r; }
    sumR4 += r2 * r2;
  }
  const S = productWith(Rt, d, n).apply(Rt, d); // [d, d]
  let trace = 0, frob = 0;
  for (let i = 0; i < d * d; i++) { S[i] = S[i]! / n; frob += S[i]! ** 2; }
  for (let j = 0; j < d; j++) trace += S[j * d + j]!;
  const m = trace / d;
  let meanSq = 0;
  for (let i = 0; i < n * d; i++) meanSq += x[i]! ** 2;
  meanSq /= n * d;
  const identity = n === K || !(m > 1e-12 * Math.max(meanSq, Number.MIN_VALUE));
  let g = 1;
  if (identity) {
    S.fill(0);
    for (let j = 0; j < d; j++) S[j * d + j] = 1;
  } else {
    const d2 = frob - d * m * m;
    const b2 = sumR4 / (n * n) - frob / n;
    g = shrinkage ?? (d2 > 0 ? Math.min(1, Math.max(G_FLOOR, b2 / d2)) : 1);
    for (let i = 0; i < d * d; i++) S[i] = (1 - g) * S[i]!;
    for (let j = 0; j < d; j++) S[j * d + j]! += g * m;
  }
  if (!cholesky(S, d)) {
    throw new ZsError('E_SINGULAR', `GDA's covariance is singular at shrinkage ${g} (${n} rows of ${d} values in ${K} classes)`,
      { kind: 'usage', hint: 'leave the shrinkage to Ledoit-Wolf (omit it) or give a value > 0' });
  }
  const W = new Float64Array(K * d), b = new Float64Array(K);
  const v = new Float64Array(d);
  for (let k = 0; k < K; k++) {
    const row = mu.subarray(k * d, (k + 1) * d);
    v.set(row);
    cholSolve(S, d, v);
    W.set(v, k * d);
    let q = 0;
    for (let j = 0; j < d; j++) q += row[j]! * v[j]!;
    b[k] = Math.log(counts[k]! / n) - q / 2;
  }
  return { W, b, shrinkage: g, identity };
}

/** Standard deviation of all entries after centring each row (the spread that decides a softmax). */
function rowSpread(z: Float64Array, K: number): number {
  let s = 0;
  for (let off = 0; off < z.length; off += K) {
    let mean = 0;
    for (let k = 0; k < K; k++) mean += z[off + k]!;
    mean /= K;
    for (let k = 0; k < K; k++) s += (z[off + k]! - mean) ** 2;
  }
  return Math.sqrt(s / Math.max(1, z.length));
}

/** alpha = 0, then spread ratio * 10^(e/4) for e = -12..12. */
export const GDA_ALPHA_EXPONENTS = Array.from({ length: 25 }, (_, i) => (i - 12) / 4);

/**
 * The GDA head: alpha chosen on `val` with the discriminant of `train`, then the discriminant of `fitOn` (default
 * train) folded with the zero-shot classifier. Without `zs`, the discriminant alone.
 */
export function fitGda(train: Dataset, val: Dataset, zs: ZeroShotWeights | undefined, fitOn: Dataset = train, shrinkage?: number): FittedHead {
  const { K, d } = train;
  const sel = gdaClosedForm(train, shrinkage);
  const gv = productWith(Float32Array.from(sel.W), K, d).apply(val.x, val.n); // [nv, K]
  for (let i = 0; i < val.n; i++) for (let k = 0; k < K; k++) gv[i * K + k]! += sel.b[k]!;
  let alpha = 1, zsWeight = zs ? 1 : 0;
  let best: ValScore;
  if (zs) {
    const zv = zeroShotLogits(zs, K, d)(val.x, val.n);
    // alpha scaled so that alpha * discriminant spans the zero-shot logits' spread (or 1 where zero-shot is flat)
    const zSpread = rowSpread(zv, K);
    const base = (zSpread > 0 ? zSpread : 1) / Math.max(rowSpread(gv, K), Number.MIN_VALUE);
    // candidates, simplest first: zero-shot alone, zero-shot + alpha * discriminant, the discriminant alone
    const candidates: [number, number][] = [[1, 0], ...GDA_ALPHA_EXPONENTS.map((e): [number, number] => [1, base * 10 ** e]), [0, base]];
    best = { accuracy: -1, loss: Infinity };
    const mix = new Float64Array(zv.length);
    for (const [w, a] of candidates) {
      for (let i = 0; i < mix.length; i++) mix[i] = w * zv[i]! + a * gv[i]!;
      const s = scoreIfBetter(mix, val.labels, K, best);
      if (s) { best = s; alpha = a; zsWeight = w; }
    }
  } else {
    best = valScore(gv, val.labels, K);
  }
  const fin = fitOn === train ? sel : gdaClosedForm(fitOn, shrinkage);
  const W = new Float64Array(K * d), b = new Float64Array(K);
  for (let i = 0; i < K * d; i++) W[i] = (zs ? zsWeight * zs.scale * zs.T[i]! : 0) + alpha * fin.W[i]!;
  for (let k = 0; k < K; k++) b[k] = (zs ? zsWeight * zs.bias : 0) + alpha * fin.b[k]!;
  const params: HeadParams = { head: 'gda', W, b };
  return {
    params, score: scorerOf(params, K, d), C: alpha, val: best,
    settings: { alpha, zeroShotWeight: zsWeight, shrinkage: fin.shrinkage, identityCovariance: fin.identity, zeroShot: !!zs },
  };
}
