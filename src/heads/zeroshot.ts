/**
 * Zero-shot classification as in CLIP: each label's prompts are embedded and normalized, averaged, and normalized
 * again (the prompt ensemble); an image's score for a label is softmax over labels of scale * cos (CLIP) or an
 * independent sigmoid of scale * cos + bias (SigLIP).
 */
import { distinctStrings } from '../validate.js';
import { normalizeRows, matmulT, type Embeddings } from '../embed/embeddings.js';
import type { Model, ImageFailure, EmbedProgress } from '../embed/model.js';
import type { ImageInput } from '../image/index.js';
import { DEFAULT_TEMPLATE, checkTemplates, fillTemplate } from '../text/index.js';
import { rankRows, type Prediction } from './rank.js';

export type { Prediction };

export interface Classification {
  path: string;
  predictions: Prediction[];
}

export interface ZeroShotOptions {
  /** Prompt templates with `{}` where the label goes (default: "a photo of a {}."). */
  templates?: string[];
}

/** Averages the normalized prompt embeddings of each class and renormalizes: [C * T, d] -> [C, d]. */
export function ensemble(prompts: Embeddings, classes: number, templates: number): Embeddings {
  const d = prompts.dims[1];
  const out = new Float32Array(classes * d);
  for (let c = 0; c < classes; c++) {
    for (let t = 0; t < templates; t++) {
      const off = (c * templates + t) * d;
      for (let k = 0; k < d; k++) out[c * d + k]! += prompts.data[off + k]!;
    }
  }
  return { data: normalizeRows(out, d), dims: [classes, d] };
}

/** Turns logits [n, C] into scores in place: softmax per row, or sigmoid per entry. */
export function scoresFromLogits(logits: Float32Array, classes: number, kind: 'softmax' | 'sigmoid'): Float32Array {
  if (kind === 'sigmoid') {
    for (let i = 0; i < logits.length; i++) logits[i] = 1 / (1 + Math.exp(-logits[i]!));
    return logits;
  }
  for (let off = 0; off < logits.length; off += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[off + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[off + c]! - max);
    for (let c = 0; c < classes; c++) logits[off + c] = Math.exp(logits[off + c]! - max) / sum;
  }
  return logits;
}

export class ZeroShotClassifier {
  readonly labels: string[];
  readonly templates: string[];
  /** Class embeddings [C, d], L2-normalized. */
  readonly classEmbeddings: Embeddings;
  readonly scale: number;
  readonly bias: number;
  readonly scoreKind: 'softmax' | 'sigmoid';

  private constructor(labels: string[], templates: string[], classEmbeddings: Embeddings, scale: number, bias: number, kind: 'softmax' | 'sigmoid') {
    this.labels = labels;
    this.templates = templates;
    this.classEmbeddings = classEmbeddings;
    this.scale = scale;
    this.bias = bias;
    this.scoreKind = kind;
  }

  static async create(model: Model, labels: string[], opts: ZeroShotOptions = {}): Promise<ZeroShotClassifier> {
    distinctStrings('labels', labels);
    const templates = checkTemplates(opts.templates ?? [DEFAULT_TEMPLATE]);
    const prompts = labels.flatMap((l) => templates.map((t) => fillTemplate(t, l)));
    const embedded = await model.embedTexts(prompts); // [C * T, d], rows normalized
    const { scale, bias } = await model.logitScale();
    const kind = model.folder.family.score ?? 'softmax';
    return new ZeroShotClassifier(labels, templates, ensemble(embedded, labels.length, templates.length), scale, bias, kind);
  }

  /** Scores for normalized image embeddings [n, d] -> [n, C]. */
  scores(images: Embeddings): Float32Array {
    const logits = matmulT(images, this.classEmbeddings);
    for (let i = 0; i < logits.length; i++) logits[i] = this.scale * logits[i]! + this.bias;
    return scoresFromLogits(logits, this.labels.length, this.scoreKind);
  }

  /** Ranks labels per image; `topK` keeps the best k (all by default). */
  rank(scores: Float32Array, n: number, topK = this.labels.length): Prediction[][] {
    return rankRows(scores, n, this.labels, topK);
  }

  /** Embeds and classifies images; failed images are returned separately. */
  async classify(
    model: Model,
    inputs: ImageInput[],
    opts: { topK?: number; onProgress?: (p: EmbedProgress) => void } = {},
  ): Promise<{ results: Classification[]; failures: ImageFailure[] }> {
    const { embeddings, indices, failures } = await model.embedImages(inputs, { onProgress: opts.onProgress });
    if (indices.length === 0) return { results: [], failures };
    const ranked = this.rank(this.scores(embeddings), indices.length, opts.topK);
    const results = indices.map((idx, i) => ({
      path: typeof inputs[idx] === 'string' ? (inputs[idx] as string) : `#${idx + 1}`,
      predictions: ranked[i]!,
    }));
    return { results, failures };
  }
}
