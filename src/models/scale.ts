/**
 * The zero-shot logit scale (and SigLIP's bias) of a text-image model, measured from its own combined graph:
 * logits_per_image = scale * cos(image, text) + bias. Running the graph once on one image and two texts gives both
 * exactly, whatever the exporter named the parameter or however it folded exp(logit_scale).
 */
import { ZsError } from '../errors.js';
import type { Session } from '../runtime/session.js';

export interface LogitScale {
  scale: number;
  bias: number;
}

export interface ScaleProbe {
  /** Combined-graph session (onnx/model.onnx of the chosen dtype). */
  session: Session;
  /** Feeds for the combined graph: one image and two different texts. */
  feeds: Record<string, import('onnxruntime-node').Tensor>;
  /** Whether the family adds a bias (SigLIP) or not (CLIP). */
  withBias: boolean;
}

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[ai + k]! * b[bi + k]!;
  return s;
}

function norm(a: Float32Array, ai: number, d: number): number {
  return Math.sqrt(dot(a, ai, a, ai, d));
}

export async function measureLogitScale(probe: ScaleProbe): Promise<LogitScale> {
  const out = await probe.session.run(probe.feeds);
  const logits = out.logits_per_image?.data as Float32Array | undefined;
  const img = out.image_embeds?.data as Float32Array | undefined;
  const txt = out.text_embeds?.data as Float32Array | undefined;
  if (!logits || !img || !txt) {
    throw new ZsError('E_MODEL_GRAPH', `${probe.session.file} lacks logits_per_image, image_embeds or text_embeds outputs`, {
      hint: 'export the combined graph with those outputs (scripts/export-onnx.py)',
    });
  }
  const d = img.length; // one image: [1, d]
  // cosines of the image with text 0 and text 1 (embeds may or may not be normalized by the graph)
  const ni = norm(img, 0, d);
  const c0 = dot(img, 0, txt, 0, d) / (ni * norm(txt, 0, d));
  const c1 = dot(img, 0, txt, d, d) / (ni * norm(txt, d, d));
  const l0 = logits[0]!;
  const l1 = logits[1]!;
  if (!probe.withBias) {
    // scale = l / c; use the text with the larger |cos| for precision
    const scale = Math.abs(c0) >= Math.abs(c1) ? l0 / c0 : l1 / c1;
    return { scale, bias: 0 };
  }
  if (Math.abs(c0 - c1) < 1e-4) {
    throw new ZsError('E_MODEL_GRAPH', `cannot measure the logit scale of ${probe.session.file}: probe texts embed alike`, {
      hint: 'report this model to the zs maintainers',
    });
  }
  const scale = (l0 - l1) / (c0 - c1);
  return { scale, bias: l0 - scale * c0 };
}
