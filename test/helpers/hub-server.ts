/**
 * A real HTTP server on 127.0.0.1 that serves model folders in the Hugging Face hub URL layout
 * `/{org}/{name}/resolve/{revision}/{path}`, answering like the hub: `.onnx` files are "LFS" (302 to a CDN path,
 * with X-Linked-Etag = sha256 and X-Linked-Size), other files answer directly with ETag = git blob sha1. The CDN
 * honours Range and If-Range (206/200). Knobs cut the connection midway, force statuses, corrupt bytes, throttle
 * and demand a token. Run directly to serve the fixtures: `node --import tsx test/helpers/hub-server.ts [--port N]
 * [--throttle BYTES_PER_S] [--cut-after BYTES] [--file org/name:path=/abs/file ...] [--log]`.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { pipeline } from 'node:stream';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TEST_COMMIT = '0123456789abcdef0123456789abcdef01234567';

interface ServedFile {
  abs: string;
  size: number;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
}

export interface Knobs {
  /** Cut the connection after this many body bytes of a content GET, `times` times (then serve normally). */
  cut?: { afterBytes: number; times: number; path?: string };
  /** Force an HTTP status for requests of a file path ('*': every file). */
  status: Map<string, number>;
  /** File paths whose served bytes get one byte flipped (the published sha256/etag stays the real one). */
  corrupt: Set<string>;
  /** Bytes per second for content bodies (0: unthrottled). */
  throttle: number;
  /** Send content bodies without Content-Length (chunked transfer coding), as some mirrors do. */
  chunked?: boolean;
  /** When set, requests need `Authorization: Bearer <token>` (a gated repo); others get 401. */
  token?: string;
  /** When set, LFS redirects are absolute URLs on this base (another host name, as the hub's CDN is). */
  cdnBase?: string;
}

export interface LoggedRequest {
  method: string;
  url: string;
  range?: string;
  ifRange?: string;
  auth?: string;
  status: number;
}

export interface HubServer {
  url: string;
  knobs: Knobs;
  log: LoggedRequest[];
  /** Identity of a served file (for pins in tests). */
  file(repo: string, path: string): ServedFile;
  addRepo(repo: string, dir: string): void;
  addFile(repo: string, path: string, abs: string, lfs?: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

function describeFile(abs: string, lfs: boolean): ServedFile {
  const size = statSync(abs).size;
  const sha = createHash('sha256');
  const git = createHash('sha1').update(`blob ${size}\0`);
  // files here are small fixtures or one bench file: hash synchronously in 8 MB pieces
  const fd = openSync(abs, 'r');
  const buf = Buffer.allocUnsafe(8 << 20);
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
    sha.update(buf.subarray(0, n));
    git.update(buf.subarray(0, n));
  }
  closeSync(fd);
  return { abs, size, sha256: sha.digest('hex'), gitSha1: git.digest('hex'), lfs };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)).split('\\').join('/'));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startHubServer(repos: Record<string, string> = {}, opts: { port?: number; onLog?: (l: LoggedRequest) => void } = {}): Promise<HubServer> {
  const files = new Map<string, ServedFile>(); // `${repo}/${path}` -> file
  const bySha = new Map<string, { key: string; f: ServedFile }>();
  const knobs: Knobs = { status: new Map(), corrupt: new Set(), throttle: 0 };
  const log: LoggedRequest[] = [];

  const addFile = (repo: string, path: string, abs: string, lfs = path.endsWith('.onnx')) => {
    const f = describeFile(abs, lfs);
    files.set(`${repo}/${path}`, f);
    bySha.set(f.sha256, { key: `${repo}/${path}`, f });
  };
  const addRepo = (repo: string, dir: string) => { for (const p of walk(dir)) addFile(repo, p, join(dir, p)); };
  for (const [repo, dir] of Object.entries(repos)) addRepo(repo, dir);

  async function sendBody(req: IncomingMessage, res: ServerResponse, f: ServedFile, path: string, etag: string): Promise<void> {
    let start = 0;
    let end = f.size - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const rangeOk = range && (!ifRange || ifRange === `"${etag}"`);
    const chunked = knobs.chunked && req.method !== 'HEAD';
    if (range && rangeOk) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= f.size) {
        res.writeHead(416, { 'content-range': `bytes */${f.size}` }).end();
        return;
      }
      res.writeHead(206, { ...(chunked ? {} : { 'content-length': end - start + 1 }), 'content-range': `bytes ${start}-${end}/${f.size}`, 'accept-ranges': 'bytes', etag: `"${etag}"` });
    } else {
      res.writeHead(200, { ...(chunked ? {} : { 'content-length': f.size }), 'accept-ranges': 'bytes', etag: `"${etag}"` });
    }
    if (req.method === 'HEAD') { res.end(); return; }
    const cut = knobs.cut && knobs.cut.times > 0 && (!knobs.cut.path || knobs.cut.path === path) ? knobs.cut : undefined;
    if (cut) cut.times--;
    const corrupt = knobs.corrupt.has(path);
    if (!cut && !corrupt && !knobs.throttle) {
      // the fast path (what benchmarks measure): 1 MiB reads piped to the socket, no per-chunk JS; a client that
      // hangs up early closes the file too
      pipeline(createReadStream(f.abs, { start, end, highWaterMark: 1 << 20 }), res, () => {});
      return;
    }
    let sent = 0;
    const t0 = Date.now();
    const flipAt = Math.floor(f.size / 2);
    for await (const chunk of createReadStream(f.abs, { start, end, highWaterMark: 64 << 10 })) {
      let c = chunk as Buffer;
      const at = start + sent;
      if (corrupt && flipAt >= at && flipAt < at + c.length) {
        c = Buffer.from(c);
        c[flipAt - at] ^= 0xff;
      }
      if (cut && sent + c.length > cut.afterBytes) {
        const head = c.subarray(0, Math.max(0, cut.afterBytes - sent));
        if (head.length) await new Promise<void>((r) => res.write(head, () => r()));
        res.socket?.destroy();
        return;
      }
      if (!res.write(c)) await once(res, 'drain');
      sent += c.length;
      if (knobs.throttle) {
        const ahead = t0 + (sent / knobs.throttle) * 1000 - Date.now(); // ms ahead of the allowed rate
        if (ahead > 0) await sleep(ahead);
      }
      if (res.destroyed) return;
    }
    res.end();
  }

  const server = createServer((req, res) => {
    const entry: LoggedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      auth: req.headers.authorization,
      status: 0,
    };
    log.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    res.on('close', () => { entry.status ||= res.statusCode; opts.onLog?.(entry); });
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const hit = bySha.get(cdn[1]!);
      if (!hit) { res.writeHead(404).end(); return; }
      const path = hit.key.split('/').slice(2).join('/');
      await sendBody(req, res, hit.f, path, `cdn-${hit.f.sha256.slice(0, 16)}`);
      return;
    }
    const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m) { res.writeHead(404).end(); return; }
    const repo = `${m[1]}/${m[2]}`;
    const revision = decodeURIComponent(m[3]!);
    const path = m[4]!.split('/').map(decodeURIComponent).join('/');
    if (knobs.token && req.headers.authorization !== `Bearer ${knobs.token}`) {
      res.writeHead(401, { 'x-error-message': 'Access to this model is restricted' }).end();
      return;
    }
    const forced = knobs.status.get(path) ?? knobs.status.get('*');
    if (forced) { res.writeHead(forced).end(); return; }
    if (![...files.keys()].some((k) => k.startsWith(`${repo}/`))) {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' }).end();
      return;
    }
    if (revision !== 'main' && revision !== TEST_COMMIT) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end();
      return;
    }
    const f = files.get(`${repo}/${path}`);
    if (!f) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': TEST_COMMIT }).end();
      return;
    }
    if (f.lfs) {
      res.writeHead(302, {
        location: `${knobs.cdnBase ?? ''}/cdn/${f.sha256}`,
        'x-linked-etag': `"${f.sha256}"`,
        'x-linked-size': String(f.size),
        'x-repo-commit': TEST_COMMIT,
        etag: `"${f.sha256}"`,
        'content-length': 0,
      }).end();
      return;
    }
    res.setHeader('x-repo-commit', TEST_COMMIT);
    await sendBody(req, res, f, path, f.gitSha1);
  }

  server.listen(opts.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    knobs,
    log,
    file: (repo, path) => {
      const f = files.get(`${repo}/${path}`);
      if (!f) throw new Error(`not served: ${repo}/${path}`);
      return f;
    },
    addRepo,
    addFile,
    reset() {
      knobs.cut = undefined;
      knobs.status.clear();
      knobs.corrupt.clear();
      knobs.throttle = 0;
      knobs.chunked = undefined;
      knobs.token = undefined;
      knobs.cdnBase = undefined;
      log.length = 0;
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/**
 * Runs the built `zs` without blocking this process (the server lives here, so spawnSync would deadlock).
 * ZS_OFFLINE is cleared unless `env` sets it; pass ZS_HOME and HF_ENDPOINT in `env`.
 */
export function zsAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ZS_OFFLINE: '', HF_HUB_OFFLINE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { FIXTURES } = await import('../_helpers.js');
  const args = process.argv.slice(2);
  const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const hub = await startHubServer({
    'zs-test/tiny-random-clip': join(FIXTURES, 'tiny-random-clip'),
    'zs-test/tiny-random-vit': join(FIXTURES, 'tiny-random-vit'),
  }, {
    port: Number(opt('--port') ?? 0),
    onLog: args.includes('--log') ? (l) => process.stderr.write(`hub: ${l.method} ${l.url} ${l.status}${l.range ? ` range=${l.range}` : ''}${l.ifRange ? ` if-range=${l.ifRange}` : ''}\n`) : undefined,
  });
  args.forEach((a, i) => {
    if (a !== '--file') return;
    const m = /^([^:]+):([^=]+)=(.+)$/.exec(args[i + 1] ?? '');
    if (m) hub.addFile(m[1]!, m[2]!, m[3]!, true);
  });
  if (opt('--throttle')) hub.knobs.throttle = Number(opt('--throttle'));
  if (opt('--cut-after')) hub.knobs.cut = { afterBytes: Number(opt('--cut-after')), times: 1 };
  process.stdout.write(`${hub.url}\n`);
}
