/**
 * Editing ONNX model bytes without re-encoding them: new graph outputs are appended to the GraphProto's payload (a
 * repeated field may appear anywhere in a message, so appending keeps every existing byte, unknown fields and field
 * order included) and the graph field's length prefix is rewritten. Everything before and after the graph is copied
 * as is. Encoding of the new fields through protobufjs's Writer (see graph.ts for the choice).
 */
import protobuf from 'protobufjs/minimal.js';
import { ZsError } from '../errors.js';
import { producers, readOnnxGraph, type OnnxGraph } from './graph.js';

export interface NewOutput {
  name: string;
  /**
   * TensorProto.DataType of the tensor. Omitted: taken from the graph's own type information (value_info), else the
   * output is written without a type and onnxruntime infers it from the producing node.
   */
  elemType?: number;
}

/** ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1 } } } as graph field 12. */
function encodeOutput(w: protobuf.Writer, name: string, elemType: number | undefined): void {
  w.uint32((12 << 3) | 2).fork();
  w.uint32((1 << 3) | 2).string(name);
  if (elemType) w.uint32((2 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32(1 << 3).int32(elemType).ldelim().ldelim();
  w.ldelim();
}

/** Tensor names a graph output may name: node outputs, initializers and graph inputs. */
function knownTensors(graph: OnnxGraph): Set<string> {
  return new Set([...producers(graph).keys(), ...graph.initializers.keys(), ...graph.inputs]);
}

/**
 * Returns new model bytes whose graph also outputs `outputs` (names already outputs are left alone). Every other
 * byte of the model is kept. A name the graph does not compute is an error naming the graph.
 */
export function addGraphOutputs(bytes: Uint8Array, outputs: readonly (string | NewOutput)[], file = 'ONNX model', graph?: OnnxGraph): Uint8Array {
  const g = graph ?? readOnnxGraph(bytes, file);
  const known = knownTensors(g);
  const w = protobuf.Writer.create();
  const added = new Set<string>();
  for (const o of outputs) {
    const { name, elemType } = typeof o === 'string' ? { name: o, elemType: undefined } : o;
    if (!known.has(name)) {
      throw new ZsError('E_MODEL_GRAPH', `${file} has no tensor named ${JSON.stringify(name)} to expose as an output`, {
        kind: 'usage', hint: 'name a tensor the graph computes (a node output)',
      });
    }
    if (g.outputs.includes(name) || added.has(name)) continue;
    added.add(name);
    encodeOutput(w, name, elemType ?? g.elemTypes.get(name));
  }
  const extra = w.finish();
  const { tag, start, end } = g.span;
  const head = protobuf.Writer.create().uint32((7 << 3) | 2).uint32(end - start + extra.length).finish();
  const out = new Uint8Array(tag + head.length + (end - start) + extra.length + (bytes.length - end));
  let at = 0;
  for (const part of [bytes.subarray(0, tag), head, bytes.subarray(start, end), extra, bytes.subarray(end)]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
