/**
 * Writes a model's vectors into the index: rows are buffered (at most `segRows`), then written as one new segment
 * file and committed with their items (store.ts) in one transaction. Updated paths simply get a new row (the old
 * one becomes dead); `compact` rewrites segments that have dead rows, and merges small ones, so that search scans
 * only live rows and the segment count stays low. Memory: one output buffer of segRows float32 rows plus one
 * segment read back during compaction.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FileStamp } from '../embed/hash.js';
import { ZsError } from '../errors.js';
import { paddedDim } from './kernel.js';
import { META, quantizeRows } from './quantize.js';
import { SegmentFile, writeSegment } from './segment.js';
import type { IndexModel, IndexStore, NewItem, Segment } from './store.js';

/** Rows per segment: 32768 x 512-d is 64 MiB of float32 + 16 MiB of int8. */
export const SEGMENT_ROWS = 32768;

export type Stamp = Omit<FileStamp, 'seenNs' | 'path'>;

export class IndexWriter {
  private readonly d: number;
  private readonly dp: number;
  private readonly buf: Float32Array;
  private items: { path: string; stamp?: Stamp }[] = [];
  private removed: string[] = [];

  constructor(private readonly store: IndexStore, private readonly model: IndexModel, private readonly segRows = SEGMENT_ROWS) {
    this.d = model.dim;
    this.dp = paddedDim(model.dim);
    this.buf = new Float32Array(segRows * this.d);
  }

  get pending(): number { return this.items.length; }

  /** Adds (or replaces) the vector of `path`; flushes when the buffer is full. */
  async add(path: string, vector: Float32Array, stamp?: Stamp): Promise<void> {
    if (vector.length !== this.d) {
      throw new ZsError('E_INDEX_DIM', `an embedding of ${path} has ${vector.length} dimensions, the index of ${this.model.name} ${this.d}`, {
        hint: 'index each model separately (--model)',
      });
    }
    this.buf.set(vector, this.items.length * this.d);
    this.items.push({ path, stamp });
    if (this.items.length === this.segRows) await this.flush();
  }

  /** Drops `paths` from the index at the next flush. */
  remove(paths: readonly string[]): void {
    this.removed.push(...paths);
  }

  /** Writes the buffered rows as a segment and commits them with the pending removals. */
  async flush(): Promise<void> {
    const n = this.items.length;
    if (n === 0 && this.removed.length === 0) return;
    let seg: { file: string; rows: number } | undefined;
    if (n > 0) {
      const f32 = this.buf.subarray(0, n * this.d); // [n, d]
      const i8 = new Int8Array(n * this.dp); // [n, dp]
      const meta = new Float32Array(n * META); // [n, META]
      quantizeRows(f32, this.d, this.dp, i8, meta);
      seg = { file: `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}.seg`, rows: n };
      await writeSegment(join(this.store.dir, seg.file), { d: this.d, dp: this.dp, n }, [f32], [i8], [meta]);
    }
    const items: NewItem[] = this.items.map((it, row) => ({ path: it.path, row, stamp: it.stamp }));
    this.store.commit(this.model.id, seg, items, this.removed);
    this.items = [];
    this.removed = [];
  }

  /**
   * Rewrites segments with dead rows, and merges segments under half full when there are several, then drops
   * segments nothing refers to. Returns how many segments were rewritten.
   */
  async compact(): Promise<number> {
    await this.flush();
    const live = this.store.liveRows(this.model.id);
    const segs = this.store.segments(this.model.id);
    const dirty = segs.filter((s) => (live.get(s.id) ?? 0) < s.rows);
    const small = segs.filter((s) => !dirty.includes(s) && s.rows < this.segRows / 2);
    const redo: Segment[] = [...dirty, ...(small.length >= 2 ? small : [])].filter((s) => (live.get(s.id) ?? 0) > 0);
    if (redo.length > 0 || dirty.length > 0) {
      const bySeg = new Map<number, { path: string; row: number; stamp?: Stamp }[]>();
      for (const it of this.store.items(this.model.id)) {
        if (!redo.some((s) => s.id === it.seg)) continue;
        const list = bySeg.get(it.seg) ?? [];
        list.push(it);
        bySeg.set(it.seg, list);
      }
      for (const s of redo) {
        const file = SegmentFile.open(join(this.store.dir, s.file), { d: this.d, dp: this.dp, n: s.rows });
        try {
          const rows = new Float32Array(s.rows * this.d); // [rows, d]
          file.readF32(0, s.rows, rows);
          for (const it of (bySeg.get(s.id) ?? []).sort((a, b) => a.row - b.row)) {
            await this.add(it.path, rows.subarray(it.row * this.d, (it.row + 1) * this.d), it.stamp);
          }
        } finally {
          file.close();
        }
      }
      await this.flush();
    }
    this.store.dropEmpty(this.model.id);
    return redo.length;
  }
}
