/**
 * Worker thread of the loss engine (engine.ts). It instantiates the kernel on the shared memory, says
 * 'ready', then serves passes: it sleeps on ctl[GEN] until the main thread bumps it, runs its rows
 * (engine-pass.ts), counts itself done in ctl[DONE] and wakes the main thread. ctl[CMD] = STOP ends it.
 * Errors are reported through ctl[FAILED] (the main thread is blocked in Atomics.wait and cannot take
 * messages), with the text posted as a message for the engine to rethrow.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runPass, threadViews, type Layout } from './engine-pass.js';
import { instantiateKernel, type WasmMemory, type WasmModule } from './wasm-kernel.js';
import { CTL } from './engine-ctl.js';

interface WorkerInit {
  memory: WasmMemory;
  module: WasmModule;
  layout: Layout;
  thread: number;
  start: number;
  end: number;
  ctl: Int32Array;
}

function serve(init: WorkerInit): void {
  const { memory, module, layout, thread, start, end, ctl } = init;
  const kernel = instantiateKernel(module, memory);
  const views = threadViews(memory.buffer, layout, thread);
  parentPort!.postMessage({ ready: true });
  let gen = 0; // the control array starts zeroed; never read it here (the main thread may already have bumped it)
  for (;;) {
    Atomics.wait(ctl, CTL.GEN, gen);
    gen = Atomics.load(ctl, CTL.GEN);
    if (Atomics.load(ctl, CTL.CMD) === CTL.STOP) return;
    try {
      runPass(kernel, layout, views, start, end);
    } catch (e) {
      parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
      Atomics.store(ctl, CTL.FAILED, 1);
    }
    Atomics.add(ctl, CTL.DONE, 1);
    Atomics.notify(ctl, CTL.DONE);
  }
}

serve(workerData as WorkerInit);
