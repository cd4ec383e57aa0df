/**
 * `zs embed --manifest ... --shard-index I --shard-count P --out DIR` end to end (the built binary): 4 shards as 4
 * parallel processes whose union is every input once with the embeddings of a single `zs embed`; kill -9 mid-shard
 * and the re-run; re-runs skip finished shards; the clip-retrieval layout; CSV and Parquet manifests; URL rows
 * (served on 127.0.0.1) with dead, flaky, redirected and oversized URLs. Parts are read back with hyparquet.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { zs, tempDir, ROOT, BIN, CLIP_DIR, REF_IMAGES } from './_helpers.js';
import { startImageServer } from './helpers/image-server.js';

const { dir: tmp, cleanup } = tempDir('zs-cli-shards-');
const M = ['--model', CLIP_DIR, '--threads', '1', '--no-cache'];
const DATA = join(tmp, 'data');
const NAMES: string[] = [];

interface Part { key: string; path: string; model: string; embedding?: number[]; error: string | null }
const readParquet = async (file: string) => (await parquetReadObjects({ file: await asyncBufferFromFile(file) })) as unknown as Part[];

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ZS_OFFLINE: '1', ...env } });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** The reference images, 18 generated ones (PNG and JPEG, several sizes) and one file that is not an image. */
test.before(async () => {
  const sharp = (await import('sharp')).default;
  mkdirSync(DATA, { recursive: true });
  for (const f of readdirSync(REF_IMAGES)) { cpSync(join(REF_IMAGES, f), join(DATA, f)); NAMES.push(f); }
  for (let i = 0; i < 18; i++) {
    const name = `gen-${String(i).padStart(2, '0')}.${i % 3 === 0 ? 'jpg' : 'png'}`;
    const img = sharp(join(REF_IMAGES, 'coffee.png')).extract({ left: (i * 7) % 60, top: (i * 5) % 40, width: 40 + i * 3, height: 30 + i * 2 });
    await (i % 3 === 0 ? img.jpeg({ quality: 85 }) : img.png()).toFile(join(DATA, name));
    NAMES.push(name);
  }
  writeFileSync(join(DATA, 'broken.jpg'), 'this is not a JPEG');
  NAMES.push('broken.jpg');
  // keys k00.., relative paths (read from the manifest's folder)
  writeFileSync(join(DATA, 'manifest.jsonl'), NAMES.map((n, i) => JSON.stringify({ key: `k${String(i).padStart(2, '0')}`, path: n })).join('\n') + '\n');
});

/** path -> embedding from one plain `zs embed` over every image. */
let refMemo: Map<string, number[]> | undefined;
function reference(): Map<string, number[]> {
  if (refMemo) return refMemo;
  const r = zs(['embed', ...M, ...NAMES.filter((n) => n !== 'broken.jpg').map((n) => join(DATA, n))]);
  assert.is(r.code, 0, r.stderr);
  refMemo = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; embedding: number[] }).map((l) => [l.path, l.embedding]));
  return refMemo;
}

function close(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-5);
}

test('4 shards as 4 parallel processes: the union is every input once, with the embeddings of one zs embed', async () => {
  const out = join(tmp, 'out4');
  const runs = [0, 1, 2, 3].map((i) => start(['embed', ...M, '--manifest', join(DATA, 'manifest.jsonl'), '--shard-index', String(i), '--shard-count', '4', '--out', out]));
  const results = await Promise.all(runs.map((r) => r.done));
  results.forEach((r, i) => assert.is(r.code, 0, `shard ${i}: ${r.stderr}`));
  const ref = reference();
  const seen = new Map<string, Part>();
  for (let i = 0; i < 4; i++) {
    const rows = await readParquet(join(out, `part-0000${i}.parquet`));
    // shard i holds manifest rows r with r mod 4 = i, in manifest order
    assert.equal(rows.map((r) => r.key), NAMES.map((_, r) => `k${String(r).padStart(2, '0')}`).filter((_, r) => r % 4 === i));
    for (const row of rows) {
      assert.not.ok(seen.has(row.key), `${row.key} twice`);
      seen.set(row.key, row);
    }
    const kv = (await parquetMetadataAsync(await asyncBufferFromFile(join(out, `part-0000${i}.parquet`)))).key_value_metadata ?? [];
    assert.equal(kv.filter((k) => k.key.startsWith('zs.')).map((k) => [k.key, k.value]), [['zs.model', CLIP_DIR], ['zs.dim', '16'], ['zs.normalized', 'true']]);
    assert.ok(kv.some((k) => k.key === 'ARROW:schema'), 'the Arrow schema entry (FixedSizeList) is there');
    const done = JSON.parse(readFileSync(join(out, `part-0000${i}.done.json`), 'utf8'));
    assert.equal(done.shard, { index: i, count: 4, rule: 'row mod count' });
    assert.is(done.counts.rows, rows.length);
    assert.match(done.model.sha256, /^[0-9a-f]{64}$/);
    assert.is(done.model.dim, 16);
  }
  assert.is(seen.size, NAMES.length);
  for (const [key, row] of seen) {
    const name = NAMES[Number(key.slice(1))]!;
    assert.is(row.path, join(DATA, name));
    if (name === 'broken.jpg') {
      assert.ok(row.embedding == null, 'no embedding');
      assert.match(row.error!, /broken\.jpg/);
    } else {
      assert.is(row.error, null);
      assert.ok(close(row.embedding!, ref.get(row.path)!), `${name} differs from the single run`);
    }
  }
  // a re-run finds every shard done and does nothing
  const again = zs(['embed', ...M, '--manifest', join(DATA, 'manifest.jsonl'), '--shard-count', '4', '--out', out], { env: { JOB_COMPLETION_INDEX: '2' } });
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stderr, /shard 2 of 4 is already done/);
  // the same folder with another shard count is refused, naming what differs
  const other = zs(['embed', ...M, '--manifest', join(DATA, 'manifest.jsonl'), '--shard-index', '2', '--shard-count', '5', '--out', out]);
  assert.is(other.code, 2);
  assert.match(other.stderr, /part-00002\.done\.json records a finished shard made with another shard count \(4, now 5\)/);
});

test('kill -9 mid-shard leaves no part that looks finished; the re-run completes the shard', async () => {
  const server = await startImageServer();
  try {
    server.route('/slow.png', { stall: true, file: join(DATA, 'coffee.png') });
    const manifest = join(tmp, 'slow.jsonl');
    writeFileSync(manifest, [...NAMES.slice(0, 6).map((n) => JSON.stringify({ key: n, path: join(DATA, n) })), JSON.stringify({ key: 'slow', url: server.url('/slow.png') })].join('\n'));
    const out = join(tmp, 'outkill');
    const run = start(['embed', ...M, '--manifest', manifest, '--out', out]);
    await server.waitFor('/slow.png');
    const hidden = readdirSync(out).filter((f) => f.startsWith('.part-00000.parquet.') && f.endsWith('.tmp'));
    assert.is(hidden.length, 1, readdirSync(out).join(', '));
    run.child.kill('SIGKILL');
    const killed = await run.done;
    assert.is(killed.signal, 'SIGKILL');
    assert.not.ok(existsSync(join(out, 'part-00000.parquet')));
    assert.not.ok(existsSync(join(out, 'part-00000.done.json')));
    server.release();
    const rerun = await start(['embed', ...M, '--manifest', manifest, '--out', out]).done; // async: the server runs in this process
    assert.is(rerun.code, 0, rerun.stderr);
    assert.equal(readdirSync(out).sort(), ['part-00000.done.json', 'part-00000.parquet']); // temporaries and fetch folder gone
    const rows = await readParquet(join(out, 'part-00000.parquet'));
    assert.equal(rows.map((r) => r.key), [...NAMES.slice(0, 6), 'slow']);
    assert.ok(rows.every((r) => r.error === null && r.embedding?.length === 16));
    assert.ok(close(rows[6]!.embedding!, reference().get(join(DATA, 'coffee.png'))!), 'the fetched image embeds like the file');
  } finally {
    await server.close();
  }
});

test('URL rows: fetched, retried, redirected; a dead, refused or oversized URL is an error row and the shard completes', async () => {
  const server = await startImageServer();
  try {
    server.route('/a.png', { file: join(DATA, 'chelsea.png') });
    server.route('/flaky.jpg', { failTimes: 2, file: join(DATA, 'chelsea_q90.jpg') });
    server.route('/moved', { redirect: '/a.png' });
    server.route('/huge.png', { bigBytes: 10_000_000 });
    const rows = [
      { key: 'a', url: server.url('/a.png') }, { key: 'dead', url: server.url('/gone.png') },
      { key: 'flaky', url: server.url('/flaky.jpg') }, { key: 'moved', url: server.url('/moved') },
      { key: 'huge', url: server.url('/huge.png') }, { key: 'refused', url: 'http://127.0.0.1:9/x.png' },
      { key: 'local', path: join(DATA, 'coffee.png') },
    ];
    const manifest = join(tmp, 'urls.jsonl');
    writeFileSync(manifest, rows.map((r) => JSON.stringify(r)).join('\n'));
    const out = join(tmp, 'outurl');
    const r = await start(['embed', ...M, '--manifest', manifest, '--out', out, '--max-download', '1000000', '--fetch-retries', '2']).done;
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, /7 rows, 4 embedded, 3 failed/);
    const got = new Map((await readParquet(join(out, 'part-00000.parquet'))).map((p) => [p.key, p]));
    const ref = reference();
    assert.ok(close(got.get('a')!.embedding!, ref.get(join(DATA, 'chelsea.png'))!));
    assert.ok(close(got.get('moved')!.embedding!, ref.get(join(DATA, 'chelsea.png'))!));
    assert.ok(close(got.get('flaky')!.embedding!, ref.get(join(DATA, 'chelsea_q90.jpg'))!));
    assert.is(server.hits.get('/flaky.jpg'), 3);
    assert.match(got.get('dead')!.error!, /^cannot fetch http:\/\/127\.0\.0\.1:\d+\/gone\.png: HTTP 404$/);
    assert.is(server.hits.get('/gone.png'), 1); // a 404 is not retried
    assert.match(got.get('huge')!.error!, /10000000 bytes, over the limit of 1000000/);
    assert.match(got.get('refused')!.error!, /cannot fetch http:\/\/127\.0\.0\.1:9\/x\.png: .*\(after 3 tries\)/);
    assert.is(got.get('dead')!.path, server.url('/gone.png'));
  } finally {
    await server.close();
  }
});

test('--layout clip-retrieval: img_emb/img_emb_I.npy and metadata/metadata_I.parquet in the same row order', async () => {
  const out = join(tmp, 'outclip');
  const r = zs(['embed', ...M, '--manifest', join(DATA, 'manifest.jsonl'), '--shard-index', '1', '--shard-count', '2', '--out', out, '--layout', 'clip-retrieval']);
  assert.is(r.code, 0, r.stderr);
  const buf = readFileSync(join(out, 'img_emb', 'img_emb_1.npy'));
  const hlen = buf.readUInt16LE(8);
  const want = NAMES.filter((n, i) => i % 2 === 1 && n !== 'broken.jpg');
  assert.match(buf.subarray(10, 10 + hlen).toString('latin1'), new RegExp(`'shape': \\(${want.length}, 16\\)`));
  const emb = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  const meta = await readParquet(join(out, 'metadata', 'metadata_1.parquet'));
  assert.equal(meta.map((m) => m.path), want.map((n) => join(DATA, n)));
  const ref = reference();
  meta.forEach((m, i) => assert.ok(close(Array.from(emb.subarray(i * 16, (i + 1) * 16)), ref.get(m.path)!), m.path));
  const done = JSON.parse(readFileSync(join(out, 'part-00001.done.json'), 'utf8'));
  assert.equal(done.files, [join('img_emb', 'img_emb_1.npy'), join('metadata', 'metadata_1.parquet')]);
  assert.is(done.failures.length, NAMES.filter((n, i) => i % 2 === 1 && n === 'broken.jpg').length);
});

test('CSV and Parquet manifests shard like JSONL; usage errors are one line with exit 2', async () => {
  const csv = join(DATA, 'manifest.csv');
  writeFileSync(csv, 'id,file\n' + NAMES.map((n, i) => `k${String(i).padStart(2, '0')},"${n}"`).join('\n') + '\n');
  const { parquetWriteFile } = await import('hyparquet-writer');
  const pq = join(DATA, 'manifest.parquet');
  parquetWriteFile({ filename: pq, columnData: [
    { name: 'key', data: NAMES.map((_, i) => `k${String(i).padStart(2, '0')}`), type: 'STRING' },
    { name: 'path', data: NAMES.map((n) => join(DATA, n)), type: 'STRING' },
  ] });
  const jsonl = await readParquet(join(tmp, 'out4', 'part-00003.parquet'));
  for (const m of [csv, pq]) {
    const out = join(tmp, `out-${m.split('.').pop()}`);
    const r = zs(['embed', ...M, '--manifest', m, '--shard-index', '3', '--shard-count', '4', '--out', out]);
    assert.is(r.code, 0, r.stderr);
    const rows = await readParquet(join(out, 'part-00003.parquet'));
    assert.equal(rows.map((x) => [x.key, x.path, x.error === null]), jsonl.map((x) => [x.key, x.path, x.error === null]));
  }
  const bad = [
    [['--manifest', join(DATA, 'manifest.jsonl'), '--shard-count', '4', '--out', join(tmp, 'x')], /needs --shard-index \(or \$JOB_COMPLETION_INDEX\)/],
    [['--manifest', join(DATA, 'manifest.jsonl'), '--shard-index', '4', '--shard-count', '4', '--out', join(tmp, 'x')], /--shard-index/],
    [['--manifest', join(DATA, 'manifest.jsonl')], /--manifest needs --out DIR/],
    [['--manifest', join(DATA, 'nope.jsonl'), '--out', join(tmp, 'x')], /no manifest file/],
    [['--manifest', join(DATA, 'broken.jpg'), '--out', join(tmp, 'x')], /cannot tell the format of manifest/],
    [['--shard-index', '1', join(DATA, 'coffee.png')], /--shard-index needs --manifest/],
    [['--layout', 'clip-retrieval', join(DATA, 'coffee.png')], /--layout needs --manifest/],
    [['--fetch-retries', '3', join(DATA, 'coffee.png')], /--fetch-retries needs --manifest/],
    [['--stdin-jsonl', '--layout', 'clip-retrieval'], /--layout needs --manifest; --stdin-jsonl answers on stdout/],
  ] as const;
  for (const [args, re] of bad) {
    const r = zs(['embed', ...M, ...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const env = zs(['embed', ...M, '--manifest', join(DATA, 'manifest.jsonl'), '--out', join(tmp, 'x')], { env: { JOB_COMPLETION_INDEX: '3' } });
  assert.is(env.code, 2);
  assert.match(env.stderr, /JOB_COMPLETION_INDEX=3 is not below --shard-count 1/);
  writeFileSync(join(tmp, 'badrow.jsonl'), '{"key": "a", "path": "x.png"}\n{"key": "b"}\n');
  const r = zs(['embed', ...M, '--manifest', join(tmp, 'badrow.jsonl'), '--shard-index', '1', '--shard-count', '2', '--out', join(tmp, 'y')]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /badrow\.jsonl line 2: no image: none of path, file, filename, image, url, image_url is set/);
});

test.after(cleanup);
test.run();
