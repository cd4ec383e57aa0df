/**
 * Image file discovery: turns the inputs a user typed (files, folders, quoted globs) into a list of image paths.
 *
 * - A file named explicitly is kept as given, whatever its extension (the user asked for it; decoding will say
 *   if it is not an image). Folders are walked recursively and globs are matched (glob.ts); from those only
 *   image extensions are kept: jpg, jpeg, png, webp, gif, tif, tiff, avif (case-insensitive).
 * - Hidden entries (name starting with `.`) are skipped in walks. Symbolic links are followed; each real folder
 *   is walked once, so link loops end. A dangling link is reported through `onWarning` and skipped.
 * - Order: inputs in the order given; within a folder or glob, paths sorted by code unit (the same on every
 *   platform). A path reached twice (two inputs overlap) is listed once, at its first place.
 * - A missing input, a folder without images or a glob that matches no image is a ZsError naming it.
 * Returned paths are built from the input as typed (relative stays relative).
 */
import { promises as fsp, type Dirent } from 'node:fs';
import { join, resolve, extname } from 'node:path';
import { ZsError, wrapError } from '../errors.js';
import { compareStrings } from './dataset.js';
import { globToRegExp, hasGlob, splitGlob } from './glob.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

export interface FindImagesOptions {
  /** Called with one line for each skipped oddity (dangling link, unreadable entry). */
  onWarning?: (message: string) => void;
}

/** True when the path ends in one of IMAGE_EXTENSIONS (any case). */
export function isImagePath(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

async function statOrNull(path: string) {
  try {
    return await fsp.stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw wrapError(e, 'E_READ', `cannot read ${path}`, 'check the path and its permissions');
  }
}

/**
 * All non-hidden files below `root`, as `/`-separated paths relative to it, sorted.
 * Follows links; `seen` holds the real paths of folders already walked (loop safety).
 */
export async function walkFiles(root: string, options: FindImagesOptions = {}, seen = new Set<string>()): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    const real = await fsp.realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw wrapError(e, 'E_READ', `cannot list folder ${dir}`, 'check that it exists and is readable');
    }
    entries.sort((a, b) => compareStrings(a.name, b.name)); // deterministic choice of which alias of a linked folder is kept
    for (const ent of entries) {
      if (ent.name.startsWith('.')) continue;
      const full = join(dir, ent.name);
      const childRel = rel === '' ? ent.name : `${rel}/${ent.name}`;
      let isDir = ent.isDirectory();
      let isFile = ent.isFile();
      if (ent.isSymbolicLink()) {
        const st = await statOrNull(full);
        if (!st) {
          options.onWarning?.(`skipped ${full}: a link to nothing`);
          continue;
        }
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (isDir) await visit(full, childRel);
      else if (isFile) out.push(childRel);
    }
  };
  await visit(root, '');
  return out.sort(compareStrings);
}

/** Image files below a folder (recursive, sorted), joined onto `dir` as given. Empty when there are none. */
export async function imagesInFolder(dir: string, options: FindImagesOptions = {}): Promise<string[]> {
  return (await walkFiles(dir, options)).filter(isImagePath).map((rel) => join(dir, rel));
}

/** Image files matching a glob; a file matches when its path or one of its folders matches the pattern. */
async function imagesForGlob(input: string, options: FindImagesOptions): Promise<string[]> {
  const { base, pattern } = splitGlob(input);
  const st = await statOrNull(base);
  if (!st || !st.isDirectory()) {
    throw new ZsError('E_NOT_FOUND', `no folder ${base} for the pattern ${JSON.stringify(input)}`, {
      kind: 'usage',
      hint: 'check the part of the pattern before the first wildcard',
    });
  }
  const re = globToRegExp(pattern);
  const matches = (rel: string): boolean => {
    if (re.test(rel)) return true;
    for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) if (re.test(rel.slice(0, i))) return true;
    return false;
  };
  const files = (await walkFiles(base, options)).filter((rel) => isImagePath(rel) && matches(rel));
  if (files.length === 0) {
    throw new ZsError('E_NO_IMAGES', `no image files match ${JSON.stringify(input)}`, {
      kind: 'usage',
      hint: `image extensions: ${IMAGE_EXTENSIONS.join(' ')}`,
    });
  }
  return files.map((rel) => (base === '.' ? rel : join(base, rel)));
}

/** Expands files, folders and globs into image paths (see the header for the rules). */
export async function findImages(inputs: readonly string[], options: FindImagesOptions = {}): Promise<string[]> {
  if (inputs.length === 0) {
    throw new ZsError('E_NO_INPUT', 'no images given', { kind: 'usage', hint: 'name image files, folders or a quoted glob' });
  }
  const out: string[] = [];
  const taken = new Set<string>();
  const add = (p: string) => {
    const key = resolve(p);
    if (!taken.has(key)) {
      taken.add(key);
      out.push(p);
    }
  };
  for (const input of inputs) {
    const st = await statOrNull(input);
    if (st?.isFile()) {
      add(input);
    } else if (st?.isDirectory()) {
      const found = await imagesInFolder(input, options);
      if (found.length === 0) {
        throw new ZsError('E_NO_IMAGES', `no image files in folder ${input}`, {
          kind: 'usage',
          hint: `image extensions: ${IMAGE_EXTENSIONS.join(' ')} (hidden files are skipped)`,
        });
      }
      found.forEach(add);
    } else if (st) {
      throw new ZsError('E_NOT_FILE', `${input} is neither a file nor a folder`, { kind: 'usage' });
    } else if (hasGlob(input)) {
      (await imagesForGlob(input, options)).forEach(add);
    } else {
      throw new ZsError('E_NOT_FOUND', `no such file or folder: ${input}`, { kind: 'usage', hint: 'check the path' });
    }
  }
  return out;
}
