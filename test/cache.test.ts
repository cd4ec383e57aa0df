/**
 * Tests for src/embed/cache.ts and src/embed/hash.ts: exact float32 round-trip, re-open, refusing foreign / non-SQLite /
 * newer-schema files without changing a byte, the stat shortcut and its invalidation, model fingerprints,
 * a full database (max_page_count through `maxBytes`) and, with real child processes (test/helpers/cache-writer.ts),
 * two concurrent writers and a writer killed with SIGKILL mid-run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EmbeddingCache, APPLICATION_ID, cacheFile, type CacheEntry } from '../src/embed/cache.js';
import { canonicalJson, fingerprintModel, hashBytes, hashFile, stampFile, stampFiles } from '../src/embed/hash.js';
import { ZsError } from '../src/errors.js';
import { ROOT, tempDir } from './_helpers.js';
import { expectedVector } from './helpers/cache-vectors.js';

const WRITER = join(ROOT, 'test', 'helpers', 'cache-writer.ts');
const model = { fingerprint: 'a'.repeat(64), name: 'clip-test' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bytesOf = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

async function rejects(p: Promise<unknown>, code: string, ...parts: string[]): Promise<ZsError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ZsError);
    const z = e as ZsError;
    assert.is(z.code, code, z.message);
    for (const part of parts) assert.ok(z.toLine().includes(part), `"${z.toLine()}" lacks "${part}"`);
    return z;
  }
  throw new Error(`expected ${code}`);
}

function integrity(file: string): string {
  const db = new Database(file, { readonly: true });
  try { return db.pragma('integrity_check', { simple: true }) as string; } finally { db.close(); }
}

test('float32 round-trip is bit-exact, from offset views, into fresh arrays; misses are undefined', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cache = await EmbeddingCache.open(join(dir, 'sub', 'c.sqlite')); // creates the folder
    const special = new Float32Array([0, -0, 1e-45, -3.4028234663852886e38, Infinity, -Infinity, NaN, 0.1, 1 / 3]);
    const backing = new Float32Array(3 + special.length);
    backing.set(special, 3);
    const offsetView = backing.subarray(3); // byteOffset 12
    const entries: CacheEntry[] = [{ key: 'k-special', embedding: offsetView }];
    for (let i = 0; i < 50; i++) entries.push({ key: `k${i}`, embedding: expectedVector('r', 0, i, special.length) });
    cache.putMany(model, entries);
    const got = cache.getMany(model.fingerprint, ['k-special', 'nope', 'k7', ...entries.map((e) => e.key)]);
    assert.is(got.length, 3 + entries.length);
    assert.equal(bytesOf(got[0]!), bytesOf(special));
    assert.is(got[1], undefined);
    assert.equal(bytesOf(got[2]!), bytesOf(expectedVector('r', 0, 7, special.length)));
    for (const [i, e] of entries.entries()) assert.equal(bytesOf(got[3 + i]!), bytesOf(e.embedding));
    assert.is(got[0]!.byteOffset, 0);
    assert.is(got[0]!.buffer.byteLength, special.length * 4);
    assert.equal(cache.getMany('b'.repeat(64), ['k1', 'k2']), [undefined, undefined]);
    cache.close();
    cache.close(); // idempotent
    assert.throws(() => cache.getMany(model.fingerprint, ['k1']), (e: unknown) => (e as ZsError).code === 'E_CACHE_CLOSED');
  } finally { cleanup(); }
});

test('re-open keeps entries; info counts per model; dim mismatch refused', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'c.sqlite');
    let cache = await EmbeddingCache.open(file);
    cache.putMany(model, [{ key: 'x', embedding: new Float32Array([1, 2, 3]) }]);
    cache.putMany({ fingerprint: 'c'.repeat(64), name: 'vit' }, [1, 2].map((i) => ({ key: `y${i}`, embedding: new Float32Array(5) })));
    cache.close();
    cache = await EmbeddingCache.open(file);
    assert.equal(Array.from(cache.getMany(model.fingerprint, ['x'])[0]!), [1, 2, 3]);
    const info = cache.info();
    assert.is(info.file, file);
    assert.ok(info.bytes > 0);
    assert.equal(info.models.map((m) => [m.name, m.dim, m.entries]), [['clip-test', 3, 1], ['vit', 5, 2]]);
    assert.throws(() => cache.putMany(model, [{ key: 'z', embedding: new Float32Array(4) }]),
      (e: unknown) => (e as ZsError).code === 'E_CACHE_DIM');
    assert.throws(() => cache.putMany(model, [{ key: 'z', embedding: new Float32Array(3) }, { key: 'w', embedding: new Float32Array(2) }]),
      (e: unknown) => (e as ZsError).code === 'E_INVALID_ARG');
    assert.is(cache.info().models[0]!.entries, 1);
    cache.close();
    assert.is(integrity(file), 'ok');
    assert.ok(cacheFile(dir).endsWith(join(dir, 'embeddings.sqlite')));
  } finally { cleanup(); }
});

test('non-SQLite files and foreign SQLite databases are refused and left byte-identical', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const text = join(dir, 'notes.sqlite');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(20));
    const random = join(dir, 'random.sqlite');
    writeFileSync(random, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 131 + 7) % 256)));
    for (const f of [text, random]) {
      const before = readFileSync(f);
      await rejects(EmbeddingCache.open(f), 'E_CACHE_FOREIGN', f, 'not a SQLite database', '--cache-dir');
      assert.equal(readFileSync(f), before);
    }
    // A foreign database in rollback mode, application_id 0, and one with its own application_id.
    const plain = join(dir, 'app.db');
    const tagged = join(dir, 'tagged.db');
    for (const [f, appId] of [[plain, 0], [tagged, 42]] as const) {
      const db = new Database(f);
      db.exec(`CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me'); PRAGMA application_id = ${appId}`);
      db.close();
    }
    for (const f of [plain, tagged]) {
      const siblings = readdirSync(dir).sort();
      const before = readFileSync(f);
      await rejects(EmbeddingCache.open(f), 'E_CACHE_FOREIGN', f, 'not a zs embedding cache', 'left untouched');
      assert.equal(readFileSync(f), before);
      assert.equal(readdirSync(dir).sort(), siblings); // no -wal/-shm/-journal created
    }
    // A foreign WAL-mode database: the main file stays identical too.
    const wal = join(dir, 'wal.db');
    const db = new Database(wal);
    db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    db.close();
    const before = readFileSync(wal);
    await rejects(EmbeddingCache.open(wal), 'E_CACHE_FOREIGN', wal);
    assert.equal(readFileSync(wal), before);
    // An empty file is an empty database (nothing to lose) and becomes a cache.
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    (await EmbeddingCache.open(empty)).close();
    const check = new Database(empty, { readonly: true });
    assert.is(check.pragma('application_id', { simple: true }), APPLICATION_ID);
    check.close();
  } finally { cleanup(); }
});

test('a cache from a newer schema is refused and left byte-identical', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'c.sqlite');
    const cache = await EmbeddingCache.open(file);
    cache.putMany(model, [{ key: 'x', embedding: new Float32Array([1]) }]);
    cache.close();
    const db = new Database(file);
    db.pragma('user_version = 2');
    db.close();
    const before = readFileSync(file);
    await rejects(EmbeddingCache.open(file), 'E_CACHE_NEWER', file, 'schema 2', 'upgrade zs');
    assert.equal(readFileSync(file), before);
  } finally { cleanup(); }
});

test('stat shortcut: trusted only outside the racy window; size, ctime and inode changes miss', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const img = join(dir, 'a.jpg');
    writeFileSync(img, 'first content');
    const cache = await EmbeddingCache.open(join(dir, 'c.sqlite'));
    const s0 = await stampFile(img);
    assert.is(cache.rememberFiles([{ ...s0, hash: hashBytes(readFileSync(img)) }]), 0); // changed just now: not trusted
    assert.equal(cache.lookupFiles([s0]), [undefined]);
    cache.close();

    const fast = await EmbeddingCache.open(join(dir, 'c.sqlite'), { racyWindowMs: 0 });
    const h0 = hashBytes(readFileSync(img));
    assert.is(fast.rememberFiles([{ ...s0, hash: h0 }]), 1);
    assert.equal(fast.lookupFiles([await stampFile(img)]), [h0]);
    appendFileSync(img, '!'); // size changes
    assert.equal(fast.lookupFiles([await stampFile(img)]), [undefined]);
    const s1 = await stampFile(img);
    fast.rememberFiles([{ ...s1, hash: hashBytes(readFileSync(img)) }]);
    await sleep(30); // let the coarse kernel clock tick
    writeFileSync(img, 'first-content!'); // same size as 'first content!', then restore the mtime
    const ns = String(s1.mtimeNs % 1_000_000_000n).padStart(9, '0');
    const touched = spawnSync('touch', ['-m', '-d', `@${s1.mtimeNs / 1_000_000_000n}.${ns}`, img]); // exact ns, like cp -p
    assert.is(touched.status, 0, String(touched.stderr));
    const s2 = await stampFile(img);
    assert.is(s2.size, s1.size);
    assert.is(s2.mtimeNs, s1.mtimeNs);
    assert.equal(fast.lookupFiles([s2]), [undefined]); // ctime gave it away
    const other = join(dir, 'b.jpg');
    writeFileSync(other, readFileSync(img));
    const s3 = await stampFile(img);
    fast.rememberFiles([{ ...s3, hash: hashBytes(readFileSync(img)) }]);
    renameSync(other, img);
    assert.equal(fast.lookupFiles([await stampFile(img)]), [undefined]); // a new inode
    assert.is(fast.info().files, 1);
    fast.close();
  } finally { cleanup(); }
});

test('hashes and model fingerprints', async () => {
  // FIPS 180-2 test vector.
  assert.is(hashBytes(new TextEncoder().encode('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.is(canonicalJson({ b: [1, { d: 2, c: null }], a: 'x', u: undefined }), '{"a":"x","b":[1,{"c":null,"d":2}]}');
  assert.throws(() => canonicalJson({ mean: [NaN] }), (e: unknown) => (e as ZsError).message.includes('config.mean[0]'));
  const { dir, cleanup } = tempDir();
  try {
    const graph = join(dir, 'model.onnx');
    writeFileSync(graph, Buffer.alloc(3 << 20, 7));
    assert.is(await hashFile(graph), hashBytes(readFileSync(graph)));
    const cache = await EmbeddingCache.open(join(dir, 'c.sqlite'), { racyWindowMs: 0 });
    const cfg = { size: 224, mean: [0.48, 0.45, 0.4], crop: true };
    const f1 = await fingerprintModel(graph, cfg, cache);
    assert.match(f1, /^[0-9a-f]{64}$/);
    assert.equal(cache.lookupFiles(await stampFiles([graph])), [hashBytes(readFileSync(graph))]); // graph hash remembered
    assert.is(await fingerprintModel(graph, { crop: true, mean: [0.48, 0.45, 0.4], size: 224 }, cache), f1);
    assert.is(await fingerprintModel(graph, cfg), f1); // same without the memo
    assert.is.not(await fingerprintModel(graph, { ...cfg, size: 256 }, cache), f1);
    appendFileSync(graph, 'x');
    assert.is.not(await fingerprintModel(graph, cfg, cache), f1);
    cache.close();
  } finally { cleanup(); }
});

test('a full database (maxBytes) fails with E_CACHE_FULL, rolls the batch back, stays consistent', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'c.sqlite');
    const cache = await EmbeddingCache.open(file, { maxBytes: 256 * 1024 });
    const batch = (b: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `${b}:${i}`, embedding: expectedVector('f', b, i, 512) }));
    cache.putMany(model, batch(0, 20)); // ~40 kB
    let err: unknown;
    try { cache.putMany(model, batch(1, 200)); } catch (e) { err = e; } // ~400 kB: over the cap
    assert.instance(err, ZsError);
    assert.is((err as ZsError).code, 'E_CACHE_FULL');
    assert.ok((err as ZsError).toLine().includes(`disk full while writing the embedding cache ${file}`));
    assert.ok((err as ZsError).toLine().includes('--no-cache'));
    assert.is(cache.info().models[0]!.entries, 20);
    assert.is(cache.getMany(model.fingerprint, ['1:0'])[0], undefined);
    cache.putMany(model, batch(2, 5)); // still usable
    assert.is(cache.info().models[0]!.entries, 25);
    cache.close();
    assert.is(integrity(file), 'ok');
  } finally { cleanup(); }
});

test('clear: by name, by fingerprint prefix, ambiguous and unknown selectors, everything', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const cache = await EmbeddingCache.open(join(dir, 'c.sqlite'));
    const e = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, embedding: new Float32Array([i]) }));
    cache.putMany({ fingerprint: 'abc1' + '0'.repeat(60), name: 'one' }, e(3));
    cache.putMany({ fingerprint: 'abc2' + '0'.repeat(60), name: 'two' }, e(4));
    cache.putMany({ fingerprint: 'def0' + '0'.repeat(60), name: 'three' }, e(5));
    assert.throws(() => cache.clear('abc'), (x: unknown) => (x as ZsError).code === 'E_CACHE_MODEL'); // too short
    assert.throws(() => cache.clear('ABC0'), (x: unknown) => (x as ZsError).kind === 'usage');
    let r = cache.clear('two');
    assert.equal(r, { removed: 4, models: [{ fingerprint: 'abc2' + '0'.repeat(60), name: 'two' }] });
    r = cache.clear('DEF0');
    assert.is(r.removed, 5);
    assert.equal(cache.info().models.map((m) => m.name), ['one']);
    cache.putMany({ fingerprint: 'abc3' + '0'.repeat(60), name: 'four' }, e(1));
    assert.throws(() => cache.clear('abc'), (x: unknown) => (x as ZsError).message.includes('no model'));
    cache.putMany({ fingerprint: 'abcd' + '1'.repeat(60), name: 'five' }, e(1));
    cache.putMany({ fingerprint: 'abcd' + '2'.repeat(60), name: 'six' }, e(1));
    assert.throws(() => cache.clear('abcd'), (x: unknown) => (x as ZsError).message.includes('matches 2'));
    r = cache.clear();
    assert.is(r.removed, 6); // one (3) + four + five + six
    assert.equal(cache.info().models, []);
    cache.close();
  } finally { cleanup(); }
});

interface Child { done: Promise<number | null>; lines: string[]; stderr: () => string; kill: () => void }
function writer(file: string, w: string, batches: number, size: number, dim: number, onLine?: (n: number) => void): Child {
  const p = spawn(process.execPath, ['--import', 'tsx', WRITER, file, w, String(batches), String(size), String(dim)], { cwd: ROOT });
  const lines: string[] = [];
  let buf = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const l of parts) { lines.push(l); onLine?.(lines.length); }
  });
  p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<number | null>((res) => p.on('close', (code) => res(code)));
  return { done, lines, stderr: () => err, kill: () => p.kill('SIGKILL') };
}

test('two processes write the same new cache at once: every row present, integrity ok', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'c.sqlite');
    const [batches, size, dim] = [40, 100, 32];
    const kids = [writer(file, 'p', batches, size, dim), writer(file, 'q', batches, size, dim)];
    const codes = await Promise.all(kids.map((k) => k.done));
    assert.equal(codes, [0, 0], kids.map((k) => k.stderr()).join('\n'));
    assert.is(integrity(file), 'ok');
    const cache = await EmbeddingCache.open(file);
    assert.equal(cache.info().models.map((m) => [m.name, m.entries]), [['writer-p', batches * size], ['writer-q', batches * size]]);
    for (const w of ['p', 'q']) {
      const keys: string[] = [];
      for (let b = 0; b < batches; b++) for (let i = 0; i < size; i++) keys.push(`${w}:${b}:${i}`);
      const got = cache.getMany(`fp-${w}`, keys);
      keys.forEach((k, j) => {
        const [, b, i] = k.split(':').map(Number) as [number, number, number];
        assert.equal(bytesOf(got[j]!), bytesOf(expectedVector(w, b, i, dim)), k);
      });
    }
    cache.close();
  } finally { cleanup(); }
});

test('kill -9 mid-run: the cache opens, integrity ok, every reported batch present, no partial batch', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'c.sqlite');
    const [size, dim] = [200, 64];
    let kid: Child | undefined;
    kid = writer(file, 'k', 0, size, dim, (n) => { if (n === 25) kid!.kill(); });
    const code = await kid.done;
    assert.is(code, null); // killed by the signal
    const reported = kid.lines.filter((l) => l.startsWith('committed')).map((l) => Number(l.split(' ')[1]));
    assert.ok(reported.length >= 25, kid.stderr());
    assert.ok(existsSync(file));
    assert.is(integrity(file), 'ok');
    const cache = await EmbeddingCache.open(file);
    const entries = cache.info().models[0]!.entries;
    assert.is(entries % size, 0, 'a batch was partly stored');
    assert.ok(entries >= reported.length * size);
    for (const b of reported) {
      const got = cache.getMany('fp-k', [`k:${b}:0`, `k:${b}:${size - 1}`]);
      assert.equal(bytesOf(got[0]!), bytesOf(expectedVector('k', b, 0, dim)));
      assert.equal(bytesOf(got[1]!), bytesOf(expectedVector('k', b, size - 1, dim)));
    }
    cache.close();
  } finally { cleanup(); }
});

test.run();
