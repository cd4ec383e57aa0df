import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCsv } from '../src/data/csv.js';
import { ZsError } from '../src/errors.js';

const fields = (text: string) => parseCsv(text, 'm.csv').map((r) => r.fields);

function fails(text: string, re: RegExp): void {
  try {
    parseCsv(text, 'm.csv');
  } catch (e) {
    assert.instance(e, ZsError);
    assert.match((e as ZsError).message, re);
    return;
  }
  assert.unreachable('expected an error');
}

test('plain rows, LF and CRLF, trailing newline or not', () => {
  assert.equal(fields('a,b\nc,d\n'), [['a', 'b'], ['c', 'd']]);
  assert.equal(fields('a,b\r\nc,d'), [['a', 'b'], ['c', 'd']]);
});

test('quoted fields: commas, doubled quotes, line breaks', () => {
  assert.equal(fields('"x, y.jpg",cat\n"say ""hi"".png",dog\n"two\nlines.jpg",cow'), [
    ['x, y.jpg', 'cat'],
    ['say "hi".png', 'dog'],
    ['two\nlines.jpg', 'cow'],
  ]);
  assert.equal(fields('"",b'), [['', 'b']]);
});

test('BOM dropped, blank lines skipped, unquoted fields trimmed, quoted kept', () => {
  assert.equal(fields('\uFEFFa,b\n\n   \n c , d \n" e ",f\n'), [['a', 'b'], ['c', 'd'], [' e ', 'f']]);
});

test('empty trailing field and lone separators', () => {
  assert.equal(fields('a,\n,b'), [['a', ''], ['', 'b']]);
});

test('line numbers count lines inside quotes and skipped blank lines', () => {
  const rows = parseCsv('h1,h2\n\n"a\nb",c\nd,e\n', 'm.csv');
  assert.equal(rows.map((r) => r.line), [1, 3, 5]);
});

test('errors name the line', () => {
  fails('a,b\n"open,c\n', /m\.csv line 2: a quoted field is never closed/);
  fails('a,b\nc"d,e\n', /line 2: a quote inside an unquoted field/);
  fails('a,b\n"c"x,e\n', /line 2: text after a closing quote/);
});

test.run();
