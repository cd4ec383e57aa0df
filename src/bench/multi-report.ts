/**
 * The multi-backbone bench report (multi.ts): report.md with a comparison table (linear probe top-1 per backbone
 * and shots, zero-shot where a text tower exists) and each backbone's own tables, results.json (MultiBenchResults)
 * and chart.svg with one line per backbone (its linear probe) and each text tower's zero-shot as a dashed line.
 * Same display rules as report.ts.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { wrapError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { lineChartSvg } from './svg.js';
import { shotAxis } from './chart.js';
import { HEAD_SPECS } from '../heads/registry.js';
import { bestZeroShot, type MultiBenchResults } from './multi.js';
import { REPORT_FILES, checkOutDir, mdEscape, mdTable, pct, pctStd, probeTable, secs, shotsLabel, withFooter } from './report.js';

/** chart.svg: linear-probe top-1 against shots per class, one line per backbone. */
export function multiChartSvg(r: MultiBenchResults): string {
  const probes = r.backbones.map((b) => ({ id: b.model.id, head: b.heads.find((h) => h.name === HEAD_SPECS.linear.title) }));
  const axis = shotAxis(probes.flatMap((p) => p.head?.shots.map((s) => s.shots) ?? []));
  const seeds = r.protocol.seeds.length;
  return lineChartSvg({
    title: 'Backbones compared: linear probe top-1 accuracy',
    subtitle: `${r.dataset.source} · ${r.dataset.classes.length} classes · ${seeds > 1 ? `mean ± std over ${seeds} seeds` : '1 seed'} · dashed: zero-shot`,
    xLabel: 'labelled examples per class (log2 scale)',
    yLabel: 'top-1 accuracy on the test set',
    series: probes.filter((p) => p.head).map((p) => ({
      name: p.id,
      points: p.head!.shots.map((s) => ({ x: axis.x(s.shots), y: s.top1.mean, std: s.top1.std })),
    })),
    hlines: r.backbones.filter((b) => b.zeroShot.length).map((b) => ({ name: `${b.model.id} zero-shot`, y: bestZeroShot(b)!.top1 })),
    xTicks: axis.xTicks,
    dashedAfter: axis.dashedAfter,
  });
}

/** report.md text. */
export function renderMultiMarkdown(r: MultiBenchResults, chartFile: string = REPORT_FILES.chart): string {
  const out: string[] = [];
  const seeds = r.protocol.seeds;
  out.push(`# zs bench: ${r.backbones.length} backbones on ${mdEscape(r.dataset.source)}`, '');
  out.push(`**${mdEscape(r.headline)}**`, '');
  out.push(`![Linear probe accuracy per backbone against labelled examples per class](${chartFile})`, '');
  out.push('## Backbones compared', '');
  const seedText = seeds.length > 1 ? `mean ± sample std over ${seeds.length} seeds (${seeds.join(', ')})` : `one seed (${seeds.join(', ')})`;
  out.push(`Linear probe top-1 accuracy (%), ${seedText}, on the same splits for every backbone; zero-shot: the largest prompt set, where the backbone has a text tower.`, '');
  const shots = r.protocol.shots;
  out.push(mdTable(['backbone', 'dim', 'zero-shot', ...shots.map(shotsLabel)], r.backbones.map((b) => {
    const probe = b.heads.find((h) => h.name === HEAD_SPECS.linear.title);
    const z = bestZeroShot(b);
    return [mdEscape(b.model.id), String(b.model.dim), z ? pct(z.top1) : '—', ...shots.map((s) => {
      const cell = probe?.shots.find((x) => x.shots === s);
      return cell ? pctStd(cell.top1) : '—';
    })];
  }), ['l', 'r', 'r', ...shots.map(() => 'r' as const)]), '');

  for (const b of r.backbones) {
    out.push(`## ${mdEscape(b.model.id)}`, '');
    out.push(`${mdEscape(b.headline)}`, '');
    out.push('Top-1 accuracy (%):', '');
    out.push(probeTable(b, 'top1'), '');
    out.push('Mean per-class recall (%):', '');
    out.push(probeTable(b, 'meanPerClassRecall'), '');
    for (const s of b.skipped) out.push(`- Skipped ${shotsLabel(s.shots)} shots: ${mdEscape(s.reason)}.`);
    for (const n of b.notes) out.push(`- ${mdEscape(n)}`);
    if (b.skipped.length || b.notes.length) out.push('');
  }

  const d = r.dataset;
  out.push('## Dataset and protocol', '');
  const split = d.layout === 'train-test' ? 'train/ and test/ folders' : `test split ${d.testSplit!.fraction} of each class, seed ${d.testSplit!.seed}`;
  out.push(`- ${d.classes.length} classes, ${d.nTrain} training and ${d.nTest} test images (${split}).`);
  out.push(`- Shots per class: ${shots.map(shotsLabel).join(', ')}; seeds: ${seeds.join(', ')}; the same draws for every backbone.`);
  out.push(`- Validation: ${mdEscape(r.protocol.validation)}.`);
  out.push(`- Selection: ${mdEscape(r.protocol.selection)}.`);
  out.push('- Test images are never used for training, validation or selection.', '');

  out.push('## Timings', '');
  out.push(mdTable(['backbone', 'images', 'embed s', 'fit s', 'predict s', 'total s'],
    r.backbones.map((b) => [mdEscape(b.model.id), String(b.timings.images), secs(b.timings.embedS), secs(b.timings.fitS), secs(b.timings.predictS), secs(b.timings.totalS)]),
    ['l', 'r', 'r', 'r', 'r', 'r']), '');
  return withFooter(out, r);
}

/** Writes report.md, results.json and chart.svg into `dir`; returns their paths. */
export async function writeMultiBenchReport(dir: string, results: MultiBenchResults, options: { force?: boolean } = {}): Promise<string[]> {
  await checkOutDir(dir, options.force ?? false);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw wrapError(e, 'E_WRITE', `cannot create ${dir}`, 'check that the parent folder is writable');
  }
  const paths: string[] = [];
  for (const [name, text] of [
    [REPORT_FILES.json, JSON.stringify(results, null, 2) + '\n'],
    [REPORT_FILES.chart, multiChartSvg(results)],
    [REPORT_FILES.markdown, renderMultiMarkdown(results)],
  ] as const) {
    await writeFileAtomic(join(dir, name), text);
    paths.push(join(dir, name));
  }
  return paths;
}
