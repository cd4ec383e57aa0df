/**
 * Z = X W^T for float32 rows on the logistic-regression forward kernel (wasm-kernel.ts, SIMD, one thread): the
 * dense products the training-free heads need (class-mean scores, Tip-Adapter affinities, zero-shot logits on
 * validation rows). X [n, d] and W [K, d] float32 row-major; Z [n, K] float64 (sums in float32 lanes per SIMD
 * chunk, as the probe engine's float32 path).
 */
import { compileKernel, instantiateKernel, paddedDim, sharedMemory } from './wasm-kernel.js';

const PAGE = 65536;
/** Rows of X per kernel call: bounds the memory for X and Z next to W. */
const BLOCK_ROWS = 256;

/** A reusable product with a fixed right-hand side W [K, d]. */
export interface Product {
  /** Z [n, K] for X [n, d] (into `out` when given). */
  apply(x: Float32Array, n: number, out?: Float64Array): Float64Array;
  /** Replaces W (same shape), e.g. between an optimizer's evaluations. */
  update(w: ArrayLike<number>): void;
}

export function productWith(w: Float32Array, K: number, d: number): Product {
  if (w.length !== K * d) throw new RangeError(`W has ${w.length} values, expected ${K} x ${d}`);
  const dp = paddedDim(d, 'f32');
  const wBytes = K * dp * 4, xBytes = BLOCK_ROWS * dp * 4, zBytes = BLOCK_ROWS * K * 8;
  const pages = Math.ceil((wBytes + xBytes + zBytes + 64) / PAGE);
  const memory = sharedMemory(pages);
  const kernel = instantiateKernel(compileKernel({ elem: 'f32', dp, K }, pages), memory);
  const wAt = 0, xAt = wBytes, zAt = wBytes + xBytes; // all multiples of 32 bytes (dp is a multiple of 8)
  const W = new Float32Array(memory.buffer, wAt, K * dp);
  const update = (v: ArrayLike<number>): void => {
    if (v.length !== K * d) throw new RangeError(`W has ${v.length} values, expected ${K} x ${d}`);
    for (let k = 0; k < K; k++) for (let j = 0; j < d; j++) W[k * dp + j] = v[k * d + j]!;
  };
  update(w);
  const X = new Float32Array(memory.buffer, xAt, BLOCK_ROWS * dp);
  const Z = new Float64Array(memory.buffer, zAt, BLOCK_ROWS * K);
  return {
    update,
    apply(x, n, out = new Float64Array(n * K)) {
      if (x.length < n * d) throw new RangeError(`X has ${x.length} values, expected ${n} x ${d}`);
      for (let start = 0; start < n; start += BLOCK_ROWS) {
        const rows = Math.min(BLOCK_ROWS, n - start);
        for (let r = 0; r < rows; r++) X.set(x.subarray((start + r) * d, (start + r + 1) * d), r * dp);
        kernel.forward(xAt, rows, wAt, zAt);
        out.set(Z.subarray(0, rows * K), start * K);
      }
      return out;
    },
  };
}

/** Z = X W^T, X [n, d], W [K, d] -> [n, K]. */
export function matmulT32(x: Float32Array, n: number, w: Float32Array, K: number, d: number): Float64Array {
  return productWith(w, K, d).apply(x, n);
}
