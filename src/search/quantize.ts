/**
 * The compressed copy the search scans, and the error bound that makes its answers exact.
 *
 * Rows:   x = s * x8 + r      x8 int8 [dp] (|x8| <= 127, s = max|x| / 127), r the rounding residual
 * Query:  q = t * q16 + u     q16 int16 [dp] (|q16| <= qmax, see kernel.ts queryLimit), u its residual
 * Then    q . x = s t (q16 . x8) + t q16 . r + u . x, so with Cauchy-Schwarz
 *         |q . x - s t (q16 . x8)| <= |t q16| |r| + |u| |x| =: B
 * Per row we keep s, e >= |r| and n >= |x| (float32, rounded up), so the bound costs two multiply-adds per row.
 * The integer dot product q16 . x8 is exact (kernel.ts), so the true score of every row lies in [a - B, a + B]
 * around its approximation a = s t (q16 . x8); search.ts uses that interval to rescore only the rows that can
 * still enter the top k (or pass a threshold) with their float32 vectors.
 */

/** Per-row numbers stored next to the int8 rows: scale s, residual bound e, norm bound n. */
export const META = 3;

/** Rounds a non-negative float64 up to a float32 that is >= it. */
function up32(v: number): number {
  const f = Math.fround(v);
  return f >= v ? f : Math.fround(v + Math.abs(v) * 2 ** -23 + 1e-30);
}

/**
 * Quantizes rows `[n, d]` of `src` into `i8 [n, dp]` (zero padded) and `meta [n, META]`, starting at output row `at`.
 */
export function quantizeRows(src: Float32Array, d: number, dp: number, i8: Int8Array, meta: Float32Array, at = 0): void {
  const n = src.length / d;
  for (let i = 0; i < n; i++) {
    const off = i * d;
    let max = 0;
    for (let j = 0; j < d; j++) { const a = Math.abs(src[off + j]!); if (a > max) max = a; }
    const s = Math.fround(max / 127);
    const o = (at + i) * dp;
    let rr = 0;
    let xx = 0;
    for (let j = 0; j < d; j++) {
      const x = src[off + j]!;
      const q = s > 0 ? Math.max(-127, Math.min(127, Math.round(x / s))) : 0;
      i8[o + j] = q;
      const r = x - s * q;
      rr += r * r;
      xx += x * x;
    }
    for (let j = d; j < dp; j++) i8[o + j] = 0;
    const m = (at + i) * META;
    meta[m] = s;
    meta[m + 1] = up32(Math.sqrt(rr) * (1 + 1e-12));
    meta[m + 2] = up32(Math.sqrt(xx) * (1 + 1e-12));
  }
}

export interface QuantizedQuery {
  /** [dp] int16 lanes. */
  q16: Int16Array;
  /** Scale t. */
  t: number;
  /** |t q16| */
  qhatNorm: number;
  /** |u|, the residual's norm. */
  residualNorm: number;
}

/** Quantizes a query vector `[d]` to int16 with magnitudes at most `qmax`. */
export function quantizeQuery(q: Float32Array, dp: number, qmax: number): QuantizedQuery {
  let max = 0;
  for (const v of q) { const a = Math.abs(v); if (a > max) max = a; }
  const t = max > 0 ? max / qmax : 0;
  const q16 = new Int16Array(dp);
  let hh = 0;
  let uu = 0;
  for (let j = 0; j < q.length; j++) {
    const k = t > 0 ? Math.max(-qmax, Math.min(qmax, Math.round(q[j]! / t))) : 0;
    q16[j] = k;
    const h = t * k;
    hh += h * h;
    uu += (q[j]! - h) * (q[j]! - h);
  }
  return { q16, t, qhatNorm: Math.sqrt(hh) * (1 + 1e-12), residualNorm: Math.sqrt(uu) * (1 + 1e-12) };
}

/** Absolute slack added to every bound, for the float64 rounding of the scores themselves (|q|, |x| ~ 1). */
export const SLACK = 1e-9;

/** Exact score of a query against one float32 row, in float64. */
export function dot64(q: Float32Array, x: Float32Array): number {
  let s = 0;
  for (let j = 0; j < q.length; j++) s += q[j]! * x[j]!;
  return s;
}
