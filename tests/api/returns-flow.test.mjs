// The returns module end to end over HTTP: a customer returns one of two items with a photo, the policy and an agent
// decide, a mocked carrier scan (a shipment of the order with the return's tracking number) marks it shipped back
// and received, inspection, refund; the ticket holds the conversation; and the refusals (past 14 days, an excepted
// product, a photo that is not an image, someone else's order), the IBAN of a cash-on-delivery order, events, CSV.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createToken, createUser, login, assertError, assertSubset, eventually, ADMIN_PASSWORD} from './lib.mjs';
import {PNG, putOrder, lookup, request} from './returns-helpers.mjs';

let server, admin, tok, agent;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  tok = (await createToken(server, admin, {scopes: ['orders']})).secret;
  await server.api('PATCH', '/api/v1/settings', {session: admin, body: {
    'returns.address': 'Destek Depo, Tuzla / İstanbul', 'returns.carrier': 'Aras Kargo', 'returns.carrier_code': '1234567',
    'returns.lookup_limit': 1000}});
  const u = await createUser(server, admin, {email: 'agent@example.com', role: 'agent', password: ADMIN_PASSWORD});
  agent = await login(server, 'agent@example.com', ADMIN_PASSWORD);
  assert.ok(u);
});

const recent = () => new Date(Date.now() - 3 * 86400e3).toISOString();

test('the whole path: one of two items with a photo, approve, carrier scans, inspection, refund', async () => {
  await putOrder(server, tok, 'R-1001', {delivered: recent()});
  const q = await request(server, 'R-1001', 'AYSE@example.com', [
    {line: 1, qty: 1, reason: 'damaged', outcome: 'refund', comment: 'Kutu ezik geldi',
      photos: [{name: 'hasar.png', type: 'image/png', data: PNG}]}]);
  assert.equal(q.status, 303, q.text);
  assert.ok(q.code, q.location);
  // the customer's page: under review (damage needs a person), in the right language
  let page = await fetch(server.url + q.location);
  let html = await page.text();
  assert.equal(page.status, 200);
  assert.match(html, new RegExp(q.code));
  assert.match(html, /Requested/);
  assert.match(html, /within 24 hours/);
  // the agents' queue: filtered by status and reason
  const list = await server.api('GET', '/api/v1/returns?status=requested&reason=damaged', {session: agent});
  assert.equal(list.status, 200, list.text);
  const row = list.json.items.find((r) => r.code === q.code);
  assert.ok(row, 'in the queue');
  assertSubset(row, {order_number: 'R-1001', status: 'requested', review: true, reason: 'damaged'});
  assert.ok(row.ticket_id > 0, 'a ticket was opened');
  const det = await server.api('GET', `/api/v1/returns/${row.id}`, {session: agent});
  assert.equal(det.json.items.length, 1);
  assertSubset(det.json.items[0], {line: 1, sku: 'TSHIRT-M', quantity: 1, reason: 'damaged', outcome: 'refund'});
  assert.equal(det.json.photos.length, 1);
  assert.equal(det.json.order.number, 'R-1001');
  const photo = await fetch(server.url + det.json.photos[0].url, {headers: {cookie: agent.cookie}});
  assert.equal(photo.status, 200);
  assert.match(photo.headers.get('content-disposition') || '', /attachment/);
  assert.deepEqual(Buffer.from(await photo.arrayBuffer()), PNG);
  // approve: the return code, the carrier's agreement code and the deadline go to the customer through the ticket
  const ap = await server.api('POST', `/api/v1/returns/${row.id}/approve`, {session: agent, body: {}});
  assert.equal(ap.status, 200, ap.text);
  assert.equal(ap.json.status, 'approved');
  assert.ok(ap.json.ship_by - ap.json.updated_at === 10 * 86400);
  const ticket = await server.api('GET', `/api/v1/tickets/${row.ticket_id}`, {session: agent});
  assert.equal(ticket.status, 200, ticket.text);
  const msgs = JSON.stringify(ticket.json);
  assert.match(msgs, new RegExp(`${q.code}`));
  assert.match(msgs, /1234567/);
  page = await fetch(server.url + q.location); html = await page.text();
  assert.match(html, /Approved/); assert.match(html, /Aras Kargo/); assert.match(html, /Tuzla/);
  // the customer writes on the return's page: the message goes to the ticket as the customer's
  const sig = new URL(server.url + q.location).searchParams.get('sig');
  const m = await fetch(`${server.url}/returns/r/${q.code}/message`, {method: 'POST', redirect: 'manual',
    headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({sig, body: 'Kargoya ne zaman vereyim?', lang: 'en'})});
  assert.equal(m.status, 303);
  const t2 = await server.api('GET', `/api/v1/tickets/${row.ticket_id}`, {session: agent});
  assert.match(JSON.stringify(t2.json), /Kargoya ne zaman vereyim/);
  // a mocked carrier scan: the parcel with the return's code as its number, in transit, then delivered to the shop
  let s = await server.api('POST', '/api/v1/orders/R-1001/shipments', {session: agent,
    body: {tracking_number: q.code, carrier: 'Aras Kargo', status: 'InTransit'}});
  assert.equal(s.status, 201, s.text);
  await eventually(() => server.api('GET', `/api/v1/returns/${row.id}`, {session: agent}), (r) => r.json.status === 'shipped_back');
  s = await server.api('POST', '/api/v1/orders/R-1001/shipments', {session: agent,
    body: {tracking_number: q.code, carrier: 'Aras Kargo', status: 'Delivered'}});
  assert.equal(s.status, 201, s.text);
  const rec = await eventually(() => server.api('GET', `/api/v1/returns/${row.id}`, {session: agent}), (r) => r.json.status === 'received');
  assert.equal(rec.json.tracking_number, q.code);
  // inspection per item, then the refund
  const itemId = rec.json.items[0].id;
  let r = await server.api('POST', `/api/v1/returns/${row.id}/refund`, {session: agent, body: {amount_minor: 25000}});
  assertError(r, 409, 'invalid_transition');
  r = await server.api('POST', `/api/v1/returns/${row.id}/inspect`, {session: agent, body: {items: [{id: itemId, condition: 'damaged', note: 'köşe kırık'}]}});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.items[0].condition, 'damaged');
  r = await server.api('POST', `/api/v1/returns/${row.id}/refund`, {session: agent, body: {amount_minor: 25000, method: 'card'}});
  assert.equal(r.status, 200, r.text);
  assertSubset(r.json, {status: 'refunded', refund_minor: 25000, refund_method: 'card', refund_due_soon: false});
  assert.deepEqual(r.json.history.map((h) => h.action).filter((a) => a !== 'message'),
    ['requested', 'approved', 'shipped_back', 'received', 'inspected', 'refunded']);
  // events for triggers and webhooks
  const ev = await server.api('GET', `/api/v1/events?subject=return:${row.id}&limit=100`, {session: admin});
  const names = ev.json.items.map((e) => e.event);
  for (const n of ['return.requested', 'return.approved', 'return.shipped_back', 'return.received', 'return.inspected', 'return.refunded'])
    assert.ok(names.includes(n), `${n} in ${names}`);
  // the second item can still be returned; the first has one left
  const again = await lookup(server, 'R-1001', '05321112233');
  assert.equal(again.status, 200);
});

test('withdrawal within the period is approved at once, with the return code', async () => {
  await putOrder(server, tok, 'R-1002', {delivered: recent()});
  const q = await request(server, 'R-1002', '0532 111 22 33', [{line: 2, reason: 'changed_mind', outcome: 'refund'}], {lang: 'tr'});
  assert.equal(q.status, 303, q.text);
  const html = await (await fetch(server.url + q.location)).text();
  assert.match(html, /Onaylandı/);
  assert.match(html, /anlaşma kodu 1234567/);
});

test('refusals: past 14 days for changed my mind, an excepted product, not an image, someone else\'s order', async () => {
  await putOrder(server, tok, 'R-1003', {delivered: new Date(Date.now() - 20 * 86400e3).toISOString()});
  let q = await request(server, 'R-1003', 'ayse@example.com', [{line: 1, reason: 'changed_mind'}]);
  assert.equal(q.status, 422);
  assert.match(q.text, /right of withdrawal lasts 14 days/);
  // a defect is not limited by the 14 days
  q = await request(server, 'R-1003', 'ayse@example.com', [{line: 1, reason: 'defective'}]);
  assert.equal(q.status, 303, q.text);
  // an excepted product (hygiene seal), even within the period
  let r = await server.api('PUT', '/api/v1/returns/product-flags/MUG', {session: admin, body: {flags: ['hygiene']}});
  assert.equal(r.status, 200, r.text);
  r = await server.api('PUT', '/api/v1/returns/product-flags/MUG', {session: agent, body: {flags: ['hygiene']}});
  assert.equal(r.status, 403);
  await putOrder(server, tok, 'R-1004', {delivered: recent()});
  q = await request(server, 'R-1004', 'ayse@example.com', [{line: 2, reason: 'changed_mind'}]);
  assert.equal(q.status, 422);
  assert.match(q.text, /hygiene/);
  // damage without a photo, and a "photo" that is not an image
  q = await request(server, 'R-1004', 'ayse@example.com', [{line: 1, reason: 'damaged'}]);
  assert.equal(q.status, 422);
  assert.match(q.text, /add a photo/);
  q = await request(server, 'R-1004', 'ayse@example.com', [{line: 1, reason: 'damaged',
    photos: [{name: 'x.jpg', type: 'image/jpeg', data: Buffer.from('<?php echo 1; ?> not an image')}]}]);
  assert.equal(q.status, 415);
  assert.match(q.text, /not a photo/);
  // someone else's order: the same answer as an unknown number
  const a = await lookup(server, 'R-1004', 'mallory@example.com');
  const b = await lookup(server, 'R-9999', 'mallory@example.com');
  assert.equal(a.status, 404); assert.equal(b.status, 404);
  assert.ok(!a.text.includes('Tişört'));
  // a forged form signature
  const l = await lookup(server, 'R-1004', 'ayse@example.com');
  const fd = new FormData();
  fd.set('order', 'R-1004'); fd.set('contact', 'mallory@example.com'); fd.set('sig', l.sig); fd.set('qty_1', '1');
  fd.set('reason_1', 'defective'); fd.set('outcome_1', 'refund');
  const forged = await fetch(`${server.url}/returns/new`, {method: 'POST', body: fd, redirect: 'manual'});
  assert.equal(forged.status, 410);
  // nothing of the refused requests was written
  const list = await server.api('GET', '/api/v1/returns?order_number=R-1004', {session: agent});
  assert.equal(list.json.items.length, 0);
  // a return page with a bad signature
  const bad = await fetch(`${server.url}/returns/r/IA-AAAAAA?sig=1-abc`);
  assert.equal(bad.status, 404);
});

test('cash on delivery: the IBAN is checked (mod-97, TR format) and shown masked; admins see it, audited', async () => {
  await putOrder(server, tok, 'R-1005', {delivered: recent()});
  let q = await request(server, 'R-1005', 'ayse@example.com', [{line: 1, reason: 'changed_mind'}],
    {cod: true, iban: 'TR33 0006 1005 1978 6457 8413 27', iban_holder: 'Ayşe Yılmaz'});
  assert.equal(q.status, 422);
  assert.match(q.text, /IBAN is not valid/);
  q = await request(server, 'R-1005', 'ayse@example.com', [{line: 1, reason: 'changed_mind'}],
    {cod: true, iban: 'tr33 0006 1005 1978 6457 8413 26', iban_holder: 'Ayşe Yılmaz'});
  assert.equal(q.status, 303, q.text);
  const list = await server.api('GET', '/api/v1/returns?order_number=R-1005', {session: agent});
  const id = list.json.items[0].id;
  const det = await server.api('GET', `/api/v1/returns/${id}`, {session: agent});
  assert.equal(det.json.iban_masked, 'TR33 **** **** **** **** **13 26');
  // The hidden middle groups, spaced or not (a lone '6457' may be part of a timestamp or a token).
  assert.ok(!/0006\s*1005\s*1978\s*6457/.test(det.text), 'the full IBAN is never in the agents\' view');
  let r = await server.api('GET', `/api/v1/returns/${id}/iban`, {session: agent});
  assert.equal(r.status, 403);
  r = await server.api('GET', `/api/v1/returns/${id}/iban`, {session: admin});
  assert.equal(r.json.iban, 'TR33 0006 1005 1978 6457 8413 26');
  const audit = await server.api('GET', '/api/v1/audit?limit=50', {session: admin});
  assert.ok(audit.json.items.some((a) => a.action === 'returns.iban_viewed'));
});

test('rejection needs a written reason, kept; bulk approval; the state machine refuses skips', async () => {
  for (const n of ['R-1006', 'R-1007', 'R-1008']) await putOrder(server, tok, n, {delivered: recent()});
  const ids = [];
  for (const n of ['R-1006', 'R-1007', 'R-1008']) {
    const q = await request(server, n, 'ayse@example.com', [{line: 1, reason: 'wrong_item'}]);
    assert.equal(q.status, 303, q.text);
    ids.push((await server.api('GET', `/api/v1/returns?order_number=${n}`, {session: agent})).json.items[0].id);
  }
  let r = await server.api('POST', `/api/v1/returns/${ids[0]}/reject`, {session: agent, body: {}});
  assertError(r, 422, 'missing_field', 'reason');
  r = await server.api('POST', `/api/v1/returns/${ids[0]}/reject`, {session: agent, body: {reason: 'Ürün kullanılmış.'}});
  assert.equal(r.status, 200);
  assertSubset(r.json, {status: 'rejected', reject_reason: 'Ürün kullanılmış.'});
  r = await server.api('POST', `/api/v1/returns/${ids[0]}/approve`, {session: agent, body: {}});
  assertError(r, 409, 'invalid_transition');
  r = await server.api('POST', '/api/v1/returns/bulk-approve', {session: agent, body: {ids: [ids[1], ids[2]]}});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.items.map((x) => x.status), ['approved', 'approved']);
  r = await server.api('POST', `/api/v1/returns/${ids[1]}/inspect`, {session: agent, body: {items: []}});
  assertError(r, 409, 'invalid_transition');
  // the CSV export
  const csv = await fetch(`${server.url}/api/v1/returns/export`, {headers: {cookie: agent.cookie}});
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /text\/csv/);
  const text = await csv.text();
  assert.match(text, /^code,order_number,status/);
  assert.ok(text.split('\r\n').length >= 8);
  // not for anonymous callers
  r = await server.api('GET', '/api/v1/returns');
  assert.equal(r.status, 401);
});

test('exchange: the replacement goes out as a shipment of the order', async () => {
  await putOrder(server, tok, 'R-1009', {delivered: recent()});
  const q = await request(server, 'R-1009', 'ayse@example.com', [{line: 1, reason: 'exchange_size', outcome: 'exchange', variant: 'L'}]);
  assert.equal(q.status, 303, q.text);
  const id = (await server.api('GET', '/api/v1/returns?order_number=R-1009', {session: agent})).json.items[0].id;
  for (const [step, body] of [['shipped', {tracking_number: 'RT-1'}], ['receive', {}]]) {
    const r = await server.api('POST', `/api/v1/returns/${id}/${step}`, {session: agent, body});
    assert.equal(r.status, 200, r.text);
  }
  const det = await server.api('GET', `/api/v1/returns/${id}`, {session: agent});
  let r = await server.api('POST', `/api/v1/returns/${id}/inspect`, {session: agent, body: {items: [{id: det.json.items[0].id, condition: 'as_new'}]}});
  assert.equal(r.status, 200, r.text);
  r = await server.api('POST', `/api/v1/returns/${id}/exchange`, {session: agent, body: {tracking_number: 'EX-777', carrier: 'Aras Kargo'}});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.status, 'exchanged');
  const o = await server.api('GET', '/api/v1/orders/R-1009', {session: agent});
  assert.ok(o.json.shipments.some((s) => s.tracking_number === 'EX-777'), JSON.stringify(o.json.shipments));
  // the order's delivery time is not moved by the return's own parcels
  const pv = await server.api('POST', '/api/v1/returns/preview', {session: agent, body: {order_number: 'R-1009'}});
  assert.equal(pv.status, 200, pv.text);
});

test('lookups are rate-limited per order number (and per address), before the order is looked at', async () => {
  await putOrder(server, tok, 'R-1010', {delivered: recent()});
  let r = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'returns.lookup_number_limit': 2}});
  assert.equal(r.status, 200, r.text);
  assert.equal((await lookup(server, 'R-1010', 'x@example.com')).status, 404);
  assert.equal((await lookup(server, 'R-1010', 'ayse@example.com')).status, 200);
  const res = await fetch(`${server.url}/returns`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams({order: 'r-1010', contact: 'ayse@example.com', lang: 'en'}).toString()});
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  assert.match(await res.text(), /Too many tries/);
  // another order is not held up
  assert.equal((await lookup(server, 'R-1009', 'ayse@example.com')).status, 200);
});

test('the portal escapes what the shop and the customer wrote; its pages carry no inline script', async () => {
  await putOrder(server, tok, 'R-1011', {delivered: recent(), items: [
    {sku: 'X<1>', name: 'Havlu <script>alert(1)</script>', variant: '"M" & <b>', quantity: 1, price_minor: 1000}]});
  const l = await lookup(server, 'R-1011', 'ayse@example.com');
  assert.equal(l.status, 200);
  assert.ok(!l.text.includes('<script>alert'), 'the item name is escaped');
  assert.match(l.text, /Havlu &lt;script&gt;/);
  assert.ok(!/<script|style=/.test(l.text));
  const q = await request(server, 'R-1011', 'ayse@example.com', [{line: 1, reason: 'defective', comment: '<img src=x onerror=alert(1)>'}]);
  assert.equal(q.status, 303, q.text);
  const sig = new URL(server.url + q.location).searchParams.get('sig');
  await fetch(`${server.url}/returns/r/${q.code}/message`, {method: 'POST', redirect: 'manual',
    headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams({sig, body: '<script>x()</script>'})});
  const page = await (await fetch(server.url + q.location)).text();
  assert.ok(!page.includes('<script>x()') && !page.includes('<img src=x'), 'escaped on the return page');
});
