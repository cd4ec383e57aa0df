/**
 * The fast loss engine: summed log-loss and its gradient for a fixed dataset, on WebAssembly SIMD
 * kernels (wasm-kernel.ts) over one shared memory, the rows split across worker threads when the data is
 * large. Same quantity as logLossGrad in logreg.ts (the float64 reference the tests compare it with):
 *
 *   evaluate(W [K, d], b [K], gW [K, d], gb [K]) = sum_i -log p(y_i)   (gradient of that sum into gW, gb)
 *
 * precision 'f32' (default) keeps the features and the weights of a pass in float32 (half the memory
 * traffic, twice the SIMD width) and accumulates logits, losses and gradients in float64 per block;
 * 'f64' keeps everything in float64. Worker threads block on Atomics, so a pass costs no message round
 * trip; the main thread does its own share meanwhile.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ZsError } from '../errors.js';
import type { Dataset } from './logreg.js';
import { makeLayout, runPass, threadRows, threadViews, type Layout, type ThreadViews } from './engine-pass.js';
import { CTL } from './engine-ctl.js';
import { compileKernel, instantiateKernel, paddedDim, sharedMemory, type ElemType, type KernelExports } from './wasm-kernel.js';

export type Precision = ElemType;

export interface EngineOptions {
  precision?: Precision;
  /** Threads including the main one; default: all cores when a pass is large (PARALLEL_MIN_WORK), else 1. */
  threads?: number;
  /** Rows per block (default 64: a block of 768-float32 rows stays in L2 between forward and backward). */
  blockRows?: number;
  /**
   * [d] subtracted from every row before it is stored (the column means, typically): logits are then sums of
   * centered terms, which float32 resolves far better. Transparent to callers: evaluate() folds it back.
   */
  shift?: Float64Array;
}

/** n * d * K at and above which a pass is split across threads (below it a worker's start costs more). */
export const PARALLEL_MIN_WORK = 2e7;
const PAGE = 65536;
const MAX_PAGES = 65536;
/** How long the main thread waits for the workers of one pass before giving up. */
const PASS_TIMEOUT_MS = 600_000;

export interface LossEngine {
  readonly data: Dataset;
  readonly precision: Precision;
  readonly threads: number;
  evaluate(W: Float64Array, b: Float64Array, gW: Float64Array, gb: Float64Array): number;
  close(): Promise<void>;
}

export function defaultThreads(data: Dataset): number {
  return data.n * data.d * data.K >= PARALLEL_MIN_WORK ? Math.max(1, availableParallelism()) : 1;
}

/**
 * A worker running engine-worker: the built .js next to this file; when running from the .ts sources
 * (tests under tsx) a bootstrap that registers tsx in the worker first, since loader hooks are per thread.
 */
/**
 * The Node options a worker gets: the process's own, less --input-type (set where the parent runs as
 * `node --input-type=module -e ...`), which Node refuses for a worker started from a file.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  return execArgv.filter((a) => !a.startsWith('--input-type'));
}

function spawnWorker(init: Record<string, unknown>): Worker {
  const execArgv = workerExecArgv(process.execArgv);
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./engine-worker.js', import.meta.url), { workerData: init, execArgv });
  const entry = new URL('./engine-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init, execArgv });
}

function fillMemory(buf: SharedArrayBuffer, L: Layout, data: Dataset, shift: Float64Array | undefined): void {
  const { x, n, d } = data;
  const X = L.elem === 'f32' ? new Float32Array(buf, L.x, n * L.dp) : new Float64Array(buf, L.x, n * L.dp);
  if (shift) {
    for (let i = 0; i < n; i++) {
      const o = i * d, t = i * L.dp;
      for (let j = 0; j < d; j++) X[t + j] = x[o + j]! - shift[j]!;
    }
  } else if (L.dp === d && L.elem === 'f32') X.set(x);
  else for (let i = 0; i < n; i++) X.set(x.subarray(i * d, (i + 1) * d), i * L.dp);
  new Int32Array(buf, L.labels, n).set(data.labels);
}

class WasmEngine implements LossEngine {
  private readonly wView: Float32Array | Float64Array;
  private readonly bView: Float64Array;
  private readonly mine: ThreadViews;
  private readonly all: ThreadViews[];
  private closed = false;

  constructor(readonly data: Dataset, readonly precision: Precision, private readonly L: Layout,
    private readonly kernel: KernelExports, buf: ArrayBufferLike, private readonly workers: Worker[],
    private readonly ctl: Int32Array, private readonly workerErrors: string[], private readonly shift: Float64Array | undefined) {
    this.wView = L.elem === 'f32' ? new Float32Array(buf, L.w, L.K * L.dp) : new Float64Array(buf, L.w, L.K * L.dp);
    this.bView = new Float64Array(buf, L.b, L.K);
    this.all = Array.from({ length: L.threads }, (_, t) => threadViews(buf, L, t));
    this.mine = this.all[0]!;
  }

  get threads(): number { return this.L.threads; }

  evaluate(W: Float64Array, b: Float64Array, gW: Float64Array, gb: Float64Array): number {
    if (this.closed) throw new ZsError('E_ENGINE_CLOSED', 'the loss engine was used after close()');
    const { d, K, dp } = this.L;
    const shift = this.shift, wv = this.wView;
    for (let k = 0; k < K; k++) {
      const o = k * d, to = k * dp;
      // (x - shift) . W + (b + shift . W) = x . W + b
      let bk = b[k]!;
      if (shift) for (let j = 0; j < d; j++) { const w = W[o + j]!; wv[to + j] = w; bk += shift[j]! * w; }
      else wv.set(W.subarray(o, o + d), to);
      this.bView[k] = bk;
    }
    const nw = this.workers.length;
    if (nw > 0) {
      Atomics.store(this.ctl, CTL.DONE, 0);
      Atomics.add(this.ctl, CTL.GEN, 1);
      Atomics.notify(this.ctl, CTL.GEN);
    }
    const [start, end] = threadRows(this.L, 0);
    runPass(this.kernel, this.L, this.mine, start, end);
    if (nw > 0) this.waitWorkers(nw);
    let loss = 0;
    gb.fill(0);
    for (const v of this.all) {
      loss += v.out[0]!;
      for (let k = 0; k < K; k++) gb[k]! += v.gb[k]!;
    }
    // per class: the threads' gradients summed, plus gb[k] * shift (d/dW of (x - shift) . W + shift . W)
    const all = this.all, nt = all.length;
    for (let k = 0; k < K; k++) {
      const gbk = gb[k]!, go = k * d, to = k * dp;
      const g0 = all[0]!.g;
      if (shift) for (let j = 0; j < d; j++) gW[go + j] = g0[to + j]! + gbk * shift[j]!;
      else for (let j = 0; j < d; j++) gW[go + j] = g0[to + j]!;
      for (let t = 1; t < nt; t++) {
        const g = all[t]!.g;
        for (let j = 0; j < d; j++) gW[go + j]! += g[to + j]!;
      }
    }
    return loss;
  }

  private waitWorkers(nw: number): void {
    const started = Date.now();
    for (;;) {
      const done = Atomics.load(this.ctl, CTL.DONE);
      if (done >= nw) break;
      if (Atomics.wait(this.ctl, CTL.DONE, done, 1000) === 'timed-out' && Date.now() - started > PASS_TIMEOUT_MS) {
        throw new ZsError('E_ENGINE_WORKER', `a loss-engine worker did not finish its pass in ${PASS_TIMEOUT_MS / 1000} s`,
          { hint: 'the machine may be out of memory; retry with fewer threads' });
      }
    }
    if (Atomics.load(this.ctl, CTL.FAILED) !== 0) {
      throw new ZsError('E_ENGINE_WORKER', `a loss-engine worker failed: ${this.workerErrors.join('; ') || 'unknown error'}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.workers.length === 0) return;
    Atomics.store(this.ctl, CTL.CMD, CTL.STOP);
    Atomics.add(this.ctl, CTL.GEN, 1);
    Atomics.notify(this.ctl, CTL.GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Spawns a worker (added to `all` at once, so that a failed start elsewhere can terminate it) and waits for its 'ready'. */
function startWorker(init: Record<string, unknown>, errors: string[], all: Worker[]): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const w = spawnWorker(init);
    all.push(w);
    const onError = (e: Error): void => { errors.push(e.message); reject(e); };
    const onExit = (code: number): void => reject(new Error(`worker exited with code ${code} before it was ready`));
    w.on('error', onError);
    w.once('exit', onExit);
    w.on('message', (m: { ready?: boolean; error?: string }) => {
      if (m.error) errors.push(m.error);
      if (m.ready) { w.off('exit', onExit); resolve(w); }
    });
  });
}

/** Copies the dataset into wasm memory, compiles the kernel for its shape and starts the workers. */
export async function createEngine(data: Dataset, options: EngineOptions = {}): Promise<LossEngine> {
  const precision = options.precision ?? 'f32';
  const threads = Math.max(1, Math.min(options.threads ?? defaultThreads(data), Math.ceil(data.n / 64)));
  const B = options.blockRows ?? 64;
  const dp = paddedDim(data.d, precision);
  const L = makeLayout(precision, data.n, data.d, dp, data.K, B, threads);
  const pages = Math.ceil(L.bytes / PAGE);
  if (pages > MAX_PAGES) {
    throw new ZsError('E_TOO_LARGE', `the features (${data.n} x ${data.d}, ${precision}) need ${(L.bytes / 2 ** 30).toFixed(1)} GiB, over the 4 GiB a WebAssembly memory can hold`,
      { hint: precision === 'f64' ? 'use float32 precision or fewer samples' : 'use fewer samples' });
  }
  const memory = sharedMemory(pages);
  fillMemory(memory.buffer, L, data, options.shift);
  const module = compileKernel({ elem: precision, dp, K: data.K }, pages);
  const kernel = instantiateKernel(module, memory);
  const ctl = new Int32Array(new SharedArrayBuffer(CTL.SLOTS * 4));
  const errors: string[] = [];
  const workers: Worker[] = [];
  const starts = Array.from({ length: threads - 1 }, (_, i) => {
    const [start, end] = threadRows(L, i + 1);
    return startWorker({ memory, module, layout: L, thread: i + 1, start, end, ctl }, errors, workers);
  });
  try {
    await Promise.all(starts);
  } catch (e) {
    await Promise.allSettled(starts);
    await Promise.all(workers.map((w) => w.terminate()));
    throw new ZsError('E_ENGINE_WORKER', `cannot start a loss-engine worker thread: ${e instanceof Error ? e.message : String(e)}`,
      { hint: 'retry with threads: 1', cause: e });
  }
  return new WasmEngine(data, precision, L, kernel, memory.buffer, workers, ctl, errors, options.shift);
}
