/**
 * A classifier graph's own supervised head (`zs classify --imagenet`): softmax over the graph's logits, labels from
 * config.json id2label (ImageNet-1k for the catalog's CNNs). The logits come from the same edited graph the
 * embeddings do (src/models/feature-graph.ts keeps the original outputs).
 */
import type { Model, ImageFailure, EmbedProgress } from '../embed/model.js';
import type { ImageInput } from '../image/index.js';
import { ZsError } from '../errors.js';
import { scoresFromLogits, type Classification } from './zeroshot.js';
import { rankRows } from './rank.js';

/** Top-k own labels per image; failed images are returned separately. */
export async function classifyOwnLabels(
  model: Model,
  inputs: ImageInput[],
  opts: { topK?: number; onProgress?: (p: EmbedProgress) => void } = {},
): Promise<{ results: Classification[]; failures: ImageFailure[]; labels: string[] }> {
  const { embeddings: logits, indices, failures } = await model.imageLogits(inputs, { onProgress: opts.onProgress });
  const labels = model.classLabels!;
  if (indices.length === 0) return { results: [], failures, labels };
  const classes = logits.dims[1];
  if (classes !== labels.length) {
    throw new ZsError('E_MODEL_GRAPH', `${model.info.id} outputs ${classes} logits but its config.json id2label has ${labels.length} labels`, {
      hint: 'the graph and config.json do not belong together: download or export the model again',
    });
  }
  const scores = scoresFromLogits(logits.data, classes, 'softmax'); // [n, C]
  const ranked = rankRows(scores, indices.length, labels, Math.min(opts.topK ?? 5, classes));
  const results = indices.map((idx, i) => ({
    path: typeof inputs[idx] === 'string' ? (inputs[idx] as string) : `#${idx + 1}`,
    predictions: ranked[i]!,
  }));
  return { results, failures, labels };
}
