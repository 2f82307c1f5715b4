// Users: create, read, update, deactivate (sessions revoked, no login), admin password reset, the last-admin rule,
// and list paging with an opaque cursor.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, setupAdmin, login, createToken, assertError, assertUser, auditAll, eventually, listAll,
  uniqueEmail,
} from './lib.mjs';

let server;
let admin;
let adminToken;
const made = []; // users created here

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  adminToken = {token: (await createToken(server, admin, {name: 'users-admin', scopes: ['admin']})).secret};
});

describe('create and read', () => {
  test('POST /api/v1/users creates agents and admins (201, the user object, audited)', async () => {
    const specs = [
      {email: uniqueEmail('u'), name: 'Ayşe', role: 'agent', password: 'password one', lang: 'tr'},
      {email: uniqueEmail('u'), name: 'Bob', role: 'agent', password: 'password two', lang: 'en'},
      {email: uniqueEmail('u'), name: 'Cem', role: 'admin', password: 'password three'},
      {email: uniqueEmail('u'), name: 'Deniz', role: 'agent', password: 'password four'},
    ];
    // as the admin's cookie session (with CSRF), all at once
    const res = await Promise.all(specs.map((body) => server.api('POST', '/api/v1/users', {session: admin, body})));
    res.forEach((r, i) => {
      assert.equal(r.status, 201, r.text);
      const {password, lang, ...rest} = specs[i];
      assertUser(r.json, {...rest, active: true, ...(lang ? {lang} : {})});
      assert.ok(!r.text.includes(password), 'the password is not echoed');
      made.push({...r.json, password});
    });
    assert.equal(new Set(made.map((u) => u.id)).size, 4, 'distinct ids');
    const items = await eventually(() => auditAll(server, adminToken),
      (it) => it.filter((a) => a.action === 'user.created').length >= 4);
    const created = items.filter((a) => a.action === 'user.created');
    assert.ok(created.length >= 4, `user.created entries: ${created.length}`);
    assert.ok(created.some((a) => a.actor === admin.email || JSON.stringify(a.actor).includes(admin.email)),
      'the audit entry names the admin as actor');
  });

  test('two simultaneous creations with one e-mail: one 201, one 409 email_taken', async () => {
    const email = uniqueEmail('race');
    const body = {email, name: 'Race', role: 'agent', password: 'race password'};
    const [a, b] = await Promise.all([
      server.api('POST', '/api/v1/users', {session: adminToken, body}),
      server.api('POST', '/api/v1/users', {session: adminToken, body: {...body, email: email.toUpperCase()}}),
    ]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [201, 409], `${a.status} ${a.text} / ${b.status} ${b.text}`);
    assertError(a.status === 409 ? a : b, 409, 'email_taken');
    const winner = a.status === 201 ? a : b;
    made.push({...winner.json, password: body.password});
  });

  test('names are stored verbatim: quotes, markup and Turkish letters', async () => {
    const name = `O'Brien "Ğüşİıöç" <script>alert(1)</script> ; DROP TABLE core_users; --`;
    const r = await server.api('POST', '/api/v1/users', {session: adminToken,
      body: {email: uniqueEmail('verbatim'), name, role: 'agent', password: 'verbatim password'}});
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.name, name);
    const back = await server.api('GET', `/api/v1/users/${r.json.id}`, {session: adminToken});
    assert.equal(back.json.name, name);
    made.push({...r.json, password: 'verbatim password'});
  });

  test('GET /api/v1/users/{id} answers the same user', async () => {
    for (const u of made) {
      const r = await server.api('GET', `/api/v1/users/${u.id}`, {session: adminToken});
      assert.equal(r.status, 200, r.text);
      const {password, ...want} = u;
      assert.deepEqual(r.json, want);
    }
  });

  test('new users can log in with their password', async () => {
    const sessions = await Promise.all(made.slice(0, 2).map((u) => login(server, u.email, u.password)));
    sessions.forEach((s, i) => assert.equal(s.user.id, made[i].id));
  });
});

describe('list paging', () => {
  test('limit=2 walks every user exactly once, next_cursor null at the end', async () => {
    const all = await server.api('GET', '/api/v1/users?limit=200', {session: adminToken});
    assert.equal(all.status, 200);
    assert.equal(all.json.next_cursor, null);
    const ids = all.json.items.map((u) => u.id);
    assert.equal(ids.length, 1 + made.length, 'the admin and the users made here');
    all.json.items.forEach((u) => assertUser(u));

    const pages = [];
    let cursor = null;
    do {
      const q = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const r = await server.api('GET', `/api/v1/users?limit=2${q}`, {session: adminToken});
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.items.length <= 2 && r.json.items.length > 0, `page size ${r.json.items.length}`);
      pages.push(r.json.items.map((u) => u.id));
      cursor = r.json.next_cursor;
      assert.ok(cursor === null || typeof cursor === 'string');
      assert.ok(pages.length <= 10, 'too many pages');
    } while (cursor !== null);
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 2, 1]);
    const walked = pages.flat();
    assert.equal(new Set(walked).size, walked.length, 'no user twice');
    assert.deepEqual([...walked].sort(), [...ids].sort());
  });

  test('the default page holds them all (default limit 50)', async () => {
    const r = await server.api('GET', '/api/v1/users', {session: admin});
    assert.equal(r.status, 200);
    assert.equal(r.json.items.length, 1 + made.length);
    assert.equal(r.json.next_cursor, null);
  });

  test('listAll with limit=1 agrees', async () => {
    const items = await listAll(server, '/api/v1/users', {session: adminToken, limit: 1});
    assert.equal(items.length, 1 + made.length);
  });
});

describe('update', () => {
  test('PATCH name and lang (200, updated user, audited)', async () => {
    const u = made[0];
    const r = await server.api('PATCH', `/api/v1/users/${u.id}`, {session: admin, body: {name: 'Ayşe Yılmaz', lang: 'en'}});
    assert.equal(r.status, 200, r.text);
    assertUser(r.json, {id: u.id, name: 'Ayşe Yılmaz', lang: 'en', email: u.email, role: 'agent'});
    assert.ok(r.json.updated_at >= u.updated_at);
    const items = await eventually(() => auditAll(server, adminToken), (it) => it.some((a) => a.action === 'user.updated'));
    assert.ok(items.some((a) => a.action === 'user.updated'));
  });

  test('PATCH role: agent -> admin -> agent', async () => {
    const u = made[1];
    let r = await server.api('PATCH', `/api/v1/users/${u.id}`, {session: adminToken, body: {role: 'admin'}});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.role, 'admin');
    r = await server.api('PATCH', `/api/v1/users/${u.id}`, {session: adminToken, body: {role: 'agent'}});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.role, 'agent');
  });
});

describe('deactivate and password reset', () => {
  test('a deactivated user loses its sessions and cannot log in; reactivated, it can', async () => {
    const u = made[3];
    const s = await login(server, u.email, u.password);
    assert.equal((await server.api('GET', '/api/v1/me', {session: s})).status, 200);

    const r = await server.api('PATCH', `/api/v1/users/${u.id}`, {session: admin, body: {active: false}});
    assert.equal(r.status, 200, r.text);
    assertUser(r.json, {id: u.id, active: false});

    assertError(await server.api('GET', '/api/v1/me', {session: s}), 401, 'unauthenticated');
    const again = await server.api('POST', '/api/v1/auth/login', {body: {email: u.email, password: u.password}});
    assert.ok([401, 403].includes(again.status), `deactivated user logged in: ${again.status} ${again.text}`);
    assertError(again, again.status);
    assert.equal(again.cookie, null);

    const back = await server.api('PATCH', `/api/v1/users/${u.id}`, {session: admin, body: {active: true}});
    assert.equal(back.status, 200, back.text);
    assert.equal(back.json.active, true);
    await login(server, u.email, u.password);
  });

  test('an admin resetting a password revokes that user\'s sessions', async () => {
    const u = made[1];
    const s = await login(server, u.email, u.password);
    const r = await server.api('PATCH', `/api/v1/users/${u.id}`, {session: admin, body: {password: 'reset password 9'}});
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes('reset password 9'));
    assertError(await server.api('GET', '/api/v1/me', {session: s}), 401, 'unauthenticated');
    const [oldPw, newPw] = await Promise.all([
      server.api('POST', '/api/v1/auth/login', {body: {email: u.email, password: u.password}}),
      server.api('POST', '/api/v1/auth/login', {body: {email: u.email, password: 'reset password 9'}}),
    ]);
    assertError(oldPw, 401, 'bad_credentials');
    assert.equal(newPw.status, 200, newPw.text);
    // the admin doing it keeps its own session
    assert.equal((await server.api('GET', '/api/v1/me', {session: admin})).status, 200);
  });

  test('PATCH with a too-short password is refused and changes nothing', async () => {
    const r = await server.api('PATCH', `/api/v1/users/${made[0].id}`, {session: adminToken, body: {password: 'short'}});
    assertError(r, 422, 'invalid_field', 'password');
  });
});

describe('the last active admin', () => {
  test('an admin can be deactivated while another active admin remains', async () => {
    const other = made[2]; // created as admin
    const r = await server.api('PATCH', `/api/v1/users/${other.id}`, {session: admin, body: {active: false}});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.active, false);
  });

  test('then the remaining admin can neither be demoted nor deactivated (409 last_admin)', async () => {
    for (const body of [{role: 'agent'}, {active: false}, {role: 'agent', active: false}]) {
      const r = await server.api('PATCH', `/api/v1/users/${admin.user.id}`, {session: admin, body});
      assertError(r, 409, 'last_admin');
    }
    const me = await server.api('GET', '/api/v1/me', {session: admin});
    assert.equal(me.status, 200);
    assertUser(me.json.user, {role: 'admin', active: true});
  });

  test('with the other admin back and then demoted, the first is the last admin again', async () => {
    const other = made[2];
    let r = await server.api('PATCH', `/api/v1/users/${other.id}`, {session: adminToken, body: {active: true}});
    assert.equal(r.status, 200, r.text);
    r = await server.api('PATCH', `/api/v1/users/${other.id}`, {session: adminToken, body: {role: 'agent'}});
    assert.equal(r.status, 200, r.text);
    // and back to one admin: the original is last again
    r = await server.api('PATCH', `/api/v1/users/${admin.user.id}`, {session: adminToken, body: {role: 'agent'}});
    assertError(r, 409, 'last_admin');
  });
});
