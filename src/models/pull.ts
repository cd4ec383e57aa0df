/**
 * Pulling a model revision into the cache: decide which files the dtype needs (the catalog's list, or the layout of
 * the family named by the repo's config.json), read each missing file's identity with HEAD (so 404/401 stop the pull
 * before any bytes move and the total is known), then download them one by one under the revision's lock.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { ZsError } from '../errors.js';
import { oneOf } from '../validate.js';
import { zsHome } from '../util/home.js';
import { DTYPES, type Dtype } from './folder.js';
import { neededFiles, type CatalogEntry } from './catalog.js';
import { authHeaders, headFile, hubEndpoint, resolveUrl, type FileContext, type RemoteFile } from './hub.js';
import { downloadFile } from './download.js';
import { ensureDir, missingFiles, readManifest, removeEmptyRepoDir, revisionDir, withLock, writeManifest, type Manifest } from './cache.js';

/** A model that lives on the hub: by catalog name (with its entry) or by hub id. */
export interface RemoteRef {
  /** What users see: catalog name or `org/name[@rev]`. */
  id: string;
  repo: string;
  revision: string;
  entry?: CatalogEntry;
}

export interface PullProgress {
  phase: 'check' | 'wait' | 'download' | 'done';
  model: string;
  /** The file being downloaded (phase download). */
  file?: string;
  /** Bytes of this pull on disk so far (resumed bytes included) and the total it fetches. */
  done: number;
  total: number;
}

export interface PullOptions {
  dtype?: Dtype;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (p: PullProgress) => void;
  /** Extra attempts per file after a cut connection (default 4). */
  retries?: number;
  idleTimeoutMs?: number;
}

export interface PulledFile {
  path: string;
  size: number;
  sha256: string;
  /** Bytes that came from an earlier interrupted download. */
  resumedFrom: number;
}

export interface PullResult {
  id: string;
  dir: string;
  dtype: Dtype;
  /** Files fetched by this pull (empty when everything was cached). */
  downloaded: PulledFile[];
  /** Files the dtype needs that were already cached. */
  cached: string[];
}

interface Plan {
  path: string;
  remote: RemoteFile;
  expected: { size?: number; sha256?: string; gitSha1?: string };
}

export async function pullModel(ref: RemoteRef, opts: PullOptions = {}): Promise<PullResult> {
  const dtype = oneOf('--dtype', opts.dtype ?? 'fp32', DTYPES);
  const env = opts.env ?? process.env;
  const home = zsHome(opts.cacheDir, env);
  const dir = revisionDir(home, ref);
  const endpoint = hubEndpoint(env);
  const headers = authHeaders(env);
  const progress = opts.onProgress ?? (() => {});
  const ctx = (path: string): FileContext => ({ model: ref.id, repo: ref.repo, revision: ref.revision, path, endpoint, hasToken: 'authorization' in headers });
  const agent = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const http = { headers, agent, idleTimeoutMs: opts.idleTimeoutMs };
  const dl = { ...http, retries: opts.retries };
  await ensureDir(dir, home);
  try {
    return await withLock(dir, async () => {
      progress({ phase: 'check', model: ref.id, done: 0, total: 0 });
      let commit: string | undefined;
      const manifest: Manifest = (await readManifest(dir)) ?? { schema: 1, repo: ref.repo, revision: ref.revision, files: {}, updated: '' };
      const downloaded: PulledFile[] = [];
      const fetchOne = async (p: Plan, before: number, total: number, report = true) => {
        const dest = join(dir, p.path);
        await fsp.mkdir(dirname(dest), { recursive: true });
        const r = await downloadFile(resolveUrl(endpoint, ref, p.path), dest, p.expected, ctx(p.path), {
          ...dl,
          onBytes: report ? (n) => progress({ phase: 'download', model: ref.id, file: p.path, done: before + n, total }) : undefined,
        });
        manifest.files[p.path] = { size: r.size, sha256: r.sha256 };
        downloaded.push({ path: p.path, size: r.size, sha256: r.sha256, resumedFrom: r.resumedFrom });
        return r.size;
      };
      const plan = async (path: string, optional: boolean): Promise<Plan | undefined> => {
        let remote: RemoteFile;
        try {
          remote = await headFile(resolveUrl(endpoint, ref, path), ctx(path), http);
        } catch (e) {
          const absent = e instanceof ZsError && e.code === 'E_MODEL_NOT_FOUND';
          if (absent && optional) return undefined;
          if (absent && path.startsWith('onnx/') && !ref.entry) {
            throw new ZsError('E_MODEL_FILE', `${ref.id} has no ${path}, which --dtype ${dtype} needs`, {
              hint: `try another --dtype, or export the model with scripts/export-onnx.py (${e.message})`,
            });
          }
          throw e;
        }
        commit ??= remote.commit;
        const pin = ref.entry?.pins[path];
        if (pin?.sha256 && remote.sha256 && pin.sha256 !== remote.sha256) {
          throw new ZsError('E_PIN_MISMATCH', `${path} of ${ref.id} on the hub (sha256 ${remote.sha256}) is not the file the catalog pins (${pin.sha256})`, {
            hint: 'the mirror (HF_ENDPOINT) or the repo changed: use a hub id with @revision to take its files, or fix the catalog pin',
          });
        }
        const size = remote.size ?? (pin?.exact ? pin.bytes : undefined);
        return { path, remote, expected: { size, sha256: pin?.sha256 ?? remote.sha256, gitSha1: remote.gitSha1 } };
      };
      // A hub id outside the catalog: its config.json names the family, which names the files.
      let files = neededFiles(ref, dtype, dir);
      if (!files) {
        const p = (await plan('config.json', false))!;
        await fetchOne(p, 0, 0, false); // small; the bar starts with the real total
        try {
          files = neededFiles(ref, dtype, dir)!;
        } catch (e) {
          await fsp.rm(dir, { recursive: true, force: true });
          throw e;
        }
      }
      const cached = [...files.required, ...files.optional].filter((f) => !missingFiles(dir, [f]).length);
      const plans: Plan[] = [];
      for (const f of missingFiles(dir, files.required)) plans.push((await plan(f, false))!);
      for (const f of missingFiles(dir, files.optional)) {
        const p = await plan(f, true);
        if (p) plans.push(p);
      }
      const total = plans.reduce((s, p) => s + (p.expected.size ?? 0), 0);
      let done = 0;
      for (const p of plans) done += await fetchOne(p, done, total);
      if (downloaded.length > 0) {
        manifest.commit = commit ?? manifest.commit;
        if (ref.entry) manifest.name = ref.entry.name;
        manifest.updated = new Date().toISOString();
        await writeManifest(dir, manifest);
      }
      progress({ phase: 'done', model: ref.id, done, total });
      return { id: ref.id, dir, dtype, downloaded, cached };
    }, () => progress({ phase: 'wait', model: ref.id, done: 0, total: 0 }));
  } finally {
    agent.http.destroy();
    agent.https.destroy();
    await removeIfEmpty(dir);
    await removeEmptyRepoDir(home, ref.repo);
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    if ((await fsp.readdir(dir)).length === 0) await fsp.rmdir(dir);
  } catch {
    /* gone, or holds files */
  }
}
