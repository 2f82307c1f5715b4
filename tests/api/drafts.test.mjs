// Drafts' files (issue 11): uploaded with the draft, kept on the server per agent and ticket, sent with the reply
// without a second upload (the same stored file), deleted when the draft is discarded, and by the cleanup job after
// 30 days; stored files nothing refers to (a crash between the file and its row) are swept.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {startServer, setupAdmin, createUser, login, assertError, eventually, sqlite3, T} from './lib.mjs';

let server, admin, agentA, agentB, ticket;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  await createUser(server, admin, {email: 'a@drafts.example', password: 'agent password A1', role: 'agent'});
  await createUser(server, admin, {email: 'b@drafts.example', password: 'agent password B1', role: 'agent'});
  agentA = await login(server, 'a@drafts.example', 'agent password A1');
  agentB = await login(server, 'b@drafts.example', 'agent password B1');
  const res = await api('POST', '/api/v1/tickets', {subject: 'Taslak', body: 'Merhaba',
    customer: {email: 'musteri@drafts.example', name: 'Müşteri'}}, agentA);
  assert.equal(res.status, 201, res.text);
  ticket = res.json;
});
after(async () => { if (server) await server.stop(); });

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const file = (name, text, type = 'text/plain') => ({filename: name, content_type: type,
  data_base64: Buffer.from(text).toString('base64')});
const stored = () => fs.readdirSync(path.join(server.dataDir, 'attachments')).filter((f) => !f.startsWith('.')).sort();

describe('drafts\' files', () => {
  test('kept per agent and ticket; validated; only their owner sees them', async () => {
    const base = `/api/v1/tickets/${ticket.id}/draft`;
    let res = await api('POST', `${base}/files`, file('fatura.txt', 'FATURA-1'), agentA);
    assert.equal(res.status, 201, res.text);
    const f = res.json;
    assert.equal(f.filename, 'fatura.txt');
    assert.equal(f.size, 8);
    assert.equal(f.url, `${base}/files/${f.id}`);
    res = await api('GET', base, undefined, agentA);
    assert.deepEqual(res.json.files.map((x) => x.id), [f.id]);
    const dl = await server.api('GET', f.url, {session: agentA});
    assert.equal(dl.status, 200);
    assert.equal(dl.text, 'FATURA-1');
    assert.match(dl.headers['content-disposition'], /^attachment/);
    // Another agent sees an empty draft and cannot read, delete or send the file.
    assert.deepEqual((await api('GET', base, undefined, agentB)).json.files, []);
    assertError(await server.api('GET', f.url, {session: agentB}), 404, 'not_found');
    assertError(await api('DELETE', f.url, undefined, agentB), 404, 'not_found');
    assertError(await api('POST', `/api/v1/tickets/${ticket.id}/messages`, {body: 'x', draft_files: [f.id]}, agentB),
      422, 'invalid_field', 'draft_files');
    // Bad input.
    assertError(await api('POST', `${base}/files`, {filename: 'a/b', data_base64: 'QQ=='}, agentA), 422, 'invalid_field',
      'attachments.filename');
    assertError(await api('POST', `${base}/files`, {filename: 'a', data_base64: '***'}, agentA), 422, 'invalid_field',
      'attachments.data_base64');
    assertError(await api('POST', '/api/v1/tickets/999999/draft/files', file('a', 'b'), agentA), 404, 'not_found');
    assertError(await api('POST', `/api/v1/tickets/${ticket.id}/messages`, {body: 'x', draft_files: 'nope'}, agentA),
      422, 'invalid_field', 'draft_files');
    const set = await api('PATCH', '/api/v1/settings', {'ticketing.attachment_max_bytes': 16});
    assert.equal(set.status, 200, set.text);
    assertError(await api('POST', `${base}/files`, file('big.txt', 'x'.repeat(17)), agentA), 413, 'attachment_too_large');
    await api('PATCH', '/api/v1/settings', {'ticketing.attachment_max_bytes': 10485760});
    assert.equal((await server.api('GET', base, {})).status, 401, 'signed-in agents only');
    // At most 10 files in a draft.
    for (let i = 1; i < 10; i++) assert.equal((await api('POST', `${base}/files`, file(`f${i}.txt`, `F${i}`), agentA)).status, 201);
    assertError(await api('POST', `${base}/files`, file('f11.txt', 'F11'), agentA), 409, 'too_many_files');
    // Removing one file, then discarding the draft, deletes the stored files too.
    const before = stored().length;
    const list = (await api('GET', base, undefined, agentA)).json.files;
    assert.equal((await api('DELETE', list[9].url, undefined, agentA)).status, 204);
    assert.equal(stored().length, before - 1);
    assert.equal((await api('DELETE', base, undefined, agentA)).status, 204);
    assert.equal(stored().length, before - 10);
    assert.deepEqual((await api('GET', base, undefined, agentA)).json.files, []);
  });

  test('sending the reply makes them its attachments: same stored file, no second upload', async () => {
    const base = `/api/v1/tickets/${ticket.id}/draft`;
    const f1 = (await api('POST', `${base}/files`, file('etiket.pdf', '%PDF-etiket', 'application/pdf'), agentA)).json;
    const f2 = (await api('POST', `${base}/files`, file('not.txt', 'NOT'), agentA)).json;
    const files = stored();
    const res = await api('POST', `/api/v1/tickets/${ticket.id}/messages`, {body: 'Etiket ekte.',
      attachments: [file('yeni.txt', 'YENI')], draft_files: [f1.id, f2.id]}, agentA);
    assert.equal(res.status, 201, res.text);
    const atts = res.json.message.attachments;
    assert.deepEqual(atts.map((a) => a.filename), ['yeni.txt', 'etiket.pdf', 'not.txt']);
    assert.equal(atts[1].sha256, f1.sha256);
    assert.equal(stored().length, files.length + 1, 'only the newly uploaded file was written');
    const dl = await server.api('GET', atts[1].url, {session: agentB});
    assert.equal(dl.text, '%PDF-etiket');
    assert.deepEqual((await api('GET', base, undefined, agentA)).json.files, [], 'the draft is empty after sending');
    assertError(await api('POST', `/api/v1/tickets/${ticket.id}/messages`, {body: 'again', draft_files: [f1.id]}, agentA),
      422, 'invalid_field', 'draft_files');
  });

  test('the cleanup job: drafts\' files after 30 days, and files nothing refers to', async () => {
    const base = `/api/v1/tickets/${ticket.id}/draft`;
    const old = (await api('POST', `${base}/files`, file('eski.txt', 'ESKI'), agentA)).json;
    const fresh = (await api('POST', `${base}/files`, file('yeni.txt', 'YENI'), agentA)).json;
    const r = sqlite3(path.join(server.dataDir, 'destek.db'),
      `UPDATE tkt_draft_files SET created_at = '2020-01-01T00:00:00Z' WHERE id = ${Number(old.id)}`);
    assert.equal(r.code, 0, r.stderr);
    // A file written before a crash, its row never committed; and a message's file, as old: only the first goes.
    const dir = path.join(server.dataDir, 'attachments');
    const orphan = path.join(dir, 'orphanfileXYZ');
    fs.writeFileSync(orphan, 'lost');
    const longAgo = new Date(Date.now() - 3 * 86400 * 1000);
    fs.utimesSync(orphan, longAgo, longAgo);
    const kept = stored().filter((f) => f !== 'orphanfileXYZ');
    for (const f of kept) fs.utimesSync(path.join(dir, f), longAgo, longAgo);
    const set = await api('PATCH', '/api/v1/settings', {'ticketing.draft_cleanup_seconds': 1});
    assert.equal(set.status, 200, set.text);
    await eventually(async () => (await api('GET', base, undefined, agentA)).json.files.map((f) => f.id),
      (ids) => ids.length === 1 && ids[0] === fresh.id, {ms: T(10000)});
    await eventually(async () => fs.existsSync(orphan), (x) => !x, {ms: T(40000)});
    const left = stored();
    assert.equal(left.length, kept.length - 1, 'the expired draft file is gone, every referenced file stays');
    assert.equal((await server.api('GET', fresh.url, {session: agentA})).text, 'YENI');
  });
});
