/**
 * Tip-Adapter (Zhang et al., ECCV 2022), training-free: the k-shot embeddings are a key-value cache, and
 *
 *   logits(x) = scale x T' + bias + alpha * exp(-beta (1 - x F')) L       F [N, d] keys (rows L2-normalized),
 *                                                                         L [N, K] one-hot labels of the keys
 *
 * beta (sharpness) and alpha (the cache's weight) are chosen on the validation rows with the cache of the training
 * rows (`beats`, simplest first: alpha = 0 is zero-shot); the final cache holds `fitOn` (default train). Grids:
 * beta in 1..10 (integers, so every beta comes from one exp per affinity by repeated multiplication), alpha =
 * scale * {0, 10^(e/4), e = -12..4}. Needs the text tower's class embeddings.
 */
import type { Dataset } from '../learn/logreg.js';
import { denseProducts } from '../learn/ort-matmul.js';
import { LOSS_TIE, beats, type ValScore } from '../learn/select.js';
import { logitsLogLoss } from './logits.js';
import { scorerOf, zeroShotLogits, type HeadParams, type ZeroShotWeights } from './state.js';
import type { FittedHead } from './fewshot.js';

export const TIP_BETAS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
export const TIP_ALPHA_EXPONENTS = Array.from({ length: 17 }, (_, i) => (i - 12) / 4);

/**
 * Cache logits for every beta of TIP_BETAS at once: [betas][n, K], from the transposed affinities affT [N, n] (key j's
 * cosine to every validation row). Keys are taken class by class, each class's sums for every row and beta kept in
 * one small buffer, so memory is read in order and written once.
 */
function cacheLogitsAllBetas(affT: Float32Array, n: number, keyLabels: Int32Array, K: number): Float64Array[] {
  const B = TIP_BETAS.length;
  const out = TIP_BETAS.map(() => new Float64Array(n * K));
  const byClass: number[][] = Array.from({ length: K }, () => []);
  keyLabels.forEach((l, j) => byClass[l]!.push(j));
  const buf = new Float64Array(n * B); // [n][B] for one class
  for (let k = 0; k < K; k++) {
    if (byClass[k]!.length === 0) continue;
    buf.fill(0);
    for (const j of byClass[k]!) {
      for (let i = 0; i < n; i++) {
        const e = Math.exp(affT[j * n + i]! - 1); // beta = 1; beta b is e^b
        let p = e;
        for (let b = 0; b < B; b++) { buf[i * B + b]! += p; p *= e; }
      }
    }
    for (let b = 0; b < B; b++) { const o = out[b]!; for (let i = 0; i < n; i++) o[i * K + k] = buf[i * B + b]!; }
  }
  return out;
}

/**
 * Validation accuracy of zv + a c [n, K] for every a of `alphas` in one pass over the logits (argmax ties to the lower
 * class, the same comparisons as scoreIfBetter's on the mixed logits).
 */
export function accuracies(zv: Float64Array, c: Float64Array, alphas: readonly number[], labels: Int32Array, K: number): number[] {
  const A = alphas.length, n = labels.length;
  const al = Float64Array.from(alphas), top = new Float64Array(A), arg = new Int32Array(A), ok = new Int32Array(A);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    for (let a = 0; a < A; a++) { top[a] = zv[o]! + al[a]! * c[o]!; arg[a] = 0; }
    for (let k = 1; k < K; k++) {
      const z = zv[o + k]!, ck = c[o + k]!;
      for (let a = 0; a < A; a++) {
        const v = z + al[a]! * ck;
        if (v > top[a]!) { top[a] = v; arg[a] = k; }
      }
    }
    for (let a = 0; a < A; a++) if (arg[a] === labels[i]) ok[a]!++;
  }
  return Array.from(ok, (v) => v / n);
}

export async function fitTip(train: Dataset, val: Dataset, zs: ZeroShotWeights, fitOn: Dataset = train): Promise<FittedHead> {
  const { K, d } = train;
  const zv = zeroShotLogits(zs, K, d)(val.x, val.n);
  // affinities transposed, [N, nv] (keys x validation rows; the class-by-class pass below reads it in order), on
  // onnxruntime's Gemm when large (learn/ort-matmul.ts)
  const products = denseProducts();
  let affT: Float32Array;
  try {
    affT = await products.matmulT(train.x, train.n, val.x, val.n, d);
  } finally {
    await products.close();
  }
  const caches = cacheLogitsAllBetas(affT, val.n, train.labels.subarray(0, train.n), K);
  // candidates in `beats` order (beta outer, alpha inner, alpha = 0 once): accuracies of every alpha from one pass
  // per beta; a log-loss (log-sum-exp over [n, K]) only when a candidate ties the best's accuracy and could beat it
  const alphas = [0, ...TIP_ALPHA_EXPONENTS.map((e) => zs.scale * 10 ** e)];
  const mix = new Float64Array(zv.length);
  const lossOf = (bi: number, ai: number): number => {
    const c = caches[bi]!, a = alphas[ai]!;
    for (let i = 0; i < mix.length; i++) mix[i] = zv[i]! + a * c[i]!;
    return logitsLogLoss(mix, val.labels, K);
  };
  let best = { bi: 0, ai: 0, accuracy: -1, loss: null as number | null };
  for (const [bi, c] of caches.entries()) {
    const acc = accuracies(zv, c, alphas, val.labels, K);
    for (let ai = bi > 0 ? 1 : 0; ai < alphas.length; ai++) { // zero-shot (alpha 0) does not depend on beta
      if (acc[ai]! > best.accuracy) best = { bi, ai, accuracy: acc[ai]!, loss: null };
      else if (acc[ai] === best.accuracy) {
        best.loss ??= lossOf(best.bi, best.ai);
        if (best.loss <= LOSS_TIE) continue; // log-losses are >= 0: no tie can beat this one
        const loss = lossOf(bi, ai);
        if (beats({ accuracy: acc[ai]!, loss }, { accuracy: best.accuracy, loss: best.loss })) best = { bi, ai, accuracy: acc[ai]!, loss };
      }
    }
  }
  const alpha = alphas[best.ai]!, beta = TIP_BETAS[best.bi]!;
  const chosen: ValScore = { accuracy: best.accuracy, loss: best.loss ?? lossOf(best.bi, best.ai) };
  const params: HeadParams = {
    head: 'tip', zeroShot: zs, keys: fitOn.x.slice(0, fitOn.n * d), keyLabels: fitOn.labels.slice(0, fitOn.n), alpha, beta,
  };
  return { params, score: scorerOf(params, K, d), C: alpha, val: chosen, settings: { alpha, beta } };
}
