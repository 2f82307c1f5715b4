// Every error code of the contract, as scenario tables: request -> status, error code/field, body, headers, and
// (where it matters) which audit events were or were not recorded.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, setupAdmin, login, createUser, createToken, runScenario, uniqueEmail, assertError, assertApiHeaders,
} from './lib.mjs';

const MiB = 1024 * 1024;
const ctx = {server: null, auth: {}, ids: {}};

before(async () => {
  ctx.server = await startServer();
  const s = ctx.server;
  ctx.setupToken = await s.setupToken();
  const admin = await setupAdmin(s);
  ctx.ids.admin = admin.user.id;
  ctx.auth.admin = {cookie: admin.cookie, csrf: admin.csrf};
  const adminTok = await createToken(s, admin, {name: 'errors-admin', scopes: ['admin']});
  ctx.auth.adminToken = {token: adminTok.secret};
  ctx.auth.audit = ctx.auth.adminToken;
  const [agentUser, metricsTok, agentTok, revokedTok, loggedOut] = await Promise.all([
    createUser(s, ctx.auth.adminToken, {email: 'agent@example.com', role: 'agent', password: 'agent password 1'}),
    createToken(s, ctx.auth.adminToken, {name: 'errors-metrics', scopes: ['metrics']}),
    createToken(s, ctx.auth.adminToken, {name: 'errors-agent', scopes: ['agent']}),
    createToken(s, ctx.auth.adminToken, {name: 'errors-revoked', scopes: ['admin']}),
    login(s, admin.email, admin.password),
  ]);
  ctx.ids.agent = agentUser.id;
  ctx.ids.token = metricsTok.id;
  const agent = await login(s, 'agent@example.com', 'agent password 1');
  ctx.auth.agent = {cookie: agent.cookie, csrf: agent.csrf};
  ctx.auth.metricsToken = {token: metricsTok.secret};
  ctx.auth.agentToken = {token: agentTok.secret};
  ctx.auth.revokedToken = {token: revokedTok.secret};
  const del = await s.api('DELETE', `/api/v1/tokens/${revokedTok.id}`, {session: ctx.auth.adminToken});
  assert.equal(del.status, 204, del.text);
  const out = await s.api('POST', '/api/v1/auth/logout', {session: loggedOut});
  assert.equal(out.status, 204, out.text);
  ctx.auth.loggedOut = {cookie: loggedOut.cookie, csrf: loggedOut.csrf};
  ctx.auth.garbageCookie = {cookie: 'destek_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'};
  ctx.auth.badToken = {token: 'dtk_notarealtokennotarealtokennotarealtoken'};
  ctx.auth.none = {};
});

const table = (title, rows) => describe(title, () => {
  for (const row of rows) test(row.name, () => runScenario(ctx, row));
});

const newUser = (over = {}) => () => ({email: uniqueEmail('err'), name: 'Err User', role: 'agent',
  password: 'agent password 1', ...over});
const without = (obj, key) => () => { const o = typeof obj === 'function' ? obj() : {...obj}; delete o[key]; return o; };

// A JSON body of exactly n bytes: {"name":"aaa…","scopes":["metrics"]}
function tokenBodyOfSize(n) {
  const head = '{"name":"';
  const tail = '","scopes":["metrics"]}';
  return head + 'a'.repeat(n - head.length - tail.length) + tail;
}
async function* chunked(str, size = 64 * 1024) {
  for (let i = 0; i < str.length; i += size) yield str.slice(i, i + size);
}
const allows = (...methods) => (v) => typeof v === 'string' && methods.every((m) => new RegExp(`\\b${m}\\b`).test(v));

table('400 bad_json', [
  {name: 'truncated JSON on a public route', method: 'POST', path: '/api/v1/auth/login', rawBody: '{"email":',
    expect: {status: 400, code: 'bad_json'}, noAudit: ['login', 'login_failed']},
  {name: 'truncated JSON on an admin route', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    rawBody: '{"email": "x@example.com"', expect: {status: 400, code: 'bad_json'}, noAudit: ['user.created']},
  {name: 'not JSON at all', method: 'POST', path: '/api/v1/tokens', as: 'adminToken', rawBody: 'name=x&scopes=admin',
    expect: {status: 400, code: 'bad_json'}, noAudit: ['token.created']},
  {name: 'trailing garbage after the object', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    rawBody: '{"name":"x","scopes":["metrics"]} trailing', expect: {status: 400, code: 'bad_json'}},
  {name: 'JSON that is not an object', method: 'POST', path: '/api/v1/tokens', as: 'adminToken', rawBody: '[1,2]',
    expect: {status: [400, 422], code: ['bad_json', 'invalid_field']}},
  {name: 'PATCH with broken JSON', method: 'PATCH', path: '/api/v1/me', as: 'agent', rawBody: '{"lang":tr}',
    expect: {status: 400, code: 'bad_json'}},
]);

table('422 missing_field names the field', [
  {name: 'login without password', method: 'POST', path: '/api/v1/auth/login', body: {email: 'agent@example.com'},
    expect: {status: 422, code: 'missing_field', field: 'password'}},
  {name: 'login without email', method: 'POST', path: '/api/v1/auth/login', body: {password: 'whatever123'},
    expect: {status: 422, code: 'missing_field', field: 'email'}},
  {name: 'user without email', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: without(newUser(), 'email'),
    expect: {status: 422, code: 'missing_field', field: 'email'}, noAudit: ['user.created']},
  {name: 'user without name', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: without(newUser(), 'name'),
    expect: {status: 422, code: 'missing_field', field: 'name'}},
  {name: 'user without role', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: without(newUser(), 'role'),
    expect: {status: 422, code: 'missing_field', field: 'role'}},
  {name: 'user without password', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    body: without(newUser(), 'password'), expect: {status: 422, code: 'missing_field', field: 'password'}},
  {name: 'token without name', method: 'POST', path: '/api/v1/tokens', as: 'adminToken', body: {scopes: ['metrics']},
    expect: {status: 422, code: 'missing_field', field: 'name'}, noAudit: ['token.created']},
  {name: 'null counts as missing', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    body: {name: null, scopes: ['metrics']}, expect: {status: 422, code: ['missing_field', 'invalid_field'], field: 'name'}},
]);

table('422 invalid_field names the field', [
  {name: 'unknown role', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: newUser({role: 'boss'}),
    expect: {status: 422, code: 'invalid_field', field: 'role'}, noAudit: ['user.created']},
  {name: 'email of the wrong type', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: newUser({email: 42}),
    expect: {status: 422, code: 'invalid_field', field: 'email'}},
  {name: 'email that is not an address', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    body: newUser({email: 'not-an-email'}), expect: {status: 422, code: 'invalid_field', field: 'email'}},
  {name: 'name of the wrong type', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: newUser({name: ['x']}),
    expect: {status: 422, code: 'invalid_field', field: 'name'}},
  {name: 'password of 7 characters', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    body: newUser({password: 'x'.repeat(7)}), expect: {status: 422, code: 'invalid_field', field: 'password'}},
  {name: 'password of 1025 characters', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    body: newUser({password: 'x'.repeat(1025)}), expect: {status: 422, code: 'invalid_field', field: 'password'}},
  {name: 'unknown lang', method: 'POST', path: '/api/v1/users', as: 'adminToken', body: newUser({lang: 'de'}),
    expect: {status: 422, code: 'invalid_field', field: 'lang'}},
  {name: 'login email of the wrong type', method: 'POST', path: '/api/v1/auth/login',
    body: {email: 5, password: 'whatever123'}, expect: {status: 422, code: 'invalid_field', field: 'email'}},
  {name: 'unknown token scope', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    body: {name: 'x', scopes: ['root']}, expect: {status: 422, code: 'invalid_field', field: 'scopes'},
    noAudit: ['token.created']},
  {name: 'scopes not an array', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    body: {name: 'x', scopes: 'metrics'}, expect: {status: 422, code: 'invalid_field', field: 'scopes'}},
  {name: 'PATCH user active of the wrong type', method: 'PATCH', path: (c) => `/api/v1/users/${c.ids.agent}`,
    as: 'adminToken', body: {active: 'yes'}, expect: {status: 422, code: 'invalid_field', field: 'active'},
    noAudit: ['user.updated']},
  {name: 'PATCH user unknown role', method: 'PATCH', path: (c) => `/api/v1/users/${c.ids.agent}`, as: 'adminToken',
    body: {role: 'root'}, expect: {status: 422, code: 'invalid_field', field: 'role'}},
  {name: 'PATCH /me unknown lang', method: 'PATCH', path: '/api/v1/me', as: 'agent', body: {lang: 'de'},
    expect: {status: 422, code: 'invalid_field', field: 'lang'}},
  {name: 'limit=0', method: 'GET', path: '/api/v1/users?limit=0', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=201', method: 'GET', path: '/api/v1/users?limit=201', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=-1', method: 'GET', path: '/api/v1/users?limit=-1', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=abc', method: 'GET', path: '/api/v1/users?limit=abc', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=2x', method: 'GET', path: '/api/v1/users?limit=2x', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit with an encoded NUL inside (1%00x)', method: 'GET', path: '/api/v1/users?limit=1%00x', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=99999999999999999999', method: 'GET', path: '/api/v1/users?limit=99999999999999999999',
    as: 'adminToken', expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=1 is fine', method: 'GET', path: '/api/v1/users?limit=1', as: 'adminToken',
    expect: {status: 200, body: {items: (a) => Array.isArray(a) && a.length === 1, next_cursor: (c) => typeof c === 'string'}}},
  {name: 'limit=200 is fine', method: 'GET', path: '/api/v1/users?limit=200', as: 'adminToken',
    expect: {status: 200, body: {next_cursor: null}}},
  {name: 'limit=500 on tokens', method: 'GET', path: '/api/v1/tokens?limit=500', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'limit=0 on audit', method: 'GET', path: '/api/v1/audit?limit=0', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'limit'}},
  {name: 'garbage cursor', method: 'GET', path: '/api/v1/users?cursor=garbage', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'cursor'}},
  {name: 'garbage cursor with quotes and a high byte', method: 'GET', path: '/api/v1/users?cursor=%ff%27%22', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'cursor'}},
  {name: 'garbage cursor starting with an encoded NUL', method: 'GET', path: '/api/v1/users?cursor=%00garbage',
    as: 'adminToken', expect: {status: 422, code: 'invalid_field', field: 'cursor'}},
  {name: 'garbage cursor on audit', method: 'GET', path: '/api/v1/audit?cursor=zzzz', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'cursor'}},
  {name: 'garbage cursor on tokens', method: 'GET', path: '/api/v1/tokens?cursor=-1', as: 'adminToken',
    expect: {status: 422, code: 'invalid_field', field: 'cursor'}},
]);

table('413 body_too_large (1 MiB cap)', [
  {name: '1 MiB + 1 byte', method: 'POST', path: '/api/v1/tokens', as: 'adminToken', rawBody: tokenBodyOfSize(MiB + 1),
    expect: {status: 413, code: 'body_too_large'}, noAudit: ['token.created']},
  {name: 'over 1 MiB on a public route', method: 'POST', path: '/api/v1/auth/login',
    rawBody: '{"email":"a@example.com","password":"' + 'p'.repeat(MiB) + '"}', expect: {status: 413, code: 'body_too_large'}},
  {name: '1 MiB + 1 byte sent chunked (no Content-Length)', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    rawBody: () => chunked(tokenBodyOfSize(MiB + 1)), expect: {status: 413, code: 'body_too_large'},
    noAudit: ['token.created']},
  {name: 'just under 1 MiB is not refused for its size', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    rawBody: tokenBodyOfSize(MiB - 1), expect: {status: [201, 422], notStatus: 413}},
]);

table('404 not_found', [
  {name: 'unknown API route', method: 'GET', path: '/api/v1/nope', as: 'adminToken', expect: {status: 404, code: 'not_found'}},
  {name: 'unknown API route, deeper', method: 'POST', path: '/api/v1/users/1/nope', as: 'adminToken', body: {},
    expect: {status: 404, code: 'not_found'}},
  {name: 'the API root', method: 'GET', path: '/api/v1', as: 'adminToken', expect: {status: 404, code: 'not_found'}},
  {name: 'unknown user id', method: 'GET', path: '/api/v1/users/999999', as: 'adminToken',
    expect: {status: 404, code: 'not_found'}},
  {name: 'PATCH unknown user id', method: 'PATCH', path: '/api/v1/users/999999', as: 'adminToken', body: {name: 'x'},
    expect: {status: 404, code: 'not_found'}},
  {name: 'DELETE unknown token id', method: 'DELETE', path: '/api/v1/tokens/999999', as: 'adminToken',
    expect: {status: 404, code: 'not_found'}},
  {name: 'non-numeric user id', method: 'GET', path: '/api/v1/users/abc', as: 'adminToken',
    expect: {status: [404, 422]}},
  {name: 'user id too big for 64 bits', method: 'GET', path: '/api/v1/users/99999999999999999999', as: 'adminToken',
    expect: {status: [404, 422]}},
  {name: 'negative user id', method: 'GET', path: '/api/v1/users/-1', as: 'adminToken', expect: {status: [404, 422]}},
  {name: 'unknown page outside the API', method: 'GET', path: '/wp-admin/setup.php', expect: {status: 404}},
]);

table('405 method_not_allowed with Allow', [
  {name: 'PUT /healthz', method: 'PUT', path: '/healthz', body: {},
    expect: {status: 405, headers: {allow: allows('GET')}}},
  {name: 'DELETE /api/v1/setup', method: 'DELETE', path: '/api/v1/setup',
    expect: {status: 405, code: 'method_not_allowed', headers: {allow: allows('GET', 'POST')}}},
  {name: 'GET /api/v1/auth/login', method: 'GET', path: '/api/v1/auth/login',
    expect: {status: 405, code: 'method_not_allowed', headers: {allow: allows('POST')}}},
  {name: 'PUT /api/v1/users', method: 'PUT', path: '/api/v1/users', as: 'adminToken', body: {},
    expect: {status: 405, code: 'method_not_allowed', headers: {allow: allows('GET', 'POST')}}},
  {name: 'DELETE /api/v1/users/{id}', method: 'DELETE', path: (c) => `/api/v1/users/${c.ids.agent}`, as: 'adminToken',
    expect: {status: 405, code: 'method_not_allowed', headers: {allow: allows('GET', 'PATCH')}}},
  {name: 'POST /api/v1/me', method: 'POST', path: '/api/v1/me', as: 'adminToken', body: {},
    expect: {status: 405, code: 'method_not_allowed', headers: {allow: allows('GET', 'PATCH')}}},
  {name: 'PATCH /api/v1/tokens/{id}', method: 'PATCH', path: (c) => `/api/v1/tokens/${c.ids.token}`, as: 'adminToken',
    body: {}, expect: {status: 405, code: 'method_not_allowed', headers: {allow: allows('DELETE')}}},
]);

table('401 unauthenticated', [
  {name: 'no session on /me', method: 'GET', path: '/api/v1/me', expect: {status: 401, code: 'unauthenticated'}},
  {name: 'no session on an admin list', method: 'GET', path: '/api/v1/users', expect: {status: 401, code: 'unauthenticated'}},
  {name: 'no session on an admin write', method: 'POST', path: '/api/v1/users', body: newUser(),
    expect: {status: 401, code: 'unauthenticated'}, noAudit: ['user.created']},
  {name: 'no session on /metrics', method: 'GET', path: '/metrics', expect: {status: 401}},
  {name: 'unknown bearer token', method: 'GET', path: '/api/v1/me', as: 'badToken',
    expect: {status: 401, code: 'unauthenticated'}},
  {name: 'bearer token without the dtk_ prefix', method: 'GET', path: '/api/v1/me',
    headers: {authorization: 'Bearer abc'}, expect: {status: 401, code: 'unauthenticated'}},
  {name: 'Basic auth is not a token', method: 'GET', path: '/api/v1/me',
    headers: {authorization: 'Basic YWRtaW5AZXhhbXBsZS5jb206Y29ycmVjdCBob3JzZQ=='}, expect: {status: 401, code: 'unauthenticated'}},
  {name: 'revoked token', method: 'GET', path: '/api/v1/me', as: 'revokedToken', expect: {status: 401, code: 'unauthenticated'}},
  {name: 'revoked token cannot write', method: 'POST', path: '/api/v1/tokens', as: 'revokedToken',
    body: {name: 'x', scopes: ['metrics']}, expect: {status: 401, code: 'unauthenticated'}, noAudit: ['token.created']},
  {name: 'cookie after logout', method: 'GET', path: '/api/v1/me', as: 'loggedOut', expect: {status: 401, code: 'unauthenticated'}},
  {name: 'cookie after logout cannot write', method: 'PATCH', path: '/api/v1/me', as: 'loggedOut', body: {lang: 'en'},
    expect: {status: 401, code: 'unauthenticated'}},
  {name: 'made-up cookie', method: 'GET', path: '/api/v1/me', as: 'garbageCookie', expect: {status: 401, code: 'unauthenticated'}},
  {name: 'empty cookie', method: 'GET', path: '/api/v1/me', headers: {cookie: 'destek_session='},
    expect: {status: 401, code: 'unauthenticated'}},
  {name: 'a public route ignores a bad bearer token', method: 'GET', path: '/api/v1/setup', as: 'badToken',
    expect: {status: 200, body: {needed: false}}},
  {name: 'logout without a session', method: 'POST', path: '/api/v1/auth/logout', body: {},
    expect: {status: 401, code: 'unauthenticated'}},
]);

table('403 forbidden (role and scope)', [
  {name: 'agent lists users', method: 'GET', path: '/api/v1/users', as: 'agent', expect: {status: 403, code: 'forbidden'}},
  {name: 'agent creates a user', method: 'POST', path: '/api/v1/users', as: 'agent', body: newUser({role: 'admin'}),
    expect: {status: 403, code: 'forbidden'}, noAudit: ['user.created']},
  {name: 'agent promotes itself', method: 'PATCH', path: (c) => `/api/v1/users/${c.ids.agent}`, as: 'agent',
    body: {role: 'admin'}, expect: {status: 403, code: 'forbidden'}, noAudit: ['user.updated']},
  {name: 'agent lists tokens', method: 'GET', path: '/api/v1/tokens', as: 'agent', expect: {status: 403, code: 'forbidden'}},
  {name: 'agent creates a token', method: 'POST', path: '/api/v1/tokens', as: 'agent',
    body: {name: 'x', scopes: ['admin']}, expect: {status: 403, code: 'forbidden'}, noAudit: ['token.created']},
  {name: 'agent reads the audit log', method: 'GET', path: '/api/v1/audit', as: 'agent', expect: {status: 403, code: 'forbidden'}},
  {name: 'agent reads /metrics', method: 'GET', path: '/metrics', as: 'agent', expect: {status: 403}},
  {name: 'metrics token on an admin route', method: 'GET', path: '/api/v1/users', as: 'metricsToken',
    expect: {status: 403, code: 'forbidden'}},
  {name: 'metrics token on an agent route', method: 'GET', path: '/api/v1/me', as: 'metricsToken',
    expect: {status: 403, code: 'forbidden'}},
  {name: 'agent token on an admin route', method: 'GET', path: '/api/v1/users', as: 'agentToken',
    expect: {status: 403, code: 'forbidden'}},
  {name: 'agent token on /metrics', method: 'GET', path: '/metrics', as: 'agentToken', expect: {status: 403}},
  {name: 'agent token passes an agent route', method: 'GET', path: '/api/v1/me', as: 'agentToken', expect: {status: 200}},
]);

table('403 csrf_failed on cookie writes; bearer writes need no CSRF token', [
  {name: 'cookie POST without X-CSRF-Token', method: 'POST', path: '/api/v1/tokens', as: 'admin', csrf: false,
    body: {name: 'csrf-1', scopes: ['metrics']}, expect: {status: 403, code: 'csrf_failed'}, noAudit: ['token.created']},
  {name: 'cookie POST with a wrong X-CSRF-Token', method: 'POST', path: '/api/v1/tokens', as: 'admin', csrf: 'wrong',
    body: {name: 'csrf-2', scopes: ['metrics']}, expect: {status: 403, code: 'csrf_failed'}, noAudit: ['token.created']},
  {name: "cookie POST with another session's X-CSRF-Token", method: 'POST', path: '/api/v1/tokens', as: 'admin',
    csrf: (c) => c.auth.agent.csrf, body: {name: 'csrf-3', scopes: ['metrics']}, expect: {status: 403, code: 'csrf_failed'}},
  {name: 'cookie POST with an empty X-CSRF-Token', method: 'POST', path: '/api/v1/tokens', as: 'admin', csrf: false,
    headers: {'x-csrf-token': ''}, body: {name: 'csrf-4', scopes: ['metrics']}, expect: {status: 403, code: 'csrf_failed'}},
  {name: 'cookie PATCH without X-CSRF-Token', method: 'PATCH', path: '/api/v1/me', as: 'agent', csrf: false,
    body: {lang: 'en'}, expect: {status: 403, code: 'csrf_failed'}},
  {name: 'cookie DELETE without X-CSRF-Token', method: 'DELETE', path: (c) => `/api/v1/tokens/${c.ids.token}`, as: 'admin',
    csrf: false, expect: {status: 403, code: 'csrf_failed'}, noAudit: ['token.revoked']},
  {name: 'cookie logout without X-CSRF-Token', method: 'POST', path: '/api/v1/auth/logout', as: 'agent', csrf: false,
    body: {}, expect: {status: 403, code: 'csrf_failed'}, noAudit: ['logout']},
  {name: '... and that session is still alive', method: 'GET', path: '/api/v1/me', as: 'agent', expect: {status: 200}},
  {name: 'cookie POST with the right X-CSRF-Token', method: 'POST', path: '/api/v1/tokens', as: 'admin',
    body: {name: 'csrf-ok', scopes: ['metrics']}, expect: {status: 201}, audit: ['token.created']},
  {name: 'bearer POST needs no X-CSRF-Token', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    body: {name: 'bearer-ok', scopes: ['metrics']}, expect: {status: 201}, audit: ['token.created']},
  {name: 'cookie GET needs no X-CSRF-Token', method: 'GET', path: '/api/v1/users', as: 'admin', csrf: false,
    expect: {status: 200}},
]);

table('415 unsupported_media_type', [
  {name: 'text/plain body', method: 'POST', path: '/api/v1/tokens', as: 'adminToken', contentType: 'text/plain',
    rawBody: '{"name":"x","scopes":["metrics"]}', expect: {status: 415, code: 'unsupported_media_type'},
    noAudit: ['token.created']},
  {name: 'form body on login (a cross-site form post)', method: 'POST', path: '/api/v1/auth/login',
    contentType: 'application/x-www-form-urlencoded', rawBody: 'email=agent%40example.com&password=agent+password+1',
    expect: {status: 415, code: 'unsupported_media_type'}, noAudit: ['login']},
  {name: 'multipart body', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    contentType: 'multipart/form-data; boundary=x', rawBody: '--x\r\n\r\n--x--\r\n',
    expect: {status: 415, code: 'unsupported_media_type'}},
  {name: 'text/plain on PATCH', method: 'PATCH', path: '/api/v1/me', as: 'agent', contentType: 'text/plain',
    rawBody: '{"lang":"en"}', expect: {status: 415, code: 'unsupported_media_type'}},
  {name: 'application/json with a charset is JSON', method: 'POST', path: '/api/v1/tokens', as: 'adminToken',
    contentType: 'application/json; charset=utf-8', rawBody: '{"name":"charset","scopes":["metrics"]}',
    expect: {status: 201}},
]);

table('409 conflicts', [
  {name: 'email_taken', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    body: newUser({email: 'agent@example.com'}), expect: {status: 409, code: 'email_taken'}, noAudit: ['user.created']},
  {name: 'email_taken ignores case', method: 'POST', path: '/api/v1/users', as: 'adminToken',
    body: newUser({email: 'AGENT@Example.COM'}), expect: {status: 409, code: 'email_taken'}},
  {name: 'setup_done with the original setup token', method: 'POST', path: '/api/v1/setup',
    body: (c) => ({token: c.setupToken, email: 'second@example.com', name: 'Second', password: 'second password'}),
    expect: {status: 409, code: 'setup_done'}, noAudit: ['setup', 'user.created']},
  {name: 'last_admin: the only admin deactivates itself', method: 'PATCH', path: (c) => `/api/v1/users/${c.ids.admin}`,
    as: 'adminToken', body: {active: false}, expect: {status: 409, code: 'last_admin'}, noAudit: ['user.updated']},
  {name: 'last_admin: the only admin demotes itself', method: 'PATCH', path: (c) => `/api/v1/users/${c.ids.admin}`,
    as: 'adminToken', body: {role: 'agent'}, expect: {status: 409, code: 'last_admin'}},
  {name: '... and it is still an active admin', method: 'GET', path: (c) => `/api/v1/users/${c.ids.admin}`,
    as: 'adminToken', expect: {status: 200, body: {role: 'admin', active: true}}},
]);

test('every error above carried the standard headers (spot check on a raw 404)', async () => {
  const res = await ctx.server.api('GET', '/api/v1/definitely-not-here');
  assert.ok([401, 404].includes(res.status), res.text);
  assertError(res, res.status);
  assertApiHeaders(res, 'GET /api/v1/definitely-not-here');
});
