import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { denseProducts, ORT_MIN_FLOPS } from '../src/learn/ort-matmul.js';
import { matmulT32 } from '../src/learn/matmul.js';
import { gemmTransBModel } from '../src/onnx/build.js';
import { readOnnxGraph } from '../src/onnx/index.js';
import { Rng } from '../src/data/rng.js';

test('the built graph is one Gemm with transB = 1 on inputs A, B and output Y', () => {
  const g = readOnnxGraph(gemmTransBModel());
  assert.equal(g.nodes.map((n) => [n.opType, n.inputs, n.outputs, n.attrs.transB]), [['Gemm', ['A', 'B'], ['Y'], 1]]);
  assert.equal([g.inputs, g.outputs], [['A', 'B'], ['Y']]);
});

test('onnxruntime X W\' equals the WASM kernel to float32 tolerance on odd shapes; one session serves every shape', async () => {
  const r = new Rng(7);
  const dp = denseProducts({ threads: 1 });
  try {
    for (const [n, K, d] of [[1, 1, 1], [3, 5, 7], [300, 7, 13], [257, 129, 65], [33, 1001, 17]] as const) {
      const x = Float32Array.from({ length: n * d }, () => r.float() - 0.5);
      const w = Float32Array.from({ length: K * d }, () => r.float() - 0.5);
      const ref = matmulT32(x, n, w, K, d);
      const z = await dp.matmulT(x, n, w, K, d, 'ort');
      assert.is(z.length, n * K);
      let err = 0;
      for (let i = 0; i < z.length; i++) err = Math.max(err, Math.abs(z[i]! - ref[i]!));
      assert.ok(err < 1e-5 * Math.max(1, Math.sqrt(d)), `${n}x${d}.${d}x${K}: max difference ${err}`);
      const auto = await dp.matmulT(x, n, w, K, d); // WASM below the switch point, ORT above: same values
      for (let i = 0; i < z.length; i++) assert.ok(Math.abs(auto[i]! - ref[i]!) < 1e-4, `auto ${n}x${K}x${d} at ${i}`);
    }
  } finally {
    await dp.close();
  }
});

test('the shapes above cross the switch point both ways', () => {
  assert.ok(33 * 1001 * 17 < ORT_MIN_FLOPS && 257 * 129 * 65 >= ORT_MIN_FLOPS);
});

test('empty products and short inputs', async () => {
  const dp = denseProducts({ threads: 1 });
  assert.equal(Array.from(await dp.matmulT(new Float32Array(0), 0, new Float32Array(6), 2, 3)), []);
  let message = '';
  try { await dp.matmulT(new Float32Array(2), 1, new Float32Array(6), 2, 3); } catch (e) { message = (e as Error).message; }
  assert.match(message, /expected 1 x 3/);
  await dp.close();
  await dp.close(); // closing twice (or with no session) is fine
});

test.run();
