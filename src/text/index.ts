/**
 * zs text: tokenizers (OpenAI-exact CLIP BPE; any other tokenizer.json through @huggingface/tokenizers)
 * and prompt templates. `loadTokenizer(dir)` picks the right tokenizer for a model folder.
 */
export type { Tokenizer, TokenizeOptions, TokenizedBatch, FramedIds } from './batch.js';
export { packBatch } from './batch.js';
export { ClipTokenizer, loadClipTokenizer, CLIP_CONTEXT_LENGTH, type ClipTokenizerOptions, type TokenizerJson, type TokenizerConfig } from './clip-tokenizer.js';
export { HfTokenizer, createHfTokenizer, type HfTokenizerOptions } from './hf-tokenizer.js';
export { loadTokenizer, isClipTokenizer, type LoadTokenizerOptions } from './load.js';
export { createClipCleaner, type TextCleaner } from './clean.js';
export {
  DEFAULT_TEMPLATE,
  checkTemplate,
  checkTemplates,
  fillTemplate,
  templateSetNames,
  loadTemplateSet,
  datasetClasses,
  readTemplatesFile,
  resolveTemplates,
  type TemplateSet,
} from './templates.js';
