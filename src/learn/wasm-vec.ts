/**
 * Float64 vector arithmetic for the optimizer (dot, axpy) as WebAssembly SIMD, over vectors that live in
 * one private wasm memory. L-BFGS spends ~4m of these per iteration on vectors of K*(d+1) entries; in
 * plain JavaScript that costs about as much as a whole loss pass on a small dataset.
 *
 * Vectors are views of length n over a padded slot of `np` (a multiple of 4) entries; the padding stays
 * zero because every operation maps zeros to zeros, so the kernels run without tails.
 *
 * A space may also hold float32 vectors (`vectors32`, for L-BFGS's curvature pairs: half the memory traffic of
 * the two-loop recursion, which streams 4m of them per iteration) with mixed dot and axpy against float64
 * vectors, computed in float64, and `round32`, which stores a float64 vector as float32 and rounds it to the
 * stored values, so that quantities computed from either copy agree exactly.
 */
import { assemble, Body, type FuncDef } from './wasm-emit.js';

interface VecExports {
  dot(a: number, b: number, bytes: number): number;
  axpy(alpha: number, x: number, y: number, bytes: number): void;
  dot32(a: number, b: number, bytes: number): number;
  axpy32(alpha: number, x: number, y: number, bytes: number): void;
  round32(src: number, dst: number, bytes: number): void;
}

/** Low two f32 lanes of a v128 -> f64x2 after HIGH moves lanes 2, 3 down. */
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
/** Lanes 0, 1 of the first f32x4 and lanes 0, 1 of the second. */
const PAIR_LOWS = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

/** sum a32[i] * b64[i] in float64; `bytes` counts the float32 vector's bytes (a multiple of 16). */
function dot32Func(): FuncDef {
  const b = new Body(3);
  const [A, B, BYTES] = [0, 1, 2];
  const i = b.local('i32'), k = b.local('i32'), va = b.local('v128'), acc0 = b.local('v128'), acc1 = b.local('v128');
  b.v128Zero().set(acc0).v128Zero().set(acc1).i32(0).set(i).i32(0).set(k);
  b.block().get(BYTES).i32Eqz().brIf(0).loop();
  b.get(A).get(i).i32Add().v128Load(0).set(va);
  b.get(acc0).get(va).f64x2PromoteLowF32x4().get(B).get(k).i32Add().v128Load(0).f64x2Mul().f64x2Add().set(acc0);
  b.get(acc1).get(va).get(va).i8x16Shuffle(HIGH).f64x2PromoteLowF32x4().get(B).get(k).i32Add().v128Load(16).f64x2Mul().f64x2Add().set(acc1);
  b.get(k).i32(32).i32Add().set(k);
  b.get(i).i32(16).i32Add().tee(i).get(BYTES).i32LtU().brIf(0);
  b.end().end();
  b.get(acc0).get(acc1).f64x2Add().set(acc0);
  b.get(acc0).f64x2ExtractLane(0).get(acc0).f64x2ExtractLane(1).f64Add();
  return { name: 'dot32', params: ['i32', 'i32', 'i32'], results: ['f64'], body: b };
}

/** y64 += alpha * x32; `bytes` counts the float32 vector's bytes. */
function axpy32Func(): FuncDef {
  const b = new Body(4);
  const [ALPHA, X, Y, BYTES] = [0, 1, 2, 3];
  const i = b.local('i32'), k = b.local('i32'), av = b.local('v128'), vx = b.local('v128');
  b.get(ALPHA).f64x2Splat().set(av).i32(0).set(i).i32(0).set(k);
  b.block().get(BYTES).i32Eqz().brIf(0).loop();
  b.get(X).get(i).i32Add().v128Load(0).set(vx);
  b.get(Y).get(k).i32Add();
  b.get(Y).get(k).i32Add().v128Load(0).get(av).get(vx).f64x2PromoteLowF32x4().f64x2Mul().f64x2Add().v128Store(0);
  b.get(Y).get(k).i32Add();
  b.get(Y).get(k).i32Add().v128Load(16).get(av).get(vx).get(vx).i8x16Shuffle(HIGH).f64x2PromoteLowF32x4().f64x2Mul().f64x2Add().v128Store(16);
  b.get(k).i32(32).i32Add().set(k);
  b.get(i).i32(16).i32Add().tee(i).get(BYTES).i32LtU().brIf(0);
  b.end().end();
  return { name: 'axpy32', params: ['f64', 'i32', 'i32', 'i32'], body: b };
}

/** dst32 = float32(src64), then src64 = dst32 (src rounded in place); `bytes` counts the float32 vector's bytes. */
function round32Func(): FuncDef {
  const b = new Body(3);
  const [SRC, DST, BYTES] = [0, 1, 2];
  const i = b.local('i32'), k = b.local('i32'), v = b.local('v128');
  b.i32(0).set(i).i32(0).set(k);
  b.block().get(BYTES).i32Eqz().brIf(0).loop();
  b.get(SRC).get(k).i32Add().v128Load(0).f32x4DemoteF64x2Zero();
  b.get(SRC).get(k).i32Add().v128Load(16).f32x4DemoteF64x2Zero();
  b.i8x16Shuffle(PAIR_LOWS).set(v);
  b.get(DST).get(i).i32Add().get(v).v128Store(0);
  b.get(SRC).get(k).i32Add().get(v).f64x2PromoteLowF32x4().v128Store(0);
  b.get(SRC).get(k).i32Add().get(v).get(v).i8x16Shuffle(HIGH).f64x2PromoteLowF32x4().v128Store(16);
  b.get(k).i32(32).i32Add().set(k);
  b.get(i).i32(16).i32Add().tee(i).get(BYTES).i32LtU().brIf(0);
  b.end().end();
  return { name: 'round32', params: ['i32', 'i32', 'i32'], body: b };
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

/** `count` zeroed float64 vectors and `count32` float32 ones of length n in one wasm memory, with SIMD dot and axpy over them. */
export class VecSpace {
  readonly vectors: Float64Array[];
  readonly vectors32: Float32Array[];
  private readonly ops: VecExports;
  private readonly bytes: number;
  private readonly bytes32: number;

  constructor(readonly n: number, count: number, count32 = 0) {
    const np = Math.ceil(n / 4) * 4;
    this.bytes = np * 8;
    this.bytes32 = np * 4;
    const at32 = count * this.bytes;
    const pages = Math.max(1, Math.ceil((at32 + count32 * this.bytes32) / 65536));
    const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const memory = new api.Memory({ initial: pages, maximum: pages });
    const bytes = assemble({ module: 'env', name: 'mem', minPages: pages, maxPages: pages, shared: false },
      [dotFunc(), axpyFunc(), dot32Func(), axpy32Func(), round32Func()]);
    this.ops = new api.Instance(new api.Module(bytes), { env: { mem: memory } }).exports as VecExports;
    this.vectors = Array.from({ length: count }, (_, k) => new Float64Array(memory.buffer, k * this.bytes, n));
    this.vectors32 = Array.from({ length: count32 }, (_, k) => new Float32Array(memory.buffer, at32 + k * this.bytes32, n));
  }

  /** a . b (both vectors of this space) */
  dot(a: Float64Array, b: Float64Array): number {
    return this.ops.dot(a.byteOffset, b.byteOffset, this.bytes);
  }

  /** y += alpha * x (both vectors of this space) */
  axpy(alpha: number, x: Float64Array, y: Float64Array): void {
    this.ops.axpy(alpha, x.byteOffset, y.byteOffset, this.bytes);
  }

  /** a . b for a float32 and a float64 vector of this space, in float64 */
  dot32(a: Float32Array, b: Float64Array): number {
    return this.ops.dot32(a.byteOffset, b.byteOffset, this.bytes32);
  }

  /** y += alpha * x, x a float32 and y a float64 vector of this space */
  axpy32(alpha: number, x: Float32Array, y: Float64Array): void {
    this.ops.axpy32(alpha, x.byteOffset, y.byteOffset, this.bytes32);
  }

  /** dst = float32(src), and src rounded to the same values */
  round32(src: Float64Array, dst: Float32Array): void {
    this.ops.round32(src.byteOffset, dst.byteOffset, this.bytes32);
  }
}
