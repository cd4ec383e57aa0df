/**
 * Z = X W' for large float32 problems on onnxruntime's CPU Gemm (MLAS: multi-threaded, AVX2/FMA), next to the
 * one-thread WASM SIMD kernel of matmul.ts. A one-node graph with symbolic dims (onnx/build.ts) is opened lazily on
 * the first large product and closed with `close()`; small products stay on the WASM kernel, where the session's
 * per-run overhead and the copies would dominate (ORT_MIN_FLOPS). Results agree with matmul.ts to float32 rounding
 * (both sum float32 products in float32, in different orders).
 */
import { gemmTransBModel } from '../onnx/build.js';
import { createMemorySession, type Session } from '../runtime/session.js';
import { productWith } from './matmul.js';

/**
 * Products of at least this many multiply-adds (n K d) go to onnxruntime. scripts/bench-matmul.ts on the shared
 * VM (2026-12-06, docs/benchmarks.md "Dense products"): ORT is 7-18x faster on the head sizes and still ~50x at
 * 64 x 512 . 512 x 64 (2M; the WASM figure includes its per-product kernel compile); below ~1M the 0.1-0.2 ms of
 * session run and tensor wrapping is the same order as the whole WASM product, so the WASM kernel keeps those.
 */
export const ORT_MIN_FLOPS = 2 ** 20;

export interface DenseProducts {
  /** Z [n, K] = X [n, d] W [K, d]' in float32; onnxruntime at or above ORT_MIN_FLOPS (or always, with force). */
  matmulT(x: Float32Array, n: number, w: Float32Array, K: number, d: number, force?: 'ort' | 'wasm'): Promise<Float32Array>;
  /** Releases the onnxruntime session (if one was opened). */
  close(): Promise<void>;
}

/** Dense products for one task (a head fit); `threads` for onnxruntime (default: all cores). */
export function denseProducts(options: { threads?: number } = {}): DenseProducts {
  let session: Promise<Session> | undefined;
  const ort = async (x: Float32Array, n: number, w: Float32Array, K: number, d: number): Promise<Float32Array> => {
    session ??= createMemorySession(gemmTransBModel(), 'zs gemm (X W\')', { threads: options.threads, spinning: false });
    const s = await session;
    const T = s.ort.Tensor;
    const out = await s.run({ A: new T('float32', x.subarray(0, n * d), [n, d]), B: new T('float32', w.subarray(0, K * d), [K, d]) });
    return out.Y!.data as Float32Array; // [n, K]
  };
  return {
    async matmulT(x, n, w, K, d, force) {
      if (x.length < n * d) throw new RangeError(`X has ${x.length} values, expected ${n} x ${d}`);
      if (w.length < K * d) throw new RangeError(`W has ${w.length} values, expected ${K} x ${d}`);
      if (n === 0 || K === 0) return new Float32Array(n * K);
      const useOrt = force ? force === 'ort' : n * K * d >= ORT_MIN_FLOPS;
      if (useOrt) return ort(x, n, w, K, d);
      return Float32Array.from(productWith(w.subarray(0, K * d), K, d).apply(x, n));
    },
    async close() {
      const s = session;
      session = undefined;
      if (s) await (await s).release();
    },
  };
}
