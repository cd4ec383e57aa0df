/**
 * The two hot loops of multinomial logistic regression as WebAssembly SIMD, generated for one problem shape
 * (feature count, class count, element type) and assembled at run time by wasm-emit.ts:
 *
 *   forward(x, rows, w, z):   Z[r, k] = sum_j X[r, j] * W[k, j]             X [rows, dp], W [K, dp] (elem), Z [rows, K] f64
 *   backward(x, rows, r, g):  G[k, j] += sum_r R[r, k] * X[r, j]            R [rows, K] (elem), G [K, dp] f64
 *
 * All arguments are byte addresses in one (shared) linear memory. Rows of X and W are padded with zeros to
 * dp, a multiple of the SIMD width, so every load is a whole v128. Classes are processed in groups of at most
 * MAX_GROUP so that a group's accumulators stay in registers: forward reads each 16-byte chunk of a row once per
 * group and multiplies it with that chunk of every class in the group; backward walks a block of rows for each
 * chunk, keeping per-class partial sums in registers, and adds them to the f64 gradient once per block (so f32
 * data still sums the gradient in f64 across blocks). Wasm has no exp, so the softmax between the two passes is
 * done in JavaScript (softmax.ts).
 */
import { assemble, Body, type FuncDef } from './wasm-emit.js';

export type ElemType = 'f32' | 'f64';

/** Largest number of classes whose accumulators are kept in registers at once. */
const MAX_GROUP = 6;

export interface KernelShape {
  elem: ElemType;
  /** Features, padded to a multiple of the SIMD width (4 for f32, 2 for f64). */
  dp: number;
  /** Classes. */
  K: number;
}

export interface KernelExports {
  forward(x: number, rows: number, w: number, z: number): void;
  backward(x: number, rows: number, r: number, g: number): void;
}

export function elemBytes(elem: ElemType): number {
  return elem === 'f32' ? 4 : 8;
}

/** Features rounded up to whole SIMD vectors. */
export function paddedDim(d: number, elem: ElemType): number {
  const lanes = 16 / elemBytes(elem);
  return Math.ceil(d / lanes) * lanes;
}

/** Splits K classes into near-equal groups of at most MAX_GROUP: [start, size] pairs. */
function classGroups(K: number): Array<[number, number]> {
  const count = Math.ceil(K / MAX_GROUP);
  const groups: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const size = Math.floor(K / count) + (i < K % count ? 1 : 0);
    groups.push([start, size]);
    start += size;
  }
  return groups;
}

function vecMul(b: Body, elem: ElemType): void { if (elem === 'f32') b.f32x4Mul(); else b.f64x2Mul(); }
function vecAdd(b: Body, elem: ElemType): void { if (elem === 'f32') b.f32x4Add(); else b.f64x2Add(); }

/** Sum of the lanes of the v128 in local `v`, left on the stack as f64. */
function hsum(b: Body, v: number, elem: ElemType): void {
  if (elem === 'f32') {
    b.get(v).f32x4ExtractLane(0).f64PromoteF32().get(v).f32x4ExtractLane(1).f64PromoteF32().f64Add();
    b.get(v).f32x4ExtractLane(2).f64PromoteF32().get(v).f32x4ExtractLane(3).f64PromoteF32().f64Add().f64Add();
  } else {
    b.get(v).f64x2ExtractLane(0).get(v).f64x2ExtractLane(1).f64Add();
  }
}

function forward(shape: KernelShape): FuncDef {
  const { elem, dp, K } = shape;
  const rowBytes = dp * elemBytes(elem);
  const b = new Body(4);
  const [X, ROWS, W, Z] = [0, 1, 2, 3];
  const c = b.local('i32');
  const xv = b.local('v128');
  const acc = Array.from({ length: MAX_GROUP }, () => b.local('v128'));
  // if (rows == 0) return; do { ...; x += rowBytes; z += 8K } while (--rows)
  b.block().get(ROWS).i32Eqz().brIf(0).loop();
  for (const [k0, g] of classGroups(K)) {
    for (let i = 0; i < g; i++) b.v128Zero().set(acc[i]!);
    b.i32(0).set(c).loop();
    b.get(X).get(c).i32Add().v128Load().set(xv);
    for (let i = 0; i < g; i++) {
      b.get(acc[i]!).get(xv).get(W).get(c).i32Add().v128Load((k0 + i) * rowBytes);
      vecMul(b, elem);
      vecAdd(b, elem);
      b.set(acc[i]!);
    }
    b.get(c).i32(16).i32Add().tee(c).i32(rowBytes).i32LtU().brIf(0).end();
    for (let i = 0; i < g; i++) {
      b.get(Z);
      hsum(b, acc[i]!, elem);
      b.f64Store((k0 + i) * 8);
    }
  }
  b.get(X).i32(rowBytes).i32Add().set(X);
  b.get(Z).i32(K * 8).i32Add().set(Z);
  b.get(ROWS).i32(1).i32Sub().tee(ROWS).brIf(0);
  b.end().end();
  return { name: 'forward', params: ['i32', 'i32', 'i32', 'i32'], body: b };
}

/** Low two f32 lanes of a v128 -> f64x2; HIGH moves lanes 2,3 down first. */
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

function backward(shape: KernelShape): FuncDef {
  const { elem, dp, K } = shape;
  const eb = elemBytes(elem);
  const rowBytes = dp * eb;
  const b = new Body(4);
  const [X, ROWS, R, G] = [0, 1, 2, 3];
  const c = b.local('i32');   // byte offset of the chunk in an X row
  const gc = b.local('i32');  // byte offset of the same chunk in a G row (f64)
  const p = b.local('i32');   // address of X[row, chunk]
  const rr = b.local('i32');  // address of R[row, 0]
  const left = b.local('i32');
  const xv = b.local('v128');
  const acc = Array.from({ length: MAX_GROUP }, () => b.local('v128'));
  b.block().get(ROWS).i32Eqz().brIf(0);
  for (const [k0, g] of classGroups(K)) {
    b.i32(0).set(c).i32(0).set(gc).loop();
    for (let i = 0; i < g; i++) b.v128Zero().set(acc[i]!);
    b.get(X).get(c).i32Add().set(p).get(R).set(rr).get(ROWS).set(left);
    b.loop();
    b.get(p).v128Load().set(xv);
    for (let i = 0; i < g; i++) {
      b.get(acc[i]!).get(rr);
      if (elem === 'f32') b.v128Load32Splat((k0 + i) * eb); else b.v128Load64Splat((k0 + i) * eb);
      b.get(xv);
      vecMul(b, elem);
      vecAdd(b, elem);
      b.set(acc[i]!);
    }
    b.get(p).i32(rowBytes).i32Add().set(p);
    b.get(rr).i32(K * eb).i32Add().set(rr);
    b.get(left).i32(1).i32Sub().tee(left).brIf(0).end();
    for (let i = 0; i < g; i++) {
      const base = (k0 + i) * dp * 8;
      if (elem === 'f32') {
        b.get(G).get(gc).i32Add().get(G).get(gc).i32Add().v128Load(base);
        b.get(acc[i]!).f64x2PromoteLowF32x4().f64x2Add().v128Store(base);
        b.get(G).get(gc).i32Add().get(G).get(gc).i32Add().v128Load(base + 16);
        b.get(acc[i]!).get(acc[i]!).i8x16Shuffle(HIGH).f64x2PromoteLowF32x4().f64x2Add().v128Store(base + 16);
      } else {
        b.get(G).get(gc).i32Add().get(G).get(gc).i32Add().v128Load(base);
        b.get(acc[i]!).f64x2Add().v128Store(base);
      }
    }
    b.get(gc).i32(elem === 'f32' ? 32 : 16).i32Add().set(gc);
    b.get(c).i32(16).i32Add().tee(c).i32(rowBytes).i32LtU().brIf(0).end();
  }
  b.end();
  return { name: 'backward', params: ['i32', 'i32', 'i32', 'i32'], body: b };
}

/** The module's bytes for one shape, importing env.mem (shared) with exactly `pages` 64 KiB pages. */
export function kernelModuleBytes(shape: KernelShape, pages: number): Uint8Array {
  return assemble({ module: 'env', name: 'mem', minPages: pages, maxPages: pages, shared: true },
    [forward(shape), backward(shape)]);
}

/*
 * The WebAssembly JS API, typed here: the project compiles against Node's types only (no DOM lib),
 * which do not declare the WebAssembly global.
 */
export interface WasmMemory { readonly buffer: SharedArrayBuffer }
export interface WasmModule { readonly __wasmModule?: never }
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasm = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** A shared memory of exactly `pages` 64 KiB pages (zero-filled). */
export function sharedMemory(pages: number): WasmMemory {
  return new (wasm().Memory)({ initial: pages, maximum: pages, shared: true });
}

export function compileKernel(shape: KernelShape, pages: number): WasmModule {
  return new (wasm().Module)(kernelModuleBytes(shape, pages));
}

/** Instantiates the kernel on a memory (synchronously: the module is small). */
export function instantiateKernel(module: WasmModule, memory: WasmMemory): KernelExports {
  const instance = new (wasm().Instance)(module, { env: { mem: memory } });
  return instance.exports as KernelExports;
}
