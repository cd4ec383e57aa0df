/**
 * The search core on synthetic vectors written through the real index path (IndexStore + IndexWriter): exact
 * nearest neighbours against a brute-force float64 scan (several segments, masks, removals and compaction,
 * near-ties), the int8 error bound, and duplicate groups (planted pairs found, no false group).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { IndexStore, type IndexModel } from '../src/search/store.js';
import { IndexWriter } from '../src/search/writer.js';
import { VectorSet } from '../src/search/vectors.js';
import { duplicateGroups } from '../src/search/dupes.js';
import { META, quantizeQuery, quantizeRows } from '../src/search/quantize.js';
import { paddedDim, queryLimit } from '../src/search/kernel.js';
import { tempDir } from './_helpers.js';

const { dir: tmp, cleanup } = tempDir('zs-search-');
let seed = 12345;
function gauss(): number {
  // xorshift32 + Box-Muller
  const u = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return ((seed >>> 0) + 0.5) / 2 ** 32; };
  return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
function unit(d: number): Float32Array {
  const v = new Float32Array(d);
  let ss = 0;
  for (let j = 0; j < d; j++) { v[j] = gauss(); ss += v[j]! * v[j]!; }
  for (let j = 0; j < d; j++) v[j]! /= Math.sqrt(ss);
  return v;
}
function brute(q: Float32Array, rows: Map<string, Float32Array>, k: number, keep: (p: string) => boolean = () => true): { path: string; score: number }[] {
  const all = [...rows].filter(([p]) => keep(p)).map(([path, x]) => {
    let s = 0;
    for (let j = 0; j < q.length; j++) s += q[j]! * x[j]!;
    return { path, score: s };
  });
  return all.sort((a, b) => b.score - a.score).slice(0, k);
}

async function build(name: string, rows: Map<string, Float32Array>, d: number, segRows: number): Promise<{ store: IndexStore; m: IndexModel; w: IndexWriter }> {
  const store = (await IndexStore.open(`${tmp}/${name}`, { create: true }))!;
  const m = store.ensureModel(`fp-${name}`, name, d);
  const w = new IndexWriter(store, m, segRows);
  for (const [p, v] of rows) await w.add(p, v);
  await w.compact();
  return { store, m, w };
}

function found(store: IndexStore, set: VectorSet, hits: { index: number; score: number }[]): { path: string; score: number }[] {
  const paths = store.pathsAt(hits.map((h) => set.locate(h.index)));
  return hits.map((h, i) => ({ path: paths[i]!, score: h.score }));
}

test('the int8 bound holds: |exact - approx| <= B for every row and query', () => {
  for (const d of [16, 100, 512]) {
    const dp = paddedDim(d);
    const n = 200;
    const src = new Float32Array(n * d);
    for (let i = 0; i < n; i++) src.set(unit(d).map((v) => v * (i % 3 === 0 ? 3 : 1)), i * d);
    const i8 = new Int8Array(n * dp);
    const meta = new Float32Array(n * META);
    quantizeRows(src, d, dp, i8, meta);
    for (let t = 0; t < 5; t++) {
      const q = unit(d);
      const qq = quantizeQuery(q, dp, queryLimit(dp));
      for (let i = 0; i < n; i++) {
        let exact = 0, z = 0;
        for (let j = 0; j < d; j++) { exact += q[j]! * src[i * d + j]!; z += qq.q16[j]! * i8[i * dp + j]!; }
        const approx = qq.t * meta[i * META]! * z;
        const B = qq.qhatNorm * meta[i * META + 1]! + qq.residualNorm * meta[i * META + 2]!;
        assert.ok(Math.abs(exact - approx) <= B, `d=${d} row ${i}: |${exact} - ${approx}| > ${B}`);
        assert.ok(B < 0.05 * (meta[i * META + 2]! + 1e-9), `bound ${B} is loose`);
      }
    }
  }
});

test('nearest = brute force: several segments, k larger than n, masks, removals and compaction', async () => {
  const d = 64;
  const rows = new Map<string, Float32Array>();
  for (let i = 0; i < 1500; i++) rows.set(`/lib/${i % 3 === 0 ? 'a' : 'b'}/img${String(i).padStart(5, '0')}.jpg`, unit(d));
  const { store, m, w } = await build('nn', rows, d, 400);
  assert.ok(store.segments(m.id).length >= 4, 'several segments');
  const check = (k: number, keepDir?: string) => { for (const resident of [false, true]) {
    const set = VectorSet.open(store.dir, store.segments(m.id), d, { resident });
    try {
      let mask: Uint8Array | undefined;
      if (keepDir) {
        mask = new Uint8Array(set.n);
        for (const r of store.rowsUnder(m.id, keepDir)) mask[set.globalRow(r.seg, r.row)] = 1;
      }
      for (let t = 0; t < 10; t++) {
        const q = unit(d);
        const got = found(store, set, set.nearest(q, k, mask));
        const want = brute(q, rows, k, keepDir ? (p) => p.startsWith(`${keepDir}/`) : undefined);
        assert.equal(got.map((h) => h.path), want.map((h) => h.path));
        got.forEach((h, i) => assert.ok(Math.abs(h.score - want[i]!.score) < 1e-12));
      }
    } finally {
      set.close();
    }
  } };
  check(1);
  check(10);
  check(5000);
  check(7, '/lib/a');
  // remove a third, replace some vectors, compact: still exact, no dead rows scanned
  const gone = [...rows.keys()].filter((_, i) => i % 3 === 1);
  w.remove(gone);
  for (const p of gone) rows.delete(p);
  for (const p of [...rows.keys()].slice(0, 50)) { const v = unit(d); rows.set(p, v); await w.add(p, v); }
  await w.compact();
  const total = store.segments(m.id).reduce((s, x) => s + x.rows, 0);
  assert.is(total, rows.size);
  assert.is(readdirSync(store.dir).filter((f) => f.endsWith('.seg')).length, store.segments(m.id).length, 'replaced segment files deleted');
  check(10);
  check(3, '/lib/b');
  store.close();
});

test('nearest is exact on near-ties: many rows within the bound of each other', async () => {
  const d = 32;
  const base = unit(d);
  const rows = new Map<string, Float32Array>();
  for (let i = 0; i < 300; i++) {
    const v = base.map((x) => x + 1e-4 * gauss());
    rows.set(`/t/${i}`, v);
  }
  const { store, m } = await build('ties', rows, d, 128);
  const set = VectorSet.open(store.dir, store.segments(m.id), d);
  const q = base.map((x) => x + 1e-3 * gauss());
  assert.equal(found(store, set, set.nearest(q, 20)).map((h) => h.path), brute(q, rows, 20).map((h) => h.path));
  set.close();
  store.close();
});

test('nearest is exact across scan-chunk boundaries (segments larger than the 16,384-row window)', async () => {
  const d = 16;
  const rows = new Map<string, Float32Array>();
  for (let i = 0; i < 40_000; i++) rows.set(`/big/${String(i).padStart(6, '0')}`, unit(d));
  const { store, m } = await build('chunks', rows, d, 32_768);
  for (const resident of [false, true]) {
    const set = VectorSet.open(store.dir, store.segments(m.id), d, { resident });
    for (let t = 0; t < 3; t++) {
      const q = unit(d);
      assert.equal(found(store, set, set.nearest(q, 25)).map((h) => h.path), brute(q, rows, 25).map((h) => h.path));
    }
    set.close();
  }
  store.close();
});

test('dupes: planted near-duplicate pairs and a triple are found, no false group', async () => {
  const d = 128;
  const rows = new Map<string, Float32Array>();
  for (let i = 0; i < 400; i++) rows.set(`/p/${String(i).padStart(3, '0')}`, unit(d));
  const near = (v: Float32Array, eps: number) => {
    const w = v.map((x) => x + eps * gauss());
    const n = Math.hypot(...w);
    return w.map((x) => x / n);
  };
  rows.set('/p/dup-of-007', near(rows.get('/p/007')!, 0.01));
  rows.set('/p/dup-of-123', near(rows.get('/p/123')!, 0.02));
  rows.set('/p/dup2-of-123', near(rows.get('/p/123')!, 0.02));
  const { store, m } = await build('dupes', rows, d, 150);
  const set = VectorSet.open(store.dir, store.segments(m.id), d);
  const groups = duplicateGroups(set, 0.95).map((g) => store.pathsAt(g.rows.map((r) => set.locate(r))).sort());
  assert.equal(groups, [['/p/123', '/p/dup-of-123', '/p/dup2-of-123'], ['/p/007', '/p/dup-of-007']]);
  // a low threshold where random pairs join: the groups equal connected components of a brute-force pair scan
  const t = 0.3;
  const list = [...rows];
  const parent = list.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += list[i]![1][k]! * list[j]![1][k]!;
    if (s >= t) parent[find(j)] = find(i);
  }
  const comp = new Map<number, string[]>();
  list.forEach(([p], i) => comp.set(find(i), [...(comp.get(find(i)) ?? []), p]));
  const want = [...comp.values()].filter((g) => g.length > 1).map((g) => g.sort().join(',')).sort();
  const got = duplicateGroups(set, t).map((g) => store.pathsAt(g.rows.map((r) => set.locate(r))).sort().join(',')).sort();
  assert.ok(want.length > 3, 'random pairs join at a low threshold');
  assert.equal(got, want);
  set.close();
  store.close();
});

test.after(cleanup);
test.run();
