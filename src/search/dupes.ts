/**
 * Near-duplicate groups: connected components of the graph "cosine >= threshold" over a VectorSet (single
 * linkage: a chain a~b~c is one group even if a and c are further apart), largest group first.
 *
 * Each row is scanned against the rows after it with the int8 kernel (n^2 / 2 dot products of dp bytes each, no
 * n x n matrix in memory); only pairs whose bound reaches the threshold are rescored in float32, and pairs at or
 * above it are joined in a union-find. Cost grows as n^2 (measured in docs/benchmarks.md): seconds for 10^4
 * images, minutes for 10^5.
 */
import type { VectorSet } from './vectors.js';

export interface RowGroup {
  /** Global rows, ascending. */
  rows: number[];
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) { this.parent = Int32Array.from({ length: n }, (_, i) => i); }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) { const next = this.parent[i]!; this.parent[i] = r; i = next; }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a), rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/**
 * Groups of rows (only rows with mask[i] !== 0 when a mask is given) joined by pairs with score >= threshold.
 * A pair whose rows are already in one group is not rescored (it cannot change the groups), so a library that is
 * mostly duplicates costs no more than one without any, and nothing pair-sized is kept in memory.
 */
export function duplicateGroups(set: VectorSet, threshold: number, mask?: Uint8Array, onProgress?: (done: number, total: number) => void): RowGroup[] {
  const uf = new UnionFind(set.n);
  const q = new Float32Array(set.d);
  for (let i = 0; i < set.n; i++) {
    if (mask && mask[i] === 0) continue;
    set.row(i, q);
    set.above(q, threshold, i, mask, (j) => uf.find(j) === uf.find(i), (j) => uf.union(i, j));
    if (onProgress && (i & 255) === 0) onProgress(i, set.n);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < set.n; i++) {
    if (mask && mask[i] === 0) continue;
    const r = uf.find(i);
    groups.set(r, [...(groups.get(r) ?? []), i]);
  }
  return [...groups.values()].filter((g) => g.length > 1).map((rows) => ({ rows }))
    .sort((x, y) => y.rows.length - x.rows.length || x.rows[0]! - y.rows[0]!);
}
