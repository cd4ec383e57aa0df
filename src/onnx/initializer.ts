/**
 * Initializer values as float32: raw_data (little-endian float32, float16, bfloat16 or float64), float_data,
 * int32_data (float16 / bfloat16 bit patterns) or external data (a file next to the graph, at offset/length).
 */
import { readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { ZsError } from '../errors.js';
import type { OnnxGraph, OnnxInitializer } from './graph.js';

export const DATA_TYPE = { float: 1, float16: 10, double: 11, bfloat16: 16 } as const;

export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** IEEE 754 half-precision bits -> number. */
export function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function fromBytes(b: Uint8Array, dataType: number, n: number, what: string): Float32Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = { [DATA_TYPE.float]: 4, [DATA_TYPE.float16]: 2, [DATA_TYPE.double]: 8, [DATA_TYPE.bfloat16]: 2 }[dataType];
  if (!width) throw new ZsError('E_MODEL_GRAPH', `${what} has data type ${dataType}, not a float type zs can read`, { hint: 'use an fp32 or fp16 graph' });
  if (b.byteLength !== n * width) throw new ZsError('E_MODEL_GRAPH', `${what} holds ${b.byteLength} bytes for ${n} values of ${width} bytes`, { hint: 'the graph is damaged: download or export it again' });
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (width === 4) out[i] = view.getFloat32(i * 4, true);
    else if (width === 8) out[i] = view.getFloat64(i * 8, true);
    else if (dataType === DATA_TYPE.float16) out[i] = half(view.getUint16(i * 2, true));
    else out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0]!;
  }
  return out;
}

function externalBytes(t: OnnxInitializer, baseDir: string | undefined, what: string): Uint8Array {
  const loc = t.external!.location;
  if (!loc || !baseDir || isAbsolute(loc) || normalize(loc).startsWith('..')) {
    throw new ZsError('E_MODEL_GRAPH', `${what} is stored in external data ${JSON.stringify(loc ?? '')} that zs cannot locate`, {
      hint: 'keep the external data file next to the graph, under its relative name',
    });
  }
  const file = join(baseDir, loc);
  const offset = Number(t.external!.offset ?? 0);
  try {
    if (t.external!.length === undefined) return readFileSync(file).subarray(offset);
    const length = Number(t.external!.length);
    const buf = Buffer.alloc(length);
    const fd = openSync(file, 'r');
    try {
      if (readSync(fd, buf, 0, length, offset) !== length) throw new Error('file is shorter than the graph says');
    } finally {
      closeSync(fd);
    }
    return buf;
  } catch (e) {
    throw new ZsError('E_MODEL_FILE', `cannot read external data of ${what} from ${file}: ${(e as Error).message}`, { hint: 'download or export the model again' });
  }
}

/** An initializer as float32 with its dims. `baseDir` (the graph's folder) resolves external data. */
export function readInitializer(graph: OnnxGraph, name: string, opts: { baseDir?: string; file?: string } = {}): FloatTensor {
  const t = graph.initializers.get(name);
  const what = `initializer ${JSON.stringify(name)} of ${opts.file ?? (graph.name || 'the graph')}`;
  if (!t) throw new ZsError('E_MODEL_GRAPH', `${what} does not exist`, { hint: 'name an initializer of the graph' });
  const n = t.dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.external) data = fromBytes(externalBytes(t, opts.baseDir, what), t.dataType, n, what);
  else if (t.raw && t.raw.length > 0) data = fromBytes(t.raw, t.dataType, n, what);
  else if (t.floatData && t.dataType === DATA_TYPE.float) data = Float32Array.from(t.floatData);
  else if (t.int32Data && (t.dataType === DATA_TYPE.float16 || t.dataType === DATA_TYPE.bfloat16)) {
    data = fromBytes(new Uint8Array(new Uint16Array(t.int32Data).buffer), t.dataType, t.int32Data.length, what);
  } else data = new Float32Array(0);
  if (data.length !== n) throw new ZsError('E_MODEL_GRAPH', `${what} holds ${data.length} values, its dims ${JSON.stringify(t.dims)} need ${n}`, { hint: 'the graph is damaged: download or export it again' });
  return { data, dims: t.dims };
}
