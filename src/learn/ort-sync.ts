/**
 * The onnxruntime product of ort-matmul.ts for synchronous callers (an L-BFGS objective): the session lives in a
 * worker thread (ort-worker.ts) and the caller blocks in Atomics.wait while it runs, as the probe engine's workers
 * do. Started lazily on the first product; `close()` ends it. Products below ORT_MIN_FLOPS stay on the WASM kernel.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ZsError } from '../errors.js';
import { workerExecArgv } from './engine.js';
import { ORT_MIN_FLOPS } from './ort-matmul.js';
import { productWith } from './matmul.js';

export interface SyncDenseProducts {
  /** Z [n, K] = X [n, d] W [K, d]' in float32 (onnxruntime at or above ORT_MIN_FLOPS, or always with force). */
  matmulT(x: ArrayLike<number>, n: number, w: ArrayLike<number>, K: number, d: number, force?: 'ort' | 'wasm'): Float32Array;
  close(): void;
}

function spawn(workerData: Record<string, unknown>, transfer: MessagePort[]): Worker {
  const execArgv = workerExecArgv(process.execArgv);
  const opts = { workerData, execArgv, transferList: transfer };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./ort-worker.js', import.meta.url), opts);
  const entry = new URL('./ort-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { ...opts, eval: true });
}

export function syncDenseProducts(options: { threads?: number } = {}): SyncDenseProducts {
  let state: { worker: Worker; ctl: Int32Array; port: MessagePort } | undefined;
  const bufs: Record<'x' | 'w' | 'y', SharedArrayBuffer | undefined> = { x: undefined, w: undefined, y: undefined };
  const shared = (k: 'x' | 'w' | 'y', values: number): Float32Array => {
    if (!bufs[k] || bufs[k]!.byteLength < values * 4) bufs[k] = new SharedArrayBuffer(Math.max(4, values * 4));
    return new Float32Array(bufs[k]!, 0, values);
  };
  const ort = (x: ArrayLike<number>, n: number, w: ArrayLike<number>, K: number, d: number): Float32Array => {
    if (!state) {
      const ctl = new Int32Array(new SharedArrayBuffer(4));
      const { port1, port2 } = new MessageChannel();
      const worker = spawn({ ctl: ctl.buffer, reply: port2, threads: options.threads }, [port2]);
      worker.unref();
      state = { worker, ctl, port: port1 };
    }
    shared('x', n * d).set(x.length === n * d ? x : Array.prototype.slice.call(x, 0, n * d));
    shared('w', K * d).set(w.length === K * d ? w : Array.prototype.slice.call(w, 0, K * d));
    shared('y', n * K);
    Atomics.store(state.ctl, 0, 0);
    state.worker.postMessage({ x: bufs.x, w: bufs.w, y: bufs.y, n, K, d });
    Atomics.wait(state.ctl, 0, 0);
    if (Atomics.load(state.ctl, 0) !== 1) {
      const msg = receiveMessageOnPort(state.port)?.message as string | undefined;
      throw new ZsError('E_INFERENCE', `onnxruntime product ${n}x${d} . ${d}x${K} failed: ${msg ?? 'no reason given'}`, {
        hint: 'this is a bug in zs: please report it with the message',
      });
    }
    return new Float32Array(bufs.y!, 0, n * K).slice();
  };
  return {
    matmulT(x, n, w, K, d, force) {
      if (x.length < n * d) throw new RangeError(`X has ${x.length} values, expected ${n} x ${d}`);
      if (w.length < K * d) throw new RangeError(`W has ${w.length} values, expected ${K} x ${d}`);
      if (n === 0 || K === 0) return new Float32Array(n * K);
      if (force ? force === 'ort' : n * K * d >= ORT_MIN_FLOPS) return ort(x, n, w, K, d);
      const wf = w instanceof Float32Array ? w.subarray(0, K * d) : Float32Array.from({ length: K * d }, (_, i) => w[i]!);
      const xf = x instanceof Float32Array ? x : Float32Array.from({ length: n * d }, (_, i) => x[i]!);
      return Float32Array.from(productWith(wf, K, d).apply(xf, n));
    },
    close() {
      if (!state) return;
      state.worker.postMessage('close');
      state.port.close();
      state = undefined;
    },
  };
}
