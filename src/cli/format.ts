/** Output shared by the commands that predict labels (classify, probe predict). */
import { table, type Io } from './io.js';

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

export function percent(x: number | null): string {
  return x === null ? '-' : `${(100 * x).toFixed(2)}%`;
}
