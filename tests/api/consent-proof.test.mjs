// The consent proof document (issue 17, acceptance "a proof export"): for a contact, the ledger as a signed,
// timestamped text a lawyer can read (Turkish; English on request): every ONAY and RET per channel in Turkey time,
// source, text shown, address, IP, who recorded it, the derived state, erasure; signed with the server's ECDSA P-256
// key (signing time inside the signed part); the public key route; verification by route and CLI (on the server, and
// offline with the public key); a tampered copy fails.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, createUser, login, tempDir, assertError, runCli, sqlite3} from './lib.mjs';

let server, admin, agent, dir;
const EMAIL = `proof-${process.pid}@example.com`;

before(async () => {
  dir = tempDir();
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  const u = await createUser(server, admin, {role: 'agent', password: 'agent password 123'});
  agent = await login(server, u.email, 'agent password 123');
});

const api = (method, p, body, session = admin, opts = {}) => server.api(method, p, {session, body, ...opts});

async function newContact(email, phone) {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Merhaba', body: 'Bir sorum var.', channel: 'phone',
    customer: {email, phone, name: 'Zeynep Çelik'}}, agent);
  assert.equal(res.status, 201, res.text);
  return res.json.customer.id;
}

const verify = (doc) => api('POST', '/api/v1/consent/proof-verify', undefined, admin, {rawBody: doc, contentType: 'text/plain'});

describe('consent proof', () => {
  let id, doc;
  test('the document: every record in Turkey time with its proof fields, the derived state, a valid signature', async () => {
    id = await newContact(EMAIL, '0532 111 22 33');
    let res = await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'ONAY', source: 'web_form',
      ip: '203.0.113.7', at: '2026-01-15T09:30:00Z', text_shown: 'Kampanyalardan e-posta ile haberdar olmak istiyorum.\nİkinci satır.'}, agent);
    assert.equal(res.status, 201, res.text);
    res = await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'RET', source: 'call_centre',
      at: '2026-02-01T21:10:00Z'}, agent);
    assert.equal(res.status, 201, res.text);
    res = await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'sms', status: 'ONAY', source: 'checkout',
      ip: '198.51.100.4', at: '2026-01-20T08:00:00Z', text_shown: 'SMS ile kampanya almak istiyorum.'}, agent);
    assert.equal(res.status, 201, res.text);

    res = await api('GET', `/api/v1/contacts/${id}/consent/proof`, undefined, agent);
    assertError(res, 403);
    res = await api('GET', `/api/v1/contacts/${id}/consent/proof`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type'], /^text\/plain; charset=utf-8/);
    assert.match(res.headers['content-disposition'], /attachment/);
    doc = res.text;
    assert.match(doc, /TİCARİ ELEKTRONİK İLETİ İZİN KAYITLARI: KANIT BELGESİ/);
    assert.match(doc, /6563 sayılı/);
    assert.ok(doc.includes(EMAIL) && doc.includes('+905321112233') && doc.includes('Zeynep Çelik'));
    assert.match(doc, /15\.01\.2026 12:30:00 \(UTC\+03:00\)/, 'Turkey time');
    assert.match(doc, /02\.02\.2026 00:10:00 \(UTC\+03:00\)/, 'Turkey time on the next day');
    assert.match(doc, /Karar:\s+ONAY \(izin verildi\)/);
    assert.match(doc, /Karar:\s+RET/);
    assert.match(doc, /Kaynak:\s+Web formu/);
    assert.match(doc, /Kaynak:\s+Çağrı merkezi/);
    assert.match(doc, /IP adresi:\s+203\.0\.113\.7/);
    assert.match(doc, /Kaydeden:\s+kullanıcı #\d+ Test User/);
    assert.match(doc, /\| Kampanyalardan e-posta ile haberdar olmak istiyorum\.\n\s+\| İkinci satır\./, 'the text shown, every line');
    assert.match(doc, /E-posta\s+RET, 02\.02\.2026.*GÖNDERİLEMEZ/, 'the RET overrides the earlier ONAY');
    assert.match(doc, /SMS\s+ONAY, 20\.01\.2026.*gönderilebilir/);
    assert.match(doc, /WhatsApp\s+kayıt yok/);
    assert.match(doc, /İMZA HAKKINDA[\s\S]*ECDSA/);
    assert.match(doc, /Signed-At: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n[\s\S]*-----BEGIN DESTEK SIGNATURE-----/, 'the time is in the signed part');
    res = await verify(doc);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.valid, true, res.text);
    assert.equal(res.json.contact_id, id);
    assert.match(res.json.key_id, /^SHA256:[0-9a-f]{64}$/);
    const keys = await server.api('GET', '/api/v1/consent/proof-keys');
    assert.equal(keys.status, 200, 'public');
    assert.equal(keys.json.keys.length, 1);
    assert.equal(keys.json.keys[0].key_id, res.json.key_id);
    assert.match(keys.json.keys[0].public_key, /BEGIN PUBLIC KEY/);
    assert.ok(!JSON.stringify(keys.json).includes('PRIVATE'));
  });

  test('a changed character, a moved signature or another key fails; CRLF line ends still check', async () => {
    for (const bad of [
      doc.replace('203.0.113.7', '203.0.113.8'),
      doc.replace('RET (ret', 'ONAY (ret'),
      doc.replace(/Signed-At: (\d{4})/, (m, y) => `Signed-At: ${Number(y) - 1}`),
      doc.replace(/Signature: (\S)/, (m, c) => `Signature: ${c === 'A' ? 'B' : 'A'}`),
      doc.replace(/-----BEGIN DESTEK SIGNATURE-----[\s\S]*$/, ''),
    ]) {
      assert.notEqual(bad, doc);
      const res = await verify(bad);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.valid, false, bad.slice(-400));
      assert.ok(res.json.reason);
    }
    const res = await verify(doc.replace(/\n/g, '\r\n'));
    assert.equal(res.json.valid, true, res.text);
  });

  test('English on request; a second document is signed by the same key', async () => {
    const res = await api('GET', `/api/v1/contacts/${id}/consent/proof?lang=en`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /CONSENT RECORDS FOR COMMERCIAL ELECTRONIC MESSAGES: PROOF DOCUMENT/);
    assert.match(res.text, /Decision:\s+ONAY \(consent given\)/);
    assert.match(res.text, /Source:\s+Checkout/);
    assert.match(res.text, /ABOUT THE SIGNATURE/);
    const v = await verify(res.text);
    assert.equal(v.json.valid, true);
    assert.equal(v.json.key_id, /Key-Id: (\S+)/.exec(doc)[1]);
  });

  test('an erased person: the proof keeps each ONAY and RET without the address and IP', async () => {
    const email = `proof-erase-${process.pid}@example.com`;
    const eid = await newContact(email);
    await api('POST', `/api/v1/contacts/${eid}/consent`, {channel: 'email', status: 'ONAY', source: 'web_form', ip: '192.0.2.55',
      text_shown: 'E-posta ile kampanya.'}, agent);
    await api('POST', `/api/v1/contacts/${eid}/consent`, {channel: 'email', status: 'RET', source: 'reply'}, agent);
    let res = await api('POST', `/api/v1/contacts/${eid}/erase`, {confirm_id: eid});
    assert.equal(res.status, 200, res.text);
    res = await api('GET', `/api/v1/contacts/${eid}/consent/proof`);
    assert.equal(res.status, 200, res.text);
    assert.ok(!res.text.includes(email) && !res.text.includes('192.0.2.55'), 'nothing identifying');
    assert.match(res.text, /KVKK \(6698 sayılı Kanun\) kapsamındaki talep üzerine silindi/);
    assert.equal((res.text.match(/Adres, IP:\s+KVKK kapsamında silindi/g) || []).length, 2);
    assert.match(res.text, /E-posta\s+RET.*GÖNDERİLEMEZ/);
    assert.equal((await verify(res.text)).json.valid, true);
    assertError(await api('GET', '/api/v1/contacts/999999/consent/proof'), 404, 'not_found');
  });

  test('the core\'s state cache (core_consent_state) follows the ledger: latest wins, RET wins a tie, merges', async () => {
    const db = path.join(dir, 'destek.db');
    const state = (cid, ch) => sqlite3(db, `SELECT status FROM core_consent_state WHERE contact_id = ${cid} AND channel = '${ch}'`).stdout.trim();
    const a = await newContact(`state-a-${process.pid}@example.com`);
    const b = await newContact(`state-b-${process.pid}@example.com`);
    const rec = (cid, status, at) => api('POST', `/api/v1/contacts/${cid}/consent`, {channel: 'email', status, source: 'call_centre',
      at, text_shown: 'E-posta ile kampanya.'}, agent);
    assert.equal((await rec(a, 'ONAY', '2026-03-01T10:00:00Z')).status, 201);
    assert.equal(state(a, 'email'), 'ONAY');
    assert.equal((await rec(a, 'RET', '2026-02-01T10:00:00Z')).status, 201);
    assert.equal(state(a, 'email'), 'ONAY', 'an older RET does not override a later ONAY');
    assert.equal((await rec(a, 'RET', '2026-03-01T10:00:00Z')).status, 201);
    assert.equal(state(a, 'email'), 'RET', 'a RET wins a tie');
    assert.equal((await rec(a, 'ONAY', '2026-03-01T10:00:00Z')).status, 201);
    assert.equal(state(a, 'email'), 'RET', 'an ONAY at the same time does not beat the RET');
    assert.equal((await rec(b, 'ONAY', '2026-04-01T10:00:00Z')).status, 201);
    const m = await api('POST', `/api/v1/contacts/${a}/merge`, {source_id: b}, agent);
    assert.equal(m.status, 200, m.text);
    assert.equal(state(a, 'email'), 'ONAY', 'the merged contact\'s later ONAY counts as the survivor\'s');
    const derived = (await api('GET', `/api/v1/contacts/${a}/consent`, undefined, agent)).json.state.email.status;
    assert.equal(derived, 'ONAY');
  });

  test('CLI: destek consent proof (through the running server), key, verify on the server and offline with the key', async () => {
    let r = await runCli(['consent', 'proof', EMAIL, '--data', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /KANIT BELGESİ/);
    const file = path.join(dir, 'kanit.txt');
    fs.writeFileSync(file, r.stdout);
    r = await runCli(['consent', 'verify', file, '--data', dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /GEÇERLİ \/ VALID/);
    r = await runCli(['consent', 'key', '--data', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /BEGIN PUBLIC KEY/);
    const pem = path.join(dir, 'key.pem');
    fs.writeFileSync(pem, r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
    const other = tempDir('destek-cli-');   // offline: no data directory, only the public key
    r = await runCli(['consent', 'verify', file, '--key', pem], {cwd: other});
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const bad = path.join(dir, 'kanit-degistirilmis.txt');
    fs.writeFileSync(bad, fs.readFileSync(file, 'utf8').replace('Zeynep', 'Zeynap'));
    r = await runCli(['consent', 'verify', bad, '--key', pem], {cwd: other});
    assert.equal(r.code, 1);
    assert.match(r.stdout, /GEÇERSİZ \/ NOT VALID: the signature does not match/);
    r = await runCli(['consent', 'verify', bad, '--data', dir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    r = await runCli(['consent', 'proof', 'nobody@example.com', '--data', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no contact/);
  });
});
