/** `zs classify`: zero-shot labels for images, as a table or JSON. */
import { defineCommand } from './command.js';
import { withModelOptions, loadOptions, DEFAULT_MODEL, type ModelArgs } from './options.js';
import { readLinesFile, type Io } from './io.js';
import { printPredictions } from './format.js';
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
  json: boolean;
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

async function run(a: ClassifyArgs, io: Io): Promise<number> {
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
    printPredictions(io, results, a.json);
    for (const f of failures) io.note(f.error.toLine(), true);
    if (failures.length > 0) {
      io.note(`${failures.length} of ${paths.length} images failed`, true);
      return 1;
    }
    return 0;
  } finally {
    await model.close();
  }
}

export const classifyCommand = defineCommand<ClassifyArgs>({
  command: 'classify <inputs..>',
  describe: 'zero-shot: the best labels for each image',
  builder: (y) =>
    withModelOptions(y)
      .positional('inputs', { type: 'string', array: true, describe: 'image files, folders or globs' })
      .option('labels', { alias: 'l', type: 'string', describe: 'comma-separated labels (repeatable)' })
      .option('labels-file', { type: 'string', describe: 'file with one label per line' })
      .option('template', { alias: 't', type: 'string', describe: 'prompt template with {} for the label (repeatable; default "a photo of a {}.")' })
      .option('templates', { type: 'string', describe: 'a template set: imagenet (CLIP\'s 80), a dataset name from CLIP\'s prompts, or a file' })
      .option('top-k', { alias: 'k', type: 'number', describe: 'show the best k labels (default: all)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON array' })
      .example('$0 classify --labels "cat,dog" photo.jpg', '')
      .example('$0 classify photos/ --labels-file labels.txt --templates imagenet --json', '') as never,
  run,
});

