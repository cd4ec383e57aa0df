/**
 * Byte-level BPE with an end-of-word suffix, as CLIP uses it (openai/CLIP simple_tokenizer.py `bpe`):
 * a word's UTF-8 bytes are mapped to printable characters (GPT-2's bytes_to_unicode table), the last
 * one gets `</w>`, then the adjacent pair with the lowest merge rank is merged everywhere, repeatedly,
 * until no ranked pair is left. Results are cached per word (bounded), so a prompt set with 80
 * templates and 1000 class names runs BPE once per distinct word.
 */
import { ZsError } from '../errors.js';

/** GPT-2 / CLIP table: byte -> printable character (printable Latin-1 bytes map to themselves). */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return table;
}

export interface BpeOptions {
  /** Appended to a word's last symbol before merging ('</w>' for CLIP). */
  endOfWordSuffix: string;
  /** Most words kept in the cache before it is emptied. */
  cacheSize?: number;
}

export class ByteLevelBpe {
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly ranks: Map<string, number>;
  private readonly byteChars: string[];
  private readonly suffix: string;
  private readonly cache = new Map<string, readonly number[]>();
  private readonly cacheSize: number;
  private readonly utf8 = new TextEncoder();

  /** `merges` in rank order, each [left, right]. */
  constructor(vocab: ReadonlyMap<string, number>, merges: ReadonlyArray<readonly [string, string]>, opts: BpeOptions) {
    this.vocab = vocab;
    this.ranks = new Map();
    merges.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i)); // a repeated merge keeps its last rank, as dict(zip(...))
    this.byteChars = bytesToUnicode();
    this.suffix = opts.endOfWordSuffix;
    this.cacheSize = opts.cacheSize ?? 100_000;
  }

  /** Appends the ids of one pre-token (a word, before byte mapping) to `out`. */
  encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.merge(word);
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  private merge(word: string): number[] {
    const bytes = this.utf8.encode(word);
    let symbols: string[] = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) symbols[i] = this.byteChars[bytes[i]!]!;
    if (symbols.length === 0) return [];
    symbols[symbols.length - 1] += this.suffix;
    while (symbols.length > 1) {
      let best = Infinity;
      let bestKey = '';
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        const r = this.ranks.get(key);
        if (r !== undefined && r < best) {
          best = r;
          bestKey = key;
        }
      }
      if (best === Infinity) break;
      const sp = bestKey.indexOf(' ');
      const first = bestKey.slice(0, sp);
      const second = bestKey.slice(sp + 1);
      const next: string[] = [];
      for (let i = 0; i < symbols.length; ) {
        if (i + 1 < symbols.length && symbols[i] === first && symbols[i + 1] === second) {
          next.push(first + second);
          i += 2;
        } else {
          next.push(symbols[i]!);
          i += 1;
        }
      }
      symbols = next;
    }
    return symbols.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) {
        throw new ZsError('E_TOKENIZER', `BPE produced ${JSON.stringify(s)}, which the vocabulary lacks`, {
          hint: 'the tokenizer.json vocab and merges do not belong together; re-download the model',
        });
      }
      return id;
    });
  }
}
