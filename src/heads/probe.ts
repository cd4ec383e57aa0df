/**
 * LinearProbe: a multinomial logistic-regression head on frozen embeddings — fit (fixed C or the CLIP
 * C search), predictProba / predict, and the versioned probe file.
 *
 * Probe file (JSON, schema 1), written atomically:
 *   { schema, kind: 'zs-linear-probe', model: { id, fingerprint }, dim, labels: [K],
 *     standardization: null | { mean: [dim], scale: [dim] }, weights: [K][dim], intercepts: [K], C,
 *     training: { n, iterations, converged, objective, trainAccuracy, seconds, warning?, cSearch? } }
 * Loading checks every field and that the probe was made for the model at hand (id and fingerprint,
 * opaque strings the caller supplies). Inputs are features [n, dim] float32 row-major; labels are class
 * indices into `classes`.
 */
import { readFile } from 'node:fs/promises';
import { ZsError, usageError, wrapError } from '../errors.js';
import { distinctStrings, nonEmptyString } from '../validate.js';
import { writeFileAtomic } from '../util/fs.js';
import { searchC, type CSearchResult } from '../learn/csearch.js';
import { fitLogReg, type FitOptions } from '../learn/fit.js';
import { argmaxRows, predictProbaRows, type Dataset } from '../learn/logreg.js';
import { foldStandardization, type Standardization } from '../learn/standardize.js';
import { checkProbeJson, type ProbeJson } from './probe-schema.js';

export const PROBE_SCHEMA = 1;
export const PROBE_KIND = 'zs-linear-probe';

export interface ModelRef {
  /** Model id, e.g. 'openai/clip-vit-base-patch32'. */
  id: string;
  /** Opaque fingerprint of the model's weights, as the caller computes it. */
  fingerprint: string;
}

export interface ProbeFitOptions extends Omit<FitOptions, 'C' | 'init' | 'standardize'> {
  /** Class names; labels index into it. */
  classes: string[];
  model: ModelRef;
  /** A value > 0, or 'auto' for the CLIP sweep on a stratified validation split (default 'auto'). */
  C?: number | 'auto';
  standardize?: boolean;
  /** C auto: validation fraction, seed, sweep iteration cap. */
  valFraction?: number;
  seed?: number;
  sweepMaxIter?: number;
  onSearchFit?: (info: { fit: number; C: number; valAccuracy: number; iterations: number; seconds: number }) => void;
}

export interface TrainingMetrics {
  n: number;
  iterations: number;
  converged: boolean;
  objective: number;
  trainAccuracy: number;
  seconds: number;
  warning?: string;
  cSearch?: { fits: number; seconds: number; valAccuracy: number; candidates: Array<{ C: number; valAccuracy: number }> };
}

/** Throws unless x holds n finite rows of d values. */
export function checkFeatures(name: string, x: Float32Array, d: number): number {
  if (!(x instanceof Float32Array)) throw usageError('E_FEATURES', `${name} must be a Float32Array [n, ${d}]`);
  if (x.length === 0 || x.length % d !== 0) {
    throw usageError('E_FEATURES', `${name} has ${x.length} values, not a whole number of ${d}-value rows`,
      `each embedding must have ${d} values`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw usageError('E_FEATURES', `${name}: row ${Math.floor(i / d) + 1} has a non-finite value (${x[i]}) at position ${(i % d) + 1}`,
        'remove or recompute that embedding');
    }
  }
  return x.length / d;
}

export class LinearProbe {
  private constructor(
    readonly model: ModelRef,
    readonly labels: string[],
    readonly dim: number,
    /** [K, dim], for standardized features when `standardization` is set */
    readonly weights: Float64Array,
    readonly intercepts: Float64Array,
    readonly standardization: Standardization | undefined,
    readonly C: number,
    readonly training: TrainingMetrics,
    /** weights folded onto raw features, for prediction */
    private readonly raw: { W: Float64Array; b: Float64Array },
  ) {}

  static create(parts: { model: ModelRef; labels: string[]; weights: Float64Array; intercepts: Float64Array;
    standardization?: Standardization; C: number; training: TrainingMetrics }): LinearProbe {
    const K = parts.labels.length, dim = parts.weights.length / K;
    const raw = foldStandardization(parts.weights, parts.intercepts, K, dim, parts.standardization);
    return new LinearProbe(parts.model, parts.labels, dim, parts.weights, parts.intercepts, parts.standardization,
      parts.C, parts.training, raw);
  }

  /** Fits a probe on features [n, d] with class indices `labels` [n]. Warnings (non-convergence) are in training.warning. */
  static async fit(features: Float32Array, labels: Int32Array | readonly number[], options: ProbeFitOptions): Promise<LinearProbe> {
    const classes = distinctStrings('classes', options.classes);
    nonEmptyString('model id', options.model?.id);
    nonEmptyString('model fingerprint', options.model?.fingerprint);
    const K = classes.length;
    const n = labels.length;
    if (n === 0 || features.length % n !== 0) {
      throw usageError('E_FEATURES', `features have ${features.length} values for ${n} labels`, 'give one embedding per label');
    }
    const d = features.length / n;
    checkFeatures('features', features, d);
    const y = Int32Array.from(labels);
    const counts = new Array<number>(K).fill(0);
    y.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v >= K) throw usageError('E_LABELS', `label ${i + 1} is ${v}, not a class index from 0 to ${K - 1}`);
      counts[v]!++;
    });
    const present = counts.filter((c) => c > 0).length;
    if (present < 2) {
      throw usageError('E_ONE_CLASS', `the training data has one class only (${JSON.stringify(classes[counts.findIndex((c) => c > 0)])}); a probe needs at least two`,
        'add examples of at least one other class');
    }
    const C = options.C ?? 'auto';
    if (C !== 'auto' && !(typeof C === 'number' && Number.isFinite(C) && C > 0)) {
      throw usageError('E_INVALID_ARG', `invalid C: ${String(C)} (expected a number > 0 or 'auto')`);
    }
    const data: Dataset = { x: features, labels: y, n, d, K };
    let search: CSearchResult | undefined;
    if (C === 'auto') {
      search = await searchC(data, { ...options, onFit: options.onSearchFit });
    }
    const r = await fitLogReg(data, { ...options, C: search ? search.C : (C as number), ...(search ? { init: search.init } : {}) });
    const raw = foldStandardization(r.W, r.b, K, d, r.standardization);
    const pred = argmaxRows(features, n, d, raw.W, raw.b, K);
    let ok = 0;
    for (let i = 0; i < n; i++) if (pred[i] === y[i]) ok++;
    const training: TrainingMetrics = {
      n, iterations: r.iterations, converged: r.converged, objective: r.objective, trainAccuracy: ok / n,
      seconds: r.seconds + (search?.seconds ?? 0),
      ...(r.warning ? { warning: r.warning } : {}),
      ...(search ? { cSearch: { fits: search.fits, seconds: search.seconds, valAccuracy: search.valAccuracy,
        candidates: search.candidates.map((c) => ({ C: c.C, valAccuracy: c.valAccuracy })) } } : {}),
    };
    return new LinearProbe(options.model, classes, d, r.W, r.b, r.standardization, r.C, training, raw);
  }

  /** The weights folded onto raw features (what predicts): W [K, dim], b [K]. */
  rawWeights(): { W: Float64Array; b: Float64Array } {
    return { W: this.raw.W, b: this.raw.b };
  }

  private rows(features: Float32Array): number {
    if (features.length === 0) return 0;
    return checkFeatures('features', features, this.dim);
  }

  /** Class probabilities [n, K] (rows sum to 1), for features [n, dim]. */
  predictProba(features: Float32Array): Float64Array {
    const n = this.rows(features), K = this.labels.length;
    return predictProbaRows(features, n, this.dim, this.raw.W, this.raw.b, K, new Float64Array(n * K));
  }

  /** Index into `labels` of the most probable class of each row. */
  predict(features: Float32Array): Int32Array {
    const n = this.rows(features);
    return argmaxRows(features, n, this.dim, this.raw.W, this.raw.b, this.labels.length);
  }

  /** Throws unless every class of this probe is among `datasetLabels` (an evaluation set must cover them). */
  checkLabels(datasetLabels: readonly string[], source = 'the dataset'): void {
    const have = new Set(datasetLabels);
    const missing = this.labels.filter((l) => !have.has(l));
    if (missing.length > 0) {
      throw usageError('E_PROBE_LABELS', `the probe's labels ${missing.map((m) => JSON.stringify(m)).join(', ')} are not in ${source}`,
        'evaluate on a dataset with the same classes, or fit a new probe on this one');
    }
  }

  toJSON(): ProbeJson {
    const K = this.labels.length, d = this.dim;
    return {
      schema: PROBE_SCHEMA, kind: PROBE_KIND, model: { id: this.model.id, fingerprint: this.model.fingerprint },
      dim: d, labels: [...this.labels],
      standardization: this.standardization
        ? { mean: Array.from(this.standardization.mean), scale: Array.from(this.standardization.scale) } : null,
      weights: Array.from({ length: K }, (_, k) => Array.from(this.weights.subarray(k * d, (k + 1) * d))),
      intercepts: Array.from(this.intercepts), C: this.C, training: { ...this.training },
    };
  }

  /** A probe from parsed JSON; with `model`, refuses a probe made for another model. `source` names the file in messages. */
  static fromJSON(json: unknown, model?: ModelRef, source = 'probe'): LinearProbe {
    const p = checkProbeJson(json, source, PROBE_SCHEMA, PROBE_KIND);
    if (model && (p.model.id !== model.id || p.model.fingerprint !== model.fingerprint)) {
      const what = p.model.id !== model.id ? `model ${JSON.stringify(p.model.id)}` : `another version of ${JSON.stringify(p.model.id)} (fingerprint ${p.model.fingerprint})`;
      throw new ZsError('E_PROBE_MODEL', `${source} was made for ${what}, not for ${JSON.stringify(model.id)} (fingerprint ${model.fingerprint})`,
        { kind: 'usage', hint: `use it with the model it was made for, or fit a new probe with ${model.id}` });
    }
    const K = p.labels.length, d = p.dim;
    const W = new Float64Array(K * d);
    p.weights.forEach((row, k) => W.set(row, k * d));
    return LinearProbe.create({
      model: p.model, labels: p.labels, weights: W, intercepts: Float64Array.from(p.intercepts),
      ...(p.standardization ? { standardization: { mean: Float64Array.from(p.standardization.mean), scale: Float64Array.from(p.standardization.scale) } } : {}),
      C: p.C, training: p.training as unknown as TrainingMetrics,
    });
  }

  /** Writes the probe file atomically (temporary file, fsync, rename). */
  async save(file: string): Promise<void> {
    await writeFileAtomic(file, JSON.stringify(this.toJSON()) + '\n');
  }

  /** Reads and checks a probe file; with `model`, refuses a probe made for another model. */
  static async load(file: string, model?: ModelRef): Promise<LinearProbe> {
    return LinearProbe.fromJSON(await readProbeJson(file), model, `probe file ${file}`);
  }
}

/** A probe file's parsed JSON, unchecked; an unreadable file or invalid JSON is a ZsError naming the file. */
export async function readProbeJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw wrapError(e, 'E_PROBE_READ', `cannot read probe file ${file}`, 'check the path');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ZsError('E_PROBE_CORRUPT', `probe file ${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
      { hint: 'the file is damaged or not a probe: fit the probe again', cause: e });
  }
}
