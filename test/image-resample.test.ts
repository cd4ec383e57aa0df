/**
 * Resampling tests: byte equality with Pillow's Image.resize for every filter (nearest, box, bilinear, hamming,
 * bicubic, lanczos) on noise and photo sources, upscaling, downscaling, one-axis and 1x1 sizes, source boxes
 * (goldens from scripts/make-image-goldens.py), plus PIL's filter numbering and argument checks.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { FIXTURES } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import { resize, filterFromPilCode, PIL_RESAMPLE_CODES, type ResampleFilter, type Box } from '../src/image/resample.js';

const GOLDENS = join(FIXTURES, 'image-goldens');
interface Index {
  sources: Record<string, { offset: number; width: number; height: number }>;
  cases: Array<{ source: string; filter: ResampleFilter; width: number; height: number; offset: number; box?: Box }>;
}
const index = JSON.parse(readFileSync(join(GOLDENS, 'resample.json'), 'utf8')) as Index;
const blob = new Uint8Array(inflateSync(readFileSync(join(GOLDENS, 'resample.bin'))));

function source(name: string) {
  const s = index.sources[name]!;
  return { data: blob.subarray(s.offset, s.offset + s.width * s.height * 3), width: s.width, height: s.height };
}

test('resize is byte-identical to PIL for every filter and size in the goldens', () => {
  assert.ok(index.cases.length >= 60);
  assert.ok(index.cases.filter((c) => c.box).length >= 18);
  const filters = new Set(index.cases.map((c) => c.filter));
  assert.equal([...filters].sort(), ['bicubic', 'bilinear', 'box', 'hamming', 'lanczos', 'nearest']);
  const bad: string[] = [];
  for (const c of index.cases) {
    const src = source(c.source);
    const expected = blob.subarray(c.offset, c.offset + c.width * c.height * 3);
    const got = resize(src, c.width, c.height, c.filter, c.box);
    assert.is(got.width, c.width);
    assert.is(got.height, c.height);
    let diffs = 0;
    for (let i = 0; i < expected.length; i++) if (expected[i] !== got.data[i]) diffs++;
    if (diffs) bad.push(`${c.source} ${src.width}x${src.height} [${c.box ?? 'whole'}] -> ${c.width}x${c.height} ${c.filter}: ${diffs} bytes differ`);
  }
  assert.equal(bad, []);
});

test('the goldens are not trivially equal across filters (the test can fail)', () => {
  const byFilter = index.cases.filter((c) => c.source === 'noise' && c.width === 75);
  const outputs = byFilter.map((c) => Buffer.from(blob.subarray(c.offset, c.offset + c.width * c.height * 3)).toString('hex'));
  assert.is(byFilter.length, 6);
  assert.is(new Set(outputs).size, 6);
});

test('same size returns an equal copy, not the same buffer', () => {
  const src = source('noise');
  const out = resize(src, src.width, src.height, 'bicubic');
  assert.ok(out.data !== src.data);
  assert.equal(Array.from(out.data), Array.from(src.data));
});

test('a region of the output equals that part of the whole resize, byte for byte, against the PIL goldens', () => {
  let checked = 0;
  for (const c of index.cases) {
    const src = source(c.source);
    const expected = blob.subarray(c.offset, c.offset + c.width * c.height * 3);
    // a center-crop-like region and one touching the bottom-right corner (each at least 1x1)
    const regions = [
      { x0: Math.floor(c.width / 4), y0: Math.floor(c.height / 3), x1: Math.max(Math.floor(c.width / 4) + 1, Math.floor((3 * c.width) / 4)), y1: c.height },
      { x0: c.width - 1, y0: Math.floor(c.height / 2), x1: c.width, y1: c.height },
    ];
    for (const r of regions) {
      const got = resize(src, c.width, c.height, c.filter, c.box, r);
      const rw = r.x1 - r.x0;
      assert.is(got.width, rw);
      assert.is(got.height, r.y1 - r.y0);
      for (let y = r.y0; y < r.y1; y++) {
        const want = expected.subarray((y * c.width + r.x0) * 3, (y * c.width + r.x1) * 3);
        const row = got.data.subarray((y - r.y0) * rw * 3, (y - r.y0 + 1) * rw * 3);
        if (!want.every((v, i) => v === row[i])) assert.unreachable(`${c.source} ${c.filter} ${c.width}x${c.height} region ${JSON.stringify(r)} row ${y}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 120);
  const src = source(index.cases[0]!.source);
  assert.throws(() => resize(src, 10, 10, 'bicubic', undefined, { x0: 5, y0: 0, x1: 5, y1: 10 }), (e: unknown) => e instanceof ZsError && /invalid region/.test(e.message));
  assert.throws(() => resize(src, 10, 10, 'bicubic', undefined, { x0: 0, y0: 0, x1: 11, y1: 10 }), (e: unknown) => e instanceof ZsError && /invalid region/.test(e.message));
});

test('PIL filter numbers map to names', () => {
  assert.is(filterFromPilCode(3), 'bicubic');
  assert.is(filterFromPilCode(2), 'bilinear');
  assert.is(filterFromPilCode(0), 'nearest');
  assert.is(filterFromPilCode(1), 'lanczos');
  assert.is(filterFromPilCode(4), 'box');
  assert.is(filterFromPilCode(5), 'hamming');
  assert.is(filterFromPilCode(6), undefined);
  assert.is(Object.keys(PIL_RESAMPLE_CODES).length, 6);
});

test('bad sizes and buffers are usage errors', () => {
  const src = source('noise');
  for (const [w, h] of [[0, 5], [5, -1], [2.5, 3]] as const) {
    try {
      resize(src, w, h, 'bilinear');
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, ZsError);
      assert.is((e as ZsError).kind, 'usage');
    }
  }
  assert.throws(() => resize({ data: new Uint8Array(5), width: 2, height: 2 }, 1, 1, 'box'), (e: unknown) => e instanceof ZsError && /bytes/.test((e as Error).message));
  assert.throws(() => resize(src, 4, 4, 'bicubic', [5, 0, 5, 10]), (e: unknown) => e instanceof ZsError && /box/.test((e as Error).message));
});

test.run();
