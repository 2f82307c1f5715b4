// The list's "who spoke last" (last_message: {from, at, excerpt} of the last public message) is kept on the ticket
// row (ticketing migration 028) instead of being read from the messages for every list row. Each way a thread
// changes keeps it equal to what the thread shows: a new ticket, replies, notes (not counted), a customer's message,
// a ticket merge (both sides), a contact merge, a KVKK erasure (the excerpt loses the erased words), and an old
// desk upgraded (the backfill).
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {startServer, setupAdmin, login, listAll, tempDir, ADMIN_PASSWORD, ROOT, disableOutOfHoursReply} from './lib.mjs';

let server, admin;
const api = (method, p, body) => server.api(method, p, {session: admin, body});

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
});
after(() => server?.stop());

// What the thread says the last public message is (SQLite's substr counts characters, not UTF-16 units).
function expected(detail) {
  const pub = detail.messages.filter((m) => m.kind !== 'note');
  if (!pub.length) return null;
  const m = pub.reduce((a, b) => (b.id > a.id ? b : a));
  const from = m.author?.type === 'customer' ? 'customer' : m.author?.type === 'user' ? 'agent' : 'system';
  return {from, at: m.created_at, excerpt: Array.from(m.body).slice(0, 160).join('')};
}

// The detail's and the list item's last_message both equal the thread's; returns it.
async function check(srv, session, id, what) {
  const res = await srv.api('GET', `/api/v1/tickets/${id}`, {session});
  assert.equal(res.status, 200, res.text);
  const want = expected(res.json);
  assert.deepEqual(res.json.last_message, want, `${what}: detail of #${id}`);
  const items = await listAll(srv, '/api/v1/tickets', {session});
  const item = items.find((t) => t.id === id);
  if (item) assert.deepEqual(item.last_message, want, `${what}: list item of #${id}`);
  return want;
}

const create = async (email, body, name = 'Müşteri') => {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Kargo', body, customer: {email, name}, channel: 'web'});
  assert.equal(res.status, 201, res.text);
  return res.json;
};
// An agent's reply or note, or (kind 'customer') the customer's message through their signed link.
const say = async (id, kind, body) => {
  let res;
  if (kind === 'customer') {
    const t = (await api('GET', `/api/v1/tickets/${id}`)).json;
    res = await server.api('POST', `/api/v1/public/tickets/${t.number}/messages`, {body: {sig: t.public_sig, body}});
  } else {
    res = await api('POST', `/api/v1/tickets/${id}/messages`, {kind, body});
  }
  assert.equal(res.status, 201, res.text);
};

describe('last_message kept on the ticket row', () => {
  test('new ticket, replies, notes, a customer message, a long Turkish body', async () => {
    const t = await create(`lm1-${process.pid}@example.com`, 'Merhaba, siparişim gelmedi.');
    assert.equal((await check(server, admin, t.id, 'created')).from, 'customer');
    assert.deepEqual(t.last_message, await check(server, admin, t.id, 'the 201 answers it too'));
    await say(t.id, 'reply', 'Kargoya verildi, yarın sizde.');
    assert.equal((await check(server, admin, t.id, 'reply')).from, 'agent');
    await say(t.id, 'note', 'İç not: müşteri aradı.');
    assert.equal((await check(server, admin, t.id, 'a note changes nothing')).excerpt, 'Kargoya verildi, yarın sizde.');
    const long = 'İğüşöçı '.repeat(40) + '\nikinci satır';
    await say(t.id, 'customer', long);
    const last = await check(server, admin, t.id, 'customer, long');
    assert.equal(last.from, 'customer');
    assert.equal(Array.from(last.excerpt).length, 160);
  });

  test('merging tickets: the target shows the later of both threads, the source what is left on it', async () => {
    const email = `lm2-${process.pid}@example.com`;
    const a = await create(email, 'İlk talep: iade istiyorum.');
    const b = await create(email, 'İkinci talep: kargo nerede?');
    await say(a.id, 'reply', 'İade etiketiniz ekte.'); // a's reply is now the latest public message of both
    let res = await api('POST', `/api/v1/tickets/${b.id}/merge`, {source_id: a.id});
    assert.equal(res.status, 200, res.text);
    assert.equal((await check(server, admin, b.id, 'merge target')).excerpt, 'İade etiketiniz ekte.');
    await check(server, admin, a.id, 'merge source');
    await say(b.id, 'customer', 'Teşekkürler!');
    assert.equal((await check(server, admin, b.id, 'after the merge')).excerpt, 'Teşekkürler!');
  });

  test('a contact merge and a KVKK erasure keep it right; the erased words leave the excerpt', async () => {
    const a = await create(`lm3-${process.pid}@example.com`, 'Adım Zümrüt Yıldırımoğlu, telefonum 0555 111 22 33.', 'Zümrüt Yıldırımoğlu');
    const b = await create(`lm4-${process.pid}@example.com`, 'Ben yine Zümrüt Yıldırımoğlu.', 'Zümrüt Y.');
    let res = await api('POST', `/api/v1/contacts/${a.customer.id}/merge`, {source_id: b.customer.id});
    assert.equal(res.status, 200, res.text);
    await check(server, admin, b.id, 'contact merge');
    res = await api('POST', `/api/v1/contacts/${a.customer.id}/erase`, {confirm_id: a.customer.id});
    assert.equal(res.status, 200, res.text);
    for (const t of [a, b]) {
      const last = await check(server, admin, t.id, 'erasure');
      assert.equal(last.from, 'customer');
      assert.doesNotMatch(last.excerpt, /Zümrüt|Yıldırımoğlu/, `#${t.id} excerpt still names the erased person`);
    }
  });

  test('an old desk upgraded: every ticket gets its last_message from its thread (backfill)', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o700);
    const load = spawnSync('sqlite3', [path.join(dir, 'destek.db')],
      {input: fs.readFileSync(path.join(ROOT, 'tests/api/fixtures/before-contacts.sql'))});
    assert.equal(load.status, 0, String(load.stderr));
    const old = await startServer({dataDir: dir});
    try {
      const session = await login(old, 'admin@example.com', ADMIN_PASSWORD);
      const items = await listAll(old, '/api/v1/tickets', {session});
      assert.ok(items.length >= 3);
      let with_message = 0;
      for (const t of items) if (await check(old, session, t.id, 'backfill')) with_message++;
      assert.ok(with_message >= 3, 'the fixture\'s tickets have public messages');
    } finally {
      await old.stop();
    }
  });
});
