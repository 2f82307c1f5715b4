// A Lua route's answer kept for signed-in callers (destek.route's private_cache = "role" | "user") and
// destek.db.json, against the real binary with the test plugin tests/lua/private_cache.lua: a kept answer is served
// only to callers who pass the route's access check with the same role (or as the same user), is dropped by every
// write of the plugin (a row changed by a statement or its trigger, a call rolled back), kept through a statement that
// changes nothing, and not served once destek.cache.valid_until's time has passed; db.json writes numbers, text,
// null, :bool, :json and :min columns, the row count and the last row's first column, and refuses blobs, bad JSON
// and writes.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, T, ADMIN_PASSWORD, startServer, tempDir, setupAdmin, createUser, createToken, login} from './lib.mjs';

let server, admin, agent, agent2, adminTok, ordersTok;

before(async () => {
  const dir = tempDir('destek-pcache-');
  fs.chmodSync(dir, 0o700);
  fs.mkdirSync(path.join(dir, 'plugins'));
  for (const f of ['private_cache.lua', 'private_cache_bad.lua'])
    fs.copyFileSync(path.join(ROOT, 'tests/lua', f), path.join(dir, 'plugins', f));
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  await createUser(server, admin, {email: 'a1@example.com', role: 'agent', password: ADMIN_PASSWORD});
  await createUser(server, admin, {email: 'a2@example.com', role: 'agent', password: ADMIN_PASSWORD});
  agent = await login(server, 'a1@example.com', ADMIN_PASSWORD);
  agent2 = await login(server, 'a2@example.com', ADMIN_PASSWORD);
  adminTok = (await createToken(server, admin, {scopes: ['agent']})).secret;
  ordersTok = (await createToken(server, admin, {scopes: ['orders']})).secret;
});

const get = (p, who) => server.api('GET', p, who.startsWith ? {token: who} : {session: who});
const post = (p, body = {}) => server.api('POST', p, {session: agent, body});

test('private_cache on a public route is refused at load', async () => {
  await server.waitStderr(/ERROR lua: badpcache .*not loaded: .*private_cache is for a GET route that needs someone signed in/,
    T(3000), 'badpcache refused');
});

test('kept per role: the same answer for the same role, its own for another role; access is checked first', async () => {
  const a = await get('/api/v1/pcache/role?q=1', agent);
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.role, 'agent');
  assert.match(a.headers['cache-control'] || '', /private/);
  const b = await get('/api/v1/pcache/role?q=1', agent2);
  assert.equal(b.json.run, a.json.run, 'the second agent gets the kept answer');
  assert.equal(b.headers.etag, a.headers.etag);
  const c = await get('/api/v1/pcache/role?q=1', admin);
  assert.equal(c.json.role, 'admin', 'an admin never gets the agents\' copy');
  assert.notEqual(c.json.run, a.json.run);
  const d = await get('/api/v1/pcache/role?q=2', agent);
  assert.equal(d.json.q, '2', 'another query is another answer');
  // an admin's token limited to the agent scope is an admin's: its own copy, as the handler would see it
  const e = await get('/api/v1/pcache/role?q=1', adminTok);
  assert.equal(e.json.role, 'admin');
  // the kept answer goes to no one the route refuses
  const anon = await server.api('GET', '/api/v1/pcache/role?q=1');
  assert.equal(anon.status, 401);
  const scoped = await get('/api/v1/pcache/role?q=1', ordersTok);
  assert.equal(scoped.status, 403, 'a token without the agent scope');
  const adm = await get('/api/v1/pcache/admin', admin);
  assert.equal(adm.status, 200);
  assert.equal((await get('/api/v1/pcache/admin', agent)).status, 403, 'an agent on an admin route, after an admin\'s answer was kept');
  // If-None-Match: 304 for a kept answer
  const nm = await server.api('GET', '/api/v1/pcache/role?q=1', {session: agent, headers: {'if-none-match': a.headers.etag}});
  assert.equal(nm.status, 304);
});

test('kept per user: each agent gets their own', async () => {
  const a = await get('/api/v1/pcache/user', agent);
  const b = await get('/api/v1/pcache/user', agent2);
  assert.notEqual(a.json.id, b.json.id);
  assert.equal((await get('/api/v1/pcache/user', agent)).json.run, a.json.run);
  assert.equal((await get('/api/v1/pcache/user', agent2)).json.run, b.json.run);
});

test('every write of the plugin drops the kept answers; a statement that changes nothing does not', async () => {
  const first = await get('/api/v1/pcache/role?q=w', agent);
  const user = await get('/api/v1/pcache/user', agent);
  assert.equal((await post('/api/v1/pcache/noop')).status, 200);
  assert.equal((await get('/api/v1/pcache/role?q=w', agent)).json.run, first.json.run, 'nothing changed: still kept');
  assert.equal((await post('/api/v1/pcache/items', {name: 'bir', flag: 1, meta: '{"a":[1,2]}', price: 12.5})).status, 201);
  const after1 = await get('/api/v1/pcache/role?q=w', agent);
  assert.notEqual(after1.json.run, first.json.run);
  assert.equal(after1.json.n, first.json.n + 1, 'the new row is seen');
  assert.notEqual((await get('/api/v1/pcache/user', agent)).json.run, user.json.run, 'per-user answers too');
  // a row written only by a trigger
  assert.equal((await post('/api/v1/pcache/trigger')).status, 200);
  const after2 = await get('/api/v1/pcache/role?q=w', agent);
  assert.equal(after2.json.n, after1.json.n + 1);
  // a call that wrote and was rolled back: dropped (what it read may have been the uncommitted row), nothing new
  assert.equal((await post('/api/v1/pcache/rollback')).status, 409);
  const after3 = await get('/api/v1/pcache/role?q=w', agent);
  assert.notEqual(after3.json.run, after2.json.run);
  assert.equal(after3.json.n, after2.json.n);
  // a setting changed: every kept answer goes
  const s = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'returns.review_hours': 25}});
  assert.equal(s.status, 200, s.text);
  assert.notEqual((await get('/api/v1/pcache/role?q=w', agent)).json.run, after3.json.run);
});

test('valid_until: not served from that time on; an error answer is never kept', async () => {
  const a = await get('/api/v1/pcache/until', agent);
  assert.equal((await get('/api/v1/pcache/until', agent)).json.run, a.json.run);
  await new Promise((r) => setTimeout(r, 3100));
  assert.notEqual((await get('/api/v1/pcache/until', agent)).json.run, a.json.run);
  const f = await get('/api/v1/pcache/fails', agent);
  assert.equal(f.status, 404);
  assert.notEqual((await get('/api/v1/pcache/fails', agent)).json.run, f.json.run);
});

test('db.json: types, :bool and :json columns, the count and the last row\'s first column', async () => {
  await post('/api/v1/pcache/items', {name: 'Çağrı "tırnak" \\ ve\nsatır', flag: 0, meta: null, price: 3});
  await post('/api/v1/pcache/items', {name: null, flag: null, meta: '  "düz"  ', price: null});
  const r = await get('/api/v1/pcache/json', agent);
  assert.equal(r.status, 200, r.text);
  const items = r.json.items;
  assert.equal(r.json.n, items.length);
  assert.deepEqual(items[0], {id: items[0].id, name: null, flag: null, meta: 'düz', price: null});
  assert.deepEqual(items[1], {id: items[1].id, name: 'Çağrı "tırnak" \\ ve\nsatır', flag: false, meta: null, price: 3});
  const one = items.find((x) => x.name === 'bir');
  assert.deepEqual(one, {id: one.id, name: 'bir', flag: true, meta: {a: [1, 2]}, price: 12.5});
  assert.equal(r.json.last, items[items.length - 1].id, 'the last row\'s first column: a keyset cursor');
  // ":min" columns are left out of the rows; their smallest number comes back after `last`
  assert.equal(r.json.low, 3);
  assert.equal(r.json.lowid, Math.min(...items.map((x) => x.id)));
  assert.equal(r.json.lowid_int, true);
  const two = await get('/api/v1/pcache/json?limit=2', agent);
  assert.equal(two.json.n, 2);
  assert.equal(two.json.last, two.json.items[1].id);
  const none = await get('/api/v1/pcache/json?limit=0', agent);
  assert.deepEqual(none.json, {items: [], n: 0, last: null, low: null, lowid: null, lowid_int: false});
  const t = await get('/api/v1/pcache/json-text-last', agent);
  assert.equal(t.json.n, 2);
  assert.equal(typeof t.json.last, 'string', 'a text first column comes back as text');
  assert.equal(t.json.last, JSON.parse(t.json.text)[1].name);
  await post('/api/v1/pcache/blob');
  const e = await get('/api/v1/pcache/json-blob', agent);
  assert.equal(e.json.ok, false);
  assert.match(e.json.blob, /db\.json: column data is a blob/);
  assert.match(e.json.json, /db\.json: column x:json: not one JSON value/);
  assert.match(e.json.write, /db\.json: refused: plugin pcache may not write/);
});
