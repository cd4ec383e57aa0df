/**
 * `zs models`: the catalog and the model cache. `list` (catalog + what is cached), `pull` (download and verify,
 * resumable), `info` (what a model is and where it lives; never downloads), `rm` (remove from the cache), `path`.
 */
import type { Argv } from 'yargs';
import { defineCommand, type CommandFactory } from './command.js';
import { table, type Io } from './io.js';
import { createProgress, type Progress } from './progress.js';
import { ZsError, usageError } from '../errors.js';
import { DTYPES, type Dtype } from '../models/folder.js';

interface CacheArgs { 'cache-dir'?: string }

const withCache = <T>(y: Argv<T>) =>
  y.option('cache-dir', { type: 'string', describe: 'model cache root (default: $ZS_HOME or the user cache folder)' }) as Argv<T & CacheArgs>;
const withDtype = <T>(y: Argv<T>, dflt?: Dtype) =>
  y.option('dtype', { type: 'string', choices: DTYPES, default: dflt, describe: 'graph precision' }) as Argv<T & { dtype?: Dtype }>;
const withModel = <T>(y: Argv<T>, describe: string) =>
  y.positional('model', { type: 'string', describe }) as Argv<T & { model: string }>;

async function lib() {
  const [catalog, cache, resolve, describe, pull, home] = await Promise.all([
    import('../models/catalog.js'), import('../models/cache.js'), import('../models/resolve.js'),
    import('../models/describe.js'), import('../models/pull.js'), import('../util/home.js'),
  ]);
  return { ...catalog, ...cache, ...resolve, ...describe, ...pull, ...home };
}

const list = defineCommand<CacheArgs & { json: boolean }>({
  command: 'list',
  describe: 'the catalog and the cached models, with sizes',
  builder: (y) => withCache(y).option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  async run(a, io) {
    const m = await lib();
    const cat = m.loadCatalog();
    const home = m.zsHome(a['cache-dir']);
    const cached = await m.listCached(home);
    const rows = cat.models.map((e) => {
      const c = cached.find((r) => r.repo.toLowerCase() === e.id.toLowerCase() && r.revision === e.revision);
      const dtypes = c ? DTYPES.filter((d) => e.files[d] && m.missingFiles(c.dir, m.entryFiles(e, d).required).length === 0) : [];
      return { name: e.name, id: e.id, revision: e.revision, task: e.task as string, dim: e.dim as number | undefined, license: e.license, default: e.name === cat.default, download: m.entryBytes(e, 'fp32'), cached: c ? { dir: c.dir, dtypes, bytes: c.bytes, partialBytes: c.partialBytes } : null };
    });
    for (const c of cached) {
      if (rows.some((r) => r.cached?.dir === c.dir)) continue;
      let d: ReturnType<typeof m.describeFolder> | undefined;
      try { d = m.describeFolder(c.dir); } catch { d = undefined; }
      rows.push({ name: `${c.repo}@${c.revision}`, id: c.repo, revision: c.revision, task: d?.kind ?? '?', dim: d?.dim, license: '', default: false, download: undefined, cached: { dir: c.dir, dtypes: d?.dtypes ?? [], bytes: c.bytes, partialBytes: c.partialBytes } });
    }
    if (a.json) { io.out(JSON.stringify(rows)); return; }
    const size = (b: number | undefined) => (b === undefined ? '' : `~${m.humanBytes(b)}`);
    const cachedText = (r: (typeof rows)[number]) => {
      if (!r.cached) return '-';
      const partial = r.cached.partialBytes ? `, ${m.humanBytes(r.cached.partialBytes)} partial` : '';
      return `${r.cached.dtypes.join(',') || 'incomplete'} (${m.humanBytes(r.cached.bytes)}${partial})`;
    };
    io.out(table([
      ['NAME', 'HUB ID', 'TASK', 'DIM', 'LICENSE', 'FP32 DOWNLOAD', 'CACHED'],
      ...rows.map((r) => [r.name + (r.default ? ' *' : ''), r.id, r.task, r.dim === undefined ? '?' : String(r.dim), r.license, size(r.download), cachedText(r)]),
    ], ['l', 'l', 'l', 'r', 'l', 'r', 'l']));
    io.note(`* default model; cache: ${m.modelsRoot(home)}`);
  },
});

/** A pull's progress as a bytes bar on stderr (TTY only, not with --quiet), plus a note while waiting for another pull. */
export function downloadProgress(io: Io, label: string) {
  let bar: Progress | undefined;
  let pending: Promise<Progress> | undefined;
  return {
    onProgress: (p: import('../models/pull.js').PullProgress) => {
      if (p.phase === 'wait') io.note(`waiting for another zs process that is pulling ${p.model}`);
      if (p.phase !== 'download' || p.total <= 0) return;
      if (!pending) pending = createProgress(io, { label, total: p.total, unit: 'bytes' }).then((b) => (bar = b));
      bar?.update(p.done, p.total);
    },
    async stop() { (bar ?? (pending ? await pending : undefined))?.stop(); },
  };
}

const pull = defineCommand<CacheArgs & { model: string; dtype: Dtype }>({
  command: 'pull <model>',
  describe: 'download a model into the cache (resumes, verifies size and sha256)',
  builder: (y) => withDtype(withCache(withModel(y, 'catalog name or hub id org/name[@revision]')), 'fp32') as never,
  async run(a, io) {
    const m = await lib();
    const loc = m.locateModel(a.model, { dtype: a.dtype, cacheDir: a['cache-dir'] });
    if (loc.spec.kind === 'local') throw usageError('E_PULL_LOCAL', `${a.model} is a local folder: nothing to pull`, 'pull a catalog name or a hub id org/name');
    if (loc.missing.length === 0) {
      io.note(`${loc.spec.ref.id} (--dtype ${a.dtype}) is already cached`);
      io.out(loc.dir);
      return;
    }
    const sink = downloadProgress(io, `pull ${loc.spec.ref.id}`);
    let r: Awaited<ReturnType<typeof m.pullModel>>;
    try {
      // offline: resolveModel throws the error that names what is missing
      if (m.isOffline()) await m.resolveModel(a.model, { dtype: a.dtype, cacheDir: a['cache-dir'] });
      r = await m.pullModel(loc.spec.ref, { dtype: a.dtype, cacheDir: a['cache-dir'], onProgress: sink.onProgress });
    } finally {
      await sink.stop();
    }
    if (r.downloaded.length === 0) {
      io.note(`${r.id} (--dtype ${r.dtype}) is already cached (another process pulled it meanwhile)`);
      io.out(r.dir);
      return;
    }
    const bytes = r.downloaded.reduce((s, f) => s + f.size, 0);
    const resumed = r.downloaded.reduce((s, f) => s + f.resumedFrom, 0);
    io.note(`pulled ${r.id} (--dtype ${r.dtype}): ${r.downloaded.length} file${r.downloaded.length === 1 ? '' : 's'}, ${m.humanBytes(bytes)}${resumed ? ` (${m.humanBytes(resumed)} of it kept from an interrupted download)` : ''}, verified`);
    io.out(r.dir);
  },
});

const info = defineCommand<CacheArgs & { model: string; dtype?: Dtype; json: boolean }>({
  command: 'info <model>',
  describe: 'architecture, embedding size, preprocessing, files and location of a model (never downloads)',
  builder: (y) => withDtype(withCache(withModel(y, 'catalog name, hub id or model folder'))).option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as never,
  async run(a, io) {
    const m = await lib();
    const loc = m.locateModel(a.model, { dtype: a.dtype, cacheDir: a['cache-dir'] });
    const entry = loc.spec.kind === 'remote' ? loc.spec.ref.entry : undefined;
    const present = loc.spec.kind === 'local' || (await import('node:fs')).existsSync(`${loc.dir}/config.json`);
    if (!present && !entry) {
      throw new ZsError('E_NOT_CACHED', `${a.model} is not cached, and zs models info reads a model's own files`, { hint: `run zs models pull ${a.model} first` });
    }
    const d = present ? m.describeFolder(loc.dir) : undefined;
    const manifest = present ? await m.readManifest(loc.dir) : undefined;
    const out = {
      model: loc.spec.kind === 'local' ? loc.spec.id : loc.spec.ref.id,
      repo: loc.spec.kind === 'remote' ? `${loc.spec.ref.repo}@${loc.spec.ref.revision}` : undefined,
      commit: manifest?.commit,
      dir: loc.dir,
      cached: present,
      family: d?.family ?? entry?.family,
      kind: d?.kind ?? entry?.task,
      modelType: d?.modelType ?? entry?.modelType,
      architectures: d?.architectures,
      dim: d?.dim ?? entry?.dim,
      imageSize: entry?.imageSize,
      preprocessing: d?.preprocessing,
      scores: d?.score,
      dtypes: d?.dtypes ?? [],
      license: entry?.license,
      source: entry?.source,
      files: d?.files ?? Object.entries(entry?.pins ?? {}).map(([path, p]) => ({ path, bytes: p.bytes })),
    };
    if (a.json) { io.out(JSON.stringify(out)); return; }
    const line = (k: string, v: unknown) => { if (v !== undefined && v !== '') io.out(`${k.padEnd(14)}${v}`); };
    line('model', out.model + (out.repo ? ` (${out.repo})` : ''));
    line('commit', out.commit);
    line('where', present ? out.dir : `not cached (would live in ${out.dir}; zs models pull ${a.model})`);
    line('family', `${out.family} (model_type ${out.modelType}${out.architectures?.length ? `, ${out.architectures.join(', ')}` : ''}), task ${out.kind}`);
    line('scores', out.scores);
    line('embedding dim', out.dim);
    line('image size', out.imageSize);
    line('preprocessing', out.preprocessing);
    line('dtypes', present ? out.dtypes.join(', ') || 'none complete' : undefined);
    line('license', out.license);
    line('source', out.source);
    io.out('files');
    for (const f of out.files) io.out(`  ${f.path.padEnd(34)} ${(present ? '' : '~') + m.humanBytes(f.bytes)}`);
  },
});

const rm = defineCommand<CacheArgs & { model: string }>({
  command: 'rm <model>',
  describe: 'remove a model from the cache (a hub id without @revision: all its cached revisions)',
  builder: (y) => withCache(withModel(y, 'catalog name or hub id')) as never,
  async run(a, io) {
    const m = await lib();
    const spec = m.parseModelSpec(a.model);
    if (spec.kind === 'local') throw usageError('E_RM_LOCAL', `${a.model} is a folder outside the cache; zs models rm only removes cached models`, 'delete the folder yourself if you mean it');
    const home = m.zsHome(a['cache-dir']);
    const all = !spec.ref.entry && !a.model.includes('@');
    const targets = (await m.listCached(home)).filter((c) => c.repo.toLowerCase() === spec.ref.repo.toLowerCase() && (all || c.revision === spec.ref.revision));
    if (targets.length === 0) throw new ZsError('E_NOT_CACHED', `${a.model} is not cached in ${m.modelsRoot(home)}: nothing to remove`, { hint: 'zs models list shows what is cached' });
    for (const t of targets) {
      const bytes = await m.removeRevision(t.dir);
      io.note(`removed ${t.repo}@${t.revision} (${m.humanBytes(bytes)})`);
      io.out(t.dir);
    }
    await m.removeEmptyRepoDir(home, spec.ref.repo);
  },
});

const path = defineCommand<CacheArgs & { model?: string; dtype?: Dtype }>({
  command: 'path [model]',
  describe: 'the model cache folder, or the folder a model lives (or would live) in',
  builder: (y) => withCache(y).positional('model', { type: 'string', describe: 'catalog name, hub id or folder' }) as never,
  async run(a, io) {
    const m = await lib();
    io.out(a.model === undefined ? m.modelsRoot(m.zsHome(a['cache-dir'])) : m.locateModel(a.model, { cacheDir: a['cache-dir'] }).dir);
  },
});

export const modelsCommand: CommandFactory = (ctx) => ({
  command: 'models <command>',
  describe: 'the model catalog and cache: list, pull, info, rm, path',
  builder: (y) => {
    for (const make of [list, pull, info, rm, path]) y.command(make(ctx));
    return y.demandCommand(1, 'name a models command (see zs models --help)');
  },
  handler: () => {},
});
