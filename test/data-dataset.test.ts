import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classCounts, indicesByClass, requireKnownLabels, requireTwoClasses, sortedClasses } from '../src/data/dataset.js';
import { ZsError } from '../src/errors.js';

test('sortedClasses: code-unit order, not locale order', () => {
  assert.equal(sortedClasses(['b', 'B', 'a', 'é', 'b']), ['B', 'a', 'b', 'é']);
});

test('classCounts and indicesByClass', () => {
  const labels = ['dog', 'cat', 'dog'];
  assert.equal([...classCounts(labels, ['cat', 'dog'])], [['cat', 1], ['dog', 2]]);
  assert.equal([...indicesByClass(labels)], [['cat', [1]], ['dog', [0, 2]]]);
});

test('requireTwoClasses', () => {
  requireTwoClasses(['a', 'b'], 'x');
  assert.throws(() => requireTwoClasses(['a'], 'data/'), (e: unknown) => e instanceof ZsError && e.kind === 'usage' && /data\/ has only one class \("a"\)/.test(e.message));
  assert.throws(() => requireTwoClasses([], 'data/'), /data\/ has no classes/);
});

test('requireKnownLabels: names the labels the probe lacks', () => {
  requireKnownLabels(['cat', 'cat'], ['cat', 'dog'], 'the probe', 'test.jsonl');
  assert.throws(() => requireKnownLabels(['cow', 'cat', 'emu'], ['cat', 'dog'], 'the probe', 'test.jsonl'),
    (e: unknown) => e instanceof ZsError && e.code === 'E_UNKNOWN_LABEL' && e.message === 'test.jsonl has labels "cow", "emu" that the probe lacks' && /knows "cat", "dog"/.test(e.hint!));
});

test.run();
