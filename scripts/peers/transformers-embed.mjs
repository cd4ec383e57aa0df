/**
 * transformers.js (@huggingface/transformers) side of scripts/bench-embed.ts: embeds image files with
 * AutoProcessor + CLIPVisionModelWithProjection from a local model folder, in batches, fp32 on the CPU.
 *   node scripts/peers/transformers-embed.mjs MODEL_DIR BATCH FILE_LIST
 * FILE_LIST holds one image path per line. Prints one JSON line: images, load and loop seconds, embedding dim.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { AutoProcessor, CLIPVisionModelWithProjection, RawImage, env } from '@huggingface/transformers';

const [modelDir, batchArg, listFile] = process.argv.slice(2);
const batch = Number(batchArg);
const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
env.localModelPath = dirname(resolve(modelDir));
env.allowRemoteModels = false;
const id = basename(resolve(modelDir));

const t0 = performance.now();
const processor = await AutoProcessor.from_pretrained(id);
const model = await CLIPVisionModelWithProjection.from_pretrained(id, { dtype: 'fp32', device: 'cpu' });
const t1 = performance.now();
let dim = 0;
for (let i = 0; i < files.length; i += batch) {
  const images = await Promise.all(files.slice(i, i + batch).map((f) => RawImage.read(f)));
  const inputs = await processor(images);
  const { image_embeds } = await model(inputs);
  dim = image_embeds.dims.at(-1);
}
const t2 = performance.now();
console.log(JSON.stringify({ images: files.length, load_s: (t1 - t0) / 1000, loop_s: (t2 - t1) / 1000, dim }));
