/** The package's public entry: what it exports, and that importing it (or running `zs --help`) loads no heavy module. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, zs } from './_helpers.js';

test('the built entry exports the documented API', async () => {
  const api = await import(join(ROOT, 'dist', 'index.js'));
  for (const name of ['Model', 'loadModel', 'ZeroShotClassifier', 'LinearProbe', 'Probe', 'fitGda', 'fitTip', 'fitFinetune', 'runBench', 'ZsError', 'EmbeddingCache', 'pullModel', 'createPreprocessor', 'loadTokenizer', 'index', 'search', 'findDuplicates', 'SearchIndex']) {
    assert.ok(name in api, name);
  }
});

test('importing zs loads neither onnxruntime-node, sharp nor better-sqlite3', () => {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
    const require = createRequire(import.meta.url);
    const heavy = Object.keys(require.cache).filter((k) => /onnxruntime|sharp|better-sqlite3/.test(k));
    console.log(JSON.stringify(heavy));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), []);
});

test('zs --help and --version answer without loading a model', () => {
  const r = zs(['--help']);
  assert.is(r.code, 0);
  for (const c of ['classify', 'embed', 'probe', 'bench', 'models', 'cache']) assert.match(r.stdout, new RegExp(`zs ${c}`));
  const v = zs(['--version']);
  assert.is(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
});

test.run();
