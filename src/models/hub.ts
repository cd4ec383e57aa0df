/**
 * The Hugging Face hub, as zs talks to it: repo ids (`org/name[@revision]`), the resolve URL scheme
 * `{endpoint}/{org}/{name}/resolve/{revision}/{path}` (HF_ENDPOINT overrides the endpoint for mirrors), the
 * token (HF_TOKEN), a HEAD that reads a file's identity the way the hub publishes it (X-Linked-Etag /
 * X-Linked-Size for LFS files, ETag / Content-Length otherwise) and the hub's error answers as ZsErrors. The HTTP
 * transport itself is http.ts.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { HttpOptions } from './http.js';
import { header } from './headers.js';
import { ZsError, usageError } from '../errors.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubRef {
  /** `org/name` */
  repo: string;
  /** Branch, tag or commit. */
  revision: string;
}

const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

function validPart(p: string): boolean {
  return PART.test(p) && !p.includes('--') && !p.includes('..');
}

/** True when `spec` has the shape of a hub id (`org/name` with an optional `@revision`), valid or not. */
export function looksLikeHubId(spec: string): boolean {
  if (/^[.~/\\]/.test(spec) || /^[A-Za-z]:[\\/]/.test(spec) || spec.includes('\\')) return false;
  return spec.split('@')[0]!.split('/').length === 2;
}

/** Parses `org/name[@revision]`; a malformed id is a usage error that names it. */
export function parseHubId(spec: string): { repo: string; revision?: string } {
  const at = spec.indexOf('@');
  const repo = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? undefined : spec.slice(at + 1);
  const parts = repo.split('/');
  const bad = (why: string) =>
    usageError('E_MODEL_ID', `malformed model id ${JSON.stringify(spec)}: ${why}`, 'write a hub id as org/name or org/name@revision, a catalog name (zs models list) or a model folder path');
  if (parts.length !== 2) throw bad('expected exactly one "/" between org and name');
  if (!parts.every(validPart)) throw bad('org and name take letters, digits, "-", "_" and "." (not first or last, no "--" or "..")');
  if (revision !== undefined && (!REVISION.test(revision) || revision.includes('..') || revision.endsWith('/'))) {
    throw bad('the revision after "@" must be a branch, tag or commit hash');
  }
  return { repo, revision };
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError('E_HF_ENDPOINT', `HF_ENDPOINT is not a URL: ${JSON.stringify(raw)}`, 'set it to a mirror base URL such as https://hf-mirror.example.org, or unset it');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError('E_HF_ENDPOINT', `HF_ENDPOINT must be http(s): ${JSON.stringify(raw)}`, 'set it to an http:// or https:// base URL, or unset it');
  }
  return raw.replace(/\/+$/, '');
}

/** The download URL of one file of a repo at a revision (the revision is one path segment, as the hub wants it). */
export function resolveUrl(endpoint: string, ref: HubRef, path: string): string {
  const file = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
}

export function authHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = env.HF_TOKEN?.trim();
  return token ? { authorization: `Bearer ${token}` } : {};
}

export function cleanEtag(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return v.replace(/^W\//, '').replace(/^"|"$/g, '');
}

export interface RemoteFile {
  /** sha256 of the content when the hub publishes it (LFS oid), else undefined. */
  sha256?: string;
  /** git blob sha1 of the content (the ETag of a non-LFS file), else undefined. */
  gitSha1?: string;
  size?: number;
  /** Commit the revision resolved to (X-Repo-Commit). */
  commit?: string;
}

export interface FileContext {
  /** What the user called the model (catalog name or hub id), for messages. */
  model: string;
  repo: string;
  revision: string;
  path: string;
  endpoint: string;
  hasToken: boolean;
}

/** Turns a hub error status into the one-line error a user can act on. */
export function hubError(status: number, headers: IncomingHttpHeaders, ctx: FileContext): ZsError {
  const code = header(headers, 'x-error-code');
  const where = `${ctx.repo}@${ctx.revision}`;
  const at = ctx.endpoint === DEFAULT_ENDPOINT ? '' : ` at ${ctx.endpoint}`;
  if (code === 'RepoNotFound') {
    return new ZsError('E_MODEL_NOT_FOUND', `model not found: ${ctx.model} (no repo ${ctx.repo}${at}, HTTP ${status})`, {
      hint: ctx.hasToken ? 'check the id (zs models list shows the catalog)' : 'check the id (zs models list shows the catalog); a private or gated repo needs HF_TOKEN',
    });
  }
  if (status === 401 || status === 403 || code === 'GatedRepo') {
    const hint = ctx.hasToken
      ? 'HF_TOKEN is set but was refused: check the token, and accept the model\'s terms on its hub page if it is gated'
      : 'the model may be gated or private: set HF_TOKEN to a Hugging Face access token (and accept its terms on the hub page)';
    return new ZsError('E_HUB_AUTH', `access denied (HTTP ${status}) to ${ctx.path} of ${ctx.model} (${where})${at}`, { hint });
  }
  if (status === 404 || code === 'RevisionNotFound' || code === 'EntryNotFound') {
    const what = code === 'RevisionNotFound' ? `revision ${JSON.stringify(ctx.revision)} not found` : code === 'EntryNotFound' ? `file ${ctx.path} not found` : 'not found';
    return new ZsError('E_MODEL_NOT_FOUND', `model not found: ${ctx.model} (${where}${at}: ${what}, HTTP ${status} for ${ctx.path})`, {
      hint: 'check the id and revision (zs models list shows the catalog); a private repo also needs HF_TOKEN',
    });
  }
  return new ZsError('E_HUB_HTTP', `the hub answered HTTP ${status} for ${ctx.path} of ${ctx.model} (${where})${at}`, {
    hint: status >= 500 ? 'the server is failing: try again later or set HF_ENDPOINT to a mirror' : 'check HF_ENDPOINT and the model id',
  });
}

export function networkError(e: unknown, ctx: FileContext): ZsError {
  const err = e as NodeJS.ErrnoException;
  const reason = err.code ?? err.message;
  return new ZsError('E_NETWORK', `cannot reach ${ctx.endpoint} for ${ctx.path} of ${ctx.model}: ${reason}`, {
    hint: 'check the network (or HF_ENDPOINT); to use only cached models set ZS_OFFLINE=1',
    cause: e,
  });
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;

/** The identity of a remote file, read with HEAD (relative redirects such as repo renames are followed, CDN redirects are not). */
export async function headFile(url: string, ctx: FileContext, opts: HttpOptions = {}): Promise<RemoteFile> {
  let current = url;
  for (let hop = 0, tries = 0; hop < 5; hop++) {
    let res: IncomingMessage;
    try {
      const { httpGet } = await import('./http.js'); // the HTTP stacks load on the first request
      res = await httpGet('HEAD', current, opts);
    } catch (e) {
      // a kept-alive socket the server just closed, or a blip: try twice more before giving up
      if (++tries > 2) throw networkError(e, ctx);
      await new Promise((r) => setTimeout(r, 200 * tries));
      hop--;
      continue;
    }
    res.resume();
    const h = res.headers;
    const status = res.statusCode ?? 0;
    const location = header(h, 'location');
    if (status >= 300 && status < 400 && location && !/^[a-z]+:\/\//i.test(location) && !header(h, 'x-linked-etag')) {
      current = new URL(location, current).toString();
      continue;
    }
    if (status >= 400) throw hubError(status, h, ctx);
    const etag = cleanEtag(header(h, 'x-linked-etag') ?? header(h, 'etag'))?.toLowerCase();
    const sizeText = header(h, 'x-linked-size') ?? header(h, 'content-length');
    const size = sizeText !== undefined && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
    return {
      sha256: etag && HEX64.test(etag) ? etag : undefined,
      gitSha1: etag && HEX40.test(etag) ? etag : undefined,
      size,
      commit: header(h, 'x-repo-commit'),
    };
  }
  throw new ZsError('E_HUB_HTTP', `too many redirects for ${ctx.path} of ${ctx.model}`, { hint: 'check HF_ENDPOINT' });
}
