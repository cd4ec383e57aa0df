/**
 * The bench chart: top-1 accuracy against labelled examples per class (log2 axis), one line per head with a
 * ±std band over seeds, and each zero-shot result as a dashed horizontal line (svg.ts draws it).
 * The "all data" run has no single shots-per-class value: it is drawn one log2 step right of the largest k,
 * labelled "all", joined by a dashed segment across an axis break.
 */
import type { BenchResults, Shots } from './results.js';
import { lineChartSvg } from './svg.js';

/** The x axis for shot counts: numeric k on log2, 'all' one step right of the largest k. */
export function shotAxis(shots: readonly Shots[]): { x: (s: Shots) => number; xTicks?: { x: number; label: string }[]; dashedAfter?: number } {
  const numeric = [...new Set(shots.filter((s): s is number => typeof s === 'number'))].sort((a, b) => a - b);
  const maxK = numeric.length ? numeric[numeric.length - 1]! : 1;
  const allX = maxK * 2;
  const hasAll = shots.includes('all');
  const xTicks = numeric.map((k) => ({ x: k, label: String(k) }));
  if (hasAll) xTicks.push({ x: allX, label: 'all' });
  return { x: (s) => (s === 'all' ? allX : s), xTicks: xTicks.length ? xTicks : undefined, dashedAfter: hasAll ? maxK : undefined };
}

/** The bench chart: top-1 accuracy against shots per class, one line per head, zero-shot as dashed lines. */
export function benchChartSvg(r: BenchResults): string {
  const axis = shotAxis(r.heads.flatMap((h) => h.shots.map((s) => s.shots)));
  const seeds = r.protocol.seeds.length;
  return lineChartSvg({
    title: `Zero-shot vs few-shot ${r.heads.length === 1 ? r.heads[0]!.name : 'probes'}: top-1 accuracy`,
    subtitle: `${r.model.id} on ${r.dataset.source} · ${r.dataset.classes.length} classes · ${seeds > 1 ? `mean ± std over ${seeds} seeds` : '1 seed'}`,
    xLabel: 'labelled examples per class (log2 scale)',
    yLabel: 'top-1 accuracy on the test set',
    series: r.heads.map((h) => ({
      name: h.name,
      points: h.shots.map((s) => ({ x: axis.x(s.shots), y: s.top1.mean, std: s.top1.std })),
    })),
    hlines: r.zeroShot.map((z) => ({ name: z.name, y: z.top1 })),
    xTicks: axis.xTicks,
    dashedAfter: axis.dashedAfter,
  });
}
