/**
 * Worker thread of ort-sync.ts: holds the onnxruntime Gemm session (onnx/build.ts) and runs one product per
 * message, reading X and W from shared memory and writing Y there, then wakes the blocked caller through ctl[0]
 * (1 done, 2 failed; the error's message goes on the reply port, which the caller reads synchronously).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { gemmTransBModel } from '../onnx/build.js';
import { createMemorySession, type Session } from '../runtime/session.js';

interface Job { x: SharedArrayBuffer; w: SharedArrayBuffer; y: SharedArrayBuffer; n: number; K: number; d: number }
const { ctl: ctlBuf, reply, threads } = workerData as { ctl: SharedArrayBuffer; reply: MessagePort; threads?: number };
const ctl = new Int32Array(ctlBuf);
let session: Promise<Session> | undefined;

parentPort!.on('message', (job: Job | 'close') => {
  if (job === 'close') {
    void (session ? session.then((s) => s.release()) : Promise.resolve()).finally(() => parentPort!.close());
    return;
  }
  void (async () => {
    try {
      session ??= createMemorySession(gemmTransBModel(), 'zs gemm (X W\')', { threads, spinning: false });
      const s = await session;
      const { n, K, d } = job;
      const T = s.ort.Tensor;
      // onnxruntime-node reads tensor data from plain ArrayBuffers: copy out of the shared memory
      const out = await s.run({
        A: new T('float32', new Float32Array(job.x, 0, n * d).slice(), [n, d]),
        B: new T('float32', new Float32Array(job.w, 0, K * d).slice(), [K, d]),
      });
      new Float32Array(job.y, 0, n * K).set(out.Y!.data as Float32Array);
      Atomics.store(ctl, 0, 1);
    } catch (e) {
      reply.postMessage(e instanceof Error ? e.message : String(e));
      Atomics.store(ctl, 0, 2);
    }
    Atomics.notify(ctl, 0);
  })();
});
