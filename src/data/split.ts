/**
 * Seeded, stratified splits and few-shot sampling. Everything takes a plain label per row and returns row
 * indices (ascending), so it serves image datasets and feature files alike. Same labels + same seed -> same
 * indices on every platform (rng.ts); the row order of the input must itself be deterministic (the readers sort).
 *
 * Each class gets its own permutation of its rows (in ascending row order), drawn from the stream
 * (seed, purpose, class name): a class's draw never depends on the other classes or on the other purposes.
 *
 * stratifiedSplit: per class, the first round(fraction * n_c) rows of the permutation (clamped to 1..n_c-1)
 *   go to the held-out side. A class with fewer than 2 rows cannot be split: error.
 *
 * fewShotSplit (the few-shot protocol; CoOp's convention of a validation set of min(k, 4) shots per class,
 *   with CLIP's probe setup of choosing C on held-out labelled data):
 *   - per class, permutation P of its training-pool rows under stream (seed, 'few-shot', class);
 *   - train = P[0 .. k)                    exactly k per class; nested: the 2-shot set holds the 1-shot set
 *   - val   = P[k .. k + min(k, 4))        only for choosing C; disjoint from train
 *   - the test set is never touched (it is split off before, or given as test/).
 *   So a k-shot run sees k + min(k, 4) labelled examples per class in all; the final probe is fit on the k only.
 *   A class with fewer than k + min(k, 4) rows: error E_TOO_FEW naming the classes (use shortClasses() first
 *   to skip that k with a note instead).
 *   - shots 'all': val = round(valFraction * n_c) rows per class (clamped to 1..n_c-1, valFraction default 0.2),
 *     train = the rest. Whether to refit on train + val after choosing C is the caller's choice.
 */
import { ZsError } from '../errors.js';
import { int } from '../validate.js';
import { indicesByClass } from './dataset.js';
import { rngFor } from './rng.js';

export interface TrainTest {
  train: number[];
  test: number[];
}

export interface FewShot {
  train: number[];
  val: number[];
  /** Rows per class in train and val ('all' runs vary per class: the smallest class's counts). */
  trainPerClass: number;
  valPerClass: number;
}

export interface ShortClass {
  label: string;
  have: number;
  need: number;
}

const asc = (a: number, b: number) => a - b;

/** Validation shots per class for k training shots: min(k, 4). */
export function valShots(k: number): number {
  return Math.min(k, 4);
}

/** Rows per class a k-shot run needs from the training pool: k + min(k, 4). */
export function fewShotNeed(k: number): number {
  return k + valShots(k);
}

/** Classes with fewer than `need` rows (sorted by label). */
export function shortClasses(labels: readonly string[], need: number): ShortClass[] {
  const out: ShortClass[] = [];
  for (const [label, rows] of indicesByClass(labels)) if (rows.length < need) out.push({ label, have: rows.length, need });
  return out;
}

function tooFew(short: ShortClass[], what: string): ZsError {
  const list = short.slice(0, 5).map((s) => `${JSON.stringify(s.label)} has ${s.have}`).join(', ');
  const more = short.length > 5 ? ` and ${short.length - 5} more` : '';
  return new ZsError('E_TOO_FEW', `${what} needs ${short[0]!.need} examples per class, but ${list}${more}`, {
    kind: 'usage',
    hint: 'lower the shots, or add images to those classes',
  });
}

function checkFraction(name: string, f: number): number {
  if (typeof f === 'number' && f > 0 && f < 1) return f;
  throw new ZsError('E_INVALID_ARG', `invalid ${name}: ${String(f)} (expected a number between 0 and 1, both excluded)`, {
    kind: 'usage',
    hint: 'e.g. 0.2 holds out a fifth of each class',
  });
}

function heldOutCount(n: number, fraction: number): number {
  return Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
}

/** Splits rows per class: `fraction` of each class held out (test), the rest train. */
export function stratifiedSplit(labels: readonly string[], fraction: number, seed: number, purpose = 'test-split'): TrainTest {
  checkFraction('split fraction', fraction);
  const short = shortClasses(labels, 2);
  if (short.length) throw tooFew(short, `a ${purpose}`);
  const train: number[] = [];
  const test: number[] = [];
  for (const [label, rows] of indicesByClass(labels)) {
    const perm = rngFor(seed, purpose, label).shuffle(rows.slice());
    const m = heldOutCount(rows.length, fraction);
    test.push(...perm.slice(0, m));
    train.push(...perm.slice(m));
  }
  return { train: train.sort(asc), test: test.sort(asc) };
}

/** The few-shot protocol (see the header): k training rows and min(k, 4) validation rows per class. */
export function fewShotSplit(labels: readonly string[], shots: number | 'all', seed: number, options: { valFraction?: number } = {}): FewShot {
  const train: number[] = [];
  const val: number[] = [];
  const groups = indicesByClass(labels);
  if (shots === 'all') {
    const valFraction = checkFraction('validation fraction', options.valFraction ?? 0.2);
    const short = shortClasses(labels, 2);
    if (short.length) throw tooFew(short, 'an all-data run with a validation split');
    let trainMin = Infinity;
    let valMin = Infinity;
    for (const [label, rows] of groups) {
      const perm = rngFor(seed, 'few-shot', label).shuffle(rows.slice());
      const m = heldOutCount(rows.length, valFraction);
      val.push(...perm.slice(0, m));
      train.push(...perm.slice(m));
      trainMin = Math.min(trainMin, rows.length - m);
      valMin = Math.min(valMin, m);
    }
    return { train: train.sort(asc), val: val.sort(asc), trainPerClass: trainMin, valPerClass: valMin };
  }
  const k = int('shots', shots, 1);
  const v = valShots(k);
  const short = shortClasses(labels, k + v);
  if (short.length) throw tooFew(short, `a ${k}-shot run (${k} to train + ${v} to validate)`);
  for (const [label, rows] of groups) {
    const perm = rngFor(seed, 'few-shot', label).shuffle(rows.slice());
    train.push(...perm.slice(0, k));
    val.push(...perm.slice(k, k + v));
  }
  return { train: train.sort(asc), val: val.sort(asc), trainPerClass: k, valPerClass: v };
}

/** Exactly k rows per class, the same rows fewShotSplit trains on (no validation rows needed). */
export function kShotSample(labels: readonly string[], k: number, seed: number): number[] {
  int('shots', k, 1);
  const short = shortClasses(labels, k);
  if (short.length) throw tooFew(short, `a ${k}-shot sample`);
  const out: number[] = [];
  for (const [label, rows] of indicesByClass(labels)) out.push(...rngFor(seed, 'few-shot', label).shuffle(rows.slice()).slice(0, k));
  return out.sort(asc);
}

/**
 * Checks a few-shot draw against the protocol, for the runner to call on every (k, seed): exactly k training and
 * min(k, 4) validation rows per class (all data: at least one of each per class), train and validation disjoint,
 * and neither holding a test row. `labels` are the pool's labels, `testRows` test row ids in the same id space
 * as `poolRows` (the pool's row ids, e.g. indices into the whole dataset). Throws E_PROTOCOL: a bug, not bad input.
 */
export function assertFewShot(labels: readonly string[], fs: FewShot, shots: number | 'all', poolRows?: readonly number[], testRows?: readonly number[]): void {
  const fail = (what: string) => { throw new ZsError('E_PROTOCOL', `few-shot protocol broken: ${what}`, { hint: 'this is a bug in zs; please report it' }); };
  const count = (rows: number[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(labels[r]!, (m.get(labels[r]!) ?? 0) + 1);
    return m;
  };
  const tr = count(fs.train);
  const va = count(fs.val);
  for (const c of indicesByClass(labels).keys()) {
    const t = tr.get(c) ?? 0;
    const v = va.get(c) ?? 0;
    if (shots === 'all' ? t < 1 || v < 1 : t !== shots || v !== valShots(shots)) fail(`class ${JSON.stringify(c)} has ${t} training and ${v} validation rows at ${shots} shots`);
  }
  const trainSet = new Set(fs.train);
  if (trainSet.size !== fs.train.length || new Set(fs.val).size !== fs.val.length) fail('a row is drawn twice');
  if (fs.val.some((r) => trainSet.has(r))) fail('a validation row is also a training row');
  if (poolRows && testRows) {
    const test = new Set(testRows);
    if ([...fs.train, ...fs.val].some((r) => test.has(poolRows[r]!))) fail('a test row is used for training or validation');
  }
}

/** Picks rows of an array by index. */
export function take<T>(values: readonly T[], rows: readonly number[]): T[] {
  return rows.map((r) => values[r]!);
}
