/** `zs classify` and `zs embed` end to end: the built binary, exit codes, stdout data, stderr errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, readFileSync, mkdirSync, cpSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { zs, tempDir, CLIP_DIR, VIT_DIR, REF_IMAGES } from './_helpers.js';

const CAT = join(REF_IMAGES, 'chelsea.png');
const COFFEE = join(REF_IMAGES, 'coffee.png');
const { dir: tmp, cleanup } = tempDir();
const M = ['--model', CLIP_DIR, '--threads', '1'];

test('classify prints a table with every label', () => {
  const r = zs(['classify', ...M, '--labels', 'cat,dog,coffee', CAT]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /IMAGE\s+LABEL\s+SCORE/);
  for (const l of ['cat', 'dog', 'coffee']) assert.match(r.stdout, new RegExp(`\\b${l}\\b`));
});

test('classify --json: sorted predictions over all labels, scores sum to 1', () => {
  const r = zs(['classify', ...M, '--labels', 'cat,dog', '--labels', 'coffee', '--json', CAT, COFFEE]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { path: string; predictions: { label: string; score: number }[] }[];
  assert.is(out.length, 2);
  assert.is(out[0]!.path, CAT);
  for (const o of out) {
    assert.equal(o.predictions.map((p) => p.label).sort(), ['cat', 'coffee', 'dog']);
    const s = o.predictions.reduce((a, p) => a + p.score, 0);
    assert.ok(Math.abs(s - 1) < 1e-5);
    for (let i = 1; i < o.predictions.length; i++) assert.ok(o.predictions[i - 1]!.score >= o.predictions[i]!.score);
  }
});

test('classify --top-k, --templates imagenet, --labels-file, folders', () => {
  mkdirSync(join(tmp, 'imgs', 'sub'), { recursive: true });
  cpSync(CAT, join(tmp, 'imgs', 'a.png'));
  cpSync(COFFEE, join(tmp, 'imgs', 'sub', 'b.png'));
  writeFileSync(join(tmp, 'imgs', 'notes.txt'), 'not an image');
  writeFileSync(join(tmp, 'labels.txt'), 'cat\ndog\n\ncoffee\n');
  const r = zs(['classify', ...M, '--labels-file', join(tmp, 'labels.txt'), '--templates', 'imagenet', '--top-k', '1', '--json', join(tmp, 'imgs')]);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { path: string; predictions: unknown[] }[];
  assert.equal(out.map((o) => o.path), [join(tmp, 'imgs', 'a.png'), join(tmp, 'imgs', 'sub', 'b.png')]);
  for (const o of out) assert.is(o.predictions.length, 1);
});

test('a bad file in a batch is reported and the others still get predictions (exit 1)', () => {
  writeFileSync(join(tmp, 'empty.png'), '');
  writeFileSync(join(tmp, 'text.jpg'), 'hello, I am not a JPEG');
  const png = readFileSync(CAT);
  writeFileSync(join(tmp, 'truncated.png'), png.subarray(0, png.length >> 1));
  const r = zs(['classify', ...M, '--labels', 'cat,dog', '--json', CAT, join(tmp, 'empty.png'), join(tmp, 'text.jpg'), join(tmp, 'truncated.png'), COFFEE]);
  assert.is(r.code, 1);
  const out = JSON.parse(r.stdout) as { path: string }[];
  assert.equal(out.map((o) => o.path), [CAT, COFFEE]);
  for (const f of ['empty.png', 'text.jpg', 'truncated.png']) assert.match(r.stderr, new RegExp(`zs: .*${f.replace('.', '\\.')}`));
  assert.match(r.stderr, /3 of 5 images failed/);
});

test('a missing input file is one clear line and a non-zero exit', () => {
  const r = zs(['classify', ...M, '--labels', 'cat,dog', join(tmp, 'nope.png')]);
  assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
  assert.match(r.stderr, /nope\.png/);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('an image over --max-pixels is refused, naming the flag', () => {
  const r = zs(['classify', ...M, '--labels', 'cat,dog', '--max-pixels', '1000', CAT]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /chelsea\.png/);
  assert.match(r.stderr, /max-pixels/);
});

test('usage errors exit 2 with one line: empty label, duplicate label, template without {}, bad dtype/device', () => {
  const cases: [string[], RegExp][] = [
    [['--labels', 'cat,,dog'], /empty/],
    [['--labels', 'cat,dog,cat'], /"cat" appears twice/],
    [['--labels', 'cat,dog', '--template', 'a photo of a cat'], /\{\}/],
    [['--labels', 'cat,dog', '--dtype', 'int3'], /dtype/],
    [['--labels', 'cat,dog', '--device', 'tpu'], /device/],
    [['--labels', 'cat,dog', '--top-k', '0'], /top-k/],
    [[], /labels/],
  ];
  for (const [args, re] of cases) {
    const r = zs(['classify', ...M, ...args, CAT]);
    assert.is(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /^zs: /);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a model folder missing a file names the file', () => {
  const broken = join(tmp, 'broken-model');
  cpSync(CLIP_DIR, broken, { recursive: true });
  rmSync(join(broken, 'onnx', 'text_model.onnx'));
  const r = zs(['classify', '--model', broken, '--labels', 'cat,dog', CAT]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /text_model\.onnx/);
  rmSync(join(broken, 'preprocessor_config.json'));
  const r2 = zs(['classify', '--model', broken, '--labels', 'cat,dog', CAT]);
  assert.match(r2.stderr, /preprocessor_config\.json/);
});

test('--device cuda without the CUDA provider says how to get it', () => {
  const r = zs(['classify', ...M, '--labels', 'cat,dog', '--device', 'cuda', CAT]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
});

test('--device auto says which provider it took', () => {
  const r = zs(['classify', ...M, '--labels', 'cat,dog', '--device', 'auto', CAT]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /--device auto: using (cpu|webgpu|cuda)/);
});

test('zero-shot on an image encoder is a clear usage error', () => {
  const r = zs(['classify', '--model', VIT_DIR, '--labels', 'cat,dog', CAT]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /text tower/);
});

test('embed writes normalized JSON lines for images then texts, in input order', () => {
  const r = zs(['embed', ...M, COFFEE, CAT, '--text', 'a cat', '--text', 'a dog']);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path?: string; text?: string; embedding: number[] });
  assert.equal(lines.map((l) => l.path ?? l.text), [COFFEE, CAT, 'a cat', 'a dog']);
  for (const l of lines) {
    assert.is(l.embedding.length, 16);
    assert.ok(Math.abs(l.embedding.reduce((a, v) => a + v * v, 0) - 1) < 1e-5);
  }
});

test('embed --out writes the file; --text-file reads one text per line', () => {
  writeFileSync(join(tmp, 'texts.txt'), 'a cat\n\na dog\n');
  const out = join(tmp, 'out.jsonl');
  const r = zs(['embed', ...M, '--text-file', join(tmp, 'texts.txt'), '--out', out]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.ok(existsSync(out));
  assert.is(readFileSync(out, 'utf8').trim().split('\n').length, 2);
});

test('zs with no command or an unknown command is a usage error', () => {
  assert.is(zs([]).code, 2);
  const r = zs(['clasify']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /classify/);
  // the wrong word is named, on one line, with the closest command
  const typo = zs(['-q', 'classifyy', 'x.jpg']);
  assert.is(typo.code, 2);
  assert.is(typo.stderr, "zs: unknown command 'classifyy' (did you mean classify? see zs --help)\n");
  assert.is(typo.stdout, '');
  const far = zs(['zzz']);
  assert.is(far.code, 2);
  assert.match(far.stderr, /^zs: unknown command 'zzz' \(the commands are classify, embed, .*\)\n$/);
});

test.after(cleanup);
test.run();
