/**
 * Turns a --model value into a local model folder: an existing folder is used as it is; a catalog name
 * (`clip-vit-b32`) or a hub id (`org/name[@revision]`) is looked up in the cache and pulled when missing, unless
 * offline (ZS_OFFLINE / HF_HUB_OFFLINE), where the error says what is missing. No spec means the catalog's default.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ZsError, usageError } from '../errors.js';
import { oneOf } from '../validate.js';
import { isOffline, zsHome } from '../util/home.js';
import { DTYPES, type Dtype } from './folder.js';
import { closeMatches, entryForRepo, findEntry, loadCatalog, neededFiles } from './catalog.js';
import { looksLikeHubId, parseHubId } from './hub.js';
import { missingFiles, revisionDir } from './cache.js';
import type { PullProgress, RemoteRef } from './pull.js';

export interface ResolveOptions {
  dtype?: Dtype;
  cacheDir?: string;
  /** Environment to read ZS_HOME, ZS_OFFLINE, HF_ENDPOINT, HF_TOKEN, ZS_CATALOG from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Never touch the network (default: from ZS_OFFLINE / HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Download progress, when a pull is needed. */
  onProgress?: (p: PullProgress) => void;
}

export type ModelSpec = { kind: 'local'; dir: string; id: string } | { kind: 'remote'; ref: RemoteRef };

function looksLikePath(spec: string): boolean {
  return /^[.~/\\]/.test(spec) || /^[A-Za-z]:[\\/]/.test(spec) || spec.includes('\\') || spec.split('/').length > 2;
}

/** Classifies a --model value without touching disk caches or the network (an existing folder wins). */
export function parseModelSpec(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): ModelSpec {
  const catalog = loadCatalog(env);
  const s = spec === undefined || spec.trim() === '' ? catalog.default : spec.trim();
  if (existsSync(s) && statSync(s).isDirectory()) return { kind: 'local', dir: resolvePath(s), id: s };
  const entry = findEntry(catalog, s);
  if (entry) return { kind: 'remote', ref: { id: entry.name, repo: entry.id, revision: entry.revision, entry } };
  if (looksLikeHubId(s)) {
    const { repo, revision } = parseHubId(s);
    const known = entryForRepo(catalog, repo);
    // a catalog model named by its hub id keeps the catalog's pinned revision and checksums
    if (known && (revision === undefined || revision === known.revision)) {
      return { kind: 'remote', ref: { id: s, repo: known.id, revision: known.revision, entry: known } };
    }
    return { kind: 'remote', ref: { id: s, repo, revision: revision ?? 'main' } };
  }
  if (existsSync(s)) {
    throw usageError('E_MODEL_DIR', `${s} is a file, not a model folder`, 'pass the folder that holds config.json and onnx/, a catalog name or a hub id org/name');
  }
  if (looksLikePath(s)) {
    throw usageError('E_MODEL_DIR', `model folder not found: ${s}`, 'pass an existing model folder, a catalog name (zs models list) or a hub id org/name');
  }
  const near = closeMatches(catalog, s);
  throw usageError(
    'E_MODEL_UNKNOWN',
    `unknown model ${JSON.stringify(s)}${near.length ? `: did you mean ${near.join(', ')}?` : ''}`,
    'zs models list shows the catalog; a hub model is written org/name, a folder as a path',
  );
}

export interface Located {
  spec: ModelSpec;
  /** Folder the model lives in (or would, once pulled). */
  dir: string;
  /** Files the dtype needs that are not there (empty: ready to load). */
  missing: string[];
}

/** Where a model lives and what it lacks for `dtype`, without touching the network. */
export function locateModel(spec: string | undefined, opts: Omit<ResolveOptions, 'onProgress' | 'offline'> = {}): Located {
  const env = opts.env ?? process.env;
  const dtype = oneOf('--dtype', opts.dtype ?? 'fp32', DTYPES);
  const parsed = parseModelSpec(spec, env);
  if (parsed.kind === 'local') return { spec: parsed, dir: parsed.dir, missing: [] };
  const dir = revisionDir(zsHome(opts.cacheDir, env), parsed.ref);
  const files = neededFiles(parsed.ref, dtype, dir);
  return { spec: parsed, dir, missing: files ? missingFiles(dir, files.required) : ['config.json'] };
}

export async function resolveModel(spec: string | undefined, opts: ResolveOptions = {}): Promise<{ dir: string; id: string }> {
  const env = opts.env ?? process.env;
  const loc = locateModel(spec, opts);
  if (loc.spec.kind === 'local') return { dir: loc.dir, id: loc.spec.id };
  const ref = loc.spec.ref;
  if (loc.missing.length === 0) return { dir: loc.dir, id: ref.id };
  if (opts.offline ?? isOffline(env)) {
    const what = loc.missing.includes('config.json') && !ref.entry ? 'config.json (nothing of it is cached)' : loc.missing.join(', ');
    throw new ZsError('E_OFFLINE', `${ref.id} (--dtype ${opts.dtype ?? 'fp32'}) is not in the cache and offline mode forbids downloading it: missing ${what} in ${loc.dir}`, {
      hint: `run \`zs models pull ${ref.id}${opts.dtype && opts.dtype !== 'fp32' ? ` --dtype ${opts.dtype}` : ''}\` with network access, or unset ZS_OFFLINE / HF_HUB_OFFLINE`,
    });
  }
  const { pullModel } = await import('./pull.js'); // HTTP(S) stacks load only when something is downloaded
  const r = await pullModel(ref, { dtype: opts.dtype, cacheDir: opts.cacheDir, env, onProgress: opts.onProgress });
  return { dir: r.dir, id: ref.id };
}
