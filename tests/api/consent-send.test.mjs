// The core's send path for modules (issue 17, core part): a commercial e-mail is refused without a current ONAY
// (whoever asks: here a Lua plugin through destek.call "consent.send", the same function C modules reach as
// host->message_send), a service one is marked as such; commercial mail carries RFC 8058 one-click unsubscribe
// (List-Unsubscribe + List-Unsubscribe-Post, captured by aiosmtpd) and the refusal text; a GET of the link changes
// nothing, a POST records a RET at once, idempotent, no redirect; queued mail survives kill -9.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {BIN, ROOT, startServer, setupAdmin, tempDir, eventually, sqlite3, request, disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, freePort} from './mail-helpers.mjs';

let server, admin, smtp, db, dir;

before(async () => {
  dir = tempDir();
  fs.mkdirSync(path.join(dir, 'plugins'));
  fs.copyFileSync(path.join(ROOT, 'tests/lua/hostile_consent.lua'), path.join(dir, 'plugins/hostile_consent.lua'));
  const so = path.join(ROOT, /asan/.test(BIN) ? 'build/asan/tests/plugins' : 'build/release/tests/plugins', 'consentc.so');
  fs.copyFileSync(so, path.join(dir, 'plugins/consentc.so'));
  smtp = await startSmtp();
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.from_name': 'Örnek Mağaza'});
  assert.equal(set.status, 200, set.text);
  db = path.join(dir, 'destek.db');
});

const api = (method, p, body) => server.api(method, p, {session: admin, body});
async function send(contact_id, commercial, html) {
  const res = await server.api('POST', '/hostile-consent/send', {body: {contact_id, commercial, html}});
  if (res.json && res.json.error && typeof res.json.error === 'object') res.json.error = res.json.error.code;
  return res;
}
const queued = () => Number(sqlite3(db, 'SELECT count(*) FROM core_messages').stdout.trim());
const mailsTo = (addr) => smtp.mails().filter((m) => m.headers.to.includes(`<${addr}>`));
const text = (m) => Buffer.from(m.body.replace(/\s+/g, ''), 'base64').toString('utf8');

async function newContact(email) {
  const res = await api('POST', '/api/v1/tickets', {subject: 'Merhaba', body: 'Soru.', channel: 'phone',
    customer: {email, name: 'Mehmet Öztürk'}});
  assert.equal(res.status, 201, res.text);
  return res.json.customer.id;
}

const ONAY = {channel: 'email', status: 'ONAY', source: 'call_centre',
  text_shown: 'Kampanyalardan e-posta ile haberdar olmak istiyorum.'};

describe('the send path', () => {
  test('commercial without ONAY is refused and nothing is queued; a service message goes, marked', async () => {
    const email = `no-onay-${process.pid}@example.com`;
    const id = await newContact(email);
    const before = queued();
    let res = await send(id, true);
    assert.equal(res.json.error, 'no_consent', res.text);
    assert.equal(queued(), before, 'nothing queued');
    await eventually(() => server.stderrText(), (t) => /commercial e-mail to contact \d+ was refused/.test(t));
    // A RET after the ONAY stops the next send.
    await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    await api('POST', `/api/v1/contacts/${id}/consent`, {channel: 'email', status: 'RET', source: 'reply'});
    res = await send(id, true);
    assert.equal(res.json.error, 'no_consent', res.text);
    assert.equal(queued(), before);
    res = await send(id, false);
    assert.ok(res.json.id > 0, res.text);
    const [m] = await eventually(() => mailsTo(email), (l) => l.length === 1);
    assert.equal(m.headers['x-destek-message-type'], 'service');
    assert.equal(m.headers['list-unsubscribe'], undefined);
    assert.match(text(m), /%50 indirimli/);
  });

  test('a C module (host->message_send) is refused the same way; host->consent_record names it', async () => {
    const email = `cmod-${process.pid}@example.com`;
    const id = await newContact(email);
    const before = queued();
    let res = await server.api('POST', '/consentc/send', {body: {contact_id: id, commercial: true}});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {onay: false, refused: -4}, 'DESTEK_SEND_NO_CONSENT');
    assert.equal(queued(), before);
    res = await server.api('POST', '/consentc/grant', {body: {contact_id: id}});
    assert.equal(res.status, 201, res.text);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.items[0].recorded_by, 'plugin:consentc');
    assert.equal(res.json.items[0].ip, '192.0.2.10');
    res = await server.api('POST', '/consentc/send', {body: {contact_id: id, commercial: true}});
    assert.equal(res.json.onay, true);
    assert.ok(res.json.id > 0, res.text);
    const [m] = await eventually(() => mailsTo(email).filter((x) => x.headers['x-destek-message-type'] === 'commercial'),
      (l) => l.length === 1);
    assert.match(m.headers.subject, /=\?UTF-8\?B\?/);
    res = await server.api('POST', '/consentc/send', {body: {contact_id: 999999, commercial: false}});
    assert.equal(res.json.refused, -2, 'DESTEK_SEND_NO_CONTACT');
  });

  test('HTML from any module: refused without ONAY; with it, made safe by the core and sent as multipart/alternative', async () => {
    const email = `html-${process.pid}@example.com`;
    const id = await newContact(email);
    const hostile = '<p onclick="x()">Kış <b>indirimi</b></p><script>alert(1)</script><a href="javascript:alert(1)">a</a>';
    const before = queued();
    let res = await send(id, true, hostile);
    assert.equal(res.json.error, 'no_consent', res.text);
    assert.equal(queued(), before, 'nothing queued');
    await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    res = await send(id, true, '<script>only()</script>');
    assert.equal(res.json.error, 'invalid_field', 'nothing left once made safe');
    res = await send(id, true, hostile);
    assert.ok(res.json.id > 0, res.text);
    assert.equal(sqlite3(db, `SELECT body_html FROM core_messages WHERE id = ${res.json.id}`).stdout.trim(),
      '<p>Kış <b>indirimi</b></p><a>a</a>');
    const [m] = await eventually(() => mailsTo(email), (l) => l.length === 1);
    assert.match(m.headers['content-type'], /^multipart\/alternative; boundary="([^"]+)"$/);
    const b = /boundary="([^"]+)"/.exec(m.headers['content-type'])[1];
    const [tp, hp] = m.body.split(`--${b}`).slice(1, 3).map((p) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4).replace(/\s+/g, ''),
      'base64').toString('utf8'));
    assert.match(tp, /%50 indirimli/);
    assert.match(hp, /<p>Kış <b>indirimi<\/b><\/p>/);
    for (const part of [tp, hp]) {
      assert.match(part, /ücretsiz olarak ret hakkınızı/);
      assert.ok(part.includes(m.headers['list-unsubscribe'].slice(1, -1)));
    }
    assert.doesNotMatch(hp, /script|onclick|javascript/);
  });

  test('consent collected on a web form gets the same-day confirmation with a way to refuse', async () => {
    const email = `confirm-${process.pid}@example.com`;
    const id = await newContact(email);
    let res = await api('POST', `/api/v1/contacts/${id}/consent`, {...ONAY, source: 'web_form', ip: '203.0.113.5'});
    assert.equal(res.status, 201, res.text);
    const [m] = await eventually(() => mailsTo(email), (l) => l.length === 1);
    assert.equal(m.headers['x-destek-message-type'], 'service');
    assert.equal(m.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    const body = text(m);
    assert.match(body, /onay verdiğinizi kaydettik/);
    assert.ok(body.includes(ONAY.text_shown), 'the text agreed to');
    const url = m.headers['list-unsubscribe'].slice(1, -1);
    assert.ok(body.includes(url));
    // An import of an old ONAY, or one by phone, gets no confirmation mail.
    await api('POST', `/api/v1/contacts/${id}/consent`, {...ONAY, source: 'import', at: '2024-01-01T00:00:00Z'});
    const page = await request(url, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: 'List-Unsubscribe=One-Click'});
    assert.equal(page.status, 200);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.state.email.status, 'RET');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(mailsTo(email).length, 1);
  });

  test('commercial with ONAY carries one-click unsubscribe; GET changes nothing; POST records a RET once', async () => {
    const email = `onay-${process.pid}@example.com`;
    const id = await newContact(email);
    await api('POST', `/api/v1/contacts/${id}/consent`, ONAY);
    let res = await send(id, true);
    assert.ok(res.json.id > 0, res.text);
    const [m] = await eventually(() => mailsTo(email), (l) => l.length === 1);
    assert.equal(m.headers['x-destek-message-type'], 'commercial');
    assert.equal(m.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    const lu = m.headers['list-unsubscribe'].match(/^<(https?:\/\/[^>]+\/u\/([A-Za-z0-9_-]{20,}))>$/);
    assert.ok(lu, m.headers['list-unsubscribe']);
    const url = lu[1];
    assert.ok(url.startsWith(server.url), `${url} is this server's`);
    const body = text(m);
    assert.match(body, /ücretsiz olarak ret hakkınızı/);
    assert.match(body, /free of charge/);
    assert.ok(body.includes(url), 'the refusal text carries the link');

    // A link scanner's GET: a page with a button, nothing recorded.
    let page = await request(url, {method: 'GET'});
    assert.equal(page.status, 200);
    assert.match(page.text, /<form method="post"/);
    assert.match(page.text, /Abonelikten çık/);
    assert.match(page.text, /Unsubscribe/);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.state.email.status, 'ONAY');

    // The one-click POST (RFC 8058): RET at once, no redirect; a second one changes nothing.
    const post = () => request(url, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded',
      'content-length': '26'}, body: 'List-Unsubscribe=One-Click'});
    page = await post();
    assert.equal(page.status, 200, page.text);
    assert.equal(page.headers.location, undefined);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.state.email.status, 'RET');
    const ret = res.json.items.at(-1);
    assert.equal(ret.source, 'unsubscribe_link');
    assert.equal(ret.recorded_by, 'unsubscribe_link');
    assert.equal(ret.address, email);
    page = await post();
    assert.equal(page.status, 200);
    res = await api('GET', `/api/v1/contacts/${id}/consent`);
    assert.equal(res.json.items.filter((i) => i.status === 'RET').length, 1, 'idempotent');
    res = await send(id, true);
    assert.equal(res.json.error, 'no_consent');
    page = await request(`${server.url}/u/${'x'.repeat(32)}`, {method: 'POST', body: ''});
    assert.equal(page.status, 404);
  });

  test('queued mail survives kill -9; a RET recorded while a commercial one waits withholds it', async () => {
    const port = await freePort();
    let res = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': `smtp://127.0.0.1:${port}`});
    assert.equal(res.status, 200);
    const email = `durable-${process.pid}@example.com`, promo = `promo-${process.pid}@example.com`;
    const id = await newContact(email), pid = await newContact(promo);
    await api('POST', `/api/v1/contacts/${pid}/consent`, ONAY);
    res = await send(id, false);
    assert.ok(res.json.id > 0, res.text);
    res = await send(pid, true);
    assert.ok(res.json.id > 0, res.text);
    const promoMsg = res.json.id;
    await new Promise((r) => setTimeout(r, 1100));   /* the RET comes after the ONAY (times are to the second) */
    res = await api('POST', `/api/v1/contacts/${pid}/consent`, {channel: 'email', status: 'RET', source: 'reply'});
    assert.equal(res.status, 201);
    await server.kill9();
    const late = await startSmtp({port});
    server = await startServer({dataDir: dir});
    const m = await eventually(() => late.mails().filter((x) => x.headers.to.includes(`<${email}>`)),
      (l) => l.length === 1, {ms: 40000, every: 250});
    assert.equal(m.length, 1);
    const st = await eventually(() => sqlite3(db, `SELECT status FROM core_messages WHERE id = ${promoMsg}`).stdout.trim(),
      (v) => v === 'withheld', {ms: 40000, every: 250});
    assert.equal(st, 'withheld');
    assert.equal(late.mails().filter((x) => x.headers.to.includes(`<${promo}>`)).length, 0, 'never sent');
    await late.stop();
  });
});
