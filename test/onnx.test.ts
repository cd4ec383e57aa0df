/**
 * src/onnx: reading, classifier-head detection and output editing on PyTorch-exported graphs
 * (scripts/make-onnx-fixtures.py), checked by running the edited graphs in onnxruntime against PyTorch's values.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOnnxGraph, findClassifierInput, addGraphOutputs, readInitializer } from '../src/onnx/index.js';
import { ZsError } from '../src/errors.js';
import { FIXTURES, REF_DIR, tempDir } from './_helpers.js';

const DIR = join(FIXTURES, 'onnx');
const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as {
  input: number[]; graphs: Record<string, { pooled: number[]; dim: number }>;
};
const bytesOf = (name: string) => new Uint8Array(readFileSync(join(DIR, `${name}.onnx`)));

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  return ab / Math.sqrt(aa * bb);
}

/** Runs an edited graph file on the reference input and returns the named output. */
async function run(file: string, output: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(file);
  try {
    const r = await s.run({ pixel_values: new ort.Tensor('float32', Float32Array.from(ref.input), [2, 3, 16, 16]) });
    assert.ok(r.logits, 'logits kept');
    return { data: r[output]!.data as Float32Array, dims: r[output]!.dims };
  } finally {
    await s.release();
  }
}

function throwsFeatureError(fn: () => unknown, ...parts: string[]): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ZsError);
    const line = (e as ZsError).toLine();
    assert.not.match(line, '\n');
    for (const p of parts) assert.ok(line.includes(p), `${JSON.stringify(p)} in ${line}`);
    return;
  }
  assert.unreachable('expected a ZsError');
}

test('reads nodes, inputs, outputs and initializers', () => {
  const g = readOnnxGraph(bytesOf('pooled'));
  assert.equal(g.inputs, ['pixel_values']);
  assert.equal(g.outputs, ['logits']);
  assert.equal(g.nodes.map((n) => n.opType), ['Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm']);
  assert.equal(g.initializers.get('fc.weight')!.dims, [5, 8]);
  assert.equal(g.nodes[4]!.attrs.transB, 1);
});

test('finds the pooled input of each head shape', () => {
  const pooled = findClassifierInput(readOnnxGraph(bytesOf('pooled')));
  assert.equal([pooled.op, pooled.weight, pooled.bias, pooled.transB, pooled.pooledBy, pooled.elemType], ['Gemm', 'fc.weight', 'fc.bias', true, 'GlobalAveragePool', 1]);
  const mean = findClassifierInput(readOnnxGraph(bytesOf('mean-norm')));
  assert.equal([mean.op, mean.weight, mean.bias, mean.transB, mean.pooledBy], ['MatMul', 'w', 'b', false, 'ReduceMean']);
  const mlp = findClassifierInput(readOnnxGraph(bytesOf('mlp')));
  assert.equal([mlp.op, mlp.weight, mlp.pooledBy], ['Gemm', 'fc8.weight', 'AveragePool']);
});

test('finds the classifier input of every CNN fixture family (the tensor PyTorch feeds its last nn.Linear)', () => {
  const cnn = JSON.parse(readFileSync(join(REF_DIR, 'cnn-reference.json'), 'utf8')) as { families: Record<string, { model: string; classifier_input: string }> };
  assert.ok(Object.keys(cnn.families).length >= 4);
  for (const [name, fam] of Object.entries(cnn.families)) {
    const c = findClassifierInput(readOnnxGraph(new Uint8Array(readFileSync(join(FIXTURES, fam.model, 'onnx', 'model.onnx')))));
    assert.equal([c.feature, c.op, c.output], [fam.classifier_input, 'Gemm', 'logits'], name);
  }
});

test('a head without a pooled layer and two heads are one-line errors naming the graph and the candidates', () => {
  throwsFeatureError(() => findClassifierInput(readOnnxGraph(bytesOf('no-pool')), { file: 'no-pool.onnx' }),
    'no-pool.onnx', 'does not come from a pooling layer', 'Conv', '--feature-output NAME');
  const two = readOnnxGraph(bytesOf('two-heads'));
  const gemmInputs = two.nodes.filter((n) => n.opType === 'Gemm').map((n) => n.inputs[0]!);
  throwsFeatureError(() => findClassifierInput(two, { file: 'two-heads.onnx' }), 'two-heads.onnx', 'several candidate', ...gemmInputs, '--feature-output NAME');
  throwsFeatureError(() => findClassifierInput(two, { output: 'probs', file: 'two-heads.onnx' }), 'has no output "probs"');
});

test('edited graphs return the pooled tensor PyTorch computed, next to logits', async () => {
  const t = tempDir();
  try {
    for (const name of ['pooled', 'mean-norm', 'mlp']) {
      const bytes = bytesOf(name);
      const c = findClassifierInput(readOnnxGraph(bytes));
      const file = join(t.dir, `${name}.onnx`);
      writeFileSync(file, addGraphOutputs(bytes, [{ name: c.feature, elemType: c.elemType }]));
      const out = await run(file, c.feature);
      const want = ref.graphs[name]!;
      assert.equal(out.dims, [2, want.dim], name);
      for (let i = 0; i < 2; i++) {
        const cos = cosine(out.data.subarray(i * want.dim, (i + 1) * want.dim), want.pooled.slice(i * want.dim, (i + 1) * want.dim));
        assert.ok(cos >= 0.99999, `${name} row ${i}: cosine ${cos}`);
      }
    }
  } finally {
    t.cleanup();
  }
});

test('edits keep every other byte, unknown fields and metadata included', async () => {
  const bytes = bytesOf('pooled-unknown');
  assert.equal(addGraphOutputs(bytes, []), bytes);
  const g = readOnnxGraph(bytes);
  const edited = addGraphOutputs(bytes, [findClassifierInput(g).feature], 'pooled-unknown.onnx', g);
  const e = readOnnxGraph(edited);
  assert.equal(edited.subarray(0, g.span.tag), bytes.subarray(0, g.span.tag));
  assert.equal(edited.subarray(e.span.start, e.span.start + g.span.end - g.span.start), bytes.subarray(g.span.start, g.span.end));
  assert.equal(edited.subarray(e.span.end), bytes.subarray(g.span.end));
  assert.equal(Array.from(bytes.subarray(g.span.end - 3, g.span.end)), [0xc0, 0x3e, 0x2a], 'the unknown field is inside the graph');
  assert.ok(Buffer.from(edited).includes('zs-test'), 'metadata_props kept');
  assert.equal(e.outputs, ['logits', '/Flatten_output_0']);
  const t = tempDir();
  try {
    writeFileSync(join(t.dir, 'm.onnx'), edited);
    const out = await run(join(t.dir, 'm.onnx'), '/Flatten_output_0');
    assert.ok(cosine(out.data, ref.graphs.pooled!.pooled) >= 0.99999);
  } finally {
    t.cleanup();
  }
});

test('initializers read the same from raw data and from external data', async () => {
  const inner = readOnnxGraph(bytesOf('mean-norm'));
  const ext = readOnnxGraph(bytesOf('mean-norm-ext'));
  assert.ok(ext.initializers.get('w')!.external, 'stored externally');
  const a = readInitializer(inner, 'w');
  const b = readInitializer(ext, 'w', { baseDir: DIR });
  assert.equal(a.dims, [8, 5]);
  assert.equal(Array.from(b.data), Array.from(a.data));
  throwsFeatureError(() => readInitializer(ext, 'w'), 'external data');
  // the edited external-data graph runs when written next to its data file
  const t = tempDir();
  try {
    copyFileSync(join(DIR, 'mean-norm-ext.onnx.data'), join(t.dir, 'mean-norm-ext.onnx.data'));
    const c = findClassifierInput(ext);
    writeFileSync(join(t.dir, 'e.onnx'), addGraphOutputs(bytesOf('mean-norm-ext'), [c.feature]));
    const out = await run(join(t.dir, 'e.onnx'), c.feature);
    assert.ok(cosine(out.data, ref.graphs['mean-norm']!.pooled) >= 0.99999);
  } finally {
    t.cleanup();
  }
});

test('exposing a tensor the graph does not compute is an error; bad bytes are one error', () => {
  throwsFeatureError(() => addGraphOutputs(bytesOf('pooled'), ['nope'], 'pooled.onnx'), 'pooled.onnx', '"nope"');
  throwsFeatureError(() => readOnnxGraph(bytesOf('pooled').subarray(0, 300), 'cut.onnx'), 'cut.onnx');
});

test.run();
