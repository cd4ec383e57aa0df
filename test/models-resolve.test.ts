/**
 * `resolveModel` / `parseModelSpec` / `locateModel` (src/models/resolve.ts): folders, catalog names, hub ids, the
 * default model, offline mode with and without the model cached, and the bad-input errors. A real local hub server
 * (test/helpers/hub-server.ts) stands in for the hub.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZsError } from '../src/errors.js';
import { locateModel, parseModelSpec, resolveModel } from '../src/models/resolve.js';
import { openModelFolder } from '../src/models/folder.js';
import { findEntry, loadCatalog } from '../src/models/catalog.js';
import { CLIP_DIR, VIT_DIR, tempDir } from './_helpers.js';
import { startHubServer, TEST_COMMIT, type HubServer } from './helpers/hub-server.js';

const REPO = 'zs-test/tiny-random-clip';
let hub: HubServer;
let home: { dir: string; cleanup: () => void };
const env = (extra: Record<string, string> = {}) => ({ HF_ENDPOINT: hub.url, ZS_HOME: home.dir, ...extra });

test.before(async () => { hub = await startHubServer({ [REPO]: CLIP_DIR, 'zs-test/tiny-random-vit': VIT_DIR }); });
test.after(async () => { await hub.close(); });
test.before.each(() => { hub.reset(); home = tempDir(); });
test.after.each(() => { home.cleanup(); });

async function rejects(p: Promise<unknown> | (() => unknown), code: string, re?: RegExp | string): Promise<ZsError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.instance(e, ZsError, String(e));
    assert.is((e as ZsError).code, code, (e as Error).message);
    if (re) assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, '\n');
    return e as ZsError;
  }
  throw new Error(`expected ${code}`);
}

/** A catalog file naming the fixture served by the test hub, pinned by its real sha256s. */
function testCatalog(): string {
  const base = findEntry(loadCatalog({}), 'clip-vit-b32')!;
  const pins = Object.fromEntries(['onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx', 'onnx/model_quantized.onnx', 'onnx/vision_model.onnx', 'onnx/text_model.onnx']
    .map((p) => [p, { bytes: hub.file(REPO, p).size, exact: true, sha256: hub.file(REPO, p).sha256 }]));
  const file = join(home.dir, 'catalog.json');
  writeFileSync(file, JSON.stringify({ models: [{ ...base, name: 'tiny-clip', id: REPO, revision: TEST_COMMIT, pins, files: { ...base.files, fp16: undefined } }] }));
  return file;
}

test('a local folder is used as it is; no spec means the catalog default', () => {
  const s = parseModelSpec(CLIP_DIR, {});
  assert.equal(s, { kind: 'local', dir: CLIP_DIR, id: CLIP_DIR });
  const d = parseModelSpec(undefined, {});
  assert.is(d.kind, 'remote');
  assert.is(d.kind === 'remote' && d.ref.id, 'clip-vit-b32');
  const byId = parseModelSpec('Xenova/clip-vit-base-patch32', {});
  assert.ok(byId.kind === 'remote' && byId.ref.entry?.name === 'clip-vit-b32' && byId.ref.revision === '4c1807b705b1d015fb032789cc4d221b23025a6f', 'a catalog hub id keeps its pins');
  const other = parseModelSpec('Xenova/clip-vit-base-patch32@main', {});
  assert.ok(other.kind === 'remote' && other.ref.entry === undefined && other.ref.revision === 'main');
});

test('a hub id is pulled on first use, then found in the cache without the network', async () => {
  const r = await resolveModel(REPO, { dtype: 'q8', env: env() });
  assert.is(r.id, REPO);
  assert.is(openModelFolder(r.dir, { dtype: 'q8', id: r.id }).family.name, 'CLIP');
  await hub.close(); // the network is gone
  try {
    const again = await resolveModel(REPO, { dtype: 'q8', env: env() });
    assert.is(again.dir, r.dir);
    const loc = locateModel(REPO, { dtype: 'fp32', env: env() });
    assert.equal(loc.missing, ['onnx/vision_model.onnx', 'onnx/text_model.onnx']);
    await rejects(resolveModel(REPO, { dtype: 'fp32', env: env() }), 'E_NETWORK', `cannot reach ${hub.url} for onnx/vision_model.onnx`);
  } finally {
    hub = await startHubServer({ [REPO]: CLIP_DIR, 'zs-test/tiny-random-vit': VIT_DIR });
  }
});

test('a catalog name (ZS_CATALOG) pulls its pinned revision and verifies its pins', async () => {
  const cat = testCatalog();
  const r = await resolveModel('tiny-clip', { dtype: 'q8', env: env({ ZS_CATALOG: cat }) });
  assert.is(r.id, 'tiny-clip');
  assert.is(r.dir, join(home.dir, 'models', 'zs-test--tiny-random-clip', TEST_COMMIT));
  await rejects(resolveModel('tiny-clip', { dtype: 'fp16', env: env({ ZS_CATALOG: cat }) }), 'E_DTYPE', 'tiny-clip has no --dtype fp16 files');
});

test('offline (ZS_OFFLINE or HF_HUB_OFFLINE): cached models load, missing ones say what is missing, no request is made', async () => {
  await rejects(resolveModel(REPO, { env: env({ ZS_OFFLINE: '1' }) }), 'E_OFFLINE', `${REPO} (--dtype fp32) is not in the cache and offline mode forbids downloading it: missing config.json`);
  const e = await rejects(resolveModel('clip-vit-b32', { dtype: 'q8', env: env({ HF_HUB_OFFLINE: '1' }) }), 'E_OFFLINE', 'missing config.json, preprocessor_config.json, tokenizer.json, onnx/vision_model_quantized.onnx');
  assert.match(e.hint ?? '', 'zs models pull clip-vit-b32 --dtype q8');
  assert.equal(hub.log, []);
  await resolveModel(REPO, { dtype: 'q8', env: env() });
  hub.log.length = 0;
  const r = await resolveModel(REPO, { dtype: 'q8', env: env({ ZS_OFFLINE: '1' }) });
  assert.ok(r.dir.endsWith(join('zs-test--tiny-random-clip', 'main')));
  await rejects(resolveModel(REPO, { dtype: 'fp32', offline: true, env: env() }), 'E_OFFLINE', 'missing onnx/vision_model.onnx, onnx/text_model.onnx');
  assert.equal(hub.log, []);
});

test('bad input: unknown name lists close matches, malformed id, missing folder, a folder that is not a model, unsupported kind', async () => {
  const u = await rejects(() => parseModelSpec('clip-vit-b23', {}), 'E_MODEL_UNKNOWN', 'unknown model "clip-vit-b23": did you mean clip-vit-b32');
  assert.is(u.kind, 'usage');
  assert.is((await rejects(() => parseModelSpec('org/na me', {}), 'E_MODEL_ID', 'malformed model id "org/na me"')).kind, 'usage');
  await rejects(() => parseModelSpec('./no/such/folder', {}), 'E_MODEL_DIR', 'model folder not found: ./no/such/folder');
  const notModel = join(home.dir, 'photos');
  mkdirSync(notModel);
  const r = await resolveModel(notModel, { env: env() });
  await rejects(() => openModelFolder(r.dir), 'E_MODEL_DIR', `${notModel} is not a model folder: config.json is missing`);
  // a hub repo whose config names a model type zs cannot run
  const bert = join(home.dir, 'bert');
  mkdirSync(bert);
  writeFileSync(join(bert, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  hub.addRepo('zs-test/bert', bert);
  await rejects(resolveModel('zs-test/bert', { env: env() }), 'E_MODEL_KIND', 'zs-test/bert is a "bert" model, which zs cannot run');
});

test.run();
