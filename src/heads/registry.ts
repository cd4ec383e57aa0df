/**
 * Every few-shot head as data: its title, what it needs, and how it is fitted from a split (train: the shots;
 * val: the rows hyperparameters are chosen on; fitOn: the rows the final head is fitted on, train or train + val).
 * `zs probe fit --head`, `zs bench` and the library share this table.
 */
import { usageError } from '../errors.js';
import type { Dataset } from '../learn/logreg.js';
import { fitProbe, fitAnchored, fitWise, type FittedHead } from './fewshot.js';
import { fitGda } from './gda.js';
import { fitTip } from './tip.js';
import { HEAD_NAMES, type HeadName, type ZeroShotWeights } from './state.js';
import { fitFinetune, type PreProjection } from './finetune.js';

export interface HeadSplit {
  train: Dataset;
  val: Dataset;
  fitOn: Dataset;
  /** The zero-shot classifier (text tower) on the same classes, where the model has one. */
  zs?: ZeroShotWeights;
  /** Pre-projection features of the same rows and the graph's projection (finetune only). */
  pre?: PreProjection;
}

/** Fits share the plain probe of the same split (anchored and WiSE build on it). */
export interface FitSession {
  split: HeadSplit;
  plain(): Promise<FittedHead>;
}

export interface HeadSpec {
  title: string;
  /** Needs the class text embeddings (zero-shot weights). */
  text: boolean;
  /** Needs pre-projection features. */
  pre: boolean;
  fit(s: FitSession): Promise<FittedHead>;
  /** The plain probe: the head the others are compared with. */
  baseline?: boolean;
}

export const HEAD_SPECS: Record<HeadName, HeadSpec> = {
  linear: { title: 'linear probe', text: false, pre: false, baseline: true, fit: (s) => s.plain() },
  anchored: { title: 'anchored probe', text: true, pre: false, fit: async (s) => fitAnchored(s.split.train, s.split.val, s.split.zs!, s.split.fitOn, await s.plain()) },
  wise: { title: 'WiSE mix', text: true, pre: false, fit: async (s) => fitWise(s.split.zs!, await s.plain(), s.split.val) },
  tip: { title: 'Tip-Adapter', text: true, pre: false, fit: async (s) => fitTip(s.split.train, s.split.val, s.split.zs!, s.split.fitOn) },
  gda: { title: 'GDA', text: false, pre: false, fit: async (s) => fitGda(s.split.train, s.split.val, s.split.zs, s.split.fitOn) },
  finetune: { title: 'fine-tuned projection', text: true, pre: true, fit: async (s) => fitFinetune(s.split.pre!, s.split.zs!) },
};

export function checkHeadName(name: string, flag = '--head'): HeadName {
  if (!(HEAD_NAMES as readonly string[]).includes(name)) {
    throw usageError('E_INVALID_ARG', `unknown ${flag} ${JSON.stringify(name)}`, `heads are ${HEAD_NAMES.join(', ')}`);
  }
  return name as HeadName;
}

/** Throws a one-line usage error where a head lacks what it needs (`model` names the model in the message). */
export function checkHeadInputs(head: HeadName, model: string, has: { text: boolean; pre: boolean }): void {
  const spec = HEAD_SPECS[head];
  if (spec.text && !has.text) {
    throw usageError('E_NO_TEXT', `head ${head} needs the class text embeddings, but ${model} has no text tower`,
      'use --head linear or gda, or a CLIP-like model');
  }
  if (spec.pre && !has.pre) {
    throw usageError('E_NO_PRE_PROJECTION', `head ${head} needs the image tower's pre-projection features, which ${model} does not expose`,
      'use another head, or a CLIP-style model whose image tower ends in a projection MatMul');
  }
}

export function fitSession(split: HeadSplit): FitSession {
  let plain: Promise<FittedHead> | undefined;
  return { split, plain: () => (plain ??= fitProbe(split.train, split.val, split.fitOn)) };
}
