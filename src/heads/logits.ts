/** Logit and log-probability helpers shared by the heads: linear logits, log-softmax, log-loss, accuracy. */
import { PROB_FLOOR, beats, type ValScore } from '../learn/select.js';

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

/** Mean negative log-likelihood of labels under log-probabilities [n, K]. */
export function logLoss(logp: Float64Array, labels: Int32Array, K: number): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.max(logp[i * K + labels[i]!]!, Math.log(PROB_FLOOR));
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

/** Validation score of log-probabilities [n, K] (logits are normalized here, in a copy). */
export function valScore(logits: Float64Array, labels: Int32Array, K: number): ValScore {
  const logp = logSoftmaxRows(Float64Array.from(logits), K);
  return { accuracy: accuracyOf(logp, labels, K), loss: logLoss(logp, labels, K) };
}

/**
 * The validation score of logits [n, K] if it can beat `best` (`beats`), else null: accuracy first (argmax, no exp),
 * and the log-loss (log-sum-exp per row) only where the accuracy ties or beats best's. Selection grids call this for
 * every candidate, so most candidates cost one pass without exp.
 */
export function scoreIfBetter(logits: Float64Array, labels: Int32Array, K: number, best: ValScore): ValScore | null {
  const n = labels.length;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let arg = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k]! > logits[i * K + arg]!) arg = k;
    if (arg === labels[i]) ok++;
  }
  const accuracy = ok / n;
  if (accuracy < best.accuracy) return null;
  const score = { accuracy, loss: logitsLogLoss(logits, labels, K) };
  return beats(score, best) ? score : null;
}

/** Mean log-loss of logits [n, K] (log-sum-exp per row, no copy; the same numbers as valScore's up to rounding). */
export function logitsLogLoss(logits: Float64Array, labels: Int32Array, K: number): number {
  const n = labels.length;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[i * K + k]!);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[i * K + k]! - m);
    loss += Math.min(m + Math.log(s) - logits[i * K + labels[i]!]!, -Math.log(PROB_FLOOR));
  }
  return loss / n;
}
