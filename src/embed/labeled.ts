/**
 * Features of a labelled dataset: JSONL features pass through; images are embedded with the model (through the
 * engine and its cache). Images that fail are reported and left out, with their labels.
 */
import type { LabeledSource } from '../data/labeled.js';
import type { Model, ImageFailure, EmbedProgress } from './model.js';

export interface LabeledFeatures {
  /** [n, d] row-major. */
  x: Float32Array;
  d: number;
  /** Class name of each row. */
  labels: string[];
  /** Source path of each row (images only). */
  paths?: string[];
  failures: ImageFailure[];
}

export async function labeledFeatures(
  src: LabeledSource,
  model: Model | undefined,
  opts: { onProgress?: (p: EmbedProgress) => void } = {},
): Promise<LabeledFeatures> {
  if (src.kind === 'features') {
    return { x: src.data, d: src.dims[1], labels: src.labels, failures: [] };
  }
  if (!model) throw new TypeError('labeledFeatures: images need a model');
  const r = await model.embedImages(src.paths, opts);
  return {
    x: r.embeddings.data,
    d: r.embeddings.dims[1],
    labels: r.indices.map((i) => src.labels[i]!),
    paths: r.indices.map((i) => src.paths[i]!),
    failures: r.failures,
  };
}
