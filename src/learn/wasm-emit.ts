/**
 * A tiny WebAssembly binary writer: just enough of the format (types, one imported memory, functions,
 * exports, SIMD) to assemble the linear-probe kernels at run time from TypeScript, so the package needs
 * no compiler toolchain and ships no opaque .wasm bytes. The kernels themselves live in wasm-kernel.ts.
 *
 * Usage: build a function body with `Body` (one method per instruction, stack-machine order), then
 * `assemble()` the module. Opcodes follow the core spec and the SIMD proposal's binary encoding.
 */

export type ValType = 'i32' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(out: number[], value: number): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(out: number[], value: number): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** One function body in the making: locals are declared up front, instructions appended in order. */
export class Body {
  readonly code: number[] = [];
  readonly localTypes: ValType[] = [];
  constructor(readonly paramCount: number) {}

  /** Declares a new local and returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  private simd(op: number): this {
    this.code.push(0xfd);
    uleb(this.code, op);
    return this;
  }
  private mem(op: number[], align: number, offset: number): this {
    this.code.push(...op);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }
  private simdMem(op: number, align: number, offset: number): this {
    this.simd(op);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  // control
  block(): this { this.code.push(0x02, 0x40); return this; }
  loop(): this { this.code.push(0x03, 0x40); return this; }
  end(): this { this.code.push(0x0b); return this; }
  br(depth: number): this { this.code.push(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.code.push(0x0d); uleb(this.code, depth); return this; }

  // locals
  get(i: number): this { this.code.push(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.code.push(0x21); uleb(this.code, i); return this; }
  tee(i: number): this { this.code.push(0x22); uleb(this.code, i); return this; }

  // i32
  i32(v: number): this { this.code.push(0x41); sleb(this.code, v); return this; }
  i32Add(): this { this.code.push(0x6a); return this; }
  i32Sub(): this { this.code.push(0x6b); return this; }
  i32Mul(): this { this.code.push(0x6c); return this; }
  i32LtU(): this { this.code.push(0x49); return this; }
  i32Eqz(): this { this.code.push(0x45); return this; }

  // scalar memory (offset in bytes; align as log2 of the natural alignment)
  f32Store(offset = 0): this { return this.mem([0x38], 2, offset); }
  f64Load(offset = 0): this { return this.mem([0x2b], 3, offset); }
  f64Store(offset = 0): this { return this.mem([0x39], 3, offset); }
  f64PromoteF32(): this { this.code.push(0xbb); return this; }
  f32DemoteF64(): this { this.code.push(0xb6); return this; }
  f32Add(): this { this.code.push(0x92); return this; }
  f64Add(): this { this.code.push(0xa0); return this; }

  // SIMD
  v128Load(offset = 0): this { return this.simdMem(0x00, 4, offset); }
  v128Store(offset = 0): this { return this.simdMem(0x0b, 4, offset); }
  v128Load32Splat(offset = 0): this { return this.simdMem(0x09, 2, offset); }
  v128Load64Splat(offset = 0): this { return this.simdMem(0x0a, 3, offset); }
  v128Zero(): this { this.simd(0x0c); for (let i = 0; i < 16; i++) this.code.push(0); return this; }
  i8x16Shuffle(lanes: readonly number[]): this { this.simd(0x0d); this.code.push(...lanes); return this; }
  f32x4ExtractLane(lane: number): this { this.simd(0x1f); this.code.push(lane); return this; }
  f64x2ExtractLane(lane: number): this { this.simd(0x21); this.code.push(lane); return this; }
  f64x2Splat(): this { return this.simd(0x14); }
  f64Mul(): this { this.code.push(0xa2); return this; }
  i32GeU(): this { this.code.push(0x4f); return this; }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2Mul(): this { return this.simd(0xf2); }
  f64x2PromoteLowF32x4(): this { return this.simd(0x5f); }
  f32x4DemoteF64x2Zero(): this { return this.simd(0x5e); }
  // integer SIMD (int8 search kernels, src/search/kernel.ts)
  i16x8ExtendLowI8x16S(): this { return this.simd(0x87); }
  i16x8ExtendHighI8x16S(): this { return this.simd(0x88); }
  i32x4DotI16x8S(): this { return this.simd(0xba); }
  i32x4Add(): this { return this.simd(0xae); }
  i32x4ExtractLane(lane: number): this { this.simd(0x1b); this.code.push(lane); return this; }
  i32Store(offset = 0): this { return this.mem([0x36], 2, offset); }
}

export interface FuncDef {
  name: string;
  params: ValType[];
  results?: ValType[];
  body: Body;
}

export interface MemoryImport {
  module: string;
  name: string;
  minPages: number;
  maxPages: number;
  shared: boolean;
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  for (const byte of content) out.push(byte);
}

function name(out: number[], s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  uleb(out, bytes.length);
  out.push(...bytes);
}

/** Assembles a module that imports one memory and exports the given functions. */
export function assemble(memory: MemoryImport, funcs: readonly FuncDef[]): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(types, funcs.length);
  for (const f of funcs) {
    types.push(0x60);
    uleb(types, f.params.length);
    for (const p of f.params) types.push(VALTYPE[p]);
    const results = f.results ?? [];
    uleb(types, results.length);
    for (const r of results) types.push(VALTYPE[r]);
  }
  section(out, 1, types);
  const imports: number[] = [1];
  name(imports, memory.module);
  name(imports, memory.name);
  imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(imports, memory.minPages);
  uleb(imports, memory.maxPages);
  section(out, 2, imports);
  const fns: number[] = [];
  uleb(fns, funcs.length);
  funcs.forEach((_, i) => uleb(fns, i));
  section(out, 3, fns);
  const exps: number[] = [];
  uleb(exps, funcs.length);
  funcs.forEach((f, i) => { name(exps, f.name); exps.push(0x00); uleb(exps, i); });
  section(out, 7, exps);
  const code: number[] = [];
  uleb(code, funcs.length);
  for (const f of funcs) {
    const body: number[] = [];
    const locals = f.body.localTypes;
    uleb(body, locals.length);
    for (const t of locals) { body.push(1, VALTYPE[t]); }
    for (const byte of f.body.code) body.push(byte);
    body.push(0x0b);
    uleb(code, body.length);
    for (const byte of body) code.push(byte);
  }
  section(out, 10, code);
  return Uint8Array.from(out);
}
