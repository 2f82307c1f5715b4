// An agent's day, part two (issue 19), over HTTP (the browser side is tests/e2e/agentday2.test.mjs): per-agent seen
// marks, an order number's tickets through the orders module's service, the shop's face (checked settings, the public
// JSON and CSS), a customer's first-seen date and a forward with the thread's files.
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createUser, login, cleanup, assertError, eventually, disableOutOfHoursReply, runCli} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

let server, admin, other, smtp;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const u = await createUser(server, admin, {email: 'burak@example.com', name: 'Burak Öztürk', password: 'burak-parola-123'});
  other = await login(server, u.email || 'burak@example.com', 'burak-parola-123');
});
after(cleanup);

async function ticket(subject, email, extra = {}) {
  const res = await api('POST', '/api/v1/tickets', {subject, body: 'Merhaba', customer: {email, name: 'Ayşe Kaya'}, ...extra});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

test('seen marks: each agent\'s own; unread until opened; unread again when the customer writes; checked ids', async () => {
  const t = await ticket('Havlu soluk', 'ayse@example.com');
  let marks = await api('GET', `/api/v1/tickets/seen?ids=${t.id},999999`);
  assert.equal(marks.status, 200, marks.text);
  assert.deepEqual(marks.json.items, [{id: t.id, seen_at: null, unread: true}], 'unknown ids are left out');
  assert.equal((await api('POST', `/api/v1/tickets/${t.id}/seen`)).status, 204);
  marks = await api('GET', `/api/v1/tickets/seen?ids=${t.id}`);
  assert.equal(marks.json.items[0].unread, false);
  assert.match(marks.json.items[0].seen_at, /^\d{4}-\d{2}-\d{2}T/);
  assert.equal((await api('GET', `/api/v1/tickets/seen?ids=${t.id}`, undefined, other)).json.items[0].seen_at, null);
  // An agent's own reply or note does not make it unread; a customer's message does.
  assert.equal((await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'note', body: 'bakıyorum'})).status, 201);
  assert.equal((await api('GET', `/api/v1/tickets/seen?ids=${t.id}`)).json.items[0].unread, false);
  const ref = String(t.reference).replace('#', '');
  const imp = await runCli(['mail', 'import', '--data', server.dataDir], {input: 'From: Ayşe Kaya <ayse@example.com>\r\n'
    + `To: destek@shop.example\r\nSubject: Re: [#${ref}] Havlu soluk\r\nMessage-ID: <again-${ref}@example.com>\r\n`
    + 'Content-Type: text/plain; charset=utf-8\r\n\r\nFotoğraf ekledim.\r\n'});
  assert.equal(imp.code, 0, imp.stderr);
  const again = (await api('GET', `/api/v1/tickets/seen?ids=${t.id}`)).json.items[0];
  assert.equal(again.unread, true, 'the customer wrote since');
  assert.ok(again.seen_at, 'seen before: the inbox says "new reply"');
  assertError(await api('GET', '/api/v1/tickets/seen?ids=1,x'), 422, 'invalid_field', 'ids');
  assertError(await api('GET', '/api/v1/tickets/seen'), 422, 'missing_field', 'ids');
  assertError(await api('GET', '/api/v1/tickets/seen?ids=' + Array.from({length: 201}, (_, i) => i + 1).join(',')), 422, 'invalid_field', 'ids');
  assertError(await api('POST', '/api/v1/tickets/999999/seen'), 404, 'not_found');
});

test('an order number\'s tickets come from the orders module\'s service; unknown numbers are 404', async () => {
  const put = await api('PUT', '/api/v1/orders/AT-30001', {currency: 'TRY', payment_status: 'paid', status: 'processing',
    total_minor: 1000, placed_at: '2026-11-20T10:00:00Z', customer: {email: 'zeynep@example.com', name: 'Zeynep Ak'},
    items: [{name: 'Havlu', quantity: 1, price_minor: 1000}]});
  assert.ok(put.status === 201 || put.status === 200, put.text);
  const linked = await ticket('AT-30001 nerede?', 'zeynep@example.com');
  const named = await ticket('Sipariş sorusu', 'zeynep@example.com', {order_number: 'at-30001'});
  const refs = await api('GET', '/api/v1/order-references/%23at-30001');
  assert.equal(refs.status, 200, refs.text);
  assert.equal(refs.json.number, 'AT-30001');
  assert.deepEqual(refs.json.ticket_ids, [named.id, linked.id].sort((a, b) => b - a));
  assert.equal(refs.json.contact_id, linked.customer.id);
  assertError(await api('GET', '/api/v1/order-references/YOK-404'), 404, 'not_found');
});

test('the shop\'s face: checked settings, the public JSON and the theme CSS; first seen; forward with files', async () => {
  assertError(await api('PATCH', '/api/v1/settings', {'shop.colour': 'red'}), 422, 'invalid_field', 'shop.colour');
  assertError(await api('PATCH', '/api/v1/settings', {'shop.logo_url': 'ftp://x/logo.png'}), 422, 'invalid_field', 'shop.logo_url');
  assertError(await api('PATCH', '/api/v1/settings', {'shop.privacy_url': 'https://x.example/"><script>'}), 422, 'invalid_field');
  const set = await api('PATCH', '/api/v1/settings', {'shop.name': 'Anadolu Tekstil', 'shop.colour': '#0A6C74',
    'shop.privacy_url': 'https://anadolu.example/kvkk'});
  assert.equal(set.status, 200, set.text);
  const pub = await server.api('GET', '/api/v1/public/shop');
  assert.deepEqual(pub.json, {name: 'Anadolu Tekstil', logo_url: '', colour: '#0A6C74', privacy_url: 'https://anadolu.example/kvkk'});
  const css = await server.api('GET', '/shop/theme.css');
  assert.equal(css.text, ':root{--shop-colour:#0A6C74}\n');
  assert.match(css.headers['content-type'], /^text\/css/);

  const t = await ticket('Dosyalı', 'deniz@example.com', {attachments: [{filename: 'fis.txt', content_type: 'text/plain',
    data_base64: Buffer.from('FIS-123').toString('base64')}]});
  const c = await api('GET', `/api/v1/customers/${t.customer.id}`);
  assert.ok(Date.parse(c.json.first_seen_at) <= Date.parse(t.created_at), 'first seen no later than the first ticket');

  // Without outgoing mail the forward is refused as before; with it, the file goes along.
  assert.equal((await api('POST', `/api/v1/tickets/${t.id}/forward`, {to: 'kargo@partner.example'})).status, 503);
  assert.equal((await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example'})).status, 200);
  const fwd = await api('POST', `/api/v1/tickets/${t.id}/forward`, {to: 'kargo@partner.example'});
  assert.equal(fwd.status, 202, fwd.text);
  assert.equal(fwd.json.attached, 1);
  assertError(await api('POST', `/api/v1/tickets/${t.id}/forward`, {to: 'kargo@partner.example', attachments: 'yes'}), 422, 'invalid_field', 'attachments');
  const mail = await eventually(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'kargo@partner.example'), Boolean);
  assert.ok(mail.raw.includes(Buffer.from('FIS-123').toString('base64')), 'the file is in the forward');
});
