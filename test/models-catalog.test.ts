/** The model catalog (onnx-models/catalog.json via src/models/catalog.ts): content, consistency with the layout, lookups. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeMatches, entryBytes, entryFiles, entryForRepo, findEntry, layoutFiles, loadCatalog } from '../src/models/catalog.js';
import { FAMILIES, familyOf } from '../src/models/families.js';
import { DTYPES } from '../src/models/folder.js';
import { tempDir } from './_helpers.js';

const cat = loadCatalog({});

test('the catalog holds the models the issue asks for, CLIP ViT-B/32 the default', () => {
  assert.is(cat.default, 'clip-vit-b32');
  const ids = cat.models.map((m) => m.id);
  for (const id of ['Xenova/clip-vit-base-patch32', 'Xenova/clip-vit-base-patch16', 'Xenova/clip-vit-large-patch14', 'Xenova/siglip-base-patch16-224', 'Xenova/vit-base-patch16-224-in21k', 'Xenova/dinov2-small']) {
    assert.ok(ids.includes(id), id);
  }
  assert.equal(new Set(cat.models.map((m) => m.name)).size, cat.models.length, 'names are unique');
});

test('every entry is a supported family whose layout names exactly the files the catalog lists per dtype', () => {
  for (const e of cat.models) {
    const family = familyOf({ model_type: e.modelType, architectures: e.architecture ? [e.architecture] : [] });
    assert.ok(family, `${e.name}: model_type ${e.modelType} supported`);
    assert.is(family!.name, e.family, e.name);
    assert.is(family!.kind, e.task, e.name);
    assert.ok(e.dim > 0 && e.imageSize > 0 && e.license !== '', e.name);
    assert.ok(/^[0-9a-f]{40}$/.test(e.revision) || e.revision === 'main', `${e.name}: revision is a commit or main`);
    for (const d of DTYPES.filter((x) => e.files[x] || e.task !== 'image-classifier')) {
      const want = layoutFiles(family!, d);
      const got = entryFiles(e, d);
      assert.equal([...got.required].sort(), [...want.required].sort(), `${e.name} ${d}`);
      assert.equal([...got.optional].sort(), [...want.optional].sort(), `${e.name} ${d} optional`);
      for (const f of got.required.filter((x) => x.endsWith('.onnx'))) assert.ok(e.pins[f], `${e.name}: ${f} has a size`);
    }
  }
});

test('text-image models need the tokenizer and the q8 combined graph; image encoders have no text tower', () => {
  const b32 = findEntry(cat, 'clip-vit-b32')!;
  assert.equal(entryFiles(b32, 'fp32').required, ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'onnx/vision_model.onnx', 'onnx/text_model.onnx', 'onnx/model_quantized.onnx']);
  assert.ok(entryFiles(b32, 'fp16').required.includes('onnx/vision_model_fp16.onnx'));
  const dino = findEntry(cat, 'dinov2-small')!;
  assert.equal(entryFiles(dino, 'q8').required, ['config.json', 'preprocessor_config.json', 'onnx/model_quantized.onnx']);
  const siglip = findEntry(cat, 'siglip-b16-224')!;
  assert.is(familyOf({ model_type: siglip.modelType })!.score, 'sigmoid');
  assert.is(FAMILIES.find((f) => f.name === 'image encoder')!.text, undefined);
});

test('pins: sha256 is 64 hex or null; the default model pins its big files', () => {
  for (const e of cat.models) for (const [f, p] of Object.entries(e.pins)) assert.ok(p.sha256 === null || /^[0-9a-f]{64}$/.test(p.sha256), `${e.name} ${f}`);
  const b32 = findEntry(cat, 'clip-vit-b32')!;
  assert.is(b32.pins['onnx/vision_model.onnx']!.sha256, 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40');
  assert.equal(b32.pins['onnx/vision_model_fp16.onnx'], { bytes: 176080659, exact: true, sha256: '35c4e0fb0aeee527dcde1693520b214a34424a786babd530f35366bad5844efd' });
  const fp32 = entryBytes(b32, 'fp32')!;
  assert.ok(fp32 > 700e6 && fp32 < 800e6, String(fp32));
});

test('lookups: by name, by hub id (any case), close matches for typos', () => {
  assert.is(findEntry(cat, 'nope'), undefined);
  assert.is(entryForRepo(cat, 'xenova/DINOV2-small')!.name, 'dinov2-small');
  assert.equal(closeMatches(cat, 'clip-vit-b23').slice(0, 1), ['clip-vit-b32']);
  assert.ok(closeMatches(cat, 'dinov2').includes('dinov2-small'));
  assert.ok(closeMatches(cat, 'siglip').includes('siglip-b16-224'));
  assert.equal(closeMatches(cat, 'completely-different-thing'), []);
});

test('ZS_CATALOG adds entries and replaces same-named ones; a broken file is one clear error', () => {
  const { dir, cleanup } = tempDir();
  try {
    const extra = join(dir, 'catalog.json');
    const mine = { ...findEntry(cat, 'dinov2-small')!, name: 'my-dino', id: 'me/dino' };
    writeFileSync(extra, JSON.stringify({ default: 'my-dino', models: [mine, { ...findEntry(cat, 'clip-vit-b32')!, revision: 'main' }] }));
    const c = loadCatalog({ ZS_CATALOG: extra });
    assert.is(c.default, 'my-dino');
    assert.is(findEntry(c, 'my-dino')!.id, 'me/dino');
    assert.is(findEntry(c, 'clip-vit-b32')!.revision, 'main');
    assert.is(c.models.length, cat.models.length + 1);
    writeFileSync(extra, JSON.stringify({ models: [{ name: 'x' }] }));
    assert.throws(() => loadCatalog({ ZS_CATALOG: extra }), (e: Error) => /invalid model catalog .*catalog\.json: model 1 \(x\) lacks "id"/.test(e.message));
    assert.throws(() => loadCatalog({ ZS_CATALOG: join(dir, 'missing.json') }), /ENOENT/);
  } finally { cleanup(); }
});

test.run();
