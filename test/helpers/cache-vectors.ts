/**
 * Deterministic test embeddings shared by test/cache.test.ts and its child process cache-writer.ts.
 * Values span signs and magnitudes 1e-3..1e3 (all exact float32), so a lossy or misaligned round-trip shows.
 */
export function expectedVector(writer: string, batch: number, index: number, dim: number): Float32Array {
  const v = new Float32Array(dim); // [dim]
  let seed = (batch * 7919 + index * 104729 + writer.charCodeAt(0) * 31) >>> 0;
  for (let k = 0; k < dim; k++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    v[k] = (seed / 2 ** 32 - 0.5) * 10 ** ((k % 7) - 3);
  }
  return v;
}
