import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { beats, bestIndex, LOSS_TIE } from '../src/learn/select.js';

test('beats: accuracy first, then a lower loss by more than LOSS_TIE', () => {
  assert.ok(beats({ accuracy: 0.6, loss: 9 }, { accuracy: 0.5, loss: 0.1 }));
  assert.ok(!beats({ accuracy: 0.5, loss: 0.1 }, { accuracy: 0.6, loss: 9 }));
  assert.ok(beats({ accuracy: 0.5, loss: 0.3 }, { accuracy: 0.5, loss: 0.4 }));
  assert.ok(!beats({ accuracy: 0.5, loss: 0.4 - LOSS_TIE / 2 }, { accuracy: 0.5, loss: 0.4 }), 'within LOSS_TIE is a tie');
  assert.ok(!beats({ accuracy: 0.5, loss: 0.4 }, { accuracy: 0.5, loss: 0.4 }));
});

test('bestIndex keeps the first of tied candidates', () => {
  assert.is(bestIndex([]), -1);
  assert.is(bestIndex([{ accuracy: 0.5, loss: 1 }, { accuracy: 0.7, loss: 2 }, { accuracy: 0.7, loss: 2 + 1e-13 }, { accuracy: 0.7, loss: 2 - 1e-13 }]), 1);
  assert.is(bestIndex([{ accuracy: 0.5, loss: 1 }, { accuracy: 0.5, loss: 0.5 }]), 1);
});

test.run();
