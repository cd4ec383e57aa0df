/**
 * A Parquet file written a row group at a time (hyparquet-writer's ParquetWriter), so memory holds one row group,
 * not the file. Bytes go to a temporary name in the target folder; `close` fsyncs and renames it into place,
 * `abort` removes it. Why hyparquet-writer (pure JS, ~1 MB with its reader) and not parquet-wasm + apache-arrow
 * (~27 MB): README, "Sharded embedding", and scripts/parquet-compare.
 *
 * Columns used by zs: UTF8 strings (required or optional) and `embedding`, a Parquet LIST of required FLOATs (the
 * standard three-level list), null on rows that failed. Every non-null list has exactly `dim` values; Parquet has no
 * fixed-size list type, so the length is also in the key-value metadata (`zs.dim`).
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ZsError, wrapError } from '../errors.js';

export type Column =
  | { name: string; kind: 'string'; optional: boolean; data: (string | null)[] }
  | { name: string; kind: 'floats'; data: (number[] | null)[] };

/** Schema element shapes hyparquet-writer takes (parquet.thrift SchemaElement, by field name). */
type Element = Record<string, unknown> & { name: string };

function schemaOf(columns: readonly { name: string; kind: 'string' | 'floats'; optional?: boolean }[]): Element[] {
  const out: Element[] = [{ name: 'schema', num_children: columns.length }];
  for (const c of columns) {
    if (c.kind === 'string') out.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: c.optional ? 'OPTIONAL' : 'REQUIRED' });
    else {
      out.push({ name: c.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 });
      out.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      out.push({ name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' });
    }
  }
  return out;
}

export interface ParquetFile {
  /** Appends one row group (every column the same length, in schema order). */
  writeGroup(columns: Column[]): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export function tempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Opens `file` for writing (see the header). `shape` fixes the columns; `meta` goes in the key-value metadata. */
export async function openParquetFile(
  file: string,
  shape: readonly { name: string; kind: 'string' | 'floats'; optional?: boolean }[],
  meta: Record<string, string>,
): Promise<ParquetFile> {
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  const tmp = tempPath(file);
  let fh: FileHandle | undefined = await fsp.open(tmp, 'wx').catch((e: unknown) => {
    throw wrapError(e, 'E_WRITE', `cannot write ${file}`, 'check that the folder exists and is writable');
  });
  const bytes = new ByteWriter(1 << 20);
  // the writer calls flush after each row group and at the end: hand what it wrote to the file, then reuse the buffer
  const flush = async (): Promise<void> => {
    if (bytes.index === 0) return;
    await fh!.write(new Uint8Array(bytes.buffer, 0, bytes.index));
    bytes.index = 0;
  };
  Object.assign(bytes, { flush, finish: flush });
  const writer = new ParquetWriter({
    writer: bytes, schema: schemaOf(shape) as never, codec: 'SNAPPY', statistics: false, createdBy: 'zs',
    kvMetadata: Object.entries(meta).map(([key, value]) => ({ key, value })),
  });
  const abort = async (): Promise<void> => {
    const h = fh;
    fh = undefined;
    await h?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
  };
  const fail = async (e: unknown): Promise<never> => {
    await abort();
    throw wrapError(e, 'E_WRITE', `cannot write ${file}`, 'check that the disk has room');
  };
  return {
    async writeGroup(columns) {
      if (!fh) throw new ZsError('E_WRITE', `${file} is already closed`);
      const n = columns[0]?.data.length ?? 0;
      if (n === 0) return;
      try {
        await writer.write({ rowGroupSize: n, columnData: columns.map((c) => ({ name: c.name, data: c.data })) });
      } catch (e) {
        await fail(e);
      }
    },
    async close() {
      if (!fh) throw new ZsError('E_WRITE', `${file} is already closed`);
      try {
        await writer.finish();
        await fh.sync();
        await fh.close();
        fh = undefined;
        await fsp.rename(tmp, file);
      } catch (e) {
        await fail(e);
      }
    },
    abort,
  };
}
