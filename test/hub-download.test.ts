/**
 * Downloads against a real HTTP server on 127.0.0.1 serving the fixture models in hub layout (test/helpers/hub-server.ts):
 * fresh pull, resume after a cut connection (within one pull and across runs), If-Range restarts, sha256 mismatch,
 * 404, 401 / HF_TOKEN, catalog pins, disk full, an unusable cache folder.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZsError } from '../src/errors.js';
import { pullModel, type PullProgress, type RemoteRef } from '../src/models/pull.js';
import { downloadFile, partialPath } from '../src/models/download.js';
import { loadCatalog, findEntry } from '../src/models/catalog.js';
import { revisionDir } from '../src/models/cache.js';
import { CLIP_DIR, VIT_DIR, tempDir } from './_helpers.js';
import { startHubServer, TEST_COMMIT, type HubServer } from './helpers/hub-server.js';

const REPO = 'zs-test/tiny-random-clip';
const ref = (revision = 'main'): RemoteRef => ({ id: REPO, repo: REPO, revision });
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

let hub: HubServer;
let home: { dir: string; cleanup: () => void };
const env = () => ({ HF_ENDPOINT: hub.url, ZS_HOME: home.dir });

test.before(async () => { hub = await startHubServer({ [REPO]: CLIP_DIR, 'zs-test/tiny-random-vit': VIT_DIR }); });
test.after(async () => { await hub.close(); });
test.before.each(() => { hub.reset(); home = tempDir(); });
test.after.each(() => { home.cleanup(); });

async function rejects(p: Promise<unknown>, code: string): Promise<ZsError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ZsError, String(e));
    assert.is((e as ZsError).code, code, (e as Error).message);
    return e as ZsError;
  }
  throw new Error(`expected ${code}`);
}

const contentGets = () => hub.log.filter((l) => l.method === 'GET' && (l.url.startsWith('/cdn/') || l.url.endsWith('.json')));

test('fresh pull: every file of the dtype, byte-identical, verified, with a manifest and no leftovers', async () => {
  const seen: PullProgress[] = [];
  const r = await pullModel(ref(), { dtype: 'q8', env: env(), onProgress: (p) => seen.push(p) });
  assert.is(r.dir, revisionDir(home.dir, ref()));
  const want = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx', 'onnx/model_quantized.onnx', 'tokenizer_config.json', 'special_tokens_map.json'];
  assert.equal(r.downloaded.map((f) => f.path).sort(), [...want].sort());
  for (const f of want) assert.is(sha(join(r.dir, f)), sha(join(CLIP_DIR, f)), f);
  assert.not.ok(existsSync(join(r.dir, 'onnx/model.onnx')), 'fp32 graphs are not fetched for q8');
  const manifest = JSON.parse(readFileSync(join(r.dir, '.zs-model.json'), 'utf8'));
  assert.is(manifest.commit, TEST_COMMIT);
  assert.is(manifest.files['onnx/model_quantized.onnx'].sha256, hub.file(REPO, 'onnx/model_quantized.onnx').sha256);
  assert.equal(readdirSync(join(r.dir, 'onnx')).filter((f) => f.includes('incomplete')), []);
  const last = seen.at(-1)!;
  assert.is(last.phase, 'done');
  assert.is(last.done, last.total);
  assert.ok(seen.some((p) => p.phase === 'download' && p.done < p.total), 'progress reported midway');
  // a second pull fetches nothing
  hub.log.length = 0;
  const again = await pullModel(ref(), { dtype: 'q8', env: env() });
  assert.equal(again.downloaded, []);
  assert.equal(contentGets(), []);
});

test('a cut connection is resumed with Range (and If-Range) within the same pull', async () => {
  const path = 'onnx/text_model_quantized.onnx';
  const size = hub.file(REPO, path).size;
  hub.knobs.cut = { afterBytes: 300_000, times: 2, path };
  const r = await pullModel(ref(), { dtype: 'q8', env: env() });
  assert.is(sha(join(r.dir, path)), hub.file(REPO, path).sha256);
  const ranged = hub.log.filter((l) => l.url.startsWith('/cdn/') && l.range);
  assert.equal(ranged.map((l) => l.range), ['bytes=300000-', 'bytes=600000-']);
  assert.ok(ranged.every((l) => l.ifRange && l.status === 206));
  assert.ok(size > 600_000);
});

test('chunked bodies (no Content-Length) are read to the last chunk, and resumed after a cut', async () => {
  const path = 'onnx/text_model_quantized.onnx';
  hub.knobs.chunked = true;
  hub.knobs.cut = { afterBytes: 300_000, times: 2, path };
  const r = await pullModel(ref(), { dtype: 'q8', env: env() });
  for (const f of r.downloaded) assert.is(sha(join(r.dir, f.path)), hub.file(REPO, f.path).sha256, f.path);
  const ranged = hub.log.filter((l) => l.url.startsWith('/cdn/') && l.range);
  assert.equal(ranged.map((l) => l.range), ['bytes=300000-', 'bytes=600000-']);
});

test('an interrupted pull keeps the partial file, says so, and the next pull resumes from it', async () => {
  const path = 'onnx/vision_model_quantized.onnx';
  hub.knobs.cut = { afterBytes: 100_000, times: 1, path };
  const e = await rejects(pullModel(ref(), { dtype: 'q8', env: env(), retries: 0 }), 'E_DOWNLOAD_CUT');
  assert.match(e.message, /100000 of \d+ bytes are kept/);
  assert.match(e.hint ?? '', 'resumes');
  const dest = join(revisionDir(home.dir, ref()), path);
  assert.is(readFileSync(partialPath(dest)).length, 100_000);
  hub.log.length = 0;
  const r = await pullModel(ref(), { dtype: 'q8', env: env() });
  assert.is(sha(dest), hub.file(REPO, path).sha256);
  assert.is(r.downloaded.find((f) => f.path === path)!.resumedFrom, 100_000);
  assert.ok(hub.log.some((l) => l.range === 'bytes=100000-' && l.status === 206));
  assert.not.ok(existsSync(partialPath(dest)));
});

test('a partial whose server ETag no longer matches (If-Range fails) restarts from zero and still verifies', async () => {
  const path = 'onnx/vision_model_quantized.onnx';
  const f = hub.file(REPO, path);
  const dest = join(revisionDir(home.dir, ref()), path);
  mkdirSync(join(revisionDir(home.dir, ref()), 'onnx'), { recursive: true });
  writeFileSync(partialPath(dest), Buffer.alloc(5000, 7)); // stale bytes from "another version"
  writeFileSync(`${dest}.incomplete.json`, JSON.stringify({ sha256: f.sha256, size: f.size, etag: 'an-old-etag' }));
  const url = `${hub.url}/${REPO}/resolve/main/${path}`;
  const ctx = { model: REPO, repo: REPO, revision: 'main', path, endpoint: hub.url, hasToken: false };
  const r = await downloadFile(url, dest, { size: f.size, sha256: f.sha256 }, ctx);
  assert.is(r.resumedFrom, 0);
  assert.is(sha(dest), f.sha256);
  assert.ok(hub.log.some((l) => l.url.startsWith('/cdn/') && l.ifRange === '"an-old-etag"' && l.status === 200));
});

test('sha256 mismatch: a clear error and no file (final or partial) left in the cache', async () => {
  const path = 'onnx/vision_model_quantized.onnx';
  hub.knobs.corrupt.add(path);
  const e = await rejects(pullModel(ref(), { dtype: 'q8', env: env() }), 'E_CHECKSUM');
  assert.match(e.message, `download of ${path} for ${REPO} is corrupt (sha256 `);
  assert.match(e.message, 'it was deleted');
  const dest = join(revisionDir(home.dir, ref()), path);
  assert.not.ok(existsSync(dest));
  assert.not.ok(existsSync(partialPath(dest)));
  assert.not.ok(existsSync(`${dest}.incomplete.json`));
});

test('a small (non-LFS) file is checked against its git blob sha1 ETag', async () => {
  hub.knobs.corrupt.add('tokenizer.json');
  const e = await rejects(pullModel(ref(), { dtype: 'q8', env: env() }), 'E_CHECKSUM');
  assert.match(e.message, 'tokenizer.json');
  assert.match(e.message, 'git blob sha1');
});

test('404: "model not found" naming the id; a missing graph names the file and the dtype; nothing left behind', async () => {
  const e = await rejects(pullModel({ id: 'zs-test/no-such-model', repo: 'zs-test/no-such-model', revision: 'main' }, { env: env() }), 'E_MODEL_NOT_FOUND');
  assert.match(e.message, /^model not found: zs-test\/no-such-model/);
  assert.not.ok(existsSync(join(home.dir, 'models', 'zs-test--no-such-model')));
  const rev = await rejects(pullModel(ref('v9'), { env: env() }), 'E_MODEL_NOT_FOUND');
  assert.match(rev.message, 'revision "v9" not found');
  hub.knobs.status.set('config.json', 404);
  await rejects(pullModel(ref(), { env: env() }), 'E_MODEL_NOT_FOUND');
  hub.reset();
  const vit = await rejects(pullModel({ id: 'zs-test/tiny-random-vit', repo: 'zs-test/tiny-random-vit', revision: 'main' }, { dtype: 'fp16', env: env() }), 'E_MODEL_FILE');
  assert.match(vit.message, 'zs-test/tiny-random-vit has no onnx/model_fp16.onnx, which --dtype fp16 needs');
});

test('401: the error says HF_TOKEN; with HF_TOKEN the pull goes through and the token is sent', async () => {
  hub.knobs.token = 'hf_secret';
  const e = await rejects(pullModel(ref(), { dtype: 'q8', env: env() }), 'E_HUB_AUTH');
  assert.match(e.message, 'access denied (HTTP 401)');
  assert.match(e.hint ?? '', 'HF_TOKEN');
  const wrong = await rejects(pullModel(ref(), { dtype: 'q8', env: { ...env(), HF_TOKEN: 'nope' } }), 'E_HUB_AUTH');
  assert.match(wrong.hint ?? '', 'HF_TOKEN is set but was refused');
  const r = await pullModel(ref(), { dtype: 'q8', env: { ...env(), HF_TOKEN: 'hf_secret' } });
  assert.ok(r.downloaded.length > 0);
  assert.ok(hub.log.filter((l) => l.url.includes('/resolve/')).every((l) => l.auth === 'Bearer hf_secret' || l.status === 401));
});

test('HF_TOKEN goes to the hub but not to a redirect on another host (the CDN)', async () => {
  hub.knobs.token = 'hf_secret';
  hub.knobs.cdnBase = hub.url; // 127.0.0.1, while the client talks to localhost
  const r = await pullModel(ref(), { dtype: 'q8', env: { ...env(), HF_ENDPOINT: hub.url.replace('127.0.0.1', 'localhost'), HF_TOKEN: 'hf_secret' } });
  assert.ok(r.downloaded.length === 8);
  const cdn = hub.log.filter((l) => l.url.startsWith('/cdn/'));
  assert.is(cdn.length, 3);
  assert.ok(cdn.every((l) => l.auth === undefined), 'no token to the CDN host');
  assert.ok(hub.log.filter((l) => l.url.includes('/resolve/')).every((l) => l.auth === 'Bearer hf_secret'));
});

test('catalog pins: a pinned sha256 the server disagrees with stops the pull before any bytes move', async () => {
  const base = findEntry(loadCatalog({}), 'clip-vit-b32')!;
  const pins = Object.fromEntries(['onnx/vision_model_quantized.onnx', 'onnx/text_model_quantized.onnx', 'onnx/model_quantized.onnx'].map((p) => [p, { bytes: hub.file(REPO, p).size, exact: true, sha256: hub.file(REPO, p).sha256 }]));
  const entry = { ...base, name: 'tiny', id: REPO, revision: TEST_COMMIT, pins };
  const r = await pullModel({ id: 'tiny', repo: REPO, revision: TEST_COMMIT, entry }, { dtype: 'q8', env: env() });
  assert.is(r.dir, join(home.dir, 'models', 'zs-test--tiny-random-clip', TEST_COMMIT));
  const bad = { ...entry, pins: { ...pins, 'onnx/vision_model.onnx': { bytes: 1, exact: false, sha256: 'ab'.repeat(32) } } };
  hub.log.length = 0;
  const e = await rejects(pullModel({ id: 'tiny', repo: REPO, revision: TEST_COMMIT, entry: bad }, { dtype: 'fp32', env: env() }), 'E_PIN_MISMATCH');
  assert.match(e.message, 'onnx/vision_model.onnx of tiny on the hub');
  assert.equal(contentGets(), []);
});

test('disk full mid-download: one clear error, the partial file is kept for resume', async () => {
  const dir = revisionDir(home.dir, ref());
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const dest = join(dir, 'onnx/vision_model_quantized.onnx');
  symlinkSync('/dev/full', partialPath(dest)); // writes there fail with ENOSPC, like a full disk
  const e = await rejects(pullModel(ref(), { dtype: 'q8', env: env() }), 'E_DISK_FULL');
  assert.match(e.message, /^disk full while downloading onnx\/vision_model_quantized\.onnx of zs-test\/tiny-random-clip: \d+ of \d+ bytes are kept in .*\.incomplete for resume$/);
  assert.match(e.hint ?? '', 'free some space');
  assert.ok(existsSync(partialPath(dest)));
});

test('an unusable cache folder is one clear usage error', async () => {
  writeFileSync(join(home.dir, 'a-file'), 'x');
  const e = await rejects(pullModel(ref(), { env: { HF_ENDPOINT: hub.url, ZS_HOME: join(home.dir, 'a-file', 'zs') } }), 'E_CACHE_DIR');
  assert.is(e.kind, 'usage');
  assert.match(e.message, /cannot use the model cache .*a-file\/zs: ENOTDIR/);
  assert.match(e.hint ?? '', '--cache-dir');
});

test.run();
