/**
 * The probe file's shape and the checks a loaded one must pass: every field present, of the right type and
 * size, numbers finite, scales positive, labels distinct. One error names the file and the first bad field.
 */
import { ZsError } from '../errors.js';

export interface ProbeJson {
  schema: number;
  kind: string;
  model: { id: string; fingerprint: string };
  dim: number;
  labels: string[];
  standardization: { mean: number[]; scale: number[] } | null;
  weights: number[][];
  intercepts: number[];
  C: number;
  training: Record<string, unknown>;
}

function bad(source: string, field: string, problem: string): never {
  throw new ZsError('E_PROBE_CORRUPT', `${source}: ${field} ${problem}`,
    { hint: 'the file is damaged or not a zs probe: fit the probe again' });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteArray(source: string, field: string, v: unknown, length: number, positive = false): number[] {
  if (!Array.isArray(v) || v.length !== length) bad(source, field, `must be a list of ${length} numbers`);
  for (const [i, x] of v.entries()) {
    if (typeof x !== 'number' || !Number.isFinite(x) || (positive && !(x > 0))) {
      bad(source, `${field}[${i}]`, `is ${JSON.stringify(x)}, not a ${positive ? 'positive' : 'finite'} number`);
    }
  }
  return v as number[];
}

export function checkProbeJson(json: unknown, source: string, schema: number, kind: string): ProbeJson {
  if (!isObj(json)) bad(source, 'the content', 'is not a JSON object');
  if (json.kind !== kind) bad(source, 'kind', `is ${JSON.stringify(json.kind)}, not ${JSON.stringify(kind)}`);
  if (typeof json.schema !== 'number' || !Number.isInteger(json.schema)) bad(source, 'schema', 'must be an integer');
  if (json.schema > schema) {
    throw new ZsError('E_PROBE_SCHEMA', `${source} has schema ${json.schema}; this zs reads schema ${schema}`,
      { hint: 'upgrade zs to read it' });
  }
  if (json.schema !== schema) bad(source, 'schema', `is ${json.schema}, not ${schema}`);
  const model = json.model;
  if (!isObj(model) || typeof model.id !== 'string' || model.id === '' || typeof model.fingerprint !== 'string' || model.fingerprint === '') {
    bad(source, 'model', 'must be { id, fingerprint } with non-empty strings');
  }
  const dim = json.dim;
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) bad(source, 'dim', 'must be a positive integer');
  const labels = json.labels;
  if (!Array.isArray(labels) || labels.length < 2) bad(source, 'labels', 'must list at least two classes');
  const seen = new Set<string>();
  for (const [i, l] of labels.entries()) {
    if (typeof l !== 'string' || l === '') bad(source, `labels[${i}]`, 'must be a non-empty string');
    if (seen.has(l)) bad(source, 'labels', `has ${JSON.stringify(l)} twice`);
    seen.add(l);
  }
  const K = labels.length;
  const weights = json.weights;
  if (!Array.isArray(weights) || weights.length !== K) bad(source, 'weights', `must have one row per label (${K})`);
  weights.forEach((row, k) => finiteArray(source, `weights[${k}]`, row, dim));
  finiteArray(source, 'intercepts', json.intercepts, K);
  const st = json.standardization;
  if (st !== null) {
    if (!isObj(st)) bad(source, 'standardization', 'must be null or { mean, scale }');
    finiteArray(source, 'standardization.mean', st.mean, dim);
    finiteArray(source, 'standardization.scale', st.scale, dim, true);
  }
  if (typeof json.C !== 'number' || !Number.isFinite(json.C) || !(json.C > 0)) bad(source, 'C', 'must be a positive number');
  if (!isObj(json.training)) bad(source, 'training', 'must be an object');
  return json as unknown as ProbeJson;
}
