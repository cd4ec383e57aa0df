/** Slots of the Int32 control array shared by the loss engine and its workers (see engine-worker.ts). */
export const CTL = {
  /** Pass generation: the main thread adds 1 to start a pass (or to deliver STOP). */
  GEN: 0,
  /** Workers that finished the current pass. */
  DONE: 1,
  /** Command read after a wake-up: RUN or STOP. */
  CMD: 2,
  /** Set to 1 by a worker whose pass threw. */
  FAILED: 3,
  RUN: 0,
  STOP: 1,
  SLOTS: 4,
} as const;
