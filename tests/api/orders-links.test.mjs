// Tickets linked to orders (plugins/orders/links.c): the form's order number, a number in a new ticket's subject or
// body (agents' API, the public form, mail), only an order of the ticket's own customer; an agent's link and unlink;
// the order's tickets; macros' {{order.number}} / {{shipment.*}} and the ticket.triage policy seeing the order and its
// shipment, both through ticketing's "ticket context" (plugins/ticketing/context.c), not ticketing knowing orders.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, createToken, tempDir, assertError, runCli, disableOutOfHoursReply, eventually, listAll} from './lib.mjs';

let server, admin, token;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const put = (number, body) => server.api('PUT', `/api/v1/orders/${number}`, {token: token.secret, body});
const linked = async (ticketId) => (await api('GET', `/api/v1/orders?ticket_id=${ticketId}`)).json.items.map((o) => o.number);

// A merchant's triage policy that reads the order and shipment the orders module adds to the ticket.
const TRIAGE = `
local destek = require "destek"
return {
  name = "kargo_rule", version = "1.0.0",
  init = function()
    destek.policy("ticket.triage", function(ticket)
      local tags = {}
      if ticket.order then
        tags[#tags + 1] = "order-" .. ticket.order.status
        if ticket.order.linked then tags[#tags + 1] = "order-linked" end
      end
      if ticket.shipment then tags[#tags + 1] = "ship-" .. string.lower(ticket.shipment.status) end
      if ticket.shipment and ticket.shipment.status == "Exception" then return { priority = "urgent", tags = tags } end
      return { tags = tags }
    end)
  end,
}`;

before(async () => {
  const dir = tempDir('destek-orders-links-');
  fs.mkdirSync(path.join(dir, 'plugins'), {recursive: true});
  fs.writeFileSync(path.join(dir, 'plugins', 'kargo_rule.lua'), TRIAGE);
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  token = await createToken(server, admin, {scopes: ['orders']});
  const orders = [
    ['SP-1001', 'ayse@example.com', 'processing', []],
    ['SP-1002', 'ayse@example.com', 'shipped', [{carrier: 'Yurtiçi Kargo', tracking_number: 'YK123456', status: 'InTransit'}]],
    ['SP-2001', 'mehmet@example.com', 'shipped', [{carrier: 'Aras Kargo', tracking_number: 'AR999', status: 'Exception'}]],
    ['100234', 'zeynep@example.com', 'completed', []],
  ];
  for (const [number, email, status, shipments] of orders) {
    const r = await put(number, {status, customer: {email, name: email.split('@')[0]}, placed_at: '2026-11-20T10:00:00Z',
      items: [{name: 'Keten Gömlek', quantity: 1, price_minor: 54990}], shipments});
    assert.equal(r.status, 201, r.text);
  }
});

test('the form\'s order number links the ticket to the customer\'s order; a stranger\'s is not linked', async () => {
  let r = await api('POST', '/api/v1/tickets', {subject: 'Soru', body: 'Merhaba', order_number: 'SP-1001',
    customer: {email: 'ayse@example.com'}});
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(await linked(r.json.id), ['SP-1001']);
  const t = await api('GET', '/api/v1/orders/SP-1001/tickets');
  assert.equal(t.status, 200, t.text);
  assert.equal(t.json.items[0].id, r.json.id);
  assert.equal(t.json.items[0].link.how, 'form');
  assert.equal(t.json.items[0].reference, r.json.reference);
  // Someone else types Ayşe's number: no link, and nothing of her order reaches the stranger's ticket.
  r = await api('POST', '/api/v1/tickets', {subject: 'SP-1001 nerede?', body: 'Sipariş SP-1001', order_number: 'SP-1001',
    customer: {email: 'stranger@example.com'}});
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(await linked(r.json.id), []);
});

test('an order number in the subject or body of a new ticket links it (agents\' API, public form, mail)', async () => {
  let r = await api('POST', '/api/v1/tickets', {subject: 'Kargom nerede? #sp-1002', body: 'Merhaba',
    customer: {email: 'ayse@example.com'}});
  assert.deepEqual(await linked(r.json.id), ['SP-1002'], 'the subject, in any case, with #');
  r = await api('POST', '/api/v1/tickets', {subject: 'Kargo', body: 'Merhaba,\nsipariş numaram 100234, ne zaman gelir? Tel 05321234567',
    customer: {email: 'zeynep@example.com'}});
  assert.deepEqual(await linked(r.json.id), ['100234'], 'the body');
  // The public form (portal): no session.
  r = await server.api('POST', '/api/v1/public/tickets', {body: {name: 'Mehmet', email: 'mehmet@example.com',
    subject: 'Paketim', body: 'SP-2001 numaralı siparişim hasarlı geldi.'}});
  assert.equal(r.status, 201, r.text);
  const ref = r.json.reference.slice(1);
  const list = await api('GET', `/api/v1/tickets?q=${ref}`);
  const webTicket = (await api('GET', '/api/v1/tickets?channel=web')).json.items.find((x) => x.reference === r.json.reference);
  assert.ok(webTicket, list.text);
  assert.deepEqual(await linked(webTicket.id), ['SP-2001']);
  // Mail.
  const raw = ['From: "Ayşe" <ayse@example.com>', 'To: destek@shop.example', 'Subject: Siparis hakkinda',
    `Message-ID: <links-${process.pid}@example.com>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '',
    'Merhaba, SP-1001 ve SP-1002 siparislerim ne durumda? SP-2001 de benim degil.', ''].join('\r\n');
  const imp = await runCli(['mail', 'import', '--data', server.dataDir], {input: raw});
  assert.equal(imp.code, 0, imp.stderr);
  const mailed = JSON.parse(imp.stdout.trim().split('\n').pop());
  assert.deepEqual((await linked(mailed.ticket_id)).sort(), ['SP-1001', 'SP-1002'], 'only her own orders');
});

test('an agent links and unlinks by hand; order.linked / order.unlinked; 404s', async () => {
  let r = await api('POST', '/api/v1/tickets', {subject: 'Genel soru', body: 'Merhaba', customer: {email: 'ali@example.com'}});
  const id = r.json.id;
  assert.deepEqual(await linked(id), []);
  r = await api('POST', '/api/v1/orders/SP-2001/tickets', {ticket_id: id});
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, {ticket_id: id, order_number: 'SP-2001', how: 'agent'});
  r = await api('POST', '/api/v1/orders/SP-2001/tickets', {ticket_id: id});
  assert.equal(r.status, 200, 'linked already');
  assert.deepEqual(await linked(id), ['SP-2001']);
  assertError(await api('POST', '/api/v1/orders/SP-2001/tickets', {ticket_id: 999999}), 404, 'not_found');
  assertError(await api('POST', '/api/v1/orders/NOPE/tickets', {ticket_id: id}), 404, 'not_found');
  assertError(await api('POST', '/api/v1/orders/SP-2001/tickets', {ticket_id: 'x'}), 422, 'invalid_field', 'ticket_id');
  r = await api('DELETE', `/api/v1/orders/SP-2001/tickets/${id}`);
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(await linked(id), []);
  assertError(await api('DELETE', `/api/v1/orders/SP-2001/tickets/${id}`), 404, 'not_found');
  const ev = await eventually(() => listAll(server, '/api/v1/events', {session: admin, limit: 200}),
    (items) => items.some((e) => e.event === 'order.unlinked'));
  const names = ev.filter((e) => e.event.startsWith('order.') && e.payload && e.payload.ticket_id === id).map((e) => e.event);
  assert.ok(names.includes('order.linked') && names.includes('order.unlinked'), names.join());
  // Anonymous callers get nothing.
  r = await server.api('GET', '/api/v1/orders/SP-2001/tickets');
  assert.equal(r.status, 401);
});

test('macros: {{order.number}}, {{shipment.tracking_url}}, {{shipment.eta}} of the linked order, else the latest', async () => {
  const m = await api('POST', '/api/v1/macros', {name: 'Kargo bilgisi',
    body_tr: 'Merhaba {{customer.name}}, {{order.number}} numaralı siparişiniz {{shipment.carrier}} ile yolda: {{shipment.tracking_url}} Tahmini teslim: {{shipment.eta}}',
    body_en: 'Order {{order.number}}: {{shipment.tracking_url}}'});
  assert.equal(m.status, 201, m.text);
  // Linked to SP-1002 by the subject.
  let t = await api('POST', '/api/v1/tickets', {subject: 'SP-1002 kargom', body: 'nerede', customer: {email: 'ayse@example.com'}});
  let r = await api('POST', `/api/v1/tickets/${t.json.id}/macros/${m.json.id}/apply`);
  assert.equal(r.status, 200, r.text);
  let reply = r.json.messages.filter((x) => x.kind === 'reply').pop().body;
  assert.match(reply, /SP-1002 numaralı siparişiniz Yurtiçi Kargo ile yolda: https:\/\/www\.yurticikargo\.com\/.*YK123456/);
  assert.doesNotMatch(reply, /\{\{/, 'no variable is left for the customer to see');
  // Not linked: the customer's latest order (SP-1002 is newer than SP-1001).
  t = await api('POST', '/api/v1/tickets', {subject: 'Soru', body: 'Merhaba', customer: {email: 'ayse@example.com'}});
  await api('DELETE', `/api/v1/orders/SP-1002/tickets/${t.json.id}`);
  r = await api('POST', `/api/v1/tickets/${t.json.id}/macros/${m.json.id}/apply`);
  reply = r.json.messages.filter((x) => x.kind === 'reply').pop().body;
  assert.match(reply, /SP-1002/);
  // An agent links the older order: that one wins.
  await api('POST', '/api/v1/orders/SP-1001/tickets', {ticket_id: t.json.id});
  r = await api('POST', `/api/v1/tickets/${t.json.id}/macros/${m.json.id}/apply`);
  reply = r.json.messages.filter((x) => x.kind === 'reply').pop().body;
  assert.match(reply, /SP-1001 numaralı/);
  assert.doesNotMatch(reply, /\{\{|yolda: https/, 'not shipped: the shipment variables are empty');
  // A customer without orders: the order variables vanish, ticketing's own stay.
  t = await api('POST', '/api/v1/tickets', {subject: 'Soru', body: 'Merhaba', customer: {email: 'nobody@example.com', name: 'Nur'}});
  r = await api('POST', `/api/v1/tickets/${t.json.id}/macros/${m.json.id}/apply`);
  reply = r.json.messages.filter((x) => x.kind === 'reply').pop().body;
  assert.match(reply, /^Merhaba Nur,/);
  assert.doesNotMatch(reply, /\{\{/);
});

test('ticket.triage sees the linked order and its shipment (a merchant\'s rule raises a carrier exception)', async () => {
  let r = await api('POST', '/api/v1/tickets', {subject: 'Paketim gelmedi', body: 'Sipariş no SP-2001', customer: {email: 'mehmet@example.com'}});
  assert.equal(r.status, 201, r.text);
  let t = (await api('GET', `/api/v1/tickets/${r.json.id}`)).json;
  assert.equal(t.priority, 'urgent', JSON.stringify(t.tags));
  assert.ok(t.tags.includes('order-shipped') && t.tags.includes('order-linked') && t.tags.includes('ship-exception'), t.tags.join());
  // Not linked: the customer's latest order, marked linked = false.
  r = await api('POST', '/api/v1/tickets', {subject: 'Soru', body: 'Merhaba', customer: {email: 'zeynep@example.com'}});
  t = (await api('GET', `/api/v1/tickets/${r.json.id}`)).json;
  assert.equal(t.priority, 'normal');
  assert.ok(t.tags.includes('order-completed') && !t.tags.includes('order-linked'), t.tags.join());
  // No orders at all: nothing added.
  r = await api('POST', '/api/v1/tickets', {subject: 'Soru', body: 'Merhaba', customer: {email: 'yeni@example.com'}});
  t = (await api('GET', `/api/v1/tickets/${r.json.id}`)).json;
  assert.deepEqual(t.tags.filter((x) => x.startsWith('order-') || x.startsWith('ship-')), []);
});

test('a merged ticket\'s orders follow it', async () => {
  const a = await api('POST', '/api/v1/tickets', {subject: 'SP-1001', body: 'x', customer: {email: 'ayse@example.com'}});
  const b = await api('POST', '/api/v1/tickets', {subject: 'SP-1002', body: 'y', customer: {email: 'ayse@example.com'}});
  const r = await api('POST', `/api/v1/tickets/${a.json.id}/merge`, {source_id: b.json.id});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual((await linked(a.json.id)).sort(), ['SP-1001', 'SP-1002']);
  assert.deepEqual(await linked(b.json.id), []);
});
