/**
 * `zs dupes DIR [--threshold T] [--json]`: groups of near-duplicate images under DIR (src/search/api.ts), largest
 * first. DIR is indexed first (incremental: an unchanged folder costs a stat per file). Text: one block per group
 * (each path with its cosine similarity to the group's first path); --json: an array of {paths, scores}.
 */
import { defineCommand } from './command.js';
import { withModelOptions, type ModelArgs } from './options.js';
import { searchLoad } from './index-cmd.js';
import { number } from '../validate.js';

interface DupesArgs extends ModelArgs { dir: string; threshold?: number; json: boolean; wait: number }

export const dupesCommand = defineCommand<DupesArgs>({
  command: 'dupes <dir>',
  describe: 'groups of near-duplicate images in a folder',
  builder: (y) => withModelOptions(y)
    .positional('dir', { type: 'string', describe: 'image folder (recursive; indexed first)' })
    .option('threshold', { alias: 't', type: 'number', describe: 'cosine similarity at or above which two images are duplicates (default: see zs dupes --help)' })
    .option('wait', { type: 'number', default: 30, describe: 'seconds to wait for another zs index run writing the same index' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON array of groups' })
    .example('$0 dupes ~/Pictures', 'near-duplicate groups, largest first') as never,
  run: async (a, io) => {
    const { index } = await import('../search/indexer.js');
    const { findDuplicates, DEFAULT_DUPE_THRESHOLD } = await import('../search/api.js');
    const threshold = a.threshold === undefined ? DEFAULT_DUPE_THRESHOLD : number('--threshold', a.threshold, -1, 1, true);
    const { cacheDir, load } = searchLoad(a);
    const { openModel } = await import('../search/indexer.js');
    const { model } = await openModel(a.model, cacheDir, load);
    try {
      const r = await index([a.dir], { model, cacheDir, waitMs: Math.round(number('--wait', a.wait, 0) * 1000), onFailure: (f) => io.note(f.error.toLine(), true) });
      if (r.added + r.updated + r.removed > 0) io.note(`indexed ${a.dir}: ${r.added} added, ${r.updated} updated, ${r.removed} removed`);
      const groups = await findDuplicates(a.dir, { model, cacheDir, threshold });
      if (a.json) io.out(JSON.stringify(groups));
      else {
        groups.forEach((g, i) => {
          io.out(`group ${i + 1}: ${g.paths.length} images`);
          g.paths.forEach((p, j) => io.out(`  ${g.scores[j]!.toFixed(4)}  ${p}`));
        });
      }
      io.note(`${groups.length} duplicate group${groups.length === 1 ? '' : 's'} at cosine >= ${threshold}`);
      return r.failed > 0 ? 1 : 0;
    } finally {
      await model.close();
    }
  },
});
