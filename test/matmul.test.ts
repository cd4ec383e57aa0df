import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matmulT32, productWith } from '../src/learn/matmul.js';
import { Rng } from '../src/data/rng.js';

test('X W\' on the SIMD kernel equals the float64 product (odd sizes, more rows than one block)', () => {
  const r = new Rng(3);
  const n = 300, K = 7, d = 13;
  const x = Float32Array.from({ length: n * d }, () => r.float() - 0.5);
  const w = Float32Array.from({ length: K * d }, () => r.float() - 0.5);
  const z = matmulT32(x, n, w, K, d);
  assert.is(z.length, n * K);
  let err = 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j]! * w[k * d + j]!;
    err = Math.max(err, Math.abs(s - z[i * K + k]!));
  }
  assert.ok(err < 1e-5, `max error ${err}`);
});

test('update replaces W', () => {
  const p = productWith(Float32Array.from([1, 0, 0, 1]), 2, 2);
  assert.equal(Array.from(p.apply(Float32Array.from([2, 3]), 1)), [2, 3]);
  p.update([0, 1, 1, 0]);
  assert.equal(Array.from(p.apply(Float32Array.from([2, 3]), 1)), [3, 2]);
  assert.throws(() => p.update([1, 2, 3]), /expected 2 x 2/);
});

test.run();
