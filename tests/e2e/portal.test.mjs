// Browser test of the customer portal against the real binary and a real SMTP server on loopback (aiosmtpd): a
// customer fills the web form on a 360 px phone in Turkish, gets a reference and the acknowledgement mail, opens
// the ticket page from the mail's link, sees the agent's reply (never the internal note), downloads the agent's
// file, replies from the page (which reopens the solved ticket); hostile text is shown as text and runs nothing; a
// wrong signature is "not found". The steps run in order, as one customer's story.
// Screenshots: build/screenshots/portal-*.png (form, done, ticket, ticket-solved, notfound; phone and desktop).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, startServer } from './server.mjs';
import { startSmtp, qp } from '../api/mail-helpers.mjs';
import { apiCall } from './ui-lib.mjs';
import { findModules, mergeStrings } from '../../scripts/web-modules.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'build/screenshots');
// The portal's strings as the build merges them: the core's (web/portal/i18n/) and the modules' (ticketing's).
const { tr, en } = mergeStrings('portal', path.join(repoRoot, 'web/portal/i18n'),
  findModules(path.join(repoRoot, 'plugins'), repoRoot), repoRoot).messages;
const XSS_SUBJECT = 'Kargo hasarlı <img src=x onerror="window.__xss=1">';
const XSS_BODY = 'Kutu ezik geldi.\n<script>window.__xss=1</script>\n<a href="javascript:window.__xss=1">tıkla</a>\n' +
  'Takip: https://kargo.example.com/takip?no=123';
const CUSTOMER = { name: 'Zeynep Demir', email: 'zeynep.demir@example.com' };
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 860 };

let server, smtp, browser, bearer, admin;
let reference, ticketId, link;
const pageErrors = [];

const call = (method, p, body, auth = { bearer }) => apiCall(server.url, method, p, body, auth);
const settings = (s) => call('PATCH', '/settings', s, admin);

async function newPage(viewport, locale) {
  const context = await browser.newContext({ viewport, locale, isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(String((e && e.stack) || e)));
  // The browser logs every refused call (404, 413, 429 here are on purpose); anything else logged as an error counts.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (404|413|429)\b/.test(m.text())) {
      pageErrors.push('console: ' + m.text());
    }
  });
  return page;
}
const shot = (page, name) => page.screenshot({ timeout: 30000, path: path.join(SHOTS, name), fullPage: true });

async function waitFor(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 150));
  }
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  smtp = await startSmtp();
  server = await startServer();
  const token = new URL(server.setupUrl).searchParams.get('token');
  const s = await call('POST', '/setup', { token, email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba', lang: 'tr' }, {});
  admin = { cookie: s.cookie, csrf: s.json.csrf_token };
  bearer = (await call('POST', '/tokens', { name: 'e2e', scopes: ['agent'] }, admin)).json.secret;
  // The out-of-hours auto-reply would add a message depending on the time of day.
  for (const tg of (await call('GET', '/triggers', undefined, admin)).json.items) {
    if (/business_hours/.test(JSON.stringify(tg.conditions || {}))) await call('PATCH', '/triggers/' + tg.id, { active: false }, admin);
  }
  await settings({ 'mail.smtp_url': smtp.url, 'mail.from': 'destek@anadolu.example', 'mail.from_name': 'Anadolu Tekstil',
    'ticketing.public_form_limit': 1000, 'events.retry_base_seconds': 1 });
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
});

test('on a 360 px phone in Turkish: the form checks itself, then sends and shows the reference', async () => {
  const page = await newPage(PHONE, 'tr-TR');
  await page.goto(server.url + '/contact?order=TR-20931');
  await page.locator('h1', { hasText: tr['form.title'] }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'tr');
  await page.locator('.brand-name', { hasText: 'Anadolu Tekstil' }).waitFor();
  assert.equal(await page.locator('#f-order_number').inputValue(), 'TR-20931', '?order= prefills the order number');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `no sideways scrolling at 360 px (${width})`);

  // Nothing filled in: Turkish messages under the fields, focus on the first.
  await page.locator('button[type="submit"]').click();
  await page.locator('#f-name-error', { hasText: tr['valid.required'] }).waitFor();
  assert.equal(await page.locator('.field-error').count(), 4);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'f-name');
  await page.locator('#f-name').fill(CUSTOMER.name);
  assert.equal(await page.locator('#f-name-error').count(), 0, 'typing clears the field\'s error');
  await page.locator('#f-email').fill('zeynep@');
  await page.locator('#f-subject').fill(XSS_SUBJECT);
  await page.locator('#f-body').fill(XSS_BODY);
  await page.locator('button[type="submit"]').click();
  await page.locator('#f-email-error', { hasText: tr['valid.email'] }).waitFor();
  await page.locator('#f-email').fill(CUSTOMER.email);
  assert.equal(await page.locator('#form-errors').count(), 0, 'the summary goes once every field is right');
  await page.locator('#f-files').setInputFiles([{ name: 'kutu.txt', mimeType: 'text/plain', buffer: Buffer.from('EZIK-KUTU') }]);
  await page.locator('.file .file-name', { hasText: 'kutu.txt' }).waitFor();
  await shot(page, 'portal-form-phone.png');

  await page.locator('button[type="submit"]').click();
  await page.locator('#done-title', { hasText: tr['done.title'] }).waitFor();
  reference = await page.locator('.ref').textContent();
  assert.match(reference, /^#\d{4,}$/);
  await page.getByText(tr['done.next_mail'].replace('{email}', CUSTOMER.email)).waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot(page, 'portal-done-phone.png');
  await page.context().close();

  const list = (await call('GET', '/tickets?channel=web')).json.items;
  const t = list.find((x) => x.reference === reference);
  ticketId = t.id;
  const full = (await call('GET', '/tickets/' + ticketId)).json;
  assert.equal(full.subject, XSS_SUBJECT);
  assert.equal(full.messages[0].body, XSS_BODY);
  assert.equal(full.order_number, 'TR-20931');
  assert.equal(full.messages[0].attachments[0].filename, 'kutu.txt');
  const customer = (await call('GET', '/customers/' + full.customer.id)).json;
  assert.equal(customer.lang, 'tr', 'the form tells the server the customer wrote in Turkish');
});

test('the acknowledgement mail arrives, and its link is the ticket\'s page in the portal', async () => {
  const mail = await waitFor(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === CUSTOMER.email), 'the acknowledgement');
  const text = qp(mail.body);
  assert.ok(text.includes(reference), text);
  const m = text.match(/(http:\/\/127\.0\.0\.1:\d+\/t\/(\d+)\?sig=[0-9a-f]{64})/);
  assert.ok(m, 'a link to /t/{number}?sig=... in: ' + text);
  assert.equal('#' + m[2], reference);
  link = m[1];

  const page = await newPage(PHONE, 'tr-TR');
  await page.goto(link);
  await page.locator('#ticket-title').waitFor();
  assert.equal(await page.locator('#ticket-title').textContent(), XSS_SUBJECT, 'the subject is text');
  await page.locator('.eyebrow', { hasText: reference }).waitFor();
  await page.locator('.badge[data-status="new"]', { hasText: tr['status.new'] }).waitFor();
  const body = await page.locator('.msg-customer .msg-body').textContent();
  assert.equal(body, XSS_BODY, 'the message is text');
  assert.equal(await page.locator('main img, main script, main a[href^="javascript"]').count(), 0);
  // What was typed into the form stays text: the page is reached from the shop's mail, the text maybe from anyone.
  assert.equal(await page.locator('.msg-customer .msg-body a').count(), 0, 'no links in what the customer typed');
  await page.locator('.msg-customer .att', { hasText: 'kutu.txt' }).waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.context().close();
});

test('an agent\'s reply shows on the page, with its file; the internal note never does', async () => {
  await call('POST', `/tickets/${ticketId}/messages`, { kind: 'note', body: 'İÇ NOT: müşteri daha önce iki kez iade etti' });
  await call('POST', `/tickets/${ticketId}/messages`, { kind: 'reply', body: 'Merhaba Zeynep Hanım, yenisini gönderiyoruz. İade etiketi ekte.\n' +
    'Kargo takibi: https://kargo.example.com/takip?no=456',
    attachments: [{ filename: 'iade-etiketi.txt', content_type: 'text/plain', data_base64: Buffer.from('ETIKET-4711').toString('base64') }] });
  const page = await newPage(PHONE, 'tr-TR');
  await page.goto(link);
  const reply = page.locator('.msg-team');
  await reply.locator('.msg-body', { hasText: 'yenisini gönderiyoruz' }).waitFor();
  await reply.locator('.msg-author', { hasText: 'Ayşe Yılmaz' }).waitFor();
  assert.equal(await reply.locator('.msg-body a[href="https://kargo.example.com/takip?no=456"]').count(), 1,
    'web addresses in the team\'s replies are links');
  await page.locator('.badge[data-status="open"]').waitFor();
  const all = await page.locator('main').textContent();
  assert.ok(!all.includes('İÇ NOT'), 'the internal note never appears');
  assert.equal(await page.locator('.msg').count(), 2);
  const href = await reply.locator('.att').getAttribute('href');
  assert.match(href, new RegExp(`^/api/v1/public/tickets/${reference.slice(1)}/attachments/\\d+\\?sig=[0-9a-f]{64}$`));
  const [download] = await Promise.all([page.waitForEvent('download'), reply.locator('.att').click()]);
  assert.equal(download.suggestedFilename(), 'iade-etiketi.txt');
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), 'ETIKET-4711');
  await shot(page, 'portal-ticket-phone.png');
  await page.context().close();
});

test('solved: the page says a reply reopens it; the customer replies from the page and it reopens', async () => {
  await call('PATCH', '/tickets/' + ticketId, { status: 'solved' });
  const page = await newPage(PHONE, 'tr-TR');
  await page.goto(link);
  await page.locator('.alert-success', { hasText: tr['ticket.solved_hint'] }).waitFor();
  await page.locator('.badge[data-status="solved"]').waitFor();
  await shot(page, 'portal-ticket-solved-phone.png');
  await page.locator('.reply button[type="submit"]').click();
  await page.locator('#r-body-error', { hasText: tr['valid.required'] }).waitFor();
  await page.locator('#r-body').fill('Teşekkürler, ama yeni ürün de <b>hasarlı</b> geldi.');
  await page.locator('#r-files').setInputFiles([{ name: 'foto.txt', mimeType: 'text/plain', buffer: Buffer.from('FOTO') }]);
  await page.locator('.reply button[type="submit"]').click();
  await page.locator('#reply-notice', { hasText: tr['reply.sent'] }).waitFor();
  await page.locator('.badge[data-status="open"]', { hasText: tr['status.open'] }).waitFor();
  const mine = page.locator('.msg-customer').last();
  assert.equal(await mine.locator('.msg-body').textContent(), 'Teşekkürler, ama yeni ürün de <b>hasarlı</b> geldi.');
  await mine.locator('.att', { hasText: 'foto.txt' }).waitFor();
  assert.equal(await page.locator('#r-body').inputValue(), '', 'the box is emptied');
  const t = (await call('GET', '/tickets/' + ticketId)).json;
  assert.equal(t.status, 'open', 'the customer\'s reply reopened the ticket');
  const last = t.messages.at(-1);
  assert.deepEqual([last.kind, last.author.type, last.attachments[0].filename], ['customer', 'customer', 'foto.txt']);
  assert.ok(t.history.some((h) => h.field === 'status' && h.old === 'solved' && h.new === 'open'));
  await page.context().close();
});

test('desktop: the ticket page follows the customer\'s language over the browser\'s, and switches', async () => {
  const page = await newPage(DESKTOP, 'en-US');
  await page.goto(link);
  await page.locator('.badge[data-status="open"]', { hasText: tr['status.open'] }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'tr', 'the customer wrote in Turkish');
  await shot(page, 'portal-ticket-desktop.png');
  await page.locator('.lang-btn[data-lang="en"]').click();
  await page.locator('.badge[data-status="open"]', { hasText: en['status.open'] }).waitFor();
  await page.locator('#reply-title', { hasText: en['reply.title'] }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.reload();
  await page.locator('#reply-title', { hasText: en['reply.title'] }).waitFor();
  assert.equal(await page.locator('.lang-btn[data-lang="en"]').getAttribute('aria-pressed'), 'true', 'the choice is kept');
  await page.context().close();
});

test('a wrong signature, a missing one and an unknown number all show "not found"', async () => {
  const page = await newPage(PHONE, 'tr-TR');
  const u = new URL(link);
  const sig = u.searchParams.get('sig');
  const wrong = sig.slice(0, 63) + (sig[63] === '0' ? '1' : '0');
  for (const p of [`${u.pathname}?sig=${wrong}`, u.pathname, `/t/999999?sig=${sig}`, '/t/abc']) {
    await page.goto(server.url + p);
    await page.locator('#nf-title', { hasText: tr['notfound.title'] }).waitFor();
    assert.equal(await page.locator('.msg').count(), 0, p);
    assert.ok(!(await page.locator('main').textContent()).includes('Kargo hasarlı'), p);
  }
  await shot(page, 'portal-notfound-phone.png');
  await page.locator('a[href="/contact"]').click();
  await page.locator('h1', { hasText: tr['form.title'] }).waitFor();
  await page.context().close();
});

test('the server\'s refusals in the customer\'s language: a file too large (413), too many requests (429)', async () => {
  const page = await newPage(DESKTOP, 'en-GB');
  await page.goto(server.url + '/contact');
  await page.locator('h1', { hasText: en['form.title'] }).waitFor();
  await shot(page, 'portal-form-desktop.png');
  // The limit changes after the page has loaded its copy: the server's 413 is what the customer sees.
  await settings({ 'ticketing.attachment_max_bytes': 10 });
  try {
    await page.locator('#f-name').fill('John Smith');
    await page.locator('#f-email').fill('john@example.com');
    await page.locator('#f-subject').fill('Wrong size');
    await page.locator('#f-body').fill('I ordered L and got M.');
    await page.locator('#f-files').setInputFiles([{ name: 'photo.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(100)) }]);
    await page.locator('button[type="submit"]').click();
    await page.locator('#f-files-error', { hasText: en['error.too_large'].replace('{size}', '10 B') }).waitFor();
  } finally {
    await settings({ 'ticketing.attachment_max_bytes': 10485760 });
  }
  await page.locator('.file button').click();
  // Two submissions from this address in the window so far (the ticket, and the refused upload, which counts).
  await settings({ 'ticketing.public_form_limit': 1 });
  try {
    await page.locator('button[type="submit"]').click();
    await page.locator('.alert-error', { hasText: en['error.rate_limited'].replace('{minutes}', '10') }).waitFor();
    // In Turkish too.
    await page.locator('.lang-btn[data-lang="tr"]').click();
    await page.locator('button[type="submit"]').click();
    await page.locator('.alert-error', { hasText: tr['error.rate_limited'].replace('{minutes}', '10') }).waitFor();
    assert.equal(await page.locator('#f-body').inputValue(), 'I ordered L and got M.', 'nothing typed is lost');
  } finally {
    await settings({ 'ticketing.public_form_limit': 1000 });
  }
  await page.context().close();
});

test('no script errors on any page', () => {
  assert.deepEqual(pageErrors, []);
});
