/**
 * The model catalog: known models in the transformers.js ONNX layout, as data (onnx-models/catalog.json), with
 * their hub id, pinned revision, the files each dtype needs and, where known, each file's size and sha256.
 * ZS_CATALOG names an extra catalog file (same format) whose entries are added, replacing built-ins of the same name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZsError } from '../errors.js';
import { DTYPES, DTYPE_SUFFIX, type Dtype } from './folder.js';
import { familyOf, supportedModelTypes, type Family, type ModelKind } from './families.js';
import { editDistance } from '../util/edit-distance.js';

export interface CatalogPin {
  /** Size in bytes: exact when `exact`, else as the hub lists it (rounded), for display. */
  bytes: number;
  exact: boolean;
  /** sha256 of the content (the hub's LFS oid), or null where not pinned (then the hub's own oid is checked). */
  sha256: string | null;
}

export interface CatalogEntry {
  /** Short name users type: `clip-vit-b32`. */
  name: string;
  /** Hub repo id: `Xenova/clip-vit-base-patch32`. */
  id: string;
  /** Commit hash (pinned) or branch name. */
  revision: string;
  /** The checkpoint the ONNX files were exported from. */
  source: string;
  task: ModelKind;
  /** Family name as in families.ts, and the config.json model_type. */
  family: string;
  modelType: string;
  /** config.json architectures[0], where it picks the family (image classifiers: *ForImageClassification). */
  architecture?: string;
  /** Image embedding dimension. */
  dim: number;
  imageSize: number;
  license: string;
  description: string;
  files: {
    /** Files every dtype needs (config, preprocessor, tokenizer). */
    common: string[];
    /** Files fetched when present (404 is fine). */
    optional: string[];
  } & Partial<Record<Dtype, string[]>>;
  pins: Record<string, CatalogPin>;
}

export interface Catalog {
  default: string;
  models: CatalogEntry[];
  /** Files the catalog was read from. */
  sources: string[];
}

export const BUILTIN_CATALOG = fileURLToPath(new URL('../../onnx-models/catalog.json', import.meta.url));

function bad(file: string, what: string): ZsError {
  return new ZsError('E_CATALOG', `invalid model catalog ${file}: ${what}`, { hint: 'fix the file (format: onnx-models/README.md) or unset ZS_CATALOG' });
}

function checkEntry(e: unknown, file: string, i: number): CatalogEntry {
  const o = e as Record<string, unknown>;
  const where = `model ${i + 1}${typeof o?.name === 'string' ? ` (${o.name})` : ''}`;
  if (typeof o !== 'object' || o === null) throw bad(file, `${where} is not an object`);
  for (const k of ['name', 'id', 'revision', 'task', 'family', 'modelType', 'license'] as const) {
    if (typeof o[k] !== 'string' || o[k] === '') throw bad(file, `${where} lacks "${k}"`);
  }
  if (!['clip', 'image-encoder', 'image-classifier'].includes(o.task as string)) throw bad(file, `${where}: task must be clip, image-encoder or image-classifier`);
  if (typeof o.dim !== 'number' || typeof o.imageSize !== 'number') throw bad(file, `${where} lacks dim or imageSize`);
  const files = o.files as Record<string, unknown> | undefined;
  const list = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (!files || !list(files.common) || !list(files.optional ?? [])) throw bad(file, `${where}: files.common must list files`);
  if (!DTYPES.some((d) => list(files[d]))) throw bad(file, `${where}: files needs at least one of ${DTYPES.join(', ')}`);
  const pins = (o.pins ?? {}) as Record<string, CatalogPin>;
  for (const [path, p] of Object.entries(pins)) {
    if (typeof p?.bytes !== 'number' || (p.sha256 !== null && !/^[0-9a-f]{64}$/.test(String(p.sha256)))) {
      throw bad(file, `${where}: pin for ${path} needs bytes and a 64-hex sha256 or null`);
    }
  }
  return { description: '', source: '', ...o, files: { optional: [], ...files }, pins } as unknown as CatalogEntry;
}

function readCatalogFile(file: string): { default?: string; models: CatalogEntry[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad(file, (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  const o = raw as { default?: unknown; models?: unknown };
  if (!o || !Array.isArray(o.models)) throw bad(file, 'expected {"models": [...]}');
  return { default: typeof o.default === 'string' ? o.default : undefined, models: o.models.map((m, i) => checkEntry(m, file, i)) };
}

/** Reads the built-in catalog plus ZS_CATALOG (if set). Read on each call: no hidden state. */
export function loadCatalog(env: NodeJS.ProcessEnv = process.env): Catalog {
  const base = readCatalogFile(BUILTIN_CATALOG);
  const sources = [BUILTIN_CATALOG];
  let models = base.models;
  let def = base.default ?? models[0]!.name;
  const extraFile = env.ZS_CATALOG?.trim();
  if (extraFile) {
    const extra = readCatalogFile(extraFile);
    const names = new Set(extra.models.map((m) => m.name));
    models = [...models.filter((m) => !names.has(m.name)), ...extra.models];
    if (extra.default) def = extra.default;
    sources.push(extraFile);
  }
  return { default: def, models, sources };
}

export function findEntry(catalog: Catalog, name: string): CatalogEntry | undefined {
  return catalog.models.find((m) => m.name === name);
}

/** The catalog entry for a hub repo id (first match), so `Xenova/clip-vit-base-patch32` gets the catalog's pins. */
export function entryForRepo(catalog: Catalog, repo: string): CatalogEntry | undefined {
  return catalog.models.find((m) => m.id.toLowerCase() === repo.toLowerCase());
}

/** Catalog names close to `name` (edit distance or substring), best first. */
export function closeMatches(catalog: Catalog, name: string, max = 3): string[] {
  const q = name.toLowerCase();
  return catalog.models
    .map((m) => {
      const n = m.name.toLowerCase();
      const d = n.includes(q) || q.includes(n) ? 0.5 : Math.min(editDistance(q, n), editDistance(q, m.id.toLowerCase().split('/')[1]!));
      return { name: m.name, d };
    })
    .filter((x) => x.d <= Math.max(2, Math.floor(q.length / 3)))
    .sort((a, b) => a.d - b.d)
    .slice(0, max)
    .map((x) => x.name);
}

export interface FileSet {
  required: string[];
  optional: string[];
}

/**
 * The files a model of `family` needs for `dtype`, derived from the layout: config and preprocessor, the tokenizer
 * for text-image models, the dtype's vision (and text) graph and the q8 combined graph (read only for the logit scale).
 */
export function layoutFiles(family: Family, dtype: Dtype): FileSet {
  const g = (base: string, d: Dtype) => `onnx/${base}${DTYPE_SUFFIX[d]}.onnx`;
  const required = ['config.json', 'preprocessor_config.json'];
  const optional: string[] = [];
  if (family.text) {
    required.push('tokenizer.json');
    optional.push('tokenizer_config.json', 'special_tokens_map.json');
  }
  required.push(g(family.graphs.vision, dtype));
  if (family.graphs.text) required.push(g(family.graphs.text, dtype));
  if (family.graphs.combined) required.push(g(family.graphs.combined, 'q8'));
  return { required, optional };
}

/** The files of a catalog entry for `dtype`; an error names the dtypes it has. */
export function entryFiles(entry: CatalogEntry, dtype: Dtype): FileSet {
  const graphs = entry.files[dtype];
  if (!graphs) {
    const has = DTYPES.filter((d) => entry.files[d]);
    throw new ZsError('E_DTYPE', `${entry.name} has no --dtype ${dtype} files`, { kind: 'usage', hint: `use --dtype ${has.join(' or ')}` });
  }
  return { required: [...entry.files.common, ...graphs], optional: entry.files.optional };
}

/** Approximate download size of an entry's files for `dtype` (bytes), from the pins. */
export function entryBytes(entry: CatalogEntry, dtype: Dtype): number | undefined {
  const graphs = entry.files[dtype];
  if (!graphs) return undefined;
  let sum = 0;
  for (const f of [...entry.files.common, ...graphs]) sum += entry.pins[f]?.bytes ?? 0;
  return sum;
}

/** The files `ref` needs for `dtype`, from the catalog, or from the cached config.json's family (undefined if absent). */
export function neededFiles(ref: { id: string; entry?: CatalogEntry }, dtype: Dtype, dir: string): FileSet | undefined {
  if (ref.entry) return entryFiles(ref.entry, dtype);
  let config: { model_type?: unknown; architectures?: unknown };
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown; architectures?: unknown };
  } catch {
    return undefined;
  }
  const family = familyOf(config);
  if (!family) {
    throw new ZsError('E_MODEL_KIND', `${ref.id} is a ${JSON.stringify(config.model_type)} model, which zs cannot run`, {
      hint: `zs runs these model types: ${supportedModelTypes().join(', ')}`,
    });
  }
  return layoutFiles(family, dtype);
}
