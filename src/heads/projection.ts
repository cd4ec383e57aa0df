/**
 * The top of a CLIP-style image tower, read from its ONNX graph (src/onnx): the tensor entering the visual projection
 * MatMul that makes `image_embeds` (the post-layernorm pooled CLS) and the projection matrix from the initializers.
 * Fine-tuning (finetune.ts) starts from that matrix; the model is loaded with `featureOutput` = that tensor to embed
 * images as pre-projection features.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ZsError, wrapError } from '../errors.js';

export interface Projection {
  /** Graph tensor entering the projection (the features finetune takes). */
  feature: string;
  /** W0 [d, p]: row k maps a pre-projection row h [p] to embedding value k. */
  W0: Float32Array;
  d: number;
  p: number;
}

/** The projection of the vision graph `file` producing `output` (default image_embeds). */
export async function readProjection(file: string, output = 'image_embeds'): Promise<Projection> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw wrapError(e, 'E_MODEL_FILE', `cannot read ${file}`, 'download or export the model again');
  }
  const { readOnnxGraph, findClassifierInput, readInitializer } = await import('../onnx/index.js');
  const graph = readOnnxGraph(bytes, file);
  if (!graph.outputs.includes(output)) {
    throw new ZsError('E_NO_PRE_PROJECTION', `${file} has no ${output} output, so it has no visual projection to fine-tune (outputs: ${graph.outputs.join(', ')})`,
      { kind: 'usage', hint: 'fine-tune a CLIP-style model, or use another head' });
  }
  const c = findClassifierInput(graph, { output, file });
  const w = readInitializer(graph, c.weight, { baseDir: dirname(file), file });
  if (w.dims.length !== 2) throw new ZsError('E_NO_PRE_PROJECTION', `${file}: the projection ${c.weight} has shape [${w.dims.join(', ')}], not a matrix`, { hint: 'use another head' });
  // MatMul: [p, d] (x W); Gemm with transB: [d, p]
  const [r, c2] = w.dims as [number, number];
  const transposed = c.op === 'Gemm' && c.transB;
  const d = transposed ? r : c2, p = transposed ? c2 : r;
  const W0 = new Float32Array(d * p);
  for (let i = 0; i < r; i++) for (let j = 0; j < c2; j++) {
    const v = w.data[i * c2 + j]!;
    if (transposed) W0[i * p + j] = v; else W0[j * p + i] = v;
  }
  return { feature: c.feature, W0, d, p };
}
