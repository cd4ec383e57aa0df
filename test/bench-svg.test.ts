import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lineChartSvg, niceStep, xmlEscape } from '../src/bench/svg.js';
import { benchChartSvg } from '../src/bench/chart.js';
import { buildResults, type BenchInput } from '../src/bench/results.js';

interface El { name: string; attrs: Record<string, string>; children: El[]; text: string }

/** A tiny strict XML parser: well-formed nesting, quoted attributes, only the five predefined entities. */
function parseXml(src: string): El {
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (t: string, where: string) => {
    assert.not.ok(/</.test(t), `raw < in ${where}`);
    assert.not.ok(/&/.test(t.replace(entity, '')), `bare & in ${where}: ${t}`);
  };
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: El[] = [root];
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|<\?[^?]*\?>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    checkText(src.slice(last, m.index), 'text');
    stack[stack.length - 1]!.text += src.slice(last, m.index);
    last = re.lastIndex;
    if (!m[2]) continue; // declaration or comment
    if (m[1]) {
      const open = stack.pop()!;
      assert.is(open.name, m[2], `</${m[2]}> closes <${open.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[3]!.matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) {
      assert.not.ok(a[1]! in attrs, `attribute ${a[1]} twice`);
      checkText(a[2]!, `attribute ${a[1]}`);
      attrs[a[1]!] = a[2]!;
    }
    const el: El = { name: m[2], attrs, children: [], text: '' };
    stack[stack.length - 1]!.children.push(el);
    if (!m[4]) stack.push(el);
  }
  checkText(src.slice(last), 'trailing text');
  assert.is(src.slice(last).trim(), '');
  assert.is(stack.length, 1, `unclosed <${stack[stack.length - 1]!.name}>`);
  assert.is(root.children.length, 1, 'one root element');
  return root.children[0]!;
}

function all(el: El, pred: (e: El) => boolean, out: El[] = []): El[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) all(c, pred, out);
  return out;
}
const textOf = (el: El): string => el.text + el.children.map(textOf).join('');

function input(): BenchInput {
  const head = (name: string, accs: number[]) => ({
    name,
    shots: ([1, 2, 4, 8, 16, 'all'] as const).map((s, i) => ({
      shots: s,
      seeds: [0, 1].map((seed) => ({ seed, top1: accs[i]! + (seed ? 0.02 : -0.02), meanPerClassRecall: accs[i]!, top5: null, C: 1,
        trainPerClass: 1, valPerClass: 1, nTrain: 1, nVal: 1, fitS: 0, predictS: 0 })),
    })),
  });
  return {
    createdAt: 'now', zsVersion: '0', model: { id: 'm & <n>', dim: 8 },
    dataset: { source: 'd', layout: 'train-test', testSplit: null, classes: [{ label: 'a', prompt: 'a', train: 1, test: 1 }, { label: 'b', prompt: 'b', train: 1, test: 1 }], nTrain: 2, nTest: 2 },
    protocol: { shots: [1, 2, 4, 8, 16, 'all'], seeds: [0, 1], validation: 'v', selection: 's' },
    zeroShot: [{ name: 'zero-shot "ensemble"', templates: 80, top1: 0.6, top5: null, meanPerClassRecall: 0.6, predictS: 0 },
      { name: 'zero-shot <one>', templates: 1, top1: 0.5, top5: null, meanPerClassRecall: 0.5, predictS: 0 }],
    heads: [head('linear probe', [0.3, 0.45, 0.55, 0.65, 0.72, 0.85]), head('probe & init', [0.5, 0.56, 0.6, 0.68, 0.74, 0.86])],
    skipped: [], timings: { images: 4, embedS: 0, totalS: 0 },
  };
}

test('bench chart: well-formed SVG with one series per head, zero-shot lines, legend, ticks', () => {
  const svg = benchChartSvg(buildResults(input()));
  const root = parseXml(svg);
  assert.is(root.name, 'svg');
  assert.is(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
  assert.is(root.attrs.width, '720');
  assert.is(root.attrs.height, '440');
  const series = all(root, (e) => e.attrs.class === 'series');
  assert.equal(series.map((s) => s.attrs['data-name']), ['linear probe', 'probe &amp; init']);
  for (const s of series) {
    assert.is(all(s, (e) => e.name === 'circle').length, 6);
    assert.is(all(s, (e) => e.name === 'polygon').length, 1, 'a ±std band');
    const dashed = all(s, (e) => e.name === 'line' && 'stroke-dasharray' in e.attrs);
    assert.is(dashed.length, 1, 'only the segment into "all" is dashed');
  }
  const hlines = all(root, (e) => e.attrs.class === 'hline');
  assert.equal(hlines.map((h) => h.attrs['data-name']), ['zero-shot &quot;ensemble&quot;', 'zero-shot &lt;one&gt;']);
  assert.ok(Number(hlines[0]!.attrs.y1) < Number(hlines[1]!.attrs.y1), 'higher accuracy is drawn higher');
  const labels = all(root, (e) => e.attrs.class === 'hline-label').map(textOf);
  assert.equal(labels, ['zero-shot &quot;ensemble&quot; 60.0%', 'zero-shot &lt;one&gt; 50.0%']);
  const legend = all(root, (e) => e.attrs.class === 'legend')[0]!;
  assert.equal(all(legend, (e) => e.name === 'text').map(textOf), ['linear probe', 'probe &amp; init', 'zero-shot &quot;ensemble&quot;', 'zero-shot &lt;one&gt;']);
  const texts = all(root, (e) => e.name === 'text').map(textOf);
  for (const t of ['1', '2', '4', '8', '16', 'all']) assert.ok(texts.includes(t), `x tick ${t}`);
  assert.ok(texts.some((t) => /^\d+%$/.test(t)), 'y ticks in percent');
  assert.ok(texts.includes('labelled examples per class (log2 scale)'));
});

test('log2 axis: doubling shots is a constant step; accuracy maps to height', () => {
  const root = parseXml(benchChartSvg(buildResults(input())));
  const s = all(root, (e) => e.attrs.class === 'series')[0]!;
  const pts = all(s, (e) => e.name === 'circle').map((c) => [Number(c.attrs.cx), Number(c.attrs.cy)] as const);
  const steps = pts.slice(1).map((p, i) => p[0] - pts[i]![0]);
  for (const d of steps) assert.ok(Math.abs(d - steps[0]!) < 0.15, `steps ${steps}`);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i]![1] < pts[i - 1]![1], 'rising accuracy goes up');
});

test('generic chart: no std, no hlines, custom ticks, one point', () => {
  const svg = lineChartSvg({ title: 'T', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 4, y: 0.5 }] }] });
  const root = parseXml(svg);
  assert.is(all(root, (e) => e.name === 'polygon').length, 0);
  assert.is(all(root, (e) => e.attrs.class === 'hline').length, 0);
  assert.not.match(svg, /NaN|Infinity|undefined/);
});

test('niceStep and xmlEscape', () => {
  assert.is(niceStep(1, 5), 0.2);
  assert.is(niceStep(0.37, 5), 0.1);
  assert.is(niceStep(45, 5), 10);
  assert.is(xmlEscape(`a<b>&"c"'`), 'a&lt;b&gt;&amp;&quot;c&quot;&apos;');
});

test.run();
