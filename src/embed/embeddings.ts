/** Embedding matrices and the small linear algebra the heads need. */

/** Row-major matrix: `data.length === dims[0] * dims[1]`. */
export interface Embeddings {
  data: Float32Array;
  dims: [number, number];
}

/** L2-normalizes each row in place; a zero row stays zero. */
export function normalizeRows(data: Float32Array, d: number): Float32Array {
  for (let off = 0; off < data.length; off += d) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += data[off + j]! * data[off + j]!;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let j = 0; j < d; j++) data[off + j]! *= inv;
  }
  return data;
}

/** Row i of a matrix as a view. */
export function row(e: Embeddings, i: number): Float32Array {
  const d = e.dims[1];
  return e.data.subarray(i * d, (i + 1) * d);
}

/** a [n, d] x b[m, d]^T -> [n, m], accumulated in float64. */
export function matmulT(a: Embeddings, b: Embeddings): Float32Array {
  const [n, d] = a.dims;
  const [m, d2] = b.dims;
  if (d !== d2) throw new RangeError(`dimension mismatch: ${d} vs ${d2}`);
  const out = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    const ai = i * d;
    for (let j = 0; j < m; j++) {
      const bj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += a.data[ai + k]! * b.data[bj + k]!;
      out[i * m + j] = s;
    }
  }
  return out;
}

/** Stacks row vectors into a matrix. */
export function stack(rows: Float32Array[], d: number): Embeddings {
  const data = new Float32Array(rows.length * d);
  rows.forEach((r, i) => data.set(r, i * d));
  return { data, dims: [rows.length, d] };
}
