/**
 * OpenAI's CLIP tokenizer, id for id (openai/CLIP simple_tokenizer.py + clip.tokenize), built from a
 * Hugging Face tokenizer.json (model.vocab, model.merges with the `</w>` suffix):
 *
 *   clean (clean.ts: ftfy subset, html.unescape twice, strip, \s+ -> ' ', lower)
 *   -> pre-tokens (unicode.ts: the simple_tokenizer regex, Python semantics)
 *   -> byte-level BPE per pre-token (bpe.ts); a pre-token that is exactly a special token's text maps
 *      to that token (simple_tokenizer's BPE cache does the same)
 *   -> [BOS] ids [EOS]
 *
 * Special tokens come from the files: bos/eos/pad names from tokenizer_config.json (or
 * special_tokens_map.json), else BOS/EOS from tokenizer.json's post_processor; their ids from
 * added_tokens / vocab. Padding uses pad_token, else tokenizer.json's padding.pad_id, else EOS, which
 * is the CLIPTokenizer class default (pad_token "<|endoftext|>"); the attention mask hides it and the
 * text model pools at the first EOS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { packBatch, type FramedIds, type TokenizeOptions, type TokenizedBatch, type Tokenizer } from './batch.js';
import { ByteLevelBpe } from './bpe.js';
import { createClipCleaner, type TextCleaner } from './clean.js';
import { clipPreTokenRegex } from './unicode.js';

/** The slice of tokenizer.json this module reads. */
export interface TokenizerJson {
  model?: { type?: string; vocab?: unknown; merges?: unknown; end_of_word_suffix?: string | null };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  post_processor?: Record<string, unknown> | null;
  padding?: { pad_id?: number } | null;
  [key: string]: unknown;
}

/** The slice of tokenizer_config.json / special_tokens_map.json this module reads. */
export interface TokenizerConfig {
  tokenizer_class?: string;
  model_max_length?: number;
  bos_token?: unknown;
  eos_token?: unknown;
  pad_token?: unknown;
  [key: string]: unknown;
}

export interface ClipTokenizerOptions {
  /** tokenizer_config.json contents (read from the folder when `source` is a folder). */
  config?: TokenizerConfig;
  /** Default context length; else config.model_max_length; else 77 (CLIP's). */
  contextLength?: number;
}

/** OpenAI CLIP's context length (clip.tokenize's default). */
export const CLIP_CONTEXT_LENGTH = 77;

export function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw wrapError(e, 'E_MODEL_FILE', `cannot read ${what} ${file}`, 'check the model folder (zs models pull MODEL re-downloads it)');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw wrapError(e, 'E_MODEL_FILE', `${what} ${file} is not valid JSON`, 'the file is damaged; re-download the model');
  }
}

/** tokenizer_config.json, with special_tokens_map.json filling in missing token names; {} when absent. */
export function readTokenizerConfig(dir: string): TokenizerConfig {
  const read = (name: string): TokenizerConfig => {
    try {
      return readJson(join(dir, name), name) as TokenizerConfig;
    } catch (e) {
      if (e instanceof ZsError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return {};
      throw e;
    }
  };
  return { ...read('special_tokens_map.json'), ...read('tokenizer_config.json') };
}

/** A token name from a config: "<|endoftext|>" or an AddedToken object { content }. */
export function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

function bad(message: string): ZsError {
  return new ZsError('E_TOKENIZER', message, { hint: 'use the tokenizer.json that came with the model (zs models pull MODEL)' });
}

function parseMerges(raw: unknown): Array<[string, string]> {
  if (!Array.isArray(raw)) throw bad('tokenizer.json has no model.merges list');
  return raw.map((m, i) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw bad(`tokenizer.json model.merges[${i}] is not a pair: ${JSON.stringify(m)}`);
    }
    return [pair[0], pair[1]];
  });
}

/** BOS and EOS names from a RobertaProcessing / BertProcessing / TemplateProcessing post_processor. */
function specialsFromPostProcessor(pp: Record<string, unknown> | null | undefined): { bos?: string; eos?: string } {
  if (!pp) return {};
  const first = (v: unknown) => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
  if (pp.type === 'RobertaProcessing' || pp.type === 'BertProcessing') return { bos: first(pp.cls), eos: first(pp.sep) };
  if (pp.type === 'TemplateProcessing' && Array.isArray(pp.single)) {
    const single = pp.single as Array<Record<string, { id?: string }>>;
    const seq = single.findIndex((p) => 'Sequence' in p);
    const name = (p: Record<string, { id?: string }> | undefined) => p?.SpecialToken?.id;
    return { bos: seq > 0 ? name(single[0]) : undefined, eos: seq >= 0 && seq < single.length - 1 ? name(single[single.length - 1]) : undefined };
  }
  return {};
}

export class ClipTokenizer implements Tokenizer {
  readonly kind = 'clip' as const;
  readonly contextLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly bpe: ByteLevelBpe;
  private readonly clean: TextCleaner;
  private readonly pattern = clipPreTokenRegex();
  private readonly specials: ReadonlyMap<string, number>;

  constructor(json: TokenizerJson, opts: ClipTokenizerOptions = {}) {
    const model = json?.model;
    if (!model || model.type !== 'BPE' || model.end_of_word_suffix !== '</w>') {
      throw bad('tokenizer.json is not a CLIP tokenizer (expected a BPE model with end_of_word_suffix "</w>")');
    }
    if (!model.vocab || typeof model.vocab !== 'object') throw bad('tokenizer.json has no model.vocab');
    const vocab = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
    for (const t of json.added_tokens ?? []) vocab.set(t.content, t.id);
    const config = opts.config ?? {};
    const fromPp = specialsFromPostProcessor(json.post_processor);
    const idOf = (name: string | undefined, role: string): number => {
      const id = name === undefined ? undefined : vocab.get(name);
      if (id === undefined) throw bad(`cannot find the ${role} token${name ? ` ${JSON.stringify(name)}` : ''} in tokenizer.json`);
      return id;
    };
    const bos = tokenName(config.bos_token) ?? fromPp.bos;
    const eos = tokenName(config.eos_token) ?? fromPp.eos;
    this.bosId = idOf(bos, 'start-of-text');
    this.eosId = idOf(eos, 'end-of-text');
    const pad = tokenName(config.pad_token);
    this.padId = pad !== undefined ? idOf(pad, 'padding') : (json.padding?.pad_id ?? this.eosId);
    this.specials = new Map([[bos!, this.bosId], [eos!, this.eosId]]);
    const maxLen = config.model_max_length;
    this.contextLength = opts.contextLength ?? (typeof maxLen === 'number' && maxLen <= 1_000_000 ? maxLen : CLIP_CONTEXT_LENGTH);
    this.bpe = new ByteLevelBpe(vocab, parseMerges(model.merges), { endOfWordSuffix: '</w>' });
    this.clean = createClipCleaner();
  }

  /** The cleaned, lowercased text the pre-token pattern runs on. */
  cleanText(text: string): string {
    return this.clean(text);
  }

  /** Content ids (no BOS/EOS), as SimpleTokenizer.encode. */
  encodeContent(text: string): number[] {
    const out: number[] = [];
    const re = this.pattern;
    re.lastIndex = 0;
    const cleaned = this.clean(text);
    for (let m = re.exec(cleaned); m !== null; m = re.exec(cleaned)) {
      const special = this.specials.get(m[0]);
      if (special !== undefined) out.push(special);
      else this.bpe.encodeWord(m[0], out);
    }
    return out;
  }

  encodeFramed(text: string): FramedIds {
    return { prefix: [this.bosId], content: this.encodeContent(text), suffix: [this.eosId] };
  }

  encode(text: string): number[] {
    return [this.bosId, ...this.encodeContent(text), this.eosId];
  }

  tokenize(texts: readonly string[], opts?: TokenizeOptions): TokenizedBatch {
    return packBatch(this, texts, opts);
  }
}

/** A CLIP tokenizer from a model folder (tokenizer.json + tokenizer_config.json) or a parsed tokenizer.json. */
export function loadClipTokenizer(source: string | TokenizerJson, opts: ClipTokenizerOptions = {}): ClipTokenizer {
  if (typeof source === 'string') {
    const json = readJson(join(source, 'tokenizer.json'), 'tokenizer file') as TokenizerJson;
    return new ClipTokenizer(json, { ...opts, config: opts.config ?? readTokenizerConfig(source) });
  }
  if (!source || typeof source !== 'object') throw new ZsError('E_INVALID_ARG', 'loadClipTokenizer needs a model folder or a parsed tokenizer.json', { kind: 'usage' });
  return new ClipTokenizer(source, opts);
}
