/**
 * One file from the hub onto disk, safely: streamed into `<dest>.incomplete`, resumed with HTTP Range (and If-Range,
 * so a file that changed on the server restarts) after a cut connection, hashed while streaming (over the kept bytes
 * too when resuming), checked against the expected size and sha256 (or git blob sha1) and renamed into place (not
 * fsync'd: that would wait for the disk, ~0.85 s per 500 MB here). A failed check removes the partial file; a cut
 * connection or a full disk keeps it for the next try. The body arrives in blocks of up to 1 MiB (openGet); each
 * block's positional write runs on the thread pool while this thread hashes it.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { ZsError } from '../errors.js';
import { cleanEtag, hubError, networkError, type FileContext } from './hub.js';
import { BLOCK, openGet, type BodyResponse, type HttpOptions } from './http.js';
import { header } from './headers.js';

export interface Expected {
  size?: number;
  sha256?: string;
  gitSha1?: string;
}

export interface DownloadOptions extends HttpOptions {
  /** Extra attempts after a cut connection, each resuming where the last stopped (default 4). */
  retries?: number;
  /** Called with the number of bytes on disk so far (including resumed bytes). */
  onBytes?: (bytesOnDisk: number) => void;
}

export interface DownloadResult {
  size: number;
  sha256: string;
  /** Bytes that were already on disk from an earlier, interrupted download. */
  resumedFrom: number;
  attempts: number;
}

interface PartialMeta {
  /** The content identity the partial bytes belong to. */
  sha256?: string;
  gitSha1?: string;
  size?: number;
  /** ETag of the server that sent the partial bytes, for If-Range. */
  etag?: string;
}

/** A network failure worth another (resuming) attempt. */
class Cut extends Error {
  constructor(readonly reason: unknown) {
    super('connection cut');
  }
}

export const partialPath = (dest: string): string => `${dest}.incomplete`;
const metaPath = (dest: string): string => `${dest}.incomplete.json`;

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

async function readMeta(dest: string): Promise<PartialMeta | undefined> {
  try {
    return JSON.parse(await fsp.readFile(metaPath(dest), 'utf8')) as PartialMeta;
  } catch {
    return undefined;
  }
}

function sameContent(a: PartialMeta | undefined, b: Expected): boolean {
  if (!a) return false;
  if (b.sha256 && a.sha256 !== b.sha256) return false;
  if (b.gitSha1 && a.gitSha1 !== b.gitSha1) return false;
  if (b.size !== undefined && a.size !== undefined && a.size !== b.size) return false;
  return true;
}

async function discard(dest: string): Promise<void> {
  await fsp.rm(partialPath(dest), { force: true });
  await fsp.rm(metaPath(dest), { force: true });
}

function hashers(expected: Expected): { sha: Hash; git?: Hash } {
  const sha = createHash('sha256');
  if (!expected.gitSha1 || expected.size === undefined) return { sha };
  const git = createHash('sha1');
  git.update(`blob ${expected.size}\0`);
  return { sha, git };
}

async function hashExisting(file: string, h: { sha: Hash; git?: Hash }): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: BLOCK })) {
    h.sha.update(chunk as Buffer);
    h.git?.update(chunk as Buffer);
  }
}

function diskError(e: unknown, dest: string, kept: number, total: number | undefined, ctx: FileContext): ZsError {
  const err = e as NodeJS.ErrnoException;
  const of = total === undefined ? '' : ` of ${total}`;
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
    return new ZsError('E_DISK_FULL', `disk full while downloading ${ctx.path} of ${ctx.model}: ${kept}${of} bytes are kept in ${partialPath(dest)} for resume`, {
      hint: 'free some space (or choose another --cache-dir / ZS_HOME) and run the same command again: it resumes where it stopped',
      cause: e,
    });
  }
  return new ZsError('E_WRITE', `cannot write ${partialPath(dest)}: ${err.code ?? err.message}`, {
    hint: 'check that the cache folder (--cache-dir / ZS_HOME) is writable and the disk has room',
    cause: e,
  });
}

/** GET with redirects followed by hand; the Authorization header only goes to the URL's own host. */
async function get(url: string, headers: Record<string, string>, opts: HttpOptions, ctx: FileContext): Promise<BodyResponse> {
  let current = url;
  const origin = new URL(url).host;
  for (let hop = 0; hop < 10; hop++) {
    const sameHost = new URL(current).host === origin;
    const h = { ...opts.headers, ...headers };
    if (!sameHost) delete h.authorization;
    let res: BodyResponse;
    try {
      res = await openGet(current, { ...opts, headers: h });
    } catch (e) {
      throw new Cut(e);
    }
    const location = header(res.headers, 'location');
    if (res.status >= 300 && res.status < 400 && location) {
      res.close();
      current = new URL(location, current).toString();
      continue;
    }
    return res;
  }
  throw new ZsError('E_HUB_HTTP', `too many redirects for ${ctx.path} of ${ctx.model}`, { hint: 'check HF_ENDPOINT' });
}

/**
 * Writes a response body into `file` from byte `start` on, calling `onBlock` for each block (while the block's write
 * runs on the thread pool). Resolves when every received byte is on disk, with the network error if the connection
 * broke (the bytes before it are kept); rejects on a write error.
 */
async function streamTo(res: BodyResponse, file: string, start: number, onBlock: (b: Buffer) => void): Promise<unknown> {
  const out = await fsp.open(file, start > 0 ? 'r+' : 'w');
  try {
    const body = res.blocks();
    for (let pos = start; ;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await body.next();
      } catch (e) {
        return e;
      }
      if (next.done) return undefined;
      const block = next.value;
      const written = out.write(block, 0, block.length, pos);
      onBlock(block);
      await written;
      pos += block.length;
    }
  } finally {
    res.close();
    await out.close();
  }
}

/** One attempt: resume (or start) the partial file and stream the rest. Throws Cut on a network failure. */
async function attempt(url: string, dest: string, expected: Expected, opts: DownloadOptions, ctx: FileContext): Promise<{ resumedFrom: number; h: { sha: Hash; git?: Hash } }> {
  const part = partialPath(dest);
  const meta = await readMeta(dest);
  let start = await sizeOf(part);
  if (start > 0 && (!sameContent(meta, expected) || (expected.size !== undefined && start > expected.size))) {
    await discard(dest);
    start = 0;
  }
  let h = hashers(expected);
  const headers: Record<string, string> = {};
  if (start > 0) {
    headers.range = `bytes=${start}-`;
    if (meta?.etag) headers['if-range'] = `"${meta.etag}"`;
  }
  if (start > 0 && expected.size !== undefined && start === expected.size) {
    await hashExisting(part, h);
    return { resumedFrom: start, h };
  }
  const res = await get(url, headers, opts, ctx);
  const status = res.status;
  if (status === 416 && start > 0) {
    // the kept bytes do not fit what the server has now: start over
    res.close();
    await discard(dest);
    throw new Cut(new Error('range not satisfiable'));
  }
  if (status !== 200 && status !== 206) {
    res.close();
    throw hubError(status, res.headers, ctx);
  }
  if (status === 206) {
    const m = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '');
    if (!m || Number(m[1]) !== start) {
      res.close();
      await discard(dest);
      throw new Cut(new Error(`server resumed at the wrong offset (${header(res.headers, 'content-range')})`));
    }
    await hashExisting(part, h);
  } else if (start > 0) {
    start = 0; // the server sent the whole file (no range support, or it changed): start over
    h = hashers(expected);
  }
  const etag = cleanEtag(header(res.headers, 'etag'));
  const newMeta: PartialMeta = { sha256: expected.sha256, gitSha1: expected.gitSha1, size: expected.size, etag };
  let written = start;
  let cut: unknown;
  try {
    await fsp.writeFile(metaPath(dest), JSON.stringify(newMeta));
    cut = await streamTo(res, part, start, (block) => {
      h.sha.update(block);
      h.git?.update(block);
      written += block.length;
      opts.onBytes?.(written);
    });
  } catch (e) {
    res.close();
    throw diskError(e, dest, await sizeOf(part), expected.size, ctx);
  }
  if (cut) throw new Cut(cut);
  const length = header(res.headers, 'content-length');
  if (length !== undefined && written - start !== Number(length)) throw new Cut(new Error('connection closed early'));
  if (expected.size !== undefined && written < expected.size) throw new Cut(new Error('connection closed early'));
  return { resumedFrom: start, h };
}

/** Downloads `url` to `dest` (resuming a partial file left by an earlier run) and verifies it. */
export async function downloadFile(url: string, dest: string, expected: Expected, ctx: FileContext, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const retries = opts.retries ?? 4;
  const part = partialPath(dest);
  let lastCut: unknown;
  for (let n = 0; n <= retries; n++) {
    if (n > 0) await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** (n - 1))));
    let result: { resumedFrom: number; h: { sha: Hash; git?: Hash } };
    try {
      result = await attempt(url, dest, expected, opts, ctx);
    } catch (e) {
      if (e instanceof Cut) { lastCut = e.reason; continue; }
      throw e;
    }
    const size = await sizeOf(part);
    const sha256 = result.h.sha.digest('hex');
    const problem =
      expected.size !== undefined && size !== expected.size ? `size ${size} bytes, expected ${expected.size}`
      : expected.sha256 && sha256 !== expected.sha256 ? `sha256 ${sha256}, expected ${expected.sha256}`
      : expected.gitSha1 && result.h.git && result.h.git.digest('hex') !== expected.gitSha1 ? `git blob sha1 differs from the hub's ETag ${expected.gitSha1}`
      : undefined;
    if (problem) {
      await discard(dest);
      throw new ZsError('E_CHECKSUM', `download of ${ctx.path} for ${ctx.model} is corrupt (${problem}); it was deleted`, {
        hint: 'run the command again to download it afresh; if it keeps failing, the server (HF_ENDPOINT) serves a different file than expected',
      });
    }
    try {
      await fsp.rename(part, dest);
      await fsp.rm(metaPath(dest), { force: true });
    } catch (e) {
      throw diskError(e, dest, size, expected.size, ctx);
    }
    return { size, sha256, resumedFrom: result.resumedFrom, attempts: n + 1 };
  }
  const kept = await sizeOf(part);
  const reason = (lastCut as NodeJS.ErrnoException | undefined)?.code ?? (lastCut as Error | undefined)?.message ?? 'unknown';
  if (kept === 0) throw networkError(lastCut, ctx);
  const of = expected.size === undefined ? '' : ` of ${expected.size}`;
  throw new ZsError('E_DOWNLOAD_CUT', `connection lost while downloading ${ctx.path} of ${ctx.model} (${reason}) after ${retries + 1} tries: ${kept}${of} bytes are kept in ${part}`, {
    hint: 'run the same command again: it resumes where it stopped',
  });
}
