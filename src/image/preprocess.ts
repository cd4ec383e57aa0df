/**
 * The image half of a model's input: file or buffer -> normalized float32 CHW pixels, equal to what transformers'
 * (slow, PIL-based) image processors produce from the same preprocessor_config.json:
 *   decode (upright, RGB) -> resize with PIL's filter to transformers' output size -> center crop (zero padding when
 *   the image is smaller than the crop) -> rescale (float64 (x - offset) * factor, cast to float32) -> normalize
 *   (float32) -> EfficientNet's include_top second division by std (float32).
 * Rescale and normalize depend only on the 8-bit value and the channel, so they are one 768-entry lookup table.
 *
 * `fastDecode` decodes large JPEG/WebP files at 1/2, 1/4 or 1/8 scale (see decode.ts) while the shrunk image still
 * covers `fastDecodeMargin` times the resize target on both axes, then resamples with PIL's filter from there.
 * It is off by default because pixels then differ slightly from transformers' (mean |diff| ~0.008 in normalized
 * units on 12 MP photos at the default margin, a third of what JPEG q90 compression itself changes); it makes large
 * JPEGs ~6x faster to preprocess (scripts/bench-preprocess.ts).
 */
import { ZsError } from '../errors.js';
import { decodeImage, type DecodedImage, type ImageInput } from './decode.js';
import { parsePreprocessorConfig, resizeTarget, type PreprocessSpec } from './config.js';
import { resize, type Box, type Region, type RgbImage } from './resample.js';

export interface PreprocessorOptions {
  /** Decode large JPEG/WebP files at reduced scale (default false: exact transformers parity). */
  fastDecode?: boolean;
  /**
   * With fastDecode, the shrunk image must be at least this many times the resize target per axis (default 1.5:
   * 4032x3024 photos with a 224 short side decode at 1/8; scripts/bench-preprocess.ts measures the error per margin).
   */
  fastDecodeMargin?: number;
  /** Pixel limit passed to decodeImage (default: decode.ts DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
}

export interface Preprocessor {
  readonly spec: PreprocessSpec;
  /** Output height and width: every run writes 3 * height * width floats. */
  readonly height: number;
  readonly width: number;
  /**
   * Decodes and preprocesses one image into `out` at `offset` (a new array when `out` is omitted) as
   * [3, height, width] CHW float32. `name` labels a buffer in error messages. Returns `out`.
   */
  run(input: ImageInput, out?: Float32Array, offset?: number, name?: string): Promise<Float32Array>;
  /**
   * The synchronous part of `run` for an already decoded upright RGB image. `source` gives the full-scale size and
   * `box` the region of `img` it covers when `img` was shrunk on load (see DecodedImage).
   */
  fromRgb(img: RgbImage, out?: Float32Array, offset?: number, source?: { width: number; height: number; box?: Box }): Float32Array;
}

/** [3 * 256] float32 output value per (channel, 8-bit value), with transformers' float math. */
function valueTable(spec: PreprocessSpec): Float32Array {
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const m = spec.mean ? Math.fround(spec.mean[c]!) : 0;
    const s = spec.std ? Math.fround(spec.std[c]!) : 1;
    const s2 = spec.secondStd ? Math.fround(spec.secondStd[c]!) : 1;
    const offset = spec.rescaleOffset ?? 0;
    for (let v = 0; v < 256; v++) {
      // rescale: float64 (v - offset) * factor, cast to float32; normalize: float32 (x - mean) / std.
      let x = spec.rescaleFactor === null ? v : Math.fround((v - offset) * spec.rescaleFactor);
      if (spec.mean) x = Math.fround(Math.fround(x - m) / s);
      if (spec.secondStd) x = Math.fround(x / s2);
      lut[c * 256 + v] = x;
    }
  }
  return lut;
}

/**
 * Writes the center crop of a `fullW` x `fullH` image through `lut` as CHW into out[offset..], where `img` holds only
 * the part of it at [originX, originX + img.width) x [originY, originY + img.height) (the part the crop covers).
 */
function writeChw(
  img: RgbImage, fullW: number, fullH: number, originX: number, originY: number,
  outH: number, outW: number, lut: Float32Array, out: Float32Array, offset: number,
): void {
  // transformers' center_crop: top = floor((H - h) / 2); rows outside the image are zero padding.
  const top = Math.floor((fullH - outH) / 2) - originY;
  const left = Math.floor((fullW - outW) / 2) - originX;
  const plane = outH * outW;
  const src = img.data;
  for (let y = 0; y < outH; y++) {
    const sy = y + top;
    const rowIn = sy >= 0 && sy < img.height;
    let o = offset + y * outW;
    for (let x = 0; x < outW; x++, o++) {
      const sx = x + left;
      if (rowIn && sx >= 0 && sx < img.width) {
        const p = (sy * img.width + sx) * 3;
        out[o] = lut[src[p]!]!;
        out[o + plane] = lut[256 + src[p + 1]!]!;
        out[o + 2 * plane] = lut[512 + src[p + 2]!]!;
      } else {
        out[o] = lut[0]!;
        out[o + plane] = lut[256]!;
        out[o + 2 * plane] = lut[512]!;
      }
    }
  }
}

/** The part of a `w` x `h` image that a center crop to `outW` x `outH` keeps (all of it when the crop is larger). */
function cropRegion(w: number, h: number, outW: number, outH: number): Region {
  const top = Math.floor((h - outH) / 2);
  const left = Math.floor((w - outW) / 2);
  return { x0: Math.max(0, left), y0: Math.max(0, top), x1: Math.min(w, left + outW), y1: Math.min(h, top + outH) };
}

/**
 * Builds a preprocessor from a parsed preprocessor_config.json object (or an already parsed PreprocessSpec).
 * `file` names the config in error messages.
 */
export function createPreprocessor(
  config: unknown,
  opts: PreprocessorOptions = {},
  file = 'preprocessor_config.json',
): Preprocessor {
  const spec = isSpec(config) ? config : parsePreprocessorConfig(config, file);
  const margin = opts.fastDecodeMargin ?? 1.5;
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 1) {
    throw new ZsError('E_INVALID_ARG', `invalid fastDecodeMargin: ${String(margin)} (expected a number >= 1)`, { kind: 'usage' });
  }
  const outSize = spec.crop ?? (spec.resize?.kind === 'exact' ? { height: spec.resize.height, width: spec.resize.width } : null);
  if (!outSize) throw new ZsError('E_PREPROCESSOR_CONFIG', `${file}: no fixed output size`, { hint: 'set crop_size or size {"height", "width"}' });
  const { height, width } = outSize;
  const lut = valueTable(spec);
  const floats = 3 * height * width;

  const target = (w: number, h: number) => (spec.resize ? resizeTarget(spec.resize, w, h) : { width: w, height: h });

  function fromRgb(img: RgbImage, out?: Float32Array, offset = 0, source?: { width: number; height: number; box?: Box }): Float32Array {
    const dst = out ?? new Float32Array(floats);
    if (!Number.isInteger(offset) || offset < 0 || offset + floats > dst.length) {
      throw new ZsError('E_INVALID_ARG', `invalid offset: ${offset} (the output holds ${dst.length} floats, one image needs ${floats})`, { kind: 'usage' });
    }
    const t = target(source?.width ?? img.width, source?.height ?? img.height);
    const box = source?.box;
    const whole = !box || (box[0] === 0 && box[1] === 0 && box[2] === img.width && box[3] === img.height);
    if (spec.resize && (t.width !== img.width || t.height !== img.height || !whole)) {
      // resample only what the center crop keeps: the same pixels as resizing everything, then cropping
      const r = cropRegion(t.width, t.height, width, height);
      writeChw(resize(img, t.width, t.height, spec.filter, box, r), t.width, t.height, r.x0, r.y0, height, width, lut, dst, offset);
    } else {
      writeChw(img, img.width, img.height, 0, 0, height, width, lut, dst, offset);
    }
    return dst;
  }

  async function run(input: ImageInput, out?: Float32Array, offset = 0, name?: string): Promise<Float32Array> {
    const shrinkOnLoad = opts.fastDecode && spec.resize
      ? { minSize: (w: number, h: number) => { const t = target(w, h); return { width: t.width * margin, height: t.height * margin }; } }
      : undefined;
    const img: DecodedImage = await decodeImage(input, { name, maxPixels: opts.maxPixels, shrinkOnLoad });
    return fromRgb(img, out, offset, { width: img.sourceWidth, height: img.sourceHeight, box: img.box });
  }

  return { spec, height, width, run, fromRgb };
}

function isSpec(v: unknown): v is PreprocessSpec {
  return typeof v === 'object' && v !== null && 'filter' in v && 'rescaleFactor' in v && 'type' in v;
}
