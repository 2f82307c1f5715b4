// The e-mail channel, outbound, against a real SMTP server on loopback (aiosmtpd): the acknowledgement of a
// web-form ticket, an agent's reply threaded on it, the solved notice, Turkish and English templates, the signed
// link, attachments, a server that is down (retried, then delivered; or dead, shown in mail-status).
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, listAll, eventually, uniqueEmail, T, disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, freePort, qp} from './mail-helpers.mjs';

let server, admin, smtp;

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.from_name': 'Dükkan Destek', 'ticketing.public_form_limit': 1000, 'events.retry_base_seconds': 1});
  assert.equal(set.status, 200, set.text);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});

/** Waits for the first caught mail to `to` whose subject contains `needle`. */
const mailTo = (to, needle) => eventually(() => smtp.mails(),
  (ms) => ms.some((m) => m.headers['x-sink-rcpt-to'] === to && m.raw.includes(needle)), {ms: T(10000)})
  .then((ms) => ms.filter((m) => m.headers['x-sink-rcpt-to'] === to && m.raw.includes(needle)));

/** RFC 2047 B-encoded words decoded (enough for what mail_compose_new writes). */
const decodeWords = (h) => h.replace(/\?=\s+=\?/g, '?==?').replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b) => Buffer.from(b, 'base64').toString('utf8'));

const mailStatus = async (id) => (await api('GET', `/api/v1/tickets/${id}/mail-status`)).json.items;

async function webTicket(email, lang = 'tr', name = 'Elif Yılmaz') {
  const res = await server.api('POST', '/api/v1/public/tickets', {body: {name, email, subject: 'Ürün hasarlı geldi',
    body: 'Kutu ezik.'}, headers: {'accept-language': lang}});
  assert.equal(res.status, 201, res.text);
  const t = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin})).find((x) => x.reference === res.json.reference);
  return t;
}

describe('outbound mail', () => {
  test('web-form ticket: a Turkish acknowledgement with [#ref], Message-ID, Auto-Submitted, text + HTML, the signed link, nothing typed', async () => {
    const email = uniqueEmail('ack');
    const t = await webTicket(email);
    const [m] = await mailTo(email, t.reference);
    assert.equal(m.headers['x-sink-mail-from'], 'destek@shop.example');
    assert.ok(m.headers.subject.startsWith(`${t.reference} `.replace('#', '[#').replace(' ', '] ')), m.headers.subject);
    assert.match(m.headers.subject, /=\?UTF-8\?B\?/i, 'a Turkish subject is encoded');
    assert.equal(decodeWords(m.headers.subject), `[${t.reference}] Talebinizi aldık`, 'our subject, not the one typed');
    assert.match(m.headers['message-id'], /^<[^@>]+@shop\.example>$/);
    assert.equal(m.headers['auto-submitted'], 'auto-replied');
    assert.match(m.headers['content-type'], /multipart\/alternative/);
    const text = qp(m.body);
    assert.ok(text.includes('Merhaba,'), text);
    assert.ok(!text.includes('Elif') && !decodeWords(m.headers.to).includes('Elif'), 'no typed name');
    assert.ok(text.includes(`Talebinizi aldık; numarası ${t.reference}`), text);
    const full = await api('GET', `/api/v1/tickets/${t.id}`);
    const num = t.reference.slice(1);
    // The signed link is the ticket's page in the customer portal, on the server's own address (no mail.public_url).
    assert.ok(text.includes(`${server.url}/t/${num}?sig=${full.json.public_sig}`), 'the signed link');
    assert.match(text, /text\/html/);
    // The link works for the customer: the page, and the API it reads with the same signature.
    const link = new URL(text.match(/(http:\/\/\S+sig=[0-9a-f]{64})/)[1]);
    const page = await server.api('GET', link.pathname + link.search);
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'], /^text\/html/);
    assert.match(page.text, /\/assets\/portal\.js\?v=/);
    const pub = await server.api('GET', `/api/v1/public/tickets/${num}${link.search}`);
    assert.equal(pub.status, 200, pub.text);
    assert.equal(pub.json.reference, t.reference);
    const st = await eventually(() => mailStatus(t.id), (s) => s.length === 1 && s[0].status === 'sent');
    assert.equal(st[0].kind, 'ack');
    assert.equal(st[0].to, email);
    assert.equal(`<${st[0].message_id_header}>`, m.headers['message-id']);
    assert.equal(st[0].attempts, 1);
    assert.equal(st[0].last_error, null);
  });

  test('mail.public_url is the base of the link (a trailing slash is dropped)', async () => {
    assert.equal((await api('PATCH', '/api/v1/settings', {'mail.public_url': 'https://destek.shop.example/'})).status, 200);
    try {
      const email = uniqueEmail('base');
      const t = await webTicket(email);
      const [m] = await mailTo(email, t.reference);
      const sig = (await api('GET', `/api/v1/tickets/${t.id}`)).json.public_sig;
      assert.ok(qp(m.body).includes(`https://destek.shop.example/t/${t.reference.slice(1)}?sig=${sig}`), qp(m.body));
    } finally {
      assert.equal((await api('PATCH', '/api/v1/settings', {'mail.public_url': ''})).status, 200);
    }
  });

  test('English customer: English acknowledgement', async () => {
    const email = uniqueEmail('en');
    const t = await webTicket(email, 'en', 'John Smith');
    const [m] = await mailTo(email, t.reference);
    const text = qp(m.body);
    assert.ok(text.includes('Hello,') && !text.includes('John'), text);
    assert.equal(decodeWords(m.headers.subject), `[${t.reference}] We have received your request`);
    assert.ok(text.includes(`its reference is ${t.reference}`), text);
  });

  test('agent reply: Re: [#ref], In-Reply-To and References thread on the earlier mail, attachment, HTML escaped', async () => {
    const email = uniqueEmail('reply');
    const t = await webTicket(email);
    const [ack] = await mailTo(email, t.reference);
    const res = await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'reply',
      body: 'Yeni ürün kargoda <b>yarın</b> elinizde.',
      attachments: [{filename: 'fatura.txt', content_type: 'text/plain', data_base64: Buffer.from('FATURA-123').toString('base64')}]});
    assert.equal(res.status, 201, res.text);
    const msgId = res.json.id ?? res.json.message?.id;
    const mails = await mailTo(email, 'fatura.txt');
    const m = mails[0];
    assert.equal(m.headers['in-reply-to'], ack.headers['message-id']);
    assert.ok(m.headers.references.includes(ack.headers['message-id']));
    assert.equal(m.headers['auto-submitted'], undefined, 'a human reply is not marked automatic');
    assert.match(m.headers['content-type'], /multipart\/mixed/);
    assert.ok(m.raw.includes(Buffer.from('FATURA-123').toString('base64')), 'the attachment is in the mail');
    assert.ok(m.raw.includes('&lt;b&gt;yar'), 'the text is escaped in the HTML part');
    const st = await eventually(() => mailStatus(t.id), (s) => s.length === 2 && s[1].status === 'sent');
    assert.equal(st[1].kind, 'reply');
    if (msgId) assert.equal(st[1].message_id, msgId);
    // Notes are never mailed.
    const note = await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'note', body: 'iç not GİZLİ'});
    assert.equal(note.status, 201, note.text);
    // Solved notice.
    const solved = await api('PATCH', `/api/v1/tickets/${t.id}`, {status: 'solved'});
    assert.equal(solved.status, 200, solved.text);
    await eventually(() => mailStatus(t.id), (s) => s.some((x) => x.kind === 'solved' && x.status === 'sent'));
    const all = smtp.mails().filter((x) => x.headers['x-sink-rcpt-to'] === email);
    assert.equal(all.length, 3, 'ack, reply, solved — not the note');
    assert.ok(!all.some((x) => x.raw.includes('GİZLİ') || qp(x.raw).includes('GİZLİ')));
    assert.ok(qp(all[2].body).includes('çözüldü olarak işaretlendi'));
  });

  test('API ticket without ack_needed sends nothing; merge tells the customer once', async () => {
    const email = uniqueEmail('merge');
    const a = await api('POST', '/api/v1/tickets', {subject: 'A', customer: {email, name: 'Can', lang: 'en'}, body: 'a'});
    const b = await api('POST', '/api/v1/tickets', {subject: 'B', customer: {email, name: 'Can', lang: 'en'}, body: 'b'});
    assert.equal(a.status, 201, a.text);
    const mg = await api('POST', `/api/v1/tickets/${a.json.id}/merge`, {source_id: b.json.id});
    assert.equal(mg.status, 200, mg.text);
    const ms = await mailTo(email, 'merged into this one');
    assert.equal(ms.length, 1);
    assert.ok(ms[0].headers.subject.includes(a.json.reference));
    assert.ok(qp(ms[0].body).includes(`Your request ${b.json.reference} has been merged`));
    await new Promise((r) => setTimeout(r, T(500)));
    assert.equal(smtp.mails().filter((x) => x.headers['x-sink-rcpt-to'] === email).length, 1, 'no acknowledgement for API tickets');
  });
});

describe('one mail when a ticket opens', () => {
  // The out-of-hours auto-reply answers as the ticket opens, just when its acknowledgement goes out: the customer gets
  // one mail, the acknowledgement with the notice in it. A trigger like it (here: at any hour) stands in for it.
  test('an automatic reply said as a web-form ticket opens goes inside the acknowledgement, not in a second mail', async () => {
    const mark = `Bayram tatilindeyiz ${Date.now()}`;
    const trg = await api('POST', '/api/v1/triggers', {name: `Tatil ${Date.now()}`, event: 'ticket.created',
      conditions: {actor: 'customer'}, actions: {reply_tr: `${mark}; {{ticket.reference}} numaralı talebinize döneceğiz.`,
        reply_en: `${mark} (en)`}});
    assert.equal(trg.status, 201, trg.text);
    try {
      const email = uniqueEmail('tatil');
      const t = await webTicket(email);
      const [m] = await mailTo(email, t.reference);
      const text = qp(m.body);
      assert.ok(text.includes(`Talebinizi aldık; numarası ${t.reference}`), text);
      assert.ok(text.includes(`${mark}; ${t.reference} numaralı talebinize döneceğiz.`), text);
      const full = (await api('GET', `/api/v1/tickets/${t.id}`)).json;
      assert.deepEqual(full.messages.map((x) => x.kind), ['customer', 'reply'], 'the notice is in the thread');
      await new Promise((r) => setTimeout(r, T(1500)));
      assert.equal(smtp.mails().filter((x) => x.headers['x-sink-rcpt-to'] === email).length, 1, 'one mail');
      assert.deepEqual((await mailStatus(t.id)).map((s) => s.kind), ['ack']);
      // Later automatic replies (the customer writes again) are mailed on their own.
      const follow = await server.api('POST', `/api/v1/public/tickets/${t.reference.slice(1)}/messages`,
        {body: {body: 'Bir şey daha', sig: full.public_sig}});
      assert.equal(follow.status, 201, follow.text);
      const agentReply = await api('POST', `/api/v1/tickets/${t.id}/messages`, {body: 'Tamam, kontrol edildi.'});
      assert.equal(agentReply.status, 201, agentReply.text);
      const replies = await mailTo(email, 'Tamam, kontrol edildi.');
      assert.equal(replies.length, 1);
    } finally {
      await api('DELETE', `/api/v1/triggers/${trg.json.id}`);
    }
  });
});

describe('SMTP failures', () => {
  test('server down: the send is retried with backoff and delivered when it comes back', async () => {
    const port = await freePort();
    const s = await startServer();
    const a = await setupAdmin(s);
    await disableOutOfHoursReply(s, a);
    const set = await s.api('PATCH', '/api/v1/settings', {session: a, body: {'mail.smtp_url': `smtp://127.0.0.1:${port}`,
      'mail.from': 'destek@shop.example', 'events.retry_base_seconds': 1}});
    assert.equal(set.status, 200, set.text);
    const email = uniqueEmail('down');
    const res = await s.api('POST', '/api/v1/public/tickets', {body: {name: 'Ali', email, subject: 'Kargo', body: 'Nerede?'}});
    assert.equal(res.status, 201, res.text);
    const t = (await listAll(s, '/api/v1/tickets', {session: a})).find((x) => x.reference === res.json.reference);
    const st = async () => (await s.api('GET', `/api/v1/tickets/${t.id}/mail-status`, {session: a})).json.items;
    const failed = await eventually(st, (x) => x.length === 1 && x[0].attempts >= 1);
    assert.equal(failed[0].status, 'sending');
    assert.match(failed[0].last_error, /SMTP/);
    const first = failed[0].message_id_header;
    const late = await startSmtp({port});
    const done = await eventually(st, (x) => x[0].status === 'sent', {ms: T(20000)});
    assert.ok(done[0].attempts >= 2);
    assert.equal(done[0].message_id_header, first, 'a retried mail keeps its Message-ID');
    const got = late.mails();
    assert.equal(got.length, 1);
    assert.equal(got[0].headers['message-id'], `<${first}>`);
    await late.stop();
  });

  test('a send that finally fails is dead, with its error, on the ticket', async () => {
    const port = await freePort();
    const s = await startServer();
    const a = await setupAdmin(s);
    await disableOutOfHoursReply(s, a);
    const set = await s.api('PATCH', '/api/v1/settings', {session: a, body: {'mail.smtp_url': `smtp://127.0.0.1:${port}`,
      'mail.from': 'destek@shop.example', 'events.retry_base_seconds': 1, 'events.retry_limit': 2}});
    assert.equal(set.status, 200, set.text);
    const res = await s.api('POST', '/api/v1/public/tickets', {body: {name: 'Ali', email: uniqueEmail('dead'), subject: 'K', body: 'N'}});
    const t = (await listAll(s, '/api/v1/tickets', {session: a})).find((x) => x.reference === res.json.reference);
    const st = await eventually(async () => (await s.api('GET', `/api/v1/tickets/${t.id}/mail-status`, {session: a})).json.items,
      (x) => x.length === 1 && x[0].status === 'dead', {ms: T(15000)});
    assert.equal(st[0].attempts, 2);
    assert.match(st[0].last_error, /SMTP/);
    const secret = await s.api('GET', '/api/v1/settings', {session: a});
    assert.equal(secret.status, 200);
    assert.ok(!JSON.stringify(secret.json).includes('"mail.smtp_password":"'), 'secrets are not returned');
    const unknown = await s.api('GET', '/api/v1/tickets/999999/mail-status', {session: a});
    assert.equal(unknown.status, 404);
    const anon = await s.api('GET', `/api/v1/tickets/${t.id}/mail-status`);
    assert.equal(anon.status, 401);
  });
});
