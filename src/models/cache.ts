/**
 * The model cache on disk: `<ZS_HOME>/models/<org>--<name>/<revision>/` holds one revision in the transformers.js
 * layout plus `.zs-model.json` (what was pulled, from where, each file's size and sha256). A pull holds
 * `<revision>.lock` (proper-lockfile: a lock folder kept fresh while the pull runs, taken over when stale), so two
 * processes pulling the same model take turns and the second finds the files in place.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ZsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { HubRef } from './hub.js';

export const MANIFEST = '.zs-model.json';

export interface ManifestFile {
  size: number;
  sha256: string;
}

export interface Manifest {
  schema: 1;
  repo: string;
  revision: string;
  /** Commit the revision resolved to when last pulled (X-Repo-Commit). */
  commit?: string;
  /** Catalog name, when pulled by one. */
  name?: string;
  files: Record<string, ManifestFile>;
  updated: string;
}

export const modelsRoot = (home: string): string => join(home, 'models');

export const repoDir = (home: string, repo: string): string => join(modelsRoot(home), repo.replace('/', '--'));

export const revisionDir = (home: string, ref: HubRef): string => join(repoDir(home, ref.repo), encodeURIComponent(ref.revision));

/** Files of `files` that are not in `dir`. */
export function missingFiles(dir: string, files: readonly string[]): string[] {
  return files.filter((f) => !existsSync(join(dir, f)));
}

export async function readManifest(dir: string): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
    return m && typeof m === 'object' && m.files ? m : undefined;
  } catch {
    return undefined;
  }
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 2) + '\n');
}

/** Creates `dir` (and parents); an unusable cache folder is one clear error. */
export async function ensureDir(dir: string, home: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.access(dir, 2 /* W_OK */);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ZsError('E_CACHE_DIR', `cannot use the model cache ${home}: ${code} creating ${dir}`, {
      kind: 'usage',
      hint: 'point --cache-dir or ZS_HOME at a writable folder',
    });
  }
}

/**
 * Runs `fn` while holding the pull lock of a model revision. When another process holds it, `onWait` is called once
 * and the lock is awaited (a lock whose holder died goes stale after 30 s and is taken over).
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  const lockfile = await import('proper-lockfile');
  let compromised: Error | undefined;
  const base = {
    lockfilePath: `${dir}.lock`,
    realpath: false,
    stale: 30_000,
    update: 5_000,
    onCompromised: (err: Error) => { compromised = err; },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, base);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    onWait?.();
    release = await lockfile.lock(dir, { ...base, retries: { retries: 1_000_000, factor: 1, minTimeout: 100, maxTimeout: 250 } });
  }
  try {
    const out = await fn();
    if (compromised) {
      throw new ZsError('E_LOCK', `lost the lock on ${dir} while pulling (${compromised.message})`, { hint: 'another process took it over: run the command again' });
    }
    return out;
  } finally {
    await release().catch(() => undefined);
  }
}

export interface CachedRevision {
  repo: string;
  revision: string;
  dir: string;
  manifest?: Manifest;
  /** Bytes on disk (all files, partial downloads included). */
  bytes: number;
  /** Bytes of `.incomplete` partial downloads. */
  partialBytes: number;
}

async function folderBytes(dir: string): Promise<{ bytes: number; partialBytes: number }> {
  let bytes = 0;
  let partialBytes = 0;
  for (const ent of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile()) continue;
    const size = (await fsp.stat(join(ent.parentPath ?? ent.path, ent.name))).size;
    bytes += size;
    if (ent.name.endsWith('.incomplete')) partialBytes += size;
  }
  return { bytes, partialBytes };
}

/** Every cached model revision under `home`. */
export async function listCached(home: string): Promise<CachedRevision[]> {
  const root = modelsRoot(home);
  if (!existsSync(root)) return [];
  const out: CachedRevision[] = [];
  for (const repo of (await fsp.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const sep = repo.name.indexOf('--');
    if (sep <= 0) continue;
    const repoId = `${repo.name.slice(0, sep)}/${repo.name.slice(sep + 2)}`;
    for (const rev of await fsp.readdir(join(root, repo.name), { withFileTypes: true })) {
      if (!rev.isDirectory() || rev.name.endsWith('.lock')) continue;
      const dir = join(root, repo.name, rev.name);
      out.push({ repo: repoId, revision: decodeURIComponent(rev.name), dir, manifest: await readManifest(dir), ...(await folderBytes(dir)) });
    }
  }
  return out.sort((a, b) => a.repo.localeCompare(b.repo) || a.revision.localeCompare(b.revision));
}

/** Removes one cached revision (under its lock, so a running pull is not cut from under). Returns bytes freed. */
export async function removeRevision(dir: string): Promise<number> {
  return withLock(dir, async () => {
    const { bytes } = await folderBytes(dir);
    await fsp.rm(dir, { recursive: true, force: true });
    return bytes;
  });
}

export async function removeEmptyRepoDir(home: string, repo: string): Promise<void> {
  const dir = repoDir(home, repo);
  try {
    if ((await fsp.readdir(dir)).length === 0) await fsp.rmdir(dir);
  } catch {
    /* gone or not empty */
  }
}
