/**
 * One entry point for "a labelled dataset" as the probe and bench commands take it: a folder per class (with or
 * without train/ and test/), a CSV manifest (`path,label`), or JSONL features (`{"label", "embedding"}` lines).
 * Images come back as paths to embed; features come back as the matrix itself.
 */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { ZsError } from '../errors.js';
import { readFolderDataset } from './folder.js';
import { readManifest } from './manifest.js';
import { readFeatures } from './features.js';
import { sortedClasses, requireTwoClasses, type LabeledItem } from './dataset.js';

export type LabeledSource =
  | { kind: 'images'; source: string; classes: string[]; paths: string[]; labels: string[] }
  | { kind: 'features'; source: string; classes: string[]; data: Float32Array; dims: [number, number]; labels: string[] };

/** Which part of a train/test folder to read; folders without that split give all their images. */
export type Part = 'train' | 'test' | 'all';

function fromItems(source: string, classes: string[], items: LabeledItem[]): LabeledSource {
  return { kind: 'images', source, classes, paths: items.map((i) => i.path), labels: items.map((i) => i.label) };
}

export async function readLabeled(input: string, part: Part, onWarning?: (m: string) => void): Promise<LabeledSource> {
  let isDir = false;
  try {
    isDir = statSync(input).isDirectory();
  } catch {
    throw new ZsError('E_DATA_MISSING', `dataset not found: ${input}`, {
      kind: 'usage',
      hint: 'give a folder with one subfolder per class, a CSV manifest (path,label) or a JSONL features file',
    });
  }
  if (isDir) {
    const ds = await readFolderDataset(input, { onWarning });
    if (ds.layout === 'classes') return fromItems(input, ds.classes, ds.items);
    const items = part === 'train' ? ds.train : part === 'test' ? ds.test : [...ds.train, ...ds.test];
    return fromItems(input, ds.classes, items);
  }
  const ext = extname(input).toLowerCase();
  if (ext === '.csv') {
    const m = await readManifest(input);
    return fromItems(input, m.classes, m.items);
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    const f = await readFeatures(input, { requireLabels: true });
    const labels = f.labels!;
    const classes = sortedClasses(labels);
    requireTwoClasses(classes, input);
    return { kind: 'features', source: input, classes, data: f.data, dims: f.dims, labels };
  }
  throw new ZsError('E_DATA_KIND', `cannot tell what kind of dataset ${input} is`, {
    kind: 'usage',
    hint: 'give a folder per class, a .csv manifest (path,label) or a .jsonl features file',
  });
}
