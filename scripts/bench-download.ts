/**
 * Download throughput of zs against curl, same file, same local server (test/helpers/hub-server.ts in its own
 * process, serving a big file as an LFS file: resolve -> 302 -> CDN path). zs streams, hashes (sha256), fsyncs and
 * renames; curl only writes. Prints MB/s for each run and the ratio of medians (zs / curl).
 *
 *   flock /tmp/zs-bench.lock node --import tsx scripts/bench-download.ts [--mb 500] [--runs 5] [--file /tmp/zs-bench/big.bin]
 *     [--out DIR (where both write; default next to --file)] [--throttle BYTES_PER_S (server rate; default unthrottled)]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, writeSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { downloadFile } from '../src/models/download.js';
import { headFile } from '../src/models/hub.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : dflt; };
const mb = Number(opt('--mb', '500'));
const runs = Number(opt('--runs', '5'));
const file = opt('--file', '/tmp/zs-bench/big.bin');
const outDir = opt('--out', join(dirname(file), 'out'));
const throttle = opt('--throttle', '0');

function makeFile(): void {
  if (existsSync(file) && statSync(file).size === mb * 1e6) return;
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  const block = randomBytes(4 << 20);
  for (let left = mb * 1e6; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(left, block.length));
  closeSync(fd);
}

async function sha256(f: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(f, { highWaterMark: 8 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

makeFile();
mkdirSync(outDir, { recursive: true });
const digest = await sha256(file);
const size = statSync(file).size;
const server = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/hub-server.ts'), '--file', `bench/big:onnx/big.onnx=${file}`, ...(throttle !== '0' ? ['--throttle', throttle] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise<string>((res) => createInterface({ input: server.stdout! }).once('line', res));
const url = `${base}/bench/big/resolve/main/onnx/big.onnx`;
const curlOut = join(outDir, 'curl.bin');
const zsOut = join(outDir, 'zs.bin');
const curl: number[] = [];
const zs: number[] = [];
const ctx = { model: 'bench/big', repo: 'bench/big', revision: 'main', path: 'onnx/big.onnx', endpoint: base, hasToken: false };
function runCurl(): number {
  rmSync(curlOut, { force: true });
  const t = process.hrtime.bigint();
  const c = spawnSync('curl', ['-sS', '-L', '-o', curlOut, url]);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (c.status !== 0 || statSync(curlOut).size !== size) throw new Error(`curl failed: ${c.stderr}`);
  rmSync(curlOut, { force: true });
  return size / 1e6 / secs;
}
async function runZs(): Promise<number> {
  rmSync(zsOut, { force: true });
  const t = process.hrtime.bigint();
  // a real pull reads the file's identity with HEAD first: included
  const remote = await headFile(url, ctx);
  const d = await downloadFile(url, zsOut, { size: remote.size, sha256: remote.sha256 }, ctx);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (d.sha256 !== digest || statSync(zsOut).size !== size) throw new Error('zs download differs');
  rmSync(zsOut, { force: true });
  return size / 1e6 / secs;
}
try {
  await runZs(); // warm-up (page cache of the source, server JIT); not counted
  runCurl();
  for (let r = 0; r < runs; r++) {
    // alternate the order so neither tool always runs on a hotter or cooler machine
    if (r % 2 === 0) { curl.push(runCurl()); zs.push(await runZs()); } else { zs.push(await runZs()); curl.push(runCurl()); }
    process.stdout.write(`run ${r + 1}: curl ${curl.at(-1)!.toFixed(0)} MB/s  zs ${zs.at(-1)!.toFixed(0)} MB/s\n`);
  }
} finally {
  server.kill();
}
const ratio = median(zs) / median(curl);
process.stdout.write(`file ${(size / 1e6).toFixed(0)} MB to ${outDir}${throttle !== '0' ? `, server throttled to ${Number(throttle) / 1e6} MB/s` : ''}, ${runs} runs: curl median ${median(curl).toFixed(0)} MB/s, zs median ${median(zs).toFixed(0)} MB/s, ratio zs/curl ${ratio.toFixed(2)}\n`);
