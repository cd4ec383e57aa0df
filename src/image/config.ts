/**
 * Reads a Hugging Face preprocessor_config.json into a plain PreprocessSpec, the way transformers' (slow, PIL-based)
 * image processor classes interpret it. Supported classes (and their *FeatureExtractor/Fast aliases) and their rules
 * are data in processors.ts: CLIPImageProcessor, ViTImageProcessor, SiglipImageProcessor, BitImageProcessor (DINOv2),
 * ConvNextImageProcessor (ConvNeXt and microsoft/resnet-*: crop_pct) and EfficientNetImageProcessor (rescale_offset,
 * include_top). Any other type may use only the common fields:
 *   do_convert_rgb, do_resize + size ({shortest_edge} | {height, width} | a number) + resample (PIL enum 0..5),
 *   do_center_crop + crop_size, do_rescale + rescale_factor, do_normalize + image_mean/image_std.
 * A field the config leaves out takes the class default for known types.
 * For other types a missing do_* flag is read from the presence of its parameter (do_resize from size,
 * do_center_crop from crop_size, do_rescale from rescale_factor, do_normalize from image_mean), and any other
 * missing field that is needed is an error. Fields that would change pixels in ways not implemented for the type
 * (padding, crop_pct outside ConvNeXt, channel flips, size.longest_edge, ...) give a ZsError naming the field.
 * Images are always converted to RGB (the models take 3 channels; for RGB inputs this changes nothing).
 */
import { ZsError } from '../errors.js';
import { filterFromPilCode, type ResampleFilter } from './resample.js';
import { PROCESSOR_CLASSES, CROP_PCT_WARP_FROM, RESCALE_OFFSET, type ProcessorClass } from './processors.js';

export type ResizeSpec =
  | { kind: 'shortest_edge'; shortestEdge: number }
  | { kind: 'exact'; height: number; width: number };

export interface PreprocessSpec {
  /** The config's image_processor_type (or feature_extractor_type), for messages. */
  type: string;
  resize: ResizeSpec | null;
  filter: ResampleFilter;
  crop: { height: number; width: number } | null;
  /** Multiplier applied to uint8 values (in float64, then cast to float32), or null for none. */
  rescaleFactor: number | null;
  /** Subtracted from the uint8 value before the multiplier (EfficientNet's rescale_offset: 127.5; default 0). */
  rescaleOffset?: number;
  /** Per-channel mean/std, or null for no normalization. */
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
  /** After normalize, a second division by this std with mean 0 (EfficientNet's include_top), or null / absent. */
  secondStd?: [number, number, number] | null;
}

/**
 * Config keys that change pixels in ways not implemented; present (and not false/null) means unsupported, unless the
 * processor class implements the key (ProcessorClass.extraKeys).
 */
const UNSUPPORTED_KEYS = [
  'crop_pct', 'do_pad', 'pad_size', 'size_divisor', 'do_flip_channel_order', 'rescale_offset', 'do_thumbnail',
  'do_align_long_axis', 'image_grid_pinpoints', 'min_pixels', 'max_pixels', 'do_split_image', 'max_image_size',
  'include_top',
];

function bad(file: string, field: string, value: unknown, expected: string): ZsError {
  return new ZsError('E_PREPROCESSOR_CONFIG', `${file}: unsupported ${field} ${JSON.stringify(value)} (expected ${expected})`, {
    hint: 'use a model whose preprocessor_config.json uses the settings of a supported processor (CLIP, ViT, SigLIP, BiT, ConvNeXt, EfficientNet)',
  });
}

function posInt(file: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 16384) throw bad(file, field, v, 'an integer from 1 to 16384');
  return v;
}

function triple(file: string, field: string, v: unknown, positive: boolean): [number, number, number] {
  const arr = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 3 || arr.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))) {
    throw bad(file, field, v, positive ? '3 positive numbers' : '3 numbers');
  }
  return [arr[0], arr[1], arr[2]];
}

function sizeDict(file: string, field: string, v: unknown, intIsShortest: boolean): ResizeSpec {
  if (typeof v === 'number') {
    const s = posInt(file, field, v);
    return intIsShortest ? { kind: 'shortest_edge', shortestEdge: s } : { kind: 'exact', height: s, width: s };
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== null && o[k] !== undefined).sort().join(',');
    if (keys === 'shortest_edge') return { kind: 'shortest_edge', shortestEdge: posInt(file, `${field}.shortest_edge`, o.shortest_edge) };
    if (keys === 'height,width') return { kind: 'exact', height: posInt(file, `${field}.height`, o.height), width: posInt(file, `${field}.width`, o.width) };
  }
  throw bad(file, field, v, '{"shortest_edge": n}, {"height": h, "width": w} or a number');
}

type Geometry = Pick<PreprocessSpec, 'resize' | 'crop'>;

/** ConvNeXt's rule (processors.ts): shortest edge int(s / crop_pct) then an s x s crop, or a warp to s x s from 384 on. */
function cropPctGeometry(file: string, s: number, cropPct: unknown): Geometry {
  if (s >= CROP_PCT_WARP_FROM) return { resize: { kind: 'exact', height: s, width: s }, crop: null };
  // transformers accepts any positive crop_pct (above 1 the crop is zero-padded).
  if (typeof cropPct !== 'number' || !Number.isFinite(cropPct) || cropPct <= 0) throw bad(file, 'crop_pct', cropPct, 'a positive number');
  // Python's int(shortest_edge / crop_pct): float64 division, truncated.
  return { resize: { kind: 'shortest_edge', shortestEdge: Math.trunc(s / cropPct) }, crop: { height: s, width: s } };
}

/**
 * Parses a preprocessor_config.json object. `file` names it in error messages.
 * Throws ZsError E_PREPROCESSOR_CONFIG for unsupported or missing fields.
 */
export function parsePreprocessorConfig(config: unknown, file = 'preprocessor_config.json'): PreprocessSpec {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw bad(file, 'content', typeof config, 'a JSON object');
  const raw = config as Record<string, unknown>;
  const typeValue = raw.image_processor_type ?? raw.feature_extractor_type ?? 'unknown';
  const type = String(typeValue);
  const known: ProcessorClass | undefined = PROCESSOR_CLASSES[type.replace(/Fast$/, '')];
  const field = (name: string): unknown => {
    if (raw[name] !== undefined && raw[name] !== null) return raw[name];
    if (known && known.fields[name] !== undefined) return known.fields[name];
    throw new ZsError('E_PREPROCESSOR_CONFIG', `${file}: ${name} is missing (image processor type ${type})`, {
      hint: `add "${name}" to ${file}, as transformers would need it too`,
    });
  };
  const flag = (name: string, param: string): boolean => {
    const v = raw[name] ?? (known ? field(name) : raw[param] !== undefined && raw[param] !== null);
    if (typeof v !== 'boolean') throw bad(file, name, v, 'true or false');
    return v;
  };
  const extra = (name: string): boolean => known?.extraKeys.includes(name) === true;

  for (const key of UNSUPPORTED_KEYS) {
    const v = raw[key];
    if (!extra(key) && v !== undefined && v !== null && v !== false) throw bad(file, key, v, `it to be absent: this option is not supported for ${type}`);
  }
  if (raw.do_reduce_labels === true) throw bad(file, 'do_reduce_labels', true, 'false');

  const cropPct = known?.geometry === 'crop-pct';
  const intIsShortest = cropPct || (typeof raw.default_to_square === 'boolean' ? !raw.default_to_square : known?.intSizeIsShortestEdge ?? false);
  const size = flag('do_resize', 'size') ? sizeDict(file, 'size', field('size'), intIsShortest) : null;
  if (size && known && !known.sizeForms.includes(size.kind)) {
    throw bad(file, 'size', field('size'), `${size.kind === 'exact' ? '{"shortest_edge": n}' : '{"height": h, "width": w}'} for ${type}`);
  }
  let filter: ResampleFilter = 'bilinear';
  if (size) {
    const code = field('resample');
    const f = typeof code === 'number' ? filterFromPilCode(code) : undefined;
    if (!f) throw bad(file, 'resample', code, 'a PIL filter number 0..5');
    filter = f;
  }
  let geometry: Geometry = { resize: size, crop: null };
  if (cropPct) {
    if (size?.kind === 'shortest_edge') geometry = cropPctGeometry(file, size.shortestEdge, field('crop_pct'));
  } else if (flag('do_center_crop', 'crop_size')) {
    const c = sizeDict(file, 'crop_size', field('crop_size'), false);
    if (c.kind !== 'exact') throw bad(file, 'crop_size', raw.crop_size, '{"height": h, "width": w} or a number');
    geometry.crop = { height: c.height, width: c.width };
  }
  if (!geometry.crop && geometry.resize?.kind !== 'exact') {
    throw new ZsError('E_PREPROCESSOR_CONFIG', `${file}: the output size depends on each image (no center crop and no fixed resize size)`, {
      hint: 'set do_center_crop with crop_size, or size {"height", "width"}',
    });
  }
  let rescaleFactor: number | null = null;
  let rescaleOffset = 0;
  if (flag('do_rescale', 'rescale_factor')) {
    const r = field('rescale_factor');
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0) throw bad(file, 'rescale_factor', r, 'a positive number');
    rescaleFactor = r;
    if (extra('rescale_offset') && flag('rescale_offset', 'rescale_offset')) rescaleOffset = RESCALE_OFFSET;
  }
  const normalize = flag('do_normalize', 'image_mean');
  const includeTop = extra('include_top') && flag('include_top', 'include_top');
  return {
    type,
    ...geometry,
    filter,
    rescaleFactor,
    rescaleOffset,
    mean: normalize ? triple(file, 'image_mean', field('image_mean'), false) : null,
    std: normalize ? triple(file, 'image_std', field('image_std'), true) : null,
    secondStd: includeTop ? triple(file, 'image_std', field('image_std'), true) : null,
  };
}

/** Output size for an upright source image of `width` x `height`, as transformers computes it. */
export function resizeTarget(spec: ResizeSpec, width: number, height: number): { width: number; height: number } {
  if (spec.kind === 'exact') return { width: spec.width, height: spec.height };
  const s = spec.shortestEdge;
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((s * long) / short);
  return width <= height ? { width: s, height: newLong } : { width: newLong, height: s };
}
