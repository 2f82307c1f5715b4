// The visitors' websocket (plugins/chat/socket.c on the core's public websockets, core/wspub.c; issue 16): the
// handshake checks the token and the shop's origins, messages both ways (acknowledged after their commit, a retry
// never doubles), an agent's reply, typing and read marks pushed, ping/pong, and a socket that stops reading closed
// with 4008 while the others go on. One server for the file.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {startServer, setupAdmin, createUser, login, disableOutOfHoursReply, eventually, T} from './lib.mjs';
import {wsConnect} from './ws.mjs';

const ORIGIN = 'https://shop.example';
let server, admin, agent, shop;

const chat = (method, p, {token, body} = {}) =>
  server.api(method, p, {body, headers: {origin: ORIGIN, ...(token ? {'x-chat-token': token} : {})}});

async function visitor() {
  const res = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key, lang: 'tr'}});
  assert.equal(res.status, 201, res.text);
  return res.json.token;
}

const open = (token, {origin = ORIGIN, after = 0} = {}) =>
  wsConnect(`${server.url}/api/v1/chat/socket?token=${encodeURIComponent(token)}&after=${after}`, {origin});

async function ticketOf(email) {
  const r = await eventually(() => server.api('GET', '/api/v1/tickets?channel=chat&limit=200', {session: admin}),
    (l) => l.json.items.some((t) => t.customer && t.customer.email === email));
  return r.json.items.find((t) => t.customer && t.customer.email === email);
}

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {name: 'Ayla Agent', email: 'ayla@example.com'});
  agent = await login(server, a.email, a.password);
  await disableOutOfHoursReply(server, admin);
  const s = await server.api('PATCH', '/api/v1/settings', {session: admin,
    body: {'chat.address_limit': 0, 'chat.visitor_limit': 0, 'chat.session_limit': 0}});
  assert.equal(s.status, 200, s.text);
  const res = await server.api('POST', '/api/v1/chat/shops', {session: admin, body: {name: 'Mağaza', origins: [ORIGIN]}});
  assert.equal(res.status, 201, res.text);
  shop = res.json;
});

test('the handshake: a token of a visitor and a page of the shop, else refused before the upgrade', async () => {
  const token = await visitor();
  await assert.rejects(wsConnect(`${server.url}/api/v1/chat/socket`, {origin: ORIGIN}), (e) => e.status === 401);
  await assert.rejects(open('nope'), (e) => e.status === 401 && e.json.error.code === 'unauthenticated');
  await assert.rejects(open(token, {origin: 'https://evil.example'}), (e) => e.status === 403 &&
    e.json.error.code === 'origin_not_allowed');
  const ws = await open(token);
  const hello = await ws.next((f) => f.type === 'hello');
  assert.ok(hello.visitor_id > 0);
  ws.send({type: 'ping'});
  await ws.next((f) => f.type === 'pong');
  ws.send({type: 'bogus'});
  assert.equal((await ws.next((f) => f.type === 'error')).code, 'unknown_type');
  // An upgrade to a path with no websocket: a proper 404 with the API's JSON error, not a dropped connection.
  await assert.rejects(wsConnect(`${server.url}/api/v1/chat/nothing-here`, {origin: ORIGIN}), (e) => e.status === 404 &&
    e.json && e.json.error.code === 'not_found' && /^application\/json/.test(e.headers['content-type']) &&
    e.headers['x-content-type-options'] === 'nosniff');
  assert.equal((await server.api('GET', '/healthz')).status, 200, 'the server goes on');
  // A plain GET of the path is not a socket (the router answers).
  const plain = await chat('GET', '/api/v1/chat/socket');
  assert.ok(plain.status >= 400 && plain.status < 500, String(plain.status));
  await ws.close();
});

test('messages both ways over the socket: acknowledged once kept, a retry never doubles, the reply pushed', async () => {
  const token = await visitor();
  const ws = await open(token);
  await ws.next((f) => f.type === 'hello');
  ws.send({type: 'message', ref: 1, client_id: 'w1', body: 'Kargom nerede? <b>acil</b>', email: 'deniz@example.com',
    name: 'Deniz'});
  const ack = await ws.next((f) => f.type === 'ack' && f.ref === 1);
  assert.equal(ack.seq, 1);
  assert.equal(ack.duplicate, false);
  ws.send({type: 'message', ref: 2, client_id: 'w1', body: 'Kargom nerede? <b>acil</b>'});
  const again = await ws.next((f) => f.type === 'ack' && f.ref === 2);
  assert.equal(again.duplicate, true);
  assert.equal(again.seq, 1);
  ws.send({type: 'message', ref: 3, body: 'no id'});
  const bad = await ws.next((f) => f.type === 'error' && f.ref === 3);
  assert.equal(bad.field, 'client_id');
  // The visitor's own message comes back as the conversation's (what the widget shows, in order).
  const mine = await ws.next((f) => f.type === 'messages' && f.items.some((m) => m.seq === 1));
  assert.equal(mine.items.find((m) => m.seq === 1).body, 'Kargom nerede? <b>acil</b>');

  const ticket = await ticketOf('deniz@example.com');
  const full = await server.api('GET', `/api/v1/tickets/${ticket.id}`, {session: agent});
  assert.equal(full.json.messages.length, 1, 'one message however often it was sent');
  const reply = await server.api('POST', `/api/v1/tickets/${ticket.id}/messages`, {session: agent,
    body: {body: 'Yarın kargoda.'}});
  assert.equal(reply.status, 201, reply.text);
  const t0 = Date.now();   // from the 201 (the reply itself may take seconds on a loaded machine)
  const pushed = await ws.next((f) => f.type === 'messages' && f.items.some((m) => m.sender === 'agent'));
  assert.ok(Date.now() - t0 < T(3000), `pushed ${Date.now() - t0} ms after the reply's 201`);
  const m = pushed.items.find((x) => x.sender === 'agent');
  assert.equal(m.body, 'Yarın kargoda.');
  assert.equal(m.author, 'Ayla Agent');
  assert.equal(m.seq, 2);

  // Typing both ways, read marks.
  ws.send({type: 'typing', typing: true});
  await eventually(() => server.api('GET', `/api/v1/chat/tickets/${ticket.id}`, {session: agent}),
    (r) => r.json.visitor_typing === true);
  const pres = await server.api('POST', `/api/v1/tickets/${ticket.id}/presence`, {session: agent, body: {typing: true}});
  assert.ok(pres.status < 300, pres.text);
  await ws.next((f) => f.type === 'messages' && f.agent_typing === true);
  ws.send({type: 'read', seq: 2});
  await eventually(() => server.api('GET', `/api/v1/chat/tickets/${ticket.id}`, {session: agent}),
    (r) => r.json.visitor_read_seq === 2);
  assert.equal((await server.api('POST', `/api/v1/chat/tickets/${ticket.id}/read`, {session: agent})).status, 204);
  await ws.next((f) => f.type === 'messages' && f.conversation && f.conversation.agent_read_seq === 2);

  // A socket opened later with after= hears only what is newer; the poll sees the same conversation.
  const late = await open(token, {after: 1});
  const backlog = await late.next((f) => f.type === 'messages');
  assert.deepEqual(backlog.items.map((x) => x.seq), [2]);
  const poll = await chat('GET', '/api/v1/chat/messages?after=0', {token});
  assert.deepEqual(poll.json.items.map((x) => x.seq), [1, 2]);
  await late.close();
  await ws.close();
});

// A client that stops reading: a socket with a tiny receive window (Python sets SO_RCVBUF before connecting; Node
// cannot), which never reads, while the agent writes long replies. Once told to (a line on stdin) it reads until the
// server's close frame (or the end of the stream), and prints its code and how many frames came before it: it waits
// for that condition, not for a time (the 120 s are only a guard against a server that never closes).
const STALLED = `
import socket, sys, base64, os
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048); s.connect((host, port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET %s HTTP/1.1\\r\\nHost: %s:%d\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: %s\\r\\n"
  "Sec-WebSocket-Version: 13\\r\\nOrigin: ${ORIGIN}\\r\\n\\r\\n" % (path, host, port, key)).encode())
data = s.recv(256)
print(data.split(b"\\r\\n")[0].decode(), flush=True)
sys.stdin.readline()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
s.settimeout(120)
while b"\\r\\n\\r\\n" not in data:
    data += s.recv(1 << 16)
data = data[data.index(b"\\r\\n\\r\\n") + 4:]
i, frames, code = 0, 0, None
while code is None:
    while i + 2 <= len(data):
        op, n, h = data[i] & 15, data[i + 1] & 127, 2
        if n == 126: n, h = int.from_bytes(data[i + 2:i + 4], "big"), 4
        elif n == 127: n, h = int.from_bytes(data[i + 2:i + 10], "big"), 10
        if i + h + n > len(data): break
        if op == 8:
            code = int.from_bytes(data[i + h:i + h + 2], "big")
            break
        frames += 1
        i += h + n
    if code is not None: break
    try:
        d = s.recv(1 << 20)
    except Exception:
        break
    if not d: break
    data += d
print("close", code if code is not None else 0, frames, flush=True)
`;

const overflows = async () => {
  const m = await server.api('GET', '/metrics', {session: admin});
  const hit = m.text.match(/^destek_public_socket_overflows_total (\d+)/m);
  return hit ? Number(hit[1]) : 0;
};

test('a socket that stops reading is closed with 4008 (its queue overflowed) while the others go on', async () => {
  // The stalled visitor's conversation (its ticket), made over a socket that is closed again before the flood.
  const token = await visitor();
  const first = await open(token);
  await first.next((f) => f.type === 'hello');
  first.send({type: 'message', ref: 1, client_id: 's1', body: 'Merhaba', email: 'yavas@example.com'});
  await first.next((f) => f.type === 'ack');
  await first.close();
  const ticket = await ticketOf('yavas@example.com');
  // Another visitor on a socket of their own, reading, in a conversation of small messages: it must go on.
  const otherToken = await visitor();
  const other = await open(otherToken);
  await other.next((f) => f.type === 'hello');
  other.send({type: 'message', ref: 1, client_id: 'o1', body: 'Ben de buradayım', email: 'hizli@example.com'});
  await other.next((f) => f.type === 'ack');
  const otherTicket = await ticketOf('hizli@example.com');

  const before = await overflows();
  const u = new URL(server.url);
  const py = spawn('python3', ['-c', STALLED, u.hostname, u.port, `/api/v1/chat/socket?token=${token}&after=1`]);
  let out = '';
  const lines = [];
  py.stdout.on('data', (d) => {   // whole lines only: a chunk may end mid-line
    out += d.toString();
    const parts = out.split('\n');
    out = parts.pop();
    lines.push(...parts);
  });
  try {
    await eventually(async () => lines, (l) => l.length >= 1, {ms: T(30000)});
    assert.match(lines[0], /101/);
    const long = 'x'.repeat(60000);
    let overflowed = false;
    for (let i = 0; i < 300 && !overflowed; i++) {
      const r = await server.api('POST', `/api/v1/tickets/${ticket.id}/messages`, {session: agent, body: {body: `${i} ${long}`}});
      assert.equal(r.status, 201, r.text);
      if (i % 2 === 1) overflowed = (await overflows()) > before;
    }
    assert.ok(overflowed, 'the stalled socket overflowed');
    py.stdin.write('\n');
    await eventually(async () => lines, (l) => l.length >= 2, {ms: T(120000)});
    assert.match(lines[1], /^close 4008 /, 'what was queued went out, then the close');
    assert.equal(await overflows(), before + 1, 'only the stalled socket overflowed');
    // The other visitor's socket went on: it answers, and hears its own conversation's reply.
    other.send({type: 'ping'});
    await other.next((f) => f.type === 'pong', T(10000));
    const r = await server.api('POST', `/api/v1/tickets/${otherTicket.id}/messages`, {session: agent, body: {body: 'Buyrun'}});
    assert.equal(r.status, 201, r.text);
    await other.next((f) => f.type === 'messages' && f.items.some((m) => m.body === 'Buyrun'), T(10000));
  } finally {
    py.kill();
    await other.close();
  }
});

test('how many visitors may hold a socket is a setting read at start; beyond it the handshake is refused and they poll', async () => {
  const s = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'chat.visitor_sockets': 2}});
  assert.equal(s.status, 200, s.text);
  const dataDir = server.dataDir;
  await server.stop();
  server = await startServer({dataDir});
  const socks = [];
  for (let i = 0; i < 2; i++) {
    const ws = await open(await visitor());
    await ws.next((f) => f.type === 'hello');
    socks.push(ws);
  }
  await assert.rejects(open(await visitor()), (e) => e.status === 503);
  // Polling still serves that visitor.
  const token = await visitor();
  const m = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'p1', body: 'Merhaba', email: 'polling@example.com', name: 'Polat'}});
  assert.ok(m.status === 200 || m.status === 201, m.text);
  for (const ws of socks) await ws.close();
  await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'chat.visitor_sockets': 0}});
  await server.stop();
  server = await startServer({dataDir});
  // No socket at all: the handshake is answered 404 (no websocket at that path) and the widget polls.
  await assert.rejects(open(await visitor()), (e) => e.status === 404 && e.json.error.code === 'not_found');
  const s2 = await server.api('GET', '/healthz');
  assert.equal(s2.status, 200);
});
