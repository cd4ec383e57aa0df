/**
 * Finding the feature tensor of a classifier (or embedding) graph: the tensor entering the last linear layer that
 * produces the output, after global pooling. The rule, in full:
 *
 * 1. The output is the one asked for, else `logits`, else the graph's only output.
 * 2. Walking back from it through bias/scale arithmetic and shape ops (TAIL_OPS), every Gemm or MatMul reached whose
 *    weight is an initializer is a head. Exactly one head is required; none or several is an error listing what was
 *    found (a distilled model averaging two heads has two: which one is "the" feature is the user's call).
 * 3. The head's data input is the feature. It must come from a pooling op (POOL_OPS: global average/max pool,
 *    average pool, reduce-mean/max, or a token Gather as in ViT/CLIP) reached through a chain of shape ops and
 *    per-vector head layers (CHAIN_OPS: flatten/reshape, activations, normalization, the hidden Gemms of an MLP head
 *    such as VGG's fc6/fc7, following the first data input of each). A chain that ends at a Conv, a graph input or
 *    any other op is "no recognisable pooled layer" and an error.
 *
 * Errors are one line naming the graph and the candidates, and say to pass --feature-output NAME. Never a guess.
 */
import { ZsError } from '../errors.js';
import { producers, type OnnxGraph, type OnnxNode } from './graph.js';

export interface ClassifierInput {
  /** The graph output the head produces (e.g. logits). */
  output: string;
  /** The pooled feature tensor entering the head. */
  feature: string;
  /** The head's weight initializer: Gemm B (transB says whether it is [out, in]), MatMul B [in, out]. */
  weight: string;
  bias?: string;
  op: 'Gemm' | 'MatMul';
  transB: boolean;
  /** Op type of the pooling layer the feature comes from. */
  pooledBy: string;
  /** TensorProto.DataType of the weight (the feature has the same type). */
  elemType: number;
}

const LINEAR = new Set(['Gemm', 'MatMul']);
const TAIL_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Identity', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Cast', 'Dropout']);
const POOL_OPS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'AveragePool', 'ReduceMean', 'ReduceMax', 'Gather']);
const CHAIN_OPS = new Set([
  'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout', 'Cast', 'Transpose',
  'Relu', 'Gelu', 'Tanh', 'Sigmoid', 'Erf', 'Clip', 'HardSwish', 'HardSigmoid', 'Mul', 'Add', 'Sub', 'Div', 'Pow', 'Sqrt',
  'LayerNormalization', 'BatchNormalization', 'Gemm', 'MatMul',
]);
const MAX_CHAIN = 64;

function fail(file: string, message: string): never {
  throw new ZsError('E_FEATURE_OUTPUT', `${file}: ${message}`, { hint: 'pass --feature-output NAME with the tensor to embed with' });
}

function isConstant(graph: OnnxGraph, prod: Map<string, OnnxNode>, name: string): boolean {
  return graph.initializers.has(name) || prod.get(name)?.opType === 'Constant';
}

/** The data input of a node: for a linear layer the one that is not an initializer, else the first. */
function dataInput(graph: OnnxGraph, prod: Map<string, OnnxNode>, node: OnnxNode): string | undefined {
  if (LINEAR.has(node.opType)) return node.inputs.slice(0, 2).find((i) => !isConstant(graph, prod, i));
  return node.inputs[0];
}

function chooseOutput(graph: OnnxGraph, file: string, wanted?: string): string {
  if (wanted !== undefined) {
    if (!graph.outputs.includes(wanted)) fail(file, `has no output ${JSON.stringify(wanted)} (outputs: ${graph.outputs.join(', ')})`);
    return wanted;
  }
  if (graph.outputs.includes('logits')) return 'logits';
  if (graph.outputs.length === 1) return graph.outputs[0]!;
  return fail(file, `has several outputs (${graph.outputs.join(', ')}) and none is named logits, so its classifier layer is ambiguous`);
}

/** Linear heads (Gemm/MatMul with an initializer weight) reached from `output` through TAIL_OPS. */
function heads(graph: OnnxGraph, prod: Map<string, OnnxNode>, output: string): { found: OnnxNode[]; stops: string[] } {
  const found: OnnxNode[] = [];
  const stops: string[] = [];
  const seen = new Set<string>();
  const todo = [output];
  while (todo.length) {
    const t = todo.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const node = prod.get(t);
    if (!node) continue;
    const weightIn = LINEAR.has(node.opType) && node.inputs.slice(0, 2).some((i) => graph.initializers.has(i));
    if (weightIn) found.push(node);
    else if (TAIL_OPS.has(node.opType)) {
      const data = ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze'].includes(node.opType) ? node.inputs.slice(0, 1) : node.inputs;
      todo.push(...data.filter((i) => i && !isConstant(graph, prod, i)));
    } else stops.push(`${node.opType} ${JSON.stringify(node.name || t)}`);
  }
  return { found, stops };
}

/** The pooling node the feature comes from, or where the chain stopped. */
function poolOf(graph: OnnxGraph, prod: Map<string, OnnxNode>, feature: string): { pool?: OnnxNode; stop: string } {
  let t: string | undefined = feature;
  for (let depth = 0; t !== undefined && depth < MAX_CHAIN; depth++) {
    const node = prod.get(t);
    if (!node) return { stop: graph.inputs.includes(t) ? `graph input ${t}` : `tensor ${t}` };
    if (POOL_OPS.has(node.opType)) return { pool: node, stop: '' };
    if (!CHAIN_OPS.has(node.opType)) return { stop: `${node.opType} ${JSON.stringify(node.name || t)}` };
    t = dataInput(graph, prod, node);
  }
  return { stop: `no pooling layer within ${MAX_CHAIN} layers` };
}

/** Finds the pooled tensor entering the classifier head (the rule is in this file's comment). */
export function findClassifierInput(graph: OnnxGraph, opts: { output?: string; file?: string } = {}): ClassifierInput {
  const file = opts.file ?? (graph.name ? `graph ${graph.name}` : 'the graph');
  const prod = producers(graph);
  const output = chooseOutput(graph, file, opts.output);
  const { found, stops } = heads(graph, prod, output);
  if (found.length === 0) {
    fail(file, `no Gemm/MatMul with a weight initializer produces ${output}${stops.length ? ` (the walk back stopped at ${stops.join(', ')})` : ''}, so no pooled feature layer was recognised`);
  }
  const features = found.map((n) => dataInput(graph, prod, n) ?? '?');
  if (found.length > 1) {
    fail(file, `${output} comes from ${found.length} linear layers, so there are several candidate feature tensors: ${features.join(', ')}`);
  }
  const head = found[0]!;
  const feature = features[0]!;
  const { pool, stop } = poolOf(graph, prod, feature);
  if (!pool) fail(file, `the tensor entering its last ${head.opType} (candidate ${feature}) does not come from a pooling layer (it comes from ${stop})`);
  const weight = head.inputs.slice(0, 2).find((i) => graph.initializers.has(i))!;
  let bias = head.opType === 'Gemm' && head.inputs[2] ? head.inputs[2] : undefined;
  if (!bias) {
    const add = graph.nodes.find((n) => n.opType === 'Add' && n.inputs.includes(head.outputs[0]!));
    bias = add?.inputs.find((i) => i !== head.outputs[0] && graph.initializers.has(i));
  }
  return {
    output, feature, weight, bias, op: head.opType as 'Gemm' | 'MatMul',
    transB: head.opType === 'Gemm' && head.attrs.transB === 1, pooledBy: pool.opType,
    elemType: graph.initializers.get(weight)!.dataType,
  };
}
