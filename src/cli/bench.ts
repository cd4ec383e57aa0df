/** `zs bench`: zero-shot against few-shot heads on a labelled folder; writes report.md, results.json, chart.svg. */
import { defineCommand } from './command.js';
import { withModelOptions, loadOptions, DEFAULT_MODEL, type ModelArgs } from './options.js';
import type { Io } from './io.js';
import { createProgress } from './progress.js';
import { asList } from './classify.js';
import { usageError } from '../errors.js';
import { number } from '../validate.js';
import { join } from 'node:path';
import { zsHome } from '../util/home.js';
import type { Shots } from '../bench/results.js';

interface BenchArgs extends ModelArgs {
  data: string;
  shots: string;
  seeds: number;
  seed: number;
  template?: string | string[];
  templates: string;
  'label-map'?: string;
  'test-split': number;
  heads?: string;
  out: string;
  force: boolean;
  json: boolean;
}

export function parseShots(text: string): Shots[] {
  return text.split(',').map((t) => t.trim()).map((t) => {
    if (t === 'all') return 'all';
    const n = Number(t);
    if (t === '' || !Number.isInteger(n) || n < 1) throw usageError('E_INVALID_ARG', `invalid --shots entry ${JSON.stringify(t)}`, 'give positive integers and/or all, e.g. --shots 1,2,4,8,16,all');
    return n;
  });
}

async function run(a: BenchArgs, io: Io): Promise<number> {
  const shots = parseShots(a.shots);
  const testSplit = number('--test-split', a['test-split'], 0, 1, true);
  const heads = a.heads?.split(',').map((h) => h.trim());
  const { checkOutDir, writeBenchReport } = await import('../bench/report.js');
  await checkOutDir(a.out, a.force); // before the long run: a taken --out costs nothing
  const { resolveTemplates } = await import('../text/index.js');
  const templates = await resolveTemplates({ template: asList(a.template), templates: a.template ? undefined : a.templates });
  const { readLabelMap } = await import('../data/labelmap.js');
  const labelMap = a['label-map'] ? await readLabelMap(a['label-map']) : undefined;
  const { Model } = await import('../embed/model.js');
  const { runBench } = await import('../bench/run.js');
  const { zsVersion } = await import('../version.js');
  const model = await Model.load(a.model ?? DEFAULT_MODEL, loadOptions(a));
  try {
    const bar = await createProgress(io, { label: 'embed', total: 1, unit: 'images' });
    const results = await runBench(model, {
      data: a.data, shots, seeds: a.seeds, seed: a.seed, templates, labelMap, labelMapSource: a['label-map'],
      testSplit, heads: heads as never, zsVersion: await zsVersion(),
      headCache: a.cache ? join(zsHome(a['cache-dir']), 'heads') : undefined,
      openPreProjection: (featureOutput) => Model.load(a.model ?? DEFAULT_MODEL, { ...loadOptions(a), featureOutput }),
      onWarning: (m) => io.note(m, true),
      onEmbedProgress: (p) => { bar.update(p.done, p.total); if (p.done === p.total) bar.stop(); },
      onFit: (f) => io.note(`${f.head} ${f.shots} shots seed ${f.seed}: top-1 ${(100 * f.top1).toFixed(1)}%${f.cached ? ' (cached)' : ''}`),
    });
    bar.stop();
    const files = await writeBenchReport(a.out, results, { force: a.force });
    if (a.json) io.out(JSON.stringify(results));
    else {
      io.out(results.headline);
      for (const f of files) io.out(`wrote ${f}`);
    }
    return results.notes.length && results.notes.some((n) => /could not be read/.test(n)) ? 1 : 0;
  } finally {
    await model.close();
  }
}

export const benchCommand = defineCommand<BenchArgs>({
  command: 'bench <data>',
  describe: 'zero-shot versus few-shot probes (1, 2, 4, 8, 16 shots per class) on a labelled folder',
  builder: (y) =>
    withModelOptions(y)
      .positional('data', { type: 'string', demandOption: true, describe: 'folder per class, with train/ and test/ or split by --test-split' })
      .option('shots', { type: 'string', default: '1,2,4,8,16', describe: 'shots per class, comma-separated; "all" for every training image' })
      .option('seeds', { type: 'number', default: 3, describe: 'seeds per shot count (sampling repeats)' })
      .option('seed', { type: 'number', default: 0, describe: 'first seed' })
      .option('template', { alias: 't', type: 'string', describe: 'ensemble template(s) with {} (repeatable)' })
      .option('templates', { type: 'string', default: 'imagenet', describe: 'ensemble template set or file (default: CLIP\'s 80 ImageNet templates)' })
      .option('label-map', { type: 'string', describe: 'JSON file mapping folder names to prompt words, e.g. {"t_shirt": "t-shirt"}' })
      .option('test-split', { type: 'number', default: 0.2, describe: 'test fraction when the folder has no train/ and test/' })
      .option('heads', { type: 'string', describe: 'few-shot heads, comma-separated (default: every head the model can run): linear, anchored (probe pulled toward zero-shot), wise (zero-shot/probe mix), tip (Tip-Adapter), gda (Gaussian discriminant + zero-shot), finetune (visual projection + class head trained; CLIP-style)' })
      .option('out', { alias: 'o', type: 'string', default: 'zs-bench', describe: 'report folder (report.md, results.json, chart.svg)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace the report files in an existing --out' })
      .option('json', { type: 'boolean', default: false, describe: 'print results.json to stdout' }) as never,
  run,
});
