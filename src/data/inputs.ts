/**
 * Input manifests for `zs embed --manifest`: one row per image, with a key and a path or http(s) URL, read as a
 * stream so a manifest of any length costs constant memory.
 *
 * Formats, by the file's extension:
 *   .jsonl / .ndjson   one JSON object per line: {"key": "a1", "url": "https://..."} or {"path": "x.jpg"}
 *   .csv               a header row naming the columns (CSV rules in csv.ts), then one row per image
 *   .parquet           columns named as below (any other columns are ignored)
 * Columns: the source is the first of path, file, filename, image, url, image_url that a row has; the key is `key`
 * or `id`, else the source as written. Relative paths are read from the manifest's folder. Blank lines are skipped
 * and do not count as rows.
 *
 * Rows are numbered 0, 1, 2, ... in file order; `rowFilter` picks which rows are wanted (a shard), and only those
 * are parsed (JSONL, CSV), so every worker of a job reads the whole file but decodes only its own rows.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { parseCsv } from './csv.js';

export interface InputRow {
  /** 0-based row number in the manifest. */
  row: number;
  key: string;
  /** Absolute path, or an http(s) URL. */
  source: string;
  isUrl: boolean;
}

export type ManifestFormat = 'jsonl' | 'csv' | 'parquet';

export const SOURCE_COLUMNS = ['path', 'file', 'filename', 'image', 'url', 'image_url'] as const;
export const KEY_COLUMNS = ['key', 'id'] as const;
const URL_RE = /^https?:\/\//i;

function manifestError(file: string, line: number | undefined, what: string, hint: string): ZsError {
  return new ZsError('E_MANIFEST', line === undefined ? `${file}: ${what}` : `${file} line ${line}: ${what}`, { kind: 'usage', hint });
}

/** The manifest's format from its extension. */
export function manifestFormat(file: string): ManifestFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet') return 'parquet';
  throw new ZsError('E_MANIFEST', `cannot tell the format of manifest ${file} from its extension '${ext}'`, {
    kind: 'usage', hint: 'name it .jsonl (or .ndjson), .csv or .parquet',
  });
}

/** A row's key and source from its named fields; undefined values count as absent. */
export function rowFromFields(get: (name: string) => unknown, row: number, base: string, where: (what: string) => ZsError): InputRow {
  const col = SOURCE_COLUMNS.find((c) => get(c) !== undefined && get(c) !== null && get(c) !== '');
  if (!col) throw where(`no image: none of ${SOURCE_COLUMNS.join(', ')} is set`);
  const raw = get(col);
  if (typeof raw !== 'string') throw where(`${col} is not a string`);
  const keyCol = KEY_COLUMNS.find((c) => get(c) !== undefined && get(c) !== null && get(c) !== '');
  const keyRaw = keyCol ? get(keyCol) : raw;
  if (typeof keyRaw !== 'string' && typeof keyRaw !== 'number' && typeof keyRaw !== 'bigint') throw where(`${keyCol} is not a string or number`);
  const isUrl = URL_RE.test(raw);
  if (!isUrl && /^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw where(`${raw} is neither a file path nor an http(s) URL`);
  return { row, key: String(keyRaw), source: isUrl || isAbsolute(raw) ? raw : join(base, raw), isUrl };
}

async function* lines(file: string): AsyncGenerator<{ text: string; line: number }> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) yield { text: line++ === 0 ? text.replace(/^\ufeff/, '') : text, line };
  } finally {
    rl.close();
  }
}

async function* jsonlRows(file: string, want: (row: number) => boolean): AsyncGenerator<InputRow> {
  const base = dirname(file);
  let row = 0;
  for await (const { text, line } of lines(file)) {
    if (text.trim() === '') continue;
    const r = row++;
    if (!want(r)) continue;
    const where = (what: string) => manifestError(file, line, what, 'write one JSON object per line, e.g. {"key": "a", "path": "a.jpg"}');
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw where(`not JSON: ${(e as Error).message}`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw where('not a JSON object');
    yield rowFromFields((n) => (obj as Record<string, unknown>)[n], r, base, where);
  }
}

/** CSV records, streamed: lines are joined while a quoted field is open (an odd number of quotes so far). */
async function* csvRows(file: string, want: (row: number) => boolean): AsyncGenerator<InputRow> {
  const base = dirname(file);
  let header: string[] | undefined;
  let headerLine = 0;
  let row = 0;
  let pending = '';
  let pendingLine = 0;
  let quotes = 0;
  for await (const { text, line } of lines(file)) {
    if (pending === '') pendingLine = line;
    pending = pending === '' ? text : `${pending}\n${text}`;
    for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) quotes++;
    if (quotes % 2 === 1) continue;
    const record = pending;
    const at = pendingLine;
    pending = '';
    quotes = 0;
    if (record.trim() === '') continue;
    if (!header) {
      header = parseCsv(record, `${file} (line ${at})`)[0]!.fields.map((f) => f.trim().toLowerCase());
      headerLine = at;
      if (!header.some((h) => (SOURCE_COLUMNS as readonly string[]).includes(h))) {
        throw manifestError(file, at, `the header names no image column (${SOURCE_COLUMNS.join(', ')})`, 'start the CSV with a header such as key,path or key,url');
      }
      continue;
    }
    const r = row++;
    if (!want(r)) continue;
    const fields = parseCsv(record, `${file} (line ${at})`)[0]!.fields;
    const where = (what: string) => manifestError(file, at, what, `give each row the ${header!.length} cells of the header on line ${headerLine}`);
    if (fields.length !== header.length) throw where(`${fields.length} cells, expected ${header.length}`);
    yield rowFromFields((n) => fields[header!.indexOf(n)], r, base, where);
  }
  if (pending !== '') throw manifestError(file, pendingLine, 'a quoted field is never closed', 'close every quote');
  if (!header) throw manifestError(file, undefined, 'the file is empty', 'start the CSV with a header such as key,path or key,url');
}

async function* parquetRows(file: string, want: (row: number) => boolean): AsyncGenerator<InputRow> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const names = metadata.schema.slice(1).map((s) => s.name);
  const columns = [...SOURCE_COLUMNS, ...KEY_COLUMNS].filter((c) => names.includes(c));
  if (!columns.some((c) => (SOURCE_COLUMNS as readonly string[]).includes(c))) {
    throw manifestError(file, undefined, `no image column (${SOURCE_COLUMNS.join(', ')}); it has ${names.join(', ')}`, 'name the column of paths or URLs path or url');
  }
  const base = dirname(file);
  const total = Number(metadata.num_rows);
  const STEP = 4096; // rows decoded at a time
  for (let start = 0; start < total; start += STEP) {
    const rows = await parquetReadObjects({ file: buffer, metadata, columns, rowStart: start, rowEnd: Math.min(total, start + STEP) });
    for (let i = 0; i < rows.length; i++) {
      const r = start + i;
      if (!want(r)) continue;
      const where = (what: string) => manifestError(file, undefined, `row ${r}: ${what}`, 'give every row a path or url');
      yield rowFromFields((n) => rows[i]![n], r, base, where);
    }
  }
}

/** The rows of a manifest that `want` picks (all by default), in file order. */
export async function* readInputRows(file: string, want: (row: number) => boolean = () => true): AsyncGenerator<InputRow> {
  const format = manifestFormat(file);
  try {
    if (!(await fsp.stat(file)).isFile()) throw new Error('not a file');
  } catch (e) {
    throw new ZsError('E_NOT_FOUND', `no manifest file ${file}: ${(e as Error).message}`, { kind: 'usage', hint: 'check the --manifest path' });
  }
  try {
    if (format === 'jsonl') yield* jsonlRows(file, want);
    else if (format === 'csv') yield* csvRows(file, want);
    else yield* parquetRows(file, want);
  } catch (e) {
    throw wrapError(e, 'E_MANIFEST', `cannot read manifest ${file}`, 'check that it is a readable ' + format + ' file');
  }
}
