/**
 * The model families zs can run, as data: which graphs a folder holds, which outputs are embeddings, how scores
 * are formed and how texts are padded. A folder's config.json `model_type` picks the family; adding a family is
 * adding an entry here, not an `if` in the loader.
 */
export type ModelKind = 'clip' | 'image-encoder' | 'image-classifier';

export interface TextSpec {
  /** 'longest': pad to the longest text of the batch (with an attention mask); 'max': pad to contextLength. */
  pad: 'longest' | 'max';
  /** Output names holding the text embedding, in order of preference. */
  outputs: string[];
}

export interface Family {
  name: string;
  kind: ModelKind;
  /** config.json model_type values of this family. */
  modelTypes: string[];
  /** config.json `architectures` name endings that pick this family whatever the model_type (checked first). */
  architectureSuffixes?: string[];
  /** Graph base names under onnx/ (dtype suffix added by the loader). */
  graphs: { vision: string; text?: string; combined?: string };
  /** Output names holding the image embedding, in order of preference (empty: see imageFeature). */
  imageOutputs: string[];
  /**
   * 'classifier-input': the graph is a classifier; its embedding is the pooled tensor entering the classifier head,
   * exposed as an extra output by editing the graph at load (src/models/feature-graph.ts, rule in src/onnx/classifier.ts).
   */
  imageFeature?: 'classifier-input';
  /** Output holding class logits, labelled by config.json id2label (`zs classify --imagenet`). */
  logitsOutput?: string;
  text?: TextSpec;
  /** How zero-shot scores are formed from logits: CLIP softmax over labels, SigLIP an independent sigmoid each. */
  score?: 'softmax' | 'sigmoid';
}

export const FAMILIES: readonly Family[] = [
  {
    name: 'image classifier',
    kind: 'image-classifier',
    modelTypes: [],
    architectureSuffixes: ['ForImageClassification'],
    graphs: { vision: 'model' },
    imageOutputs: [],
    imageFeature: 'classifier-input',
    logitsOutput: 'logits',
  },
  {
    name: 'CLIP',
    kind: 'clip',
    modelTypes: ['clip'],
    graphs: { vision: 'vision_model', text: 'text_model', combined: 'model' },
    imageOutputs: ['image_embeds'],
    text: { pad: 'longest', outputs: ['text_embeds'] },
    score: 'softmax',
  },
  {
    name: 'SigLIP',
    kind: 'clip',
    modelTypes: ['siglip'],
    graphs: { vision: 'vision_model', text: 'text_model', combined: 'model' },
    imageOutputs: ['image_embeds', 'pooler_output'],
    text: { pad: 'max', outputs: ['text_embeds', 'pooler_output'] },
    score: 'sigmoid',
  },
  {
    name: 'image encoder',
    kind: 'image-encoder',
    modelTypes: ['vit', 'dinov2', 'deit', 'beit', 'clip_vision_model', 'siglip_vision_model'],
    graphs: { vision: 'model' },
    imageOutputs: ['image_embeds', 'pooler_output'],
  },
];

/** The family of a config.json: by an `architectures` ending first (an image classifier of any model_type), else by model_type. */
export function familyOf(config: { model_type?: unknown; architectures?: unknown }): Family | undefined {
  const archs = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  return FAMILIES.find((f) => f.architectureSuffixes?.some((s) => archs.some((a) => a.endsWith(s))))
    ?? FAMILIES.find((f) => typeof config.model_type === 'string' && f.modelTypes.includes(config.model_type));
}

/** What zs runs, for error hints: model types and architecture endings. */
export function supportedModelTypes(): string[] {
  return FAMILIES.flatMap((f) => [...f.modelTypes, ...(f.architectureSuffixes ?? []).map((s) => `*${s}`)]);
}
