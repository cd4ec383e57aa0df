/**
 * `zs index`, `zs search`, `zs dupes` end to end (the built binary, tiny CLIP fixture): summary lines and exit
 * codes, --json output, usage errors, a model mismatch, and kill -9 during `zs index` (re-run: nothing indexed
 * before is lost, the database is intact, the result equals a clean index).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { zs, tempDir, ROOT, BIN, CLIP_DIR, VIT_DIR, REF_IMAGES } from './_helpers.js';

const { dir: tmp, cleanup } = tempDir('zs-cli-search-');
const M = ['--model', CLIP_DIR, '--threads', '1'];
const LIB = join(tmp, 'lib');
const home = (name: string) => ['--cache-dir', join(tmp, name)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

mkdirSync(join(LIB, 'cats'), { recursive: true });
mkdirSync(join(LIB, 'misc'), { recursive: true });
cpSync(join(REF_IMAGES, 'chelsea.png'), join(LIB, 'cats', 'chelsea.png'));
cpSync(join(REF_IMAGES, 'chelsea_q90.jpg'), join(LIB, 'cats', 'chelsea_q90.jpg'));
cpSync(join(REF_IMAGES, 'coffee.png'), join(LIB, 'misc', 'coffee.png'));
cpSync(join(REF_IMAGES, 'chelsea.png'), join(LIB, 'misc', 'copy-of-chelsea.png'));

test('zs index: summary line; a re-run finds everything unchanged', () => {
  const r1 = zs(['index', LIB, ...M, ...home('h1')]);
  assert.is(r1.code, 0, r1.stderr);
  assert.match(r1.stderr, /indexed 4 images for .*: 4 added, 0 updated, 0 removed, 0 unchanged, 0 failed \(4 in the index\)/);
  const r2 = zs(['index', LIB, ...M, ...home('h1')]);
  assert.is(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /0 added, 0 updated, 0 removed, 4 unchanged, 0 failed/);
});

test('zs search: text and --image queries, --json, --top-k, --in', () => {
  const r = zs(['search', 'a photo of a cat', '--json', '-k', '3', ...M, ...home('h1')]);
  assert.is(r.code, 0, r.stderr);
  const hits = JSON.parse(r.stdout) as { path: string; score: number }[];
  assert.is(hits.length, 3);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score);
  const img = zs(['search', '--image', join(REF_IMAGES, 'coffee.png'), '-k', '1', ...M, ...home('h1')]);
  assert.is(img.code, 0, img.stderr);
  assert.match(img.stdout, /^1\.0000  .*misc\/coffee\.png\n$/);
  const inCats = JSON.parse(zs(['search', 'x', '--json', '--in', join(LIB, 'cats'), ...M, ...home('h1')]).stdout) as { path: string }[];
  assert.equal(inCats.map((h) => h.path).sort(), [join(LIB, 'cats', 'chelsea.png'), join(LIB, 'cats', 'chelsea_q90.jpg')]);
});

test('zs search: usage errors and faults are one line with the fix', () => {
  const none = zs(['search', ...M, ...home('h1')]);
  assert.is(none.code, 2);
  assert.match(none.stderr, 'give a text query or --image FILE');
  const empty = zs(['search', 'a cat', ...M, ...home('empty')]);
  assert.is(empty.code, 1);
  assert.match(empty.stderr, /no images are indexed for model .* \(run zs index DIR --model/);
  const other = zs(['search', '--image', join(REF_IMAGES, 'coffee.png'), '--model', VIT_DIR, ...home('h1')]);
  assert.is(other.code, 2, other.stderr);
  assert.match(other.stderr, /the index holds images embedded by .*tiny-random-clip.* \(4 images\), none by/);
  assert.is(other.stderr.trim().split('\n').length, 1);
});

test('zs dupes: the planted copy is the one group', () => {
  const r = zs(['dupes', LIB, '--json', '--threshold', '0.99999', ...M, ...home('h1')]);
  assert.is(r.code, 0, r.stderr);
  const groups = JSON.parse(r.stdout) as { paths: string[] }[];
  assert.equal(groups.map((g) => g.paths), [[join(LIB, 'cats', 'chelsea.png'), join(LIB, 'misc', 'copy-of-chelsea.png')]]);
  const text = zs(['dupes', LIB, '--threshold', '0.99999', ...M, ...home('h1')]);
  assert.match(text.stdout, /^group 1: 2 images\n  1\.0000  .*chelsea\.png\n  1\.0000  .*copy-of-chelsea\.png\n$/);
});

/** n small distinct PNGs under dir. */
async function makeImages(dir: string, n: number, seed: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const px = Buffer.alloc(24 * 24 * 3);
    for (let j = 0; j < px.length; j++) px[j] = (j * 31 + i * 97 + seed * 13 + ((j * i) % 251)) & 255;
    await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(join(dir, `img${String(i).padStart(4, '0')}.png`));
  }
}

function items(name: string): string[] {
  const db = new Database(join(tmp, name, 'index', 'search.sqlite'), { readonly: true });
  try {
    assert.is(db.pragma('integrity_check', { simple: true }), 'ok');
    return (db.prepare('SELECT path FROM items ORDER BY path').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

test('kill -9 during zs index: what was indexed stays, the re-run completes and equals a clean index', async () => {
  const KLIB = join(tmp, 'klib');
  await makeImages(join(KLIB, 'first'), 40, 1);
  assert.is(zs(['index', KLIB, ...M, ...home('k')]).code, 0);
  const before = items('k');
  assert.is(before.length, 40);
  await makeImages(join(KLIB, 'second'), 200, 2);
  for (const delay of [300, 700, 1200]) {
    const child = spawn(process.execPath, [BIN, 'index', KLIB, ...M, ...home('k')], { cwd: ROOT, env: { ...process.env, ZS_OFFLINE: '1' }, stdio: 'ignore' });
    await sleep(delay);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const now = items('k');
    for (const p of before) assert.ok(now.includes(p), `${p} survived the kill`);
  }
  const r = zs(['index', KLIB, ...M, ...home('k')]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /\(240 in the index\)/);
  assert.is(items('k').length, 240);
  const segs = readdirSync(join(tmp, 'k', 'index')).filter((f) => f.endsWith('.seg') || f.endsWith('.tmp'));
  const db = new Database(join(tmp, 'k', 'index', 'search.sqlite'), { readonly: true });
  const listed = db.prepare('SELECT file FROM segments').pluck().all() as string[];
  db.close();
  assert.equal(segs.sort(), listed.sort(), 'no leftover files');
  assert.is(zs(['index', KLIB, ...M, ...home('clean')]).code, 0);
  const q = ['search', 'anything', '--json', '-k', '240', ...M];
  assert.is(zs([...q, ...home('k')]).stdout, zs([...q, ...home('clean')]).stdout);
});

test.after(cleanup);
test.run();
