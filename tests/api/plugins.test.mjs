// The C plugin API, driven through a test-only .so plugin (tests/plugins/capi.c) loaded from <data>/plugins/:
// every host function of ABI 1 as first published, the ABI refusal, the event bus (veto, async delivery, dead
// letters, retry, kill -9), periodic jobs, one-shot timers across a restart, settings, and `destek plugins`. The
// first group loads capi_abi1.so, the same source built against the header as ABI 1 was first published
// (tests/plugins/abi1/destek.h): the host table only grows at the end, so such a plugin keeps working. The functions
// added since are in hostapi.test.mjs.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  BIN, ROOT, T, assertError, cleanup, createToken, createUser, eventually, listAll, login, runCli, setupAdmin,
  startServer, tempDir, sqlite3,
} from './lib.mjs';

const PLUGIN_DIR = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins');

function dataDirWithPlugins(names) {
  const dir = tempDir('destek-plugins-');
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true});
  for (const n of names) {
    const src = n.endsWith('.lua') ? path.join(ROOT, 'tests/plugins', n) : path.join(PLUGIN_DIR, `${n}.so`);
    fs.copyFileSync(src, path.join(dir, 'plugins', path.basename(src)));
  }
  return dir;
}

after(cleanup);

describe('C plugin host', () => {
  let server, admin, agent;
  before(async () => {
    server = await startServer({dataDir: dataDirWithPlugins(['capi_abi1', 'bad_abi', 'policyfix.lua']),
      args: ['--allow-private-net']});
    admin = await setupAdmin(server);
    const u = await createUser(server, admin, {role: 'agent'});
    agent = await login(server, u.email, u.password);
  });

  test('a plugin built for another ABI is refused by name, and the server runs on', async () => {
    assert.match(server.stderrText(), /bad_abi.*ABI 99.*ABI 1: refused/);
    const res = await server.api('GET', '/bad_abi');
    assertError(res, 404, 'not_found');
    const list = await server.api('GET', '/api/v1/plugins', {session: admin});
    assert.equal(list.status, 200);
    const names = list.json.items.map((p) => p.name);
    assert.ok(names.includes('capi'));
    assert.ok(!names.includes('bad_abi'));
    const capi = list.json.items.find((p) => p.name === 'capi');
    assert.equal(capi.version, '1.2.3');
    assert.match(capi.kind, /\.so/);
  });

  test('routes: path parameters, query, headers, settings, language, extra headers', async () => {
    const res = await server.api('GET', '/capi/echo/42?q=%C5%9Fek%C3%A2r', {headers: {'x-test': 'abc', 'accept-language': 'tr-TR'}});
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {id: 42, id_text: '42', q: 'şekâr', x_test: 'abc', lang: 'tr', greeting: 'merhaba'});
    assert.equal(res.headers['x-capi'], 'yes');
    assertError(await server.api('GET', '/capi/echo/abc'), 404, 'not_found');
  });

  test('access levels and plugin scopes', async () => {
    assertError(await server.api('POST', '/capi/notes', {body: {body: 'x'}}), 401, 'unauthenticated');
    assertError(await server.api('GET', '/capi/notes', {session: agent}), 403, 'forbidden');
    const tok = await createToken(server, admin, {scopes: ['capi:read']});
    assert.equal((await server.api('GET', '/capi/notes', {token: tok.secret})).status, 200);
    assertError(await server.api('POST', '/capi/notes', {token: tok.secret, body: {body: 'x'}}), 403, 'forbidden');
    const me = await server.api('GET', '/capi/me', {session: agent});
    assert.equal(me.json.role, 'agent');
    assert.equal(me.json.email, agent.email);
    assert.equal(me.json.user_id, agent.user.id);
  });

  test('emit: data and event commit together; a sync veto takes back both and becomes the response', async () => {
    const ok = await server.api('POST', '/capi/notes', {session: agent, body: {body: 'kargo gecikti'}});
    assert.equal(ok.status, 201);
    const vetoed = await server.api('POST', '/capi/notes', {session: agent, body: {body: 'veto-me'}});
    assertError(vetoed, 422, 'vetoed');
    assert.match(vetoed.json.error.message, /veto-me are not allowed/);
    const notes = (await server.api('GET', '/capi/notes', {session: admin})).json.items;
    assert.deepEqual(notes.map((n) => n.body), ['kargo gecikti']);
    const events = await listAll(server, '/api/v1/events?event=capi.note_added', {session: admin});
    assert.equal(events.length, 1);
    assert.equal(events[0].subject, `capi_note:${ok.json.id}`);
    assert.equal(events[0].payload.body, 'kargo gecikti');
    // the async subscriber ran after commit, in its own transaction
    const log = await eventually(() => server.api('GET', '/capi/log', {session: agent}),
      (r) => r.json.items.some((i) => i.kind === 'capi.note_added'));
    assert.ok(log.json.items.some((i) => i.kind === 'capi.note_added' && i.ref === `capi_note:${ok.json.id}`));
  });

  test('core events reach plugin subscribers (user.created)', async () => {
    const u = await createUser(server, admin, {role: 'agent'});
    const log = await eventually(() => server.api('GET', '/capi/log', {session: agent}),
      (r) => r.json.items.some((i) => i.kind === 'user.created' && i.ref === `user:${u.id}`));
    assert.ok(log.json.items.some((i) => i.kind === 'user.created' && i.ref === `user:${u.id}`));
  });

  test('a failing async subscriber is retried with backoff, dead-lettered, and retried by an admin', async () => {
    const s = await server.api('PATCH', '/api/v1/settings', {session: admin,
      body: {'events.retry_base_seconds': 1, 'events.retry_limit': 2}});
    assert.equal(s.status, 200);
    assert.equal((await server.api('POST', '/capi/fail', {session: agent})).status, 202);
    const dead = await eventually(
      () => server.api('GET', '/api/v1/events/deliveries?status=dead&subscriber=capi:capi.failing', {session: admin}),
      (r) => r.json.items.length === 1, {ms: T(15000)});
    assert.equal(dead.json.items.length, 1);
    const d = dead.json.items[0];
    assert.equal(d.attempts, 2);
    assert.match(d.last_error, /refuses this event on purpose/);
    assert.equal(d.event, 'capi.failing');
    const retry = await server.api('POST', `/api/v1/events/deliveries/${d.id}/retry`, {session: admin});
    assert.equal(retry.status, 202);
    assert.equal(retry.json.status, 'pending');
    assertError(await server.api('POST', '/api/v1/events/deliveries/999999/retry', {session: admin}), 404, 'not_found');
    assertError(await server.api('GET', '/api/v1/events/deliveries?status=weird', {session: admin}), 422, 'invalid_field', 'status');
    assertError(await server.api('GET', '/api/v1/events/deliveries', {session: agent}), 403, 'forbidden');
  });

  test('periodic jobs run', async () => {
    const ticks = await eventually(() => server.api('GET', '/capi/ticks', {session: agent}),
      (r) => r.json.items[0].n >= 2, {ms: T(8000)});
    assert.ok(ticks.json.items[0].n >= 2);
  });

  test('policies defined in Lua are reachable from C (decide)', async () => {
    const res = await server.api('GET', '/capi/decide', {session: agent});
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.result, [42]);
  });

  test('settings: declared by plugins, typed, secrets hidden, nothing half-applied', async () => {
    const list = await server.api('GET', '/api/v1/settings', {session: admin});
    assert.equal(list.status, 200);
    const byName = Object.fromEntries(list.json.items.map((s) => [s.name, s]));
    assert.equal(byName['capi.greeting'].value, 'merhaba');
    assert.equal(byName['capi.greeting'].type, 'string');
    assert.equal(byName['capi.limit'].value, 3);
    assert.equal(byName['capi.api_key'].secret, true);
    assert.equal(byName['capi.api_key'].set, false);

    let res = await server.api('PATCH', '/api/v1/settings', {session: admin,
      body: {'capi.greeting': 'selam', 'capi.limit': 'many'}});
    assertError(res, 422, 'invalid_field', 'capi.limit');
    res = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'capi.greeting': 'selam', 'no.such': 1}});
    assertError(res, 422, 'invalid_field', 'no.such');
    let echo = await server.api('GET', '/capi/echo/1');
    assert.equal(echo.json.greeting, 'merhaba', 'nothing was half-applied');

    res = await server.api('PATCH', '/api/v1/settings', {session: admin,
      body: {'capi.greeting': 'selam', 'capi.limit': 7, 'capi.api_key': 's3cr3t-value'}});
    assert.equal(res.status, 200);
    assert.ok(!res.text.includes('s3cr3t-value'), 'a secret is never returned');
    const key = res.json.items.find((s) => s.name === 'capi.api_key');
    assert.equal(key.set, true);
    assert.equal(key.value, null);
    echo = await server.api('GET', '/capi/echo/1');
    assert.equal(echo.json.greeting, 'selam');
    res = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'capi.greeting': null}});
    assert.equal(res.status, 200);
    assert.equal((await server.api('GET', '/capi/echo/1')).json.greeting, 'merhaba', 'null resets to the default');
    assertError(await server.api('PATCH', '/api/v1/settings', {session: agent, csrf: agent.csrf, body: {'capi.limit': 1}}),
      403, 'forbidden');
    const get = await server.api('GET', '/api/v1/settings', {session: admin});
    assert.ok(!get.text.includes('s3cr3t-value'));
  });
});

describe('durability of events and timers', () => {
  test('an accepted event is delivered after kill -9; a timer due while down fires after restart', async () => {
    const dataDir = dataDirWithPlugins(['capi']);
    let server = await startServer({dataDir});
    const admin = await setupAdmin(server);
    // a timer far enough away not to fire before the kill, then moved to "now" in the database while down
    let res = await server.api('POST', '/capi/timers', {session: admin, body: {key: 'later', in_seconds: 3600}});
    assert.equal(res.status, 201);
    res = await server.api('POST', '/capi/timers', {session: admin, body: {key: 'cancelled', in_seconds: 3600}});
    assert.equal((await server.api('DELETE', '/capi/timers/cancelled', {session: admin})).text, 'cancelled');
    // stop the bus from delivering before the kill: a huge backoff does not help, so kill right after the commit
    res = await server.api('POST', '/capi/notes', {session: admin, body: {body: 'before the crash'}});
    assert.equal(res.status, 201);
    await server.kill9();
    const db = path.join(dataDir, 'destek.db');
    sqlite3(db, "UPDATE core_timers SET due_at = 0 WHERE kind = 'capi.ping' AND key = 'later'");
    // whatever the bus had delivered before the kill, make it pending again to prove redelivery after restart
    sqlite3(db, "UPDATE core_deliveries SET status = 'pending', next_at = 0, attempts = 0 WHERE subscriber = 'capi:capi.note_added'");
    sqlite3(db, "DELETE FROM capi_log");
    server = await startServer({dataDir});
    const session = await login(server, admin.email, admin.password);
    const log = await eventually(() => server.api('GET', '/capi/log', {session}),
      (r) => r.json.items.some((i) => i.kind === 'timer') && r.json.items.some((i) => i.kind === 'capi.note_added'),
      {ms: T(8000)});
    assert.ok(log.json.items.some((i) => i.kind === 'timer' && i.ref === 'later'), JSON.stringify(log.json));
    assert.ok(!log.json.items.some((i) => i.ref === 'cancelled'));
    assert.ok(log.json.items.some((i) => i.kind === 'capi.note_added'));
    assert.equal(sqlite3(db, "SELECT count(*) FROM core_timers WHERE kind = 'capi.ping'").stdout.trim(), '0');
    await server.stop();
  });
});

describe('destek plugins', () => {
  test('lists the loaded plugins with version and kind, with or without a server', async () => {
    const dataDir = dataDirWithPlugins(['capi']);
    let r = await runCli(['plugins', '--data', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /capi\s+1\.2\.3\s+c \(\.so\)/);
    const server = await startServer({dataDir});
    r = await runCli(['plugins', 'list', '--data', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /capi\s+1\.2\.3/);
    r = await runCli(['plugins', 'frobnicate', '--data', dataDir]);
    assert.equal(r.code, 2);
    await server.stop();
    r = await runCli(['plugins', 'reload', '--data', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no server is running/);
  });
});
