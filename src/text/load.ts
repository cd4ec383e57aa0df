/**
 * `loadTokenizer(dir)`: the right tokenizer for a model folder, behind one interface (batch.ts).
 *
 *  - CLIP folders (tokenizer_config.json tokenizer_class CLIPTokenizer / CLIPTokenizerFast, or, without
 *    a config, a BPE tokenizer.json with the "</w>" end-of-word suffix) -> our exact OpenAI CLIP
 *    tokenizer (clip-tokenizer.ts);
 *  - anything else (SigLIP's SentencePiece Unigram, BPE + Metaspace, WordPiece, ...) -> the generic
 *    tokenizer.json engine (hf-tokenizer.ts).
 */
import { join } from 'node:path';
import type { Tokenizer } from './batch.js';
import { loadClipTokenizer, readJson, readTokenizerConfig, type TokenizerConfig, type TokenizerJson } from './clip-tokenizer.js';
import { createHfTokenizer } from './hf-tokenizer.js';

export interface LoadTokenizerOptions {
  /** Default context length (else the folder's model_max_length; CLIP: 77). */
  contextLength?: number;
}

/** True when the folder's tokenizer is OpenAI CLIP's (see the header). */
export function isClipTokenizer(json: TokenizerJson, config: TokenizerConfig): boolean {
  const cls = config.tokenizer_class;
  if (typeof cls === 'string') return cls === 'CLIPTokenizer' || cls === 'CLIPTokenizerFast';
  return json.model?.type === 'BPE' && json.model.end_of_word_suffix === '</w>';
}

/** Loads the tokenizer of a model folder (tokenizer.json, tokenizer_config.json, special_tokens_map.json). */
export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const file = join(dir, 'tokenizer.json');
  const json = readJson(file, 'tokenizer file') as TokenizerJson;
  const config = readTokenizerConfig(dir);
  if (isClipTokenizer(json, config)) return loadClipTokenizer(json, { config, contextLength: opts.contextLength });
  return createHfTokenizer(json, { config, contextLength: opts.contextLength, origin: file });
}
