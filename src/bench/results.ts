/**
 * The results of a `zs bench` run (results.json) and how they are assembled from raw per-seed runs.
 *
 * The bench runner measures; `buildResults` adds what is derived: mean ± sample std over seeds per head and
 * shots (metrics.ts), the zero-shot worth for every (zero-shot, head) pair from top-1 means (worth.ts), the
 * headline, and the fit/predict time totals. report.md and the chart are rendered from this object alone, so
 * every number they show is in results.json.
 *
 * Schema history: 1 — first version; `best` (the best head per shot count against the plain probe) added later,
 * additively. Fractions (not percent) for accuracies, seconds for times.
 */
import { ZsError } from '../errors.js';
import { meanStd, type MeanStd } from './metrics.js';
import { zeroShotWorth, type Worth } from './worth.js';

export const RESULTS_SCHEMA = 1;
export const RESULTS_KIND = 'zs-bench-results';

export type Shots = number | 'all';

/** One probe fit + evaluation. */
export interface SeedResult {
  seed: number;
  top1: number;
  meanPerClassRecall: number;
  top5: number | null;
  /** Regularization chosen on the validation rows (null for heads without one). */
  C: number | null;
  /** Training rows per class actually used ('all' runs: the smallest class's count) and in total. */
  trainPerClass: number;
  valPerClass: number;
  nTrain: number;
  nVal: number;
  fitS: number;
  predictS: number;
}

export interface ShotResult {
  shots: Shots;
  seeds: SeedResult[];
  top1: MeanStd;
  meanPerClassRecall: MeanStd;
}

export interface HeadResult {
  name: string;
  shots: ShotResult[];
}

export interface ZeroShotResult {
  /** e.g. "zero-shot (80 templates)". */
  name: string;
  templates: number;
  top1: number;
  top5: number | null;
  meanPerClassRecall: number;
  predictS: number;
}

export interface ClassSummary {
  label: string;
  /** The words used in prompts (after the label map). */
  prompt: string;
  train: number;
  test: number;
}

export interface DatasetSummary {
  source: string;
  /** 'train-test': given by the folders; 'split': split off with testSplit. */
  layout: 'train-test' | 'split';
  testSplit: { fraction: number; seed: number } | null;
  classes: ClassSummary[];
  nTrain: number;
  nTest: number;
}

export interface Protocol {
  shots: Shots[];
  seeds: number[];
  /** e.g. "min(k, 4) per class from the training pool, disjoint from the k shots". */
  validation: string;
  /** e.g. "C from 1e-6 to 1e6, 13 log-spaced values, best mean per-class recall on validation". */
  selection: string;
}

export interface WorthResult extends Worth {
  zeroShot: string;
  head: string;
  metric: 'top1';
}

export interface Timings {
  /** Images embedded (train + test) and the seconds it took, including decoding. */
  images: number;
  embedS: number;
  /** Totals over every fit / every prediction (probe and zero-shot). */
  fitS: number;
  predictS: number;
  totalS: number;
}

/** The head with the highest mean top-1 at one shot count, and its margin over the plain probe (the baseline head). */
export interface BestHead {
  shots: Shots;
  head: string;
  top1: number;
  /** The baseline head's mean top-1 at these shots, and best minus baseline (fractions); null without a baseline. */
  baseline: number | null;
  margin: number | null;
}

export interface BenchResults extends Omit<BenchInput, 'heads' | 'timings' | 'notes'> {
  schema: typeof RESULTS_SCHEMA;
  kind: typeof RESULTS_KIND;
  heads: HeadResult[];
  best: BestHead[];
  worth: WorthResult[];
  headline: string;
  timings: Timings;
  notes: string[];
}

/** What the runner measured: raw seeds per head and shots; the rest of BenchResults is derived. */
export interface BenchInput {
  createdAt: string;
  zsVersion: string;
  model: { id: string; dim: number };
  dataset: DatasetSummary;
  protocol: Protocol;
  zeroShot: ZeroShotResult[];
  /** `baseline`: the plain probe, the head every other is compared with in `best`. */
  heads: { name: string; baseline?: boolean; shots: { shots: Shots; seeds: SeedResult[] }[] }[];
  skipped: { shots: Shots; reason: string }[];
  timings: { images: number; embedS: number; totalS: number };
  notes?: string[];
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Headline without zero-shot (an image-only backbone): the first head's top-1 at its largest shots. */
function probeHeadline(heads: HeadResult[], seeds: number): string {
  const h = heads[0];
  const last = h?.shots.at(-1);
  if (!h || !last) return 'No few-shot probe results.';
  const at = last.shots === 'all' ? 'all training images' : `${last.shots} shots per class`;
  return `${capitalize(h.name)}: ${(100 * last.top1.mean).toFixed(1)}% top-1 with ${at}` + (seeds > 1 ? `, mean of ${seeds} seeds` : '') + ' (no text tower, so no zero-shot).';
}

/** Derives aggregates, worth, headline and time totals (see the header). */
export function buildResults(input: BenchInput): BenchResults {
  let fitS = 0;
  let predictS = input.zeroShot.reduce((s, z) => s + z.predictS, 0);
  const heads: HeadResult[] = input.heads.map((h) => ({
    name: h.name,
    shots: h.shots.map((s) => {
      if (s.seeds.length === 0) throw new ZsError('E_INVALID_ARG', `head ${h.name} at ${s.shots} shots has no runs`);
      for (const r of s.seeds) { fitS += r.fitS; predictS += r.predictS; }
      return {
        shots: s.shots,
        seeds: s.seeds,
        top1: meanStd(s.seeds.map((r) => r.top1)),
        meanPerClassRecall: meanStd(s.seeds.map((r) => r.meanPerClassRecall)),
      };
    }),
  }));
  const baseline = input.heads.findIndex((h) => h.baseline);
  const best: BestHead[] = [];
  for (const shots of input.protocol.shots) {
    let top: { head: string; top1: number } | undefined;
    for (const h of heads) {
      const cell = h.shots.find((x) => x.shots === shots);
      if (cell && (!top || cell.top1.mean > top.top1)) top = { head: h.name, top1: cell.top1.mean };
    }
    if (!top) continue;
    const base = baseline >= 0 ? heads[baseline]!.shots.find((x) => x.shots === shots)?.top1.mean ?? null : null;
    best.push({ shots, ...top, baseline: base, margin: base === null ? null : top.top1 - base });
  }
  const worth: WorthResult[] = [];
  for (const z of input.zeroShot) {
    for (const h of heads) {
      const curve = h.shots.filter((s) => typeof s.shots === 'number').map((s) => ({ shots: s.shots as number, accuracy: s.top1.mean }));
      if (curve.length) worth.push({ zeroShot: z.name, head: h.name, metric: 'top1', ...zeroShotWorth(curve, z.top1) });
    }
  }
  // the headline compares the strongest zero-shot prompt set (most templates) with the first head, as CLIP's Figure 7
  const zsHeadline = input.zeroShot.reduce((a, z) => (z.templates > a.templates ? z : a), input.zeroShot[0]!);
  const first = worth.find((w) => w.zeroShot === zsHeadline?.name) ?? worth[0];
  const seeds = input.protocol.seeds.length;
  const headline = first
    ? `${capitalize(first.text)} — ${first.zeroShot} against ${first.head} on the same features, top-1 accuracy` +
      (seeds > 1 ? `, mean of ${seeds} seeds` : '') + '.'
    : input.zeroShot.length === 0 ? probeHeadline(heads, seeds) : 'No few-shot probe results to compare zero-shot with.';
  return {
    schema: RESULTS_SCHEMA,
    kind: RESULTS_KIND,
    createdAt: input.createdAt,
    zsVersion: input.zsVersion,
    model: input.model,
    dataset: input.dataset,
    protocol: input.protocol,
    zeroShot: input.zeroShot,
    heads,
    best,
    skipped: input.skipped,
    worth,
    headline,
    timings: { ...input.timings, fitS, predictS },
    notes: input.notes ?? [],
  };
}
