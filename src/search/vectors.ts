/**
 * A model's indexed vectors opened for searching: the int8 rows of all its segments side by side in one
 * WebAssembly memory (kernel.ts), their per-row bounds in JavaScript, and the float32 rows left in the segment
 * files, read back only for the few rows the bound cannot settle (quantize.ts).
 *
 * Exact top-k (`nearest`):
 *   1. scan: a[i] = s[i] t (q16 . x8[i])  for all rows                        [n] int32 -> float64, one pass over n*dp bytes
 *   2. L = k-th largest lower bound a[i] - B[i]: the k-th best true score is >= L
 *   3. candidates: rows with a[i] + B[i] >= L (no other row can be in the top k)
 *   4. their float32 rows rescored in float64; the k best (ties: lower row first) are the answer
 * Threshold (`above`, for dupes): rows after `from` with a[i] + B[i] >= T, rescored, kept when the score is >= T.
 * Memory: n * dp bytes (int8) + 4n (scores) + 12n (bounds); 1M x 512 is 0.53 GB, where float32 would be 2 GB.
 */
import { SegmentFile, type SegmentLayout } from './segment.js';
import { scanKernel, paddedDim, queryLimit, type ScanKernel } from './kernel.js';
import { META, quantizeQuery, dot64, SLACK, type QuantizedQuery } from './quantize.js';
import type { Segment } from './store.js';
import { join } from 'node:path';

export interface Hit { index: number; score: number }

interface Part { seg: Segment; file: SegmentFile; start: number }

const align = (v: number): number => Math.ceil(v / 64) * 64;

export class VectorSet {
  readonly n: number;
  readonly dp: number;
  private readonly parts: Part[];
  private readonly kernel: ScanKernel;
  private readonly qAt: number;
  private readonly zAt: number;
  private readonly xAt: number;
  private readonly meta: Float32Array;
  private readonly qmax: number;

  /** Opens the listed segments of a model with `d`-dimensional vectors (files in `dir`). */
  static open(dir: string, segments: readonly Segment[], d: number): VectorSet {
    const dp = paddedDim(d);
    const parts: Part[] = [];
    let n = 0;
    try {
      for (const seg of segments) {
        parts.push({ seg, file: SegmentFile.open(join(dir, seg.file), { d, dp, n: seg.rows }), start: n });
        n += seg.rows;
      }
      return new VectorSet(parts, n, d, dp);
    } catch (e) {
      for (const p of parts) p.file.close();
      throw e;
    }
  }

  private constructor(parts: Part[], n: number, readonly d: number, dp: number) {
    this.parts = parts;
    this.n = n;
    this.dp = dp;
    this.qmax = queryLimit(dp);
    this.qAt = 0;
    this.zAt = align(dp * 2);
    this.xAt = this.zAt + align(n * 4);
    this.kernel = scanKernel(dp, this.xAt + n * dp);
    this.meta = new Float32Array(n * META);
    const x = new Int8Array(this.kernel.buffer, this.xAt, n * dp);
    for (const p of parts) {
      const l: SegmentLayout = p.file.layout;
      p.file.readI8(x.subarray(p.start * dp, (p.start + l.n) * dp));
      p.file.readMeta(this.meta.subarray(p.start * META, (p.start + l.n) * META));
    }
  }

  /** Segment id and row of global row `i`. */
  locate(i: number): { seg: number; row: number } {
    const p = this.part(i);
    return { seg: p.seg.id, row: i - p.start };
  }

  /** Global row of (segment id, row), or -1 when the segment is not part of this set. */
  globalRow(seg: number, row: number): number {
    const p = this.parts.find((q) => q.seg.id === seg);
    return p ? p.start + row : -1;
  }

  private part(i: number): Part {
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.parts[mid]!.start <= i) lo = mid; else hi = mid - 1;
    }
    return this.parts[lo]!;
  }

  /** The float32 row i ([d]). */
  row(i: number, out = new Float32Array(this.d)): Float32Array {
    const p = this.part(i);
    p.file.readF32(i - p.start, 1, out);
    return out;
  }

  /** Float32 rows [from, from + count) into out ([count, d]); may span segments. */
  rows(from: number, count: number, out: Float32Array): void {
    let done = 0;
    while (done < count) {
      const p = this.part(from + done);
      const local = from + done - p.start;
      const take = Math.min(count - done, p.seg.rows - local);
      p.file.readF32(local, take, out.subarray(done * this.d));
      done += take;
    }
  }

  /** Runs the int8 scan of q over rows [from, n); returns the quantized query and the raw int32 sums. */
  private scan(q: Float32Array, from: number): { qq: QuantizedQuery; z: Int32Array } {
    if (q.length !== this.d) throw new RangeError(`query has ${q.length} dimensions, the index ${this.d}`);
    const qq = quantizeQuery(q, this.dp, this.qmax);
    new Int16Array(this.kernel.buffer, this.qAt, this.dp).set(qq.q16);
    const count = this.n - from;
    if (count > 0) this.kernel.scan(this.qAt, this.xAt + from * this.dp, count, this.zAt + from * 4);
    return { qq, z: new Int32Array(this.kernel.buffer, this.zAt, this.n) };
  }

  /** Exact k nearest rows by dot product (rows with mask[i] === 0 skipped), best first; ties: lower row first. */
  nearest(q: Float32Array, k: number, mask?: Uint8Array): Hit[] {
    if (k <= 0 || this.n === 0) return [];
    const { qq, z } = this.scan(q, 0);
    const m = this.meta;
    const qn = qq.qhatNorm, un = qq.residualNorm, t = qq.t;
    // 2. k-th largest lower bound: a min-heap of size k
    const heap = new Float64Array(k);
    let size = 0;
    for (let i = 0; i < this.n; i++) {
      if (mask && mask[i] === 0) continue;
      const o = i * META;
      const lo = t * m[o]! * z[i]! - (qn * m[o + 1]! + un * m[o + 2]! + SLACK);
      if (size < k) { heap[size++] = lo; if (size === k) heapify(heap); } else if (lo > heap[0]!) { heap[0] = lo; siftDown(heap, 0, k); }
    }
    const L = size < k ? -Infinity : heap[0]!;
    // 3. candidates, 4. rescored
    const hits: Hit[] = [];
    const buf = new Float32Array(this.d);
    for (let i = 0; i < this.n; i++) {
      if (mask && mask[i] === 0) continue;
      const o = i * META;
      const hi = t * m[o]! * z[i]! + (qn * m[o + 1]! + un * m[o + 2]! + SLACK);
      if (hi >= L) hits.push({ index: i, score: dot64(q, this.row(i, buf)) });
    }
    hits.sort((a, b) => b.score - a.score || a.index - b.index);
    return hits.slice(0, k);
  }

  /** Rows j > from (not masked out) with exact score >= threshold against q. */
  above(q: Float32Array, threshold: number, from: number, mask?: Uint8Array): Hit[] {
    const start = from + 1;
    if (start >= this.n) return [];
    const { qq, z } = this.scan(q, start);
    const m = this.meta;
    const qn = qq.qhatNorm, un = qq.residualNorm, t = qq.t;
    const hits: Hit[] = [];
    const buf = new Float32Array(this.d);
    for (let i = start; i < this.n; i++) {
      if (mask && mask[i] === 0) continue;
      const o = i * META;
      if (t * m[o]! * z[i]! + (qn * m[o + 1]! + un * m[o + 2]! + SLACK) < threshold) continue;
      const score = dot64(q, this.row(i, buf));
      if (score >= threshold) hits.push({ index: i, score });
    }
    return hits;
  }

  close(): void {
    for (const p of this.parts) p.file.close();
  }
}

function heapify(h: Float64Array): void {
  for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i, h.length);
}

function siftDown(h: Float64Array, i: number, n: number): void {
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    const r = l + 1;
    const c = r < n && h[r]! < h[l]! ? r : l;
    if (h[c]! >= h[i]!) return;
    const tmp = h[c]!; h[c] = h[i]!; h[i] = tmp;
    i = c;
  }
}
