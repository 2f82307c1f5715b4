// Contacts in the core (issue 10): one person across e-mail and phone, and the KVKK rights end to end. A person
// with a Turkish name writes by the web form (with a file), by mail and by phone; an admin exports everything held
// about them (a ZIP checked with unzip -t and Python's zipfile, and JSON), then erases them: afterwards no search
// for their name (any case, with or without Turkish letters), e-mail or phone finds anything, the lists count the
// same, their files are gone and the audit log has who erased whom, without the erased data.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {spawnSync} from 'node:child_process';
import {startServer, setupAdmin, createUser, login, listAll, runCli, tempDir, assertError, auditAll, eventually,
  disableOutOfHoursReply} from './lib.mjs';

let server, admin, agent;
const NAME = 'Şükrü Işıkoğlu';
const EMAIL = `sukru.isikoglu-${process.pid}@example.com`;
const PHONE = '0532 123 45 67';
const E164 = '+905321234567';

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const u = await createUser(server, admin, {role: 'agent', password: 'agent password 123'});
  agent = await login(server, u.email, 'agent password 123');
  const set = await api('PATCH', '/api/v1/settings', {'ticketing.public_form_limit': 1000});
  assert.equal(set.status, 200, set.text);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const search = async (q) => listAll(server, `/api/v1/tickets?q=${encodeURIComponent(q)}`, {session: agent});
const customers = async (q) => listAll(server, `/api/v1/customers${q ? `?q=${encodeURIComponent(q)}` : ''}`, {session: agent});

function zipEntries(buf) {
  const dir = tempDir('destek-zip-');
  const file = path.join(dir, 'export.zip');
  fs.writeFileSync(file, buf);
  const t = spawnSync('unzip', ['-t', file], {encoding: 'utf8'});
  assert.equal(t.status, 0, `unzip -t: ${t.stdout} ${t.stderr}`);
  const py = spawnSync('python3', ['-c', `
import json, sys, zipfile, base64
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: base64.b64encode(z.read(i)).decode() for i in z.infolist()}))`, file], {encoding: 'utf8'});
  assert.equal(py.status, 0, py.stderr);
  return Object.fromEntries(Object.entries(JSON.parse(py.stdout)).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

describe('contacts: one person, export and erasure (KVKK)', () => {
  test('web form, mail and phone are one contact; export holds it all; erasure leaves nothing to find', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
    // The web form, with a file.
    let res = await server.api('POST', '/api/v1/public/tickets', {body: {name: NAME, email: EMAIL.toUpperCase(),
      subject: `Şükrü Işıkoğlu: iade talebi`, lang: 'tr',
      body: `Merhaba, ben ${NAME}. Telefonum ${PHONE}, e-postam ${EMAIL}.`,
      attachments: [{filename: 'fatura-şükrü.png', content_type: 'image/png', data_base64: png.toString('base64')}]}});
    assert.equal(res.status, 201, res.text);
    const all0 = await listAll(server, '/api/v1/tickets', {session: agent});
    const web = all0.find((t) => t.reference === res.json.reference);
    // By phone, through the API: the agent notes the e-mail and the number (which the contact gains).
    res = await api('POST', '/api/v1/tickets', {subject: 'ŞÜKRÜ IŞIKOĞLU aradı', body: 'Kargo nerede? Numarası +90 (532) 123-4567.',
      channel: 'phone', customer: {email: EMAIL, phone: '+90 532 123 45 67', name: NAME}}, agent);
    assert.equal(res.status, 201, res.text);
    const phoned = res.json;
    assert.equal(phoned.customer.id, web.customer.id, 'the e-mail finds the same person');
    assert.equal(phoned.customer.phone, E164);
    res = await api('POST', '/api/v1/tickets', {subject: 'Tekrar aradı', body: 'Yine kargo.', channel: 'phone',
      customer: {phone: PHONE}}, agent);
    assert.equal(res.json.customer.id, web.customer.id, 'the number alone, written another way, finds them too');
    const phoned2 = res.json;
    // By mail.
    const raw = Buffer.from([`From: "${NAME}" <${EMAIL}>`, 'To: destek@shop.example', 'Subject: Siparişim hakkında',
      `Message-ID: <kvkk-${process.pid}@customer.example>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit', '', `Sevgiler,\r\nsukru isikoglu\r\n${PHONE}`, ''].join('\r\n'));
    const imp = await runCli(['mail', 'import', '--data', server.dataDir], {input: raw});
    assert.equal(imp.code, 0, imp.stderr);
    const mailed = JSON.parse(imp.stdout.trim().split('\n').pop());
    res = await api('GET', `/api/v1/tickets/${mailed.ticket_id}`, undefined, agent);
    const id = res.json.customer.id;
    assert.equal(id, web.customer.id, 'mail from the address is the same person');
    // An agent answers, naming them; someone else writes too.
    res = await api('POST', `/api/v1/tickets/${phoned.id}/messages`, {kind: 'reply', body: 'Şükrü Bey merhaba, kargonuz yolda.'}, agent);
    assert.equal(res.status, 201, res.text);
    res = await api('POST', '/api/v1/tickets', {subject: 'Ayşe Kaya iade', body: 'Ayşe Kaya yazıyor',
      customer: {email: `ayse-${process.pid}@example.com`, name: 'Ayşe Kaya'}}, agent);
    assert.equal(res.status, 201, res.text);

    // The contact in the core: both identities, normalised.
    res = await api('GET', `/api/v1/contacts/${id}`, undefined, agent);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, NAME);
    assert.deepEqual(res.json.identities.map((i) => [i.kind, i.value]).sort(), [['email', EMAIL], ['phone', E164]]);

    // Before: what search finds, and the counts.
    assert.ok((await search('şükrü')).length >= 2);
    assert.ok((await customers('Şükrü')).some((c) => c.id === id));
    assert.deepEqual((await customers(PHONE)).map((c) => c.id), [id], 'a number as people write it finds the person');
    const ticketsBefore = (await listAll(server, '/api/v1/tickets', {session: agent})).length;
    const customersBefore = (await customers()).length;
    const attachment = (await api('GET', `/api/v1/tickets/${web.id}`, undefined, agent)).json.messages
      .flatMap((m) => m.attachments || [])[0];
    assert.ok(attachment, 'the form\'s file is on the ticket');

    // Export: admins only, audited; a ZIP with contact.json and the file, and the same as JSON.
    assertError(await api('GET', `/api/v1/contacts/${id}/export`, undefined, agent), 403);
    assertError(await api('GET', '/api/v1/contacts/999999/export'), 404, 'not_found');
    assertError(await api('GET', `/api/v1/contacts/${id}/export?format=xml`), 422, 'invalid_field', 'format');
    res = await api('GET', `/api/v1/contacts/${id}/export`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'application/zip');
    assert.match(res.headers['content-disposition'], new RegExp(`attachment; filename="contact-${id}.zip"`));
    const entries = zipEntries(res.body);
    const doc = JSON.parse(entries['contact.json'].toString('utf8'));
    assert.equal(doc.contact.name, NAME);
    assert.deepEqual(doc.contact.identities.map((i) => i.value).sort(), [E164, EMAIL].sort());
    const tk = doc.modules.ticketing;
    assert.deepEqual(tk.tickets.map((t) => t.id).sort(), [web.id, phoned.id, phoned2.id, mailed.ticket_id].sort());
    assert.ok(tk.messages.some((m) => m.body.includes('Şükrü Bey')), 'the agents\' replies are there');
    assert.equal(tk.attachments.length, 1);
    const file = tk.attachments[0].file;
    assert.match(file, /^ticketing\/attachments\/\d+\/fatura-şükrü\.png$/);
    assert.deepEqual(entries[file], png, 'the file itself, byte for byte');
    assert.deepEqual(doc.files.map((f) => f.path), [file]);
    res = await api('GET', `/api/v1/contacts/${id}/export?format=json`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.modules.ticketing.tickets.length, 4);
    assert.equal(res.json.files[0].size, png.length);

    // Erase: admins only, with the id confirmed.
    assertError(await api('POST', `/api/v1/contacts/${id}/erase`, {confirm_id: id}, agent), 403);
    assertError(await api('POST', `/api/v1/contacts/${id}/erase`, {}), 422, 'missing_field', 'confirm_id');
    assertError(await api('POST', `/api/v1/contacts/${id}/erase`, {confirm_id: id + 1}), 422, 'invalid_field', 'confirm_id');
    assertError(await api('POST', '/api/v1/contacts/999999/erase', {confirm_id: 999999}), 404, 'not_found');
    assert.equal((await api('GET', `/api/v1/contacts/${id}`)).json.name, NAME, 'refusals changed nothing');
    res = await api('POST', `/api/v1/contacts/${id}/erase`, {confirm_id: id});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, `Silinmiş kişi #${id}`);
    assert.deepEqual(res.json.identities, []);
    assert.equal(res.json.email, null);
    assert.equal(res.json.phone, null);
    assert.ok(res.json.erased_at);
    assertError(await api('POST', `/api/v1/contacts/${id}/erase`, {confirm_id: id}), 409, 'already_erased');

    // Nothing to find, by name in any case or spelling, by e-mail or by phone, in tickets or customers.
    for (const q of [NAME, 'şükrü', 'ŞÜKRÜ', 'Sukru', 'sukru isikoglu', 'IŞIKOĞLU', 'ışıkoğlu', 'Isikoglu', EMAIL,
      EMAIL.toUpperCase(), 'sukru.isikoglu', E164, PHONE, '05321234567', '532 123 45 67', '5321234567']) {
      assert.deepEqual((await search(q)).map((t) => t.reference), [], `ticket search for ${q}`);
      assert.deepEqual((await customers(q)).map((c) => c.id), [], `customer search for ${q}`);
    }
    assert.equal((await search('Ayşe Kaya')).length, 1, 'others are still found');
    // The same counts; the tickets stay, anonymised.
    assert.equal((await listAll(server, '/api/v1/tickets', {session: agent})).length, ticketsBefore);
    assert.equal((await customers()).length, customersBefore);
    for (const t of [web.id, phoned.id, phoned2.id, mailed.ticket_id]) {
      const text = (await api('GET', `/api/v1/tickets/${t}`, undefined, agent)).text;
      for (const s of ['Şükrü', 'ŞÜKRÜ', 'Işıkoğlu', 'sukru', 'isikoglu', EMAIL, '0532 123 45 67', '123-4567', '5321234567'])
        assert.ok(!text.includes(s), `ticket ${t} still holds ${s}`);
    }
    assert.equal((await api('GET', `/api/v1/tickets/${web.id}`, undefined, agent)).json.customer.name, `Silinmiş kişi #${id}`);
    // Their file is gone (the row at once, the file with the next sweep).
    assertError(await api('GET', attachment.url, undefined, agent), 404);
    const files = () => fs.readdirSync(path.join(server.dataDir, 'attachments')).filter((f) => !f.startsWith('.'));
    await eventually(files, (f) => f.length === 0, {ms: 20000});
    // The export now holds only the anonymised person.
    const after = (await api('GET', `/api/v1/contacts/${id}/export?format=json`)).text;
    for (const s of ['Şükrü', 'Işıkoğlu', EMAIL, E164]) assert.ok(!after.includes(s), `the export still holds ${s}`);
    // The audit trail: who exported and erased whom, without the data.
    const audit = await auditAll(server, admin);
    const erased = audit.filter((a) => a.action === 'contact.erased');
    assert.equal(erased.length, 1);
    assert.equal(erased[0].target, `contact:${id}`);
    assert.equal(erased[0].actor, admin.email);
    assert.ok(audit.some((a) => a.action === 'contact.exported' && a.target === `contact:${id}`));
    for (const s of ['Şükrü', 'Işıkoğlu', EMAIL, E164]) assert.ok(!JSON.stringify(audit).includes(s), `the audit log holds ${s}`);
    // The address is free again: a new message from it is a new person.
    res = await api('POST', '/api/v1/tickets', {subject: 'Yeni', body: 'x', customer: {email: EMAIL}}, agent);
    assert.equal(res.status, 201, res.text);
    assert.notEqual(res.json.customer.id, id);
  });

  test('contacts API: merge moves identities and tickets; services and bad input', async () => {
    let res = await api('POST', '/api/v1/tickets', {subject: 'a', body: 'a', customer: {email: `m1-${process.pid}@example.com`, name: 'Mert'}}, agent);
    const a = res.json;
    res = await api('POST', '/api/v1/tickets', {subject: 'b', body: 'b', customer: {phone: '0555 444 33 22', name: 'Mert Ö.'}}, agent);
    const b = res.json;
    assert.equal(b.customer.phone, '+905554443322');
    res = await api('POST', `/api/v1/contacts/${a.customer.id}/merge`, {source_id: b.customer.id}, agent);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.identities.map((i) => i.value).sort(), [`m1-${process.pid}@example.com`, '+905554443322'].sort());
    assert.equal((await api('GET', `/api/v1/tickets/${b.id}`, undefined, agent)).json.customer.id, a.customer.id);
    assert.equal((await api('GET', `/api/v1/contacts/${b.customer.id}`, undefined, agent)).json.merged_into, a.customer.id);
    assertError(await api('POST', `/api/v1/contacts/${a.customer.id}/merge`, {source_id: b.customer.id}, agent), 409, 'already_merged');
    assertError(await api('POST', `/api/v1/contacts/${b.customer.id}/erase`, {confirm_id: b.customer.id}), 409, 'already_merged');
    assertError(await api('GET', '/api/v1/contacts/abc', undefined, agent), 404);
    assertError(await api('POST', `/api/v1/contacts/${a.customer.id}/merge`, {source_id: 'x'}, agent), 422, 'invalid_field', 'source_id');
    // Bad phones are refused where people type them.
    assertError(await api('POST', '/api/v1/tickets', {subject: 's', body: 'b', customer: {phone: '12'}}, agent), 422,
      'invalid_field', 'customer.phone');
    // The merged person's own events carry no one's data.
    await eventually(async () => (await listAll(server, '/api/v1/events', {session: admin, limit: 200}))
      .filter((e) => e.name === 'contact.merged'), (l) => l.length === 1);
  });
});
