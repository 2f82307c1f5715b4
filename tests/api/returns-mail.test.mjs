// The answer by mail, in the customer's language: a withdrawal approved at once mails the return code, the carrier's
// agreement code, the address, the deadline and the signed link to the return's page (a public reply on the
// return's ticket, which ticketing mails through the real SMTP path to aiosmtpd); a rejection mails its reason.
import {test, before} from 'node:test';
import assert from 'node:assert/strict';
import {startServer, setupAdmin, createToken, disableOutOfHoursReply, eventually} from './lib.mjs';
import {startSmtp, qp} from './mail-helpers.mjs';
import {putOrder, request} from './returns-helpers.mjs';

let server, admin, smtp, tok;

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'mail.smtp_url': smtp.url,
    'mail.from': 'destek@shop.example', 'mail.public_url': 'https://destek.shop.example', 'events.retry_base_seconds': 1,
    'returns.address': 'Depo, Tuzla', 'returns.carrier': 'Aras Kargo', 'returns.carrier_code': '7654321'}});
  assert.equal(set.status, 200, set.text);
  tok = (await createToken(server, admin, {scopes: ['orders']})).secret;
});

const text = (m) => m.raw.split(/\r\n--/).map((p) => {
  const cut = p.indexOf('\r\n\r\n');
  const head = p.slice(0, cut), body = p.slice(cut + 4);
  return /base64/i.test(head) && /text\//i.test(head) ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : qp(body);
}).join('\n');

test('approved at once: the code, the agreement code, the address, the deadline and the link, in Turkish', async () => {
  await putOrder(server, tok, 'M-1', {email: 'mail1@example.com', delivered: new Date(Date.now() - 86400e3).toISOString()});
  const q = await request(server, 'M-1', 'mail1@example.com', [{line: 1, reason: 'changed_mind'}], {lang: 'tr'});
  assert.equal(q.status, 303, q.text);
  const mails = await eventually(() => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === 'mail1@example.com'),
    (ms) => ms.some((m) => text(m).includes(q.code) && /onaylandı/.test(text(m))));
  const body = mails.map(text).join('\n');
  assert.match(body, /İade onay numarası: IA-/);
  assert.match(body, /Aras Kargo şubesine anlaşma kodu 7654321/);
  assert.match(body, /Depo, Tuzla/);
  assert.match(body, new RegExp(`https://destek\\.shop\\.example/returns/r/${q.code}\\?sig=`));
});

test('a rejection mails its reason in the customer\'s language', async () => {
  await putOrder(server, tok, 'M-2', {email: 'mail2@example.com', delivered: new Date(Date.now() - 86400e3).toISOString()});
  const q = await request(server, 'M-2', 'mail2@example.com', [{line: 1, reason: 'not_as_described'}], {lang: 'en'});
  assert.equal(q.status, 303, q.text);
  const id = (await server.api('GET', '/api/v1/returns?order_number=M-2', {session: admin})).json.items[0].id;
  const r = await server.api('POST', `/api/v1/returns/${id}/reject`, {session: admin, body: {reason: 'The photos show wear.'}});
  assert.equal(r.status, 200, r.text);
  await eventually(() => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === 'mail2@example.com'),
    (ms) => ms.some((m) => /was not accepted/.test(text(m)) && /The photos show wear\./.test(text(m))));
});
