// The services ticketing publishes for other modules (plugins/ticketing/services.c): ticketing.open, ticketing.note,
// ticketing.get and ticketing.link, called as another module calls them — through tests/plugins/svcclient.so, which
// knows nothing of ticketing but the service names. They run in the caller's transaction, as the caller's user.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {BIN, ROOT, assertError, cleanup, createUser, listAll, login, setupAdmin, startServer, tempDir} from './lib.mjs';

const PLUGIN_DIR = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins');

after(cleanup);

describe('ticketing services', () => {
  let server, admin, agent;
  const call = (service, args, session = agent) =>
    server.api('POST', '/svcclient/call', {session, body: {service, args}});
  before(async () => {
    const dataDir = tempDir('destek-tktsvc-');
    fs.mkdirSync(path.join(dataDir, 'plugins'), {recursive: true});
    fs.copyFileSync(path.join(PLUGIN_DIR, 'svcclient.so'), path.join(dataDir, 'plugins', 'svcclient.so'));
    server = await startServer({dataDir});
    admin = await setupAdmin(server);
    const u = await createUser(server, admin, {role: 'agent', name: 'Servis Ajanı'});
    agent = await login(server, u.email, u.password);
  });

  test('ticketing.open opens a triaged ticket for a customer, as POST /api/v1/tickets would', async () => {
    const res = await call('ticketing.open', {subject: 'İade: kırık kupa', body: 'Kupa kırık geldi, iade etmek istiyorum.',
      customer: {email: 'Iade@Example.com', name: 'Zeynep Kaya'}, channel: 'web', tags: ['iade-modulu'],
      order_number: 'SP-1001'});
    assert.equal(res.status, 200, res.text);
    const {id, reference, link} = res.json.result;
    assert.ok(id > 0);
    assert.match(reference, /^#\d+$/);
    assert.match(link, new RegExp(`/t/${reference.slice(1)}\\?sig=[0-9a-f]{64}$`));
    const t = (await server.api('GET', `/api/v1/tickets/${id}`, {session: admin})).json;
    assert.equal(t.customer.email, 'iade@example.com');
    assert.equal(t.channel, 'web');
    assert.equal(t.order_number, 'SP-1001');
    assert.ok(t.tags.includes('iade-modulu') && t.tags.includes('iade') && t.tags.includes('hasar'), 'triaged');
    assert.equal(t.messages.length, 1);
    assert.equal(t.messages[0].author.type, 'customer');
    assert.equal(t.history[0].actor, `user:${agent.user.id}`, 'opened as the caller');
    const events = await listAll(server, '/api/v1/events?event=ticket.created', {session: admin});
    assert.ok(events.some((e) => e.subject === `ticket:${id}`));
    // the signed link works in the portal's API
    const pub = await server.api('GET', `/api/v1/public/tickets/${reference.slice(1)}?sig=${link.split('sig=')[1]}`);
    assert.equal(pub.status, 200, pub.text);
  });

  test('ticketing.open checks its arguments like the API (422 naming the member)', async () => {
    assertError(await call('ticketing.open', {body: 'x', customer: {email: 'a@example.com'}}), 422, 'missing_field', 'subject');
    assertError(await call('ticketing.open', {subject: 'x', body: 'y', customer: {email: 'nope'}}), 422, 'invalid_field',
      'customer.email');
    assertError(await call('ticketing.open', {subject: 'x', body: 'y', customer: {}}), 422, 'missing_field', 'customer.email');
  });

  test('ticketing.note adds an internal note by the caller; ticketing.get answers the summary', async () => {
    const opened = (await call('ticketing.open', {subject: 'Kargo', body: 'Nerede?', customer: {email: 'k@example.com'}})).json.result;
    const res = await call('ticketing.note', {ticket_id: opened.id, body: 'İade modülü: iade onaylandı.'});
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.result.message_id > 0);
    const t = (await server.api('GET', `/api/v1/tickets/${opened.id}`, {session: admin})).json;
    const note = t.messages.find((m) => m.id === res.json.result.message_id);
    assert.equal(note.kind, 'note');
    assert.deepEqual(note.author, {type: 'user', id: agent.user.id, name: 'Servis Ajanı'});
    const got = await call('ticketing.get', {ticket_id: opened.id});
    assert.equal(got.status, 200);
    assert.equal(got.json.result.id, opened.id);
    assert.equal(got.json.result.reference, opened.reference);
    assert.equal(got.json.result.messages, undefined, 'the summary, not the thread');
    assertError(await call('ticketing.note', {ticket_id: 999999, body: 'x'}), 404, 'not_found');
    assertError(await call('ticketing.note', {ticket_id: opened.id}), 422, 'missing_field', 'body');
    assertError(await call('ticketing.get', {ticket_id: 'x'}), 422, 'invalid_field', 'ticket_id');
  });

  test('ticketing.link gives the customer\'s signed link', async () => {
    const opened = (await call('ticketing.open', {subject: 'Link', body: 'Merhaba', customer: {email: 'l@example.com'}})).json.result;
    const res = await call('ticketing.link', {ticket_id: opened.id});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.result.url, opened.link);
    assert.match(res.json.result.sig, /^[0-9a-f]{64}$/);
  });

  test('a failing service takes back what it wrote: nothing of a refused open remains', async () => {
    const before = (await listAll(server, '/api/v1/tickets', {session: admin})).length;
    assertError(await call('ticketing.open', {subject: 'x', body: 'y', customer: {email: 'z@example.com'}, tags: [1]}), 422,
      'invalid_field', 'tags');
    assert.equal((await listAll(server, '/api/v1/tickets', {session: admin})).length, before);
  });
});
