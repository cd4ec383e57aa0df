/** The visual projection read from the graph maps the pre-projection features onto the model's own embeddings. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { readProjection } from '../src/heads/projection.js';
import { Model } from '../src/embed/model.js';
import { CLIP_DIR, REF_IMAGES, tempDir } from './_helpers.js';

test('normalize(W0 h) is the image embedding (tiny CLIP)', async () => {
  const { dir, cleanup } = tempDir();
  const proj = await readProjection(join(CLIP_DIR, 'onnx', 'vision_model.onnx'));
  assert.equal([proj.d, proj.p], [16, 48]);
  assert.match(proj.feature, /post_layernorm/);
  const images = readdirSync(REF_IMAGES).filter((f) => /\.(png|jpe?g)$/i.test(f)).slice(0, 3).map((f) => join(REF_IMAGES, f));
  const base = await Model.load(CLIP_DIR, { threads: 1, cacheDir: dir });
  const pre = await Model.load(CLIP_DIR, { threads: 1, cacheDir: dir, featureOutput: proj.feature });
  try {
    const e = await base.embedImages(images);
    const h = await pre.embedImages(images);
    assert.equal(h.embeddings.dims, [images.length, proj.p]);
    for (let i = 0; i < images.length; i++) {
      const z = new Float64Array(proj.d);
      for (let k = 0; k < proj.d; k++) for (let j = 0; j < proj.p; j++) z[k]! += proj.W0[k * proj.p + j]! * h.embeddings.data[i * proj.p + j]!;
      const norm = Math.hypot(...z);
      for (let k = 0; k < proj.d; k++) assert.ok(Math.abs(z[k]! / norm - e.embeddings.data[i * proj.d + k]!) < 1e-4, `image ${i} value ${k}`);
    }
  } finally {
    await base.close();
    await pre.close();
    cleanup();
  }
});

test('a graph without image_embeds is refused in one line', async () => {
  try {
    await readProjection(join(CLIP_DIR, 'onnx', 'text_model.onnx'));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /has no image_embeds output/);
  }
});

test.run();
