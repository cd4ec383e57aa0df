import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatShots, zeroShotWorth } from '../src/bench/worth.js';

const curve = [1, 2, 4, 8, 16].map((k, i) => ({ shots: k, accuracy: [0.4, 0.5, 0.6, 0.7, 0.8][i]! }));
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

test('log-linear interpolation between the bracketing shots', () => {
  const w = zeroShotWorth(curve, 0.65); // halfway between 4 and 8 in log2: 2^2.5
  assert.is(w.relation, 'within');
  close(w.shots!, 2 ** 2.5);
  assert.equal(w.between, [4, 8]);
  assert.is(w.text, 'zero-shot is worth 5.7 labelled examples per class');
  close(zeroShotWorth(curve, 0.425).shots!, 2 ** 0.25);
  close(zeroShotWorth(curve, 0.79).shots!, 2 ** 3.9);
});

test('unequal spacing: interpolates in log2 of the actual shots', () => {
  const w = zeroShotWorth([{ shots: 1, accuracy: 0.2 }, { shots: 16, accuracy: 0.6 }], 0.3);
  close(w.shots!, 2 ** 1); // a quarter of the way from log2 1 = 0 to log2 16 = 4
});

test('exact hits give the measured shots', () => {
  assert.is(zeroShotWorth(curve, 0.6).shots, 4);
  assert.is(zeroShotWorth(curve, 0.4).shots, 1);
  assert.is(zeroShotWorth(curve, 0.8).shots, 16);
});

test('below the smallest k and above the largest', () => {
  const lo = zeroShotWorth(curve, 0.3);
  assert.is(lo.relation, 'below');
  assert.is(lo.shots, null);
  assert.is(lo.text, 'zero-shot is worth fewer than 1 labelled example per class (the 1-shot probe already beats it)');
  const hi = zeroShotWorth(curve, 0.95);
  assert.is(hi.relation, 'above');
  assert.is(hi.text, 'zero-shot is worth more than 16 labelled examples per class (it beats every probe measured, up to 16 shots)');
  assert.is(zeroShotWorth(curve.slice(1), 0.3).text, 'zero-shot is worth fewer than 2 labelled examples per class (the 2-shot probe already beats it)');
});

test('non-monotonic curve: the first crossing; order of input does not matter', () => {
  const bumpy = [{ shots: 8, accuracy: 0.55 }, { shots: 1, accuracy: 0.3 }, { shots: 4, accuracy: 0.45 }, { shots: 2, accuracy: 0.5 }];
  const w = zeroShotWorth(bumpy, 0.48); // crosses first between 1 (0.3) and 2 (0.5)
  assert.equal(w.between, [1, 2]);
  close(w.shots!, 2 ** 0.9);
});

test('bad curves are errors', () => {
  assert.throws(() => zeroShotWorth([], 0.5), /no probe results/);
  assert.throws(() => zeroShotWorth([{ shots: 2, accuracy: 0.5 }, { shots: 2, accuracy: 0.6 }], 0.5), /appears twice/);
  assert.throws(() => zeroShotWorth([{ shots: 0, accuracy: 0.5 }], 0.5), /invalid shots 0/);
  assert.throws(() => zeroShotWorth(curve, NaN), /zero-shot accuracy is NaN/);
});

test('formatShots', () => {
  assert.is(formatShots(3.14159), '3.1');
  assert.is(formatShots(9.94), '9.9');
  assert.is(formatShots(9.96), '10');
  assert.is(formatShots(12.6), '13');
});

test.run();
