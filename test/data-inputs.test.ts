/** Input manifests for sharded embedding (src/data/inputs.ts): JSONL, CSV and Parquet, streamed, rows filtered. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInputRows, manifestFormat, type InputRow } from '../src/data/inputs.js';
import { tempDir } from './_helpers.js';

const { dir, cleanup } = tempDir('zs-inputs-');
const all = async (file: string, want?: (r: number) => boolean) => {
  const out: InputRow[] = [];
  for await (const r of readInputRows(file, want)) out.push(r);
  return out;
};
const rejects = async (file: string, re: RegExp, want?: (r: number) => boolean) => {
  try { await all(file, want); } catch (e) { assert.match((e as Error).message, re); assert.is((e as { kind?: string }).kind, 'usage'); return; }
  assert.unreachable(`${file} was accepted`);
};

test('JSONL: keys, relative paths from the manifest folder, URLs, numeric ids; blank lines are not rows', async () => {
  const f = join(dir, 'm.jsonl');
  writeFileSync(f, '\ufeff{"key": "a", "path": "x/a.jpg"}\n\n{"id": 7, "url": "https://h/b.png"}\n{"image": "/abs/c.png"}\r\n');
  assert.equal(await all(f), [
    { row: 0, key: 'a', source: join(dir, 'x/a.jpg'), isUrl: false },
    { row: 1, key: '7', source: 'https://h/b.png', isUrl: true },
    { row: 2, key: '/abs/c.png', source: '/abs/c.png', isUrl: false },
  ]);
});

test('only the wanted rows are parsed: a bad line in another shard is not this shard\'s error', async () => {
  const f = join(dir, 'bad.jsonl');
  writeFileSync(f, '{"path": "a.jpg"}\nnot json\n{"path": "c.jpg"}\n');
  assert.equal((await all(f, (r) => r % 2 === 0)).map((r) => r.row), [0, 2]);
  await rejects(f, /bad\.jsonl line 2: not JSON/, (r) => r === 1);
});

test('row errors name the file and line', async () => {
  const cases: [string, RegExp][] = [
    ['{"key": "a"}', /line 1: no image: none of path, file, filename, image, url, image_url is set/],
    ['[1, 2]', /line 1: not a JSON object/],
    ['{"path": 5}', /line 1: path is not a string/],
    ['{"url": "s3://b/k.jpg"}', /s3:\/\/b\/k\.jpg is neither a file path nor an http\(s\) URL/],
  ];
  for (const [text, re] of cases) {
    const f = join(dir, 'e.jsonl');
    writeFileSync(f, text + '\n');
    await rejects(f, re);
  }
});

test('CSV: a header names the columns; quoted fields may hold commas and line breaks; cell counts are checked', async () => {
  const f = join(dir, 'm.csv');
  writeFileSync(f, 'Key,caption,PATH\nk1,"a, b",one.jpg\nk2,"line\nbreak",two.jpg\n\nk3,plain,https://h/3.jpg\n');
  assert.equal((await all(f)).map((r) => [r.row, r.key, r.source]), [[0, 'k1', join(dir, 'one.jpg')], [1, 'k2', join(dir, 'two.jpg')], [2, 'k3', 'https://h/3.jpg']]);
  writeFileSync(f, 'key,path\nk1,a.jpg,extra\n');
  await rejects(f, /m\.csv line 2: 3 cells, expected 2/);
  writeFileSync(f, 'a.jpg\nb.jpg\n');
  await rejects(f, /line 1: the header names no image column/);
  writeFileSync(f, 'key,path\nk1,"open\n');
  await rejects(f, /a quoted field is never closed/);
});

test('Parquet: key and url columns by name, other columns ignored', async () => {
  const { parquetWriteFile } = await import('hyparquet-writer');
  const f = join(dir, 'm.parquet');
  parquetWriteFile({ filename: f, columnData: [
    { name: 'caption', data: ['x', 'y', 'z'], type: 'STRING' },
    { name: 'url', data: ['https://h/0.jpg', 'rel/1.jpg', 'https://h/2.jpg'], type: 'STRING' },
    { name: 'key', data: ['a', 'b', 'c'], type: 'STRING' },
  ] });
  assert.equal((await all(f, (r) => r !== 1)).map((r) => [r.row, r.key, r.source, r.isUrl]), [[0, 'a', 'https://h/0.jpg', true], [2, 'c', 'https://h/2.jpg', true]]);
  const g = join(dir, 'nocol.parquet');
  parquetWriteFile({ filename: g, columnData: [{ name: 'caption', data: ['x'], type: 'STRING' }] });
  await rejects(g, /no image column .* it has caption/);
});

test('the format comes from the extension; a missing file is a usage error', async () => {
  assert.is(manifestFormat('a.NDJSON'), 'jsonl');
  assert.is(manifestFormat('a.csv'), 'csv');
  assert.throws(() => manifestFormat('a.txt'), /cannot tell the format of manifest a\.txt/);
  await rejects(join(dir, 'none.jsonl'), /no manifest file/);
});

test.after(cleanup);
test.run();
