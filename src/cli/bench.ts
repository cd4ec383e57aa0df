/**
 * `zs bench`: zero-shot against few-shot heads on a labelled folder; writes report.md, results.json, chart.svg.
 * `--model a,b,c` benches several backbones with the same protocol into one report (src/bench/multi.ts).
 */
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
  const specs = (a.model ?? DEFAULT_MODEL).split(',').map((m) => m.trim());
  if (specs.some((m) => m === '')) throw usageError('E_INVALID_ARG', `invalid --model list ${JSON.stringify(a.model)}`, 'separate model names with commas, e.g. --model resnet-50,clip-vit-b32');
  if (specs.length > 1 && a['feature-output'] !== undefined) {
    throw usageError('E_INVALID_ARG', '--feature-output names a tensor of one graph, not of several backbones', 'bench that backbone on its own, or drop --feature-output');
  }
  let bar = await createProgress(io, { label: 'embed', total: 1, unit: 'images' });
  const benchOpts = {
    data: a.data, shots, seeds: a.seeds, seed: a.seed, templates, labelMap, labelMapSource: a['label-map'],
    testSplit, heads: heads as never, zsVersion: await zsVersion(),
    headCache: a.cache ? join(zsHome(a['cache-dir']), 'heads') : undefined,
    onWarning: (m: string) => io.note(m, true),
    onEmbedProgress: (p: { done: number; total: number }) => { bar.update(p.done, p.total); if (p.done === p.total) bar.stop(); },
    onFit: (f: { head: string; shots: unknown; seed: number; top1: number; cached: boolean }) => io.note(`${f.head} ${f.shots} shots seed ${f.seed}: top-1 ${(100 * f.top1).toFixed(1)}%${f.cached ? ' (cached)' : ''}`),
  };
  // the finetune head embeds the same images at the projection's input, from the same backbone
  const preProjection = (spec: string) => (featureOutput: string) => Model.load(spec, { ...loadOptions(a), featureOutput });
  if (specs.length > 1) {
    const { runMultiBench } = await import('../bench/multi.js');
    const { writeMultiBenchReport } = await import('../bench/multi-report.js');
    const results = await runMultiBench(specs, (spec) => Model.load(spec, loadOptions(a)), {
      ...benchOpts,
      optionsFor: (spec) => ({ openPreProjection: preProjection(spec) }),
      onModel: async (spec, i) => {
        bar.stop();
        io.note(`backbone ${i + 1} of ${specs.length}: ${spec}`);
        bar = await createProgress(io, { label: 'embed', total: 1, unit: 'images' });
      },
    });
    bar.stop();
    const files = await writeMultiBenchReport(a.out, results, { force: a.force });
    if (a.json) io.out(JSON.stringify(results));
    else {
      io.out(results.headline);
      for (const f of files) io.out(`wrote ${f}`);
    }
    return results.backbones.some((b) => b.notes.some((n) => /could not be read/.test(n))) ? 1 : 0;
  }
  const model = await Model.load(specs[0]!, loadOptions(a));
  try {
    const results = await runBench(model, { ...benchOpts, openPreProjection: preProjection(specs[0]!) });
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
      .option('heads', { type: 'string', describe: 'few-shot heads, comma-separated (default: every head the model can run): linear, anchored (probe pulled toward zero-shot), wise (zero-shot/probe mix), tip (Tip-Adapter), gda (Gaussian discriminant + zero-shot), finetune (visual projection + class head trained; CLIP-style); a backbone without a text tower runs the heads that need no text' })
      .option('out', { alias: 'o', type: 'string', default: 'zs-bench', describe: 'report folder (report.md, results.json, chart.svg)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace the report files in an existing --out' })
      .option('json', { type: 'boolean', default: false, describe: 'print results.json to stdout' }) as never,
  run,
});
