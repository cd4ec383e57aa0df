/**
 * Any Hugging Face tokenizer.json (Unigram/SentencePiece as SigLIP's, BPE with Metaspace or ByteLevel,
 * WordPiece) through @huggingface/tokenizers, the pure-JS engine transformers.js v4 uses. The package
 * is imported when the first such tokenizer is loaded. CLIP folders do not come here: they get our
 * exact CLIP tokenizer (clip-tokenizer.ts), because the engine follows tokenizer.json, which lacks
 * OpenAI's ftfy and html.unescape cleaning.
 *
 * Special tokens and truncation: a text is encoded with and without special tokens; the difference
 * is its prefix/suffix (from the post_processor), which truncation keeps (batch.ts). Padding uses
 * pad_token from tokenizer_config.json, else tokenizer.json's padding.pad_id; with neither, loading
 * fails with a message (no guessed padding id).
 */
import { ZsError, wrapError } from '../errors.js';
import { packBatch, type FramedIds, type TokenizeOptions, type TokenizedBatch, type Tokenizer } from './batch.js';
import { tokenName, type TokenizerConfig, type TokenizerJson } from './clip-tokenizer.js';

/** What we use of @huggingface/tokenizers' Tokenizer. */
interface HfEngine {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}

export interface HfTokenizerOptions {
  config?: TokenizerConfig;
  /** Default context length; else config.model_max_length (when finite); else required per call. */
  contextLength?: number;
  /** Where the files came from, for messages. */
  origin?: string;
}

function sameRun(full: readonly number[], content: readonly number[], at: number): boolean {
  for (let i = 0; i < content.length; i++) if (full[at + i] !== content[i]) return false;
  return true;
}

export class HfTokenizer implements Tokenizer {
  readonly kind = 'hf' as const;
  readonly contextLength: number;
  readonly padId: number;
  private readonly engine: HfEngine;

  constructor(engine: HfEngine, json: TokenizerJson, opts: HfTokenizerOptions = {}) {
    this.engine = engine;
    const config = opts.config ?? {};
    const origin = opts.origin ?? 'tokenizer.json';
    const padName = tokenName(config.pad_token);
    const padId = padName !== undefined ? engine.token_to_id(padName) : json.padding?.pad_id;
    if (padId === undefined) {
      throw new ZsError('E_TOKENIZER', `${origin}: no padding token (tokenizer_config.json pad_token or tokenizer.json padding.pad_id)`, {
        hint: 'use the tokenizer files that came with the model, or add pad_token to tokenizer_config.json',
      });
    }
    this.padId = padId;
    const maxLen = config.model_max_length;
    const fromConfig = typeof maxLen === 'number' && maxLen <= 1_000_000 ? maxLen : undefined;
    const length = opts.contextLength ?? fromConfig;
    if (length === undefined) {
      throw new ZsError('E_TOKENIZER', `${origin}: no context length (tokenizer_config.json model_max_length)`, {
        hint: 'pass contextLength when loading the tokenizer',
      });
    }
    this.contextLength = length;
  }

  encodeFramed(text: string): FramedIds {
    const full = this.engine.encode(text, { add_special_tokens: true }).ids;
    const content = this.engine.encode(text, { add_special_tokens: false }).ids;
    let at = 0;
    while (at + content.length <= full.length && !sameRun(full, content, at)) at++;
    if (at + content.length > full.length) return { prefix: [], content: full, suffix: [] };
    return { prefix: full.slice(0, at), content, suffix: full.slice(at + content.length) };
  }

  encode(text: string): number[] {
    return this.engine.encode(text, { add_special_tokens: true }).ids;
  }

  tokenize(texts: readonly string[], opts?: TokenizeOptions): TokenizedBatch {
    return packBatch(this, texts, opts);
  }
}

/** Builds the generic tokenizer from parsed tokenizer.json (+ tokenizer_config.json). */
export async function createHfTokenizer(json: TokenizerJson, opts: HfTokenizerOptions = {}): Promise<HfTokenizer> {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  let engine: HfEngine;
  try {
    engine = new Tokenizer({ added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...json }, opts.config ?? {}) as unknown as HfEngine;
  } catch (e) {
    throw wrapError(e, 'E_TOKENIZER', `cannot build a tokenizer from ${opts.origin ?? 'tokenizer.json'}`, 'the file may be damaged or of an unsupported kind; re-download the model');
  }
  return new HfTokenizer(engine, json, opts);
}
