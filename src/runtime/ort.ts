/** Lazy access to onnxruntime-node, so `zs --help` and feature-only commands never load the native addon. */
import { ZsError } from '../errors.js';

export type Ort = typeof import('onnxruntime-node');

export async function loadOrt(): Promise<Ort> {
  try {
    const mod = await import('onnxruntime-node');
    return ((mod as unknown as { default?: Ort }).default ?? mod) as Ort;
  } catch (e) {
    throw new ZsError('E_ORT_LOAD', `cannot load onnxruntime-node: ${(e as Error).message}`, {
      hint: 'reinstall dependencies with `npm ci` (set ONNXRUNTIME_NODE_INSTALL=skip on machines without internet access to NuGet)',
      cause: e,
    });
  }
}
