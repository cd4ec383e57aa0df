/**
 * The preprocessing stage of the embedding engine: image (path or bytes) -> [3, H, W] float32 pixels, either in
 * worker threads (engine-worker.ts) or, with `workers: 0`, on the calling thread.
 *
 * Why workers: onnxruntime-node's `session.run()` computes synchronously on the JS thread that calls it, so
 * JavaScript on the main thread (the resample and normalization) cannot overlap inference; sharp's decode runs on
 * libuv's pool either way. Jobs are handed to the worker with the fewest jobs outstanding at submit time and queue
 * inside it, so workers keep going while the main thread is blocked in inference (a worker cannot pull work from a
 * blocked thread). Each worker has up to `init.concurrency` jobs decoding at once (sharp decodes one image per
 * libvips thread, so one image in flight would leave a core idle while JavaScript resamples).
 *
 * Pixel buffers are transferred to the worker and back (no copies) and recycled through a free list: memory is
 * (jobs in flight) x 3*H*W floats, whatever the number of images. Workers start on the first job and are unref'd
 * while idle, so a forgotten `close()` does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { ZsError, type ZsErrorKind } from '../errors.js';
import { createPreprocessor, type Preprocessor, type PreprocessorOptions } from '../image/preprocess.js';
import type { ImageInput } from '../image/decode.js';

/** What a worker needs to build its preprocessor (all structured-cloneable). */
export interface PrepInit {
  config: object;
  options: PreprocessorOptions;
  file: string;
  /** Images decoding at once in one worker. */
  concurrency: number;
}
export interface PrepJob { id: number; input: ImageInput; name?: string; out: ArrayBuffer }
export interface PrepReply {
  id: number;
  out: ArrayBuffer;
  error?: { code: string; message: string; hint: string | undefined; kind: ZsErrorKind };
}

export interface Prep {
  /** Preprocesses one image; resolves to its [3, H, W] pixels (give them back with `release`). */
  submit(input: ImageInput, name?: string): Promise<Float32Array>;
  /** Returns a pixel buffer from `submit` for reuse. */
  release(pixels: Float32Array): void;
  close(): Promise<void>;
}

/** Free list of per-image pixel buffers. */
class Buffers {
  private readonly free: ArrayBuffer[] = [];
  constructor(private readonly bytes: number) {}
  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(this.bytes);
  }
  give(buf: ArrayBuffer): void {
    if (buf.byteLength === this.bytes) this.free.push(buf);
  }
}

/** Preprocessing on the calling thread, at most `concurrency` decodes at once (the simple path). */
export function mainThreadPrep(pre: Preprocessor, concurrency = 2): Prep {
  const buffers = new Buffers(3 * pre.height * pre.width * 4);
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async submit(input, name) {
      if (active >= concurrency) await new Promise<void>((r) => waiting.push(r));
      active++;
      const out = new Float32Array(buffers.take());
      try {
        return await pre.run(input, out, 0, name);
      } catch (e) {
        buffers.give(out.buffer as ArrayBuffer);
        throw e;
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
    release: (pixels) => buffers.give(pixels.buffer as ArrayBuffer),
    close: async () => {},
  };
}

/**
 * A worker running engine-worker: the built .js next to this file; when running from the .ts sources (tests
 * under tsx) a bootstrap that registers tsx in the worker first, since loader hooks are per thread.
 */
function spawn(init: PrepInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./engine-worker.js', import.meta.url), { workerData: init });
  const entry = new URL('./engine-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

interface Pending { resolve: (p: Float32Array) => void; reject: (e: ZsError) => void }

class WorkerSlot {
  readonly pending = new Map<number, Pending>();
  constructor(readonly worker: Worker) {}
}

/** Preprocessing in `workers` worker threads (see the header). */
export function workerPrep(init: PrepInit, workers: number, floats: number): Prep {
  createPreprocessor(init.config, init.options, init.file); // fail here, in the caller's thread, on a bad config
  const buffers = new Buffers(floats * 4);
  let nextId = 0;
  let broken: ZsError | undefined;
  let closing = false;
  const slots: WorkerSlot[] = [];

  const fail = (slot: WorkerSlot, why: string): void => {
    broken ??= new ZsError('E_PREP_WORKER', `an image preprocessing worker stopped: ${why}`, {
      hint: 'the machine may be out of memory; retry with fewer --threads or a smaller --batch-size',
    });
    for (const p of slot.pending.values()) p.reject(broken);
    slot.pending.clear();
    slot.worker.unref();
  };

  const start = (): void => {
    for (let i = 0; i < workers; i++) {
      const slot = new WorkerSlot(spawn(init));
      slot.worker.unref();
      slot.worker.on('message', (m: PrepReply) => {
        const p = slot.pending.get(m.id);
        if (!p) return;
        slot.pending.delete(m.id);
        if (slot.pending.size === 0) slot.worker.unref();
        if (m.error) {
          buffers.give(m.out);
          p.reject(new ZsError(m.error.code, m.error.message, { hint: m.error.hint, kind: m.error.kind }));
        } else {
          p.resolve(new Float32Array(m.out));
        }
      });
      slot.worker.on('error', (e) => fail(slot, e.message));
      slot.worker.on('exit', (code) => { if (!closing) fail(slot, `it exited with code ${code}`); });
      slots.push(slot);
    }
  };

  return {
    submit(input, name) {
      if (broken) return Promise.reject(broken);
      if (closing) return Promise.reject(new ZsError('E_PREP_CLOSED', 'the embedding engine is closed', { hint: 'load the model again' }));
      if (slots.length === 0) start(); // on first use: a run the cache answers starts no thread
      let slot = slots[0]!;
      for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
      const id = nextId++;
      // a view into a larger buffer would be cloned whole: copy just the image bytes, then transfer them
      const bytes = typeof input === 'string' ? input : input.slice();
      const out = buffers.take();
      return new Promise<Float32Array>((resolve, reject) => {
        slot.pending.set(id, { resolve, reject });
        if (slot.pending.size === 1) slot.worker.ref();
        const transfer: ArrayBuffer[] = [out];
        if (typeof bytes !== 'string') transfer.push(bytes.buffer as ArrayBuffer);
        slot.worker.postMessage({ id, input: bytes, name, out } satisfies PrepJob, transfer);
      });
    },
    release: (pixels) => buffers.give(pixels.buffer as ArrayBuffer),
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      for (const s of slots) {
        for (const p of s.pending.values()) p.reject(new ZsError('E_PREP_CLOSED', 'the embedding engine was closed while images were in flight'));
        s.pending.clear();
      }
    },
  };
}
