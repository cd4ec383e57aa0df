/**
 * Tokenizer tests: OpenAI CLIP parity (the 279 reference texts of clip-reference.json and the goldens of
 * scripts/make-token-goldens.py), Python semantics on all of Unicode (pre-token classes, lower()),
 * ftfy / html.unescape pieces, batching (truncation keeps EOS, padding, int64 layout), special tokens
 * read from the files, and the generic tokenizer.json path on a small hand-made Unigram model.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_DIR, REF_DIR, FIXTURES, tempDir } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import { loadClipTokenizer, loadTokenizer, type TokenizerJson } from '../src/text/index.js';
import { preTokenClass, pyLower } from '../src/text/unicode.js';
import { loadHtmlTables, pyHtmlUnescape, ftfyUnescapeHtml } from '../src/text/html.js';
import { fixMojibake, loadMojibakeTable } from '../src/text/mojibake.js';
import { fixText } from '../src/text/ftfy.js';

interface Golden { text: string; ftfy?: string; clean: string; ids: number[]; note: string }
const ref = JSON.parse(readFileSync(join(REF_DIR, 'clip-reference.json'), 'utf8')) as { texts: Array<{ text: string; input_ids: number[] }> };
const goldens = JSON.parse(readFileSync(join(FIXTURES, 'token-goldens.json'), 'utf8')) as {
  cases: Golden[]; classRuns: Array<[number, number]>; lower: Record<string, string>; assignedRanges: Array<[number, number]>; bos: number; eos: number;
};
const tok = loadClipTokenizer(CLIP_DIR);

test('the 279 reference texts give OpenAI CLIP ids', () => {
  assert.is(ref.texts.length, 279);
  const bad = ref.texts.filter((t) => JSON.stringify(tok.encode(t.text)) !== JSON.stringify(t.input_ids)).map((t) => t.text);
  assert.equal(bad, []);
});

test('golden strings (unicode, punctuation, case, whitespace, entities, ftfy fixes) match', () => {
  assert.ok(goldens.cases.length > 150);
  for (const g of goldens.cases) {
    assert.is(tok.cleanText(g.text), g.clean, `clean ${JSON.stringify(g.text)} (${g.note})`);
    assert.equal(tok.encode(g.text), g.ids, `ids ${JSON.stringify(g.text)} (${g.note})`);
  }
});

test('special token ids come from the files', () => {
  assert.is(tok.bosId, goldens.bos);
  assert.is(tok.eosId, goldens.eos);
  assert.is(tok.padId, goldens.eos); // tokenizer_config pad_token "<|endoftext|>"
  assert.is(tok.contextLength, 77);
  // a tokenizer.json whose specials have other ids: BOS/EOS follow its post_processor and vocab
  const json = JSON.parse(readFileSync(join(CLIP_DIR, 'tokenizer.json'), 'utf8')) as TokenizerJson & { model: { vocab: Record<string, number> } };
  json.model.vocab['<|startoftext|>'] = 7;
  json.model.vocab['<|endoftext|>'] = 9;
  json.added_tokens = [];
  json.post_processor = { type: 'RobertaProcessing', cls: ['<|startoftext|>', 7], sep: ['<|endoftext|>', 9] };
  const other = loadClipTokenizer(json);
  assert.equal(other.encode('a <|endoftext|>'), [7, tok.encode('a')[1]!, 9, 9]);
  assert.is(other.padId, 9); // no config, padding null: the CLIPTokenizer default pad_token (EOS)
});

test('pre-token classes equal Python regex on every code point', () => {
  const runs = goldens.classRuns;
  const bad: string[] = [];
  for (let r = 0; r < runs.length; r++) {
    const [start, cls] = runs[r]!;
    const end = r + 1 < runs.length ? runs[r + 1]![0] : 0x110000;
    for (let cp = start; cp < end; cp++) if (preTokenClass(cp) !== cls && bad.length < 10) bad.push(cp.toString(16));
  }
  assert.equal(bad, []);
  assert.is(preTokenClass(0x345), 0); // U+0345: matched by no alternative in Python, skipped
});

test('lower() equals Python str.lower on every assigned code point (Unicode 14)', () => {
  const bad: string[] = [];
  for (const [lo, hi] of goldens.assignedRanges) {
    for (let cp = lo; cp <= hi; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      if (pyLower(c) !== (goldens.lower[cp] ?? c) && bad.length < 10) bad.push(cp.toString(16));
    }
  }
  assert.equal(bad, []);
  assert.is(pyLower('ΟΔΟΣ ΣΑΣ'), 'οδος σας'); // final sigma, as Python
});

test('html.unescape and ftfy entity rules', () => {
  const t = loadHtmlTables();
  assert.is(pyHtmlUnescape('&notit; &amp &#x80; &#0; &#1;x &copy=3 &Amp;', t), '¬it; & € \ufffd x ©=3 &Amp;');
  assert.is(ftfyUnescapeHtml('&EACUTE; &amp;amp; &copy &#65;', t), 'É &amp; &copy A');
});

test('mojibake: common UTF-8-as-Windows-1252 fixed, uppercase Latin text kept', () => {
  const m = loadMojibakeTable();
  assert.is(fixMojibake('cafÃ© donâ€™t âœ” ÐŸÑ€Ð¸Ð²ÐµÑ‚ ðŸ˜€', m), 'café don’t ✔ Привет 😀');
  for (const keep of ['PÍŠE', 'CAFÉ®', 'OLÉ…', 'Brontë…”', '3×£10', 'naïve façade']) assert.is(fixMojibake(keep, m), keep);
  const tables = { html: loadHtmlTables(), mojibake: m };
  assert.is(fixText('&lt;i&gt;\n<b>&amp;\n&amp;', tables), '<i>\n<b>&amp;\n&amp;'); // '<' switch sticks
});

test('truncation keeps EOS last; truncate:false names the text', () => {
  const long = 'a photo of '.repeat(40);
  const full = tok.encode(long);
  assert.ok(full.length > 77);
  const b = tok.tokenize(['a cat', long]);
  assert.equal(b.dims, [2, 77]);
  assert.equal(b.truncated, [1]);
  const row = Array.from(b.inputIds.subarray(77, 154), Number);
  assert.equal(row, [...full.slice(0, 76), tok.eosId]);
  try {
    tok.tokenize([long], { truncate: false });
    assert.unreachable('should throw');
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).kind, 'usage');
    assert.match((e as ZsError).message, /a photo of a photo/);
  }
});

test('padding, attention mask and int64 layout', () => {
  const b = tok.tokenize(['a cat', 'a photo of a dog'], { padTo: 'longest' });
  const ids1 = tok.encode('a cat');
  const ids2 = tok.encode('a photo of a dog');
  assert.equal(b.dims, [2, ids2.length]);
  assert.equal(Array.from(b.inputIds, Number), [...ids1, ...new Array(ids2.length - ids1.length).fill(tok.padId), ...ids2]);
  assert.equal(Array.from(b.attentionMask, Number), [...ids1.map(() => 1), ...new Array(ids2.length - ids1.length).fill(0), ...ids2.map(() => 1)]);
  const m = tok.tokenize(['x'], { contextLength: 10 });
  assert.equal(m.dims, [1, 10]);
  assert.is(m.inputIds[9], BigInt(tok.padId));
  assert.equal(tok.tokenize([]).dims, [0, 77]);
});

// A small SentencePiece-style Unigram tokenizer (Metaspace, </s> appended), as SigLIP's tokenizer.json.
const PIECES: Array<[string, number]> = [
  ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['▁', -2], ['▁a', -3], ['▁photo', -4], ['▁pho', -3.5], ['to', -2.5],
  ['▁of', -4], ['▁cat', -5], ['▁ca', -2], ['t', -2.2], ['c', -6], ['a', -5], ['o', -6], ['f', -6], ['▁d', -4], ['og', -4],
];
function unigramJson(): object {
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: ['<pad>', '</s>', '<unk>'].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab: PIECES, byte_fallback: false },
  };
}
/** Best-scoring segmentation by exhaustive search (independent of the library's Viterbi); undefined if none. */
function segment(word: string): { score: number; ids: number[] } | undefined {
  if (word === '') return { score: 0, ids: [] };
  let best: { score: number; ids: number[] } | undefined;
  PIECES.forEach(([piece, score], id) => {
    if (id < 3 || !word.startsWith(piece)) return;
    const rest = segment(word.slice(piece.length));
    if (rest && (!best || score + rest.score > best.score)) best = { score: score + rest.score, ids: [id, ...rest.ids] };
  });
  return best;
}
const bestSegmentation = (word: string): number[] => segment(word)!.ids;

test('generic tokenizer.json path: Unigram + Metaspace (SigLIP-like folder)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(unigramJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'SiglipTokenizer', model_max_length: 6, pad_token: '</s>', eos_token: '</s>' }));
    const t = await loadTokenizer(dir);
    assert.is(t.kind, 'hf');
    assert.is(t.contextLength, 6);
    assert.is(t.padId, 1);
    const words = ['▁a', '▁photo', '▁of', '▁a', '▁cat'];
    const expected = [...words.flatMap(bestSegmentation), 1];
    assert.equal(t.encode('A photo of a cat'), expected);
    const b = t.tokenize(['A photo of a cat', 'a dog']);
    assert.equal(b.dims, [2, 6]);
    assert.equal(b.truncated, [0]);
    assert.equal(Array.from(b.inputIds.subarray(0, 6), Number), [...expected.slice(0, 5), 1]); // </s> kept last
    const dog = [...['▁a', '▁dog'].flatMap(bestSegmentation), 1];
    assert.equal(t.encode('a dog'), dog);
    assert.equal(Array.from(b.inputIds.subarray(6), Number), [...dog, ...new Array(6 - dog.length).fill(1)]); // padded with pad_token </s>
    assert.equal(Array.from(b.attentionMask.subarray(6), Number), [...dog.map(() => 1), ...new Array(6 - dog.length).fill(0)]);
    // a CLIP folder gets the exact CLIP tokenizer
    assert.is((await loadTokenizer(CLIP_DIR)).kind, 'clip');
  } finally {
    cleanup();
  }
});

test('80 templates x 1000 labels tokenize through the word cache', async () => {
  const { loadTemplateSet, fillTemplate } = await import('../src/text/templates.js');
  const set = await loadTemplateSet('imagenet');
  const prompts = set.classes.slice(0, 100).flatMap((c) => set.templates.map((t) => fillTemplate(t, c)));
  const b = tok.tokenize(prompts, { padTo: 'longest' });
  assert.is(b.dims[0], 8000);
  assert.equal(Array.from(b.inputIds.subarray(0, b.dims[1]), Number).slice(0, tok.encode(prompts[0]!).length), tok.encode(prompts[0]!));
});

test.run();
