// Per-IP login limit: the 51st failed login from one address is refused with 429, whatever account it names.
// Each failure costs the server a PBKDF2 hash (~0.45 s), so they are fired four at a time; the file stands alone
// so that its wait overlaps with other files where the runner allows it.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, assertError, assertApiHeaders, pool, uniqueEmail} from './lib.mjs';

let server;
let admin;
before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
});

test('50 failed logins with 50 different e-mails are each 401; the 51st is 429 with Retry-After', async () => {
  // different e-mails, so the per-account limit (10) is never what triggers
  const emails = Array.from({length: 50}, () => uniqueEmail('ip'));
  const results = await pool(emails, 4,
    (email) => server.api('POST', '/api/v1/auth/login', {body: {email, password: 'wrong password'}}));
  for (const r of results) assertError(r, 401, 'bad_credentials');

  const res = await server.api('POST', '/api/v1/auth/login', {body: {email: uniqueEmail('ip'), password: 'wrong password'}});
  assertError(res, 429, ['rate_limited', 'too_many_attempts']);
  const ra = res.headers['retry-after'];
  assert.ok(ra !== undefined, 'Retry-After header');
  assert.match(ra, /^\d+$/, `Retry-After in seconds: ${ra}`);
  assert.ok(Number(ra) > 0, `Retry-After ${ra}`);
  assertApiHeaders(res, '429');
});

test('the 52nd attempt from the same address is refused too', async () => {
  const res = await server.api('POST', '/api/v1/auth/login', {body: {email: 'nobody-else@example.com', password: 'x'.repeat(8)}});
  assertError(res, 429, ['rate_limited', 'too_many_attempts']);
});

test('X-Forwarded-For does not get around it (no --trust-proxy)', async () => {
  for (const xff of ['10.9.8.7', '203.0.113.5, 10.0.0.1']) {
    const res = await server.api('POST', '/api/v1/auth/login', {headers: {'x-forwarded-for': xff, 'x-real-ip': xff},
      body: {email: uniqueEmail('ip'), password: 'wrong password'}});
    assertError(res, 429, ['rate_limited', 'too_many_attempts']);
  }
});

test('sessions that already exist keep working', async () => {
  const res = await server.api('GET', '/api/v1/me', {session: admin});
  assert.equal(res.status, 200, res.text);
});
