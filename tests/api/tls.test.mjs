// TLS: --tls-cert/--tls-key serve https, and the session cookie is Secure.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {startServer, tempDir, request, sessionSetCookie, assertSecurityHeaders} from './lib.mjs';

let server;
before(async () => {
  const dir = tempDir('destek-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', key, '-out', cert], {encoding: 'utf8'});
  assert.equal(r.status, 0, `openssl: ${r.stderr}`);
  server = await startServer({args: ['--tls-cert', cert, '--tls-key', key]});
});

test('the listening and setup lines say https', async () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  await server.setupToken();
  assert.match(server.stderrText(), /destek: no admin yet; open https:\/\/127\.0\.0\.1:\d+\/setup\?token=/);
});

test('GET /healthz over https', async () => {
  const r = await request(`${server.url}/healthz`);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.text), {status: 'ok'});
  assertSecurityHeaders(r, 'GET /healthz over TLS');
});

test('plain http on the TLS port gets no answer from the API', async () => {
  const plain = server.url.replace(/^https:/, 'http:');
  let answered = null;
  try { answered = await request(`${plain}/healthz`, {timeout: 5000}); } catch { /* refused or reset: fine */ }
  assert.ok(!answered || answered.status >= 400, `plain http answered ${answered && answered.status}`);
});

test('setup and login set the session cookie with Secure', async () => {
  const token = await server.setupToken();
  const res = await server.api('POST', '/api/v1/setup',
    {body: {token, email: 'tls@example.com', name: 'TLS Admin', password: 'tls password 1'}});
  assert.equal(res.status, 201, res.text);
  assert.match(sessionSetCookie(res), /;\s*Secure(;|$)/i, sessionSetCookie(res));
  const s = await server.api('POST', '/api/v1/auth/login', {body: {email: 'tls@example.com', password: 'tls password 1'}});
  assert.equal(s.status, 200, s.text);
  const sc = sessionSetCookie(s);
  assert.match(sc, /;\s*Secure(;|$)/i, sc);
  assert.match(sc, /;\s*HttpOnly(;|$)/i, sc);
  assert.match(sc, /;\s*SameSite=Lax(;|$)/i, sc);
  const me = await server.api('GET', '/api/v1/me', {cookie: s.cookie});
  assert.equal(me.status, 200, me.text);
});
