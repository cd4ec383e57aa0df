/**
 * Classification metrics from a score matrix (`[n, C]` row-major: logits, similarities or probabilities; only
 * the order within a row matters) and true class indices.
 *
 * Conventions (documented because they decide numbers):
 * - Ties: the lower class index wins, in top-1 and in top-k (the rank of the true class counts the classes
 *   scoring strictly higher plus the tied ones with a lower index). No tie is ever counted as a hit for free.
 * - top-k with k >= C is 1 by definition; `evaluate` reports top-5 only when C > 5 (null otherwise).
 * - Confusion matrix: rows are true classes, columns predicted classes.
 * - Per class: recall = correct / support, precision = correct / predicted; 0/0 is null (not 0, not 1), and
 *   F1 is null when either is. Mean per-class recall (balanced accuracy) averages the classes that occur in
 *   the truth (support > 0), as scikit-learn's balanced_accuracy_score does.
 * - Across seeds: mean and the sample standard deviation (n - 1 in the denominator); std is null for one value.
 */
import { ZsError } from '../errors.js';

export type Scores = Float32Array | Float64Array;

export interface ClassStats {
  label: string;
  support: number;
  predicted: number;
  correct: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export interface Evaluation {
  n: number;
  top1: number;
  /** Top-5 accuracy, null when there are 5 classes or fewer. */
  top5: number | null;
  meanPerClassRecall: number;
  /** [C][C]: confusion[true][predicted]. */
  confusion: number[][];
  perClass: ClassStats[];
}

export interface MeanStd {
  mean: number;
  std: number | null;
  n: number;
}

function checkInputs(scores: Scores, dims: readonly [number, number], truth: ArrayLike<number>): void {
  const [n, c] = dims;
  if (scores.length !== n * c) throw new ZsError('E_SHAPE', `scores hold ${scores.length} values, expected ${n} x ${c}`);
  if (truth.length !== n) throw new ZsError('E_SHAPE', `${truth.length} true labels for ${n} score rows`);
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]!)) throw new ZsError('E_NAN', `score row ${Math.floor(i / c) + 1} holds NaN`, { hint: 'the model or features produced NaN' });
  }
  for (let i = 0; i < n; i++) {
    const t = truth[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= c) throw new ZsError('E_SHAPE', `true label ${t} of row ${i + 1} is not a class index 0..${c - 1}`);
  }
}

/** Index of the highest score per row (ties: lowest index). */
export function argmaxRows(scores: Scores, dims: readonly [number, number]): Int32Array {
  const [n, c] = dims;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * c;
    let best = 0;
    let bestV = scores[off]!;
    for (let j = 1; j < c; j++) {
      const v = scores[off + j]!;
      if (v > bestV) { bestV = v; best = j; }
    }
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose true class ranks within the top k (ties: lower index first). */
export function topKAccuracy(scores: Scores, dims: readonly [number, number], truth: ArrayLike<number>, k: number): number {
  checkInputs(scores, dims, truth);
  const [n, c] = dims;
  if (!Number.isInteger(k) || k < 1) throw new ZsError('E_INVALID_ARG', `invalid k: ${k} (expected an integer >= 1)`, { kind: 'usage' });
  if (n === 0) throw new ZsError('E_SHAPE', 'no rows to score');
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const off = i * c;
    const t = truth[i]!;
    const st = scores[off + t]!;
    let rank = 0;
    for (let j = 0; j < c && rank < k; j++) {
      const v = scores[off + j]!;
      if (v > st || (v === st && j < t)) rank++;
    }
    if (rank < k) hits++;
  }
  return hits / n;
}

/** [C][C] counts, rows = true class, columns = predicted class. */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  if (truth.length !== predicted.length) throw new ZsError('E_SHAPE', `${truth.length} true labels but ${predicted.length} predictions`);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) throw new ZsError('E_SHAPE', `row ${i + 1}: class index outside 0..${numClasses - 1}`);
    m[t]![p]!++;
  }
  return m;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** Support, precision, recall and F1 per class from a confusion matrix. */
export function perClassStats(confusion: number[][], classes: readonly string[]): ClassStats[] {
  return classes.map((label, c) => {
    const support = confusion[c]!.reduce((s, x) => s + x, 0);
    const predicted = confusion.reduce((s, row) => s + row[c]!, 0);
    const correct = confusion[c]![c]!;
    const precision = ratio(correct, predicted);
    const recall = ratio(correct, support);
    const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    return { label, support, predicted, correct, precision, recall, f1 };
  });
}

/** Mean recall over classes that occur in the truth (balanced accuracy). */
export function meanPerClassRecall(confusion: number[][]): number {
  let sum = 0;
  let count = 0;
  confusion.forEach((row, c) => {
    const support = row.reduce((s, x) => s + x, 0);
    if (support > 0) { sum += row[c]! / support; count++; }
  });
  if (count === 0) throw new ZsError('E_SHAPE', 'no rows to score');
  return sum / count;
}

/** Class index of each label in `classes`; a label outside them is an error naming it. */
export function labelIndices(labels: readonly string[], classes: readonly string[]): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  const out = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    const k = index.get(l);
    if (k === undefined) throw new ZsError('E_UNKNOWN_LABEL', `label ${JSON.stringify(l)} (row ${i + 1}) is not one of the ${classes.length} classes`, { kind: 'usage' });
    out[i] = k;
  });
  return out;
}

/** Every metric `zs probe eval` and `zs bench` report, from scores and true class indices. */
export function evaluate(scores: Scores, dims: readonly [number, number], truth: ArrayLike<number>, classes: readonly string[]): Evaluation {
  checkInputs(scores, dims, truth);
  const [n, c] = dims;
  if (classes.length !== c) throw new ZsError('E_SHAPE', `${classes.length} class names for ${c} score columns`);
  if (n === 0) throw new ZsError('E_SHAPE', 'no rows to score');
  const confusion = confusionMatrix(truth, argmaxRows(scores, dims), c);
  const top1 = confusion.reduce((s, row, i) => s + row[i]!, 0) / n;
  return {
    n,
    top1,
    top5: c > 5 ? topKAccuracy(scores, dims, truth, 5) : null,
    meanPerClassRecall: meanPerClassRecall(confusion),
    confusion,
    perClass: perClassStats(confusion, classes),
  };
}

/** Mean and sample standard deviation (n - 1); std null for a single value. */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) throw new ZsError('E_SHAPE', 'no values to average');
  const mean = values.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { mean, std: null, n };
  const ss = values.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}
