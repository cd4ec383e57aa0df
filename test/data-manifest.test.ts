import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest, readManifest } from '../src/data/manifest.js';
import { ZsError } from '../src/errors.js';
import { tempDir } from './_helpers.js';

function fails(fn: () => unknown, code: string, re: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).code, code, (e as Error).message);
    assert.match((e as ZsError).message, re);
    return;
  }
  assert.unreachable('expected an error');
}

test('no header: path,label; relative paths from the CSV folder; row order kept', () => {
  const m = parseManifest('b.jpg,dog\n/abs/a.jpg,cat\n', '/data/m.csv');
  assert.equal(m.items, [{ path: '/data/b.jpg', label: 'dog' }, { path: '/abs/a.jpg', label: 'cat' }]);
  assert.equal(m.classes, ['cat', 'dog']);
  assert.equal(m.lines, [1, 2]);
});

test('header detected in any order and case; extra columns ignored', () => {
  const m = parseManifest('Label,split,PATH\ncat,train,x/1.jpg\ndog,test,"y, 2.jpg"\n', 'd/m.csv');
  assert.equal(m.items, [{ path: join('d', 'x/1.jpg'), label: 'cat' }, { path: join('d', 'y, 2.jpg'), label: 'dog' }]);
  assert.equal(m.lines, [2, 3]);
  assert.equal(parseManifest('file,class\na.jpg,x\nb.jpg,y', 'm.csv').items.length, 2);
});

test('bad rows: error with the line number', () => {
  fails(() => parseManifest('a.jpg,cat\nb.jpg\n', 'm.csv'), 'E_MANIFEST', /m\.csv line 2: 1 cell, expected 2/);
  fails(() => parseManifest('a.jpg,cat,extra\n', 'm.csv'), 'E_MANIFEST', /line 1: 3 cells, expected 2/);
  fails(() => parseManifest('path,label\na.jpg,cat\n\n,dog\n', 'm.csv'), 'E_MANIFEST', /line 4: the path is empty/);
  fails(() => parseManifest('a.jpg,cat\nb.jpg,  \n', 'm.csv'), 'E_MANIFEST', /line 2: the label is empty/);
  fails(() => parseManifest('a.jpg,cat\nb.jpg,dog\na.jpg,dog\n', 'm.csv'), 'E_MANIFEST', /line 3: a\.jpg is already listed on line 1/);
  fails(() => parseManifest('path,split\na.jpg,x\n', 'm.csv'), 'E_MANIFEST', /line 1: the header lacks a label column/);
  fails(() => parseManifest('a.jpg,cat\nb.jpg,cat\n', 'm.csv'), 'E_ONE_CLASS', /only one class/);
  fails(() => parseManifest('\n\n', 'm.csv'), 'E_MANIFEST', /no rows/);
});

test('readManifest checks files exist (line number in the error)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(join(dir, 'img'));
    writeFileSync(join(dir, 'img', 'a.jpg'), 'x');
    writeFileSync(join(dir, 'img', 'b.jpg'), 'x');
    writeFileSync(join(dir, 'ok.csv'), 'path,label\nimg/a.jpg,cat\nimg/b.jpg,dog\n');
    const m = await readManifest(join(dir, 'ok.csv'));
    assert.equal(m.items.map((i) => i.path), [join(dir, 'img/a.jpg'), join(dir, 'img/b.jpg')]);
    writeFileSync(join(dir, 'bad.csv'), 'img/a.jpg,cat\nimg/b.jpg,dog\nimg/c.jpg,dog\n');
    try {
      await readManifest(join(dir, 'bad.csv'));
      assert.unreachable('expected an error');
    } catch (e) {
      assert.match((e as Error).message, /bad\.csv line 3: no image file .*img\/c\.jpg/);
    }
    assert.is((await readManifest(join(dir, 'bad.csv'), { checkFiles: false })).items.length, 3);
    try {
      await readManifest(join(dir, 'none.csv'));
      assert.unreachable('expected an error');
    } catch (e) {
      assert.is((e as ZsError).code, 'E_NOT_FOUND');
    }
  } finally {
    cleanup();
  }
});

test.run();
