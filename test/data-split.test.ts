import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertFewShot, fewShotNeed, fewShotSplit, kShotSample, shortClasses, stratifiedSplit, take, valShots } from '../src/data/split.js';
import { ZsError } from '../src/errors.js';

// 3 classes, unequal sizes, interleaved rows.
const labels: string[] = [];
for (let i = 0; i < 60; i++) labels.push('cat');
for (let i = 0; i < 40; i++) labels.push('dog');
for (let i = 0; i < 25; i++) labels.push('cow');
labels.reverse();

function perClass(rows: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[labels[r]!] = (out[labels[r]!] ?? 0) + 1;
  return out;
}
const disjoint = (a: number[], b: number[]) => { const s = new Set(a); return b.every((x) => !s.has(x)); };
const ascending = (a: number[]) => a.every((x, i) => i === 0 || a[i - 1]! < x);

test('stratifiedSplit: per-class fractions, disjoint, covering, deterministic, seed-dependent', () => {
  const s = stratifiedSplit(labels, 0.2, 0);
  assert.equal(perClass(s.test), { cat: 12, dog: 8, cow: 5 });
  assert.equal(perClass(s.train), { cat: 48, dog: 32, cow: 20 });
  assert.ok(disjoint(s.train, s.test));
  assert.is(s.train.length + s.test.length, labels.length);
  assert.ok(ascending(s.train) && ascending(s.test));
  assert.equal(stratifiedSplit(labels, 0.2, 0), s);
  assert.not.equal(stratifiedSplit(labels, 0.2, 1).test, s.test);
});

test('stratifiedSplit: at least one row on each side; a class of one fails', () => {
  const s = stratifiedSplit(['a', 'a', 'b', 'b', 'b'], 0.01, 3);
  assert.equal(s.test.map((r) => ['a', 'a', 'b', 'b', 'b'][r]), ['a', 'b']);
  const t = stratifiedSplit(['a', 'a', 'b', 'b'], 0.99, 3);
  assert.is(t.train.length, 2);
  assert.throws(() => stratifiedSplit(['a', 'a', 'b'], 0.5, 0), (e: unknown) => e instanceof ZsError && e.code === 'E_TOO_FEW' && /"b" has 1/.test(e.message));
  for (const bad of [0, 1, -0.1, 1.5, NaN]) assert.throws(() => stratifiedSplit(labels, bad, 0), /invalid split fraction/);
});

test('fewShotSplit: exactly k train and min(k, 4) val per class, disjoint, nested train sets', () => {
  let prev: number[] = [];
  for (const k of [1, 2, 4, 8, 16]) {
    const fs = fewShotSplit(labels, k, 7);
    assert.equal(perClass(fs.train), { cat: k, dog: k, cow: k });
    assert.equal(perClass(fs.val), { cat: valShots(k), dog: valShots(k), cow: valShots(k) });
    assert.ok(disjoint(fs.train, fs.val));
    assert.ok(ascending(fs.train) && ascending(fs.val));
    assert.is(fs.trainPerClass, k);
    assert.is(fs.valPerClass, Math.min(k, 4));
    assert.ok(prev.every((r) => fs.train.includes(r)), `the ${k}-shot set holds the smaller ones`);
    prev = fs.train;
  }
});

test('fewShotSplit: same seed same sample, another seed another sample', () => {
  assert.equal(fewShotSplit(labels, 4, 1), fewShotSplit(labels, 4, 1));
  const seeds = [0, 1, 2, 3].map((s) => fewShotSplit(labels, 4, s).train.join(','));
  assert.is(new Set(seeds).size, 4);
});

test('protocol on a train/test split: no test row in train or validation', () => {
  const { train, test: testRows } = stratifiedSplit(labels, 0.2, 11);
  const pool = take(labels, train);
  for (const k of [1, 4, 16]) {
    for (const seed of [0, 1, 2]) {
      const fs = fewShotSplit(pool, k, seed);
      const trainRows = take(train, fs.train);
      const valRows = take(train, fs.val);
      assert.ok(disjoint(testRows, trainRows) && disjoint(testRows, valRows) && disjoint(trainRows, valRows));
      assertFewShot(pool, fs, k, train, testRows);
    }
  }
});

test('a class drawn independently of the other classes', () => {
  const withCow = fewShotSplit(labels, 2, 5);
  const noCow = labels.filter((l) => l !== 'cow');
  const catRows = (ls: string[], rows: number[]) => rows.filter((r) => ls[r] === 'cat').map((r) => ls.slice(0, r).filter((l) => l === 'cat').length);
  assert.equal(catRows(labels, withCow.train), catRows(noCow, fewShotSplit(noCow, 2, 5).train));
});

test('too few examples: shortClasses for skipping, E_TOO_FEW naming the classes for failing', () => {
  assert.is(fewShotNeed(16), 20);
  assert.is(fewShotNeed(2), 4);
  assert.equal(shortClasses(labels, 30), [{ label: 'cow', have: 25, need: 30 }]);
  assert.equal(shortClasses(labels, 20), []);
  try {
    fewShotSplit(labels, 32, 0);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).code, 'E_TOO_FEW');
    assert.match((e as Error).message, /32-shot run \(32 to train \+ 4 to validate\) needs 36 examples per class, but "cow" has 25/);
  }
  assert.throws(() => fewShotSplit(labels, 0, 0), /invalid shots/);
});

test('all data: stratified validation fraction, the rest trains', () => {
  const fs = fewShotSplit(labels, 'all', 0);
  assert.equal(perClass(fs.val), { cat: 12, dog: 8, cow: 5 });
  assert.equal(perClass(fs.train), { cat: 48, dog: 32, cow: 20 });
  assert.ok(disjoint(fs.train, fs.val));
  assert.is(fs.trainPerClass, 20);
  assert.is(fs.valPerClass, 5);
  assert.is(fewShotSplit(labels, 'all', 0, { valFraction: 0.5 }).val.length, 30 + 20 + 13);
});

test('kShotSample: the same rows fewShotSplit trains on', () => {
  assert.equal(kShotSample(labels, 8, 3), fewShotSplit(labels, 8, 3).train);
  assert.equal(perClass(kShotSample(labels, 25, 3)), { cat: 25, dog: 25, cow: 25 });
  assert.throws(() => kShotSample(labels, 26, 3), /"cow" has 25/);
});

test('assertFewShot catches broken draws', () => {
  const fs = fewShotSplit(labels, 2, 0);
  assertFewShot(labels, fs, 2);
  assertFewShot(labels, fewShotSplit(labels, 'all', 0), 'all');
  const broken = (f: typeof fs, re: RegExp, test?: number[]) =>
    assert.throws(() => assertFewShot(labels, f, 2, test && labels.map((_, i) => i), test), (e: unknown) => e instanceof ZsError && e.code === 'E_PROTOCOL' && re.test(e.message));
  broken({ ...fs, train: fs.train.slice(1) }, /has 1 training and 2 validation rows at 2 shots/);
  broken({ ...fs, val: [...fs.val.slice(1), fs.train.find((r) => labels[r] === labels[fs.val[0]!])!] }, /also a training row/);
  broken(fs, /a test row is used/, [fs.val[3]!]);
});

test.run();
