// How an agent's reply leaves (plugins/ticketing/sending.c), against a real SMTP sink: the undo window (a held reply
// undone is never written nor mailed; one not undone is written and mailed after the window, also across a kill -9 in
// the window), a reply's changes applied with it, the channel check (a WhatsApp ticket with no sender is refused, not
// mailed; "via": "email" mails it), and a macro rendered for the composer (first name, Bey/Hanım kept to choose).
import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, eventually, uniqueEmail, T, disableOutOfHoursReply, cleanup, assertError, login,
  ADMIN_PASSWORD} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

let server, admin, smtp;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to);

async function settings() {
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'ticketing.undo_seconds': 2, 'events.retry_base_seconds': 1});
  assert.equal(set.status, 200, set.text);
}

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  await settings();
});
after(cleanup);

async function ticket(email, extra = {}) {
  const r = await api('POST', '/api/v1/tickets', {subject: 'Kargo nerede', body: 'Merhaba', customer: {email, name: 'Ayşe Kaya'}, ...extra});
  assert.equal(r.status, 201, r.text);
  return r.json;
}
const thread = async (id) => (await api('GET', `/api/v1/tickets/${id}`)).json.messages.filter((m) => m.kind === 'reply');

test('a held reply: undone in the window is never written or mailed; after the window the undo is refused', async () => {
  const email = uniqueEmail('undo');
  const t = await ticket(email);
  const held = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Geri alınacak yanıt', hold: true});
  assert.equal(held.status, 202, held.text);
  assert.equal(held.json.scheduled.undo_seconds, 2);
  assert.equal((await thread(t.id)).length, 0, 'nothing in the thread yet');
  const listed = await api('GET', `/api/v1/tickets/${t.id}/scheduled`);
  assert.equal(listed.json.items.length, 1);
  const undo = await api('DELETE', `/api/v1/tickets/${t.id}/scheduled/${held.json.scheduled.id}`);
  assert.equal(undo.status, 200, undo.text);
  assert.equal(undo.json.request.body, 'Geri alınacak yanıt');
  // A second one, left alone, goes after the window, with its changes.
  const kept = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Kargonuz yolda.', hold: true,
    changes: {status: 'pending', add_tags: ['kargo']}});
  assert.equal(kept.status, 202, kept.text);
  const replies = await eventually(() => thread(t.id), (r) => r.length === 1, {ms: T(8000)});
  assert.equal(replies[0].body, 'Kargonuz yolda.');
  const after = (await api('GET', `/api/v1/tickets/${t.id}`)).json;
  assert.equal(after.status, 'pending');
  assert.deepEqual(after.tags, ['kargo']);
  await eventually(async () => mailsTo(email), (ms) => ms.some((m) => m.raw.includes('Kargonuz yolda')), {ms: T(8000)});
  assert.ok(!mailsTo(email).some((m) => m.raw.includes('Geri al')), 'the undone reply was never mailed');
  assertError(await api('DELETE', `/api/v1/tickets/${t.id}/scheduled/${kept.json.scheduled.id}`), 409, 'already_sent');
});

test('kill -9 inside the window: the acknowledged reply is sent after the restart, the undone one never', async () => {
  const email = uniqueEmail('crash');
  const t = await ticket(email);
  const undone = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Bu gitmemeli', hold: true});
  assert.equal((await api('DELETE', `/api/v1/tickets/${t.id}/scheduled/${undone.json.scheduled.id}`)).status, 200);
  const held = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Bu gitmeli', hold: true});
  assert.equal(held.status, 202, held.text);
  await server.kill9();
  const dataDir = server.dataDir;
  server = await startServer({dataDir});
  admin = await login(server, 'admin@example.com', ADMIN_PASSWORD);
  const replies = await eventually(() => thread(t.id), (r) => r.length >= 1, {ms: T(10000)});
  await new Promise((r) => setTimeout(r, 2500));
  const all = await thread(t.id);
  assert.deepEqual(all.map((m) => m.body), ['Bu gitmeli'], JSON.stringify(replies));
  await eventually(async () => mailsTo(email), (ms) => ms.some((m) => m.raw.includes('Bu gitmeli')), {ms: T(8000)});
  assert.ok(!mailsTo(email).some((m) => m.raw.includes('Bu gitmemeli')));
});

test('a WhatsApp ticket with no sender: the reply is refused beside "via", not mailed; by e-mail it goes', async () => {
  const email = uniqueEmail('wa');
  const t = await ticket(email, {channel: 'whatsapp'});
  const ch = await api('GET', `/api/v1/tickets/${t.id}/channels`);
  assert.equal(ch.status, 200, ch.text);
  assert.equal(ch.json.channel, 'whatsapp');
  assert.equal(ch.json.default, null);
  assert.deepEqual(ch.json.options.map((o) => [o.via, o.available]), [['whatsapp', false], ['email', true]]);
  const refused = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'WhatsApp yanıtı'});
  assertError(refused, 409, 'channel_unavailable', 'via');
  const held = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'WhatsApp yanıtı', hold: true});
  assertError(held, 409, 'channel_unavailable', 'via');
  const mailed = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'E-postayla yanıt', via: 'email'});
  assert.equal(mailed.status, 201, mailed.text);
  await eventually(async () => mailsTo(email), (ms) => ms.some((m) => m.raw.includes('E-postayla')), {ms: T(8000)});
  assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'x', via: 'chat'}), 422, 'invalid_field', 'via');
});

test('a macro rendered for the composer: first name, Bey/Hanım to choose, its changes; nothing sent', async () => {
  const t = await ticket(uniqueEmail('macro'));
  const m = await api('POST', '/api/v1/macros', {name: 'Kargo bilgisi', body_tr: 'Merhaba {{customer.first_name}} {{customer.honorific}}, {{ticket.reference}} talebiniz için teşekkürler.',
    body_en: 'Hello {{customer.first_name}}', changes: {status: 'pending', add_tags: ['kargo']}});
  assert.equal(m.status, 201, m.text);
  const r = await api('GET', `/api/v1/tickets/${t.id}/macros/${m.json.id}/render`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.body, `Merhaba Ayşe {{customer.honorific}}, ${t.reference} talebiniz için teşekkürler.`);
  assert.deepEqual(r.json.honorifics, ['Bey', 'Hanım']);
  assert.deepEqual(r.json.changes, {status: 'pending', add_tags: ['kargo']});
  assert.equal((await thread(t.id)).length, 0);
  // An automatic use (the macro applied as before) says nothing for the honorific.
  const applied = await api('POST', `/api/v1/tickets/${t.id}/macros/${m.json.id}/apply`);
  assert.equal(applied.status, 200, applied.text);
  assert.equal((await thread(t.id))[0].body, `Merhaba Ayşe, ${t.reference} talebiniz için teşekkürler.`);
});

test('snooze: the ticket is pending until the time, then opens by itself; bad times are refused beside "until"', async () => {
  const t = await ticket(uniqueEmail('snooze'));
  assertError(await api('POST', `/api/v1/tickets/${t.id}/snooze`, {until: 'yarın'}), 422, 'invalid_field', 'until');
  assertError(await api('POST', `/api/v1/tickets/${t.id}/snooze`, {until: '2020-01-01T00:00:00Z'}), 422, 'invalid_field', 'until');
  const until = new Date(Date.now() + 2000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const s = await api('POST', `/api/v1/tickets/${t.id}/snooze`, {until});
  assert.equal(s.status, 200, s.text);
  assert.equal(s.json.status, 'pending');
  assert.equal(s.json.snoozed_until, until);
  const back = await eventually(async () => (await api('GET', `/api/v1/tickets/${t.id}`)).json, (x) => x.status === 'open', {ms: T(8000)});
  assert.equal(back.snoozed_until, null);
  assert.ok(back.history.some((h) => h.field === 'snooze_ended'));
  // Snoozed and cancelled: it stays pending, and does not open by itself.
  const later = new Date(Date.now() + 60000).toISOString();
  assert.equal((await api('POST', `/api/v1/tickets/${t.id}/snooze`, {until: later})).status, 200);
  const cleared = await api('DELETE', `/api/v1/tickets/${t.id}/snooze`);
  assert.equal(cleared.json.snoozed_until, null);
  assert.equal(cleared.json.status, 'pending');
});

test('notifications: an assignment by someone else, an @mention in a note, a customer reply on my ticket; settings per kind', async () => {
  const {createUser} = await import('./lib.mjs');
  const selin = await createUser(server, admin, {email: uniqueEmail('selin'), name: 'Selin Aksoy', password: 'selin parola 123'});
  const s = await login(server, selin.email, 'selin parola 123');
  const t = await ticket(uniqueEmail('notify'));
  assert.equal((await api('POST', `/api/v1/tickets/${t.id}/assign`, {assignee_id: selin.id})).status, 200);
  assert.equal((await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'note', body: '@selin şuna bakar mısın? @Ada Admin da baksın'})).status, 201);
  const mine = await api('GET', '/api/v1/notifications', undefined, s);
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.json.items.map((n) => n.kind), ['mention', 'assigned']);
  assert.equal(mine.json.items[0].actor_name, 'Ada Admin');
  assert.equal(mine.json.unread, 2);
  assert.equal((await api('GET', '/api/v1/notifications')).json.items.filter((n) => n.ticket_id === t.id).length, 0,
    'the author is not told of their own mention');
  // Selin turns mentions off in the app; a customer's reply on her ticket still comes.
  const put = await api('PUT', '/api/v1/notifications/settings', {mention: {in_app: false}, customer_reply: {desktop: false}}, s);
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.json.mention, {in_app: false, desktop: true});
  await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'note', body: '@Selin Aksoy tekrar'});
  const full = (await api('GET', `/api/v1/tickets/${t.id}`)).json;
  const pub = await server.api('POST', `/api/v1/public/tickets/${t.reference.slice(1)}/messages`, {body: {body: 'Hâlâ bekliyorum', sig: full.public_sig}});
  assert.equal(pub.status, 201, pub.text);
  const now = (await api('GET', '/api/v1/notifications?unread=true', undefined, s)).json;
  assert.deepEqual(now.items.map((n) => [n.kind, n.desktop]), [['customer_reply', false], ['mention', true], ['assigned', true]]);
  assert.equal((await api('POST', '/api/v1/notifications/read', {all: true}, s)).status, 204);
  assert.equal((await api('GET', '/api/v1/notifications', undefined, s)).json.unread, 0);
  assertError(await api('PUT', '/api/v1/notifications/settings', {nope: {in_app: true}}, s), 422, 'invalid_field', 'nope');
  // Saved views: an agent's own; only admins share; each sees their own and the shared ones.
  assertError(await api('POST', '/api/v1/views', {name: 'Ortak', query: 'status=open', shared: true}, s), 403, 'forbidden');
  const own = await api('POST', '/api/v1/views', {name: 'Benim', query: 'assignee=me&status=open'}, s);
  assert.equal(own.status, 201, own.text);
  const sharedView = await api('POST', '/api/v1/views', {name: 'Ortak', query: 'tag=kargo', shared: true});
  assert.equal(sharedView.status, 201, sharedView.text);
  assert.deepEqual((await api('GET', '/api/v1/views', undefined, s)).json.items.map((v) => [v.name, v.shared, v.mine]),
    [['Ortak', true, false], ['Benim', false, true]]);
  assert.deepEqual((await api('GET', '/api/v1/views')).json.items.map((v) => v.name), ['Ortak']);
  assertError(await api('DELETE', `/api/v1/views/${own.json.id}`), 404, 'not_found');
  assertError(await api('POST', '/api/v1/views', {name: 'x', query: '<script>'}, s), 422, 'invalid_field', 'query');
});

test('CC and BCC with a reply, the agent\'s signature, forward to an outside address', async () => {
  const email = uniqueEmail('cc');
  const t = await ticket(email);
  assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'x', cc: ['değil adres']}), 422, 'invalid_field', 'cc');
  assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'x', kind: 'note', bcc: ['a@example.com']}), 422, 'invalid_field', 'bcc');
  assert.equal((await api('PUT', '/api/v1/me/signature', {text: 'Ada Admin\nDükkan Destek'})).status, 200);
  assert.equal((await api('GET', `/api/v1/tickets/${t.id}/signature`)).json.text, 'Ada Admin\nDükkan Destek');
  const r = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Faturanızı ekte bulabilirsiniz.', cc: ['muhasebe@example.com'],
    bcc: ['arsiv@example.com']});
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.message.body, 'Faturanızı ekte bulabilirsiniz.\n\nAda Admin\nDükkan Destek');
  const mails = await eventually(async () => smtp.mails().filter((m) => m.raw.includes('Faturan')), (ms) => ms.length >= 1, {ms: T(8000)});
  const rcpts = mails.map((m) => m.headers['x-sink-rcpt-to']).join(',');
  for (const a of [email, 'muhasebe@example.com', 'arsiv@example.com']) assert.ok(rcpts.includes(a), rcpts);
  assert.match(mails[0].headers.cc || '', /muhasebe@example\.com/);
  assert.ok(!mails[0].raw.includes('arsiv@example.com\r\n') || !/^bcc:/im.test(mails[0].raw), 'no Bcc header');
  // "signature": false leaves it off.
  const plain = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'İmzasız', signature: false});
  assert.equal(plain.json.message.body, 'İmzasız');
  // Forward: the public thread (no notes) to an outside address, through the mail queue; the history says so.
  await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'GİZLİ NOT', kind: 'note'});
  assertError(await api('POST', `/api/v1/tickets/${t.id}/forward`, {to: 'yok'}), 422, 'invalid_field', 'to');
  const f = await api('POST', `/api/v1/tickets/${t.id}/forward`, {to: 'kargo@partner.example', note: 'Bu müşterinin paketi kayıp.'});
  assert.equal(f.status, 202, f.text);
  const [fw] = await eventually(async () => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === 'kargo@partner.example'),
    (ms) => ms.length === 1, {ms: T(8000)});
  const {qp} = await import('./mail-helpers.mjs');
  const text = qp(fw.body);
  assert.ok(text.includes('Bu müşterinin paketi kayıp.') && text.includes('Faturanızı ekte'), text);
  assert.ok(!text.includes('GİZLİ NOT'), 'notes are not forwarded');
  const h = (await api('GET', `/api/v1/tickets/${t.id}`)).json.history;
  assert.ok(h.some((x) => x.field === 'forwarded' && x.new === 'kargo@partner.example'));
  await api('PUT', '/api/v1/me/signature', {text: ''});
  assertError(await api('PUT', '/api/v1/mailboxes/999/signature', {text: 'x'}), 404, 'not_found');
});
