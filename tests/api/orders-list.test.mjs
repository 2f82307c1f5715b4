// The agents' orders screen's list (plugins/orders/list.c): filters by status, payment, source, shipment status and
// carrier, not shipped / late to ship, the date placed (Turkey's days), a search by number, e-mail, phone or name
// (Turkish-aware), paging; the detail with items, shipments and checkpoints; and the carriers an admin edits.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {startServer, setupAdmin, createToken, createUser, login, assertError, listAll, sqlite3, eventually, runCli} from './lib.mjs';

let server, admin, token;
const get = async (q) => {
  const r = await server.api('GET', `/api/v1/orders${q}`, {session: admin});
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  return r.json.items.map((o) => o.number);
};

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  token = await createToken(server, admin, {scopes: ['orders']});
  const mk = (number, extra) => server.api('PUT', `/api/v1/orders/${number}`, {token: token.secret, body: {status: 'processing',
    items: [{name: 'Havlu', quantity: 1, price_minor: 100}], ...extra}});
  const rows = [
    ['L-1', {customer: {email: 'Şükrü@Example.com', name: 'ŞÜKRÜ IŞIK', phone: '0532 111 22 33'}, placed_at: '2026-11-01T09:00:00+03:00', payment_status: 'paid'}],
    ['L-2', {customer: {email: 'ayse@example.com', name: 'Ayşe Yılmaz'}, placed_at: '2026-11-02T00:30:00+03:00', payment_status: 'pending',
      promised_dispatch_date: '2026-11-03'}],
    ['L-3', {status: 'shipped', customer: {email: 'can@example.com', name: 'Can İnce'}, placed_at: '2026-11-03T12:00:00+03:00', payment_status: 'paid',
      shipments: [{carrier: 'Aras Kargo', tracking_number: 'AR1', status: 'Exception'}]}],
    ['L-4', {status: 'shipped', customer: {email: 'ayse@example.com', name: 'Ayşe Yılmaz'}, placed_at: '2026-11-04T12:00:00+03:00', payment_status: 'paid',
      shipments: [{carrier: 'Yurtiçi', tracking_number: 'YK1', status: 'InTransit'}]}],
    ['L-5', {status: 'cancelled', customer: {email: 'deniz@example.com', name: 'Deniz'}, placed_at: '2026-11-05T12:00:00+03:00', payment_status: 'refunded'}],
    ['L-6', {customer: {email: 'ece@example.com', name: 'Ece'}, placed_at: '2026-11-06T12:00:00+03:00', payment_status: 'paid',
      promised_dispatch_date: '2099-01-01', shipments: [{carrier: 'PTT', tracking_number: 'PT1', status: 'InfoReceived'}]}],
  ];
  for (const [n, body] of rows) {
    const r = await mk(n, body);
    assert.equal(r.status, 201, r.text);
  }
});

test('filters: status, payment, source, shipment status, carrier; newest first', async () => {
  assert.deepEqual(await get(''), ['L-6', 'L-5', 'L-4', 'L-3', 'L-2', 'L-1']);
  assert.deepEqual(await get('?status=shipped'), ['L-4', 'L-3']);
  assert.deepEqual(await get('?payment_status=pending'), ['L-2']);
  assert.deepEqual(await get('?payment_status=paid&status=processing'), ['L-6', 'L-1']);
  assert.deepEqual(await get('?source=api'), ['L-6', 'L-5', 'L-4', 'L-3', 'L-2', 'L-1']);
  assert.deepEqual(await get('?source=shopify'), []);
  assert.deepEqual(await get('?shipment_status=Exception'), ['L-3']);
  assert.deepEqual(await get('?carrier=yurtici'), ['L-4']);
  assert.deepEqual(await get('?carrier=aras&shipment_status=InTransit'), []);
  const r = await server.api('GET', '/api/v1/orders?number=L-3', {session: admin});
  assert.equal(r.json.items[0].latest_shipment.status, 'Exception');
  assert.equal(r.json.items[0].latest_shipment.carrier, 'aras');
  assertError(await server.api('GET', '/api/v1/orders?status=lost', {session: admin}), 422, 'invalid_field', 'status');
  assertError(await server.api('GET', '/api/v1/orders?payment_status=x', {session: admin}), 422, 'invalid_field', 'payment_status');
  assertError(await server.api('GET', '/api/v1/orders?shipment_status=intransit', {session: admin}), 422, 'invalid_field', 'shipment_status');
  assertError(await server.api('GET', '/api/v1/orders?not_shipped=maybe', {session: admin}), 422, 'invalid_field', 'not_shipped');
});

test('not shipped, late to ship, and the date placed in Turkey\'s days', async () => {
  // Open orders none of whose shipments has left (L-6's parcel is only labelled).
  assert.deepEqual(await get('?not_shipped=true'), ['L-6', 'L-2', 'L-1']);
  assert.deepEqual(await get('?late=true'), ['L-2'], 'promised 2026-11-03, not shipped');
  // L-2 was placed at 00:30 Istanbul time on the 2nd (21:30 UTC on the 1st): it belongs to the 2nd.
  assert.deepEqual(await get('?from=2026-11-02&to=2026-11-03'), ['L-3', 'L-2']);
  assert.deepEqual(await get('?from=2026-11-01&to=2026-11-01'), ['L-1']);
  assert.deepEqual(await get('?from=2026-11-05'), ['L-6', 'L-5']);
  assert.deepEqual(await get('?to=2026-11-01'), ['L-1']);
  assertError(await server.api('GET', '/api/v1/orders?from=01.11.2026', {session: admin}), 422, 'invalid_field', 'from');
});

test('search: number, e-mail, phone in any spelling, names the Turkish way', async () => {
  assert.deepEqual(await get('?q=L-3'), ['L-3']);
  assert.deepEqual(await get('?q=%23L-4'), ['L-4']);
  assert.deepEqual(await get('?q=AYSE@example.com'), ['L-4', 'L-2']);
  assert.deepEqual(await get('?q=' + encodeURIComponent('+90 (532) 111 22 33')), ['L-1']);
  assert.deepEqual(await get('?q=sukru'), ['L-1']);
  assert.deepEqual(await get('?q=' + encodeURIComponent('şükrü ışık')), ['L-1']);
  assert.deepEqual(await get('?q=' + encodeURIComponent('AYŞE')), ['L-4', 'L-2']);
  assert.deepEqual(await get('?q=' + encodeURIComponent('can ince')), ['L-3']);
  assert.deepEqual(await get('?q=' + encodeURIComponent('AYŞE') + '&status=shipped'), ['L-4']);
  assert.deepEqual(await get('?q=nobody'), []);
});

test('paging: limit and cursor walk every order once', async () => {
  const all = await listAll(server, '/api/v1/orders', {session: admin, limit: 2});
  assert.deepEqual(all.map((o) => o.number), ['L-6', 'L-5', 'L-4', 'L-3', 'L-2', 'L-1']);
  const some = await listAll(server, '/api/v1/orders?status=processing', {session: admin, limit: 1});
  assert.deepEqual(some.map((o) => o.number), ['L-6', 'L-2', 'L-1']);
});

test('an order stored before the search existed is found once the job fills its search text', async () => {
  sqlite3(`${server.dataDir}/destek.db`, "UPDATE orders_orders SET search_text = NULL WHERE number = 'L-5'");
  await eventually(() => get('?q=deniz'), (items) => items.length === 1 && items[0] === 'L-5', {ms: 30000, every: 500});
});

test('the detail: items, shipments with checkpoints; agents read, only admins edit carriers', async () => {
  const r = await server.api('GET', '/api/v1/orders/L-3', {session: admin});
  assert.equal(r.status, 200);
  assert.equal(r.json.items[0].name, 'Havlu');
  assert.equal(r.json.shipments[0].checkpoints.length >= 1, true);
  const agentUser = await createUser(server, admin, {role: 'agent', password: 'agent password 123'});
  const agent = await login(server, agentUser.email, 'agent password 123');
  assert.equal((await server.api('GET', '/api/v1/orders?q=ayse', {session: agent})).status, 200);
  assert.equal((await server.api('GET', '/api/v1/order-carriers', {session: agent})).status, 200);
  assert.equal((await server.api('PATCH', '/api/v1/order-carriers/aras', {session: agent, body: {name: 'X'}})).status, 403);
  const p = await server.api('PATCH', '/api/v1/order-carriers/aras', {session: admin,
    body: {url_template: 'https://ebranch.araskargo.com.tr/track/{n}'}});
  assert.equal(p.status, 200, p.text);
  const d = await server.api('GET', '/api/v1/orders/L-3', {session: admin});
  assert.equal(d.json.shipments[0].tracking_url, 'https://ebranch.araskargo.com.tr/track/AR1');
  assert.equal((await server.api('GET', '/api/v1/orders')).status, 401);
});

test('CSV: an order sent in two parcels is two lines with two tracking numbers and their statuses', async () => {
  const file = `${server.dataDir}/parcels.csv`;
  fs.writeFileSync(file, ['number,status,email,item_name,quantity,price,carrier,tracking_number,shipment_status',
    'P-1,shipped,iki@example.com,Havlu,1,10.00,Aras Kargo,AR-P1,Delivered',
    'P-1,shipped,iki@example.com,Bornoz,1,20.00,PTT,PT-P1,InTransit',
    'P-1,shipped,iki@example.com,Terlik,1,5.00,PTT,PT-P1,InTransit', ''].join('\n'));
  const r = await runCli(['orders', 'import', file, '--data', server.dataDir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const o = await server.api('GET', '/api/v1/orders/P-1', {session: admin});
  assert.deepEqual(o.json.shipments.map((s) => [s.carrier, s.tracking_number, s.status]),
    [['aras', 'AR-P1', 'Delivered'], ['ptt', 'PT-P1', 'InTransit']]);
  assert.equal(o.json.items.length, 3);
  assert.deepEqual(await get('?shipment_status=Delivered&carrier=aras'), ['P-1']);
});

test('a KVKK erasure takes the person out of the search at once', async () => {
  const o = await server.api('GET', '/api/v1/orders/L-1', {session: admin});
  const cid = o.json.customer.contact_id;
  assert.deepEqual(await get('?q=sukru'), ['L-1']);
  const r = await server.api('POST', `/api/v1/contacts/${cid}/erase`, {session: admin, body: {confirm_id: cid}});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(await get('?q=sukru'), [], 'the name is gone from the search');
  assert.deepEqual(await get('?q=L-1'), ['L-1'], 'the order stays, found by its number');
});
