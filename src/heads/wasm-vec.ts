/**
 * Float64 vector arithmetic for the optimizer (dot, axpy) as WebAssembly SIMD, over vectors that live in
 * one private wasm memory. L-BFGS spends ~4m of these per iteration on vectors of K*(d+1) entries; in
 * plain JavaScript that costs about as much as a whole loss pass on a small dataset.
 *
 * Vectors are views of length n over a padded slot of `np` (a multiple of 4) entries; the padding stays
 * zero because every operation maps zeros to zeros, so the kernels run without tails.
 */
import { assemble, Body, type FuncDef } from './wasm-emit.js';

interface VecExports {
  dot(a: number, b: number, bytes: number): number;
  axpy(alpha: number, x: number, y: number, bytes: number): void;
}

function dotFunc(): FuncDef {
  const b = new Body(3);
  const [A, B, BYTES] = [0, 1, 2];
  const i = b.local('i32'), acc0 = b.local('v128'), acc1 = b.local('v128');
  b.v128Zero().set(acc0).v128Zero().set(acc1).i32(0).set(i);
  b.block().get(BYTES).i32Eqz().brIf(0).loop();
  b.get(acc0).get(A).get(i).i32Add().v128Load(0).get(B).get(i).i32Add().v128Load(0).f64x2Mul().f64x2Add().set(acc0);
  b.get(acc1).get(A).get(i).i32Add().v128Load(16).get(B).get(i).i32Add().v128Load(16).f64x2Mul().f64x2Add().set(acc1);
  b.get(i).i32(32).i32Add().tee(i).get(BYTES).i32LtU().brIf(0);
  b.end().end();
  b.get(acc0).get(acc1).f64x2Add().set(acc0);
  b.get(acc0).f64x2ExtractLane(0).get(acc0).f64x2ExtractLane(1).f64Add();
  return { name: 'dot', params: ['i32', 'i32', 'i32'], results: ['f64'], body: b };
}

function axpyFunc(): FuncDef {
  const b = new Body(4);
  const [ALPHA, X, Y, BYTES] = [0, 1, 2, 3];
  const i = b.local('i32'), av = b.local('v128');
  b.get(ALPHA).f64x2Splat().set(av).i32(0).set(i);
  b.block().get(BYTES).i32Eqz().brIf(0).loop();
  for (const off of [0, 16]) {
    b.get(Y).get(i).i32Add();
    b.get(Y).get(i).i32Add().v128Load(off).get(av).get(X).get(i).i32Add().v128Load(off).f64x2Mul().f64x2Add();
    b.v128Store(off);
  }
  b.get(i).i32(32).i32Add().tee(i).get(BYTES).i32LtU().brIf(0);
  b.end().end();
  return { name: 'axpy', params: ['f64', 'i32', 'i32', 'i32'], body: b };
}

interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}

/** `count` zeroed float64 vectors of length n in one wasm memory, with SIMD dot and axpy over them. */
export class VecSpace {
  readonly vectors: Float64Array[];
  private readonly ops: VecExports;
  private readonly bytes: number;

  constructor(readonly n: number, count: number) {
    const np = Math.ceil(n / 4) * 4;
    this.bytes = np * 8;
    const pages = Math.max(1, Math.ceil((count * this.bytes) / 65536));
    const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const memory = new api.Memory({ initial: pages, maximum: pages });
    const bytes = assemble({ module: 'env', name: 'mem', minPages: pages, maxPages: pages, shared: false }, [dotFunc(), axpyFunc()]);
    this.ops = new api.Instance(new api.Module(bytes), { env: { mem: memory } }).exports as VecExports;
    this.vectors = Array.from({ length: count }, (_, k) => new Float64Array(memory.buffer, k * this.bytes, n));
  }

  /** a . b (both vectors of this space) */
  dot(a: Float64Array, b: Float64Array): number {
    return this.ops.dot(a.byteOffset, b.byteOffset, this.bytes);
  }

  /** y += alpha * x (both vectors of this space) */
  axpy(alpha: number, x: Float64Array, y: Float64Array): void {
    this.ops.axpy(alpha, x.byteOffset, y.byteOffset, this.bytes);
  }
}
