/**
 * Head parameters (state.ts) to and from JSON, with the checks a loaded file must pass: every array of the right
 * length and finite, labels of cache keys in range, weights and scales in range. One ZsError names the file and
 * the first bad field. Layout per head (dim = the head's input dimension):
 *   linear | anchored | gda   { W: [K][dim], b: [K] }
 *   wise                      { zeroShot: { T: [K][dim], scale, bias }, W: [K][dim], b: [K], alpha in [0, 1] }
 *   tip                       { zeroShot, keys: [N][dim], keyLabels: [N], alpha >= 0, beta >= 0 }
 *   finetune                  { feature: graph tensor, embedDim: d, projection: [d][dim], classes: [K][d], scale > 0 }
 */
import { ZsError } from '../errors.js';
import type { HeadName, HeadParams, ZeroShotWeights } from './state.js';

export type Json = Record<string, unknown>;

export function corrupt(source: string, field: string, problem: string): never {
  throw new ZsError('E_PROBE_CORRUPT', `${source}: ${field} ${problem}`, { hint: 'the file is damaged or not a zs probe: fit the probe again' });
}

export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(source: string, field: string, v: unknown, min = -Infinity, max = Infinity, open = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (open && v === min)) {
    corrupt(source, field, `is ${JSON.stringify(v)}, not a number ${open ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}`);
  }
  return v;
}

/** A [rows][cols] matrix of finite numbers, row-major. */
function matrix(source: string, field: string, v: unknown, rows: number | null, cols: number): Float64Array {
  if (!Array.isArray(v) || (rows !== null && v.length !== rows) || v.length === 0) corrupt(source, field, `must be a list of ${rows ?? 'some'} rows`);
  const out = new Float64Array(v.length * cols);
  v.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== cols) corrupt(source, `${field}[${r}]`, `must be a list of ${cols} numbers`);
    row.forEach((x, c) => { out[r * cols + c] = num(source, `${field}[${r}][${c}]`, x); });
  });
  return out;
}

function vector(source: string, field: string, v: unknown, length: number): Float64Array {
  return matrix(source, field, [v], 1, length);
}

function rowsOf(a: ArrayLike<number>, cols: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r * cols < a.length; r++) out.push(Array.from({ length: cols }, (_, c) => a[r * cols + c]!));
  return out;
}

function zsToJson(z: ZeroShotWeights, dim: number): Json {
  return { T: rowsOf(z.T, dim), scale: z.scale, bias: z.bias };
}

function zsFromJson(source: string, v: unknown, K: number, dim: number): ZeroShotWeights {
  if (!isObj(v)) corrupt(source, 'params.zeroShot', 'must be { T, scale, bias }');
  return {
    T: Float32Array.from(matrix(source, 'params.zeroShot.T', v.T, K, dim)),
    scale: num(source, 'params.zeroShot.scale', v.scale, 0, Infinity, true),
    bias: num(source, 'params.zeroShot.bias', v.bias),
  };
}

export function paramsToJson(p: HeadParams, dim: number): Json {
  switch (p.head) {
    case 'linear': case 'anchored': case 'gda': return { W: rowsOf(p.W, dim), b: Array.from(p.b) };
    case 'wise': return { zeroShot: zsToJson(p.zeroShot, dim), W: rowsOf(p.W, dim), b: Array.from(p.b), alpha: p.alpha };
    case 'tip': return { zeroShot: zsToJson(p.zeroShot, dim), keys: rowsOf(p.keys, dim), keyLabels: Array.from(p.keyLabels), alpha: p.alpha, beta: p.beta };
    case 'finetune': {
      const d = p.projection.length / p.p;
      return { feature: p.feature, embedDim: d, projection: rowsOf(p.projection, p.p), classes: rowsOf(p.classes, d), scale: p.scale };
    }
  }
}

/** Checked parameters of `head` for K classes and input dimension `dim`. */
export function paramsFromJson(source: string, head: HeadName, v: unknown, K: number, dim: number): HeadParams {
  if (!isObj(v)) corrupt(source, 'params', 'must be an object');
  switch (head) {
    case 'linear': case 'anchored': case 'gda':
      return { head, W: matrix(source, 'params.W', v.W, K, dim), b: vector(source, 'params.b', v.b, K) };
    case 'wise':
      return {
        head, zeroShot: zsFromJson(source, v.zeroShot, K, dim), W: matrix(source, 'params.W', v.W, K, dim),
        b: vector(source, 'params.b', v.b, K), alpha: num(source, 'params.alpha', v.alpha, 0, 1),
      };
    case 'tip': {
      const keys = Float32Array.from(matrix(source, 'params.keys', v.keys, null, dim));
      const N = keys.length / dim;
      const labels = vector(source, 'params.keyLabels', v.keyLabels, N);
      labels.forEach((l, i) => { if (!Number.isInteger(l) || l < 0 || l >= K) corrupt(source, `params.keyLabels[${i}]`, `is ${l}, not a class index from 0 to ${K - 1}`); });
      return {
        head, zeroShot: zsFromJson(source, v.zeroShot, K, dim), keys, keyLabels: Int32Array.from(labels),
        alpha: num(source, 'params.alpha', v.alpha, 0), beta: num(source, 'params.beta', v.beta, 0),
      };
    }
    case 'finetune': {
      const d = num(source, 'params.embedDim', v.embedDim, 1);
      if (!Number.isInteger(d)) corrupt(source, 'params.embedDim', 'must be a positive integer');
      if (typeof v.feature !== 'string' || v.feature === '') corrupt(source, 'params.feature', 'must name the graph tensor the head takes');
      return {
        head, feature: v.feature, p: dim, projection: Float32Array.from(matrix(source, 'params.projection', v.projection, d, dim)),
        classes: Float32Array.from(matrix(source, 'params.classes', v.classes, K, d)), scale: num(source, 'params.scale', v.scale, 0, Infinity, true),
      };
    }
  }
}
