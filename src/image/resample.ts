/**
 * Pillow-exact 8-bit resampling of RGB images, so pixels match what Hugging Face's (PIL-based) image processors
 * produce: `resize(img, w, h, 'bicubic')` is byte-identical to `PIL.Image.resize((w, h), Image.BICUBIC)` on an
 * "RGB" image.
 *
 * The algorithm follows Pillow's libImaging/Resample.c (convolution filters) and Geometry.c (NEAREST):
 * - Per output coordinate, a window of source taps is weighted by the filter evaluated at
 *   `(src + 0.5 - center) / filterscale`, where `center = (dst + 0.5) * scale` and `filterscale = max(scale, 1)`:
 *   the support widens when shrinking, so downscaling is antialiased. Weights are normalized to sum 1 in float64,
 *   then turned into fixed point with 22 fractional bits (`(int)(w * 2^22 ± 0.5)`).
 * - Horizontal pass first (only over the source rows the vertical pass will read), then the vertical pass; each
 *   pass accumulates in integers starting from 2^21 (round half up) and clips to 0..255 (`clip8`), so the
 *   intermediate image is rounded to 8 bits exactly as Pillow does. A pass whose size does not change is skipped.
 * - NEAREST is not a convolution: Pillow maps output pixel x to source `floor(x0)` with `x0` accumulated in float64
 *   from `scale / 2` by steps of `scale` (its affine "scale" transform), reproduced here step by step.
 * The filter functions repeat Pillow's float expressions in the same order (including Hamming's float32 constants).
 */
import { ZsError } from '../errors.js';

/** An 8-bit RGB image, rows top to bottom. */
export interface RgbImage {
  /** [height, width, 3] HWC, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/** PIL's resample enum values (the `resample` field of preprocessor_config.json) by filter. */
export const PIL_RESAMPLE_CODES: Readonly<Record<ResampleFilter, number>> = {
  nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5,
};

/** Maps PIL's resample enum (0..5) to a filter name; undefined for anything else. */
export function filterFromPilCode(code: number): ResampleFilter | undefined {
  for (const [name, value] of Object.entries(PIL_RESAMPLE_CODES)) if (value === code) return name as ResampleFilter;
  return undefined;
}

interface Kernel { fn: (x: number) => number; support: number }

const HAMMING_A = Math.fround(0.54);
const HAMMING_B = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const KERNELS: Readonly<Record<Exclude<ResampleFilter, 'nearest'>, Kernel>> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) },
  bilinear: {
    support: 1.0,
    fn: (x) => {
      if (x < 0.0) x = -x;
      return x < 1.0 ? 1.0 - x : 0.0;
    },
  },
  hamming: {
    support: 1.0,
    fn: (x) => {
      if (x < 0.0) x = -x;
      if (x === 0.0) return 1.0;
      if (x >= 1.0) return 0.0;
      x = x * Math.PI;
      return (Math.sin(x) / x) * (HAMMING_A + HAMMING_B * Math.cos(x));
    },
  },
  bicubic: {
    support: 2.0,
    fn: (x) => {
      const a = -0.5;
      if (x < 0.0) x = -x;
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
      return 0.0;
    },
  },
  lanczos: { support: 3.0, fn: (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0) },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point coefficient table for one axis: output i reads `count[i]` taps from `first[i]`, weights at i*ksize. */
interface Coeffs { ksize: number; first: Int32Array; count: Int32Array; weights: Int32Array }

function precompute(inSize: number, in0: number, in1: number, outSize: number, kernel: Kernel): Coeffs {
  const scale = Math.fround(in1 - in0) / outSize; // Pillow's box is float32
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = kernel.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize); // one window of float weights, reused
  const ss = 1.0 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const v = kernel.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0.0 ? w[x]! / ww : w[x]!;
      weights[base + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, first, count, weights };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over source rows [row0, row0 + rows), output columns [x0, x1): [rows, x1 - x0, 3] from [*, inW, 3]. */
function horizontal(src: Uint8Array, inW: number, row0: number, rows: number, x0: number, x1: number, c: Coeffs): Uint8Array {
  const out = new Uint8Array(rows * (x1 - x0) * 3);
  const { ksize, first, count, weights } = c;
  const inStride = inW * 3;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (row0 + y) * inStride;
    for (let xx = x0; xx < x1; xx++) {
      let s0 = HALF, s1 = HALF, s2 = HALF;
      let p = rowBase + first[xx]! * 3;
      const kb = xx * ksize;
      const n = count[xx]!;
      for (let x = 0; x < n; x++, p += 3) {
        const k = weights[kb + x]!;
        s0 = (s0 + src[p]! * k) | 0;
        s1 = (s1 + src[p + 1]! * k) | 0;
        s2 = (s2 + src[p + 2]! * k) | 0;
      }
      out[o++] = clip8(s0);
      out[o++] = clip8(s1);
      out[o++] = clip8(s2);
    }
  }
  return out;
}

/**
 * Vertical pass, output rows [y0, y1): [y1 - y0, w, 3] from columns [col0, col0 + w) of [*, srcW, 3], where tap
 * rows are `first[i] - row0`.
 */
function vertical(src: Uint8Array, srcW: number, col0: number, w: number, row0: number, y0: number, y1: number, c: Coeffs): Uint8Array {
  const stride = srcW * 3;
  const rowLen = w * 3;
  const out = new Uint8Array((y1 - y0) * rowLen);
  const { ksize, first, count, weights } = c;
  for (let yy = y0; yy < y1; yy++) {
    const base = (first[yy]! - row0) * stride + col0 * 3;
    const n = count[yy]!;
    const kb = yy * ksize;
    const o = (yy - y0) * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let ss = HALF;
      let p = base + i;
      for (let y = 0; y < n; y++, p += stride) ss = (ss + src[p]! * weights[kb + y]!) | 0;
      out[o + i] = clip8(ss);
    }
  }
  return out;
}

/** Source index per output index for NEAREST, as Pillow's affine scale accumulates it (-1: outside, filled 0). */
function nearestTable(inSize: number, in0: number, in1: number, outSize: number): Int32Array {
  const a = Math.fround(in1 - in0) / outSize;
  const tab = new Int32Array(outSize);
  let xo = in0 + a * 0.5;
  for (let x = 0; x < outSize; x++) {
    const xin = xo < 0.0 ? -1 : Math.trunc(xo);
    tab[x] = xin >= 0 && xin < inSize ? xin : -1;
    xo += a;
  }
  return tab;
}

function nearest(img: RgbImage, outW: number, outH: number, box: Box): Uint8Array {
  const xt = nearestTable(img.width, box[0], box[2], outW);
  const yt = nearestTable(img.height, box[1], box[3], outH);
  const out = new Uint8Array(outW * outH * 3); // zero-filled: Pillow fills unmapped pixels with 0
  const src = img.data;
  for (let y = 0; y < outH; y++) {
    const sy = yt[y]!;
    if (sy < 0) continue;
    const rowBase = sy * img.width * 3;
    let o = y * outW * 3;
    for (let x = 0; x < outW; x++, o += 3) {
      const sx = xt[x]!;
      if (sx < 0) continue;
      const p = rowBase + sx * 3;
      out[o] = src[p]!;
      out[o + 1] = src[p + 1]!;
      out[o + 2] = src[p + 2]!;
    }
  }
  return out;
}

function checkSize(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) {
    throw new ZsError('E_INVALID_ARG', `invalid ${name}: ${v} (expected a positive integer)`, { kind: 'usage' });
  }
}

/** A source region [x0, y0, x1, y1] in pixels (float32 in Pillow), as PIL's resize `box`. */
export type Box = [number, number, number, number];

/** Output pixels [x0, x1) x [y0, y1) of a resize (the rest is not computed). */
export interface Region { x0: number; y0: number; x1: number; y1: number }

/**
 * Resizes an RGB image to `width` x `height` exactly as Pillow's `Image.resize((width, height), filter, box)`
 * does (no reducing_gap). `box` (default: the whole image) is the source region mapped onto the output; unlike
 * PIL's Python API it may reach past the image edge, where Pillow's C code (used here) just has fewer taps.
 * `region` (default: all of it) computes only part of the output, e.g. the center crop that follows: each output
 * pixel is computed exactly as in the whole resize, so the result equals that part of it byte for byte.
 * Returns a new image (the region's size); the same size with the whole image as box returns a copy, as Pillow does.
 */
export function resize(img: RgbImage, width: number, height: number, filter: ResampleFilter, box?: Box, region?: Region): RgbImage {
  checkSize('width', width);
  checkSize('height', height);
  if (img.data.length !== img.width * img.height * 3) {
    throw new ZsError('E_INVALID_ARG', `invalid image: ${img.data.length} bytes for ${img.width}x${img.height}x3`, { kind: 'usage' });
  }
  const b: Box = box ? [Math.fround(box[0]), Math.fround(box[1]), Math.fround(box[2]), Math.fround(box[3])] : [0, 0, img.width, img.height];
  if (!b.every(Number.isFinite) || b[2] <= b[0] || b[3] <= b[1]) {
    throw new ZsError('E_INVALID_ARG', `invalid box: [${box?.join(', ')}] (expected x0 < x1 and y0 < y1)`, { kind: 'usage' });
  }
  const r = region ?? { x0: 0, y0: 0, x1: width, y1: height };
  const inside = (v: number, hi: number) => Number.isInteger(v) && v >= 0 && v <= hi;
  if (!inside(r.x0, width) || !inside(r.x1, width) || !inside(r.y0, height) || !inside(r.y1, height) || r.x1 <= r.x0 || r.y1 <= r.y0) {
    throw new ZsError('E_INVALID_ARG', `invalid region: [${r.x0}, ${r.y0}, ${r.x1}, ${r.y1}] (expected integers 0 <= x0 < x1 <= ${width}, 0 <= y0 < y1 <= ${height})`, { kind: 'usage' });
  }
  const rw = r.x1 - r.x0;
  const rh = r.y1 - r.y0;
  const wholeBox = b[0] === 0 && b[1] === 0 && b[2] === img.width && b[3] === img.height;
  if (width === img.width && height === img.height && wholeBox) return { data: copyRegion(img, r), width: rw, height: rh };
  if (filter === 'nearest') {
    const full = { data: nearest(img, width, height, b), width, height };
    return region ? { data: copyRegion(full, r), width: rw, height: rh } : full;
  }
  const kernel = KERNELS[filter];
  if (!kernel) throw new ZsError('E_INVALID_ARG', `invalid resample filter: ${String(filter)}`, { kind: 'usage' });

  // Pillow's tests, including its comparison of box[2] / box[3] with the output size.
  const needH = width !== img.width || b[0] !== 0 || b[2] !== width;
  const needV = height !== img.height || b[1] !== 0 || b[3] !== height;
  const cv = precompute(img.height, b[1], b[3], height, kernel);
  // Rows of the source the vertical pass reads for the region (Pillow resamples only the rows it reads horizontally).
  const row0 = cv.first[r.y0]!;
  let rowEnd = row0;
  for (let y = r.y0; y < r.y1; y++) rowEnd = Math.max(rowEnd, cv.first[y]! + cv.count[y]!);
  if (!needV) return { data: horizontal(img.data, img.width, r.y0, rh, r.x0, r.x1, precompute(img.width, b[0], b[2], width, kernel)), width: rw, height: rh };
  if (!needH) return { data: vertical(img.data, img.width, r.x0, rw, 0, r.y0, r.y1, cv), width: rw, height: rh };
  const ch = precompute(img.width, b[0], b[2], width, kernel);
  const rows = horizontal(img.data, img.width, row0, rowEnd - row0, r.x0, r.x1, ch); // [rowEnd - row0, rw, 3]
  return { data: vertical(rows, rw, 0, rw, row0, r.y0, r.y1, cv), width: rw, height: rh };
}

/** The pixels of `r` in `img`, as a new packed [rh, rw, 3] array. */
function copyRegion(img: RgbImage, r: Region): Uint8Array {
  const rw = r.x1 - r.x0;
  const out = new Uint8Array((r.y1 - r.y0) * rw * 3);
  for (let y = r.y0; y < r.y1; y++) out.set(img.data.subarray((y * img.width + r.x0) * 3, (y * img.width + r.x1) * 3), (y - r.y0) * rw * 3);
  return out;
}
