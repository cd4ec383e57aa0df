/**
 * What every dataset reader returns, and the checks they share.
 *
 * A dataset is a list of labelled items (`{ path, label }`) plus its sorted class list. Readers
 * (folder.ts, manifest.ts) build items; features.ts gives labels per embedding row. The split and sampling
 * code (split.ts) works on plain label arrays and returns row indices, so it serves both.
 */
import { ZsError } from '../errors.js';

export interface LabeledItem {
  path: string;
  label: string;
}

/** Distinct labels in code-unit order (the same on every platform and locale). */
export function sortedClasses(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort(compareStrings);
}

/** Plain code-unit comparison: deterministic, unlike localeCompare. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Number of items per label, in the order of `classes`. */
export function classCounts(labels: readonly string[], classes: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>(classes.map((c) => [c, 0]));
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}

/** Row indices grouped by label, each group in ascending row order; groups in sorted label order. */
export function indicesByClass(labels: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const c of sortedClasses(labels)) groups.set(c, []);
  labels.forEach((l, i) => groups.get(l)!.push(i));
  return groups;
}

/** Classification needs at least two classes; `where` names the folder or file. */
export function requireTwoClasses(classes: readonly string[], where: string): void {
  if (classes.length >= 2) return;
  const found = classes.length === 0 ? 'no classes' : `only one class (${JSON.stringify(classes[0])})`;
  throw new ZsError('E_ONE_CLASS', `${where} has ${found}; a classifier needs at least 2`, {
    kind: 'usage',
    hint: 'add a folder (or manifest rows) for each further class',
  });
}

/**
 * Every label found in data must be one the model/probe knows (e.g. `zs probe eval` on a dataset with a
 * class the probe was not trained on). Throws one line naming the unknown labels and the known ones.
 */
export function requireKnownLabels(found: Iterable<string>, known: readonly string[], knownWhat: string, where: string): void {
  const knownSet = new Set(known);
  const unknown = sortedClasses([...found].filter((l) => !knownSet.has(l)));
  if (unknown.length === 0) return;
  const list = (xs: readonly string[]) => xs.slice(0, 8).map((x) => JSON.stringify(x)).join(', ') + (xs.length > 8 ? `, … (${xs.length} in all)` : '');
  throw new ZsError('E_UNKNOWN_LABEL', `${where} has label${unknown.length > 1 ? 's' : ''} ${list(unknown)} that ${knownWhat} lacks`, {
    kind: 'usage',
    hint: `${knownWhat} knows ${list(known)}; remove those rows or use a ${knownWhat} trained on these classes`,
  });
}
