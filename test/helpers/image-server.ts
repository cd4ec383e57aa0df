/**
 * A real HTTP server on 127.0.0.1 for image-URL tests: serves files, and per path can answer a fixed status, fail
 * a few times before serving (503), redirect, hold the request until released, or announce a huge body.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export type Route =
  | { file: string }
  | { status: number }
  | { failTimes: number; file: string }
  | { redirect: string }
  | { stall: true; file: string }
  | { bigBytes: number }
  | { chunkedBytes: number };

export interface ImageServer {
  url(path: string): string;
  route(path: string, r: Route): void;
  /** Requests seen per path. */
  hits: Map<string, number>;
  /** Resolves when a request for `path` arrives. */
  waitFor(path: string): Promise<void>;
  /** Lets held (stalled) requests go on, and later ones through. */
  release(): void;
  close(): Promise<void>;
}

export async function startImageServer(): Promise<ImageServer> {
  const routes = new Map<string, Route>();
  const hits = new Map<string, number>();
  const waiters = new Map<string, (() => void)[]>();
  let released = false;
  const held: (() => void)[] = [];
  const send = (res: ServerResponse, file: string) => {
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    for (const w of waiters.get(path) ?? []) w();
    waiters.delete(path);
    const r = routes.get(path);
    if (!r) { res.writeHead(404).end('not found'); return; }
    if ('status' in r) { res.writeHead(r.status).end(); return; }
    if ('redirect' in r) { res.writeHead(302, { location: r.redirect }).end(); return; }
    if ('bigBytes' in r) { res.writeHead(200, { 'content-length': r.bigBytes }); res.write(Buffer.alloc(1024)); return; }
    if ('chunkedBytes' in r) { res.writeHead(200); res.end(Buffer.alloc(r.chunkedBytes)); return; } // no Content-Length: chunked
    if ('failTimes' in r) { if (n <= r.failTimes) res.writeHead(503).end(); else send(res, r.file); return; }
    if ('stall' in r && !released) { held.push(() => send(res, r.file)); return; }
    send(res, r.file);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: (p) => `http://127.0.0.1:${port}${p}`,
    route: (p, r) => { routes.set(p, r); },
    hits,
    waitFor: (p) => ((hits.get(p) ?? 0) > 0 ? Promise.resolve() : new Promise((res) => { waiters.set(p, [...(waiters.get(p) ?? []), res]); })),
    release: () => { released = true; for (const h of held.splice(0)) h(); },
    close: async () => { server.closeAllConnections(); server.close(); await once(server, 'close'); },
  };
}
