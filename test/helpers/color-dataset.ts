/** A small generated image folder (train/ and test/ per class, noisy solid colours) for CLI tests that fit probes. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** The class names and their base colours. */
export const COLOR_CLASSES = { red_thing: [220, 40, 40], green_thing: [40, 200, 60], blue_thing: [40, 60, 220] } as const;

export async function makeColorDataset(root: string, perClass: { train: number; test: number }): Promise<void> {
  let seed = 1;
  for (const [name, rgb] of Object.entries(COLOR_CLASSES)) {
    for (const part of ['train', 'test'] as const) {
      mkdirSync(join(root, part, name), { recursive: true });
      for (let i = 0; i < perClass[part]; i++) {
        const w = 40 + ((seed * 7) % 30), h = 32 + ((seed * 11) % 20);
        const px = Buffer.alloc(w * h * 3);
        for (let p = 0; p < w * h; p++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          for (let c = 0; c < 3; c++) px[p * 3 + c] = Math.max(0, Math.min(255, rgb[c]! + ((seed >>> (8 * c)) & 63) - 32));
        }
        await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(root, part, name, `${part}-${i}.png`));
      }
    }
  }
}
