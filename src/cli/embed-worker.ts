/**
 * `zs embed` as a worker of a bigger job (README, "Sharded embedding"):
 *   --manifest M --shard-index I --shard-count P --out DIR [--layout parquet|clip-retrieval]
 *       one shard of a manifest; I defaults to $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). Exit 0 only when
 *       the shard is complete (its done marker written, or found from an earlier run); bad images are error rows.
 *   --stdin-jsonl
 *       one JSON input per stdin line, one JSON answer per line on stdout, in order, as soon as known.
 */
import { createInterface } from 'node:readline';
import { usageError } from '../errors.js';
import { int } from '../validate.js';
import { loadOptions, DEFAULT_MODEL, type ModelArgs } from './options.js';
import type { Io } from './io.js';
import { DEFAULT_FETCH, type FetchOptions, type ShardLayout } from '../embed/worker-config.js';

export interface WorkerArgs extends ModelArgs {
  inputs?: string[];
  manifest?: string;
  'shard-index'?: number;
  'shard-count'?: number;
  out?: string;
  layout?: ShardLayout;
  'stdin-jsonl': boolean;
  'fetch-concurrency'?: number;
  'fetch-retries'?: number;
  'max-download'?: number;
}

export const DEFAULT_FETCH_CONCURRENCY = 16;
/** Flags that only the worker modes (--manifest, --stdin-jsonl) read: elsewhere they are refused, never ignored. */
export const WORKER_ONLY_FLAGS = ['fetch-concurrency', 'fetch-retries', 'max-download'] as const;

function fetchConcurrency(a: WorkerArgs): number {
  return int('--fetch-concurrency', a['fetch-concurrency'] ?? DEFAULT_FETCH_CONCURRENCY, 1, 256);
}

/** The shard index: the flag, else $JOB_COMPLETION_INDEX, else 0 for a job of one shard. */
export function shardIndex(flag: number | undefined, env: NodeJS.ProcessEnv, count: number): number {
  if (flag !== undefined) return int('--shard-index', flag, 0, count - 1);
  const fromEnv = env.JOB_COMPLETION_INDEX;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw usageError('E_USAGE', `JOB_COMPLETION_INDEX=${fromEnv} is not a shard index`, 'pass --shard-index I');
    if (Number(fromEnv) >= count) {
      throw usageError('E_USAGE', `JOB_COMPLETION_INDEX=${fromEnv} is not below --shard-count ${count}`, 'pass --shard-count equal to the Job\'s completions');
    }
    return Number(fromEnv);
  }
  if (count === 1) return 0;
  throw usageError('E_USAGE', `--shard-count ${count} needs --shard-index (or $JOB_COMPLETION_INDEX)`, 'pass --shard-index I, 0 <= I < the count');
}

function fetchOptions(a: WorkerArgs): FetchOptions {
  return {
    maxBytes: int('--max-download', a['max-download'] ?? DEFAULT_FETCH.maxBytes, 1),
    retries: int('--fetch-retries', a['fetch-retries'] ?? DEFAULT_FETCH.retries, 0, 20),
    backoffMs: 500,
    idleTimeoutMs: 30_000,
  };
}

export async function runShard(a: WorkerArgs, io: Io): Promise<number> {
  if (!a.out || a.out === '-') throw usageError('E_USAGE', '--manifest needs --out DIR, the folder for the shard\'s files', 'pass --out DIR');
  if (a.inputs?.length) throw usageError('E_USAGE', 'pass images either as arguments or in --manifest, not both', 'list them all in the manifest');
  const count = int('--shard-count', a['shard-count'] ?? 1, 1);
  const index = shardIndex(a['shard-index'], process.env, count);
  const { Model } = await import('../embed/model.js');
  const { embedShard } = await import('../embed/shard.js');
  const model = await Model.load(a.model ?? DEFAULT_MODEL, { ...loadOptions(a), lazy: true });
  try {
    const r = await embedShard(model, {
      manifest: a.manifest!, index, count, out: a.out, layout: a.layout ?? 'parquet', fetch: fetchOptions(a),
      fetchConcurrency: fetchConcurrency(a),
    });
    const c = r.done.counts;
    if (r.skipped) io.note(`shard ${index} of ${count} is already done (${r.doneFile}): nothing to do`);
    else {
      io.note(`shard ${index} of ${count}: ${c.rows} rows, ${c.ok} embedded, ${c.failed} failed, in ${r.done.timings.seconds.toFixed(1)} s `
        + `(${r.done.timings.imagesPerSecond.toFixed(1)} images/s); wrote ${r.done.files.join(', ')} and ${r.doneFile}`);
    }
    return 0;
  } finally {
    await model.close();
  }
}

export async function runStdin(a: WorkerArgs, io: Io): Promise<number> {
  if (a.inputs?.length || a.manifest) throw usageError('E_USAGE', '--stdin-jsonl reads its inputs from stdin only', 'drop the other inputs');
  if (a.out && a.out !== '-') throw usageError('E_USAGE', '--stdin-jsonl writes to stdout', 'drop --out');
  for (const flag of ['shard-index', 'shard-count', 'layout'] as const) {
    if (a[flag] !== undefined) throw usageError('E_USAGE', `--${flag} needs --manifest; --stdin-jsonl answers on stdout`, `drop --${flag}`);
  }
  const { Model } = await import('../embed/model.js');
  const { LineQueue, runPipe } = await import('../embed/pipe.js');
  const model = await Model.load(a.model ?? DEFAULT_MODEL, { ...loadOptions(a), lazy: true });
  const queue = new LineQueue();
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (l) => queue.push(l));
  rl.on('close', () => queue.close());
  const write = async (text: string) => {
    if (!process.stdout.write(text)) await new Promise<void>((r) => process.stdout.once('drain', r));
  };
  try {
    const r = await runPipe(model, queue, write, { fetch: fetchOptions(a), fetchConcurrency: fetchConcurrency(a) });
    io.note(`answered ${r.lines} input line${r.lines === 1 ? '' : 's'}, ${r.failed} failed`);
    return 0;
  } finally {
    rl.close();
    await model.close();
  }
}
