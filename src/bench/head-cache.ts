/**
 * Fitted few-shot heads kept between `zs bench` runs: one JSON file per (embeddings content, zero-shot weights,
 * seed, shots, head, head version, protocol) key under <cache>/heads/, so a second run over the same data
 * scores the test rows with the stored heads instead of refitting. Any change in the inputs changes the key; a
 * file that cannot be read back is refitted and replaced (it is a cache). Writes are atomic.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import type { Dataset } from '../learn/logreg.js';
import { paramsFromJson, paramsToJson } from '../heads/head-json.js';
import { HEAD_VERSIONS, scorerOf, type HeadName, type ZeroShotWeights } from '../heads/state.js';
import type { FittedHead } from '../heads/fewshot.js';

/** Bumped when the bench protocol (splits, selection grids) changes in a way the key does not capture. */
export const HEAD_CACHE_VERSION = 2; // 2: GDA's candidates include the discriminant alone

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Content hash of the training pool and the zero-shot weights (the data every head of a run is fitted from). */
export function dataKey(pool: Dataset, zs: ZeroShotWeights | undefined): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ n: pool.n, d: pool.d, K: pool.K, zs: zs ? { scale: zs.scale, bias: zs.bias } : null }));
  h.update(bytesOf(pool.x.subarray(0, pool.n * pool.d)));
  h.update(bytesOf(pool.labels.subarray(0, pool.n)));
  if (zs) h.update(bytesOf(zs.T));
  return h.digest('hex');
}

export class HeadCache {
  constructor(private readonly dir: string, private readonly data: string) {}

  private file(head: HeadName, shots: number | 'all', seed: number): string {
    const key = createHash('sha256')
      .update(JSON.stringify({ v: HEAD_CACHE_VERSION, data: this.data, head, version: HEAD_VERSIONS[head], shots, seed }))
      .digest('hex');
    return join(this.dir, `${key}.json`);
  }

  async get(head: HeadName, shots: number | 'all', seed: number, K: number, d: number): Promise<FittedHead | undefined> {
    try {
      const json = JSON.parse(await readFile(this.file(head, shots, seed), 'utf8')) as Record<string, unknown>;
      const dim = head === 'finetune' ? Number((json.inputDim as number) ?? 0) : d;
      const params = paramsFromJson('head cache', head, json.params, K, dim);
      return {
        params, score: scorerOf(params, K, d), settings: json.settings as FittedHead['settings'],
        C: json.C as number | null, ...(json.val ? { val: json.val as FittedHead['val'] } : {}),
      };
    } catch {
      return undefined; // missing or unreadable: refit
    }
  }

  async put(head: HeadName, shots: number | 'all', seed: number, fitted: FittedHead, inputDim: number): Promise<void> {
    const body = { params: paramsToJson(fitted.params, inputDim), inputDim, settings: fitted.settings, C: fitted.C, val: fitted.val ?? null };
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(head, shots, seed), JSON.stringify(body));
  }
}
