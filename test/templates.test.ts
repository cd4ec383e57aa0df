/** Prompt templates: filling, validation, OpenAI's named sets, template files, CLI resolution. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './_helpers.js';
import { ZsError } from '../src/errors.js';
import {
  DEFAULT_TEMPLATE, checkTemplates, datasetClasses, fillTemplate, loadTemplateSet, readTemplatesFile, resolveTemplates, templateSetNames,
} from '../src/text/templates.js';

async function usageErrorOf(fn: () => unknown): Promise<ZsError> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).kind, 'usage');
    return e as ZsError;
  }
  throw new Error('expected a usage error');
}

const prompts = JSON.parse(readFileSync(join(ROOT, 'src', 'text', 'clip-prompts.json'), 'utf8')) as {
  datasets: Record<string, { classes: Array<string | string[]>; templates: string[] }>;
};

test('default template and filling', () => {
  assert.is(DEFAULT_TEMPLATE, 'a photo of a {}.');
  assert.is(fillTemplate(DEFAULT_TEMPLATE, 'tabby cat'), 'a photo of a tabby cat.');
  assert.is(fillTemplate('a {} next to a {}.', 'dog'), 'a dog next to a dog.');
});

test('a template without {} or an empty label is a usage error naming it and the fix', async () => {
  const e = await usageErrorOf(() => checkTemplates(['a photo of a cat']));
  assert.match(e.message, /"a photo of a cat"/);
  assert.match(e.hint ?? '', /\{\}/);
  await usageErrorOf(() => checkTemplates([]));
  const l = await usageErrorOf(() => fillTemplate(DEFAULT_TEMPLATE, ' '));
  assert.match(l.message, /label/);
});

test('named sets: case-insensitive, as in clip-prompts.json', async () => {
  const names = await templateSetNames();
  assert.equal(names, Object.keys(prompts.datasets));
  const imagenet = await loadTemplateSet('imagenet');
  assert.is(imagenet.name, 'ImageNet');
  assert.is(imagenet.templates.length, 80);
  assert.is(imagenet.classes.length, 1000);
  assert.equal(imagenet.templates, prompts.datasets.ImageNet!.templates);
  const cifar = await loadTemplateSet('CIFAR10');
  assert.equal(await datasetClasses('cifar10'), prompts.datasets.CIFAR10!.classes);
  assert.is(cifar.templates.length, 18);
  const fer = await loadTemplateSet('facialemotionrecognition2013');
  assert.equal(fer.classSynonyms[3], ['happy', 'smiling']);
  assert.is(fer.classes[3], 'happy');
  const e = await usageErrorOf(() => loadTemplateSet('imagenette'));
  assert.match(e.hint ?? '', /ImageNet/);
});

test('templates files: comments and blank lines skipped, each line checked', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'templates.txt');
    writeFileSync(file, '# my prompts\n\na photo of a {}.\r\n  a sketch of a {}.  \n# end\n');
    assert.equal(await readTemplatesFile(file), ['a photo of a {}.', 'a sketch of a {}.']);
    writeFileSync(file, 'a photo of a {}.\nno slot here\n');
    const e = await usageErrorOf(() => readTemplatesFile(file));
    assert.match(e.message, /templates\.txt:2/);
    assert.match(e.message, /no slot here/);
    writeFileSync(file, '# only a comment\n');
    await usageErrorOf(() => readTemplatesFile(file));
  } finally {
    cleanup();
  }
});

test('resolveTemplates: default, --template, --templates set or file', async () => {
  assert.equal(await resolveTemplates({}), [DEFAULT_TEMPLATE]);
  assert.equal(await resolveTemplates({ template: ['a {}.', 'the {}.'] }), ['a {}.', 'the {}.']);
  assert.is((await resolveTemplates({ templates: 'ImageNet' })).length, 80);
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 't.txt');
    writeFileSync(file, 'art of the {}.\n');
    assert.equal(await resolveTemplates({ templates: file }), ['art of the {}.']);
  } finally {
    cleanup();
  }
  const missing = await usageErrorOf(() => resolveTemplates({ templates: 'no-such-set-or-file' }));
  assert.match(missing.message, /no-such-set-or-file/);
  await usageErrorOf(() => resolveTemplates({ template: ['a {}.'], templates: 'imagenet' }));
  await usageErrorOf(() => resolveTemplates({ template: ['no slot'] }));
});

test.run();
