// ikas and IdeaSoft receivers (issue 12, second part), with payloads in the shapes their documentation and public
// clients give [U: not captured from a live shop; plugins/orders/README.md]: ikas signs inside the body (hex
// HMAC-SHA256 of the `data` string); IdeaSoft signs the raw body (X-Ideashop-Hmac-Sha256, base64) and sends only the
// changed fields, so the receiver fetches the whole order from a loopback mock of its Admin API.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import {startServer, setupAdmin, request, assertError} from './lib.mjs';

const IKAS_SECRET = 'ikas-client-secret-ç';
const IDEA_SECRET = 'ideasoft-client-secret';
let server, admin, mock, ikas, idea;
const shop = {};                 // IdeaSoft order id -> full order
const seen = [];
const oauth = {access: 'idea-token', refresh: 'refresh-1', n: 0, calls: []};   // the mock's token endpoint
const api = (method, p, body) => server.api(method, p, {session: admin, body});

function ikasOrder(over = {}) {
  return {id: 'c5f0a1e2-7b1d-4e1a-9a0b-1d2e3f4a5b6c', orderNumber: 1042, status: 'CREATED', orderPaymentStatus: 'PAID',
    orderPackageStatus: 'UNFULFILLED', currencyCode: 'TRY', totalFinalPrice: 579.8, totalPrice: 549.9,
    orderedAt: 1793966400000, updatedAt: 1793966460000, cancelledAt: null,
    customer: {id: 'cu1', firstName: 'Zeynep', lastName: 'Kaya', email: 'Zeynep@Example.com', phone: '+905321112233'},
    shippingAddress: {firstName: 'Zeynep', lastName: 'Kaya', addressLine1: 'Atatürk Cd. 5', addressLine2: 'D:3',
      city: {id: 'c1', name: 'Bursa'}, district: {id: 'd1', name: 'Nilüfer'}, state: null,
      country: {id: 'tr', name: 'Türkiye', code: 'TR'}, phone: '05321112233'},
    orderLineItems: [{id: 'li1', quantity: 2, price: 274.95, finalPrice: 274.95,
      variant: {id: 'v1', name: 'Keten Gömlek', sku: 'KG-M', productId: 'p1',
        variantValues: [{variantTypeName: 'Beden', variantValueName: 'M'}]}}],
    shippingLines: [{title: 'Yurtiçi Kargo', price: 29.9}],
    orderPackages: [], ...over};
}
function ikasDelivery(order, {id = crypto.randomUUID(), scope = 'store/order/updated', secret = IKAS_SECRET} = {}) {
  const data = JSON.stringify(order);
  return JSON.stringify({id, createdAt: 1793966461000, scope, merchantId: 'm-1', data, authorizedAppId: 'app-1',
    signature: crypto.createHmac('sha256', secret).update(data).digest('hex')});
}
const post = async (srcId, body, headers = {}) => {
  const r = await request(`${server.url}/api/v1/order-sources/${srcId}/webhook`,
    {method: 'POST', body, headers: {'content-type': 'application/json', ...headers}});
  try { r.json = JSON.parse(r.text); } catch { r.json = undefined; }
  return r;
};

function ideaOrder(id, over = {}) {
  return {id, transactionId: `IS-${id}`, status: 'approved', paymentStatus: 'success', currency: 'TRY',
    amount: 500, finalAmount: 529.9, shippingAmount: 29.9, createdAt: '2026-11-05T10:00:00+03:00',
    updatedAt: '2026-11-05T10:00:05+03:00', customerFirstname: 'Murat', customerSurname: 'Demir',
    customerEmail: 'murat@example.com', customerPhone: '0533 444 55 66',
    shippingAddress: {firstname: 'Murat', surname: 'Demir', location: 'Ankara', subLocation: 'Çankaya',
      address: 'Tunalı Hilmi Cd. 1', phoneNumber: '05334445566'},
    shippingProviderCode: 'aras', shippingProviderName: 'Aras Kargo', shippingTrackingCode: null,
    orderItems: [{productName: 'Deri Cüzdan', productSku: 'DC-1', productQuantity: 1, productPrice: 500}], ...over};
}
const ideaPost = (srcId, body, {secret = IDEA_SECRET, topic = 'order/update'} = {}) => post(srcId, body, {
  'x-ideashop-topic': topic, 'x-ideashop-hmac-sha256': crypto.createHmac('sha256', secret).update(body).digest('base64')});

before(async () => {
  mock = await new Promise((resolve) => {
    const srv = http.createServer(async (req, res) => {
      if (req.method === 'POST' && req.url === '/oauth/v2/token') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const form = Object.fromEntries(new URLSearchParams(body));
        oauth.calls.push({type: req.headers['content-type'], ...form});
        if (form.grant_type !== 'refresh_token' || form.client_id !== 'idea-client' || form.client_secret !== IDEA_SECRET ||
            form.refresh_token !== oauth.refresh) {
          res.writeHead(400, {'content-type': 'application/json'}); res.end('{"error":"invalid_grant"}'); return;
        }
        oauth.n++;
        oauth.access = `idea-token-r${oauth.n}`;
        oauth.refresh = `refresh-r${oauth.n}`;          // rotated: the old one is spent
        res.writeHead(200, {'content-type': 'application/json'});
        res.end(JSON.stringify({access_token: oauth.access, token_type: 'bearer', expires_in: 3600, refresh_token: oauth.refresh}));
        return;
      }
      seen.push({path: req.url, auth: req.headers.authorization});
      const m = req.url.match(/^\/admin-api\/orders\/(\d+)$/);
      if (req.headers.authorization !== `Bearer ${oauth.access}`) { res.writeHead(401); res.end('{}'); return; }
      if (!m || !shop[m[1]]) { res.writeHead(404, {'content-type': 'application/json'}); res.end('{"errorCode":"not_found"}'); return; }
      res.writeHead(200, {'content-type': 'application/json'});
      res.end(JSON.stringify(shop[m[1]]));
    });
    srv.listen(0, '127.0.0.1', () => resolve({srv, url: `http://127.0.0.1:${srv.address().port}`}));
  });
  server = await startServer({args: ['--allow-private-net']});
  admin = await setupAdmin(server);
  let r = await api('POST', '/api/v1/order-sources', {kind: 'ikas', name: 'ikas mağaza', webhook_secret: IKAS_SECRET});
  assert.equal(r.status, 201, r.text);
  ikas = r.json;
  r = await api('POST', '/api/v1/order-sources', {kind: 'ideasoft', name: 'IdeaSoft', webhook_secret: IDEA_SECRET});
  assertError(r, 422, 'missing_field', 'api_url');
  r = await api('POST', '/api/v1/order-sources', {kind: 'ideasoft', name: 'IdeaSoft', webhook_secret: IDEA_SECRET,
    api_url: `${mock.url}/`, api_key: 'idea-token'});
  assert.equal(r.status, 201, r.text);
  assert.ok(!r.text.includes('idea-token'));
  idea = r.json;
});
after(() => mock && mock.srv.close());

test('ikas: the signature inside the body is checked; a bad or missing one stores nothing', async () => {
  let r = await post(ikas.id, ikasDelivery(ikasOrder(), {secret: 'wrong'}));
  assertError(r, 401, 'bad_signature');
  const noSig = JSON.parse(ikasDelivery(ikasOrder()));
  delete noSig.signature;
  r = await post(ikas.id, JSON.stringify(noSig));
  assertError(r, 401, 'bad_signature');
  r = await post(ikas.id, '{"hello":1}');
  assertError(r, 400, 'invalid_json');
  // the data changed after signing
  const tampered = JSON.parse(ikasDelivery(ikasOrder()));
  tampered.data = tampered.data.replace('579.8', '1.0');
  assertError(await post(ikas.id, JSON.stringify(tampered)), 401, 'bad_signature');
  assert.equal((await api('GET', '/api/v1/orders/1042')).status, 404);
});

test('ikas: an order is stored in the canonical shape; a redelivery is a duplicate; an older version is stale', async () => {
  const body = ikasDelivery(ikasOrder(), {id: 'evt-1', scope: 'store/order/created'});
  let r = await post(ikas.id, body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.outcome, 'kept');
  assert.equal(r.json.detail, 'created');
  const o = (await api('GET', '/api/v1/orders/1042')).json;
  assert.equal(o.source, 'ikas');
  assert.equal(o.status, 'processing');
  assert.equal(o.payment_status, 'paid');
  assert.equal(o.total_minor, 57980);
  assert.equal(o.shipping_total_minor, 2990);
  assert.equal(o.placed_at, '2026-11-06T12:00:00Z', 'orderedAt is in milliseconds');
  assert.equal(o.customer.email, 'zeynep@example.com');
  assert.equal(o.shipping_address.province, 'Bursa');
  assert.equal(o.shipping_address.district, 'Nilüfer');
  assert.deepEqual(o.items.map((i) => [i.sku, i.name, i.variant, i.quantity, i.price_minor]), [['KG-M', 'Keten Gömlek', 'M', 2, 27495]]);
  r = await post(ikas.id, body);
  assert.equal(r.json.outcome, 'duplicate');
  // shipped: a package with tracking info, then an older version arrives late
  const shipped = ikasOrder({updatedAt: 1793970000000, orderPackageStatus: 'FULFILLED', orderPackages: [{id: 'pk1',
    orderPackageNumber: '1042-1', orderPackageFulfillStatus: 'FULFILLED', updatedAt: 1793970000000,
    trackingInfo: {trackingNumber: '7300012345', cargoCompany: 'Yurtiçi Kargo', trackingLink: 'https://www.yurticikargo.com/x', barcode: null}}]});
  r = await post(ikas.id, ikasDelivery(shipped, {id: 'evt-2'}));
  assert.equal(r.json.detail, 'updated');
  r = await post(ikas.id, ikasDelivery(ikasOrder({updatedAt: 1793968000000, status: 'CANCELLED'}), {id: 'evt-3'}));
  assert.equal(r.json.outcome, 'stale');
  const after = (await api('GET', '/api/v1/orders/1042')).json;
  assert.equal(after.status, 'shipped');
  assert.equal(after.shipments.length, 1);
  assert.deepEqual([after.shipments[0].carrier, after.shipments[0].tracking_number, after.shipments[0].status],
    ['yurtici', '7300012345', 'InTransit']);
  // other scopes are answered 200 and logged
  r = await post(ikas.id, ikasDelivery({id: 'cu1'}, {scope: 'store/customer/updated'}));
  assert.equal(r.status, 200);
  assert.equal(r.json.detail, 'topic not handled');
  const log = (await api('GET', `/api/v1/order-deliveries?source_id=${ikas.id}`)).json.items;
  assert.deepEqual(log.slice(0, 5).map((d) => d.outcome), ['failed', 'stale', 'kept', 'duplicate', 'kept']);
});

test('IdeaSoft: a signed partial delivery makes the receiver fetch the whole order', async () => {
  shop['5001'] = ideaOrder(5001);
  assertError(await ideaPost(idea.id, JSON.stringify({id: 5001, status: 'approved'}), {secret: 'nope'}), 401, 'bad_signature');
  const raw = JSON.stringify({id: 5001, status: 'approved'});
  assertError(await post(idea.id, raw, {'x-ideashop-topic': 'order/update'}), 401, 'bad_signature');
  seen.length = 0;
  let r = await ideaPost(idea.id, raw, {topic: 'order/create'});
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.outcome, 'kept');
  assert.deepEqual(seen, [{path: '/admin-api/orders/5001', auth: 'Bearer idea-token'}]);
  let o = (await api('GET', '/api/v1/orders/IS-5001')).json;
  assert.equal(o.source, 'ideasoft');
  assert.equal(o.status, 'processing');
  assert.equal(o.payment_status, 'paid');
  assert.equal(o.total_minor, 52990);
  assert.equal(o.customer.phone, '905334445566');
  assert.equal(o.shipping_address.province, 'Ankara');
  assert.deepEqual(o.items.map((i) => [i.sku, i.quantity, i.price_minor]), [['DC-1', 1, 50000]]);
  // the same version again: a duplicate
  r = await ideaPost(idea.id, raw);
  assert.equal(r.json.outcome, 'duplicate');
  // shipped: only the changed fields come; the fetched order carries the tracking code
  shop['5001'] = ideaOrder(5001, {status: 'fulfilled', shippingTrackingCode: 'AR-778899', updatedAt: '2026-11-06T09:00:00+03:00'});
  r = await ideaPost(idea.id, JSON.stringify({id: 5001, shippingTrackingCode: 'AR-778899'}));
  assert.equal(r.json.detail, 'updated');
  o = (await api('GET', '/api/v1/orders/IS-5001')).json;
  assert.equal(o.status, 'shipped');
  assert.deepEqual([o.shipments[0].carrier, o.shipments[0].tracking_number, o.shipments[0].status], ['aras', 'AR-778899', 'InTransit']);
});

test('IdeaSoft: a failed fetch is answered 503 so IdeaSoft delivers again; other topics are logged', async () => {
  const raw = JSON.stringify({id: 5999});
  let r = await ideaPost(idea.id, raw);
  assertError(r, 503, 'refetch_failed');
  assert.match(r.json.error.message, /HTTP 404/);
  shop['5999'] = ideaOrder(5999);
  r = await ideaPost(idea.id, raw);
  assert.equal(r.json.outcome, 'kept', 'the redelivery is not a duplicate');
  r = await ideaPost(idea.id, JSON.stringify({id: 77, kvkkStatus: 1}), {topic: 'member/update'});
  assert.equal(r.json.detail, 'topic not handled');
  const log = (await api('GET', `/api/v1/order-deliveries?source_id=${idea.id}`)).json.items;
  assert.ok(log.some((d) => d.outcome === 'failed' && /HTTP 404/.test(d.detail)));
});

test('IdeaSoft: an expired access token is renewed with the refresh grant, once, and the rotated tokens are kept', async () => {
  shop['5200'] = ideaOrder(5200);
  oauth.access = 'idea-token-expired-everywhere';     // the stored token no longer works
  // without a refresh token: 503, and IdeaSoft delivers again
  let r = await ideaPost(idea.id, JSON.stringify({id: 5200}));
  assertError(r, 503, 'refetch_failed');
  assert.match(r.json.error.message, /HTTP 401.*no client_id and refresh_token/);
  assertError(await api('PATCH', `/api/v1/order-sources/${ikas.id}`, {refresh_token: 'x'}), 422, 'invalid_field', 'refresh_token');
  r = await api('PATCH', `/api/v1/order-sources/${idea.id}`, {client_id: 'idea-client', refresh_token: 'refresh-1'});
  assert.equal(r.status, 200, r.text);
  assert.ok(!r.text.includes('refresh-1'), 'the refresh token is never shown');
  assert.equal(r.json.has_refresh_token, true);
  assert.equal(r.json.client_id, 'idea-client');
  oauth.refresh = 'refresh-1';
  seen.length = 0;
  r = await ideaPost(idea.id, JSON.stringify({id: 5200}));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.outcome, 'kept');
  assert.deepEqual(oauth.calls.map((c) => [c.type, c.grant_type, c.client_id, c.client_secret, c.refresh_token]),
    [['application/x-www-form-urlencoded', 'refresh_token', 'idea-client', IDEA_SECRET, 'refresh-1']]);
  assert.deepEqual(seen.map((x) => x.auth), ['Bearer idea-token', 'Bearer idea-token-r1'], 'refused, renewed, asked again');
  // the next delivery uses the stored new token: no renewal
  shop['5201'] = ideaOrder(5201);
  r = await ideaPost(idea.id, JSON.stringify({id: 5201}));
  assert.equal(r.json.outcome, 'kept');
  assert.equal(oauth.calls.length, 1);
  // it expires again: the rotated refresh token (refresh-r1) was kept and is the one sent
  oauth.access = 'expired-again';
  shop['5202'] = ideaOrder(5202);
  r = await ideaPost(idea.id, JSON.stringify({id: 5202}));
  assert.equal(r.json.outcome, 'kept', r.text);
  assert.deepEqual(oauth.calls.map((c) => c.refresh_token), ['refresh-1', 'refresh-r1']);
  const src = (await api('GET', `/api/v1/order-sources/${idea.id}`)).json;
  assert.ok(src.token_refreshed_at);
  assert.ok(!JSON.stringify(src).includes('refresh-r'));
  // a refused renewal: 503, nothing stored, the delivery comes again
  oauth.access = 'expired-for-good';
  oauth.refresh = 'revoked-by-the-merchant';
  shop['5203'] = ideaOrder(5203);
  r = await ideaPost(idea.id, JSON.stringify({id: 5203}));
  assertError(r, 503, 'refetch_failed');
  assert.match(r.json.error.message, /renewing the access token: the shop answered HTTP 400/);
  assert.equal((await api('GET', '/api/v1/orders/IS-5203')).status, 404);
});
