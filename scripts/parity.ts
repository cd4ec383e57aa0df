/**
 * Parity report (not a test; the tests assert the bounds): zs against what the reference Python stack (transformers
 * + PIL + OpenAI's tokenizer) wrote to test/fixtures/reference, on the committed tiny-random-clip / -vit fixtures.
 *
 *   node --import tsx scripts/parity.ts [--model test/fixtures/tiny-random-clip] [--json]
 *
 * Prints, per reference image, pixel mean / max |diff| against transformers' pixel_values (normalized units) and the
 * cosine of zs's image embedding with the reference image_embeds; the token ids matched over the reference texts;
 * the worst text-embedding cosine; the logit scale read from the model against the reference's; the worst ViT
 * pooled-output cosine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/embed/model.js';

const ROOT = join(import.meta.dirname, '..');
const REF = join(ROOT, 'test', 'fixtures', 'reference');
const arg = (name: string, fallback: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : fallback; };
const CLIP = arg('model', join(ROOT, 'test', 'fixtures', 'tiny-random-clip'));
const VIT = join(ROOT, 'test', 'fixtures', 'tiny-random-vit');

const ref = JSON.parse(readFileSync(join(REF, 'clip-reference.json'), 'utf8')) as {
  logit_scale: number; images: Record<string, { image_embeds: number[] }>; texts: Array<{ text: string; input_ids: number[]; text_embeds: number[] }>;
};
const vitRef = JSON.parse(readFileSync(join(REF, 'vit-reference.json'), 'utf8')) as { images: Record<string, { vit_pooler_output: number[] }> };

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

const names = Object.keys(ref.images);
const paths = names.map((n) => join(REF, 'images', n));
const clip = await Model.load(CLIP, { threads: 1, workers: 0 });

const images = [];
const { embeddings } = await clip.embedImages(paths);
const d = embeddings.dims[1];
for (const [i, name] of names.entries()) {
  const buf = readFileSync(join(REF, 'pixels', `${name}.f32`));
  const want = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const got = await clip.preprocess.run(paths[i]!);
  let sum = 0, max = 0, over = 0;
  for (let j = 0; j < want.length; j++) {
    const e = Math.abs(got[j]! - want[j]!);
    sum += e; max = Math.max(max, e);
    if (e > 1e-3) over++;
  }
  images.push({
    name, pixelMean: sum / want.length, pixelMax: max, pixelsOff: over / want.length,
    cosine: cosine(embeddings.data.subarray(i * d, (i + 1) * d), ref.images[name]!.image_embeds),
  });
}

const tok = await clip.tokenize(ref.texts.map((t) => t.text));
let idsMatch = 0;
ref.texts.forEach((t, i) => {
  const row = Array.from(tok.inputIds.subarray(i * tok.dims[1], (i + 1) * tok.dims[1]), Number);
  const ids = row.slice(0, row.reduce((n, _, j) => (tok.attentionMask[i * tok.dims[1] + j] ? j + 1 : n), 0));
  if (JSON.stringify(ids) === JSON.stringify(t.input_ids)) idsMatch++;
});
const te = await clip.embedTexts(ref.texts.map((t) => t.text));
let textWorst = 1;
ref.texts.forEach((t, i) => { textWorst = Math.min(textWorst, cosine(te.data.subarray(i * te.dims[1], (i + 1) * te.dims[1]), t.text_embeds)); });
const { scale } = await clip.logitScale();
await clip.close();

const vit = await Model.load(VIT, { threads: 1, workers: 0 });
const ve = (await vit.embedImages(paths)).embeddings;
const vitWorst = Math.min(...names.map((n, i) => cosine(ve.data.subarray(i * ve.dims[1], (i + 1) * ve.dims[1]), vitRef.images[n]!.vit_pooler_output)));
await vit.close();

const report = {
  images, texts: ref.texts.length, idsMatch, textCosineMin: textWorst, logitScale: scale, refLogitScale: ref.logit_scale, vitCosineMin: vitWorst,
};
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log('| image | pixel mean abs diff | pixel max abs diff | values off by > 1e-3 | image-embedding cosine |');
  console.log('|---|---|---|---|---|');
  for (const r of images) console.log(`| ${r.name} | ${r.pixelMean.toExponential(2)} | ${r.pixelMax.toFixed(4)} | ${(100 * r.pixelsOff).toFixed(2)} % | ${r.cosine.toFixed(9)} |`);
  console.log(`\ntoken ids: ${idsMatch} / ${ref.texts.length} texts identical to OpenAI's tokenizer`);
  console.log(`text-embedding cosine, worst of ${ref.texts.length}: ${textWorst.toFixed(9)}`);
  console.log(`logit scale from the model: ${scale.toFixed(4)} (reference ${ref.logit_scale.toFixed(4)})`);
  console.log(`ViT pooled output cosine, worst of ${names.length}: ${vitWorst.toFixed(9)}`);
}
