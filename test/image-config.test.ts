/**
 * preprocessor_config.json parsing: the CLIP and ViT fixtures, SigLIP and DINOv2 (BitImageProcessor) configs,
 * legacy number sizes (CLIPFeatureExtractor), class defaults for missing fields, unknown processor types with the
 * same fields, transformers' output-size rule, and a ZsError naming the field for everything unsupported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_DIR, VIT_DIR } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import { parsePreprocessorConfig, resizeTarget, createPreprocessor } from '../src/image/index.js';

const clip = JSON.parse(readFileSync(join(CLIP_DIR, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
const vit = JSON.parse(readFileSync(join(VIT_DIR, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;

function rejects(config: unknown, field: RegExp): void {
  try {
    parsePreprocessorConfig(config, 'model/preprocessor_config.json');
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).code, 'E_PREPROCESSOR_CONFIG');
    assert.match((e as Error).message, /^model\/preprocessor_config\.json: /);
    assert.match((e as Error).message, field);
    assert.ok((e as ZsError).hint);
    return;
  }
  assert.unreachable(`should reject ${JSON.stringify(config)}`);
}

test('CLIP fixture: shortest edge 224, bicubic, crop 224, OpenAI mean/std', () => {
  const s = parsePreprocessorConfig(clip);
  assert.equal(s.resize, { kind: 'shortest_edge', shortestEdge: 224 });
  assert.is(s.filter, 'bicubic');
  assert.equal(s.crop, { height: 224, width: 224 });
  assert.is(s.rescaleFactor, 0.00392156862745098);
  assert.equal(s.mean, [0.48145466, 0.4578275, 0.40821073]);
  assert.equal(s.std, [0.26862954, 0.26130258, 0.27577711]);
});

test('ViT fixture: exact 224x224, bilinear, no crop, mean/std 0.5', () => {
  const s = parsePreprocessorConfig(vit);
  assert.equal(s.resize, { kind: 'exact', height: 224, width: 224 });
  assert.is(s.filter, 'bilinear');
  assert.is(s.crop, null);
  assert.equal(s.mean, [0.5, 0.5, 0.5]);
});

test('SigLIP and DINOv2 (BitImageProcessor) configs', () => {
  const siglip = parsePreprocessorConfig({
    image_processor_type: 'SiglipImageProcessor', do_convert_rgb: null, do_normalize: true, do_rescale: true, do_resize: true,
    image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], processor_class: 'SiglipProcessor', resample: 3,
    rescale_factor: 0.00392156862745098, size: { height: 384, width: 384 },
  });
  assert.equal([siglip.resize, siglip.filter, siglip.crop], [{ kind: 'exact', height: 384, width: 384 }, 'bicubic', null]);
  const dino = parsePreprocessorConfig({
    crop_size: { height: 224, width: 224 }, do_center_crop: true, do_convert_rgb: true, do_normalize: true, do_rescale: true,
    do_resize: true, image_mean: [0.485, 0.456, 0.406], image_processor_type: 'BitImageProcessor',
    image_std: [0.229, 0.224, 0.225], resample: 3, rescale_factor: 0.00392156862745098, size: { shortest_edge: 256 },
  });
  assert.equal([dino.resize, dino.crop, dino.mean], [{ kind: 'shortest_edge', shortestEdge: 256 }, { height: 224, width: 224 }, [0.485, 0.456, 0.406]]);
  const pre = createPreprocessor({ image_processor_type: 'SiglipImageProcessorFast', size: { height: 256, width: 192 } });
  assert.equal([pre.height, pre.width, pre.spec.filter], [256, 192, 'bicubic']);
});

test('legacy number sizes and class defaults for missing fields', () => {
  const legacy = parsePreprocessorConfig({
    crop_size: 224, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor',
    image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, size: 224,
  });
  assert.equal(legacy.resize, { kind: 'shortest_edge', shortestEdge: 224 });
  assert.equal(legacy.crop, { height: 224, width: 224 });
  assert.is(legacy.rescaleFactor, 1 / 255); // CLIPImageProcessor's default
  assert.equal(parsePreprocessorConfig({ ...vit, size: 384 }).resize, { kind: 'exact', height: 384, width: 384 });
  assert.equal(parsePreprocessorConfig({ ...vit, size: 384, default_to_square: false, do_center_crop: true, crop_size: 384 }).resize,
    { kind: 'shortest_edge', shortestEdge: 384 });
  const bare = parsePreprocessorConfig({ image_processor_type: 'ViTImageProcessor' });
  assert.equal([bare.resize, bare.filter, bare.mean], [{ kind: 'exact', height: 224, width: 224 }, 'bilinear', [0.5, 0.5, 0.5]]);
});

test('unknown processor types work with the same fields; do_* flags follow their parameters', () => {
  const s = parsePreprocessorConfig({
    image_processor_type: 'FancyNewImageProcessor', size: { height: 160, width: 128 }, resample: 1, rescale_factor: 0.5,
    image_mean: 0.25, image_std: [1, 2, 4],
  });
  assert.equal(s.resize, { kind: 'exact', height: 160, width: 128 });
  assert.is(s.filter, 'lanczos');
  assert.is(s.crop, null);
  assert.is(s.rescaleFactor, 0.5);
  assert.equal([s.mean, s.std], [[0.25, 0.25, 0.25], [1, 2, 4]]);
  const none = parsePreprocessorConfig({ image_processor_type: 'X', do_resize: true, size: { height: 8, width: 8 }, resample: 0 });
  assert.equal([none.rescaleFactor, none.mean, none.std], [null, null, null]);
  rejects({ image_processor_type: 'FancyNewImageProcessor', size: { height: 160, width: 128 } }, /resample is missing/);
  rejects({ image_processor_type: 'X', do_rescale: true, size: { height: 8, width: 8 }, resample: 2 }, /rescale_factor is missing/);
});

test('unsupported fields and values name the field', () => {
  rejects({ ...clip, crop_pct: 0.875 }, /crop_pct/);
  rejects({ ...clip, do_pad: true }, /do_pad/);
  rejects({ ...vit, do_flip_channel_order: true }, /do_flip_channel_order/);
  rejects({ ...clip, size: { shortest_edge: 224, longest_edge: 1333 } }, /size/);
  rejects({ ...clip, size: { longest_edge: 1333 } }, /size/);
  rejects({ ...clip, resample: 7 }, /resample 7/);
  rejects({ ...clip, resample: 'bicubic' }, /resample/);
  rejects({ ...clip, image_mean: [0.5, 0.5] }, /image_mean/);
  rejects({ ...clip, image_std: [0.5, 0, 0.5] }, /image_std/);
  rejects({ ...clip, rescale_factor: -1 }, /rescale_factor/);
  rejects({ ...clip, size: { shortest_edge: 0 } }, /size\.shortest_edge/);
  rejects({ ...clip, do_resize: 'yes' }, /do_resize/);
  rejects({ ...clip, do_center_crop: false }, /output size depends on each image/);
  rejects([1, 2], /content/);
  // Harmless or disabled keys are fine.
  assert.ok(parsePreprocessorConfig({ ...clip, do_pad: false, processor_class: 'CLIPProcessor', do_convert_rgb: false }));
});

test('output size as transformers computes it (shortest edge: int(s * long / short))', () => {
  const se = { kind: 'shortest_edge', shortestEdge: 224 } as const;
  assert.equal(resizeTarget(se, 451, 300), { width: 336, height: 224 });
  assert.equal(resizeTarget(se, 300, 451), { width: 224, height: 336 });
  assert.equal(resizeTarget(se, 4032, 3024), { width: 298, height: 224 });
  assert.equal(resizeTarget(se, 7, 5), { width: 313, height: 224 });
  assert.equal(resizeTarget(se, 500, 500), { width: 224, height: 224 });
  assert.equal(resizeTarget({ kind: 'exact', height: 97, width: 131 }, 10, 1000), { width: 131, height: 97 });
});

test.run();
