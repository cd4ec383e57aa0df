/**
 * Linear-probe benchmark: zs's logistic regression against scikit-learn's (the reference recipe, run by
 * scripts/tools/sklearn-probe.py) on the same JSONL features, in the same run, one after the other.
 *
 *   /usr/bin/python3 scripts/tools/fashion-mnist.py features /tmp/fm-train.jsonl --split train
 *   /usr/bin/python3 scripts/tools/fashion-mnist.py features /tmp/fm-test.jsonl --split test
 *   /usr/bin/python3 scripts/tools/fashion-mnist.py features /tmp/fm-train-1k.jsonl --split train --per-class 100
 *   npx tsc -p .
 *   flock /tmp/zs-bench.lock node --import tsx scripts/bench-probe.ts \
 *     --small /tmp/fm-train-1k.jsonl --train /tmp/fm-train.jsonl --test /tmp/fm-test.jsonl --out /tmp/bench-probe.json
 *
 * Options: --C (default 1), --repeat N (sklearn then zs, N times per training set; default 1),
 * --variants 'maxIter=300;precision=f64' (extra zs runs with those FitOptions, ';'-separated; default none),
 * --auto no (skip the C auto run on --train).
 *
 * The zs side runs in a child `node` process on the compiled dist/ build, as the zs CLI does: under tsx (this
 * script's own loader) every worker thread of the loss engine would load tsx as well, which triples its start-up.
 * So build first; the script refuses a dist/ older than src/heads. For each training set: sklearn-probe.py
 * (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, its fastest BLAS kernel), then zs's fitLogReg at the same C with
 * the default settings (what `LinearProbe.fit` and `zs probe fit --C 1` do), timed from call to return (engine
 * and worker start, data copy and preconditioner included; reading the JSONL excluded on both sides). zs's
 * objective is recomputed in float64 (mean log-loss + ||W||^2/(2Cn), the quantity the tool prints) outside the
 * timing. "to sklearn's objective" is when the run's own objective (float32 engine) first fell to sklearn's.
 * Then C auto (`LinearProbe.fit` with C 'auto' and the CLI's defaults) on --train. Prints a Markdown table;
 * --out writes every number as JSON. Run it alone (flock) and compare only numbers from the same run.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const SKLEARN = fileURLToPath(new URL('./tools/sklearn-probe.py', import.meta.url));
const DIST = new URL('../dist/', import.meta.url);
const SRC_HEADS = new URL('../src/heads/', import.meta.url);

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

interface Sk { fit_s: number; n_iter: number; objective: number; train_acc: number; test_acc: number }

function sklearn(train: string, test: string, C: number): Sk {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync('/usr/bin/python3', [SKLEARN, train, test, '--C', String(C)], { env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`sklearn-probe.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Sk;
}

/** Job for the driver: one training set, its runs, and whether to run C auto. */
interface Job { dist: string; train: string; test: string; C: number; target: number | null; runs: Array<{ label: string; options: Record<string, unknown> }>; auto: boolean }

interface ZsRun { label: string; fit_s: number; iterations: number; evaluations: number; stop: string; converged: boolean;
  objective: number; gradNorm: number; noise: number | null; train_acc: number; test_acc: number; to_sklearn_objective_s: number | null;
  preconditioner: string; warning?: string }

interface AutoRun { seconds: number; sweep_s: number; fits: number; C: number; valAccuracy: number; test_acc: number;
  refitIterations: number; converged: boolean; candidates: Array<{ C: number; valAccuracy: number }> }

/** Plain JavaScript run by `node --input-type=module` (no tsx) on dist/: reads the data, fits, prints one JSON line. */
const DRIVER = `
const job = JSON.parse(process.argv[1]);
const { readFeatures } = await import(job.dist + 'data/features.js');
const { fitLogReg } = await import(job.dist + 'learn/fit.js');
const { argmaxRows, objective } = await import(job.dist + 'learn/logreg.js');
const { foldStandardization } = await import(job.dist + 'learn/standardize.js');
const { LinearProbe } = await import(job.dist + 'heads/probe.js');
async function load(file, classes) {
  const set = await readFeatures(file, { requireLabels: true });
  const names = classes ?? [...new Set(set.labels)].sort(); // sklearn's classes_ order
  const index = new Map(names.map((c, i) => [c, i]));
  return { data: { x: set.data, labels: Int32Array.from(set.labels, (l) => index.get(l)), n: set.dims[0], d: set.dims[1], K: names.length }, classes: names };
}
function accuracy(data, W, b) {
  const pred = argmaxRows(data.x, data.n, data.d, W, b, data.K);
  let ok = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.labels[i]) ok++;
  return ok / data.n;
}
const { data: train, classes } = await load(job.train);
const { data: test } = await load(job.test, classes);
const out = { runs: [] };
for (const run of job.runs) {
  let reached = null;
  const t0 = performance.now();
  const r = await fitLogReg(train, { C: job.C, ...run.options,
    onIteration: (i) => { if (reached === null && job.target !== null && i.objective <= job.target) reached = (performance.now() - t0) / 1000; } });
  const f = foldStandardization(r.W, r.b, train.K, train.d, r.standardization);
  out.runs.push({ label: run.label, fit_s: r.seconds, iterations: r.iterations, evaluations: r.evaluations, stop: r.stop,
    converged: r.converged, objective: objective(train, f.W, f.b, job.C), gradNorm: r.gradNorm, noise: r.noise ?? null, train_acc: accuracy(train, f.W, f.b),
    test_acc: accuracy(test, f.W, f.b), to_sklearn_objective_s: reached, preconditioner: r.preconditioner, ...(r.warning ? { warning: r.warning } : {}) });
}
if (job.auto) {
  const t0 = performance.now();
  const probe = await LinearProbe.fit(train.x, train.labels, { classes, model: { id: 'bench', fingerprint: 'bench' }, C: 'auto' });
  const seconds = (performance.now() - t0) / 1000;
  const cs = probe.training.cSearch;
  const pred = probe.predict(test.x);
  let ok = 0;
  for (let i = 0; i < test.n; i++) if (pred[i] === test.labels[i]) ok++;
  out.auto = { seconds, sweep_s: cs.seconds, fits: cs.fits, C: probe.C, valAccuracy: cs.valAccuracy, test_acc: ok / test.n,
    refitIterations: probe.training.iterations, converged: probe.training.converged, candidates: cs.candidates };
}
console.log(JSON.stringify(out));
`;

function zs(job: Omit<Job, 'dist'>): { runs: ZsRun[]; auto?: AutoRun } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', DRIVER, JSON.stringify({ ...job, dist: DIST.href })],
    { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`zs driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { runs: ZsRun[]; auto?: AutoRun };
}

/** Refuses a dist/ build older than the sources it would benchmark. */
function checkBuild(): void {
  const built = statSync(new URL('learn/fit.js', DIST), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const stale = readdirSync(SRC_HEADS).filter((f) => statSync(new URL(f, SRC_HEADS)).mtimeMs > built);
  if (built === 0 || stale.length > 0) {
    throw new Error(`${fileURLToPath(DIST)} is ${built === 0 ? 'missing' : `older than src/heads/${stale[0]}`}: run npx tsc -p . first`);
  }
}

function variants(spec: string | undefined): Array<{ label: string; options: Record<string, unknown> }> {
  return (spec ?? '').split(';').filter(Boolean).map((v) => {
    const options = Object.fromEntries(v.split(',').map((kv) => {
      const [k, val] = kv.split('=') as [string, string];
      return [k, Number.isNaN(Number(val)) ? val : Number(val)];
    }));
    return { label: `zs ${v}`, options };
  });
}

function main(): void {
  checkBuild();
  const C = Number(arg('C', '1'));
  const testFile = arg('test')!;
  const repeat = Number(arg('repeat', '1'));
  const sets = [arg('small'), arg('train')].filter((f): f is string => !!f);
  const runs = [{ label: 'zs (defaults)', options: {} }, ...variants(arg('variants'))];
  const report: Record<string, unknown> = { machine: `${cpus().length} x ${cpus()[0]?.model}`, node: process.version, C, sets: [] };
  const rows: string[] = [];
  for (const file of sets) {
    for (let rep = 1; rep <= repeat; rep++) {
      const sk = sklearn(file, testFile, C);
      const z = zs({ train: file, test: testFile, C, target: sk.objective, runs, auto: false });
      (report.sets as unknown[]).push({ file, repeat: rep, sklearn: sk, zs: z.runs });
      rows.push(`| ${file} #${rep} | sklearn 1.2 lbfgs | ${sk.fit_s.toFixed(2)} | | ${sk.n_iter} | ${sk.objective.toFixed(6)} | ${(100 * sk.test_acc).toFixed(2)} | |`);
      for (const r of z.runs) {
        rows.push(`| ${file} #${rep} | ${r.label} | ${r.fit_s.toFixed(2)} | ${(r.fit_s / sk.fit_s).toFixed(3)} | ${r.iterations} (${r.stop}) | ${r.objective.toFixed(6)} | ` +
          `${(100 * r.test_acc).toFixed(2)} | ${r.to_sklearn_objective_s === null ? 'not reached' : r.to_sklearn_objective_s.toFixed(2) + ' s'} |`);
      }
      process.stderr.write(`done ${file} #${rep}\n`);
    }
  }
  let auto = '';
  const train = arg('train');
  if (train && arg('auto', 'yes') !== 'no') {
    const a = zs({ train, test: testFile, C, target: null, runs: [], auto: true }).auto!;
    report.auto = a;
    auto = `\nC auto on ${train}: ${a.seconds.toFixed(1)} s in all (sweep ${a.sweep_s.toFixed(1)} s, ${a.fits} fits, then the refit: ` +
      `${a.refitIterations} iterations${a.converged ? '' : ', not converged'}), C = ${a.C.toPrecision(3)}, validation ${(100 * a.valAccuracy).toFixed(2)}%, ` +
      `test ${(100 * a.test_acc).toFixed(2)}%\n`;
  }
  console.log(`| training set | solver | fit s | zs/sklearn | iterations (stop) | objective | test % | to sklearn's objective |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  for (const r of rows) console.log(r);
  console.log(auto);
  const out = arg('out');
  if (out) writeFileSync(out, JSON.stringify(report, null, 1));
}

main();
