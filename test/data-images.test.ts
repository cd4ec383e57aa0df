import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { findImages, isImagePath, imagesInFolder } from '../src/data/images.js';
import { ZsError } from '../src/errors.js';
import { tempDir } from './_helpers.js';

function touch(root: string, ...rels: string[]): void {
  for (const rel of rels) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), 'x');
  }
}

async function rejects(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).code, code);
    assert.match((e as ZsError).message, text);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('isImagePath: extensions, any case', () => {
  for (const p of ['a.jpg', 'a.JPEG', 'b.png', 'c.WebP', 'd.gif', 'e.tif', 'f.TIFF', 'g.avif']) assert.ok(isImagePath(p), p);
  for (const p of ['a.txt', 'a', 'a.jpg.bak', 'png', 'a.svg']) assert.not.ok(isImagePath(p), p);
});

test('folder walk: recursive, images only, hidden skipped, sorted', async () => {
  const { dir, cleanup } = tempDir();
  try {
    touch(dir, 'b.png', 'a.JPG', 'notes.txt', '.hidden.jpg', '.cache/x.jpg', 'sub/z.webp', 'sub/deeper/y.gif', 'A.png');
    const found = await findImages([dir]);
    assert.equal(found, ['A.png', 'a.JPG', 'b.png', 'sub/deeper/y.gif', 'sub/z.webp'].map((r) => join(dir, r)));
  } finally {
    cleanup();
  }
});

test('explicit files are kept as given and in input order; duplicates once', async () => {
  const { dir, cleanup } = tempDir();
  try {
    touch(dir, 'z.jpg', 'a.jpg', 'readme.txt');
    const z = join(dir, 'z.jpg');
    const found = await findImages([z, join(dir, 'readme.txt'), dir, z]);
    assert.equal(found, [z, join(dir, 'readme.txt'), join(dir, 'a.jpg')]);
  } finally {
    cleanup();
  }
});

test('globs: *, ** and ?, relative to their base; folders matched by a glob are walked', async () => {
  const { dir, cleanup } = tempDir();
  try {
    touch(dir, 'cat/1.jpg', 'cat/2.png', 'cat/x/3.jpg', 'dog/1.jpg', 'dog/notes.txt', 'img1.png', 'img22.png');
    assert.equal(await findImages([join(dir, '*/*.jpg')]), ['cat/1.jpg', 'dog/1.jpg'].map((r) => join(dir, r)));
    assert.equal(await findImages([join(dir, '**/*.jpg')]), ['cat/1.jpg', 'cat/x/3.jpg', 'dog/1.jpg'].map((r) => join(dir, r)));
    assert.equal(await findImages([join(dir, 'img?.png')]), [join(dir, 'img1.png')]);
    assert.equal(await findImages([join(dir, 'd*')]), [join(dir, 'dog/1.jpg')]);
  } finally {
    cleanup();
  }
});

test('symlink loops end; dangling links are reported, not fatal', async () => {
  const { dir, cleanup } = tempDir();
  try {
    touch(dir, 'a/1.jpg');
    symlinkSync(join(dir, 'a'), join(dir, 'a', 'loop'));
    symlinkSync(join(dir, 'missing.jpg'), join(dir, 'a', 'dangling.jpg'));
    const warnings: string[] = [];
    const found = await findImages([dir], { onWarning: (w) => warnings.push(w) });
    assert.equal(found, [join(dir, 'a/1.jpg')]);
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /dangling\.jpg: a link to nothing/);
  } finally {
    cleanup();
  }
});

test('a linked folder is followed', async () => {
  const { dir, cleanup } = tempDir();
  try {
    touch(dir, 'real/1.jpg');
    mkdirSync(join(dir, 'top'));
    symlinkSync(join(dir, 'real'), join(dir, 'top', 'link'));
    assert.equal(await imagesInFolder(join(dir, 'top')), [join(dir, 'top', 'link', '1.jpg')]);
  } finally {
    cleanup();
  }
});

test('errors name the path', async () => {
  const { dir, cleanup } = tempDir();
  try {
    touch(dir, 'empty/readme.txt');
    await rejects(findImages([join(dir, 'nope.jpg')]), 'E_NOT_FOUND', /nope\.jpg/);
    await rejects(findImages([join(dir, 'empty')]), 'E_NO_IMAGES', /empty/);
    await rejects(findImages([join(dir, 'empty/*.jpg')]), 'E_NO_IMAGES', /empty\/\*\.jpg/);
    await rejects(findImages([join(dir, 'nodir/*.jpg')]), 'E_NOT_FOUND', /nodir/);
    await rejects(findImages([]), 'E_NO_INPUT', /no images/);
  } finally {
    cleanup();
  }
});

test.run();
