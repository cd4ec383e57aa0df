/** Turning a score matrix into sorted label predictions, shared by the zero-shot and probe heads. */

export interface Prediction {
  label: string;
  score: number;
}

/** Ranks the K scores of each of n rows (`[n, K]` row-major) best first, keeping the best `topK`. */
export function rankRows(scores: ArrayLike<number>, n: number, labels: readonly string[], topK = labels.length): Prediction[][] {
  const K = labels.length;
  const out: Prediction[][] = [];
  for (let i = 0; i < n; i++) {
    const preds = labels.map((label, c) => ({ label, score: scores[i * K + c]! }));
    preds.sort((a, b) => b.score - a.score);
    out.push(preds.slice(0, topK));
  }
  return out;
}
