/**
 * Multinomial logistic regression: the objective and its gradient, pure functions, no optimizer.
 *
 * Objective (the one scikit-learn's LogisticRegression minimizes, divided by n so that it reads as a mean):
 *
 *   f(W, b) = (1/n) sum_i -log softmax(W x_i + b)[y_i]  +  ||W||^2 / (2 C n)
 *
 * W is [K, d] row-major (one row per class, as sklearn's coef_), b [K] is the unpenalized intercept.
 * scikit-learn 1.2 minimizes n * f (sum of losses + ||W||^2 / (2C)); same optimum, same C.
 *
 * `softmaxRows` is the per-row step shared with the fast engine (engine.ts): logits in, log-loss summed,
 * residuals P - Y out. `logLossGrad` is the plain float64 reference the fast engine is tested against, and
 * what computes exact objectives for reports; it allocates one K-vector per call, none per sample.
 */

/** Features [n, d] row-major (float32, as embeddings arrive) and class indices [n] in 0..K-1. */
export interface Dataset {
  x: Float32Array;
  labels: Int32Array;
  n: number;
  d: number;
  K: number;
}

/**
 * Softmax over `rows` rows of logits z [rows, K] (offset zOff) plus intercept b [K]. Adds -log p[label] of each
 * row to the returned sum, writes residuals p - onehot(label) to r [rows, K] (offset rOff) and adds them to gb.
 * z is overwritten (it holds exp(z + b - max) afterwards). Labels are read from labels[labelOff + row].
 */
export function softmaxRows(z: Float64Array, zOff: number, r: Float32Array | Float64Array, rOff: number,
  labels: Int32Array, labelOff: number, rows: number, K: number, b: Float64Array, gb: Float64Array): number {
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const zo = zOff + i * K, ro = rOff + i * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) { const v = z[zo + k]! + b[k]!; z[zo + k] = v; if (v > m) m = v; }
    const y = labels[labelOff + i]!;
    const zy = z[zo + y]!;
    let s = 0;
    for (let k = 0; k < K; k++) { const e = Math.exp(z[zo + k]! - m); s += e; z[zo + k] = e; }
    loss += Math.log(s) + m - zy; // -log p_y
    const inv = 1 / s;
    for (let k = 0; k < K; k++) {
      const res = z[zo + k]! * inv - (k === y ? 1 : 0);
      r[ro + k] = res;
      gb[k]! += res;
    }
  }
  return loss;
}

/**
 * Reference: sum over samples of -log p(y_i) at (W, b), in float64. When gW/gb are given they receive the
 * gradient of that sum ([K, d] and [K]). No penalty, no 1/n: see `objective`.
 */
export function logLossGrad(data: Dataset, W: Float64Array, b: Float64Array, gW?: Float64Array, gb?: Float64Array): number {
  const { x, labels, n, d, K } = data;
  const z = new Float64Array(K);
  const r = new Float64Array(K);
  const gbAcc = gb ?? new Float64Array(K);
  if (gW) gW.fill(0);
  gbAcc.fill(0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let k = 0; k < K; k++) {
      const wo = k * d;
      let s = 0;
      for (let j = 0; j < d; j++) s += x[xo + j]! * W[wo + j]!;
      z[k] = s;
    }
    loss += softmaxRows(z, 0, r, 0, labels, i, 1, K, b, gbAcc);
    if (gW) {
      for (let k = 0; k < K; k++) {
        const rk = r[k]!, wo = k * d;
        for (let j = 0; j < d; j++) gW[wo + j]! += rk * x[xo + j]!;
      }
    }
  }
  return loss;
}

/** ||W||^2. */
export function sumSquares(W: Float64Array): number {
  let s = 0;
  for (let i = 0; i < W.length; i++) s += W[i]! * W[i]!;
  return s;
}

/**
 * The full objective f(W, b) = mean log-loss + ||W||^2 / (2Cn); with gW/gb, their gradient of f.
 * W here is applied to the features as given (see fit.ts for standardized features).
 */
export function objective(data: Dataset, W: Float64Array, b: Float64Array, C: number, gW?: Float64Array, gb?: Float64Array): number {
  const { n } = data;
  const loss = logLossGrad(data, W, b, gW, gb);
  if (gW) {
    for (let i = 0; i < W.length; i++) gW[i] = gW[i]! / n + W[i]! / (C * n);
  }
  if (gb) for (let k = 0; k < gb.length; k++) gb[k] = gb[k]! / n;
  return loss / n + sumSquares(W) / (2 * C * n);
}

/** Class probabilities [rows, K] for features [rows, d] (float32 or float64) under (W, b). */
export function predictProbaRows(x: Float32Array | Float64Array, rows: number, d: number, W: Float64Array, b: Float64Array,
  K: number, out: Float64Array): Float64Array {
  for (let i = 0; i < rows; i++) {
    const xo = i * d, oo = i * K;
    let m = -Infinity;
    for (let k = 0; k < K; k++) {
      const wo = k * d;
      let s = b[k]!;
      for (let j = 0; j < d; j++) s += x[xo + j]! * W[wo + j]!;
      out[oo + k] = s;
      if (s > m) m = s;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) { const e = Math.exp(out[oo + k]! - m); out[oo + k] = e; sum += e; }
    for (let k = 0; k < K; k++) out[oo + k] = out[oo + k]! / sum;
  }
  return out;
}

/** Index of the largest logit (= of the largest probability) of each row of x [rows, d] under (W, b). */
export function argmaxRows(x: Float32Array | Float64Array, rows: number, d: number, W: Float64Array, b: Float64Array, K: number): Int32Array {
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const xo = i * d;
    let best = 0, bestZ = -Infinity;
    for (let k = 0; k < K; k++) {
      const wo = k * d;
      let s = b[k]!;
      for (let j = 0; j < d; j++) s += x[xo + j]! * W[wo + j]!;
      if (s > bestZ) { bestZ = s; best = k; }
    }
    out[i] = best;
  }
  return out;
}
