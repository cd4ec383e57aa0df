/**
 * CSV manifest datasets: one row per image, `path,label` (CSV rules in csv.ts).
 *
 * Header: optional. The first row is a header when its cells name a path column (path, file, filename, image)
 * and a label column (label, class), in any case and order; then other columns are allowed and ignored, and every
 * row must have as many cells as the header. Without a header every row has exactly two cells: path, label.
 * Relative paths are taken relative to the CSV's folder. Errors name the line: a wrong cell count, an empty path
 * or label, a path listed twice (it could land in both train and test), and (with `checkFiles`, the default)
 * a file that does not exist. At least two classes. Items keep the file's row order.
 */
import { promises as fsp } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { requireTwoClasses, sortedClasses, type LabeledItem } from './dataset.js';
import { parseCsv, type CsvRow } from './csv.js';

export interface Manifest {
  file: string;
  classes: string[];
  items: LabeledItem[];
  /** Line number of each item's row, for messages about it later. */
  lines: number[];
}

export interface ReadManifestOptions {
  /** Check that each listed file exists (default true). */
  checkFiles?: boolean;
}

const PATH_NAMES = ['path', 'file', 'filename', 'image'];
const LABEL_NAMES = ['label', 'class'];

function rowError(file: string, line: number, what: string, hint: string): ZsError {
  return new ZsError('E_MANIFEST', `${file} line ${line}: ${what}`, { kind: 'usage', hint });
}

/** Finds the header's path and label columns, or null when the first row is data. */
function headerColumns(file: string, row: CsvRow): { path: number; label: number } | null {
  const cells = row.fields.map((f) => f.trim().toLowerCase());
  const path = cells.findIndex((c) => PATH_NAMES.includes(c));
  const label = cells.findIndex((c) => LABEL_NAMES.includes(c));
  if (path === -1 && label === -1) return null;
  if (path === -1 || label === -1) {
    const lacking = path === -1 ? `a path column (${PATH_NAMES.join(', ')})` : `a label column (${LABEL_NAMES.join(', ')})`;
    throw rowError(file, row.line, `the header lacks ${lacking}`, 'write the header as path,label');
  }
  return { path, label };
}

/** Parses manifest text already read from `file` (paths are resolved against the file's folder). */
export function parseManifest(text: string, file: string): Manifest {
  const rows = parseCsv(text, file);
  if (rows.length === 0) throw new ZsError('E_MANIFEST', `${file} has no rows`, { kind: 'usage', hint: 'write one path,label row per image' });
  const header = headerColumns(file, rows[0]!);
  const cols = header ?? { path: 0, label: 1 };
  const width = header ? rows[0]!.fields.length : 2;
  const base = dirname(file);
  const items: LabeledItem[] = [];
  const lines: number[] = [];
  const firstLine = new Map<string, number>();
  for (const row of header ? rows.slice(1) : rows) {
    if (row.fields.length !== width) {
      throw rowError(file, row.line, `${row.fields.length} cell${row.fields.length === 1 ? '' : 's'}, expected ${width}`,
        header ? 'give every row as many cells as the header' : 'write path,label (quote a path that holds a comma)');
    }
    const rawPath = row.fields[cols.path]!;
    const label = row.fields[cols.label]!;
    if (rawPath === '') throw rowError(file, row.line, 'the path is empty', 'give the image path in the path column');
    if (label.trim() === '') throw rowError(file, row.line, 'the label is empty', 'give each image its class label');
    const path = isAbsolute(rawPath) ? rawPath : join(base, rawPath);
    const seen = firstLine.get(path);
    if (seen !== undefined) {
      throw rowError(file, row.line, `${rawPath} is already listed on line ${seen}`, 'list each image once');
    }
    firstLine.set(path, row.line);
    items.push({ path, label });
    lines.push(row.line);
  }
  const classes = sortedClasses(items.map((it) => it.label));
  requireTwoClasses(classes, file);
  return { file, classes, items, lines };
}

/** Reads and checks a CSV manifest (see the header). */
export async function readManifest(file: string, options: ReadManifestOptions = {}): Promise<Manifest> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ZsError('E_NOT_FOUND', `no manifest file ${file}`, { kind: 'usage', hint: 'check the path' });
    }
    throw wrapError(e, 'E_READ', `cannot read ${file}`, 'check its permissions');
  }
  const manifest = parseManifest(text, file);
  if (options.checkFiles ?? true) {
    const { items, lines } = manifest;
    for (let start = 0; start < items.length; start += 64) {
      const batch = items.slice(start, start + 64);
      const ok = await Promise.all(batch.map((it) => fsp.stat(it.path).then((s) => s.isFile(), () => false)));
      const bad = ok.indexOf(false);
      if (bad !== -1) {
        throw rowError(file, lines[start + bad]!, `no image file ${batch[bad]!.path}`,
          'relative paths are read from the manifest\'s folder; fix the path or remove the row');
      }
    }
  }
  return manifest;
}
