// Ticketing, the agents' API: create, read, list and filter, update with the status rules, thread (replies,
// notes), assignment, merge, bulk (all or nothing), customers, teams, presence and attachments — each change
// checked for its history entry and the events it emitted (GET /api/v1/events?event=...).
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, setupAdmin, login, createUser, createToken, assertError, listAll, uniqueEmail, ISO_UTC,
} from './lib.mjs';

let server, admin, agentA, agentB, inactive, token;
let seq = 0;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  const [a, b, c] = await Promise.all([
    createUser(server, admin, {name: 'Ayşe Agent', role: 'agent'}),
    createUser(server, admin, {name: 'Burak Agent', role: 'agent'}),
    createUser(server, admin, {name: 'Gone Agent', role: 'agent'}),
  ]);
  [agentA, agentB] = await Promise.all([login(server, a.email, a.password), login(server, b.email, b.password)]);
  inactive = c;
  const off = await server.api('PATCH', `/api/v1/users/${c.id}`, {session: admin, body: {active: false}});
  assert.equal(off.status, 200, off.text);
  token = {token: (await createToken(server, admin, {scopes: ['agent']})).secret};
});

const api = (method, p, body, session = agentA) => server.api(method, p, {session, body});

/** Creates a ticket as agent A; resolves the ticket. */
async function newTicket(over = {}) {
  seq += 1;
  const body = {subject: `Subject ${seq}`, customer: {email: `cust${seq}@example.com`, name: `Customer ${seq}`},
    body: `Body of ticket ${seq}`, ...over};
  const res = await api('POST', '/api/v1/tickets', body);
  assert.equal(res.status, 201, res.text);
  return res.json;
}

/** Events named `name` about ticket id (all pages). */
async function eventsFor(name, id) {
  const items = await listAll(server, `/api/v1/events?event=${name}&subject=ticket:${id}`, {session: admin, limit: 200});
  return items.map((e) => e.payload).reverse();  // the list is newest first: give them in order
}

async function getTicket(id) {
  const res = await api('GET', `/api/v1/tickets/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** Moves a fresh ticket to `status` along allowed paths; resolves the ticket. */
async function ticketIn(status) {
  const t = await newTicket();
  if (status === 'new') return t;
  const path = {open: ['open'], pending: ['pending'], on_hold: ['on_hold'], solved: ['solved'], closed: ['closed']}[status];
  for (const s of path) {
    const res = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: s});
    assert.equal(res.status, 200, res.text);
  }
  return getTicket(t.id);
}

describe('create and read', () => {
  test('POST /api/v1/tickets: 201 with the ticket, its first message, history and ticket.created', async () => {
    const res = await api('POST', '/api/v1/tickets', {subject: '  Kargom nerede?  ', body: 'Sipariş 3 gündür gelmedi',
      customer: {email: 'Zeynep@Example.COM', name: 'Zeynep', phone: '+90 (532) 111-2233'}, priority: 'high',
      channel: 'phone', tags: ['Kargo', 'gecikme']});
    assert.equal(res.status, 201, res.text);
    const t = res.json;
    assert.match(t.reference, /^#\d{4,}$/);
    assert.ok(t.number >= 1001);
    assert.equal(t.subject, 'Kargom nerede?');
    assert.equal(t.status, 'new');
    assert.equal(t.priority, 'high');
    assert.equal(t.channel, 'phone');
    assert.deepEqual(t.tags, ['gecikme', 'kargo']);
    assert.deepEqual(t.customer, {id: t.customer.id, name: 'Zeynep', email: 'zeynep@example.com', phone: '+905321112233'});
    assert.equal(t.assignee_id, null);
    assert.match(t.created_at, ISO_UTC);
    assert.equal(t.messages.length, 1);
    assert.equal(t.messages[0].kind, 'customer');
    assert.deepEqual(t.messages[0].author, {type: 'customer', id: t.customer.id, name: 'Zeynep'});
    assert.equal(t.history[0].field, 'created');
    assert.equal(t.history[0].actor, `user:${agentA.user.id}`);
    const [ev] = await eventsFor('ticket.created', t.id);
    assert.equal(ev.reference, t.reference);
    assert.equal(ev.status, 'new');
    assert.equal(ev.channel, 'phone');
    assert.deepEqual(ev.customer, {id: t.customer.id, email: 'zeynep@example.com', name: 'Zeynep', lang: 'tr'});
    assert.deepEqual(ev.tags, ['gecikme', 'kargo']);
    assert.equal(ev.message.kind, 'customer');
    assert.equal(ev.message.body_excerpt, 'Sipariş 3 gündür gelmedi');
  });

  test('references count up from 1001; the same person (e-mail any case, or phone) is one customer', async () => {
    const a = await newTicket({customer: {email: 'same.person@example.com', name: 'Same'}});
    const b = await newTicket({customer: {email: 'SAME.Person@example.com', name: 'Other name'}});
    const c = await newTicket({customer: {phone: '0532 999 88 77', name: 'Phone Only'}});
    const d = await newTicket({customer: {phone: '05329998877'}});
    assert.equal(b.number, a.number + 1);
    assert.equal(a.customer.id, b.customer.id);
    assert.equal(b.customer.name, 'Same', 'an existing name is not overwritten');
    assert.equal(c.customer.id, d.customer.id);
    assert.notEqual(a.customer.id, c.customer.id);
    assert.equal(a.channel, 'api');
    assert.equal(a.priority, 'normal');
  });

  const bad = [
    ['no subject', {body: 'x', customer: {email: 'a@example.com'}}, 422, 'missing_field', 'subject'],
    ['no body', {subject: 's', customer: {email: 'a@example.com'}}, 422, 'missing_field', 'body'],
    ['no customer', {subject: 's', body: 'b'}, 422, 'missing_field', 'customer'],
    ['customer not an object', {subject: 's', body: 'b', customer: 'a@example.com'}, 422, 'invalid_field', 'customer'],
    ['bad e-mail', {subject: 's', body: 'b', customer: {email: 'nope'}}, 422, 'invalid_field', 'customer.email'],
    ['neither e-mail nor phone', {subject: 's', body: 'b', customer: {name: 'x'}}, 422, 'missing_field', 'customer.email'],
    ['bad phone', {subject: 's', body: 'b', customer: {phone: 'call me'}}, 422, 'invalid_field', 'customer.phone'],
    ['bad channel', {subject: 's', body: 'b', customer: {email: 'a@example.com'}, channel: 'fax'}, 422, 'invalid_field', 'channel'],
    ['bad priority', {subject: 's', body: 'b', customer: {email: 'a@example.com'}, priority: 'meh'}, 422, 'invalid_field', 'priority'],
    ['tags not an array', {subject: 's', body: 'b', customer: {email: 'a@example.com'}, tags: 'x'}, 422, 'invalid_field', 'tags'],
    ['tag with a comma', {subject: 's', body: 'b', customer: {email: 'a@example.com'}, tags: ['a,b']}, 422, 'invalid_field', 'tags'],
    ['subject too long', {subject: 'x'.repeat(251), body: 'b', customer: {email: 'a@example.com'}}, 422, 'invalid_field', 'subject'],
  ];
  for (const [name, body, status, code, field] of bad) {
    test(`POST /api/v1/tickets refuses: ${name}`, async () => {
      const before = (await api('GET', '/api/v1/tickets?limit=1')).json.items[0]?.id;
      assertError(await api('POST', '/api/v1/tickets', body), status, code, field);
      assert.equal((await api('GET', '/api/v1/tickets?limit=1')).json.items[0]?.id, before, 'nothing was created');
    });
  }

  test('access: anonymous 401; a token with the agent scope works; bad JSON 400; unknown ticket 404', async () => {
    assertError(await server.api('POST', '/api/v1/tickets', {body: {subject: 's'}}), 401);
    assertError(await server.api('GET', '/api/v1/tickets'), 401);
    const res = await server.api('POST', '/api/v1/tickets', {session: token,
      body: {subject: 'via token', body: 'b', customer: {email: uniqueEmail('tok')}}});
    assert.equal(res.status, 201, res.text);
    assertError(await server.api('POST', '/api/v1/tickets', {session: agentA, rawBody: '{nope'}), 400);
    assertError(await api('GET', '/api/v1/tickets/999999'), 404, 'not_found');
    assertError(await api('PATCH', '/api/v1/tickets/999999', {priority: 'low'}), 404, 'not_found');
    assertError(await api('POST', '/api/v1/tickets/999999/messages', {body: 'x'}), 404, 'not_found');
    assertError(await api('POST', '/api/v1/tickets/999999/assign', {assignee_id: null}), 404, 'not_found');
  });
});

describe('status transitions', () => {
  const STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'];
  // The rules (plugins/ticketing/README.md): new only at the start; closed is final; solved -> open or closed.
  // A closed ticket refuses every change, even to closed; any other state may "change" to itself (a no-op).
  const allowed = (from, to) => from !== 'closed' && (from === to || (to !== 'new'
    && (from !== 'solved' || to === 'open' || to === 'closed')));
  for (const from of STATUSES) {
    test(`from ${from}`, async () => {
      for (const to of STATUSES) {
        const t = await ticketIn(from);
        const res = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: to});
        if (allowed(from, to)) {
          assert.equal(res.status, 200, `${from} -> ${to}: ${res.text}`);
          assert.equal(res.json.status, to);
          if (from !== to) {
            const h = res.json.history.filter((e) => e.field === 'status').pop();
            assert.deepEqual([h.old, h.new, h.actor], [from, to, `user:${agentA.user.id}`]);
          }
        } else {
          assertError(res, 409, from === 'closed' ? 'ticket_closed' : 'invalid_transition');
          assert.equal((await getTicket(t.id)).status, from, 'unchanged');
        }
      }
    });
  }

  test('solved sets solved_at and emits ticket.solved; reopening clears it; closed sets closed_at and is final', async () => {
    const t = await ticketIn('open');
    let res = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'solved'});
    assert.match(res.json.solved_at, ISO_UTC);
    const solved = await eventsFor('ticket.solved', t.id);
    assert.equal(solved.length, 1);
    assert.equal(solved[0].status, 'solved');
    res = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'open'});
    assert.equal(res.json.solved_at, null);
    res = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'closed'});
    assert.match(res.json.closed_at, ISO_UTC);
    assertError(await api('PATCH', `/api/v1/tickets/${t.id}`, {priority: 'low'}), 409, 'ticket_closed');
    assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'late', kind: 'reply'}), 409, 'ticket_closed');
    assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'late', kind: 'note'}), 409, 'ticket_closed');
  });
});

describe('updates', () => {
  test('PATCH changes fields, records each in history and emits one ticket.updated with the changes', async () => {
    const team = (await api('POST', '/api/v1/teams', {name: `Kargo ekibi ${seq}`}, admin)).json;
    const t = await newTicket({tags: ['a']});
    const res = await api('PATCH', `/api/v1/tickets/${t.id}`, {subject: 'New subject', priority: 'urgent',
      assignee_id: agentB.user.id, team_id: team.id, tags: ['b', 'C'], custom_fields: {order_no: 'S-1', total: 12.5, vip: true}});
    assert.equal(res.status, 200, res.text);
    const u = res.json;
    assert.equal(u.subject, 'New subject');
    assert.equal(u.priority, 'urgent');
    assert.equal(u.assignee_id, agentB.user.id);
    assert.equal(u.team_id, team.id);
    assert.deepEqual(u.tags, ['b', 'c']);
    assert.deepEqual(u.custom_fields, {order_no: 'S-1', total: 12.5, vip: true});
    const fields = u.history.map((h) => h.field);
    for (const f of ['subject', 'priority', 'assignee_id', 'team_id', 'tags', 'custom_fields']) assert.ok(fields.includes(f), f);
    const tagsH = u.history.find((h) => h.field === 'tags');
    assert.deepEqual([JSON.parse(tagsH.old), JSON.parse(tagsH.new)], [['a'], ['b', 'c']]);
    const updated = await eventsFor('ticket.updated', t.id);
    assert.equal(updated.length, 1);
    assert.deepEqual(Object.keys(updated[0].changes).sort(),
      ['assignee_id', 'custom_fields', 'priority', 'subject', 'tags', 'team_id']);
    assert.deepEqual(updated[0].changes.priority, {old: 'normal', new: 'urgent'});
    const assigned = await eventsFor('ticket.assigned', t.id);
    assert.equal(assigned.length, 1);
    assert.equal(assigned[0].assignee_id, agentB.user.id);
    assert.equal(assigned[0].previous_assignee_id, null);
    // custom fields merge; null removes a key
    const r2 = await api('PATCH', `/api/v1/tickets/${t.id}`, {custom_fields: {vip: null, note: 'x'}});
    assert.deepEqual(r2.json.custom_fields, {order_no: 'S-1', total: 12.5, note: 'x'});
  });

  test('a PATCH that changes nothing writes no history and emits nothing', async () => {
    const t = await newTicket();
    const res = await api('PATCH', `/api/v1/tickets/${t.id}`, {priority: 'normal', status: 'new', tags: []});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.history.length, 1);
    assert.equal((await eventsFor('ticket.updated', t.id)).length, 0);
  });

  const badPatch = [
    ['unknown status', {status: 'done'}, 'status'],
    ['unknown priority', {priority: 'p1'}, 'priority'],
    ['empty subject', {subject: ''}, 'subject'],
    ['assignee not a user', {assignee_id: 999999}, 'assignee_id'],
    ['inactive assignee', () => ({assignee_id: inactive.id}), 'assignee_id'],
    ['assignee of the wrong type', {assignee_id: 'bob'}, 'assignee_id'],
    ['unknown team', {team_id: 999999}, 'team_id'],
    ['tags with a non-string', {tags: [1]}, 'tags'],
    ['too many tags', {tags: Array.from({length: 21}, (_, i) => `t${i}`)}, 'tags'],
    ['custom_fields not an object', {custom_fields: [1]}, 'custom_fields'],
    ['custom field with a bad name', {custom_fields: {'Bad Name': 1}}, 'custom_fields'],
    ['custom field holding an object', {custom_fields: {a: {b: 1}}}, 'custom_fields'],
    ['custom field text too long', {custom_fields: {a: 'x'.repeat(1001)}}, 'custom_fields'],
  ];
  for (const [name, body, field] of badPatch) {
    test(`PATCH refuses ${name} (422 ${field}), changing nothing`, async () => {
      const t = await newTicket();
      assertError(await api('PATCH', `/api/v1/tickets/${t.id}`, typeof body === 'function' ? body() : body), 422,
        ['invalid_field', 'missing_field'], field);
      const after = await getTicket(t.id);
      assert.equal(after.history.length, 1);
    });
  }
});

describe('thread', () => {
  test('a reply opens a new ticket, records the first response and emits message.added and ticket.updated', async () => {
    const t = await newTicket();
    const res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Merhaba, kontrol ediyorum.', kind: 'reply',
      body_html: '<p onclick="x()">Merhaba</p><script>alert(1)</script><img src="https://izle.example/p.gif"><a href="javascript:x()">a</a>'});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.message.kind, 'reply');
    assert.deepEqual(res.json.message.author, {type: 'user', id: agentA.user.id, name: 'Ayşe Agent'});
    const html = res.json.message.body_html;
    assert.match(html, /^<p>Merhaba<\/p>/, 'HTML is stored sanitised, as mail HTML is');
    assert.doesNotMatch(html, /onclick|<script|alert|javascript:|\ssrc=/i, html);
    assert.match(html, /data-remote-src="https:\/\/izle\.example\/p\.gif"/, 'remote images held back');
    assert.equal(res.json.ticket.status, 'open');
    assert.match(res.json.ticket.first_response_at, ISO_UTC);
    const first = res.json.ticket.first_response_at;
    const added = await eventsFor('message.added', t.id);
    assert.equal(added.length, 1);
    assert.deepEqual(added[0].message, {id: res.json.message.id, kind: 'reply', author_user_id: agentA.user.id,
      author_customer_id: null, body_excerpt: 'Merhaba, kontrol ediyorum.', attachments: 0,
      part: {ticket_id: t.id, reference: t.reference, customer_id: t.customer.id}});
    const upd = await eventsFor('ticket.updated', t.id);
    assert.deepEqual(upd[0].changes.status, {old: 'new', new: 'open'});
    // a second reply keeps the first response time
    await new Promise((r) => setTimeout(r, 1100));
    const r2 = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Again'}, agentB);
    assert.equal(r2.json.ticket.first_response_at, first);
    const full = await getTicket(t.id);
    assert.deepEqual(full.messages.map((m) => m.kind), ['customer', 'reply', 'reply']);
    assert.ok(full.history.some((h) => h.field === 'first_response_at'));
  });

  test('a note changes neither status nor the first response; long bodies are cut in the event excerpt', async () => {
    const t = await newTicket();
    const long = 'ğ'.repeat(300);
    const res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: long, kind: 'note'});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.ticket.status, 'new');
    assert.equal(res.json.ticket.first_response_at, null);
    const [ev] = await eventsFor('message.added', t.id);
    assert.equal(ev.message.kind, 'note');
    assert.ok(ev.message.body_excerpt.length < 120 && ev.message.body_excerpt.endsWith('…'), ev.message.body_excerpt);
    assert.ok(!ev.message.body_excerpt.includes('\uFFFD'));
  });

  const badMsg = [
    ['no body', {kind: 'reply'}, 'missing_field', 'body'],
    ['blank body', {body: '   '}, 'missing_field', 'body'],
    ['customer kind from an agent', {body: 'x', kind: 'customer'}, 'invalid_field', 'kind'],
    ['attachments not an array', {body: 'x', attachments: {}}, 'invalid_field', 'attachments'],
  ];
  for (const [name, body, code, field] of badMsg) {
    test(`POST messages refuses ${name}`, async () => {
      const t = await newTicket();
      assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, body), 422, code, field);
      assert.equal((await getTicket(t.id)).messages.length, 1);
    });
  }
});

describe('assignment and list', () => {
  test('assign: to me, to someone, to nobody; ticket.assigned each time; errors', async () => {
    const t = await newTicket();
    let res = await api('POST', `/api/v1/tickets/${t.id}/assign`, {assignee_id: 'me'}, agentB);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.assignee_id, agentB.user.id);
    res = await api('POST', `/api/v1/tickets/${t.id}/assign`, {assignee_id: agentA.user.id});
    assert.equal(res.json.assignee_id, agentA.user.id);
    res = await api('POST', `/api/v1/tickets/${t.id}/assign`, {assignee_id: null});
    assert.equal(res.json.assignee_id, null);
    const ev = await eventsFor('ticket.assigned', t.id);
    assert.deepEqual(ev.map((e) => [e.previous_assignee_id, e.assignee_id]),
      [[null, agentB.user.id], [agentB.user.id, agentA.user.id], [agentA.user.id, null]]);
    assertError(await api('POST', `/api/v1/tickets/${t.id}/assign`, {}), 422, 'missing_field', 'assignee_id');
    assertError(await api('POST', `/api/v1/tickets/${t.id}/assign`, {assignee_id: inactive.id}), 422, 'invalid_field', 'assignee_id');
  });

  test('GET /api/v1/tickets: newest-updated first, cursor paging, every filter', async () => {
    const mark = `list${Date.now()}`;
    const cust = {email: uniqueEmail('lister'), name: 'Lister'};
    const t1 = await newTicket({customer: cust, tags: [mark], channel: 'email', priority: 'low'});
    const t2 = await newTicket({customer: cust, tags: [mark], channel: 'chat', priority: 'high'});
    const t3 = await newTicket({customer: cust, tags: [mark, 'extra'], channel: 'chat'});
    await api('POST', `/api/v1/tickets/${t2.id}/assign`, {assignee_id: 'me'}, agentB);
    await api('PATCH', `/api/v1/tickets/${t3.id}`, {status: 'pending'});
    await api('POST', `/api/v1/tickets/${t1.id}/messages`, {body: 'bump', kind: 'note'});
    const ids = async (q, session = agentA) => (await listAll(server, `/api/v1/tickets?tag=${mark}${q}`, {session, limit: 1})).map((t) => t.id);
    assert.deepEqual(await ids(''), [t1.id, t3.id, t2.id], 'most recently updated first');
    assert.deepEqual(await ids('&status=pending'), [t3.id]);
    assert.deepEqual(await ids('&status=new,pending'), [t1.id, t3.id, t2.id]);
    assert.deepEqual(await ids('&priority=high'), [t2.id]);
    assert.deepEqual(await ids('&channel=chat'), [t3.id, t2.id]);
    assert.deepEqual(await ids('&assignee=me', agentB), [t2.id]);
    assert.deepEqual(await ids(`&assignee=${agentB.user.id}`), [t2.id]);
    assert.deepEqual(await ids('&assignee=none'), [t1.id, t3.id]);
    assert.deepEqual(await ids(`&customer=${t1.customer.id}`), [t1.id, t3.id, t2.id]);
    assert.deepEqual(await ids('&tag=EXTRA').then(() => listAll(server, '/api/v1/tickets?tag=EXTRA', {session: agentA}))
      .then((l) => l.map((t) => t.id).filter((id) => [t1.id, t2.id, t3.id].includes(id))), [t3.id]);
    const page = await api('GET', `/api/v1/tickets?tag=${mark}&limit=2`);
    assert.equal(page.json.items.length, 2);
    assert.equal(typeof page.json.next_cursor, 'string');
    assert.ok(!('messages' in page.json.items[0]), 'list items are summaries');
    for (const [q, field] of [['status=nope', 'status'], ['priority=x', 'priority'], ['channel=fax', 'channel'],
      ['assignee=bob', 'assignee'], ['customer=abc', 'customer'], ['limit=0', 'limit'], ['limit=201', 'limit'],
      ['cursor=garbage', 'cursor']]) {
      assertError(await api('GET', `/api/v1/tickets?${q}`), 422, 'invalid_field', field);
    }
  });
});

describe('merge and bulk', () => {
  test('merge: the thread moves, the source is closed with a pointer, history on both, ticket.merged once', async () => {
    const target = await newTicket({tags: ['t']});
    const source = await newTicket({tags: ['s'], body: 'duplicate question', customer: {email: target.customer.email}});
    await api('POST', `/api/v1/tickets/${source.id}/messages`, {body: 'internal', kind: 'note'});
    const res = await api('POST', `/api/v1/tickets/${target.id}/merge`, {source_id: source.id});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.messages.length, 3);
    assert.deepEqual(res.json.tags, ['s', 't']);
    assert.ok(res.json.history.some((h) => h.field === 'merged_from' && h.new === source.reference));
    const src = await getTicket(source.id);
    assert.equal(src.status, 'closed');
    assert.equal(src.merged_into, target.id);
    assert.equal(src.messages.length, 0);
    assert.ok(src.history.some((h) => h.field === 'merged_into' && h.new === target.reference));
    const ev = await eventsFor('ticket.merged', target.id);
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0].source, {id: source.id, reference: source.reference, customer_id: source.customer.id});
    assert.equal(ev[0].notify_customer, true);
    assert.equal(ev[0].messages_moved, 2);
    // refusals
    assertError(await api('POST', `/api/v1/tickets/${target.id}/merge`, {source_id: source.id}), 409, 'ticket_closed');
    assertError(await api('POST', `/api/v1/tickets/${source.id}/merge`, {source_id: target.id}), 409, 'ticket_closed');
    assertError(await api('POST', `/api/v1/tickets/${target.id}/merge`, {source_id: target.id}), 422, 'invalid_field', 'source_id');
    assertError(await api('POST', `/api/v1/tickets/${target.id}/merge`, {source_id: 999999}), 422, 'invalid_field', 'source_id');
    assertError(await api('POST', `/api/v1/tickets/${target.id}/merge`, {}), 422, 'missing_field', 'source_id');
    assertError(await api('POST', '/api/v1/tickets/999999/merge', {source_id: target.id}), 404, 'not_found');
  });

  test('bulk: every ticket changes, with history and events', async () => {
    const ts = [await newTicket({tags: ['old']}), await newTicket({tags: ['old', 'keep']}), await newTicket()];
    const res = await api('POST', '/api/v1/tickets/bulk', {ids: ts.map((t) => t.id),
      changes: {status: 'pending', priority: 'high', assignee_id: 'me', add_tags: ['Bulk'], remove_tags: ['old']}});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.items.length, 3);
    for (const t of res.json.items) {
      assert.equal(t.status, 'pending');
      assert.equal(t.priority, 'high');
      assert.equal(t.assignee_id, agentA.user.id);
      assert.ok(t.tags.includes('bulk') && !t.tags.includes('old'));
    }
    assert.deepEqual(res.json.items[1].tags, ['bulk', 'keep']);
    for (const t of ts) assert.equal((await eventsFor('ticket.updated', t.id)).length, 1);
  });

  test('bulk is all or nothing: one closed or missing ticket refuses the lot', async () => {
    const ok1 = await newTicket();
    const closed = await ticketIn('closed');
    const ok2 = await newTicket();
    let res = await api('POST', '/api/v1/tickets/bulk', {ids: [ok1.id, closed.id, ok2.id], changes: {priority: 'urgent'}});
    assertError(res, 409, 'ticket_closed');
    assert.equal(res.json.error.ticket_id, closed.id);
    res = await api('POST', '/api/v1/tickets/bulk', {ids: [ok1.id, 999999], changes: {priority: 'urgent'}});
    assertError(res, 404, 'not_found');
    const solved = await ticketIn('solved');
    res = await api('POST', '/api/v1/tickets/bulk', {ids: [ok1.id, solved.id], changes: {status: 'pending'}});
    assertError(res, 409, 'invalid_transition');
    for (const t of [ok1, ok2]) {
      const now = await getTicket(t.id);
      assert.equal(now.priority, 'normal');
      assert.equal(now.status, 'new');
      assert.equal(now.history.length, 1);
      assert.equal((await eventsFor('ticket.updated', t.id)).length, 0);
    }
    for (const [body, field] of [[{changes: {priority: 'low'}}, 'ids'], [{ids: [], changes: {priority: 'low'}}, 'ids'],
      [{ids: ['x'], changes: {priority: 'low'}}, 'ids'], [{ids: [ok1.id]}, 'changes'], [{ids: [ok1.id], changes: {}}, 'changes'],
      [{ids: [ok1.id], changes: {status: 'x'}}, 'changes.status'],
      [{ids: [ok1.id], changes: {assignee_id: 999999}}, 'changes.assignee_id'],
      [{ids: [ok1.id], changes: {add_tags: 'x'}}, 'changes.add_tags'],
      [{ids: Array.from({length: 101}, (_, i) => i + 1), changes: {priority: 'low'}}, 'ids']]) {
      assertError(await api('POST', '/api/v1/tickets/bulk', body), 422, ['invalid_field', 'missing_field'], field);
    }
  });
});

describe('customers and teams', () => {
  test('customers: list with q, read with tickets, merge moves tickets and contact details', async () => {
    const a = await newTicket({customer: {email: uniqueEmail('merge-a'), name: 'Merve Target'}});
    const b = await newTicket({customer: {phone: '+90 555 000 1122', name: 'Merve Source'}});
    const list = await listAll(server, '/api/v1/customers?q=merve', {session: agentA, limit: 1});
    assert.deepEqual(list.map((c) => c.id).sort(), [a.customer.id, b.customer.id].sort());
    let res = await api('GET', `/api/v1/customers/${a.customer.id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.tickets.map((t) => t.id), [a.id]);
    res = await api('POST', `/api/v1/customers/${a.customer.id}/merge`, {source_id: b.customer.id});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.phone, '+905550001122');
    res = await api('GET', `/api/v1/customers/${a.customer.id}`);
    assert.deepEqual(res.json.tickets.map((t) => t.id).sort(), [a.id, b.id].sort());
    assert.equal((await api('GET', `/api/v1/customers/${b.customer.id}`)).json.merged_into, a.customer.id);
    const again = await newTicket({customer: {phone: '05550001122'.replace(/^0/, '+90')}});
    assert.equal(again.customer.id, a.customer.id, 'the phone now finds the merged customer');
    assertError(await api('POST', `/api/v1/customers/${a.customer.id}/merge`, {source_id: b.customer.id}), 409, 'already_merged');
    assertError(await api('POST', `/api/v1/customers/${a.customer.id}/merge`, {source_id: a.customer.id}), 422, 'invalid_field', 'source_id');
    assertError(await api('POST', `/api/v1/customers/${a.customer.id}/merge`, {}), 422, 'missing_field', 'source_id');
    assertError(await api('GET', '/api/v1/customers/999999'), 404, 'not_found');
  });

  test('teams: admins manage them, agents list them', async () => {
    const name = `Destek ${Date.now()}`;
    assertError(await api('POST', '/api/v1/teams', {name}), 403);
    let res = await api('POST', '/api/v1/teams', {name}, admin);
    assert.equal(res.status, 201, res.text);
    const id = res.json.id;
    assertError(await api('POST', '/api/v1/teams', {name: name.toUpperCase()}, admin), 409, 'name_taken');
    assertError(await api('POST', '/api/v1/teams', {}, admin), 422, 'missing_field', 'name');
    const all = await listAll(server, '/api/v1/teams', {session: agentA});
    assert.ok(all.some((t) => t.id === id && t.name === name));
    res = await api('PATCH', `/api/v1/teams/${id}`, {name: `${name} 2`}, admin);
    assert.equal(res.json.name, `${name} 2`);
    const t = await newTicket();
    await api('PATCH', `/api/v1/tickets/${t.id}`, {team_id: id});
    assert.equal((await api('GET', `/api/v1/teams/${id}`)).json.open_tickets, 1);
    assertError(await api('DELETE', `/api/v1/teams/${id}`, undefined, admin), 409, 'team_in_use');
    await api('PATCH', `/api/v1/tickets/${t.id}`, {team_id: null});
    assert.equal((await api('DELETE', `/api/v1/teams/${id}`, undefined, admin)).status, 204);
    assertError(await api('GET', `/api/v1/teams/${id}`), 404, 'not_found');
    assertError(await api('PATCH', `/api/v1/teams/${id}`, {name: 'x'}, admin), 404, 'not_found');
  });
});

describe('presence', () => {
  test('agents see who else has the ticket open and who is typing, for about 20 s', async () => {
    const t = await newTicket();
    assert.equal((await api('POST', `/api/v1/tickets/${t.id}/presence`, {typing: true})).status, 204);
    assert.equal((await api('POST', `/api/v1/tickets/${t.id}/presence`, {}, agentB)).status, 204);
    let res = await api('GET', `/api/v1/tickets/${t.id}/presence`, undefined, agentB);
    assert.deepEqual(res.json.items.map((p) => [p.user_id, p.name, p.typing]), [[agentA.user.id, 'Ayşe Agent', true]]);
    res = await api('GET', `/api/v1/tickets/${t.id}/presence`);
    assert.deepEqual(res.json.items.map((p) => [p.user_id, p.typing]), [[agentB.user.id, false]]);
    await api('POST', `/api/v1/tickets/${t.id}/presence`, {typing: false});
    res = await api('GET', `/api/v1/tickets/${t.id}/presence`, undefined, agentB);
    assert.equal(res.json.items[0].typing, false);
    assertError(await api('POST', `/api/v1/tickets/${t.id}/presence`, {typing: 'yes'}), 422, 'invalid_field', 'typing');
    assertError(await api('GET', '/api/v1/tickets/999999/presence'), 404, 'not_found');
    assertError(await server.api('GET', `/api/v1/tickets/${t.id}/presence`), 401);
  });
});

describe('attachments', () => {
  const b64 = (s) => Buffer.from(s).toString('base64');
  test('stored, listed on the message, served to agents only as a download with a safe type', async () => {
    const t = await newTicket();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'files', kind: 'note', attachments: [
      {filename: 'fatura şubat.png', content_type: 'image/PNG', data_base64: png.toString('base64')},
      {filename: 'evil.html', content_type: 'text/html', data_base64: b64('<script>alert(1)</script>')},
      {filename: 'no-type.bin', data_base64: ''},
    ]});
    assert.equal(res.status, 201, res.text);
    const [a, h, n] = res.json.message.attachments;
    assert.deepEqual([a.filename, a.content_type, a.size], ['fatura şubat.png', 'image/png', png.length]);
    assert.equal(n.content_type, 'application/octet-stream');
    let got = await server.api('GET', a.url, {session: agentB});
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, png);
    assert.equal(got.headers['content-type'], 'image/png');
    assert.match(got.headers['content-disposition'], /^attachment; filename="fatura _ubat.png"|^attachment; filename="fatura __ubat.png"/);
    assert.match(got.headers['content-disposition'], /filename\*=UTF-8''fatura%20%C5%9Fubat\.png/);
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    got = await server.api('GET', h.url, {session: agentA});
    assert.equal(got.headers['content-type'], 'application/octet-stream', 'HTML is never served as HTML');
    assert.match(got.headers['content-disposition'], /^attachment;/);
    assert.equal(got.text, '<script>alert(1)</script>');
    assertError(await server.api('GET', h.url), 401);
    assertError(await server.api('GET', '/api/v1/attachments/999999', {session: agentA}), 404, 'not_found');
    const [ev] = await eventsFor('message.added', t.id);
    assert.equal(ev.message.attachments, 3);
  });

  test('refused: too large (413, per ticketing.attachment_max_bytes), bad base64, bad names, too many', async () => {
    const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'ticketing.attachment_max_bytes': 100}});
    assert.equal(set.status, 200, set.text);
    try {
      const t = await newTicket();
      const big = {filename: 'big.txt', content_type: 'text/plain', data_base64: b64('x'.repeat(101))};
      assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'b', attachments: [big]}), 413, 'attachment_too_large');
      assertError(await api('POST', '/api/v1/tickets', {subject: 's', body: 'b', customer: {email: uniqueEmail()},
        attachments: [big]}), 413, 'attachment_too_large');
      const ok = {filename: 'ok.txt', content_type: 'text/plain', data_base64: b64('x'.repeat(100))};
      assert.equal((await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'b', kind: 'note', attachments: [ok]})).status, 201);
      for (const [att, field] of [
        [{filename: 'a.txt', data_base64: '!!!not base64!!!'}, 'attachments.data_base64'],
        [{filename: 'a.txt'}, 'attachments.data_base64'],
        [{filename: '../etc/passwd', data_base64: ''}, 'attachments.filename'],
        [{filename: '', data_base64: ''}, 'attachments.filename'],
        [{filename: 'a.txt', content_type: 'text html', data_base64: ''}, 'attachments.content_type'],
      ]) {
        assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'b', attachments: [att]}), 422,
          ['invalid_field', 'missing_field'], field);
      }
      assertError(await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'b',
        attachments: Array.from({length: 11}, () => ok)}), 422, 'invalid_field', 'attachments');
      assert.equal((await getTicket(t.id)).messages.length, 2, 'refused messages left nothing behind');
    } finally {
      await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'ticketing.attachment_max_bytes': null}});
    }
  });
});
