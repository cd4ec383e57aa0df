/**
 * HTTP transport for model downloads: a plain request for HEADs (node:http, keep-alive agents) and `openGet`, a GET
 * whose body the socket reads straight into a ring of 1 MiB blocks. Why not node:http or undici for bodies: both
 * copy every socket read into a fresh Buffer pushed through a stream, which measured as much CPU as hashing the
 * bytes and held downloads to ~0.5 of curl's rate on a local server (docs/benchmarks.md, downloads); reading into
 * reused blocks, hashing one while the next is written, brings zs to curl's rate.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, isIP, type OnReadOpts } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { header } from './headers.js';
export type AnyAgent = HttpAgent | HttpsAgent;

export interface HttpOptions {
  headers?: Record<string, string>;
  /** Keep-alive agents for HEAD requests (file bodies come over openGet's own connections). */
  agent?: { http: HttpAgent; https: HttpsAgent };
  /** Milliseconds without any socket activity before the request fails. */
  idleTimeoutMs?: number;
}

/** One HTTP request (no redirects followed). Resolves with the response; the caller consumes or discards the body. */
export function httpGet(method: 'GET' | 'HEAD', url: string, opts: HttpOptions = {}): Promise<IncomingMessage> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const send = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, {
      method,
      headers: { 'user-agent': 'zs (model download)', 'accept-encoding': 'identity', ...opts.headers },
      agent: opts.agent ? (https ? opts.agent.https : opts.agent.http) : undefined,
    });
    req.setTimeout(opts.idleTimeoutMs ?? 60_000, () => req.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

/** A GET whose body is read in big blocks (see openGet). */
export interface BodyResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body in order, in blocks of up to BLOCK bytes, each valid until the next is asked for; throws if the connection breaks first. */
  blocks(): AsyncGenerator<Buffer>;
  /** Closes the connection (when the body is not wanted). */
  close(): void;
}

/** Bytes per receive block: the socket reads straight into it, and the caller hashes and writes it whole. */
export const BLOCK = 1 << 20;
/** Blocks per GET: the socket fills one while the caller holds another; when none is free the socket pauses. */
const RING = 8;
/** A block with less room left than this is handed over rather than filled by small reads. */
const MIN_READ = 64 << 10;

/**
 * A GET for a file body, on a connection of its own (HTTP/1.1, `Connection: close`, no redirects followed).
 * node:http copies each 64 KiB the socket reads into a fresh Buffer and emits it through a stream, which costs as
 * much CPU as hashing it; here the socket reads straight into a ring of 1 MiB blocks (net's `onread`). The body
 * ends at Content-Length, at the last chunk of a chunked body, or when the server closes.
 */
export function openGet(url: string, opts: HttpOptions = {}): Promise<BodyResponse> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const fields = { 'user-agent': 'zs (model download)', 'accept-encoding': 'identity', ...opts.headers, host: u.host, connection: 'close' };
  if (Object.entries(fields).some(([k, v]) => /[\r\n]/.test(k + v))) {
    return Promise.reject(Object.assign(new Error('a request header holds a line break'), { code: 'ERR_INVALID_CHAR' }));
  }
  const lines = Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const free: Buffer[] = [];
    let made = 1; // blocks allocated (lazily: a redirect or a small file needs one)
    let cur: Buffer = Buffer.allocUnsafe(BLOCK); // the block the socket reads into
    let fill = 0; // bytes of `cur` in use
    const ready: { block: Buffer; n: number }[] = []; // filled blocks waiting for the caller
    let res: BodyResponse | undefined;
    let left = Infinity; // body bytes still to come (Infinity: until the last chunk or the close)
    let chunked: Dechunk | undefined;
    let done = false;
    let failure: Error | undefined;
    let paused = false;
    let waiting: (() => void) | undefined; // the caller, when it waits for a block
    const wake = () => { const w = waiting; waiting = undefined; w?.(); };
    const hasSpare = () => free.length > 0 || made < RING;
    const handOver = () => {
      if (fill > 0) ready.push({ block: cur, n: fill });
      const spare = free.pop(); // there is one (or one may be made): the socket pauses when none is left
      if (!spare) made++;
      cur = spare ?? Buffer.allocUnsafe(BLOCK);
      fill = 0;
      paused = !hasSpare();
    };
    const body = (at: number, n: number) => {
      const m = chunked ? chunked.decode(cur, at, n) : Math.min(n, left);
      fill = at + m;
      left -= m;
      done = left === 0 || chunked?.done === true;
      if (done || BLOCK - fill < MIN_READ) handOver();
      if (done) socket.destroy();
    };
    const onRead = (n: number): boolean => {
      try {
        if (res) body(fill, n);
        else head(n);
        // a caller that waits gets what there is: blocks grow only while the caller is busy (hashing, writing)
        if (waiting && fill > 0) handOver();
      } catch (e) {
        socket.destroy(e as Error);
      }
      wake();
      return !paused;
    };
    const head = (n: number) => {
      const from = Math.max(0, fill - 3);
      fill += n;
      const end = cur.subarray(0, fill).indexOf('\r\n\r\n', from);
      if (end < 0) {
        if (fill > BLOCK - MIN_READ) throw new Error('response header too large');
        return;
      }
      const { status, headers } = parseHead(cur.toString('latin1', 0, end));
      cur.copyWithin(0, end + 4, fill); // what follows the header
      const rest = fill - end - 4;
      fill = 0;
      if (status < 200) return head(rest); // 1xx: an interim answer, the real one follows
      const te = header(headers, 'transfer-encoding');
      const length = header(headers, 'content-length');
      chunked = te && /chunked/i.test(te) ? new Dechunk() : undefined;
      left = status === 204 || status === 304 ? 0 : !chunked && length && /^\d+$/.test(length) ? Number(length) : Infinity;
      res = { status, headers, blocks, close: () => socket.destroy() };
      resolve(res);
      body(0, rest);
    };
    async function* blocks(): AsyncGenerator<Buffer> {
      try {
        for (;;) {
          const r = ready.shift();
          if (r) {
            yield r.block.subarray(0, r.n);
            free.push(r.block);
            if (paused && !done) { paused = false; socket.resume(); }
          } else if (failure) {
            throw failure;
          } else if (done) {
            return;
          } else {
            await new Promise<void>((w) => { waiting = w; });
          }
        }
      } finally {
        socket.destroy();
      }
    }
    const onread: OnReadOpts = { buffer: () => cur.subarray(fill), callback: onRead };
    const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    const socket = u.protocol === 'https:'
      ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host, onread } as ConnectionOptions)
      : netConnect({ host, port, onread });
    socket.setTimeout(opts.idleTimeoutMs ?? 60_000, () => socket.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
    socket.on('error', (e) => { failure ??= e; });
    socket.on('close', () => {
      if (res && !done && left === Infinity && !chunked && !failure) done = true; // a body that ends with the connection
      if (res && fill > 0) handOver(); // what came before the end, or before a cut
      if (!done) failure ??= new Error('connection closed early');
      if (!res) reject(failure);
      wake();
    });
    socket.resume(); // flowing, so that the server's close is seen
    socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\n${lines}\r\n`);
  });
}

function parseHead(text: string): { status: number; headers: IncomingHttpHeaders } {
  const [first, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(first!);
  if (!m) throw new Error(`not an HTTP/1.1 answer: ${JSON.stringify(first!.slice(0, 40))}`);
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] ??= line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers };
}

/** Chunked transfer coding, decoded in place: raw bytes at buf[at, at + n) become payload at buf[at, at + m). */
class Dechunk {
  done = false;
  private left = 0; // payload bytes left in the current chunk
  private line = ''; // the chunk-size line read so far

  decode(buf: Buffer, at: number, n: number): number {
    let w = at;
    for (let r = at, end = at + n; r < end && !this.done;) {
      if (this.left > 0) {
        const k = Math.min(this.left, end - r);
        if (w !== r) buf.copyWithin(w, r, r + k);
        w += k;
        r += k;
        this.left -= k;
        continue;
      }
      const c = buf[r++]!;
      if (c !== 0x0a) {
        if (this.line.length > 1024) throw new Error('malformed chunked body');
        this.line += String.fromCharCode(c);
        continue;
      }
      const line = this.line.trim();
      this.line = '';
      if (line === '') continue; // the CRLF that ends a chunk's data
      if (!/^[0-9a-f]+(;|$)/i.test(line)) throw new Error('malformed chunked body');
      this.left = parseInt(line, 16);
      this.done = this.left === 0; // trailers are not read: the connection closes
    }
    return w - at;
  }
}
