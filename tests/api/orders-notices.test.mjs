// Proactive notices and delays (issue 12, second part), end to end against a real SMTP server on loopback (aiosmtpd)
// and the test clock (DESTEK_TEST_CLOCK=1, POST /api/v1/test/orders-clock): shipped, out for delivery, delivered, each
// mailed once; nothing for statuses that passed before the order was imported; a switched-off notice is not mailed;
// delays (not shipped by the promised dispatch date, no scan for orders.no_scan_hours, past the ETA) are mailed in
// Turkish or English and noted on the customer's open ticket through ticketing's services.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, eventually, disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, qp} from './mail-helpers.mjs';

let server, admin, smtp;
const api = (method, p, body) => server.api(method, p, {session: admin, body});
const clock = async (now) => { const r = await api('POST', '/api/v1/test/orders-clock', {now}); assert.equal(r.status, 200, r.text); };
const run = async () => { const r = await api('POST', '/api/v1/order-tracking/run'); assert.equal(r.status, 200, r.text); return r.json; };
const words = (h) => (h || '').replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_, cs, enc, text) => {
  const bytes = /b/i.test(enc) ? Buffer.from(text, 'base64')
    : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (x, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  return new TextDecoder(cs.toLowerCase()).decode(bytes);
});
function body(m) {
  const cut = m.raw.indexOf('\r\n\r\n');
  const head = m.raw.slice(0, cut), b = m.raw.slice(cut + 4);
  return /base64/i.test(head) ? Buffer.from(b.replace(/\s+/g, ''), 'base64').toString('utf8') : qp(b);
}
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to)
  .map((m) => ({subject: words(m.headers.subject), body: body(m), headers: m.headers}));
const notices = async (n) => (await api('GET', `/api/v1/orders/${n}/notices`)).json.items;

async function putOrder(number, email, over = {}) {
  const r = await api('PUT', `/api/v1/orders/${number}`, {status: 'processing', payment_status: 'paid', currency: 'TRY',
    total_minor: 45000, customer: {email, name: 'Ayşe Yılmaz'}, shipping_address: {province: 'İzmir', country: 'TR'},
    promised_dispatch_date: '2026-11-03', ...over});
  assert.ok([200, 201].includes(r.status), r.text);
}
async function ship(number, status, extra = {}) {
  const r = await api('POST', `/api/v1/orders/${number}/shipments`, {carrier: 'Yurtiçi Kargo', tracking_number: `YK-${number}`,
    status, ...extra});
  assert.equal(r.status, 201, r.text);
}

before(async () => {
  smtp = await startSmtp();
  server = await startServer({env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@dukkan.example',
    'mail.from_name': 'Dükkan Destek', 'orders.shop_name': 'Dükkan', 'events.retry_base_seconds': 1});
  assert.equal(set.status, 200, set.text);
  await clock('2026-11-02T07:00:00Z');                     // Monday 10:00 in Istanbul
});

test('a shipment imported already delivered is recorded, never announced', async () => {
  await putOrder('N-OLD', 'eski@example.com', {status: 'completed', promised_dispatch_date: '2026-10-20',
    shipments: [{carrier: 'Aras Kargo', tracking_number: 'A-OLD', status: 'Delivered'}]});
  assert.deepEqual((await notices('N-OLD')).map((n) => [n.kind, n.state]), [['delivered', 'baseline']]);
  await run();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(mailsTo('eski@example.com').length, 0);
  assert.deepEqual((await notices('N-OLD')).map((n) => n.kind), ['delivered'], 'no delay for a date before the import');
});

test('not shipped by the promised date: mailed once, and noted on the open ticket', async () => {
  const t = await api('POST', '/api/v1/tickets', {subject: 'Siparişim ne zaman gelir?', body: 'Merhaba, N-1 ne zaman kargoda?',
    customer: {email: 'ayse@example.com', name: 'Ayşe Yılmaz'}, order_number: 'N-1'});
  assert.equal(t.status, 201, t.text);
  await putOrder('N-1', 'ayse@example.com');
  await clock('2026-11-03T20:00:00Z');                     // Tuesday 23:00: still the promised day
  assert.equal((await run()).delays, 0);
  await clock('2026-11-04T06:00:00Z');                     // Wednesday
  assert.equal((await run()).delays, 1);
  assert.equal((await run()).delays, 0, 'once');
  const mails = await eventually(() => mailsTo('ayse@example.com'), (m) => m.length === 1);
  assert.equal(mails[0].subject, 'Siparişiniz gecikti (#N-1)');
  assert.match(mails[0].body, /söz verdiğimiz 2026-11-03 tarihinde kargoya veremedik/);
  assert.match(mails[0].body, /Merhaba Ayşe Yılmaz/);
  assert.match(mails[0].body, /\/track\?lang=tr/);
  assert.match(mails[0].body, /--\nDükkan\n/, 'signed with the shop name');
  // sent by the core's queue (host->message_send), as a service message
  assert.equal(mails[0].headers['auto-submitted'], 'auto-generated');
  assert.equal(mails[0].headers['x-destek-message-type'], 'service');
  assert.equal(mails[0].headers['list-unsubscribe'], undefined, 'a service message has no unsubscribe link');
  assert.match(words(smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'ayse@example.com').headers.from), /Dükkan Destek/);
  const n = await eventually(() => notices('N-1'), (x) => x[0] && x[0].state === 'mailed');
  assert.equal(n[0].kind, 'not_shipped');
  assert.equal(n[0].note_ticket_id, t.json.id);
  const tk = await api('GET', `/api/v1/tickets/${t.json.id}`);
  const notes = JSON.stringify(tk.json).match(/Sipariş #N-1: söz verilen gönderim tarihinde \(2026-11-03\) kargoya verilmedi/g);
  assert.ok(notes && notes.length >= 1, 'the internal note is on the ticket');
  assert.ok(JSON.stringify(tk.json).includes('Order #N-1: not shipped by the promised dispatch date (2026-11-03). The customer was told by mail.'),
    'and in English');
});

test('shipped, out for delivery, delivered: each mailed once, with the ETA', async () => {
  await ship('N-1', 'InTransit', {at: '2026-11-04T06:30:00Z'});
  let mails = await eventually(() => mailsTo('ayse@example.com'), (m) => m.length === 2);
  const shippedMail = mails.find((m) => m.subject === 'Siparişiniz kargoya verildi (#N-1)');
  assert.ok(shippedMail, mails.map((m) => m.subject).join(', '));
  assert.match(shippedMail.body, /Yurtiçi Kargo ile yola çıktı\. Takip numarası: YK-N-1\. Tahmini teslim: 2026-11-06\./);
  await ship('N-1', 'OutForDelivery', {message: 'Dağıtımda'});
  await ship('N-1', 'Delivered', {message: 'Teslim edildi'});
  await ship('N-1', 'Delivered', {message: 'Teslim edildi (imza)'});
  mails = await eventually(() => mailsTo('ayse@example.com'), (m) => m.length === 4);
  assert.deepEqual(mails.map((m) => m.subject).sort(), ['Siparişiniz bugün dağıtımda (#N-1)', 'Siparişiniz gecikti (#N-1)',
    'Siparişiniz kargoya verildi (#N-1)', 'Siparişiniz teslim edildi (#N-1)']);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(mailsTo('ayse@example.com').length, 4, 'no second delivered mail');
  assert.deepEqual((await notices('N-1')).map((x) => x.kind),
    ['not_shipped', 'shipped', 'out_for_delivery', 'delivered']);
});

test('a notice switched off is recorded as skipped and not mailed', async () => {
  await api('PATCH', '/api/v1/settings', {'orders.notice_shipped': false});
  await putOrder('N-2', 'mehmet@example.com', {promised_dispatch_date: '2026-11-10'});
  await ship('N-2', 'InTransit');
  const n = await eventually(() => notices('N-2'), (x) => x[0] && x[0].state !== 'pending');
  assert.deepEqual([n[0].kind, n[0].state, n[0].detail], ['shipped', 'skipped', 'orders.notice_shipped is off']);
  assert.equal(mailsTo('mehmet@example.com').length, 0);
  await api('PATCH', '/api/v1/settings', {'orders.notice_shipped': true});
});

test('no scan for 48 hours and past the ETA: in English for an English-speaking customer', async () => {
  const t = await api('POST', '/api/v1/tickets', {subject: 'Where is my parcel?', body: 'Order N-3 please',
    customer: {email: 'john@example.com', name: 'John Smith', lang: 'en'}});
  assert.equal(t.status, 201, t.text);
  await putOrder('N-3', 'john@example.com', {promised_dispatch_date: '2026-11-05', customer: {email: 'john@example.com', name: 'John Smith'}});
  await ship('N-3', 'InTransit', {at: '2026-11-04T07:00:00Z'});   // Wednesday: ETA Friday 6 Nov
  await eventually(() => mailsTo('john@example.com'), (m) => m.length === 1);
  await clock('2026-11-05T12:00:00Z');
  assert.equal((await run()).delays, 0, '29 hours without a scan is not a delay yet');
  await clock('2026-11-09T07:00:00Z');                     // Monday: 5 days silent, past the ETA
  assert.equal((await run()).delays, 4, 'N-3 and N-2 (shipped the same day): no scan and past the ETA each');
  const mails = await eventually(() => mailsTo('john@example.com'), (m) => m.length === 3);
  assert.deepEqual(mails.map((m) => m.subject).sort(),
    ['Your delivery is late (#N-3)', 'Your delivery may be late (#N-3)', 'Your order is on its way (#N-3)']);
  assert.ok(mails.every((m) => /This is a service message about your order\./.test(m.body) && /Hello John Smith/.test(m.body)));
  assert.match(mails.find((m) => /is late/.test(m.subject)).body, /was expected by 2026-11-06/);
  const n = await eventually(() => notices('N-3'), (x) => x.length === 3 && x.every((y) => y.state === 'mailed'));
  assert.deepEqual(n.map((x) => x.kind).sort(), ['no_scan', 'past_eta', 'shipped']);
  assert.ok(n.filter((x) => x.kind !== 'shipped').every((x) => x.note_ticket_id === t.json.id), JSON.stringify(n));
  // N-2's customer has no ticket: mailed (in Turkish), no note
  const m2 = await eventually(() => mailsTo('mehmet@example.com'), (m) => m.length === 2);
  assert.deepEqual(m2.map((m) => m.subject).sort(), ['Gönderiniz gecikebilir (#N-2)', 'Gönderiniz gecikti (#N-2)']);
  const n2 = await notices('N-2');
  assert.ok(n2.every((x) => x.note_ticket_id === null), JSON.stringify(n2));
  // the orders screen's "delayed" filter: open delays only (N-1's not_shipped ended when it shipped, and it is delivered)
  const list = async (q) => {
    const r = await api('GET', `/api/v1/orders?${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json.items.map((o) => o.number).sort();
  };
  assert.deepEqual(await list('delayed=past_eta'), ['N-2', 'N-3']);
  assert.deepEqual(await list('delayed=true'), ['N-2', 'N-3']);
  assert.deepEqual(await list('delayed=not_shipped'), []);
  assert.deepEqual(await list('delayed=past_eta&q=N-3'), ['N-3']);
  assert.equal((await api('GET', '/api/v1/orders?delayed=soon')).status, 422);
  await ship('N-2', 'Delivered');
  assert.deepEqual(await list('delayed=true'), ['N-3'], 'a delivered shipment is no longer delayed');
});

test('a notice survives kill -9 before its mail went out: the mail leaves after the restart, once', async () => {
  // the mail server is away: the notice is committed with its event, the mail waits in the outbox
  const dead = 'smtp://127.0.0.1:9';
  assert.equal((await api('PATCH', '/api/v1/settings', {'mail.smtp_url': dead})).status, 200);
  await putOrder('N-9', 'kill@example.com', {promised_dispatch_date: '2026-11-20'});
  await ship('N-9', 'InTransit', {at: '2026-11-09T08:00:00Z'});
  // queued with the core (its sender retries: the server at :9 refuses), not mailed
  const n = await eventually(() => notices('N-9'), (x) => x[0] && x[0].state === 'queued');
  assert.equal(n[0].kind, 'shipped');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await notices('N-9'))[0].state, 'queued');
  await server.kill9();
  server = await startServer({dataDir: server.dataDir, env: {DESTEK_TEST_CLOCK: '1'}});
  await clock('2026-11-09T09:00:00Z');
  assert.equal((await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url})).status, 200);
  const mails = await eventually(() => mailsTo('kill@example.com'), (m) => m.length === 1, {ms: 30000});
  assert.equal(mails[0].subject, 'Siparişiniz kargoya verildi (#N-9)');
  await eventually(() => notices('N-9'), (x) => x[0].state === 'mailed', {ms: 10000});
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(mailsTo('kill@example.com').length, 1, 'once');
});
