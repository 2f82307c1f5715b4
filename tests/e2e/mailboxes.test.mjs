// Browser test of the admin's mailboxes screen (/app/admin/mailboxes) against the real binary and real mail
// servers on loopback: aiosmtpd requiring a login (tests/mail/smtp_auth.py) and Debian's dovecot. "Test
// connection" shows success with the right values and the server's refusal with a wrong password (typed, not
// saved); a mailbox is added, polled (its status shows it), and deleted; the screen fits a 360 px phone and reads in
// both languages. Screenshots: build/screenshots/admin-mailboxes{,-phone,-en}.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, startServer } from './server.mjs';
import { startSmtp, startDovecot } from '../api/mail-helpers.mjs';
import { apiCall } from './ui-lib.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'build/screenshots');
const ADMIN = { email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba' };
const SMTP_AUTH = { user: 'desk', password: 'smtp parolası 9' };

let server, browser, context, page, smtp, imap, admin;
const pageErrors = [];

const call = (method, p, body, auth) => apiCall(server.url, method, p, body, auth);

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  smtp = await startSmtp({ auth: SMTP_AUTH });
  imap = await startDovecot();
  server = await startServer();
  const token = new URL(server.setupUrl).searchParams.get('token');
  const s = await call('POST', '/setup', { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password, lang: 'tr' });
  admin = { cookie: s.cookie, csrf: s.json.csrf_token };
  await call('POST', '/teams', { name: 'İadeler' }, admin);
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
  await page.goto(server.url + '/login');
  await page.locator('#email').fill(ADMIN.email);
  await page.locator('#password').fill(ADMIN.password);
  await page.locator('form button[type="submit"]').click();
  await page.locator('.inbox').waitFor();
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

const shot = (name, p) => (p || page).screenshot({ timeout: 30000, path: path.join(SHOTS, name), fullPage: true });
const card = (kind) => page.locator(`[data-card="${kind}"]`);

test('outgoing mail: saved from the screen, tested; a wrong password typed in shows the refusal', async () => {
  await page.locator('[data-nav="admin"]').click();
  await page.locator('[data-tab="mailboxes"]').click();
  await card('smtp').waitFor();
  await page.locator('input[name="smtp-url"]').fill(smtp.url);
  await page.locator('input[name="smtp-user"]').fill(SMTP_AUTH.user);
  await page.locator('input[name="smtp-password"]').fill(SMTP_AUTH.password);
  await page.locator('input[name="smtp-from"]').fill('destek@magaza.example');
  await page.locator('input[name="smtp-from-name"]').fill('Mağaza Destek');
  await card('smtp').locator('[data-form="smtp"] button[type="submit"]').click();
  await card('smtp').locator('.alert-info', { hasText: 'kaydedildi' }).waitFor();
  assert.equal(await page.locator('input[name="smtp-password"]').inputValue(), '', 'the password field is emptied');
  assert.equal(await page.locator('input[name="smtp-password"]').getAttribute('placeholder'), 'tanımlı — değiştirmek için yazın');
  const saved = (await call('GET', '/settings', undefined, admin)).json.items;
  assert.equal(saved.find((x) => x.name === 'mail.smtp_url').value, smtp.url);
  assert.equal(saved.find((x) => x.name === 'mail.smtp_password').set, true);

  // The saved settings: the password field is empty, so the saved password is used.
  await card('smtp').locator('[data-action="test"]').click();
  const ok = card('smtp').locator('[data-test-result="ok"]');
  await ok.waitFor();
  assert.match(await ok.textContent(), /Bağlantı çalışıyor\..*oturum açıldı/);
  // A wrong password, typed but not saved.
  await page.locator('input[name="smtp-password"]').fill('yanlış parola');
  await card('smtp').locator('[data-action="test"]').click();
  const fail = card('smtp').locator('[data-test-result="fail"]');
  await fail.waitFor();
  assert.match(await fail.textContent(), /Bağlantı kurulamadı:.*535/);
  assert.ok(!(await fail.textContent()).includes('yanlış parola'));
  await page.locator('input[name="smtp-password"]').fill('');
  // A real test mail.
  await page.locator('input[name="smtp-send-to"]').fill('ayse@magaza.example');
  await card('smtp').locator('.mbx-send button[type="submit"]').click();
  await card('smtp').locator('[data-test-result="ok"]', { hasText: 'ayse@magaza.example' }).waitFor();
  assert.equal(smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === 'ayse@magaza.example').length, 1);
});

test('main mailbox: tested before it is saved', async () => {
  await page.locator('input[name="imap-url"]').fill(imap.url);
  await page.locator('input[name="imap-user"]').fill(imap.user);
  await page.locator('input[name="imap-password"]').fill('yanlış parola');
  await card('imap').locator('[data-action="test"]').click();
  const fail = card('imap').locator('[data-test-result="fail"]');
  await fail.waitFor();
  assert.match(await fail.textContent(), /AUTHENTICATIONFAILED|denied/i);
  await page.locator('input[name="imap-password"]').fill(imap.password);
  await card('imap').locator('[data-action="test"]').click();
  const ok = card('imap').locator('[data-test-result="ok"]');
  await ok.waitFor();
  assert.match(await ok.textContent(), /INBOX: 0 ileti, 0 okunmamış/);
  await card('imap').locator('[data-status="never"]').waitFor();
});

test('another mailbox: added after a failed and a passing test, polled, then deleted', async () => {
  await page.locator('[data-action="add"]').click();
  const form = page.locator('[data-form="mailbox-new"]');
  await form.locator('input[name="box-name"]').fill('İade kutusu');
  await form.locator('input[name="box-url"]').fill(imap.url);
  await form.locator('input[name="box-user"]').fill(imap.user);
  await form.locator('input[name="box-password"]').fill('yanlış parola');
  await form.locator('input[name="box-poll"]').fill('1');
  await form.locator('select[name="box-team"]').selectOption({ label: 'İadeler' });
  await form.locator('input[name="box-tags"]').fill('iade, kargo');
  // Its own sender; STARTTLS required for IMAP: this dovecot has no TLS, so the test says so.
  await form.locator('input[name="box-from"]').fill('iade@magaza.example');
  await form.locator('input[name="box-from-name"]').fill('İade Ekibi');
  await form.locator('select[name="box-imap-tls"]').selectOption('starttls');
  await form.locator('input[name="box-password"]').fill(imap.password);
  await form.locator('[data-action="test"]').click();
  await form.locator('[data-test-result="fail"]').waitFor();
  await form.locator('select[name="box-imap-tls"]').selectOption('auto');
  await form.locator('input[name="box-password"]').fill('yanlış parola');
  await form.locator('[data-action="test"]').click();
  await form.locator('[data-test-result="fail"]', { hasText: /login|authentication/i }).waitFor();
  await form.locator('input[name="box-password"]').fill(imap.password);
  await form.locator('[data-action="test"]').click();
  await form.locator('[data-test-result="ok"]').waitFor();
  await shot('admin-mailboxes.png');
  await form.locator('button[type="submit"]').click();
  const box = page.locator('[data-mailbox="İade kutusu"]');
  await box.waitFor();
  assert.match(await box.textContent(), /Ekip: İadeler/);
  assert.match(await box.textContent(), /iade.*kargo/);
  assert.equal(await box.locator('[data-field="sender"]').textContent(), 'Yanıtların göndereni: İade Ekibi <iade@magaza.example>');
  const saved = (await call('GET', '/mailboxes', undefined, admin)).json.items.find((m) => m.name === 'İade kutusu');
  assert.equal(saved.from_address, 'iade@magaza.example');
  assert.equal(saved.imap_tls, 'auto');

  imap.deliver(Buffer.from(['From: Deniz <deniz@example.com>', 'To: iade@magaza.example', 'Subject: İade etmek istiyorum',
    'Message-ID: <e2e-mbx-1@example.com>', 'Content-Type: text/plain; charset=utf-8', '', 'Merhaba', ''].join('\r\n')));
  let filed = false;
  for (let i = 0; i < 30 && !filed; i++) {
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
    await box.waitFor();
    filed = await box.locator('[data-status="ok"]', { hasText: '1 ileti alındı' }).count() > 0;
  }
  assert.ok(filed, 'the status shows the message received');
  await box.locator('[data-action="test"]').click();
  assert.match(await box.locator('[data-test-result="ok"]').textContent(), /INBOX: 1 ileti, 0 okunmamış/);
  const tickets = (await call('GET', '/tickets', undefined, admin)).json.items;
  assert.deepEqual(tickets.find((x) => x.subject === 'İade etmek istiyorum').tags, ['iade', 'kargo']);
  // The mailbox's signature (issue 19): set here, added under an agent's reply on its ticket, {{agent.name}} filled.
  await box.locator('[data-region="mailbox-signature"] summary').click();
  await box.locator('[data-field="mailbox-signature"]').fill('{{agent.name}} · İade Ekibi');
  await box.locator('[data-action="save-mailbox-signature"]').click();
  await box.locator('[data-region="mailbox-signature"] [role="status"]').waitFor();
  await box.locator('[data-region="mailbox-signature"] summary').click();
  const filedTicket = tickets.find((x) => x.subject === 'İade etmek istiyorum');
  const reply = (await call('POST', `/tickets/${filedTicket.id}/messages`, { body: 'İadenizi aldık.' }, admin)).json;
  assert.equal(reply.message.body, `İadenizi aldık.\n\n${ADMIN.name} · İade Ekibi`);

  // Edit: the wrong password, then back.
  await box.locator('[data-action="edit"]').click();
  const edit = box.locator('form');
  await edit.locator('input[name="box-password"]').fill('yanlış parola');
  await edit.locator('[data-action="test"]').click();
  await edit.locator('[data-test-result="fail"]').waitFor();
  await edit.locator('input[name="box-password"]').fill('');
  await edit.locator('[data-action="test"]').click();
  await edit.locator('[data-test-result="ok"]').waitFor();   // the saved password
  await edit.locator('input[name="box-poll"]').fill('120');
  await edit.locator('button[type="submit"]').click();
  await box.locator('.badge', { hasText: "120 sn'de bir" }).waitFor();

  // Phone width, and English.
  const phoneContext = await browser.newContext({ locale: 'tr-TR', viewport: { width: 360, height: 740 },
    storageState: await context.storageState() });
  const phone = await phoneContext.newPage();
  phone.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
  await phone.goto(server.url + '/app/admin/mailboxes');
  await phone.locator('[data-mailbox="İade kutusu"]').waitFor();
  await shot('admin-mailboxes-phone.png', phone);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, 'no horizontal scroll at 360 px: ' + width);
  await phoneContext.close();
  await page.locator('.lang-switch button[data-lang="en"]').click();
  await card('smtp').locator('h2', { hasText: 'Outgoing mail (SMTP)' }).waitFor();
  await box.locator('[data-status="ok"]', { hasText: 'messages received' }).waitFor();
  await shot('admin-mailboxes-en.png');
  await page.locator('.lang-switch button[data-lang="tr"]').click();

  await box.locator('[data-action="delete"]').click();
  await box.locator('[data-action="confirm-delete"]').click();
  await page.locator('[data-empty="mailboxes"]').waitFor();
  assert.equal(await box.count(), 0);
  assert.deepEqual((await call('GET', '/mailboxes', undefined, admin)).json.items, []);
  assert.ok((await call('GET', '/tickets', undefined, admin)).json.items.some((x) => x.subject === 'İade etmek istiyorum'),
    'its ticket stays');
});

test('no page errors', () => {
  assert.deepEqual(pageErrors, []);
});
