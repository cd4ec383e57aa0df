/**
 * Where should `zs dupes` draw the line? Cosine similarity of images to their own edited copies vs to other images.
 *
 *   bases:    100 Fashion-MNIST test images (10 per class, upscaled to 224x224 RGB: many distinct but alike items),
 *             sklearn's two sample photos and the four reference images          -> 106 distinct images
 *   copies:   each base re-encoded as JPEG q60, resized to half size, center-cropped to 90%, brightened by 10%
 *   measured: cos(base, copy) per edit; cos(base_i, base_j) over all distinct pairs; for a grid of thresholds,
 *             the share of copies found and of distinct pairs wrongly joined
 * Run with each model folder to compare (no cache, exact embeddings):
 *   /usr/bin/python3 scripts/tools/make-random-clip.py --preset clip-vit-b32 /tmp/zs-embed-bench/clip-vit-b32   # once
 *   flock -x /tmp/zs-cpu.lock node --import tsx scripts/measure-dupes-threshold.ts [--model DIR]... [--work DIR]
 * Random-weight graphs do not model image semantics: their numbers say how a ViT-B/32-shaped network reacts to
 * edits, not how a trained CLIP separates different photos of similar things.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Model } from '../src/embed/model.js';

const ROOT = join(import.meta.dirname, '..');
const REF = join(ROOT, 'test', 'fixtures', 'reference', 'images');
const EDITS = ['jpeg60', 'half', 'crop90', 'bright10'] as const;

const opts = (name: string): string[] => process.argv.flatMap((a, i) => (a === `--${name}` ? [process.argv[i + 1]!] : []));

async function makeSet(work: string): Promise<{ bases: string[]; copies: Map<string, string[]> }> {
  const base = join(work, 'base');
  if (!existsSync(join(base, 'done'))) {
    mkdirSync(base, { recursive: true });
    const fm = join(work, 'fm');
    execFileSync('/usr/bin/python3', [join(ROOT, 'scripts', 'tools', 'fashion-mnist.py'), 'images', fm, '--split', 'test', '--per-class', '10']);
    const fmFiles = readdirSync(fm, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
    for (const [i, f] of fmFiles.entries()) {
      await sharp(f).resize(224, 224, { kernel: 'cubic' }).toColourspace('srgb').png().toFile(join(base, `fm-${String(i).padStart(3, '0')}.png`));
    }
    execFileSync('/usr/bin/python3', ['-c', `import sklearn.datasets as d, PIL.Image as I
for n, im in zip(d.load_sample_images().filenames, d.load_sample_images().images): I.fromarray(im).save('${base}/sk-' + n.split('/')[-1].replace('.jpg', '.png'))`]);
    for (const f of readdirSync(REF)) await sharp(join(REF, f)).png().toFile(join(base, `ref-${f.replace(/\.\w+$/, '')}.png`));
    mkdirSync(join(base, 'done'));
  }
  const bases = readdirSync(base).filter((f) => f.endsWith('.png')).sort().map((f) => join(base, f));
  const copies = new Map<string, string[]>();
  const out = join(work, 'copies');
  mkdirSync(out, { recursive: true });
  for (const b of bases) {
    const name = b.split('/').pop()!.replace('.png', '');
    const meta = await sharp(b).metadata();
    const w = meta.width!, h = meta.height!;
    const files = EDITS.map((e) => join(out, `${name}.${e}.${e === 'jpeg60' ? 'jpg' : 'png'}`));
    if (!existsSync(files[3]!)) {
      await sharp(b).jpeg({ quality: 60 }).toFile(files[0]!);
      await sharp(b).resize(Math.round(w / 2), Math.round(h / 2)).png().toFile(files[1]!);
      await sharp(b).extract({ left: Math.round(w * 0.05), top: Math.round(h * 0.05), width: Math.round(w * 0.9), height: Math.round(h * 0.9) }).png().toFile(files[2]!);
      await sharp(b).modulate({ brightness: 1.1 }).png().toFile(files[3]!);
    }
    copies.set(b, files);
  }
  return { bases, copies };
}

const q = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))]!; };

async function study(modelDir: string, bases: string[], copies: Map<string, string[]>): Promise<void> {
  const model = await Model.load(modelDir, { threads: 2 });
  try {
    const all = [...bases, ...bases.flatMap((b) => copies.get(b)!)];
    const r = await model.embedImages(all);
    if (r.failures.length) throw r.failures[0]!.error;
    const d = r.embeddings.dims[1];
    const v = (i: number) => r.embeddings.data.subarray(i * d, (i + 1) * d);
    const cos = (a: number, b: number) => { let s = 0; const x = v(a), y = v(b); for (let j = 0; j < d; j++) s += x[j]! * y[j]!; return s; };
    const nb = bases.length;
    const perEdit = EDITS.map((_, e) => bases.map((_, i) => cos(i, nb + i * EDITS.length + e)));
    const distinct: number[] = [];
    for (let i = 0; i < nb; i++) for (let j = i + 1; j < nb; j++) distinct.push(cos(i, j));
    console.log(`\n${model.info.id} (d=${d}): ${nb} distinct images, ${nb * EDITS.length} edited copies`);
    EDITS.forEach((e, k) => console.log(`  copy ${e.padEnd(8)} cos min ${q(perEdit[k]!, 0).toFixed(4)}  p5 ${q(perEdit[k]!, 0.05).toFixed(4)}  median ${q(perEdit[k]!, 0.5).toFixed(4)}`));
    console.log(`  distinct pairs (${distinct.length}) cos median ${q(distinct, 0.5).toFixed(4)}  p99 ${q(distinct, 0.99).toFixed(4)}  p99.9 ${q(distinct, 0.999).toFixed(4)}  max ${q(distinct, 1).toFixed(4)}`);
    const copiesAll = perEdit.flat();
    console.log('  threshold  copies found  distinct pairs joined');
    for (const t of [0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99]) {
      const found = copiesAll.filter((c) => c >= t).length / copiesAll.length;
      const wrong = distinct.filter((c) => c >= t).length / distinct.length;
      console.log(`  ${t.toFixed(2)}       ${(100 * found).toFixed(1).padStart(5)} %      ${(100 * wrong).toFixed(2).padStart(6)} %`);
    }
  } finally {
    await model.close();
  }
}

const work = opts('work')[0] ?? '/tmp/zs-dupes-study';
const models = opts('model');
const { bases, copies } = await makeSet(work);
for (const m of models.length ? models : [join(ROOT, 'test', 'fixtures', 'tiny-random-clip'), '/tmp/zs-embed-bench/clip-vit-b32']) await study(m, bases, copies);
