/**
 * Decoding tests: formats (PNG, JPEG, GIF first frame, WebP, TIFF, AVIF), modes to RGB as PIL's convert("RGB")
 * (grayscale, alpha dropped, palette, 16-bit), EXIF orientation, shrink-on-load, and every bad input: missing,
 * folder, unreadable, empty file or buffer, truncated JPEG/PNG, not an image, corrupt header, over the pixel limit
 * (a decompression-bomb header) — each a one-line ZsError naming the file, with a hint.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { REF_IMAGES, FIXTURES, tempDir } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import { decodeImage, chooseShrink, DEFAULT_MAX_PIXELS, type DecodeOptions } from '../src/image/index.js';

const INPUTS = join(FIXTURES, 'image-goldens', 'inputs');
const CHELSEA = join(REF_IMAGES, 'chelsea.png');

async function rawOf(file: string) {
  return sharp(file).raw().toBuffer({ resolveWithObject: true });
}

async function expectError(input: string | Uint8Array, code: string, mention: string, opts: DecodeOptions = {}): Promise<ZsError> {
  try {
    await decodeImage(input, opts);
  } catch (e) {
    assert.instance(e, ZsError, `${mention}: ${String(e)}`);
    const z = e as ZsError;
    assert.is(z.code, code, `${mention}: ${z.message}`);
    assert.ok(z.message.includes(mention), `message names ${mention}: ${z.message}`);
    assert.not.match(z.toLine(), /\n/);
    assert.ok(z.hint && z.hint.length > 5, `hint for ${mention}`);
    return z;
  }
  assert.unreachable(`${mention} should fail`);
  throw new Error('unreachable');
}

test('RGB PNG and JPEG decode to HWC RGB at full size', async () => {
  for (const name of ['chelsea.png', 'chelsea_q90.jpg']) {
    const img = await decodeImage(join(REF_IMAGES, name));
    assert.equal([img.width, img.height, img.data.length, img.shrink], [451, 300, 451 * 300 * 3, 1]);
    assert.equal([img.sourceWidth, img.sourceHeight], [451, 300]);
    const ref = await rawOf(join(REF_IMAGES, name));
    assert.ok(Buffer.from(img.data).equals(ref.data), name);
  }
});

test('grayscale and LA become three equal channels; alpha is dropped, not composited', async () => {
  for (const name of ['gray.png', 'la.png']) {
    const img = await decodeImage(join(INPUTS, name));
    assert.equal([img.width, img.height], [160, 120]);
    for (let i = 0; i < img.data.length; i += 3) {
      if (img.data[i] !== img.data[i + 1] || img.data[i] !== img.data[i + 2]) assert.unreachable(`${name}: pixel ${i / 3} not gray`);
    }
  }
  const rgba = await decodeImage(join(INPUTS, 'rgba.png'));
  const raw = await sharp(join(INPUTS, 'rgba.png')).raw().toBuffer();
  assert.is(raw.length, 160 * 120 * 4);
  for (let i = 0, p = 0; i < 160 * 120; i++, p += 4) {
    for (let c = 0; c < 3; c++) if (rgba.data[i * 3 + c] !== raw[p + c]) assert.unreachable(`rgba pixel ${i}`);
  }
  // The fully transparent left columns keep their colour (PIL's convert("RGB")), not white or black.
  assert.ok(rgba.data[0]! + rgba.data[1]! + rgba.data[2]! > 0 && rgba.data[0]! + rgba.data[1]! + rgba.data[2]! < 765);
});

test('palette images, with and without transparency, give the same palette colours', async () => {
  const a = await decodeImage(join(INPUTS, 'palette.png'));
  const b = await decodeImage(join(INPUTS, 'palette_trns.png'));
  const c = await decodeImage(join(INPUTS, 'palette.gif'));
  assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)));
  assert.ok(Buffer.from(a.data).equals(Buffer.from(c.data)));
});

test('GIF: the first frame; 16-bit PNG: the high byte', async () => {
  const gif = await decodeImage(join(INPUTS, 'anim.gif'));
  assert.equal([gif.width, gif.height], [40, 30]);
  assert.equal(Array.from(gif.data.subarray(0, 3)), [200, 30, 30]);
  const img = await decodeImage(join(INPUTS, 'rgb16.png'));
  assert.equal([img.width, img.height], [80, 60]);
  assert.is(readFileSync(join(INPUTS, 'rgb16.png'))[24], 16, 'the fixture is a 16-bit PNG');
  const wide = await sharp(join(INPUTS, 'rgb16.png')).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
  const words = new Uint16Array(wide.buffer, wide.byteOffset, wide.byteLength / 2);
  assert.is(words.length, img.data.length);
  let lowByteMatters = 0;
  for (let i = 0; i < words.length; i++) {
    if (img.data[i] !== words[i]! >> 8) assert.unreachable(`value ${i}: ${img.data[i]} vs ${words[i]}`);
    if (Math.round(words[i]! / 257) !== words[i]! >> 8) lowByteMatters++;
  }
  assert.ok(lowByteMatters > 100, 'rounding instead of taking the high byte would fail this test');
});

test('EXIF orientation 6 is turned upright', async () => {
  const img = await decodeImage(join(INPUTS, 'exif_rot6.jpg'));
  const meta = await sharp(join(INPUTS, 'exif_rot6.jpg')).metadata();
  assert.equal([meta.width, meta.height, meta.orientation], [300, 200, 6]);
  assert.equal([img.width, img.height, img.sourceWidth, img.sourceHeight], [200, 300, 200, 300]);
  const upright = await sharp(join(INPUTS, 'exif_rot6.jpg')).rotate().raw().toBuffer();
  assert.ok(Buffer.from(img.data).equals(upright));
});

test('WebP, TIFF and AVIF decode', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const ref = await rawOf(CHELSEA);
    for (const [ext, lossless] of [['webp', true], ['tiff', true], ['avif', false]] as const) {
      const file = join(dir, `c.${ext}`);
      const s = sharp(CHELSEA);
      await (ext === 'webp' ? s.webp({ lossless: true }) : ext === 'tiff' ? s.tiff({ compression: 'lzw' }) : s.avif({ quality: 90 })).toFile(file);
      const img = await decodeImage(file);
      assert.equal([img.width, img.height], [451, 300], ext);
      let sum = 0;
      for (let i = 0; i < img.data.length; i++) sum += Math.abs(img.data[i]! - ref.data[i]!);
      const mean = sum / img.data.length;
      assert.ok(lossless ? mean === 0 : mean < 4, `${ext}: mean abs diff ${mean}`);
    }
  } finally {
    cleanup();
  }
});

test('shrink-on-load: JPEG files at 1/2..1/8 scale, never below the minimum size', async () => {
  assert.is(chooseShrink(4032, 3024, 448, 448), 4);
  assert.is(chooseShrink(4032, 3024, 298, 224), 8);
  assert.is(chooseShrink(4032, 3024, 597, 448), 4);
  assert.is(chooseShrink(451, 300, 448, 448), 1);
  assert.is(chooseShrink(1000, 1000, 500, 500), 2);
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'big.jpg');
    await sharp(CHELSEA).resize(1804, 1200).jpeg({ quality: 90 }).toFile(file);
    const img = await decodeImage(file, { shrinkOnLoad: { minSize: () => ({ width: 200, height: 150 }) } });
    // libvips keeps floor(1804 / 8) = 225 columns; the box says the source reaches 225.5.
    assert.equal([img.shrink, img.width, img.height, img.sourceWidth, img.sourceHeight], [8, 225, 150, 1804, 1200]);
    assert.equal(img.box, [0, 0, 225.5, 150]);
    assert.is(img.data.length, 225 * 150 * 3);
    // Rotated by EXIF orientation 6, the dropped stored right edge ends up at the bottom, the bottom at the left.
    const rotated = join(dir, 'rot.jpg');
    await sharp(CHELSEA).resize(1804, 1203).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toFile(rotated);
    const r = await decodeImage(rotated, { shrinkOnLoad: { minSize: () => ({ width: 150, height: 200 }) } });
    assert.equal([r.shrink, r.width, r.height, r.sourceWidth, r.sourceHeight], [8, 150, 225, 1203, 1804]);
    assert.equal(r.box, [150 - 1203 / 8, 0, 150, 225.5]);
    // A name ending in "]" is not read as libvips load options (and is not shrunk).
    const odd = join(dir, 'snap.jpg[shrink=2]'); // sharp alone reports such a file as missing
    writeFileSync(odd, readFileSync(file));
    const o = await decodeImage(odd, { shrinkOnLoad: { minSize: () => ({ width: 200, height: 150 }) } });
    assert.equal([o.shrink, o.width, o.height], [1, 1804, 1200]);
    // A PNG is never shrunk.
    const png = join(dir, 'big.png');
    await sharp(file).png().toFile(png);
    const p = await decodeImage(png, { shrinkOnLoad: { minSize: () => ({ width: 200, height: 150 }) } });
    assert.equal([p.shrink, p.width], [1, 1804]);
  } finally {
    cleanup();
  }
});

test('bad inputs: each a one-line ZsError naming the file, with the fix', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const jpg = readFileSync(join(REF_IMAGES, 'chelsea_q90.jpg'));
    const png = readFileSync(CHELSEA);
    const files: Record<string, Uint8Array | string> = {
      'empty.png': new Uint8Array(0),
      'truncated.jpg': jpg.subarray(0, Math.floor(jpg.length / 2)),
      'truncated.png': png.subarray(0, Math.floor(png.length / 2)),
      'notes.jpg': 'this is a text file, not a picture\n',
      'header-only.png': png.subarray(0, 100),
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    mkdirSync(join(dir, 'folder.jpg'));

    await expectError(join(dir, 'missing.jpg'), 'E_IMAGE_NOT_FOUND', 'missing.jpg');
    await expectError(join(dir, 'folder.jpg'), 'E_IMAGE_READ', 'folder.jpg');
    const empty = await expectError(join(dir, 'empty.png'), 'E_IMAGE_DECODE', 'empty.png');
    assert.match(empty.message, /empty/);
    const tj = await expectError(join(dir, 'truncated.jpg'), 'E_IMAGE_DECODE', 'truncated.jpg');
    assert.match(tj.message, /truncated or corrupt/);
    const tp = await expectError(join(dir, 'truncated.png'), 'E_IMAGE_DECODE', 'truncated.png');
    assert.match(tp.message, /truncated or corrupt/);
    const txt = await expectError(join(dir, 'notes.jpg'), 'E_IMAGE_DECODE', 'notes.jpg');
    assert.match(txt.message, /not an image/);
    await expectError(join(dir, 'header-only.png'), 'E_IMAGE_DECODE', 'header-only.png');
    // Buffers are named by opts.name.
    await expectError(new Uint8Array(0), 'E_IMAGE_DECODE', 'upload.png', { name: 'upload.png' });
    await expectError(new Uint8Array(jpg.subarray(0, 5000)), 'E_IMAGE_DECODE', 'cut.jpg', { name: 'cut.jpg' });
    await expectError(new Uint8Array(Buffer.from('GIF89a nonsense')), 'E_IMAGE_DECODE', '<buffer>');
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'locked.png'), png);
      chmodSync(join(dir, 'locked.png'), 0o000);
      await expectError(join(dir, 'locked.png'), 'E_IMAGE_READ', 'locked.png');
    }
  } finally {
    cleanup();
  }
});

test('pixel limit: a decompression-bomb header is refused before decoding; the limit is an option', async () => {
  assert.is(DEFAULT_MAX_PIXELS, 178_956_970);
  const bomb = join(INPUTS, 'bomb.png');
  const e = await expectError(bomb, 'E_IMAGE_TOO_LARGE', 'bomb.png');
  assert.match(e.message, /30000x20000 = 600000000 pixels, over the limit of 178956970 pixels/);
  assert.match(e.hint!, /maxPixels/);
  await expectError(CHELSEA, 'E_IMAGE_TOO_LARGE', 'chelsea.png', { maxPixels: 100_000 });
  const ok = await decodeImage(CHELSEA, { maxPixels: 451 * 300 });
  assert.is(ok.width, 451);
  try {
    await decodeImage(CHELSEA, { maxPixels: 0 });
    assert.unreachable('maxPixels 0');
  } catch (err) {
    assert.instance(err, ZsError);
    assert.is((err as ZsError).kind, 'usage');
  }
});

test.run();
