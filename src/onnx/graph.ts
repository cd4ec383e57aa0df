/**
 * Reading an ONNX ModelProto without losing anything: only the parts zs needs are decoded (the graph's nodes,
 * inputs, outputs, value_info element types and initializer metadata), everything else is skipped by wire type and
 * left in the original bytes, which edit.ts splices rather than re-encodes. Initializer payloads are not copied:
 * `raw` is a view into the model bytes, external data is a reference resolved by initializer.ts.
 *
 * Wire format through protobufjs's Reader (minimal build, one dependency: `long`): a maintained, widely used
 * implementation of varints, zig-zag, 64-bit ints, length-delimited fields and group skipping, instead of a
 * hand-rolled one. Its generated/reflection decoders are not used on purpose: they drop unknown fields and
 * re-encoding a 100 MB graph through them would rewrite every byte; the Reader lets us walk the fields we need and
 * keep byte offsets of the rest (field numbers from onnx/onnx.proto, IR version 10).
 */
import protobuf from 'protobufjs/minimal.js';
import { ZsError } from '../errors.js';

type Reader = protobuf.Reader;
const WIRE_LEN = 2;

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Integer, float and integer-list attributes (the others are skipped). */
  attrs: Record<string, number | number[]>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  /** TensorProto.DataType (1 float, 10 float16, 11 double, 16 bfloat16, ...). */
  dataType: number;
  /** raw_data, a view into the model bytes. */
  raw?: Uint8Array;
  /** float_data, when the exporter used it instead of raw_data. */
  floatData?: number[];
  /** int32_data (how float16/bfloat16 may be stored without raw_data). */
  int32Data?: number[];
  /** external_data key/value pairs (location, offset, length, checksum) when data_location is EXTERNAL. */
  external?: Record<string, string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  /** Graph input names (initializers may also be listed as inputs in old IR versions). */
  inputs: string[];
  outputs: string[];
  initializers: Map<string, OnnxInitializer>;
  /** Element type (TensorProto.DataType) of each tensor with type information in inputs, outputs or value_info. */
  elemTypes: Map<string, number>;
  /** Byte range of the GraphProto in the model bytes: the tag's first byte, the payload's first and end byte. */
  span: { tag: number; start: number; end: number };
}

const toNum = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

/** Calls `onField(field, wireType)` for each field of the message ending at `end`; it must consume or return false (skipped). */
function fields(r: Reader, end: number, onField: (field: number, wire: number) => boolean): void {
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) throw new Error(`invalid field 0 at byte ${r.pos}`);
    if (!onField(field, wire)) r.skipType(wire);
  }
  if (r.pos !== end) throw new Error(`message overruns its length at byte ${r.pos}`);
}

const sub = (r: Reader): number => r.uint32() + r.pos;

/** Repeated int64 / int32 / float, packed or not. */
function repeated(r: Reader, wire: number, out: number[], one: () => number): void {
  if (wire !== WIRE_LEN) { out.push(one()); return; }
  const end = sub(r);
  while (r.pos < end) out.push(one());
}

function readAttribute(r: Reader, attrs: OnnxNode['attrs']): void {
  let name = '';
  let value: number | number[] | undefined;
  const ints: number[] = [];
  fields(r, sub(r), (f, w) => {
    if (f === 1) name = r.string();
    else if (f === 2 && w === 5) value = r.float();
    else if (f === 3 && w === 0) value = toNum(r.int64());
    else if (f === 8) repeated(r, w, ints, () => toNum(r.int64()));
    else return false;
    return true;
  });
  if (name) attrs[name] = value ?? ints;
}

function readNode(r: Reader): OnnxNode {
  const node: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attrs: {} };
  fields(r, sub(r), (f) => {
    if (f === 1) node.inputs.push(r.string());
    else if (f === 2) node.outputs.push(r.string());
    else if (f === 3) node.name = r.string();
    else if (f === 4) node.opType = r.string();
    else if (f === 5) readAttribute(r, node.attrs);
    else if (f === 7) node.domain = r.string();
    else return false;
    return true;
  });
  return node;
}

function readEntry(r: Reader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  fields(r, sub(r), (f) => {
    if (f === 1) key = r.string();
    else if (f === 2) value = r.string();
    else return false;
    return true;
  });
  into[key] = value;
}

function readTensor(r: Reader): OnnxInitializer {
  const t: OnnxInitializer = { name: '', dims: [], dataType: 0 };
  const external: Record<string, string> = {};
  let location = 0;
  fields(r, sub(r), (f, w) => {
    if (f === 1) repeated(r, w, t.dims, () => toNum(r.int64()));
    else if (f === 2) t.dataType = r.int32();
    else if (f === 4) repeated(r, w, (t.floatData ??= []), () => r.float());
    else if (f === 5) repeated(r, w, (t.int32Data ??= []), () => r.int32());
    else if (f === 8) t.name = r.string();
    else if (f === 9) t.raw = r.bytes();
    else if (f === 13) readEntry(r, external);
    else if (f === 14) location = r.int32();
    else return false;
    return true;
  });
  if (location === 1) t.external = external;
  return t;
}

/** ValueInfoProto -> [name, elem_type or 0]. TypeProto.tensor_type (1) -> elem_type (1). */
function readValueInfo(r: Reader): [string, number] {
  let name = '';
  let elem = 0;
  fields(r, sub(r), (f) => {
    if (f === 1) name = r.string();
    else if (f === 2) {
      fields(r, sub(r), (tf) => {
        if (tf !== 1) return false; // tensor_type only
        fields(r, sub(r), (ef, ew) => {
          if (ef !== 1 || ew !== 0) return false;
          elem = r.int32();
          return true;
        });
        return true;
      });
    } else return false;
    return true;
  });
  return [name, elem];
}

function readGraph(r: Reader, span: OnnxGraph['span']): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], inputs: [], outputs: [], initializers: new Map(), elemTypes: new Map(), span };
  const typed = (list: string[] | undefined) => {
    const [name, elem] = readValueInfo(r);
    list?.push(name);
    if (elem) g.elemTypes.set(name, elem);
  };
  fields(r, span.end, (f) => {
    if (f === 1) g.nodes.push(readNode(r));
    else if (f === 2) g.name = r.string();
    else if (f === 5) { const t = readTensor(r); g.initializers.set(t.name, t); }
    else if (f === 11) typed(g.inputs);
    else if (f === 12) typed(g.outputs);
    else if (f === 13) typed(undefined);
    else return false;
    return true;
  });
  return g;
}

/** Parses the graph of an ONNX ModelProto. `file` only names the graph in errors. */
export function readOnnxGraph(bytes: Uint8Array, file = 'ONNX model'): OnnxGraph {
  const r = protobuf.Reader.create(bytes);
  let graph: OnnxGraph | undefined;
  try {
    fields(r, bytes.length, (f, w) => {
      if (f !== 7 || w !== WIRE_LEN) return false;
      if (graph) throw new Error('two graph fields');
      const tag = r.pos - 1; // field 7, wire 2: a one-byte tag
      const end = sub(r);
      graph = readGraph(r, { tag, start: r.pos, end });
      return true;
    });
  } catch (e) {
    if (e instanceof ZsError) throw e;
    throw new ZsError('E_MODEL_GRAPH', `${file} is not a readable ONNX model: ${(e as Error).message}`, {
      hint: 'the file may be truncated or not an ONNX model: download or export it again', cause: e,
    });
  }
  if (!graph) {
    throw new ZsError('E_MODEL_GRAPH', `${file} is not an ONNX model: it has no graph`, { hint: 'download or export the model again' });
  }
  return graph;
}

/** The node producing each tensor name. */
export function producers(graph: OnnxGraph): Map<string, OnnxNode> {
  const m = new Map<string, OnnxNode>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}
