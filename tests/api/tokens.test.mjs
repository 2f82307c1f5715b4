// API tokens (create, list without secrets, bearer use, scopes, revoke), the audit log, and /metrics.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, setupAdmin, login, createUser, assertError, assertApiHeaders, assertSecurityHeaders, auditAll, eventually,
  listAll, ISO_UTC,
} from './lib.mjs';
import {wsConnect} from './ws.mjs';

let server;
let admin;
const tok = {}; // name -> {token, secret}

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
});

describe('tokens', () => {
  test('POST /api/v1/tokens answers the token and its secret once', async () => {
    for (const [name, scopes] of [['metrics', ['metrics']], ['admin', ['admin']], ['agent', ['agent']],
      ['both', ['agent', 'metrics']]]) {
      const r = await server.api('POST', '/api/v1/tokens', {session: admin, body: {name: `t-${name}`, scopes}});
      assert.equal(r.status, 201, r.text);
      assertApiHeaders(r, 'POST /api/v1/tokens');
      const t = r.json.token;
      for (const k of ['id', 'name', 'scopes', 'created_at', 'last_used_at', 'revoked']) assert.ok(k in t, `token.${k}`);
      assert.equal(t.name, `t-${name}`);
      assert.deepEqual([...t.scopes].sort(), [...scopes].sort());
      assert.match(t.created_at, ISO_UTC);
      assert.equal(t.last_used_at, null);
      assert.equal(t.revoked, false);
      assert.match(r.json.secret, /^dtk_[A-Za-z0-9_-]{20,}$/);
      tok[name] = {token: t, secret: r.json.secret};
    }
    assert.equal(new Set(Object.values(tok).map((t) => t.secret)).size, 4, 'distinct secrets');
  });

  test('the list never shows a secret', async () => {
    const r = await server.api('GET', '/api/v1/tokens', {session: admin});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.next_cursor, null);
    assert.equal(r.json.items.length, 4);
    for (const t of Object.values(tok)) {
      assert.ok(!r.text.includes(t.secret), 'a secret in the token list');
      assert.ok(!r.text.includes(t.secret.slice(4)), 'a secret (without prefix) in the token list');
    }
    for (const it of r.json.items) {
      assert.ok(!('secret' in it) && !('token_hash' in it) && !('hash' in it), JSON.stringify(it));
      assert.ok(['id', 'name', 'scopes', 'created_at', 'revoked'].every((k) => k in it), JSON.stringify(it));
    }
    const paged = await listAll(server, '/api/v1/tokens', {session: admin, limit: 3});
    assert.equal(paged.length, 4);
  });

  test('a bearer token acts as its creator with no CSRF token', async () => {
    const me = await server.api('GET', '/api/v1/me', {token: tok.admin.secret});
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.user.id, admin.user.id);
    const w = await server.api('POST', '/api/v1/tokens', {token: tok.admin.secret, body: {name: 't-by-bearer', scopes: ['metrics']}});
    assert.equal(w.status, 201, w.text);
    tok.byBearer = {token: w.json.token, secret: w.json.secret};
  });

  test('a bearer token next to a cookie does not excuse the cookie from CSRF', async () => {
    // cookie auth present + a bearer for a different scope: whichever the server picks, a cookie write without
    // CSRF must not go through as the cookie's user
    const r = await server.api('POST', '/api/v1/tokens', {cookie: admin.cookie, token: tok.metrics.secret,
      body: {name: 't-mixed', scopes: ['admin']}});
    assert.ok([401, 403].includes(r.status), `${r.status} ${r.text}`);
  });

  test('scope metrics: /metrics yes, /api/v1/users no', async () => {
    const m = await server.api('GET', '/metrics', {token: tok.metrics.secret});
    assert.equal(m.status, 200, m.text);
    assertError(await server.api('GET', '/api/v1/users', {token: tok.metrics.secret}), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/me', {token: tok.metrics.secret}), 403, 'forbidden');
  });

  test('scope agent: agent routes yes, admin routes and /metrics no', async () => {
    assert.equal((await server.api('GET', '/api/v1/me', {token: tok.agent.secret})).status, 200);
    assertError(await server.api('GET', '/api/v1/users', {token: tok.agent.secret}), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/tokens', {token: tok.agent.secret}), 403, 'forbidden');
    assertError(await server.api('POST', '/api/v1/tokens', {token: tok.agent.secret, body: {name: 'x', scopes: ['admin']}}),
      403, 'forbidden');
    assert.equal((await server.api('GET', '/metrics', {token: tok.agent.secret})).status, 403);
  });

  test('scopes add up: agent+metrics reaches both', async () => {
    assert.equal((await server.api('GET', '/api/v1/me', {token: tok.both.secret})).status, 200);
    assert.equal((await server.api('GET', '/metrics', {token: tok.both.secret})).status, 200);
    assertError(await server.api('GET', '/api/v1/users', {token: tok.both.secret}), 403, 'forbidden');
  });

  test('GET /api/v1/tokens/scopes lists the scopes a token may carry (admins only)', async () => {
    const r = await server.api('GET', '/api/v1/tokens/scopes', {session: admin});
    assert.equal(r.status, 200, r.text);
    assertApiHeaders(r, 'GET /api/v1/tokens/scopes');
    assert.equal(r.json.next_cursor, null);
    for (const s of ['admin', 'agent', 'metrics']) assert.ok(r.json.items.includes(s), `${s} in ${r.text}`);
    assert.ok(r.json.items.every((s) => typeof s === 'string' && /^[a-z0-9:._-]+$/.test(s)), r.text);
    assertError(await server.api('GET', '/api/v1/tokens/scopes', {token: tok.agent.secret}), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/tokens/scopes'), 401, 'unauthenticated');
  });

  test('scope admin: everything', async () => {
    assert.equal((await server.api('GET', '/api/v1/users', {token: tok.admin.secret})).status, 200);
    assert.equal((await server.api('GET', '/metrics', {token: tok.admin.secret})).status, 200);
  });

  test('last_used_at is set once a token has been used', async () => {
    const list = await eventually(async () => (await server.api('GET', '/api/v1/tokens?limit=200', {session: admin})).json.items,
      (items) => items.find((t) => t.id === tok.metrics.token.id)?.last_used_at != null);
    const t = list.find((x) => x.id === tok.metrics.token.id);
    assert.match(String(t.last_used_at), ISO_UTC);
  });

  test('DELETE revokes: 204, then the token is refused with 401 and listed as revoked', async () => {
    const r = await server.api('DELETE', `/api/v1/tokens/${tok.byBearer.token.id}`, {session: admin});
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, '');
    assertError(await server.api('GET', '/metrics', {token: tok.byBearer.secret}), 401, 'unauthenticated');
    assertError(await server.api('GET', '/api/v1/me', {token: tok.byBearer.secret}), 401, 'unauthenticated');
    const list = await server.api('GET', '/api/v1/tokens?limit=200', {session: admin});
    const t = list.json.items.find((x) => x.id === tok.byBearer.token.id);
    assert.ok(t, 'a revoked token stays in the list');
    assert.equal(t.revoked, true);
    // other tokens are untouched
    assert.equal((await server.api('GET', '/metrics', {token: tok.metrics.secret})).status, 200);
  });

  test('a token can be revoked with a bearer token too (no CSRF)', async () => {
    const r = await server.api('DELETE', `/api/v1/tokens/${tok.both.token.id}`, {token: tok.admin.secret});
    assert.equal(r.status, 204, r.text);
    assertError(await server.api('GET', '/metrics', {token: tok.both.secret}), 401, 'unauthenticated');
  });
});

describe('audit log', () => {
  test('holds login, login_failed, user.created, token.created, token.revoked and setup, well-formed', async () => {
    const bad = await server.api('POST', '/api/v1/auth/login', {body: {email: admin.email, password: 'not the password'}});
    assertError(bad, 401, 'bad_credentials');
    await Promise.all([login(server, admin.email, admin.password),
      createUser(server, {token: tok.admin.secret}, {role: 'agent'})]);
    const want = ['setup', 'login', 'login_failed', 'user.created', 'token.created', 'token.revoked'];
    const items = await eventually(() => auditAll(server, admin), (it) => want.every((w) => it.some((a) => a.action === w)));
    const actions = new Set(items.map((a) => a.action));
    for (const w of want) assert.ok(actions.has(w), `audit lacks ${w}: ${[...actions].join(', ')}`);
    for (const it of items) {
      for (const k of ['id', 'at', 'actor', 'action', 'target', 'ip', 'detail']) assert.ok(k in it, `audit item lacks ${k}`);
      assert.match(it.at, ISO_UTC);
    }
    const created = items.filter((a) => a.action === 'token.created');
    assert.ok(created.length >= 5, `token.created entries: ${created.length}`);
    assert.ok(created.some((a) => JSON.stringify(a.actor).includes(admin.email)), 'token.created names its actor');
    const text = JSON.stringify(items);
    for (const t of Object.values(tok)) assert.ok(!text.includes(t.secret), 'a token secret in the audit log');
    assert.ok(!text.includes('not the password') && !text.includes(admin.password), 'a password in the audit log');
    assert.equal(new Set(items.map((a) => a.id)).size, items.length, 'ids are unique');
  });

  test('pages with limit=2 cover the same entries as one big page', async () => {
    const big = await auditAll(server, admin);
    const small = await listAll(server, '/api/v1/audit', {session: admin, limit: 2});
    // entries may be added meanwhile (none should be, but allow it): every entry of the big page is in the walk
    const ids = new Set(small.map((a) => a.id));
    for (const a of big) assert.ok(ids.has(a.id), `audit entry ${a.id} missing from the paged walk`);
    assert.equal(ids.size, small.length, 'no entry twice in the walk');
  });
});

describe('/metrics', () => {
  test('Prometheus text with the core series', async () => {
    await server.api('GET', '/api/v1/nonexistent-route-4711', {session: admin});
    await server.api('GET', `/api/v1/users/${admin.user.id}`, {session: admin});
    const m = await server.api('GET', '/metrics', {session: admin});
    assert.equal(m.status, 200);
    assert.match(m.headers['content-type'], /^text\/plain/);
    assertSecurityHeaders(m, 'GET /metrics');
    const text = m.text;
    assert.match(text, /^destek_http_requests_total\{[^}]*method="GET"[^}]*\} \d+/m);
    assert.match(text, /^destek_http_requests_total\{[^}]*route="[^"]+"[^}]*\} \d+/m);
    assert.match(text, /^destek_http_requests_total\{[^}]*status="2\d\d"[^}]*\} \d+/m);
    assert.match(text, /^destek_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+/m);
    assert.match(text, /^destek_http_request_duration_seconds_(sum|count)\b/m);
    const size = text.match(/^destek_db_size_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+?\d+)?)$/m);
    assert.ok(size, 'destek_db_size_bytes');
    assert.ok(Number(size[1]) > 0, `db size ${size[1]}`);
    assert.match(text, /^destek_uptime_seconds(?:\{[^}]*\})? \d/m);
    assert.match(text, /^# TYPE destek_http_requests_total counter$/m);
    // the route label is the route, not the raw path: ids and unknown paths do not become series of their own
    assert.ok(!text.includes('nonexistent-route-4711'), 'raw unknown path used as a label');
    assert.ok(!new RegExp(`route="/api/v1/users/${admin.user.id}"`).test(text), 'raw id used as a route label');
  });
});

describe('a token never grants more than its owner has now (issue 9, item 10)', () => {
  test('a demoted admin\'s metrics token no longer reads /metrics; its admin token acts as an agent; the list and the stream say so', async () => {
    const b = await createUser(server, admin, {role: 'admin', name: 'Burak Yönetici'});
    const bs = await login(server, b.email, b.password);
    const made = {};
    for (const [name, scopes] of [['metrics', ['metrics']], ['admin', ['admin']], ['agent', ['agent']]]) {
      const r = await server.api('POST', '/api/v1/tokens', {session: bs, body: {name: `b-${name}`, scopes}});
      assert.equal(r.status, 201, r.text);
      made[name] = r.json;
    }
    assert.equal((await server.api('GET', '/metrics', {token: made.metrics.secret})).status, 200);
    assert.equal((await server.api('GET', '/api/v1/users', {token: made.admin.secret})).status, 200);

    const demote = await server.api('PATCH', `/api/v1/users/${b.id}`, {session: admin, body: {role: 'agent'}});
    assert.equal(demote.status, 200, demote.text);
    assertError(await server.api('GET', '/metrics', {token: made.metrics.secret}), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/me', {token: made.metrics.secret}), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/users', {token: made.admin.secret}), 403, 'forbidden');
    assertError(await server.api('GET', '/api/v1/tokens', {token: made.admin.secret}), 403, 'forbidden');
    const me = await server.api('GET', '/api/v1/me', {token: made.admin.secret});
    assert.equal(me.status, 200, 'an admin token of an agent does what an agent may');
    assert.equal(me.json.user.role, 'agent');
    assert.equal((await server.api('GET', '/api/v1/me', {token: made.agent.secret})).status, 200);

    // The tokens list shows what each token can do now beside what it holds.
    const items = (await server.api('GET', '/api/v1/tokens?limit=200', {session: admin})).json.items;
    const row = (name) => items.find((t) => t.id === made[name].token.id);
    assert.deepEqual([row('metrics').scopes, row('metrics').effective_scopes], [['metrics'], []]);
    assert.deepEqual([row('admin').scopes, row('admin').effective_scopes], [['admin'], ['agent']]);
    assert.deepEqual(row('agent').effective_scopes, ['agent']);
    assert.deepEqual(row('metrics').owner, {id: b.id, role: 'agent', active: true});

    // The live stream's bearer path: agents' access for the admin token, none for the metrics token.
    const sock = await wsConnect(server.url + '/api/v1/stream', {token: made.admin.secret});
    await sock.next((f) => f.type === 'hello');
    sock.close();
    const refused = await wsConnect(server.url + '/api/v1/stream', {token: made.metrics.secret}).then(() => null, (e) => e);
    assert.equal(refused && refused.status, 403);

    // Checked at each use: promoted again, the token works again; deactivated, none of them does.
    assert.equal((await server.api('PATCH', `/api/v1/users/${b.id}`, {session: admin, body: {role: 'admin'}})).status, 200);
    assert.equal((await server.api('GET', '/metrics', {token: made.metrics.secret})).status, 200);
    assert.equal((await server.api('PATCH', `/api/v1/users/${b.id}`, {session: admin, body: {active: false}})).status, 200);
    for (const name of ['metrics', 'admin', 'agent']) {
      assertError(await server.api('GET', name === 'metrics' ? '/metrics' : '/api/v1/me', {token: made[name].secret}), 401,
        'unauthenticated');
    }
    const gone = (await server.api('GET', '/api/v1/tokens?limit=200', {session: admin})).json.items
      .find((t) => t.id === made.admin.token.id);
    assert.deepEqual([gone.owner.active, gone.effective_scopes], [false, []]);
  });
});
