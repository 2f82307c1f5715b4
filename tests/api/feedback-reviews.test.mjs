// Feedback, product reviews: a delivered shipment brings the buyer a review request by mail (aiosmtpd) with a signed
// link valid 45 days after delivery; stars, text and photos (checked images); verified-purchase mark; a non-buyer
// and a product not in the order refused; moderation only by written rules with the rule and the moderator kept and
// the reviewer told why; public replies; a 1-2 star review opens a ticket; the public JSON (CORS, no cookies,
// cacheable) and the widget's size.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {startServer, setupAdmin, eventually, uniqueEmail, T, disableOutOfHoursReply, request as rawRequest} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';
import {mailText} from './feedback-helpers.mjs';

let server, admin, smtp;
/** A plain HTTP request (no session), its JSON read when it is JSON. */
const request = (url, opts) => rawRequest(url, opts).then((r) => {
  if (/json/.test(r.headers['content-type'] || '')) r.json = JSON.parse(r.text);
  return r;
});
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
// The smallest PNG (1x1).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.public_url': server.url, 'events.retry_base_seconds': 1, 'feedback.review_delay_hours': 0,
    'feedback.widget_cache_seconds': 0});
  assert.equal(set.status, 200, set.text);
});

let seq = 0;
async function deliveredOrder(email, {at} = {}) {
  const number = `R${Date.now() % 100000}${++seq}`;
  const res = await api('PUT', `/api/v1/orders/${number}`, {status: 'shipped', payment_status: 'paid', currency: 'TRY',
    total_minor: 10000, placed_at: '2026-11-20T10:00:00Z', customer: {email, name: 'Zeynep Çelik'},
    items: [{sku: 'KG-M', name: 'Keten Gömlek', quantity: 1, price_minor: 5000}, {sku: 'TS-L', name: 'Tişört', quantity: 1, price_minor: 5000}]});
  assert.ok(res.status === 201 || res.status === 200, res.text);
  const sh = await api('POST', `/api/v1/orders/${number}/shipments`, {tracking_number: `TN${number}`, carrier: 'Yurtiçi Kargo',
    status: 'Delivered', ...(at ? {at} : {})});
  assert.equal(sh.status, 201, sh.text);
  return number;
}

async function requestLink(email) {
  const isReq = (m) => m.headers['x-sink-rcpt-to'] === email && mailText(m).includes('/feedback/review/');
  const ms = await eventually(() => smtp.mails(), (l) => l.some(isReq), {ms: T(15000)});
  const m = ms.find(isReq);
  assert.ok(m, `a review request to ${email}: ${server.stderrText().slice(-1500)}`);
  return mailText(m).match(/(http:\/\/\S+\/feedback\/review\/\d+\?sig=[0-9a-f-]+)/)[1];
}

function postForm(url, fields, files = []) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of files) fd.append('photos', new Blob([f.data], {type: f.type}), f.name);
  return fetch(url, {method: 'POST', body: fd}).then(async (r) => ({status: r.status, text: await r.text()}));
}

describe('reviews', () => {
  let email, link, reqId, sig, kgReview;
  before(async () => {
    email = uniqueEmail('buyer');
    await deliveredOrder(email);
    link = await requestLink(email);
    const u = new URL(link);
    reqId = Number(u.pathname.split('/').pop());
    sig = u.searchParams.get('sig');
  });

  test('the request page lists the order\'s products; a buyer reviews with stars, text and a photo', async () => {
    const page = await request(link);
    assert.equal(page.status, 200);
    assert.match(page.headers['x-robots-tag'] || '', /noindex/);
    assert.match(page.text, /Keten Gömlek/);
    assert.match(page.text, /Tişört/);
    const res = await postForm(`${server.url}/feedback/review/${reqId}`, {sig, product: 'KG-M', rating: '4', body: 'Kumaşı güzel, bedeni tam.'},
      [{data: PNG, type: 'image/png', name: 'gomlek.png'}]);
    assert.equal(res.status, 200, res.text);
    const list = (await api('GET', '/api/v1/feedback/reviews?status=pending')).json.items;
    kgReview = list.find((r) => r.product === 'KG-M' && r.order_number);
    assert.ok(kgReview);
    assert.equal(kgReview.verified, true);
    assert.equal(kgReview.rating, 4);
    assert.equal(kgReview.author, 'Zeynep Ç.');
    assert.equal(kgReview.photos.length, 1);
    // Not public before moderation.
    const pub = await request(`${server.url}/api/v1/public/reviews?product=KG-M`);
    assert.equal(pub.json.rating.count, 0);
    assert.equal((await request(server.url + kgReview.photos[0].url)).status, 404, 'a pending review\'s photo is not public');
  });

  test('a non-buyer, a product not in the order, a second review and a file that is not an image are refused', async () => {
    let r = await server.api('POST', '/api/v1/public/reviews', {body: {request_id: reqId, sig: 'forged', product: 'KG-M', rating: 5, body: 'Harika'}});
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'not_a_buyer');
    r = await server.api('POST', '/api/v1/public/reviews', {body: {request_id: 99999, sig, product: 'KG-M', rating: 5, body: 'Harika'}});
    assert.equal(r.status, 403);
    r = await server.api('POST', '/api/v1/public/reviews', {body: {request_id: reqId, sig, product: 'OTHER-SKU', rating: 5, body: 'Harika'}});
    assert.equal(r.status, 422);
    assert.equal(r.json.error.code, 'not_purchased');
    r = await server.api('POST', '/api/v1/public/reviews', {body: {request_id: reqId, sig, product: 'KG-M', rating: 5, body: 'Yine'}});
    assert.equal(r.status, 409);
    r = await server.api('POST', '/api/v1/public/reviews', {body: {request_id: reqId, sig, product: 'TS-L', rating: 7, body: 'x'}});
    assert.equal(r.status, 422);
    const notImage = await postForm(`${server.url}/feedback/review/${reqId}`, {sig, product: 'TS-L', rating: '5', body: 'ok'},
      [{data: Buffer.from('<script>alert(1)</script>'), type: 'image/png', name: 'x.png'}]);
    assert.equal(notImage.status, 415);
    const wrongSigForm = await postForm(`${server.url}/feedback/review/${reqId}`, {sig: sig.replace(/.$/, (c) => (c === '0' ? '1' : '0')), product: 'TS-L', rating: '5', body: 'ok'});
    assert.equal(wrongSigForm.status, 403);
  });

  test('a 1-star review opens a ticket tagged review', async () => {
    const r = await server.api('POST', '/api/v1/public/reviews', {body: {request_id: reqId, sig, product: 'TS-L', rating: 1,
      body: 'Dikişleri söküldü, aradım kimse açmadı 0532 111 22 33'}});
    assert.equal(r.status, 201, r.text);
    const rev = (await api('GET', `/api/v1/feedback/reviews/${r.json.id}`)).json;
    assert.ok(rev.ticket_id, 'a ticket');
    const t = (await api('GET', `/api/v1/tickets/${rev.ticket_id}`)).json;
    assert.ok(t.tags.includes('review'));
    assert.match(t.subject, /1 yıldızlı değerlendirme: Tişört/);
  });

  test('moderation: rejected only by a written rule, the rule and the moderator kept, the reviewer told why', async () => {
    const pending = (await api('GET', '/api/v1/feedback/reviews?status=pending')).json.items;
    const low = pending.find((r) => r.product === 'TS-L');
    let res = await api('POST', `/api/v1/feedback/reviews/${low.id}/moderate`, {decision: 'reject'});
    assert.equal(res.status, 422);
    assert.equal(res.json.error.code, 'rule_required');
    res = await api('POST', `/api/v1/feedback/reviews/${low.id}/moderate`, {decision: 'reject', rule: 'negative'});
    assert.equal(res.status, 422, 'no rule for "negative"');
    res = await api('POST', `/api/v1/feedback/reviews/${low.id}/moderate`, {decision: 'reject', rule: 'personal_data',
      note: 'Telefon numarasını çıkarıp yeniden yazabilirsiniz.'});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'rejected');
    assert.equal(res.json.rule, 'personal_data');
    assert.equal(res.json.decisions.length, 1);
    assert.equal(res.json.decisions[0].moderator_id, 1);
    assert.equal(res.json.decisions[0].rule, 'personal_data');
    const told = (m) => m.headers['x-sink-rcpt-to'] === email && mailText(m).includes('Gerekçe');
    const ms = await eventually(() => smtp.mails(), (l) => l.some(told), {ms: T(15000)});
    const body = mailText(ms.find(told));
    assert.match(body, /Gerekçe: kişisel veri/);
    assert.match(body, /Telefon numarasını çıkarıp/);
    const audit = (await api('GET', '/api/v1/audit?limit=50')).json.items;
    assert.ok(audit.some((a) => a.action === 'feedback.review_rejected'), 'audited');
    const rules = (await api('GET', '/api/v1/feedback/rules')).json.items.map((r) => r.rule);
    assert.deepEqual(rules, ['abuse', 'personal_data', 'spam', 'off_topic']);
  });

  test('approved: public with its figures, verified mark, photo and the shop\'s reply; CORS, no cookies, cacheable', async () => {
    let res = await api('POST', `/api/v1/feedback/reviews/${kgReview.id}/moderate`, {decision: 'approve'});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.rule, 'meets_rules');
    res = await api('POST', `/api/v1/feedback/reviews/${kgReview.id}/reply`, {body: 'Teşekkür ederiz!'});
    assert.equal(res.status, 200, res.text);
    const pub = await request(`${server.url}/api/v1/public/reviews?product=KG-M`, {headers: {origin: 'http://shop.example'}});
    assert.equal(pub.status, 200);
    assert.equal(pub.headers['access-control-allow-origin'], '*');
    assert.match(pub.headers['cache-control'], /public, max-age=\d+/);
    assert.equal(pub.headers['set-cookie'], undefined);
    assert.equal(pub.json.rating.count, 1);
    assert.equal(pub.json.rating.average, 4);
    assert.equal(pub.json.rating.stars['4'], 1);
    const item = pub.json.items[0];
    assert.equal(item.verified, true);
    assert.equal(item.reply.body, 'Teşekkür ederiz!');
    assert.equal(item.email, undefined, 'no e-mail in public');
    // Kept by the host's page cache for every worker: the same answer, headers and ETag again, 304 for the ETag, and
    // a change (a new reply) shows at once.
    const url = `${server.url}/api/v1/public/reviews?product=KG-M`;
    const again = await request(url, {headers: {origin: 'http://shop.example'}});
    assert.equal(again.text, pub.text);
    assert.equal(again.headers['access-control-allow-origin'], '*');
    assert.match(again.headers['content-type'], /^application\/json/);
    assert.equal(again.headers['cache-control'], pub.headers['cache-control']);
    assert.ok(pub.headers.etag && again.headers.etag === pub.headers.etag, `${pub.headers.etag} ${again.headers.etag}`);
    assert.equal((await request(url, {headers: {'if-none-match': pub.headers.etag}})).status, 304);
    res = await api('POST', `/api/v1/feedback/reviews/${kgReview.id}/reply`, {body: 'Bir kez daha teşekkürler!'});
    assert.equal(res.status, 200, res.text);
    assert.equal((await request(url)).json.items[0].reply.body, 'Bir kez daha teşekkürler!');
    res = await api('POST', `/api/v1/feedback/reviews/${kgReview.id}/reply`, {body: 'Teşekkür ederiz!'});
    assert.equal((await request(url)).json.items[0].reply.body, 'Teşekkür ederiz!');
    const photo = await request(server.url + item.photos[0].url);
    assert.equal(photo.status, 200);
    assert.match(photo.headers['content-type'], /^image\/png/);
    // A rejected review is not public, and its stars do not count.
    const ts = await request(`${server.url}/api/v1/public/reviews?product=TS-L`);
    assert.equal(ts.json.rating.count, 0);
    assert.equal((await request(`${server.url}/api/v1/public/reviews`)).status, 422);
  });

  test('the widget: one script, cacheable, at most 15 KB gzipped', async () => {
    const w = await request(`${server.url}/feedback/widget.js`);
    assert.equal(w.status, 200);
    assert.match(w.headers['content-type'], /javascript/);
    assert.match(w.headers['cache-control'], /public/);
    const gz = zlib.gzipSync(Buffer.from(w.text), {level: 9}).length;
    console.log(`widget.js: ${Buffer.byteLength(w.text)} bytes, ${gz} bytes gzip (ceiling 15360)`);
    assert.ok(gz <= 15 * 1024, `${gz} bytes gzip`);
  });

  test('the link is valid 45 days after delivery: an order delivered 50 days ago gets no request mail', async () => {
    const late = uniqueEmail('late');
    const at = new Date(Date.now() - 50 * 86400e3).toISOString();
    const number = await deliveredOrder(late, {at});
    const rq = await eventually(async () => (await api('GET', `/api/v1/feedback/review-requests?order_number=${number}`)).json.items,
      (l) => l.length === 1 && l[0].status !== 'scheduled', {ms: T(10000)});
    assert.equal(rq[0].status, 'skipped');
    assert.equal(Date.parse(rq[0].expires_at) - Date.parse(rq[0].delivered_at), 45 * 86400e3);
    const fresh = (await api('GET', `/api/v1/feedback/review-requests?order_number=${new URL(link).pathname ? '' : ''}x`)).json.items;
    assert.equal(fresh.length, 0);
  });
});
