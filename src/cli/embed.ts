/**
 * `zs embed`: L2-normalized embeddings of images (files, folders walked recursively, globs) and texts, streamed in
 * input order as they are computed, so memory stays flat however many images there are.
 *   --out x.jsonl (or stdout)   JSON lines {"path"|"text", "label"?, "embedding": [...]}
 *   --out x.npy                 float32 [n, d] array + x.json index (paths, labels, texts, model, fingerprint, dims)
 *   --labels-from-dirs          label = the image's parent folder name
 * Images go through the embedding engine (worker-thread decoding overlapping inference) and the embedding cache
 * (--no-cache bypasses it). Unreadable images are reported and skipped; the run finishes, says how many failed and
 * exits 1. A progress bar (count, rate, ETA) is drawn on a TTY.
 */
import { basename, dirname, resolve } from 'node:path';
import { defineCommand } from './command.js';
import { withModelOptions, loadOptions, DEFAULT_MODEL, type ModelArgs } from './options.js';
import { readLinesFile, type Io } from './io.js';
import { createProgress } from './progress.js';
import { usageError } from '../errors.js';
import { asList } from './classify.js';
import { runShard, runStdin, DEFAULT_FETCH_CONCURRENCY, WORKER_ONLY_FLAGS, type WorkerArgs } from './embed-worker.js';
import { LAYOUTS, DEFAULT_FETCH } from '../embed/worker-config.js';

interface EmbedArgs extends ModelArgs, WorkerArgs {
  inputs: string[];
  text?: string | string[];
  'text-file'?: string;
  out?: string;
  'labels-from-dirs': boolean;
}

function readTexts(texts: string[] | undefined, file: string | undefined): string[] {
  const out = [...(texts ?? [])];
  if (file) out.push(...readLinesFile('--text-file', file, 'text', false));
  return out;
}

/** The class of an image under --labels-from-dirs: its parent folder's name. */
export function labelFromDir(path: string): string {
  return basename(dirname(resolve(path)));
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

async function run(a: EmbedArgs, io: Io): Promise<number> {
  if (a['stdin-jsonl']) return runStdin(a, io);
  if (a.manifest !== undefined) return runShard(a, io);
  for (const flag of ['shard-index', 'shard-count', 'layout', ...WORKER_ONLY_FLAGS] as const) {
    if (a[flag] !== undefined) throw usageError('E_USAGE', `--${flag} needs --manifest`, 'pass --manifest FILE with the inputs to shard');
  }
  const texts = readTexts(asList(a.text), a['text-file']);
  if (a.inputs.length === 0 && texts.length === 0) {
    throw usageError('E_NO_INPUT', 'nothing to embed', 'pass image files or folders, --text T or --text-file F');
  }
  if (a['labels-from-dirs'] && a.inputs.length === 0) {
    throw usageError('E_USAGE', '--labels-from-dirs needs images', 'pass image folders (one subfolder per class)');
  }
  const { findImages } = await import('../data/images.js');
  const paths = a.inputs.length ? await findImages(a.inputs, { onWarning: (m) => io.note(m) }) : [];
  const { Model } = await import('../embed/model.js');
  const { openSink } = await import('../embed/engine-output.js');
  // lazy: a run the cache answers never loads the vision graph
  const model = await Model.load(a.model ?? DEFAULT_MODEL, { ...loadOptions(a), lazy: true });
  const started = Date.now();
  let failed = 0;
  try {
    for (const s of model.info.skipped) io.note(`--device auto: skipped ${s.device} (${s.reason})`);
    const sink = await openSink(a.out, { model: model.info.id, fingerprint: () => model.fingerprint() });
    try {
      if (paths.length) {
        const bar = await createProgress(io, { label: 'embed', total: paths.length, unit: 'images' });
        const failures: string[] = [];
        const it = model.embedImageChunks(paths, { onProgress: (p) => bar.update(p.done) });
        let r = await it.next();
        for (; !r.done; r = await it.next()) {
          const { indices, embeddings, failures: bad } = r.value;
          const meta = indices.map((i) => ({ path: paths[i]!, ...(a['labels-from-dirs'] ? { label: labelFromDir(paths[i]!) } : {}) }));
          await sink.write(meta, embeddings.data, embeddings.dims[1]);
          for (const f of bad) {
            if (io.progress) failures.push(f.error.toLine()); // printed after the bar
            else io.note(f.error.toLine(), true);
          }
        }
        bar.stop();
        for (const line of failures) io.note(line, true);
        const s = r.value;
        failed = s.failed;
        const secs = Math.max(1e-3, (Date.now() - started) / 1000);
        io.note(`embedded ${s.total - s.failed} of ${plural(s.total, 'image')} in ${secs.toFixed(1)} s `
          + `(${(s.total / secs).toFixed(1)} images/s; ${s.cached} from the cache, ${s.computed} computed)`);
      }
      if (texts.length) {
        const t = await model.embedTexts(texts);
        await sink.write(texts.map((text) => ({ text })), t.data, t.dims[1]);
      }
      const rows = await sink.close();
      if (a.out !== undefined && a.out !== '-') io.note(`wrote ${plural(rows, 'embedding')} to ${a.out}`);
    } catch (e) {
      await sink.abort();
      throw e;
    }
  } finally {
    await model.close();
  }
  if (failed) {
    io.note(`${failed} of ${paths.length} images failed`, true);
    return 1;
  }
  return 0;
}

export const embedCommand = defineCommand<EmbedArgs>({
  command: 'embed [inputs..]',
  describe: 'embeddings of images and texts (JSON lines, or .npy + index)',
  builder: (y) =>
    withModelOptions(y)
      .positional('inputs', { type: 'string', array: true, default: [], describe: 'image files, folders (recursive) or quoted globs' })
      .option('text', { type: 'string', describe: 'a text to embed (repeatable)' })
      .option('text-file', { type: 'string', describe: 'file with one text per line' })
      .option('out', { alias: 'o', type: 'string', describe: 'write JSONL here (default: stdout); a name ending in .npy writes a float32 array and a .json index' })
      .option('labels-from-dirs', { type: 'boolean', default: false, describe: 'add a "label": the name of each image\'s parent folder' })
      .option('manifest', { type: 'string', describe: 'JSONL, CSV or Parquet file of inputs (key, path or url per row): embed one shard of it into --out DIR' })
      .option('shard-index', { type: 'number', describe: 'which shard (rows r with r mod count = index; default $JOB_COMPLETION_INDEX)' })
      .option('shard-count', { type: 'number', describe: 'how many shards the manifest is split into (default 1)' })
      .option('layout', { type: 'string', choices: LAYOUTS, describe: 'shard files: part-IIIII.parquet (default), or clip-retrieval\'s img_emb/img_emb_I.npy + metadata/metadata_I.parquet' })
      .option('stdin-jsonl', { type: 'boolean', default: false, describe: 'read one JSON input per stdin line, answer one JSON line each on stdout, in order' })
      .option('fetch-concurrency', { type: 'number', describe: `image URLs fetched at once (default ${DEFAULT_FETCH_CONCURRENCY})` })
      .option('fetch-retries', { type: 'number', describe: `retries of a failed URL fetch, exponential backoff from 0.5 s (default ${DEFAULT_FETCH.retries})` })
      .option('max-download', { type: 'number', describe: `largest image fetched from a URL, in bytes (default ${DEFAULT_FETCH.maxBytes})` })
      .example('$0 embed photos/ --out photos.jsonl', 'every image below photos/, one JSON line each')
      .example('$0 embed data/ --labels-from-dirs --out feats.npy', 'feats.npy [n, d] + feats.json (paths, labels)')
      .example('$0 embed --text "a photo of a cat"', 'a text embedding')
      .example('$0 embed --manifest m.jsonl --shard-index 3 --shard-count 16 --out emb/', 'shard 3 of 16: emb/part-00003.parquet + .done.json')
      .example('$0 embed --stdin-jsonl < inputs.jsonl', 'one {"key", "ok", "embedding" (base64 float32)} line per input') as never,
  run,
});
