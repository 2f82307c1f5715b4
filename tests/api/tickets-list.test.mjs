// The ticket list beyond its filters: the sorts (updated, created, priority, sla_due) with their keyset cursors,
// GET /api/v1/tickets/count, the search groups (subject, customer, elsewhere; newest first in each) with paging, and
// list items that are the detail view without its thread.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, login, createUser, assertError, listAll, uniqueEmail} from './lib.mjs';

let server, admin, agent;
let n = 0;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {name: 'Liste Ajanı', role: 'agent'});
  agent = await login(server, a.email, a.password);
});

const api = (method, p, body, session = agent) => server.api(method, p, {session, body});

async function newTicket(over = {}) {
  n += 1;
  const res = await api('POST', '/api/v1/tickets', {subject: `Konu ${n}`, body: `Gövde ${n}`,
    customer: {email: uniqueEmail('liste'), name: `Müşteri ${n}`}, ...over});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const ids = async (q, limit = 1) => (await listAll(server, `/api/v1/tickets?${q}`, {session: agent, limit})).map((t) => t.id);
const count = async (q) => {
  const res = await api('GET', `/api/v1/tickets/count?${q}`);
  assert.equal(res.status, 200, res.text);
  return res.json.count;
};

describe('sorts and cursors', () => {
  test('updated, created and priority orders, each paged one by one with its own cursor', async () => {
    const mark = `sort${Date.now()}`;
    const low = await newTicket({tags: [mark], priority: 'low'});
    const urgent = await newTicket({tags: [mark], priority: 'urgent'});
    const normal = await newTicket({tags: [mark]});
    const high = await newTicket({tags: [mark], priority: 'high'});
    const urgent2 = await newTicket({tags: [mark], priority: 'urgent'});
    // low is changed last: first by "updated", still last by "created" and "priority"
    assert.equal((await api('POST', `/api/v1/tickets/${low.id}/messages`, {body: 'not', kind: 'note'})).status, 201);

    assert.deepEqual(await ids(`tag=${mark}`), [low.id, urgent2.id, high.id, normal.id, urgent.id]);
    assert.deepEqual(await ids(`tag=${mark}&sort=updated`), [low.id, urgent2.id, high.id, normal.id, urgent.id]);
    assert.deepEqual(await ids(`tag=${mark}&sort=created`), [urgent2.id, high.id, normal.id, urgent.id, low.id]);
    assert.deepEqual(await ids(`tag=${mark}&sort=priority`), [urgent2.id, urgent.id, high.id, normal.id, low.id]);
    assert.deepEqual(await ids(`tag=${mark}&sort=priority`, 2), [urgent2.id, urgent.id, high.id, normal.id, low.id]);
    assert.equal((await api('PATCH', `/api/v1/tickets/${normal.id}`, {status: 'open'})).status, 200);
    assert.deepEqual(await ids(`tag=${mark}&sort=priority&status=new`, 2), [urgent2.id, urgent.id, high.id, low.id]);

    // A cursor belongs to its sort: another sort refuses it rather than mis-page.
    const page = await api('GET', `/api/v1/tickets?tag=${mark}&sort=priority&limit=2`);
    assert.equal(page.status, 200, page.text);
    assert.equal(typeof page.json.next_cursor, 'string');
    const cur = encodeURIComponent(page.json.next_cursor);
    assertError(await api('GET', `/api/v1/tickets?tag=${mark}&sort=created&cursor=${cur}`), 422, 'invalid_field', 'cursor');
    assertError(await api('GET', `/api/v1/tickets?tag=${mark}&cursor=${cur}`), 422, 'invalid_field', 'cursor');
    assertError(await api('GET', `/api/v1/tickets?tag=${mark}&q=konu&cursor=${cur}`), 422, 'invalid_field', 'cursor');
    assertError(await api('GET', '/api/v1/tickets?sort=oldest'), 422, 'invalid_field', 'sort');
    assertError(await api('GET', '/api/v1/tickets?sort=priority&cursor=cDox'), 422, 'invalid_field', 'cursor');
  });

  test('sla_due: the soonest due first, tickets without a running SLA clock last', async () => {
    const mark = `due${Date.now()}`;
    const policy = async (name, priority, minutes) => {
      const res = await api('POST', '/api/v1/sla-policies', {name, priority, tag: mark, first_response_minutes: minutes,
        position: 1}, admin);
      assert.equal(res.status, 201, res.text);
      return res.json;
    };
    const slow = await policy(`Yavaş ${mark}`, 'normal', 600);
    const fast = await policy(`Hızlı ${mark}`, 'urgent', 60);
    try {
      const none = await newTicket({tags: [mark], priority: 'low'});        // no policy matches: no clock
      const normal = await newTicket({tags: [mark]});                       // due in 600 business minutes
      const urgent = await newTicket({tags: [mark], priority: 'urgent'});   // due in 60
      const normal2 = await newTicket({tags: [mark]});                      // due at or after the first normal
      assert.equal(normal.sla.first_response.target_minutes, 600);
      assert.equal(urgent.sla.first_response.target_minutes, 60);
      assert.equal(none.sla, null);
      const order = await ids(`tag=${mark}&sort=sla_due`);
      assert.equal(order[0], urgent.id);
      assert.deepEqual(new Set(order.slice(1, 3)), new Set([normal.id, normal2.id]));
      assert.equal(order[3], none.id);
      // The first reply stops the first-response clock: the ticket has nothing due any more.
      assert.equal((await api('POST', `/api/v1/tickets/${urgent.id}/messages`, {body: 'Merhaba'})).status, 201);
      const after = await ids(`tag=${mark}&sort=sla_due`, 3);
      assert.deepEqual(new Set(after.slice(0, 2)), new Set([normal.id, normal2.id]));
      assert.deepEqual(new Set(after.slice(2)), new Set([urgent.id, none.id]));
    } finally {
      for (const p of [slow, fast]) await api('DELETE', `/api/v1/sla-policies/${p.id}`, null, admin);
    }
  });
});

describe('count', () => {
  test('GET /api/v1/tickets/count answers what the list would list, for every filter and q', async () => {
    const mark = `cnt${Date.now()}`;
    const made = [];
    for (const [status, channel] of [['new', 'email'], ['open', 'chat'], ['pending', 'chat'], ['solved', 'web']]) {
      const t = await newTicket({tags: [mark], channel, subject: `Sayım ${mark} iade`});
      if (status !== 'new') assert.equal((await api('PATCH', `/api/v1/tickets/${t.id}`, {status})).status, 200);
      made.push(t);
    }
    await api('POST', `/api/v1/tickets/${made[0].id}/assign`, {assignee_id: 'me'});
    for (const q of ['', '&status=open,pending', '&status=new', '&channel=chat', '&assignee=me', '&assignee=none',
      '&status=open,pending&channel=chat', `&q=${encodeURIComponent('SAYIM İADE')}`, '&q=sayim&status=solved',
      '&priority=urgent']) {
      assert.equal(await count(`tag=${mark}${q}`), (await ids(`tag=${mark}${q}`, 200)).length, q);
    }
    assert.equal(await count(`tag=${mark}`), 4);
    assert.equal(await count(`tag=${mark}&status=open,pending`), 2);
    assert.equal(await count(`tag=${mark}&q=${encodeURIComponent('!!!')}`), 0);
    assert.ok(await count('') >= 4);
    assertError(await api('GET', '/api/v1/tickets/count?status=nope'), 422, 'invalid_field', 'status');
    assertError(await api('GET', '/api/v1/tickets/count?assignee=x'), 422, 'invalid_field', 'assignee');
    const anon = await server.api('GET', '/api/v1/tickets/count');
    assert.equal(anon.status, 401);
  });
});

describe('search groups', () => {
  test('subject hits first, then the customer, then the thread; newest first in each; paged without repeats', async () => {
    const word = `zx${Date.now().toString(36)}`;
    const bodyOld = await newTicket({body: `Eski mesajda ${word} geçiyor`});
    const subjOld = await newTicket({subject: `Eski konu ${word}`});
    const cust = await newTicket({customer: {email: uniqueEmail('grp'), name: `Ayşe ${word}`}});
    const bodyNew = await newTicket({body: `Yeni mesajda ${word.toUpperCase()} geçiyor`});
    const subjNew = await newTicket({subject: `Yeni konu ${word}`});
    const expect = [subjNew.id, subjOld.id, cust.id, bodyNew.id, bodyOld.id];
    for (const limit of [1, 2, 50]) assert.deepEqual(await ids(`q=${word}`, limit), expect, `limit ${limit}`);
    const res = await api('GET', `/api/v1/tickets?q=${word}`);
    assert.deepEqual(res.json.items.map((t) => t.search.field), ['subject', 'subject', 'customer', 'body', 'body']);
    assert.match(res.json.items[0].search.snippet_html, new RegExp(`<mark>${word}</mark>`));
    assert.equal(res.json.next_cursor, null);
    // filters apply within the groups
    assert.equal((await api('PATCH', `/api/v1/tickets/${subjOld.id}`, {status: 'pending'})).status, 200);
    assert.deepEqual(await ids(`q=${word}&status=pending`), [subjOld.id]);
    assert.deepEqual(await ids(`q=${word}&status=new`, 1), [subjNew.id, cust.id, bodyNew.id, bodyOld.id]);
    // a word of one or two letters matches whole words only ("e" of "e-fatura"), longer words are prefixes
    const ef = await newTicket({subject: `E-fatura ${word}b isteği`});
    assert.deepEqual(await ids(`q=${encodeURIComponent(`e ${word}b`)}`), [ef.id]);
    assert.deepEqual(await ids(`q=${encodeURIComponent(`e-fatura ${word}b`)}`), [ef.id]);
    assert.deepEqual(await ids(`q=${encodeURIComponent(`fat ${word}b`)}`), [ef.id]);
    assert.deepEqual(await ids(`q=${encodeURIComponent(`fa ${word}b`)}`), []);
    assert.match((await api('GET', `/api/v1/tickets?q=${encodeURIComponent(`e ${word}b`)}`)).json.items[0].search.snippet_html,
      /^<mark>E<\/mark>-fatura <mark>/);
    // a search cursor does not page a plain list
    const page = await api('GET', `/api/v1/tickets?q=${word}&limit=1`);
    assertError(await api('GET', `/api/v1/tickets?cursor=${encodeURIComponent(page.json.next_cursor)}`), 422,
      'invalid_field', 'cursor');
  });
});

describe('list items', () => {
  test('a list item is the detail view without messages, history, parts, the link signature and the snooze', async () => {
    const mark = `item${Date.now()}`;
    const a = await newTicket({tags: [mark, 'kargo'], order_number: '12345', priority: 'high'});
    const b = await newTicket({tags: [mark, 'iade'], customer: {email: a.customer.email}});
    assert.equal((await api('PATCH', `/api/v1/tickets/${a.id}`, {custom_fields: {kanal: 'instagram', adet: 2, acil: true}})).status, 200);
    const merged = await api('POST', `/api/v1/tickets/${a.id}/merge`, {source_id: b.id});
    assert.equal(merged.status, 200, merged.text);
    assert.deepEqual(merged.json.tags, ['iade', 'kargo', mark].sort());
    const listed = await api('GET', `/api/v1/tickets?tag=${mark}`);
    for (const item of listed.json.items) {
      const detail = (await api('GET', `/api/v1/tickets/${item.id}`)).json;
      for (const k of ['messages', 'history', 'public_sig', 'parts', 'snoozed_until']) delete detail[k];
      assert.deepEqual(item, detail);
    }
    const item = listed.json.items.find((t) => t.id === a.id);
    assert.deepEqual(item.tags, ['iade', 'kargo', mark].sort(), 'the merged tags show in the list too');
    assert.deepEqual(item.custom_fields, {kanal: 'instagram', adet: 2, acil: true});
    // text with every kind of character that needs escaping comes back as it went in
    const odd = 'Tırnak " ters \\ bölü / <b>etiket</b> & emoji 🚚 ile İıŞş';
    const c = await newTicket({subject: odd, tags: [mark]});
    const again = (await api('GET', `/api/v1/tickets?tag=${mark}&sort=created&limit=1`)).json.items[0];
    assert.equal(again.id, c.id);
    assert.equal(again.subject, odd.trim());
  });
});

describe('tags in Turkish capitals', () => {
  test('tags, the tag filter, SLA policy and trigger tag conditions all compare Turkish capitals lower-cased', async () => {
    const mark = `ŞİKAYET${Date.now()}`;
    const t = await newTicket({tags: [mark, 'İADE', 'ÇOK-ÖNEMLİ', 'Ürün']});
    const low = `şikayet${mark.slice('ŞİKAYET'.length)}`;
    assert.deepEqual(t.tags, ['iade', 'çok-önemli', low, 'ürün'].sort());
    assert.deepEqual(await ids(`tag=${encodeURIComponent(mark)}`), [t.id]);
    assert.deepEqual(await ids(`tag=${encodeURIComponent(low)}`), [t.id]);
    const pol = await api('POST', '/api/v1/sla-policies', {name: `Şikayet ${Date.now()}`, tag: mark, position: 1,
      first_response_minutes: 45}, admin);
    assert.equal(pol.status, 201, pol.text);
    assert.equal(pol.json.tag, low);
    const trg = await api('POST', '/api/v1/triggers', {name: `Etiket ${Date.now()}`, event: 'ticket.created',
      conditions: {tag: mark}, actions: {add_tags: ['Öncelikli']}}, admin);
    assert.equal(trg.status, 201, trg.text);
    try {
      const u = await newTicket({tags: [mark]});
      assert.equal(u.sla && u.sla.first_response.target_minutes, 45, 'the policy matched the tag');
      assert.ok(u.tags.includes('öncelikli'), `the trigger matched the tag: ${u.tags}`);
    } finally {
      await api('DELETE', `/api/v1/sla-policies/${pol.json.id}`, null, admin);
      await api('DELETE', `/api/v1/triggers/${trg.json.id}`, null, admin);
    }
  });
});
