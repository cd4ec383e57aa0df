/**
 * preprocessor_config.json parsing: the CLIP and ViT fixtures, SigLIP and DINOv2 (BitImageProcessor) configs,
 * ConvNeXt's crop_pct rule (ResNet / ConvNeXt / VGG fixtures, the 384 warp), EfficientNet's size / crop /
 * rescale_offset / include_top,
 * legacy number sizes (CLIPFeatureExtractor), class defaults for missing fields, unknown processor types with the
 * same fields, transformers' output-size rule, and a ZsError naming the field for everything unsupported.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIP_DIR, VIT_DIR, FIXTURES } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import { parsePreprocessorConfig, resizeTarget, createPreprocessor } from '../src/image/index.js';

const clip = JSON.parse(readFileSync(join(CLIP_DIR, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
const vit = JSON.parse(readFileSync(join(VIT_DIR, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;

const fixtureConfig = (family: string) =>
  JSON.parse(readFileSync(join(FIXTURES, `tiny-random-${family}`, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;

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

test('ConvNeXt rule: microsoft/resnet-50 style legacy config -> shortest edge int(224 / 0.875) = 256, crop 224', () => {
  const s = parsePreprocessorConfig(fixtureConfig('resnet'));
  assert.is(s.type, 'ConvNextFeatureExtractor');
  assert.equal(s.resize, { kind: 'shortest_edge', shortestEdge: 256 });
  assert.equal(s.crop, { height: 224, width: 224 });
  assert.is(s.filter, 'bicubic');
  assert.is(s.rescaleFactor, 1 / 255); // class default: the legacy config has no do_rescale / rescale_factor
  assert.equal([s.mean, s.std], [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]]);
  assert.equal([s.rescaleOffset, s.secondStd], [0, null]);
  const convnext = parsePreprocessorConfig(fixtureConfig('convnext'));
  assert.equal([convnext.resize, convnext.crop, convnext.filter], [{ kind: 'shortest_edge', shortestEdge: 256 }, { height: 224, width: 224 }, 'bicubic']);
  assert.is(parsePreprocessorConfig(fixtureConfig('vgg')).filter, 'bilinear');
  // Python's int(s / crop_pct); crop_pct null or absent is the class default 224 / 256.
  const cfg = fixtureConfig('convnext');
  assert.equal(parsePreprocessorConfig({ ...cfg, crop_pct: 0.95 }).resize, { kind: 'shortest_edge', shortestEdge: 235 });
  assert.equal(parsePreprocessorConfig({ ...cfg, size: { shortest_edge: 288 }, crop_pct: 1 }).resize, { kind: 'shortest_edge', shortestEdge: 288 });
  assert.equal(parsePreprocessorConfig({ ...cfg, crop_pct: null }).resize, { kind: 'shortest_edge', shortestEdge: 256 });
  // From 384 on: warp to a square, no crop, crop_pct unused.
  const warp = parsePreprocessorConfig({ ...cfg, size: { shortest_edge: 384 }, crop_pct: 0.5 });
  assert.equal([warp.resize, warp.crop], [{ kind: 'exact', height: 384, width: 384 }, null]);
  const pre = createPreprocessor({ ...cfg, size: 383 });
  assert.equal([pre.height, pre.width, pre.spec.resize], [383, 383, { kind: 'shortest_edge', shortestEdge: 437 }]);
  // The class never reads do_center_crop / crop_size (transformers ignores them too); the bare class defaults.
  assert.equal(parsePreprocessorConfig({ ...cfg, do_center_crop: true, crop_size: { height: 100, width: 100 } }).crop, { height: 224, width: 224 });
  const bare = parsePreprocessorConfig({ image_processor_type: 'ConvNextImageProcessorFast' });
  assert.equal([bare.resize, bare.crop, bare.filter, bare.mean], [{ kind: 'exact', height: 384, width: 384 }, null, 'bicubic', [0.5, 0.5, 0.5]]);
});

test('ConvNeXt rule: bad values name the key', () => {
  const cfg = fixtureConfig('convnext');
  rejects({ ...cfg, size: { height: 224, width: 224 } }, /unsupported size \{"height":224,"width":224\} \(expected \{"shortest_edge": n\} for ConvNextImageProcessor\)/);
  rejects({ ...cfg, crop_pct: 0 }, /crop_pct 0/);
  rejects({ ...cfg, crop_pct: '0.875' }, /crop_pct "0.875"/);
  rejects({ ...cfg, do_resize: false }, /output size depends on each image/);
  rejects({ ...cfg, include_top: true }, /include_top true/);
  rejects({ ...cfg, rescale_offset: true }, /rescale_offset true/);
  // crop_pct belongs to ConvNeXt: other classes and unknown types refuse it.
  rejects({ ...fixtureConfig('densenet'), crop_pct: 0.875 }, /crop_pct 0\.875 \(expected it to be absent: this option is not supported for BitImageProcessor\)/);
  rejects({ ...cfg, image_processor_type: 'SomeOtherImageProcessor' }, /crop_pct/);
});

test('EfficientNet: google/efficientnet-b0 config, crop, rescale_offset, include_top', () => {
  const cfg = fixtureConfig('efficientnet');
  const s = parsePreprocessorConfig(cfg);
  assert.equal([s.resize, s.crop, s.filter], [{ kind: 'exact', height: 224, width: 224 }, null, 'nearest']);
  assert.equal([s.rescaleFactor, s.rescaleOffset], [0.00392156862745098, 0]);
  assert.equal(s.mean, [0.485, 0.456, 0.406]);
  assert.equal(s.std, [0.47853944, 0.4732864, 0.47434163]);
  assert.equal(s.secondStd, s.std);
  const v = parsePreprocessorConfig({ ...cfg, size: 300, do_center_crop: true, crop_size: 289, rescale_offset: true, include_top: false });
  assert.equal([v.resize, v.crop, v.rescaleOffset, v.secondStd], [{ kind: 'exact', height: 300, width: 300 }, { height: 289, width: 289 }, 127.5, null]);
  // include_top divides by std even without do_normalize; rescale_offset only acts inside do_rescale.
  const top = parsePreprocessorConfig({ ...cfg, do_normalize: false, do_rescale: false, rescale_offset: true });
  assert.equal([top.mean, top.secondStd, top.rescaleFactor, top.rescaleOffset], [null, [0.47853944, 0.4732864, 0.47434163], null, 0]);
  // Class defaults: nearest, no crop, include_top; size has no reliable default across transformers versions.
  const d = parsePreprocessorConfig({ image_processor_type: 'EfficientNetImageProcessor', size: { height: 600, width: 600 } });
  assert.equal([d.filter, d.crop, d.mean, d.secondStd], ['nearest', null, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
  rejects({ image_processor_type: 'EfficientNetImageProcessor' }, /size is missing \(image processor type EfficientNetImageProcessor\)/);
  rejects({ ...cfg, size: { shortest_edge: 224 } }, /unsupported size \{"shortest_edge":224\} \(expected \{"height": h, "width": w\} for EfficientNetImageProcessor\)/);
  rejects({ ...cfg, include_top: 'yes' }, /include_top "yes"/);
  rejects({ ...cfg, rescale_offset: 1 }, /rescale_offset 1/);
  rejects({ ...cfg, crop_pct: 0.875 }, /crop_pct/);
  rejects({ ...clip, include_top: true }, /include_top/);
  rejects({ ...vit, rescale_offset: true }, /rescale_offset/);
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
