// One sender per mailbox (issue 11): a ticket that came in on a saved mailbox is answered (acknowledgement and
// replies) From that mailbox's address and name, through its own SMTP server when it has one; web-form tickets use
// the default sender. TLS is each server's choice (auto, starttls, implicit, none) and is honoured: aiosmtpd with
// STARTTLS and with implicit TLS, a private CA in mail.tls_ca, "none" refused off loopback.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, listAll, eventually, uniqueEmail, T, disableOutOfHoursReply, assertError, runCli} from './lib.mjs';
import {startSmtp, startDovecot, makeCert, startSmtpTls} from './mail-helpers.mjs';

let server, admin, smtp, smtpB, imap, cert, starttls, implicit, box;

before(async () => {
  cert = makeCert();
  [smtp, smtpB, imap, starttls, implicit] = await Promise.all([startSmtp(), startSmtp(), startDovecot(),
    startSmtpTls('starttls', cert), startSmtpTls('implicit', cert)]);
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.from_name': 'Anadolu Destek', 'ticketing.public_form_limit': 100});
  assert.equal(set.status, 200, set.text);
  const res = await api('POST', '/api/v1/mailboxes', {name: 'Kargo', imap_url: imap.url, imap_user: imap.user,
    imap_password: imap.password, poll_seconds: 1, from_address: 'Kargo@Shop.example', from_name: 'Kargo Ekibi',
    smtp_url: smtpB.url, smtp_tls: 'none'});
  assert.equal(res.status, 201, res.text);
  box = res.json;
});
after(async () => { if (server) await server.stop(); });

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const pub = (method, p, body) => server.api(method, p, {body});
const to = (sink, address) => sink.mails().filter((m) => m.headers['x-sink-rcpt-to'] === address);
let seq = 0;

function mail({from, subject, body}) {
  const messageId = `<snd-${process.pid}-${++seq}@customer.example>`;
  return Buffer.from([`From: ${from}`, 'To: kargo@shop.example', `Subject: ${subject}`, `Message-ID: ${messageId}`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'));
}

describe('one sender for every mailbox', () => {
  test('the mailbox answers: its From, its name, its SMTP server', async () => {
    assert.equal(box.from_address, 'kargo@shop.example', 'addresses are kept lower-case');
    assert.equal(box.from_name, 'Kargo Ekibi');
    assert.equal(box.smtp_tls, 'none');
    const email = uniqueEmail('snd');
    imap.deliver(mail({from: email, subject: 'Kargom nerede?', body: 'Siparişim gelmedi.'}));
    const t = await eventually(async () => (await listAll(server, '/api/v1/tickets?channel=email', {session: admin}))
      .find((x) => x.subject === 'Kargom nerede?'), Boolean, {ms: T(15000)});
    const [ack] = await eventually(() => to(smtpB, email), (m) => m.length === 1, {ms: T(10000)});
    assert.equal(ack.headers.from, 'Kargo Ekibi <kargo@shop.example>');
    assert.equal(ack.headers['x-sink-mail-from'], 'kargo@shop.example', 'the envelope sender is the mailbox too');
    assert.match(ack.headers['message-id'], /@shop\.example>$/);
    const res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Kargonuz yarın elinizde.'});
    assert.equal(res.status, 201, res.text);
    const [, reply] = await eventually(() => to(smtpB, email), (m) => m.length === 2, {ms: T(10000)});
    assert.equal(reply.headers.from, 'Kargo Ekibi <kargo@shop.example>');
    assert.equal(to(smtp, email).length, 0, 'nothing went through the default server');
  });

  test('web-form tickets use the default mailbox', async () => {
    const email = uniqueEmail('form');
    const res = await pub('POST', '/api/v1/public/tickets', {name: 'Elif', email, subject: 'Fatura', body: 'Fatura lazım.'});
    assert.equal(res.status, 201, res.text);
    const [ack] = await eventually(() => to(smtp, email), (m) => m.length === 1, {ms: T(10000)});
    assert.equal(ack.headers.from, 'Anadolu Destek <destek@shop.example>');
    assert.equal(to(smtpB, email).length, 0);
  });

  test('mail piped in by the MTA to a mailbox\'s address is answered from that mailbox', async () => {
    const email = uniqueEmail('pipe');
    const raw = mail({from: email, subject: 'Borudan gelen', body: 'MTA ile geldi.'}).toString()
      .replace('To: kargo@shop.example', 'To: Kargo <KARGO@shop.example>');
    const r = await runCli(['mail', 'import', '--data', server.dataDir], {input: raw});
    assert.equal(r.code, 0, r.stderr);
    const [ack] = await eventually(() => to(smtpB, email), (m) => m.length === 1, {ms: T(10000)});
    assert.equal(ack.headers.from, 'Kargo Ekibi <kargo@shop.example>');
    const other = uniqueEmail('pipe2');
    const raw2 = mail({from: other, subject: 'Başka adrese', body: 'Genel adrese.'}).toString()
      .replace('To: kargo@shop.example', 'To: destek@shop.example');
    assert.equal((await runCli(['mail', 'import', '--data', server.dataDir], {input: raw2})).code, 0);
    const [ack2] = await eventually(() => to(smtp, other), (m) => m.length === 1, {ms: T(10000)});
    assert.equal(ack2.headers.from, 'Anadolu Destek <destek@shop.example>');
  });

  test('a mailbox without its own server or address sends as the default, through the default server', async () => {
    const res = await api('PATCH', `/api/v1/mailboxes/${box.id}`, {smtp_url: null, from_address: null, from_name: ''});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.smtp_url, '');
    assert.equal(res.json.from_address, '');
    const email = uniqueEmail('snd2');
    imap.deliver(mail({from: email, subject: 'İade kodu', body: 'İade kodu istiyorum.'}));
    const [ack] = await eventually(() => to(smtp, email), (m) => m.length === 1, {ms: T(15000)});
    assert.equal(ack.headers.from, 'Anadolu Destek <destek@shop.example>');
    const back = await api('PATCH', `/api/v1/mailboxes/${box.id}`, {smtp_url: smtpB.url, from_address: 'kargo@shop.example',
      from_name: 'Kargo Ekibi'});
    assert.equal(back.status, 200, back.text);
  });
});

describe('TLS choices', () => {
  test('validated: known modes only; "none" only on loopback unless mail.allow_plaintext', async () => {
    assertError(await api('PATCH', `/api/v1/mailboxes/${box.id}`, {smtp_tls: 'tls12'}), 422, 'invalid_field', 'smtp_tls');
    assertError(await api('PATCH', `/api/v1/mailboxes/${box.id}`, {imap_tls: true}), 422, 'invalid_field', 'imap_tls');
    assertError(await api('PATCH', `/api/v1/mailboxes/${box.id}`, {smtp_url: 'smtp://mail.example.com:25'}), 422,
      'invalid_field', 'smtp_tls');
    assertError(await api('POST', '/api/v1/mailboxes', {name: 'Uzak', imap_url: 'imap://mail.example.com/INBOX',
      imap_tls: 'none'}), 422, 'invalid_field', 'imap_tls');
    assertError(await api('PATCH', `/api/v1/mailboxes/${box.id}`, {smtp_url: 'http://x'}), 422, 'invalid_field', 'smtp_url');
    assertError(await api('PATCH', `/api/v1/mailboxes/${box.id}`, {from_address: 'not an address'}), 422, 'invalid_field',
      'from_address');
    let res = await api('PATCH', '/api/v1/settings', {'mail.allow_plaintext': true});
    assert.equal(res.status, 200, res.text);
    res = await api('POST', '/api/v1/mailboxes', {name: 'Uzak', imap_url: 'imap://mail.example.com/INBOX', imap_tls: 'none',
      active: false});
    assert.equal(res.status, 201, res.text);
    assert.equal((await api('DELETE', `/api/v1/mailboxes/${res.json.id}`)).status, 204);
    res = await api('PATCH', '/api/v1/settings', {'mail.allow_plaintext': false});
    assert.equal(res.status, 200, res.text);
  });

  test('connection tests honour the choice: STARTTLS required, implicit TLS, none', async () => {
    const t = (body) => api('POST', '/api/v1/mail/test', {kind: 'smtp', ...body});
    let res = await t({url: starttls.url, tls: 'starttls'});
    assert.equal(res.json.ok, false, 'the self-signed certificate is not trusted yet');
    assert.match(res.json.error, /certificate|SSL/i);
    const set = await api('PATCH', '/api/v1/settings', {'mail.tls_ca': cert.pem});
    assert.equal(set.status, 200, set.text);
    res = await t({url: starttls.url, tls: 'starttls'});
    assert.deepEqual(res.json, {kind: 'smtp', ok: true, tls: true, auth: false});
    res = await t({url: starttls.url, tls: 'none'});
    assert.deepEqual(res.json, {kind: 'smtp', ok: true, tls: false, auth: false}, 'offered, but not used');
    res = await t({url: smtp.url, tls: 'starttls'});
    assert.equal(res.json.ok, false, 'a server without STARTTLS is refused when it is required');
    res = await t({url: implicit.url, tls: 'implicit'});
    assert.deepEqual(res.json, {kind: 'smtp', ok: true, tls: true, auth: false});
    res = await t({url: smtp.url, tls: 'implicit'});
    assert.equal(res.json.ok, false);
    res = await t({url: 'smtp://mail.example.com:25', tls: 'none'});
    assert.equal(res.json.ok, false);
    assert.match(res.json.error, /loopback/);
    // IMAP: dovecot here has no TLS, so requiring STARTTLS fails and "none" works.
    res = await api('POST', '/api/v1/mail/test', {kind: 'imap', mailbox_id: box.id, tls: 'starttls'});
    assert.equal(res.json.ok, false);
    res = await api('POST', '/api/v1/mail/test', {kind: 'imap', mailbox_id: box.id, tls: 'none'});
    assert.equal(res.json.ok, true, JSON.stringify(res.json));
    assert.equal(res.json.tls, false);
  });

  test('mail goes out encrypted as chosen: STARTTLS, then implicit TLS', async () => {
    let set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': starttls.url, 'mail.smtp_tls': 'starttls',
      'mail.tls_ca': cert.pem});
    assert.equal(set.status, 200, set.text);
    let email = uniqueEmail('tls1');
    assert.equal((await pub('POST', '/api/v1/public/tickets', {name: 'A', email, subject: 'S', body: 'B'})).status, 201);
    let [m] = await eventually(() => to(starttls, email), (x) => x.length === 1, {ms: T(10000)});
    assert.equal(m.headers['x-sink-tls'], 'yes');
    set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': implicit.url, 'mail.smtp_tls': 'implicit'});
    assert.equal(set.status, 200, set.text);
    email = uniqueEmail('tls2');
    assert.equal((await pub('POST', '/api/v1/public/tickets', {name: 'A', email, subject: 'S', body: 'B'})).status, 201);
    [m] = await eventually(() => to(implicit, email), (x) => x.length === 1, {ms: T(10000)});
    assert.equal(m.headers['x-sink-tls'], 'yes');
    // "none" to a STARTTLS-capable server: sent in the clear, as asked.
    set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': starttls.url, 'mail.smtp_tls': 'none'});
    email = uniqueEmail('tls3');
    assert.equal((await pub('POST', '/api/v1/public/tickets', {name: 'A', email, subject: 'S', body: 'B'})).status, 201);
    [m] = await eventually(() => to(starttls, email), (x) => x.length === 1, {ms: T(10000)});
    assert.equal(m.headers['x-sink-tls'], 'no');
  });
});
