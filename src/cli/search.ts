/**
 * `zs search "query" [--image FILE] [--top-k N] [--in DIR] [--json]`: the indexed images most similar to a text or
 * an image (src/search/api.ts), exact cosine scores, best first. Text lines "score  path" or, with --json, one JSON
 * array of {path, score}. Exit 2 for a bad query or a model the index does not hold, 1 for a missing index.
 */
import { defineCommand } from './command.js';
import { withModelOptions, type ModelArgs } from './options.js';
import { searchLoad } from './index-cmd.js';
import { usageError } from '../errors.js';
import { int } from '../validate.js';

interface SearchArgs extends ModelArgs { query?: string; image?: string; 'top-k': number; in?: string; json: boolean }

export const searchCommand = defineCommand<SearchArgs>({
  command: 'search [query]',
  describe: 'find indexed images by a text or an example image',
  builder: (y) => withModelOptions(y)
    .positional('query', { type: 'string', describe: 'what to look for, in words' })
    .option('image', { type: 'string', describe: 'search by this example image instead of a text' })
    .option('top-k', { alias: 'k', type: 'number', default: 10, describe: 'how many results' })
    .option('in', { type: 'string', describe: 'only images under this folder' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON array of {path, score}' })
    .example('$0 search "a dog on a beach"', 'the 10 best matches among the indexed images')
    .example('$0 search --image me.jpg --in ~/Pictures/2024 -k 5', 'images like me.jpg from one folder') as never,
  run: async (a, io) => {
    if ((a.query === undefined) === (a.image === undefined)) {
      throw usageError('E_USAGE', 'give a text query or --image FILE (one of them)', 'e.g. zs search "a red car" or zs search --image car.jpg');
    }
    const topK = int('--top-k', a['top-k'], 1, 1_000_000);
    const { search } = await import('../search/api.js');
    const hits = await search(a.image !== undefined ? { image: a.image } : a.query!, { model: a.model, ...searchLoad(a), topK, in: a.in });
    if (a.json) io.out(JSON.stringify(hits));
    else for (const h of hits) io.out(`${h.score.toFixed(4)}  ${h.path}`);
    return 0;
  },
});
