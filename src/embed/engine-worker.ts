/**
 * Preprocessing worker of the embedding engine (engine-prep.ts): decodes images (sharp, whose decode itself runs
 * on libuv's thread pool) and runs the PIL-exact resample and normalization (JavaScript) off the main thread,
 * which is busy running onnxruntime (its `session.run` blocks the thread that calls it).
 *
 * Messages in:  { id, input: path | Uint8Array, name?, out: ArrayBuffer }   `out` is transferred in and back
 * Messages out: { id, out, error?: { code, message, hint, kind } }          pixels are [3, H, W] CHW float32
 * Up to `concurrency` jobs run at once (their decodes overlap), the rest wait in order; each answers when done.
 * Bounding it bounds memory: a full-size decode of a 12 MP photo is 36 MB of RGB.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPreprocessor } from '../image/preprocess.js';
import { ZsError } from '../errors.js';
import type { PrepJob, PrepReply, PrepInit } from './engine-prep.js';

function serve(init: PrepInit): void {
  const pre = createPreprocessor(init.config, init.options, init.file);
  const port = parentPort!;
  const queue: PrepJob[] = [];
  let active = 0;
  const next = (): void => {
    while (active < init.concurrency && queue.length > 0) {
      const job = queue.shift()!;
      active++;
      const out = new Float32Array(job.out); // [3, H, W]
      pre.run(job.input, out, 0, job.name).then(
        () => port.postMessage({ id: job.id, out: job.out } satisfies PrepReply, [job.out]),
        (e: unknown) => {
          const err = e instanceof ZsError
            ? { code: e.code, message: e.message, hint: e.hint, kind: e.kind }
            : { code: 'E_IMAGE', message: e instanceof Error ? e.message : String(e), hint: undefined, kind: 'runtime' as const };
          port.postMessage({ id: job.id, out: job.out, error: err } satisfies PrepReply, [job.out]);
        },
      ).finally(() => { active--; next(); });
    }
  };
  port.on('message', (job: PrepJob) => { queue.push(job); next(); });
}

serve(workerData as PrepInit);
