/** The shape of a smooth objective the optimizer (lbfgs.ts) and the noise estimate (noise.ts) both evaluate. */

/** f(x), writing the gradient into g (same length as x). */
export type Objective = (x: Float64Array, g: Float64Array) => number;
