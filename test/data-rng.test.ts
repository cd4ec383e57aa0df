import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng, deriveSeed, rngFor } from '../src/data/rng.js';

// Expected values from an independent Python implementation of mulberry32 / FNV-1a + fmix32 (arbitrary-precision
// integers masked to 32 bits), so the streams are pinned across platforms and Node versions.
test('mulberry32 reference outputs', () => {
  const r = new Rng(1);
  assert.equal([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()], [2693262067, 11749833, 2265367787, 4213581821]);
  const z = new Rng(0);
  assert.equal([z.nextUint32(), z.nextUint32()], [1144304738, 1416247]);
  assert.ok(Math.abs(new Rng(1).float() - 0.6270739405881613) < 1e-15);
});

test('deriveSeed reference outputs and independence of names', () => {
  assert.is(deriveSeed(0, 'few-shot', 'cat'), 2231815592);
  assert.is(deriveSeed(42), 686566589);
  assert.is.not(deriveSeed(0, 'few-shot', 'cat'), deriveSeed(1, 'few-shot', 'cat'));
  assert.is.not(deriveSeed(0, 'few-shot', 'cat'), deriveSeed(0, 'test-split', 'cat'));
  assert.throws(() => deriveSeed(1.5), /invalid seed/);
});

test('below(n) stays in range and is roughly uniform', () => {
  const r = rngFor(3, 'u');
  const counts = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[r.below(6)]++;
  for (const c of counts) assert.ok(c > 9500 && c < 10500, String(c));
  assert.is(r.below(1), 0);
});

test('shuffle is a permutation, deterministic per seed', () => {
  const a = rngFor(5, 's').shuffle([...Array(50).keys()]);
  const b = rngFor(5, 's').shuffle([...Array(50).keys()]);
  const c = rngFor(6, 's').shuffle([...Array(50).keys()]);
  assert.equal(a, b);
  assert.not.equal(a, c);
  assert.equal([...a].sort((x, y) => x - y), [...Array(50).keys()]);
});

test.run();
