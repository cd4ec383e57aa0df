/**
 * The bench report: report.md rendered from BenchResults (results.ts) alone, and the three files written
 * into the output folder (report.md, results.json, chart.svg).
 *
 * Display rules: accuracies and recalls as percent with one decimal ("81.2", "81.2 ± 1.3"; no "±" for a single
 * seed); worth with formatShots (worth.ts); seconds with two decimals. Each shown number is a results.json
 * value under one of these formats (a test checks it).
 *
 * Output folder: `checkOutDir` refuses a folder that exists and is not empty unless `force` (call it before
 * the long run, so a typo costs nothing). With `force` the three files are replaced; nothing else is removed.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { MeanStd } from './metrics.js';
import type { BenchResults, Shots } from './results.js';
import { benchChartSvg } from './chart.js';
import { formatShots, type Worth } from './worth.js';

export const REPORT_FILES = { markdown: 'report.md', json: 'results.json', chart: 'chart.svg' } as const;

export const pct = (x: number): string => (100 * x).toFixed(1);
export const pctStd = (m: MeanStd): string => (m.std === null ? pct(m.mean) : `${pct(m.mean)} ± ${pct(m.std)}`);
export const secs = (x: number): string => x.toFixed(2);
export const shotsLabel = (s: Shots): string => (s === 'all' ? 'all' : String(s));

/** Escapes text for a Markdown table cell or line. */
export function mdEscape(s: string): string {
  return s.replace(/[\\|*_`<>[\]]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

export function mdTable(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

function worthCell(w: Worth): string {
  if (w.relation === 'below') return `< ${w.minShots}`;
  if (w.relation === 'above') return `> ${w.maxShots}`;
  return formatShots(w.shots!);
}

export function probeTable(r: BenchResults, metric: 'top1' | 'meanPerClassRecall'): string {
  const shots = r.protocol.shots.filter((s) => r.heads.some((h) => h.shots.some((x) => x.shots === s)));
  const rows = r.heads.map((h) => [mdEscape(h.name), ...shots.map((s) => {
    const cell = h.shots.find((x) => x.shots === s);
    return cell ? pctStd(cell[metric]) : '—';
  })]);
  for (const z of r.zeroShot) rows.push([mdEscape(z.name), ...shots.map(() => pct(z[metric]))]);
  return mdTable(['head \\ shots per class', ...shots.map(shotsLabel)], rows, ['l', ...shots.map(() => 'r' as const)]);
}

/** report.md text. */
export function renderMarkdown(r: BenchResults, chartFile: string = REPORT_FILES.chart): string {
  const d = r.dataset;
  const seeds = r.protocol.seeds;
  const out: string[] = [];
  out.push(`# zs bench: ${mdEscape(r.model.id)} on ${mdEscape(d.source)}`, '');
  out.push(`**${mdEscape(r.headline)}**`, '');
  out.push(`![Accuracy against labelled examples per class](${chartFile})`, '');

  out.push('## Results', '');
  const seedText = seeds.length > 1 ? `mean ± sample std over ${seeds.length} seeds (${seeds.join(', ')})` : `one seed (${seeds.join(', ')})`;
  out.push(`Top-1 accuracy (%), ${seedText}; zero-shot rows repeat the zero-shot score for comparison.`, '');
  out.push(probeTable(r, 'top1'), '');
  out.push('Mean per-class recall (%):', '');
  out.push(probeTable(r, 'meanPerClassRecall'), '');

  if (r.best.length) {
    out.push('Best head per shot count (top-1 mean; gain over the plain probe in percentage points):', '');
    out.push(mdTable(['shots', 'best head', 'top-1 %', 'plain probe %', 'gain'],
      r.best.map((b) => [shotsLabel(b.shots), mdEscape(b.head), pct(b.top1), b.baseline === null ? '—' : pct(b.baseline),
        b.margin === null ? '—' : `${b.margin >= 0 ? '+' : ''}${pct(b.margin)}`]), ['r', 'l', 'r', 'r', 'r']), '');
  }

  out.push('## Zero-shot', '');
  if (r.zeroShot.length === 0) out.push(`None: ${mdEscape(r.model.id)} has no text tower.`, '');
  else out.push(mdTable(['prompts', 'templates', 'top-1 %', 'top-5 %', 'mean per-class recall %'],
    r.zeroShot.map((z) => [mdEscape(z.name), String(z.templates), pct(z.top1), z.top5 === null ? '—' : pct(z.top5), pct(z.meanPerClassRecall)]),
    ['l', 'r', 'r', 'r', 'r']), '');
  if (r.worth.length) {
    out.push('Zero-shot worth in labelled examples per class (top-1; log-linear interpolation between the measured shots, as in the CLIP paper):', '');
    out.push(mdTable(['zero-shot', 'head', 'worth (shots per class)'],
      r.worth.map((w) => [mdEscape(w.zeroShot), mdEscape(w.head), worthCell(w)]), ['l', 'l', 'r']), '');
  }

  out.push('## Dataset', '');
  const split = d.layout === 'train-test' ? 'train/ and test/ folders' : `test split ${d.testSplit!.fraction} of each class, seed ${d.testSplit!.seed}`;
  out.push(`${d.classes.length} classes, ${d.nTrain} training and ${d.nTest} test images (${split}).`, '');
  if (d.classes.length <= 50) {
    out.push(mdTable(['class', 'prompt word', 'train', 'test'],
      d.classes.map((c) => [mdEscape(c.label), mdEscape(c.prompt), String(c.train), String(c.test)]), ['l', 'l', 'r', 'r']), '');
  }

  out.push('## Protocol', '');
  out.push(`- Model: ${mdEscape(r.model.id)} (embedding size ${r.model.dim}).`);
  out.push(`- Shots per class: ${r.protocol.shots.map(shotsLabel).join(', ')}; seeds: ${seeds.join(', ')}.`);
  out.push(`- Validation: ${mdEscape(r.protocol.validation)}.`);
  out.push(`- Selection: ${mdEscape(r.protocol.selection)}.`);
  out.push('- Test images are never used for training, validation or selection.');
  for (const s of r.skipped) out.push(`- Skipped ${shotsLabel(s.shots)} shots: ${mdEscape(s.reason)}.`);
  out.push('');

  out.push('## Timings', '');
  const t = r.timings;
  out.push(mdTable(['stage', 'seconds'], [
    [`embed (${t.images} images)`, secs(t.embedS)],
    ['fit (all probe fits)', secs(t.fitS)],
    ['predict (zero-shot and probes)', secs(t.predictS)],
    ['total', secs(t.totalS)],
  ], ['l', 'r']), '');

  return withFooter(out, r);
}

/** Refuses an output folder that exists and is not empty, unless `force`. */
export async function checkOutDir(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new ZsError('E_OUT_EXISTS', `--out ${dir} is a file`, { kind: 'usage', hint: 'name a folder for the report' });
    throw wrapError(e, 'E_READ', `cannot read --out ${dir}`, 'check its permissions');
  }
  if (entries.length > 0 && !force) {
    throw new ZsError('E_OUT_EXISTS', `--out ${dir} already exists and is not empty`, {
      kind: 'usage',
      hint: 'choose another folder, or add --force to replace report.md, results.json and chart.svg there',
    });
  }
}

/** Writes report.md, results.json and chart.svg into `dir` (created if needed); returns their paths. */
export async function writeBenchReport(dir: string, results: BenchResults, options: { force?: boolean } = {}): Promise<string[]> {
  await checkOutDir(dir, options.force ?? false);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw wrapError(e, 'E_WRITE', `cannot create ${dir}`, 'check that the parent folder is writable');
  }
  const files: [string, string][] = [
    [REPORT_FILES.json, JSON.stringify(results, null, 2) + '\n'],
    [REPORT_FILES.chart, benchChartSvg(results)],
    [REPORT_FILES.markdown, renderMarkdown(results)],
  ];
  const paths: string[] = [];
  for (const [name, text] of files) {
    const p = join(dir, name);
    await writeFileAtomic(p, text);
    paths.push(p);
  }
  return paths;
}

/** Ends a Markdown report: the notes section (when there are notes) and the "Made by" line. */
export function withFooter(out: string[], r: { notes: string[]; zsVersion: string; createdAt: string }): string {
  if (r.notes.length) {
    out.push('## Notes', '');
    for (const n of r.notes) out.push(`- ${mdEscape(n)}`);
    out.push('');
  }
  out.push(`Made by zs ${mdEscape(r.zsVersion)} on ${mdEscape(r.createdAt)}.`);
  return out.join('\n') + '\n';
}
