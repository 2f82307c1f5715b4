// Order and shipping notices as WhatsApp utility templates (issue 16; plugins/orders/notify.c and
// plugins/chat/wa_notices.c), against a loopback mock of the Graph API, a real SMTP server (aiosmtpd) and the orders
// test clock: the customer's choice recorded from the shop's checkout or by an agent (never inferred), the delay notice
// sent as the template the admin mapped (name, language, parameters) as a service message, on the customer's WhatsApp
// conversation, its delivery statuses recorded; a template WhatsApp refuses for good (at the send, or a "failed" status
// later) mailed instead with the reason kept; no template for the kind, or no WhatsApp choice: mailed as before; the
// service's own terms (approved templates only, once per ref, a commercial message only with the customer's ONAY).
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {BIN, ROOT, startServer, setupAdmin, eventually, disableOutOfHoursReply, request, tempDir, assertError} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

const APP_SECRET = 'app-secret-for-notices';
const PHONE = '905321234567';
let server, admin, smtp, graph;
const sent = [];
const answers = [];

const api = (method, p, body) => server.api(method, p, {session: admin, body});
const clock = async (now) => { const r = await api('POST', '/api/v1/test/orders-clock', {now}); assert.equal(r.status, 200, r.text); };
const run = async () => { const r = await api('POST', '/api/v1/order-tracking/run'); assert.equal(r.status, 200, r.text); return r.json; };
const notices = async (n) => (await api('GET', `/api/v1/orders/${n}/notices`)).json.items;
const subjectOf = (m) => {
  const s = m.headers.subject || '';
  const w = s.match(/=\?utf-8\?B\?([^?]*)\?=/gi);
  return w ? w.map((x) => Buffer.from(x.split('?')[3], 'base64').toString('utf8')).join('') : s;
};
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to).map(subjectOf);

function webhook(value) {
  const raw = JSON.stringify({object: 'whatsapp_business_account', entry: [{id: 'WABA', changes: [{field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: {display_phone_number: '908501234567', phone_number_id: '1065'}, ...value}}]}]});
  const sig = 'sha256=' + crypto.createHmac('sha256', APP_SECRET).update(raw).digest('hex');
  return server.api('POST', '/api/v1/chat/whatsapp/webhook', {rawBody: raw, headers: {'x-hub-signature-256': sig}});
}
const status = (id, s, errors) => webhook({statuses: [{id, status: s, timestamp: String(Math.floor(Date.now() / 1000)),
  recipient_id: PHONE, ...(errors ? {errors} : {})}]});

async function putOrder(number, over = {}) {
  return api('PUT', `/api/v1/orders/${number}`, {status: 'processing', payment_status: 'paid', currency: 'TRY',
    total_minor: 45000, customer: {email: 'wa@example.com', name: 'Ayşe Yılmaz', phone: '0532 123 45 67'},
    shipping_address: {province: 'İzmir', country: 'TR'}, promised_dispatch_date: '2026-11-03', ...over});
}
async function ship(number, st, extra = {}) {
  const r = await api('POST', `/api/v1/orders/${number}/shipments`, {carrier: 'Yurtiçi Kargo', tracking_number: `YK-${number}`,
    tracking_url: `https://kargo.example/t/YK-${number}`, status: st, ...extra});
  assert.equal(r.status, 201, r.text);
}

before(async () => {
  graph = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      sent.push({url: req.url, auth: req.headers.authorization, json: JSON.parse(body || '{}')});
      const [st, answer] = answers.shift() || [200, {messaging_product: 'whatsapp', contacts: [{input: PHONE, wa_id: PHONE}],
        messages: [{id: `wamid.N${sent.length}`}]}];
      res.writeHead(st, {'Content-Type': 'application/json'});
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise((r) => graph.listen(0, '127.0.0.1', r));
  smtp = await startSmtp();
  // tests/plugins/svcclient.c (POST /svcclient/call {service, args}) calls the chat's service as another module does
  const dir = tempDir('destek-wa-notices-');
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true});
  fs.copyFileSync(path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins', 'svcclient.so'),
    path.join(dir, 'plugins', 'svcclient.so'));
  server = await startServer({dataDir: dir, args: ['--allow-private-net'], env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {
    'mail.smtp_url': smtp.url, 'mail.from': 'destek@dukkan.example', 'orders.shop_name': 'Dükkan', 'events.retry_base_seconds': 1,
    'chat.wa_verify_token': 'v', 'chat.wa_app_secret': APP_SECRET, 'chat.wa_access_token': 'graph-token',
    'chat.wa_phone_number_id': '1065', 'chat.wa_graph_url': `http://127.0.0.1:${graph.address().port}/v21.0`,
    'chat.wa_templates': 'siparis_gecikti:tr, order_delayed:en, kargoya_verildi:tr, dagitimda:tr',
    'orders.wa_template_delay': 'siparis_gecikti:tr:number,date; order_delayed:en:number,date',
    'orders.wa_template_shipped': 'kargoya_verildi:tr:number,carrier,tracking_url',
    'orders.wa_template_out_for_delivery': 'dagitimda:tr:number,tracking_number'});
  assert.equal(set.status, 200, set.text);
  await clock('2026-11-02T07:00:00Z');                     // Monday 10:00 in Istanbul
});

after(() => graph && graph.close());

test('the choice of WhatsApp is a fact of the order from the checkout; a bad one is refused and nothing is kept', async () => {
  let r = await putOrder('W-0', {notify: {channel: 'sms'}});
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.field, 'notify.channel');
  r = await putOrder('W-0', {notify: {channel: 'whatsapp', phone: 'not a number'}});
  assert.equal(r.status, 422, r.text);
  assert.equal((await api('GET', '/api/v1/orders/W-0')).status, 404, 'nothing kept');
  r = await putOrder('W-1', {notify: {channel: 'whatsapp', chosen_at: '2026-11-01T10:00:00+03:00'}});
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.notify, {channel: 'whatsapp', phone: '+905321234567', source: 'checkout', chosen_at: '2026-11-01T07:00:00Z'});
  r = await putOrder('W-2', {customer: {email: 'w2@example.com', name: 'Ece', phone: '0532 123 45 67'},
    promised_dispatch_date: '2026-11-20'});
  assert.equal(r.json.notify, null, 'no choice made: none recorded (the phone alone says nothing)');
});

test('an agent records what the customer asked for; a later version from the shop does not override it', async () => {
  await putOrder('W-3', {customer: {email: 'w3@example.com', name: 'Can'}});
  assert.equal((await api('PUT', '/api/v1/orders/W-3/notify', {channel: 'whatsapp'})).status, 422, 'no number to use');
  assert.equal((await api('PUT', '/api/v1/orders/W-3/notify', {channel: 'pigeon'})).status, 422);
  assert.equal((await api('PUT', '/api/v1/orders/NOPE/notify', {channel: 'email'})).status, 404);
  const r = await api('PUT', '/api/v1/orders/W-3/notify', {channel: 'whatsapp', phone: '+90 555 111 22 33'});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.channel, r.json.phone, r.json.source], ['whatsapp', '+905551112233', 'agent']);
  const again = await putOrder('W-3', {customer: {email: 'w3@example.com', name: 'Can'}, notify: {channel: 'email'},
    updated_at: '2026-11-02T09:00:00Z'});
  assert.equal(again.status, 200, again.text);
  assert.deepEqual([again.json.notify.channel, again.json.notify.source], ['whatsapp', 'agent']);
});

test('a delay goes out as the mapped utility template on the customer\'s WhatsApp conversation, not by mail', async () => {
  // the customer wrote on WhatsApp before: their conversation is an open ticket
  const inbound = await webhook({contacts: [{profile: {name: 'Ayşe'}, wa_id: PHONE}], messages: [{from: PHONE, id: 'wamid.IN1',
    timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: {body: 'Siparişim W-1 nerede?'}}]});
  assert.equal(inbound.status, 200, inbound.text);
  const list = await api('GET', '/api/v1/tickets?channel=whatsapp&limit=100');
  const ticket = list.json.items.find((t) => t.customer && t.customer.phone === `+${PHONE}`);
  assert.ok(ticket, list.text);
  // a refusal of commercial WhatsApp messages does not stop a service message about the order
  const order = (await api('GET', '/api/v1/orders/W-1')).json;
  const ret = await api('POST', `/api/v1/contacts/${order.customer.contact_id}/consent`, {channel: 'whatsapp', status: 'RET',
    source: 'web_form'});
  assert.equal(ret.status, 201, ret.text);
  const before = sent.length;
  await clock('2026-11-04T06:00:00Z');                     // Wednesday: not shipped by Tuesday as promised
  assert.ok((await run()).delays >= 1);
  await eventually(() => sent.length, (n) => n > before);
  const msg = sent[before];
  assert.equal(msg.url, '/v21.0/1065/messages');
  assert.equal(msg.auth, 'Bearer graph-token');
  assert.deepEqual(msg.json, {messaging_product: 'whatsapp', recipient_type: 'individual', to: PHONE, type: 'template',
    template: {name: 'siparis_gecikti', language: {code: 'tr'},
      components: [{type: 'body', parameters: [{type: 'text', text: 'W-1'}, {type: 'text', text: '2026-11-03'}]}]}});
  let n = await eventually(() => notices('W-1'), (x) => x[0] && x[0].state === 'sent');
  assert.deepEqual([n[0].kind, n[0].channel, n[0].whatsapp.status], ['not_shipped', 'whatsapp', 'sent']);
  const wamid = `wamid.N${before + 1}`;
  assert.equal((await status(wamid, 'delivered')).status, 200);
  assert.equal((await status(wamid, 'sent')).status, 200, 'a late "sent" changes nothing');
  n = await eventually(() => notices('W-1'), (x) => x[0].state === 'delivered');
  // on the customer's WhatsApp conversation: the template in the thread, a note for agents, the delay's note too
  const thread = (await api('GET', `/api/v1/chat/whatsapp/tickets/${ticket.id}`)).json;
  const tpl = thread.messages.find((m) => m.kind === 'template');
  assert.equal(tpl.status, 'delivered');
  assert.equal(JSON.parse(tpl.body).name, 'siparis_gecikti');
  assert.equal(thread.window_open, true);
  const tk = JSON.stringify((await api('GET', `/api/v1/tickets/${ticket.id}`)).json);
  assert.ok(tk.includes('Order #W-1 notice on WhatsApp (not_shipped, template siparis_gecikti/tr)'), tk);
  assert.ok(tk.includes('The customer was told on WhatsApp.'), tk);
  assert.deepEqual(mailsTo('wa@example.com'), [], 'not mailed');
  assert.equal((await run()).delays, 0, 'once');
});

test('a template WhatsApp refuses for good is mailed instead, with the reason kept (at the send, and by a later status)', async () => {
  // at the send: the Graph API answers 400 with Meta's error
  answers.push([400, {error: {message: '(#131047) Re-engagement message', type: 'OAuthException', code: 131047,
    error_data: {messaging_product: 'whatsapp', details: 'More than 24 hours have passed'}}}]);
  const before = sent.length;
  await ship('W-1', 'InTransit', {at: '2026-11-04T07:00:00Z'});
  await eventually(() => sent.length, (x) => x > before);
  assert.equal(sent[before].json.template.name, 'kargoya_verildi');
  const link = (await api('GET', '/api/v1/orders/W-1')).json.shipments[0].tracking_url;   // the carrier's page
  assert.match(link, /YK-W-1/);
  assert.deepEqual(sent[before].json.template.components[0].parameters.map((p) => p.text), ['W-1', 'Yurtiçi Kargo', link]);
  let m = await eventually(() => mailsTo('wa@example.com'), (x) => x.length === 1);
  assert.equal(m[0], 'Siparişiniz kargoya verildi (#W-1)');
  let n = (await eventually(() => notices('W-1'), (x) => x[1] && x[1].state === 'mailed'))[1];
  assert.equal(n.channel, 'email');
  assert.match(n.detail, /WhatsApp refused the template \(131047 .*Re-engagement message\): mailed instead/);
  assert.equal(n.whatsapp.status, 'failed');
  assert.equal(n.whatsapp.error_code, 131047);
  // sent, then a "failed" status on the webhook
  const b2 = sent.length;
  await ship('W-1', 'OutForDelivery');
  await eventually(() => sent.length, (x) => x > b2);
  assert.deepEqual(sent[b2].json.template.components[0].parameters.map((p) => p.text), ['W-1', 'YK-W-1']);
  await eventually(() => notices('W-1'), (x) => x[2] && x[2].state === 'sent');
  const failed = await status(`wamid.N${b2 + 1}`, 'failed', [{code: 131026, title: 'Message undeliverable',
    message: 'Message undeliverable', error_data: {details: 'Message Undeliverable.'}}]);
  assert.equal(failed.status, 200);
  m = await eventually(() => mailsTo('wa@example.com'), (x) => x.length === 2);
  assert.equal(m[1], 'Siparişiniz bugün dağıtımda (#W-1)');
  n = (await eventually(() => notices('W-1'), (x) => x[2].state === 'mailed'))[2];
  assert.match(n.detail, /131026 Message undeliverable/);
  assert.equal((await status(`wamid.N${b2 + 1}`, 'failed', [{code: 131026, title: 'again'}])).status, 200);
  await eventually(() => notices('W-1'), (x) => x[2].state === 'mailed');
  assert.equal(mailsTo('wa@example.com').length, 2, 'a repeated failure mails nothing more');
});

test('no template for the kind, or no WhatsApp choice: mailed as before, the reason said', async () => {
  const before = sent.length;
  await ship('W-1', 'Delivered');
  const m = await eventually(() => mailsTo('wa@example.com'), (x) => x.length === 3);
  assert.equal(m[2], 'Siparişiniz teslim edildi (#W-1)');
  const n = (await eventually(() => notices('W-1'), (x) => x[3] && x[3].state === 'mailed'))[3];
  assert.match(n.detail, /chose WhatsApp, but orders.wa_template_delivered is empty: mailed/);
  await putOrder('W-4', {customer: {email: 'w4@example.com', name: 'Deniz', phone: '0533 000 00 01'}});
  await ship('W-4', 'InTransit');
  await eventually(() => mailsTo('w4@example.com'), (x) => x.length === 1);
  const n4 = await eventually(() => notices('W-4'), (x) => x[0] && x[0].state === 'mailed');
  assert.deepEqual([n4[0].channel, n4[0].detail, n4[0].whatsapp], ['email', null, null]);
  assert.equal(sent.length, before, 'nothing went to WhatsApp');
});

test('on the tracking page the customer chooses WhatsApp at the number on the order, and back to e-mail', async () => {
  const track = (fields) => request(`${server.url}/track`, {method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(fields).toString()});
  await putOrder('W-5', {customer: {email: 'w5@example.com', name: 'Ege', phone: '0533 000 00 05'}});
  // looked up with the e-mail: WhatsApp is offered only through the phone on the order
  let page = await track({number: 'W-5', contact: 'w5@example.com', lang: 'tr'});
  assert.equal(page.status, 200);
  assert.match(page.text, /siparişteki telefon numarasıyla sorgulayın/);
  assert.doesNotMatch(page.text, /name="notify"/);
  page = await track({number: 'W-5', contact: 'w5@example.com', lang: 'tr', notify: 'whatsapp'});
  assert.equal(page.status, 422, 'not with the e-mail');
  assert.equal((await api('GET', '/api/v1/orders/W-5')).json.notify, null, 'nothing recorded');
  // a wrong number records nothing either
  page = await track({number: 'W-5', contact: '0533 000 00 99', lang: 'tr', notify: 'whatsapp'});
  assert.equal(page.status, 404);
  assert.equal((await api('GET', '/api/v1/orders/W-5')).json.notify, null);
  // with the phone on the order
  page = await track({number: 'W-5', contact: '0533 000 00 05', lang: 'tr'});
  assert.match(page.text, /WhatsApp&#39;tan gönderilsin|WhatsApp'tan gönderilsin/);
  page = await track({number: 'W-5', contact: '0533 000 00 05', lang: 'tr', notify: 'whatsapp'});
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Tercihiniz kaydedildi/);
  assert.match(page.text, /WhatsApp&#39;tan geliyor|WhatsApp'tan geliyor/);
  let o = (await api('GET', '/api/v1/orders/W-5')).json;
  assert.deepEqual([o.notify.channel, o.notify.phone, o.notify.source], ['whatsapp', '+905330000005', 'tracking_page']);
  // the shop's next version of the order does not undo the customer's choice
  await putOrder('W-5', {customer: {email: 'w5@example.com', name: 'Ege', phone: '0533 000 00 05'}, notify: {channel: 'email'},
    updated_at: '2026-11-09T10:00:00Z'});
  assert.equal((await api('GET', '/api/v1/orders/W-5')).json.notify.source, 'tracking_page');
  page = await track({number: 'W-5', contact: '0533 000 00 05', lang: 'en', notify: 'email'});
  assert.equal(page.status, 200);
  assert.match(page.text, /Your choice is saved/);
  o = (await api('GET', '/api/v1/orders/W-5')).json;
  assert.deepEqual([o.notify.channel, o.notify.source], ['email', 'tracking_page']);
});

test('a notice to a customer with no open WhatsApp conversation waits on the thread and joins the ticket their reply opens', async () => {
  const track = (fields) => request(`${server.url}/track`, {method: 'POST',
    headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(fields).toString()});
  assert.equal((await track({number: 'W-5', contact: '0533 000 00 05', lang: 'tr', notify: 'whatsapp'})).status, 200);
  const before = sent.length;
  await ship('W-5', 'InTransit');
  await eventually(() => sent.length, (x) => x > before);
  assert.equal(sent[before].json.to, '905330000005');
  await eventually(() => notices('W-5'), (x) => x[0] && x[0].state === 'sent');
  // the customer answers on WhatsApp: their conversation opens with the notice in it
  const r = await webhook({contacts: [{profile: {name: 'Ege'}, wa_id: '905330000005'}], messages: [{from: '905330000005',
    id: 'wamid.IN5', timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: {body: 'Teşekkürler, yarın evde yokum'}}]});
  assert.equal(r.status, 200, r.text);
  const list = await api('GET', '/api/v1/tickets?channel=whatsapp&limit=100');
  const ticket = list.json.items.find((t) => t.customer && t.customer.phone === '+905330000005');
  assert.ok(ticket, list.text);
  assert.equal(ticket.customer.email, 'w5@example.com', 'the order\'s customer: one contact');
  const thread = (await api('GET', `/api/v1/chat/whatsapp/tickets/${ticket.id}`)).json;
  assert.deepEqual(thread.messages.map((m) => [m.direction, m.kind]), [['out', 'template'], ['in', 'text']]);
  // a template that is not one of the shop's approved ones is refused by chat: mailed, the reason said
  assert.equal((await api('PATCH', '/api/v1/settings', {'orders.wa_template_delivered': 'teslim_edildi:tr:number'})).status, 200);
  await ship('W-5', 'Delivered');
  const n = (await eventually(() => notices('W-5'), (x) => x[1] && x[1].state === 'mailed'))[1];
  assert.match(n.detail, /teslim_edildi \(tr\) is not one of the shop's approved templates/);
  assert.equal(sent.length, before + 1);
});

test('a notice the Graph API does not take within its tries (5xx, no answer) is mailed', async () => {
  assert.equal((await api('PATCH', '/api/v1/settings', {'chat.wa_notice_attempts': 1})).status, 200);
  await putOrder('W-6', {customer: {email: 'w6@example.com', name: 'Oya', phone: '0533 000 00 06'}, notify: {channel: 'whatsapp'},
    promised_dispatch_date: '2026-11-20'});
  answers.push([503, {error: {message: 'Service temporarily unavailable', code: 2}}]);
  const before = sent.length;
  await ship('W-6', 'InTransit');
  await eventually(() => sent.length, (x) => x > before);
  await eventually(() => mailsTo('w6@example.com'), (x) => x.length === 1);
  const n = (await eventually(() => notices('W-6'), (x) => x[0] && x[0].state === 'mailed'))[0];
  assert.match(n.detail, /WhatsApp refused the template \(503 not sent after 1 tries \(503\)\): mailed instead/);
  assert.equal(sent.length, before + 1);
  assert.equal((await api('PATCH', '/api/v1/settings', {'chat.wa_notice_attempts': 6})).status, 200);
});

test('erasing the customer (KVKK) removes the choice with its WhatsApp number', async () => {
  const o = (await api('GET', '/api/v1/orders/W-3')).json;
  assert.equal(o.notify.phone, '+905551112233');
  const cid = o.customer.contact_id;
  const er = await api('POST', `/api/v1/contacts/${cid}/erase`, {confirm_id: cid});
  assert.ok(er.status < 300, er.text);
  assert.equal((await api('GET', '/api/v1/orders/W-3')).json.notify, null);
});

test('chat.whatsapp_template_send as another module calls it: approved templates, once per ref, commercial only with ONAY', async () => {
  const call = (args) => server.api('POST', '/svcclient/call', {session: admin, body: {service: 'chat.whatsapp_template_send', args}});
  const o = (await api('GET', '/api/v1/orders/W-4')).json;
  const cid = o.customer.contact_id;
  const base = {contact_id: cid, phone: '0533 000 00 01', template: {name: 'kargoya_verildi', language: 'tr', parameters: ['W-4']}};
  assertError(await call({...base, ref: 'test:1', template: {name: 'kampanya', language: 'tr'}}), 422, 'invalid_field');
  assertError(await call({...base, ref: 'test:1', phone: 'yok'}), 422, 'invalid_field');
  assertError(await call({...base}), 422, 'invalid_field');   // no ref
  // a commercial message needs the customer's current ONAY for WhatsApp; a service message does not
  assertError(await call({...base, ref: 'test:c1', commercial: true}), 409, 'no_consent');
  const before = sent.length;
  let r = await call({...base, ref: 'test:s1'});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.result.status, r.json.result.duplicate], ['queued', false]);
  const id = r.json.result.id;
  r = await call({...base, ref: 'test:s1'});
  assert.deepEqual([r.json.result.id, r.json.result.duplicate], [id, true], 'once per ref');
  await eventually(async () => (await call({op: 'status', id})).json.result.status, (st) => st === 'sent');
  assert.equal(sent.length, before + 1);
  const ok = await api('POST', `/api/v1/contacts/${cid}/consent`, {channel: 'whatsapp', status: 'ONAY', source: 'web_form',
    text_shown: 'Kampanyalardan WhatsApp ile haberdar olmak istiyorum.'});
  assert.equal(ok.status, 201, ok.text);
  r = await call({...base, ref: 'test:c1', commercial: true});
  assert.equal(r.status, 200, r.text);
  assertError(await call({op: 'status', id: 999999}), 404, 'not_found');
});
