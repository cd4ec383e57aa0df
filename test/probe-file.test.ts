/** The probe file for every head: save, load, the same predictions; refusals of foreign and damaged files. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Probe } from '../src/heads/probe-file.js';
import { LinearProbe } from '../src/heads/probe.js';
import { HEAD_SPECS, fitSession } from '../src/heads/registry.js';
import { fitFinetune } from '../src/heads/finetune.js';
import { HEAD_NAMES } from '../src/heads/state.js';
import type { Dataset } from '../src/learn/logreg.js';
import { Rng } from '../src/data/rng.js';
import { ZsError } from '../src/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'zs-probe-file-'));
const model = { id: 'test/model', fingerprint: 'abc' };
const labels = ['a', 'b', 'c'];
const K = 3, d = 6;

function rows(seed: number, perClass: number): Dataset {
  const r = new Rng(seed);
  const x = new Float32Array(perClass * K * d);
  const y = new Int32Array(perClass * K);
  for (let i = 0; i < perClass * K; i++) {
    y[i] = i % K;
    let s = 0;
    for (let j = 0; j < d; j++) { const v = (j === i % K ? 1 : 0) + 0.4 * (r.float() - 0.5); x[i * d + j] = v; s += v * v; }
    for (let j = 0; j < d; j++) x[i * d + j]! /= Math.sqrt(s);
  }
  return { x, labels: y, n: perClass * K, d, K };
}

const train = rows(1, 4), val = rows(2, 2), testRows = rows(3, 3);
const zs = { T: Float32Array.from({ length: K * d }, (_, i) => (i % d === Math.floor(i / d) ? 1 : 0)), scale: 20, bias: 0 };

async function fitted(head: (typeof HEAD_NAMES)[number]): Promise<Probe> {
  if (head === 'finetune') {
    const p = 5;
    const r = new Rng(4);
    const W0 = Float32Array.from({ length: d * p }, () => r.float() - 0.5);
    const h = Float32Array.from({ length: train.n * p }, () => r.float() - 0.5);
    const f = fitFinetune({ fitOn: { ...train, x: h, d: p }, W0, d, feature: 'h' }, zs, { maxIter: 20 });
    return new Probe(model, labels, p, f.params, f.settings, { n: train.n });
  }
  const f = await HEAD_SPECS[head].fit(fitSession({ train, val, fitOn: train, zs }));
  return new Probe(model, labels, d, f.params, f.settings, { n: train.n });
}

test('every head saves, loads and predicts the same probabilities', async () => {
  for (const head of HEAD_NAMES) {
    const probe = await fitted(head);
    const file = join(tmp, `${head}.json`);
    await probe.save(file);
    const back = await Probe.load(file, model);
    assert.is(back.head, head);
    assert.equal(back.settings, probe.settings);
    const x = head === 'finetune' ? Float32Array.from({ length: 4 * probe.dim }, (_, i) => Math.sin(i)) : testRows.x;
    const a = probe.predictProba(x), b = back.predictProba(x);
    assert.is(a.length, (x.length / probe.dim) * K);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6 && Number.isFinite(a[i]!), `${head} ${i}`);
    for (let i = 0; i < a.length; i += K) assert.ok(Math.abs(a[i]! + a[i + 1]! + a[i + 2]! - 1) < 1e-9);
    if (head !== 'finetune') {
      let ok = 0;
      for (let i = 0; i < testRows.n; i++) if (a[i * K + testRows.labels[i]!]! === Math.max(a[i * K]!, a[i * K + 1]!, a[i * K + 2]!)) ok++;
      assert.ok(ok >= testRows.n - 1, `${head}: ${ok} of ${testRows.n}`);
    }
  }
});

test('a schema 1 linear probe file loads as a linear head with the same predictions', async () => {
  const lp = await LinearProbe.fit(train.x, train.labels, { classes: labels, model, C: 1 });
  const file = join(tmp, 'v1.json');
  await lp.save(file);
  const p = await Probe.load(file, model);
  assert.is(p.head, 'linear');
  const a = lp.predictProba(testRows.x), b = p.predictProba(testRows.x);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-9);
});

async function refusal(edit: (j: Record<string, any>) => void, re: RegExp, ref = model): Promise<void> {
  const json = JSON.parse(readFileSync(join(tmp, 'tip.json'), 'utf8'));
  edit(json);
  const file = join(tmp, 'edited.json');
  writeFileSync(file, JSON.stringify(json));
  try {
    await Probe.load(file, ref);
    assert.unreachable('expected a refusal');
  } catch (e) {
    assert.instance(e, ZsError);
    const line = (e as ZsError).message;
    assert.match(line, re);
    assert.not.match(line, /\n/);
  }
}

test('refused with one line: another model, a newer schema or head version, fields edited into nonsense', async () => {
  await refusal(() => {}, /made for another version of "test\/model"/, { id: 'test/model', fingerprint: 'other' });
  await refusal(() => {}, /made for model "test\/model", not for "x\/y"/, { id: 'x/y', fingerprint: 'abc' });
  await refusal((j) => { j.schema = 3; }, /schema 3; this zs reads schema 2/);
  await refusal((j) => { j.headVersion = 2; }, /tip head of version 2; this zs reads version 1/);
  await refusal((j) => { j.head = 'oracle'; }, /head is "oracle"/);
  await refusal((j) => { j.head = 'gda'; }, /params.W must be a list of 3 rows/);
  await refusal((j) => { j.params.alpha = 'NaN'; }, /params.alpha is "NaN"/);
  await refusal((j) => { j.params.beta = -1; }, /params.beta is -1/);
  await refusal((j) => { j.params.keyLabels[0] = 7; }, /params.keyLabels\[0\] is 7, not a class index from 0 to 2/);
  await refusal((j) => { j.params.keys[1].pop(); }, /params.keys\[1\] must be a list of 6 numbers/);
  await refusal((j) => { j.params.zeroShot.scale = 0; }, /params.zeroShot.scale is 0/);
  await refusal((j) => { j.labels = ['a', 'a', 'b']; }, /labels has "a" twice/);
  await refusal((j) => { j.input = 'pre-projection'; }, /input is "pre-projection", not "embedding"/);
  await refusal((j) => { j.dim = 5; }, /params.keys\[0\] must be a list of 5 numbers/);
});

test.run();
