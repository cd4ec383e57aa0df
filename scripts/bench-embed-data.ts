/**
 * Image sets for scripts/bench-embed.ts, made once under a work folder (default /tmp/zs-embed-bench):
 *   photos/   N synthetic phone photos: 4032x3024 q90 JPEGs, ~1.7 MB (the four reference images upscaled, mirrored
 *             and shifted, with grain and a fine texture so they compress like photos)
 *   small/    N Fashion-MNIST test PNGs (28x28 gray) in <class>/ folders, from scripts/tools/fashion-mnist.py
 *   fm-2k/, fm-20k/   2,000 and 20,000 Fashion-MNIST train PNGs (peak-RSS runs)
 */
import { existsSync, mkdirSync, readdirSync, statSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { Rng } from '../src/data/rng.js';

const REF = join(import.meta.dirname, '..', 'test', 'fixtures', 'reference', 'images');
const SOURCES = ['chelsea.png', 'coffee.png', 'chelsea_q90.jpg', 'gradient_320x200.png'];
const FASHION = join(import.meta.dirname, 'tools', 'fashion-mnist.py');


async function makePhoto(file: string, i: number): Promise<void> {
  const W = 4032, H = 3024;
  const r = new Rng(4321 + i);
  const next = () => r.float();
  const src = join(REF, SOURCES[i % SOURCES.length]!);
  const meta = await sharp(src).metadata();
  // a random crop of 70-100% of the source, so no two photos share their pixels
  const f = 0.7 + 0.3 * next();
  const cw = Math.max(8, Math.floor(meta.width! * f)), ch = Math.max(8, Math.floor(meta.height! * f));
  const left = Math.floor((meta.width! - cw) * next()), top = Math.floor((meta.height! - ch) * next());
  const up = await sharp(src).extract({ left, top, width: cw, height: ch }).removeAlpha().toColourspace('srgb')
    .resize(W, H, { kernel: 'cubic', fit: 'fill' }).flop(i % 2 === 1).raw().toBuffer();
  const grain = 5 + (i % 8) / 2;
  const fx = 0.6 + 0.6 * next(), fy = 0.5 + 0.5 * next();
  for (let y = 0; y < H; y++) {
    const sy = Math.sin(y * fy);
    for (let x = 0; x < W; x++) {
      const n = (next() - 0.5) * grain + 3 * Math.sin(x * fx + i) * sy;
      const p = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) up[p + c] = Math.max(0, Math.min(255, Math.round(up[p + c]! + n)));
    }
  }
  await sharp(up, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
}

/** `n` phone photos in `dir` (made once; existing ones are kept). */
export async function photoSet(dir: string, n: number): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const file = join(dir, `photo-${String(i).padStart(4, '0')}.jpg`);
    if (!existsSync(file)) await makePhoto(file, i);
  }
  return dir;
}

/** Mean size in bytes of `files`. */
export function meanBytes(files: readonly string[]): number {
  return files.reduce((s, f) => s + statSync(f).size, 0) / files.length;
}

/** A Fashion-MNIST image folder (<class>/<index>.png) with exactly `n` images, `perClass` drawn per class. */
export function fashionSet(dir: string, split: 'train' | 'test', perClass: number, n: number): string {
  if (existsSync(dir)) return dir;
  const raw = `${dir}.raw`;
  rmSync(raw, { recursive: true, force: true });
  execFileSync('/usr/bin/python3', [FASHION, 'images', raw, '--split', split, '--per-class', String(perClass)], { stdio: 'inherit' });
  const all = readdirSync(raw).sort().flatMap((c) => readdirSync(join(raw, c)).sort().map((f) => [c, f] as const));
  // take the first n in round-robin over the classes, so every class stays represented
  const byClass = new Map<string, string[]>();
  for (const [c, f] of all) byClass.set(c, [...(byClass.get(c) ?? []), f]);
  const picked: [string, string][] = [];
  for (let k = 0; picked.length < n; k++) {
    let any = false;
    for (const [c, fs] of byClass) if (fs[k] !== undefined && picked.length < n) { picked.push([c, fs[k]!]); any = true; }
    if (!any) break;
  }
  for (const [c, f] of picked) {
    mkdirSync(join(dir, c), { recursive: true });
    cpSync(join(raw, c, f), join(dir, c, f));
  }
  rmSync(raw, { recursive: true, force: true });
  return dir;
}
