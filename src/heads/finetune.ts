/**
 * Fine-tuning the top of a CLIP-style image tower on cached features: the visual projection W [d, p] (from the
 * ONNX graph's initializers, W0) and a bias-free class head C [K, d] (initialised from the class text embeddings
 * T), trained together with L-BFGS (learn/lbfgs.ts) on the pre-projection pooled features h [p] (post-layernorm
 * CLS, the tensor entering the projection MatMul):
 *
 *   a_i = W h_i [d],  u_i = a_i / |a_i|,  logits_ik = s * C_k . u_i       s: the model's logit scale
 *   f(W, C) = (1/n) sum_i -log softmax(logits_i)[y_i] + lambda (||W - W0||^2 + ||C - T||^2)
 *
 * lambda = 1/k by default (k = shots per class, the smallest class count): few shots, strong pull toward the
 * pretrained weights; no validation set. The same lambda pulls the class head toward the text embeddings.
 * Gradient (G = (P - Y) / n [n, K]):  dC = s G' U + 2 lambda (C - T);  du_i = s (G C)_i;
 * da_i = (du_i - u_i (u_i . du_i)) / |a_i|;  dW = dA' H + 2 lambda (W - W0).
 * The products run on the SIMD kernel (learn/matmul.ts): A = H W' and dA' H = (H' dA)' with H' fixed.
 */
import { lbfgs } from '../learn/lbfgs.js';
import type { Dataset } from '../learn/logreg.js';
import { productWith } from '../learn/matmul.js';
import { scorerOf, type HeadParams, type ZeroShotWeights } from './state.js';
import type { FittedHead } from './fewshot.js';

/** Pre-projection features of the fitting rows and the graph's projection. */
export interface PreProjection {
  /** Rows h [n, p] with class labels (K classes). */
  fitOn: Dataset;
  /** W0 [d, p] (row k of the projection maps h to embedding value k). */
  W0: Float32Array;
  /** Embedding dimension. */
  d: number;
  /** The graph tensor the rows come from (stored with the head, so predict embeds the same tensor). */
  feature: string;
}

export interface FinetuneOptions {
  /** Default 1/k, k = the smallest class count. */
  lambda?: number;
  maxIter?: number;
  onIteration?: (info: { iteration: number; objective: number }) => void;
}

export interface FinetuneObjective {
  /** f at x = [W (d*p), C (K*d)], gradient into g. */
  fg(x: Float64Array, g: Float64Array): number;
  /** Mean cross-entropy alone at the last evaluated point. */
  lastLoss(): number;
}

/** The two products with H [n, p]: A = H W' [n, d] and dA' H [d, p]. */
interface Products {
  forward(W: Float64Array): Float64Array;
  backward(dAt: Float32Array | Float64Array): Float64Array;
}

/** float32 on the SIMD kernel (the default), or float64 in plain loops (exact; for checks on small problems). */
function products(H: Float32Array, n: number, p: number, d: number, precision: 'f32' | 'f64'): Products {
  if (precision === 'f64') {
    return {
      forward(W) {
        const A = new Float64Array(n * d);
        for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) {
          let s = 0;
          for (let j = 0; j < p; j++) s += H[i * p + j]! * W[k * p + j]!;
          A[i * d + k] = s;
        }
        return A;
      },
      backward(dAt) {
        const G = new Float64Array(d * p);
        for (let k = 0; k < d; k++) for (let i = 0; i < n; i++) {
          const a = dAt[k * n + i]!;
          if (a !== 0) for (let j = 0; j < p; j++) G[k * p + j]! += a * H[i * p + j]!;
        }
        return G;
      },
    };
  }
  const Ht = new Float32Array(p * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) Ht[j * n + i] = H[i * p + j]!;
  const proj = productWith(new Float32Array(d * p), d, p); // A = H W' [n, d]
  const grad = productWith(Ht, p, n);                       // rows dA' [d, n] times H'' -> dA' H [d, p]
  return {
    forward(W) { proj.update(W); return proj.apply(H, n); },
    backward(dAt) { return grad.apply(dAt instanceof Float32Array ? dAt : Float32Array.from(dAt), d); },
  };
}

/** The objective of the header on rows `data` ([n, p]). */
export function finetuneObjective(data: Dataset, W0: Float32Array, d: number, T: Float32Array, scale: number, lambda: number,
  precision: 'f32' | 'f64' = 'f32'): FinetuneObjective {
  const { x: H, labels, n, d: p, K } = data;
  const prod = products(H, n, p, d, precision);
  const dAt64 = precision === 'f64';
  const U = new Float64Array(n * d), dAt = dAt64 ? new Float64Array(d * n) : new Float32Array(d * n);
  const norms = new Float64Array(n);
  const logits = new Float64Array(n * K), G = new Float64Array(n * K);
  let loss = NaN;
  const fg = (x: Float64Array, g: Float64Array): number => {
    const W = x.subarray(0, d * p), C = x.subarray(d * p);
    const gW = g.subarray(0, d * p), gC = g.subarray(d * p);
    const A = prod.forward(W);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += A[i * d + j]! ** 2;
      const r = Math.sqrt(s) || 1;
      norms[i] = r;
      for (let j = 0; j < d; j++) U[i * d + j] = A[i * d + j]! / r;
    }
    // logits [n, K] = s U C' (float64 here: K * d per row is small next to the projection)
    let ce = 0;
    for (let i = 0; i < n; i++) {
      let m = -Infinity;
      for (let k = 0; k < K; k++) {
        let z = 0;
        for (let j = 0; j < d; j++) z += U[i * d + j]! * C[k * d + j]!;
        z *= scale;
        logits[i * K + k] = z;
        if (z > m) m = z;
      }
      let se = 0;
      for (let k = 0; k < K; k++) se += Math.exp(logits[i * K + k]! - m);
      const y = labels[i]!;
      ce += Math.log(se) + m - logits[i * K + y]!;
      for (let k = 0; k < K; k++) G[i * K + k] = (Math.exp(logits[i * K + k]! - m) / se - (k === y ? 1 : 0)) / n;
    }
    loss = ce / n;
    // dC = s G' U, du = s G C, da = (du - u (u . du)) / |a|
    gC.fill(0);
    const du = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      du.fill(0);
      for (let k = 0; k < K; k++) {
        const gk = scale * G[i * K + k]!;
        if (gk === 0) continue;
        for (let j = 0; j < d; j++) { du[j]! += gk * C[k * d + j]!; gC[k * d + j]! += gk * U[i * d + j]!; }
      }
      let dot = 0;
      for (let j = 0; j < d; j++) dot += U[i * d + j]! * du[j]!;
      for (let j = 0; j < d; j++) dAt[j * n + i] = (du[j]! - U[i * d + j]! * dot) / norms[i]!;
    }
    const dW = prod.backward(dAt); // [d, p]
    let pen = 0;
    for (let i = 0; i < d * p; i++) { const w = W[i]! - W0[i]!; pen += w * w; gW[i] = dW[i]! + 2 * lambda * w; }
    for (let i = 0; i < K * d; i++) { const c = C[i]! - T[i]!; pen += c * c; gC[i] = gC[i]! + 2 * lambda * c; }
    return loss + lambda * pen;
  };
  return { fg, lastLoss: () => loss };
}

/** Smallest class count of a dataset (k of k-shot). */
export function minClassCount(data: Dataset): number {
  const counts = new Array<number>(data.K).fill(0);
  for (const y of data.labels) counts[y]!++;
  return Math.min(...counts);
}

export function fitFinetune(pre: PreProjection, zs: ZeroShotWeights, options: FinetuneOptions = {}): FittedHead {
  const { fitOn, W0, d, feature } = pre;
  const { K, d: p } = fitOn;
  const lambda = options.lambda ?? 1 / Math.max(1, minClassCount(fitOn));
  const obj = finetuneObjective(fitOn, W0, d, zs.T, zs.scale, lambda);
  const x0 = new Float64Array(d * p + K * d);
  x0.set(W0);
  x0.set(zs.T, d * p);
  const r = lbfgs(obj.fg, x0, {
    maxIter: options.maxIter ?? 200, gtol: 1e-5, fScale: 1,
    onIteration: options.onIteration ? (i) => { options.onIteration!({ iteration: i.iteration, objective: i.f }); } : undefined,
  });
  const params: HeadParams = {
    head: 'finetune', feature, projection: Float32Array.from(r.x.subarray(0, d * p)), classes: Float32Array.from(r.x.subarray(d * p)), scale: zs.scale, p,
  };
  return {
    params, score: scorerOf(params, K, d), C: lambda,
    settings: { lambda, iterations: r.iterations, converged: r.converged, objective: r.f },
  };
}
