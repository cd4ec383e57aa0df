/**
 * `zs embed --stdin-jsonl` driven as a subprocess, the way Spark's rdd.pipe or a worker pool drives it: each
 * answer comes out while stdin is still open, in input order, as {"key", "ok", "embedding" (base64 float32)} or
 * {"key", "ok": false, "error"}; bad lines and dead URLs are answers, not crashes.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { zs, ROOT, BIN, CLIP_DIR, REF_IMAGES } from './_helpers.js';
import { startImageServer } from './helpers/image-server.js';

const M = ['--model', CLIP_DIR, '--threads', '1', '--no-cache'];

interface Answer { key: string | null; ok: boolean; embedding?: string; error?: string }

const decode = (b64: string) => Array.from(new Float32Array(new Uint8Array(Buffer.from(b64, 'base64')).buffer));

function reference(files: string[]): Map<string, number[]> {
  const r = zs(['embed', ...M, ...files]);
  assert.is(r.code, 0, r.stderr);
  return new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; embedding: number[] }).map((l) => [l.path, l.embedding]));
}

function startPipe() {
  const child = spawn(process.execPath, [BIN, 'embed', ...M, '--stdin-jsonl'], { cwd: ROOT, env: { ...process.env, ZS_OFFLINE: '1' } });
  const answers: Answer[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => { answers.push(JSON.parse(l) as Answer); for (const w of waiters.splice(0)) w(); });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  /** Resolves when `n` answers have come (or rejects after 60 s). */
  const until = async (n: number) => {
    const deadline = Date.now() + 60_000;
    while (answers.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${answers.length} of ${n} answers; stderr: ${stderr}`);
      await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 200); });
    }
  };
  return { child, answers, until, closed, stderr: () => stderr };
}

test('answers come out one by one while stdin stays open, in order, with the embeddings of zs embed', async () => {
  const files = ['chelsea.png', 'coffee.png', 'gradient_320x200.png', 'chelsea_q90.jpg'].map((f) => join(REF_IMAGES, f));
  const ref = reference(files);
  const p = startPipe();
  p.child.stdin.write(JSON.stringify({ key: 'first', path: files[0] }) + '\n');
  await p.until(1); // answered before any other line is sent, stdin still open
  assert.is(p.child.exitCode, null);
  assert.equal(p.answers[0]!.key, 'first');
  assert.ok(p.answers[0]!.ok);
  const e0 = decode(p.answers[0]!.embedding!);
  assert.is(e0.length, 16);
  assert.ok(e0.every((v, i) => Math.abs(v - ref.get(files[0]!)![i]!) < 1e-5));
  // a burst: answered in input order, bad lines included
  const burst = [
    JSON.stringify({ key: 'b1', path: files[1] }), 'not json', JSON.stringify(files[2]), '',
    JSON.stringify({ key: 'nothing' }), JSON.stringify({ key: 'missing', path: join(REF_IMAGES, 'nope.png') }), JSON.stringify({ id: 7, file: files[3] }),
  ];
  p.child.stdin.write(burst.join('\n') + '\n');
  await p.until(7);
  assert.is(p.child.exitCode, null);
  const got = p.answers.slice(1);
  assert.equal(got.map((a) => [a.key, a.ok]), [['b1', true], [null, false], [files[2], true], ['nothing', false], ['missing', false], ['7', true]]);
  assert.match(got[1]!.error!, /^input line 3: not JSON/);
  assert.match(got[3]!.error!, /no image: none of path/);
  assert.match(got[4]!.error!, /nope\.png/);
  for (const [a, f] of [[got[0]!, files[1]!], [got[2]!, files[2]!], [got[5]!, files[3]!]] as const) {
    assert.ok(decode(a.embedding!).every((v, i) => Math.abs(v - ref.get(f)![i]!) < 1e-5), f);
  }
  p.child.stdin.end();
  assert.is(await p.closed, 0, p.stderr());
  assert.is(p.answers.length, 7);
});

test('URLs in pipe mode: fetched; a dead one is an error answer', async () => {
  const server = await startImageServer();
  try {
    server.route('/c.png', { file: join(REF_IMAGES, 'coffee.png') });
    const p = startPipe();
    p.child.stdin.write([{ key: 'u', url: server.url('/c.png') }, { key: 'dead', url: server.url('/gone') }].map((x) => JSON.stringify(x)).join('\n') + '\n');
    await p.until(2);
    p.child.stdin.end();
    assert.is(await p.closed, 0, p.stderr());
    assert.equal(p.answers.map((a) => [a.key, a.ok]), [['u', true], ['dead', false]]);
    assert.match(p.answers[1]!.error!, /cannot fetch http:\/\/127\.0\.0\.1:\d+\/gone: HTTP 404/);
    const ref = reference([join(REF_IMAGES, 'coffee.png')]);
    assert.ok(decode(p.answers[0]!.embedding!).every((v, i) => Math.abs(v - ref.get(join(REF_IMAGES, 'coffee.png'))![i]!) < 1e-5));
  } finally {
    await server.close();
  }
});

test('--stdin-jsonl with other inputs or --out is a usage error', () => {
  const r = zs(['embed', ...M, '--stdin-jsonl', join(REF_IMAGES, 'coffee.png')]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /reads its inputs from stdin only/);
  assert.is(zs(['embed', ...M, '--stdin-jsonl', '--out', 'x.jsonl'], { input: '' }).code, 2);
});

test.run();
