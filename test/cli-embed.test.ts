/**
 * `zs embed` end to end (the built binary): folders, --labels-from-dirs, JSONL and .npy + index output, the cache
 * (warm runs, --no-cache, refused cache files, two processes at once, kill -9 mid-run), corrupt files in a folder.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { zs, tempDir, ROOT, BIN, CLIP_DIR, REF_IMAGES } from './_helpers.js';

const { dir: tmp, cleanup } = tempDir('zs-cli-embed-');
const M = ['--model', CLIP_DIR, '--threads', '1'];
const DATA = join(tmp, 'data');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Line { path?: string; text?: string; label?: string; embedding: number[] }
const parse = (stdout: string): Line[] => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);

/** data/cat/{a.png,b.jpg}, data/dog/c.png, data/dog/deep/d.png, data/notes.txt */
function makeData(): void {
  mkdirSync(join(DATA, 'cat'), { recursive: true });
  mkdirSync(join(DATA, 'dog', 'deep'), { recursive: true });
  cpSync(join(REF_IMAGES, 'chelsea.png'), join(DATA, 'cat', 'a.png'));
  cpSync(join(REF_IMAGES, 'chelsea_q90.jpg'), join(DATA, 'cat', 'b.jpg'));
  cpSync(join(REF_IMAGES, 'coffee.png'), join(DATA, 'dog', 'c.png'));
  cpSync(join(REF_IMAGES, 'gradient_320x200.png'), join(DATA, 'dog', 'deep', 'd.png'));
  writeFileSync(join(DATA, 'notes.txt'), 'not an image');
}
makeData();

function entries(cacheDir: string): number {
  const db = new Database(join(cacheDir, 'embeddings.sqlite'), { readonly: true });
  try { return db.prepare('SELECT count(*) FROM embeddings').pluck().get() as number; } finally { db.close(); }
}

/** entries() while another process may still be creating the cache file (no schema yet: 0). */
function entriesSoFar(cacheDir: string): number {
  try { return entries(cacheDir); } catch { return 0; }
}

test('JSONL on stdout: recursive, images only, sorted, labels from parent folders, unit vectors; texts after', () => {
  const r = zs(['embed', ...M, '--cache-dir', join(tmp, 'c1'), '--labels-from-dirs', DATA, '--text', 'a cat']);
  assert.is(r.code, 0, r.stderr);
  const lines = parse(r.stdout);
  assert.equal(lines.map((l) => l.path ?? l.text), [join(DATA, 'cat', 'a.png'), join(DATA, 'cat', 'b.jpg'), join(DATA, 'dog', 'c.png'), join(DATA, 'dog', 'deep', 'd.png'), 'a cat']);
  assert.equal(lines.map((l) => l.label), ['cat', 'cat', 'dog', 'deep', undefined]);
  for (const l of lines) {
    assert.is(l.embedding.length, 16);
    const norm = Math.sqrt(l.embedding.reduce((s, v) => s + v * v, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
  }
  assert.match(r.stderr, /embedded 4 of 4 images .* 0 from the cache, 4 computed/);
});

test('a warm run reads every embedding from the cache and prints the same lines', () => {
  const cold = zs(['embed', ...M, '--cache-dir', join(tmp, 'c2'), DATA]);
  const warm = zs(['embed', ...M, '--cache-dir', join(tmp, 'c2'), DATA]);
  assert.is(warm.code, 0, warm.stderr);
  assert.match(warm.stderr, /4 from the cache, 0 computed/);
  assert.is(warm.stdout, cold.stdout);
});

test('--out x.npy writes a float32 [n, d] array and x.json, the index; --out x.jsonl the same rows', () => {
  const npy = join(tmp, 'feats.npy');
  const r = zs(['embed', ...M, '--no-cache', '--labels-from-dirs', '--out', npy, DATA, '--text', 'a dog']);
  assert.is(r.code, 0, r.stderr);
  const buf = readFileSync(npy);
  assert.is(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const hlen = buf.readUInt16LE(8);
  assert.is((10 + hlen) % 64, 0);
  assert.match(buf.subarray(10, 10 + hlen).toString('latin1'), /\{'descr': '<f4', 'fortran_order': False, 'shape': \(5, 16\), \}/);
  const arr = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  assert.is(arr.length, 5 * 16);
  const index = JSON.parse(readFileSync(join(tmp, 'feats.json'), 'utf8'));
  assert.is(index.format, 'zs-embeddings');
  assert.equal(index.dims, [5, 16]);
  assert.equal(index.labels, ['cat', 'cat', 'dog', 'deep']);
  assert.equal(index.texts, ['a dog']);
  assert.is(index.paths.length, 4);
  assert.match(index.fingerprint, /^[0-9a-f]{64}$/);
  assert.is(index.model, CLIP_DIR);
  const jsonl = join(tmp, 'feats.jsonl');
  assert.is(zs(['embed', ...M, '--no-cache', '--out', jsonl, DATA, '--text', 'a dog']).code, 0);
  parse(readFileSync(jsonl, 'utf8')).forEach((l, i) => {
    l.embedding.forEach((v, j) => assert.is(Math.fround(v), arr[i * 16 + j]));
  });
});

test('--no-cache creates no cache; --no-fast-decode is another fingerprint', () => {
  const dir = join(tmp, 'c3');
  assert.is(zs(['embed', ...M, '--cache-dir', dir, '--no-cache', DATA]).code, 0);
  assert.not.ok(existsSync(join(dir, 'embeddings.sqlite')));
  const fast = zs(['embed', ...M, '--cache-dir', dir, '--out', join(tmp, 'f.npy'), DATA]);
  const exact = zs(['embed', ...M, '--cache-dir', dir, '--no-fast-decode', '--out', join(tmp, 'e.npy'), DATA]);
  assert.is(fast.code + exact.code, 0, fast.stderr + exact.stderr);
  const fp = (f: string) => JSON.parse(readFileSync(join(tmp, f), 'utf8')).fingerprint as string;
  assert.is.not(fp('f.json'), fp('e.json'));
  assert.is(entries(dir), 8);
});

test('a corrupt file in a folder is reported and skipped; the run finishes, counts failures, exits 1', () => {
  const dir = join(tmp, 'bad');
  cpSync(DATA, dir, { recursive: true });
  const png = readFileSync(join(REF_IMAGES, 'coffee.png'));
  writeFileSync(join(dir, 'dog', 'truncated.png'), png.subarray(0, png.length >> 1));
  writeFileSync(join(dir, 'cat', 'empty.jpg'), '');
  const r = zs(['embed', ...M, '--cache-dir', join(tmp, 'c4'), dir]);
  assert.is(r.code, 1);
  assert.is(parse(r.stdout).length, 4);
  assert.match(r.stderr, /zs: .*empty\.jpg/);
  assert.match(r.stderr, /zs: .*truncated\.png/);
  assert.match(r.stderr, /2 of 6 images failed/);
});

test('a cache file that is not a zs cache, or from a newer schema, is refused and left untouched', () => {
  const foreign = join(tmp, 'c5');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'embeddings.sqlite'), 'my notes, not a database\n'.repeat(10));
  const before = readFileSync(join(foreign, 'embeddings.sqlite'));
  const r = zs(['embed', ...M, '--cache-dir', foreign, DATA]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /embeddings\.sqlite is not a zs embedding cache/);
  assert.equal(readFileSync(join(foreign, 'embeddings.sqlite')), before);
  assert.is(r.stdout, '');

  const newer = join(tmp, 'c6');
  mkdirSync(newer);
  const db = new Database(join(newer, 'embeddings.sqlite'));
  db.pragma(`application_id = ${0x7a736563}`);
  db.pragma('user_version = 99');
  db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  db.close();
  const n = zs(['embed', ...M, '--cache-dir', newer, DATA]);
  assert.is(n.code, 1);
  assert.match(n.stderr, /schema 99, newer than this zs understands/);
});

/** Runs zs embed asynchronously; resolves with its exit code and output. */
function start(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ZS_OFFLINE: '1' } });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** `n` distinct small PNGs in `dir`. */
async function manyImages(dir: string, n: number): Promise<void> {
  const sharp = (await import('sharp')).default;
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    await sharp(join(REF_IMAGES, 'chelsea.png')).extract({ left: i % 50, top: Math.floor(i / 50) * 3, width: 48, height: 40 })
      .png().toFile(join(dir, `img-${String(i).padStart(4, '0')}.png`));
  }
}

test('two processes at once on one cache: both finish with the same lines; every embedding stored once', async () => {
  const imgs = join(tmp, 'many');
  await manyImages(imgs, 80);
  const args = ['embed', ...M, '--cache-dir', join(tmp, 'c7'), '-b', '4', imgs];
  const [a, b] = await Promise.all([start(args).done, start(args).done]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.is(a.stdout, b.stdout);
  assert.is(parse(a.stdout).length, 80);
  assert.is(entries(join(tmp, 'c7')), 80);
});

test('kill -9 mid-run: the cache opens, keeps what was committed, and the rerun computes only the rest', async () => {
  const imgs = join(tmp, 'many');
  const cacheDir = join(tmp, 'c8');
  const run = start(['embed', ...M, '--cache-dir', cacheDir, '-b', '1', '--no-fast-decode', imgs]);
  const db = join(cacheDir, 'embeddings.sqlite');
  for (let i = 0; i < 400; i++) {
    await sleep(10);
    if (existsSync(db) && entriesSoFar(cacheDir) >= 10) break;
  }
  run.child.kill('SIGKILL');
  const killed = await run.done;
  const kept = entries(cacheDir);
  assert.ok(kept >= 10, `${kept} entries`);
  const check = new Database(db, { readonly: true });
  assert.is(check.pragma('integrity_check', { simple: true }), 'ok');
  check.close();
  const again = zs(['embed', ...M, '--cache-dir', cacheDir, '-b', '1', '--no-fast-decode', imgs]);
  assert.is(again.code, 0, again.stderr);
  const m = /(\d+) from the cache, (\d+) computed/.exec(again.stderr);
  assert.ok(m, again.stderr);
  assert.ok(Number(m![1]) >= kept, `${m![1]} from the cache, ${kept} committed before the kill (${killed.signal})`);
  assert.is(Number(m![1]) + Number(m![2]), 80);
  assert.is(parse(again.stdout).length, 80);
});

test('usage: --labels-from-dirs without images, nothing to embed', () => {
  const a = zs(['embed', ...M, '--labels-from-dirs', '--text', 'x']);
  assert.is(a.code, 2);
  assert.match(a.stderr, /--labels-from-dirs needs images/);
  const b = zs(['embed', ...M]);
  assert.is(b.code, 2);
  assert.match(b.stderr, /nothing to embed/);
});

test.after(cleanup);
test.run();
