/**
 * Image URLs in manifests: each is fetched to a file (so the embedding engine reads it like any other image and
 * memory does not grow with image sizes), with bounded concurrency, retries with exponential backoff, redirects
 * followed, and a size limit. A URL that still fails is a ZsError (E_FETCH) naming the URL and what went wrong;
 * callers turn it into an error row.
 *
 * Retried: connection errors and timeouts, HTTP 408, 429 and 5xx (waiting Retry-After seconds when the server says,
 * up to 30 s, else backoffMs * 2^attempt). Not retried: other 4xx, a body over maxBytes, too many redirects.
 */
import { promises as fsp } from 'node:fs';
import { ZsError } from '../errors.js';
import { httpGet } from '../models/http.js';
import { header } from '../models/headers.js';
import { DEFAULT_FETCH, type FetchOptions } from '../embed/worker-config.js';

export { DEFAULT_FETCH, type FetchOptions };
const MAX_REDIRECTS = 5;

class Attempt extends Error {
  constructor(message: string, readonly retry: boolean, readonly waitMs?: number) { super(message); }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tryOnce(url: string, file: string, o: FetchOptions): Promise<void> {
  let at = url;
  for (let hop = 0; ; hop++) {
    let res;
    try {
      res = await httpGet('GET', at, { idleTimeoutMs: o.idleTimeoutMs, headers: { 'user-agent': 'zs (image fetch)' } });
    } catch (e) {
      throw new Attempt((e as Error).message, true);
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && header(res.headers, 'location')) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new Attempt(`more than ${MAX_REDIRECTS} redirects`, false);
      at = new URL(header(res.headers, 'location')!, at).toString();
      if (!/^https?:/i.test(at)) throw new Attempt(`redirected to ${at}, not http(s)`, false);
      continue;
    }
    if (status !== 200) {
      res.resume();
      const retry = status === 408 || status === 429 || status >= 500;
      const after = Number(header(res.headers, 'retry-after'));
      throw new Attempt(`HTTP ${status}`, retry, Number.isFinite(after) && after >= 0 ? Math.min(after, 30) * 1000 : undefined);
    }
    const length = Number(header(res.headers, 'content-length') ?? NaN);
    if (length > o.maxBytes) {
      res.destroy();
      throw new Attempt(`${length} bytes, over the limit of ${o.maxBytes}`, false);
    }
    const fh = await fsp.open(file, 'w');
    let n = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > o.maxBytes) {
          res.destroy();
          throw new Attempt(`more than the limit of ${o.maxBytes} bytes`, false);
        }
        await fh.write(chunk);
      }
    } catch (e) {
      if (e instanceof Attempt) throw e;
      throw new Attempt(`the body broke off: ${(e as Error).message}`, true);
    } finally {
      await fh.close();
    }
    if (Number.isFinite(length) && n !== length) throw new Attempt(`got ${n} of ${length} bytes`, true);
    return;
  }
}

/** Fetches `url` into `file` (see the header); throws E_FETCH after the last try. */
export async function fetchToFile(url: string, file: string, o: FetchOptions = DEFAULT_FETCH): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await tryOnce(url, file, o);
    } catch (e) {
      const a = e instanceof Attempt ? e : new Attempt((e as Error).message, false);
      if (!a.retry || attempt >= o.retries) {
        await fsp.rm(file, { force: true });
        throw new ZsError('E_FETCH', `cannot fetch ${url}: ${a.message}${attempt > 0 ? ` (after ${attempt + 1} tries)` : ''}`);
      }
      await sleep(a.waitMs ?? o.backoffMs * 2 ** attempt);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` at once; results in input order, failures as rejections kept. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i]!, i) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
