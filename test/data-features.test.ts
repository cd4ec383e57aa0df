import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FeatureWriter, featureLine, formatFloat32, readFeatures, readFeaturesFrom, selectRows, writeFeatures } from '../src/data/features.js';
import { ZsError } from '../src/errors.js';
import { tempDir } from './_helpers.js';

const read = (text: string, opts = {}) => readFeaturesFrom(Readable.from([text]), 'f.jsonl', opts);

async function fails(text: string, re: RegExp, opts = {}): Promise<void> {
  try {
    await read(text, opts);
  } catch (e) {
    assert.instance(e, ZsError);
    assert.match((e as ZsError).message, re);
    return;
  }
  assert.unreachable(`expected ${re}`);
}

test('reads rows into [n, d] Float32Array with labels, paths, texts; blank lines skipped', async () => {
  const text = [
    '{"path": "a.jpg", "label": "cat", "embedding": [1, 2.5, -3]}',
    '',
    '{"path": "b.jpg", "label": "dog", "embedding": [0.1, 0, 1e-3]}',
    '{"text": "a dog", "label": 7, "embedding": [4, 5, 6]}',
  ].join('\n');
  const fs = await read(text);
  assert.equal(fs.dims, [3, 3]);
  assert.equal(Array.from(fs.data), [1, 2.5, -3, Math.fround(0.1), 0, Math.fround(1e-3), 4, 5, 6]);
  assert.equal(fs.labels, ['cat', 'dog', '7']);
  assert.equal(fs.paths, ['a.jpg', 'b.jpg', null]);
  assert.equal(fs.texts, [null, null, 'a dog']);
});

test('grows past its first buffer (streaming, many lines, CRLF)', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(JSON.stringify({ label: `c${i % 3}`, embedding: [i, -i] }));
  const fs = await read(lines.join('\r\n') + '\r\n');
  assert.equal(fs.dims, [3000, 2]);
  assert.is(fs.data[2 * 2999], 2999);
  assert.is(fs.data[2 * 2999 + 1], -2999);
  assert.is(fs.paths, undefined);
  assert.is(fs.labels![2999], 'c2');
});

test('errors name the line', async () => {
  await fails('{"label":"a","embedding":[1,2]}\n{"label":"b","embedding":[1,2,3]}', /f\.jsonl line 2: embedding has 3 values, the first line's is 2/);
  await fails('{"label":"a","embedding":[1,2]}', /line 1: embedding has 2 values, expected 4/, { dim: 4 });
  await fails('{"label":"a","embedding":[1,NaN]}', /line 1: the embedding holds NaN or Infinity/);
  await fails('\n\n{"label":"a","embedding":[1,null]}', /line 3: embedding value 2 is null, not a finite float32/);
  await fails('{"label":"a","embedding":[1,"2"]}', /line 1: embedding value 2 is "2"/);
  await fails('{"label":"a","embedding":[1,1e39]}', /line 1: embedding value 2 is 1e\+39, not a finite float32/);
  await fails('{"label":"a"}', /line 1: no "embedding"/);
  await fails('{"label":"a","embedding":[]}', /line 1: "embedding" is not a non-empty list/);
  await fails('{"label":"a","embedding":[1]}\n{oops', /line 2: not valid JSON/);
  await fails('[1,2]', /line 1: not a JSON object/);
  await fails('{"label":"a","embedding":[1]}\n{"embedding":[2]}', /line 2: has no "label"/);
  await fails('{"embedding":[1]}\n{"label":"a","embedding":[2]}', /line 2: has a label but earlier lines have none/);
  await fails('{"embedding":[1]}', /line 1: has no "label"/, { requireLabels: true });
  await fails('{"label":"","embedding":[1]}', /line 1: "label" is ""/);
  await fails('\n  \n', /has no embeddings/);
});

test('readFeatures: a missing file is one clear error', async () => {
  try {
    await readFeatures('/nonexistent/f.jsonl');
    assert.unreachable();
  } catch (e) {
    assert.is((e as ZsError).code, 'E_NOT_FOUND');
    assert.match((e as Error).message, /\/nonexistent\/f\.jsonl/);
  }
});

test('formatFloat32: round-trips every float32 exactly, compactly', () => {
  assert.is(formatFloat32(0.5), '0.5');
  assert.is(formatFloat32(Math.fround(0.1)), '0.1');
  assert.is(formatFloat32(-0), '0');
  assert.is(formatFloat32(1), '1');
  const bits = new Uint32Array(1);
  const f32 = new Float32Array(bits.buffer);
  for (let i = 0; i < 20000; i++) {
    bits[0] = (Math.imul(i, 2654435761) >>> 0) & 0x7f7fffff; // finite, both signs via the next line
    const x = i % 2 ? -f32[0]! : f32[0]!;
    const s = formatFloat32(x);
    assert.ok(s.replace(/^-|\.|e.*$/g, '').replace(/^0+|0+$/g, '').length <= 9, s);
    assert.is(Math.fround(Number(s)), x);
  }
  assert.throws(() => formatFloat32(NaN), /cannot write NaN/);
});

test('featureLine: key order and JSON validity', () => {
  const line = featureLine({ path: 'a "q".jpg', label: 'cat', embedding: new Float32Array([0.25, -1]) });
  assert.is(line, '{"path":"a \\"q\\".jpg","label":"cat","embedding":[0.25,-1]}');
  assert.equal(JSON.parse(line).path, 'a "q".jpg');
});

test('writer: atomic temp + rename, round trip through the reader', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'feat.jsonl');
    const rows = Array.from({ length: 50 }, (_, i) => ({ path: `${i}.jpg`, label: `c${i % 2}`, embedding: new Float32Array([i / 7, -i / 3, 1e-20]) }));
    assert.is(await writeFeatures(file, rows), 50);
    assert.equal(readdirSync(dir), ['feat.jsonl']);
    const back = await readFeatures(file, { requireLabels: true });
    assert.equal(back.dims, [50, 3]);
    for (let i = 0; i < 50; i++) for (let j = 0; j < 3; j++) assert.is(back.data[i * 3 + j], rows[i]!.embedding[j]);
    assert.equal(back.labels, rows.map((r) => r.label));

    // abort leaves the old file as it was and no temp file behind
    writeFileSync(file, 'old\n');
    const w = await FeatureWriter.open(file);
    await w.write(rows[0]!);
    assert.is(readdirSync(dir).length, 2);
    await w.abort();
    assert.equal(readdirSync(dir), ['feat.jsonl']);
    assert.is(readFileSync(file, 'utf8'), 'old\n');

    // an error from the row source aborts the write
    async function* broken() {
      yield rows[0]!;
      throw new Error('source failed');
    }
    try {
      await writeFeatures(file, broken());
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, /source failed/);
    }
    assert.equal(readdirSync(dir), ['feat.jsonl']);
    assert.is(readFileSync(file, 'utf8'), 'old\n');
  } finally {
    cleanup();
  }
});

test('selectRows picks rows and their labels', async () => {
  const fs = await read('{"label":"a","embedding":[1,2]}\n{"label":"b","embedding":[3,4]}\n{"label":"c","embedding":[5,6]}');
  const sub = selectRows(fs, [2, 0]);
  assert.equal(sub.dims, [2, 2]);
  assert.equal(Array.from(sub.data), [5, 6, 1, 2]);
  assert.equal(sub.labels, ['c', 'a']);
  assert.throws(() => selectRows(fs, [3]), /row 3 is outside 0\.\.2/);
});

test.run();
