import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyLabelMap, parseLabelMap, readLabelMap } from '../src/data/labelmap.js';
import { ZsError } from '../src/errors.js';
import { tempDir } from './_helpers.js';

test('maps folder names to prompt words; unmapped classes keep their name', () => {
  const map = parseLabelMap({ t_shirt: 't-shirt', ankle_boot: ' ankle boot ' }, 'map.json');
  assert.equal(applyLabelMap(['ankle_boot', 'bag', 't_shirt'], map, 'map.json'), ['ankle boot', 'bag', 't-shirt']);
});

test('unknown keys warn (naming them), they do not fail', () => {
  const warnings: string[] = [];
  const map = parseLabelMap({ t_shirt: 't-shirt', tshirt: 'x', sneakr: 'sneaker' }, 'map.json');
  assert.equal(applyLabelMap(['t_shirt', 'bag'], map, 'map.json', (w) => warnings.push(w)), ['t-shirt', 'bag']);
  assert.equal(warnings, ['map.json: keys "tshirt", "sneakr" match no class']);
});

test('bad maps: one clear error each', () => {
  assert.throws(() => parseLabelMap(['a'], 'm.json'), (e: unknown) => e instanceof ZsError && /m\.json: not a JSON object/.test(e.message));
  assert.throws(() => parseLabelMap({ a: 3 }, 'm.json'), /the value for "a" is 3/);
  assert.throws(() => parseLabelMap({ a: ' ' }, 'm.json'), /the value for "a" is " "/);
  const map = parseLabelMap({ cat: 'animal', dog: 'animal' }, 'm.json');
  assert.throws(() => applyLabelMap(['cat', 'dog'], map, 'm.json'), /classes "cat" and "dog" both become "animal"/);
  assert.throws(() => applyLabelMap(['cat', 'animal'], parseLabelMap({ cat: 'animal' }, 'm.json'), 'm.json'), /both become "animal"/);
});

test('readLabelMap: file errors', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'ok.json'), '{"t_shirt": "t-shirt"}');
    assert.equal([...(await readLabelMap(join(dir, 'ok.json')))], [['t_shirt', 't-shirt']]);
    writeFileSync(join(dir, 'bad.json'), '{"t_shirt": ');
    await readLabelMap(join(dir, 'bad.json')).then(() => assert.unreachable(), (e) => assert.match(e.message, /bad\.json: not valid JSON/));
    await readLabelMap(join(dir, 'none.json')).then(() => assert.unreachable(), (e) => assert.is(e.code, 'E_NOT_FOUND'));
  } finally {
    cleanup();
  }
});

test.run();
