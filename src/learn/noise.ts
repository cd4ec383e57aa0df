/**
 * How noisy an objective is where it is evaluated: the measurement lbfgs.ts's noise stop rests on. An f summed
 * in float32 (the probe's engine) cannot show a reduction smaller than its rounding noise, so the optimizer
 * measures that noise once and stops when progress is no longer distinguishable from it.
 */
import type { VecSpace } from './wasm-vec.js';
import type { Objective } from './objective.js';

/**
 * A window's reduction counts as progress only above this many noise standard deviations: 2 sqrt(2), two
 * standard deviations of the difference of two independent noisy values.
 */
export const NOISE_SIGNIFICANCE = 2 * Math.SQRT2;
/** Points on each side of x in the noise estimate (ECnoise's m = 6). */
const NOISE_HALF = 3;
/** Steps tried by the noise estimate, relative to max(||x||, 1): first the smaller, then the larger. */
const NOISE_STEPS = [1e-6, 1e-4];

/**
 * Noise level (standard deviation) of f from m + 1 values at equally spaced points, by Moré & Wild's ECnoise
 * (Estimating computational noise, SIAM J. Sci. Comput. 33(3), 2011): the k-th differences of a smooth f
 * along a short line vanish like h^k while those of noise settle at a level; sigma_k^2 = gamma_k mean((D^k f)^2)
 * with gamma_k = (k!)^2 / (2k)!, and the first k whose level agrees within a factor 4 with the next two and
 * whose differences change sign is taken. NaN when no level settles (the step was too small or too large).
 */
export function noiseFromDifferences(fv: readonly number[]): number {
  const m = fv.length - 1;
  let t = fv.slice();
  const level: number[] = [], signChange: boolean[] = [];
  let gamma = 1;
  for (let k = 1; k <= m; k++) {
    t = t.slice(1).map((v, i) => v - t[i]!);
    gamma *= 0.5 * k / (2 * k - 1);
    level[k] = Math.sqrt(gamma * t.reduce((a, v) => a + v * v, 0) / t.length);
    signChange[k] = Math.min(...t) < 0 && Math.max(...t) > 0;
  }
  for (let k = 1; k <= m - 2; k++) {
    const e = [level[k]!, level[k + 1]!, level[k + 2]!];
    if (Math.max(...e) <= 4 * Math.min(...e) && signChange[k]) return level[k]!;
  }
  return NaN;
}

/**
 * The noise of f at (x, fx): ECnoise on 2 NOISE_HALF + 1 points x + i h u, u a fixed pseudo-random direction
 * (the same every run), h from NOISE_STEPS. Uses `dir` and `at` as scratch. 0 where no step shows noise.
 */
export function estimateNoise(fg: Objective, vs: VecSpace, x: Float64Array, fx: number, dir: Float64Array, at: { x: Float64Array; g: Float64Array }, counter: { evals: number }): number {
  let seed = 12345;
  for (let i = 0; i < dir.length; i++) { seed = (seed * 16807) % 2147483647; dir[i] = seed / 2147483647 - 0.5; }
  const unit = 1 / Math.sqrt(vs.dot(dir, dir));
  const size = Math.max(Math.sqrt(vs.dot(x, x)), 1);
  for (const h of NOISE_STEPS) {
    const fv: number[] = [];
    for (let i = -NOISE_HALF; i <= NOISE_HALF; i++) {
      if (i === 0) { fv.push(fx); continue; }
      at.x.set(x);
      vs.axpy(i * h * size * unit, dir, at.x);
      fv.push(fg(at.x, at.g));
      counter.evals++;
    }
    const sigma = noiseFromDifferences(fv);
    if (Number.isFinite(sigma)) return sigma;
  }
  return 0;
}
