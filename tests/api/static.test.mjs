// /healthz, the security headers, and the embedded web UI: SPA routes, no inline scripts, assets with ETag and gzip.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {startServer, request, assertSecurityHeaders, assertApiHeaders} from './lib.mjs';

let server;
let indexHtml;
let assets = []; // paths under /assets/ referenced by index.html

before(async () => { server = await startServer(); });

const get = (p, headers = {}) => request(server.url + p, {headers});

describe('/healthz', () => {
  test('200 {"status":"ok"} with the security headers', async () => {
    const r = await get('/healthz');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(r.text), {status: 'ok'});
    assertSecurityHeaders(r, 'GET /healthz');
  });

  test('HEAD /healthz answers without a body', async () => {
    const r = await request(`${server.url}/healthz`, {method: 'HEAD'});
    assert.ok([200, 405].includes(r.status), `HEAD /healthz: ${r.status}`);
    assert.equal(r.body.length, 0);
  });
});

describe('pages', () => {
  test('GET / is the app page (text/html), with the security headers', async () => {
    const r = await get('/');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/html/);
    assertSecurityHeaders(r, 'GET /');
    indexHtml = r.text;
    assert.match(indexHtml, /<html/i);
  });

  test('no inline script: every <script> has a src and no body; no inline event handlers or javascript: URLs', () => {
    const scripts = [...indexHtml.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)];
    assert.ok(scripts.length > 0, 'the page loads its script');
    for (const [tag, attrs, bodyText] of scripts) {
      assert.match(attrs, /\ssrc\s*=\s*["']?[^"'\s>]+/i, `<script> without src: ${tag.slice(0, 200)}`);
      assert.equal(bodyText.trim(), '', `<script src> with inline content: ${tag.slice(0, 200)}`);
    }
    const opened = (indexHtml.match(/<script\b/gi) || []).length;
    assert.equal(opened, scripts.length, 'every <script> is closed the ordinary way');
    assert.doesNotMatch(indexHtml, /<[a-z][^>]*\son[a-z]+\s*=/i, 'inline event handler attribute');
    assert.doesNotMatch(indexHtml, /javascript:/i, 'javascript: URL');
  });

  test('the SPA routes all serve the same page', async () => {
    for (const p of ['/login', '/setup', '/setup?token=abc', '/app', '/app/', '/app/tickets/42', '/app/settings/users']) {
      const r = await get(p);
      assert.equal(r.status, 200, `GET ${p}: ${r.status}`);
      assert.match(r.headers['content-type'], /^text\/html/, `GET ${p}`);
      assert.equal(r.text, indexHtml, `GET ${p} is index.html`);
      assertSecurityHeaders(r, `GET ${p}`);
    }
  });

  test('the page references its assets under /assets/', () => {
    const refs = [...indexHtml.matchAll(/(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1])
      .filter((u) => u.startsWith('/assets/') || u.startsWith('assets/'))
      .map((u) => (u.startsWith('/') ? u : `/${u}`));
    assets = [...new Set(refs)];
    assert.ok(assets.length > 0, 'index.html references /assets/*');
    assert.ok(assets.some((a) => /\.js(\?|$)/.test(a)), 'a script asset');
  });
});

const TYPES = {js: /^(text|application)\/javascript/, mjs: /^(text|application)\/javascript/, css: /^text\/css/,
  svg: /^image\/svg\+xml/, png: /^image\/png/, ico: /^image\/(x-icon|vnd\.microsoft\.icon)/, woff2: /^font\/woff2/,
  json: /^application\/(manifest\+)?json/, webmanifest: /^application\/manifest\+json/};

describe('assets', () => {
  test('served with the right Content-Type, an ETag and the security headers', async () => {
    for (const a of assets) {
      const r = await get(a);
      assert.equal(r.status, 200, `GET ${a}`);
      const ext = a.split('?')[0].split('.').pop();
      if (TYPES[ext]) assert.match(r.headers['content-type'] || '', TYPES[ext], `Content-Type of ${a}`);
      assert.ok(r.headers.etag, `ETag on ${a}`);
      assert.ok(!r.headers['content-encoding'], `${a} compressed without Accept-Encoding`);
      assertSecurityHeaders(r, `GET ${a}`);
    }
  });

  test('If-None-Match with the ETag answers 304 with no body', async () => {
    for (const a of assets) {
      const first = await get(a);
      const r = await get(a, {'if-none-match': first.headers.etag});
      assert.equal(r.status, 304, `conditional GET ${a}`);
      assert.equal(r.body.length, 0);
      assert.equal(r.headers.etag, first.headers.etag);
      const stale = await get(a, {'if-none-match': '"not-the-etag"'});
      assert.equal(stale.status, 200, `a stale ETag gets the asset: ${a}`);
    }
  });

  test('Accept-Encoding gzip answers Content-Encoding gzip that unpacks to the same bytes', async () => {
    for (const a of assets) {
      const plain = await get(a);
      const r = await get(a, {'accept-encoding': 'gzip, deflate, br'});
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-encoding'], 'gzip', `gzip for ${a}`);
      assert.deepEqual(zlib.gunzipSync(r.body), plain.body, `gunzip(${a}) equals the plain asset`);
      assert.match(r.headers.vary || '', /accept-encoding/i, `Vary: Accept-Encoding on ${a}`);
      // the compressed variant revalidates too
      if (r.headers.etag) {
        const c = await get(a, {'accept-encoding': 'gzip', 'if-none-match': r.headers.etag});
        assert.equal(c.status, 304, `conditional gzip GET ${a}`);
      }
    }
  });

  test('an unknown asset is 404, not the app page', async () => {
    const r = await get('/assets/no-such-file-4711.js');
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.text, /<html/i);
    assertSecurityHeaders(r, 'GET /assets/no-such-file-4711.js');
  });

  test('path traversal does not escape the embedded assets', async () => {
    for (const p of ['/assets/../../../../etc/passwd', '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fetc%2fpasswd', '/..%2f..%2f..%2fetc/passwd', '/assets/%2e%2e%2fdestek.db']) {
      const r = await get(p);
      assert.doesNotMatch(r.text, /root:.*:0:0:/, `GET ${p} leaked /etc/passwd`);
      assert.doesNotMatch(r.text, /SQLite format 3/, `GET ${p} leaked a database`);
      assert.ok(r.status >= 400 || /<html/i.test(r.text), `GET ${p}: ${r.status}`);
    }
  });
});

describe('API responses are not cached', () => {
  test('Cache-Control: no-store on API answers, successful or not', async () => {
    for (const p of ['/api/v1/setup', '/api/v1/me', '/api/v1/nope']) {
      const r = await get(p);
      assertApiHeaders(r, `GET ${p}`);
    }
  });
});
