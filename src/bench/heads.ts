/**
 * The few-shot heads `zs bench` compares, as pure functions on features (rows L2-normalized, [n, d]):
 *
 * - linear probe: multinomial logistic regression, C by the CLIP sweep on the validation rows, fit on the k shots.
 * - anchored probe (cross-modal adaptation): the class text embeddings join the k shots as extra training
 *   samples, and the L2 penalty pulls W toward the zero-shot classifier W0 = scale * T (not toward 0):
 *   objective = mean log-loss + ||W - W0||^2 / (2Cn). C -> 0 gives zero-shot exactly, C -> inf the plain probe on
 *   images + texts; the sweep on validation picks the point between. Initialised at W0. Given the plain probe, it
 *   keeps whichever of the two fits the validation rows better (accuracy, ties by log-loss), so a zero-shot
 *   classifier that does not help (a mismatched text tower, labels the prompts describe badly) drops out.
 * - WiSE mix: log-probabilities of zero-shot and probe interpolated, alpha * zs + (1 - alpha) * probe, with alpha
 *   from {0, 0.1, ..., 1} chosen on the validation rows by accuracy, ties by log-loss (alpha 1 is zero-shot, 0 the
 *   probe).
 * Every head returns a function giving scores [n, K] for new rows (log-probabilities).
 */
import { searchCOn, type CSearchResult } from '../learn/csearch.js';
import { fitLogReg } from '../learn/fit.js';
import type { Dataset } from '../learn/logreg.js';
import { beats } from '../learn/select.js';

export const HEADS = ['probe', 'anchored', 'wise'] as const;
export type HeadName = (typeof HEADS)[number];

export const HEAD_TITLES: Record<HeadName, string> = {
  probe: 'linear probe',
  anchored: 'anchored probe',
  wise: 'WiSE mix',
};

/** The zero-shot classifier in logit form: logits = scale * x T^T + bias. */
export interface ZeroShotWeights {
  /** [K, d], rows L2-normalized (the prompt-ensemble class embeddings). */
  T: Float32Array;
  scale: number;
  bias: number;
}

export type Scorer = (x: Float32Array, n: number) => Float64Array;

export interface FittedHead {
  score: Scorer;
  /** The chosen regularization (probe heads) or mixing weight (WiSE), for the report. */
  C: number | null;
  alpha?: number;
  /** How the chosen setting scored on the validation rows during selection. */
  val?: { accuracy: number; loss: number };
  /** The anchored head fell back to the plain probe (validation preferred it). */
  unanchored?: boolean;
}

/** Validation score of the C a sweep chose. */
function chosen(search: CSearchResult): { accuracy: number; loss: number } {
  return { accuracy: search.valAccuracy, loss: search.valLoss };
}


/** Row-wise log-softmax of logits [n, K], in place. */
export function logSoftmaxRows(z: Float64Array, K: number): Float64Array {
  for (let off = 0; off < z.length; off += K) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, z[off + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[off + k]! - m);
    const lse = m + Math.log(s);
    for (let k = 0; k < K; k++) z[off + k] = z[off + k]! - lse;
  }
  return z;
}

/** Linear logits W x + b for rows x [n, d] -> [n, K] (float64). */
export function linearLogits(x: Float32Array, n: number, d: number, W: ArrayLike<number>, b: ArrayLike<number> | null, K: number): Float64Array {
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let k = 0; k < K; k++) {
      const wo = k * d;
      let s = b ? b[k]! : 0;
      for (let j = 0; j < d; j++) s += W[wo + j]! * x[xo + j]!;
      out[i * K + k] = s;
    }
  }
  return out;
}

export function zeroShotScorer(zs: ZeroShotWeights, d: number, K: number): Scorer {
  const W = Float64Array.from(zs.T, (v) => v * zs.scale);
  const b = new Float64Array(K).fill(zs.bias);
  return (x, n) => logSoftmaxRows(linearLogits(x, n, d, W, b, K), K);
}

/**
 * The plain probe: C by the sweep on (train, val), then the final fit at that C on `fitOn` (default: train;
 * all-data runs refit on train + validation), warm-started from the sweep.
 */
export async function fitProbe(train: Dataset, val: Dataset, fitOn: Dataset = train): Promise<FittedHead> {
  const search = await searchCOn(train, val, { threads: 1 });
  const r = await fitLogReg(fitOn, { C: search.C, init: search.init, threads: 1 });
  const { d, K } = train;
  return { C: r.C, val: chosen(search), score: (x, n) => logSoftmaxRows(linearLogits(x, n, d, r.W, r.b, K), K) };
}

/** Appends the K class text embeddings, labelled with their class, to the training rows. */
export function withTextSamples(train: Dataset, zs: ZeroShotWeights): Dataset {
  const { n, d, K } = train;
  const x = new Float32Array((n + K) * d);
  x.set(train.x.subarray(0, n * d));
  x.set(zs.T, n * d);
  const labels = new Int32Array(n + K);
  labels.set(train.labels.subarray(0, n));
  for (let k = 0; k < K; k++) labels[n + k] = k;
  return { x, labels, n: n + K, d, K };
}

/** The anchored probe (see the header); `plain`, the plain probe on the same split, is kept if validation prefers it. */
export async function fitAnchored(train: Dataset, val: Dataset, zs: ZeroShotWeights, fitOn: Dataset = train, plain?: FittedHead): Promise<FittedHead> {
  const prior = Float64Array.from(zs.T, (v) => v * zs.scale); // W0 = scale * T, [K, d]
  const search = await searchCOn(withTextSamples(train, zs), val, { threads: 1, prior });
  const score = chosen(search);
  if (plain?.val && beats(plain.val, score)) return { ...plain, unanchored: true };
  const r = await fitLogReg(withTextSamples(fitOn, zs), { C: search.C, init: search.init, prior, threads: 1 });
  const { d, K } = train;
  return { C: r.C, val: score, score: (x, n) => logSoftmaxRows(linearLogits(x, n, d, r.W, r.b, K), K) };
}

/** Mean negative log-likelihood of labels under log-probabilities [n, K]. */
export function logLoss(logp: Float64Array, labels: Int32Array, K: number): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= logp[i * K + labels[i]!]!;
  return s / labels.length;
}

/** Fraction of rows whose highest score is their label (ties to the lower class). */
export function accuracyOf(scores: Float64Array, labels: Int32Array, K: number): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (scores[i * K + k]! > scores[i * K + best]!) best = k;
    if (best === labels[i]) ok++;
  }
  return ok / labels.length;
}

export const WISE_ALPHAS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Mixes zero-shot and probe log-probabilities with the alpha that fits the validation rows best. */
export function fitWise(zeroShot: Scorer, probe: FittedHead, val: Dataset): FittedHead {
  const K = val.K;
  const zv = zeroShot(val.x, val.n);
  const pv = probe.score(val.x, val.n);
  const mix = (a: number, z: Float64Array, p: Float64Array): Float64Array => {
    const out = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) out[i] = a * z[i]! + (1 - a) * p[i]!;
    return logSoftmaxRows(out, K);
  };
  let best = WISE_ALPHAS[0]!;
  let bestScore = { accuracy: -1, loss: Infinity };
  for (const a of WISE_ALPHAS) {
    const m = mix(a, zv, pv);
    const score = { accuracy: accuracyOf(m, val.labels, K), loss: logLoss(m, val.labels, K) };
    if (beats(score, bestScore)) { bestScore = score; best = a; }
  }
  return { C: probe.C, alpha: best, score: (x, n) => mix(best, zeroShot(x, n), probe.score(x, n)) };
}
