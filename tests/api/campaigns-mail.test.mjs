// Campaigns (issue 17): HTML mail, opens and bounces. An e-mail campaign with an HTML body goes as
// multipart/alternative (text/plain + text/html, UTF-8) with the one-click unsubscribe headers and the free refusal
// text in both parts; the shop's hostile HTML is made safe (no script, no event handlers, no javascript: links) and a
// contact's fields go in HTML-escaped; links are tracked in the HTML's href too; the 1x1 open image counts an open
// once per recipient and every GET, a forged one counts nothing and still answers the GIF; a DSN fed through
// `destek mail import` marks the message bounced in the core and the campaign's bounced count, and a hard-bounced
// address gets no more commercial mail; the commercial check still refuses without ONAY when there is HTML.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, eventually, sqlite3, request, runCli, T} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

let server, admin, smtp, db, dir;
const api = (method, p, body) => server.api(method, p, {session: admin, body});
const count = (sql) => Number(sqlite3(db, sql).stdout.trim());
const mailsTo = (addr) => smtp.mails().filter((m) => m.headers.to.includes(`<${addr}>`));
const contactOf = (email) => Number(sqlite3(db, `SELECT id FROM core_contacts WHERE email = '${email}'`).stdout.trim());

const HEADER = 'contact,channel,status,at,source,text_shown,address,ip,name,lang,tags';
const row = (email, name, lang, status = 'ONAY') => [email, 'email', status, '2026-10-01T09:00:00Z', 'web_form',
  'Kampanyalardan haberdar olmak istiyorum.', '', '203.0.113.9', name, lang, 'html'].join(',');

/** The parts of a multipart mail: [{type, text}] with base64 bodies decoded. */
function parts(m) {
  const b = /boundary="([^"]+)"/.exec(m.headers['content-type']);
  assert.ok(b, `multipart: ${m.headers['content-type']}`);
  return m.body.split(`--${b[1]}`).slice(1, -1).map((p) => {
    const cut = p.indexOf('\r\n\r\n');
    const head = p.slice(0, cut);
    const body = p.slice(cut + 4);
    const type = /Content-Type:\s*([^;\r\n]+)/i.exec(head)[1].trim();
    assert.match(head, /charset=UTF-8/i);
    assert.match(head, /Content-Transfer-Encoding: base64/i);
    return {type, text: Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')};
  });
}

before(async () => {
  dir = tempDir();
  smtp = await startSmtp();
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'kampanya@shop.example',
    'mail.public_url': server.url});
  assert.equal(set.status, 200, set.text);
  db = path.join(dir, 'destek.db');
  const r = await api('POST', '/api/v1/campaign-imports', {name: 'html list', csv: [HEADER,
    row('h1@example.com', 'Ali <i>Veli</i>', 'tr'), row('h2@example.com', 'Jane Doe', 'en'),
    row('h3@example.com', 'Can Ak', 'tr')].join('\r\n') + '\r\n'});
  assert.equal(r.status, 201, r.text);
});

const HOSTILE = '<p onclick="steal()" style="color:red">Merhaba {{name}}</p><script>alert(1)</script>' +
  '<a href="javascript:alert(1)">tıkla</a> <a href="https://shop.example/indirim?a=1&amp;b=2" onmouseover="x()">İndirim</a>' +
  '<img src="https://shop.example/logo.png" onerror="x()" alt="logo"><iframe src="https://evil.example/"></iframe>';

describe('HTML campaign mail', () => {
  let cid, pixel, h1mail;

  test('hostile HTML is made safe when saved; the preview shows both parts', async () => {
    const c = await api('POST', '/api/v1/campaigns', {name: 'HTML', rules: {tags: ['html']}, per_second: 100,
      subject_tr: 'Yeni sezon', body_tr: '', body_html_tr: HOSTILE,
      subject_en: 'New season', body_en: 'Hello {{name}}, see https://shop.example/sale',
      body_html_en: '<p>Hello <b>{{name}}</b></p><p><a href="https://shop.example/sale">Sale</a></p>'});
    assert.equal(c.status, 201, c.text);
    cid = c.json.id;
    const h = c.json.body_html_tr;
    for (const bad of [/<script/i, /alert\(1\)/, /onclick/i, /onmouseover/i, /onerror/i, /javascript:/i, /<iframe/i, /evil\.example/])
      assert.doesNotMatch(h, bad, h);
    assert.match(h, /href="https:\/\/shop\.example\/indirim\?a=1&amp;b=2"/, h);
    assert.match(h, /<img src="https:\/\/shop\.example\/logo\.png"/, 'a remote image stays an image in a mail');
    assert.equal(c.json.body_tr, '');

    const p = await api('POST', `/api/v1/campaigns/${cid}/preview`, {contact_id: contactOf('h1@example.com')});
    assert.equal(p.status, 200, p.text);
    assert.match(p.json.html, /Merhaba Ali &lt;i&gt;Veli&lt;\/i&gt;/, 'fields go in HTML-escaped');
    assert.match(p.json.body, /Merhaba Ali <i>Veli<\/i>/, 'the text part is the HTML\'s rendering');
    assert.match(p.json.body, /İndirim/);
    const pe = await api('POST', `/api/v1/campaigns/${cid}/preview`, {contact_id: contactOf('h2@example.com')});
    assert.match(pe.json.html, /Hello <b>Jane Doe<\/b>/);
    assert.match(pe.json.body, /^Hello Jane Doe, see/);

    // SMS campaigns have no HTML; HTML with nothing left once safe is refused
    const sms = await api('POST', '/api/v1/campaigns', {name: 's', channel: 'sms', rules: {}, body_tr: 'a', body_en: 'b',
      body_html_tr: '<p>x</p>'});
    assert.equal(sms.status, 422, sms.text);
    const empty = await api('POST', '/api/v1/campaigns', {name: 'e', rules: {}, subject_tr: 'a', subject_en: 'b', body_tr: '',
      body_html_tr: '<script>x()</script>', body_en: 'b'});
    assert.equal(empty.status, 422, empty.text);
    assert.equal(empty.json.error.field, 'body_html_tr');
  });

  test('the mail is multipart/alternative: both parts UTF-8, the unsubscribe headers, the refusal text in both', async () => {
    const s = await api('POST', `/api/v1/campaigns/${cid}/schedule`, {});
    assert.equal(s.status, 202, s.text);
    await eventually(() => api('GET', `/api/v1/campaigns/${cid}`), (r) => r.json.status === 'done', {ms: T(15000)});
    for (const addr of ['h1@example.com', 'h2@example.com', 'h3@example.com'])
      await eventually(() => mailsTo(addr).length, (n) => n === 1, {ms: T(15000)});
    const m = h1mail = mailsTo('h1@example.com')[0];
    assert.match(m.headers['content-type'], /^multipart\/alternative; boundary=/);
    assert.match(m.headers['list-unsubscribe'], /^<http:\/\/127\.0\.0\.1:\d+\/u\/[A-Za-z0-9_-]+>$/);
    assert.equal(m.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    assert.equal(m.headers['x-destek-message-type'], 'commercial');
    const url = m.headers['list-unsubscribe'].slice(1, -1);
    const [t, h] = parts(m);
    assert.deepEqual([t.type, h.type], ['text/plain', 'text/html']);
    assert.match(t.text, /Merhaba Ali <i>Veli<\/i>/);
    assert.match(t.text, /ücretsiz olarak ret hakkınızı kullanabilirsiniz: /);
    assert.ok(t.text.includes(url), 'the text part carries the refusal link');
    assert.match(h.text, /ücretsiz olarak ret hakkınızı kullanabilirsiniz: <a href="/);
    assert.ok(h.text.includes(`href="${url}"`), 'the HTML part carries the refusal link');
    assert.ok(h.text.indexOf('ücretsiz') < h.text.indexOf('free of charge'), 'the contact\'s language first (tr)');
    assert.match(h.text, /Merhaba Ali &lt;i&gt;Veli&lt;\/i&gt;/);
    for (const bad of [/<script/i, /onclick/i, /onerror/i, /javascript:/i, /<iframe/i]) assert.doesNotMatch(h.text, bad);
    // the links are tracked in the href (the text part made from it has them too); the image is not a link
    assert.doesNotMatch(h.text, /href="https:\/\/shop\.example/);
    assert.match(h.text, /href="http:\/\/127\.0\.0\.1:\d+\/cl\/\d+\/\d+\/[0-9a-f]+"/);
    assert.match(t.text, /\/cl\/\d+\/\d+\/[0-9a-f]+/);
    assert.match(h.text, /<img src="https:\/\/shop\.example\/logo\.png"/);
    pixel = /<img src="(http:\/\/127\.0\.0\.1:\d+\/op\/\d+\/[0-9a-f]+)"/.exec(h.text);
    assert.ok(pixel, h.text);
    pixel = pixel[1];
    const go = await request(/href="(http:\/\/127\.0\.0\.1:\d+\/cl\/[^"]+)"/.exec(h.text)[1], {redirect: 'manual'});
    assert.equal(go.status, 302);
    assert.equal(go.headers.location, 'https://shop.example/indirim?a=1&b=2', 'the href\'s URL, unescaped');
    // English contact: English first
    const [, he] = parts(mailsTo('h2@example.com')[0]);
    assert.ok(he.text.indexOf('free of charge') < he.text.indexOf('ücretsiz'), 'the contact\'s language first (en)');
    assert.match(he.text, /<html lang="en">/);
  });

  test('the open image: once per recipient, every GET counted; a forged one counts nothing and gets the same GIF', async () => {
    const gif = async (u) => {
      const r = await fetch(u);
      const body = Buffer.from(await r.arrayBuffer());
      assert.equal(r.status, 200, u);
      assert.equal(r.headers.get('content-type'), 'image/gif', u);
      assert.match(r.headers.get('cache-control'), /no-store/, u);
      return body;
    };
    const real = await gif(pixel);
    assert.equal(real.length, 43);
    assert.equal(real.subarray(0, 6).toString('latin1'), 'GIF89a');
    await gif(pixel);
    let r = (await api('GET', `/api/v1/campaigns/${cid}`)).json.results;
    assert.deepEqual([r.opened, r.opens], [1, 2]);
    const [, rid, sig] = /\/op\/(\d+)\/([0-9a-f]+)/.exec(pixel);
    for (const p of [`/op/${rid}/${'0'.repeat(sig.length)}`, `/op/${Number(rid) + 1}/${sig}`, `/op/${rid}/x`]) {
      const forged = await gif(server.url + p);
      assert.ok(forged.equals(real), p);
    }
    r = (await api('GET', `/api/v1/campaigns/${cid}`)).json.results;
    assert.deepEqual([r.opened, r.opens], [1, 2], 'nothing counted for forged images');
  });

  test('a DSN through `destek mail import` marks the message bounced and counts it; no more commercial mail there', async () => {
    const mid = h1mail.headers['message-id'];
    assert.match(mid, /^<msg-\d+-\d+@shop\.example>$/);
    const dsn = (messageId, rcpt, status) => Buffer.from([
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>', 'To: kampanya@shop.example',
      'Subject: Undelivered Mail Returned to Sender', 'Date: Sat, 05 Dec 2026 10:00:00 +0000',
      `Message-ID: <dsn-${Math.random().toString(36).slice(2)}@mx.example.com>`, 'Auto-Submitted: auto-replied', 'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B0"', '',
      '--B0', 'Content-Type: text/plain; charset=us-ascii', '', 'Your message could not be delivered.', '',
      '--B0', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.com', '',
      `Final-Recipient: rfc822; ${rcpt}`, 'Action: failed', `Status: ${status}`,
      'Diagnostic-Code: smtp; 550 5.1.1 User unknown', '',
      '--B0', 'Content-Type: text/rfc822-headers', '', 'From: kampanya@shop.example', `To: <${rcpt}>`,
      `Message-ID: ${messageId}`, 'Subject: Yeni sezon', '', '--B0--', ''].join('\r\n'));
    const imp = async (raw) => {
      const r = await runCli(['mail', 'import', '--data', server.dataDir], {input: raw});
      assert.equal(r.code, 0, `mail import: ${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop());
    };
    const id = Number(/^<msg-(\d+)-/.exec(mid)[1]);
    // a forged one: the right id with a wrong time, or the wrong recipient: the core does not know it; kept for an admin
    const forged = await imp(dsn(mid.replace(/-(\d+)@/, '-19990101000000@'), 'h1@example.com', '5.1.1'));
    assert.equal(forged.result, 'unparsed', JSON.stringify(forged));
    const other = await imp(dsn(mid, 'someone@example.com', '5.1.1'));
    assert.equal(other.result, 'unparsed', JSON.stringify(other));
    assert.equal(count(`SELECT count(*) FROM core_messages WHERE id = ${id} AND bounce IS NOT NULL`), 0);

    const res = await imp(dsn(mid, 'h1@example.com', '5.1.1'));
    assert.equal(res.result, 'core_bounce', JSON.stringify(res));
    assert.equal(sqlite3(db, `SELECT bounce || '|' || bounce_error FROM core_messages WHERE id = ${id}`).stdout.trim(),
      'hard|5.1.1 smtp; 550 5.1.1 User unknown');
    const r = await eventually(() => api('GET', `/api/v1/campaigns/${cid}`), (x) => x.json.results.bounced === 1, {ms: T(10000)});
    assert.equal(r.json.results.bounced_hard, 1);
    const list = (await api('GET', `/api/v1/campaigns/${cid}/recipients`)).json.items;
    assert.deepEqual(list.map((x) => [x.email, x.bounce ?? null]).sort(),
      [['h1@example.com', 'hard'], ['h2@example.com', null], ['h3@example.com', null]]);
    // the same DSN again (another copy) changes nothing
    assert.equal((await imp(dsn(mid, 'h1@example.com', '5.1.1'))).result, 'core_bounce');
    assert.equal(count(`SELECT count(*) FROM campaigns_recipients WHERE bounce IS NOT NULL`), 1);
    assert.equal(count("SELECT count(*) FROM core_mail_bounces WHERE address = 'h1@example.com'"), 1);

    // a hard-bounced address gets no more commercial mail: a test send is queued and withheld when due
    const before = mailsTo('h1@example.com').length;
    const t = await api('POST', `/api/v1/campaigns/${cid}/test`, {contact_id: contactOf('h1@example.com')});
    assert.equal(t.status, 201, t.text);
    await eventually(() => sqlite3(db, `SELECT status || '|' || last_error FROM core_messages WHERE id = ${t.json.message_id}`).stdout.trim(),
      (s) => s.startsWith('withheld|'), {ms: T(10000)});
    assert.match(sqlite3(db, `SELECT last_error FROM core_messages WHERE id = ${t.json.message_id}`).stdout, /bounce/);
    assert.equal(mailsTo('h1@example.com').length, before);
  });

  test('the commercial check still refuses without ONAY when there is HTML', async () => {
    const c = await api('POST', '/api/v1/contacts', {email: 'no-onay-html@example.com', name: 'Ece'});
    const contact = c.status === 201 ? c.json.id : null;
    let id = contact;
    if (!id) {
      const tk = await api('POST', '/api/v1/tickets', {subject: 'S', body: 'B', channel: 'phone',
        customer: {email: 'no-onay-html@example.com', name: 'Ece'}});
      id = tk.json.customer.id;
    }
    const before = count('SELECT count(*) FROM core_messages');
    const t = await api('POST', `/api/v1/campaigns/${cid}/test`, {contact_id: id});
    assert.equal(t.status, 403, t.text);
    assert.equal(t.json.error.code, 'no_consent');
    assert.equal(count('SELECT count(*) FROM core_messages'), before, 'nothing queued');
    // and h3 (ONAY) still gets the test send with both parts
    const ok = await api('POST', `/api/v1/campaigns/${cid}/test`, {contact_id: contactOf('h3@example.com')});
    assert.equal(ok.status, 201, ok.text);
    await eventually(() => mailsTo('h3@example.com').length, (n) => n === 2, {ms: T(15000)});
    const [tp, hp] = parts(mailsTo('h3@example.com').find((m) => /TEST/.test(m.headers.subject)));
    assert.match(tp.text, /Merhaba Can Ak/);
    assert.match(hp.text, /Merhaba Can Ak/);
  });

  test('the reports\' campaign facts carry clicks, opens and bounces', async () => {
    assert.equal((await api('POST', '/api/v1/reports/rebuild')).status, 200);
    const d = new Date(Date.now() + 180 * 60000).toISOString().slice(0, 10);
    const res = await eventually(() => api('GET', `/api/v1/reports/dashboard?from=${d}&to=${d}`),
      (r) => r.json.kinds?.campaign?.current.by.campaign?.some((x) => x.value === String(cid)), {ms: T(20000)});
    const m = res.json.kinds.campaign.current.by.campaign.find((x) => x.value === String(cid)).measures;
    assert.deepEqual([m.clicked.sum, m.clicks.sum, m.opened.sum, m.opens.sum, m.bounced.sum], [1, 1, 1, 2, 1], JSON.stringify(m));
  });
});
