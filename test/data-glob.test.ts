import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { globToRegExp, hasGlob, splitGlob } from '../src/data/glob.js';

const m = (pattern: string, path: string) => globToRegExp(pattern).test(path);

test('hasGlob', () => {
  assert.ok(hasGlob('a/*.jpg'));
  assert.ok(hasGlob('img?.png'));
  assert.not.ok(hasGlob('data/cat/1.jpg'));
});

test('* stays within a segment', () => {
  assert.ok(m('*.jpg', 'a.jpg'));
  assert.not.ok(m('*.jpg', 'x/a.jpg'));
  assert.ok(m('*/*.jpg', 'x/a.jpg'));
  assert.ok(m('cat*', 'cat'));
  assert.not.ok(m('*.jpg', 'a.jpeg'));
});

test('? matches one character, not a slash', () => {
  assert.ok(m('img?.png', 'img1.png'));
  assert.not.ok(m('img?.png', 'img10.png'));
  assert.not.ok(m('a?b', 'a/b'));
});

test('** matches zero or more segments', () => {
  assert.ok(m('**/*.jpg', 'a.jpg'));
  assert.ok(m('**/*.jpg', 'x/y/z/a.jpg'));
  assert.ok(m('a/**/b.png', 'a/b.png'));
  assert.ok(m('a/**/b.png', 'a/x/y/b.png'));
  assert.not.ok(m('a/**/b.png', 'ab.png'));
  assert.ok(m('a/**', 'a/x/y.png'));
  assert.ok(m('**', 'anything/at/all'));
});

test('regex characters are literal', () => {
  assert.ok(m('a+b (1).jpg', 'a+b (1).jpg'));
  assert.not.ok(m('a.b', 'axb'));
  assert.ok(m('[x]*.png', '[x]1.png'));
});

test('splitGlob finds the literal base folder', () => {
  assert.equal(splitGlob('data/train/*/*.jpg', 'linux'), { base: 'data/train', pattern: '*/*.jpg' });
  assert.equal(splitGlob('*.png', 'linux'), { base: '.', pattern: '*.png' });
  assert.equal(splitGlob('/abs/**/x?.jpg', 'linux'), { base: '/abs', pattern: '**/x?.jpg' });
  assert.equal(splitGlob('/*.jpg', 'linux'), { base: '/', pattern: '*.jpg' });
  assert.equal(splitGlob('C:\\data\\*.jpg', 'win32'), { base: 'C:/data', pattern: '*.jpg' });
  assert.equal(splitGlob('plain/path.jpg', 'linux'), { base: 'plain/path.jpg', pattern: '' });
});

test.run();
