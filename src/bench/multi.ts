/**
 * The multi-backbone bench (`zs bench data/ --model resnet-50,clip-vit-b32,dinov2-small`): the same k-shot protocol
 * (same test split, shots, seeds and therefore the same few-shot draws) run for each backbone in turn, one model
 * loaded at a time, gathered into one result: every backbone's full BenchResults plus a comparison headline.
 * Backbones without a text tower get the linear probe only (run.ts); zero-shot appears where a text tower exists.
 */
import { ZsError } from '../errors.js';
import type { Model } from '../embed/model.js';
import { runBench, type BenchOptions } from './run.js';
import { HEAD_SPECS } from '../heads/registry.js';
import type { BenchResults, Shots } from './results.js';

export const MULTI_RESULTS_KIND = 'zs-bench-multi';

export interface MultiBenchResults {
  schema: 1;
  kind: typeof MULTI_RESULTS_KIND;
  createdAt: string;
  zsVersion: string;
  /** Dataset and protocol shared by every backbone (taken from the first). */
  dataset: BenchResults['dataset'];
  protocol: BenchResults['protocol'];
  backbones: BenchResults[];
  headline: string;
  notes: string[];
}

/** The linear probe's mean top-1 of one backbone at `shots`, if measured. */
export function probeTop1(r: BenchResults, shots: Shots): number | undefined {
  return r.heads.find((h) => h.name === HEAD_SPECS.linear.title)?.shots.find((s) => s.shots === shots)?.top1.mean;
}

/** The strongest zero-shot result (most templates) of a backbone with a text tower. */
export function bestZeroShot(r: BenchResults): BenchResults['zeroShot'][number] | undefined {
  return r.zeroShot.reduce<BenchResults['zeroShot'][number] | undefined>((a, z) => (!a || z.templates > a.templates ? z : a), undefined);
}

function headline(backbones: BenchResults[], shots: Shots[]): string {
  const common = shots.filter((s) => backbones.every((b) => probeTop1(b, s) !== undefined));
  const at = common.at(-1);
  if (at === undefined) return 'No shot count was measured for every backbone.';
  const ranked = backbones.map((b) => ({ id: b.model.id, top1: probeTop1(b, at)! })).sort((a, b) => b.top1 - a.top1);
  const list = ranked.map((x) => `${x.id} ${(100 * x.top1).toFixed(1)}%`).join(', ');
  const zs = backbones.filter((b) => b.zeroShot.length).map((b) => `${b.model.id} ${(100 * bestZeroShot(b)!.top1).toFixed(1)}%`);
  const seeds = backbones[0]!.protocol.seeds.length;
  return `Linear probe top-1 with ${at === 'all' ? 'all training images' : `${at} shots per class`}${seeds > 1 ? ` (mean of ${seeds} seeds)` : ''}: ${list}` +
    (zs.length ? `; zero-shot: ${zs.join(', ')}.` : '.');
}

/**
 * Runs the bench for each model spec with the same options; `open` loads a model (the caller's load options), and
 * each model is closed before the next loads. `onModel` reports which backbone starts.
 */
export async function runMultiBench(
  specs: readonly string[],
  open: (spec: string) => Promise<Model>,
  opts: BenchOptions & {
    onModel?: (spec: string, index: number) => void | Promise<void>;
    /** Options that depend on the backbone (e.g. how to open its pre-projection twin for the finetune head). */
    optionsFor?: (spec: string) => Partial<BenchOptions>;
  },
): Promise<MultiBenchResults> {
  if (specs.length === 0) throw new ZsError('E_INVALID_ARG', 'no models to bench', { kind: 'usage', hint: 'pass --model a,b' });
  const backbones: BenchResults[] = [];
  for (const [i, spec] of specs.entries()) {
    await opts.onModel?.(spec, i);
    const model = await open(spec);
    try {
      backbones.push(await runBench(model, { ...opts, ...opts.optionsFor?.(spec) }));
    } finally {
      await model.close();
    }
  }
  const first = backbones[0]!;
  const notes: string[] = [];
  for (const b of backbones.slice(1)) {
    if (b.dataset.nTrain !== first.dataset.nTrain || b.dataset.nTest !== first.dataset.nTest) {
      notes.push(`${b.model.id} read ${b.dataset.nTrain} training and ${b.dataset.nTest} test images, ${first.model.id} ${first.dataset.nTrain} and ${first.dataset.nTest}: its splits differ (see its notes).`);
    }
  }
  return {
    schema: 1, kind: MULTI_RESULTS_KIND, createdAt: new Date().toISOString(), zsVersion: opts.zsVersion,
    dataset: first.dataset, protocol: first.protocol, backbones,
    headline: headline(backbones, first.protocol.shots), notes,
  };
}
