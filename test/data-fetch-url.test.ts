/** Image URL fetching (src/data/fetch-url.ts) against a server on 127.0.0.1: retries, redirects, limits, order. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchToFile, mapLimit } from '../src/data/fetch-url.js';
import { tempDir, REF_IMAGES } from './_helpers.js';
import { startImageServer, type ImageServer } from './helpers/image-server.js';

const { dir, cleanup } = tempDir('zs-fetch-');
const FAST = { maxBytes: 100_000, retries: 2, backoffMs: 1, idleTimeoutMs: 5_000 };
let server: ImageServer;
test.before(async () => { server = await startImageServer(); });

const fails = async (url: string, re: RegExp, o = FAST) => {
  const file = join(dir, 'x.img');
  try {
    await fetchToFile(url, file, o);
  } catch (e) {
    assert.match((e as Error).message, re);
    assert.is((e as { code?: string }).code, 'E_FETCH');
    assert.not.ok(existsSync(file), 'no file left behind');
    return;
  }
  assert.unreachable(`${url} was fetched`);
};

test('a file arrives byte for byte; a redirect is followed', async () => {
  server.route('/c.png', { file: join(REF_IMAGES, 'chelsea_q90.jpg') });
  server.route('/r', { redirect: '/c.png' });
  for (const p of ['/c.png', '/r']) {
    await fetchToFile(server.url(p), join(dir, 'c.png'), FAST);
    assert.ok(readFileSync(join(dir, 'c.png')).equals(readFileSync(join(REF_IMAGES, 'chelsea_q90.jpg'))), p);
  }
});

test('5xx is retried with backoff until it works or the tries run out; 404 is not retried', async () => {
  server.route('/flaky', { failTimes: 2, file: join(REF_IMAGES, 'chelsea_q90.jpg') });
  await fetchToFile(server.url('/flaky'), join(dir, 'f.png'), FAST);
  assert.is(server.hits.get('/flaky'), 3);
  server.route('/down', { status: 503 });
  await fails(server.url('/down'), /\/down: HTTP 503 \(after 3 tries\)$/);
  assert.is(server.hits.get('/down'), 3);
  await fails(server.url('/missing'), /\/missing: HTTP 404$/);
  assert.is(server.hits.get('/missing'), 1);
});

test('size limit: by Content-Length before the body, and by counting a chunked body', async () => {
  server.route('/big', { bigBytes: 5_000_000 });
  await fails(server.url('/big'), /5000000 bytes, over the limit of 100000/);
  server.route('/chunked', { chunkedBytes: 200_000 });
  await fails(server.url('/chunked'), /more than the limit of 100000 bytes/);
});

test('redirect loops and non-http redirects stop; a refused connection is retried, then fails', async () => {
  server.route('/loop', { redirect: '/loop' });
  await fails(server.url('/loop'), /more than 5 redirects/);
  server.route('/ftp', { redirect: 'ftp://example.invalid/x' });
  await fails(server.url('/ftp'), /not http\(s\)/);
  await fails('http://127.0.0.1:9/x', /cannot fetch http:\/\/127\.0\.0\.1:9\/x: .*\(after 3 tries\)/);
});

test('mapLimit keeps input order, runs at most `limit` at once and keeps failures', async () => {
  let running = 0, peak = 0;
  const r = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (x) => {
    running++; peak = Math.max(peak, running);
    await new Promise((res) => setTimeout(res, x * 3));
    running--;
    if (x === 4) throw new Error('four');
    return x * 10;
  });
  assert.is(peak, 2);
  assert.equal(r.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)), [50, 10, 'four', 20, 30, 0]);
});

test.after(async () => { await server.close(); cleanup(); });
test.run();
