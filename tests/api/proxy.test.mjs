// --trust-proxy: behind a reverse proxy on loopback, the client's address and scheme come from X-Forwarded-*.
import {after, test} from 'node:test';
import assert from 'node:assert/strict';

import {auditAll, cleanup, setupAdmin, startServer} from './lib.mjs';

after(cleanup);

test('with --trust-proxy the forwarded address is audited and a forwarded HTTPS login gets a Secure cookie', async () => {
  const server = await startServer({args: ['--trust-proxy']});
  const admin = await setupAdmin(server);
  const res = await server.api('POST', '/api/v1/auth/login', {
    body: {email: admin.email, password: admin.password},
    headers: {'x-forwarded-for': '198.51.100.7, 203.0.113.9', 'x-forwarded-proto': 'https'},
  });
  assert.equal(res.status, 200);
  const cookie = [].concat(res.headers['set-cookie'] || []).join('\n');
  assert.match(cookie, /; Secure/);
  assert.match(res.headers['strict-transport-security'] || '', /max-age=/);
  const audit = await auditAll(server, admin);
  const login = audit.find((e) => e.action === 'login');
  assert.equal(login.ip, '203.0.113.9', 'the address the proxy added last');
  // garbage in the header is not taken as an address
  await server.api('POST', '/api/v1/auth/login', {body: {email: admin.email, password: 'wrong password'},
    headers: {'x-forwarded-for': '<script>'}});
  const failed = (await auditAll(server, admin)).find((e) => e.action === 'login_failed');
  assert.equal(failed.ip, '127.0.0.1');
});

test('without --trust-proxy the headers are ignored', async () => {
  const server = await startServer();
  const admin = await setupAdmin(server);
  const res = await server.api('POST', '/api/v1/auth/login', {
    body: {email: admin.email, password: admin.password},
    headers: {'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https'},
  });
  assert.equal(res.status, 200);
  assert.doesNotMatch([].concat(res.headers['set-cookie'] || []).join('\n'), /Secure/);
  const login = (await auditAll(server, admin)).find((e) => e.action === 'login');
  assert.equal(login.ip, '127.0.0.1');
});
