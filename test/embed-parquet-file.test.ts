/** The row-group-at-a-time Parquet writer (src/embed/parquet-file.ts), read back with hyparquet. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { openParquetFile } from '../src/embed/parquet-file.js';
import { tempDir } from './_helpers.js';

const { dir, cleanup } = tempDir('zs-pqfile-');
const SHAPE = [{ name: 'key', kind: 'string' }, { name: 'embedding', kind: 'floats' }, { name: 'error', kind: 'string', optional: true }] as const;

test('row groups append; lists keep float32 values; null lists and strings stay null; metadata is kept', async () => {
  const file = join(dir, 'a.parquet');
  const w = await openParquetFile(file, SHAPE, { 'zs.dim': '3' });
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('.a.parquet.') && f.endsWith('.tmp')).length, 1); // hidden until closed
  const v = (i: number) => Array.from(new Float32Array([i + 0.1, -i, i / 3]));
  await w.writeGroup([{ name: 'key', kind: 'string', optional: false, data: ['r0', 'r1'] }, { name: 'embedding', kind: 'floats', data: [v(0), null] }, { name: 'error', kind: 'string', optional: true, data: [null, 'bad'] }]);
  await w.writeGroup([{ name: 'key', kind: 'string', optional: false, data: ['r2'] }, { name: 'embedding', kind: 'floats', data: [v(2)] }, { name: 'error', kind: 'string', optional: true, data: [null] }]);
  await w.close();
  assert.equal(readdirSync(dir), ['a.parquet']);
  const buf = await asyncBufferFromFile(file);
  const meta = await parquetMetadataAsync(buf);
  assert.is(meta.row_groups.length, 2);
  assert.equal(meta.key_value_metadata?.find((k) => k.key === 'zs.dim')?.value, '3');
  const rows = await parquetReadObjects({ file: buf });
  assert.equal(rows.map((r) => r.key), ['r0', 'r1', 'r2']);
  assert.equal(rows[0]!.embedding, v(0));
  assert.ok(rows[1]!.embedding == null);
  assert.equal(rows[2]!.embedding, v(2));
  assert.equal(rows.map((r) => r.error), [null, 'bad', null]);
});

test('abort removes the temporary file and leaves an earlier file untouched', async () => {
  const file = join(dir, 'a.parquet');
  const w = await openParquetFile(file, SHAPE, {});
  await w.writeGroup([{ name: 'key', kind: 'string', optional: false, data: ['x'] }, { name: 'embedding', kind: 'floats', data: [[1, 2, 3]] }, { name: 'error', kind: 'string', optional: true, data: [null] }]);
  await w.abort();
  assert.equal(readdirSync(dir), ['a.parquet']);
  assert.is((await parquetReadObjects({ file: await asyncBufferFromFile(file) })).length, 3);
});

test.after(cleanup);
test.run();
