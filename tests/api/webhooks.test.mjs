// Webhooks: the admin API, signed deliveries to a receiver on loopback, retries with backoff, delivery after a
// `kill -9`, the dead-letter state and the admin retry, and the refusal of private addresses without
// --allow-private-net. Events come from the core: admins creating and updating users emit `user.created` and
// `user.updated` (subject "user:<id>"); a name change is the cheap one (no password hashing).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import {
  startServer, setupAdmin, createUser, createToken, assertError, assertApiHeaders, auditAll, eventually, listAll,
  ISO_UTC, T,
} from './lib.mjs';

// ------------------------------------------------------------------------------------------------- the receiver

/**
 * An HTTP receiver on 127.0.0.1 that records every request. `status` is a number or (hit number from 1) => number.
 * listen(port) may be called again after close() to bring it back on the same port.
 */
function receiver({status = 200} = {}) {
  const r = {hits: [], status, port: 0, server: null};
  r.listen = (port = 0) => new Promise((resolve, reject) => {
    r.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let json = null;
        try { json = JSON.parse(body.toString('utf8')); } catch { /* recorded as is */ }
        r.hits.push({at: Date.now(), method: req.method, url: req.url, headers: req.headers, body, json});
        const st = typeof r.status === 'function' ? r.status(r.hits.length) : r.status;
        res.writeHead(st, {'content-type': 'text/plain'});
        res.end(st >= 300 ? 'busy, try later' : 'ok');
      });
    });
    r.server.once('error', reject);
    r.server.listen(port, '127.0.0.1', () => { r.port = r.server.address().port; resolve(r); });
  });
  r.close = () => new Promise((resolve) => {
    if (!r.server) { resolve(); return; }
    const s = r.server;
    r.server = null;
    s.close(() => resolve());
    s.closeAllConnections();   // curl keeps connections alive
  });
  r.url = (p = '/hook') => `http://127.0.0.1:${r.port}${p}`;
  return r;
}

const receivers = new Set();
async function openReceiver(opts) {
  const r = receiver(opts);
  receivers.add(r);
  return r.listen();
}
after(async () => { for (const r of receivers) await r.close(); });

const sign = (secret, body) => 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');

function assertSigned(hit, secret) {
  const want = sign(secret, hit.body);
  const got = String(hit.headers['x-destek-signature'] || '');
  assert.match(got, /^sha256=[0-9a-f]{64}$/, `signature header: ${got}`);
  assert.ok(got.length === want.length && crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want)),
    `X-Destek-Signature ${got} is not HMAC-SHA256(secret, body) = ${want}`);
}

// ------------------------------------------------------------------------------------------------- helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function createWebhook(server, session, body) {
  const res = await server.api('POST', '/api/v1/webhooks', {session, body});
  assert.equal(res.status, 201, `create webhook: ${res.status} ${res.text}`);
  return res.json;
}

async function deleteWebhook(server, session, id) {
  const res = await server.api('DELETE', `/api/v1/webhooks/${id}`, {session});
  assert.equal(res.status, 204, `delete webhook ${id}: ${res.status} ${res.text}`);
}

async function deliveries(server, session, id, query = '') {
  const res = await server.api('GET', `/api/v1/webhooks/${id}/deliveries${query}`, {session});
  assert.equal(res.status, 200, `deliveries of ${id}: ${res.status} ${res.text}`);
  return res.json.items;
}

async function setRetries(server, session, base = 1, limit = 3) {
  const res = await server.api('PATCH', '/api/v1/settings', {session,
    body: {'events.retry_base_seconds': base, 'events.retry_limit': limit}});
  assert.equal(res.status, 200, `PATCH /api/v1/settings (events.retry_*): ${res.status} ${res.text}`);
}

let renames = 0;
/** Emits user.updated for user (a cheap event: a name change). */
async function touchUser(server, session, user) {
  const res = await server.api('PATCH', `/api/v1/users/${user.id}`, {session, body: {name: `Renamed ${++renames}`}});
  assert.equal(res.status, 200, `PATCH user: ${res.status} ${res.text}`);
  return res.json;
}

async function waitFor(what, fn, pred, ms = T(15000)) {
  const v = await eventually(fn, pred, {ms, every: 100});
  assert.ok(pred(v), `timed out waiting for ${what}; last value: ${JSON.stringify(v)?.slice(0, 2000)}`);
  return v;
}

// ------------------------------------------------------------------------------------------------- the suite

let server;
let admin;
let agentToken;
let target; // a user whose updates make events

before(async () => {
  server = await startServer({args: ['--allow-private-net']});
  admin = await setupAdmin(server);
  await setRetries(server, admin, 1, 3);
  target = await createUser(server, admin, {name: 'Event Source'});
  agentToken = (await createToken(server, admin, {name: 'agent-token', scopes: ['agent']})).secret;
});

describe('webhooks: admin API', () => {
  test('only admins: 401 anonymous, 403 for an agent token', async () => {
    for (const [method, p, body] of [['GET', '/api/v1/webhooks'], ['POST', '/api/v1/webhooks', {url: 'http://x.test/', events: ['*']}],
      ['GET', '/api/v1/webhooks/1'], ['PATCH', '/api/v1/webhooks/1', {active: false}], ['DELETE', '/api/v1/webhooks/1'],
      ['GET', '/api/v1/webhooks/1/deliveries'], ['POST', '/api/v1/webhooks/1/deliveries/1/retry']]) {
      assertError(await server.api(method, p, {body}), 401);
      assertError(await server.api(method, p, {token: agentToken, body}), 403, 'forbidden');
    }
  });

  test('validation: url and events', async () => {
    const bad = async (body, field) => assertError(await server.api('POST', '/api/v1/webhooks', {session: admin, body}),
      422, ['invalid_field', 'missing_field'], field);
    await bad({events: ['*']}, 'url');
    await bad({url: 'ftp://example.com/hook', events: ['*']}, 'url');
    await bad({url: 'file:///etc/passwd', events: ['*']}, 'url');
    await bad({url: 'not a url', events: ['*']}, 'url');
    await bad({url: 'https://', events: ['*']}, 'url');
    await bad({url: 42, events: ['*']}, 'url');
    await bad({url: 'https://example.com/hook'}, 'events');
    await bad({url: 'https://example.com/hook', events: []}, 'events');
    await bad({url: 'https://example.com/hook', events: 'ticket.created'}, 'events');
    await bad({url: 'https://example.com/hook', events: ['Ticket Created']}, 'events');
    await bad({url: 'https://example.com/hook', events: ['ticket.*.x']}, 'events');
    await bad({url: 'https://example.com/hook', events: [7]}, 'events');
    await bad({url: 'https://example.com/hook', events: ['*'], active: 'yes'}, 'active');
    const none = await server.api('GET', '/api/v1/webhooks', {session: admin});
    assert.deepEqual(none.json.items, [], 'nothing was created by the refused requests');
    const patch = await createWebhook(server, admin, {url: 'https://example.com/hook', events: ['*']});
    assertError(await server.api('PATCH', `/api/v1/webhooks/${patch.id}`, {session: admin, body: {url: 'gopher://x/'}}),
      422, 'invalid_field', 'url');
    assertError(await server.api('PATCH', `/api/v1/webhooks/${patch.id}`, {session: admin, body: {events: []}}),
      422, 'invalid_field', 'events');
    await deleteWebhook(server, admin, patch.id);
  });

  test('create shows the secret once; list, get, patch and delete never do', async () => {
    const res = await server.api('POST', '/api/v1/webhooks', {session: admin,
      body: {url: 'https://example.com/a', events: ['ticket.*', 'ticket.*', 'user.created'], description: 'shop'}});
    assert.equal(res.status, 201, res.text);
    assertApiHeaders(res, 'POST /api/v1/webhooks');
    const w = res.json;
    assert.equal(typeof w.id, 'number');
    assert.equal(w.url, 'https://example.com/a');
    assert.deepEqual(w.events, ['ticket.*', 'user.created'], 'duplicates dropped');
    assert.equal(w.description, 'shop');
    assert.equal(w.active, true);
    assert.equal(w.has_secret, true);
    assert.match(w.created_at, ISO_UTC);
    assert.match(w.updated_at, ISO_UTC);
    assert.match(w.secret, /^[A-Za-z0-9_-]{43}$/, 'a generated secret: 32 random bytes, base64url');

    const given = await createWebhook(server, admin, {url: 'http://example.com/b', events: ['*'], secret: 'my own secret'});
    assert.equal(given.secret, 'my own secret');

    const list = await server.api('GET', '/api/v1/webhooks', {session: admin});
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.next_cursor, null);
    assert.deepEqual(list.json.items.map((x) => x.id), [w.id, given.id]);
    for (const it of list.json.items) {
      assert.ok(!('secret' in it), `no secret in the list: ${JSON.stringify(it)}`);
      assert.equal(it.has_secret, true);
    }
    assert.ok(!list.text.includes(w.secret) && !list.text.includes('my own secret'), 'a secret leaked into the list');
    assert.equal((await listAll(server, '/api/v1/webhooks', {session: admin, limit: 1})).length, 2);

    const got = await server.api('GET', `/api/v1/webhooks/${w.id}`, {session: admin});
    assert.equal(got.status, 200, got.text);
    assert.ok(!('secret' in got.json));
    assert.equal(got.json.url, w.url);
    assertError(await server.api('GET', '/api/v1/webhooks/999999', {session: admin}), 404, 'not_found');
    assertError(await server.api('GET', '/api/v1/webhooks/abc', {session: admin}), [404, 422]);

    const patched = await server.api('PATCH', `/api/v1/webhooks/${w.id}`, {session: admin,
      body: {url: 'https://example.com/c', events: ['user.*'], active: false, secret: 'rotated'}});
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.url, 'https://example.com/c');
    assert.deepEqual(patched.json.events, ['user.*']);
    assert.equal(patched.json.active, false);
    assert.ok(!patched.text.includes('rotated'), 'PATCH does not echo the secret');
    assertError(await server.api('PATCH', '/api/v1/webhooks/999999', {session: admin, body: {active: true}}), 404);

    for (const id of [w.id, given.id]) await deleteWebhook(server, admin, id);
    assertError(await server.api('GET', `/api/v1/webhooks/${w.id}`, {session: admin}), 404, 'not_found');
    assertError(await server.api('DELETE', `/api/v1/webhooks/${w.id}`, {session: admin}), 404, 'not_found');
    assertError(await server.api('GET', `/api/v1/webhooks/${w.id}/deliveries`, {session: admin}), 404, 'not_found');

    const actions = (await auditAll(server, admin)).filter((a) => String(a.target) === `webhook:${w.id}`).map((a) => a.action);
    for (const a of ['webhook.created', 'webhook.updated', 'webhook.deleted']) assert.ok(actions.includes(a), `audit ${a}: ${actions}`);
    const audit = JSON.stringify(await auditAll(server, admin));
    assert.ok(!audit.includes(w.secret) && !audit.includes('rotated') && !audit.includes('my own secret'),
      'no secret in the audit log');
  });
});

describe('webhooks: delivery', () => {
  test('a signed POST with the event, its headers and a stable delivery id; patterns filter events', async () => {
    const rx = await openReceiver();
    const other = await openReceiver();
    const secret = 'test-secret-' + crypto.randomBytes(8).toString('hex');
    const hook = await createWebhook(server, admin, {url: rx.url('/in?x=1'), events: ['user.*'], secret});
    const nope = await createWebhook(server, admin, {url: other.url(), events: ['ticket.created', 'user.deleted']});
    try {
      const u = await touchUser(server, admin, target);
      const hits = await waitFor('one delivery', () => rx.hits, (h) => h.length >= 1);
      const hit = hits[0];
      assert.equal(hit.method, 'POST');
      assert.equal(hit.url, '/in?x=1');
      assert.match(hit.headers['content-type'], /^application\/json/);
      assert.match(hit.headers['user-agent'], /^Destek\/\d+\.\d+/);
      assert.equal(hit.headers['x-destek-event'], 'user.updated');
      assert.match(hit.headers['x-destek-delivery'], /^[A-Za-z0-9_-]{8,}$/);
      assertSigned(hit, secret);
      assert.notEqual(sign('wrong secret', hit.body), hit.headers['x-destek-signature']);

      const ev = hit.json;
      assert.ok(ev, `the body is JSON: ${hit.body}`);
      assert.equal(typeof ev.id, 'number');
      assert.equal(ev.event, 'user.updated');
      assert.equal(ev.subject, `user:${target.id}`);
      assert.equal(ev.payload.id, target.id);
      assert.equal(ev.payload.name, u.name);
      assert.match(ev.created_at, ISO_UTC);
      assert.equal(ev.delivery, hit.headers['x-destek-delivery']);
      assert.equal(ev.attempt, 1);

      const ds = await waitFor('delivered status', () => deliveries(server, admin, hook.id),
        (items) => items.length === 1 && items[0].status === 'delivered');
      const d = ds[0];
      assert.equal(d.uid, hit.headers['x-destek-delivery']);
      assert.equal(d.event, 'user.updated');
      assert.equal(d.event_id, ev.id);
      assert.equal(d.attempts, 1);
      assert.equal(d.last_error, null);
      assert.equal(d.response_status, 200, 'the receiver\'s answer is in the log');
      assert.match(d.created_at, ISO_UTC);
      assert.match(d.delivered_at, ISO_UTC);

      // a second event: a new delivery id, newest first in the list
      await touchUser(server, admin, target);
      await waitFor('the second delivery', () => rx.hits, (h) => h.length >= 2);
      assert.notEqual(rx.hits[1].headers['x-destek-delivery'], hit.headers['x-destek-delivery']);
      assert.ok(rx.hits[1].json.id > ev.id, 'event ids increase');
      const two = await waitFor('two delivered', () => deliveries(server, admin, hook.id),
        (items) => items.length === 2 && items.every((x) => x.status === 'delivered'));
      assert.ok(two[0].id > two[1].id, 'newest first');
      const paged = await listAll(server, `/api/v1/webhooks/${hook.id}/deliveries`, {session: admin, limit: 1});
      assert.deepEqual(paged.map((x) => x.id), two.map((x) => x.id), 'paging walks the same list');
      assert.equal((await deliveries(server, admin, hook.id, '?status=dead')).length, 0);
      assert.equal((await deliveries(server, admin, hook.id, '?status=delivered')).length, 2);
      assertError(await server.api('GET', `/api/v1/webhooks/${hook.id}/deliveries?status=lost`, {session: admin}),
        422, 'invalid_field', 'status');

      await sleep(T(500));
      assert.equal(other.hits.length, 0, 'a webhook for other events received nothing');
      assert.equal((await deliveries(server, admin, nope.id)).length, 0);
    } finally {
      await deleteWebhook(server, admin, hook.id);
      await deleteWebhook(server, admin, nope.id);
    }
  });

  test('an inactive webhook gets no new events', async () => {
    const rx = await openReceiver();
    const hook = await createWebhook(server, admin, {url: rx.url(), events: ['*'], active: false});
    try {
      await touchUser(server, admin, target);
      await sleep(T(800));
      assert.equal(rx.hits.length, 0);
      assert.equal((await deliveries(server, admin, hook.id)).length, 0);
    } finally {
      await deleteWebhook(server, admin, hook.id);
    }
  });

  test('receiver down (503): retried with backoff, same delivery id, delivered when it comes back', {timeout: T(60000)}, async () => {
    const rx = await openReceiver({status: (n) => (n <= 2 ? 503 : 200)});
    const secret = 'backoff-secret';
    const hook = await createWebhook(server, admin, {url: rx.url(), events: ['user.updated'], secret});
    try {
      await touchUser(server, admin, target);
      const hits = await waitFor('three attempts', () => rx.hits, (h) => h.length >= 3, T(20000));
      const uids = new Set(hits.map((h) => h.headers['x-destek-delivery']));
      assert.equal(uids.size, 1, 'the same X-Destek-Delivery on every attempt');
      assert.deepEqual(hits.map((h) => h.json.attempt), [1, 2, 3]);
      for (const h of hits) assertSigned(h, secret);
      const gap1 = hits[1].at - hits[0].at;
      const gap2 = hits[2].at - hits[1].at;
      assert.ok(gap1 >= 800, `first retry after ~1 s (retry_base_seconds=1), was ${gap1} ms`);
      assert.ok(gap2 >= 1800, `second retry after ~2 s (exponential), was ${gap2} ms`);
      const ds = await waitFor('delivered', () => deliveries(server, admin, hook.id),
        (items) => items.length === 1 && items[0].status === 'delivered');
      assert.equal(ds[0].attempts, 3);
      assert.equal(ds[0].uid, hits[0].headers['x-destek-delivery']);
    } finally {
      await deleteWebhook(server, admin, hook.id);
    }
  });

  test('dead after the retry limit, then retried by an admin and delivered', {timeout: T(60000)}, async () => {
    const rx = await openReceiver({status: 503});
    const hook = await createWebhook(server, admin, {url: rx.url(), events: ['user.updated'], secret: 's'});
    try {
      await touchUser(server, admin, target);
      const dead = await waitFor('the dead letter', () => deliveries(server, admin, hook.id),
        (items) => items.length === 1 && items[0].status === 'dead', T(20000));
      const d = dead[0];
      assert.equal(d.attempts, 3, 'events.retry_limit = 3 attempts');
      assert.match(d.last_error, /HTTP 503/);
      assert.equal(d.response_status, 503);
      assert.equal(rx.hits.length, 3);
      await sleep(T(1500));
      assert.equal(rx.hits.length, 3, 'no attempt after the dead letter');
      assert.equal((await deliveries(server, admin, hook.id, '?status=dead')).length, 1);
      assert.equal((await deliveries(server, admin, hook.id, '?status=pending')).length, 0);

      rx.status = 200;
      assertError(await server.api('POST', `/api/v1/webhooks/${hook.id}/deliveries/999999/retry`, {session: admin}),
        404, 'not_found');
      assertError(await server.api('POST', `/api/v1/webhooks/999999/deliveries/${d.id}/retry`, {session: admin}),
        404, 'not_found');
      const retry = await server.api('POST', `/api/v1/webhooks/${hook.id}/deliveries/${d.id}/retry`, {session: admin});
      assert.equal(retry.status, 202, retry.text);
      assert.equal(retry.json.id, d.id);
      assert.equal(retry.json.uid, d.uid);
      assert.equal(retry.json.status, 'pending');
      const hits = await waitFor('the retried delivery', () => rx.hits, (h) => h.length >= 4);
      assert.equal(hits[3].headers['x-destek-delivery'], d.uid, 'the same delivery id after the admin retry');
      assertSigned(hits[3], 's');
      const ok = await waitFor('delivered', () => deliveries(server, admin, hook.id),
        (items) => items[0]?.status === 'delivered');
      assert.equal(ok[0].last_error, null);
      assert.equal(ok[0].response_status, 200, 'the retried attempt\'s answer replaces the failed one');

      // by uid too (what the receiver saw)
      const again = await server.api('POST', `/api/v1/webhooks/${hook.id}/deliveries/${d.uid}/retry`, {session: admin});
      assert.equal(again.status, 202, again.text);
      await waitFor('a redelivery', () => rx.hits, (h) => h.length >= 5);
      const actions = (await auditAll(server, admin)).filter((a) => a.target === `webhook:${hook.id}`).map((a) => a.action);
      assert.ok(actions.includes('webhook.delivery_retried'), `audit: ${actions}`);
    } finally {
      await deleteWebhook(server, admin, hook.id);
    }
  });

  test('deleting a webhook ends its pending deliveries', {timeout: T(30000)}, async () => {
    const rx = await openReceiver({status: 503});
    const hook = await createWebhook(server, admin, {url: rx.url(), events: ['user.updated']});
    await touchUser(server, admin, target);
    await waitFor('a first attempt', () => rx.hits, (h) => h.length >= 1);
    await deleteWebhook(server, admin, hook.id);
    const n = rx.hits.length;
    await sleep(T(2500));
    assert.equal(rx.hits.length, n, 'no attempt after the webhook was deleted');
  });
});

describe('webhooks: durability and the private-address guard', () => {
  test('an event accepted before kill -9 is delivered after the restart, with the same delivery id', {timeout: T(90000)}, async () => {
    const srv = await startServer({args: ['--allow-private-net']});
    const adm = await setupAdmin(srv);
    await setRetries(srv, adm, 1, 10);
    const user = await createUser(srv, adm, {name: 'Crash Source'});
    // a port with nobody listening: take one, then close it
    const rx = await openReceiver();
    const port = rx.port;
    await rx.close();
    const secret = 'crash-secret';
    const hook = await createWebhook(srv, adm, {url: `http://127.0.0.1:${port}/hook`, events: ['user.updated'], secret});
    await touchUser(srv, adm, user);
    const first = await waitFor('a failed first attempt', () => deliveries(srv, adm, hook.id),
      (items) => items.length === 1 && items[0].attempts >= 1);
    assert.equal(first[0].status, 'pending');
    assert.ok(first[0].last_error, 'the transport error is recorded');
    assert.equal(first[0].response_status, null, 'no HTTP answer, no response status');
    const uid = first[0].uid;

    const {signal} = await srv.kill9();
    assert.equal(signal, 'SIGKILL');
    await rx.listen(port);
    const again = await startServer({dataDir: srv.dataDir, args: ['--allow-private-net']});
    const hits = await waitFor('the delivery after the restart', () => rx.hits, (h) => h.length >= 1, T(30000));
    assert.equal(hits[0].headers['x-destek-delivery'], uid, 'the same X-Destek-Delivery as before the crash');
    assert.equal(hits[0].json.event, 'user.updated');
    assertSigned(hits[0], secret);
    const ds = await waitFor('delivered', () => deliveries(again, adm, hook.id), (items) => items[0]?.status === 'delivered');
    assert.equal(ds.length, 1);
    await sleep(T(500));
    assert.equal(new Set(rx.hits.map((h) => h.headers['x-destek-delivery'])).size, 1, 'one delivery id only');
    await again.stop();
  });

  test('without --allow-private-net a loopback URL is refused, and the reason is in last_error', {timeout: T(30000)}, async () => {
    const srv = await startServer();
    const adm = await setupAdmin(srv);
    await setRetries(srv, adm, 1, 3);
    const rx = await openReceiver();
    // the URL itself is accepted: addresses are checked when the call is made
    const hook = await createWebhook(srv, adm, {url: rx.url(), events: ['user.*']});
    await createUser(srv, adm, {name: 'Private Source'});
    const ds = await waitFor('a refused attempt', () => deliveries(srv, adm, hook.id),
      (items) => items.length === 1 && items[0].attempts >= 1);
    assert.match(ds[0].last_error, /refused: 127\.0\.0\.1 is a loopback address.*--allow-private-net/);
    assert.equal(rx.hits.length, 0, 'the receiver was never contacted');
    // a metadata address and name are refused the same way
    const meta = await createWebhook(srv, adm, {url: 'http://169.254.169.254/latest/meta-data/', events: ['user.*']});
    const named = await createWebhook(srv, adm, {url: 'http://metadata.google.internal/computeMetadata/v1/', events: ['user.*']});
    await createUser(srv, adm, {name: 'Private Source 2'});
    const m = await waitFor('the metadata refusal', () => deliveries(srv, adm, meta.id), (i) => i[0]?.attempts >= 1);
    assert.match(m[0].last_error, /refused: 169\.254\.169\.254 is a link-local address/);
    const n = await waitFor('the metadata name refusal', () => deliveries(srv, adm, named.id), (i) => i[0]?.attempts >= 1);
    assert.match(n[0].last_error, /refused: metadata\.google\.internal/);
    await srv.stop();
  });

  // The binary loads libcurl at its first outbound call (core/curl_lazy.c), not at start: a machine without it must
  // hear so when the server starts, and an outbound call must fail with a reason, the server serving on.
  test('without libcurl: said at start-up; a webhook URL is refused with the reason; the desk serves on', {timeout: T(30000)}, async () => {
    const srv = await startServer({args: ['--allow-private-net'], env: {DESTEK_TEST_LIBCURL: 'libcurl-not-installed.so.4'}});
    await srv.waitStderr(/ERROR net: libcurl-not-installed\.so\.4: cannot open shared object file.*outbound calls will fail until libcurl 4 is installed/,
      T(5000), 'the start-up warning');
    const adm = await setupAdmin(srv);
    const res = await srv.api('POST', '/api/v1/webhooks', {session: adm, body: {url: 'http://127.0.0.1:9/hook', events: ['user.*']}});
    assertError(res, 422, 'invalid_field');
    assert.match(res.json.error.message, /outbound calls are unavailable: libcurl cannot be loaded/);
    assert.equal((await srv.api('GET', '/api/v1/webhooks', {session: adm})).json.items.length, 0);
    assert.equal((await srv.api('GET', '/healthz')).status, 200);
    await srv.stop();
  });
});
