/**
 * Label maps: a JSON object from class names (folder names, manifest labels) to the words used in prompts,
 * e.g. {"t_shirt": "t-shirt", "ankle_boot": "ankle boot"}.
 *
 * Rules: the file is one JSON object of non-empty strings. Classes missing from the map keep their name
 * unchanged (a map may be partial). Keys that name no class are reported through `onWarning`, not an error:
 * one map is often shared by several datasets or subsets, yet a typo must not pass unseen. Two classes that end
 * up with the same prompt word are an error (zero-shot could not tell them apart).
 */
import { promises as fsp } from 'node:fs';
import { ZsError, wrapError } from '../errors.js';

export type LabelMap = ReadonlyMap<string, string>;

function mapError(source: string, what: string): ZsError {
  return new ZsError('E_LABEL_MAP', `${source}: ${what}`, {
    kind: 'usage',
    hint: 'write a JSON object of folder name -> prompt word, e.g. {"t_shirt": "t-shirt"}',
  });
}

/** Checks a parsed JSON value as a label map; `source` names it in errors. */
export function parseLabelMap(value: unknown, source: string): LabelMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw mapError(source, 'not a JSON object');
  const map = new Map<string, string>();
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string' || v.trim() === '') throw mapError(source, `the value for ${JSON.stringify(k)} is ${JSON.stringify(v)}, not a non-empty string`);
    map.set(k, v.trim());
  }
  return map;
}

/** Reads a label map JSON file. */
export async function readLabelMap(file: string): Promise<LabelMap> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ZsError('E_NOT_FOUND', `no label map file ${file}`, { kind: 'usage', hint: 'check the path' });
    throw wrapError(e, 'E_READ', `cannot read ${file}`, 'check its permissions');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw mapError(file, `not valid JSON (${(e as Error).message})`);
  }
  return parseLabelMap(value, file);
}

/** Prompt words for `classes` (same order), applying the map; see the header for the rules. */
export function applyLabelMap(classes: readonly string[], map: LabelMap, source: string, onWarning?: (message: string) => void): string[] {
  const words = classes.map((c) => map.get(c) ?? c);
  const unused = [...map.keys()].filter((k) => !classes.includes(k));
  if (unused.length > 0) {
    const list = unused.slice(0, 8).map((k) => JSON.stringify(k)).join(', ') + (unused.length > 8 ? `, … (${unused.length} in all)` : '');
    onWarning?.(`${source}: ${unused.length === 1 ? 'key' : 'keys'} ${list} match${unused.length === 1 ? 'es' : ''} no class`);
  }
  const owner = new Map<string, string>();
  words.forEach((w, i) => {
    const prev = owner.get(w);
    if (prev !== undefined) {
      throw new ZsError('E_LABEL_MAP', `${source}: classes ${JSON.stringify(prev)} and ${JSON.stringify(classes[i])} both become ${JSON.stringify(w)}`, {
        kind: 'usage',
        hint: 'give each class its own prompt word',
      });
    }
    owner.set(w, classes[i]!);
  });
  return words;
}
