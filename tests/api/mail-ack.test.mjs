// The web form cannot make the shop's mail server a spam relay (issue 9, item 9), against a real SMTP server on
// loopback (aiosmtpd): the acknowledgement mailed to whatever address was typed carries no text the visitor typed
// but the ticket number — in Turkish and English, with the out-of-hours notice folded in, in the Subject and To
// headers too — and one address gets at most mail.ack_limit acknowledgements an hour, counted durably, while every
// ticket is still filed.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, listAll, eventually, uniqueEmail, T, disableOutOfHoursReply} from './lib.mjs';
import {startSmtp, qp} from './mail-helpers.mjs';

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

const api = (method, p, body, s = server, session = admin) => s.api(method, p, {session, body});
const mailsTo = (to) => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === to);
/** RFC 2047 encoded words decoded, in whatever charset GMime chose (UTF-8, ISO-8859-9...). */
const words = (h) => (h || '').replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_, cs, enc, text) => {
  const bytes = /b/i.test(enc) ? Buffer.from(text, 'base64')
    : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (x, hex) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  return new TextDecoder(cs.toLowerCase()).decode(bytes);
});
/** Everything a reader of the mail sees: decoded headers, text and HTML parts (quoted-printable or base64). */
function readable(m) {
  const parts = m.raw.split(/\r\n--/).map((p) => {
    const cut = p.indexOf('\r\n\r\n');
    const head = p.slice(0, cut);
    const body = p.slice(cut + 4);
    if (/base64/i.test(head) && /text\//i.test(head)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    return qp(body);
  });
  return [words(m.headers.subject), words(m.headers.to), ...parts].join('\n');
}

const PHISH_NAME = 'Hesabınız askıya alındı, hemen girin: http://evil.example/giris';
const PHISH_SUBJECT = 'Your account is locked, log in at http://evil.example/login';
const PHISH_ORDER = 'EVIL-ORDER-777';

describe('the acknowledgement carries nothing the visitor typed', () => {
  test('no typed name, subject or order number in Turkish or English, nor in the folded out-of-hours notice', async () => {
    // An out-of-hours style notice, at any hour, that names every variable a visitor types.
    const trg = await api('POST', '/api/v1/triggers', {name: 'Her saat bildirimi', event: 'ticket.created',
      conditions: {actor: 'customer'}, actions: {
        reply_tr: 'Merhaba {{customer.name}}, {{ticket.reference}} numaralı ({{ticket.subject}}, {{order_number}}) talebinizi aldık. Mesai dışındayız.',
        reply_en: 'Hello {{customer.name}}, we have your request {{ticket.reference}} ({{ticket.subject}}, {{order_number}}). We are closed now.'}});
    assert.equal(trg.status, 201, trg.text);
    try {
      for (const [lang, lead, notice, closed] of [
        ['tr', 'Talebinizi aldık; numarası', 'Merhaba, REF numaralı', 'Mesai dışındayız.'],
        ['en', 'its reference is', 'Hello, we have your request REF', 'We are closed now.']]) {
        const email = uniqueEmail(`phish-${lang}`);
        const res = await server.api('POST', '/api/v1/public/tickets', {body: {name: PHISH_NAME, email, subject: PHISH_SUBJECT,
          body: 'Gövde metni de posta ile gitmez.', order_number: PHISH_ORDER, lang}});
        assert.equal(res.status, 201, res.text);
        const ref = res.json.reference;
        const [m] = await eventually(() => mailsTo(email), (ms) => ms.length >= 1, {ms: T(10000)});
        assert.ok(m, `an acknowledgement to ${email}`);
        const seen = readable(m);
        for (const typed of [PHISH_NAME, 'evil.example', PHISH_SUBJECT, PHISH_ORDER, 'Gövde metni']) {
          assert.ok(!seen.includes(typed), `${lang}: "${typed}" is in the mail:\n${seen}`);
        }
        assert.equal(words(m.headers.subject), lang === 'tr' ? `[${ref}] Talebinizi aldık` : `[${ref}] We have received your request`);
        assert.ok(words(m.headers.to).includes(email) && !/evil|askıya|Hesab/i.test(words(m.headers.to)), `To: ${m.headers.to}`);
        assert.ok(seen.includes(`${lead} ${ref}`), `the ticket number:\n${seen}`);
        assert.ok(seen.includes(notice.replace('REF', ref)) && seen.includes(closed), `the notice is folded in:\n${seen}`);
        // The thread shows the notice as it was mailed; the ticket keeps what the visitor typed.
        const t = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin})).find((x) => x.reference === ref);
        const full = (await api('GET', `/api/v1/tickets/${t.id}`)).json;
        assert.equal(full.subject, PHISH_SUBJECT);
        assert.ok(!full.messages.find((x) => x.kind === 'reply').body.includes('evil'));
      }
    } finally {
      await api('DELETE', `/api/v1/triggers/${trg.json.id}`);
    }
  });
});

describe('acknowledgements per address', () => {
  test('a burst of eight forms for one address files eight tickets and mails three acknowledgements, durably', async () => {
    const victim = uniqueEmail('victim');
    const form = (s, i) => s.api('POST', '/api/v1/public/tickets', {body: {name: 'x', email: victim, subject: `s${i}`, body: 'b'}});
    const results = await Promise.all(Array.from({length: 8}, (_, i) => form(server, i)));
    assert.deepEqual(results.map((r) => r.status), Array(8).fill(201), 'every ticket is filed');
    const tickets = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin}))
      .filter((t) => results.some((r) => r.json.reference === t.reference));
    assert.equal(tickets.length, 8);
    // Each ticket's acknowledgement is decided: sent, or withheld with the reason.
    const status = async () => (await Promise.all(tickets.map(async (t) =>
      (await api('GET', `/api/v1/tickets/${t.id}/mail-status`)).json.items))).flat();
    const st = await eventually(status, (s) => s.length === 8 && s.every((x) => ['sent', 'withheld'].includes(x.status)),
      {ms: T(15000)});
    assert.equal(st.filter((x) => x.status === 'sent').length, 3, JSON.stringify(st));
    for (const w of st.filter((x) => x.status === 'withheld')) assert.match(w.last_error, /mail\.ack_limit/);
    await new Promise((r) => setTimeout(r, T(1000)));
    assert.equal(mailsTo(victim).length, 3, 'three acknowledgements reached the address');

    // The count survives a restart (it is in the database), and the setting changes it.
    const dataDir = server.dataDir;
    await server.stop();
    server = await startServer({dataDir});
    assert.equal((await form(server, 9)).status, 201);
    await new Promise((r) => setTimeout(r, T(1500)));
    assert.equal(mailsTo(victim).length, 3, 'still three after a restart');
    assert.equal((await api('PATCH', '/api/v1/settings', {'mail.ack_limit': 5})).status, 200);
    assert.equal((await form(server, 10)).status, 201);
    await eventually(() => mailsTo(victim), (ms) => ms.length === 4, {ms: T(10000)});
    assert.equal(mailsTo(victim).length, 4, 'a higher mail.ack_limit lets one more through');
  });
});

describe('deliveries only for acknowledgements to send', () => {
  test('a ticket opened over the API queues no mail delivery; one from the web form does, and is acknowledged', async () => {
    const mine = async (id) => (await listAll(server, '/api/v1/events/deliveries?subscriber=ticketing:ticket.created',
      {session: admin, limit: 100})).filter((d) => d.subject === `ticket:${id}`);
    const viaApi = await api('POST', '/api/v1/tickets', {subject: 'API ile açılan talep', body: 'Merhaba',
      customer: {email: uniqueEmail('api-ack'), name: 'Ayşe Yılmaz'}});
    assert.equal(viaApi.status, 201, viaApi.text);
    const email = uniqueEmail('form-ack');
    const form = await server.api('POST', '/api/v1/public/tickets', {body: {name: 'Ayşe Yılmaz', email,
      subject: 'Formdan gelen talep', body: 'Merhaba'}});
    assert.equal(form.status, 201, form.text);
    const formTicket = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin}))
      .find((t) => t.reference === form.json.reference);
    assert.ok(formTicket, 'the form ticket is listed');
    const mails = await eventually(() => mailsTo(email), (m) => m.length === 1, {ms: T(15000)});
    assert.equal(mails.length, 1, 'the form ticket is acknowledged');
    assert.equal((await mine(formTicket.id)).length, 1);
    assert.deepEqual(await mine(viaApi.json.id), []);
  });
});
