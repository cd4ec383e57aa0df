/**
 * The search scan as WebAssembly SIMD, generated for one padded dimension and assembled at run time by
 * learn/wasm-emit.ts (the same machinery as the probe kernels; no .wasm bytes ship):
 *
 *   scan(q, x, n, z):   Z[i] = sum_j Q[j] * X[i, j]      Q [dp] int16, X [n, dp] int8, Z [n] int32
 *
 * All arguments are byte addresses in the kernel's own linear memory. Rows are padded with zeros to dp, a multiple
 * of 16, and the inner loop is fully unrolled (dp / 16 steps, every offset an immediate): per 16 int8 of a row,
 * one load, two sign extensions to int16x8 and two i32x4.dot_i16x8_s against the query's int16 lanes.
 * The integer sum is exact as long as |Z| < 2^31: `queryLimit` bounds the query's int16 magnitudes so that
 * dp * 127 * qmax stays below it.
 */
import { assemble, Body, type FuncDef } from '../learn/wasm-emit.js';
import { ZsError } from '../errors.js';

/** Dimension rounded up to whole 16-byte vectors of int8. */
export function paddedDim(d: number): number {
  return Math.ceil(d / 16) * 16;
}

/** Largest query magnitude (int16) whose dot products with int8 rows of length dp cannot overflow int32. */
export function queryLimit(dp: number): number {
  return Math.min(16383, Math.floor(0x7fffffff / (127 * dp)));
}

function scanFunc(dp: number): FuncDef {
  const b = new Body(4);
  const [Q, X, N, Z] = [0, 1, 2, 3];
  const v = b.local('v128'), a0 = b.local('v128'), a1 = b.local('v128'), s = b.local('v128');
  b.block().get(N).i32Eqz().brIf(0).loop();
  b.v128Zero().set(a0).v128Zero().set(a1);
  for (let c = 0; c < dp; c += 16) {
    b.get(X).v128Load(c).set(v);
    b.get(a0).get(v).i16x8ExtendLowI8x16S().get(Q).v128Load(2 * c).i32x4DotI16x8S().i32x4Add().set(a0);
    b.get(a1).get(v).i16x8ExtendHighI8x16S().get(Q).v128Load(2 * c + 16).i32x4DotI16x8S().i32x4Add().set(a1);
  }
  b.get(a0).get(a1).i32x4Add().set(s);
  b.get(Z);
  b.get(s).i32x4ExtractLane(0).get(s).i32x4ExtractLane(1).i32Add().get(s).i32x4ExtractLane(2).i32Add().get(s).i32x4ExtractLane(3).i32Add();
  b.i32Store(0);
  b.get(X).i32(dp).i32Add().set(X);
  b.get(Z).i32(4).i32Add().set(Z);
  b.get(N).i32(1).i32Sub().tee(N).brIf(0);
  b.end().end();
  return { name: 'scan', params: ['i32', 'i32', 'i32', 'i32'], body: b };
}

interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}

export interface ScanKernel {
  /** The kernel's memory (fixed size); views into it stay valid for the kernel's life. */
  readonly buffer: ArrayBuffer;
  scan(q: number, x: number, n: number, z: number): void;
}

const PAGE = 65536;
/** 4 GiB: the most a wasm32 memory can address. */
const MAX_PAGES = 65536;

/** A scan kernel for padded dimension `dp` over a private memory of at least `bytes` bytes. */
export function scanKernel(dp: number, bytes: number): ScanKernel {
  if (dp % 16 !== 0 || dp <= 0) throw new RangeError(`padded dimension ${dp} is not a positive multiple of 16`);
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (pages > MAX_PAGES) {
    throw new ZsError('E_SEARCH_SIZE', `the index needs ${(bytes / 2 ** 30).toFixed(1)} GiB of int8 vectors in memory, over the 4 GiB a WebAssembly memory can hold`, {
      hint: 'search with --in DIR over part of the library, or split it across several --cache-dir homes',
    });
  }
  const api = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const memory = new api.Memory({ initial: pages, maximum: pages });
  const bin = assemble({ module: 'env', name: 'mem', minPages: pages, maxPages: pages, shared: false }, [scanFunc(dp)]);
  const ex = new api.Instance(new api.Module(bin), { env: { mem: memory } }).exports as { scan: ScanKernel['scan'] };
  return { buffer: memory.buffer, scan: ex.scan };
}
