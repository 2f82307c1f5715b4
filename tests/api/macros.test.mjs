// Macros: CRUD (agents read, admins write), apply = the reply in the customer's language with variables filled in
// plus the field changes, in one transaction (all or nothing), with the usual events and history.
import {before, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, login, createUser, assertError, listAll} from './lib.mjs';

let server, admin, agent, seq = 0;
const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

before(async () => {
  server = await startServer({env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
  const u = await createUser(server, admin, {name: 'Ayşe Temsilci', role: 'agent'});
  agent = await login(server, u.email, u.password);
  await api('POST', '/api/v1/test/clock', {now: '2026-11-04T08:00:00Z'});   // in business hours: no auto-reply
});

async function newTicket(lang) {
  seq += 1;
  const res = await api('POST', '/api/v1/tickets', {subject: `Sipariş ${seq}`, order_number: `SP-${1000 + seq}`,
    customer: {email: `mac${seq}@example.com`, name: `Can ${seq}`, lang}, body: 'Siparişim nerede?'});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const events = async (name, id) =>
  (await listAll(server, `/api/v1/events?event=${name}&subject=ticket:${id}`, {session: admin, limit: 200}));

let macro;
test('CRUD: admins write, agents read, validation', async () => {
  assertError(await api('POST', '/api/v1/macros', {name: 'x', body_tr: 'a'}, agent), 403);
  assertError(await api('POST', '/api/v1/macros', {name: 'x', changes: {status: 'new'}}), 422, 'invalid_field', 'changes');
  assertError(await api('POST', '/api/v1/macros', {name: 'Boş'}), 422, 'invalid_field', 'body_tr');
  const res = await api('POST', '/api/v1/macros', {name: 'Kargo bilgisi',
    body_tr: 'Merhaba {{customer.name}}, {{order_number}} numaralı siparişiniz ({{ticket.reference}}) kargoda. — {{agent.name}}',
    body_en: 'Hello {{customer.name}}, your order {{order_number}} ({{ticket.reference}}) has shipped. — {{agent.name}}',
    changes: {status: 'pending', priority: 'low', add_tags: ['kargo'], assignee_id: 'me'}});
  assert.equal(res.status, 201, res.text);
  macro = res.json;
  assert.equal((await api('GET', `/api/v1/macros/${macro.id}`, null, agent)).status, 200);
  assert.ok((await api('GET', '/api/v1/macros', null, agent)).json.items.some((m) => m.id === macro.id));
  const p = await api('PATCH', `/api/v1/macros/${macro.id}`, {name: 'Kargoda'});
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.body_en, macro.body_en);
});

test('apply: Turkish customer, variables, changes, events', async () => {
  const t = await newTicket('tr');
  const res = await api('POST', `/api/v1/tickets/${t.id}/macros/${macro.id}/apply`, {}, agent);
  assert.equal(res.status, 200, res.text);
  const reply = res.json.messages.filter((m) => m.kind === 'reply');
  assert.equal(reply.length, 1);
  assert.equal(reply[0].body, `Merhaba Can ${seq}, SP-${1000 + seq} numaralı siparişiniz (${t.reference}) kargoda. — Ayşe Temsilci`);
  assert.equal(res.json.status, 'pending');
  assert.equal(res.json.priority, 'low');
  assert.deepEqual(res.json.tags, ['kargo']);
  assert.equal(res.json.assignee_id, reply[0].author.id);
  assert.equal((await events('message.added', t.id)).length, 1);
  assert.ok((await events('ticket.updated', t.id)).length >= 1);
  assert.equal(res.json.sla, null);                 // no SLA policy here
});

test('apply: English customer gets body_en; a refused change takes the reply back', async () => {
  const t = await newTicket('en');
  let res = await api('POST', `/api/v1/tickets/${t.id}/macros/${macro.id}/apply`, {}, agent);
  assert.equal(res.status, 200, res.text);
  assert.match(res.json.messages.find((m) => m.kind === 'reply').body, /^Hello Can \d+, your order SP-/);
  const bad = await api('POST', '/api/v1/macros', {name: 'Kapat', body_tr: 'Kapatıyoruz', changes: {status: 'closed'}});
  assert.equal(bad.status, 201, bad.text);
  const t2 = await newTicket('tr');
  assert.equal((await api('PATCH', `/api/v1/tickets/${t2.id}`, {status: 'solved'})).status, 200);
  const before = (await api('GET', `/api/v1/tickets/${t2.id}`)).json.messages.length;
  const nope = await api('POST', `/api/v1/tickets/${t2.id}/macros/${macro.id}/apply`, {}, agent);  // solved -> pending
  assert.equal(nope.status, 409, nope.text);
  assert.equal((await api('GET', `/api/v1/tickets/${t2.id}`)).json.messages.length, before);
  assertError(await api('POST', `/api/v1/tickets/${t2.id}/macros/99999/apply`, {}, agent), 404, 'not_found');
  assert.equal((await api('DELETE', `/api/v1/macros/${bad.json.id}`)).status, 204);
});
