/**
 * A model folder in the Hugging Face / transformers.js ONNX layout: config.json, preprocessor_config.json,
 * tokenizer files (text models) and onnx/<graph>[_fp16|_quantized].onnx. Opening one checks that every file the
 * chosen family and dtype need is there, and names the missing one otherwise.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZsError } from '../errors.js';
import { oneOf } from '../validate.js';
import { familyOf, supportedModelTypes, type Family } from './families.js';

export const DTYPES = ['fp32', 'fp16', 'q8'] as const;
export type Dtype = (typeof DTYPES)[number];

/** File-name suffix of each dtype in the transformers.js layout. */
export const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized' };

export interface ModelFolder {
  /** Absolute folder path. */
  dir: string;
  /** Name shown to users and stored in probe files (catalog name, hub id or folder path). */
  id: string;
  family: Family;
  dtype: Dtype;
  config: Record<string, unknown>;
  preprocessor: Record<string, unknown>;
  /** Absolute graph paths for this dtype; `text`/`combined` only for text-image models (combined may be another dtype). */
  graphs: { vision: string; text?: string; combined?: string };
  /** tokenizer.json path for text-image models. */
  tokenizer?: string;
  /** --feature-output: the vision graph tensor to embed with instead of the family's default. */
  featureOutput?: string;
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ZsError('E_MODEL_FILE', `model folder is missing ${what}: ${file}`, {
      hint: 'point --model at a complete model folder (config.json, preprocessor_config.json, onnx/...) or pull it again',
    });
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ZsError('E_MODEL_FILE', `${file} is not valid JSON: ${(e as Error).message}`, {
      hint: 'the file is damaged: download or export the model again',
    });
  }
}

export function graphPath(dir: string, base: string, dtype: Dtype): string {
  return join(dir, 'onnx', `${base}${DTYPE_SUFFIX[dtype]}.onnx`);
}

function requireGraph(dir: string, base: string, dtype: Dtype): string {
  const file = graphPath(dir, base, dtype);
  if (!existsSync(file)) {
    const others = DTYPES.filter((d) => d !== dtype && existsSync(graphPath(dir, base, d)));
    throw new ZsError('E_MODEL_FILE', `model folder is missing onnx/${base}${DTYPE_SUFFIX[dtype]}.onnx (--dtype ${dtype}) in ${dir}`, {
      hint: others.length ? `this folder has --dtype ${others.join(', ')}` : 'download or export the model again',
    });
  }
  return file;
}

export function openModelFolder(dir: string, opts: { dtype?: Dtype; id?: string; featureOutput?: string } = {}): ModelFolder {
  const dtype = oneOf('--dtype', opts.dtype ?? 'fp32', DTYPES);
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new ZsError('E_MODEL_DIR', `model folder not found: ${dir}`, { kind: 'usage', hint: 'pass a model folder, a catalog name (zs models list) or a hub id' });
  }
  if (!existsSync(join(abs, 'config.json'))) {
    throw new ZsError('E_MODEL_DIR', `${dir} is not a model folder: config.json is missing`, {
      hint: 'a model folder holds config.json, preprocessor_config.json and onnx/*.onnx (transformers.js layout)',
    });
  }
  const config = readJson(join(abs, 'config.json'), 'config.json');
  const family = familyOf(config);
  if (!family) {
    throw new ZsError('E_MODEL_KIND', `unsupported model type ${JSON.stringify(config.model_type)} in ${join(abs, 'config.json')}`, {
      hint: `zs runs ${supportedModelTypes().join(', ')}`,
    });
  }
  const preprocessor = readJson(join(abs, 'preprocessor_config.json'), 'preprocessor_config.json');
  const graphs: ModelFolder['graphs'] = { vision: requireGraph(abs, family.graphs.vision, dtype) };
  let tokenizer: string | undefined;
  if (family.graphs.text) graphs.text = requireGraph(abs, family.graphs.text, dtype);
  if (family.graphs.combined) {
    // The combined graph only serves to read the logit scale, which every dtype's graph holds unquantized:
    // take this dtype's, else the smallest present.
    const base = family.graphs.combined;
    const order: Dtype[] = [dtype, 'q8', 'fp16', 'fp32'];
    const found = order.map((d) => graphPath(abs, base, d)).find((f) => existsSync(f));
    if (found) graphs.combined = found;
  }
  if (family.text) {
    tokenizer = join(abs, 'tokenizer.json');
    if (!existsSync(tokenizer)) {
      throw new ZsError('E_MODEL_FILE', `model folder is missing tokenizer.json: ${abs}`, { hint: 'download or export the model again' });
    }
  }
  if (opts.featureOutput !== undefined && opts.featureOutput.trim() === '') {
    throw new ZsError('E_FEATURE_OUTPUT', '--feature-output is empty', { kind: 'usage', hint: 'name a tensor of the vision graph' });
  }
  return { dir: abs, id: opts.id ?? dir, family, dtype, config, preprocessor, graphs, tokenizer, featureOutput: opts.featureOutput };
}
