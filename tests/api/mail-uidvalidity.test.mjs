// UIDVALIDITY (issue 11, RFC 3501 2.3.1.1): dovecot's mailbox is deleted and created again under the poller (a new
// UIDVALIDITY), holding the old messages again beside new ones. The poller notices, re-syncs the whole mailbox by
// Message-ID (by the hash of the bytes for a message without one), files only the new messages, audits the event
// and shows it in the mailbox's status.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, listAll, eventually, uniqueEmail, T, disableOutOfHoursReply, auditAll} from './lib.mjs';
import {startSmtp, startDovecot, imapOps} from './mail-helpers.mjs';

let server, admin, smtp, imap, box;

before(async () => {
  [smtp, imap] = await Promise.all([startSmtp(), startDovecot()]);
  imapOps(imap, [['create', 'Destek']]);
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example'});
  assert.equal(set.status, 200, set.text);
});
after(async () => { if (server) await server.stop(); });

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const tickets = async () => listAll(server, '/api/v1/tickets?channel=email', {session: admin});
const status = async () => (await api('GET', '/api/v1/mail/status')).json.mailboxes.find((m) => m.id === box.id);

function mail({from, subject, body, messageId}) {
  const h = [`From: ${from}`, 'To: destek@shop.example', `Subject: ${subject}`];
  if (messageId) h.push(`Message-ID: ${messageId}`);
  h.push('Date: Fri, 04 Dec 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8');
  return Buffer.from([...h, '', body, ''].join('\r\n'));
}

describe('UIDVALIDITY', () => {
  test('a mailbox deleted and created again: only the new messages are filed', async () => {
    const email = uniqueEmail('uv');
    const old1 = mail({from: email, subject: 'Eski 1', body: 'Birinci.', messageId: `<uv-old1-${process.pid}@customer.example>`});
    const old2 = mail({from: email, subject: 'Eski 2 (Message-ID yok)', body: 'İkinci.'});
    imapOps(imap, [['append', 'Destek', old1], ['append', 'Destek', old2]]);
    const res = await api('POST', '/api/v1/mailboxes', {name: 'Destek kutusu',
      imap_url: imap.url.replace(/\/INBOX$/, '/Destek'), imap_user: imap.user, imap_password: imap.password, poll_seconds: 1});
    assert.equal(res.status, 201, res.text);
    box = res.json;
    await eventually(tickets, (t) => t.length === 2, {ms: T(15000)});
    const first = await eventually(status, (s) => s.uidvalidity > 0 && s.ok === true, {ms: T(10000)});
    assert.equal(first.uidvalidity_changes, 0);
    assert.equal(first.resyncing, false);
    assert.equal(first.uidvalidity_changed_at, null);

    // Deleted under the poller: its polls fail meanwhile.
    imapOps(imap, [['delete', 'Destek']]);
    await eventually(status, (s) => s.ok === false, {ms: T(10000)});
    const new1 = mail({from: email, subject: 'Yeni 1', body: 'Üçüncü.', messageId: `<uv-new1-${process.pid}@customer.example>`});
    const new2 = mail({from: email, subject: 'Yeni 2 (Message-ID yok)', body: 'Dördüncü.'});
    // Created again (a new UIDVALIDITY), the old messages restored beside new ones; one new message was read in a
    // mail client already (\Seen): only the re-sync, which looks at every message, finds it.
    imapOps(imap, [['create', 'Destek'], ['append', 'Destek', old1], ['append', 'Destek', new1, '(\\Seen)'],
      ['append', 'Destek', old2], ['append', 'Destek', new2]]);
    const after = await eventually(status, (s) => s.uidvalidity_changes === 1 && !s.resyncing && s.ok === true,
      {ms: T(20000)});
    assert.notEqual(after.uidvalidity, first.uidvalidity);
    assert.equal(after.uidvalidity_previous, first.uidvalidity);
    assert.ok(after.uidvalidity_changed_at);
    const list = await eventually(tickets, (t) => t.length === 4, {ms: T(15000)});
    assert.deepEqual(list.map((t) => t.subject).sort(), ['Eski 1', 'Eski 2 (Message-ID yok)', 'Yeni 1',
      'Yeni 2 (Message-ID yok)']);
    // Polled again and again: still nothing twice, each ticket one message.
    await new Promise((r) => setTimeout(r, T(2500)));
    const again = await tickets();
    assert.equal(again.length, 4);
    for (const t of again) assert.equal((await api('GET', `/api/v1/tickets/${t.id}`)).json.messages.length, 1, t.subject);
    // The event is in the audit log and the mailbox's own status.
    const audit = (await auditAll(server, admin)).filter((a) => a.action === 'mailbox.uidvalidity_changed');
    assert.equal(audit.length, 1);
    assert.equal(audit[0].target, `mailbox:${box.id}`);
    const one = (await api('GET', `/api/v1/mailboxes/${box.id}`)).json;
    assert.equal(one.status.uidvalidity, after.uidvalidity);
    assert.equal(one.status.uidvalidity_changes, 1);
  });
});
