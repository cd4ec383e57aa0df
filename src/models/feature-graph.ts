/**
 * Classifier graphs as feature extractors: at load, the vision graph is edited (src/onnx) to also output the pooled
 * tensor entering its classifier head (or the tensor named by --feature-output), and the edited graph is kept in the
 * model cache, keyed by the original's sha256, so the next load reuses it:
 *
 *   <home>/graphs/<sha256 of the original>/<key>.onnx    key: classifier-input-v1, or output-<sha256(name)[:16]>
 *   <home>/graphs/<sha256 of the original>/<key>.json    { feature, original, detected? } (written after the graph)
 *
 * A graph with external data (weights in a side file) is the exception: onnxruntime only reads external data from the
 * graph's own folder (it refuses symlinks leading out of it), so its edited copy is written next to the original, as
 * `<name>.<sha256 of the original>.<key>.onnx` (+ .json). Writes are atomic; two processes racing write the same bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { ClassifierInput } from '../onnx/index.js';

/** Bumped when the detection rule (src/onnx/classifier.ts) changes, so graphs and embeddings made by an older rule are not reused. */
export const DETECTION_VERSION = 'classifier-input-v1';

export interface FeatureGraph {
  /** The edited graph to open. */
  file: string;
  /** The output holding the embedding. */
  feature: string;
  /** What auto-detection found (undefined with an explicit --feature-output). */
  detected?: ClassifierInput;
  /** Whether the edited graph was already in the cache. */
  reused: boolean;
}

/** What identifies the feature choice in cache keys: the detection rule version or the explicit name. */
export function featureKey(featureOutput: string | undefined): string {
  return featureOutput === undefined ? DETECTION_VERSION : `output:${featureOutput}`;
}

const sha = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

function keyFile(featureOutput: string | undefined): string {
  return featureOutput === undefined ? DETECTION_VERSION : `output-${sha(featureOutput).slice(0, 16)}`;
}

async function readMeta(file: string): Promise<{ feature: string; detected?: ClassifierInput } | undefined> {
  try {
    const m = JSON.parse(await fsp.readFile(file, 'utf8')) as { feature?: unknown; detected?: ClassifierInput };
    return typeof m.feature === 'string' ? { feature: m.feature, detected: m.detected } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The edited graph for `original` (an absolute path), made or reused. `featureOutput` names the tensor to expose;
 * undefined detects the classifier input (an error names the candidates when there is none or several).
 */
export async function featureGraph(original: string, opts: { home: string; featureOutput?: string }): Promise<FeatureGraph> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fsp.readFile(original));
  } catch (e) {
    throw wrapError(e, 'E_MODEL_FILE', `cannot read ${original}`, 'download or export the model again');
  }
  const { readOnnxGraph, findClassifierInput, addGraphOutputs } = await import('../onnx/index.js');
  const graph = readOnnxGraph(bytes, original);
  const external = [...graph.initializers.values()].some((t) => t.external);
  const hash = sha(bytes);
  const dir = external ? dirname(original) : join(opts.home, 'graphs', hash);
  const base = join(dir, external ? `${basename(original, '.onnx')}.${hash}.${keyFile(opts.featureOutput)}` : keyFile(opts.featureOutput));
  const meta = await readMeta(`${base}.json`);
  if (meta && existsSync(`${base}.onnx`)) return { file: `${base}.onnx`, feature: meta.feature, detected: meta.detected, reused: true };

  const detected = opts.featureOutput === undefined ? findClassifierInput(graph, { file: original }) : undefined;
  const feature = opts.featureOutput ?? detected!.feature;
  if (opts.featureOutput !== undefined && !graph.nodes.some((n) => n.outputs.includes(feature))) {
    let pooled = '';
    try { pooled = `; its pooled classifier input is ${findClassifierInput(graph).feature}`; } catch { /* no candidate to suggest */ }
    throw new ZsError('E_FEATURE_OUTPUT', `--feature-output ${JSON.stringify(feature)}: ${original} has no node output of that name${pooled}`, {
      kind: 'usage', hint: 'name a node output of the vision graph (e.g. with Netron)',
    });
  }
  const edited = addGraphOutputs(bytes, [{ name: feature, elemType: detected?.elemType }], original, graph);
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw wrapError(e, 'E_WRITE', `cannot create ${dir}`, external ? 'a graph with external data is edited next to it: make its folder writable' : 'point --cache-dir or ZS_HOME at a writable folder');
  }
  await writeFileAtomic(`${base}.onnx`, edited);
  await writeFileAtomic(`${base}.json`, JSON.stringify({ feature, original, detected }, null, 2) + '\n');
  return { file: `${base}.onnx`, feature, detected, reused: false };
}
