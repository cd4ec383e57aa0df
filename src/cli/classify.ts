/**
 * `zs classify`: zero-shot labels for images, as a table or JSON; with --imagenet, an image classifier's own
 * supervised labels (config.json id2label, softmax over its logits) instead.
 */
import { defineCommand } from './command.js';
import { withModelOptions, loadOptions, DEFAULT_MODEL, type ModelArgs } from './options.js';
import { readLinesFile, type Io } from './io.js';
import { printOutcome } from './format.js';
import { createProgress } from './progress.js';
import { usageError } from '../errors.js';
import { int } from '../validate.js';

interface ClassifyArgs extends ModelArgs {
  inputs: string[];
  labels?: string | string[];
  'labels-file'?: string;
  template?: string | string[];
  templates?: string;
  'top-k'?: number;
  probe?: string;
  json: boolean;
  imagenet: boolean;
}

/** Labels from --labels (comma-separated, repeatable) and --labels-file (one per line). */
export function collectLabels(labels: string[] | undefined, file: string | undefined): string[] {
  const out: string[] = [];
  for (const l of labels ?? []) out.push(...l.split(',').map((s) => s.trim()));
  if (file) out.push(...readLinesFile('--labels-file', file, 'label', true));
  if (out.length === 0) throw usageError('E_NO_LABELS', 'no labels given', 'pass --labels "cat,dog" or --labels-file FILE');
  return out;
}

/** A repeatable flag as a list (yargs gives a string for one use, an array for several). */
export function asList(v: string | string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? v : [v];
}

/** --imagenet: the backbone's own head (default top 5). */
async function runOwnLabels(a: ClassifyArgs, io: Io): Promise<number> {
  if (a.labels !== undefined || a['labels-file'] !== undefined || a.template !== undefined || a.templates !== undefined) {
    throw usageError('E_INVALID_ARG', '--imagenet uses the model\'s own labels: it cannot be combined with --labels, --labels-file, --template or --templates', 'drop one of them');
  }
  const topK = a['top-k'] === undefined ? 5 : int('--top-k', a['top-k'], 1);
  const { findImages } = await import('../data/images.js');
  const paths = await findImages(a.inputs);
  const { Model } = await import('../embed/model.js');
  const { classifyOwnLabels } = await import('../heads/supervised.js');
  const model = await Model.load(a.model ?? DEFAULT_MODEL, { ...loadOptions(a), lazy: true });
  try {
    const bar = await createProgress(io, { label: 'classify', total: paths.length, unit: 'images' });
    const { results, failures } = await classifyOwnLabels(model, paths, { topK, onProgress: (p) => bar.update(p.done) });
    bar.stop();
    return printOutcome(io, results, failures, paths.length, a.json);
  } finally {
    await model.close();
  }
}

async function run(a: ClassifyArgs, io: Io): Promise<number> {
  if (a.imagenet && a.probe !== undefined) throw usageError('E_INVALID_ARG', '--imagenet and --probe each bring their own labels', 'use one of them');
  if (a.imagenet) return runOwnLabels(a, io);
  if (a.probe !== undefined) {
    if (a.labels !== undefined || a['labels-file'] !== undefined || a.template !== undefined || a.templates !== undefined) {
      throw usageError('E_INVALID_ARG', '--probe brings its own labels and head: --labels, --labels-file and templates do not apply', 'drop them, or drop --probe for zero-shot');
    }
    const { predictWithProbe } = await import('./probe.js');
    return predictWithProbe(a.probe, a.inputs, a, io);
  }
  const labels = collectLabels(asList(a.labels), a['labels-file']);
  const { distinctStrings } = await import('../validate.js');
  distinctStrings('--labels', labels);
  const topK = a['top-k'] === undefined ? labels.length : Math.min(labels.length, int('--top-k', a['top-k'], 1));
  const { resolveTemplates } = await import('../text/index.js');
  const templates = await resolveTemplates({ template: asList(a.template), templates: a.templates });
  const { findImages } = await import('../data/images.js');
  const paths = await findImages(a.inputs);
  const { Model } = await import('../embed/model.js');
  const { ZeroShotClassifier } = await import('../heads/zeroshot.js');
  const model = await Model.load(a.model ?? DEFAULT_MODEL, loadOptions(a));
  try {
    for (const s of model.info.skipped) io.note(`--device auto: skipped ${s.device} (${s.reason})`);
    if (a.device === 'auto') io.note(`--device auto: using ${model.info.device}`);
    const zs = await ZeroShotClassifier.create(model, labels, { templates });
    const bar = await createProgress(io, { label: 'classify', total: paths.length, unit: 'images' });
    const { results, failures } = await zs.classify(model, paths, { topK, onProgress: (p) => bar.update(p.done) });
    bar.stop();
    return printOutcome(io, results, failures, paths.length, a.json);
  } finally {
    await model.close();
  }
}

export const classifyCommand = defineCommand<ClassifyArgs>({
  command: 'classify <inputs..>',
  describe: 'zero-shot: the best labels for each image',
  builder: (y) =>
    withModelOptions(y)
      .option('model', { default: undefined, describe: `catalog name, hub id (org/name[@rev]) or model folder (default ${DEFAULT_MODEL}; with --probe, the probe's model)` })
      .positional('inputs', { type: 'string', array: true, describe: 'image files, folders or globs' })
      .option('labels', { alias: 'l', type: 'string', describe: 'comma-separated labels (repeatable)' })
      .option('labels-file', { type: 'string', describe: 'file with one label per line' })
      .option('template', { alias: 't', type: 'string', describe: 'prompt template with {} for the label (repeatable; default "a photo of a {}.")' })
      .option('templates', { type: 'string', describe: 'a template set: imagenet (CLIP\'s 80), a dataset name from CLIP\'s prompts, or a file' })
      .option('top-k', { alias: 'k', type: 'number', describe: 'show the best k labels (default: all)' })
      .option('probe', { type: 'string', describe: 'classify with a probe file from zs probe fit (any head) instead of zero-shot; its model unless --model' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON array' })
      .option('imagenet', {
        type: 'boolean', default: false,
        describe: 'an image classifier\'s own supervised labels (config.json id2label: ImageNet-1k for the catalog CNNs), default top 5, instead of zero-shot',
      })
      .example('$0 classify --labels "cat,dog" photo.jpg', '')
      .example('$0 classify photos/ --labels-file labels.txt --templates imagenet --json', '')
      .example('$0 classify --imagenet --model resnet-50 photo.jpg', '') as never,
  run,
});

