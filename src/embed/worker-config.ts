/**
 * Names and defaults of `zs embed`'s worker modes (shards, pipe), kept free of heavy imports so the CLI can build
 * its flags from them without loading the writers or the HTTP stacks.
 */
import { join } from 'node:path';

export const LAYOUTS = ['parquet', 'clip-retrieval'] as const;
export type ShardLayout = (typeof LAYOUTS)[number];

export interface FetchOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Tries after the first. */
  retries: number;
  /** First wait before a retry, doubled each time. */
  backoffMs: number;
  /** Milliseconds without socket activity before a try fails. */
  idleTimeoutMs: number;
}

export const DEFAULT_FETCH: FetchOptions = { maxBytes: 64 << 20, retries: 3, backoffMs: 500, idleTimeoutMs: 30_000 };

const pad = (i: number) => String(i).padStart(5, '0');

/** The files of shard `index` (relative to the output folder): data files, then the done marker. */
export function shardFiles(index: number, layout: ShardLayout): { data: string[]; done: string } {
  const data = layout === 'parquet' ? [`part-${pad(index)}.parquet`] : [join('img_emb', `img_emb_${index}.npy`), join('metadata', `metadata_${index}.parquet`)];
  return { data, done: `part-${pad(index)}.done.json` };
}
