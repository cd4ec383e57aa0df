/**
 * Folder-per-class image datasets.
 *
 *   data/cat/*.jpg, data/dog/*.jpg                 -> layout 'classes': one pool of items (split it with split.ts)
 *   data/train/cat/…, data/test/cat/… (and dog/…)  -> layout 'train-test': the split is given
 *
 * Classes are the subfolder names, sorted by code unit. Images inside a class folder are found recursively
 * (images.ts rules: image extensions only, hidden entries skipped). Rules, each broken one a ZsError naming the
 * folder: at least 2 classes; no class folder without images; in 'train-test', train/ and test/ hold the same
 * classes and nothing but train/ and test/ sits next to them (a lone train/ or test/ is an error, so a class
 * cannot be called "train" or "test"). Image files lying directly in the root (or in train/, test/) belong to no
 * class: they are reported through `onWarning` and left out.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { compareStrings, requireTwoClasses, type LabeledItem } from './dataset.js';
import { imagesInFolder, isImagePath, type FindImagesOptions } from './images.js';

export type FolderDataset =
  | { layout: 'classes'; root: string; classes: string[]; items: LabeledItem[] }
  | { layout: 'train-test'; root: string; classes: string[]; train: LabeledItem[]; test: LabeledItem[] };

interface Listing {
  dirs: string[];
  looseImages: number;
}

async function list(dir: string): Promise<Listing> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => !n.startsWith('.')).sort(compareStrings);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ZsError('E_NOT_FOUND', `no dataset folder ${dir}`, {
        kind: 'usage',
        hint: 'give a folder with one subfolder per class (or train/ and test/ holding those)',
      });
    }
    throw wrapError(e, 'E_READ', `cannot list folder ${dir}`, 'check its permissions');
  }
  const dirs: string[] = [];
  let looseImages = 0;
  for (const name of names) {
    const st = await fsp.stat(join(dir, name)).catch(() => null); // dangling links are not classes
    if (st?.isDirectory()) dirs.push(name);
    else if (st?.isFile() && isImagePath(name)) looseImages++;
  }
  return { dirs, looseImages };
}

async function readClasses(dir: string, options: FindImagesOptions): Promise<{ classes: string[]; items: LabeledItem[] }> {
  const { dirs, looseImages } = await list(dir);
  if (looseImages > 0) {
    options.onWarning?.(`${looseImages} image file${looseImages > 1 ? 's' : ''} directly in ${dir} belong to no class folder and are left out`);
  }
  requireTwoClasses(dirs, dir);
  const items: LabeledItem[] = [];
  for (const label of dirs) {
    const classDir = join(dir, label);
    const paths = await imagesInFolder(classDir, options);
    if (paths.length === 0) {
      throw new ZsError('E_EMPTY_CLASS', `class folder ${classDir} has no images`, {
        kind: 'usage',
        hint: 'add images (jpg, jpeg, png, webp, gif, tif, tiff, avif) or remove the folder',
      });
    }
    for (const path of paths) items.push({ path, label });
  }
  return { classes: dirs, items };
}

function sameClasses(root: string, train: string[], test: string[]): void {
  const onlyIn = (a: string[], b: string[]) => a.filter((c) => !b.includes(c));
  const trainOnly = onlyIn(train, test);
  const testOnly = onlyIn(test, train);
  if (trainOnly.length === 0 && testOnly.length === 0) return;
  const parts: string[] = [];
  if (trainOnly.length) parts.push(`only in train/: ${trainOnly.join(', ')}`);
  if (testOnly.length) parts.push(`only in test/: ${testOnly.join(', ')}`);
  throw new ZsError('E_CLASS_MISMATCH', `${root}: train/ and test/ hold different classes (${parts.join('; ')})`, {
    kind: 'usage',
    hint: 'give train/ and test/ one folder for each class, with the same names',
  });
}

/** Reads a folder-per-class dataset (see the header for the layouts and rules). */
export async function readFolderDataset(root: string, options: FindImagesOptions = {}): Promise<FolderDataset> {
  const top = await list(root);
  const hasTrain = top.dirs.includes('train');
  const hasTest = top.dirs.includes('test');
  if (!hasTrain && !hasTest) return { layout: 'classes', root, ...(await readClasses(root, options)) };
  if (hasTrain !== hasTest) {
    const [have, lack] = hasTrain ? ['train', 'test'] : ['test', 'train'];
    throw new ZsError('E_LAYOUT', `${root} has ${have}/ but no ${lack}/`, {
      kind: 'usage',
      hint: `add ${lack}/ with the same class folders, or put the class folders directly in ${root}`,
    });
  }
  const others = top.dirs.filter((d) => d !== 'train' && d !== 'test');
  if (others.length > 0) {
    throw new ZsError('E_LAYOUT', `${root} has train/ and test/ but also ${others.map((d) => d + '/').join(', ')}`, {
      kind: 'usage',
      hint: 'move every class folder into both train/ and test/ (other folders are not allowed next to them)',
    });
  }
  if (top.looseImages > 0) options.onWarning?.(`${top.looseImages} image file${top.looseImages > 1 ? 's' : ''} directly in ${root} belong to neither train/ nor test/ and are left out`);
  const train = await readClasses(join(root, 'train'), options);
  const test = await readClasses(join(root, 'test'), options);
  sameClasses(root, train.classes, test.classes);
  return { layout: 'train-test', root, classes: train.classes, train: train.items, test: test.items };
}
