/**
 * Segment files: an immutable, contiguous block of one model's indexed vectors, written once (temp file, fsync,
 * rename) and never changed; the index database (store.ts) says which segments are live and which path each row
 * belongs to. Layout (little-endian):
 *
 *   0    'ZSVSEG01' magic, u32 d, u32 dp, u32 n, zero padding to 64 bytes
 *   64   f32  [n, d]     the embeddings as the cache holds them (exact rescoring, dupes)
 *   ..   i8   [n, dp]    quantize.ts rows, zero padded (the scan)
 *   ..   f32  [n, META]  per-row scale, residual bound, norm bound
 *
 * The size is fully determined by (d, dp, n), so a short or foreign file is refused as damaged.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { writeAtomicWith } from '../util/fs.js';
import { ZsError, wrapError } from '../errors.js';
import { META } from './quantize.js';

const MAGIC = Buffer.from('ZSVSEG01', 'latin1');
const HEADER = 64;

export interface SegmentLayout { d: number; dp: number; n: number }

export function f32Offset(): number { return HEADER; }
export function i8Offset(l: SegmentLayout): number { return HEADER + l.n * l.d * 4; }
export function metaOffset(l: SegmentLayout): number { return i8Offset(l) + l.n * l.dp; }
export function segmentBytes(l: SegmentLayout): number { return metaOffset(l) + l.n * META * 4; }

function header(l: SegmentLayout): Buffer {
  const h = Buffer.alloc(HEADER);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(l.d, 8);
  h.writeUInt32LE(l.dp, 12);
  h.writeUInt32LE(l.n, 16);
  return h;
}

const view = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes a segment atomically from its three blocks (each may be given in parts, written in order). */
export async function writeSegment(file: string, l: SegmentLayout, f32: ArrayBufferView[], i8: ArrayBufferView[], meta: ArrayBufferView[]): Promise<void> {
  try {
    await writeAtomicWith(file, async (fh) => {
      let pos = 0;
      for (const part of [header(l), ...f32, ...i8, ...meta]) {
        const bytes = view(part);
        for (let o = 0; o < bytes.length;) {
          const { bytesWritten } = await fh.write(bytes, o, Math.min(bytes.length - o, 1 << 28), pos);
          o += bytesWritten;
          pos += bytesWritten;
        }
      }
      if (pos !== segmentBytes(l)) throw new Error(`wrote ${pos} bytes, expected ${segmentBytes(l)}`);
    });
  } catch (e) {
    throw wrapError(e, 'E_INDEX_WRITE', `cannot write the index segment ${file}`, 'check that the disk has room and the folder is writable');
  }
}

/** An open segment file: reads whole blocks into caller memory, or single float32 rows. */
export class SegmentFile {
  private constructor(readonly file: string, readonly layout: SegmentLayout, private fd: number) {}

  static open(file: string, expect: SegmentLayout): SegmentFile {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      throw wrapError(e, 'E_INDEX_DAMAGED', `the index segment ${file} cannot be opened`, 'run zs index again on the folders to rebuild it');
    }
    const seg = new SegmentFile(file, expect, fd);
    try {
      const h = Buffer.alloc(HEADER);
      seg.readAt(h, 0);
      const ok = h.subarray(0, 8).equals(MAGIC) && h.readUInt32LE(8) === expect.d && h.readUInt32LE(12) === expect.dp && h.readUInt32LE(16) === expect.n;
      if (!ok) throw new ZsError('E_INDEX_DAMAGED', `the index segment ${file} does not hold the ${expect.n} x ${expect.d} vectors the index expects`, { hint: 'run zs index again on the folders to rebuild it' });
      return seg;
    } catch (e) {
      seg.close();
      throw e;
    }
  }

  /** Fills `into` from byte `pos` of the file (throws if the file ends first). */
  readAt(into: ArrayBufferView, pos: number): void {
    const bytes = view(into);
    for (let o = 0; o < bytes.length;) {
      const got = readSync(this.fd, bytes, o, Math.min(bytes.length - o, 1 << 28), pos + o);
      if (got === 0) {
        throw new ZsError('E_INDEX_DAMAGED', `the index segment ${this.file} is shorter than its ${this.layout.n} rows`, { hint: 'run zs index again on the folders to rebuild it' });
      }
      o += got;
    }
  }

  /** Rows [from, from + count) of the float32 block into `into` ([count, d]). */
  readF32(from: number, count: number, into: Float32Array): void {
    this.readAt(into.subarray(0, count * this.layout.d), HEADER + from * this.layout.d * 4);
  }

  readI8(into: Int8Array | Uint8Array): void { this.readAt(into, i8Offset(this.layout)); }
  readMeta(into: Float32Array): void { this.readAt(into, metaOffset(this.layout)); }

  close(): void {
    if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; }
  }
}
