// Upgrading a desk written before contacts moved to the core (fixtures/before-contacts.sql, made by the main binary
// of that time): every customer becomes the contact with the same id, e-mail and phone its identities (the phone
// now in E.164), tickets and messages keep pointing at them, tkt_customers is gone, foreign keys hold, and the
// API answers as before.
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {startServer, login, listAll, tempDir, ADMIN_PASSWORD, sqlite3, ROOT} from './lib.mjs';

describe('upgrade to core contacts', () => {
  test('customers of an old desk become contacts with their ids; the API answers as before', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o700);
    const db = path.join(dir, 'destek.db');
    const load = spawnSync('sqlite3', [db], {input: fs.readFileSync(path.join(ROOT, 'tests/api/fixtures/before-contacts.sql'))});
    assert.equal(load.status, 0, String(load.stderr));
    let server = await startServer({dataDir: dir});
    let admin = await login(server, 'admin@example.com', ADMIN_PASSWORD);
    const api = (method, p, body) => server.api(method, p, {session: admin, body});

    const list = await listAll(server, '/api/v1/customers', {session: admin});
    assert.deepEqual(list.map((c) => [c.id, c.name, c.email, c.phone, c.lang]), [
      [4, 'John Smith', 'john@example.com', null, 'en'],
      [2, 'Ali Veli', 'ali@example.com', '+905550001122', 'tr'],
      [1, 'Zeynep Demir', 'zeynep.demir@example.com', '+905321112233', 'tr'],
    ]);
    let res = await api('GET', '/api/v1/customers/3');
    assert.equal(res.json.merged_into, 2);
    res = await api('GET', '/api/v1/customers/2');
    assert.deepEqual(res.json.tickets.map((t) => t.id).sort(), [2, 3]);
    res = await api('GET', '/api/v1/contacts/1');
    assert.deepEqual(res.json.identities.map((i) => [i.kind, i.value]), [['email', 'zeynep.demir@example.com'], ['phone', '+905321112233']]);
    res = await api('GET', '/api/v1/tickets/2');
    assert.equal(res.json.customer.name, 'Ali Veli');
    assert.equal(res.json.messages[0].attachments[0].filename, 'foto.png');
    assert.deepEqual((await listAll(server, '/api/v1/tickets?q=zeynep', {session: admin})).map((t) => t.id), [1]);

    // Old numbers, written any way, find their person; new people get new ids.
    res = await api('POST', '/api/v1/tickets', {subject: 's', body: 'b', customer: {phone: '0532 111 22 33'}});
    assert.equal(res.json.customer.id, 1);
    res = await api('POST', '/api/v1/tickets', {subject: 's', body: 'b', customer: {email: 'ALI@example.com'}});
    assert.equal(res.json.customer.id, 2);
    res = await api('POST', '/api/v1/tickets', {subject: 's', body: 'b', customer: {email: 'yeni@example.com', name: 'Yeni'}});
    assert.equal(res.json.customer.id, 5);
    await server.stop();

    // The schema: recorded, no old table, foreign keys hold; a restart applies nothing again.
    const q = (sql) => sqlite3(db, sql).stdout.trim();
    // The steps of the move are recorded (later steps may follow them: the latest version is not this test's business).
    assert.equal(q("SELECT group_concat(owner || ':' || version) FROM schema_migrations WHERE (owner = 'core' AND version = 7)" +
      " OR (owner = 'ticketing' AND version = 18)"), 'core:7,ticketing:18');
    assert.equal(q("SELECT count(*) FROM sqlite_master WHERE name = 'tkt_customers'"), '0');
    assert.equal(q('PRAGMA foreign_key_check'), '');
    assert.match(q("SELECT sql FROM sqlite_master WHERE name = 'tkt_tickets'"), /customer_id\s+INTEGER NOT NULL REFERENCES core_contacts\(id\)/);
    // core 008, ticketing 021 and orders 004 rewrote the hot tables' CHECKs as comparisons (an IN list of 3+ constants builds a
    // temporary index per row): no such list is left on them, every row and id came through, and the rules still hold.
    for (const t of ['tkt_tickets', 'tkt_messages', 'core_deliveries', 'core_contact_identities', 'orders_orders',
      'orders_shipments', 'orders_deliveries', 'orders_ticket_links'])
      assert.doesNotMatch(q(`SELECT sql FROM sqlite_master WHERE name = '${t}'`), /CHECK \(\w+ IN \(/, t);
    assert.equal(q('SELECT count(*) FROM tkt_tickets'), '7');   // the fixture's 4 and the 3 above
    assert.equal(q("SELECT count(*) FROM sqlite_master WHERE name IN ('tkt_tickets_status', 'tkt_messages_ticket'," +
      " 'core_deliveries_due', 'core_contact_identities_contact')"), '4');
    const bad = sqlite3(db, "UPDATE tkt_tickets SET status = 'lost' WHERE id = 1");
    assert.match(bad.stderr, /CHECK constraint failed/);
    assert.match(sqlite3(db, "INSERT INTO core_contact_identities(contact_id, kind, value, created_at)" +
      " VALUES (1, 'fax', 'x', 'now')").stderr, /CHECK constraint failed/);
    server = await startServer({dataDir: dir});
    admin = await login(server, 'admin@example.com', ADMIN_PASSWORD);
    assert.equal((await server.api('GET', '/api/v1/customers/1', {session: admin})).json.tickets.length, 2);
    await server.stop();
  });
});
