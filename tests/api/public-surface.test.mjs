// The customer-facing surface as a stranger's browser meets it: every public page carries the security headers
// (CSP with frame-ancestors, X-Frame-Options, nosniff, a referrer policy); the unsubscribe page needs nothing its
// CSP refuses and its button works for a browser that happens to be signed in to the desk (a shop owner trying his
// own campaign mail) while a cross-site post still gets nothing a stranger would not; a return's page and a
// ticket's page answer "not found" the same way for a wrong signature, another's signature and a code that does not
// exist; hostile text a customer typed comes back escaped on the pages and in the acknowledgement mail, and Turkish
// letters come back intact; the survey pages of feedback have a TR|EN switch that keeps the signed link, and a form
// posted from the English page answers in English.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, startServer, setupAdmin, createToken, tempDir, eventually, sqlite3, request, disableOutOfHoursReply, T} from './lib.mjs';
import {startSmtp, freePort} from './mail-helpers.mjs';
import {PNG, putOrder, request as returnRequest} from './returns-helpers.mjs';
import {mailText} from './feedback-helpers.mjs';

const HOSTILE = `<script>alert(1)</script>"'><img src=x onerror=alert(2)> İstanbul ığüşöç`;
let server, admin, bearer, smtp, dir;
const api = (method, p, body) => server.api(method, p, {session: admin, body});

before(async () => {
  dir = tempDir();
  fs.mkdirSync(path.join(dir, 'plugins'));
  fs.copyFileSync(path.join(ROOT, 'tests/lua/hostile_consent.lua'), path.join(dir, 'plugins/hostile_consent.lua'));
  smtp = await startSmtp();
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  await disableOutOfHoursReply(server, admin);
  bearer = (await createToken(server, admin)).secret;
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example',
    'mail.public_url': server.url, 'ticketing.public_form_limit': 1000, 'feedback.csat_delay_minutes': 0,
    'events.retry_base_seconds': 1});
  assert.equal(set.status, 200, set.text);
});

/** A signed-in agent's browser: its cookie, no CSRF header (a plain HTML form posts none). */
const cookieOnly = () => ({cookie: admin.cookie.includes('=') ? admin.cookie : `destek_session=${admin.cookie}`});

describe('headers', () => {
  test('every public page: CSP with frame-ancestors none, X-Frame-Options DENY, nosniff, a referrer policy', async () => {
    const paths = ['/contact', '/t/1001?sig=' + 'a'.repeat(64), '/track', '/returns', '/returns/r/IA-NOPE?sig=x', '/help',
      '/help/search?q=x', '/help/a/nope', '/u/' + 'x'.repeat(30), '/feedback/review/1?sig=x', '/feedback/csat/1?score=5&sig=x',
      '/feedback/nps/1?sig=x', '/chat/widget.js', '/help/theme.css', '/track/style.css'];
    for (const p of paths) {
      const res = await request(server.url + p);
      assert.ok(res.status < 500, `${p}: ${res.status}`);
      const h = res.headers;
      assert.match(h['content-security-policy'] || '', /frame-ancestors 'none'/, p);
      assert.match(h['content-security-policy'] || '', /script-src 'self'(;|$)/, p);
      assert.equal(h['x-frame-options'], 'DENY', p);
      assert.equal(h['x-content-type-options'], 'nosniff', p);
      assert.match(h['referrer-policy'] || '', /^(same-origin|no-referrer|strict-origin)/, p);
      assert.equal(h['set-cookie'], undefined, `${p} sets no cookie for a stranger`);
    }
  });

  test('the session cookie is HttpOnly and SameSite', async () => {
    const res = await server.api('POST', '/api/v1/auth/login', {body: {email: 'admin@example.com', password: 'correct horse battery staple'}});
    assert.equal(res.status, 200, res.text);
    const c = res.headers['set-cookie'].find((x) => x.startsWith('destek_session='));
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=(Lax|Strict)/);
  });
});

describe('unsubscribe page', () => {
  let token, contact;
  before(async () => {
    // A commercial mail to a contact with consent: it carries the one-click link /u/<token>.
    const email = `unsub-${process.pid}@example.com`;
    const t = await api('POST', '/api/v1/tickets', {subject: 'Merhaba', body: 'Soru.', channel: 'phone', customer: {email, name: 'Ali'}});
    assert.equal(t.status, 201, t.text);
    contact = t.json.customer.id;
    const c = await api('POST', `/api/v1/contacts/${contact}/consent`, {channel: 'email', status: 'ONAY', source: 'call_centre',
      text_shown: 'Kampanyalardan haberdar olmak istiyorum.'});
    assert.equal(c.status, 201, c.text);
    const sent = await server.api('POST', '/hostile-consent/send', {body: {contact_id: contact, commercial: true}});
    assert.ok(sent.json.id > 0, sent.text);
    token = sqlite3(path.join(dir, 'destek.db'), `SELECT unsub_token FROM core_messages WHERE id = ${sent.json.id}`).stdout.trim();
    assert.match(token, /^[A-Za-z0-9_-]{20,}$/);
  });

  test('the page has no inline style or script (the CSP would refuse them); its stylesheet is served', async () => {
    for (const p of [`/u/${token}`, `/u/${'x'.repeat(30)}`]) {
      const res = await request(server.url + p);
      assert.doesNotMatch(res.text, /<style|style=|<script/i, p);
      const css = res.text.match(/<link rel="stylesheet" href="([^"]+)">/);
      assert.ok(css, p);
      const sheet = await request(server.url + css[1]);
      assert.equal(sheet.status, 200);
      assert.match(sheet.headers['content-type'], /^text\/css/);
    }
  });

  test('the button works in a browser signed in to the desk (cookie, no CSRF header): it records the RET', async () => {
    const res = await request(`${server.url}/u/${token}`, {method: 'POST', headers: {...cookieOnly(),
      'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example'}, body: 'List-Unsubscribe=One-Click'});
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /You are unsubscribed/);
    const st = await api('GET', `/api/v1/contacts/${contact}/consent`);
    assert.equal(st.json.state.email.status, 'RET');
    // The cookie granted nothing: the record is the link's, not the agent's.
    assert.equal(st.json.items.at(-1).recorded_by, 'unsubscribe_link');
  });

  test('the core\'s JSON API still refuses a cookie write without the CSRF header', async () => {
    const res = await request(`${server.url}/api/v1/auth/logout`, {method: 'POST', headers: {...cookieOnly(), 'content-type': 'application/json'}, body: '{}'});
    assert.equal(res.status, 403, res.text);
  });
});

describe('isolation and escaping', () => {
  let mine, theirs;
  before(async () => {
    await putOrder(server, bearer, 'TR7001', {email: 'bir@example.com'});
    await putOrder(server, bearer, 'TR7002', {email: 'iki@example.com'});
    const item = (comment) => [{line: 1, qty: 1, reason: 'defective', comment, variant: 'XL', photos: [{name: 'a.png', type: 'image/png', data: PNG}]}];
    mine = await returnRequest(server, 'TR7001', 'bir@example.com', item(HOSTILE));
    theirs = await returnRequest(server, 'TR7002', 'iki@example.com', item('Benim iadem'));
    assert.equal(mine.status, 303, mine.text);
    assert.equal(theirs.status, 303, theirs.text);
  });

  test('a return\'s page: the comment escaped, Turkish intact; another\'s signature or code is plain not-found', async () => {
    const page = await request(server.url + mine.location);
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes('<script>alert(1)'), 'no raw script');
    assert.ok(!page.text.includes('<img src=x'), 'no raw img');
    const mySig = new URL(mine.location, server.url).searchParams.get('sig');
    const otherSig = new URL(theirs.location, server.url).searchParams.get('sig');
    const answers = [];
    for (const p of [`/returns/r/${theirs.code}?sig=${mySig}`, `/returns/r/${mine.code}?sig=${otherSig}`,
      `/returns/r/IA-ZZZZZZ?sig=${mySig}`, `/returns/r/${theirs.code}`]) {
      const res = await request(server.url + p);
      answers.push(res.status);
      assert.ok(!res.text.includes('Benim iadem') && !res.text.includes('İstanbul'), `${p} shows nothing of a return`);
    }
    assert.deepEqual(answers, [404, 404, 404, 404]);
    const wrote = await fetch(`${server.url}/returns/r/${theirs.code}/message`, {method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'}, body: `sig=${mySig}&body=merhaba`});
    assert.equal(wrote.status, 404);
  });

  test('the web form: the acknowledgement mail and the ticket page give the hostile text back escaped, Turkish intact', async () => {
    const email = `hx-${process.pid}@example.com`;
    const res = await server.api('POST', '/api/v1/public/tickets', {body: {name: HOSTILE, email, subject: 'Konu ' + HOSTILE, body: 'Mesaj ' + HOSTILE}});
    assert.equal(res.status, 201, res.text);
    const mails = await eventually(() => smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === email), (l) => l.length > 0, {ms: T(15000)});
    const raw = mails[0].raw;
    assert.ok(!/<script>alert|<img src=x/i.test(raw), 'the mail carries no markup of the customer');
    const number = Number(res.json.reference.slice(1));
    const list = (await api('GET', '/api/v1/tickets?limit=50')).json.items;
    const t = (await api('GET', `/api/v1/tickets/${list.find((x) => x.reference === res.json.reference).id}`)).json;
    const pub = await server.api('GET', `/api/v1/public/tickets/${number}?sig=${t.public_sig}`);
    assert.equal(pub.status, 200, pub.text);
    assert.equal(pub.json.subject, 'Konu ' + HOSTILE, 'kept as written: the page puts it in as text');
  });
});

describe('feedback pages', () => {
  test('the CSAT page in the customer\'s language has a switch to the other; the form posted from it answers in that', async () => {
    const email = `csat-${process.pid}@example.com`;
    const t = await api('POST', '/api/v1/tickets', {subject: 'Kargom nerede?', body: 'Siparişim gelmedi.', channel: 'phone',
      customer: {email, name: 'Ayşe Yılmaz', lang: 'tr'}});
    assert.equal(t.status, 201, t.text);
    assert.equal((await api('PATCH', `/api/v1/tickets/${t.json.id}`, {status: 'solved'})).status, 200);
    const isCsat = (m) => m.headers['x-sink-rcpt-to'] === email && mailText(m).includes('/feedback/csat/');
    const ms = await eventually(() => smtp.mails(), (l) => l.some(isCsat), {ms: T(15000)});
    const link = mailText(ms.find(isCsat)).match(/(http:\/\/\S+\/feedback\/csat\/\d+\?score=\d&(?:amp;)?sig=[^"\s&]+)/)[1].replace(/&amp;/g, '&');
    const tr = await request(link);
    assert.equal(tr.status, 200, tr.text);
    assert.match(tr.text, /<html lang="tr">/);
    const sw = tr.text.match(/<a class="fb-lang" href="([^"]+)" hreflang="en"/);
    assert.ok(sw, 'a switch to English');
    const href = sw[1].replace(/&amp;/g, '&').replace(/&#61;/g, '=');
    assert.match(href, /^\/feedback\/csat\/\d+\?sig=[^&]+&lang=en$/);
    const en = await request(server.url + href);
    assert.equal(en.status, 200);
    assert.match(en.text, /<html lang="en">/);
    assert.match(en.text, /<a class="fb-lang" href="[^"]+" hreflang="tr"/);
    assert.match(en.text, /<input type="hidden" name="lang" value="en">/);
    const sig = en.text.match(/name="sig" value="([^"]+)"/)[1];
    const action = en.text.match(/<form method="post" action="([^"]+)"/)[1];
    const done = await request(server.url + action, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({sig, lang: 'en', score: '5', comment: HOSTILE}).toString()});
    assert.equal(done.status, 200, done.text);
    assert.match(done.text, /<html lang="en">/);
    assert.ok(!done.text.includes('<script>alert(1)'));
    // A wrong signature: not found, whatever the language asked.
    const wrong = await request(server.url + href.replace(/sig=[^&]+/, 'sig=0'));
    assert.equal(wrong.status, 404);
  });
});

describe('lookups and webhooks', () => {
  test('/track and /returns: a wrong contact for a real order gets the very answer an order that does not exist gets', async () => {
    await putOrder(server, bearer, 'TR8001', {email: 'sahip@example.com'});
    const form = (path, fields) => request(server.url + path, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams(fields).toString()});
    for (const [path, a, b] of [
      ['/track', {number: 'TR8001', contact: 'baskasi@example.com', lang: 'en'}, {number: 'TR8009', contact: 'baskasi@example.com', lang: 'en'}],
      ['/returns', {order: 'TR8001', contact: 'baskasi@example.com', lang: 'en'}, {order: 'TR8009', contact: 'baskasi@example.com', lang: 'en'}],
    ]) {
      const wrong = await form(path, a), missing = await form(path, b);
      assert.equal(wrong.status, missing.status, path);
      assert.equal(wrong.text.replaceAll('TR8001', 'N'), missing.text.replaceAll('TR8009', 'N'), `${path}: the same page`);
      assert.ok(!wrong.text.includes('Tişört') && !wrong.text.includes('sahip@'), `${path}: nothing of the order`);
    }
  });

  test('the WhatsApp webhook: unsigned, wrongly signed, or with no app secret set, a delivery is refused', async () => {
    const body = JSON.stringify({object: 'whatsapp_business_account', entry: []});
    const post = (sig) => request(`${server.url}/api/v1/chat/whatsapp/webhook`, {method: 'POST',
      headers: {'content-type': 'application/json', ...(sig ? {'x-hub-signature-256': sig} : {})}, body});
    const hmac = (key) => 'sha256=' + crypto.createHmac('sha256', key).update(body).digest('hex');
    assert.equal((await post(null)).status, 401, 'no secret set, unsigned');
    assert.equal((await post(hmac(''))).status, 401, 'no secret set, signed with the empty key');
    assert.equal((await api('PATCH', '/api/v1/settings', {'chat.wa_app_secret': 'uygulama-sırrı'})).status, 200);
    assert.equal((await post(null)).status, 401, 'unsigned');
    assert.equal((await post(hmac('baska'))).status, 401, 'another key');
    assert.equal((await post(hmac('uygulama-sırrı').toUpperCase().replace('SHA256=', 'sha256='))).status, 401, 'hex in capitals is not the signature');
    assert.equal((await post(hmac('uygulama-sırrı'))).status, 200, 'signed right');
    // The verify handshake echoes the challenge only for the right token.
    const v = (tok) => request(`${server.url}/api/v1/chat/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${tok}&hub.challenge=%3Cscript%3E`);
    assert.equal((await v('')).status, 403, 'no token set');
  });
});
