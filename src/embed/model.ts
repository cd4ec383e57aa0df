/**
 * The encoders' public face (as openai/CLIP's `load`): `loadModel` returns a model that embeds images and texts,
 * with its preprocessing bundled. Embeddings are L2-normalized rows. Images that fail to decode are reported per
 * input and the rest still get embeddings.
 *
 * Images go through the embedding engine (engine.ts): preprocessing in worker threads overlapping inference, and
 * with `cache: true` the persistent SQLite cache (cache.ts), keyed by the model's fingerprint (graph bytes,
 * preprocessing config and decode mode) and the content hash of each image. Defaults in engine-config.ts.
 * With `lazy: true` the vision graph is loaded on the first inference, so a run the cache answers never loads it.
 */
import { join } from 'node:path';
import { ZsError } from '../errors.js';
import { int } from '../validate.js';
import { openModelFolder, type Dtype, type ModelFolder } from '../models/folder.js';
import { resolveModel } from '../models/resolve.js';
import type { Device, Session, ResolvedDevice, SessionOptions } from '../runtime/session.js';
import type { LogitScale } from '../models/scale.js';
import { createPreprocessor, type Preprocessor, type ImageInput, type PreprocessorOptions } from '../image/index.js';
import type { Tokenizer } from '../text/index.js';
import { normalizeRows, type Embeddings } from './embeddings.js';
import { embedStream, type EmbedChunk, type EmbedProgress, type EmbedStats } from './engine.js';
import { collect, modelFingerprint, openEngine, type EngineParts, type ImageEmbedResult } from './engine-setup.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_FAST_DECODE, FAST_DECODE_MARGIN, VISION_SPINNING, defaultSplit } from './engine-config.js';

export type { EmbedChunk, EmbedProgress, EmbedStats, ImageFailure } from './engine.js';
export type { ImageEmbedResult } from './engine-setup.js';
export { DEFAULT_BATCH_SIZE } from './engine-config.js';

export interface LoadOptions {
  dtype?: Dtype;
  device?: Device;
  /** Intra-op threads for onnxruntime (default: engine-config.ts defaultSplit). */
  threads?: number;
  /** Image preprocessing worker threads; 0 preprocesses on the calling thread (default: defaultSplit). */
  workers?: number;
  /** Whether onnxruntime's idle intra-op threads spin in the vision session (default: engine-config.ts VISION_SPINNING). */
  spinning?: boolean;
  /** Images per inference batch. */
  batchSize?: number;
  /** Largest accepted image, in pixels (decompression-bomb guard). */
  maxPixels?: number;
  /** Where models and the embedding cache live (default: ZS_HOME or the user cache folder). */
  cacheDir?: string;
  /** Use the persistent embedding cache at `<cacheDir>/embeddings.sqlite` (default false in the library). */
  cache?: boolean;
  /** Decode large JPEG/WebP photos at 1/2..1/8 scale before the exact resample (default DEFAULT_FAST_DECODE). */
  fastDecode?: boolean;
  /** Load the vision graph on first use instead of in `load` (not with device 'auto', which must pick at load). */
  lazy?: boolean;
  /**
   * Embed with this tensor of the vision graph (exposed as an output by editing the graph) instead of the family's
   * embedding; classifier graphs default to the pooled tensor entering their head (src/onnx/classifier.ts).
   */
  featureOutput?: string;
}

export interface ModelInfo {
  id: string;
  dir: string;
  family: string;
  kind: ModelFolder['family']['kind'];
  dtype: Dtype;
  device: ResolvedDevice;
  /** Devices `auto` tried and skipped, with reasons. */
  skipped: { device: ResolvedDevice; reason: string }[];
  /** Embedding dimension of the image tower. */
  dim: number;
  imageSize: { height: number; width: number };
  /** The graph output the embeddings come from (known once the vision graph is loaded). */
  featureOutput?: string;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** onnxruntime, the tokenizer and the text modules load on first use: a run the cache answers needs none of them. */
async function createSession(file: string, options: SessionOptions): Promise<Session> {
  return (await import('../runtime/session.js')).createSession(file, options);
}

function firstPresent(names: readonly string[], wanted: string[], file: string): string {
  const hit = wanted.find((w) => names.includes(w));
  if (!hit) {
    throw new ZsError('E_MODEL_GRAPH', `${file} has none of the outputs ${wanted.join(', ')} (it has ${names.join(', ')})`, {
      hint: 'export the graph in the transformers.js layout (scripts/export-onnx.py)',
    });
  }
  return hit;
}

export class Model {
  readonly folder: ModelFolder;
  readonly preprocess: Preprocessor;
  readonly batchSize: number;
  private readonly opts: LoadOptions;
  private readonly prepOptions: PreprocessorOptions;
  private readonly workers: number;
  private visionLoad: Promise<Session> | undefined;
  private vision: Session | undefined;
  private imageOutput = '';
  /** Preprocessing workers and the cache binding, made on first use. */
  private engine: Promise<EngineParts> | undefined;
  private textSession: Session | undefined;
  private tokenizer: Tokenizer | undefined;
  private scale: LogitScale | undefined;
  private dimCache: number | undefined;

  private constructor(folder: ModelFolder, prep: PreprocessorOptions, workers: number, opts: LoadOptions) {
    this.folder = folder;
    this.prepOptions = prep;
    this.preprocess = createPreprocessor(folder.preprocessor, prep, join(folder.dir, 'preprocessor_config.json'));
    this.opts = opts;
    this.workers = workers;
    this.batchSize = opts.batchSize === undefined ? DEFAULT_BATCH_SIZE : int('--batch-size', opts.batchSize, 1, 4096);
  }

  /** Opens a model: a catalog name, a hub id (org/name[@revision]) or a local folder. */
  static async load(spec: string, opts: LoadOptions = {}): Promise<Model> {
    const { dir, id } = await resolveModel(spec, { dtype: opts.dtype, cacheDir: opts.cacheDir });
    const folder = openModelFolder(dir, { dtype: opts.dtype, id, featureOutput: opts.featureOutput });
    const split = defaultSplit(opts.device ?? 'cpu', {
      threads: opts.threads === undefined ? undefined : int('--threads', opts.threads, 1, 1024),
      workers: opts.workers === undefined ? undefined : int('workers', opts.workers, 0, 256),
    });
    const prep: PreprocessorOptions = {
      maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS, fastDecode: opts.fastDecode ?? DEFAULT_FAST_DECODE, fastDecodeMargin: FAST_DECODE_MARGIN,
    };
    const model = new Model(folder, prep, split.workers, { ...opts, threads: split.threads });
    if (!opts.lazy || opts.device === 'auto') await model.visionSession();
    return model;
  }

  /** The vision graph to open and its embedding output: the folder's graph, or its edited copy exposing a feature tensor. */
  private async visionGraph(): Promise<{ file: string; output?: string }> {
    const { family, featureOutput, graphs } = this.folder;
    if (family.imageFeature !== 'classifier-input' && featureOutput === undefined) return { file: graphs.vision };
    const { featureGraph } = await import('../models/feature-graph.js');
    const { zsHome } = await import('../util/home.js');
    const g = await featureGraph(graphs.vision, { home: zsHome(this.opts.cacheDir), featureOutput });
    return { file: g.file, output: g.feature };
  }

  private visionSession(): Promise<Session> {
    const spinning = this.opts.spinning ?? VISION_SPINNING;
    this.visionLoad ??= this.visionGraph().then(async ({ file, output }) => {
      const s = await createSession(file, { device: this.opts.device, threads: this.opts.threads, spinning });
      this.imageOutput = output ?? firstPresent(s.outputNames, this.folder.family.imageOutputs, s.file);
      this.vision = s;
      return s;
    });
    this.visionLoad.catch(() => { this.visionLoad = undefined; });
    return this.visionLoad;
  }

  get info(): ModelInfo {
    return {
      id: this.folder.id,
      dir: this.folder.dir,
      family: this.folder.family.name,
      kind: this.folder.family.kind,
      dtype: this.folder.dtype,
      device: this.vision?.device ?? (this.opts.device === 'auto' ? 'cpu' : this.opts.device ?? 'cpu'),
      skipped: this.vision?.skipped ?? [],
      dim: this.dimCache ?? Number.NaN,
      imageSize: { height: this.preprocess.height, width: this.preprocess.width },
      featureOutput: this.imageOutput || undefined,
    };
  }

  /** Whether the model has a text tower (zero-shot capable). */
  get hasText(): boolean {
    return this.folder.family.kind === 'clip';
  }

  /**
   * Starts loading the vision graph without waiting (a lazy model that will need it: the load, ~1 s for ViT-B/32,
   * then overlaps hashing the graph and decoding the first batch). A failure surfaces at the first inference.
   */
  private preload(): void {
    this.visionSession().catch(() => undefined);
  }

  /** Runs the vision graph on a filled batch tensor `[n, 3, H, W]` and returns output `name` (own image output by default) as rows `[n, d]`. */
  private async runVision(pixels: Float32Array, n: number, name?: string): Promise<Embeddings> {
    const vision = await this.visionSession();
    const output = name ?? this.imageOutput;
    const { height: h, width: w } = this.preprocess;
    const input = new vision.ort.Tensor('float32', pixels.subarray(0, n * 3 * h * w), [n, 3, h, w]);
    const out = await vision.run({ [vision.inputNames[0]!]: input }, [output]);
    const t = out[output]!;
    // [n, ...] -> [n, d]: a pooled [n, c, 1, 1] tensor is c per row; copy out of ORT's buffer (a float16 tensor,
    // e.g. a feature inside an fp16 graph, arrives as raw 16-bit patterns and is widened)
    const d = t.dims.slice(1).reduce((a, b) => a * Number(b), 1);
    if (t.type === 'float16') {
      const { half } = await import('../onnx/index.js');
      return { data: Float32Array.from(t.data as Uint16Array, half), dims: [n, d] };
    }
    return { data: Float32Array.from(t.data as Float32Array), dims: [n, d] };
  }

  /** Runs the vision graph on a filled batch tensor `[n, 3, H, W]` and returns normalized embeddings `[n, d]`. */
  async embedPixels(pixels: Float32Array, n: number): Promise<Embeddings> {
    const { data, dims } = await this.runVision(pixels, n);
    this.dimCache = dims[1];
    return { data: normalizeRows(data, dims[1]), dims };
  }

  /** The class labels of a classifier graph's own head (config.json id2label, in index order). */
  get classLabels(): string[] | undefined {
    const id2label = this.folder.config.id2label as Record<string, unknown> | undefined;
    if (!this.folder.family.logitsOutput || !id2label || typeof id2label !== 'object') return undefined;
    const n = Object.keys(id2label).length;
    return Array.from({ length: n }, (_, i) => String(id2label[String(i)] ?? `LABEL_${i}`));
  }

  /**
   * Raw class logits `[n, C]` of a classifier graph's own head (its `logits` output), for images; no cache. An
   * error for models without such a head.
   */
  async imageLogits(inputs: readonly ImageInput[], opts: { onProgress?: (p: EmbedProgress) => void } = {}): Promise<ImageEmbedResult> {
    const output = this.folder.family.logitsOutput;
    if (!output || !this.classLabels) {
      throw new ZsError('E_NO_LOGITS', `${this.folder.id} has no supervised classifier head with labels (config.json id2label and a ${output ?? 'logits'} output)`, {
        kind: 'usage', hint: 'pass an image classifier (e.g. --model resnet-50), or classify zero-shot with --labels and a CLIP model',
      });
    }
    const { prep } = await this.setUp();
    const { height: h, width: w } = this.preprocess;
    return collect(embedStream(inputs, {
      batchSize: this.batchSize, floats: 3 * h * w, prep, onProgress: opts.onProgress,
      infer: (pixels, n) => this.runVision(pixels, n, output), onFirstMiss: () => this.preload(),
    }), 0);
  }

  private setUp(): Promise<EngineParts> {
    this.engine ??= openEngine(this.folder, this.preprocess, {
      prep: this.prepOptions, workers: this.workers, cache: this.opts.cache ?? false, cacheDir: this.opts.cacheDir,
      explicitMaxPixels: this.opts.maxPixels, onUnknownGraph: () => this.preload(),
    });
    this.engine.catch(() => { this.engine = undefined; });
    return this.engine;
  }

  /**
   * What the cache keys this model's image embeddings by: the vision graph's bytes (and its external data file,
   * if any), the preprocessing config and the decode mode (engine-setup.ts modelFingerprint).
   */
  async fingerprint(): Promise<string> {
    const cache = this.opts.cache ? (await this.setUp()).cache : undefined;
    return cache?.fingerprint ?? modelFingerprint(this.folder, this.prepOptions);
  }

  /**
   * The model's identity for probe files: graph bytes and preprocessing config, not the decode mode (a probe fitted
   * on fast-decoded photos applies to exactly decoded ones).
   */
  async probeFingerprint(): Promise<string> {
    const memo = this.opts.cache ? (await this.setUp()).cache?.store : undefined;
    return modelFingerprint(this.folder, this.prepOptions, memo, false);
  }

  /** Length of the image embeddings (runs the vision graph once on a blank image if nothing was embedded yet). */
  async embeddingDim(): Promise<number> {
    if (this.dimCache === undefined) {
      const { height: h, width: w } = this.preprocess;
      await this.embedPixels(new Float32Array(3 * h * w), 1);
    }
    return this.dimCache!;
  }

  /**
   * Embeds images (paths or encoded bytes) and yields the results in input order, a chunk at a time, so a caller
   * that writes them out keeps memory flat; returns the counts. Failures are reported, not thrown.
   */
  async *embedImageChunks(inputs: readonly ImageInput[], opts: { onProgress?: (p: EmbedProgress) => void } = {}): AsyncGenerator<EmbedChunk, EmbedStats> {
    const { prep, cache } = await this.setUp();
    const { height: h, width: w } = this.preprocess;
    const stats = yield* embedStream(inputs, {
      batchSize: this.batchSize, floats: 3 * h * w, prep, cache, onProgress: opts.onProgress,
      infer: (pixels, n) => this.embedPixels(pixels, n), onFirstMiss: () => this.preload(),
    });
    return stats;
  }

  /** Embeds images (paths or encoded bytes); failures are reported, not thrown. */
  async embedImages(inputs: ImageInput[], opts: { onProgress?: (p: EmbedProgress) => void } = {}): Promise<ImageEmbedResult> {
    const r = await collect(this.embedImageChunks(inputs, opts), this.dimCache ?? 0);
    if (r.embeddings.dims[1] > 0) this.dimCache = r.embeddings.dims[1];
    return r;
  }

  private async text(): Promise<{ session: Session; tokenizer: Tokenizer; output: string }> {
    const { family, graphs, tokenizer: tokFile } = this.folder;
    if (!family.text || !graphs.text || !tokFile) {
      throw new ZsError('E_NO_TEXT', `${this.folder.id} is an image encoder without a text tower`, {
        kind: 'usage',
        hint: 'zero-shot needs a CLIP-like model (e.g. --model clip-vit-b32); use this model for probes (zs probe fit)',
      });
    }
    if (!this.textSession) {
      const device = this.opts.device === 'auto' ? (await this.visionSession()).device : this.opts.device;
      this.textSession = await createSession(graphs.text, { device, threads: this.opts.threads });
    }
    if (!this.tokenizer) this.tokenizer = await (await import('../text/index.js')).loadTokenizer(this.folder.dir);
    return { session: this.textSession, tokenizer: this.tokenizer, output: firstPresent(this.textSession.outputNames, family.text.outputs, graphs.text) };
  }

  /** Tokenizes texts the way this model's text graph expects (padding per family). */
  async tokenize(texts: string[]) {
    const { tokenizer } = await this.text();
    return tokenizer.tokenize(texts, { padTo: this.folder.family.text!.pad === 'max' ? 'max' : 'longest' });
  }

  /** Embeds texts, L2-normalized `[n, d]`. */
  async embedTexts(texts: string[], batchSize = 256): Promise<Embeddings> {
    const { session, output } = await this.text();
    const parts: Float32Array[] = [];
    let d = 0;
    for (let start = 0; start < texts.length; start += batchSize) {
      const tok = await this.tokenize(texts.slice(start, start + batchSize));
      const [n, L] = tok.dims;
      const ort = session.ort;
      const feeds: Record<string, import('onnxruntime-node').Tensor> = {
        input_ids: new ort.Tensor('int64', tok.inputIds, [n, L]),
      };
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', tok.attentionMask, [n, L]);
      const out = await session.run(feeds, [output]);
      const t = out[output]!;
      d = Number(t.dims[t.dims.length - 1]);
      parts.push(normalizeRows(new Float32Array(t.data as Float32Array), d));
    }
    const data = new Float32Array(texts.length * d);
    let off = 0;
    for (const p of parts) { data.set(p, off); off += p.length; }
    return { data, dims: [texts.length, d] };
  }

  /** logits = scale * cos + bias, measured from the model's combined graph. */
  async logitScale(): Promise<LogitScale> {
    if (this.scale) return this.scale;
    const { tokenizer } = await this.text();
    const combined = this.folder.graphs.combined;
    if (!combined) {
      throw new ZsError('E_MODEL_FILE', `model folder lacks onnx/model[_quantized|_fp16].onnx, the combined graph zs reads the logit scale from: ${this.folder.dir}`, {
        hint: 'pull or export the model with its combined graph',
      });
    }
    const session = await createSession(combined, { device: 'cpu', threads: this.opts.threads });
    try {
      const ort = session.ort;
      const { height: h, width: w } = this.preprocess;
      const tok = tokenizer.tokenize(['a photo of a cat.', 'an aerial view of a busy harbour at night'], {
        padTo: this.folder.family.text!.pad === 'max' ? 'max' : 'longest',
      });
      const pix = new Float32Array(3 * h * w);
      for (let i = 0; i < pix.length; i++) pix[i] = Math.sin(i * 0.001); // any non-constant image
      const feeds: Record<string, import('onnxruntime-node').Tensor> = {
        input_ids: new ort.Tensor('int64', tok.inputIds, tok.dims),
        pixel_values: new ort.Tensor('float32', pix, [1, 3, h, w]),
      };
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', tok.attentionMask, tok.dims);
      const { measureLogitScale } = await import('../models/scale.js');
      this.scale = await measureLogitScale({ session, feeds, withBias: this.folder.family.score === 'sigmoid' });
      return this.scale;
    } finally {
      await session.release();
    }
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    const e = await engine?.catch(() => undefined);
    await e?.prep.close();
    e?.cache?.store.close();
    const vision = await this.visionLoad?.catch(() => undefined);
    this.visionLoad = undefined;
    this.vision = undefined;
    await vision?.release();
    await this.textSession?.release();
  }
}

export const loadModel = Model.load;
