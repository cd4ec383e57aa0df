/**
 * Child process for test/cache.test.ts: writes `batches` batches of `size` embeddings into the cache at `file`,
 * one transaction per batch, and prints `committed <batch>` on stdout after each commit has returned.
 * Run: node --import tsx test/helpers/cache-writer.ts <file> <writer-id> <batches> <size> <dim>
 * Entry i of batch b of writer w has key `w:b:i` and the embedding expectedVector(w, b, i, dim), under the model
 * { fingerprint: `fp-w`, name: `writer-w` }. batches = 0 means "until killed". Exits 3 with the error on stderr.
 */
import { EmbeddingCache } from '../../src/embed/cache.js';
import { expectedVector } from './cache-vectors.js';

async function main(): Promise<void> {
  const [file, w, batchesArg, sizeArg, dimArg] = process.argv.slice(2) as [string, string, string, string, string];
  const batches = Number(batchesArg);
  const size = Number(sizeArg);
  const dim = Number(dimArg);
  const cache = await EmbeddingCache.open(file);
  const model = { fingerprint: `fp-${w}`, name: `writer-${w}` };
  for (let b = 0; batches === 0 || b < batches; b++) {
    const entries = [];
    for (let i = 0; i < size; i++) entries.push({ key: `${w}:${b}:${i}`, embedding: expectedVector(w, b, i, dim) });
    cache.putMany(model, entries);
    process.stdout.write(`committed ${b}\n`);
  }
  cache.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(3);
});
