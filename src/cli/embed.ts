/** `zs embed`: L2-normalized embeddings of images and texts as JSON lines, in input order. */
import { readFileSync } from 'node:fs';
import { defineCommand } from './command.js';
import { withModelOptions, loadOptions, type ModelArgs } from './options.js';
import type { Io } from './io.js';
import { createProgress } from './progress.js';
import { usageError } from '../errors.js';
import { asList } from './classify.js';

interface EmbedArgs extends ModelArgs {
  inputs: string[];
  text?: string | string[];
  'text-file'?: string;
  out?: string;
}

/** Shortest decimal that reads back as the same float32. */
export function f32(v: number): number {
  return Number(v.toPrecision(9));
}

function readTexts(texts: string[] | undefined, file: string | undefined): string[] {
  const out = [...(texts ?? [])];
  if (file) {
    let body: string;
    try {
      body = readFileSync(file, 'utf8');
    } catch (e) {
      throw usageError('E_TEXT_FILE', `cannot read --text-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'give a readable text file with one text per line');
    }
    out.push(...body.split(/\r?\n/).filter((s) => s.trim() !== ''));
  }
  return out;
}

async function run(a: EmbedArgs, io: Io): Promise<number> {
  const texts = readTexts(asList(a.text), a['text-file']);
  if (a.inputs.length === 0 && texts.length === 0) {
    throw usageError('E_NO_INPUT', 'nothing to embed', 'pass image files or folders, --text T or --text-file F');
  }
  const { findImages } = await import('../data/images.js');
  const paths = a.inputs.length ? await findImages(a.inputs) : [];
  const { Model } = await import('../embed/model.js');
  const model = await Model.load(a.model, loadOptions(a));
  const lines: string[] = [];
  let failed = 0;
  try {
    if (paths.length) {
      const bar = await createProgress(io, { label: 'embed', total: paths.length, unit: 'images' });
      const r = await model.embedImages(paths, { onProgress: (p) => bar.update(p.done) });
      bar.stop();
      const d = r.embeddings.dims[1];
      r.indices.forEach((idx, i) => {
        const e = Array.from(r.embeddings.data.subarray(i * d, (i + 1) * d), f32);
        lines.push(JSON.stringify({ path: paths[idx], embedding: e }));
      });
      for (const f of r.failures) io.note(f.error.toLine(), true);
      failed = r.failures.length;
    }
    if (texts.length) {
      const t = await model.embedTexts(texts);
      const d = t.dims[1];
      texts.forEach((text, i) => lines.push(JSON.stringify({ text, embedding: Array.from(t.data.subarray(i * d, (i + 1) * d), f32) })));
    }
  } finally {
    await model.close();
  }
  const body = lines.length ? lines.join('\n') + '\n' : '';
  if (a.out) {
    const { writeFileAtomic } = await import('../util/fs.js');
    await writeFileAtomic(a.out, body);
    io.note(`wrote ${lines.length} embeddings to ${a.out}`);
  } else {
    process.stdout.write(body);
  }
  if (failed) {
    io.note(`${failed} of ${paths.length} images failed`, true);
    return 1;
  }
  return 0;
}

export const embedCommand = defineCommand<EmbedArgs>({
  command: 'embed [inputs..]',
  describe: 'embeddings of images and texts as JSON lines',
  builder: (y) =>
    withModelOptions(y)
      .positional('inputs', { type: 'string', array: true, default: [], describe: 'image files, folders or globs' })
      .option('text', { type: 'string', describe: 'a text to embed (repeatable)' })
      .option('text-file', { type: 'string', describe: 'file with one text per line' })
      .option('out', { alias: 'o', type: 'string', describe: 'write JSONL here (default: stdout)' }) as never,
  run,
});
