/**
 * Download throughput of zs against curl: the same file from the same local server, to the same folder, runs
 * alternating, medians and their ratio (zs / curl; issue 3 asks >= 0.9), and the median of the runs' paired ratios.
 *
 * - zs: headFile + downloadFile in this process (HEAD, GET resolve -> 302 -> GET CDN path, sha256 of every byte while
 *   streaming, positional writes to `.incomplete`, size and sha256 check, rename); node's start-up is not counted.
 * - curl: `curl -sS -L -o FILE URL` (same redirect, writes only), its process start counted (a few ms).
 * - Before each timed run the target is deleted and `sync` flushes the previous run's dirty pages, untimed.
 * - --server node (default): test/helpers/hub-server.ts in its own process, the file served as an LFS file.
 *   --server nginx: nginx (`apt-get install -y nginx-light`; sendfile) serving the same file at the same path, no
 *   redirect: a measurement that does not depend on our server's cost.
 * - --client-cpus / --server-cpus pin (taskset) this process (zs, and curl, which inherits it) and the server.
 * - Also prints how long sha256 of the file's bytes takes alone (in memory, 1 MiB updates).
 * Results and how to read them (the machine's neighbours move them a lot): docs/benchmarks.md (section 3).
 *
 *   flock /tmp/zs-bench.lock node --import tsx scripts/bench-download.ts [--mb 500] [--runs 7] [--file /tmp/zs-bench/big.bin]
 *     [--out DIR (default next to --file)] [--throttle BYTES_PER_S (node server only)] [--server node|nginx]
 *     [--client-cpus LIST] [--server-cpus LIST]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, writeSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { downloadFile } from '../src/models/download.js';
import { headFile } from '../src/models/hub.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : dflt; };
const mb = Number(opt('--mb', '500'));
const runs = Number(opt('--runs', '7'));
const file = opt('--file', '/tmp/zs-bench/big.bin');
const outDir = opt('--out', join(dirname(file), 'out'));
const throttle = opt('--throttle', '0');
const serverKind = opt('--server', 'node');
const clientCpus = opt('--client-cpus', '');
const serverCpus = opt('--server-cpus', '');

function makeFile(): void {
  if (existsSync(file) && statSync(file).size === mb * 1e6) return;
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  const block = randomBytes(4 << 20);
  for (let left = mb * 1e6; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(left, block.length));
  closeSync(fd);
}

async function sha256(f: string): Promise<{ hex: string; secs: number }> {
  const h = createHash('sha256');
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(f, { highWaterMark: 1 << 20 })) chunks.push(c as Buffer);
  const t = process.hrtime.bigint();
  for (const c of chunks) h.update(c);
  const hex = h.digest('hex');
  return { hex, secs: Number(process.hrtime.bigint() - t) / 1e9 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pinned = (cmd: string, argv: string[], cpus: string) => (cpus ? ['taskset', ['-c', cpus, cmd, ...argv]] : [cmd, argv]) as [string, string[]];

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts the server; resolves with the file's URL and a stop function. */
async function startServer(): Promise<{ url: string; stop: () => void }> {
  const path = '/bench/big/resolve/main/onnx/big.onnx';
  if (serverKind === 'nginx') {
    const dir = join(outDir, 'nginx');
    mkdirSync(join(dir, 'onnx'), { recursive: true });
    rmSync(join(dir, 'onnx', 'big.onnx'), { force: true });
    symlinkSync(file, join(dir, 'onnx', 'big.onnx'));
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `daemon off; worker_processes 1; user root; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir}; scgi_temp_path ${dir}; types {} default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; location /bench/big/resolve/main/onnx/ { alias ${dir}/onnx/; } } }\n`);
    const child = spawn(...pinned('nginx', ['-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], serverCpus), { stdio: 'inherit' });
    for (let i = 0; i < 100 && spawnSync('curl', ['-sf', '-o', '/dev/null', '-r', '0-0', `http://127.0.0.1:${port}${path}`]).status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    return { url: `http://127.0.0.1:${port}${path}`, stop: () => child.kill() };
  }
  const argv = ['--import', 'tsx', join(ROOT, 'test/helpers/hub-server.ts'), '--file', `bench/big:onnx/big.onnx=${file}`, ...(throttle !== '0' ? ['--throttle', throttle] : [])];
  const child = spawn(...pinned(process.execPath, argv, serverCpus), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise<string>((res) => createInterface({ input: child.stdout! }).once('line', res));
  return { url: `${base}${path}`, stop: () => child.kill() };
}

makeFile();
mkdirSync(outDir, { recursive: true });
if (clientCpus && spawnSync('taskset', ['-a', '-p', '-c', clientCpus, String(process.pid)]).status !== 0) throw new Error('taskset failed');
const { hex: digest, secs: shaSecs } = await sha256(file);
const size = statSync(file).size;
const server = await startServer();
const url = server.url;
const curlOut = join(outDir, 'curl.bin');
const zsOut = join(outDir, 'zs.bin');
const curl: number[] = [];
const zs: number[] = [];
const ctx = { model: 'bench/big', repo: 'bench/big', revision: 'main', path: 'onnx/big.onnx', endpoint: new URL(url).origin, hasToken: false };
function clean(f: string): void {
  rmSync(f, { force: true });
  spawnSync('sync');
}
function runCurl(): number {
  clean(curlOut);
  const t = process.hrtime.bigint();
  const c = spawnSync('curl', ['-sS', '-L', '-o', curlOut, url]);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (c.status !== 0 || statSync(curlOut).size !== size) throw new Error(`curl failed: ${c.stderr}`);
  rmSync(curlOut, { force: true });
  return size / 1e6 / secs;
}
async function runZs(): Promise<number> {
  clean(zsOut);
  const t = process.hrtime.bigint();
  // a real pull reads the file's identity with HEAD first: included (nginx publishes no sha256: the known one is used)
  const remote = await headFile(url, ctx);
  const d = await downloadFile(url, zsOut, { size: remote.size, sha256: remote.sha256 ?? digest }, ctx);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (d.sha256 !== digest || statSync(zsOut).size !== size) throw new Error('zs download differs');
  rmSync(zsOut, { force: true });
  return size / 1e6 / secs;
}
try {
  await runZs(); // warm-up (page cache of the source, JIT); not counted
  runCurl();
  for (let r = 0; r < runs; r++) {
    // alternate the order so neither tool always runs on a hotter or cooler machine
    if (r % 2 === 0) { curl.push(runCurl()); zs.push(await runZs()); } else { zs.push(await runZs()); curl.push(runCurl()); }
    process.stdout.write(`run ${r + 1}: curl ${curl.at(-1)!.toFixed(0)} MB/s  zs ${zs.at(-1)!.toFixed(0)} MB/s\n`);
  }
} finally {
  server.stop();
}
const ratio = median(zs) / median(curl);
const paired = median(zs.map((z, i) => z / curl[i]!)); // each run's pair ran back to back: steadier when the machine drifts
const pins = clientCpus || serverCpus ? `, client on cpus ${clientCpus || 'any'}, server on cpus ${serverCpus || 'any'}` : '';
const rate = throttle !== '0' ? `, throttled to ${Number(throttle) / 1e6} MB/s` : '';
process.stdout.write(`sha256 of the ${(size / 1e6).toFixed(0)} MB alone: ${shaSecs.toFixed(2)} s (${(size / 1e6 / shaSecs).toFixed(0)} MB/s)\n`);
process.stdout.write(`${serverKind} server${rate}${pins}; file ${(size / 1e6).toFixed(0)} MB to ${outDir}, ${runs} runs: curl median ${median(curl).toFixed(0)} MB/s, zs median ${median(zs).toFixed(0)} MB/s, ratio zs/curl ${ratio.toFixed(2)} (median of paired ratios ${paired.toFixed(2)})\n`);
