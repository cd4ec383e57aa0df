/**
 * `zs bench` as a library function: zero-shot against few-shot heads on one labelled image folder, all on the same
 * (cached) embeddings. Steps: read the folder (train/ + test/, or a seeded stratified test split); embed every
 * image once; score the test rows with zero-shot (one template, then the ensemble); for each k and seed draw the
 * few-shot split (k train + min(k, 4) validation per class, never a test row), fit each head, score the test rows;
 * derive means, worth and the headline (results.ts). Writing the report is the caller's (report.ts).
 */
import { ZsError, usageError } from '../errors.js';
import { distinctStrings, int } from '../validate.js';
import { readFolderDataset } from '../data/folder.js';
import { stratifiedSplit, fewShotSplit, fewShotNeed, shortClasses, assertFewShot, take, valShots } from '../data/split.js';
import { applyLabelMap, type LabelMap } from '../data/labelmap.js';
import type { LabeledItem } from '../data/dataset.js';
import { ZeroShotClassifier } from '../heads/zeroshot.js';
import type { Dataset } from '../learn/logreg.js';
import { DEFAULT_TEMPLATE } from '../text/index.js';
import type { Model, EmbedProgress } from '../embed/model.js';
import { evaluate } from './metrics.js';
import { buildResults, type BenchResults, type SeedResult, type Shots, type ZeroShotResult, type DatasetSummary } from './results.js';
import { zeroShotScorer, type FittedHead } from '../heads/fewshot.js';
import { HEAD_SPECS, checkHeadName, checkHeadInputs, fitSession } from '../heads/registry.js';
import { HEAD_NAMES, inputOf, type HeadName, type ZeroShotWeights } from '../heads/state.js';
import { readProjection, type Projection } from '../heads/projection.js';
import { HeadCache, dataKey } from './head-cache.js';

export interface BenchOptions {
  /** Folder per class, with train/ and test/ or split here. */
  data: string;
  /** Shots per class (default 1, 2, 4, 8, 16). */
  shots?: Shots[];
  /** Number of seeds per k (default 3), starting at `seed`. */
  seeds?: number;
  seed?: number;
  /** Templates of the ensemble zero-shot (default: CLIP's 80 ImageNet templates, given by the caller). */
  templates: string[];
  labelMap?: LabelMap;
  labelMapSource?: string;
  /** Test fraction when the folder has no train/ + test/ (default 0.2). */
  testSplit?: number;
  heads?: HeadName[];
  zsVersion: string;
  /** Folder of fitted heads reused by later runs over the same data (head-cache.ts); none: always refit. */
  headCache?: string;
  onWarning?: (message: string) => void;
  onEmbedProgress?: (p: EmbedProgress) => void;
  /** Called after each fitted head (for a progress line). */
  onFit?: (info: { head: HeadName; shots: Shots; seed: number; top1: number; cached: boolean }) => void;
  /**
   * Opens the same model embedding the vision-graph tensor `feature` (Model.load with featureOutput), for the
   * finetune head's pre-projection features; without it the bench runs no finetune head.
   */
  openPreProjection?: (feature: string) => Promise<Model>;
}

export const DEFAULT_SHOTS: Shots[] = [1, 2, 4, 8, 16];

/** The heads to run: the named ones (each must be able to run), or every head this model can run. */
function pickHeads(names: readonly string[] | undefined, model: Model, pre: boolean): HeadName[] {
  const has = { text: model.hasText, pre };
  if (names) {
    const heads = names.map((h) => checkHeadName(h, 'head'));
    for (const h of heads) checkHeadInputs(h, model.info.id, has);
    return heads;
  }
  return HEAD_NAMES.filter((h) => (!HEAD_SPECS[h].text || has.text) && (!HEAD_SPECS[h].pre || has.pre));
}

/** The model's visual projection where its vision graph has one (CLIP-style) and the caller can embed pre-projection features. */
async function projectionOf(model: Model, opts: BenchOptions): Promise<Projection | undefined> {
  if (!opts.openPreProjection || !model.hasText) return undefined;
  const { readOnnxGraph } = await import('../onnx/index.js');
  const { readFile } = await import('node:fs/promises');
  const file = model.folder.graphs.vision;
  if (!readOnnxGraph(new Uint8Array(await readFile(file)), file).outputs.includes('image_embeds')) return undefined;
  return readProjection(file);
}

function subsetRows(x: Float32Array, d: number, rows: readonly number[], labels: Int32Array, K: number): Dataset {
  const out = new Float32Array(rows.length * d);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => { out.set(x.subarray(r * d, (r + 1) * d), i * d); y[i] = labels[r]!; });
  return { x: out, labels: y, n: rows.length, d, K };
}

function since(t: number): number {
  return (performance.now() - t) / 1000;
}

export async function runBench(model: Model, opts: BenchOptions): Promise<BenchResults> {
  const started = performance.now();
  const projection = await projectionOf(model, opts);
  const heads = pickHeads(opts.heads, model, projection !== undefined);
  const seedCount = int('--seeds', opts.seeds ?? 3, 1, 1000);
  const base = int('--seed', opts.seed ?? 0, 0);
  const seeds = Array.from({ length: seedCount }, (_, i) => base + i);
  const shots = opts.shots ?? DEFAULT_SHOTS;
  for (const s of shots) if (s !== 'all') int('--shots', s, 1);
  distinctStrings('--shots', shots.map(String));
  // an image-only backbone (no text tower): no zero-shot, and only the heads that need no text (pickHeads)
  const notes: string[] = model.hasText ? [] : [`${model.info.id} has no text tower: no zero-shot, and only heads that need no text (${heads.join(', ')}).`];

  // 1. the data: train pool and test rows
  const ds = await readFolderDataset(opts.data, { onWarning: opts.onWarning });
  const classes = ds.classes;
  let train: LabeledItem[];
  let test: LabeledItem[];
  let testSplit: DatasetSummary['testSplit'] = null;
  if (ds.layout === 'train-test') {
    train = ds.train;
    test = ds.test;
  } else {
    const fraction = opts.testSplit ?? 0.2;
    const s = stratifiedSplit(ds.items.map((i) => i.label), fraction, base, 'test-split');
    train = take(ds.items, s.train);
    test = take(ds.items, s.test);
    testSplit = { fraction, seed: base };
  }
  const prompts = applyLabelMap(classes, opts.labelMap ?? new Map(), opts.labelMapSource ?? '--label-map', opts.onWarning);

  // 2. embeddings of every image, once (the engine's cache makes a second run near-instant)
  const t0 = performance.now();
  const all = [...train, ...test];
  const emb = await model.embedImages(all.map((i) => i.path), { onProgress: opts.onEmbedProgress });
  const embedS = since(t0);
  for (const f of emb.failures) opts.onWarning?.(f.error.toLine());
  if (emb.failures.length) notes.push(`${emb.failures.length} images could not be read and were left out.`);
  const d = emb.embeddings.dims[1];
  const K = classes.length;
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const trainRows: number[] = [];
  const testRows: number[] = [];
  emb.indices.forEach((idx, row) => (idx < train.length ? trainRows : testRows).push(row));
  const labelOf = Int32Array.from(emb.indices, (idx) => classIndex.get(all[idx]!.label)!);
  const pool = subsetRows(emb.embeddings.data, d, trainRows, labelOf, K);
  const testSet = subsetRows(emb.embeddings.data, d, testRows, labelOf, K);
  // pre-projection features of the same rows (finetune): embedded by the same model exposing the projection's input
  let prePool: Dataset | undefined, preTest: Dataset | undefined;
  if (projection && heads.some((h) => inputOf(h) === 'pre-projection')) {
    const pm = await opts.openPreProjection!(projection.feature);
    try {
      const e = await pm.embedImages(emb.indices.map((idx) => all[idx]!.path));
      if (e.failures.length) throw new ZsError('E_EMBED', `${e.failures.length} images embedded once failed the second (pre-projection) pass`, { hint: 'run the bench again' });
      const p = e.embeddings.dims[1];
      prePool = subsetRows(e.embeddings.data, p, trainRows, labelOf, K);
      preTest = subsetRows(e.embeddings.data, p, testRows, labelOf, K);
    } finally {
      await pm.close();
    }
  }
  if (testSet.n === 0) throw new ZsError('E_NO_TEST', `${opts.data} has no readable test images`, { hint: 'add images to test/ or raise --test-split' });
  const poolLabels = Array.from(pool.labels, (k) => classes[k]!);

  // 3. zero-shot: one template, then the ensemble
  const zeroShot: ZeroShotResult[] = [];
  let ensemble: ZeroShotWeights | undefined;
  const templateSets: [string, string[]][] = [[`zero-shot (1 template)`, [DEFAULT_TEMPLATE]]];
  if (!(opts.templates.length === 1 && opts.templates[0] === DEFAULT_TEMPLATE)) templateSets.push([`zero-shot (${opts.templates.length} templates)`, opts.templates]);
  for (const [name, templates] of model.hasText ? templateSets : []) {
    const zs = await ZeroShotClassifier.create(model, prompts, { templates });
    const t = performance.now();
    const weights = { T: zs.classEmbeddings.data, scale: zs.scale, bias: zs.bias };
    const scores = zeroShotScorer(weights, d, K)(testSet.x, testSet.n);
    const ev = evaluate(scores, [testSet.n, K], testSet.labels, classes);
    zeroShot.push({ name, templates: templates.length, top1: ev.top1, top5: ev.top5, meanPerClassRecall: ev.meanPerClassRecall, predictS: since(t) });
    ensemble = weights;
  }
  const cache = opts.headCache ? new HeadCache(opts.headCache, dataKey(pool, ensemble)) : undefined;

  // 4. few-shot heads per k and seed
  const results = new Map<HeadName, { shots: Shots; seeds: SeedResult[] }[]>(heads.map((h) => [h, []]));
  const skipped: { shots: Shots; reason: string }[] = [];
  for (const s of shots) {
    const need = s === 'all' ? 2 : fewShotNeed(s);
    const short = shortClasses(poolLabels, need);
    if (short.length) {
      const list = short.slice(0, 5).map((c) => `${c.label} (${c.have})`).join(', ');
      const reason = `${short.length} class${short.length > 1 ? 'es have' : ' has'} fewer than the ${need} training images ${s === 'all' ? 'a split' : `${s} shots + ${valShots(s)} for validation`} need: ${list}`;
      skipped.push({ shots: s, reason });
      opts.onWarning?.(`skipping ${s} shots: ${reason}`);
      continue;
    }
    for (const h of heads) results.get(h)!.push({ shots: s, seeds: [] });
    for (const seed of seeds) {
      const fs = fewShotSplit(poolLabels, s, seed);
      assertFewShot(poolLabels, fs, s);
      // 'all' refits on train + validation after choosing C, as CLIP's probe protocol does; k-shot fits use the k only
      const fitRows = s === 'all' ? [...fs.train, ...fs.val].sort((a, b) => a - b) : fs.train;
      const trainSet = subsetRows(pool.x, d, fitRows, pool.labels, K);
      const searchTrain = subsetRows(pool.x, d, fs.train, pool.labels, K);
      const valSet = subsetRows(pool.x, d, fs.val, pool.labels, K);
      const pre = prePool && projection
        ? { fitOn: subsetRows(prePool.x, prePool.d, fitRows, pool.labels, K), W0: projection.W0, d: projection.d, feature: projection.feature }
        : undefined;
      const session = fitSession({ train: searchTrain, val: valSet, fitOn: trainSet, zs: ensemble, ...(pre ? { pre } : {}) });
      for (const h of heads) {
        const tf = performance.now();
        const onPre = inputOf(h) === 'pre-projection';
        const rows = onPre ? preTest! : testSet;
        let fitted = await cache?.get(h, s, seed, K, d);
        const cached = fitted !== undefined;
        if (!fitted) {
          fitted = await HEAD_SPECS[h].fit(session);
          await cache?.put(h, s, seed, fitted, rows.d);
        }
        const fitS = since(tf);
        const tp = performance.now();
        const scores = fitted.score(rows.x, rows.n);
        const predictS = since(tp);
        const ev = evaluate(scores, [testSet.n, K], testSet.labels, classes);
        results.get(h)!.at(-1)!.seeds.push({
          seed, top1: ev.top1, meanPerClassRecall: ev.meanPerClassRecall, top5: ev.top5,
          C: fitted.C, trainPerClass: fs.trainPerClass, valPerClass: fs.valPerClass,
          nTrain: fitRows.length, nVal: fs.val.length, fitS, predictS,
        });
        opts.onFit?.({ head: h, shots: s, seed, top1: ev.top1, cached });
      }
    }
  }

  const counts = (items: LabeledItem[], c: string) => items.filter((i) => i.label === c).length;
  return buildResults({
    createdAt: new Date().toISOString(),
    zsVersion: opts.zsVersion,
    model: { id: model.info.id, dim: d },
    dataset: {
      source: opts.data,
      layout: ds.layout === 'train-test' ? 'train-test' : 'split',
      testSplit,
      classes: classes.map((c, i) => ({ label: c, prompt: prompts[i]!, train: counts(train, c), test: counts(test, c) })),
      nTrain: pool.n,
      nTest: testSet.n,
    },
    protocol: {
      shots,
      seeds,
      validation: 'k-shot: min(k, 4) per class from the training pool, disjoint from the k shots; all: 20% of each class, refit on train + validation',
      selection: 'all on the validation rows, by accuracy, ties by log-loss: C by the CLIP sweep (1e-6 to 1e6, bisected to 1/8 decade); the anchored probe keeps the plain probe where that scores better; WiSE mixing weight from {0, 0.1, ..., 1}; Tip-Adapter beta in 1..10 and alpha on a log grid; fine-tuned projection: no selection (lambda = 1/k); GDA (Ledoit-Wolf shrinkage, closed form) mixing weight on a log grid (the C column holds each head\'s C or mixing weight)',
    },
    zeroShot,
    heads: heads.map((h) => ({ name: HEAD_SPECS[h].title, ...(HEAD_SPECS[h].baseline ? { baseline: true } : {}), shots: results.get(h)! })),
    skipped,
    timings: { images: all.length, embedS, totalS: since(started) },
    notes,
  });
}

