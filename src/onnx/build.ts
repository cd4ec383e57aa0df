/**
 * Building a tiny ONNX model in memory: one Gemm (Y = A B', transB = 1) on float32 with symbolic dims, so one
 * session serves every shape. Encoded field by field through protobufjs's Writer (see graph.ts for the choice);
 * field numbers from onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, ValueInfoProto).
 */
import protobuf from 'protobufjs/minimal.js';
import { DATA_TYPE } from './initializer.js';

type Writer = protobuf.Writer;
const LEN = 2, VARINT = 0;
const tag = (w: Writer, field: number, wire: number): Writer => w.uint32((field << 3) | wire);

/** ValueInfoProto { name = 1; type = 2 { tensor_type = 1 { elem_type = 1; shape = 2 { dim = 1 { dim_param = 2 } } } } }. */
function valueInfo(w: Writer, field: number, name: string, dims: readonly string[]): void {
  tag(w, field, LEN).fork();
  tag(w, 1, LEN).string(name);
  tag(w, 2, LEN).fork();               // TypeProto
  tag(w, 1, LEN).fork();               // tensor_type
  tag(w, 1, VARINT).int32(DATA_TYPE.float);
  tag(w, 2, LEN).fork();               // TensorShapeProto
  for (const p of dims) tag(w, 1, LEN).fork().uint32((2 << 3) | LEN).string(p).ldelim();
  w.ldelim().ldelim().ldelim().ldelim();
}

/**
 * ModelProto bytes of Y [n, K] = A [n, d] B [K, d]' (Gemm, transB = 1), inputs `A`, `B`, output `Y`, opset 13.
 * No initializers: both sides are fed on every run.
 */
export function gemmTransBModel(): Uint8Array {
  const w = protobuf.Writer.create();
  tag(w, 1, VARINT).int64(8);                       // ir_version 8
  tag(w, 2, LEN).string('zs');                      // producer_name
  tag(w, 8, LEN).fork();                            // opset_import { domain = 1 ''; version = 2 }
  tag(w, 2, VARINT).int64(13);
  w.ldelim();
  tag(w, 7, LEN).fork();                            // graph
  tag(w, 1, LEN).fork();                            // node
  tag(w, 1, LEN).string('A');
  tag(w, 1, LEN).string('B');
  tag(w, 2, LEN).string('Y');
  tag(w, 3, LEN).string('gemm');
  tag(w, 4, LEN).string('Gemm');
  tag(w, 5, LEN).fork();                            // attribute transB = 1 (type INT = 2)
  tag(w, 1, LEN).string('transB');
  tag(w, 3, VARINT).int64(1);
  tag(w, 20, VARINT).int32(2);
  w.ldelim();
  w.ldelim();
  tag(w, 2, LEN).string('gemm_transB');
  valueInfo(w, 11, 'A', ['n', 'd']);
  valueInfo(w, 11, 'B', ['K', 'd']);
  valueInfo(w, 12, 'Y', ['n', 'K']);
  w.ldelim();
  return w.finish();
}
