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
