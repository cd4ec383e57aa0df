/**
 * Reads a Hugging Face preprocessor_config.json into a plain PreprocessSpec, the way transformers' image processor
 * classes interpret it. Supported: CLIPImageProcessor, ViTImageProcessor, SiglipImageProcessor, BitImageProcessor
 * (DINOv2), their *FeatureExtractor/Fast aliases, and any other type that uses only the same fields:
 *   do_convert_rgb, do_resize + size ({shortest_edge} | {height, width} | a number) + resample (PIL enum 0..5),
 *   do_center_crop + crop_size, do_rescale + rescale_factor, do_normalize + image_mean/image_std.
 * A field the config leaves out takes the class default for known types (the table below, from transformers).
 * For other types a missing do_* flag is read from the presence of its parameter (do_resize from size,
 * do_center_crop from crop_size, do_rescale from rescale_factor, do_normalize from image_mean), and any other
 * missing field that is needed is an error. Fields that would change pixels in ways not
 * implemented here (padding, crop_pct, channel flips, size.longest_edge, ...) give a ZsError naming the field.
 * Images are always converted to RGB (the models take 3 channels; for RGB inputs this changes nothing).
 */
import { ZsError } from '../errors.js';
import { filterFromPilCode, type ResampleFilter } from './resample.js';

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
  /** Per-channel mean/std, or null for no normalization. */
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
}

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
const HALF = [0.5, 0.5, 0.5];

interface ClassDefaults {
  /** How a bare number in `size` is read (transformers' get_size_dict default_to_square). */
  intSizeIsShortestEdge: boolean;
  fields: Record<string, unknown>;
}

const CLIP_LIKE: ClassDefaults = {
  intSizeIsShortestEdge: true,
  fields: {
    do_resize: true, size: { shortest_edge: 224 }, resample: 3, do_center_crop: true, crop_size: { height: 224, width: 224 },
    do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: CLIP_MEAN, image_std: CLIP_STD,
  },
};
const SQUARE_LIKE = (resample: number): ClassDefaults => ({
  intSizeIsShortestEdge: false,
  fields: {
    do_resize: true, size: { height: 224, width: 224 }, resample, do_center_crop: false,
    do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: HALF, image_std: HALF,
  },
});

/** Class defaults of the image processors the model catalog carries (transformers' __init__ defaults). */
const KNOWN_TYPES: Readonly<Record<string, ClassDefaults>> = {
  CLIPImageProcessor: CLIP_LIKE,
  CLIPFeatureExtractor: CLIP_LIKE,
  BitImageProcessor: CLIP_LIKE,
  ViTImageProcessor: SQUARE_LIKE(2),
  ViTFeatureExtractor: SQUARE_LIKE(2),
  SiglipImageProcessor: SQUARE_LIKE(3),
};

/** Config keys that change pixels in ways not implemented; present (and not false/null) means unsupported. */
const UNSUPPORTED_KEYS = [
  'crop_pct', 'do_pad', 'pad_size', 'size_divisor', 'do_flip_channel_order', 'rescale_offset', 'do_thumbnail',
  'do_align_long_axis', 'image_grid_pinpoints', 'min_pixels', 'max_pixels', 'do_split_image', 'max_image_size',
];

function bad(file: string, field: string, value: unknown, expected: string): ZsError {
  return new ZsError('E_PREPROCESSOR_CONFIG', `${file}: unsupported ${field} ${JSON.stringify(value)} (expected ${expected})`, {
    hint: 'use a model whose preprocessor_config.json uses CLIP/ViT-style resize, crop, rescale and normalize',
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

/**
 * Parses a preprocessor_config.json object. `file` names it in error messages.
 * Throws ZsError E_PREPROCESSOR_CONFIG for unsupported or missing fields.
 */
export function parsePreprocessorConfig(config: unknown, file = 'preprocessor_config.json'): PreprocessSpec {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw bad(file, 'content', typeof config, 'a JSON object');
  const raw = config as Record<string, unknown>;
  const typeValue = raw.image_processor_type ?? raw.feature_extractor_type ?? 'unknown';
  const type = String(typeValue);
  const known = KNOWN_TYPES[type.replace(/Fast$/, '')];
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

  for (const key of UNSUPPORTED_KEYS) {
    const v = raw[key];
    if (v !== undefined && v !== null && v !== false) throw bad(file, key, v, 'it to be absent: this option is not supported');
  }
  if (raw.do_reduce_labels === true) throw bad(file, 'do_reduce_labels', true, 'false');

  const intIsShortest = typeof raw.default_to_square === 'boolean' ? !raw.default_to_square : known?.intSizeIsShortestEdge ?? false;
  const resize = flag('do_resize', 'size') ? sizeDict(file, 'size', field('size'), intIsShortest) : null;
  let filter: ResampleFilter = 'bilinear';
  if (resize) {
    const code = field('resample');
    const f = typeof code === 'number' ? filterFromPilCode(code) : undefined;
    if (!f) throw bad(file, 'resample', code, 'a PIL filter number 0..5');
    filter = f;
  }
  let crop: PreprocessSpec['crop'] = null;
  if (flag('do_center_crop', 'crop_size')) {
    const c = sizeDict(file, 'crop_size', field('crop_size'), false);
    if (c.kind !== 'exact') throw bad(file, 'crop_size', raw.crop_size, '{"height": h, "width": w} or a number');
    crop = { height: c.height, width: c.width };
  }
  if (!crop && resize?.kind !== 'exact') {
    throw new ZsError('E_PREPROCESSOR_CONFIG', `${file}: the output size depends on each image (no center crop and no fixed resize size)`, {
      hint: 'set do_center_crop with crop_size, or size {"height", "width"}',
    });
  }
  let rescaleFactor: number | null = null;
  if (flag('do_rescale', 'rescale_factor')) {
    const r = field('rescale_factor');
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0) throw bad(file, 'rescale_factor', r, 'a positive number');
    rescaleFactor = r;
  }
  const normalize = flag('do_normalize', 'image_mean');
  return {
    type,
    resize,
    filter,
    crop,
    rescaleFactor,
    mean: normalize ? triple(file, 'image_mean', field('image_mean'), false) : null,
    std: normalize ? triple(file, 'image_std', field('image_std'), true) : null,
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
