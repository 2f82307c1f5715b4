// What the chat widget offers through other modules' services (plugins/chat/offers.c; issue 16): help-centre
// articles while the visitor writes the first message (helpcentre.suggest), and "How did we do?" at the end of a chat
// (feedback.csat_rate), each offered only when its module is there and its setting on, an absent one a clear 404.
// One server for the file.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, disableOutOfHoursReply, eventually} from './lib.mjs';

const ORIGIN = 'https://shop.example';
let server, admin, shop;

const chat = (method, p, {token, body} = {}) =>
  server.api(method, p, {body, headers: {origin: ORIGIN, ...(token ? {'x-chat-token': token} : {})}});
const settings = async (values) => {
  const r = await server.api('PATCH', '/api/v1/settings', {session: admin, body: values});
  assert.equal(r.status, 200, r.text);
};

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  await settings({'chat.address_limit': 0, 'chat.visitor_limit': 0, 'chat.session_limit': 0});
  const res = await server.api('POST', '/api/v1/chat/shops', {session: admin, body: {name: 'Mağaza', origins: [ORIGIN]}});
  assert.equal(res.status, 201, res.text);
  shop = res.json;
  for (const [title, body] of [['Kargo ücreti ne kadar?', 'Kargo 300 TL üzeri ücretsizdir.'],
    ['İade nasıl yapılır?', 'İade için 14 gününüz var.'], ['Kargom nerede kaldı?', 'Kargo takip numaranızla bakın.']]) {
    const a = await server.api('POST', '/api/v1/helpcentre/articles', {session: admin, body: {texts: {tr: {title, body}}}});
    assert.equal(a.status, 201, a.text);
    const p = await server.api('POST', `/api/v1/helpcentre/articles/${a.json.id}/publish`, {session: admin, body: {}});
    assert.ok(p.status < 300, p.text);
  }
  await server.api('POST', '/api/v1/helpcentre/articles', {session: admin, body: {texts: {tr: {title: 'Kargo taslağı', body: 'Taslak.'}}}});
});

async function visitor() {
  const s = await chat('POST', '/api/v1/chat/session', {body: {site_key: shop.site_key, lang: 'tr'}});
  assert.equal(s.status, 201, s.text);
  return s.json;
}

test('help-centre articles for the first message: published ones, at most 3, links on this server', async () => {
  const v = await visitor();
  assert.deepEqual(v.features, {suggest: true, csat: true});
  const r = await chat('GET', `/api/v1/chat/suggest?q=${encodeURIComponent('kargo')}`, {token: v.token});
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.items.length >= 2 && r.json.items.length <= 3, r.text);
  assert.ok(r.json.items.every((a) => a.url.startsWith(server.url + '/help/a/')), r.text);
  assert.ok(!r.json.items.some((a) => a.title === 'Kargo taslağı'), 'drafts are never offered');
  assert.equal(r.headers['access-control-allow-origin'], ORIGIN);
  const page = await fetch(r.json.items[0].url);
  assert.equal(page.status, 200);
  const none = await chat('GET', '/api/v1/chat/suggest?q=zzzyyyxxx', {token: v.token});
  assert.deepEqual(none.json.items, []);
  assert.equal((await chat('GET', '/api/v1/chat/suggest?q=kargo')).status, 401, 'a visitor\'s token is needed');
  await settings({'chat.suggest_articles': false});
  const off = await chat('GET', '/api/v1/chat/suggest?q=kargo', {token: v.token});
  assert.equal(off.status, 404);
  assert.equal(off.json.error.code, 'suggestions_unavailable');
  assert.equal((await visitor()).features.suggest, false);
  await settings({'chat.suggest_articles': true});
});

test('CSAT at the end of a chat: once, on the conversation\'s ticket, through the feedback module', async () => {
  const v = await visitor();
  const m = await chat('POST', '/api/v1/chat/messages', {token: v.token, body: {client_id: 'a1', body: 'Merhaba',
    email: 'puan@example.com'}});
  assert.equal(m.status, 201, m.text);
  const early = await chat('POST', '/api/v1/chat/csat', {token: v.token, body: {score: 5}});
  assert.equal(early.status, 409);
  assert.equal(early.json.error.code, 'no_conversation');
  assert.equal((await chat('POST', '/api/v1/chat/end', {token: v.token, body: {}})).status, 200);
  const bad = await chat('POST', '/api/v1/chat/csat', {token: v.token, body: {score: 6}});
  assert.equal(bad.status, 422);
  assert.equal(bad.json.error.field, 'score');
  const ok = await chat('POST', '/api/v1/chat/csat', {token: v.token, body: {score: 4, comment: 'Hızlıydı'}});
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.score, 4);
  const again = await chat('POST', '/api/v1/chat/csat', {token: v.token, body: {score: 1}});
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, 'already_answered');
  const list = await server.api('GET', '/api/v1/tickets?channel=chat&limit=50', {session: admin});
  const t = list.json.items.find((x) => x.customer && x.customer.email === 'puan@example.com');
  const q = await eventually(() => server.api('GET', `/api/v1/feedback/csat?ticket_id=${t.id}`, {session: admin}),
    (r) => r.status === 200);
  assert.equal(q.status, 200, q.text);
  assert.match(JSON.stringify(q.json), /"score":4/);
  assert.match(JSON.stringify(q.json), /chat/);
  await settings({'chat.csat': false});
  const off = await chat('POST', '/api/v1/chat/csat', {token: v.token, body: {score: 3}});
  assert.equal(off.status, 404);
  assert.equal(off.json.error.code, 'csat_unavailable');
  await settings({'chat.csat': true});
});

test('an agent\'s file reaches the visitor of that chat alone, never as a page', async () => {
  const v = await visitor();
  const m = await chat('POST', '/api/v1/chat/messages', {token: v.token, body: {client_id: 'f1', body: 'Faturamı alabilir miyim?',
    email: 'dosya@example.com'}});
  assert.equal(m.status, 201, m.text);
  const list = await server.api('GET', '/api/v1/tickets?channel=chat&limit=50', {session: admin});
  const t = list.json.items.find((x) => x.customer && x.customer.email === 'dosya@example.com');
  const pdf = Buffer.from('%PDF-1.4\n% fatura\n%%EOF\n');
  const big = Buffer.alloc(3000, 65);
  const rep = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: admin, body: {body: 'Faturanız ekte.',
    attachments: [{filename: 'fatura şubat.pdf', content_type: 'application/pdf', data_base64: pdf.toString('base64')},
      {filename: 'büyük.txt', content_type: 'text/html', data_base64: big.toString('base64')}]}});
  assert.equal(rep.status, 201, rep.text);
  const poll = await eventually(() => chat('GET', '/api/v1/chat/messages?after=1', {token: v.token}),
    (p) => p.json.items.some((x) => x.sender === 'agent'), {ms: 10000});
  const msg = poll.json.items.find((x) => x.sender === 'agent');
  assert.equal(msg.body, 'Faturanız ekte.');
  assert.equal(msg.files.length, 2, JSON.stringify(msg.files));
  const f = msg.files.find((x) => x.name === 'fatura şubat.pdf');
  assert.ok(f.id > 0);
  const html = msg.files.find((x) => x.name === 'büyük.txt');
  const asText = await server.api('GET', `/api/v1/chat/files/${html.id}`, {headers: {origin: ORIGIN, 'x-chat-token': v.token}});
  assert.equal(asText.headers['content-type'], 'application/octet-stream', 'HTML is never served as HTML');
  const got = await server.api('GET', `/api/v1/chat/files/${f.id}`, {headers: {origin: ORIGIN, 'x-chat-token': v.token}});
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'application/pdf');
  assert.match(got.headers['content-disposition'], /^attachment; filename="fatura _ubat.pdf"|^attachment/);
  assert.equal(got.text, pdf.toString());
  const other = await visitor();
  const stolen = await server.api('GET', `/api/v1/chat/files/${f.id}`, {headers: {origin: ORIGIN, 'x-chat-token': other.token}});
  assert.equal(stolen.status, 404, 'another visitor cannot fetch it');
  assert.equal((await server.api('GET', `/api/v1/chat/files/${f.id}`, {headers: {origin: ORIGIN}})).status, 401);
});

test('an agent\'s file over the portal\'s limit is named in the chat, never served to the visitor', async () => {
  const v = await visitor();
  const m = await chat('POST', '/api/v1/chat/messages', {token: v.token, body: {client_id: 'big1', body: 'Kılavuzu gönderir misiniz?',
    email: 'buyuk@example.com'}});
  assert.equal(m.status, 201, m.text);
  const list = await server.api('GET', '/api/v1/tickets?channel=chat&limit=50', {session: admin});
  const t = list.json.items.find((x) => x.customer && x.customer.email === 'buyuk@example.com');
  // the agent attached it to the draft while the limit allowed it; the limit was lowered before the reply went
  const small = Buffer.from('küçük dosya');
  const big = Buffer.alloc(4000, 66);
  const up = async (filename, data) => {
    const r = await server.api('POST', `/api/v1/tickets/${t.id}/draft/files`, {session: admin, body: {filename,
      content_type: 'application/pdf', data_base64: data.toString('base64')}});
    assert.equal(r.status, 201, r.text);
    return r.json.id;
  };
  const files = [await up('kılavuz.pdf', big), await up('not.pdf', small)];
  await settings({'ticketing.attachment_max_bytes': 1000});
  try {
    const rep = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: admin, body: {body: 'Kılavuz ekte.',
      draft_files: files}});
    assert.equal(rep.status, 201, rep.text);
    const poll = await eventually(() => chat('GET', '/api/v1/chat/messages?after=1', {token: v.token}),
      (p) => p.json.items.some((x) => x.sender === 'agent'), {ms: 10000});
    const msg = poll.json.items.find((x) => x.sender === 'agent');
    const over = msg.files.find((x) => x.name === 'kılavuz.pdf'), ok = msg.files.find((x) => x.name === 'not.pdf');
    assert.deepEqual(over, {name: 'kılavuz.pdf', size: 4000, too_large: true}, 'named, with no id to fetch it by');
    assert.ok(ok.id > 0 && !ok.too_large, JSON.stringify(ok));
    // the attachment's own id does not open it either
    const ticket = (await server.api('GET', `/api/v1/tickets/${t.id}`, {session: admin})).json;
    const att = JSON.stringify(ticket).match(/"id":(\d+),"filename":"kılavuz\.pdf"/);
    assert.ok(att, 'the file is on the ticket for agents');
    const got = await server.api('GET', `/api/v1/chat/files/${att[1]}`, {headers: {origin: ORIGIN, 'x-chat-token': v.token}});
    assert.equal(got.status, 404);
    assert.equal((await server.api('GET', `/api/v1/chat/files/${ok.id}`, {headers: {origin: ORIGIN, 'x-chat-token': v.token}})).status, 200);
  } finally {
    await settings({'ticketing.attachment_max_bytes': 10485760});
  }
});
