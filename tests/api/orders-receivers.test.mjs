// The orders module's receivers: sources with their secrets, WooCommerce and Shopify webhooks (signatures, the ping,
// duplicates, out-of-order and stale deliveries, tracking), the delivery log, the generic API and its events.
import {test, describe, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createToken, createUser, login, assertError, listAll, request} from './lib.mjs';
import {WOO_SECRET, SHOP_SECRET, sign, wooOrder, shopifyOrder, shopifyFulfillment, wooDeliver, shopifyDeliver}
  from './orders-helpers.mjs';

let server, admin, woo, shop;

const deliveries = async (q = '') => (await server.api('GET', `/api/v1/order-deliveries?limit=200${q}`, {session: admin})).json.items;
const order = async (n) => server.api('GET', `/api/v1/orders/${encodeURIComponent(n)}`, {session: admin});
const eventsNamed = async (name) => (await listAll(server, '/api/v1/events', {session: admin, limit: 200}))
  .filter((e) => e.event === name);

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  let r = await server.api('POST', '/api/v1/order-sources', {session: admin,
    body: {kind: 'woocommerce', name: 'Woo dükkan', webhook_secret: WOO_SECRET}});
  assert.equal(r.status, 201, r.text);
  woo = r.json;
  r = await server.api('POST', '/api/v1/order-sources', {session: admin,
    body: {kind: 'shopify', name: 'Shopify', webhook_secret: SHOP_SECRET}});
  assert.equal(r.status, 201, r.text);
  shop = r.json;
});

describe('sources', () => {
  test('secrets are never shown; the webhook URL is', async () => {
    assert.equal(woo.has_webhook_secret, true);
    assert.match(woo.webhook_url, new RegExp(`/api/v1/order-sources/${woo.id}/webhook$`));
    const r = await server.api('GET', '/api/v1/order-sources', {session: admin});
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes(WOO_SECRET) && !r.text.includes(SHOP_SECRET), r.text);
  });

  test('bad setups are 422, agents are refused', async () => {
    let r = await server.api('POST', '/api/v1/order-sources', {session: admin, body: {kind: 'ticimax', name: 'x', webhook_secret: 's'}});
    assertError(r, 422, 'invalid_field', 'kind');
    r = await server.api('POST', '/api/v1/order-sources', {session: admin, body: {kind: 'shopify', name: 'x'}});
    assertError(r, 422, 'missing_field', 'webhook_secret');
    r = await server.api('POST', '/api/v1/order-sources', {session: admin,
      body: {kind: 'woocommerce', name: 'x', webhook_secret: 's', poll_minutes: 5}});
    assertError(r, 422, 'missing_field', 'api_url');
    const agent = await createUser(server, admin, {role: 'agent'});
    const s = await login(server, agent.email, agent.password);
    r = await server.api('GET', '/api/v1/order-sources', {session: s});
    assertError(r, 403, 'forbidden');
    r = await server.api('GET', '/api/v1/order-deliveries', {session: s});
    assertError(r, 403, 'forbidden');
  });
});

describe('WooCommerce webhooks', () => {
  test('the unsigned ping is answered 200 and logged', async () => {
    const r = await request(`${server.url}/api/v1/order-sources/${woo.id}/webhook`, {method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'webhook_id=7'});
    assert.equal(r.status, 200, r.text);
    assert.ok((await deliveries()).some((d) => d.outcome === 'ping' && d.source_id === woo.id));
  });

  test('a missing or wrong signature is 401 and stores nothing', async () => {
    for (const [opts, detail] of [[{signature: null}, 'no signature'], [{secret: 'wrong'}, 'bad signature'],
      [{signature: 'bm90IGEgc2lnbmF0dXJl'}, 'bad signature']]) {
      const r = await wooDeliver(server, woo.id, wooOrder(900), opts);
      assertError(r, 401, 'bad_signature');
      assert.ok((await deliveries()).some((d) => d.outcome === 'failed' && d.detail === detail), detail);
    }
    assertError(await order('900'), 404, 'not_found');
    // a body signed, then changed in transit
    const body = JSON.stringify(wooOrder(901));
    const r = await request(`${server.url}/api/v1/order-sources/${woo.id}/webhook`, {method: 'POST',
      headers: {'content-type': 'application/json', 'x-wc-webhook-topic': 'order.created',
        'x-wc-webhook-signature': sign(WOO_SECRET, body)}, body: body.replace('549.9', '1.0')});
    assert.equal(r.status, 401);
    assertError(await order('901'), 404, 'not_found');
  });

  test('a signed order is stored in the canonical shape; the duplicate is not filed twice', async () => {
    const wc = wooOrder(727, {meta_data: [{id: 5, key: 'tracking_company', value: 'Yurtiçi Kargo'},
      {id: 6, key: 'tracking_code', value: '123456789012'}]});
    let r = await wooDeliver(server, woo.id, wc, {topic: 'order.created'});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.outcome, 'kept');
    assert.equal(r.json.detail, 'created');
    const o = (await order('727')).json;
    assert.equal(o.source, 'woocommerce');
    assert.equal(o.status, 'processing');
    assert.equal(o.payment_status, 'paid');
    assert.equal(o.total_minor, 57980);
    assert.equal(o.total, '579.80');
    assert.equal(o.shipping_total_minor, 2990);
    assert.equal(o.placed_at, '2025-03-01T11:05:11Z');
    assert.equal(o.customer.email, 'ayse@example.com');
    assert.equal(o.customer.phone, '905321234567');
    assert.equal(o.customer.name, 'Ayşe Yılmaz');
    assert.ok(o.customer.contact_id > 0, 'matched to a core contact');
    assert.equal(o.shipping_address.district, 'Kadıköy');
    assert.equal(o.shipping_address.province, 'İstanbul', 'WooCommerce\'s TR34');
    assert.equal(o.shipping_method, 'Yurtiçi Kargo');
    assert.deepEqual(o.items.map((i) => [i.sku, i.name, i.variant, i.quantity, i.price_minor]),
      [['KG-M', 'Keten Gömlek - M', 'M', 1, 54990]]);
    assert.equal(o.shipments.length, 1);
    assert.equal(o.shipments[0].carrier, 'yurtici');
    assert.equal(o.shipments[0].status, 'InfoReceived');
    assert.equal(o.shipments[0].tracking_url,
      'https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=123456789012');
    // the same delivery again (Action Scheduler ran twice, or one save fired two hooks)
    r = await wooDeliver(server, woo.id, wc);
    assert.equal(r.status, 200);
    assert.equal(r.json.outcome, 'duplicate');
    assert.equal((await eventsNamed('order.created')).filter((e) => e.payload.number === '727').length, 1);
    assert.equal((await eventsNamed('shipment.created')).filter((e) => e.payload.order_number === '727').length, 1);
    const d = await deliveries(`&source_id=${woo.id}`);
    assert.ok(d.some((x) => x.outcome === 'kept' && x.dedupe_key === 'order:727:2025-03-01T11:05:12'));
    assert.ok(d.some((x) => x.outcome === 'duplicate'));
  });

  test('out of order: a newer version first, the older one arrives later and is stale', async () => {
    const newer = wooOrder(728, {status: 'completed', date_modified_gmt: '2025-03-02T08:00:00'});
    const older = wooOrder(728, {status: 'on-hold', date_modified_gmt: '2025-03-01T12:00:00'});
    let r = await wooDeliver(server, woo.id, newer);
    assert.equal(r.json.outcome, 'kept');
    r = await wooDeliver(server, woo.id, older);
    assert.equal(r.status, 200);
    assert.equal(r.json.outcome, 'stale');
    assert.equal((await order('728')).json.status, 'completed');
    // and a still newer one is taken
    r = await wooDeliver(server, woo.id, wooOrder(728, {status: 'refunded', date_modified_gmt: '2025-03-05T08:00:00'}));
    assert.equal(r.json.detail, 'updated');
    const o = (await order('728')).json;
    assert.equal(o.status, 'refunded');
    assert.equal(o.payment_status, 'refunded');
    assert.equal(o.source_updated_at, '2025-03-05T08:00:00Z');
    assert.equal((await eventsNamed('order.updated')).filter((e) => e.payload.number === '728').length, 1);
  });

  test('a signed payload that is not an order is logged as failed, answered 200', async () => {
    const r = await wooDeliver(server, woo.id, {hello: 'world'});
    assert.equal(r.status, 200);
    assert.equal(r.json.outcome, 'failed');
    assert.ok((await deliveries()).some((d) => d.outcome === 'failed' && /no id/.test(d.detail)));
  });

  test('an unknown or inactive source is 404', async () => {
    assertError(await wooDeliver(server, 9999, wooOrder(1)), 404, 'not_found');
  });
});

describe('Shopify webhooks', () => {
  test('orders/create, a fulfillment before and after its order, event-id dedupe', async () => {
    const f = shopifyFulfillment(255858046, 5678901234);
    // the fulfillment arrives first: 409 so that Shopify retries, nothing kept
    let r = await shopifyDeliver(server, shop.id, f, {topic: 'fulfillments/create', eventId: 'ev-f1'});
    assertError(r, 409, 'order_unknown');
    assert.ok((await deliveries(`&source_id=${shop.id}&outcome=failed`)).some((d) => /not known yet/.test(d.detail)));
    r = await shopifyDeliver(server, shop.id, shopifyOrder(5678901234, 1001), {topic: 'orders/create', eventId: 'ev-o1'});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.outcome, 'kept');
    let o = (await order('1001')).json;
    assert.equal(o.external_id, '5678901234');
    assert.equal(o.placed_at, '2025-03-02T07:00:00Z');
    assert.equal(o.total_minor, 124900);
    assert.equal(o.discount_total_minor, 5000);
    assert.equal(o.customer.phone, '905551112233');
    assert.equal(o.shipping_address.province, 'Ankara');
    assert.equal(o.items[0].variant, 'L / Beyaz');
    // Shopify's retry of the fulfillment, same event id: now taken
    r = await shopifyDeliver(server, shop.id, f, {topic: 'fulfillments/create', eventId: 'ev-f1'});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.outcome, 'kept');
    o = (await order('1001')).json;
    assert.equal(o.shipments.length, 1);
    assert.equal(o.shipments[0].carrier, 'aras');
    assert.equal(o.shipments[0].status, 'InfoReceived');
    assert.match(o.shipments[0].tracking_url, /araskargo\.com\.tr\/mainpage\.aspx\?code=1234567890123$/);
    // and again: a duplicate
    r = await shopifyDeliver(server, shop.id, f, {topic: 'fulfillments/create', eventId: 'ev-f1'});
    assert.equal(r.json.outcome, 'duplicate');
    // fulfillments/update moves the shipment on and adds checkpoints
    for (const [st, at] of [['in_transit', '2025-03-03T12:00:00+03:00'], ['out_for_delivery', '2025-03-04T08:00:00+03:00'],
      ['delivered', '2025-03-04T15:30:00+03:00']]) {
      r = await shopifyDeliver(server, shop.id, {...f, shipment_status: st, updated_at: at}, {topic: 'fulfillments/update'});
      assert.equal(r.json.outcome, 'kept', r.text);
    }
    // a late retry of the in_transit update (original payload): older than what is stored, changes nothing
    r = await shopifyDeliver(server, shop.id, {...f, shipment_status: 'in_transit', updated_at: '2025-03-03T12:00:00+03:00'},
      {topic: 'fulfillments/update'});
    o = (await order('1001')).json;
    const s = o.shipments[0];
    assert.equal(s.status, 'Delivered');
    assert.equal(s.delivered_at, '2025-03-04T12:30:00Z');
    assert.deepEqual(s.checkpoints.map((c) => c.status), ['InfoReceived', 'InTransit', 'OutForDelivery', 'Delivered']);
  });

  test('stale orders/updated is dropped by updated_at; webhook-id dedupe without an event id', async () => {
    const base = shopifyOrder(5678901299, 1002);
    let r = await shopifyDeliver(server, shop.id, {...base, updated_at: '2025-03-05T10:00:00+03:00', cancelled_at: '2025-03-05T10:00:00+03:00'},
      {topic: 'orders/updated', eventId: null, webhookId: 'wh-x'});
    assert.equal(r.json.outcome, 'kept');
    r = await shopifyDeliver(server, shop.id, base, {topic: 'orders/updated', eventId: null, webhookId: 'wh-y'});
    assert.equal(r.json.outcome, 'stale');
    r = await shopifyDeliver(server, shop.id, base, {topic: 'orders/updated', eventId: null, webhookId: 'wh-x'});
    assert.equal(r.json.outcome, 'duplicate');
    const o = (await order('1002')).json;
    assert.equal(o.status, 'cancelled');
    assert.equal(o.cancelled_at, '2025-03-05T07:00:00Z');
  });

  test('a topic not handled (orders/delete) is answered 200, logged, and changes nothing', async () => {
    const r = await shopifyDeliver(server, shop.id, {id: 5678901234}, {topic: 'orders/delete'});
    assert.equal(r.status, 200);
    assert.equal(r.json.outcome, 'failed');
    assert.equal((await order('1001')).status, 200);
  });

  test('a wrong HMAC is 401 and stores nothing', async () => {
    let r = await shopifyDeliver(server, shop.id, shopifyOrder(1, 1777), {secret: WOO_SECRET});
    assertError(r, 401, 'bad_signature');
    r = await shopifyDeliver(server, shop.id, shopifyOrder(1, 1777), {signature: null});
    assertError(r, 401, 'bad_signature');
    assertError(await order('1777'), 404, 'not_found');
  });
});

describe('generic API', () => {
  let tok;
  before(async () => { tok = await createToken(server, admin, {scopes: ['orders']}); });

  const body = (over = {}) => ({
    status: 'processing', payment_status: 'paid', currency: 'TRY', total_minor: 19990,
    placed_at: '2025-04-01T09:00:00+03:00', customer: {email: 'Zeynep@Example.com', phone: '+90 532 000 11 22', name: 'Zeynep'},
    shipping_address: {province: 'İzmir', district: 'Bornova'}, shipping_method: 'Aras', promised_dispatch_date: '2025-04-03',
    items: [{sku: 'HV-1', name: 'Havlu', variant: 'Mavi', quantity: 2, price_minor: 9995}], ...over,
  });

  test('PUT creates, the same PUT changes nothing, a change updates; events fire once each', async () => {
    let r = await server.api('PUT', '/api/v1/orders/TS-100', {token: tok.secret, body: body()});
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.outcome, 'created');
    assert.equal(r.json.source, 'api');
    assert.equal(r.json.customer.email, 'zeynep@example.com');
    assert.equal(r.json.customer.phone, '905320001122');
    r = await server.api('PUT', '/api/v1/orders/TS-100', {token: tok.secret, body: body()});
    assert.equal(r.status, 200);
    assert.equal(r.json.outcome, 'unchanged');
    r = await server.api('PUT', '/api/v1/orders/TS-100', {token: tok.secret, body: body({status: 'shipped',
      shipments: [{carrier: 'PTT Kargo', tracking_number: 'KP0123456789', status: 'InTransit'}]})});
    assert.equal(r.json.outcome, 'updated');
    assert.equal(r.json.shipments[0].carrier, 'ptt');
    assert.equal(r.json.shipments[0].tracking_url, 'https://gonderitakip.ptt.gov.tr/Track/Verify?q=KP0123456789');
    const created = (await eventsNamed('order.created')).filter((e) => e.payload.number === 'TS-100');
    const updated = (await eventsNamed('order.updated')).filter((e) => e.payload.number === 'TS-100');
    assert.equal(created.length, 1);
    assert.equal(updated.length, 1);
    assert.equal(updated[0].payload.status, 'shipped');
    assert.equal(updated[0].subject, `order:${r.json.id}`);
  });

  test('a stale PUT is 409 and changes nothing', async () => {
    let r = await server.api('PUT', '/api/v1/orders/TS-101', {token: tok.secret, body: body({updated_at: '2025-04-02T10:00:00Z'})});
    assert.equal(r.status, 201);
    r = await server.api('PUT', '/api/v1/orders/TS-101', {token: tok.secret,
      body: body({status: 'cancelled', updated_at: '2025-04-02T09:00:00Z'})});
    assertError(r, 409, 'stale');
    assert.equal((await order('TS-101')).json.status, 'processing');
  });

  test('bad bodies are 422 naming the member, never 500', async () => {
    for (const [b, field] of [[{status: 'lost'}, 'status'], [{total_minor: -1}, 'total_minor'], [{total_minor: 1.5}, 'total_minor'],
      [{placed_at: 'yesterday'}, 'placed_at'], [{currency: 'tl'}, 'currency'], [{promised_dispatch_date: '2025-13-01'}, 'promised_dispatch_date'],
      [{customer: {email: 'not-mail'}}, 'customer.email'], [{items: [{quantity: 1}]}, 'items[0].name'],
      [{items: [{name: 'x', quantity: 0}]}, 'items[0].quantity'], [{number: 'OTHER'}, 'number'],
      [{shipments: [{carrier: 'x'}]}, 'tracking_number']]) {
      const r = await server.api('PUT', '/api/v1/orders/TS-102', {token: tok.secret, body: body(b)});
      assert.equal(r.status, 422, `${JSON.stringify(b)}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.field, field, JSON.stringify(b));
    }
    assertError(await order('TS-102'), 404, 'not_found');
  });

  test('who may call: the orders scope writes, agents read, an agent token cannot write', async () => {
    const agent = await createUser(server, admin, {role: 'agent'});
    const s = await login(server, agent.email, agent.password);
    let r = await server.api('PUT', '/api/v1/orders/TS-103', {session: s, body: body()});
    assertError(r, 403, 'forbidden');
    r = await server.api('PUT', '/api/v1/orders/TS-103', {body: body()});
    assertError(r, 401, 'unauthenticated');
    r = await server.api('GET', '/api/v1/orders/TS-100', {session: s});
    assert.equal(r.status, 200);
    r = await server.api('GET', '/api/v1/orders?email=ZEYNEP@example.com', {session: s});
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((o) => o.number).sort(), ['TS-100', 'TS-101']);
    r = await server.api('GET', '/api/v1/orders?status=nope', {session: s});
    assertError(r, 422, 'invalid_field', 'status');
    const all = await listAll(server, '/api/v1/orders', {session: s, limit: 2});
    assert.ok(all.length >= 6);
  });

  test('an agent adds a shipment and moves it on; carriers are editable by admins', async () => {
    let r = await server.api('POST', '/api/v1/orders/TS-101/shipments', {session: admin, headers: {},
      body: {carrier: 'HepsiJet', tracking_number: 'HJ 42/7', status: 'OutForDelivery', message: 'Dağıtıma çıktı', location: 'Bornova'}});
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.shipments[0].tracking_url, 'https://www.hepsijet.com/gonderi-takibi/HJ%2042%2F7');
    r = await server.api('PATCH', '/api/v1/order-carriers/hepsijet', {session: admin,
      body: {url_template: 'https://hepsijet.example/track?n={n}'}});
    assert.equal(r.status, 200, r.text);
    assert.equal((await order('TS-101')).json.shipments[0].tracking_url, 'https://hepsijet.example/track?n=HJ%2042%2F7');
    r = await server.api('PATCH', '/api/v1/order-carriers/hepsijet', {session: admin, body: {url_template: 'javascript:alert(1)'}});
    assertError(r, 422, 'invalid_field', 'url_template');
    r = await server.api('PATCH', '/api/v1/order-carriers/nope', {session: admin, body: {name: 'x'}});
    assertError(r, 404, 'not_found');
    r = await server.api('POST', '/api/v1/orders/TS-101/shipments', {session: admin, body: {tracking_number: 'x', status: 'Lost'}});
    assertError(r, 422, 'invalid_field', 'status');
    r = await server.api('POST', '/api/v1/orders/NOPE/shipments', {session: admin, body: {tracking_number: 'x'}});
    assertError(r, 404, 'not_found');
  });
});

describe('contacts', () => {
  let tok;
  before(async () => { tok = await createToken(server, admin, {scopes: ['orders']}); });
  const put = (n, customer, over = {}) => server.api('PUT', `/api/v1/orders/${n}`, {token: tok.secret,
    body: {status: 'processing', total_minor: 100, customer, shipping_address: {name: 'Kemal Sunal', address: 'Sokak 1', district: 'Beşiktaş'},
      items: [{name: 'x', quantity: 1, price_minor: 100}], ...over}});

  test('orders of one person share the core contact, by e-mail or phone; orders.find by contact', async () => {
    const a = (await put('C-1', {email: 'kemal@example.com', name: 'Kemal Sunal'})).json;
    const b = (await put('C-2', {email: 'KEMAL@example.com', phone: '0533 444 55 66'})).json;
    const c = (await put('C-3', {phone: '+90 533 444 55 66'})).json;
    assert.ok(a.customer.contact_id > 0);
    assert.equal(b.customer.contact_id, a.customer.contact_id);
    assert.equal(c.customer.contact_id, a.customer.contact_id, 'the phone the second order added to the contact');
    const contact = await server.api('GET', `/api/v1/contacts/${a.customer.contact_id}`, {session: admin});
    assert.equal(contact.status, 200, contact.text);
    assert.equal(contact.json.name, 'Kemal Sunal');
    const list = await server.api('GET', `/api/v1/orders?contact_id=${a.customer.contact_id}`, {session: admin});
    assert.deepEqual(list.json.items.map((o) => o.number), ['C-3', 'C-2', 'C-1']);
  });

  test('a merge moves the orders to the survivor; the KVKK export holds them; erasure scrubs them', async () => {
    const x = (await put('C-10', {email: 'ferhan@example.com', name: 'Ferhan'})).json;
    const y = (await put('C-11', {email: 'ferhan.other@example.com', name: 'Ferhan Ş.'})).json;
    assert.notEqual(x.customer.contact_id, y.customer.contact_id);
    let r = await server.api('POST', `/api/v1/contacts/${x.customer.contact_id}/merge`, {session: admin,
      body: {source_id: y.customer.contact_id}});
    assert.equal(r.status, 200, r.text);
    assert.equal((await order('C-11')).json.customer.contact_id, x.customer.contact_id);
    r = await server.api('GET', `/api/v1/contacts/${x.customer.contact_id}/export?format=json`, {session: admin});
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.modules.orders.orders.map((o) => o.number).sort(), ['C-10', 'C-11']);
    r = await server.api('POST', `/api/v1/contacts/${x.customer.contact_id}/erase`, {session: admin,
      body: {confirm_id: x.customer.contact_id}});
    assert.equal(r.status, 200, r.text);
    for (const n of ['C-10', 'C-11']) {
      const o = (await order(n)).json;
      assert.deepEqual([o.customer.email, o.customer.phone, o.customer.name, o.shipping_address.name, o.shipping_address.address],
        [null, null, null, null, null], n);
      assert.equal(o.shipping_address.district, 'Beşiktaş');
      assert.equal(o.total_minor, 100);
    }
  });
});
