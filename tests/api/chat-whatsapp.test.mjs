// WhatsApp Business through the Cloud API (plugins/chat/whatsapp.c) against a loopback mock of the Graph API: the
// webhook's verification GET, deliveries signed right and wrong, duplicates, message types, agents' replies sent
// through the Graph API (never by mail), delivery statuses out of order, error 131047, and the 24-hour window.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import {startServer, setupAdmin, createUser, login, disableOutOfHoursReply, eventually, request} from './lib.mjs';

const APP_SECRET = 'app-secret-for-tests';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
let server, admin, agent, graph, graphUrl;
const sent = [];
let nextAnswer = null;

before(async () => {
  graph = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.method === 'GET') {   // media: GET /{media-id} -> {url, mime_type}, then the file itself, with the token
        const ok = req.headers.authorization === 'Bearer graph-token';
        if (ok && req.url === '/v21.0/MEDIA1') {
          res.writeHead(200, {'Content-Type': 'application/json'});
          res.end(JSON.stringify({url: `${graphUrl.replace('/v21.0', '')}/media/MEDIA1`, mime_type: 'application/pdf', id: 'MEDIA1'}));
        } else if (ok && req.url === '/media/MEDIA1') {
          res.writeHead(200, {'Content-Type': 'application/pdf'});
          res.end(PDF);
        } else {
          res.writeHead(404, {'Content-Type': 'application/json'});
          res.end('{"error":{"message":"not found","code":100}}');
        }
        return;
      }
      sent.push({method: req.method, url: req.url, auth: req.headers.authorization, json: JSON.parse(body || '{}')});
      const [status, answer] = nextAnswer || [200, {messaging_product: 'whatsapp', messages: [{id: `wamid.OUT${sent.length}`}]}];
      nextAnswer = null;
      res.writeHead(status, {'Content-Type': 'application/json'});
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise((r) => graph.listen(0, '127.0.0.1', r));
  graphUrl = `http://127.0.0.1:${graph.address().port}/v21.0`;
  server = await startServer({args: ['--allow-private-net']});
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {name: 'Ayla Agent', email: 'ayla@example.com'});
  agent = await login(server, a.email, a.password);
  await disableOutOfHoursReply(server, admin);
  const res = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {
    'chat.wa_verify_token': 'verify-me', 'chat.wa_app_secret': APP_SECRET, 'chat.wa_access_token': 'graph-token',
    'chat.wa_phone_number_id': '1065', 'chat.wa_graph_url': graphUrl, 'chat.wa_templates': 'kargo_guncelleme:tr, order_update:en'}});
  assert.equal(res.status, 200, res.text);
});

after(() => graph && graph.close());

function delivery(value) {
  return JSON.stringify({object: 'whatsapp_business_account', entry: [{id: 'WABA', changes: [{field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: {display_phone_number: '908501234567', phone_number_id: '1065'}, ...value}}]}]});
}
function inbound(from, name, id, msg, ts = Math.floor(Date.now() / 1000)) {
  return delivery({contacts: [{profile: {name}, wa_id: from}], messages: [{from, id, timestamp: String(ts), ...msg}]});
}
function post(raw, secret = APP_SECRET) {
  const sig = 'sha256=' + crypto.createHmac('sha256', secret).update(raw).digest('hex');
  return server.api('POST', '/api/v1/chat/whatsapp/webhook', {rawBody: raw, headers: {'x-hub-signature-256': sig}});
}
async function waTicket(phone) {
  const list = await server.api('GET', '/api/v1/tickets?channel=whatsapp&limit=100', {session: admin});
  return list.json.items.find((t) => t.customer && t.customer.phone === phone);
}
const thread = async (id) => (await server.api('GET', `/api/v1/chat/whatsapp/tickets/${id}`, {session: agent})).json;

test('the verification GET echoes the challenge only for the verify token', async () => {
  const ok = await request(`${server.url}/api/v1/chat/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`);
  assert.equal(ok.status, 200);
  assert.equal(ok.text, '1158201444');
  const bad = await request(`${server.url}/api/v1/chat/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1`);
  assert.equal(bad.status, 403);
});

test('signed deliveries become a WhatsApp ticket, once; wrong signatures change nothing', async () => {
  const raw = inbound('905321234567', 'Ayşe', 'wamid.IN1', {type: 'text', text: {body: 'Siparişim nerede?'}});
  const wrong = await post(raw, 'not-the-secret');
  assert.equal(wrong.status, 401);
  const unsigned = await server.api('POST', '/api/v1/chat/whatsapp/webhook', {rawBody: raw});
  assert.equal(unsigned.status, 401);
  const tampered = await server.api('POST', '/api/v1/chat/whatsapp/webhook', {rawBody: raw.replace('nerede', 'NEREDE'),
    headers: {'x-hub-signature-256': 'sha256=' + crypto.createHmac('sha256', APP_SECRET).update(raw).digest('hex')}});
  assert.equal(tampered.status, 401);
  assert.equal(await waTicket('+905321234567'), undefined, 'nothing from a delivery that did not verify');

  assert.equal((await post(raw)).status, 200);
  assert.equal((await post(raw)).status, 200, 'Meta delivers again');
  const more = delivery({contacts: [{profile: {name: 'Ayşe'}, wa_id: '905321234567'}], messages: [
    {from: '905321234567', id: 'wamid.IN2', timestamp: String(Math.floor(Date.now() / 1000)), type: 'interactive',
      interactive: {type: 'button_reply', button_reply: {id: 'b1', title: 'Kargo durumu'}}},
    {from: '905321234567', id: 'wamid.IN3', timestamp: String(Math.floor(Date.now() / 1000)), type: 'location',
      location: {latitude: 41.0082, longitude: 28.9784, name: 'Ev'}}]});
  assert.equal((await post(more)).status, 200);
  const t = await waTicket('+905321234567');
  assert.ok(t, 'a ticket of the channel whatsapp');
  assert.equal(t.customer.name, 'Ayşe');
  const full = await server.api('GET', `/api/v1/tickets/${t.id}`, {session: agent});
  const bodies = full.json.messages.map((m) => m.body);
  assert.equal(bodies.length, 3, `once each: ${JSON.stringify(bodies)}`);
  assert.equal(bodies[0], 'Siparişim nerede?');
  assert.equal(bodies[1], 'Kargo durumu');
  assert.match(bodies[2], /^\[location\] Ev .*mlat=41\.008200&mlon=28\.978400/);
  const th = await thread(t.id);
  assert.equal(th.wa_id, '905321234567');
  assert.equal(th.contact_id, t.customer.id, 'one contact for the number, the ticket\'s customer');
  assert.equal(th.window_open, true);
});

test('media are fetched through the Graph API and kept as the message\'s attachments', async () => {
  const ts = String(Math.floor(Date.now() / 1000));
  const raw = delivery({contacts: [{profile: {name: 'Ayşe'}, wa_id: '905321234567'}], messages: [
    {from: '905321234567', id: 'wamid.DOC1', timestamp: ts, type: 'document',
      document: {id: 'MEDIA1', filename: 'fatura.pdf', mime_type: 'application/pdf', caption: 'Faturam'}},
    {from: '905321234567', id: 'wamid.IMG404', timestamp: ts, type: 'image', image: {id: 'GONE', mime_type: 'image/jpeg'}}]});
  assert.equal((await post(raw)).status, 200);
  const t = await waTicket('+905321234567');
  const full = await server.api('GET', `/api/v1/tickets/${t.id}`, {session: agent});
  const doc = full.json.messages.find((m) => m.body === '[document] Faturam');
  assert.ok(doc, JSON.stringify(full.json.messages.map((m) => m.body)));
  assert.equal(doc.attachments.length, 1);
  assert.equal(doc.attachments[0].filename, 'fatura.pdf');
  assert.equal(doc.attachments[0].size, PDF.length);
  const gone = full.json.messages.find((m) => m.body.startsWith('[image]'));
  assert.match(gone.body, /could not be fetched/);
  assert.equal(gone.attachments.length, 0);
});

test('an agent\'s reply goes out through the Graph API; statuses move forward only; 131047 is recorded', async () => {
  const t = await waTicket('+905321234567');
  const reply = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: agent, body: {body: 'Yarın teslim edilecek.'}});
  assert.equal(reply.status, 201, reply.text);
  await eventually(() => sent.length, (n) => n >= 1);
  assert.equal(sent[0].method, 'POST');
  assert.equal(sent[0].url, '/v21.0/1065/messages');
  assert.equal(sent[0].auth, 'Bearer graph-token');
  assert.deepEqual(sent[0].json, {messaging_product: 'whatsapp', recipient_type: 'individual', to: '905321234567',
    type: 'text', text: {preview_url: false, body: 'Yarın teslim edilecek.'}});
  let out = await eventually(async () => (await thread(t.id)).messages.find((m) => m.direction === 'out'), (m) => m && m.status === 'sent');
  assert.equal(out.ticket_message_id, reply.json.message.id);

  // read arrives before delivered: delivered changes nothing afterwards.
  const st = (status, extra = {}) => delivery({statuses: [{id: 'wamid.OUT1', status, timestamp: String(Math.floor(Date.now() / 1000)),
    recipient_id: '905321234567', ...extra}]});
  assert.equal((await post(st('read'))).status, 200);
  assert.equal((await post(st('delivered'))).status, 200);
  assert.equal((await post(st('sent'))).status, 200);
  out = (await thread(t.id)).messages.find((m) => m.direction === 'out');
  assert.equal(out.status, 'read');

  // The Graph API refuses the next one: failed, with Meta's code.
  nextAnswer = [400, {error: {message: '(#131047) Re-engagement message', type: 'OAuthException', code: 131047}}];
  const r2 = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: agent, body: {body: 'İkinci mesaj'}});
  assert.equal(r2.status, 201);
  const failed = await eventually(async () => (await thread(t.id)).messages.filter((m) => m.direction === 'out')[1],
    (m) => m && m.status === 'failed');
  assert.equal(failed.error_code, 131047);
  assert.match(failed.error_title, /Re-engagement/);

  // A failure reported by a status webhook is recorded with its error.
  nextAnswer = null;
  await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: agent, body: {body: 'Üçüncü'}});
  await eventually(() => sent.length, (n) => n >= 3);
  await eventually(async () => (await thread(t.id)).messages.filter((m) => m.direction === 'out')[2], (m) => m && m.status === 'sent');
  await post(delivery({statuses: [{id: `wamid.OUT3`, status: 'failed', timestamp: String(Math.floor(Date.now() / 1000)),
    recipient_id: '905321234567', errors: [{code: 131026, title: 'Message undeliverable'}]}]}));
  const third = (await thread(t.id)).messages.filter((m) => m.direction === 'out')[2];
  assert.deepEqual([third.status, third.error_code, third.error_title], ['failed', 131026, 'Message undeliverable']);
});

test('outside the 24-hour window free text is refused with the reason, and nothing is kept', async () => {
  const old = Math.floor(Date.now() / 1000) - 25 * 3600;
  assert.equal((await post(inbound('905551112233', 'Can', 'wamid.OLD1', {type: 'text', text: {body: 'Dün yazmıştım'}}, old))).status, 200);
  const t = await waTicket('+905551112233');
  assert.ok(t);
  assert.equal((await thread(t.id)).window_open, false);
  const before = sent.length;
  const reply = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: agent, body: {body: 'Merhaba Can'}});
  assert.equal(reply.status, 422, reply.text);
  assert.match(reply.json.error.message, /24 hours|24 saat/);
  const full = await server.api('GET', `/api/v1/tickets/${t.id}`, {session: agent});
  assert.equal(full.json.messages.length, 1, 'the refused reply is not kept');
  // A note is not a message to the customer: it is kept, and nothing is sent.
  const note = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: agent, body: {body: 'şablon gerekli', kind: 'note'}});
  assert.equal(note.status, 201);
  // An approved template goes out all the same, and the thread keeps a note of it.
  const tpls = await server.api('GET', '/api/v1/chat/whatsapp/templates', {session: agent});
  assert.deepEqual(tpls.json.items, [{name: 'kargo_guncelleme', language: 'tr'}, {name: 'order_update', language: 'en'}]);
  const unknown = await server.api('POST', `/api/v1/chat/whatsapp/tickets/${t.id}/template`, {session: agent,
    body: {name: 'promo_blast', language: 'tr'}});
  assert.equal(unknown.status, 422);
  const tpl = await server.api('POST', `/api/v1/chat/whatsapp/tickets/${t.id}/template`, {session: agent,
    body: {name: 'kargo_guncelleme', language: 'tr', parameters: ['#1001', 'Yurtiçi Kargo']}});
  assert.equal(tpl.status, 201, tpl.text);
  await eventually(() => sent.length, (n) => n > before);
  assert.deepEqual(sent[sent.length - 1].json, {messaging_product: 'whatsapp', recipient_type: 'individual', to: '905551112233',
    type: 'template', template: {name: 'kargo_guncelleme', language: {code: 'tr'}, components: [{type: 'body',
      parameters: [{type: 'text', text: '#1001'}, {type: 'text', text: 'Yurtiçi Kargo'}]}]}});
  const withNote = await server.api('GET', `/api/v1/tickets/${t.id}`, {session: agent});
  assert.match(withNote.json.messages.at(-1).body, /kargo_guncelleme/);
  assert.equal(withNote.json.messages.at(-1).kind, 'note');
  // The customer writes again: the window opens, and the reply goes.
  assert.equal((await post(inbound('905551112233', 'Can', 'wamid.NEW1', {type: 'text', text: {body: 'Orada mısınız?'}}))).status, 200);
  const ok = await server.api('POST', `/api/v1/tickets/${t.id}/messages`, {session: agent, body: {body: 'Buradayız'}});
  assert.equal(ok.status, 201, ok.text);
  await eventually(() => sent.length, (n) => n > before + 1);
  assert.equal(sent[sent.length - 1].json.text.body, 'Buradayız');
});
