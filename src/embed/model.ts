/**
 * The encoders' public face (as openai/CLIP's `load`): `loadModel` returns a model that embeds images and texts,
 * with its preprocessing bundled. Embeddings are L2-normalized rows. Images that fail to decode are reported per
 * input and the rest still get embeddings.
 */
import { ZsError, wrapError } from '../errors.js';
import { int } from '../validate.js';
import { openModelFolder, type Dtype, type ModelFolder } from '../models/folder.js';
import { resolveModel } from '../models/resolve.js';
import { createSession, type Device, type Session, type ResolvedDevice } from '../runtime/session.js';
import { measureLogitScale, type LogitScale } from '../models/scale.js';
import { createPreprocessor, type Preprocessor, type ImageInput } from '../image/index.js';
import { loadTokenizer, type Tokenizer } from '../text/index.js';
import { normalizeRows, type Embeddings } from './embeddings.js';

export interface LoadOptions {
  dtype?: Dtype;
  device?: Device;
  /** Intra-op threads for the CPU provider. */
  threads?: number;
  /** Images per inference batch. */
  batchSize?: number;
  /** Largest accepted image, in pixels (decompression-bomb guard). */
  maxPixels?: number;
  /** Where models and the embedding cache live (default: ZS_HOME or the user cache folder). */
  cacheDir?: string;
}

export interface ImageFailure {
  index: number;
  input: string;
  error: ZsError;
}

export interface ImageEmbedResult {
  /** One row per successfully embedded input, in input order. */
  embeddings: Embeddings;
  /** Input index of each row. */
  indices: number[];
  failures: ImageFailure[];
}

export interface EmbedProgress {
  done: number;
  total: number;
  failed: number;
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
}

export const DEFAULT_BATCH_SIZE = 16;
export const DEFAULT_MAX_PIXELS = 100_000_000;

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
  private readonly vision: Session;
  private readonly imageOutput: string;
  private readonly opts: LoadOptions;
  private textSession: Session | undefined;
  private tokenizer: Tokenizer | undefined;
  private scale: LogitScale | undefined;
  private dimCache: number | undefined;

  private constructor(folder: ModelFolder, vision: Session, preprocess: Preprocessor, opts: LoadOptions) {
    this.folder = folder;
    this.vision = vision;
    this.preprocess = preprocess;
    this.opts = opts;
    this.batchSize = opts.batchSize === undefined ? DEFAULT_BATCH_SIZE : int('--batch-size', opts.batchSize, 1, 4096);
    this.imageOutput = firstPresent(vision.outputNames, folder.family.imageOutputs, vision.file);
  }

  /** Opens a model: a catalog name, a hub id (org/name[@revision]) or a local folder. */
  static async load(spec: string, opts: LoadOptions = {}): Promise<Model> {
    const { dir, id } = await resolveModel(spec, { dtype: opts.dtype, cacheDir: opts.cacheDir });
    const folder = openModelFolder(dir, { dtype: opts.dtype, id });
    const preprocess = createPreprocessor(folder.preprocessor, { maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS });
    const vision = await createSession(folder.graphs.vision, { device: opts.device, threads: opts.threads });
    return new Model(folder, vision, preprocess, opts);
  }

  get info(): ModelInfo {
    return {
      id: this.folder.id,
      dir: this.folder.dir,
      family: this.folder.family.name,
      kind: this.folder.family.kind,
      dtype: this.folder.dtype,
      device: this.vision.device,
      skipped: this.vision.skipped,
      dim: this.dimCache ?? Number.NaN,
      imageSize: { height: this.preprocess.height, width: this.preprocess.width },
    };
  }

  /** Whether the model has a text tower (zero-shot capable). */
  get hasText(): boolean {
    return this.folder.family.kind === 'clip';
  }

  /** Runs the vision graph on a filled batch tensor `[n, 3, H, W]` and returns normalized embeddings `[n, d]`. */
  async embedPixels(pixels: Float32Array, n: number): Promise<Embeddings> {
    const { height: h, width: w } = this.preprocess;
    const ort = this.vision.ort;
    const input = new ort.Tensor('float32', pixels.subarray(0, n * 3 * h * w), [n, 3, h, w]);
    const out = await this.vision.run({ [this.vision.inputNames[0]!]: input }, [this.imageOutput]);
    const t = out[this.imageOutput]!;
    const d = Number(t.dims[t.dims.length - 1]);
    this.dimCache = d;
    // [n, d]; copy out of ORT's buffer before normalizing
    const data = new Float32Array(t.data as Float32Array);
    return { data: normalizeRows(data, d), dims: [n, d] };
  }

  /** Embeds images (paths or encoded bytes) in batches; failures are reported, not thrown. */
  async embedImages(inputs: ImageInput[], opts: { onProgress?: (p: EmbedProgress) => void } = {}): Promise<ImageEmbedResult> {
    const { height: h, width: w } = this.preprocess;
    const per = 3 * h * w;
    const batch = new Float32Array(this.batchSize * per); // [B, 3, H, W]
    const rows: Embeddings[] = [];
    const indices: number[] = [];
    const failures: ImageFailure[] = [];
    for (let start = 0; start < inputs.length; start += this.batchSize) {
      const chunk = inputs.slice(start, start + this.batchSize);
      const ok: number[] = [];
      // decode in parallel into per-input slots, then compact successes to the front
      const settled = await Promise.allSettled(chunk.map((input, j) => this.preprocess.run(input, batch, j * per)));
      let n = 0;
      settled.forEach((r, j) => {
        if (r.status === 'fulfilled') {
          if (n !== j) batch.copyWithin(n * per, j * per, (j + 1) * per);
          n++;
          ok.push(start + j);
        } else {
          failures.push({ index: start + j, input: describeInput(chunk[j]!, start + j), error: wrapError(r.reason, 'E_IMAGE', `cannot read ${describeInput(chunk[j]!, start + j)}`) });
        }
      });
      if (n > 0) {
        rows.push(await this.embedPixels(batch, n));
        indices.push(...ok);
      }
      opts.onProgress?.({ done: Math.min(start + chunk.length, inputs.length), total: inputs.length, failed: failures.length });
    }
    const d = rows[0]?.dims[1] ?? this.dimCache ?? 0;
    const data = new Float32Array(indices.length * d);
    let off = 0;
    for (const r of rows) { data.set(r.data, off); off += r.data.length; }
    return { embeddings: { data, dims: [indices.length, d] }, indices, failures };
  }

  private async text(): Promise<{ session: Session; tokenizer: Tokenizer; output: string }> {
    const { family, graphs, tokenizer: tokFile } = this.folder;
    if (!family.text || !graphs.text || !tokFile) {
      throw new ZsError('E_NO_TEXT', `${this.folder.id} is an image encoder without a text tower`, {
        kind: 'usage',
        hint: 'zero-shot needs a CLIP-like model (e.g. --model clip-vit-b32); use this model for probes (zs probe fit)',
      });
    }
    if (!this.textSession) this.textSession = await createSession(graphs.text, { device: this.vision.device, threads: this.opts.threads });
    if (!this.tokenizer) this.tokenizer = await loadTokenizer(this.folder.dir);
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
      this.scale = await measureLogitScale({ session, feeds, withBias: this.folder.family.score === 'sigmoid' });
      return this.scale;
    } finally {
      await session.release();
    }
  }

  async close(): Promise<void> {
    await this.vision.release();
    await this.textSession?.release();
  }
}

function describeInput(input: ImageInput, index: number): string {
  return typeof input === 'string' ? input : `image #${index + 1} (buffer)`;
}

export const loadModel = Model.load;
