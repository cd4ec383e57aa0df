/**
 * Feature moments and the optional standardization a probe stores with its weights.
 *
 * A standardized model sees u = (x - mean) / scale, with scale the population standard deviation
 * (ddof 0, as scikit-learn's StandardScaler) and 1 for a constant feature, so such a feature reads as 0.
 * Standardization changes the problem (the penalty applies to the weights of u), not just its speed.
 * Fitting and prediction never materialize u: the weights are folded onto the raw features,
 *
 *   W_raw[k, j] = W[k, j] / scale[j],   b_raw[k] = b[k] - sum_j W_raw[k, j] * mean[j]
 *
 * and gradients flow back through the same map (see fit.ts).
 */

export interface Standardization {
  /** [d] */
  mean: Float64Array;
  /** [d], > 0 */
  scale: Float64Array;
}

export interface Moments {
  /** [d] */
  mean: Float64Array;
  /** [d] population variance */
  variance: Float64Array;
}

/** Mean and population variance of each column of x [n, d], in float64 (two passes, no cancellation). */
export function featureMoments(x: Float32Array, n: number, d: number): Moments {
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j]! += x[o + j]!;
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) { const c = x[o + j]! - mean[j]!; variance[j]! += c * c; }
  }
  for (let j = 0; j < d; j++) variance[j] = variance[j]! / n;
  return { mean, variance };
}

/** The standardization of data with these moments (scale 1 where a feature does not vary). */
export function standardization(m: Moments): Standardization {
  const scale = new Float64Array(m.mean.length);
  for (let j = 0; j < scale.length; j++) {
    const sd = Math.sqrt(m.variance[j]!);
    scale[j] = sd > 1e-12 * Math.max(1, Math.abs(m.mean[j]!)) ? sd : 1;
  }
  return { mean: Float64Array.from(m.mean), scale };
}

/** Weights for raw features from weights for standardized ones (W [K, d], b [K]); a missing standardization copies. */
export function foldStandardization(W: Float64Array, b: Float64Array, K: number, d: number, st?: Standardization): { W: Float64Array; b: Float64Array } {
  const Wr = Float64Array.from(W);
  const br = Float64Array.from(b);
  if (!st) return { W: Wr, b: br };
  for (let k = 0; k < K; k++) {
    let shift = 0;
    for (let j = 0; j < d; j++) {
      const w = W[k * d + j]! / st.scale[j]!;
      Wr[k * d + j] = w;
      shift += w * st.mean[j]!;
    }
    br[k] = b[k]! - shift;
  }
  return { W: Wr, b: br };
}
