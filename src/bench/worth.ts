/**
 * "Zero-shot is worth N labelled examples per class": how many shots per class a probe on the same features
 * needs to match the zero-shot accuracy, as in CLIP's Figure 7 (Radford et al. 2021), which estimates it by
 * log-linear interpolation of the few-shot curve.
 *
 * Given the probe's mean accuracy at measured shots k_1 < k_2 < … (typically 1, 2, 4, 8, 16) and the zero-shot
 * accuracy z:
 * - z equal to the accuracy at the smallest k -> that k;
 * - z below the accuracy at the smallest k -> 'below' ("fewer than k_1", e.g. "< 1"): the smallest probe
 *   already beats zero-shot; no number is extrapolated;
 * - otherwise the first segment with acc(k_i) < z <= acc(k_i+1) (the curve need not be monotonic; the first
 *   crossing is the fewest shots that reach z), interpolated linearly in log2 k:
 *     log2 N = log2 k_i + (z - acc_i) / (acc_i+1 - acc_i) * (log2 k_i+1 - log2 k_i)
 *   (so z equal to acc(k_i+1) gives exactly k_i+1);
 * - z above every measured accuracy with no crossing -> 'above' ("more than k_max").
 * Only numeric shots enter the curve: an "all data" run has no single shots-per-class value, so it is left out.
 */
import { ZsError } from '../errors.js';

export interface CurvePoint {
  shots: number;
  accuracy: number;
}

export interface Worth {
  relation: 'within' | 'below' | 'above';
  /** Interpolated shots per class ('within'), else null. */
  shots: number | null;
  /** The measured shots bracketing the estimate ('within'), else null. */
  between: [number, number] | null;
  minShots: number;
  maxShots: number;
  /** "zero-shot is worth 3.4 labelled examples per class", "… fewer than 1 …", "… more than 16 …". */
  text: string;
}

/** N for display: one decimal below 10, whole numbers from 10 up. */
export function formatShots(x: number): string {
  return x < 9.95 ? x.toFixed(1) : String(Math.round(x));
}

function examples(k: number): string {
  return `labelled example${k === 1 ? '' : 's'} per class`;
}

/** The zero-shot worth in shots per class (see the header for the rules). */
export function zeroShotWorth(curve: readonly CurvePoint[], zeroShotAccuracy: number): Worth {
  if (curve.length === 0) throw new ZsError('E_INVALID_ARG', 'no probe results to compare zero-shot with');
  const pts = [...curve].sort((a, b) => a.shots - b.shots);
  pts.forEach((p, i) => {
    if (!(p.shots > 0) || !Number.isFinite(p.shots)) throw new ZsError('E_INVALID_ARG', `invalid shots ${p.shots} in the probe curve`);
    if (i > 0 && pts[i - 1]!.shots === p.shots) throw new ZsError('E_INVALID_ARG', `shots ${p.shots} appears twice in the probe curve`);
    if (!Number.isFinite(p.accuracy)) throw new ZsError('E_INVALID_ARG', `accuracy at ${p.shots} shots is ${p.accuracy}`);
  });
  const z = zeroShotAccuracy;
  if (!Number.isFinite(z)) throw new ZsError('E_INVALID_ARG', `zero-shot accuracy is ${z}`);
  const minShots = pts[0]!.shots;
  const maxShots = pts[pts.length - 1]!.shots;
  const within = (shots: number, between: [number, number]): Worth => ({
    relation: 'within', shots, between, minShots, maxShots,
    text: `zero-shot is worth ${formatShots(shots)} ${examples(shots)}`,
  });
  if (z === pts[0]!.accuracy) return within(minShots, [minShots, minShots]);
  if (z < pts[0]!.accuracy) {
    return {
      relation: 'below', shots: null, between: null, minShots, maxShots,
      text: `zero-shot is worth fewer than ${minShots} ${examples(minShots)} (the ${minShots}-shot probe already beats it)`,
    };
  }
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!;
    const b = pts[i + 1]!;
    if (a.accuracy < z && z <= b.accuracy) {
      const t = (z - a.accuracy) / (b.accuracy - a.accuracy);
      const log2n = Math.log2(a.shots) + t * (Math.log2(b.shots) - Math.log2(a.shots));
      return within(z === b.accuracy ? b.shots : 2 ** log2n, [a.shots, b.shots]);
    }
  }
  return {
    relation: 'above', shots: null, between: null, minShots, maxShots,
    text: `zero-shot is worth more than ${maxShots} ${examples(maxShots)} (it beats every probe measured, up to ${maxShots} shots)`,
  };
}
