/**
 * Benchmark (not run by the test suite) of the embedding cache's warm path: for N image files already cached,
 * stat them (stampFiles), map stamps to content hashes (lookupFiles) and fetch the embeddings (getMany).
 * Also times the fallback when a stamp misses: read + sha256 of a 1.7 MB file.
 * Run: flock /tmp/zs-bench.lock node --import tsx test/helpers/cache-bench.ts [n=2000] [dim=512]
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EmbeddingCache } from '../../src/embed/cache.js';
import { hashBytes, stampFiles } from '../../src/embed/hash.js';

const n = Number(process.argv[2] ?? 2000);
const dim = Number(process.argv[3] ?? 512);
const dir = mkdtempSync(join(tmpdir(), 'zs-cache-bench-'));
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const paths = Array.from({ length: n }, (_, i) => join(dir, `img${i}.jpg`));
  for (const p of paths) writeFileSync(p, randomBytes(4096)); // the warm path never reads the bytes
  await new Promise((r) => setTimeout(r, 2100)); // past the racy window, so stamps are remembered
  const cache = await EmbeddingCache.open(join(dir, 'embeddings.sqlite'));
  const model = { fingerprint: 'f'.repeat(64), name: 'bench' };
  const stamps = await stampFiles(paths);
  const hashes = paths.map((p) => hashBytes(readFileSync(p)));
  cache.rememberFiles(stamps.map((s, i) => ({ ...s, hash: hashes[i]! })));
  for (let b = 0; b < n; b += 32) {
    cache.putMany(model, hashes.slice(b, b + 32).map((key) => ({ key, embedding: new Float32Array(dim).fill(b) })));
  }
  const rows: number[][] = [];
  for (let rep = 0; rep < 7; rep++) {
    let t = process.hrtime.bigint();
    const st = await stampFiles(paths);
    const tStat = ms(t);
    t = process.hrtime.bigint();
    const keys = cache.lookupFiles(st);
    const tLookup = ms(t);
    t = process.hrtime.bigint();
    const vecs = cache.getMany(model.fingerprint, keys as string[]);
    const tGet = ms(t);
    if (keys.some((k) => k === undefined) || vecs.some((v) => v === undefined)) throw new Error('unexpected miss');
    rows.push([tStat, tLookup, tGet, tStat + tLookup + tGet]);
  }
  const us = (i: number) => ((median(rows.map((r) => r[i]!)) * 1000) / n).toFixed(1);
  console.log(`warm hit, ${n} files, dim ${dim}, median of 7: stat ${us(0)} + lookupFiles ${us(1)} + getMany ${us(2)} = ${us(3)} us/image`);
  const big = join(dir, 'photo.jpg');
  writeFileSync(big, randomBytes(1_700_000));
  const miss: number[] = [];
  for (let rep = 0; rep < 20; rep++) {
    const t = process.hrtime.bigint();
    hashBytes(readFileSync(big));
    miss.push(ms(t));
  }
  console.log(`stamp miss fallback: read + sha256 of 1.7 MB: ${median(miss).toFixed(2)} ms/image`);
  const tSync = process.hrtime.bigint();
  for (const p of paths) statSync(p, { bigint: true });
  console.log(`for comparison, statSync(bigint) alone: ${((ms(tSync) * 1000) / n).toFixed(1)} us/file`);
  const wal = statSync(`${cache.file}-wal`).size;
  console.log(`WAL: ${wal} bytes; database: ${statSync(cache.file).size} bytes`);
  console.log(`cache file: ${cache.info().bytes} bytes for ${n} x ${dim} float32 (${(cache.info().bytes / (n * dim * 4)).toFixed(2)}x raw)`);
  cache.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
