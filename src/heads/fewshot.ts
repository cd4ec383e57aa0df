/**
 * The few-shot heads built on the logistic-regression learner, as pure functions on features (rows L2-normalized,
 * [n, d]); each returns its parameters (state.ts) and a scorer:
 *
 * - linear probe: multinomial logistic regression, C by the CLIP sweep on the validation rows, fit on the k shots.
 * - anchored probe (cross-modal adaptation): the class text embeddings join the k shots as extra training
 *   samples, and the L2 penalty pulls W toward the zero-shot classifier W0 = scale * T (not toward 0):
 *   objective = mean log-loss + ||W - W0||^2 / (2Cn). C -> 0 gives zero-shot exactly, C -> inf the plain probe on
 *   images + texts; the sweep on validation picks the point between. Initialised at W0. Given the plain probe, it
 *   keeps whichever of the two fits the validation rows better (`beats`), so a zero-shot classifier that does not
 *   help (a mismatched text tower, labels the prompts describe badly) drops out.
 * - WiSE mix: log-probabilities of zero-shot and probe interpolated, alpha * zs + (1 - alpha) * probe, with alpha
 *   from {0, 0.1, ..., 1} chosen on the validation rows (alpha 1 is zero-shot, 0 the probe).
 */
import { searchCOn, type CSearchResult } from '../learn/csearch.js';
import { fitLogReg } from '../learn/fit.js';
import type { Dataset } from '../learn/logreg.js';
import { beats, type ValScore } from '../learn/select.js';
import { logSoftmaxRows, linearLogits, valScore } from './logits.js';
import { scorerOf, zeroShotLogits, type HeadParams, type Scorer, type ZeroShotWeights } from './state.js';

export { logSoftmaxRows, linearLogits };
export type { ZeroShotWeights, Scorer };

export interface FittedHead {
  params: HeadParams;
  score: Scorer;
  /** The chosen settings, for reports and the probe file (C, alpha, beta, shrinkage, lambda, ...). */
  settings: Record<string, number | boolean>;
  /** The report's one number per head (C for probes, the mixing weight for mixes), or null. */
  C: number | null;
  /** How the chosen setting scored on the validation rows during selection. */
  val?: ValScore;
}

/** Validation score of the C a sweep chose. */
function chosen(search: CSearchResult): ValScore {
  return { accuracy: search.valAccuracy, loss: search.valLoss };
}

export function zeroShotScorer(zs: ZeroShotWeights, d: number, K: number): Scorer {
  const logits = zeroShotLogits(zs, K, d);
  return (x, n) => logSoftmaxRows(logits(x, n), K);
}

function linearHead(head: 'linear' | 'anchored', W: Float64Array, b: Float64Array, K: number, d: number,
  settings: Record<string, number | boolean>, val: ValScore, C: number): FittedHead {
  const params: HeadParams = { head, W, b };
  return { params, score: scorerOf(params, K, d), settings, C, val };
}

/**
 * The plain probe: C by the sweep on (train, val), then the final fit at that C on `fitOn` (default: train;
 * all-data runs refit on train + validation), warm-started from the sweep.
 */
export async function fitProbe(train: Dataset, val: Dataset, fitOn: Dataset = train): Promise<FittedHead> {
  const search = await searchCOn(train, val, { threads: 1 });
  const r = await fitLogReg(fitOn, { C: search.C, init: search.init, threads: 1 });
  return linearHead('linear', r.W, r.b, train.K, train.d, { C: r.C }, chosen(search), r.C);
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
  const { d, K } = train;
  if (plain?.val && beats(plain.val, score) && plain.params.head === 'linear') {
    return linearHead('anchored', plain.params.W, plain.params.b, K, d, { ...plain.settings, unanchored: true }, plain.val, plain.C!);
  }
  const r = await fitLogReg(withTextSamples(fitOn, zs), { C: search.C, init: search.init, prior, threads: 1 });
  return linearHead('anchored', r.W, r.b, K, d, { C: r.C, unanchored: false }, score, r.C);
}

export const WISE_ALPHAS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

/** Mixes zero-shot and probe log-probabilities with the alpha that fits the validation rows best. */
export function fitWise(zs: ZeroShotWeights, probe: FittedHead, val: Dataset): FittedHead {
  if (probe.params.head !== 'linear') throw new TypeError('fitWise mixes zero-shot with a linear probe');
  const { K, d } = val;
  const { W, b } = probe.params;
  const zv = zeroShotScorer(zs, d, K)(val.x, val.n);
  const pv = probe.score(val.x, val.n);
  let best = WISE_ALPHAS[0]!;
  let bestScore: ValScore = { accuracy: -1, loss: Infinity };
  for (const a of WISE_ALPHAS) {
    const m = new Float64Array(zv.length);
    for (let i = 0; i < m.length; i++) m[i] = a * zv[i]! + (1 - a) * pv[i]!;
    const score = valScore(m, val.labels, K);
    if (beats(score, bestScore)) { bestScore = score; best = a; }
  }
  const params: HeadParams = { head: 'wise', zeroShot: zs, W, b, alpha: best };
  return { params, score: scorerOf(params, K, d), settings: { ...probe.settings, alpha: best }, C: best, val: bestScore };
}
