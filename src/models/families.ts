/**
 * The model families zs can run, as data: which graphs a folder holds, which outputs are embeddings, how scores
 * are formed and how texts are padded. A folder's config.json `model_type` picks the family; adding a family is
 * adding an entry here, not an `if` in the loader.
 */
export type ModelKind = 'clip' | 'image-encoder';

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
  /** Graph base names under onnx/ (dtype suffix added by the loader). */
  graphs: { vision: string; text?: string; combined?: string };
  /** Output names holding the image embedding, in order of preference. */
  imageOutputs: string[];
  text?: TextSpec;
  /** How zero-shot scores are formed from logits: CLIP softmax over labels, SigLIP an independent sigmoid each. */
  score?: 'softmax' | 'sigmoid';
}

export const FAMILIES: readonly Family[] = [
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

export function familyOf(modelType: unknown): Family | undefined {
  return FAMILIES.find((f) => typeof modelType === 'string' && f.modelTypes.includes(modelType));
}

export function supportedModelTypes(): string[] {
  return FAMILIES.flatMap((f) => f.modelTypes);
}
