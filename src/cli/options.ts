/** Flags shared by the commands that load a model, defined once so every command spells them alike. */
import type { Argv } from 'yargs';
import { DTYPES, type Dtype } from '../models/folder.js';
import { DEVICES, type Device } from '../runtime/session.js';
import type { LoadOptions } from '../embed/model.js';
import { int } from '../validate.js';
import { DEFAULT_FAST_DECODE } from '../embed/engine-config.js';

export const DEFAULT_MODEL = 'clip-vit-b32';

export interface ModelArgs {
  /** Undefined only where a command removes the default (probe). */
  model?: string;
  dtype: Dtype;
  device: Device;
  'batch-size'?: number;
  threads?: number;
  'cache-dir'?: string;
  'max-pixels'?: number;
  cache: boolean;
  'fast-decode': boolean;
  'feature-output'?: string;
}

export function withModelOptions<T>(y: Argv<T>): Argv<T & ModelArgs> {
  return y
    .option('model', { alias: 'm', type: 'string', default: DEFAULT_MODEL, describe: 'catalog name, hub id (org/name[@rev]) or model folder' })
    .option('dtype', { type: 'string', choices: DTYPES, default: 'fp32' as Dtype, describe: 'graph precision to load' })
    .option('device', { type: 'string', choices: DEVICES, default: 'cpu' as Device, describe: 'execution provider (auto: cuda, then webgpu, then cpu)' })
    .option('batch-size', { alias: 'b', type: 'number', describe: 'images per inference batch' })
    .option('threads', { type: 'number', describe: 'CPU threads for inference (default: all cores; images are decoded in separate worker threads)' })
    .option('cache-dir', { type: 'string', describe: 'where models and the embedding cache live (default: $ZS_HOME or the user cache folder)' })
    .option('max-pixels', { type: 'number', describe: 'refuse images larger than this many pixels (decompression-bomb guard)' })
    .option('feature-output', {
      type: 'string',
      describe: 'embed with this tensor of the vision graph (image classifiers default to the pooled input of their head)',
    })
    .option('cache', { type: 'boolean', default: true, describe: 'use the embedding cache (--no-cache to bypass)' })
    .option('fast-decode', {
      type: 'boolean', default: DEFAULT_FAST_DECODE,
      describe: 'decode large JPEG/WebP photos at 1/2-1/8 scale before the exact resize (--no-fast-decode: full-size decode, transformers-exact pixels)',
    }) as Argv<T & ModelArgs>;
}

export function loadOptions(a: ModelArgs): LoadOptions {
  return {
    dtype: a.dtype,
    device: a.device,
    batchSize: a['batch-size'] === undefined ? undefined : int('--batch-size', a['batch-size'], 1, 4096),
    threads: a.threads === undefined ? undefined : int('--threads', a.threads, 1, 1024),
    cacheDir: a['cache-dir'],
    maxPixels: a['max-pixels'] === undefined ? undefined : int('--max-pixels', a['max-pixels'], 1),
    cache: a.cache,
    fastDecode: a['fast-decode'],
    featureOutput: a['feature-output'],
  };
}
