// WooCommerce REST polling against a loopback mock of /wp-json/wc/v3/orders (the server runs with
// --allow-private-net), and a receiver killed with kill -9 in the middle of a stream of deliveries: every delivery
// that was acknowledged survives, and its redelivery is not filed twice.
import {test, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startServer, setupAdmin, listAll} from './lib.mjs';
import {WOO_SECRET, wooOrder, wooDeliver} from './orders-helpers.mjs';

function mockWoo(orders, state = {}) {
  const seen = [];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    seen.push({path: u.pathname, query: Object.fromEntries(u.searchParams), auth: req.headers.authorization});
    if (u.pathname !== '/wp-json/wc/v3/orders') { res.writeHead(404); res.end('{}'); return; }
    if (req.headers.authorization !== `Basic ${Buffer.from('ck_test:cs_test').toString('base64')}`) {
      res.writeHead(401, {'content-type': 'application/json'});
      res.end('{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}}');
      return;
    }
    if (state.failPage && u.searchParams.get('page') === String(state.failPage)) {
      state.failPage = 0;
      res.writeHead(503, {'content-type': 'text/plain'});
      res.end('busy');
      return;
    }
    const after = u.searchParams.get('modified_after');
    const per = Number(u.searchParams.get('per_page') || 10), page = Number(u.searchParams.get('page') || 1);
    const list = orders().filter((o) => !after || o.date_modified_gmt > after);
    res.writeHead(200, {'content-type': 'application/json', 'x-wp-total': String(list.length), ...(state.date ? {date: state.date} : {})});
    res.end(JSON.stringify(list.slice((page - 1) * per, page * per)));
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({srv, seen, url: `http://127.0.0.1:${srv.address().port}`})));
}

let mock;
after(() => mock && mock.srv.close());

test('polling sweeps what changed since the last sweep, pages through, resumes a broken sweep, reports a refused key', async () => {
  let shop = [];
  for (let i = 1; i <= 120; i++) shop.push(wooOrder(2000 + i, {date_modified_gmt: `2025-03-01T10:${String(i % 60).padStart(2, '0')}:00`}));
  const state = {date: 'Sat, 01 Mar 2025 11:00:00 GMT', failPage: 2};
  mock = await mockWoo(() => shop, state);
  const server = await startServer({args: ['--allow-private-net']});
  const admin = await setupAdmin(server);
  let r = await server.api('POST', '/api/v1/order-sources', {session: admin, body: {kind: 'woocommerce', name: 'Woo',
    webhook_secret: WOO_SECRET, api_url: `${mock.url}/`, api_key: 'ck_test', api_secret: 'cs_test', poll_minutes: 15}});
  assert.equal(r.status, 201, r.text);
  const src = r.json;
  assert.equal(src.has_api_credentials, true);
  assert.ok(!r.text.includes('cs_test'));
  // the first sweep breaks on page 2: page 1 is kept, the cursor stays, the sweep goes on from page 2
  r = await server.api('POST', `/api/v1/order-sources/${src.id}/poll`, {session: admin});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.orders, 50);
  assert.match(r.json.source.poll_error, /HTTP 503/);
  assert.equal(r.json.source.poll_cursor, null);
  assert.equal(r.json.source.poll_page, 2);
  r = await server.api('POST', `/api/v1/order-sources/${src.id}/poll`, {session: admin});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.orders, 70);
  assert.equal(r.json.source.poll_error, null);
  assert.equal(r.json.source.poll_page, 1);
  assert.equal(r.json.source.poll_cursor, '2025-03-01T10:59:00Z', "the shop's clock when the sweep began, less a minute");
  assert.equal((await listAll(server, '/api/v1/orders', {session: admin})).length, 120);
  assert.deepEqual(mock.seen.map((x) => x.query.page), ['1', '2', '2', '3']);
  // one order changes; the next sweep asks from the cursor and takes only that one
  shop = shop.map((o) => (o.id === 2005 ? {...o, status: 'completed', date_modified_gmt: '2025-03-02T09:00:00'} : o));
  state.date = 'Sun, 02 Mar 2025 10:00:00 GMT';
  mock.seen.length = 0;
  r = await server.api('POST', `/api/v1/order-sources/${src.id}/poll`, {session: admin});
  assert.equal(r.json.orders, 1);
  assert.equal(mock.seen[0].query.modified_after, '2025-03-01T10:58:59');
  assert.equal(mock.seen[0].query.dates_are_gmt, 'true');
  assert.equal(r.json.source.poll_cursor, '2025-03-02T09:59:00Z');
  assert.equal((await server.api('GET', '/api/v1/orders/2005', {session: admin})).json.status, 'completed');
  // the same order's webhook, arriving after the poll took the change, changes nothing
  const wh = await wooDeliver(server, src.id, shop.find((o) => o.id === 2005));
  assert.equal(wh.json.outcome, 'kept');
  assert.equal(wh.json.detail, 'unchanged');
  // a revoked key: 502, and the source says why; the cursor stays
  r = await server.api('PATCH', `/api/v1/order-sources/${src.id}`, {session: admin, body: {api_secret: 'revoked'}});
  assert.equal(r.status, 200, r.text);
  r = await server.api('POST', `/api/v1/order-sources/${src.id}/poll`, {session: admin});
  assert.equal(r.status, 502, r.text);
  assert.match(r.json.error.message, /HTTP 401/);
  r = await server.api('GET', `/api/v1/order-sources/${src.id}`, {session: admin});
  assert.match(r.json.poll_error, /HTTP 401/);
  assert.equal(r.json.poll_cursor, '2025-03-02T09:59:00Z');
});

test('without --allow-private-net the poll refuses a loopback shop', async () => {
  mock = mock || await mockWoo(() => []);
  const server = await startServer();
  const admin = await setupAdmin(server);
  const r0 = await server.api('POST', '/api/v1/order-sources', {session: admin, body: {kind: 'woocommerce', name: 'Woo',
    webhook_secret: WOO_SECRET, api_url: mock.url, api_key: 'ck_test', api_secret: 'cs_test'}});
  const r = await server.api('POST', `/api/v1/order-sources/${r0.json.id}/poll`, {session: admin});
  assert.equal(r.status, 502, r.text);
});

test('kill -9 mid-delivery: acknowledged deliveries survive; redelivered, none is filed twice', async () => {
  const server = await startServer();
  const admin = await setupAdmin(server);
  const src = (await server.api('POST', '/api/v1/order-sources', {session: admin,
    body: {kind: 'woocommerce', name: 'Woo', webhook_secret: WOO_SECRET}})).json;
  const all = [];
  for (let i = 1; i <= 300; i++) all.push(wooOrder(5000 + i, {date_modified_gmt: '2025-03-01T12:00:00'}));
  const acked = new Set();
  let killing = null, next = 0;
  const worker = async () => {
    while (next < all.length) {
      const o = all[next++];
      try {
        const r = await wooDeliver(server, src.id, o, {topic: 'order.created'});
        if (r.status === 200) acked.add(o.id);
      } catch { /* the server died under it: not acknowledged */ }
      if (acked.size >= 60 && !killing) killing = server.kill9();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await killing;
  assert.ok(acked.size >= 60 && acked.size < 300, `acked ${acked.size}`);
  const again = await startServer({dataDir: server.dataDir});
  const s2 = await (async () => {
    const {login, ADMIN_PASSWORD} = await import('./lib.mjs');
    return login(again, 'admin@example.com', ADMIN_PASSWORD);
  })();
  const stored = new Set((await listAll(again, '/api/v1/orders', {session: s2})).map((o) => Number(o.external_id)));
  for (const id of acked) assert.ok(stored.has(id), `acknowledged order ${id} was lost`);
  // WooCommerce does not redeliver, but a retrying proxy or a replay might: everything again
  const outcomes = {};
  for (const o of all) {
    const r = await wooDeliver(again, src.id, o, {topic: 'order.created'});
    assert.equal(r.status, 200, r.text);
    outcomes[r.json.outcome] = (outcomes[r.json.outcome] || 0) + 1;
    if (acked.has(o.id)) assert.equal(r.json.outcome, 'duplicate', `order ${o.id}`);
  }
  assert.equal(outcomes.duplicate, stored.size);
  assert.equal(outcomes.kept, 300 - stored.size);
  const events = (await listAll(again, '/api/v1/events', {session: s2, limit: 200})).filter((e) => e.event === 'order.created');
  assert.equal(events.length, 300, 'one order.created per order');
  assert.equal(new Set(events.map((e) => e.payload.number)).size, 300);
});
