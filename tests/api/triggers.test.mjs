// Automation: the default out-of-hours auto-reply (fake clock: at night it answers, in the day it does not), admins'
// triggers (CRUD, conditions with Turkish-aware contains, actions, no re-firing from a trigger's own changes) and the
// built-in ticket.triage Lua policy (tags kargo/iade/hasar, priority high for "acil").
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, assertError} from './lib.mjs';

let server, admin, seq = 0;
const api = (method, p, body) => server.api(method, p, {session: admin, body});

before(async () => {
  server = await startServer({env: {DESTEK_TEST_CLOCK: '1'}});
  admin = await setupAdmin(server);
});

const clock = async (now) => assert.equal((await api('POST', '/api/v1/test/clock', {now})).status, 200);

async function newTicket(over = {}) {
  seq += 1;
  const res = await api('POST', '/api/v1/tickets', {subject: `Soru ${seq}`,
    customer: {email: `trg${seq}@example.com`, name: `Zeynep ${seq}`}, body: 'Merhaba', ...over});
  assert.equal(res.status, 201, res.text);
  return (await api('GET', `/api/v1/tickets/${res.json.id}`)).json;
}

/** A ticket opened by a customer through the public form; resolves the agents' view of it. */
async function publicTicket(lang = 'tr') {
  seq += 1;
  const res = await server.api('POST', '/api/v1/public/tickets', {headers: {'accept-language': lang}, body: {name: `Zeynep ${seq}`,
    email: `pub${seq}@example.com`, subject: `Soru ${seq}`, body: 'Merhaba'}});
  assert.equal(res.status, 201, res.text);
  const list = await api('GET', '/api/v1/tickets?limit=1');
  return (await api('GET', `/api/v1/tickets/${list.json.items[0].id}`)).json;
}

describe('out-of-hours auto-reply', () => {
  test('the default set has it, active, on the default calendar', async () => {
    const res = await api('GET', '/api/v1/triggers');
    assert.equal(res.status, 200, res.text);
    const t = res.json.items.find((x) => x.conditions.business_hours === 'closed');
    assert.ok(t && t.active && t.event === 'ticket.created' && t.conditions.actor === 'customer');
    assert.ok(t.actions.reply_tr && t.actions.reply_en);
  });

  test('at night it replies in the customer language with our variables filled in, not what the customer typed', async () => {
    await clock('2026-11-04T20:00:00Z');             // Wednesday 23:00 in Istanbul
    const t = await publicTicket();
    const replies = t.messages.filter((m) => m.kind === 'reply');
    assert.equal(replies.length, 1);
    // It goes inside the acknowledgement, to an address anyone may type: the name is left out (mail_templates.c).
    assert.match(replies[0].body, new RegExp(`^Merhaba, ${t.reference} numaralı`));
    assert.ok(!replies[0].body.includes('Zeynep'), replies[0].body);
    assert.equal(replies[0].author.type, 'system');
    assert.equal(t.status, 'new');                    // an automatic reply neither opens the ticket
    assert.equal(t.first_response_at, null);          // nor counts as the first response
    const en = await publicTicket('en');
    assert.match(en.messages.find((m) => m.kind === 'reply').body,
      new RegExp(`^Hello, we have received your request ${en.reference}\\.`));
    assert.equal(t.sla === null || t.sla.first_response === null || t.sla.first_response.clock !== 'stopped', true);
  });

  test('a ticket an agent opens for a customer gets none', async () => {
    await clock('2026-11-04T20:00:00Z');
    const t = await newTicket();
    assert.equal(t.messages.filter((m) => m.kind === 'reply').length, 0);
  });

  test('in business hours it does not', async () => {
    await clock('2026-11-04T08:00:00Z');             // Wednesday 11:00
    const t = await publicTicket();
    assert.equal(t.messages.filter((m) => m.kind === 'reply').length, 0);
  });

  test('on a holiday it does', async () => {
    await clock('2026-10-29T08:00:00Z');             // Cumhuriyet Bayramı, 11:00
    const t = await publicTicket();
    assert.equal(t.messages.filter((m) => m.kind === 'reply').length, 1);
  });
});

describe('triggers', () => {
  test('validation', async () => {
    assertError(await api('POST', '/api/v1/triggers', {name: 'x', event: 'ticket.created', actions: {}}), 422,
      'invalid_field', 'actions');
    assertError(await api('POST', '/api/v1/triggers', {name: 'x', event: 'ticket.created', conditions: {channel: 'fax'},
      actions: {priority: 'high'}}), 422, 'invalid_field', 'conditions');
    assertError(await api('POST', '/api/v1/triggers', {name: 'x', event: 'nope', actions: {priority: 'high'}}), 422,
      'invalid_field', 'event');
  });

  test('contains is Turkish-aware; a trigger\'s changes do not fire triggers again', async () => {
    await clock('2026-11-04T08:00:00Z');
    let res = await api('POST', '/api/v1/triggers', {name: 'Fatura', event: 'ticket.created',
      conditions: {contains: 'fatura İSTİYORUM'}, actions: {add_tags: ['fatura'], priority: 'low'}});
    assert.equal(res.status, 201, res.text);
    res = await api('POST', '/api/v1/triggers', {name: 'Güncellendi', event: 'ticket.updated',
      actions: {add_tags: ['guncellendi']}});
    assert.equal(res.status, 201, res.text);
    const upd = res.json;
    const t = await newTicket({body: 'FATURA istiyorum lütfen'});
    assert.deepEqual(t.tags, ['fatura']);
    assert.equal(t.priority, 'low');
    res = await api('PATCH', `/api/v1/tickets/${t.id}`, {priority: 'normal'});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual((await api('GET', `/api/v1/tickets/${t.id}`)).json.tags, ['fatura', 'guncellendi']);
    res = await api('PATCH', `/api/v1/triggers/${upd.id}`, {active: false});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.active, false);
    assert.equal((await api('DELETE', `/api/v1/triggers/${upd.id}`)).status, 204);
    assert.equal((await api('GET', `/api/v1/triggers/${upd.id}`)).status, 404);
  });
});

describe('ticket.triage', () => {
  test('tags shipping, returns and damage; acil raises the priority', async () => {
    await clock('2026-11-04T08:00:00Z');
    let t = await newTicket({subject: 'ACİL: KARGOM gelmedi', body: 'Ürün KIRIK geldi, İADE etmek istiyorum'});
    assert.deepEqual(t.tags, ['hasar', 'iade', 'kargo']);
    assert.equal(t.priority, 'high');
    t = await newTicket({subject: 'Where is my delivery?', body: 'It is urgent'});
    assert.deepEqual(t.tags, ['kargo']);
    assert.equal(t.priority, 'high');
    t = await newTicket({subject: 'Teşekkürler', body: 'Her şey yolunda'});
    assert.deepEqual(t.tags, []);
    assert.equal(t.priority, 'normal');
  });
});
