import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { syncDenseProducts } from '../src/learn/ort-sync.js';
import { matmulT32 } from '../src/learn/matmul.js';
import { Rng } from '../src/data/rng.js';

test('the blocking onnxruntime product equals the WASM kernel on odd shapes, float32 and float64 inputs', () => {
  const r = new Rng(11);
  const dp = syncDenseProducts({ threads: 1 });
  try {
    for (const [n, K, d] of [[1, 1, 1], [5, 3, 9], [257, 129, 65], [40, 300, 31]] as const) {
      const x = Float64Array.from({ length: n * d }, () => r.float() - 0.5);
      const w = Float32Array.from({ length: K * d }, () => r.float() - 0.5);
      const ref = matmulT32(Float32Array.from(x), n, w, K, d);
      for (const force of ['ort', 'wasm', undefined] as const) {
        const z = dp.matmulT(x, n, w, K, d, force);
        assert.is(z.length, n * K);
        let err = 0;
        for (let i = 0; i < z.length; i++) err = Math.max(err, Math.abs(z[i]! - ref[i]!));
        assert.ok(err < 1e-4, `${n}x${d}.${d}x${K} ${force}: max difference ${err}`);
      }
    }
  } finally {
    dp.close();
  }
});

test('a product after close starts a new worker; short inputs are refused', () => {
  const dp = syncDenseProducts({ threads: 1 });
  assert.equal(Array.from(dp.matmulT([1, 2], 1, [3, 4], 1, 2, 'ort')), [11]);
  dp.close();
  assert.equal(Array.from(dp.matmulT([1, 2], 1, [3, 4, 5, 6], 2, 2, 'ort')), [11, 17]);
  dp.close();
  assert.throws(() => dp.matmulT([1], 1, [3, 4], 1, 2), /expected 1 x 2/);
});

test.run();
