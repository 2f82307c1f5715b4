// The e-mail channel, inbound: `destek mail import` (an MTA pipe) with the server running and stopped; threading
// by In-Reply-To/References and by [#ref]; automatic replies and bounces open nothing and are never answered; a
// message that cannot be filed is kept for an admin; Turkish charsets; attachments. Replies go out through a real
// SMTP server on loopback (aiosmtpd) so that the threading can be checked both ways.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, startServer, setupAdmin, runCli, listAll, eventually, uniqueEmail, tempDir, T, disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, qp} from './mail-helpers.mjs';

const corpus = (name) => fs.readFileSync(path.join(ROOT, 'tests/mail/corpus', name));

let server, admin, smtp;
let seq = 0;

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  // mail.ack_limit above the four acknowledgements one sender gets below (the limit has tests of its own: mail-ack).
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.ack_limit': 10});
  assert.equal(set.status, 200, set.text);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

/** A raw message (CRLF) with the given headers and a UTF-8 text body. */
function mail({from, subject, messageId = `<m${process.pid}-${++seq}@customer.example>`, inReplyTo, references,
  extra = [], body = 'Merhaba'}) {
  const h = [`From: ${from}`, 'To: destek@shop.example', `Subject: ${subject}`, 'Date: Mon, 23 Nov 2026 10:00:00 +0300',
    `Message-ID: ${messageId}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit'];
  if (inReplyTo) h.push(`In-Reply-To: ${inReplyTo}`);
  if (references) h.push(`References: ${references}`);
  return {raw: Buffer.from([...h, ...extra, '', body, ''].join('\r\n')), messageId};
}

async function importMail(raw, dataDir = server.dataDir) {
  const r = await runCli(['mail', 'import', '--data', dataDir], {input: raw});
  assert.equal(r.code, 0, `mail import: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const ticket = async (id) => (await api('GET', `/api/v1/tickets/${id}`)).json;
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to);

describe('destek mail import', () => {
  test('with no server: the CLI files the message itself (Turkish windows-1254 mail, email channel)', async () => {
    const dir = tempDir();
    const res = await importMail(corpus('tr_cp1254.eml'), dir);
    assert.equal(res.result, 'created');
    assert.match(res.reference, /^#\d+$/);
    const s = await startServer({dataDir: dir});
    const a = await setupAdmin(s);
    await disableOutOfHoursReply(s, a);
    const t = (await s.api('GET', `/api/v1/tickets/${res.ticket_id}`, {session: a})).json;
    assert.equal(t.channel, 'email');
    assert.equal(t.subject, 'İade talebi ğüşıöç');
    assert.ok(t.messages[0].body.includes('İade için “kargo” ücreti 50 € mu?'), t.messages[0].body);
    assert.equal(t.customer.email, 'mehmet@example.net');
    assert.equal(t.customer.name, 'Mehmet Öztürk', 'the windows-1254 encoded name');
    await s.stop();
  });

  test('new mail opens an e-mail ticket, acknowledged in its thread; a reply by mail joins it (quote stripped)', async () => {
    const email = uniqueEmail('in');
    const first = mail({from: `Ayşe Yılmaz <${email}>`, subject: 'Kargom nerede?', body: 'Sipariş 5531 nerede?'});
    const res = await importMail(first.raw);
    assert.equal(res.result, 'created');
    const t = await ticket(res.ticket_id);
    assert.equal(t.channel, 'email');
    assert.equal(t.customer.name, 'Ayşe Yılmaz');
    const [ack] = await eventually(() => mailsTo(email), (ms) => ms.length === 1);
    assert.ok(ack.raw.includes(`[${t.reference}]`));
    assert.equal(ack.headers['in-reply-to'], first.messageId, 'the acknowledgement answers the customer\'s mail');
    // The customer answers the acknowledgement.
    const reply = mail({from: email, subject: `Re: [${t.reference}] Kargom nerede?`, inReplyTo: ack.headers['message-id'],
      references: `${first.messageId} ${ack.headers['message-id']}`,
      body: 'Hâlâ gelmedi.\r\n\r\nOn Mon, 23 Nov 2026 Destek wrote:\r\n> Talebinizi aldık'});
    const r2 = await importMail(reply.raw);
    assert.deepEqual([r2.result, r2.ticket_id], ['threaded', t.id]);
    const t2 = await ticket(t.id);
    assert.equal(t2.messages.length, 2);
    assert.equal(t2.messages[1].kind, 'customer');
    assert.equal(t2.messages[1].body, 'Hâlâ gelmedi.');
    // The agent answers: In-Reply-To is the customer's last mail.
    const ans = await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'reply', body: 'Yarın teslim edilecek.'});
    assert.equal(ans.status, 201, ans.text);
    const out = await eventually(() => mailsTo(email), (ms) => ms.length === 2);
    assert.equal(out[1].headers['in-reply-to'], reply.messageId);
    assert.ok(out[1].headers.references.includes(first.messageId));
    assert.ok(qp(out[1].body).includes('Yarın teslim edilecek.'));
    // The same message again (an MTA retry) is not filed twice.
    const dup = await importMail(reply.raw);
    assert.equal(dup.result, 'duplicate');
    assert.equal((await ticket(t.id)).messages.length, 3);
  });

  test('[#ref] in the subject threads mail from the ticket\'s customer only', async () => {
    const email = uniqueEmail('ref');
    const res = await importMail(mail({from: email, subject: 'İlk', body: 'a'}).raw);
    const t = await ticket(res.ticket_id);
    const same = await importMail(mail({from: email.toUpperCase(), subject: `Fwd: [${t.reference}] ek bilgi`, body: 'b'}).raw);
    assert.deepEqual([same.result, same.ticket_id], ['threaded', t.id]);
    const other = await importMail(mail({from: uniqueEmail('stranger'), subject: `[${t.reference}] başka`, body: 'c'}).raw);
    assert.equal(other.result, 'created');
    assert.notEqual(other.ticket_id, t.id);
  });

  test('mail From mallory with Reply-To bob and bob\'s reference never becomes bob\'s message, and nothing of bob\'s ticket is mailed to her', async () => {
    const bob = uniqueEmail('bob');
    const first = mail({from: `Bob Kaya <${bob}>`, subject: 'Kargom nerede?', body: 'Adresim BOB-SECRET Kadıköy 34710.'});
    const res = await importMail(first.raw);
    assert.equal(res.result, 'created');
    const [ack] = await eventually(() => mailsTo(bob), (ms) => ms.length === 1);
    const ackId = ack.headers['message-id'];
    const t = await ticket(res.ticket_id);
    // Every way a mail can point at bob's ticket, each from mallory with Reply-To: bob — none makes it bob's.
    const ways = [
      {name: 'all of them', inReplyTo: ackId, references: `${first.messageId} ${ackId}`, subject: `Re: [${t.reference}] Kargom nerede?`},
      {name: 'In-Reply-To', inReplyTo: ackId, subject: 'Re: Kargom nerede?'},
      {name: 'References', references: `${first.messageId} ${ackId}`, subject: 'Re: Kargom nerede?'},
      {name: 'subject reference', subject: `Re: [${t.reference}] Kargom nerede?`},
    ];
    const mallory = uniqueEmail('mallory');
    const filed = [];
    for (const w of ways) {
      const m = mail({from: `Bob Kaya <${mallory}>`, extra: [`Reply-To: ${bob}`], subject: w.subject, inReplyTo: w.inReplyTo,
        references: w.references, body: `Adresimi değiştirin (MALLORY-${w.name}).\r\n\r\n> Kargom nerede?`});
      const r = await importMail(m.raw);
      assert.equal(r.result, 'created', `${w.name}: a new ticket, not bob's (${JSON.stringify(r)})`);
      assert.notEqual(r.ticket_id, t.id, w.name);
      const mt = await ticket(r.ticket_id);
      assert.equal(mt.customer.email, mallory, `${w.name}: written by the From address`);
      assert.ok(mt.messages[0].body.includes(`MALLORY-${w.name}`));
      filed.push(mt);
    }
    // Bob's ticket: still only bob's message, unchanged; the agents see a note per mail, pointing at its ticket.
    const after = await ticket(t.id);
    assert.equal(after.status, 'new');
    assert.deepEqual(after.messages.filter((x) => x.kind !== 'note').map((x) => [x.kind, x.author.id]), [['customer', t.customer.id]]);
    const notes = after.messages.filter((x) => x.kind === 'note');
    assert.deepEqual(notes.map((x) => x.notice), filed.map((mt) => ({code: 'mail_other_sender', address: mallory,
      ticket_id: mt.id, reference: mt.reference})));
    assert.ok(notes.every((x) => x.body.includes(mallory) && !x.body.includes('MALLORY')), 'the note says who, not what');
    // Bob's link shows nothing of it.
    const view = await server.api('GET', `/api/v1/public/tickets/${t.number}?sig=${after.public_sig}`);
    assert.equal(view.status, 200, view.text);
    assert.ok(!view.text.includes('MALLORY') && !view.text.includes(mallory));
    // Mail: mallory gets the acknowledgement of each of her own tickets, nothing of bob's; bob gets nothing new.
    const hers = await eventually(() => mailsTo(mallory), (ms) => ms.length === ways.length);
    await new Promise((r) => setTimeout(r, T(700)));
    assert.equal(mailsTo(mallory).length, ways.length);
    for (const m of hers) {
      assert.ok(filed.some((mt) => m.headers.subject.includes(`[${mt.reference}]`)), m.headers.subject);
      for (const text of [m.raw, qp(m.raw)]) {   // 7bit or quoted-printable
        assert.ok(!text.includes('BOB-SECRET') && !text.includes(after.public_sig), 'nothing of bob\'s ticket');
      }
      assert.ok(!m.raw.includes(first.messageId) && !m.raw.includes(ackId), 'not threaded on bob\'s mail');
    }
    assert.equal(mailsTo(bob).length, 1, 'bob is not mailed about mallory\'s mail');
    // Bob himself, from his own address in capitals, still answers his ticket by mail.
    const own = await importMail(mail({from: bob.toUpperCase(), subject: `Re: [${t.reference}] Kargom nerede?`, inReplyTo: ackId,
      references: ackId, body: 'Hâlâ bekliyorum.'}).raw);
    assert.deepEqual([own.result, own.ticket_id], ['threaded', t.id]);
    const last = (await ticket(t.id)).messages.at(-1);
    assert.deepEqual([last.kind, last.author.id, last.body], ['customer', t.customer.id, 'Hâlâ bekliyorum.']);
  });

  test('auto-replies and bounces open nothing and trigger no mail; a bounce is a note on the ticket', async () => {
    const email = uniqueEmail('auto');
    const res = await importMail(mail({from: email, subject: 'Soru', body: 'q'}).raw);
    const [ack] = await eventually(() => mailsTo(email), (ms) => ms.length === 1);
    const before = (await listAll(server, '/api/v1/tickets', {session: admin})).length;
    const ooo = await importMail(mail({from: email, subject: 'Otomatik yanıt: Soru', inReplyTo: ack.headers['message-id'],
      extra: ['Auto-Submitted: auto-replied'], body: 'Ofis dışındayım.'}).raw);
    assert.deepEqual([ooo.result, ooo.ticket_id], ['auto_reply', res.ticket_id]);
    const lone = await importMail(mail({from: uniqueEmail('ooo'), subject: 'Out of office',
      extra: ['Auto-Submitted: auto-replied'], body: 'x'}).raw);
    assert.equal(lone.result, 'unparsed');
    const bulk = await importMail(corpus('bulk.eml'));
    assert.equal(bulk.result, 'unparsed');
    const ackId = ack.headers['message-id'];
    const dsn = Buffer.from([
      'From: Mail Delivery System <MAILER-DAEMON@mx.example>', 'To: destek@shop.example',
      'Subject: Undelivered Mail Returned to Sender', `Message-ID: <dsn-${process.pid}@mx.example>`,
      'MIME-Version: 1.0', 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"', '',
      '--b', 'Content-Type: text/plain', '', `<${email}>: mailbox full`, '',
      '--b', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example', '',
      `Final-Recipient: rfc822; ${email}`, 'Action: failed', 'Status: 5.2.2', '',
      '--b', 'Content-Type: text/rfc822-headers', '', 'From: destek@shop.example', `To: ${email}`,
      `Message-ID: ${ackId}`, 'Subject: x', '', '--b--', ''].join('\r\n'));
    const b = await importMail(dsn);
    assert.deepEqual([b.result, b.ticket_id], ['bounce', res.ticket_id]);
    const t = await ticket(res.ticket_id);
    assert.deepEqual(t.messages.map((m) => m.kind), ['customer', 'note', 'note']);
    assert.match(t.messages[2].body, /Mail delivery failed/);
    assert.match(t.messages[2].body, /mailbox full/);
    assert.equal(t.status, 'new', 'an automatic reply does not reopen or change the ticket');
    const unknownBounce = await importMail(corpus('bounce.eml'));
    assert.equal(unknownBounce.result, 'unparsed');
    assert.equal((await listAll(server, '/api/v1/tickets', {session: admin})).length, before, 'no ticket was opened');
    await new Promise((r) => setTimeout(r, T(700)));
    assert.equal(mailsTo(email).length, 1, 'nothing answered the automatic mail');
  });

  test('a message that cannot be parsed is kept raw and listed for admins', async () => {
    const raw = corpus('garbage.eml');
    const res = await importMail(raw);
    assert.equal(res.result, 'unparsed');
    const list = await api('GET', '/api/v1/mail/unparsed?limit=2');
    assert.equal(list.status, 200, list.text);
    const item = list.json.items[0];
    assert.equal(item.id, res.unparsed_id);
    assert.match(item.reason, /^unparsable/);
    assert.equal(item.source, 'cli');
    assert.equal(item.size, raw.length);
    assert.ok(list.json.next_cursor, 'paged');
    const page2 = await api('GET', `/api/v1/mail/unparsed?limit=2&cursor=${encodeURIComponent(list.json.next_cursor)}`);
    assert.equal(page2.status, 200, page2.text);
    assert.ok(page2.json.items.every((x) => x.id < item.id));
    const got = await server.api('GET', `/api/v1/mail/unparsed/${item.id}/raw`, {session: admin});
    assert.equal(got.status, 200);
    assert.equal(Buffer.compare(got.body, raw), 0, 'kept byte for byte');
    assert.equal((await server.api('GET', '/api/v1/mail/unparsed')).status, 401);
    assert.equal((await api('GET', '/api/v1/mail/unparsed/999999/raw')).status, 404);
  });

  test('attachments and inline images become ticket attachments; the HTML is sanitised and points at them', async () => {
    const res = await importMail(corpus('nested.eml'));
    assert.equal(res.result, 'created');
    const t = await ticket(res.ticket_id);
    const m = t.messages[0];
    const names = (m.attachments || []).map((a) => a.filename).sort();
    assert.deepEqual(names, ['[#1001] Siparişiniz alındı.eml', 'foto.png', 'İrsaliye Kasım.pdf'].sort());
    const foto = m.attachments.find((a) => a.filename === 'foto.png');
    assert.ok(m.body_html.includes(`src="/api/v1/attachments/${foto.id}"`), `the inline image points at its attachment: ${m.body_html}`);
    const html = await importMail(corpus('html_only.eml'));
    const h = (await ticket(html.ticket_id)).messages[0];
    assert.ok(h.body_html, 'HTML kept');
    assert.ok(!/<script|onerror|javascript:/i.test(h.body_html), h.body_html);
  });
});
