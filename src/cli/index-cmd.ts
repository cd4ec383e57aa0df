/**
 * `zs index DIR...`: brings the search index up to date with image folders (src/search/indexer.ts): new and changed
 * images are embedded (through the embedding cache), deleted ones dropped. Progress bar on a TTY, then one summary
 * line: added / updated / removed / unchanged / failed. Exit 0, or 1 when some images failed (each is reported).
 */
import { defineCommand } from './command.js';
import { withModelOptions, loadOptions, type ModelArgs } from './options.js';
import { createProgress } from './progress.js';
import { number } from '../validate.js';

interface IndexArgs extends ModelArgs { dirs: string[]; wait: number }

/** --model/--cache-dir etc. for the search commands: the model is loaded lazily and always through the cache. */
export function searchLoad(a: ModelArgs) {
  const { cacheDir, cache: _cache, ...load } = loadOptions(a);
  return { cacheDir, load };
}

export const indexCommand = defineCommand<IndexArgs>({
  command: 'index <dirs..>',
  describe: 'index image folders for zs search and zs dupes (incremental)',
  builder: (y) => withModelOptions(y)
    .positional('dirs', { type: 'string', array: true, describe: 'image folders (recursive)' })
    .option('wait', { type: 'number', default: 30, describe: 'seconds to wait for another zs index run writing the same index' })
    .example('$0 index ~/Pictures', 'embed new and changed photos, drop deleted ones') as never,
  run: async (a, io) => {
    const { index } = await import('../search/indexer.js');
    const started = Date.now();
    let bar: ReturnType<typeof createProgress> | undefined;
    const failures: string[] = [];
    const r = await index(a.dirs, {
      model: a.model, ...searchLoad(a), waitMs: Math.round(number('--wait', a.wait, 0) * 1000),
      onProgress: (p) => {
        bar ??= createProgress(io, { label: 'index', total: p.total, unit: 'images' });
        void bar.then((b) => b.update(p.done));
      },
      onFailure: (f) => { if (io.progress) failures.push(f.error.toLine()); else io.note(f.error.toLine(), true); },
    });
    (await bar)?.stop();
    for (const line of failures) io.note(line, true);
    const secs = (Date.now() - started) / 1000;
    io.note(`indexed ${r.total} images for ${r.model} in ${secs.toFixed(1)} s: ${r.added} added, ${r.updated} updated, ${r.removed} removed, `
      + `${r.unchanged} unchanged, ${r.failed} failed (${r.indexed} in the index)`, true);
    return r.failed > 0 ? 1 : 0;
  },
});
