// The public tracking page /track: nothing without the number and the matching e-mail or phone, both languages,
// everything escaped, rate-limited per address and per order number.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createToken, request, assertSecurityHeaders} from './lib.mjs';

let server, admin, tok;

const post = (fields, headers = {}) => request(`${server.url}/track`, {method: 'POST',
  headers: {'content-type': 'application/x-www-form-urlencoded', ...headers}, body: new URLSearchParams(fields).toString()});

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  tok = await createToken(server, admin, {scopes: ['orders']});
  const r = await server.api('PUT', '/api/v1/orders/A-1001', {token: tok.secret, body: {
    status: 'shipped', payment_status: 'paid', total_minor: 1000, placed_at: '2025-03-01T10:00:00Z',
    customer: {email: 'ayse@example.com', phone: '0532 111 22 33', name: 'Ayşe <b>Secret</b>'},
    shipping_address: {province: 'İstanbul', district: 'Kadıköy', address: 'Gizli Sk. 1'},
    items: [{name: 'Havlu <script>alert(1)</script>', variant: 'Mavi & "Beyaz"', quantity: 2, price_minor: 500}],
    shipments: [{carrier: 'Yurtiçi Kargo', tracking_number: '123456789012', status: 'InTransit',
      message: '<img src=x onerror=alert(1)>', location: 'Tuzla'}],
  }});
  assert.equal(r.status, 201, r.text);
  await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'orders.track_limit': 6}});
});

test('the form in both languages, with the security headers and a stylesheet of its own', async () => {
  let r = await request(`${server.url}/track`, {headers: {'accept-language': 'en-US,en;q=0.9'}});
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html/);
  assertSecurityHeaders(r, 'GET /track');
  assert.match(r.text, /<html lang="en">/);
  assert.match(r.text, /Order tracking/);
  assert.match(r.text, /name="viewport" content="width=device-width/);
  r = await request(`${server.url}/track?lang=tr`);
  assert.match(r.text, /<html lang="tr">/);
  assert.match(r.text, /Sipariş takibi/);
  assert.ok(!/style=|<script/.test(r.text), 'no inline styles or scripts (the CSP forbids them)');
  const css = await request(`${server.url}/track/style.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers['content-type'], /^text\/css/);
});

test('no order data without both the number and the matching e-mail or phone', async () => {
  for (const [fields, status] of [
    [{number: 'A-1001', contact: ''}, 422], [{number: '', contact: 'ayse@example.com'}, 422],
    [{number: 'A-1001', contact: 'other@example.com'}, 404], [{number: 'A-1001', contact: '0532 111 22 34'}, 404],
    [{number: 'A-1002', contact: 'ayse@example.com'}, 404], [{number: 'A-1001', contact: '33'}, 404]]) {
    const r = await post({...fields, lang: 'en'});
    assert.equal(r.status, status, JSON.stringify(fields));
    assert.ok(!r.text.includes('Tuzla') && !r.text.includes('123456789012') && !r.text.includes('Havlu'), r.text);
  }
  // the same answer for a wrong contact and an unknown number: nothing tells which numbers exist
  const a = await post({number: 'A-1001', contact: 'x@example.com', lang: 'en'});
  const b = await post({number: 'Z-9', contact: 'x@example.com', lang: 'en'});
  assert.equal(a.text.replace(/value="[^"]*"/g, ''), b.text.replace(/value="[^"]*"/g, ''));
});

test('the right details show status, timeline, carrier link and items, all escaped; no address or name', async () => {
  for (const contact of ['AYSE@example.com', '+90 (532) 111 22 33', '5321112233']) {
    await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'orders.track_limit': 100}});
    const r = await post({number: '#A-1001', contact, lang: 'tr'});
    assert.equal(r.status, 200, `${contact}: ${r.text}`);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.text, /Kargoya verildi/);
    assert.match(r.text, /Yolda/);
    assert.match(r.text, /Tuzla/);
    assert.match(r.text, /href="https:\/\/www\.yurticikargo\.com\/tr\/online-servisler\/gonderi-sorgula\?code=123456789012"/);
    assert.ok(r.text.includes('Havlu &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(r.text.includes('Mavi &amp; &quot;Beyaz&quot;'));
    assert.ok(r.text.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(!/<script|<img/.test(r.text));
    assert.ok(!r.text.includes('Gizli') && !r.text.includes('Secret') && !r.text.includes('ayse@'), 'no address, name or e-mail');
  }
  const en = await post({number: 'A-1001', contact: 'ayse@example.com', lang: 'en'});
  assert.match(en.text, /In transit/);
  // typed in lower case on a phone: the same order
  const lower = await post({number: 'a-1001', contact: 'ayse@example.com', lang: 'en'});
  assert.equal(lower.status, 200, lower.text);
  assert.match(lower.text, /In transit/);
  assert.match(en.text, /Track with the carrier/);
});

test('rate-limited per address, with Retry-After, and per order number', async () => {
  await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'orders.track_limit': 3, 'orders.track_number_limit': 1000}});
  const ip = {'x-forwarded-for': '198.51.100.7'};   // the test server does not trust proxies: all one address
  let statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await post({number: 'A-1001', contact: `guess${i}@example.com`}, ip)).status);
  assert.ok(statuses.includes(429), statuses.join());
  const r = await post({number: 'A-1001', contact: 'ayse@example.com'});
  assert.equal(r.status, 429, 'even the right details wait for the window');
  assert.ok(Number(r.headers['retry-after']) >= 1);
  assert.ok(!r.text.includes('Tuzla'));
  await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'orders.track_limit': 1000, 'orders.track_number_limit': 3}});
  statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await post({number: 'B-77', contact: `g${i}@example.com`})).status);
  assert.deepEqual(statuses.slice(-2), [429, 429], statuses.join());
});
