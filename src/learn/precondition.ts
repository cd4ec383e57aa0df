/**
 * A linear change of variables for the optimizer, theta -> (W, b), that leaves the optimum unchanged (the
 * objective is only re-expressed, the penalty still applies to W) but makes the problem far better
 * conditioned for L-BFGS. Per class k (W[k] a column d-vector, c the mean of the features the model sees):
 *
 *   center:  W[k] = theta_W[k],        b[k] = theta_b[k] - W[k] . c
 *   whiten:  W[k] = P theta_W[k],      b[k] = theta_b[k] - W[k] . c,     P = M^(-1/2),  M = U^T S U + lambda I
 *
 * Centering decouples the intercept from the weights. Whitening also evens out the curvature along the
 * leading principal directions of the features: the rows of U [r, d] and S = diag(s) are the top r = min(d, RANK)
 * eigenpairs of their covariance (leadingSpectrum), so, U's rows being orthonormal,
 *
 *   P = lambda^(-1/2) (I + U^T diag(a) U),  a_i = sqrt(lambda / (lambda + s_i)) - 1,   and M^(1/2) likewise.
 *
 * lambda = SHRINK * mean feature variance + 4/(Cn): only directions whose variance stands well above the
 * average are flattened, and the penalty's own curvature (1/(Cn) against a loss curvature of at most 1/4 per
 * unit variance) is accounted for. Measured on Fashion-MNIST pixels (784 features, C = 1), iterations to the
 * gradient test on 1,000 rows: centering 232; full-rank whitening with lambda = 1, 10, 30 x the mean variance
 * 176, 142, 116; the plain regularized covariance X^T X / n + I/(Cn) (every direction whitened) 468, because
 * the loss curvature is the covariance weighted by p(1 - p), not the covariance; this low-rank form with
 * SHRINK = 20, r = 16: 121. With lambda that large only a dozen directions matter, so the low-rank form loses
 * nothing (on 60,000 rows it needs as many iterations as full-rank whitening with lambda = mean variance)
 * and costs O(r d K) per evaluation instead of O(d^2 K), and O(r d) per sampled row once instead of
 * O(d^2) per row plus an O(d^3) factorization for every C of a sweep.
 */
import { compileKernel, instantiateKernel, paddedDim, sharedMemory } from './wasm-kernel.js';
import { VecSpace } from './wasm-vec.js';

export type PreconditionerKind = 'center' | 'whiten';

/** Leading principal directions kept. */
const RANK = 16;
/** lambda in units of the mean feature variance. */
const SHRINK = 20;
/** Products with the covariance in the subspace iteration (Rayleigh-Ritz uses the last one). */
const POWER_STEPS = 3;
/** Rows (evenly spaced) the leading directions are estimated on. */
const SPECTRUM_ROWS = 1024;

export interface Preconditioner {
  readonly kind: PreconditionerKind;
  /** theta [K*d + K] -> W [K, d], b [K] */
  toModel(theta: Float64Array, W: Float64Array, b: Float64Array): void;
  /** gradient in (W, b) -> gradient in theta */
  gradToTheta(gW: Float64Array, gb: Float64Array, gTheta: Float64Array): void;
  /** (W, b) -> theta (warm starts) */
  fromModel(W: Float64Array, b: Float64Array, theta: Float64Array): void;
  /** gradient in theta -> gradient in (W, b) (the convergence test measures the latter) */
  gradFromTheta(gTheta: Float64Array, gW: Float64Array, gb: Float64Array): void;
}

/** Features as the model sees them: u = (x - shift) / scale (shift 0 and scale 1 when not standardized). */
export interface FeatureView {
  x: Float32Array; n: number; d: number; K: number;
  /** mean of u, [d] */
  center: Float64Array;
  /** x mean and the scale of u, [d] each */
  xMean: Float64Array; scale: Float64Array;
}

/** Leading eigenpairs of the covariance of u (independent of C, so one dataset's fits share them). */
export interface Spectrum {
  /** [r, d], orthonormal rows */
  U: Float64Array;
  /** [r], eigenvalues, descending */
  s: Float64Array;
  /** mean variance of u (trace / d) */
  meanVariance: number;
}

/**
 * Orthonormalizes vectors (of one VecSpace) in place: modified Gram-Schmidt, twice. A vector in the span of
 * the earlier ones becomes a unit vector completing the basis.
 */
function orthonormalize(vs: VecSpace, Q: Float64Array[]): void {
  let spare = 0;
  for (let i = 0; i < Q.length; i++) {
    const qi = Q[i]!;
    for (let attempt = 0; ; attempt++) {
      const before = vs.dot(qi, qi);
      for (let pass = 0; pass < 2; pass++) for (let k = 0; k < i; k++) vs.axpy(-vs.dot(qi, Q[k]!), Q[k]!, qi);
      const norm = vs.dot(qi, qi);
      if (norm > 1e-20 * before && norm > 0) {
        vs.axpy(1 / Math.sqrt(norm) - 1, qi, qi);
        break;
      }
      if (attempt >= vs.n) throw new RangeError('cannot complete an orthonormal basis'); // unreachable for Q.length <= n
      qi.fill(0);
      qi[spare++ % vs.n] = 1;
    }
  }
}

/** Eigen-decomposition of a symmetric [r, r] A (destroyed) by cyclic Jacobi: eigenvalues, and V [r, r] with eigenvectors as rows. */
function symmetricEigen(A: Float64Array, r: number): { values: Float64Array; V: Float64Array } {
  const V = new Float64Array(r * r);
  for (let i = 0; i < r; i++) V[i * r + i] = 1;
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0, total = 0;
    for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) { const a = A[i * r + j]! ** 2; total += a; if (i !== j) off += a; }
    if (off <= 1e-30 * total) break;
    for (let p = 0; p < r - 1; p++) {
      for (let q = p + 1; q < r; q++) {
        const apq = A[p * r + q]!;
        if (apq === 0) continue;
        const theta = (A[q * r + q]! - A[p * r + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < r; k++) { // A <- A J (columns p, q), then J^T A (rows p, q)
          const akp = A[k * r + p]!, akq = A[k * r + q]!;
          A[k * r + p] = c * akp - s * akq; A[k * r + q] = s * akp + c * akq;
        }
        for (let k = 0; k < r; k++) {
          const apk = A[p * r + k]!, aqk = A[q * r + k]!;
          A[p * r + k] = c * apk - s * aqk; A[q * r + k] = s * apk + c * aqk;
          const vpk = V[p * r + k]!, vqk = V[q * r + k]!;
          V[p * r + k] = c * vpk - s * vqk; V[q * r + k] = s * vpk + c * vqk;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: r }, (_, i) => A[i * r + i]!), V };
}

/**
 * The top min(d, RANK) eigenpairs of the covariance of u over min(n, SPECTRUM_ROWS) evenly spaced rows: block
 * subspace iteration Q <- orth(Cov Q) from sample rows, the products Cov Q = X^T (X Q) / rows on the
 * float32 SIMD kernel (forward: X Q, backward: X^T of that, 64 rows per call as in the engine), then
 * Rayleigh-Ritz in float64 (vector work as wasm SIMD: this runs once, cold, where plain loops would be slow).
 * The directions need not be exact (any orthonormal U keeps the optimum): on Fashion-MNIST, 2 to 4 products
 * give the same iteration counts within a few percent.
 */
export function leadingSpectrum(v: FeatureView): Spectrum {
  const { x, n, d } = v;
  const rows = Math.min(n, SPECTRUM_ROWS);
  const r = Math.min(d, RANK);
  const dp = paddedDim(d, 'f32');
  const xBytes = rows * dp * 4, qBytes = r * dp * 4, zBytes = rows * r * 8, rBytes = rows * r * 4, gBytes = r * dp * 8;
  const [qAt, zAt, rAt, gAt] = [xBytes, xBytes + qBytes, xBytes + qBytes + zBytes, xBytes + qBytes + zBytes + rBytes];
  const mem = sharedMemory(Math.ceil((gAt + gBytes) / 65536));
  const X = new Float32Array(mem.buffer, 0, rows * dp);   // [rows, dp] u - mean(u)
  const Qf = new Float32Array(mem.buffer, qAt, r * dp);   // [r, dp]
  const Z = new Float64Array(mem.buffer, zAt, rows * r);  // [rows, r] = X Q^T
  const R = new Float32Array(mem.buffer, rAt, rows * r);
  const G = new Float64Array(mem.buffer, gAt, r * dp);    // [r, dp] = (X^T Z)^T
  const inv = v.scale.map((s) => 1 / s);
  let trace = 0;
  for (let t = 0; t < rows; t++) {
    const i = Math.floor((t * n) / rows), o = i * d;
    for (let j = 0; j < d; j++) {
      const u = (x[o + j]! - v.xMean[j]!) * inv[j]!;
      X[t * dp + j] = u;
      trace += u * u;
    }
  }
  const kernel = instantiateKernel(compileKernel({ elem: 'f32', dp, K: r }, mem.buffer.byteLength / 65536), mem);
  // float64 linear algebra on [d] vectors as wasm SIMD: Q (the basis), Y = Cov Q, U (the result), r of each
  const vs = new VecSpace(d, 3 * r);
  const Q = vs.vectors.slice(0, r), Y = vs.vectors.slice(r, 2 * r), U = vs.vectors.slice(2 * r);
  for (let i = 0; i < r; i++) { // start: r evenly spaced sample rows (they span part of the data's range)
    const t = Math.floor((i * rows) / r), q = Q[i]!;
    for (let j = 0; j < d; j++) q[j] = X[t * dp + j]!;
  }
  orthonormalize(vs, Q);
  for (let step = 0; step < POWER_STEPS; step++) {
    for (let i = 0; i < r; i++) Qf.set(Q[i]!, i * dp);
    for (let i0 = 0; i0 < rows; i0 += 64) kernel.forward(i0 * dp * 4, Math.min(64, rows - i0), qAt, zAt + i0 * r * 8);
    R.set(Z);
    G.fill(0);
    for (let i0 = 0; i0 < rows; i0 += 64) kernel.backward(i0 * dp * 4, Math.min(64, rows - i0), rAt + i0 * r * 4, gAt);
    for (let i = 0; i < r; i++) { const y = Y[i]!; for (let j = 0; j < d; j++) y[j] = G[i * dp + j]! / rows; }
    if (step === POWER_STEPS - 1) break;
    for (let i = 0; i < r; i++) Q[i]!.set(Y[i]!);
    orthonormalize(vs, Q);
  }
  // Rayleigh-Ritz: B = Q Cov Q^T (symmetrized), B = V^T diag(s) V, U = V Q
  const B = new Float64Array(r * r);
  for (let a = 0; a < r; a++) for (let c = 0; c <= a; c++) {
    const m = (vs.dot(Q[a]!, Y[c]!) + vs.dot(Q[c]!, Y[a]!)) / 2;
    B[a * r + c] = m; B[c * r + a] = m;
  }
  const { values, V } = symmetricEigen(B, r);
  const order = Array.from({ length: r }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const s = Float64Array.from(order, (e) => Math.max(0, values[e]!));
  order.forEach((e, i) => { for (let c = 0; c < r; c++) vs.axpy(V[e * r + c]!, Q[c]!, U[i]!); });
  orthonormalize(vs, U); // exact to rounding, so that P and M^(1/2) are inverses
  const Uflat = new Float64Array(r * d);
  U.forEach((u, i) => Uflat.set(u, i * d));
  return { U: Uflat, s, meanVariance: trace / (rows * d) };
}

function dotC(W: Float64Array, o: number, c: Float64Array, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += W[o + j]! * c[j]!;
  return s;
}

class Centering implements Preconditioner {
  readonly kind: PreconditionerKind = 'center';
  constructor(protected readonly d: number, protected readonly K: number, protected readonly c: Float64Array) {}
  protected mapW(src: Float64Array, dst: Float64Array): void { dst.set(src.subarray(0, this.K * this.d)); }   // P
  protected mapG(src: Float64Array, dst: Float64Array): void { this.mapW(src, dst); }                        // P^T = P
  protected unmapW(src: Float64Array, dst: Float64Array): void { dst.set(src.subarray(0, this.K * this.d)); } // P^-1
  protected unmapG(src: Float64Array, dst: Float64Array): void { this.unmapW(src, dst); }                    // P^-T = P^-1

  toModel(theta: Float64Array, W: Float64Array, b: Float64Array): void {
    const { d, K } = this;
    this.mapW(theta, W);
    for (let k = 0; k < K; k++) b[k] = theta[K * d + k]! - dotC(W, k * d, this.c, d);
  }
  gradToTheta(gW: Float64Array, gb: Float64Array, gTheta: Float64Array): void {
    const { d, K, c } = this;
    const shifted = gTheta.subarray(0, K * d);
    for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) shifted[k * d + j] = gW[k * d + j]! - gb[k]! * c[j]!;
    this.mapG(shifted, shifted);
    gTheta.set(gb, K * d);
  }
  fromModel(W: Float64Array, b: Float64Array, theta: Float64Array): void {
    const { d, K } = this;
    this.unmapW(W, theta);
    for (let k = 0; k < K; k++) theta[K * d + k] = b[k]! + dotC(W, k * d, this.c, d);
  }
  gradFromTheta(gTheta: Float64Array, gW: Float64Array, gb: Float64Array): void {
    const { d, K, c } = this;
    this.unmapG(gTheta, gW);
    for (let k = 0; k < K; k++) {
      const gbk = gTheta[K * d + k]!;
      gb[k] = gbk;
      for (let j = 0; j < d; j++) gW[k * d + j]! += gbk * c[j]!;
    }
  }
}

class Whitening extends Centering {
  override readonly kind: PreconditionerKind = 'whiten';
  /** U's rows, then one work row, in a wasm memory with SIMD dot and axpy */
  private readonly vs: VecSpace;
  private readonly a: Float64Array;
  private readonly aInv: Float64Array;
  private readonly scale: number;
  /** P = lambda^(-1/2) (I + U^T diag(a) U), M^(1/2) = lambda^(1/2) (I + U^T diag(aInv) U) */
  constructor(d: number, K: number, c: Float64Array, sp: Spectrum, lambda: number) {
    super(d, K, c);
    const r = sp.s.length;
    this.vs = new VecSpace(d, r + 1);
    for (let i = 0; i < r; i++) this.vs.vectors[i]!.set(sp.U.subarray(i * d, (i + 1) * d));
    this.a = sp.s.map((s) => Math.sqrt(lambda / (lambda + s)) - 1);
    this.aInv = sp.s.map((s) => Math.sqrt((lambda + s) / lambda) - 1);
    this.scale = 1 / Math.sqrt(lambda);
  }
  /** dst[k] = alpha (src[k] + U^T diag(a) U src[k]) for each class k; src and dst may be the same array. */
  private apply(a: Float64Array, alpha: number, src: Float64Array, dst: Float64Array): void {
    const { d, K, vs } = this, r = a.length;
    const U = vs.vectors, work = U[r]!;
    for (let k = 0; k < K; k++) {
      const o = k * d;
      work.set(src.subarray(o, o + d));
      for (let i = 0; i < r; i++) vs.axpy(alpha * a[i]! * vs.dot(U[i]!, work), U[i]!, work);
      for (let j = 0; j < d; j++) dst[o + j] = alpha * src[o + j]! + work[j]! - src[o + j]!;
    }
  }
  protected override mapW(src: Float64Array, dst: Float64Array): void { this.apply(this.a, this.scale, src, dst); }
  protected override unmapW(src: Float64Array, dst: Float64Array): void { this.apply(this.aInv, 1 / this.scale, src, dst); }
}

/**
 * 'whiten' (its setup, O(r d) per sampled row and step, and its O(r d K) per evaluation are small next to a
 * pass over the data), 'center' for a single feature.
 */
export function defaultPreconditioner(_n: number, d: number): PreconditionerKind {
  return d > 1 ? 'whiten' : 'center';
}

export function makePreconditioner(kind: PreconditionerKind, v: FeatureView, C: number, cache?: { spectrum?: Spectrum }): Preconditioner {
  const { d, K, n } = v;
  if (kind === 'center') return new Centering(d, K, v.center);
  const sp = cache?.spectrum ?? leadingSpectrum(v);
  if (cache) cache.spectrum = sp;
  const lambda = SHRINK * sp.meanVariance + 4 / (C * n);
  return new Whitening(d, K, v.center, sp, lambda);
}
