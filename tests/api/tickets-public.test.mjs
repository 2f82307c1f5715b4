// Ticketing, the customers' side and search: the public form (rate-limited per address), a ticket followed
// through a signed link (public messages only, replies reopen), and Turkish-aware full-text search.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, assertError, listAll, uniqueEmail} from './lib.mjs';

let server, admin;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const pub = (method, p, body, headers) => server.api(method, p, {body, headers});

async function newTicket(over = {}) {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Subject', customer: {email: uniqueEmail('c'), name: 'C'},
    body: 'Body', ...over});
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const getTicket = async (id) => (await api('GET', `/api/v1/tickets/${id}`)).json;

describe('public form', () => {
  test('201 {reference}; web channel; the customer is matched; ticket.created asks for the acknowledgement', async () => {
    const set = await api('PATCH', '/api/v1/settings', {'ticketing.public_form_limit': 100});
    assert.equal(set.status, 200, set.text);
    const res = await pub('POST', '/api/v1/public/tickets', {name: 'Elif Yılmaz', email: 'Elif@Example.com',
      subject: 'Ürün hasarlı geldi', body: 'Kutu ezik, ürün kırık.', order_number: 'TR-1234'});
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.json), ['reference', 'confirmation_mailed']);
    assert.match(res.json.reference, /^#\d{4,}$/);
    // No outgoing mail on this desk: the answer says no confirmation goes (the form must not claim one).
    assert.equal(res.json.confirmation_mailed, false);
    const list = await listAll(server, '/api/v1/tickets?channel=web', {session: admin});
    const t = list.find((x) => x.reference === res.json.reference);
    assert.equal(t.customer.email, 'elif@example.com');
    assert.equal(t.order_number, 'TR-1234');
    assert.equal(t.status, 'new');
    const ev = (await listAll(server, `/api/v1/events?event=ticket.created&subject=ticket:${t.id}`, {session: admin}))[0].payload;
    assert.equal(ev.ack_needed, true);
    assert.equal(ev.channel, 'web');
    assert.equal(ev.order_number, 'TR-1234');
    assert.equal(ev.customer.email, 'elif@example.com');
    const again = await pub('POST', '/api/v1/public/tickets', {name: 'Elif', email: 'ELIF@example.com', subject: 's', body: 'b'});
    const t2 = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin})).find((x) => x.reference === again.json.reference);
    assert.equal(t2.customer.id, t.customer.id);
    for (const [body, code, field] of [
      [{email: 'a@example.com', subject: 's', body: 'b'}, 'missing_field', 'name'],
      [{name: 'n', subject: 's', body: 'b'}, 'missing_field', 'email'],
      [{name: 'n', email: 'bad', subject: 's', body: 'b'}, 'invalid_field', 'email'],
      [{name: 'n', email: 'a@example.com', body: 'b'}, 'missing_field', 'subject'],
      [{name: 'n', email: 'a@example.com', subject: 's'}, 'missing_field', 'body'],
      [{name: 'n', email: 'a@example.com', subject: 's', body: 'b', order_number: 5}, 'invalid_field', 'order_number'],
    ]) assertError(await pub('POST', '/api/v1/public/tickets', body), 422, code, field);
  });

  test('rate-limited per address: the limit, then 429 rate_limited with Retry-After; another address is not', async () => {
    const s = await startServer({args: ['--trust-proxy']});
    const a = await setupAdmin(s);
    assert.equal((await s.api('PATCH', '/api/v1/settings', {session: a, body: {'ticketing.public_form_limit': 3}})).status, 200);
    const form = (ip) => s.api('POST', '/api/v1/public/tickets', {headers: {'x-forwarded-for': ip},
      body: {name: 'n', email: 'spam@example.com', subject: 's', body: 'b'}});
    for (let i = 0; i < 3; i++) assert.equal((await form('203.0.113.7')).status, 201);
    const res = await form('203.0.113.7');
    assertError(res, 429, 'rate_limited');
    const wait = Number(res.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 600, `Retry-After ${res.headers['retry-after']}`);
    assert.equal((await form('203.0.113.8')).status, 201);
    const all = await listAll(s, '/api/v1/tickets', {session: a});
    assert.equal(all.length, 4, 'the refused submission created nothing');
  });
});

describe('signed link', () => {
  test('the customer reads public messages only, never notes or agents\' HTML; bad links are 404', async () => {
    const t = await newTicket({subject: 'Link test', body: 'My question'});
    await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'SECRET internal note', kind: 'note'});
    await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Public answer', kind: 'reply', body_html: '<b>x</b>'});
    const sig = (await getTicket(t.id)).public_sig;
    assert.match(sig, /^[0-9a-f]{64}$/);
    const res = await pub('GET', `/api/v1/public/tickets/${t.number}?sig=${sig}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.reference, t.reference);
    assert.equal(res.json.status, 'open');
    assert.deepEqual(res.json.messages.map((m) => [m.kind, m.body]), [['customer', 'My question'], ['reply', 'Public answer']]);
    assert.ok(!res.text.includes('SECRET'), 'notes never leave');
    assert.ok(!('body_html' in res.json.messages[1]));
    assert.ok(!('id' in res.json.messages[1].author));
    const wrong = sig.slice(0, 63) + (sig[63] === '0' ? '1' : '0');
    for (const p of [`/api/v1/public/tickets/${t.number}?sig=${wrong}`, `/api/v1/public/tickets/${t.number}`,
      `/api/v1/public/tickets/${t.number}?sig=short`, `/api/v1/public/tickets/999999?sig=${sig}`,
      `/api/v1/public/tickets/${t.number + 1}?sig=${sig}`]) {
      assertError(await pub('GET', p), 404, 'not_found');
    }
  });

  test('a reply through the link reopens solved and closed tickets, lands in a merged ticket\'s target, needs the sig', async () => {
    for (const status of ['solved', 'closed', 'pending']) {
      const t = await newTicket();
      await api('PATCH', `/api/v1/tickets/${t.id}`, {status});
      const sig = (await getTicket(t.id)).public_sig;
      assertError(await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {body: 'x', sig: 'f'.repeat(64)}), 404, 'not_found');
      assertError(await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {body: 'x'}), 404, 'not_found');
      assertError(await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {sig}), 422, 'missing_field', 'body');
      const res = await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {body: 'Hâlâ gelmedi!', sig});
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.status, 'open', `${status} -> open`);
      const full = await getTicket(t.id);
      const last = full.messages.at(-1);
      assert.deepEqual([last.kind, last.body, last.author.type, last.author.id], ['customer', 'Hâlâ gelmedi!', 'customer', t.customer.id]);
      assert.ok(full.history.some((h) => h.field === 'status' && h.old === status && h.new === 'open'
        && h.actor === `customer:${t.customer.id}`));
      const ev = await listAll(server, `/api/v1/events?event=message.added&subject=ticket:${t.id}`, {session: admin});
      assert.equal(ev[0].payload.message.kind, 'customer');
    }
    // Merged into another customer's ticket: the reply lands there (by its real author), but the answer is the
    // view of the ticket the link names — its customer's own part, never the other customer's thread or reference.
    const target = await newTicket({body: 'OTHER CUSTOMER THREAD'});
    const source = await newTicket();
    const sig = (await getTicket(source.id)).public_sig;
    const merged = await api('POST', `/api/v1/tickets/${target.id}/merge`, {source_id: source.id, confirm_different_customers: true});
    assert.equal(merged.status, 200, merged.text);
    const view = await pub('GET', `/api/v1/public/tickets/${source.number}?sig=${sig}`);
    assert.ok(!('merged_into' in view.json) && !('merged_into_link' in view.json), 'nothing about another customer\'s ticket');
    assert.equal(view.json.status, 'new', 'the status of the thread it is part of now');
    assert.deepEqual(view.json.messages.map((m) => m.body), ['Body']);
    const res = await pub('POST', `/api/v1/public/tickets/${source.number}/messages`, {body: 'to the merged one', sig});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.reference, source.reference);
    assert.deepEqual(res.json.messages.map((m) => m.body), ['Body', 'to the merged one']);
    assert.ok(!res.text.includes('OTHER CUSTOMER THREAD') && !res.text.includes(target.reference),
      'the other customer\'s thread does not leak');
    const landed = (await getTicket(target.id)).messages.at(-1);
    assert.deepEqual([landed.body, landed.author.id], ['to the merged one', source.customer.id]);
    assert.equal((await getTicket(source.id)).status, 'closed');

    // The same customer's duplicate: the view links on to the target, and the answer is the target's view.
    const email = uniqueEmail('dup');
    const mine = await newTicket({customer: {email, name: 'D'}, body: 'first'});
    const dup = await newTicket({customer: {email, name: 'D'}, body: 'second'});
    const dsig = (await getTicket(dup.id)).public_sig;
    await api('POST', `/api/v1/tickets/${mine.id}/merge`, {source_id: dup.id});
    const dview = await pub('GET', `/api/v1/public/tickets/${dup.number}?sig=${dsig}`);
    assert.equal(dview.json.merged_into_link, `/t/${mine.number}?sig=${(await getTicket(mine.id)).public_sig}`);
    const dres = await pub('POST', `/api/v1/public/tickets/${dup.number}/messages`, {body: 'still here', sig: dsig});
    assert.equal(dres.status, 201, dres.text);
    assert.equal(dres.json.reference, mine.reference);
    assert.equal(dres.json.link, dview.json.merged_into_link);
    assert.deepEqual(dres.json.messages.map((m) => m.body), ['first', 'second', 'still here']);
  });
});

describe('search', () => {
  let kargo, isparta, siparis, other;
  before(async () => {
    kargo = await newTicket({subject: 'Kargo iade talebi', body: 'Ürünü geri göndermek istiyorum.'});
    isparta = await newTicket({subject: 'Teslimat', body: 'Paket Isparta şubesinde bekliyor <b>acil</b>'});
    siparis = await newTicket({subject: 'Soru', body: 'Siparişim ne zaman gelir?', customer: {email: uniqueEmail('s'), name: 'Şükrü Çağlar'}});
    other = await newTicket({subject: 'Fatura', body: 'Fatura adresi değişti, kargo ile ilgisi yok'});
    await api('POST', `/api/v1/tickets/${other.id}/messages`, {body: 'İade kodu gönderildi', kind: 'reply'});
  });
  const search = async (q, extra = '') => {
    const res = await api('GET', `/api/v1/tickets?q=${encodeURIComponent(q)}${extra}`);
    assert.equal(res.status, 200, `${q}: ${res.text}`);
    return res.json.items;
  };

  const cases = [
    ['kargo İADE', () => [kargo.id, other.id]],
    ['ISPARTA', () => [isparta.id]],
    ['isparta', () => [isparta.id]],
    ['siparis', () => [siparis.id]],
    ['SİPARİŞ', () => [siparis.id]],
    ['sukru caglar', () => [siparis.id]],
    ['urunu', () => [kargo.id]],
    ['gonder', () => [kargo.id, other.id]],
    ['hiçbiryerde', () => []],
  ];
  for (const [q, want] of cases) {
    test(`"${q}" finds what it should`, async () => {
      const ids = (await search(q)).map((t) => t.id);
      assert.deepEqual(ids.slice().sort(), want().slice().sort());
    });
  }

  test('ranked (a subject match first) with highlighted, escaped snippets on the original text', async () => {
    const items = await search('kargo iade');
    assert.equal(items[0].id, kargo.id, 'the subject hit ranks first');
    assert.deepEqual(items[0].search, {field: 'subject', snippet_html: '<mark>Kargo</mark> <mark>iade</mark> talebi'});
    const [hit] = await search('ISPARTA');
    assert.equal(hit.search.field, 'body');
    assert.equal(hit.search.snippet_html, 'Paket <mark>Isparta</mark> şubesinde bekliyor &lt;b&gt;acil&lt;/b&gt;');
    const [s] = await search('siparis');
    assert.match(s.search.snippet_html, /<mark>Siparişim<\/mark>/);
  });

  test('search combines with filters and pages with a cursor', async () => {
    assert.deepEqual((await search('kargo', '&status=open')).map((t) => t.id), [other.id]);
    const all = await listAll(server, '/api/v1/tickets?q=kargo', {session: admin, limit: 1});
    assert.deepEqual(all.map((t) => t.id).sort(), [kargo.id, other.id].sort());
  });

  test('query syntax is safe: FTS operators and quotes are just text', async () => {
    for (const q of ['"', '"kargo', 'kargo OR', 'NEAR(kargo iade)', 'kargo*', '-kargo', 'subject:kargo', '(', '^kargo',
      '***', 'AND', "'; DROP TABLE tkt_tickets; --", 'x'.repeat(400)]) {
      const res = await api('GET', `/api/v1/tickets?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, `${q}: ${res.text}`);
    }
    assert.deepEqual((await search('subject:kargo')).map((t) => t.id).sort(), [], 'column filters are not honoured');
    assert.ok((await search('kargo*')).some((t) => t.id === kargo.id));
  });

  test('the index follows changes: subject edits, replies, merges', async () => {
    const t = await newTicket({subject: 'Eski başlık'});
    await api('PATCH', `/api/v1/tickets/${t.id}`, {subject: 'Yepyeni başlık'});
    assert.deepEqual((await search('eski')).filter((x) => x.id === t.id), []);
    assert.ok((await search('yepyeni')).some((x) => x.id === t.id));
    await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Zımpara kağıdı', kind: 'note'});
    assert.ok((await search('zimpara kagidi')).some((x) => x.id === t.id));
    const src = await newTicket({subject: 'x', body: 'benzersizkelime'});
    const merged = await api('POST', `/api/v1/tickets/${t.id}/merge`, {source_id: src.id, confirm_different_customers: true});
    assert.equal(merged.status, 200, merged.text);
    assert.ok((await search('benzersizkelime')).some((x) => x.id === t.id));
  });
});
