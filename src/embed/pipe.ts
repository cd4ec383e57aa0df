/**
 * Pipe mode (`zs embed --stdin-jsonl`): one input per line in, one JSON line per input out, in input order, each
 * written as soon as it is known, so Spark's `rdd.pipe`, a subprocess pool or a shell loop can drive zs.
 *
 * In:  {"key": "a1", "path": "x.jpg"} or {"url": "https://..."} (the columns of a manifest row, data/inputs.ts), or
 *      a JSON string, taken as the path or URL. Blank lines are skipped.
 * Out: {"key": "a1", "ok": true, "embedding": "<base64 of d little-endian float32>"}
 *      {"key": "a1", "ok": false, "error": "<one line>"}   (a bad line, a dead URL, an unreadable image)
 * Batching without waiting: each round takes the lines that have arrived (up to the batch size), embeds them and
 * writes their answers; a lone line is answered alone, a flood is batched.
 */
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZsError } from '../errors.js';
import { rowFromFields, type InputRow } from '../data/inputs.js';
import { DEFAULT_FETCH, fetchToFile, mapLimit, type FetchOptions } from '../data/fetch-url.js';
import type { Model } from './model.js';

export interface PipeOptions {
  fetch?: FetchOptions;
  fetchConcurrency?: number;
  /** Folder for fetched URLs (default: a new folder under the OS temp folder, removed at the end). */
  tempDir?: string;
}

/** Lines of a stream, taken in rounds of whatever has arrived. */
export class LineQueue {
  private lines: string[] = [];
  private closed = false;
  private wake: (() => void) | undefined;

  push(line: string): void { this.lines.push(line); this.wake?.(); }
  close(): void { this.closed = true; this.wake?.(); }

  /** Up to `max` lines, waiting for at least one; an empty array when the stream has ended. */
  async take(max: number): Promise<string[]> {
    while (this.lines.length === 0 && !this.closed) await new Promise<void>((r) => { this.wake = r; });
    this.wake = undefined;
    return this.lines.splice(0, max);
  }
}

type Parsed = { row: InputRow } | { key: string | null; error: string };

/** One input line as a row, or the reason it is not one. */
export function parseInputLine(line: string, n: number, cwd: string): Parsed {
  const where = (what: string) => new ZsError('E_INPUT', `input line ${n + 1}: ${what}`);
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { key: null, error: `input line ${n + 1}: not JSON (${(e as Error).message}); send {"key": ..., "path": ...} or a JSON string` };
  }
  const obj = typeof v === 'string' ? { path: v } : v;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return { key: null, error: `input line ${n + 1}: not a JSON object or string` };
  const get = (k: string) => (obj as Record<string, unknown>)[k];
  try {
    return { row: rowFromFields(get, n, cwd, where) };
  } catch (e) {
    const k = get('key') ?? get('id');
    return { key: typeof k === 'string' || typeof k === 'number' ? String(k) : null, error: (e as Error).message };
  }
}

function okLine(key: string, embedding: Float32Array): string {
  const b64 = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength).toString('base64'); // little-endian hosts
  return JSON.stringify({ key, ok: true, embedding: b64 });
}

const errLine = (key: string | null, error: string) => JSON.stringify({ key, ok: false, error });

/** Answers the lines of `queue` (see the header), calling `write` with each round's output lines in order. */
export async function runPipe(model: Model, queue: LineQueue, write: (text: string) => Promise<void>, o: PipeOptions = {}): Promise<{ lines: number; failed: number }> {
  const dir = o.tempDir ?? await fsp.mkdtemp(join(tmpdir(), 'zs-pipe-'));
  let n = 0;
  let failed = 0;
  try {
    for (let round = await queue.take(model.batchSize); round.length > 0; round = await queue.take(model.batchSize)) {
      const parsed = round.filter((l) => l.trim() !== '').map((l) => parseInputLine(l, n++, process.cwd()));
      const rows = parsed.flatMap((p) => ('row' in p ? [p.row] : []));
      const fetched = await mapLimit(rows, o.fetchConcurrency ?? 16, async (r) => {
        if (!r.isUrl) return r.source;
        const file = join(dir, `${r.row}.img`);
        await fetchToFile(r.source, file, o.fetch ?? DEFAULT_FETCH);
        return file;
      });
      const ready = rows.flatMap((r, i) => (fetched[i]!.status === 'fulfilled' ? [i] : []));
      const answers = new Map<number, string>(); // by position in `rows`
      let okCount = 0;
      rows.forEach((r, i) => { const f = fetched[i]!; if (f.status === 'rejected') answers.set(i, errLine(r.key, (f.reason as Error).message)); });
      const files = ready.map((i) => (fetched[i] as PromiseFulfilledResult<string>).value);
      const it = model.embedImageChunks(files);
      for (let c = await it.next(); !c.done; c = await it.next()) {
        const d = c.value.embeddings.dims[1];
        okCount += c.value.indices.length;
        c.value.indices.forEach((j, k) => answers.set(ready[j]!, okLine(rows[ready[j]!]!.key, c.value.embeddings.data.subarray(k * d, (k + 1) * d))));
        for (const f of c.value.failures) {
          const i = ready[f.index]!;
          answers.set(i, errLine(rows[i]!.key, f.error.toLine().split(files[f.index]!).join(rows[i]!.source)));
        }
      }
      let r = 0;
      const out = parsed.map((p) => ('row' in p ? answers.get(r++)! : errLine(p.key, p.error)));
      failed += parsed.length - okCount;
      if (out.length > 0) await write(out.join('\n') + '\n');
      await Promise.all(rows.map((row, i) => (row.isUrl && fetched[i]!.status === 'fulfilled' ? fsp.rm(files[ready.indexOf(i)]!, { force: true }) : undefined)));
    }
  } finally {
    if (!o.tempDir) await fsp.rm(dir, { recursive: true, force: true });
  }
  return { lines: n, failed };
}
