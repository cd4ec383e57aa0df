/**
 * Zero-shot against few-shot heads on benchmark datasets: runs `zs bench` (the built CLI, as a user would) on each
 * dataset and prints one summary table; every dataset's full report (report.md, results.json, chart.svg) goes to
 * OUT/<name>/.
 *
 *   npx tsc -p .
 *   node --import tsx scripts/bench-fewshot.ts [--model clip-vit-b32] [--out bench-reports] [--seeds 3]
 *     [--shots 1,2,4,8,16,all] [--fashion-mnist TRAIN_PER_CLASS:TEST_PER_CLASS] [--dataset NAME=DIR[:TEMPLATES]]...
 *
 * Datasets:
 * - Fashion-MNIST (default 100 training and 50 test images per class; `--fashion-mnist 0` leaves it out), exported
 *   to folders by scripts/tools/fashion-mnist.py from Debian's dataset-fashion-mnist package
 *   (`apt-get install dataset-fashion-mnist python3-numpy python3-pil`), prompt words from a label map
 *   (`T-shirt` -> `t-shirt`, `Ankle boot` -> `ankle boot`) and CLIP's ImageNet templates;
 * - any folder-per-class dataset given with `--dataset`, e.g. CIFAR-10 exported to `cifar10/{train,test}/<class>/`:
 *   `--dataset cifar10=/data/cifar10:cifar10` (the third part names the template set, default imagenet).
 * With the committed random-weight fixture (`--model test/fixtures/tiny-random-clip`) the accuracies are
 * meaningless; with a real CLIP they answer "how many labels is zero-shot worth" for each dataset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const FASHION_TOOL = join(ROOT, 'scripts', 'tools', 'fashion-mnist.py');

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : fallback; };
const model = opt('model', 'clip-vit-b32');
const out = resolve(opt('out', 'bench-reports'));
const seeds = opt('seeds', '3');
const shots = opt('shots', '1,2,4,8,16,all');

interface Dataset { name: string; dir: string; templates: string; labelMap?: string }

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

/** Fashion-MNIST as train/ and test/ folders (made once under OUT/data), with its label map. */
function fashionMnist(spec: string): Dataset | undefined {
  const [train, test] = spec.split(':').map(Number);
  if (!train) return undefined;
  const dir = join(out, 'data', `fashion-mnist-${train}-${test ?? 50}`);
  if (!existsSync(join(dir, 'test'))) {
    run('/usr/bin/python3', [FASHION_TOOL, 'images', join(dir, 'train'), '--split', 'train', '--per-class', String(train)]);
    run('/usr/bin/python3', [FASHION_TOOL, 'images', join(dir, 'test'), '--split', 'test', '--per-class', String(test ?? 50)]);
  }
  const labelMap = join(dir, 'label-map.json');
  writeFileSync(labelMap, JSON.stringify({ 'T-shirt': 't-shirt', 'Ankle boot': 'ankle boot', Trouser: 'trouser', Pullover: 'pullover',
    Dress: 'dress', Coat: 'coat', Sandal: 'sandal', Shirt: 'shirt', Sneaker: 'sneaker', Bag: 'bag' }));
  return { name: 'fashion-mnist', dir, templates: 'imagenet', labelMap };
}

const datasets: Dataset[] = [];
const fm = fashionMnist(opt('fashion-mnist', '100:50'));
if (fm) datasets.push(fm);
argv.forEach((a, i) => {
  if (a !== '--dataset') return;
  const m = /^([^=]+)=([^:]+)(?::(.+))?$/.exec(argv[i + 1] ?? '');
  if (!m) throw new Error(`--dataset wants NAME=DIR[:TEMPLATES], got ${argv[i + 1]}`);
  datasets.push({ name: m[1]!, dir: resolve(m[2]!), templates: m[3] ?? 'imagenet' });
});

interface Results {
  zeroShot: Array<{ name: string; top1: number }>;
  heads: Array<{ name: string; shots: Array<{ shots: number | 'all'; top1: { mean: number } }> }>;
  headline: string;
  timings: { totalS: number };
}

const rows: string[] = [];
for (const ds of datasets) {
  const dest = join(out, ds.name);
  mkdirSync(dest, { recursive: true });
  const t = performance.now();
  run(process.execPath, [BIN, 'bench', ds.dir, '--model', model, '--seeds', seeds, '--shots', shots, '--templates', ds.templates,
    ...(ds.labelMap ? ['--label-map', ds.labelMap] : []), '--out', dest, '--force', '--quiet']);
  const wall = (performance.now() - t) / 1000;
  const r = JSON.parse(readFileSync(join(dest, 'results.json'), 'utf8')) as Results;
  const zs = r.zeroShot.at(-1)!;
  const cells = r.heads.map((h) => `${h.name}: ${h.shots.map((s) => `${s.shots}=${(100 * s.top1.mean).toFixed(1)}`).join(' ')}`);
  rows.push(`| ${ds.name} | ${(100 * zs.top1).toFixed(1)} | ${cells.join('<br>')} | ${r.headline} | ${wall.toFixed(1)} s |`);
}
console.log(`Model: ${model}; seeds ${seeds}; shots ${shots}. Top-1 % (mean over seeds); reports in ${out}/<dataset>/.\n`);
console.log('| dataset | zero-shot top-1 | heads (shots=top-1) | headline | wall |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
