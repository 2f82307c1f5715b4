// Merging two customers' tickets (README.md, "Merging"): the agent has to confirm it, and afterwards each customer
// still sees only their own part — the portal's JSON, signed downloads, replies through the link, mail to them
// (threading headers too) and mail from them. Mail goes through a real SMTP server on loopback (aiosmtpd).
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, listAll, eventually, uniqueEmail, runCli, T, assertError,
  disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, qp} from './mail-helpers.mjs';

let server, admin, smtp;

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'ticketing.public_form_limit': 1000, 'ticketing.public_reply_limit': 1000});
  assert.equal(set.status, 200, set.text);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const pub = (method, p, body) => server.api(method, p, {body});
const ticket = async (id) => (await api('GET', `/api/v1/tickets/${id}`)).json;
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to);
const settle = () => new Promise((r) => setTimeout(r, T(700)));

async function webTicket({name, email, subject, body, attachments}) {
  const res = await pub('POST', '/api/v1/public/tickets', {name, email, subject, body, attachments, lang: 'en'});
  assert.equal(res.status, 201, res.text);
  const t = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin})).find((x) => x.reference === res.json.reference);
  return ticket(t.id);
}

describe('merging two customers\' tickets', () => {
  test('merging alice\'s ticket into bob\'s needs confirmation; then each link, download and mail shows its own customer\'s part only', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d494844520000000100000001', 'hex');
    const alice = uniqueEmail('alice');
    const bob = uniqueEmail('bob');
    const a = await webTicket({name: 'Alice Aksoy', email: alice, subject: 'Kimlik doğrulama', body: 'ALICE-SECRET kimliğim ekte.',
      attachments: [{filename: 'id-card.png', content_type: 'image/png', data_base64: png.toString('base64')}]});
    const b = await webTicket({name: 'Bob Bulut', email: bob, subject: 'Kargo gecikti', body: 'BOB-SECRET siparişim gelmedi.'});
    const before = await api('POST', `/api/v1/tickets/${a.id}/messages`, {kind: 'reply', body: 'ALICE-ANSWER-1 aldık.'});
    assert.equal(before.status, 201, before.text);
    await eventually(() => mailsTo(alice), (ms) => ms.length === 2);
    await eventually(() => mailsTo(bob), (ms) => ms.length === 1);
    const aliceIds = mailsTo(alice).map((m) => m.headers['message-id']);

    // Without confirmation: refused, naming both tickets and both customers; nothing changes.
    const refused = await api('POST', `/api/v1/tickets/${b.id}/merge`, {source_id: a.id});
    assertError(refused, 409, 'customers_differ');
    assert.deepEqual([refused.json.error.target.reference, refused.json.error.target.customer.email,
      refused.json.error.source.reference, refused.json.error.source.customer.email], [b.reference, bob, a.reference, alice]);
    assert.equal((await ticket(a.id)).merged_into, null);
    assertError(await api('POST', `/api/v1/tickets/${b.id}/merge`, {source_id: a.id, confirm_different_customers: 'yes'}),
      422, 'invalid_field', 'confirm_different_customers');
    const merged = await api('POST', `/api/v1/tickets/${b.id}/merge`, {source_id: a.id, confirm_different_customers: true});
    assert.equal(merged.status, 200, merged.text);
    assert.deepEqual(merged.json.parts.map((p) => [p.reference, p.customer.email]), [[b.reference, bob], [a.reference, alice]]);
    assert.deepEqual(merged.json.messages.map((m) => m.part_ticket_id), [a.id, b.id, a.id], 'each message keeps its part');
    const ev = (await listAll(server, `/api/v1/events?event=ticket.merged&subject=ticket:${b.id}`, {session: admin}))[0].payload;
    assert.equal(ev.notify_customer, false, 'nobody is told about another customer\'s ticket');

    // Bob's link: bob's part only. Alice's file is not his to download.
    const bobView = await pub('GET', `/api/v1/public/tickets/${b.number}?sig=${b.public_sig}`);
    assert.equal(bobView.status, 200, bobView.text);
    assert.deepEqual(bobView.json.messages.map((m) => m.body), ['BOB-SECRET siparişim gelmedi.']);
    assert.ok(!/ALICE|id-card|Alice/.test(bobView.text), 'nothing of alice in bob\'s view');
    const cardId = merged.json.messages[0].attachments[0].id;
    assertError(await pub('GET', `/api/v1/public/tickets/${b.number}/attachments/${cardId}?sig=${b.public_sig}`), 404, 'not_found');
    // Alice's link keeps working: her part, her file.
    const aliceView = await pub('GET', `/api/v1/public/tickets/${a.number}?sig=${a.public_sig}`);
    assert.equal(aliceView.status, 200, aliceView.text);
    assert.equal(aliceView.json.reference, a.reference);
    assert.deepEqual(aliceView.json.messages.map((m) => m.body), ['ALICE-SECRET kimliğim ekte.', 'ALICE-ANSWER-1 aldık.']);
    assert.ok(!/BOB|Bob/.test(aliceView.text) && !aliceView.text.includes(b.reference), 'nothing of bob in alice\'s view');
    const card = await pub('GET', aliceView.json.messages[0].attachments[0].url);
    assert.equal(card.status, 200);
    assert.deepEqual(card.body, png);

    // Alice replies through her link: it lands in the merged ticket as hers, and only she sees it.
    const r1 = await pub('POST', `/api/v1/public/tickets/${a.number}/messages`, {sig: a.public_sig, body: 'ALICE-LINK-REPLY'});
    assert.equal(r1.status, 201, r1.text);
    assert.equal(r1.json.reference, a.reference);
    assert.ok(!/BOB/.test(r1.text));
    let thread = await ticket(b.id);
    assert.deepEqual([thread.messages.at(-1).body, thread.messages.at(-1).author.id, thread.messages.at(-1).part_ticket_id],
      ['ALICE-LINK-REPLY', a.customer.id, a.id]);
    assert.ok(!(await pub('GET', `/api/v1/public/tickets/${b.number}?sig=${b.public_sig}`)).text.includes('ALICE'));

    // An agent's reply says whom it is for; it goes to that customer only, about their own ticket.
    assertError(await api('POST', `/api/v1/tickets/${b.id}/messages`, {kind: 'reply', body: 'x'}), 422, 'missing_field', 'to_customer_id');
    assertError(await api('POST', `/api/v1/tickets/${b.id}/messages`, {kind: 'reply', body: 'x', to_customer_id: 999999}),
      422, 'invalid_field', 'to_customer_id');
    const toAlice = await api('POST', `/api/v1/tickets/${b.id}/messages`, {kind: 'reply', body: 'ALICE-ANSWER-2 doğrulandı.',
      to_customer_id: a.customer.id});
    assert.equal(toAlice.status, 201, toAlice.text);
    assert.equal(toAlice.json.message.part_ticket_id, a.id);
    const toBob = await api('POST', `/api/v1/tickets/${b.id}/messages`, {kind: 'reply', body: 'BOB-ANSWER kargoda.',
      to_customer_id: b.customer.id});
    assert.equal(toBob.status, 201, toBob.text);
    // A macro's reply too, with the variables of the customer it is for.
    const macro = await api('POST', '/api/v1/macros', {name: `Selam ${Date.now()}`, body_tr: 'Merhaba {{customer.name}} ({{ticket.reference}})',
      body_en: 'Hello {{customer.name}} ({{ticket.reference}})'});
    assert.equal(macro.status, 201, macro.text);
    assertError(await api('POST', `/api/v1/tickets/${b.id}/macros/${macro.json.id}/apply`), 422, 'missing_field', 'to_customer_id');
    const applied = await api('POST', `/api/v1/tickets/${b.id}/macros/${macro.json.id}/apply`, {to_customer_id: a.customer.id});
    assert.equal(applied.status, 200, applied.text);
    assert.equal(applied.json.messages.at(-1).body, `Hello Alice Aksoy (${a.reference})`);

    const aliceMail = await eventually(() => mailsTo(alice), (ms) => ms.length === 4);
    const bobMail = await eventually(() => mailsTo(bob), (ms) => ms.length === 2);
    await settle();
    assert.equal(mailsTo(alice).length, 4, 'ack, two answers and the macro\'s');
    assert.equal(mailsTo(bob).length, 2, 'ack and his answer');
    for (const m of aliceMail.slice(2)) {
      assert.ok(m.headers.subject.includes(`[${a.reference}]`) && !m.headers.subject.includes(b.reference), m.headers.subject);
      // 7bit or quoted-printable, as the text needs: look at it both ways.
      const texts = [m.raw, qp(m.raw)];
      assert.ok(texts.some((x) => x.includes(`/t/${a.number}?sig=${a.public_sig}`)), 'her own link');
      assert.ok(texts.every((x) => !/BOB/.test(x) && !x.includes(b.public_sig)), 'nothing of bob');
    }
    assert.ok(qp(aliceMail[2].raw).includes('ALICE-ANSWER-2'));
    const bobAnswer = bobMail[1];
    assert.ok(bobAnswer.headers.subject.includes(`[${b.reference}]`));
    assert.ok(!/ALICE/.test(qp(bobAnswer.raw)));
    for (const id of aliceIds) assert.ok(!bobAnswer.raw.includes(id), 'bob\'s mail is not threaded on alice\'s');
    assert.ok(!(await pub('GET', `/api/v1/public/tickets/${b.number}?sig=${b.public_sig}`)).text.includes('ALICE'));
    assert.deepEqual((await pub('GET', `/api/v1/public/tickets/${a.number}?sig=${a.public_sig}`)).json.messages.map((m) => m.body),
      ['ALICE-SECRET kimliğim ekte.', 'ALICE-ANSWER-1 aldık.', 'ALICE-LINK-REPLY', 'ALICE-ANSWER-2 doğrulandı.',
        `Hello Alice Aksoy (${a.reference})`]);

    // Alice answers that mail: it is her message in her part of the merged ticket.
    const raw = Buffer.from([`From: Alice Aksoy <${alice}>`, 'To: destek@shop.example', `Subject: Re: [${a.reference}] Kimlik`,
      `Message-ID: <alice-${process.pid}@example.net>`, `In-Reply-To: ${aliceMail[2].headers['message-id']}`,
      'Content-Type: text/plain; charset=utf-8', '', 'ALICE-MAIL-REPLY', ''].join('\r\n'));
    const cli = await runCli(['mail', 'import', '--data', server.dataDir], {input: raw});
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout.trim().split('\n').pop()).ticket_id, b.id);
    thread = await ticket(b.id);
    assert.deepEqual([thread.messages.at(-1).body, thread.messages.at(-1).author.id, thread.messages.at(-1).part_ticket_id],
      ['ALICE-MAIL-REPLY', a.customer.id, a.id]);
    assert.ok(!(await pub('GET', `/api/v1/public/tickets/${b.number}?sig=${b.public_sig}`)).text.includes('ALICE'));
  });
});
