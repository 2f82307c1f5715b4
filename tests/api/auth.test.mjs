// First-admin setup, login/logout, /me, PATCH /me (including a password change), and the per-account login limit.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, login, createUser, createToken, assertError, assertApiHeaders, assertUser, auditAll, eventually,
  sessionSetCookie, pool, request, uniqueEmail, ISO_UTC,
} from './lib.mjs';

let server;
let setupToken;
const ADMIN = {email: 'Boss@Example.com', name: 'Büşra Yönetici', password: 'çok gizli parola'};
let admin; // {cookie, csrf, user}
let adminToken; // {token}

before(async () => { server = await startServer(); });

describe('first-admin setup', () => {
  test('the server prints a setup URL with a 43-character base64url token', async () => {
    setupToken = await server.setupToken();
    assert.match(setupToken, /^[A-Za-z0-9_-]{43}$/);
    const line = server.stderrText().split('\n').find((l) => l.includes('/setup?token='));
    assert.ok(line.startsWith('destek: no admin yet; open '), line);
    assert.ok(line.includes(`${server.url}/setup?token=${setupToken}`), line);
  });

  test('GET /api/v1/setup says it is needed', async () => {
    const res = await server.api('GET', '/api/v1/setup');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {needed: true});
    assertApiHeaders(res, 'GET /api/v1/setup');
  });

  test('the setup page is served', async () => {
    const res = await request(`${server.url}/setup?token=${setupToken}`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/html/);
  });

  const body = (over = {}) => ({token: setupToken, ...ADMIN, ...over});
  for (const [name, over, status, code, field] of [
    ['wrong token', {token: 'A'.repeat(43)}, 403, 'bad_setup_token'],
    ['token of another length', {token: 'short'}, 403, 'bad_setup_token'],
    ['missing email', {email: undefined}, 422, 'missing_field', 'email'],
    ['missing password', {password: undefined}, 422, 'missing_field', 'password'],
    ['password of 7 characters', {password: '1234567'}, 422, 'invalid_field', 'password'],
    ['unknown lang', {lang: 'fr'}, 422, 'invalid_field', 'lang'],
  ]) {
    test(`setup refused: ${name}`, async () => {
      const res = await server.api('POST', '/api/v1/setup', {body: body(over)});
      assertError(res, status, code, field);
      assert.equal(res.cookie, null, 'no session on a refused setup');
    });
  }

  test('still needed after refused attempts', async () => {
    assert.deepEqual((await server.api('GET', '/api/v1/setup')).json, {needed: true});
  });

  test('two simultaneous setups: exactly one wins', async () => {
    const [a, b] = await Promise.all([
      server.api('POST', '/api/v1/setup', {body: body({lang: 'tr'})}),
      server.api('POST', '/api/v1/setup', {body: body({email: 'rival@example.com', name: 'Rival'})}),
    ]);
    const wins = [a, b].filter((r) => r.status === 201);
    assert.equal(wins.length, 1, `statuses ${a.status} ${a.text} / ${b.status} ${b.text}`);
    const lost = a.status === 201 ? b : a;
    assertError(lost, [409, 403], ['setup_done', 'bad_setup_token']);
    const win = wins[0];
    assertUser(win.json.user, {role: 'admin', active: true});
    assert.equal(typeof win.json.csrf_token, 'string');
    assert.ok(win.cookie, 'setup logs the admin in');
    admin = {cookie: win.cookie, csrf: win.json.csrf_token, user: win.json.user,
      email: win.json.user.email, password: ADMIN.password};
    const me = await server.api('GET', '/api/v1/me', {session: admin});
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.user.id, admin.user.id);
    adminToken = {token: (await createToken(server, admin, {name: 'auth-admin', scopes: ['admin']})).secret};
  });

  test('setup is done: GET says not needed, POST answers 409 setup_done', async () => {
    assert.deepEqual((await server.api('GET', '/api/v1/setup')).json, {needed: false});
    const res = await server.api('POST', '/api/v1/setup', {body: body({email: 'late@example.com'})});
    assertError(res, 409, 'setup_done');
    const users = await server.api('GET', '/api/v1/users?limit=200', {session: adminToken});
    assert.equal(users.json.items.length, 1, 'only one admin was created');
  });

  test('the audit log records the setup', async () => {
    const items = await auditAll(server, adminToken);
    assert.ok(items.some((a) => a.action === 'setup'), items.map((a) => a.action).join(','));
  });
});

describe('login, /me, logout', () => {
  let s1;
  test('login answers the user and a CSRF token, and sets the session cookie', async () => {
    const res = await server.api('POST', '/api/v1/auth/login', {body: {email: admin.email, password: ADMIN.password}});
    assert.equal(res.status, 200, res.text);
    assertApiHeaders(res, 'POST /api/v1/auth/login');
    assertUser(res.json.user, {id: admin.user.id, role: 'admin'});
    assert.match(res.json.csrf_token, /^\S{16,}$/);
    const sc = sessionSetCookie(res);
    assert.ok(sc, 'Set-Cookie destek_session');
    assert.match(sc, /^destek_session=[^;\s]{20,};/);
    assert.match(sc, /;\s*Path=\/(;|$)/i);
    assert.match(sc, /;\s*HttpOnly(;|$)/i);
    assert.match(sc, /;\s*SameSite=Lax(;|$)/i);
    assert.doesNotMatch(sc, /;\s*Secure(;|$)/i, 'no Secure flag over plain http');
    s1 = {cookie: res.cookie, csrf: res.json.csrf_token};
  });

  test('the e-mail is matched case-insensitively', async () => {
    const [s, t] = await Promise.all([
      login(server, admin.email.toUpperCase(), ADMIN.password),
      login(server, admin.email.toLowerCase(), ADMIN.password),
    ]);
    assert.equal(s.user.id, admin.user.id);
    assert.equal(t.user.id, admin.user.id);
  });

  for (const [name, creds] of [
    ['wrong password', () => ({email: admin.email, password: 'wrong password'})],
    ['unknown e-mail', () => ({email: 'nobody@example.com', password: ADMIN.password})],
    ['empty password', () => ({email: admin.email, password: ''})],
  ]) {
    test(`login refused: ${name} -> 401 bad_credentials`, async () => {
      const res = await server.api('POST', '/api/v1/auth/login', {body: creds()});
      assertError(res, [401, 422], res.status === 422 ? ['missing_field', 'invalid_field'] : 'bad_credentials');
      if (name !== 'empty password') assertError(res, 401, 'bad_credentials');
      assert.equal(res.cookie, null);
    });
  }

  test('GET /me with the cookie answers the user and the same CSRF token', async () => {
    const res = await server.api('GET', '/api/v1/me', {session: s1});
    assert.equal(res.status, 200, res.text);
    assertApiHeaders(res, 'GET /api/v1/me');
    assertUser(res.json.user, {id: admin.user.id, email: admin.user.email});
    assert.equal(res.json.csrf_token, s1.csrf);
  });

  test('GET /me with a bearer token has no csrf_token', async () => {
    const res = await server.api('GET', '/api/v1/me', {session: adminToken});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.user.id, admin.user.id);
    assert.ok(!('csrf_token' in res.json) || res.json.csrf_token === null, res.text);
  });

  test('logout: 204, cookie cleared, the session is gone', async () => {
    const res = await server.api('POST', '/api/v1/auth/logout', {session: s1, body: {}});
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    const sc = sessionSetCookie(res);
    assert.ok(sc, 'logout clears the cookie with a Set-Cookie');
    assert.ok(/^destek_session=;/.test(sc) || /Max-Age=0/i.test(sc) || /Expires=Thu, 01 Jan 1970/i.test(sc),
      `cookie not cleared: ${sc}`);
    assertError(await server.api('GET', '/api/v1/me', {session: s1}), 401, 'unauthenticated');
    assertError(await server.api('POST', '/api/v1/auth/logout', {session: s1, body: {}}), 401, 'unauthenticated');
  });

  test('other sessions survive a logout', async () => {
    assert.equal((await server.api('GET', '/api/v1/me', {session: admin})).status, 200);
  });

  test('the audit log records login, login_failed and logout with time, actor and IP', async () => {
    const items = await eventually(() => auditAll(server, adminToken),
      (it) => ['login', 'login_failed', 'logout'].every((a) => it.some((x) => x.action === a)));
    for (const a of ['login', 'login_failed', 'logout']) {
      assert.ok(items.some((x) => x.action === a), `no ${a} in ${items.map((x) => x.action).join(',')}`);
    }
    for (const it of items) {
      for (const k of ['id', 'at', 'actor', 'action', 'target', 'ip', 'detail']) assert.ok(k in it, `audit item lacks ${k}`);
      assert.match(it.at, ISO_UTC);
    }
    const ok = items.find((x) => x.action === 'login');
    assert.equal(ok.ip, '127.0.0.1');
    const text = JSON.stringify(items);
    assert.ok(!text.includes(ADMIN.password) && !text.includes('wrong password'), 'audit must not hold passwords');
  });
});

// The two groups below do not depend on each other: they run side by side to save wall time.
describe('account changes and the per-account limit', {concurrency: true}, () => {
describe('PATCH /me', {concurrency: 1}, () => {
  const PW1 = 'first password 1';
  const PW2 = 'second password 2';
  let user;
  let a; // two sessions of the same user
  let b;
  before(async () => {
    user = await createUser(server, adminToken, {email: uniqueEmail('me'), password: PW1, name: 'Mehmet', lang: 'tr'});
    [a, b] = await Promise.all([login(server, user.email, PW1), login(server, user.email, PW1)]);
  });

  test('lang and name change', async () => {
    let res = await server.api('PATCH', '/api/v1/me', {session: a, body: {lang: 'en'}});
    assert.equal(res.status, 200, res.text);
    assertUser(res.json.user, {id: user.id, lang: 'en', name: 'Mehmet'});
    res = await server.api('PATCH', '/api/v1/me', {session: a, body: {name: 'Mehmet Öz'}});
    assert.equal(res.status, 200, res.text);
    assertUser(res.json.user, {lang: 'en', name: 'Mehmet Öz'});
    res = await server.api('GET', '/api/v1/me', {session: b});
    assertUser(res.json.user, {lang: 'en', name: 'Mehmet Öz'});
  });

  test('an agent cannot change its own role or active flag through /me', async () => {
    const res = await server.api('PATCH', '/api/v1/me', {session: a, body: {role: 'admin', active: false}});
    // Unknown fields may be ignored or refused; either way nothing changes.
    assert.ok([200, 422].includes(res.status), res.text);
    const me = await server.api('GET', '/api/v1/me', {session: a});
    assertUser(me.json.user, {role: 'agent', active: true});
  });

  test('password change needs the current password', async () => {
    let res = await server.api('PATCH', '/api/v1/me', {session: a, body: {password: PW2, current_password: 'not it at all'}});
    assertError(res, 403, 'bad_credentials');
    res = await server.api('PATCH', '/api/v1/me', {session: a, body: {password: PW2}});
    assertError(res, [422, 403], res.status === 422 ? 'missing_field' : 'bad_credentials');
    if (res.status === 422) assert.equal(res.json.error.field, 'current_password');
    res = await server.api('PATCH', '/api/v1/me', {session: a, body: {password: 'short', current_password: PW1}});
    assertError(res, 422, 'invalid_field', 'password');
    // None of these changed anything: both sessions still work.
    assert.equal((await server.api('GET', '/api/v1/me', {session: a})).status, 200);
    assert.equal((await server.api('GET', '/api/v1/me', {session: b})).status, 200);
  });

  test('password change revokes every session and hands the caller a fresh one', async () => {
    const res = await server.api('PATCH', '/api/v1/me', {session: a, body: {password: PW2, current_password: PW1}});
    assert.equal(res.status, 200, res.text);
    assertUser(res.json.user, {id: user.id});
    assert.ok(res.cookie, 'a fresh session cookie');
    assert.notEqual(res.cookie, a.cookie);
    assert.equal(typeof res.json.csrf_token, 'string');
    const fresh = {cookie: res.cookie, csrf: res.json.csrf_token};

    assertError(await server.api('GET', '/api/v1/me', {session: a}), 401, 'unauthenticated');
    assertError(await server.api('GET', '/api/v1/me', {session: b}), 401, 'unauthenticated');
    const me = await server.api('GET', '/api/v1/me', {session: fresh});
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.csrf_token, fresh.csrf);
    // the new CSRF token works for a write, the old one does not
    assertError(await server.api('PATCH', '/api/v1/me', {session: {cookie: fresh.cookie, csrf: a.csrf}, body: {lang: 'tr'}}),
      403, 'csrf_failed');
    assert.equal((await server.api('PATCH', '/api/v1/me', {session: fresh, body: {lang: 'tr'}})).status, 200);

    const [oldPw, newPw] = await Promise.all([
      server.api('POST', '/api/v1/auth/login', {body: {email: user.email, password: PW1}}),
      server.api('POST', '/api/v1/auth/login', {body: {email: user.email, password: PW2}}),
    ]);
    assertError(oldPw, 401, 'bad_credentials');
    assert.equal(newPw.status, 200, newPw.text);
  });
});

describe('per-account login limit', {concurrency: 1}, () => {
  const PW = 'locked password 1';
  let victim;
  let bystander;
  before(async () => {
    [victim, bystander] = await Promise.all([
      createUser(server, adminToken, {email: uniqueEmail('victim'), password: PW}),
      createUser(server, adminToken, {email: uniqueEmail('bystander'), password: PW}),
    ]);
  });

  test('10 failures, then the 11th attempt is 429 too_many_attempts even with the right password', async () => {
    const fails = await pool(Array.from({length: 10}, (_, i) => i), 4,
      () => server.api('POST', '/api/v1/auth/login', {body: {email: victim.email, password: 'wrong password!'}}));
    for (const r of fails) assertError(r, 401, 'bad_credentials');

    const res = await server.api('POST', '/api/v1/auth/login', {body: {email: victim.email, password: PW}});
    if (res.status !== 429) {
      const failed = (await auditAll(server, adminToken)).filter((x) => x.action === 'login_failed'
        && JSON.stringify(x).includes(victim.email));
      assert.fail(`11th attempt after 10 failures answered ${res.status} ${res.text}; `
        + `login_failed audit entries for the account: ${failed.length}: ${JSON.stringify(failed)}`);
    }
    assertError(res, 429, 'too_many_attempts');
    assert.equal(res.cookie, null, 'no session while locked');
    const ra = res.headers['retry-after'];
    assert.ok(ra !== undefined, 'Retry-After header');
    assert.match(ra, /^\d+$/, `Retry-After in seconds: ${ra}`);
    assert.ok(Number(ra) > 0 && Number(ra) <= 15 * 60, `Retry-After ${ra}`);
    assertApiHeaders(res, '429');
  });

  test('the lock ignores the case of the e-mail', async () => {
    const res = await server.api('POST', '/api/v1/auth/login', {body: {email: victim.email.toUpperCase(), password: PW}});
    assertError(res, 429, 'too_many_attempts');
  });

  test('another account is not locked', async () => {
    const s = await login(server, bystander.email, PW);
    assert.equal(s.user.id, bystander.id);
  });

  test('the failures are audited against the account', async () => {
    const items = await auditAll(server, adminToken);
    const failed = items.filter((x) => x.action === 'login_failed' && JSON.stringify(x).includes(victim.email));
    assert.ok(failed.length >= 10, `login_failed entries for the victim: ${failed.length}`);
  });
});
});
