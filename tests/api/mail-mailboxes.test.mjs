// Several IMAP mailboxes, the mail status and "test connection", against real servers on loopback: Debian's
// dovecot (one instance per mailbox, config generated per run) and aiosmtpd requiring a login
// (tests/mail/smtp_auth.py). Each mailbox is polled into tickets with its own team and tags, each message filed
// once, also across a kill -9 in the middle of a poll; a deleted mailbox is no longer polled and its tickets stay;
// the password is never answered nor logged; a test of a server that is down or refuses the login answers
// ok:false with the server's words; only admins reach any of it.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, setupAdmin, createUser, login, listAll, eventually, uniqueEmail, assertError, T,
  disableOutOfHoursReply, sqlite3} from './lib.mjs';
import {startSmtp, startDovecot, freePort} from './mail-helpers.mjs';

const SMTP_AUTH = {user: 'desk-smtp', password: 'smtp secret 77'};
let server, admin, agent, smtp, boxA, boxB, team;

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
let seq = 0;

function mail({from, subject, body = 'Merhaba'}) {
  const messageId = `<mbx-${process.pid}-${++seq}@customer.example>`;
  const h = [`From: ${from}`, 'To: destek@shop.example', `Subject: ${subject}`, `Message-ID: ${messageId}`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'];
  return Buffer.from([...h, '', body, ''].join('\r\n'));
}

const tickets = (srv = server, session = admin) => listAll(srv, '/api/v1/tickets?channel=email', {session});
const secrets = () => [SMTP_AUTH.password, boxA.password, 'wrong password 991'];

before(async () => {
  smtp = await startSmtp({auth: SMTP_AUTH});
  boxA = await startDovecot();
  boxB = await startDovecot();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.smtp_user': SMTP_AUTH.user,
    'mail.smtp_password': SMTP_AUTH.password, 'mail.from': 'destek@shop.example'});
  assert.equal(set.status, 200, set.text);
  const u = await createUser(server, admin, {role: 'agent'});
  agent = await login(server, u.email, u.password);
  const tr = await api('POST', '/api/v1/teams', {name: 'İadeler'});
  assert.equal(tr.status, 201, tr.text);
  team = tr.json;
});

describe('mailboxes API', () => {
  test('create, read, change and validate; the password is write-only; agents are refused', async () => {
    const created = await api('POST', '/api/v1/mailboxes', {name: 'Yoklama', imap_url: 'imaps://mail.example.com',
      imap_user: 'u@example.com', imap_password: 'pw write only 5', poll_seconds: 3600, active: false,
      team_id: team.id, tags: ['Kargo', 'kargo', 'vip']});
    assert.equal(created.status, 201, created.text);
    const m = created.json;
    assert.equal(m.imap_url, 'imaps://mail.example.com/INBOX', 'a URL without a mailbox gets /INBOX');
    assert.equal(m.imap_password_set, true);
    assert.ok(!('imap_password' in m));
    assert.deepEqual(m.tags, ['kargo', 'vip']);
    assert.equal(m.team_id, team.id);
    assert.equal(m.active, false);
    assert.equal(m.poll_seconds, 3600);
    assert.deepEqual(m.status, {last_poll_at: null, ok: null, last_success_at: null, last_error: null,
      last_error_at: null, messages_filed: 0, uidvalidity: null, uidvalidity_previous: null,
      uidvalidity_changed_at: null, uidvalidity_changes: 0, resyncing: false});
    // Sends as the default sender, through the settings' SMTP server, TLS as the URL says, until told otherwise.
    assert.equal(m.from_address, '');
    assert.equal(m.from_name, '');
    assert.equal(m.imap_tls, 'auto');
    assert.equal(m.smtp_url, '');
    assert.equal(m.smtp_tls, 'auto');
    assert.equal(m.smtp_password_set, false);
    for (const res of [await api('GET', `/api/v1/mailboxes/${m.id}`), await api('GET', '/api/v1/mailboxes')]) {
      assert.equal(res.status, 200);
      assert.ok(!res.text.includes('pw write only 5'), 'the password is never answered');
    }

    let res = await api('PATCH', `/api/v1/mailboxes/${m.id}`, {name: 'Yoklama 2', imap_password: null, tags: null});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.name, 'Yoklama 2');
    assert.equal(res.json.imap_password_set, false);
    assert.deepEqual(res.json.tags, []);
    assert.equal(res.json.imap_user, 'u@example.com', 'what is not named stays');
    res = await api('PATCH', `/api/v1/mailboxes/${m.id}`, {imap_password: 'again 6', team_id: null});
    assert.equal(res.json.imap_password_set, true);
    assert.equal(res.json.team_id, null);

    // Bad input is refused and changes nothing.
    const before = (await api('GET', `/api/v1/mailboxes/${m.id}`)).json;
    assertError(await api('POST', '/api/v1/mailboxes', {imap_url: boxA.url}), 422, 'missing_field', 'name');
    assertError(await api('POST', '/api/v1/mailboxes', {name: 'x', imap_url: 'pop3://mail.example.com/INBOX'}), 422,
      'invalid_field', 'imap_url');
    assertError(await api('POST', '/api/v1/mailboxes', {name: 'x', imap_url: 'imap://u:p@mail.example.com/INBOX'}), 422,
      'invalid_field', 'imap_url');
    assertError(await api('PATCH', `/api/v1/mailboxes/${m.id}`, {name: 'y', poll_seconds: 0}), 422, 'invalid_field', 'poll_seconds');
    assertError(await api('PATCH', `/api/v1/mailboxes/${m.id}`, {name: 'y', team_id: 99999}), 422, 'invalid_field', 'team_id');
    assertError(await api('PATCH', `/api/v1/mailboxes/${m.id}`, {name: 'y', tags: ['a,b']}), 422, 'invalid_field', 'tags');
    assertError(await api('POST', '/api/v1/mailboxes', {name: 'yoklama 2', imap_url: boxA.url}), 409, 'name_taken');
    assert.deepEqual((await api('GET', `/api/v1/mailboxes/${m.id}`)).json, before);
    assertError(await api('GET', '/api/v1/mailboxes/99999'), 404, 'not_found');
    assertError(await api('PATCH', '/api/v1/mailboxes/99999', {name: 'z'}), 404, 'not_found');
    assertError(await api('DELETE', '/api/v1/mailboxes/99999'), 404, 'not_found');

    // Agents see none of it.
    for (const [method, p, body] of [['GET', '/api/v1/mailboxes'], ['POST', '/api/v1/mailboxes', {name: 'a', imap_url: boxA.url}],
      ['GET', `/api/v1/mailboxes/${m.id}`], ['PATCH', `/api/v1/mailboxes/${m.id}`, {name: 'b'}],
      ['DELETE', `/api/v1/mailboxes/${m.id}`], ['GET', '/api/v1/mail/status'], ['POST', '/api/v1/mail/test', {kind: 'smtp'}]]) {
      const r = await api(method, p, body, agent);
      assert.equal(r.status, 403, `${method} ${p} as an agent: ${r.status}`);
    }
    assert.equal((await api('GET', `/api/v1/mailboxes/${m.id}`)).json.name, 'Yoklama 2');

    assert.equal((await api('DELETE', `/api/v1/mailboxes/${m.id}`)).status, 204);
    assertError(await api('GET', `/api/v1/mailboxes/${m.id}`), 404, 'not_found');
    const audit = await listAll(server, '/api/v1/audit', {session: admin, limit: 200});
    const actions = audit.filter((a) => String(a.target) === `mailbox:${m.id}`).map((a) => a.action).sort();
    assert.deepEqual(actions, ['mailbox.created', 'mailbox.deleted', 'mailbox.updated', 'mailbox.updated']);
    assert.ok(!JSON.stringify(audit).includes('again 6'));
  });
});

describe('polling several mailboxes', () => {
  let a, b, ea;
  const bySubject = async (subject) => (await tickets()).filter((t) => t.subject === subject);
  before(async () => {
    let res = await api('POST', '/api/v1/mailboxes', {name: 'Satış', imap_url: boxA.url, imap_user: boxA.user,
      imap_password: boxA.password, poll_seconds: 1, team_id: team.id, tags: ['satis']});
    assert.equal(res.status, 201, res.text);
    a = res.json;
    res = await api('POST', '/api/v1/mailboxes', {name: 'Destek', imap_url: boxB.url, imap_user: boxB.user,
      imap_password: boxB.password, poll_seconds: 1, tags: ['genel', 'b-kutusu']});
    assert.equal(res.status, 201, res.text);
    b = res.json;
    ea = uniqueEmail('mbx-a');
    boxA.deliver(mail({from: `Ali <${ea}>`, subject: 'A kutusu: sipariş nerede?'}));
    boxB.deliver(mail({from: `Berk <${uniqueEmail('mbx-b')}>`, subject: 'B kutusu: fatura'}));
  });

  test('two mailboxes are polled into tickets with their team and tags, each message once', async () => {
    const both = await eventually(() => tickets(), (l) => l.length === 2, {ms: T(20000)});
    const ta = both.find((t) => t.subject === 'A kutusu: sipariş nerede?');
    const tb = both.find((t) => t.subject === 'B kutusu: fatura');
    assert.ok(ta && tb, JSON.stringify(both));
    assert.equal(ta.team_id, team.id);
    assert.deepEqual(ta.tags, ['satis']);
    assert.equal(tb.team_id, null);
    assert.deepEqual(tb.tags, ['b-kutusu', 'genel']);
    assert.equal(ta.customer.email, ea);
    await eventually(async () => [boxA.flags(), boxB.flags()],
      ([fa, fb]) => fa.length === 1 && fa[0].includes('S') && fb.length === 1 && fb[0].includes('S'), {ms: T(10000)});
    // Polled again and again: nothing is filed twice.
    await new Promise((r) => setTimeout(r, T(2500)));
    assert.equal((await tickets()).length, 2);
    const st = (await api('GET', '/api/v1/mail/status')).json;
    for (const m of [a, b]) {
      const s = st.mailboxes.find((x) => x.id === m.id);
      assert.equal(s.messages_filed, 1, JSON.stringify(s));
      assert.equal(s.ok, true);
      assert.equal(s.last_error, null);
      assert.ok(s.last_poll_at && s.last_success_at);
    }
    assert.equal(st.imap.configured, false);
    // The acknowledgements went out through the SMTP server with its login.
    await eventually(async () => smtp.mails().filter((m) => /kutusu/.test(m.headers.subject)).length, (n) => n === 2,
      {ms: T(10000)});
    const s2 = await eventually(async () => (await api('GET', '/api/v1/mail/status')).json.smtp,
      (s) => s.messages_sent >= 2, {ms: T(5000)});
    assert.equal(s2.ok, true);
    assert.ok(s2.last_send_at);
    assert.equal(s2.configured, true);
  });

  test('a failing mailbox shows its error; a deleted one is no longer polled and its tickets stay', async () => {
    // A wrong password: the status says why.
    let res = await api('PATCH', `/api/v1/mailboxes/${a.id}`, {imap_password: 'wrong password 991'});
    assert.equal(res.status, 200);
    const failed = await eventually(async () => (await api('GET', `/api/v1/mailboxes/${a.id}`)).json.status,
      (s) => s.ok === false, {ms: T(10000)});
    assert.match(failed.last_error, /AUTHENTICATIONFAILED|denied/i);
    res = await api('PATCH', `/api/v1/mailboxes/${a.id}`, {imap_password: boxA.password});
    await eventually(async () => (await api('GET', `/api/v1/mailboxes/${a.id}`)).json.status, (s) => s.ok === true,
      {ms: T(10000)});

    await eventually(() => bySubject('B kutusu: fatura'), (l) => l.length === 1, {ms: T(20000)});
    assert.equal((await api('DELETE', `/api/v1/mailboxes/${b.id}`)).status, 204);
    boxB.deliver(mail({from: uniqueEmail('late'), subject: 'B kutusu: silindikten sonra'}));
    await new Promise((r) => setTimeout(r, T(3000)));
    assert.deepEqual(await bySubject('B kutusu: silindikten sonra'), [], 'nothing is polled from a deleted mailbox');
    assert.equal((await bySubject('B kutusu: fatura')).length, 1, 'its ticket stays');
    assert.equal(boxB.flags().filter((f) => !f.includes('S')).length, 1, 'the new message is left unread');
    assert.equal((await api('GET', '/api/v1/mail/status')).json.mailboxes.find((x) => x.id === b.id), undefined);

    // An inactive mailbox is not polled either, and is polled again once active.
    await api('PATCH', `/api/v1/mailboxes/${a.id}`, {active: false});
    await new Promise((r) => setTimeout(r, T(1500)));
    boxA.deliver(mail({from: uniqueEmail('paused'), subject: 'A kutusu: duraklatılmışken'}));
    await new Promise((r) => setTimeout(r, T(2500)));
    assert.deepEqual(await bySubject('A kutusu: duraklatılmışken'), []);
    await api('PATCH', `/api/v1/mailboxes/${a.id}`, {active: true});
    await eventually(() => bySubject('A kutusu: duraklatılmışken'), (l) => l.length === 1, {ms: T(15000)});
  });
});

describe('crash safety', () => {
  test('kill -9 in the middle of a poll, restart: every message is filed exactly once', async () => {
    const box = await startDovecot();
    const srv = await startServer();
    const adm = await setupAdmin(srv);
    await disableOutOfHoursReply(srv, adm);
    const N = 30;
    for (let i = 0; i < N; i++) box.deliver(mail({from: uniqueEmail('crash'), subject: `çökme ${i}`, body: 'x'.repeat(20000)}));
    const res = await srv.api('POST', '/api/v1/mailboxes', {session: adm, body: {name: 'Çökme', imap_url: box.url,
      imap_user: box.user, imap_password: box.password, poll_seconds: 1, tags: ['crash']}});
    assert.equal(res.status, 201, res.text);
    await srv.waitStderr(/IMAP message \d+ of mailbox:\d+ filed/, T(20000), 'a message filed');
    await srv.kill9();
    // Killed within the first poll: it files at most 25 messages, the rest wait for the next one.
    const mid = sqlite3(path.join(srv.dataDir, 'destek.db'), 'SELECT count(*) FROM tkt_tickets');
    assert.equal(mid.code, 0, mid.stderr);
    assert.ok(Number(mid.stdout) >= 1 && Number(mid.stdout) < N, `filed before the kill: ${mid.stdout}`);
    const again = await startServer({dataDir: srv.dataDir});
    const sess = await login(again, adm.email, adm.password);
    const all = await eventually(() => tickets(again, sess), (l) => l.length >= N, {ms: T(30000)});
    await new Promise((r) => setTimeout(r, T(2500)));
    const final = await tickets(again, sess);
    assert.equal(final.length, N, 'no message is filed twice');
    assert.deepEqual(final.map((t) => t.subject).sort(), [...Array(N).keys()].map((i) => `çökme ${i}`).sort());
    assert.ok(all.every((t) => t.tags.includes('crash')));
    assert.ok(box.flags().every((f) => f.includes('S')), 'every message is \\Seen');
    const st = (await again.api('GET', '/api/v1/mail/status', {session: sess})).json.mailboxes[0];
    assert.equal(st.messages_filed, N, 'the count commits with each message');
    await again.stop();
    await box.stop();
  });
});

describe('test connection', () => {
  const test_ = (body, session = admin) => api('POST', '/api/v1/mail/test', body, session);
  let saved;
  before(async () => {
    const res = await api('POST', '/api/v1/mailboxes', {name: 'Deneme', imap_url: boxA.url, imap_user: boxA.user,
      imap_password: boxA.password, active: false});
    assert.equal(res.status, 201, res.text);
    saved = res.json;
  });

  test('SMTP: saved settings, values not saved yet, a wrong password, a closed port, a bad scheme', async () => {
    let res = await test_({kind: 'smtp'});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, {kind: 'smtp', ok: true, tls: false, auth: true});
    const before = smtp.mails().length;
    // Password omitted: the saved one.
    res = await test_({kind: 'smtp', url: smtp.url, user: SMTP_AUTH.user});
    assert.equal(res.json.ok, true, res.text);
    res = await test_({kind: 'smtp', url: smtp.url, user: SMTP_AUTH.user, password: 'wrong password 991'});
    assert.equal(res.status, 200);
    assert.equal(res.json.ok, false);
    assert.match(res.json.error, /535/);
    const port = await freePort();
    const t0 = Date.now();
    res = await test_({kind: 'smtp', url: `smtp://127.0.0.1:${port}`});
    assert.equal(res.status, 200);
    assert.equal(res.json.ok, false);
    assert.match(res.json.error, /connect/i);
    assert.ok(Date.now() - t0 < 15000);
    assertError(await test_({kind: 'smtp', url: 'http://127.0.0.1:25'}), 422, 'invalid_field', 'url');
    assertError(await test_({kind: 'pop3'}), 422, 'invalid_field', 'kind');
    assertError(await test_({kind: 'smtp', mailbox_id: 99999}), 404, 'not_found');
    assert.equal(smtp.mails().length, before, 'a connection test sends nothing');
  });

  test('SMTP: send_to sends a real test mail', async () => {
    const to = uniqueEmail('smtp-test');
    const res = await test_({kind: 'smtp', send_to: to});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.ok, true, res.text);
    assert.equal(res.json.sent_to, to);
    const [m] = await eventually(async () => smtp.mails().filter((x) => x.headers['x-sink-rcpt-to'] === to),
      (l) => l.length === 1, {ms: T(5000)});
    assert.match(m.headers.subject, /Destek/);
    assert.equal(m.headers['x-sink-mail-from'], 'destek@shop.example');
    assertError(await test_({kind: 'smtp', send_to: 'not an address'}), 422, 'invalid_field', 'send_to');
  });

  test('IMAP: a saved mailbox, values not saved yet, a wrong password, a closed port, a missing folder', async () => {
    const a = saved;
    let res = await test_({kind: 'imap', mailbox_id: a.id});
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.ok, true, res.text);
    assert.equal(res.json.mailbox, 'INBOX');
    assert.equal(res.json.messages, boxA.flags().length);
    assert.equal(res.json.unseen, boxA.flags().filter((f) => !f.includes('S')).length);
    // Not saved yet; and the saved mailbox's password when it is omitted.
    res = await test_({kind: 'imap', url: boxB.url, user: boxB.user, password: boxB.password});
    assert.equal(res.json.ok, true, res.text);
    assert.equal(res.json.messages, boxB.flags().length);
    res = await test_({kind: 'imap', mailbox_id: a.id, url: boxA.url, user: boxA.user});
    assert.equal(res.json.ok, true, res.text);
    res = await test_({kind: 'imap', url: boxB.url, user: boxB.user, password: 'wrong password 991'});
    assert.equal(res.status, 200);
    assert.equal(res.json.ok, false);
    assert.match(res.json.error, /AUTHENTICATIONFAILED|denied/i);
    res = await test_({kind: 'imap', url: `imap://127.0.0.1:${await freePort()}/INBOX`, user: 'x', password: 'y'});
    assert.equal(res.json.ok, false);
    assert.match(res.json.error, /connect/i);
    res = await test_({kind: 'imap', url: boxB.url.replace(/INBOX$/, 'Yok'), user: boxB.user, password: boxB.password});
    assert.equal(res.json.ok, false);
    assert.match(res.json.error, /Yok/);
    assertError(await test_({kind: 'imap', url: 'smtp://127.0.0.1/INBOX'}), 422, 'invalid_field', 'url');
    assertError(await test_({kind: 'imap'}), 422, 'not_configured');
    assertError(await test_({kind: 'imap', mailbox_id: 99999}), 404, 'not_found');
    assertError(await test_({kind: 'imap', url: boxB.url, send_to: 'a@example.com'}), 422, 'invalid_field', 'send_to');
  });

  test('no password is ever answered or logged', async () => {
    const answers = [await api('GET', '/api/v1/mailboxes'), await api('GET', '/api/v1/mail/status'),
      await api('GET', '/api/v1/settings')];
    for (const res of answers) for (const s of secrets()) assert.ok(!res.text.includes(s), `${s} in ${res.text}`);
    for (const s of secrets()) assert.ok(!server.stderrText().includes(s), `${s} in the server's log`);
  });
});
