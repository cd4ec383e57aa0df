/** Output shared by the commands that predict labels (classify, probe predict). */
import { table, type Io } from './io.js';
import type { ZsError } from '../errors.js';

export interface Ranked {
  path: string;
  predictions: { label: string; score: number }[];
}

/** One JSON array with --json, else a table: image, label, score (best first). */
export function printPredictions(io: Io, results: Ranked[], json: boolean): void {
  if (json) {
    io.out(JSON.stringify(results));
    return;
  }
  if (results.length === 0) return;
  const rows: string[][] = [['IMAGE', 'LABEL', 'SCORE']];
  for (const r of results) r.predictions.forEach((p, i) => rows.push([i === 0 ? r.path : '', p.label, p.score.toFixed(4)]));
  io.out(table(rows, ['l', 'l', 'r']));
}

/**
 * Prints the predictions, then each failed image's one-line error and a count on stderr. Returns the exit code:
 * 1 when any image failed, else 0.
 */
export function printOutcome(io: Io, results: Ranked[], failures: { error: ZsError }[], total: number, json: boolean): number {
  printPredictions(io, results, json);
  for (const f of failures) io.note(f.error.toLine(), true);
  if (failures.length === 0) return 0;
  io.note(`${failures.length} of ${total} images failed`, true);
  return 1;
}

export function percent(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(2)}%`;
}
