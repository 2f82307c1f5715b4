// Browser test of the agents' web app (inbox, ticket view, admin screens) against the real binary.
// Tickets are created through the JSON API with an agent-scope token; the browser must show them, render
// hostile text as text, and run nothing. Screenshots: build/screenshots/{inbox,ticket,admin-users,phone}.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, startServer } from './server.mjs';
import { apiCall } from './ui-lib.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'build/screenshots');
const ADMIN = { email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba' };
const AGENT = { email: 'mehmet@example.com', name: 'Mehmet Kaya', password: 'temsilci-parola-1', role: 'agent' };
const XSS_IMG = '<img src=x onerror=window.__xss=1>';
const XSS_SCRIPT = '<script>window.__xss=1</script>';
const XSS_LINK = '<a href="javascript:window.__xss=1">tıkla</a> javascript:window.__xss=1';

let server;
let browser;
let context;
let page;
let bearer;
let adminAuth;
const pageErrors = [];

const call = (method, p, body, auth) => apiCall(server.url, method, p, body, auth);
const createTicket = (subject, body, email, extra) => call('POST', '/tickets', {
  subject, body, customer: { email, name: email.split('@')[0] }, ...(extra || {}) }, { bearer }).then((r) => r.json);

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  const token = new URL(server.setupUrl).searchParams.get('token');
  const s = await call('POST', '/setup', { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password, lang: 'tr' });
  const admin = { cookie: s.cookie, csrf: s.json.csrf_token };
  adminAuth = admin;
  bearer = (await call('POST', '/tokens', { name: 'e2e', scopes: ['agent'] }, admin)).json.secret;
  await call('PATCH', '/settings', { 'ticketing.undo_seconds': 0 }, admin);   // replies go at once here (tests/e2e/agentday.test.mjs has the window)
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

const shot = (name, p) => (p || page).screenshot({ timeout: 30000, path: path.join(SHOTS, name), fullPage: true });

async function login(p, who) {
  await p.goto(server.url + '/login');
  await p.locator('#email').fill(who.email);
  await p.locator('#password').fill(who.password);
  await p.locator('form button[type="submit"]').click();
  await p.locator('.inbox').waitFor();
}

let xss;
let kargo;

test('signs in and sees tickets created through the API, hostile text rendered as text', async () => {
  kargo = await createTicket('Kargo iade talebi', 'Merhaba, kargom hasarlı geldi; iade etmek istiyorum.', 'zeynep@example.com',
    { tags: ['kargo'], priority: 'high' });
  xss = await createTicket(XSS_IMG + ' ' + XSS_SCRIPT, XSS_SCRIPT + '\n' + XSS_IMG + '\n' + XSS_LINK, 'xss@example.com');
  await login(page, ADMIN);
  const rows = page.locator('.ticket-row');
  await page.locator(`[data-ticket="${xss.id}"]`).waitFor();
  assert.ok(await rows.count() >= 2);
  assert.equal(await page.locator(`[data-ticket="${xss.id}"] .subject`).textContent(), XSS_IMG + ' ' + XSS_SCRIPT);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot('inbox.png');
});

test('the XSS ticket opens as plain text and runs nothing', async () => {
  await page.locator(`[data-ticket="${xss.id}"] .row-main`).click();
  await page.locator('.thread .msg').first().waitFor();
  const body = await page.locator('.thread .msg-body').first().textContent();
  assert.ok(body.includes(XSS_SCRIPT) && body.includes(XSS_IMG) && body.includes('javascript:'), body);
  assert.equal(await page.locator('.thread img, .thread script, .thread a[href^="javascript"]').count(), 0);
  assert.equal(await page.locator('h1 .subject').textContent(), XSS_IMG + ' ' + XSS_SCRIPT);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.goto(server.url + '/app/tickets');
});

test('a ticket created through the API appears in the inbox by the poll, without a reload', async () => {
  await page.locator('.ticket-row').first().waitFor();
  const fresh = await createTicket('Siparişim nerede?', 'Sipariş 1001 hâlâ gelmedi.', 'ali@example.com');
  await page.locator(`[data-ticket="${fresh.id}"]`).waitFor({ timeout: 15000 });
});

test('ticket view: reply with status, note, assign to me, tags, customer panel, shortcuts r/n/a', async () => {
  await page.goto(server.url + '/app/tickets/' + kargo.id);
  await page.locator('.composer').waitFor();
  await page.locator('[data-region="customer"]').getByText('zeynep@example.com').waitFor();
  assert.equal(await page.locator('[data-slot="ticket.side"]').count(), 1);
  await page.keyboard.press('r');
  // The composer takes the focus in an effect after the render the key caused: wait for it, as a person would.
  await page.waitForFunction(() => document.activeElement.tagName === 'TEXTAREA', null, { timeout: 5000 });
  await page.keyboard.type('Merhaba Zeynep, iadeniz için kargo kodu gönderdik.');
  await page.locator('[data-field="send-status"]').selectOption('pending');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply').getByText('kargo kodu').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-field="status"]').value === 'pending');
  await page.locator('textarea').blur();
  await page.keyboard.press('n');
  await page.waitForFunction(() => document.activeElement.tagName === 'TEXTAREA');
  await page.locator('.composer-note').waitFor();
  await page.keyboard.type('Depoya haber verildi.');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-note').getByText('Depoya haber verildi.').waitFor();
  await page.locator('textarea').blur();
  await page.keyboard.press('a');
  await page.locator('[data-field="assignee"]', { hasText: ADMIN.name }).waitFor();
  const t = (await call('GET', '/tickets/' + kargo.id, undefined, { bearer })).json;
  assert.equal(t.status, 'pending');
  assert.ok(t.assignee_id > 0);
  assert.equal(t.messages.filter((m) => m.kind === 'note').length, 1);
  await page.locator('input[placeholder="Etiket ekle"]').fill('hasarlı');
  await page.keyboard.press('Enter');
  await page.locator('.tag', { hasText: 'hasarlı' }).waitFor();
  await shot('ticket.png');
});

test('a macro (created by the admin through the API) replies from the composer', async () => {
  const m = await call('POST', '/macros', { name: 'Kargo bilgisi', body_tr: 'Kargonuz yola çıktı.', body_en: 'Your parcel has shipped.' },
    adminAuth);
  assert.ok(m.json.id > 0);
  await page.goto(server.url + '/app/tickets/' + kargo.id);
  await page.locator('[data-action="macros"]').click();
  await page.locator('[data-field="macro"]').fill('kargo');
  await page.locator('[data-macro]', { hasText: 'Kargo bilgisi' }).click();
  await page.locator('[data-action="apply-macro"]').click();
  // The macro fills the composer; the agent sends.
  await page.waitForFunction(() => document.querySelector('.composer textarea').value.includes('Kargonuz yola çıktı.'));
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply').getByText('Kargonuz yola çıktı.').waitFor();
});

test('merge a ticket by reference', async () => {
  const a = await createTicket('Aynı sipariş 2', 'İkinci ileti', 'zeynep@example.com');
  await page.goto(server.url + '/app/tickets/' + kargo.id);
  await page.locator('#merge-ref').fill(a.reference);
  await page.locator('[data-action="merge"]').click();
  await page.locator('[data-region="merge-confirm"] [data-merge-side="source"]').getByText(a.reference).waitFor();
  await page.locator('[data-action="merge-confirm"]').click();
  await page.locator('.msg').getByText('İkinci ileti').waitFor();
  const src = (await call('GET', '/tickets/' + a.id, undefined, { bearer })).json;
  assert.equal(src.status, 'closed');
  assert.equal(src.merged_into, kargo.id);
});

test('merging another customer\'s ticket asks first, showing both tickets and both customers; replies then name their customer', async () => {
  const ali = await createTicket('Fatura adresi yanlış', 'ALİ-MESAJ faturam yanlış adrese kesilmiş.', 'ali.kaya@example.com');
  const ayse = await createTicket('Fatura hatası', 'AYŞE-MESAJ faturadaki adres hatalı.', 'ayse.demir@example.com');
  await page.goto(server.url + '/app/tickets/' + ali.id);
  await page.locator('.composer').waitFor();
  await page.locator('#merge-ref').fill(ayse.reference);
  await page.locator('[data-action="merge"]').click();
  const dialog = page.locator('[data-region="merge-confirm"]');
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('role'), 'alertdialog');
  const target = dialog.locator('[data-merge-side="target"]');
  const source = dialog.locator('[data-merge-side="source"]');
  for (const [side, t, name] of [[target, ali, 'ali.kaya'], [source, ayse, 'ayse.demir']]) {
    const text = await side.textContent();
    assert.ok(text.includes(t.reference) && text.includes(t.subject), text);
    assert.ok(text.includes(name + '@example.com'), `${name}: the customer and the address: ${text}`);
  }
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'merge-cancel', 'the safe choice has the focus');
  await shot('merge-confirm.png');
  // Cancel: nothing is merged.
  await page.locator('[data-action="merge-cancel"]').click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await call('GET', '/tickets/' + ayse.id, undefined, { bearer })).json.merged_into, null);
  // Confirm: merged; each message says whose part it is, and the reply says whom it goes to.
  await page.locator('[data-action="merge"]').click();
  await dialog.waitFor();
  await page.locator('[data-action="merge-confirm"]').click();
  await page.locator('.msg').getByText('AYŞE-MESAJ').waitFor();
  assert.equal((await call('GET', '/tickets/' + ayse.id, undefined, { bearer })).json.merged_into, ali.id);
  assert.equal(await page.locator(`.msg [data-part="${ayse.id}"]`).count(), 1);
  await page.locator('[data-region="other-parts"]').getByText('ayse.demir@example.com').waitFor();
  const to = page.locator('[data-field="reply-to"]');
  assert.equal(await to.inputValue(), String(ayse.customer.id), 'the customer who wrote last is picked first');
  await to.selectOption(String(ali.customer.id));
  await page.locator('.composer textarea').fill('ALİ-YANIT adresiniz düzeltildi.');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply').getByText('ALİ-YANIT').waitFor();
  await shot('merge-parts.png');
  const t = (await call('GET', '/tickets/' + ali.id, undefined, { bearer })).json;
  assert.equal(t.messages.at(-1).part_ticket_id, ali.id, 'the reply is for ali');
  assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
});

test('Turkish search: "kargo İADE" finds "Kargo iade" with a highlighted snippet', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.ticket-row').first().waitFor();
  await page.keyboard.press('/');
  await page.keyboard.type('kargo İADE');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=kargo/);
  await page.locator(`[data-ticket="${kargo.id}"]`).waitFor();
  assert.ok(await page.locator(`[data-ticket="${kargo.id}"] mark`).count() >= 1);
  assert.equal(await page.locator('.ticket-row').count(), 1);
});

test('keyboard: j/k move, Enter opens, ? shows the shortcuts', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.ticket-row').nth(1).waitFor();
  const first = await page.locator('.ticket-row').nth(0).getAttribute('data-ticket');
  const second = await page.locator('.ticket-row').nth(1).getAttribute('data-ticket');
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  await page.keyboard.press('j');
  await page.locator('.ticket-row.is-cursor[data-ticket="' + second + '"]').waitFor();
  await page.keyboard.press('k');
  await page.locator('.ticket-row.is-cursor[data-ticket="' + first + '"]').waitFor();
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp('/app/tickets/' + second + '$'));
  await page.keyboard.press('?');
  await page.locator('[data-region="shortcuts"]').waitFor();
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('[data-region="shortcuts"]').count(), 0);
});

test('bulk: select two tickets and set them pending', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  const rows = page.locator('.ticket-row');
  await rows.nth(1).waitFor();
  const ids = [await rows.nth(0).getAttribute('data-ticket'), await rows.nth(1).getAttribute('data-ticket')];
  await rows.nth(0).locator('input[type="checkbox"]').check();
  await rows.nth(1).locator('input[type="checkbox"]').check();
  await page.locator('[data-bulk="status"]').selectOption('on_hold');
  await page.locator('.bulkbar').waitFor({ state: 'detached' });
  for (const id of ids) assert.equal((await call('GET', '/tickets/' + id, undefined, { bearer })).json.status, 'on_hold');
});

test('switch language to English and back', async () => {
  await page.goto(server.url + '/app/tickets');
  await page.locator('.lang-switch button[data-lang="en"]').click();
  await page.locator('[data-view="mine"]', { hasText: 'My tickets' }).waitFor();
  await page.locator('.lang-switch button[data-lang="tr"]').click();
  await page.locator('[data-view="mine"]', { hasText: 'Bana atananlar' }).waitFor();
});

test('admin creates an agent; the agent signs in and sees no admin screens', async () => {
  await page.goto(server.url + '/app/admin/users');
  await page.locator('[data-form="user"]').waitFor();
  await page.locator('input[name="user-name"]').fill(AGENT.name);
  await page.locator('input[name="user-email"]').fill(AGENT.email);
  await page.locator('input[name="user-password"]').fill(AGENT.password);
  await page.locator('[data-form="user"] button[type="submit"]').click();
  await page.locator(`tr[data-user="${AGENT.email}"]`).waitFor();
  await shot('admin-users.png');
  const other = await browser.newContext({ locale: 'tr-TR', viewport: { width: 360, height: 740 } });
  const phone = await other.newPage();
  await login(phone, AGENT);
  assert.equal(await phone.locator('[data-nav="admin"]').count(), 0);
  await phone.goto(server.url + '/app/tickets?view=unassigned');
  await phone.locator('.ticket-row').first().waitFor();
  await shot('phone.png', phone);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, 'no horizontal scroll at 360 px: ' + width);
  await phone.goto(server.url + '/app/admin/users');
  await phone.locator('[data-region="forbidden"]').waitFor();
  assert.equal(await phone.locator('[data-form="user"]').count(), 0);
  await other.close();
});

test('no page errors, and no script ever ran from ticket text', async () => {
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(pageErrors, []);
});
