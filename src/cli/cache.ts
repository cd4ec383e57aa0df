/**
 * `zs cache info|clear`: look at or empty the persistent embedding cache (src/embed/cache.ts).
 *   zs cache info  [--json] [--cache-dir D]            size on disk, remembered files, entries per model
 *   zs cache clear [--model NAME|FP-PREFIX] [--json] [--cache-dir D]   drop one model's entries, or everything
 * A missing cache is not an error (nothing to show or clear) and is never created by these commands.
 * Exit codes: 0 done; 1 the cache file is unusable (foreign, newer schema, damaged, disk); 2 bad flags or --model
 * that matches no cached model.
 */
import { existsSync } from 'node:fs';
import { defineCommand } from './command.js';
import { table } from './io.js';
import { usageError } from '../errors.js';

interface CacheArgs {
  action: 'info' | 'clear';
  json: boolean;
  model?: string;
  'cache-dir'?: string;
}

function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export const cacheCommand = defineCommand<CacheArgs>({
  command: 'cache <action>',
  describe: 'show (info) or empty (clear) the embedding cache',
  builder: (y) => y
    .positional('action', { choices: ['info', 'clear'] as const, describe: 'info: size and entries per model; clear: remove entries', demandOption: true })
    .option('model', { type: 'string', describe: 'clear only this model (stored name or fingerprint prefix)' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of text' })
    .option('cache-dir', { type: 'string', describe: 'folder holding embeddings.sqlite (default: ZS_HOME or the user cache folder)' })
    .example('$0 cache info', 'where the cache is, its size and entries per model')
    .example('$0 cache clear --model clip-vit-b32', 'drop one model\'s embeddings') as never,
  run: async (args, io) => {
    const { EmbeddingCache, cacheFile } = await import('../embed/cache.js');
    const file = cacheFile(args['cache-dir']);
    if (args.action === 'info' && args.model !== undefined) {
      throw usageError('E_USAGE', '--model only applies to zs cache clear', 'drop --model, or use zs cache clear --model');
    }
    if (!existsSync(file)) {
      if (args.json) {
        io.out(JSON.stringify(args.action === 'info'
          ? { file, exists: false, bytes: 0, files: 0, models: [] }
          : { file, exists: false, removed: 0, models: [] }));
      } else {
        io.out(`no embedding cache at ${file}${args.action === 'clear' ? '; nothing to clear' : ''}`);
      }
      return 0;
    }
    const cache = await EmbeddingCache.open(file);
    try {
      if (args.action === 'clear') {
        const r = cache.clear(args.model);
        if (args.json) {
          io.out(JSON.stringify({ file, exists: true, ...r }));
        } else {
          const which = r.models.map((m) => `${m.name} (${m.fingerprint.slice(0, 12)})`).join(', ');
          io.out(`removed ${r.removed} embedding${r.removed === 1 ? '' : 's'}${which ? ` of ${which}` : ''} from ${file}`);
        }
        return 0;
      }
      const info = cache.info();
      if (args.json) {
        io.out(JSON.stringify({ ...info, exists: true }));
        return 0;
      }
      io.out(`cache  ${info.file}`);
      io.out(`size   ${humanBytes(info.bytes)} (database + WAL), ${info.files} file stamp${info.files === 1 ? '' : 's'} remembered`);
      if (info.models.length === 0) {
        io.out('no embeddings cached');
        return 0;
      }
      const rows = [['model', 'fingerprint', 'dim', 'entries']];
      for (const m of info.models) rows.push([m.name, m.fingerprint.slice(0, 12), String(m.dim), String(m.entries)]);
      io.out(table(rows, ['l', 'l', 'r', 'r']));
      return 0;
    } finally {
      cache.close();
    }
  },
});
