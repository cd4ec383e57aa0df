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
import { SegmentFile, i8Offset, metaOffset, type SegmentLayout } from './segment.js';
import { scanKernel, paddedDim, queryLimit, type ScanKernel } from './kernel.js';
import { META, quantizeQuery, dot64, SLACK, type QuantizedQuery } from './quantize.js';
import type { Segment } from './store.js';
import { join } from 'node:path';

export interface Hit { index: number; score: number }

interface Part { seg: Segment; file: SegmentFile; start: number }

const align = (v: number): number => Math.ceil(v / 64) * 64;
/** Rows per kernel call (and per read when streaming): 16384 x 512 is an 8 MiB window. */
const CHUNK = 16384;

export interface VectorSetOptions {
  /**
   * Keep all int8 rows in memory (n * dp bytes, read once at open): repeated queries then only scan memory.
   * Without it (one-shot queries) the rows are streamed from the segment files through a fixed window, so opening
   * costs nothing per row and memory stays flat; each query then reads n * dp bytes (from the OS file cache).
   */
  resident?: boolean;
}

export class VectorSet {
  readonly n: number;
  readonly dp: number;
  private readonly parts: Part[];
  private readonly kernel: ScanKernel;
  private readonly qAt: number;
  private readonly zAt: number;
  private readonly xAt: number;
  /** [n, META] when resident, else a [CHUNK, META] window. */
  private readonly meta: Float32Array;
  private readonly resident: boolean;
  private readonly qmax: number;

  /** Opens the listed segments of a model with `d`-dimensional vectors (files in `dir`). */
  static open(dir: string, segments: readonly Segment[], d: number, opts: VectorSetOptions = {}): VectorSet {
    const dp = paddedDim(d);
    const parts: Part[] = [];
    let n = 0;
    try {
      for (const seg of segments) {
        parts.push({ seg, file: SegmentFile.open(join(dir, seg.file), { d, dp, n: seg.rows }), start: n });
        n += seg.rows;
      }
      return new VectorSet(parts, n, d, dp, opts.resident ?? false);
    } catch (e) {
      for (const p of parts) p.file.close();
      throw e;
    }
  }

  private constructor(parts: Part[], n: number, readonly d: number, dp: number, resident: boolean) {
    this.parts = parts;
    this.n = n;
    this.dp = dp;
    this.resident = resident;
    this.qmax = queryLimit(dp);
    this.qAt = 0;
    this.zAt = align(dp * 2);
    this.xAt = this.zAt + align(CHUNK * 4);
    const rows = resident ? n : Math.min(n, CHUNK);
    this.kernel = scanKernel(dp, this.xAt + rows * dp);
    this.meta = new Float32Array(rows * META);
    if (resident) {
      const x = new Int8Array(this.kernel.buffer, this.xAt, n * dp);
      for (const p of parts) {
        const l: SegmentLayout = p.file.layout;
        p.file.readI8(x.subarray(p.start * dp, (p.start + l.n) * dp));
        p.file.readMeta(this.meta.subarray(p.start * META, (p.start + l.n) * META));
      }
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

  /**
   * Scans q over rows [from, n) a chunk at a time: `fn(start, count, z, meta)` gets the int32 sums of rows
   * [start, start + count) and their [count, META] bounds.
   */
  private scan(q: Float32Array, from: number, fn: (start: number, count: number, z: Int32Array, meta: Float32Array, qq: QuantizedQuery) => void): void {
    if (q.length !== this.d) throw new RangeError(`query has ${q.length} dimensions, the index ${this.d}`);
    const qq = quantizeQuery(q, this.dp, this.qmax);
    new Int16Array(this.kernel.buffer, this.qAt, this.dp).set(qq.q16);
    const z = new Int32Array(this.kernel.buffer, this.zAt, CHUNK);
    for (let start = from; start < this.n;) {
      let count = Math.min(CHUNK, this.n - start);
      let x = this.xAt + start * this.dp;
      let meta = this.meta.subarray(start * META, (start + count) * META);
      if (!this.resident) {
        const p = this.part(start);
        const local = start - p.start;
        count = Math.min(count, p.seg.rows - local);
        x = this.xAt;
        const win = new Int8Array(this.kernel.buffer, this.xAt, count * this.dp);
        p.file.readAt(win, i8Offset(p.file.layout) + local * this.dp);
        meta = this.meta.subarray(0, count * META);
        p.file.readAt(meta, metaOffset(p.file.layout) + local * META * 4);
      }
      this.kernel.scan(this.qAt, x, count, this.zAt);
      fn(start, count, z, meta, qq);
      start += count;
    }
  }

  /** Exact k nearest rows by dot product (rows with mask[i] === 0 skipped), best first; ties: lower row first. */
  nearest(q: Float32Array, k: number, mask?: Uint8Array): Hit[] {
    if (k <= 0 || this.n === 0) return [];
    // one pass: L = k-th largest lower bound so far (it only grows); keep rows whose upper bound reaches it
    const heap = new Float64Array(k);
    let size = 0;
    let L = -Infinity;
    let cand: number[] = [];
    let candHi: number[] = [];
    const visit = (start: number, count: number, z: Int32Array, m: Float32Array, qq: QuantizedQuery): void => {
      const { qhatNorm: qn, residualNorm: un, t } = qq;
      for (let r = 0; r < count; r++) {
        const i = start + r;
        if (mask && mask[i] === 0) continue;
        const o = r * META;
        const a = t * m[o]! * z[r]!;
        const b = qn * m[o + 1]! + un * m[o + 2]! + SLACK;
        if (a + b < L) continue;
        cand.push(i);
        candHi.push(a + b);
        const lo = a - b;
        if (size < k) {
          heap[size++] = lo;
          if (size === k) { heapify(heap); L = heap[0]!; }
        } else if (lo > heap[0]!) {
          heap[0] = lo;
          siftDown(heap, 0, k);
          L = heap[0]!;
        }
      }
      if (cand.length > 4 * k + 4096) { // drop candidates the grown L has ruled out
        const keep = cand.map((_, j) => candHi[j]! >= L);
        cand = cand.filter((_, j) => keep[j]);
        candHi = candHi.filter((_, j) => keep[j]);
      }
    };
    this.scan(q, 0, visit);
    const hits: Hit[] = [];
    const buf = new Float32Array(this.d);
    cand.forEach((i, j) => { if (candHi[j]! >= L) hits.push({ index: i, score: dot64(q, this.row(i, buf)) }); });
    hits.sort((a, b) => b.score - a.score || a.index - b.index);
    return hits.slice(0, k);
  }

  /**
   * Rows j > from (not masked out, and not `skip(j)`) whose exact score against q is >= threshold: each is passed
   * to `found(j, score)` as soon as it is known (so `skip` may depend on earlier finds).
   */
  above(q: Float32Array, threshold: number, from: number, mask: Uint8Array | undefined, skip: (j: number) => boolean, found: (j: number, score: number) => void): void {
    const buf = new Float32Array(this.d);
    this.scan(q, from + 1, (start, count, z, m, qq) => {
      const { qhatNorm: qn, residualNorm: un, t } = qq;
      for (let r = 0; r < count; r++) {
        const i = start + r;
        if (mask && mask[i] === 0) continue;
        const o = r * META;
        if (t * m[o]! * z[r]! + (qn * m[o + 1]! + un * m[o + 2]! + SLACK) < threshold) continue;
        if (skip(i)) continue;
        const score = dot64(q, this.row(i, buf));
        if (score >= threshold) found(i, score);
      }
    });
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
