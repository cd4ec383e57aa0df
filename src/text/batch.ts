/**
 * The tokenizer interface every model family shares, and the batching step: texts -> int64 `input_ids`
 * and `attention_mask` tensors `[n, L]` (row-major) for onnxruntime.
 *
 * Truncation keeps the special tokens: a text too long for the context keeps its prefix (e.g. BOS),
 * the first `L - prefix - suffix` content tokens and its suffix (e.g. EOS) last, which is what
 * `clip.tokenize(..., truncate=True)` and the Python tokenizers produce (CLIP pools at the first EOS).
 */
import { ZsError } from '../errors.js';
import { int, oneOf } from '../validate.js';

export interface TokenizeOptions {
  /** Longest row, special tokens included (default: the tokenizer's, 77 for CLIP). */
  contextLength?: number;
  /** Cut texts that are too long (true, default) or throw a usage error naming the text (false). */
  truncate?: boolean;
  /** Pad every row to contextLength ('max', default) or to the longest row of this batch ('longest'). */
  padTo?: 'longest' | 'max';
}

export interface TokenizedBatch {
  inputIds: BigInt64Array; // [n, L] row-major
  attentionMask: BigInt64Array; // [n, L], 1 for tokens, 0 for padding
  dims: [number, number];
  /** Indices of the texts that were cut to fit (for a warning). */
  truncated: number[];
}

/** A text's ids in three parts, so that truncation can keep the special tokens. */
export interface FramedIds {
  prefix: readonly number[];
  content: number[];
  suffix: readonly number[];
}

export interface Tokenizer {
  /** 'clip': our exact CLIP BPE; 'hf': the generic tokenizer.json engine. */
  readonly kind: 'clip' | 'hf';
  /** Default context length (model_max_length). */
  readonly contextLength: number;
  readonly padId: number;
  /** Ids with the special tokens, not truncated. */
  encode(text: string): number[];
  /** Prefix / content / suffix ids of one text. */
  encodeFramed(text: string): FramedIds;
  tokenize(texts: readonly string[], opts?: TokenizeOptions): TokenizedBatch;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Encodes, truncates and pads `texts` into int64 tensors (shared by every Tokenizer). */
export function packBatch(tok: Pick<Tokenizer, 'encodeFramed' | 'padId' | 'contextLength'>, texts: readonly string[], opts: TokenizeOptions = {}): TokenizedBatch {
  if (!Array.isArray(texts)) throw new ZsError('E_INVALID_ARG', 'invalid texts: expected an array of strings', { kind: 'usage' });
  const L = int('contextLength', opts.contextLength ?? tok.contextLength, 2);
  const truncate = opts.truncate ?? true;
  const padTo = oneOf('padTo', opts.padTo ?? 'max', ['longest', 'max'] as const);
  const rows: FramedIds[] = new Array(texts.length);
  const truncated: number[] = [];
  let longest = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    if (typeof text !== 'string') {
      throw new ZsError('E_INVALID_ARG', `invalid text #${i + 1}: ${typeof text} (expected a string)`, { kind: 'usage' });
    }
    const framed = tok.encodeFramed(text);
    const specials = framed.prefix.length + framed.suffix.length;
    const total = specials + framed.content.length;
    if (total > L) {
      if (!truncate) {
        throw new ZsError('E_TEXT_TOO_LONG', `text #${i + 1} is ${total} tokens, longer than the ${L}-token context: ${preview(text)}`, {
          kind: 'usage',
          hint: 'shorten the text, or allow truncation (truncate: true)',
        });
      }
      if (specials > L) throw new ZsError('E_INVALID_ARG', `contextLength ${L} cannot hold the ${specials} special tokens`, { kind: 'usage' });
      framed.content.length = L - specials; // keep the first tokens; the suffix (EOS) stays last
      truncated.push(i);
    }
    rows[i] = framed;
    longest = Math.max(longest, specials + framed.content.length);
  }
  const width = padTo === 'max' ? L : longest;
  const n = texts.length;
  const inputIds = new BigInt64Array(n * width); // [n, L]
  const attentionMask = new BigInt64Array(n * width); // [n, L]
  // int64 written as (low, high) 32-bit words on little-endian machines: ids are small and non-negative
  const ids32 = LITTLE_ENDIAN ? new Int32Array(inputIds.buffer) : undefined;
  const mask32 = LITTLE_ENDIAN ? new Int32Array(attentionMask.buffer) : undefined;
  const put = (i: number, j: number, id: number, real: boolean): void => {
    const k = i * width + j;
    if (ids32 && mask32) {
      ids32[2 * k] = id;
      mask32[2 * k] = real ? 1 : 0;
    } else {
      inputIds[k] = BigInt(id);
      attentionMask[k] = real ? 1n : 0n;
    }
  };
  for (let i = 0; i < n; i++) {
    const { prefix, content, suffix } = rows[i]!;
    let j = 0;
    for (let a = 0; a < prefix.length; a++) put(i, j++, prefix[a]!, true);
    for (let a = 0; a < content.length; a++) put(i, j++, content[a]!, true);
    for (let a = 0; a < suffix.length; a++) put(i, j++, suffix[a]!, true);
    while (j < width) put(i, j++, tok.padId, false);
  }
  return { inputIds, attentionMask, dims: [n, width], truncated };
}
