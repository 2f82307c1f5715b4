// The customer portal's side of the server: its pages (/contact, /t/{number}) and what the public API gained for
// it — files on the web form and on replies through a signed link (the agents' caps and checks, counted against
// the per-address limits), signed downloads that reach only the ticket's own public files, the customer's
// language, and GET /api/v1/public/config.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {startServer, setupAdmin, assertError, assertApiHeaders, assertSecurityHeaders, listAll, uniqueEmail, request,
  disableOutOfHoursReply} from './lib.mjs';

let server, admin;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  const set = await api('PATCH', '/api/v1/settings', {'ticketing.public_form_limit': 1000, 'ticketing.public_reply_limit': 1000});
  assert.equal(set.status, 200, set.text);
});

const api = (method, p, body, session = admin) => server.api(method, p, {session, body});
const pub = (method, p, body, headers) => server.api(method, p, {body, headers});
const b64 = (s) => Buffer.from(s).toString('base64');
const file = (filename, text, type = 'text/plain') => ({filename, content_type: type, data_base64: b64(text)});

async function findByRef(reference) {
  const t = (await listAll(server, '/api/v1/tickets?channel=web', {session: admin})).find((x) => x.reference === reference);
  assert.ok(t, `ticket ${reference}`);
  return (await api('GET', `/api/v1/tickets/${t.id}`)).json;
}

const form = (over = {}, headers) => pub('POST', '/api/v1/public/tickets', {name: 'Elif Yılmaz', email: uniqueEmail('f'),
  subject: 'Hasarlı ürün', body: 'Fotoğraflar ekte.', ...over}, headers);

describe('portal pages', () => {
  test('/contact and /t/{number} serve the portal page, not the agents\' app; no inline script', async () => {
    const index = (await request(server.url + '/')).text;
    const contact = await request(server.url + '/contact');
    assert.equal(contact.status, 200);
    assert.match(contact.headers['content-type'], /^text\/html/);
    assertSecurityHeaders(contact, 'GET /contact');
    assert.match(contact.headers['cache-control'], /no-cache/);
    assert.notEqual(contact.text, index);
    assert.match(contact.text, /<script defer src="\/assets\/portal\.js\?v=[0-9a-f]{12}"><\/script>/);
    assert.match(contact.text, /<link rel="stylesheet" href="\/assets\/portal\.css\?v=[0-9a-f]{12}">/);
    assert.doesNotMatch(contact.text, /<script(?![^>]*\ssrc=)[^>]*>/i, 'no inline script');
    assert.doesNotMatch(contact.text, /\son[a-z]+\s*=|\sstyle\s*=|javascript:/i);
    assert.equal(contact.headers['x-robots-tag'], undefined, 'a shop may want its form found');
    for (const p of ['/contact/', '/contact?order=TR-1', '/t/1042', '/t/1042?sig=abc', '/t/nope']) {
      const r = await request(server.url + p);
      assert.equal(r.status, 200, p);
      assert.equal(r.text, contact.text, `${p} is the portal page`);
    }
    const t = await request(server.url + '/t/1042?sig=' + 'a'.repeat(64));
    assert.equal(t.headers['x-robots-tag'], 'noindex, nofollow', 'a ticket page is kept out of search engines');
    for (const p of ['/t/', '/t/1/x', '/contacts', '/contact/x']) {
      const r = await request(server.url + p);
      assert.equal(r.status, 404, p);
    }
  });

  test('the portal\'s assets: types, ETag, gzip that unpacks to the same bytes', async () => {
    const page = (await request(server.url + '/contact')).text;
    const assets = [...page.matchAll(/(?:src|href)="(\/assets\/portal\.[a-z]+\?v=[0-9a-f]+)"/g)].map((m) => m[1]);
    assert.equal(assets.length, 2);
    for (const a of assets) {
      const plain = await request(server.url + a);
      assert.equal(plain.status, 200, a);
      assert.match(plain.headers['content-type'], a.includes('.js') ? /^text\/javascript/ : /^text\/css/);
      assert.ok(plain.headers.etag);
      const gz = await request(server.url + a, {headers: {'accept-encoding': 'gzip'}});
      assert.equal(gz.headers['content-encoding'], 'gzip');
      assert.deepEqual(zlib.gunzipSync(gz.body), plain.body);
      assert.ok(gz.body.length < 16 * 1024, `${a} is small: ${gz.body.length} bytes gzipped`);
    }
  });
});

describe('GET /api/v1/public/config', () => {
  test('the limits the public routes check, and the name customers see in mail', async () => {
    await api('PATCH', '/api/v1/settings', {'ticketing.attachment_max_bytes': 5000, 'mail.from_name': 'Anadolu Tekstil'});
    try {
      const res = await pub('GET', '/api/v1/public/config');
      assert.equal(res.status, 200, res.text);
      assertApiHeaders(res, 'GET /api/v1/public/config');
      assert.deepEqual(res.json, {name: 'Anadolu Tekstil', limits: {name_bytes: 200, email_bytes: 254, subject_bytes: 250,
        body_bytes: 20000, order_number_bytes: 64, attachments: 10, attachment_bytes: 5000, request_bytes: 16 << 20}});
    } finally {
      await api('PATCH', '/api/v1/settings', {'ticketing.attachment_max_bytes': 10485760, 'mail.from_name': ''});
    }
    assert.equal((await pub('GET', '/api/v1/public/config')).json.limits.attachment_bytes, 10485760);
  });
});

describe('the web form with files', () => {
  test('201; the files are stored with the first message; lang sets a new customer\'s language', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const res = await form({lang: 'en', order_number: 'TR-77', attachments: [file('kutu ezik.txt', 'KUTU-EZIK'),
      {filename: 'foto.png', content_type: 'IMAGE/PNG', data_base64: png.toString('base64')}]}, {'accept-language': 'tr-TR'});
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.json), ['reference', 'confirmation_mailed'], 'no signed link in the answer: it goes by mail');
    const t = await findByRef(res.json.reference);
    assert.equal(t.order_number, 'TR-77');
    const atts = t.messages[0].attachments;
    assert.deepEqual(atts.map((a) => [a.filename, a.content_type, a.size]),
      [['kutu ezik.txt', 'text/plain', 9], ['foto.png', 'image/png', png.length]]);
    const got = await api('GET', atts[0].url);
    assert.equal(got.text, 'KUTU-EZIK');
    const cust = (await api('GET', `/api/v1/customers/${t.customer.id}`)).json;
    assert.equal(cust.lang, 'en', 'lang wins over Accept-Language');
    const ev = (await listAll(server, `/api/v1/events?event=ticket.created&subject=ticket:${t.id}`, {session: admin}))[0].payload;
    assert.equal(ev.message.attachments, 2);
  });

  test('without lang, Accept-Language decides; a bad lang is 422', async () => {
    const res = await form({}, {'accept-language': 'tr-TR,tr;q=0.9'});
    assert.equal(res.status, 201, res.text);
    assert.equal((await api('GET', `/api/v1/customers/${(await findByRef(res.json.reference)).customer.id}`)).json.lang, 'tr');
    assertError(await form({lang: 'de'}), 422, 'invalid_field', 'lang');
  });

  test('the agents\' checks: count, name, type, base64, size; nothing is created by a refused form', async () => {
    const before = (await listAll(server, '/api/v1/tickets', {session: admin})).length;
    await api('PATCH', '/api/v1/settings', {'ticketing.attachment_max_bytes': 100});
    try {
      for (const [attachments, status, code, field] of [
        [Array.from({length: 11}, (_, i) => file(`f${i}.txt`, 'x')), 422, 'invalid_field', 'attachments'],
        ['not a list', 422, 'invalid_field', 'attachments'],
        [[file('../etc/passwd', 'x')], 422, 'invalid_field', 'attachments.filename'],
        [[file('a"b.txt', 'x')], 422, 'invalid_field', 'attachments.filename'],
        [[file('a.txt', 'x', 'text/html; charset=utf-8')], 422, 'invalid_field', 'attachments.content_type'],
        [[{filename: 'a.txt', data_base64: '@@@@'}], 422, 'invalid_field', 'attachments.data_base64'],
        [[{filename: 'a.txt'}], 422, 'missing_field', 'attachments.data_base64'],
        [[file('big.txt', 'x'.repeat(101))], 413, 'attachment_too_large', undefined],
      ]) assertError(await form({attachments}), status, code, field);
    } finally {
      await api('PATCH', '/api/v1/settings', {'ticketing.attachment_max_bytes': 10485760});
    }
    assert.equal((await listAll(server, '/api/v1/tickets', {session: admin})).length, before);
  });

  test('files and large bodies count against the per-address limit even when refused; a small refused form does not', async () => {
    const s = await startServer({args: ['--trust-proxy']});
    const a = await setupAdmin(s);
    await s.api('PATCH', '/api/v1/settings', {session: a, body: {'ticketing.public_form_limit': 4, 'ticketing.attachment_max_bytes': 10}});
    const post = (ip, over) => s.api('POST', '/api/v1/public/tickets', {headers: {'x-forwarded-for': ip},
      body: {name: 'n', email: 'spam@example.com', subject: 's', body: 'b', ...over}});
    const ip = '198.51.100.20';
    assertError(await post(ip, {subject: ''}), 422);                                   // not counted
    assertError(await post(ip, {attachments: [file('big.txt', 'x'.repeat(50))]}), 413); // counted
    assertError(await post(ip, {attachments: [file('ok.txt', 'x')], email: 'bad'}), 422, 'invalid_field', 'email'); // counted
    assertError(await s.api('POST', '/api/v1/public/tickets', {headers: {'x-forwarded-for': ip}, rawBody: '{"x":"' + 'y'.repeat(70000)}),
      400, 'bad_json');                                                                // large: counted
    assert.equal((await post(ip, {attachments: [file('ok.txt', 'x')]})).status, 201);   // counted once
    const res = await post(ip);
    assertError(res, 429, 'rate_limited');
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal((await post('198.51.100.21')).status, 201, 'another address is not limited');
    assert.equal((await listAll(s, '/api/v1/tickets', {session: a})).length, 2);
    await s.stop();
  });

  test('a body over the upload cap is 413 body_too_large and counts', async () => {
    const s = await startServer({args: ['--trust-proxy']});
    const a = await setupAdmin(s);
    await s.api('PATCH', '/api/v1/settings', {session: a, body: {'ticketing.public_form_limit': 1}});
    const headers = {'x-forwarded-for': '198.51.100.30'};
    const big = JSON.stringify({name: 'n', email: 'a@example.com', subject: 's', body: 'b',
      attachments: [{filename: 'x.bin', data_base64: 'A'.repeat((16 << 20) + 10)}]});
    assertError(await s.api('POST', '/api/v1/public/tickets', {headers, rawBody: big}), 413, 'body_too_large');
    assertError(await s.api('POST', '/api/v1/public/tickets', {headers, body: {name: 'n', email: 'a@example.com', subject: 's', body: 'b'}}),
      429, 'rate_limited');
    await s.stop();
  });
});

describe('files through the signed link', () => {
  let t, sig, other, otherSig;
  before(async () => {
    const res = await form({attachments: [file('musteri.txt', 'CUSTOMER-FILE')]});
    t = await findByRef(res.json.reference);
    sig = t.public_sig;
    await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'reply', body: 'Kargo etiketi ekte.',
      attachments: [file('etiket.txt', 'LABEL-FILE')]});
    await api('POST', `/api/v1/tickets/${t.id}/messages`, {kind: 'note', body: 'GİZLİ not',
      attachments: [file('gizli.txt', 'NOTE-FILE')]});
    const o = await form({attachments: [file('baska.txt', 'OTHER-FILE')]});
    other = await findByRef(o.json.reference);
    otherSig = other.public_sig;
  });

  test('the public view: lang, its own link, files with signed URLs; no note, no file ids or hashes', async () => {
    const res = await pub('GET', `/api/v1/public/tickets/${t.number}?sig=${sig}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.lang, 'en', 'no Accept-Language: English, as before');
    assert.equal(res.json.link, `/t/${t.number}?sig=${sig}`);
    assert.deepEqual(res.json.messages.map((m) => m.kind), ['customer', 'reply']);
    assert.ok(!res.text.includes('GİZLİ') && !res.text.includes('gizli.txt'), 'notes and their files never leave');
    const files = res.json.messages.flatMap((m) => m.attachments);
    assert.deepEqual(files.map((a) => a.filename), ['musteri.txt', 'etiket.txt']);
    for (const a of files) {
      assert.match(a.url, new RegExp(`^/api/v1/public/tickets/${t.number}/attachments/\\d+\\?sig=${sig}$`));
      assert.deepEqual(Object.keys(a).sort(), ['content_type', 'created_at', 'filename', 'size', 'url']);
    }
  });

  test('a signed download is the file, as an inert attachment', async () => {
    const view = (await pub('GET', `/api/v1/public/tickets/${t.number}?sig=${sig}`)).json;
    const url = view.messages[1].attachments[0].url;
    const r = await request(server.url + url);
    assert.equal(r.status, 200);
    assert.equal(r.text, 'LABEL-FILE');
    assert.match(r.headers['content-type'], /^text\/plain/);
    assert.match(r.headers['content-disposition'], /^attachment; filename="etiket\.txt"/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.headers['cache-control'], /no-store/);
  });

  test('never another ticket\'s file, a note\'s file, or with a wrong signature', async () => {
    const mine = (await api('GET', `/api/v1/tickets/${t.id}`)).json.messages;
    const noteFile = mine.find((m) => m.kind === 'note').attachments[0].id;
    const replyFile = mine.find((m) => m.kind === 'reply').attachments[0].id;
    const otherFile = other.messages[0].attachments[0].id;
    const wrong = sig.slice(0, 63) + (sig[63] === '0' ? '1' : '0');
    for (const p of [
      `/api/v1/public/tickets/${t.number}/attachments/${noteFile}?sig=${sig}`,
      `/api/v1/public/tickets/${t.number}/attachments/${otherFile}?sig=${sig}`,
      `/api/v1/public/tickets/${other.number}/attachments/${replyFile}?sig=${otherSig}`,
      `/api/v1/public/tickets/${t.number}/attachments/${replyFile}?sig=${wrong}`,
      `/api/v1/public/tickets/${t.number}/attachments/${replyFile}?sig=${otherSig}`,
      `/api/v1/public/tickets/${t.number}/attachments/${replyFile}`,
      `/api/v1/public/tickets/${t.number}/attachments/999999?sig=${sig}`,
    ]) {
      const r = await pub('GET', p);
      assertError(r, 404, 'not_found');
      assert.ok(!r.text.includes('FILE'), p);
    }
    assertError(await pub('GET', `/api/v1/attachments/${replyFile}`), 401, 'unauthenticated');
  });

  test('a reply with files through the link; its checks; files count against the reply limit', async () => {
    const res = await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {sig, body: 'Fatura da ekte.',
      attachments: [file('fatura.txt', 'INVOICE')]});
    assert.equal(res.status, 201, res.text);
    const last = res.json.messages.at(-1);
    assert.equal(last.attachments[0].filename, 'fatura.txt');
    assert.equal((await request(server.url + last.attachments[0].url)).text, 'INVOICE');
    const full = (await api('GET', `/api/v1/tickets/${t.id}`)).json;
    assert.equal(full.messages.at(-1).attachments[0].filename, 'fatura.txt');
    assertError(await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {sig, body: 'x',
      attachments: [file('a/b.txt', 'x')]}), 422, 'invalid_field', 'attachments.filename');
    assertError(await pub('POST', `/api/v1/public/tickets/${t.number}/messages`, {sig: otherSig, body: 'x',
      attachments: [file('a.txt', 'x')]}), 404, 'not_found');
    assert.equal((await api('GET', `/api/v1/tickets/${t.id}`)).json.messages.length, full.messages.length, 'refusals add nothing');

    const s = await startServer({args: ['--trust-proxy']});
    const a = await setupAdmin(s);
    await s.api('PATCH', '/api/v1/settings', {session: a, body: {'ticketing.public_reply_limit': 2}});
    const tk = (await s.api('POST', '/api/v1/tickets', {session: a, body: {subject: 's', body: 'b', customer: {email: 'r@example.com'}}})).json;
    const reply = (body) => s.api('POST', `/api/v1/public/tickets/${tk.number}/messages`, {headers: {'x-forwarded-for': '198.51.100.40'},
      body: {sig: tk.public_sig, ...body}});
    assertError(await reply({body: '', attachments: [file('a.txt', 'x')]}), 422, 'missing_field', 'body');
    assert.equal((await reply({body: 'ok'})).status, 201);
    assertError(await reply({body: 'again'}), 429, 'rate_limited');
    await s.stop();
  });
});
