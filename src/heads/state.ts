/**
 * A fitted head as plain data (what the probe file stores) and how it scores rows. Every head maps input rows
 * [n, dim] to log-probabilities [n, K]:
 *
 *   linear, anchored   softmax(W x + b)                                  W [K, d], b [K] (raw feature coordinates)
 *   gda                softmax(W x + b), W = scale T + alpha * Mu P, b = bias + alpha (log prior - Mu P Mu' / 2)
 *                      (the zero-shot logits plus the Gaussian discriminant, folded into one linear map; gda.ts)
 *   wise               logsoftmax(alpha * logsoftmax(scale x T' + bias) + (1 - alpha) * logsoftmax(W x + b))
 *   tip                softmax(scale x T' + bias + alpha * exp(-beta (1 - x F')) onehot(labels))  F [N, d] (tip.ts)
 *   finetune           softmax(scale * normalize(P h) Tc')   h [n, p] pre-projection features (graph tensor `feature`),
 *                      P [d, p], Tc [K, d]
 *
 * `input` says which features a head takes: the (L2-normalized) image embedding, or the pre-projection pooled
 * features of the image tower (finetune).
 */
import { linearLogits, logSoftmaxRows } from './logits.js';
import { productWith } from '../learn/matmul.js';

export const HEAD_NAMES = ['linear', 'anchored', 'wise', 'tip', 'gda', 'finetune'] as const;
export type HeadName = (typeof HEAD_NAMES)[number];

/** Version of each head's parameters in the probe file; bumped when a head's meaning changes. */
export const HEAD_VERSIONS: Record<HeadName, number> = { linear: 1, anchored: 1, wise: 1, tip: 1, gda: 1, finetune: 1 };

export type HeadInput = 'embedding' | 'pre-projection';

/** The zero-shot classifier: logits = scale * x T' + bias, T [K, d] rows L2-normalized. */
export interface ZeroShotWeights {
  T: Float32Array;
  scale: number;
  bias: number;
}

export type HeadParams =
  | { head: 'linear' | 'anchored' | 'gda'; W: Float64Array; b: Float64Array }
  | { head: 'wise'; zeroShot: ZeroShotWeights; W: Float64Array; b: Float64Array; alpha: number }
  | { head: 'tip'; zeroShot: ZeroShotWeights; keys: Float32Array; keyLabels: Int32Array; alpha: number; beta: number }
  | { head: 'finetune'; feature: string; projection: Float32Array; classes: Float32Array; scale: number; p: number };

/** Scores [n, K] (log-probabilities) for rows x [n, inputDim]. */
export type Scorer = (x: Float32Array, n: number) => Float64Array;

export function inputOf(head: HeadName): HeadInput {
  return head === 'finetune' ? 'pre-projection' : 'embedding';
}

export function zeroShotLogits(zs: ZeroShotWeights, K: number, d: number): Scorer {
  const prod = productWith(zs.T, K, d);
  return (x, n) => {
    const z = prod.apply(x, n);
    for (let i = 0; i < z.length; i++) z[i] = zs.scale * z[i]! + zs.bias;
    return z;
  };
}

/** Tip-Adapter's cache logits exp(-beta (1 - x F')) onehot(labels) [n, K] from affinities x F' [n, N]. */
export function cacheLogits(aff: Float64Array, n: number, keyLabels: Int32Array, K: number, beta: number): Float64Array {
  const N = keyLabels.length;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < N; j++) out[i * K + keyLabels[j]!]! += Math.exp(-beta * (1 - aff[i * N + j]!));
  }
  return out;
}

/** Row-wise L2 normalization of float64 rows into float32 (zero rows stay zero). */
function normalized(z: Float64Array, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += z[i * d + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[i * d + j] = z[i * d + j]! * inv;
  }
  return out;
}

/** The scorer of a head's parameters; K classes, d the embedding dimension. */
export function scorerOf(params: HeadParams, K: number, d: number): Scorer {
  switch (params.head) {
    case 'linear': case 'anchored': case 'gda': {
      const { W, b } = params;
      return (x, n) => logSoftmaxRows(linearLogits(x, n, d, W, b, K), K);
    }
    case 'wise': {
      const zs = zeroShotLogits(params.zeroShot, K, d);
      const { W, b, alpha } = params;
      return (x, n) => {
        const z = logSoftmaxRows(zs(x, n), K);
        const p = logSoftmaxRows(linearLogits(x, n, d, W, b, K), K);
        for (let i = 0; i < z.length; i++) z[i] = alpha * z[i]! + (1 - alpha) * p[i]!;
        return logSoftmaxRows(z, K);
      };
    }
    case 'tip': {
      const zs = zeroShotLogits(params.zeroShot, K, d);
      const N = params.keyLabels.length;
      const keys = productWith(params.keys, N, d);
      const { alpha, beta, keyLabels } = params;
      return (x, n) => {
        const z = zs(x, n);
        const c = cacheLogits(keys.apply(x, n), n, keyLabels, K, beta);
        for (let i = 0; i < z.length; i++) z[i] = z[i]! + alpha * c[i]!;
        return logSoftmaxRows(z, K);
      };
    }
    case 'finetune': {
      const { p, scale } = params;
      const proj = productWith(params.projection, d, p);
      const cls = productWith(params.classes, K, d);
      return (h, n) => {
        const z = cls.apply(normalized(proj.apply(h, n), n, d), n);
        for (let i = 0; i < z.length; i++) z[i] = scale * z[i]!;
        return logSoftmaxRows(z, K);
      };
    }
  }
}
