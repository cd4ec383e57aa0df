/**
 * Which Parquet writer for `zs embed --shard-*`: writes N rows (key, path, model, embedding: d float32, error)
 * with hyparquet-writer (pure JS, streamed a row group at a time) and with parquet-wasm (arrow-rs in WebAssembly,
 * fed an apache-arrow table whose embedding column is FixedSizeList<float32, d>), then reads each file back with
 * DuckDB and with the other library. Prints time, peak RSS and file size per writer.
 *   npm --prefix scripts/parquet-compare install
 *   node scripts/parquet-compare/compare.mjs [rows=100000] [dim=512] [hyparquet|wasm|both]
 * Each writer runs in its own child process so its peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [rows = 100000, dim = 512] = process.argv.slice(2, 4).map(Number);
const which = process.argv[4] ?? 'both';

function unitRows(start, n) { // [n, dim] deterministic pseudo-random rows
  const a = new Float32Array(n * dim);
  let s = 12345 + start;
  for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = s / 2 ** 32 - 0.5; }
  return a;
}
const BATCH = 4096;

async function writeHyparquet(file) {
  const { ParquetWriter } = await import('hyparquet-writer');
  const { fileWriter } = await import('hyparquet-writer/src/node.js');
  const schema = [
    { name: 'schema', num_children: 5 },
    { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'model', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'embedding', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    { name: 'error', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ];
  const w = new ParquetWriter({ writer: fileWriter(file), schema, codec: 'UNCOMPRESSED', statistics: false });
  for (let start = 0; start < rows; start += BATCH) {
    const n = Math.min(BATCH, rows - start);
    const data = unitRows(start, n);
    const emb = Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * dim, (i + 1) * dim))); // the writer wants plain arrays
    const keys = Array.from({ length: n }, (_, i) => `k${start + i}`);
    w.write({ rowGroupSize: n, columnData: [
      { name: 'key', data: keys }, { name: 'path', data: keys.map((k) => `/data/${k}.jpg`) },
      { name: 'model', data: keys.map(() => 'clip-vit-b32') }, { name: 'embedding', data: emb },
      { name: 'error', data: keys.map(() => null) },
    ] });
  }
  w.finish();
}

async function writeWasm(file) {
  const arrow = await import('apache-arrow');
  const pw = await import('parquet-wasm/node');
  const { writeFileSync } = await import('node:fs');
  const child = new arrow.Field('element', new arrow.Float32(), false);
  const batches = [];
  for (let start = 0; start < rows; start += BATCH) {
    const n = Math.min(BATCH, rows - start);
    const keys = Array.from({ length: n }, (_, i) => `k${start + i}`);
    const values = arrow.makeData({ type: new arrow.Float32(), length: n * dim, data: unitRows(start, n) });
    const emb = arrow.makeVector(arrow.makeData({ type: new arrow.FixedSizeList(dim, child), length: n, child: values }));
    batches.push(new arrow.Table({
      key: arrow.vectorFromArray(keys, new arrow.Utf8()), path: arrow.vectorFromArray(keys.map((k) => `/data/${k}.jpg`), new arrow.Utf8()),
      model: arrow.vectorFromArray(keys.map(() => 'clip-vit-b32'), new arrow.Utf8()), embedding: emb,
      error: arrow.vectorFromArray(keys.map(() => null), new arrow.Utf8()),
    }));
  }
  const table = new arrow.Table(batches.flatMap((t) => t.batches));
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.UNCOMPRESSED).setMaxRowGroupSize(BATCH).build();
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props);
  writeFileSync(file, bytes);
}

async function readBack(file) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await (await DuckDBInstance.create()).connect();
  const r = await db.runAndReadAll(`SELECT count(*) AS n, typeof(any_value(embedding)) AS t, len(any_value(embedding)) AS d,
    sum(list_sum(embedding)) AS s FROM read_parquet('${file}')`);
  const duck = r.getRowObjects()[0];
  const { parquetReadObjects, parquetMetadataAsync } = await import('hyparquet');
  const { readFileSync } = await import('node:fs');
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const meta = await parquetMetadataAsync(ab);
  const first = await parquetReadObjects({ file: ab, rowEnd: 1 });
  return { duckdbType: String(duck.t), duckdbRows: Number(duck.n), duckdbDim: Number(duck.d), duckdbSum: Number(duck.s).toFixed(3),
    hyparquetRows: Number(meta.num_rows), hyparquetDim: first[0].embedding.length, arrowSchema: (meta.key_value_metadata ?? []).some((kv) => kv.key === 'ARROW:schema') };
}

if (process.argv[5] === '--child') {
  const file = process.argv[6];
  const t0 = performance.now();
  await (which === 'hyparquet' ? writeHyparquet(file) : writeWasm(file));
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ secs, peakRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'zs-pq-'));
  try {
    for (const w of which === 'both' ? ['hyparquet', 'wasm'] : [which]) {
      const file = join(dir, `${w}.parquet`);
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(rows), String(dim), w, '--child', file], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      const m = JSON.parse(r.stdout);
      const back = await readBack(file);
      console.log(JSON.stringify({ writer: w, rows, dim, secs: +m.secs.toFixed(2), rowsPerSec: Math.round(rows / m.secs),
        peakRssMB: Math.round(m.peakRssMB), fileMB: +(statSync(file).size / 2 ** 20).toFixed(1), ...back }));
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}
