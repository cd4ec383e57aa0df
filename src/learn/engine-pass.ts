/**
 * The memory layout of the loss engine and one thread's share of a loss+gradient pass, used by the main
 * thread (engine.ts) and by each worker (engine-worker.ts) on the same shared WebAssembly memory.
 *
 * Layout (byte offsets, each region 16-byte aligned):
 *   X       [n, dp]  elem   features, rows zero-padded to dp
 *   labels  [n]      i32
 *   W       [K, dp]  elem   weights of the current pass (written by the main thread)
 *   b       [K]      f64    intercepts of the current pass
 *   per thread t:
 *     Z     [B, K]   f64    logits of one block of rows
 *     R     [B, K]   elem   residuals p - onehot(y) of that block
 *     G     [K, dp]  f64    this thread's gradient of the summed log-loss
 *     out   [1 + K]  f64    this thread's summed log-loss, then its intercept gradient
 */
import { softmaxRows } from './logreg.js';
import { elemBytes, type ElemType, type KernelExports } from './wasm-kernel.js';

export interface Layout {
  elem: ElemType;
  n: number; d: number; dp: number; K: number;
  /** Rows per block (the unit of work between forward and backward). */
  B: number;
  threads: number;
  x: number; labels: number; w: number; b: number;
  /** Start of thread 0's region and the size of one region. */
  thread0: number; threadBytes: number;
  /** Offsets inside a thread region. */
  z: number; r: number; g: number; out: number;
  bytes: number;
}

const align = (v: number): number => Math.ceil(v / 16) * 16;

export function makeLayout(elem: ElemType, n: number, d: number, dp: number, K: number, B: number, threads: number): Layout {
  const eb = elemBytes(elem);
  const x = 0;
  const labels = align(x + n * dp * eb);
  const w = align(labels + n * 4);
  const b = align(w + K * dp * eb);
  const thread0 = align(b + K * 8);
  const z = 0;
  const r = align(z + B * K * 8);
  const g = align(r + B * K * eb);
  const out = align(g + K * dp * 8);
  const threadBytes = align(out + (1 + K) * 8);
  return { elem, n, d, dp, K, B, threads, x, labels, w, b, thread0, threadBytes, z, r, g, out,
    bytes: thread0 + threads * threadBytes };
}

/** Typed-array views of one thread's region (made once per thread, reused every pass). */
export interface ThreadViews {
  z: Float64Array; r: Float32Array | Float64Array; g: Float64Array; out: Float64Array; gb: Float64Array;
  labels: Int32Array; b: Float64Array;
  base: number;
}

export function threadViews(buf: ArrayBufferLike, L: Layout, t: number): ThreadViews {
  const base = L.thread0 + t * L.threadBytes;
  const out = new Float64Array(buf, base + L.out, 1 + L.K);
  return {
    z: new Float64Array(buf, base + L.z, L.B * L.K),
    r: L.elem === 'f32' ? new Float32Array(buf, base + L.r, L.B * L.K) : new Float64Array(buf, base + L.r, L.B * L.K),
    g: new Float64Array(buf, base + L.g, L.K * L.dp),
    out,
    gb: out.subarray(1),
    labels: new Int32Array(buf, L.labels, L.n),
    b: new Float64Array(buf, L.b, L.K),
    base,
  };
}

/** Rows [start, end) of thread t: contiguous, near-equal shares. */
export function threadRows(L: Layout, t: number): [number, number] {
  const per = Math.ceil(L.n / L.threads);
  return [Math.min(L.n, t * per), Math.min(L.n, (t + 1) * per)];
}

/** One thread's pass over its rows: fills its G, loss and intercept gradient. Allocates nothing. */
export function runPass(kernel: KernelExports, L: Layout, v: ThreadViews, start: number, end: number): void {
  const rowBytes = L.dp * elemBytes(L.elem);
  v.g.fill(0);
  v.out.fill(0);
  let loss = 0;
  for (let i0 = start; i0 < end; i0 += L.B) {
    const rows = Math.min(L.B, end - i0);
    const xAddr = L.x + i0 * rowBytes;
    kernel.forward(xAddr, rows, L.w, v.base + L.z);
    loss += softmaxRows(v.z, 0, v.r, 0, v.labels, i0, rows, L.K, v.b, v.gb);
    kernel.backward(xAddr, rows, v.base + L.r, v.base + L.g);
  }
  v.out[0] = loss;
}
