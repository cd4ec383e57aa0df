/**
 * The module graph of src/: no import cycles (static `import`/`export ... from`, type-only ones included; a lazy
 * `await import()` is not an edge), and the learner engine (src/learn) never reaches up into the heads, the CLI
 * or the benchmark.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Static relative imports of each file, as absolute .ts paths. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const re = /^\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/gms;
  for (const f of files(root)) {
    const text = readFileSync(f, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(re)) deps.push(resolve(dirname(f), m[1]!.replace(/\.js$/, '.ts')));
    graph.set(f, deps);
  }
  return graph;
}

/** One cycle as a list of files (first repeated at the end), or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    state.set(f, 1);
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 1) return [...stack.slice(stack.indexOf(g)), g];
      if (!state.has(g)) { const c = visit(g); if (c) return c; }
    }
    stack.pop();
    state.set(f, 2);
    return null;
  };
  for (const f of graph.keys()) if (!state.has(f)) { const c = visit(f); if (c) return c; }
  return null;
}

test('the cycle finder finds a planted cycle and none in a chain', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]);
  assert.equal(findCycle(g), ['a', 'b', 'c', 'a']);
  assert.is(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), null);
});

test('src/ has no import cycles', () => {
  const graph = importGraph(SRC);
  assert.ok(graph.size > 50, `scanned ${graph.size} files`);
  const edges = [...graph.values()].reduce((s, d) => s + d.length, 0);
  assert.ok(edges > 100, `found ${edges} imports`);
  const cycle = findCycle(graph);
  assert.is(cycle, null, `import cycle: ${(cycle ?? []).map((f) => relative(SRC, f)).join(' -> ')}`);
});

test('src/learn imports nothing from heads, bench, cli or embed', () => {
  for (const [f, deps] of importGraph(SRC)) {
    if (!relative(SRC, f).startsWith('learn/')) continue;
    for (const d of deps) {
      const r = relative(SRC, d);
      assert.ok(!/^(heads|bench|cli|embed)\//.test(r), `${relative(SRC, f)} imports ${r}`);
    }
  }
});

test.run();
