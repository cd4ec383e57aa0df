import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFolderDataset } from '../src/data/folder.js';
import { ZsError } from '../src/errors.js';
import { tempDir } from './_helpers.js';

function touch(root: string, ...rels: string[]): void {
  for (const rel of rels) {
    if (rel.endsWith('/')) {
      mkdirSync(join(root, rel), { recursive: true });
      continue;
    }
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), 'x');
  }
}

async function rejects(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).code, code, (e as Error).message);
    assert.match((e as ZsError).message, text);
    assert.is((e as ZsError).kind, 'usage');
    return;
  }
  assert.unreachable(`expected ${code}`);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    await fn(dir);
  } finally {
    cleanup();
  }
}

test('class folders: sorted classes, items grouped by class, nested images found', () =>
  withDir(async (dir) => {
    touch(dir, 'dog/b.jpg', 'dog/a.png', 'cat/1.jpg', 'cat/more/2.jpg', 'cat/info.txt', '.git/x.jpg', 'labels.json');
    const ds = await readFolderDataset(dir);
    assert.is(ds.layout, 'classes');
    assert.equal(ds.classes, ['cat', 'dog']);
    if (ds.layout !== 'classes') return;
    assert.equal(ds.items, [
      { path: join(dir, 'cat/1.jpg'), label: 'cat' },
      { path: join(dir, 'cat/more/2.jpg'), label: 'cat' },
      { path: join(dir, 'dog/a.png'), label: 'dog' },
      { path: join(dir, 'dog/b.jpg'), label: 'dog' },
    ]);
  }));

test('loose images in the root are reported and left out', () =>
  withDir(async (dir) => {
    touch(dir, 'cat/1.jpg', 'dog/1.jpg', 'stray.jpg');
    const warnings: string[] = [];
    const ds = await readFolderDataset(dir, { onWarning: (w) => warnings.push(w) });
    assert.is(ds.layout === 'classes' ? ds.items.length : -1, 2);
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /1 image file directly in/);
  }));

test('train/ + test/ layout', () =>
  withDir(async (dir) => {
    touch(dir, 'train/cat/1.jpg', 'train/dog/1.jpg', 'train/dog/2.jpg', 'test/cat/9.jpg', 'test/dog/9.jpg');
    const ds = await readFolderDataset(dir);
    assert.is(ds.layout, 'train-test');
    if (ds.layout !== 'train-test') return;
    assert.equal(ds.classes, ['cat', 'dog']);
    assert.equal(ds.train.map((i) => i.label), ['cat', 'dog', 'dog']);
    assert.equal(ds.test.map((i) => i.path), [join(dir, 'test/cat/9.jpg'), join(dir, 'test/dog/9.jpg')]);
  }));

test('bad input: one clear error each', () =>
  withDir(async (dir) => {
    touch(dir, 'one/cat/1.jpg');
    await rejects(readFolderDataset(join(dir, 'one')), 'E_ONE_CLASS', /only one class \("cat"\)/);

    touch(dir, 'none/readme.txt');
    await rejects(readFolderDataset(join(dir, 'none')), 'E_ONE_CLASS', /no classes/);

    touch(dir, 'empty/cat/1.jpg', 'empty/dog/notes.txt');
    await rejects(readFolderDataset(join(dir, 'empty')), 'E_EMPTY_CLASS', /empty\/dog has no images/);

    touch(dir, 'mis/train/cat/1.jpg', 'mis/train/dog/1.jpg', 'mis/test/cat/1.jpg', 'mis/test/cow/1.jpg');
    await rejects(readFolderDataset(join(dir, 'mis')), 'E_CLASS_MISMATCH', /only in train\/: dog; only in test\/: cow/);

    touch(dir, 'half/train/cat/1.jpg', 'half/train/dog/1.jpg');
    await rejects(readFolderDataset(join(dir, 'half')), 'E_LAYOUT', /has train\/ but no test\//);

    touch(dir, 'extra/train/cat/1.jpg', 'extra/train/dog/1.jpg', 'extra/test/cat/1.jpg', 'extra/test/dog/1.jpg', 'extra/val/cat/1.jpg');
    await rejects(readFolderDataset(join(dir, 'extra')), 'E_LAYOUT', /also val\//);

    touch(dir, 'tempty/train/cat/1.jpg', 'tempty/train/dog/1.jpg', 'tempty/test/cat/1.jpg', 'tempty/test/dog/');
    await rejects(readFolderDataset(join(dir, 'tempty')), 'E_EMPTY_CLASS', /test\/dog has no images/);

    await rejects(readFolderDataset(join(dir, 'missing')), 'E_NOT_FOUND', /missing/);
  }));

test.run();
