/**
 * `zs probe fit | predict | eval`: a linear probe (multinomial logistic regression) on frozen embeddings.
 * Data is a folder per class (train/ and test/ used when present), a CSV manifest or JSONL features.
 */
import type { Argv } from 'yargs';
import { defineCommand, type CliContext } from './command.js';
import { withModelOptions, loadOptions, DEFAULT_MODEL, type ModelArgs } from './options.js';
import { table, type Io } from './io.js';
import { createProgress } from './progress.js';
import { printOutcome, percent } from './format.js';
import { usageError } from '../errors.js';
import { int, number } from '../validate.js';
import type { Model } from '../embed/model.js';
import type { LabeledSource } from '../data/labeled.js';
import type { LabeledFeatures } from '../embed/labeled.js';
import type { ModelRef } from '../heads/probe.js';
import type { Probe } from '../heads/probe-file.js';
import type { HeadName } from '../heads/state.js';
import type { Projection } from '../heads/projection.js';
import { asList } from './classify.js';

interface FitArgs extends ModelArgs {
  data: string;
  head: string;
  template?: string | string[];
  templates?: string;
  C: string;
  'val-split': number;
  'max-iter': number;
  standardize: boolean;
  seed: number;
  out: string;
  json: boolean;
}

interface PredictArgs extends ModelArgs {
  probe: string;
  inputs: string[];
  'top-k'?: number;
  json: boolean;
}

interface EvalArgs extends ModelArgs {
  probe: string;
  data: string;
  json: boolean;
}

/** The probe's model: what --model names, else (predict/eval) the model the probe was made for. */
function modelSpec(a: ModelArgs, fallback: string): string {
  return a.model ?? fallback;
}

/** Opens the model; `featureOutput` (finetune heads) embeds that vision-graph tensor instead of the embedding. */
async function openModel(spec: string, a: ModelArgs, io: Io, featureOutput?: string): Promise<Model> {
  if (featureOutput !== undefined && a['feature-output'] !== undefined) {
    throw usageError('E_INVALID_ARG', `--feature-output does not apply here: this head takes the graph tensor ${JSON.stringify(featureOutput)}`, 'drop --feature-output');
  }
  const { Model } = await import('../embed/model.js');
  const model = await Model.load(spec, { ...loadOptions(a), ...(featureOutput !== undefined ? { featureOutput } : {}) });
  for (const s of model.info.skipped) io.note(`--device auto: skipped ${s.device} (${s.reason})`);
  return model;
}

/** Model identity stored in (and checked against) probe files. */
async function modelRef(model: Model): Promise<ModelRef> {
  return { id: model.info.id, fingerprint: await model.probeFingerprint() };
}

async function features(src: LabeledSource, model: Model | undefined, io: Io, label: string): Promise<LabeledFeatures> {
  const { labeledFeatures } = await import('../embed/labeled.js');
  const total = src.kind === 'images' ? src.paths.length : 0;
  const bar = await createProgress(io, { label, total, unit: 'images' });
  try {
    const f = await labeledFeatures(src, model, { onProgress: (p) => bar.update(p.done) });
    bar.stop();
    for (const e of f.failures) io.note(e.error.toLine(), true);
    if (f.failures.length) io.note(`${f.failures.length} of ${total} images failed and were left out`, true);
    return f;
  } finally {
    bar.stop();
  }
}

/**
 * A head other than the plain probe: hyperparameters on a stratified validation split of the data (--val-split,
 * --seed), the final head fitted on all of it; the zero-shot weights from the model's text tower where it has one.
 */
async function fitOtherHead(head: HeadName, x: Float32Array, y: Int32Array, classes: string[], model: Model | undefined, ref: ModelRef,
  a: FitArgs, valSplit: number, projection?: Projection): Promise<Probe> {
  const started = performance.now();
  const { HEAD_SPECS, checkHeadInputs, fitSession } = await import('../heads/registry.js');
  let zs;
  if (model?.hasText) { // GDA uses the zero-shot logits where there are any; tip, anchored and wise need them
    const { ZeroShotClassifier } = await import('../heads/zeroshot.js');
    const { resolveTemplates } = await import('../text/index.js');
    const templates = await resolveTemplates({ template: asList(a.template), templates: a.templates });
    const c = await ZeroShotClassifier.create(model, classes, { templates });
    zs = { T: c.classEmbeddings.data, scale: c.scale, bias: c.bias };
  }
  checkHeadInputs(head, ref.id, { text: zs !== undefined, pre: projection !== undefined });
  const { stratifiedSplit, subset } = await import('../learn/csearch.js');
  const K = classes.length, n = y.length, d = x.length / n;
  const data = { x, labels: y, n, d, K };
  const split = stratifiedSplit(y, K, valSplit, a.seed);
  if (split.val.length === 0 || split.train.length === 0) {
    throw usageError('E_TOO_FEW', `head ${head} needs at least 2 examples of some class to hold out for validation (got ${n} examples)`, 'add examples');
  }
  const train = subset(data, split.train), val = subset(data, split.val);
  const counts = new Array<number>(K).fill(0);
  for (const v of train.labels) counts[v]!++;
  const missing = counts.findIndex((c) => c === 0);
  if (missing >= 0) throw usageError('E_TOO_FEW', `class ${JSON.stringify(classes[missing])} has no training example left after the validation split`, 'add examples of it or lower --val-split');
  const pre = projection ? { fitOn: data, W0: projection.W0, d: projection.d, feature: projection.feature } : undefined;
  const fitted = await HEAD_SPECS[head].fit(fitSession({ train, val, fitOn: data, zs, ...(pre ? { pre } : {}) }));
  const { Probe } = await import('../heads/probe-file.js');
  return new Probe(ref, classes, d, fitted.params, fitted.settings, {
    n, nVal: val.n, valFraction: valSplit, seed: a.seed, valAccuracy: fitted.val?.accuracy ?? null, valLoss: fitted.val?.loss ?? null,
    seconds: (performance.now() - started) / 1000,
  });
}

async function fit(a: FitArgs, io: Io): Promise<number> {
  const C = a.C === 'auto' ? 'auto' : number('--C', a.C, 0, Infinity, true);
  const valSplit = number('--val-split', a['val-split'], 0, 1, true);
  if (valSplit >= 1) throw usageError('E_INVALID_ARG', `invalid --val-split: ${valSplit} (expected a fraction between 0 and 1)`);
  const maxIter = int('--max-iter', a['max-iter'], 1);
  const { readLabeled } = await import('../data/labeled.js');
  const src = await readLabeled(a.data, 'train', (m) => io.note(m));
  let model: Model | undefined;
  let ref: ModelRef;
  try {
    const { checkHeadName } = await import('../heads/registry.js');
    const head = checkHeadName(a.head);
    const { inputOf } = await import('../heads/state.js');
    const onPre = inputOf(head) === 'pre-projection';
    if (onPre && src.kind !== 'images') {
      throw usageError('E_FEATURES', `head ${head} fits on images (it embeds their pre-projection features), not on the features in ${a.data}`, 'give a folder of images or a CSV manifest');
    }
    if (src.kind === 'images' || a.model !== undefined) model = await openModel(modelSpec(a, DEFAULT_MODEL), a, io);
    let projection: Projection | undefined;
    if (onPre) { // the same model again, embedding the tensor entering the visual projection
      const { readProjection } = await import('../heads/projection.js');
      projection = await readProjection(model!.folder.graphs.vision);
      await model!.close();
      model = undefined;
      model = await openModel(modelSpec(a, DEFAULT_MODEL), a, io, projection.feature);
    }
    const f = await features(src, src.kind === 'images' ? model : undefined, io, 'embed');
    if (model && src.kind === 'features') {
      const dim = await model.embeddingDim();
      if (dim !== f.d) throw usageError('E_FEATURES', `${a.data} has ${f.d}-value embeddings but ${model.info.id} makes ${dim}-value ones`, 'pass the --model that made these features');
    }
    ref = model ? await modelRef(model) : { id: `features:${a.data}`, fingerprint: 'features' };
    const classes = src.classes;
    const index = new Map(classes.map((c, i) => [c, i]));
    const y = Int32Array.from(f.labels, (l) => index.get(l)!);
    const { Probe } = await import('../heads/probe-file.js');
    let probe: Probe;
    let summary: string[][];
    if (head === 'linear') {
      const { LinearProbe } = await import('../heads/probe.js');
      const lp = await LinearProbe.fit(f.x, y, {
        classes, model: ref, C, valFraction: valSplit, maxIter, standardize: a.standardize, seed: a.seed,
      });
      probe = Probe.fromLinear(lp);
      const t = lp.training;
      if (t.warning) io.note(`warning: ${t.warning}`, true);
      summary = [
        ['C', t.cSearch ? `${lp.C.toPrecision(3)} (auto: ${t.cSearch.fits} fits, validation accuracy ${percent(t.cSearch.valAccuracy)})` : lp.C.toPrecision(3)],
        ['iterations', `${t.iterations}${t.converged ? ' (converged)' : ' (not converged)'}`],
        ['train accuracy', percent(t.trainAccuracy)],
        ['fit time', `${t.seconds.toFixed(2)} s`],
      ];
    } else {
      probe = await fitOtherHead(head, f.x, y, classes, model, ref, a, valSplit, projection);
      const val = probe.training.valAccuracy as number | null;
      summary = [
        ['settings', Object.entries(probe.settings).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toPrecision(3) : String(v)}`).join(', ')],
        ...(val === null ? [] : [['validation accuracy', `${percent(val)} (${probe.training.nVal} held-out rows, val-split ${valSplit})`]]),
        ['fit time', `${(probe.training.seconds as number).toFixed(2)} s`],
      ];
    }
    await probe.save(a.out);
    if (a.json) {
      io.out(JSON.stringify({ out: a.out, head, model: ref, labels: classes, settings: probe.settings, training: probe.training }));
    } else {
      io.out(table([
        ['probe', a.out],
        ['head', head],
        ['model', ref.id],
        ['classes', String(classes.length)],
        ['examples', `${f.labels.length} (dim ${f.d})`],
        ...summary,
      ]));
    }
    return f.failures.length ? 1 : 0;
  } finally {
    await model?.close();
  }
}

async function loadProbeFor(file: string, a: ModelArgs, io: Io, needModel: boolean) {
  const { Probe } = await import('../heads/probe-file.js');
  const unchecked = await Probe.load(file);
  if (!needModel) return { probe: unchecked, model: undefined };
  if (unchecked.model.fingerprint === 'features' && a.model === undefined) {
    throw usageError('E_PROBE_MODEL', `${file} was fitted on precomputed features without --model, so zs cannot embed images for it`,
      'evaluate it on a JSONL features file, or fit it again with --model');
  }
  const model = await openModel(modelSpec(a, unchecked.model.id), a, io, unchecked.params.head === 'finetune' ? unchecked.params.feature : undefined);
  try {
    const probe = await Probe.load(file, await modelRef(model));
    return { probe, model };
  } catch (e) {
    await model.close();
    throw e;
  }
}

/** Labels for images from a probe file: `zs probe predict` and `zs classify --probe`. */
export async function predictWithProbe(file: string, inputs: string[], a: ModelArgs & { 'top-k'?: number; json: boolean }, io: Io): Promise<number> {
  const { findImages } = await import('../data/images.js');
  const paths = await findImages(inputs);
  const { probe, model } = await loadProbeFor(file, a, io, true);
  try {
    const topK = a['top-k'] === undefined ? probe.labels.length : Math.min(probe.labels.length, int('--top-k', a['top-k'], 1));
    const bar = await createProgress(io, { label: 'predict', total: paths.length, unit: 'images' });
    const r = await model!.embedImages(paths, { onProgress: (p) => bar.update(p.done) });
    bar.stop();
    const proba = probe.predictProba(r.embeddings.data);
    const { rankRows } = await import('../heads/rank.js');
    const ranked = rankRows(proba, r.indices.length, probe.labels, topK);
    return printOutcome(io, r.indices.map((idx, i) => ({ path: paths[idx]!, predictions: ranked[i]! })), r.failures, paths.length, a.json);
  } finally {
    await model!.close();
  }
}

async function predict(a: PredictArgs, io: Io): Promise<number> {
  return predictWithProbe(a.probe, a.inputs, a, io);
}

async function evaluateProbe(a: EvalArgs, io: Io): Promise<number> {
  const { readLabeled } = await import('../data/labeled.js');
  const src = await readLabeled(a.data, 'test', (m) => io.note(m));
  const { requireKnownLabels } = await import('../data/dataset.js');
  const { probe, model } = await loadProbeFor(a.probe, a, io, src.kind === 'images');
  try {
    requireKnownLabels(src.classes, probe.labels, 'the probe', a.data);
    const f = await features(src, model, io, 'embed');
    if (f.d !== probe.dim) throw usageError('E_FEATURES', `${a.data} has ${f.d}-value embeddings but the probe takes ${probe.dim}`, 'evaluate with features from the probe\'s model');
    const index = new Map(probe.labels.map((c, i) => [c, i]));
    const truth = Int32Array.from(f.labels, (l) => index.get(l)!);
    const proba = probe.predictProba(f.x);
    const { evaluate } = await import('../bench/metrics.js');
    const ev = evaluate(proba, [f.labels.length, probe.labels.length], truth, probe.labels);
    if (a.json) {
      io.out(JSON.stringify({ probe: a.probe, data: a.data, ...ev }));
    } else {
      io.out(table([
        ['examples', String(ev.n)],
        ['top-1', percent(ev.top1)],
        ['top-5', percent(ev.top5)],
        ['mean per-class recall', percent(ev.meanPerClassRecall)],
      ]));
      io.out('');
      io.out(table([['CLASS', 'SUPPORT', 'PRECISION', 'RECALL', 'F1'], ...ev.perClass.map((c) => [c.label, String(c.support), percent(c.precision), percent(c.recall), percent(c.f1)])], ['l', 'r', 'r', 'r', 'r']));
      io.out('');
      io.out('confusion matrix (rows: true class, columns: predicted)');
      const short = probe.labels.map((_, i) => String(i));
      io.out(table([['', ...short], ...ev.confusion.map((row, i) => [`${i} ${probe.labels[i]}`, ...row.map(String)])], ['l', ...short.map(() => 'r' as const)]));
    }
    return f.failures.length ? 1 : 0;
  } finally {
    await model?.close();
  }
}

function probeModelOptions<T>(y: Argv<T>): Argv<T & ModelArgs> {
  // --model has no default here: predict/eval use the probe's own model, fit on features records none
  return withModelOptions(y).option('model', { default: undefined, describe: `model to embed images with (fit: default ${DEFAULT_MODEL}; predict/eval: the probe's model)` }) as Argv<T & ModelArgs>;
}

const fitCommand = defineCommand<FitArgs>({
  command: 'fit <data>',
  describe: 'fit a probe on a labelled dataset',
  builder: (y) =>
    probeModelOptions(y)
      .positional('data', { type: 'string', demandOption: true, describe: 'folder per class (uses train/ if present), CSV manifest or JSONL features' })
      .option('head', { type: 'string', default: 'linear', describe: 'linear (probe), anchored (probe pulled toward zero-shot), wise (zero-shot/probe mix), tip (Tip-Adapter), gda (Gaussian discriminant + zero-shot), finetune (the visual projection and a class head, trained; CLIP-style models)' })
      .option('template', { alias: 't', type: 'string', describe: 'prompt template for the zero-shot part of anchored, wise, tip, gda (repeatable; default "a photo of a {}.")' })
      .option('templates', { type: 'string', describe: 'a template set for the zero-shot part: imagenet, a dataset name from CLIP\'s prompts, or a file' })
      .option('C', { type: 'string', default: 'auto', describe: 'inverse L2 strength as in scikit-learn, or auto (CLIP sweep on a validation split)' })
      .option('val-split', { type: 'number', default: 0.2, describe: 'validation fraction for --C auto and every other head\'s settings' })
      .option('max-iter', { type: 'number', default: 1000, describe: 'L-BFGS iteration cap' })
      .option('standardize', { type: 'boolean', default: false, describe: 'standardize features (stored in the probe)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the validation split' })
      .option('out', { alias: 'o', type: 'string', default: 'probe.json', describe: 'probe file to write' })
      .option('json', { type: 'boolean', default: false, describe: 'print the training summary as JSON' }) as never,
  run: fit,
});

const predictCommand = defineCommand<PredictArgs>({
  command: 'predict <probe> <inputs..>',
  describe: 'labels for images from a probe',
  builder: (y) =>
    probeModelOptions(y)
      .positional('probe', { type: 'string', demandOption: true })
      .positional('inputs', { type: 'string', array: true, describe: 'image files, folders or globs' })
      .option('top-k', { alias: 'k', type: 'number', describe: 'show the best k labels (default: all)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON array' }) as never,
  run: predict,
});

const evalCommand = defineCommand<EvalArgs>({
  command: 'eval <probe> <data>',
  describe: 'accuracy, per-class recall and confusion matrix of a probe on a labelled dataset',
  builder: (y) =>
    probeModelOptions(y)
      .positional('probe', { type: 'string', demandOption: true })
      .positional('data', { type: 'string', demandOption: true, describe: 'folder per class (uses test/ if present), CSV manifest or JSONL features' })
      .option('json', { type: 'boolean', default: false }) as never,
  run: evaluateProbe,
});

export const probeCommand = (ctx: CliContext) => ({
  command: 'probe <command>',
  describe: 'linear probe: fit, predict, eval',
  builder: (y: Argv) => y.command(fitCommand(ctx)).command(predictCommand(ctx)).command(evalCommand(ctx)).demandCommand(1),
  handler: () => {},
});
