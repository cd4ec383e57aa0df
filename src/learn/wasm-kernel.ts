/**
 * The two hot loops of multinomial logistic regression as WebAssembly SIMD, generated for one problem shape
 * (feature count, class count, element type) and assembled at run time by wasm-emit.ts:
 *
 *   forward(x, rows, w, z):   Z[r, k] = sum_j X[r, j] * W[k, j]             X [rows, dp], W [K, dp] (elem), Z [rows, K] f64
 *   backward(x, rows, r, g):  G[k, j] += sum_r R[r, k] * X[r, j]            R [rows, K] (elem), G [K, dp] f64
 *
 * All arguments are byte addresses in one (shared) linear memory. Rows of X and W are padded with zeros to
 * dp, a multiple of two SIMD vectors, so every load is a whole v128. Classes are processed in groups of at most
 * MAX_GROUP so that a group's accumulators stay in registers: forward reads each 16-byte chunk of a row once per
 * group and multiplies it with that chunk of every class in the group; backward walks a block of rows for each
 * chunk, keeping per-class partial sums in registers, and adds them to the f64 gradient once per block (so f32
 * data still sums the gradient in f64 across blocks). Wasm has no exp, so the softmax between the two passes is
 * done in JavaScript (softmaxRows in logreg.ts).
 */
import { assemble, Body, type FuncDef } from './wasm-emit.js';

export type ElemType = 'f32' | 'f64';

/** Largest number of classes per group: 2 x 5 accumulators + 2 data vectors + 1 temporary fit in 16 registers. */
const MAX_GROUP = 5;

export interface KernelShape {
  elem: ElemType;
  /** Features, padded to a multiple of two SIMD vectors (8 for f32, 4 for f64). */
  dp: number;
  /** Classes. */
  K: number;
  /** Register blocking: rows per forward step, vectors per backward step (default 1 and 1: measured no slower than 2). */
  blocking?: { rows: 1 | 2; vecs: 1 | 2 };
}

export interface KernelExports {
  forward(x: number, rows: number, w: number, z: number): void;
  backward(x: number, rows: number, r: number, g: number): void;
}

export function elemBytes(elem: ElemType): number {
  return elem === 'f32' ? 4 : 8;
}

/** Features rounded up to whole pairs of SIMD vectors (the kernels work on two vectors at a time). */
export function paddedDim(d: number, elem: ElemType): number {
  const lanes = 32 / elemBytes(elem);
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

/**
 * Logits for `nr` (1 or 2) rows at X, Z: per class group, walk the row(s) one vector at a time, each W
 * vector loaded once and multiplied into both rows' accumulators.
 */
function forwardRows(b: Body, shape: KernelShape, nr: 1 | 2, X: number, W: number, Z: number, c: number, xv: number[], wv: number, acc: number[][]): void {
  const { elem, dp, K } = shape;
  const rowBytes = dp * elemBytes(elem);
  for (const [k0, g] of classGroups(K)) {
    for (let r = 0; r < nr; r++) for (let i = 0; i < g; i++) b.v128Zero().set(acc[r]![i]!);
    b.i32(0).set(c).loop();
    for (let r = 0; r < nr; r++) b.get(X).get(c).i32Add().v128Load(r * rowBytes).set(xv[r]!);
    for (let i = 0; i < g; i++) {
      b.get(W).get(c).i32Add().v128Load((k0 + i) * rowBytes).set(wv);
      for (let r = 0; r < nr; r++) {
        b.get(acc[r]![i]!).get(xv[r]!).get(wv);
        vecMul(b, elem);
        vecAdd(b, elem);
        b.set(acc[r]![i]!);
      }
    }
    b.get(c).i32(16).i32Add().tee(c).i32(rowBytes).i32LtU().brIf(0).end();
    for (let r = 0; r < nr; r++) {
      for (let i = 0; i < g; i++) {
        b.get(Z);
        hsum(b, acc[r]![i]!, elem);
        b.f64Store((r * K + k0 + i) * 8);
      }
    }
  }
}

function forward(shape: KernelShape): FuncDef {
  const { elem, dp, K } = shape;
  const rowBytes = dp * elemBytes(elem);
  const b = new Body(4);
  const [X, ROWS, W, Z] = [0, 1, 2, 3];
  const c = b.local('i32');
  const xv = [b.local('v128'), b.local('v128')];
  const wv = b.local('v128');
  const acc = [0, 1].map(() => Array.from({ length: MAX_GROUP }, () => b.local('v128')));
  // pairs of rows: while (rows >= 2) { ...; x += 2 rowBytes; z += 2 K 8; rows -= 2 }
  const pair = (shape.blocking?.rows ?? 1) === 2;
  b.block().loop();
  b.get(ROWS).i32(pair ? 2 : 1).i32LtU().brIf(1);
  const nr = pair ? 2 : 1;
  forwardRows(b, shape, nr, X, W, Z, c, xv, wv, acc);
  b.get(X).i32(nr * rowBytes).i32Add().set(X);
  b.get(Z).i32(nr * K * 8).i32Add().set(Z);
  b.get(ROWS).i32(nr).i32Sub().set(ROWS);
  b.br(0).end().end();
  // the odd row
  b.block().get(ROWS).i32Eqz().brIf(0);
  forwardRows(b, shape, 1, X, W, Z, c, xv, wv, acc);
  b.end();
  return { name: 'forward', params: ['i32', 'i32', 'i32', 'i32'], body: b };
}

/** Low two f32 lanes of a v128 -> f64x2; HIGH moves lanes 2,3 down first. */
const HIGH = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

/** Adds the f32x4 or f64x2 accumulator `v` to G (f64) at address local G + local gc + offset. */
function addToG(b: Body, elem: ElemType, G: number, gc: number, v: number, offset: number): void {
  if (elem === 'f32') {
    b.get(G).get(gc).i32Add().get(G).get(gc).i32Add().v128Load(offset);
    b.get(v).f64x2PromoteLowF32x4().f64x2Add().v128Store(offset);
    b.get(G).get(gc).i32Add().get(G).get(gc).i32Add().v128Load(offset + 16);
    b.get(v).get(v).i8x16Shuffle(HIGH).f64x2PromoteLowF32x4().f64x2Add().v128Store(offset + 16);
  } else {
    b.get(G).get(gc).i32Add().get(G).get(gc).i32Add().v128Load(offset);
    b.get(v).f64x2Add().v128Store(offset);
  }
}

/**
 * G += R^T X for a block of rows: per class group and per pair of adjacent vectors of the row, walk the
 * rows, splat each row's residual once and multiply it into both vectors' accumulators; then add the
 * block's sums to the f64 gradient.
 */
function backward(shape: KernelShape): FuncDef {
  const { elem, dp, K } = shape;
  const eb = elemBytes(elem);
  const rowBytes = dp * eb;
  const gStep = elem === 'f32' ? 32 : 16; // G bytes per 16 bytes of X
  const b = new Body(4);
  const [X, ROWS, R, G] = [0, 1, 2, 3];
  const c = b.local('i32');   // byte offset of the vector pair in an X row
  const gc = b.local('i32');  // byte offset of the same features in a G row (f64)
  const p = b.local('i32');   // address of X[row, c]
  const rr = b.local('i32');  // address of R[row, 0]
  const left = b.local('i32');
  const xv = [b.local('v128'), b.local('v128')];
  const rv = b.local('v128');
  const acc = [0, 1].map(() => Array.from({ length: MAX_GROUP }, () => b.local('v128')));
  const nv = shape.blocking?.vecs ?? 1;
  b.block().get(ROWS).i32Eqz().brIf(0);
  for (const [k0, g] of classGroups(K)) {
    b.i32(0).set(c).i32(0).set(gc).loop();
    for (let h = 0; h < nv; h++) for (let i = 0; i < g; i++) b.v128Zero().set(acc[h]![i]!);
    b.get(X).get(c).i32Add().set(p).get(R).set(rr).get(ROWS).set(left);
    b.loop();
    for (let h = 0; h < nv; h++) b.get(p).v128Load(16 * h).set(xv[h]!);
    for (let i = 0; i < g; i++) {
      b.get(rr);
      if (elem === 'f32') b.v128Load32Splat((k0 + i) * eb); else b.v128Load64Splat((k0 + i) * eb);
      b.set(rv);
      for (let h = 0; h < nv; h++) {
        b.get(acc[h]![i]!).get(rv).get(xv[h]!);
        vecMul(b, elem);
        vecAdd(b, elem);
        b.set(acc[h]![i]!);
      }
    }
    b.get(p).i32(rowBytes).i32Add().set(p);
    b.get(rr).i32(K * eb).i32Add().set(rr);
    b.get(left).i32(1).i32Sub().tee(left).brIf(0).end();
    for (let i = 0; i < g; i++) {
      const base = (k0 + i) * dp * 8;
      for (let h = 0; h < nv; h++) addToG(b, elem, G, gc, acc[h]![i]!, base + h * gStep);
    }
    b.get(gc).i32(nv * gStep).i32Add().set(gc);
    b.get(c).i32(16 * nv).i32Add().tee(c).i32(rowBytes).i32LtU().brIf(0).end();
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
