// The host functions added to the ABI-1 table for modules (include/destek.h), driven through two test-only .so
// plugins loaded from <data>/plugins/: hostapi (calls, storage, the commit hook, requests, settings, people,
// secrets, HTML, live updates, outbound HTTP, services, CLI commands) and svcclient (calls hostapi's services as
// another module would). Also: a plugin that calls a private core function is refused with the symbol's name, and
// the binary exports nothing but the promised API.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {spawnSync} from 'node:child_process';

import {
  BIN, ROOT, T, assertError, auditAll, cleanup, createToken, createUser, eventually, listAll, login, runCli, setupAdmin,
  startServer, tempDir,
} from './lib.mjs';
import {wsConnect} from './ws.mjs';

const PLUGIN_DIR = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins');

function dataDirWithPlugins(names) {
  const dir = tempDir('destek-hostapi-');
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true});
  for (const n of names) fs.copyFileSync(path.join(PLUGIN_DIR, `${n}.so`), path.join(dir, 'plugins', `${n}.so`));
  return dir;
}

after(cleanup);

describe('host API for modules', () => {
  let server, admin, agent, agentToken;
  before(async () => {
    server = await startServer({dataDir: dataDirWithPlugins(['hostapi', 'svcclient', 'capi'])});
    admin = await setupAdmin(server);
    const u = await createUser(server, admin, {role: 'agent', name: 'Ayşe Ajan'});
    agent = await login(server, u.email, u.password);
    agentToken = (await createToken(server, admin, {scopes: ['agent']})).secret;
  });

  test('services that name another plugin, or a taken name, are refused at registration (logged)', () => {
    assert.match(server.stderrText(), /service name 'capi\.steal' refused/);
    assert.match(server.stderrText(), /service hostapi\.item_add is already published by hostapi/);
  });

  test('storage: write in the request\'s transaction, read back through the cache, jbuf reply, list paging', async () => {
    const made = [];
    for (const name of ['bir', 'iki', 'üç']) {
      const res = await server.api('POST', '/hostapi/items', {session: agent,
        body: {name, kind: 'b', flag: true, contact: {email: 'Musteri@Example.com'}}});
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(res.json, {id: res.json.id, name, kind: 'b', flag: true, email: 'musteri@example.com'});
      made.push(res.json.id);
    }
    const one = await server.api('GET', `/hostapi/items/${made[2]}`, {session: agent});
    assert.equal(one.json.name, 'üç');
    assert.match(one.headers['content-type'], /application\/json/);
    const page = await server.api('GET', '/hostapi/items?limit=2', {session: agent});
    assert.deepEqual(page.json.items.map((i) => i.name), ['üç', 'iki']);
    assert.equal(typeof page.json.next_cursor, 'string');
    const rest = await server.api('GET', `/hostapi/items?limit=2&cursor=${page.json.next_cursor}`, {session: agent});
    assert.deepEqual(rest.json.items.map((i) => i.name), ['bir']);
    assert.equal(rest.json.next_cursor, null);
    assertError(await server.api('GET', '/hostapi/items?limit=0', {session: agent}), 422, 'invalid_field', 'limit');
    assertError(await server.api('GET', '/hostapi/items/999999', {session: agent}), 404, 'not_found');
    const del = await server.api('DELETE', `/hostapi/items/${made[0]}`, {session: agent, csrf: agent.csrf});
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
  });

  test('field validators, and an error renamed through error_object; a constraint is the plugin\'s 409', async () => {
    assertError(await server.api('POST', '/hostapi/items', {session: agent, body: {}}), 422, 'missing_field', 'name');
    assertError(await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'x', kind: 'c'}}), 422,
      'invalid_field', 'kind');
    assertError(await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'x', flag: 'yes'}}), 422,
      'invalid_field', 'flag');
    assertError(await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'x', contact: {email: 'nope'}}}),
      422, 'invalid_field', 'contact.email');
    assertError(await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'iki'}}), 409, 'name_taken');
  });

  test('the commit hook runs before COMMIT (writing) and after every transaction; audit in the same transaction',
    async () => {
      const before = (await server.api('GET', '/hostapi/stats', {session: agent})).json;
      const res = await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'hook'}});
      assert.equal(res.status, 201);
      const mid = (await server.api('GET', '/hostapi/stats', {session: agent})).json;
      assert.equal(mid.items, before.items + 1, 'the hook rewrote the stats in the committing transaction');
      assert.ok(mid.commits > before.commits);
      // A request that fails after writing: the hook's done sees the rollback.
      assert.equal((await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'hook'}})).status, 409);
      const items = await auditAll(server, admin);
      assert.ok(items.some((i) => i.action === 'hostapi.item_created' && i.target === 'hook' && i.actor === agent.email),
        JSON.stringify(items.slice(0, 3)));
    });

  test('call_new: a side write commits on its own while the request rolls back; a nested writer is refused',
    async () => {
      assertError(await server.api('POST', '/hostapi/side', {session: agent, body: {note: 'kept'}}), 409,
        'refused_on_purpose');
      assert.equal((await server.api('GET', '/hostapi/stats', {session: agent})).json.side, 'kept');
      const n = await server.api('POST', '/hostapi/nested', {session: agent});
      assert.equal(n.status, 200, n.text);
      assert.deepEqual(n.json, {second_writer: false, second_status: 500, second_code: 'internal'});
      await server.waitStderr(/another call of the same thread holds the writer/, T(5000), 'the refusal in the log');
    });

  test('act_as: a call acts for an active user, then for the system again', async () => {
    const res = await server.api('POST', '/hostapi/act-as', {session: admin, body: {user_id: agent.user.id}});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual({...res.json, item: res.json.item > 0},
      {before: 0, rc: 0, user_id: agent.user.id, role: 'agent', email: agent.email, ip: 'local', item: true, after: 0,
        committed: 0});
    const none = await server.api('POST', '/hostapi/act-as', {session: admin, body: {user_id: 999999}});
    assert.equal(none.json.rc, -1);
    assert.equal(none.json.user_id, 0);
  });

  test('user_create: a user that can sign in, user.created and audit; a taken e-mail is 0', async () => {
    const res = await server.api('POST', '/hostapi/users', {session: admin,
      body: {email: 'yeni@example.com', name: 'Yeni Ajan', role: 'agent', password: 'yeni parola 123'}});
    assert.equal(res.status, 201, res.text);
    const s = await login(server, 'yeni@example.com', 'yeni parola 123');
    assert.equal(s.user.id, res.json.id);
    const events = await listAll(server, '/api/v1/events?event=user.created', {session: admin});
    assert.ok(events.some((e) => e.subject === `user:${res.json.id}`));
    const items = await auditAll(server, admin);
    assert.ok(items.some((i) => i.action === 'user.created' && i.target === 'yeni@example.com'));
    assertError(await server.api('POST', '/hostapi/users', {session: admin,
      body: {email: 'yeni@example.com', name: 'X', role: 'agent', password: 'yeni parola 123'}}), 409, 'email_taken');
  });

  test('requests, settings, secrets and HTML', async () => {
    const res = await server.api('GET', '/hostapi/misc');
    assert.equal(res.status, 200, res.text);
    const m = res.json;
    assert.equal(m.ip, '127.0.0.1');
    assert.equal(m.base_url, server.url);
    assert.equal(m.limit, 7);
    assert.equal(m.on, 1);
    assert.equal(m.unknown_setting, 42);
    assert.equal(m.random_changed, true);
    assert.equal(m.sha256_abc, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(m.hmac, 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
    assert.match(m.token, /^[A-Za-z0-9_-]{32}$/);
    assert.doesNotMatch(m.sanitized, /script|onclick|javascript/);
    assert.match(m.sanitized, /<b>kalın<\/b>/);
    assert.match(m.text, /Başlık/);
    assert.match(m.text, /- bir\n- iki/);
    assert.equal(m.curl_ready, 0);
    assert.equal(m.helper_b64url, 'b2s');
    assert.equal(m.has_call_service, true);
    const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'hostapi.limit': 9, 'hostapi.on': false}});
    assert.equal(set.status, 200, set.text);
    const again = (await server.api('GET', '/hostapi/misc')).json;
    assert.equal(again.limit, 9);
    assert.equal(again.on, 0);
  });

  test('body_raw: the bytes as they came, for a signature; the route\'s body cap holds', async () => {
    const text = '{"olay":"sipariş","n":1}';
    const res = await server.api('POST', '/hostapi/raw', {rawBody: text, headers: {'content-type': 'application/json'}});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.len, Buffer.byteLength(text));
    assert.equal(res.json.hmac, crypto.createHmac('sha256', 'secret').update(text).digest('hex'));
    assertError(await server.api('POST', '/hostapi/raw', {rawBody: 'x'.repeat(65)}), 413, 'body_too_large');
  });

  test('services: result, the service\'s own error passed on, 501 service_unavailable for an absent one', async () => {
    let res = await server.api('POST', '/svcclient/call', {session: agent,
      body: {service: 'hostapi.item_add', args: {name: 'from svcclient'}}});
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.result.id > 0);
    const item = await server.api('GET', `/hostapi/items/${res.json.result.id}`, {session: agent});
    assert.equal(item.json.name, 'from svcclient');
    res = await server.api('POST', '/svcclient/call', {session: agent, body: {service: 'hostapi.whoami'}});
    assert.deepEqual(res.json.result, {user_id: agent.user.id, lang: agent.user.lang});
    assertError(await server.api('POST', '/svcclient/call', {session: agent, body: {service: 'hostapi.item_add', args: {}}}),
      422, 'invalid_args');
    res = await server.api('POST', '/svcclient/call', {session: agent, body: {service: 'nosuch.find', args: {}}});
    assertError(res, 501, 'service_unavailable');
    assert.match(res.json.error.message, /nosuch\.find/);
    // hostapi.fail wrote an item before failing; it is gone with the failed service
    assertError(await server.api('POST', '/svcclient/call', {session: agent, body: {service: 'hostapi.fail', args: {name: 'gone'}}}),
      409, 'conflict_here');
    const names = (await listAll(server, '/hostapi/items', {session: agent})).map((i) => i.name);
    assert.ok(!names.includes('gone'));
  });

  test('a failed service takes back only its own writes; the caller goes on in the same transaction', async () => {
    const res = await server.api('POST', '/svcclient/recover', {session: agent, body: {name: 'kurtarma'}});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.fail_status, 409);
    assert.equal(res.json.fail_code, 'conflict_here');
    assert.equal(res.json.absent_status, 501);
    assert.equal(res.json.absent_code, 'service_unavailable');
    assert.equal(res.json.log_rows >= 1, true);
    const names = (await listAll(server, '/hostapi/items', {session: agent})).map((i) => i.name);
    assert.equal(names.filter((n) => n === 'kurtarma').length, 1, 'the failed service\'s item was taken back');
    // the events of the failed service were taken back too: one hostapi.item_added for that name
    const events = await listAll(server, '/api/v1/events?event=hostapi.item_added', {session: admin});
    assert.equal(events.filter((e) => e.payload.name === 'kurtarma').length, 1);
  });

  test('live: the plugin\'s events reach the stream summarized; its subjects can be watched', async () => {
    const c = await wsConnect(`${server.url}/api/v1/stream`, {token: agentToken, origin: null});
    await c.next((f) => f.type === 'hello');
    const res = await server.api('POST', '/hostapi/items', {session: agent, body: {name: 'canlı'}});
    const frame = await c.next((f) => f.type === 'event' && f.name === 'hostapi.item_added' && f.item_id === res.json.id);
    assert.equal(frame.subject, `hostapi:${res.json.id}`);
    assert.equal(frame.payload, undefined, 'never the payload');
    c.send({type: 'presence', subject: `hostapi:${res.json.id}`, typing: false});
    await c.next((f) => f.type === 'presence' && f.subject === `hostapi:${res.json.id}`);
    c.send({type: 'presence', subject: 'hostapi:999999', typing: false});
    assert.equal((await c.next((f) => f.type === 'error')).code, 'unknown_subject');
    await c.close();
  });

  test('presence by HTTP: touch, who else, forget', async () => {
    const touch = await server.api('POST', '/hostapi/presence/5', {session: agent, body: {typing: true}});
    assert.equal(touch.status, 204, touch.text);
    const seen = await server.api('GET', '/hostapi/presence/5', {session: admin});
    assert.deepEqual(seen.json.items.map((i) => [i.user_id, i.name, i.typing]), [[agent.user.id, 'Ayşe Ajan', true]]);
    assert.deepEqual((await server.api('GET', '/hostapi/presence/5', {session: agent})).json.items, [], 'not myself');
    assert.equal((await server.api('DELETE', '/hostapi/presence/5', {session: agent})).status, 204);
    assert.deepEqual((await server.api('GET', '/hostapi/presence/5', {session: admin})).json.items, []);
  });

  test('outbound HTTP goes through the private-address guard', async () => {
    const res = await server.api('POST', '/hostapi/fetch', {session: admin, body: {url: 'http://127.0.0.1:9/x'}});
    assert.equal(res.json.rc, -1);
    assert.match(res.json.error, /loopback/);
  });
});

describe('host API: outbound HTTP with --allow-private-net', () => {
  test('a request reaches a local receiver with its headers and body', async () => {
    let seen = null;
    const rx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { seen = {method: req.method, from: req.headers['x-from'], body}; res.end('pong'); });
    });
    await new Promise((r) => rx.listen(0, '127.0.0.1', r));
    try {
      const server = await startServer({dataDir: dataDirWithPlugins(['hostapi']), args: ['--allow-private-net']});
      const admin = await setupAdmin(server);
      const res = await server.api('POST', '/hostapi/fetch', {session: admin,
        body: {url: `http://127.0.0.1:${rx.address().port}/hook`}});
      assert.deepEqual(res.json, {rc: 0, status: 200, body: 'pong', error: ''});
      assert.deepEqual(seen, {method: 'POST', from: 'hostapi', body: 'ping'});
      await server.stop();
    } finally {
      rx.close();
    }
  });
});

describe('CLI commands of plugins', () => {
  test('listed by destek help; --help; run here without a server and in the server when it runs', async () => {
    const dataDir = dataDirWithPlugins(['hostapi']);
    let r = await runCli(['help', '--data', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hostapi hello\s+answer with the words and input \(a test\) \(hostapi\)/);
    assert.match(r.stdout, /demo\s+fill a new desk/);
    r = await runCli(['hostapi', 'hello', '--help', '--data', dataDir]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: destek hostapi hello \[--data DIR\] \[WORDS\.\.\.\] < INPUT\n\nA test command\./);
    r = await runCli(['hostapi', '--data', dataDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: destek hostapi (hello|offline)/);

    r = await runCli(['hostapi', 'hello', 'a b', 'c', '--data', dataDir], {input: 'girdi ğüş'});
    assert.equal(r.code, 0, r.stderr);
    const here = JSON.parse(r.stdout);
    assert.deepEqual(here.argv, ['a b', 'c']);
    assert.equal(here.input, 'girdi ğüş');
    r = await runCli(['hostapi', 'offline', 'çevrimdışı', '--data', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^added item \d+/);
    r = await runCli(['hostapi', 'offline', '--data', dataDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: destek hostapi offline NAME/);

    const server = await startServer({dataDir});
    r = await runCli(['hostapi', 'hello', '--data', dataDir], {input: 'x'});
    assert.equal(r.code, 0, r.stderr);
    const there = JSON.parse(r.stdout);
    assert.equal(there.pid, server.proc.pid, 'the running server did the work');
    assert.equal(there.items, 1);
    r = await runCli(['hostapi', 'hello', 'fail', '--data', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^destek: \{"argv":\["fail"\]/);
    r = await runCli(['hostapi', 'offline', 'x', '--data', dataDir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /server is running/);
    r = await runCli(['hostapi', 'hello', '--data', dataDir], {input: 'y'.repeat(2000)});
    assert.equal(r.code, 1);
    assert.match(r.stderr, /larger than 1 KiB/);
    await server.stop();
  });
});

describe('the plugin boundary', () => {
  test('a plugin that calls a private core function is refused with the symbol named; the server runs on',
    async () => {
      const server = await startServer({dataDir: dataDirWithPlugins(['private_sym', 'capi'])});
      assert.match(server.stderrText(),
        /private_sym\.so: cannot load: it uses db_reader, which is not part of the plugin API/);
      assertError(await server.api('GET', '/private_sym'), 404, 'not_found');
      const admin = await setupAdmin(server);
      const names = (await server.api('GET', '/api/v1/plugins', {session: admin})).json.items.map((p) => p.name);
      assert.ok(names.includes('capi') && !names.includes('private_sym'));
    });

  test('the binary exports only the plugin API: sqlite3_* and cJSON_*', () => {
    const r = spawnSync('nm', ['-D', '--defined-only', BIN], {encoding: 'utf8'});
    assert.equal(r.status, 0, r.stderr);
    const names = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop());
    // (copy-relocated C library data such as stderr@GLIBC, and the sanitizer runtime's hooks in that build, are not ours)
    const other = names.filter((n) => !/^(sqlite3_|cJSON_|__(asan|ubsan|lsan)_)/.test(n) && !n.includes('@'));
    assert.deepEqual(other, []);
    assert.ok(names.includes('sqlite3_step') && names.includes('cJSON_Parse'));
  });
});
