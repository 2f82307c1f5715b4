// The e-mail channel over IMAP: Debian's dovecot on loopback (config generated per run), polled by the server
// every second. New mail opens a ticket, a customer's reply by mail threads into it, every filed message is \Seen
// afterwards, a malformed message is kept for an admin, and an IMAP server that is down is simply polled again.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, listAll, eventually, uniqueEmail, T, disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, startDovecot} from './mail-helpers.mjs';

let server, admin, smtp, imap;

before(async () => {
  smtp = await startSmtp();
  imap = await startDovecot();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.imap_url': imap.url, 'mail.imap_user': imap.user, 'mail.imap_password': imap.password, 'mail.poll_seconds': 1});
  assert.equal(set.status, 200, set.text);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to);
let seq = 0;

function mail({from, subject, inReplyTo, body}) {
  const messageId = `<imap-${process.pid}-${++seq}@customer.example>`;
  const h = [`From: ${from}`, 'To: destek@shop.example', `Subject: ${subject}`, `Message-ID: ${messageId}`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'];
  if (inReplyTo) h.push(`In-Reply-To: ${inReplyTo}`, `References: ${inReplyTo}`);
  return {raw: Buffer.from([...h, '', body, ''].join('\r\n')), messageId};
}

const findTicket = async (subject) => (await listAll(server, '/api/v1/tickets?channel=email', {session: admin}))
  .find((t) => t.subject === subject);

describe('IMAP polling', () => {
  test('new mail opens a ticket, is acknowledged, flagged \\Seen; the customer\'s reply threads into it', async () => {
    const email = uniqueEmail('imap');
    const first = mail({from: `Zeynep Kaya <${email}>`, subject: 'İade nasıl yapılır?', body: 'Merhaba, iade etmek istiyorum.'});
    imap.deliver(first.raw);
    const t = await eventually(() => findTicket('İade nasıl yapılır?'), Boolean, {ms: T(15000)});
    assert.equal(t.customer.email, email);
    await eventually(async () => imap.flags(), (f) => f.length === 1 && f[0].includes('S'), {ms: T(10000)});
    const [ack] = await eventually(() => mailsTo(email), (ms) => ms.length === 1, {ms: T(10000)});
    assert.equal(ack.headers['in-reply-to'], first.messageId);
    const reply = mail({from: email, subject: `Re: [${t.reference}] İade nasıl yapılır?`, inReplyTo: ack.headers['message-id'],
      body: 'Kargo kodunu da gönderir misiniz?'});
    imap.deliver(reply.raw);
    const full = await eventually(async () => (await api('GET', `/api/v1/tickets/${t.id}`)).json,
      (x) => x.messages.length === 2, {ms: T(15000)});
    assert.equal(full.messages[1].body, 'Kargo kodunu da gönderir misiniz?');
    await eventually(async () => imap.flags(), (f) => f.length === 2 && f.every((x) => x.includes('S')), {ms: T(10000)});
    // Polled again and again: nothing is filed twice.
    await new Promise((r) => setTimeout(r, T(2500)));
    assert.equal((await api('GET', `/api/v1/tickets/${t.id}`)).json.messages.length, 2);
    assert.equal((await listAll(server, '/api/v1/tickets?channel=email', {session: admin})).length, 1);
  });

  test('a message that cannot be parsed is kept for an admin and flagged \\Seen', async () => {
    const before = (await api('GET', '/api/v1/mail/unparsed')).json.items.length;
    imap.deliver(Buffer.from('\x00\x01\x02 garbage without headers\r\n\r\n\x00more'));
    const list = await eventually(async () => (await api('GET', '/api/v1/mail/unparsed')).json.items,
      (x) => x.length === before + 1, {ms: T(15000)});
    assert.equal(list[0].source, 'imap');
    await eventually(async () => imap.flags(), (f) => f.every((x) => x.includes('S')), {ms: T(10000)});
  });
});
