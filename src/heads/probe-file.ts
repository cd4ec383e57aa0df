/**
 * The probe file for any head (schema 2), written atomically:
 *   { schema: 2, kind: 'zs-probe', head, headVersion, model: { id, fingerprint }, input, dim, labels: [K],
 *     params (head-json.ts), settings: { chosen hyperparameters }, training: { ... } }
 * Loading refuses, with one line each: another model (id or fingerprint), a newer file schema or head version, an
 * unknown head, a field edited into nonsense. A schema 1 file (zs-linear-probe, LinearProbe) loads as a linear head.
 */
import { ZsError, usageError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { LinearProbe, checkFeatures, readProbeJson, PROBE_KIND, type ModelRef } from './probe.js';
import { corrupt, isObj, paramsFromJson, paramsToJson } from './head-json.js';
import { HEAD_NAMES, HEAD_VERSIONS, inputOf, scorerOf, type HeadInput, type HeadName, type HeadParams, type Scorer } from './state.js';

export const PROBE_FILE_SCHEMA = 2;
export const PROBE_FILE_KIND = 'zs-probe';

export class Probe {
  private scorer?: Scorer;
  constructor(
    readonly model: ModelRef,
    readonly labels: string[],
    /** Input dimension (embedding, or pre-projection features for finetune). */
    readonly dim: number,
    readonly params: HeadParams,
    readonly settings: Record<string, number | boolean>,
    readonly training: Record<string, unknown>,
  ) {}

  get head(): HeadName { return this.params.head; }
  get input(): HeadInput { return inputOf(this.params.head); }
  /** Embedding dimension the head's scorer works in. */
  private get embedDim(): number {
    return this.params.head === 'finetune' ? this.params.projection.length / this.params.p : this.dim;
  }

  /** A schema 1 linear probe as a linear head. */
  static fromLinear(p: LinearProbe): Probe {
    const { W, b } = p.rawWeights();
    return new Probe(p.model, p.labels, p.dim, { head: 'linear', W, b }, { C: p.C, standardized: !!p.standardization }, { ...p.training });
  }

  /** Class probabilities [n, K] for inputs [n, dim]. */
  predictProba(features: Float32Array): Float64Array {
    if (features.length === 0) return new Float64Array(0);
    const n = checkFeatures('features', features, this.dim);
    this.scorer ??= scorerOf(this.params, this.labels.length, this.embedDim);
    const logp = this.scorer(features, n);
    for (let i = 0; i < logp.length; i++) logp[i] = Math.exp(logp[i]!);
    return logp;
  }

  toJSON(): Record<string, unknown> {
    return {
      schema: PROBE_FILE_SCHEMA, kind: PROBE_FILE_KIND, head: this.head, headVersion: HEAD_VERSIONS[this.head],
      model: { ...this.model }, input: this.input, dim: this.dim, labels: [...this.labels],
      params: paramsToJson(this.params, this.dim), settings: { ...this.settings }, training: { ...this.training },
    };
  }

  static fromJSON(json: unknown, model?: ModelRef, source = 'probe'): Probe {
    if (isObj(json) && json.kind === PROBE_KIND) return Probe.fromLinear(LinearProbe.fromJSON(json, model, source));
    if (!isObj(json)) corrupt(source, 'the content', 'is not a JSON object');
    if (json.kind !== PROBE_FILE_KIND) corrupt(source, 'kind', `is ${JSON.stringify(json.kind)}, not ${JSON.stringify(PROBE_FILE_KIND)}`);
    if (typeof json.schema !== 'number' || !Number.isInteger(json.schema)) corrupt(source, 'schema', 'must be an integer');
    if (json.schema > PROBE_FILE_SCHEMA) {
      throw new ZsError('E_PROBE_SCHEMA', `${source} has schema ${json.schema}; this zs reads schema ${PROBE_FILE_SCHEMA}`, { hint: 'upgrade zs to read it' });
    }
    if (json.schema !== PROBE_FILE_SCHEMA) corrupt(source, 'schema', `is ${json.schema}, not ${PROBE_FILE_SCHEMA}`);
    const head = json.head;
    if (typeof head !== 'string' || !(HEAD_NAMES as readonly string[]).includes(head)) corrupt(source, 'head', `is ${JSON.stringify(head)}, not one of ${HEAD_NAMES.join(', ')}`);
    const h = head as HeadName;
    if (json.headVersion !== HEAD_VERSIONS[h]) {
      throw new ZsError('E_PROBE_SCHEMA', `${source} holds a ${h} head of version ${JSON.stringify(json.headVersion)}; this zs reads version ${HEAD_VERSIONS[h]}`,
        { hint: 'fit the probe again with this zs' });
    }
    const m = json.model;
    if (!isObj(m) || typeof m.id !== 'string' || m.id === '' || typeof m.fingerprint !== 'string' || m.fingerprint === '') {
      corrupt(source, 'model', 'must be { id, fingerprint } with non-empty strings');
    }
    const ref = { id: m.id as string, fingerprint: m.fingerprint as string };
    if (model && (ref.id !== model.id || ref.fingerprint !== model.fingerprint)) {
      const what = ref.id !== model.id ? `model ${JSON.stringify(ref.id)}` : `another version of ${JSON.stringify(ref.id)} (fingerprint ${ref.fingerprint})`;
      throw new ZsError('E_PROBE_MODEL', `${source} was made for ${what}, not for ${JSON.stringify(model.id)} (fingerprint ${model.fingerprint})`,
        { kind: 'usage', hint: `use it with the model it was made for, or fit a new probe with ${model.id}` });
    }
    if (json.input !== inputOf(h)) corrupt(source, 'input', `is ${JSON.stringify(json.input)}, not ${JSON.stringify(inputOf(h))} for a ${h} head`);
    const dim = json.dim;
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) corrupt(source, 'dim', 'must be a positive integer');
    const labels = json.labels;
    if (!Array.isArray(labels) || labels.length < 2) corrupt(source, 'labels', 'must list at least two classes');
    const seen = new Set<string>();
    labels.forEach((l, i) => {
      if (typeof l !== 'string' || l === '') corrupt(source, `labels[${i}]`, 'must be a non-empty string');
      if (seen.has(l)) corrupt(source, 'labels', `has ${JSON.stringify(l)} twice`);
      seen.add(l);
    });
    const params = paramsFromJson(source, h, json.params, labels.length, dim);
    if (!isObj(json.settings)) corrupt(source, 'settings', 'must be an object');
    if (!isObj(json.training)) corrupt(source, 'training', 'must be an object');
    return new Probe(ref, labels as string[], dim, params, json.settings as Record<string, number | boolean>, json.training);
  }

  async save(file: string): Promise<void> {
    await writeFileAtomic(file, JSON.stringify(this.toJSON()) + '\n');
  }

  static async load(file: string, model?: ModelRef): Promise<Probe> {
    return Probe.fromJSON(await readProbeJson(file), model, `probe file ${file}`);
  }

  /** Throws unless every class of this probe is among `datasetLabels`. */
  checkLabels(datasetLabels: readonly string[], source = 'the dataset'): void {
    const have = new Set(datasetLabels);
    const missing = this.labels.filter((l) => !have.has(l));
    if (missing.length > 0) {
      throw usageError('E_PROBE_LABELS', `the probe's labels ${missing.map((x) => JSON.stringify(x)).join(', ')} are not in ${source}`,
        'evaluate on a dataset with the same classes, or fit a new probe on this one');
    }
  }
}
