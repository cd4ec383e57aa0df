import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildResults, RESULTS_SCHEMA, type BenchInput, type SeedResult, type Shots } from '../src/bench/results.js';
import { checkOutDir, mdEscape, renderMarkdown, writeBenchReport } from '../src/bench/report.js';
import { ZsError } from '../src/errors.js';
import { tempDir } from './_helpers.js';

const SHOTS: Shots[] = [1, 2, 4, 8, 'all'];
const BASE: Record<string, number> = { 1: 0.31, 2: 0.47, 4: 0.58, 8: 0.66, all: 0.83 };

function seedRun(shots: Shots, seed: number, acc: number): SeedResult {
  const k = shots === 'all' ? 40 : shots;
  return { seed, top1: acc, meanPerClassRecall: acc - 0.02, top5: null, C: 0.316, trainPerClass: k, valPerClass: shots === 'all' ? 10 : Math.min(k, 4),
    nTrain: 3 * k, nVal: 6, fitS: 0.25, predictS: 0.125 };
}

function input(): BenchInput {
  return {
    createdAt: '2025-02-03T04:05:06.000Z',
    zsVersion: '0.1.0',
    model: { id: 'tiny_clip|x', dim: 64 },
    dataset: {
      source: 'data/fashion', layout: 'split', testSplit: { fraction: 0.25, seed: 9 },
      classes: [{ label: 't_shirt', prompt: 't-shirt', train: 50, test: 17 }, { label: 'bag', prompt: 'bag', train: 51, test: 17 }, { label: 'coat', prompt: 'coat', train: 52, test: 18 }],
      nTrain: 153, nTest: 52,
    },
    protocol: { shots: [...SHOTS, 16], seeds: [0, 1, 2], validation: 'min(k, 4) per class from the training pool, disjoint from the k shots', selection: 'C on a log grid' },
    zeroShot: [{ name: 'zero-shot (80 templates)', templates: 80, top1: 0.62, top5: null, meanPerClassRecall: 0.6, predictS: 0.5 }],
    heads: [{ name: 'linear probe', shots: SHOTS.map((s) => ({ shots: s, seeds: [0, 1, 2].map((seed, i) => seedRun(s, seed, BASE[String(s)]! + [0.03, -0.01, -0.02][i]!)) })) }],
    skipped: [{ shots: 16, reason: '"coat" has 18 images, 16 shots need 20' }],
    timings: { images: 205, embedS: 3.5, totalS: 9.75 },
    notes: ['embedding cache: 0 hits'],
  };
}

test('buildResults: schema, aggregates, worth, headline, time totals', () => {
  const r = buildResults(input());
  assert.is(r.schema, RESULTS_SCHEMA);
  assert.is(r.kind, 'zs-bench-results');
  const four = r.heads[0]!.shots.find((s) => s.shots === 4)!;
  assert.ok(Math.abs(four.top1.mean - 0.58) < 1e-12);
  assert.ok(Math.abs(four.top1.std! - Math.sqrt((0.03 ** 2 + 0.01 ** 2 + 0.02 ** 2) / 2)) < 1e-12);
  assert.is(four.top1.n, 3);
  // 0.62 lies between 4 (0.58) and 8 (0.66): 2^(2 + 0.5) shots; the all-data run stays out of the curve
  assert.is(r.worth.length, 1);
  assert.ok(Math.abs(r.worth[0]!.shots! - 2 ** 2.5) < 1e-9);
  assert.equal(r.worth[0]!.between, [4, 8]);
  assert.is(r.headline, 'Zero-shot is worth 5.7 labelled examples per class — zero-shot (80 templates) against linear probe on the same features, top-1 accuracy, mean of 3 seeds.');
  assert.is(r.timings.fitS, 15 * 0.25);
  assert.is(r.timings.predictS, 15 * 0.125 + 0.5);
  // an image-only backbone: no zero-shot, no worth, a probe headline
  const noText = buildResults({ ...input(), zeroShot: [] });
  assert.equal(noText.worth, []);
  assert.match(noText.headline, /top-1 with .* \(no text tower, so no zero-shot\)\.$/);
});

test('report.md: tables, headline, protocol, skipped shots, timings', () => {
  const md = renderMarkdown(buildResults(input()));
  assert.match(md, /^# zs bench: tiny\\_clip\\\|x on data\/fashion$/m);
  assert.match(md, /\*\*Zero-shot is worth 5\.7 labelled examples per class/);
  assert.match(md, /\| head \\ shots per class \| 1 \| 2 \| 4 \| 8 \| all \|/);
  assert.match(md, /\| linear probe \| 31\.0 ± 2\.6 \| 47\.0 ± 2\.6 \| 58\.0 ± 2\.6 \| 66\.0 ± 2\.6 \| 83\.0 ± 2\.6 \|/);
  assert.match(md, /\| zero-shot \(80 templates\) \| 62\.0 \| 62\.0 \| 62\.0 \| 62\.0 \| 62\.0 \|/);
  assert.match(md, /\| zero-shot \(80 templates\) \| linear probe \| 5\.7 \|/);
  assert.match(md, /\| t\\_shirt \| t-shirt \| 50 \| 17 \|/);
  assert.match(md, /- Skipped 16 shots: "coat" has 18 images, 16 shots need 20\./);
  assert.match(md, /\| fit \(all probe fits\) \| 3\.75 \|/);
  assert.match(md, /!\[[^\]]+\]\(chart\.svg\)/);
  assert.not.match(md, /NaN|undefined|null/);
});

test('every number shown in report.md is a value in results.json', () => {
  const r = buildResults(input());
  const md = renderMarkdown(r);
  const json = JSON.parse(JSON.stringify(r));
  const allowed = new Set<string>();
  const numRe = /(?<![\w.\-])\d+(?:\.\d+)?/g;
  const addNumber = (x: number) => {
    allowed.add(String(x));
    for (const s of [(100 * x).toFixed(1), x.toFixed(2), x < 9.95 ? x.toFixed(1) : String(Math.round(x))]) allowed.add(s);
  };
  const walk = (v: unknown): void => {
    if (typeof v === 'number') addNumber(v);
    else if (typeof v === 'string') for (const m of v.match(numRe) ?? []) allowed.add(m);
    else if (Array.isArray(v)) { allowed.add(String(v.length)); v.forEach(walk); }
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(json);
  const shown = md.replace(/\\/g, '').match(numRe) ?? [];
  assert.ok(shown.length > 60, `found ${shown.length} numbers`);
  const missing = shown.filter((s) => !allowed.has(s));
  assert.equal(missing, [], `numbers in report.md but not in results.json: ${missing.join(', ')}`);
});

test('one seed: no ± and no std', () => {
  const inp = input();
  inp.protocol.seeds = [4];
  inp.heads[0]!.shots = inp.heads[0]!.shots.map((s) => ({ ...s, seeds: s.seeds.slice(0, 1) }));
  const r = buildResults(inp);
  assert.is(r.heads[0]!.shots[0]!.top1.std, null);
  const md = renderMarkdown(r);
  assert.not.match(md, /±/);
  assert.match(md, /one seed \(4\)/);
});

test('mdEscape keeps tables intact', () => {
  assert.is(mdEscape('a|b_c*d\ne'), 'a\\|b\\_c\\*d e');
});

test('writeBenchReport: three files; an existing folder needs force', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const out = join(dir, 'report');
    const r = buildResults(input());
    await checkOutDir(out, false);
    const files = await writeBenchReport(out, r);
    assert.equal(files.map((f) => f.slice(out.length + 1)), ['results.json', 'chart.svg', 'report.md']);
    assert.equal(readdirSync(out).sort(), ['chart.svg', 'report.md', 'results.json']);
    assert.equal(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')), JSON.parse(JSON.stringify(r)));
    try {
      await writeBenchReport(out, r);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, ZsError);
      assert.is((e as ZsError).code, 'E_OUT_EXISTS');
      assert.is((e as ZsError).kind, 'usage');
      assert.match((e as ZsError).hint!, /--force/);
    }
    writeFileSync(join(out, 'mine.txt'), 'keep');
    await writeBenchReport(out, r, { force: true });
    assert.equal(readdirSync(out).sort(), ['chart.svg', 'mine.txt', 'report.md', 'results.json']);
    writeFileSync(join(dir, 'file'), 'x');
    await checkOutDir(join(dir, 'file'), true).then(() => assert.unreachable(), (e) => assert.match(e.message, /is a file/));
  } finally {
    cleanup();
  }
});

test.run();
