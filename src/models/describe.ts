/**
 * What `zs models info` shows about a model folder, read from its own files: family and architecture, embedding
 * dimension, image preprocessing, the dtypes whose graphs are present and every file with its size.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ZsError } from '../errors.js';
import { familyOf, supportedModelTypes, type Family } from './families.js';
import { DTYPES, graphPath, type Dtype } from './folder.js';

export interface ModelDescription {
  dir: string;
  family: string;
  kind: Family['kind'];
  modelType: string;
  architectures: string[];
  /** Image embedding dimension (from config.json). */
  dim: number | undefined;
  /** How images are prepared, in words. */
  preprocessing: string;
  score?: Family['score'];
  /** dtypes whose vision (and text) graphs are all present. */
  dtypes: Dtype[];
  files: { path: string; bytes: number }[];
  bytes: number;
}

type Json = Record<string, unknown>;

function readJson(file: string): Json | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The image embedding dimension, from config.json: the projection width of text-image models, else the vision
 * tower's hidden size (a SigLIP config that leaves the vision tower at its defaults yields undefined).
 */
export function embeddingDim(config: Json): number | undefined {
  const vision = (config.vision_config ?? {}) as Json;
  // CNN classifiers: the pooled feature is the last stage's width (ResNet, ConvNeXt) or EfficientNet's hidden_dim
  const stages = Array.isArray(config.hidden_sizes) ? config.hidden_sizes : [];
  return num(config.projection_dim) ?? num(vision.projection_dim) ?? num(vision.hidden_size) ?? num(config.hidden_size)
    ?? num(stages[stages.length - 1]) ?? num(config.hidden_dim);
}

const RESAMPLE = ['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming'];

function sizeText(s: unknown): string {
  if (typeof s === 'number') return `${s}`;
  const o = (s ?? {}) as Json;
  if (o.shortest_edge !== undefined) return `shortest edge ${o.shortest_edge}`;
  if (o.height !== undefined) return `${o.height}x${o.width}`;
  return JSON.stringify(s);
}

/** preprocessor_config.json in one line. */
export function preprocessingText(p: Json): string {
  const parts: string[] = [];
  if (p.do_resize !== false && p.size !== undefined) {
    const r = typeof p.resample === 'number' ? ` (${RESAMPLE[p.resample] ?? p.resample})` : '';
    parts.push(`resize ${sizeText(p.size)}${r}`);
  }
  if (p.do_center_crop && p.crop_size !== undefined) parts.push(`center crop ${sizeText(p.crop_size)}`);
  if (p.do_rescale !== false && typeof p.rescale_factor === 'number') parts.push(`rescale x${+p.rescale_factor.toPrecision(6)}`);
  if (p.do_normalize !== false && Array.isArray(p.image_mean)) {
    const f = (a: unknown) => `[${(a as number[]).map((x) => +x.toFixed(4)).join(', ')}]`;
    parts.push(`normalize mean ${f(p.image_mean)} std ${f(p.image_std)}`);
  }
  return parts.join(', ') || 'none';
}

export function dtypesIn(dir: string, family: Family): Dtype[] {
  return DTYPES.filter((d) => existsSync(graphPath(dir, family.graphs.vision, d)) && (!family.graphs.text || existsSync(graphPath(dir, family.graphs.text, d))));
}

export function describeFolder(dir: string): ModelDescription {
  const config = readJson(join(dir, 'config.json'));
  if (!config) {
    throw new ZsError('E_MODEL_DIR', `${dir} is not a model folder: no readable config.json`, {
      hint: 'a model folder holds config.json, preprocessor_config.json and onnx/*.onnx (transformers.js layout)',
    });
  }
  const family = familyOf(config);
  if (!family) {
    throw new ZsError('E_MODEL_KIND', `unsupported model type ${JSON.stringify(config.model_type)} in ${join(dir, 'config.json')}`, {
      hint: `zs runs ${supportedModelTypes().join(', ')}`,
    });
  }
  const pre = readJson(join(dir, 'preprocessor_config.json'));
  const files = readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => {
      const abs = join(e.parentPath ?? e.path, e.name);
      return { path: relative(dir, abs).split('\\').join('/'), bytes: statSync(abs).size };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
  return {
    dir,
    family: family.name,
    kind: family.kind,
    modelType: String(config.model_type),
    architectures: Array.isArray(config.architectures) ? config.architectures.map(String) : [],
    dim: embeddingDim(config),
    preprocessing: pre ? preprocessingText(pre) : 'missing preprocessor_config.json',
    score: family.score,
    dtypes: dtypesIn(dir, family),
    files,
    bytes: files.reduce((s, f) => s + f.bytes, 0),
  };
}

/** Bytes as people read them (decimal units, as the hub shows sizes). */
export function humanBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}
