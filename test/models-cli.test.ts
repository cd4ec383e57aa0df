/**
 * CLI tests for `zs models list|pull|info|rm|path` (src/cli/models.ts) and for `zs classify` on a cached model with the
 * network gone. They spawn the built binary (run `npx tsc -p .` first) against a real local hub server.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, CLIP_DIR, REF_IMAGES, VIT_DIR, tempDir } from './_helpers.js';
import { startHubServer, zsAsync, type HubServer } from './helpers/hub-server.js';

const REPO = 'zs-test/tiny-random-clip';
const REPOS = { [REPO]: CLIP_DIR, 'zs-test/tiny-random-vit': VIT_DIR };
let hub: HubServer;
let home: { dir: string; cleanup: () => void };
const env = (extra: Record<string, string> = {}) => ({ HF_ENDPOINT: hub.url, ZS_HOME: home.dir, ...extra });
const run = (args: string[], extra: Record<string, string> = {}) => zsAsync(args, env(extra));
const cachedDir = join('models', 'zs-test--tiny-random-clip', 'main');
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

test.before(async () => { hub = await startHubServer(REPOS); });
test.after(async () => { await hub.close(); });
test.before.each(() => { hub.reset(); home = tempDir(); });
test.after.each(() => { home.cleanup(); });

function oneLineError(r: { code: number | null; stderr: string }, code: number, re: RegExp | string): void {
  assert.is(r.code, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^zs: /);
  assert.match(lines[0]!, re);
}

test('pull, pull again, list, info, path, rm', async () => {
  const p = await run(['models', 'pull', REPO, '--dtype', 'q8']);
  assert.is(p.code, 0, p.stderr);
  assert.is(p.stdout.trim(), join(home.dir, cachedDir));
  assert.match(p.stderr, `zs: pulled ${REPO} (--dtype q8): 8 files, 5.5 MB, verified`);
  assert.not.match(p.stderr, /[\r[]#/, 'no progress bar when stderr is not a TTY');
  const again = await run(['models', 'pull', REPO, '--dtype', 'q8']);
  assert.match(again.stderr, 'is already cached');

  const [listJson, text, info, vitInfo, catInfo, path1, path2] = await Promise.all([
    run(['models', 'list', '--json']), run(['models', 'list']), run(['models', 'info', REPO]), run(['models', 'info', VIT_DIR, '--json']),
    run(['models', 'info', 'siglip-b16-224', '--json']), run(['models', 'path']), run(['models', 'path', 'clip-vit-b32', '--cache-dir', join(home.dir, 'other')]),
  ]);
  const list = JSON.parse(listJson.stdout) as { name: string; cached: { dtypes: string[]; bytes: number } | null; default: boolean }[];
  assert.is(list.find((r) => r.default)!.name, 'clip-vit-b32');
  assert.is(list.find((r) => r.name === 'clip-vit-b32')!.cached, null);
  const mine = list.find((r) => r.name === `${REPO}@main`)!;
  assert.equal(mine.cached!.dtypes, ['q8']);
  assert.ok(mine.cached!.bytes > 5_000_000);
  assert.match(text.stdout, /clip-vit-b32 \*\s+Xenova\/clip-vit-base-patch32\s+clip\s+512\s+MIT\s+~762 MB\s+-/);
  assert.match(text.stdout, /zs-test\/tiny-random-clip@main .* q8 \(5\.\d MB\)/);

  assert.is(info.code, 0, info.stderr);
  for (const s of ['family        CLIP (model_type clip, CLIPModel), task clip', 'embedding dim 16', 'scores        softmax', 'dtypes        q8', 'center crop 224x224', `where         ${join(home.dir, cachedDir)}`, 'onnx/vision_model_quantized.onnx']) assert.match(info.stdout, s);
  const vit = JSON.parse(vitInfo.stdout);
  assert.equal([vit.family, vit.kind, vit.dim, vit.dtypes, vit.dir], ['image encoder', 'image-encoder', 32, ['fp32'], VIT_DIR]);
  const cat = JSON.parse(catInfo.stdout);
  assert.equal([cat.cached, cat.family, cat.dim, cat.license], [false, 'SigLIP', 768, 'Apache-2.0']);

  assert.is(path1.stdout.trim(), join(home.dir, 'models'));
  assert.is(path2.stdout.trim(), join(home.dir, 'other', 'models', 'Xenova--clip-vit-base-patch32', '4c1807b705b1d015fb032789cc4d221b23025a6f'));

  const rm = await run(['models', 'rm', REPO]);
  assert.is(rm.code, 0, rm.stderr);
  assert.match(rm.stderr, `removed ${REPO}@main`);
  assert.not.ok(existsSync(join(home.dir, cachedDir)));
  oneLineError(await run(['models', 'rm', REPO]), 1, `${REPO} is not cached`);
});

test('an interrupted pull (process killed) resumes with Range on the next pull', async () => {
  hub.knobs.throttle = 2_000_000; // 2 MB/s: the 2 MB combined graph takes about a second
  const child = spawn(process.execPath, [BIN, 'models', 'pull', REPO, '--dtype', 'q8'], { env: { ...process.env, ...env(), ZS_OFFLINE: '' }, stdio: 'ignore' });
  const partial = join(home.dir, cachedDir, 'onnx', 'vision_model_quantized.onnx.incomplete');
  const t0 = Date.now();
  while (!(existsSync(partial) && statSync(partial).size > 50_000) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGINT');
  await new Promise((r) => child.on('close', r));
  const kept = statSync(partial).size;
  assert.ok(kept > 0, 'partial bytes kept');
  hub.knobs.throttle = 0;
  hub.log.length = 0;
  const r = await run(['models', 'pull', REPO, '--dtype', 'q8']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, 'kept from an interrupted download');
  assert.ok(hub.log.some((l) => l.range === `bytes=${kept}-` && l.status === 206), JSON.stringify(hub.log.filter((l) => l.range)));
  assert.is(sha(join(home.dir, cachedDir, 'onnx', 'vision_model_quantized.onnx')), hub.file(REPO, 'onnx/vision_model_quantized.onnx').sha256);
});

test('two processes pulling the same model at once: both succeed, each file is fetched once, files are intact', async () => {
  // The second process starts once the first is mid-download (holding the lock), so the overlap does not depend on
  // how fast a loaded machine spawns processes; at 1 MB/s the first pull holds the lock for ~5 s.
  hub.knobs.throttle = 1_000_000;
  const first = run(['models', 'pull', REPO, '--dtype', 'q8']);
  const started = Date.now();
  while (!hub.log.some((l) => l.method === 'GET' && l.url.startsWith('/cdn/'))) {
    assert.ok(Date.now() - started < 60_000, 'the first pull never started downloading');
    await new Promise((r) => setTimeout(r, 20));
  }
  const [a, b] = await Promise.all([first, run(['models', 'pull', REPO, '--dtype', 'q8'])]);
  assert.is(a.code, 0, a.stderr);
  assert.is(b.code, 0, b.stderr);
  assert.is(a.stdout, b.stdout);
  assert.match(a.stderr + b.stderr, 'waiting for another zs process that is pulling zs-test/tiny-random-clip');
  assert.match(a.stderr + b.stderr, 'is already cached (another process pulled it meanwhile)');
  const bodies = hub.log.filter((l) => l.method === 'GET' && (l.url.startsWith('/cdn/') || l.url.endsWith('.json')));
  assert.is(bodies.length, 8, JSON.stringify(bodies.map((l) => l.url)));
  for (const f of ['onnx/model_quantized.onnx', 'onnx/text_model_quantized.onnx', 'tokenizer.json']) assert.is(sha(join(home.dir, cachedDir, f)), hub.file(REPO, f).sha256, f);
});

test('a cached model is used by zs classify with the network gone', async () => {
  assert.is((await run(['models', 'pull', REPO, '--dtype', 'q8'])).code, 0);
  const gone = 'http://127.0.0.1:9'; // nothing listens there
  const img = join(REF_IMAGES, 'chelsea.png');
  const [ok, fp32, offline] = await Promise.all([
    run(['classify', img, '--model', REPO, '--dtype', 'q8', '--labels', 'cat,dog', '--json', '--no-cache'], { HF_ENDPOINT: gone }),
    run(['classify', img, '--model', REPO, '--labels', 'cat,dog'], { HF_ENDPOINT: gone }),
    run(['classify', img, '--model', REPO, '--labels', 'cat,dog'], { ZS_OFFLINE: '1' }),
  ]);
  assert.is(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { predictions: { label: string; score: number }[] }[];
  assert.equal(out[0]!.predictions.map((p) => p.label).sort(), ['cat', 'dog']);
  oneLineError(fp32, 1, `cannot reach ${gone}`);
  oneLineError(offline, 1, 'missing onnx/vision_model.onnx, onnx/text_model.onnx');
});

test('bad input: one clear line each, non-zero exit', async () => {
  writeFileSync(join(home.dir, 'file'), 'x');
  const notModel = join(home.dir, 'photos');
  mkdirSync(notModel);
  const cases: [string[], Record<string, string>, number, RegExp | string][] = [
    [['models', 'pull', 'clip-vit-b23'], {}, 2, 'unknown model "clip-vit-b23": did you mean clip-vit-b32'],
    [['models', 'pull', 'org/na me'], {}, 2, 'malformed model id "org/na me"'],
    [['models', 'pull', REPO, '--cache-dir', join(home.dir, 'file', 'cache')], {}, 2, 'cannot use the model cache'],
    [['models', 'info', notModel], {}, 1, `${notModel} is not a model folder`],
    [['classify', join(REF_IMAGES, 'chelsea.png'), '--model', notModel, '--labels', 'a,b'], {}, 1, 'is not a model folder'],
    [['models', 'pull', 'zs-test/missing'], {}, 1, 'model not found: zs-test/missing'],
    [['models', 'pull', REPO], { ZS_OFFLINE: '1' }, 1, 'offline mode forbids downloading it: missing config.json'],
  ];
  const results = await Promise.all(cases.map(([args, extra]) => run(args, extra)));
  results.forEach((r, i) => oneLineError(r, cases[i]![2], cases[i]![3]));
  hub.knobs.token = 'secret';
  oneLineError(await run(['models', 'pull', REPO]), 1, /access denied \(HTTP 401\).*HF_TOKEN/);
  hub.knobs.token = undefined;
  const onnx = join(home.dir, cachedDir, 'onnx');
  mkdirSync(onnx, { recursive: true });
  symlinkSync('/dev/full', join(onnx, 'vision_model_quantized.onnx.incomplete'));
  oneLineError(await run(['models', 'pull', REPO, '--dtype', 'q8']), 1, /disk full while downloading .* kept in .* for resume/);
});

test.run();
