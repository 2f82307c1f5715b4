// Live chat, server side (plugins/chat, issue 16): shops and their origins, visitor tokens (anonymous and signed by the
// shop's backend), a conversation as a ticket of the channel chat, messages both ways with the client's id and a
// sequence, polling, typing and read marks, availability and the offline form, limits, the transcript by mail, and
// an agent's reply reaching the chat instead of the mailbox. One server for the file.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {startServer, setupAdmin, createUser, login, disableOutOfHoursReply, eventually, T} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

const ORIGIN = 'https://shop.example';
let server, admin, agent, shop, smtp;

const chat = (method, p, {token, origin = ORIGIN, body, headers = {}} = {}) =>
  server.api(method, p, {body, headers: {...(origin ? {origin} : {}), ...(token ? {'x-chat-token': token} : {}), ...headers}});

async function settings(values) {
  const res = await server.api('PATCH', '/api/v1/settings', {session: admin, body: values});
  assert.equal(res.status, 200, res.text);
}

function sign(id, email, expires, secret = shop.identity_secret) {
  return crypto.createHmac('sha256', secret).update(`${id}\n${email}\n${expires}`).digest('hex');
}

async function anonymous() {
  const res = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key, lang: 'en'}});
  assert.equal(res.status, 201, res.text);
  return res.json.token;
}

async function chatTicketOf(email) {
  const list = await server.api('GET', '/api/v1/tickets?channel=chat&limit=200', {session: admin});
  assert.equal(list.status, 200, list.text);
  return list.json.items.find((t) => t.customer && t.customer.email === email);
}

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {name: 'Ayla Agent', email: 'ayla@example.com'});
  agent = await login(server, a.email, a.password);
  await disableOutOfHoursReply(server, admin);
  smtp = await startSmtp();
  await settings({'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example', 'chat.address_limit': 1000});
  const res = await server.api('POST', '/api/v1/chat/shops', {session: admin,
    body: {name: 'Örnek Mağaza', origins: [ORIGIN, 'http://127.0.0.1:9']}});
  assert.equal(res.status, 201, res.text);
  shop = res.json;
});

test('an admin makes a shop: site key, origins, a secret shown once, the script tag', async () => {
  assert.match(shop.site_key, /^ck_/);
  assert.match(shop.identity_secret, /^[A-Za-z0-9_-]{40,}$/);
  assert.deepEqual(shop.origins, [ORIGIN, 'http://127.0.0.1:9']);
  assert.match(shop.snippet, /<script src="http:\/\/127\.0\.0\.1:\d+\/chat\/widget\.js" data-site-key="ck_/);
  const list = await server.api('GET', '/api/v1/chat/shops', {session: admin});
  assert.equal(list.status, 200);
  assert.equal(list.json.items.length, 1);
  assert.equal(list.json.items[0].identity_secret, undefined, 'the secret is never listed');
  assert.equal(list.json.items[0].snippet, shop.snippet, 'the list carries the snippet (the admin screen copies it)');
  const bad = await server.api('POST', '/api/v1/chat/shops', {session: admin, body: {name: 'x', origins: ['javascript:alert(1)']}});
  assert.equal(bad.status, 422);
  assert.equal(bad.json.error.field, 'origins');
  const byAgent = await server.api('POST', '/api/v1/chat/shops', {session: agent, body: {name: 'x'}});
  assert.equal(byAgent.status, 403);
});

test('origins: CORS for the shop\'s pages, refused for any other, the preflight answered', async () => {
  const ok = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key}});
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
  const other = await chat('POST', '/api/v1/chat/session', {origin: 'https://evil.example', body: {site_key: shop.site_key}});
  assert.equal(other.status, 403);
  assert.equal(other.json.error.code, 'origin_not_allowed');
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  const pre = await chat('OPTIONS', '/api/v1/chat/messages', {headers: {'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type,x-chat-token'}});
  assert.equal(pre.status, 204, pre.text + JSON.stringify(pre.headers));
  assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
  assert.match(pre.headers['access-control-allow-headers'], /X-Chat-Token/i);
  const preBad = await chat('OPTIONS', '/api/v1/chat/messages', {origin: 'https://evil.example'});
  assert.equal(preBad.status, 403);
  // A token used from another origin is refused too.
  const stolen = await chat('GET', '/api/v1/chat/messages', {token: ok.json.token, origin: 'https://evil.example'});
  assert.equal(stolen.status, 403);
  const noToken = await chat('GET', '/api/v1/chat/messages');
  assert.equal(noToken.status, 401);
  const badKey = await chat('POST', '/api/v1/chat/session', {body: {site_key: 'ck_nope'}});
  assert.equal(badKey.status, 422);
});

test('a shop nobody has chatted on is deleted; one with visitors stays (409); agents are refused', async () => {
  const spare = await server.api('POST', '/api/v1/chat/shops', {session: admin, body: {name: 'Yanlışlıkla', origins: []}});
  assert.equal(spare.status, 201, spare.text);
  const byAgent = await server.api('DELETE', `/api/v1/chat/shops/${spare.json.id}`, {session: agent});
  assert.equal(byAgent.status, 403);
  const del = await server.api('DELETE', `/api/v1/chat/shops/${spare.json.id}`, {session: admin});
  assert.equal(del.status, 204, del.text);
  assert.equal((await server.api('DELETE', `/api/v1/chat/shops/${spare.json.id}`, {session: admin})).status, 404);
  const used = await server.api('DELETE', `/api/v1/chat/shops/${shop.id}`, {session: admin});   // the origins test chatted
  assert.equal(used.status, 409, used.text);
  assert.equal(used.json.error.code, 'shop_in_use');
  const list = await server.api('GET', '/api/v1/chat/shops', {session: admin});
  assert.deepEqual(list.json.items.map((s) => s.id), [shop.id]);
});

test('a conversation is a ticket of the channel chat; retries never duplicate; the sequence orders both ways', async () => {
  const token = await anonymous();
  const noEmail = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'c1', body: 'Merhaba'}});
  assert.equal(noEmail.status, 422);
  assert.equal(noEmail.json.error.field, 'email');
  const first = await chat('POST', '/api/v1/chat/messages', {token,
    body: {client_id: 'c1', body: 'Kargom nerede? <b>acil</b>', email: 'Zeynep@Example.com', name: 'Zeynep'}});
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.seq, 1);
  assert.equal(first.json.duplicate, false);
  const again = await chat('POST', '/api/v1/chat/messages', {token,
    body: {client_id: 'c1', body: 'Kargom nerede? <b>acil</b>', email: 'zeynep@example.com'}});
  assert.equal(again.status, 200);
  assert.deepEqual([again.json.seq, again.json.duplicate, again.json.conversation_id], [1, true, first.json.conversation_id]);
  const second = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'c2', body: 'Sipariş 1042'}});
  assert.equal(second.json.seq, 2);

  const ticket = await chatTicketOf('zeynep@example.com');
  assert.ok(ticket, 'the conversation is a chat ticket');
  assert.equal(ticket.channel, 'chat');
  const full = await server.api('GET', `/api/v1/tickets/${ticket.id}`, {session: agent});
  assert.deepEqual(full.json.messages.map((m) => [m.kind, m.body]),
    [['customer', 'Kargom nerede? <b>acil</b>'], ['customer', 'Sipariş 1042']], 'one ticket message per chat message');

  const info = await server.api('GET', `/api/v1/chat/tickets/${ticket.id}`, {session: agent});
  assert.equal(info.status, 200, info.text);
  assert.equal(info.json.visitor.email, 'zeynep@example.com');
  assert.equal(info.json.visitor.identified, false);
  assert.equal(info.json.last_seq, 2);

  // The agent answers from the ticket view: the reply goes to the chat, not by mail.
  const reply = await server.api('POST', `/api/v1/tickets/${ticket.id}/messages`, {session: agent,
    body: {body: 'Yarın kargoda, Zeynep Hanım.'}});
  assert.equal(reply.status, 201, reply.text);
  // The reply reaches the chat on the bus, after its commit (ticketing's sending.c, chat.channel_send "send").
  let poll = await eventually(() => chat('GET', '/api/v1/chat/messages?after=0', {token}), (p) => p.json.items.length >= 3);
  assert.equal(poll.status, 200);
  assert.deepEqual(poll.json.items.map((m) => [m.seq, m.sender, m.body]),
    [[1, 'visitor', 'Kargom nerede? <b>acil</b>'], [2, 'visitor', 'Sipariş 1042'], [3, 'agent', 'Yarın kargoda, Zeynep Hanım.']]);
  assert.equal(poll.json.items[2].author, 'Ayla Agent');
  assert.equal(poll.json.items[0].client_id, 'c1');
  assert.equal(poll.json.conversation.status, 'open');
  assert.equal(poll.json.conversation.agent_read_seq, 2, 'the agent who answered has read what came before');

  // A waiting poll answers as soon as the agent writes, not when its wait (20 s, the most) runs out. Timed from the
  // reply's 201, not from the poll's start: on a loaded machine the reply itself may take seconds.
  const waiting = chat('GET', '/api/v1/chat/messages?after=3&wait=20', {token});
  await new Promise((r) => setTimeout(r, 300));
  await server.api('POST', `/api/v1/tickets/${ticket.id}/messages`, {session: agent, body: {body: 'Başka bir sorunuz var mı?'}});
  const posted = Date.now();
  poll = await waiting;
  assert.deepEqual(poll.json.items.map((m) => m.seq), [4]);
  assert.ok(Date.now() - posted < Math.min(T(3000), 15000), `the waiting poll answered ${Date.now() - posted} ms after the reply`);

  // Typing and read marks, both ways.
  assert.equal((await chat('POST', '/api/v1/chat/typing', {token, body: {typing: true}})).status, 204);
  let seen = await server.api('GET', `/api/v1/chat/tickets/${ticket.id}`, {session: agent});
  assert.equal(seen.json.visitor_typing, true);
  assert.equal((await chat('POST', '/api/v1/chat/read', {token, body: {seq: 4}})).status, 204);
  assert.equal((await chat('POST', '/api/v1/chat/read', {token, body: {seq: 99}})).status, 204);
  seen = await server.api('GET', `/api/v1/chat/tickets/${ticket.id}`, {session: agent});
  assert.equal(seen.json.visitor_read_seq, 4, 'a read mark never passes the last message');
  const pres = await server.api('POST', `/api/v1/tickets/${ticket.id}/presence`, {session: agent, body: {typing: true}});
  assert.ok(pres.status < 300, pres.text);
  poll = await chat('GET', '/api/v1/chat/messages?after=4', {token});
  assert.equal(poll.json.agent_typing, true);
  assert.equal((await server.api('POST', `/api/v1/chat/tickets/${ticket.id}/read`, {session: agent})).status, 204);
  poll = await chat('GET', '/api/v1/chat/messages?after=4', {token});
  assert.equal(poll.json.conversation.agent_read_seq, 4);

  // The chat ends with its transcript by mail; the agent's replies were never mailed.
  const end = await chat('POST', '/api/v1/chat/end', {token, body: {transcript: true}});
  assert.equal(end.status, 200, end.text);
  const mails = await eventually(() => smtp.mails(), (m) => m.some((x) => /zeynep@example\.com/i.test(x.headers.to)));
  await new Promise((r) => setTimeout(r, 500));
  const toZeynep = smtp.mails().filter((x) => /zeynep@example\.com/i.test(x.headers.to));
  assert.equal(toZeynep.length, 1, `only the transcript: ${toZeynep.map((m) => m.headers.subject)}`);
  const text = Buffer.from(toZeynep[0].body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('utf8');
  assert.ok(mails.length >= 1);
  assert.match(toZeynep[0].raw + text, /Kargom nerede|Yar=C4=B1n kargoda|transcript|d=C3=B6k=C3=BCm|dökümü/i);
  const tk = await server.api('GET', `/api/v1/tickets/${ticket.id}`, {session: agent});
  assert.equal(tk.json.messages.length, 4);

  // After the end, a new message starts a new conversation (a new ticket).
  const next = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'c3', body: 'Bir şey daha'}});
  assert.equal(next.status, 201, next.text);
  assert.equal(next.json.seq, 1);
  assert.notEqual(next.json.conversation_id, first.json.conversation_id);
});

test('a signed identity follows the customer across devices; unsigned or badly signed claims are refused', async () => {
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const identity = {id: 'u-77', email: 'mehmet@example.com', name: 'Mehmet', expires, signature: sign('u-77', 'mehmet@example.com', expires)};
  // This browser chatted anonymously first; signing in takes its conversation along.
  const anon = await anonymous();
  const m1 = await chat('POST', '/api/v1/chat/messages', {token: anon, body: {client_id: 'a1', body: 'İade?', email: 'x@example.com'}});
  assert.equal(m1.status, 201);
  const phone = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key, token: anon, identity}});
  assert.equal(phone.status, 201, phone.text);
  assert.equal(phone.json.visitor.identified, true);
  assert.equal(phone.json.visitor.email, 'mehmet@example.com');
  const laptop = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key, identity}});
  assert.equal(laptop.json.visitor.id, phone.json.visitor.id, 'the same visitor on another device');
  assert.notEqual(laptop.json.token, phone.json.token);
  const hist = await chat('GET', '/api/v1/chat/messages', {token: laptop.json.token});
  assert.deepEqual(hist.json.items.map((m) => m.body), ['İade?']);

  const forged = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key,
    identity: {...identity, email: 'victim@example.com'}}});
  assert.equal(forged.status, 401);
  assert.equal(forged.json.error.code, 'bad_signature');
  const unsigned = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key,
    identity: {id: 'u-77', email: 'mehmet@example.com', expires}}});
  assert.equal(unsigned.status, 422);
  const old = Math.floor(Date.now() / 1000) - 10;
  const expired = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key,
    identity: {...identity, expires: old, signature: sign('u-77', 'mehmet@example.com', old)}}});
  assert.equal(expired.status, 401);
  const otherSecret = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key,
    identity: {...identity, signature: sign('u-77', 'mehmet@example.com', expires, 'not the secret')}}});
  assert.equal(otherSecret.status, 401);
});

test('availability: agents online and business hours; closed turns into the contact form', async () => {
  let av = await chat('GET', `/api/v1/chat/availability?site_key=${shop.site_key}`);
  assert.equal(av.status, 200);
  assert.equal(av.json.open, true);
  assert.ok(av.json.agents_online >= 1);
  // Hours that never include now: Monday 00:00-00:01 and no other day.
  await settings({'chat.hours': '8 00:00-00:01'});
  av = await chat('GET', `/api/v1/chat/availability?site_key=${shop.site_key}`);
  assert.deepEqual([av.json.open, av.json.in_hours], [false, false]);
  assert.equal(av.json.next_open, null, 'never opens');
  // A window that opens later: the widget says when.
  const local = new Date(Date.now() + 180 * 60000);
  let start = (local.getUTCHours() * 60 + local.getUTCMinutes() + 120) % 1440;
  if (start + 60 > 1440) start = 60;
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  await settings({'chat.hours': `1-7 ${hhmm(start)}-${hhmm(start + 60)}`});
  const t0 = Date.now();
  av = await chat('GET', `/api/v1/chat/availability?site_key=${shop.site_key}`);
  assert.equal(av.json.open, false);
  const next = Date.parse(av.json.next_open);
  assert.ok(next > Date.now() && next < Date.now() + 24 * 3600e3, av.text);
  const nextLocal = new Date(next + 180 * 60000);
  assert.equal(nextLocal.getUTCHours() * 60 + nextLocal.getUTCMinutes(), start);
  console.log(`availability with the week's search: ${Date.now() - t0} ms`);
  await settings({'chat.hours': '1-7 00:00-24:00'});
  av = await chat('GET', `/api/v1/chat/availability?site_key=${shop.site_key}`);
  assert.equal(av.json.open, true);
  await settings({'chat.hours': ''});
  const form = await chat('POST', '/api/v1/chat/offline', {body: {site_key: shop.site_key, name: 'Can', email: 'can@example.com',
    body: 'Akşam yazdım, yarın dönün.'}});
  assert.equal(form.status, 201, form.text);
  assert.match(form.json.reference, /^#\d+/);
  const list = await server.api('GET', '/api/v1/tickets?channel=web&limit=50', {session: admin});
  const t = list.json.items.find((x) => x.customer && x.customer.email === 'can@example.com');
  assert.ok(t);
  assert.ok(t.tags.includes('chat_offline'));
});

test('limits: per visitor and per address, with Retry-After', async () => {
  await settings({'chat.visitor_limit': 3});
  const token = await anonymous();
  const codes = [];
  for (let i = 0; i < 4; i++)
    codes.push((await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: `r${i}`, body: `m${i}`, email: 'rate@example.com'}})).status);
  assert.deepEqual(codes, [201, 201, 201, 429]);
  const limited = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'r9', body: 'x'}});
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  await settings({'chat.visitor_limit': 30, 'chat.session_limit': 2});
  const s = [];
  for (let i = 0; i < 3; i++) s.push((await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key}})).status);
  assert.equal(s[2], 429, `new visitors per address: ${s}`);
  await settings({'chat.session_limit': 1000, 'chat.address_limit': 1});
  const addr = await chat('GET', `/api/v1/chat/availability?site_key=${shop.site_key}`);
  assert.equal(addr.status, 429, 'requests per address');
  await settings({'chat.address_limit': 1000});
});

test('files go with a message within the portal\'s limits, kept on the ticket', async () => {
  const token = await anonymous();
  const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
  const att = [{filename: 'fatura.pdf', content_type: 'application/pdf', data_base64: pdf.toString('base64')}];
  const m = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'f1', attachments: att, email: 'file@example.com'}});
  assert.equal(m.status, 201, m.text);
  const m2 = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'f2', body: 'Bir de bu', attachments: att}});
  assert.equal(m2.status, 201, m2.text);
  const poll = await chat('GET', '/api/v1/chat/messages', {token});
  assert.deepEqual(poll.json.items.map((x) => [x.body, x.files]), [['fatura.pdf', ['fatura.pdf']], ['Bir de bu', ['fatura.pdf']]]);
  const ticket = await chatTicketOf('file@example.com');
  const full = await server.api('GET', `/api/v1/tickets/${ticket.id}`, {session: agent});
  assert.deepEqual(full.json.messages.map((x) => [x.attachments.length, x.attachments[0].size]), [[1, pdf.length], [1, pdf.length]]);
  const four = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'f3', attachments: [...att, ...att, ...att, ...att]}});
  assert.equal(four.status, 422);
  await settings({'ticketing.attachment_max_bytes': 8});
  const big = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'f4', attachments: att}});
  assert.equal(big.status, 413, big.text);
  await settings({'ticketing.attachment_max_bytes': 10485760});
  const after = await chat('GET', '/api/v1/chat/messages', {token});
  assert.equal(after.json.items.length, 2, 'refused files leave nothing');
});

test('KVKK: a contact\'s chats are in their export and scrubbed by their erasure', async () => {
  const token = await anonymous();
  const m = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'e1', body: 'Adresim Kadıköy', email: 'erase@example.com', name: 'Ece'}});
  assert.equal(m.status, 201, m.text);
  const ticket = await chatTicketOf('erase@example.com');
  const id = ticket.customer.id;
  const ex = await server.api('GET', `/api/v1/contacts/${id}/export?format=json`, {session: admin});
  assert.equal(ex.status, 200, ex.text);
  const part = ex.json.modules.chat;
  assert.equal(part.visitors[0].email, 'erase@example.com');
  assert.equal(part.visitors[0].conversations[0].messages[0].body, 'Adresim Kadıköy');
  const er = await server.api('POST', `/api/v1/contacts/${id}/erase`, {session: admin, body: {confirm_id: id}});
  assert.equal(er.status, 200, er.text);
  assert.equal((await chat('GET', '/api/v1/chat/messages', {token})).status, 401, 'the visitor\'s tokens are gone');
  const after = await server.api('GET', `/api/v1/contacts/${id}/export?format=json`, {session: admin});
  const v = after.json.modules.chat.visitors[0];
  assert.deepEqual([v.email, v.name, v.conversations[0].messages[0].body], [null, null, '']);
});

test('an acknowledged message survives kill -9', async () => {
  const token = await anonymous();
  const m = await chat('POST', '/api/v1/chat/messages', {token, body: {client_id: 'k1', body: 'Kalıcı mı?', email: 'kill@example.com'}});
  assert.equal(m.status, 201);
  await server.kill9();
  server = await startServer({dataDir: server.dataDir});
  admin = await login(server, admin.email, admin.password);
  const poll = await chat('GET', '/api/v1/chat/messages', {token});
  assert.equal(poll.status, 200, poll.text);
  assert.deepEqual(poll.json.items.map((x) => [x.seq, x.body]), [[1, 'Kalıcı mı?']]);
});
