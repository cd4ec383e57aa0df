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
 * All five products (A = H W', Z = U C', dU = G C, dC = G' U, dW = dA' H) run in float32 (learn/ort-sync.ts:
 * onnxruntime's Gemm for large ones, the WASM SIMD kernel for small ones), or in float64 loops with precision 'f64'
 * (exact, for gradient checks).
 */
import { lbfgs } from '../learn/lbfgs.js';
import type { Dataset } from '../learn/logreg.js';
import { syncDenseProducts, type SyncDenseProducts } from '../learn/ort-sync.js';
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
  /** Ends the product worker (the objective cannot be evaluated after). */
  close(): void;
}

/** Z = A B' with a fixed-shape right-hand side B [cols, inner] that can be replaced: A [m, inner] -> Z [m, cols]. */
interface Mul {
  set(b: ArrayLike<number>): void;
  apply(a: Float32Array | Float64Array, m: number): Float64Array;
}

/** float32 through `dense` (learn/ort-sync.ts), or float64 in plain loops (exact; for checks on small problems). */
function mul(cols: number, inner: number, precision: 'f32' | 'f64', dense: SyncDenseProducts): Mul {
  if (precision === 'f32') {
    const B = new Float32Array(cols * inner);
    return {
      set: (b) => { B.set(b); },
      apply: (a, m) => Float64Array.from(dense.matmulT(a, m, B, cols, inner)),
    };
  }
  let B: ArrayLike<number> = new Float64Array(cols * inner);
  return {
    set: (b) => { B = Float64Array.from(b); },
    apply(a, m) {
      const z = new Float64Array(m * cols);
      for (let i = 0; i < m; i++) for (let c = 0; c < cols; c++) {
        let s = 0;
        for (let j = 0; j < inner; j++) s += a[i * inner + j]! * B[c * inner + j]!;
        z[i * cols + c] = s;
      }
      return z;
    },
  };
}

/** Transpose of a [rows, cols] matrix into `out` [cols, rows]. */
function transpose(a: ArrayLike<number>, rows: number, cols: number, out: Float32Array | Float64Array): Float32Array | Float64Array {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return out;
}

/** The objective of the header on rows `data` ([n, p]). */
export function finetuneObjective(data: Dataset, W0: Float32Array, d: number, T: Float32Array, scale: number, lambda: number,
  precision: 'f32' | 'f64' = 'f32'): FinetuneObjective {
  const { x: H, labels, n, d: p, K } = data;
  const Arr = precision === 'f32' ? Float32Array : Float64Array;
  const dense = syncDenseProducts();
  const proj = mul(d, p, precision, dense);      // A = H W'            [n, d]
  const back = mul(p, n, precision, dense);      // dW = dA' H = dA' (H')'  [d, p]
  back.set(transpose(H, n, p, new Arr(p * n)));
  const logit = mul(K, d, precision, dense);     // Z = U C'            [n, K]
  const toU = mul(d, K, precision, dense);       // dU = G C = G (C')'  [n, d]
  const toC = mul(d, n, precision, dense);       // dC = G' U = G' (U')' [K, d]
  const U = new Arr(n * d), Ut = new Arr(d * n), Ct = new Arr(d * K), Gt = new Arr(K * n), dAt = new Arr(d * n);
  const norms = new Float64Array(n);
  const G = new Arr(n * K);
  let loss = NaN;
  const fg = (x: Float64Array, g: Float64Array): number => {
    const W = x.subarray(0, d * p), C = x.subarray(d * p);
    const gW = g.subarray(0, d * p), gC = g.subarray(d * p);
    proj.set(W);
    const A = proj.apply(H, n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += A[i * d + j]! ** 2;
      const r = Math.sqrt(s) || 1;
      norms[i] = r;
      for (let j = 0; j < d; j++) U[i * d + j] = A[i * d + j]! / r;
    }
    logit.set(C);
    const Z = logit.apply(U, n); // [n, K], times the scale below
    let ce = 0;
    for (let i = 0; i < n; i++) {
      let m = -Infinity;
      for (let k = 0; k < K; k++) { const z = scale * Z[i * K + k]!; Z[i * K + k] = z; if (z > m) m = z; }
      const y = labels[i]!;
      const zy = Z[i * K + y]! - m;
      let se = 0;
      for (let k = 0; k < K; k++) { const e = Math.exp(Z[i * K + k]! - m); Z[i * K + k] = e; se += e; }
      ce += Math.log(se) - zy;
      for (let k = 0; k < K; k++) G[i * K + k] = scale * (Z[i * K + k]! / se - (k === y ? 1 : 0)) / n; // s (P - Y) / n
    }
    loss = ce / n;
    // du = s G C, dC = s G' U, da = (du - u (u . du)) / |a|
    toU.set(transpose(C, K, d, Ct));
    const dU = toU.apply(G, n);
    toC.set(transpose(U, n, d, Ut));
    const dC = toC.apply(transpose(G, n, K, Gt), K);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += U[i * d + j]! * dU[i * d + j]!;
      for (let j = 0; j < d; j++) dAt[j * n + i] = (dU[i * d + j]! - U[i * d + j]! * dot) / norms[i]!;
    }
    const dW = back.apply(dAt, d); // [d, p]
    let pen = 0;
    for (let i = 0; i < d * p; i++) { const w = W[i]! - W0[i]!; pen += w * w; gW[i] = dW[i]! + 2 * lambda * w; }
    for (let i = 0; i < K * d; i++) { const c = C[i]! - T[i]!; pen += c * c; gC[i] = dC[i]! + 2 * lambda * c; }
    return loss + lambda * pen;
  };
  return { fg, lastLoss: () => loss, close: () => dense.close() };
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
  let r: ReturnType<typeof lbfgs>;
  try {
    r = lbfgs(obj.fg, x0, {
      maxIter: options.maxIter ?? 200, gtol: 1e-5, fScale: 1,
      onIteration: options.onIteration ? (i) => { options.onIteration!({ iteration: i.iteration, objective: i.f }); } : undefined,
    });
  } finally {
    obj.close();
  }
  const params: HeadParams = {
    head: 'finetune', feature, projection: Float32Array.from(r.x.subarray(0, d * p)), classes: Float32Array.from(r.x.subarray(d * p)), scale: zs.scale, p,
  };
  return {
    params, score: scorerOf(params, K, d), C: lambda,
    settings: { lambda, iterations: r.iterations, converged: r.converged, objective: r.f },
  };
}
