/**
 * The one model-selection rule every head uses, and the tolerances shared across the learner: a candidate beats
 * another on validation when its accuracy is higher, or equal with a lower mean log-loss (by more than LOSS_TIE,
 * so float noise in the loss never decides). Callers scan candidates from the simplest (smallest C, the plain
 * probe, alpha 0, ...) up and keep the first best, so exact ties go to the simpler candidate.
 */

/** Validation score of one candidate. */
export interface ValScore {
  accuracy: number;
  /** Mean log-loss on the validation rows. */
  loss: number;
}

/** Log-loss differences at or below this are ties. */
export const LOSS_TIE = 1e-12;

/** scipy L-BFGS-B's default relative-reduction test, factr * eps = 1e7 * 2.22e-16 (used by lbfgs.ts and fit.ts). */
export const SCIPY_FTOL = 2.220446049250313e-9;

/** Probability floor inside log() for log-losses (a zero probability scores -log(1e-300), not Infinity). */
export const PROB_FLOOR = 1e-300;

/** True when validation score `a` beats `b` (see the header). */
export function beats(a: ValScore, b: ValScore): boolean {
  return a.accuracy > b.accuracy || (a.accuracy === b.accuracy && a.loss < b.loss - LOSS_TIE);
}

/** Index of the best of `scores` by `beats`, the first on ties; -1 for none. */
export function bestIndex(scores: readonly ValScore[]): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (best < 0 || beats(scores[i]!, scores[best]!)) best = i;
  return best;
}
