/**
 * A linear change of variables for the optimizer, theta -> (W, b), that leaves the optimum unchanged (the
 * objective is only re-expressed, the penalty still applies to W) but makes the problem far better
 * conditioned for L-BFGS. Per class k (W[k] a column d-vector, c the mean of the features the model sees):
 *
 *   center:  W[k] = theta_W[k],            b[k] = theta_b[k] - W[k] . c
 *   whiten:  W[k] = L^-T theta_W[k],       b[k] = theta_b[k] - W[k] . c,   L L^T = Cov + lambda I
 *
 * Centering decouples the intercept from the weights; whitening (a Cholesky factor of a shrunk covariance,
 * estimated on evenly spaced rows) equalizes the curvature across feature directions. lambda = mean feature
 * variance + 4/(Cn) keeps L well conditioned and accounts for the penalty's own curvature (1/(Cn) against
 * a loss curvature of about 1/4 per unit variance), so a constant or collinear feature needs no special case.
 * Whitening costs O(d^3) once and O(d^2 K) per evaluation, so it pays only when n is large next to d.
 */
import { compileKernel, instantiateKernel, paddedDim, sharedMemory } from './wasm-kernel.js';

export type PreconditionerKind = 'center' | 'whiten';

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

/** Covariance of u over `rows` evenly spaced rows, via the SIMD backward kernel (X^T X with R = X). */
function covariance(v: FeatureView, rows: number): Float64Array {
  const { x, n, d } = v;
  const dp = paddedDim(d, 'f32');
  const xBytes = rows * dp * 4;
  const pages = Math.ceil((xBytes + dp * dp * 8) / 65536);
  const mem = sharedMemory(pages);
  const X = new Float32Array(mem.buffer, 0, rows * dp);
  for (let t = 0; t < rows; t++) {
    const i = Math.floor((t * n) / rows), o = i * d;
    for (let j = 0; j < d; j++) X[t * dp + j] = (x[o + j]! - v.xMean[j]!) / v.scale[j]!;
  }
  const kernel = instantiateKernel(compileKernel({ elem: 'f32', dp, K: dp }, pages), mem);
  kernel.backward(0, rows, 0, xBytes);
  const G = new Float64Array(mem.buffer, xBytes, dp * dp);
  const cov = new Float64Array(d * d);
  for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) cov[a * d + c] = G[a * dp + c]! / rows;
  return cov;
}

/** In-place Cholesky of a symmetric positive definite [d, d] (lower triangle kept, upper zeroed). */
function cholesky(A: Float64Array, d: number): void {
  for (let j = 0; j < d; j++) {
    const rj = j * d;
    let s = A[rj + j]!;
    for (let k = 0; k < j; k++) s -= A[rj + k]! * A[rj + k]!;
    const ljj = Math.sqrt(s);
    A[rj + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let t = A[ri + j]!;
      for (let k = 0; k < j; k++) t -= A[ri + k]! * A[rj + k]!;
      A[ri + j] = t / ljj;
    }
    for (let i = 0; i < j; i++) A[i * d + j] = 0;
  }
}

function dotC(W: Float64Array, o: number, c: Float64Array, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += W[o + j]! * c[j]!;
  return s;
}

class Centering implements Preconditioner {
  readonly kind: PreconditionerKind = 'center';
  constructor(protected readonly d: number, protected readonly K: number, protected readonly c: Float64Array) {}
  protected mapW(src: Float64Array, dst: Float64Array): void { dst.set(src.subarray(0, this.K * this.d)); }   // L^-T
  protected mapG(src: Float64Array, dst: Float64Array): void { dst.set(src.subarray(0, this.K * this.d)); }   // L^-1
  protected unmapW(src: Float64Array, dst: Float64Array): void { dst.set(src.subarray(0, this.K * this.d)); } // L^T
  protected unmapG(src: Float64Array, dst: Float64Array): void { dst.set(src.subarray(0, this.K * this.d)); } // L

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
  private readonly tmp: Float64Array;
  constructor(d: number, K: number, c: Float64Array, private readonly L: Float64Array) {
    super(d, K, c);
    this.tmp = new Float64Array(d);
  }
  // Each op works class by class on a copy, so src and dst may be the same array. Row access of L only.
  protected override mapW(src: Float64Array, dst: Float64Array): void { // back substitution L^T w = t
    const { d, K, L, tmp } = this;
    for (let k = 0; k < K; k++) {
      tmp.set(src.subarray(k * d, (k + 1) * d));
      for (let i = d - 1; i >= 0; i--) {
        const ri = i * d;
        const wi = tmp[i]! / L[ri + i]!;
        tmp[i] = wi;
        for (let j = 0; j < i; j++) tmp[j]! -= L[ri + j]! * wi;
      }
      dst.set(tmp, k * d);
    }
  }
  protected override mapG(src: Float64Array, dst: Float64Array): void { // forward substitution L y = g
    const { d, K, L, tmp } = this;
    for (let k = 0; k < K; k++) {
      const o = k * d;
      for (let i = 0; i < d; i++) {
        const ri = i * d;
        let s = src[o + i]!;
        for (let j = 0; j < i; j++) s -= L[ri + j]! * tmp[j]!;
        tmp[i] = s / L[ri + i]!;
      }
      dst.set(tmp, o);
    }
  }
  protected override unmapW(src: Float64Array, dst: Float64Array): void { // L^T w
    const { d, K, L, tmp } = this;
    for (let k = 0; k < K; k++) {
      const o = k * d;
      tmp.fill(0);
      for (let i = 0; i < d; i++) {
        const ri = i * d, wi = src[o + i]!;
        for (let j = 0; j <= i; j++) tmp[j]! += L[ri + j]! * wi;
      }
      dst.set(tmp, o);
    }
  }
  protected override unmapG(src: Float64Array, dst: Float64Array): void { // L y
    const { d, K, L, tmp } = this;
    for (let k = 0; k < K; k++) {
      const o = k * d;
      for (let i = 0; i < d; i++) {
        const ri = i * d;
        let s = 0;
        for (let j = 0; j <= i; j++) s += L[ri + j]! * src[o + j]!;
        tmp[i] = s;
      }
      dst.set(tmp, o);
    }
  }
}

/** Rows used to estimate the covariance for whitening. */
export function covarianceRows(n: number, d: number): number {
  return Math.min(n, Math.max(1024, 4 * d));
}

/** 'whiten' when a pass over the data outweighs the O(d^2 K) per-evaluation cost of whitening, else 'center'. */
export function defaultPreconditioner(n: number, d: number): PreconditionerKind {
  return d > 1 && n >= 8 * d ? 'whiten' : 'center';
}

export function makePreconditioner(kind: PreconditionerKind, v: FeatureView, C: number, covCache?: { cov?: Float64Array }): Preconditioner {
  const { d, K, n } = v;
  if (kind === 'center') return new Centering(d, K, v.center);
  const cov = covCache?.cov ?? covariance(v, covarianceRows(n, d));
  if (covCache) covCache.cov = cov;
  let trace = 0;
  for (let j = 0; j < d; j++) trace += cov[j * d + j]!;
  const lambda = trace / d + 4 / (C * n);
  const L = Float64Array.from(cov);
  for (let j = 0; j < d; j++) L[j * d + j]! += lambda;
  cholesky(L, d);
  return new Whitening(d, K, v.center, L);
}
