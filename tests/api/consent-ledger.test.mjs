// The consent ledger in the core (issue 17, core part): per contact and channel, every ONAY and RET with its time
// (Turkey time shown), source, the text shown, address, IP and who recorded it; the state derived (a RET overrides an
// earlier ONAY); append-only against the API, against direct SQL (the sqlite3 shell: the triggers) and against a
// hostile Lua plugin (the authorizer); the KVKK export holds it; erasure keeps a non-identifying proof.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, startServer, setupAdmin, createUser, login, tempDir, assertError, sqlite3} from './lib.mjs';

let server, admin, agent, db;
const EMAIL = `ayse.yilmaz-${process.pid}@example.com`;

before(async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'plugins'));
  fs.copyFileSync(path.join(ROOT, 'tests/lua/hostile_consent.lua'), path.join(dir, 'plugins/hostile_consent.lua'));
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  const u = await createUser(server, admin, {role: 'agent', password: 'agent password 123'});
  agent = await login(server, u.email, 'agent password 123');
  db = path.join(dir, 'destek.db');
});

const api = (method, p, body, session = agent) => server.api(method, p, {session, body});

async function newContact(email, phone) {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Merhaba', body: 'Bir sorum var.', channel: 'phone',
    customer: {email, phone, name: 'Ayşe Yılmaz'}});
  assert.equal(res.status, 201, res.text);
  return res.json.customer.id;
}

const ONAY = {channel: 'email', status: 'ONAY', source: 'web_form', ip: '203.0.113.7',
  text_shown: 'Kampanya ve indirimlerden e-posta ile haberdar olmak istiyorum.'};

describe('consent ledger', () => {
  test('records ONAY and RET; the state is derived; Turkey time is shown', async () => {
    const id = await newContact(EMAIL, '0532 765 43 21');
    let res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.items, []);
    assert.equal(res.json.state.email, null);

    res = await api('POST', `/api/v1/contacts/${id}/consent`, {...ONAY, at: '2026-01-15T09:30:00Z'});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.address, EMAIL, 'the address defaults to the contact\'s e-mail');
    assert.equal(res.json.ip, '203.0.113.7');
    assert.equal(res.json.at_tr, '15.01.2026 12:30:00 (UTC+03:00)');
    assert.match(res.json.recorded_by, /^user:\d+$/);
    res = await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'sms', status: 'ONAY', source: 'checkout',
      text_shown: 'SMS ile kampanya bilgisi almak istiyorum.'});
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.address, '+905327654321');

    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.state.email.status, 'ONAY');
    assert.equal(res.json.state.email.may_send_commercial, true);
    assert.equal(res.json.state.sms.status, 'ONAY');
    assert.equal(res.json.state.call, null);

    // A RET overrides the earlier ONAY; an older ONAY imported afterwards does not bring it back.
    res = await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'RET', source: 'reply'});
    assert.equal(res.status, 201, res.text);
    res = await api('POST', `/api/v1/contacts/${id}/consent`, {...ONAY, source: 'import', at: '2025-06-01T00:00:00Z'});
    assert.equal(res.status, 201, res.text);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.state.email.status, 'RET');
    assert.equal(res.json.state.email.may_send_commercial, false);
    assert.equal(res.json.items.length, 4);
    assert.deepEqual(res.json.items.map((i) => i.status), ['ONAY', 'ONAY', 'ONAY', 'RET'], 'oldest first by time given');

    // A new ONAY given later grants again (times are to the second; a RET wins a tie).
    await new Promise((r) => setTimeout(r, 1100));
    res = await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.state.email.status, 'ONAY');
  });

  test('validation: 4xx, nothing written', async () => {
    const id = await newContact(`v-${process.pid}@example.com`);
    const bad = [
      [{...ONAY, channel: 'fax'}, 422, 'channel'],
      [{...ONAY, status: 'MAYBE'}, 422, 'status'],
      [{...ONAY, source: 'guess'}, 422, 'source'],
      [{...ONAY, text_shown: undefined}, 422, 'text_shown'],
      [{...ONAY, at: 'yesterday'}, 422, 'at'],
      [{...ONAY, at: '2999-01-01T00:00:00Z'}, 422, 'at'],
      [{...ONAY, address: 'not an address'}, 422, 'address'],
      [{...ONAY, ip: '<script>'}, 422, 'ip'],
    ];
    for (const [body, status, field] of bad) {
      const res = await api('POST', `/api/v1/contacts/${id}/consent`, body);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.error.field, field, res.text);
    }
    let res = await api('POST', '/api/v1/contacts/999999/consent', ONAY);
    assertError(res, 404, 'not_found');
    res = await api('GET', '/api/v1/contacts/999999/consent');
    assertError(res, 404, 'not_found');
    res = await server.api('GET', `/api/v1/contacts/${id}/consent`, {});
    assert.equal(res.status, 401);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.items.length, 0);
  });

  test('append-only: direct SQL is refused by the triggers, a Lua plugin by the authorizer', async () => {
    const id = await newContact(`sql-${process.pid}@example.com`);
    let res = await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    assert.equal(res.status, 201);
    for (const sql of [`UPDATE core_consent SET status = 'RET' WHERE contact_id = ${id}`,
      `UPDATE core_consent SET address = NULL, ip = NULL, erased_at = 'x' WHERE contact_id = ${id}`,
      `DELETE FROM core_consent WHERE contact_id = ${id}`]) {
      const r = sqlite3(db, sql);
      assert.notEqual(r.code, 0, sql);
      assert.match(r.stderr, /append-only/, sql);
    }
    res = await server.api('POST', '/hostile-consent/sql', {body: {}});
    assert.equal(res.status, 200, res.text);
    for (const r of res.json.results) {
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.match(r.err, /may write to only its own tables|may not|append-only/, r.err);
    }
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.items.length, 1);
    assert.equal(res.json.items[0].status, 'ONAY');
    assert.equal(sqlite3(db, "SELECT count(*) FROM core_messages WHERE sender <> 'core'").stdout.trim(), '0');
    // A plugin that records consent is named as who recorded it.
    res = await server.api('POST', '/hostile-consent/grant', {body: {contact_id: id}});
    assert.equal(res.status, 200, res.text);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.items[1].recorded_by, 'plugin:hostile_consent');
  });

  test('the KVKK export holds the ledger; erasure keeps a non-identifying proof of the RET', async () => {
    const email = `erase-${process.pid}@example.com`;
    const id = await newContact(email);
    await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    let res = await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'RET',
      source: 'call_centre', ip: '198.51.100.9'});
    assert.equal(res.status, 201);
    res = await api('GET', `/api/v1/contacts/${id}/export?format=json`, undefined, admin);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.consent.length, 2);
    assert.equal(res.json.consent[1].status, 'RET');
    assert.equal(res.json.consent[1].address, email);
    res = await api('POST', `/api/v1/contacts/${id}/erase`, {confirm_id: id}, admin);
    assert.equal(res.status, 200, res.text);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.items.length, 2, 'the records stay');
    const ret = res.json.items[1];
    assert.equal(ret.status, 'RET');
    assert.equal(ret.channel, 'email');
    assert.equal(ret.source, 'call_centre');
    assert.equal(ret.address, null);
    assert.equal(ret.ip, null);
    assert.ok(ret.erased_at);
    assert.equal(res.json.state.email.status, 'RET');
    const dump = sqlite3(db, `SELECT * FROM core_consent WHERE contact_id = ${id}`).stdout;
    assert.ok(!dump.includes(email) && !dump.includes('198.51.100.9'), dump);
    // Even after erasure, nothing more may change.
    const r = sqlite3(db, `DELETE FROM core_consent WHERE contact_id = ${id}`);
    assert.match(r.stderr, /append-only/);
    res = await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    assertError(res, 409, 'contact_erased');
  });

  test('consent events are emitted', async () => {
    const id = await newContact(`ev-${process.pid}@example.com`);
    await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'RET', source: 'reply'});
    const out = sqlite3(db, `SELECT event FROM core_outbox WHERE subject = 'contact:${id}' AND event LIKE 'consent.%' ORDER BY id`);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(out.stdout.trim().split('\n'), ['consent.granted', 'consent.revoked']);
  });
});
