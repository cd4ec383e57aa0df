/**
 * CLI tests for `zs cache info|clear` (src/cli/cache.ts), spawning the built binary (run `npx tsc -p .` first).
 * The cache is filled through the library (src/embed/cache.ts), then inspected and cleared through the CLI.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddingCache, cacheFile } from '../src/embed/cache.js';
import { tempDir, zs } from './_helpers.js';

const fpA = 'a1b2c3d4'.repeat(8);
const fpB = 'ffee0011'.repeat(8);

async function filled(dir: string): Promise<void> {
  const cache = await EmbeddingCache.open(cacheFile(dir));
  cache.putMany({ fingerprint: fpA, name: 'clip-vit-b32' }, Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, embedding: new Float32Array(512) })));
  cache.putMany({ fingerprint: fpB, name: 'vit-base' }, [{ key: 'k', embedding: new Float32Array(768) }]);
  cache.close();
}

test('info on a missing cache says so, exits 0 and creates nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const r = zs(['cache', 'info', '--cache-dir', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, `no embedding cache at ${join(dir, 'embeddings.sqlite')}`);
    const j = zs(['cache', 'info', '--json', '--cache-dir', dir]);
    assert.equal(JSON.parse(j.stdout), { file: join(dir, 'embeddings.sqlite'), exists: false, bytes: 0, files: 0, models: [] });
    const c = zs(['cache', 'clear', '--cache-dir', dir]);
    assert.is(c.code, 0);
    assert.match(c.stdout, 'nothing to clear');
    assert.not.ok(existsSync(join(dir, 'embeddings.sqlite')));
  } finally { cleanup(); }
});

test('info lists entries per model as text and JSON; ZS_HOME is honoured', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await filled(dir);
    const r = zs(['cache', 'info', '--cache-dir', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, join(dir, 'embeddings.sqlite'));
    assert.match(r.stdout, /clip-vit-b32\s+a1b2c3d4a1b2\s+512\s+3/);
    assert.match(r.stdout, /vit-base\s+ffee0011ffee\s+768\s+1/);
    const j = zs(['cache', 'info', '--json'], { env: { ZS_HOME: dir } });
    assert.is(j.code, 0, j.stderr);
    const info = JSON.parse(j.stdout);
    assert.is(info.exists, true);
    assert.ok(info.bytes > 0);
    assert.equal(info.models.map((m: { name: string; fingerprint: string; dim: number; entries: number }) => [m.name, m.fingerprint, m.dim, m.entries]),
      [['clip-vit-b32', fpA, 512, 3], ['vit-base', fpB, 768, 1]]);
  } finally { cleanup(); }
});

test('clear --model by name and by fingerprint prefix, then everything', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await filled(dir);
    let r = zs(['cache', 'clear', '--model', 'vit-base', '--cache-dir', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, 'removed 1 embedding of vit-base (ffee0011ffee)');
    r = zs(['cache', 'clear', '--model', 'nope', '--cache-dir', dir]);
    assert.is(r.code, 2);
    assert.match(r.stderr, 'zs: no model named "nope"');
    assert.match(r.stderr, 'zs cache info');
    r = zs(['cache', 'clear', '--model', 'A1B2C3', '--json', '--cache-dir', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), { file: cacheFile(dir), exists: true, removed: 3, models: [{ fingerprint: fpA, name: 'clip-vit-b32' }] });
    await filled(dir);
    r = zs(['cache', 'clear', '--cache-dir', dir]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, 'removed 4 embeddings of clip-vit-b32 (a1b2c3d4a1b2), vit-base (ffee0011ffee)');
    assert.match(zs(['cache', 'info', '--cache-dir', dir]).stdout, 'no embeddings cached');
  } finally { cleanup(); }
});

test('a foreign file exits 1 naming it and stays unchanged; bad usage exits 2', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'embeddings.sqlite');
    writeFileSync(file, 'not a database at all\n');
    for (const action of ['info', 'clear']) {
      const r = zs(['cache', action, '--cache-dir', dir]);
      assert.is(r.code, 1);
      assert.match(r.stderr, `zs: ${file} is not a zs embedding cache`);
      assert.match(r.stderr, '--cache-dir');
    }
    assert.is(readFileSync(file, 'utf8'), 'not a database at all\n');
    assert.is(zs(['cache', 'frobnicate', '--cache-dir', dir]).code, 2);
    assert.is(zs(['cache', 'info', '--model', 'x', '--cache-dir', dir]).code, 2);
  } finally { cleanup(); }
});

test.run();
