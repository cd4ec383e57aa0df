/**
 * Image decoding with sharp (libvips) to 8-bit RGB, matching what Hugging Face's image processors see after
 * `PIL.ImageOps.exif_transpose(Image.open(f)).convert("RGB")`:
 * - JPEG, PNG, WebP, GIF (first frame), TIFF (first page), AVIF/HEIF: whatever sharp reads.
 * - EXIF orientation is applied (photos come out upright), as transformers' `load_image` does.
 * - Embedded ICC profiles are ignored (PIL ignores them; converting would change the pixels the model expects).
 * - Grayscale becomes 3 equal channels and alpha is dropped without compositing, as `convert("RGB")` does.
 *   Palette images give their palette colours. 16-bit images keep the high byte (PIL does this for 16-bit RGB).
 * Known differences from PIL: CMYK JPEGs are converted by sharp's colour management (PIL uses a naive formula);
 * the hidden colour under fully transparent GIF pixels comes out as sharp gives it (PIL keeps the palette colour);
 * 16-bit grayscale keeps the high byte where PIL 9 clips to 255.
 *
 * Decompression bombs: images over `maxPixels` (default 178,956,970 = twice PIL's MAX_IMAGE_PIXELS, the size at
 * which PIL raises DecompressionBombError) are refused from the header, before any pixel is decoded.
 *
 * Fast decode (`shrinkOnLoad`): JPEG and WebP files can be decoded at 1/2, 1/4 or 1/8 scale (libjpeg DCT scaling,
 * libwebp scaled decoding) through libvips' load options (`file.jpg[shrink=8]`), so sharp's own resampler never
 * touches the pixels. The largest factor whose result still covers the caller's minimum size is used. Only files:
 * sharp passes no load options for buffers, so buffers (and files whose name ends in "]") are decoded at full size.
 */
import { promises as fsp, constants as fsc } from 'node:fs';
import { ZsError } from '../errors.js';
import type { RgbImage, Box } from './resample.js';

export type { RgbImage } from './resample.js';

/** Twice PIL's Image.MAX_IMAGE_PIXELS: where PIL refuses to open an image (DecompressionBombError). */
export const DEFAULT_MAX_PIXELS = 178_956_970;

/** An image the library accepts: a file path or the encoded bytes of an image file. */
export type ImageInput = string | Uint8Array;

export interface DecodeOptions {
  /** Name used in error messages when the input is a buffer (default "<buffer>"). */
  name?: string;
  /** Refuse images with more pixels than this (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /**
   * Decode JPEG/WebP files at a reduced scale whose upright size still covers `minSize(w, h)`, given the upright
   * full-scale size (see header).
   */
  shrinkOnLoad?: { minSize: (width: number, height: number) => { width: number; height: number } };
}

export interface DecodedImage extends RgbImage {
  /** Upright size of the image at full scale (equal to width/height unless shrunk on load). */
  sourceWidth: number;
  sourceHeight: number;
  /** The shrink-on-load factor used: 1, 2, 4 or 8. */
  shrink: number;
  /**
   * Where the full upright source lies in the decoded pixel grid, as a resize box: [0, 0, width, height] except
   * after JPEG shrink-on-load, where libvips drops the last partial 8x8-block column and row (floor(size / shrink)
   * pixels out of libjpeg's ceil), so the source reaches up to one decoded pixel past that edge. Which upright edge
   * depends on the EXIF orientation.
   */
  box: Box;
}

const FORMATS_HINT = 'supported formats: JPEG, PNG, WebP, GIF, TIFF, AVIF';
const SHRINKABLE = new Set(['jpeg', 'webp']);

type Metadata = import('sharp').Metadata;

function decodeError(label: string, reason: string, hint: string, cause?: unknown): ZsError {
  return new ZsError('E_IMAGE_DECODE', `cannot decode image ${label}: ${reason}`, { hint, cause });
}

/** Turns a sharp/libvips error into a one-line ZsError naming the image. */
function fromSharpError(e: unknown, label: string): ZsError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/unsupported image format/i.test(msg)) {
    return decodeError(label, 'not an image, or an unsupported format', `check the file; ${FORMATS_HINT}`, e);
  }
  if (/premature end|truncat|read error|corrupt|end of (file|stream|data)|invalid|out of data/i.test(msg)) {
    const reason = msg.split('\n')[0]!.trim().replace(/:$/, '');
    return decodeError(label, `the file is truncated or corrupt (${reason})`, 're-download or re-export the image', e);
  }
  return decodeError(label, msg.split('\n')[0]!.trim(), 're-export the image as PNG or JPEG', e);
}

/** Checks a path before sharp sees it, so a missing/empty/unreadable file gets a precise message. */
async function checkFile(path: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ZsError('E_IMAGE_NOT_FOUND', `image not found: ${path}`, { hint: 'check the path', cause: e });
    }
    throw new ZsError('E_IMAGE_READ', `cannot read image ${path}: ${(e as Error).message}`, { hint: 'check the path and its permissions', cause: e });
  }
  if (st.isDirectory()) {
    throw new ZsError('E_IMAGE_READ', `cannot read image ${path}: it is a folder`, { hint: 'give an image file' });
  }
  try {
    await fsp.access(path, fsc.R_OK);
  } catch (e) {
    throw new ZsError('E_IMAGE_READ', `cannot read image ${path}: permission denied`, { hint: 'make the file readable (chmod +r)', cause: e });
  }
  if (st.size === 0) {
    throw new ZsError('E_IMAGE_DECODE', `cannot decode image ${path}: the file is empty (0 bytes)`, { hint: 're-download or re-export the image' });
  }
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    throw new ZsError('E_IMAGE_READ', `cannot read image ${path}: ${(e as Error).message}`, { hint: 'check the path and its permissions', cause: e });
  }
}

/** Upright (EXIF-rotated) size from metadata: orientations 5..8 swap width and height. */
function uprightSize(meta: Metadata): { width: number; height: number } {
  const { width: w, height: h } = storedSize(meta);
  return (meta.orientation ?? 1) >= 5 ? { width: h, height: w } : { width: w, height: h };
}

/** Stored size from metadata (one frame's height for multi-page images): what the pixel limit counts. */
function storedSize(meta: Metadata): { width: number; height: number } {
  return { width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0 };
}

/** libvips reads a trailing "[...]" of a file name as load options: such names are read as bytes instead. */
function isLiteralName(path: string): boolean {
  return path.endsWith(']');
}

/** What sharp reads `input` from: the path itself, or its bytes where libvips would misread the name. */
async function sharpSource(input: ImageInput): Promise<string | Buffer> {
  if (typeof input !== 'string') return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  return isLiteralName(input) ? readBytes(input) : input;
}

/**
 * Pixels of an image as decodeImage counts them against maxPixels, from its header alone (nothing decoded).
 * Throws sharp's error when the header cannot be read.
 */
export async function headerPixels(input: ImageInput): Promise<number> {
  const sharp = (await import('sharp')).default;
  const { width, height } = storedSize(await sharp(await sharpSource(input), { limitInputPixels: false }).metadata());
  return width * height;
}

/**
 * For each EXIF orientation: whether the upright x axis comes from the stored y axis, and whether the upright
 * x / y axes run against the stored ones (then the stored right/bottom edge ends up at the upright left/top).
 */
const ORIENT: Readonly<Record<number, { swap: boolean; revX: boolean; revY: boolean }>> = {
  1: { swap: false, revX: false, revY: false }, 2: { swap: false, revX: true, revY: false },
  3: { swap: false, revX: true, revY: true }, 4: { swap: false, revX: false, revY: true },
  5: { swap: true, revX: false, revY: false }, 6: { swap: true, revX: true, revY: false },
  7: { swap: true, revX: true, revY: true }, 8: { swap: true, revX: false, revY: true },
};

/** The resize box of a JPEG decoded with `shrink` (see DecodedImage.box). */
function shrunkBox(orientation: number, upright: { width: number; height: number }, w: number, h: number, shrink: number): Box {
  const o = ORIENT[orientation] ?? ORIENT[1]!;
  const ex = upright.width / shrink;
  const ey = upright.height / shrink;
  return [o.revX ? w - ex : 0, o.revY ? h - ey : 0, o.revX ? w : ex, o.revY ? h : ey];
}

/** Largest power-of-two factor (<= 8) that keeps ceil(size / f) >= min on both axes. */
export function chooseShrink(width: number, height: number, minWidth: number, minHeight: number): number {
  for (const f of [8, 4, 2]) {
    if (Math.ceil(width / f) >= minWidth && Math.ceil(height / f) >= minHeight) return f;
  }
  return 1;
}

/** Converts sharp's raw output (1..4 channels, 8-bit) to packed RGB. */
function toRgb(raw: Uint8Array, width: number, height: number, channels: number, label: string): Uint8Array {
  const n = width * height;
  if (channels === 3) return raw;
  const out = new Uint8Array(n * 3);
  if (channels === 4) {
    for (let i = 0, p = 0, o = 0; i < n; i++, p += 4, o += 3) {
      out[o] = raw[p]!; out[o + 1] = raw[p + 1]!; out[o + 2] = raw[p + 2]!;
    }
  } else if (channels === 1 || channels === 2) {
    for (let i = 0, p = 0, o = 0; i < n; i++, p += channels, o += 3) {
      const v = raw[p]!;
      out[o] = v; out[o + 1] = v; out[o + 2] = v;
    }
  } else {
    throw decodeError(label, `${channels} channels are not supported`, 're-export the image as RGB PNG or JPEG');
  }
  return out;
}

/**
 * Decodes an image file or buffer to upright 8-bit RGB. Throws ZsError (E_IMAGE_NOT_FOUND, E_IMAGE_READ,
 * E_IMAGE_DECODE, E_IMAGE_TOO_LARGE) naming the file (or `opts.name` for buffers).
 */
export async function decodeImage(input: ImageInput, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const isPath = typeof input === 'string';
  if (!isPath && !(input instanceof Uint8Array)) {
    throw new ZsError('E_INVALID_ARG', `invalid image input: ${typeof input} (expected a file path or a Uint8Array)`, { kind: 'usage' });
  }
  const label = isPath ? input : opts.name ?? '<buffer>';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new ZsError('E_INVALID_ARG', `invalid maxPixels: ${maxPixels} (expected a positive integer)`, { kind: 'usage' });
  }
  if (isPath) await checkFile(input);
  else if (input.length === 0) {
    throw new ZsError('E_IMAGE_DECODE', `cannot decode image ${label}: the data is empty (0 bytes)`, { hint: 're-download or re-export the image' });
  }
  const literal = isPath && isLiteralName(input);
  const src = await sharpSource(input);

  const sharp = (await import('sharp')).default;
  let meta: Metadata;
  try {
    meta = await sharp(src, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw fromSharpError(e, label);
  }
  const { width: fullW, height: fullH } = storedSize(meta);
  if (fullW * fullH > maxPixels) {
    throw new ZsError('E_IMAGE_TOO_LARGE',
      `image ${label} is ${fullW}x${fullH} = ${fullW * fullH} pixels, over the limit of ${maxPixels} pixels`,
      { hint: 'raise --max-pixels (maxPixels in the library) if you trust this file, or downscale it first' });
  }
  const upright = uprightSize(meta);

  let shrink = 1;
  let loadFrom: string | Buffer = src;
  if (opts.shrinkOnLoad && isPath && !literal && SHRINKABLE.has(meta.format ?? '')) {
    const min = opts.shrinkOnLoad.minSize(upright.width, upright.height);
    shrink = chooseShrink(upright.width, upright.height, min.width, min.height);
    if (shrink > 1) loadFrom = meta.format === 'jpeg' ? `${input}[shrink=${shrink}]` : `${input}[scale=${1 / shrink}]`;
  }

  let raw: { data: Buffer; info: import('sharp').OutputInfo };
  try {
    raw = await sharp(loadFrom, {
      limitInputPixels: maxPixels,
      failOn: 'error',
      autoOrient: true,
      ignoreIcc: true,
      sequentialRead: true,
    }).raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw fromSharpError(e, label);
  }
  const { width, height, channels } = raw.info;
  const depth = (raw.info as { depth?: string }).depth; // present at runtime, missing from sharp's types
  if (depth !== 'uchar') throw decodeError(label, `sample depth ${depth} is not supported`, 're-export the image as 8-bit PNG or JPEG');
  const bytes = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  const data = toRgb(bytes, width, height, channels, label);
  const box: Box = shrink > 1 && meta.format === 'jpeg'
    ? shrunkBox(meta.orientation ?? 1, upright, width, height, shrink)
    : [0, 0, width, height];
  return { data, width, height, sourceWidth: upright.width, sourceHeight: upright.height, shrink, box };
}
