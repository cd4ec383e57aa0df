/** Hub ids, URLs, endpoint and token handling, and the hub's error answers (src/models/hub.ts). No network. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZsError } from '../src/errors.js';
import { authHeaders, cleanEtag, hubEndpoint, hubError, looksLikeHubId, parseHubId, resolveUrl, type FileContext } from '../src/models/hub.js';

function throws(fn: () => unknown, code: string, re: RegExp): ZsError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ZsError);
    assert.is((e as ZsError).code, code);
    assert.match((e as ZsError).message, re);
    return e as ZsError;
  }
  throw new Error('expected a throw');
}

test('parseHubId takes org/name and org/name@revision', () => {
  assert.equal(parseHubId('Xenova/clip-vit-base-patch32'), { repo: 'Xenova/clip-vit-base-patch32', revision: undefined });
  assert.equal(parseHubId('openai/clip-vit-base-patch32@main'), { repo: 'openai/clip-vit-base-patch32', revision: 'main' });
  assert.equal(parseHubId('a.b_c/d-e.f@refs/pr/1'), { repo: 'a.b_c/d-e.f', revision: 'refs/pr/1' });
  assert.equal(parseHubId('x/y@0123456789abcdef0123456789abcdef01234567').revision, '0123456789abcdef0123456789abcdef01234567');
});

test('malformed ids are usage errors that name the id', () => {
  for (const bad of ['org/', '/name', 'org/na me', 'org/name@', '-org/name', 'org/name.', 'org/na--me', 'org/name@../x', 'org/name@a b']) {
    const e = throws(() => parseHubId(bad), 'E_MODEL_ID', /malformed model id/);
    assert.is(e.kind, 'usage');
    assert.ok(e.message.includes(JSON.stringify(bad)), e.message);
    assert.match(e.hint ?? '', 'org/name');
  }
});

test('looksLikeHubId tells ids from paths', () => {
  assert.ok(looksLikeHubId('org/name'));
  assert.ok(looksLikeHubId('org/name@v1/x'));
  assert.ok(looksLikeHubId('org/'));
  for (const p of ['./org/name', '../x/y', '/abs/path', '~/m', 'a/b/c', 'C:\\models\\x', 'plain']) assert.not.ok(looksLikeHubId(p), p);
});

test('resolve URLs follow the hub scheme; HF_ENDPOINT overrides the base; HF_TOKEN becomes a bearer header', () => {
  assert.is(hubEndpoint({}), 'https://huggingface.co');
  assert.is(hubEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:8080/' }), 'http://127.0.0.1:8080');
  throws(() => hubEndpoint({ HF_ENDPOINT: 'not a url' }), 'E_HF_ENDPOINT', /HF_ENDPOINT/);
  throws(() => hubEndpoint({ HF_ENDPOINT: 'ftp://x' }), 'E_HF_ENDPOINT', /http/);
  assert.is(
    resolveUrl('https://huggingface.co', { repo: 'Xenova/clip-vit-base-patch32', revision: 'main' }, 'onnx/vision_model.onnx'),
    'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/onnx/vision_model.onnx',
  );
  assert.is(resolveUrl('http://m', { repo: 'a/b', revision: 'refs/pr/1' }, 'x y.json'), 'http://m/a/b/resolve/refs%2Fpr%2F1/x%20y.json');
  assert.equal(authHeaders({ HF_TOKEN: ' hf_abc ' }), { authorization: 'Bearer hf_abc' });
  assert.equal(authHeaders({}), {});
  assert.is(cleanEtag('W/"abc"'), 'abc');
});

const ctx = (hasToken = false): FileContext => ({ model: 'org/name', repo: 'org/name', revision: 'main', path: 'config.json', endpoint: 'http://127.0.0.1:9', hasToken });

test('hub errors: 404 says model not found with the id, 401 says HF_TOKEN, 5xx says try later', () => {
  const nf = hubError(404, {}, ctx());
  assert.is(nf.code, 'E_MODEL_NOT_FOUND');
  assert.match(nf.message, /^model not found: org\/name/);
  const repo = hubError(401, { 'x-error-code': 'RepoNotFound' }, ctx());
  assert.is(repo.code, 'E_MODEL_NOT_FOUND');
  assert.match(repo.hint ?? '', 'HF_TOKEN');
  const auth = hubError(401, {}, ctx());
  assert.is(auth.code, 'E_HUB_AUTH');
  assert.match(auth.message, 'access denied (HTTP 401)');
  assert.match(auth.hint ?? '', 'set HF_TOKEN');
  assert.match(hubError(403, {}, ctx(true)).hint ?? '', 'HF_TOKEN is set but was refused');
  assert.match(hubError(404, { 'x-error-code': 'RevisionNotFound' }, ctx()).message, 'revision "main" not found');
  assert.match(hubError(503, {}, ctx()).hint ?? '', 'try again later');
});

test.run();
