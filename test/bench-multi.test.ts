/**
 * The multi-backbone bench (src/bench/multi.ts, multi-report.ts) on tiny fixtures: a CNN classifier without a text
 * tower and CLIP, same protocol for both. Random weights: accuracies are not asserted, only that each backbone got
 * exactly what a run of its own gets, and what the report shows.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model } from '../src/embed/model.js';
import { runBench } from '../src/bench/run.js';
import { runMultiBench } from '../src/bench/multi.js';
import { renderMultiMarkdown, multiChartSvg, writeMultiBenchReport } from '../src/bench/multi-report.js';
import { HEAD_SPECS } from '../src/heads/registry.js';
import { tempDir, CLIP_DIR, FIXTURES } from './_helpers.js';
import { makeColorDataset } from './helpers/color-dataset.js';

const { dir: tmp, cleanup } = tempDir();
const DATA = join(tmp, 'colors');
const RESNET = join(FIXTURES, 'tiny-random-resnet');
const load = (spec: string) => Model.load(spec, { threads: 1, workers: 0, cacheDir: join(tmp, 'home') });
const opts = { data: DATA, shots: [1, 2, 'all'] as (number | 'all')[], seeds: 2, templates: ['a photo of a {}.', 'a drawing of a {}.'], zsVersion: 'test' };

test.before(async () => {
  await makeColorDataset(DATA, { train: 6, test: 3 });
});
test.after(cleanup);

test('each backbone gets the same protocol and the same numbers as a run of its own; no text tower: probe only', async () => {
  const started: string[] = [];
  const r = await runMultiBench([RESNET, CLIP_DIR], load, { ...opts, onModel: (s) => { started.push(s); } });
  assert.equal(started, [RESNET, CLIP_DIR]);
  assert.equal(r.backbones.map((b) => b.model.id), [RESNET, CLIP_DIR]);
  assert.equal(r.backbones.map((b) => b.model.dim), [256, 16]);
  const [cnn, clip] = r.backbones;
  assert.equal(cnn!.zeroShot, []);
  const textHeads = Object.values(HEAD_SPECS).filter((h) => h.text).map((h) => h.title);
  assert.ok(cnn!.heads.some((h) => h.name === 'linear probe'));
  assert.equal(cnn!.heads.filter((h) => textHeads.includes(h.name)), [], 'no head that needs zero-shot');
  assert.ok(cnn!.notes.some((n) => /no text tower/.test(n)));
  assert.match(cnn!.headline, /no text tower, so no zero-shot/);
  assert.ok(clip!.heads.some((h) => h.name === 'anchored probe') && clip!.heads.length > cnn!.heads.length);
  assert.is(clip!.zeroShot.length, 2);
  for (const b of r.backbones) {
    assert.equal([b.dataset.nTrain, b.dataset.nTest, b.protocol.seeds, b.protocol.shots], [18, 9, [0, 1], [1, 2, 'all']]);
  }
  // same draws: the probe of each backbone uses the same number of rows per seed, and CLIP alone gives the same numbers
  const rows = (b: typeof cnn) => b!.heads[0]!.shots.flatMap((s) => s.seeds.map((x) => [x.nTrain, x.nVal]));
  assert.equal(rows(cnn), rows(clip));
  const model = await load(CLIP_DIR);
  try {
    const alone = await runBench(model, opts);
    assert.equal(alone.heads.map((h) => h.shots.map((s) => s.seeds.map((x) => x.top1))), clip!.heads.map((h) => h.shots.map((s) => s.seeds.map((x) => x.top1))));
    assert.equal(alone.zeroShot.map((z) => z.top1), clip!.zeroShot.map((z) => z.top1));
  } finally {
    await model.close();
  }
  assert.match(r.headline, /^Linear probe top-1 with all training images \(mean of 2 seeds\): .+; zero-shot: .*tiny-random-clip \d+\.\d%\.$/);
  assert.equal(r.notes, []);

  const md = renderMultiMarkdown(r);
  assert.match(md, /# zs bench: 2 backbones on /);
  const compared = md.slice(md.indexOf('## Backbones compared'), md.indexOf(`## ${RESNET}`));
  const table = compared.split('\n').filter((l) => l.startsWith('| ') && (l.includes('tiny-random-resnet') || l.includes('tiny-random-clip')));
  assert.is(table.length, 2);
  assert.match(table[0]!, /\| 256 \| — \|/);
  const z = clip!.zeroShot.reduce((a, b) => (b.templates > a.templates ? b : a));
  assert.ok(table[1]!.includes(`| 16 | ${(100 * z.top1).toFixed(1)} |`));
  const svg = multiChartSvg(r);
  assert.is((svg.match(/<g class="series"/g) ?? []).length, 2);
  assert.ok(svg.includes(`data-name="${RESNET}"`) && svg.includes(`data-name="${CLIP_DIR}"`));
  assert.is((svg.match(/class="hline"/g) ?? []).length, 1, 'one zero-shot line: only CLIP has a text tower');

  const out = join(tmp, 'report');
  const files = await writeMultiBenchReport(out, r);
  assert.is(files.length, 3);
  const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { kind: string; backbones: unknown[] };
  assert.equal([json.kind, json.backbones.length], ['zs-bench-multi', 2]);
  await writeMultiBenchReport(out, r).then(() => assert.unreachable(), (e) => assert.is((e as { code: string }).code, 'E_OUT_EXISTS'));
});

test('an image-only backbone asked for zero-shot heads alone is a usage error', async () => {
  const model = await load(RESNET);
  try {
    await runBench(model, { ...opts, heads: ['anchored'] }).then(() => assert.unreachable(), (e) => {
      assert.is((e as { code: string }).code, 'E_NO_TEXT');
      assert.match((e as Error).message, /no text tower/);
    });
  } finally {
    await model.close();
  }
});

test.run();
