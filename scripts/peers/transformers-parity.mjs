/**
 * How close transformers.js (@huggingface/transformers) comes to the reference Python stack on the committed
 * fixtures, measured the way scripts/parity.ts measures zs: pixel_values against test/fixtures/reference/pixels
 * (AutoProcessor), token ids against OpenAI's tokenizer on the 279 reference texts (AutoTokenizer, padding to 77 and
 * truncation as CLIP uses them), image and text embeddings against the reference (cosine).
 *   npm --prefix scripts/peers install && node scripts/peers/transformers-parity.mjs
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AutoProcessor, AutoTokenizer, CLIPVisionModelWithProjection, CLIPTextModelWithProjection, RawImage, env,
} from '@huggingface/transformers';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures');
const REF = join(FIX, 'reference');
env.localModelPath = FIX;
env.allowRemoteModels = false;
const ref = JSON.parse(readFileSync(join(REF, 'clip-reference.json'), 'utf8'));
const names = Object.keys(ref.images);

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

const processor = await AutoProcessor.from_pretrained('tiny-random-clip');
const vision = await CLIPVisionModelWithProjection.from_pretrained('tiny-random-clip', { dtype: 'fp32', device: 'cpu' });
console.log('| image | pixel mean abs diff | pixel max abs diff | image-embedding cosine |');
console.log('|---|---|---|---|');
for (const name of names) {
  const buf = readFileSync(join(REF, 'pixels', `${name}.f32`));
  const want = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const inputs = await processor(await RawImage.read(join(REF, 'images', name)));
  const got = inputs.pixel_values.data;
  let sum = 0, max = 0;
  for (let i = 0; i < want.length; i++) { const e = Math.abs(got[i] - want[i]); sum += e; max = Math.max(max, e); }
  const { image_embeds } = await vision(inputs);
  console.log(`| ${name} | ${(sum / want.length).toExponential(2)} | ${max.toFixed(4)} | ${cosine(image_embeds.data, ref.images[name].image_embeds).toFixed(9)} |`);
}

const tokenizer = await AutoTokenizer.from_pretrained('tiny-random-clip');
const text = await CLIPTextModelWithProjection.from_pretrained('tiny-random-clip', { dtype: 'fp32', device: 'cpu' });
let same = 0, worst = 1;
const differ = [];
for (const t of ref.texts) {
  const enc = tokenizer(t.text, { padding: 'max_length', max_length: 77, truncation: true });
  const ids = Array.from(enc.input_ids.data, Number).filter((_, i) => Number(enc.attention_mask.data[i]) === 1);
  if (JSON.stringify(ids) === JSON.stringify(t.input_ids)) same++;
  else differ.push(t.text.slice(0, 40));
  const { text_embeds } = await text(enc);
  worst = Math.min(worst, cosine(text_embeds.data, t.text_embeds));
}
console.log(`\ntoken ids: ${same} / ${ref.texts.length} texts identical to OpenAI's tokenizer`);
console.log(`text-embedding cosine, worst of ${ref.texts.length}: ${worst.toFixed(9)}`);
if (differ.length) console.log(`first differing texts: ${differ.slice(0, 5).map((s) => JSON.stringify(s)).join(', ')}`);
