// Live updates: the websocket GET /api/v1/stream. Who may open it (sessions with the right Origin, agent-scope
// tokens), the event frames that follow a commit (and none for a vetoed or rolled-back change), presence between
// sockets and the short-poll routes, the limits, and a prompt SIGTERM with sockets open.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {ROOT, T, startServer, tempDir, setupAdmin, createUser, login, createToken, uniqueEmail, assertError,
  disableOutOfHoursReply} from './lib.mjs';
import {wsConnect} from './ws.mjs';

let server, admin, agentA, agentB, agentToken;

/** A data directory whose plugins/ holds the test plugin that vetoes. */
function dataWithVeto() {
  const dir = tempDir('destek-stream-');
  fs.chmodSync(dir, 0o700);
  fs.mkdirSync(path.join(dir, 'plugins'));
  fs.copyFileSync(path.join(ROOT, 'tests/lua/live_veto.lua'), path.join(dir, 'plugins', 'live_veto.lua'));
  return dir;
}

before(async () => {
  server = await startServer({dataDir: dataWithVeto()});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const a = await createUser(server, admin, {name: 'Ayşe Yılmaz', role: 'agent'});
  const b = await createUser(server, admin, {name: 'Mehmet Kaya', role: 'agent'});
  agentA = await login(server, a.email, a.password);
  agentB = await login(server, b.email, b.password);
  // Tokens are made by admins and act as their maker: this one is the admin's, limited to the agent scope.
  agentToken = (await createToken(server, admin, {scopes: ['agent']})).secret;
});

const stream = (opts) => wsConnect(server.url + '/api/v1/stream', opts);
const refused = async (opts, status, code) => {
  const err = await stream(opts).then((c) => { c.socket.destroy(); return null; }, (e) => e);
  assert.ok(err && err.status, `the upgrade should have been refused (${status} ${code})`);
  assertError(err, status, code);
  return err;
};
const newTicket = async (subject, extra = {}, session = {token: agentToken}) => {
  const res = await server.api('POST', '/api/v1/tickets', {session, body: {subject, body: 'Siparişim nerede?',
    customer: {email: uniqueEmail('cust'), name: 'Zeynep'}, ...extra}});
  assert.equal(res.status, 201, res.text);
  return res.json;
};
const eventFor = (ticketId, name) => (f) => f.type === 'event' && f.ticket_id === ticketId && (!name || f.name === name);

describe('who may open the stream', () => {
  test('nobody signed in: 401 before the upgrade; a plain GET is told to upgrade (426)', async () => {
    await refused({}, 401, 'unauthenticated');
    await refused({token: 'dtk_not_a_token'}, 401, 'unauthenticated');
    const plain = await server.api('GET', '/api/v1/stream', {session: agentA});
    assertError(plain, 426, 'upgrade_required');
    assert.equal(plain.headers.upgrade, 'websocket');
  });

  test('a session from another site (wrong Origin, or none) is refused with 403', async () => {
    await refused({cookie: agentA.cookie, origin: 'http://evil.example'}, 403, 'origin_refused');
    const u = new URL(server.url);
    await refused({cookie: agentA.cookie, origin: `http://${u.hostname}.evil.example:${u.port}`}, 403, 'origin_refused');
    await refused({cookie: agentA.cookie, origin: `https://evil.example/${u.host}`}, 403, 'origin_refused');
    await refused({cookie: agentA.cookie, origin: 'null'}, 403, 'origin_refused');
    await refused({cookie: agentA.cookie, origin: null}, 403, 'origin_refused');
    // A wrong Origin is refused even with a token; a token may come without one (integrations).
    await refused({token: agentToken, origin: 'http://evil.example'}, 403, 'origin_refused');
  });

  test('a token without the agent scope is refused; the page\'s own origin and an agent token are let in', async () => {
    const metricsOnly = (await createToken(server, admin, {scopes: ['metrics']})).secret;
    await refused({token: metricsOnly, origin: null}, 403, 'forbidden');
    const bySession = await stream({cookie: agentA.cookie});
    const hello = await bySession.next((f) => f.type === 'hello');
    assert.equal(hello.user_id, agentA.user.id);
    assert.equal(typeof hello.seq, 'number');
    assert.equal(hello.heartbeat_seconds, 25);
    const byToken = await stream({token: agentToken, origin: null});
    assert.equal((await byToken.next((f) => f.type === 'hello')).user_id, admin.user.id);
    await bySession.close();
    await byToken.close();
  });

  test('one user may hold 8 sockets; the ninth is refused with 429', async () => {
    const mine = [];
    for (let i = 0; i < 8; i++) mine.push(await stream({cookie: agentB.cookie}));
    await refused({cookie: agentB.cookie}, 429, 'too_many_streams');
    await Promise.all(mine.map((c) => c.close()));
    // Once closed, they no longer count.
    const again = await eventually(() => stream({cookie: agentB.cookie}).catch(() => null));
    await again.close();
  });

  test('signing out closes the session\'s sockets (4401) within the revalidation period', async () => {
    const u = await createUser(server, admin, {role: 'agent'});
    const s = await login(server, u.email, u.password);
    const c = await stream({cookie: s.cookie});
    await c.next((f) => f.type === 'hello');
    const out = await server.api('POST', '/api/v1/auth/logout', {session: s});
    assert.ok(out.status < 300, out.text);
    const closed = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), T(15000)))]);
    assert.deepEqual(closed, {code: 4401, reason: 'session ended'});
  });
});

async function eventually(fn, ms = T(3000)) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('events after commit', () => {
  test('a token client gets ticket.created after POST /api/v1/tickets: small frames, numbered in order', async (t) => {
    const c = await stream({token: agentToken, origin: null});
    const hello = await c.next((f) => f.type === 'hello');
    const sent = Date.now();
    const ticket = await newTicket('Kargom gelmedi');
    const answered = Date.now();
    const f = await c.next(eventFor(ticket.id, 'ticket.created'));
    t.diagnostic(`frame ${f._at - sent} ms after the request was sent, ${f._at - answered} ms after its answer`);
    assert.equal(f.subject, `ticket:${ticket.id}`);
    assert.equal(f.status, 'new');
    assert.equal(f.actor, `user:${admin.user.id}`);
    assert.equal(f.message.kind, 'customer');
    assert.ok(f.seq > hello.seq, 'seq counts up from the hello');
    assert.ok(f.event_id > 0);
    const text = JSON.stringify(f);
    for (const secret of ['Siparişim', 'Kargom', 'Zeynep', 'cust-']) assert.ok(!text.includes(secret), `frame leaks ${secret}`);

    // An internal note: its kind travels, its body does not.
    const note = await server.api('POST', `/api/v1/tickets/${ticket.id}/messages`,
      {token: agentToken, body: {kind: 'note', body: 'gizli iç not: müşteri sorunlu'}});
    assert.equal(note.status, 201, note.text);
    const added = await c.next(eventFor(ticket.id, 'message.added'));
    assert.equal(added.message.kind, 'note');
    assert.ok(!JSON.stringify(added).includes('gizli'));
    assert.ok(added.seq > f.seq);

    // An assignment: ticket.updated (naming the changed fields) and ticket.assigned, in the order emitted.
    const as = await server.api('POST', `/api/v1/tickets/${ticket.id}/assign`, {token: agentToken, body: {assignee_id: 'me'}});
    assert.equal(as.status, 200, as.text);
    const updated = await c.next((x) => eventFor(ticket.id, 'ticket.updated')(x) && x.changes.includes('assignee_id'));
    const assigned = await c.next(eventFor(ticket.id, 'ticket.assigned'));
    assert.equal(updated.assignee_id, admin.user.id);
    assert.equal(assigned.assignee_id, admin.user.id);
    const seqs = c.frames.filter((x) => x.type === 'event').map((x) => x.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'frames arrive in seq order');
    await c.close();
  });

  test('commit to frame: the frame comes with the response (50 tickets)', async (t) => {
    const c = await stream({cookie: agentA.cookie});
    await c.next((f) => f.type === 'hello');
    const lags = [];
    for (let i = 0; i < 50; i++) {
      const sent = Date.now();
      const ticket = await newTicket(`Hız ${i}`);
      const f = await c.next(eventFor(ticket.id, 'ticket.created'));
      lags.push(f._at - sent);
    }
    lags.sort((a, b) => a - b);
    t.diagnostic(`request sent → frame received: median ${lags[25]} ms, p95 ${lags[47]} ms, max ${lags[49]} ms`);
    assert.ok(lags[47] < T(500), `p95 ${lags[47]} ms`);
    await c.close();
  });

  test('a vetoed change and a rolled-back call stream nothing', async () => {
    const c = await stream({cookie: agentA.cookie});
    await c.next((f) => f.type === 'hello');
    const before = await newTicket('Önce', {tags: ['unsolvable']});
    const first = await c.next(eventFor(before.id, 'ticket.created'));

    // Vetoed: the ticket.created of this ticket never commits.
    const vetoed = await server.api('POST', '/api/v1/tickets', {token: agentToken, body: {subject: 'please veto me',
      body: 'x', customer: {email: uniqueEmail('cust'), name: 'V'}}});
    assertError(vetoed, 422, 'vetoed');
    // Rolled back: ticket.updated was emitted and accepted, then ticket.solved was vetoed, so the PATCH is undone.
    const rolled = await server.api('PATCH', `/api/v1/tickets/${before.id}`, {token: agentToken, body: {status: 'solved'}});
    assertError(rolled, 422, 'vetoed');
    assert.equal((await server.api('GET', `/api/v1/tickets/${before.id}`, {token: agentToken})).json.status, 'new');

    const after = await newTicket('Sonra');
    const next = await c.next(eventFor(after.id, 'ticket.created'));
    const events = c.frames.filter((f) => f.type === 'event');
    assert.deepEqual(events.map((f) => [f.name, f.ticket_id]), [['ticket.created', before.id], ['ticket.created', after.id]],
      'only the two committed tickets were streamed');
    assert.equal(next.seq, first.seq + 1, 'no frame was numbered for what rolled back');
    await c.close();
  });
});

describe('presence', () => {
  test('two agents on one ticket see each other viewing and typing; the short-poll routes share the table', async () => {
    const ticket = await newTicket('Çarpışma');
    const subject = `ticket:${ticket.id}`;
    const a = await stream({cookie: agentA.cookie});
    const b = await stream({cookie: agentB.cookie});
    await a.next((f) => f.type === 'hello');
    await b.next((f) => f.type === 'hello');
    const viewers = (f) => f.type === 'presence' && f.subject === subject ? f.viewers : null;
    const has = (f, id, typing) => { const v = viewers(f); return v && v.some((x) => x.user_id === id && (typing === undefined || x.typing === typing)); };

    a.send({type: 'presence', subject, typing: false});
    await a.next((f) => has(f, agentA.user.id, false));
    b.send({type: 'presence', subject, typing: false});
    const seen = await a.next((f) => has(f, agentB.user.id, false));
    assert.deepEqual(seen.viewers.map((v) => v.name).sort(), ['Ayşe Yılmaz', 'Mehmet Kaya']);
    await b.next((f) => has(f, agentA.user.id));

    b.send({type: 'presence', subject, typing: true});
    await a.next((f) => has(f, agentB.user.id, true));
    // The short-poll route sees the socket's agent too, and an agent who only polls reaches the sockets.
    const polled = await server.api('GET', `/api/v1/tickets/${ticket.id}/presence`, {session: agentA});
    assert.deepEqual(polled.json.items.map((i) => [i.user_id, i.typing]), [[agentB.user.id, true]]);
    const poller = await createUser(server, admin, {name: 'Elif Demir', role: 'agent'});
    const ps = await login(server, poller.email, poller.password);
    const post = await server.api('POST', `/api/v1/tickets/${ticket.id}/presence`, {session: ps, body: {typing: true}});
    assert.equal(post.status, 204, post.text);
    await a.next((f) => has(f, poller.id, true));

    // Typing that is not repeated stops; leaving and disconnecting are told.
    await a.next((f) => has(f, poller.id) && has(f, agentB.user.id, false), T(12000));
    b.send({type: 'presence', subject: null});
    await a.next((f) => viewers(f) && !has(f, agentB.user.id));
    b.send({type: 'presence', subject, typing: false});
    await a.next((f) => has(f, agentB.user.id));
    b.socket.destroy();
    await a.next((f) => viewers(f) && !viewers(f).some((v) => v.user_id === agentB.user.id) && has(f, agentA.user.id));
    await a.close();
  });

  test('bad messages get an error frame; abuse closes the socket', async () => {
    const c = await stream({cookie: agentA.cookie});
    await c.next((f) => f.type === 'hello');
    c.sendRaw(1, 'not json');
    assert.equal((await c.next((f) => f.type === 'error')).code, 'invalid_message');
    c.clear();
    c.send({type: 'shout'});
    assert.equal((await c.next((f) => f.type === 'error')).code, 'unknown_type');
    for (const subject of ['ticket:999999', 'order:1', 'ticket:1 OR 1=1', 'ticket:']) {
      c.clear();
      c.send({type: 'presence', subject});
      assert.equal((await c.next((f) => f.type === 'error')).code, 'unknown_subject', subject);
    }
    c.clear();
    c.send({type: 'ping'});
    await c.next((f) => f.type === 'pong');
    c.ping();
    await eventually(() => c.pongs > 0);
    assert.ok(c.pongs > 0, 'a protocol ping is answered');
    c.sendRaw(2, Buffer.from([1, 2, 3]));
    assert.equal((await c.closed).code, 1003);

    const big = await stream({cookie: agentA.cookie});
    await big.next((f) => f.type === 'hello');
    big.send({type: 'presence', subject: 'x'.repeat(5000)});
    assert.equal((await big.closed).code, 1009);
  });
});

test('metrics count the open sockets', async () => {
  const c = await stream({cookie: agentA.cookie});
  await c.next((f) => f.type === 'hello');
  const tok = (await createToken(server, admin, {scopes: ['metrics']})).secret;
  const m = await server.api('GET', '/metrics', {token: tok});
  assert.equal(m.status, 200);
  assert.match(m.text, /^destek_live_connections [1-9]\d*$/m);
  assert.match(m.text, /^destek_live_frames_total \d+$/m);
  await c.close();
});

test('40 sockets open: the 41st is refused (503), requests are still served, SIGTERM exits promptly', async (t) => {
  const s = await startServer();
  const adm = await setupAdmin(s);
  const sessions = [adm];
  for (let i = 0; i < 4; i++) {
    const u = await createUser(s, adm, {role: 'agent'});
    sessions.push(await login(s, u.email, u.password));
  }
  const socks = [];
  for (const sess of sessions) {
    for (let i = 0; i < 8; i++) socks.push(await wsConnect(s.url + '/api/v1/stream', {cookie: sess.cookie}));
  }
  await Promise.all(socks.map((c) => c.next((f) => f.type === 'hello')));
  const u = await createUser(s, adm, {role: 'agent'});
  const extra = await login(s, u.email, u.password);
  const err = await wsConnect(s.url + '/api/v1/stream', {cookie: extra.cookie}).then(() => null, (e) => e);
  assertError(err, 503, 'stream_full');
  assert.equal(err.headers['retry-after'], '30');
  for (let i = 0; i < 20; i++) assert.equal((await s.api('GET', '/healthz')).status, 200);
  const rss = Number((fs.readFileSync(`/proc/${s.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) || [])[1]);
  t.diagnostic(`RSS with 40 sockets open: ${(rss / 1024).toFixed(1)} MB`);

  const t0 = Date.now();
  const {code} = await s.stop();
  const took = Date.now() - t0;
  t.diagnostic(`SIGTERM to exit with 40 sockets open: ${took} ms`);
  assert.equal(code, 0);
  assert.ok(took < T(5000), `exit took ${took} ms`);
  const closes = await Promise.all(socks.map((c) => c.closed));
  assert.ok(closes.every((c) => c.code === 1001 && c.reason === 'server restarting'), JSON.stringify(closes.slice(0, 3)));
});

test('over TLS: frames flow while the client talks (reads and writes at once on one TLS session)', async () => {
  const dir = tempDir('destek-stream-tls-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
    '-keyout', key, '-out', cert], {encoding: 'utf8'});
  assert.equal(r.status, 0, `openssl: ${r.stderr}`);
  const s = await startServer({args: ['--tls-cert', cert, '--tls-key', key]});
  assert.match(s.url, /^https:/);
  const adm = await setupAdmin(s);
  const tok = (await createToken(s, adm, {scopes: ['agent']})).secret;
  const c = await wsConnect(s.url + '/api/v1/stream', {cookie: adm.cookie});
  await c.next((f) => f.type === 'hello');
  const first = await s.api('POST', '/api/v1/tickets', {token: tok, body: {subject: 'TLS', body: 'x',
    customer: {email: uniqueEmail('tls'), name: 'T'}}});
  const subject = `ticket:${first.json.id}`;
  let talking = true;
  const talker = (async () => {
    for (let typing = false; talking; typing = !typing) {
      c.send({type: 'presence', subject, typing});
      await new Promise((res) => setTimeout(res, 120));
    }
  })();
  const ids = [];
  for (let i = 0; i < 60; i++) {
    const res = await s.api('POST', '/api/v1/tickets', {token: tok, body: {subject: `TLS ${i}`, body: 'x',
      customer: {email: uniqueEmail('tls'), name: 'T'}}});
    assert.equal(res.status, 201, res.text);
    ids.push(res.json.id);
  }
  for (const id of ids) await c.next((f) => f.type === 'event' && f.ticket_id === id);
  talking = false;
  await talker;
  assert.ok(c.frames.some((f) => f.type === 'presence'), 'presence answers came back');
  assert.ok(c.frames.every((f) => f.type !== '(not json)' && f.type !== 'error'), 'every frame is whole');
  await c.close();
  await s.stop();
});

