// Browser test of the admin screens (web/agent/pages/admin/) against the real binary, as an admin in Chromium:
// settings, calendars (a server parser error shown on its field, a holiday, a team's calendar), SLA policies
// (targets in hours and minutes, reorder), macros in both languages applied from a ticket's composer, triggers
// (a new one fires; the built-in out-of-hours auto-reply is switched off), webhooks to a loopback receiver (the
// secret shown once signs the deliveries; a delivery in the log; a failed one dead-lettered, then retried), API
// tokens (the secret shown once, copied, and working), users (edit, reset password, deactivate), unreadable mail
// (download the raw message) and plugins. An agent gets no admin screens. Every screen is photographed at desktop
// width and at 360 px into build/screenshots/admin-*.png, with no horizontal scrolling on the phone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { destekBin, repoRoot, startServer } from './server.mjs';
import { apiCall } from './ui-lib.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'build/screenshots');
const ADMIN = { email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba' };
const AGENT = { email: 'can@example.com', name: 'Can Demir', password: 'ilk-parola-123' };
const AGENT_NEW_PASSWORD = 'yeni-parola-456';
const TABS = ['users', 'tokens', 'webhooks', 'sla', 'calendars', 'macros', 'triggers', 'unparsed', 'settings', 'plugins'];

let server;
let browser;
let context;
let page;
let adminAuth;
let bearer;
const pageErrors = [];

// ------------------------------------------------------------------------------------------------ helpers

const call = (method, p, body, auth) => apiCall(server.url, method, p, body, auth);
const get = (p) => call('GET', p, undefined, adminAuth).then((r) => r.json);
const createTicket = (subject, body, customer) => call('POST', '/tickets', { subject, body, customer }, { bearer }).then((r) => r.json);

/** A receiver on 127.0.0.1 that records every POST; status is what it answers. */
function receiver() {
  const rx = { hits: [], status: 200 };
  rx.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      rx.hits.push({ headers: req.headers, raw, json: JSON.parse(raw.toString('utf8')) });
      res.writeHead(rx.status, { 'content-type': 'text/plain' });
      res.end(rx.status >= 300 ? 'receiver is down' : 'ok');
    });
  });
  return new Promise((resolve) => rx.server.listen(0, '127.0.0.1', () => { rx.port = rx.server.address().port; resolve(rx); }));
}
let rx;

async function eventually(what, fn, ms = 15000) {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

// From the top of the page: a full-page shot of a scrolled page repeats the sticky top bar in the middle.
async function shot(name, p = page) {
  await p.evaluate(() => { if (document.activeElement && document.activeElement.blur) document.activeElement.blur(); window.scrollTo(0, 0); });
  await p.screenshot({ timeout: 30000, path: path.join(SHOTS, name), fullPage: true });
}

async function openTab(tab, p = page) {
  await p.goto(server.url + '/app/admin/' + tab);
  await p.locator(`.admin[data-admin="${tab}"]`).waitFor();
  await p.locator(`.admin-tabs a[data-tab="${tab}"].is-active`).waitFor();
}

/* Screenshots of a screen at desktop width (already open in page) and at 360 px, with no sideways scrolling. */
async function photograph(tab) {
  await shot(`admin-${tab}.png`);
  const phone = await phoneContext.newPage();
  phone.on('pageerror', (e) => pageErrors.push('phone: ' + String(e && e.stack || e)));
  await openTab(tab, phone);
  await phone.waitForLoadState('networkidle');
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `${tab}: no horizontal scroll at 360 px (scrollWidth ${width})`);
  await shot(`admin-${tab}-phone.png`, phone);
  const open = phone.locator('[data-action="new"]');
  if (await open.count()) {
    await open.click();
    await phone.locator('form[data-form]').first().waitFor();
    const w = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `${tab} form: no horizontal scroll at 360 px (scrollWidth ${w})`);
    await shot(`admin-${tab}-form-phone.png`, phone);
  }
  await phone.close();
}
let phoneContext;

async function login(p, who) {
  await p.goto(server.url + '/login');
  await p.locator('#email').fill(who.email);
  await p.locator('#password').fill(who.password);
  await p.locator('form button[type="submit"]').click();
  await p.locator('.inbox').waitFor();
}

const sign = (secret, body) => 'sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex');

// ------------------------------------------------------------------------------------------------ set-up

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  rx = await receiver();
  server = await startServer({ args: ['--allow-private-net'] });
  const token = new URL(server.setupUrl).searchParams.get('token');
  const s = await call('POST', '/setup', { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password, lang: 'tr' });
  adminAuth = { cookie: s.cookie, csrf: s.json.csrf_token };
  bearer = (await call('POST', '/tokens', { name: 'e2e', scopes: ['agent'] }, adminAuth)).json.secret;
  await call('PATCH', '/settings', { 'ticketing.undo_seconds': 0 }, adminAuth);   // replies go at once here (tests/e2e/agentday.test.mjs has the window)
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 800 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
  await login(page, ADMIN);
  phoneContext = await browser.newContext({ locale: 'tr-TR', viewport: { width: 360, height: 740 },
    storageState: await context.storageState() });
});

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    if (server) await server.stop();
    if (rx) { rx.server.closeAllConnections(); rx.server.close(); }
  }
});

// ------------------------------------------------------------------------------------------------ the tests

test('the admin screens are tabs, each at its own address', async () => {
  await openTab('users');
  for (const tab of TABS) assert.equal(await page.locator(`.admin-tabs a[data-tab="${tab}"]`).count(), 1, tab);
  await page.locator('.admin-tabs a[data-tab="sla"]').click();
  await page.waitForURL(/\/app\/admin\/sla$/);
  await page.locator('.admin[data-admin="sla"]').waitFor();
  assert.equal(await page.locator('.admin-tabs a[aria-current="page"]').getAttribute('data-tab'), 'sla');
});

test('settings: retry the bus quickly (changed values only, saved, shown again)', async () => {
  await openTab('settings');
  await page.locator('[data-setting="events.retry_limit"]').fill('1');
  await page.locator('[data-setting="events.retry_base_seconds"]').fill('1');
  await page.locator('[data-form="settings"] [data-action="save"]').click();
  await page.locator('.alert-info', { hasText: 'Ayarlar kaydedildi.' }).waitFor();
  const items = (await get('/settings')).items;
  assert.equal(items.find((x) => x.name === 'events.retry_limit').value, 1);
  assert.equal(items.find((x) => x.name === 'events.retry_base_seconds').value, 1);
  assert.equal(await page.locator('[data-setting="events.retry_limit"]').inputValue(), '1');
  await photograph('settings');
});

let calendarId;
let teamId;
test('calendars: a bad hours text gets the parser error on its field; then saved with a holiday; a team gets it', async () => {
  await openTab('calendars');
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="cal"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'cal-name', 'the new form has the focus');
  await form.locator('#cal-name').fill('Hafta sonu');
  await form.locator('#cal-time_zone').fill('Europe/Istanbul');
  await form.locator('#cal-hours').fill('mon-fry 09:00-18:00');
  await form.locator('[data-action="save"]').click();
  const err = form.locator('[data-error-for="hours"]');
  await err.waitFor();
  assert.match(await err.textContent(), /fry/, 'the parser names the bad day');
  assert.equal(await form.locator('#cal-hours').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'cal-hours', 'the field with the error has the focus');
  assert.equal((await get('/calendars')).items.length, 1, 'nothing was saved');

  await form.locator('#cal-hours').fill('mon-fri 09:00-17:00; sat 10:00-13:00');
  await form.locator('#cal-day').fill('2026-12-31');
  await form.locator('[data-action="add-day"]').click();
  assert.equal(await form.locator('#cal-holidays').inputValue(), '2026-12-31');
  await form.locator('#cal-holidays').press('End');
  await form.locator('#cal-holidays').type('\n2026-12-30 13:00-24:00');
  await form.locator('[data-action="save"]').click();
  const row = page.locator('tr[data-calendar="Hafta sonu"]');
  await row.waitFor();
  assert.equal(await row.locator('[data-field="holidays"]').textContent(), '2 kayıt');
  const cal = (await get('/calendars')).items.find((c) => c.name === 'Hafta sonu');
  calendarId = cal.id;
  assert.equal(cal.hours, 'mon-fri 09:00-17:00; sat 10:00-13:00');
  assert.equal(cal.holidays, '2026-12-31\n2026-12-30 13:00-24:00');
  assert.equal(cal.is_default, false);
  assert.equal(await form.count(), 0, 'the form is closed once saved');

  // teams: create one, give it the new calendar
  await page.locator('[data-form="team"] #team-name').fill('Kargo ekibi');
  await page.locator('[data-form="team"] [data-action="save"]').click();
  const team = page.locator('li[data-team="Kargo ekibi"]');
  await team.waitFor();
  await team.locator('[data-field="team-calendar"]').selectOption({ label: 'Hafta sonu' });
  await eventually('the team calendar', async () => (await get('/calendars/' + calendarId)).team_ids.length === 1);
  teamId = (await get('/calendars/' + calendarId)).team_ids[0];
  assert.equal((await get('/teams/' + teamId)).name, 'Kargo ekibi');
  await page.locator('tr[data-calendar="Hafta sonu"]', { hasText: 'Kargo ekibi' }).waitFor();
  await photograph('calendars');
});

test('SLA policies: targets in hours and minutes on the new calendar, a client-side check, reorder, delete', async () => {
  await openTab('sla');
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="sla"]');
  await form.locator('#sla-name').fill('Acil e-posta');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="frt"]', { hasText: 'İlk yanıt ya da çözüm' }).waitFor();
  await form.locator('#sla-priority').selectOption('urgent');
  await form.locator('#sla-channel').selectOption('email');
  await form.locator('#sla-frt_h').fill('1');
  await form.locator('#sla-frt_m').fill('30');
  await form.locator('#sla-res_h').fill('8');
  await form.locator('#sla-warn_percent').fill('75');
  await form.locator('#sla-pause_on_hold').check();
  await form.locator('#sla-calendar_id').selectOption({ label: 'Hafta sonu' });
  await form.locator('[data-action="save"]').click();
  const row = page.locator('tr[data-policy="Acil e-posta"]');
  await row.waitFor();
  assert.equal(await row.locator('[data-field="frt"]').textContent(), '1 sa 30 dk');
  assert.equal(await row.locator('[data-field="res"]').textContent(), '8 sa');
  const p = (await get('/sla-policies')).items.find((x) => x.name === 'Acil e-posta');
  assert.deepEqual([p.priority, p.channel, p.tag, p.first_response_minutes, p.resolution_minutes, p.warn_percent,
    p.pause_on_hold, p.calendar_id, p.active], ['urgent', 'email', null, 90, 480, 75, true, calendarId, true]);

  await page.locator('[data-action="new"]').click();
  await form.locator('#sla-name').fill('Genel');
  await form.locator('#sla-frt_h').fill('4');
  await form.locator('[data-action="save"]').click();
  await page.locator('tr[data-policy="Genel"]').waitFor();
  await page.locator('tr[data-policy="Genel"] [data-action="up"]').click();
  await eventually('the new order', async () => {
    const names = await page.locator('tr[data-policy]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-policy')));
    return names[0] === 'Genel' && names[1] === 'Acil e-posta';
  });
  const order = (await get('/sla-policies')).items.map((x) => x.name);
  assert.deepEqual(order.slice(0, 2), ['Genel', 'Acil e-posta'], 'the server has the order the screen shows');
  await photograph('sla');

  // edit, then delete with a confirmation (Escape first cancels it)
  await page.locator('tr[data-policy="Genel"] [data-action="edit"]').click();
  const edit = page.locator('[data-form="edit-sla"]');
  assert.equal(await edit.locator('#edit-sla-frt_h').inputValue(), '4');
  await edit.locator('#edit-sla-frt_m').fill('15');
  await edit.locator('[data-action="save"]').click();
  await page.locator('tr[data-policy="Genel"] [data-field="frt"]', { hasText: '4 sa 15 dk' }).waitFor();
  await page.locator('tr[data-policy="Genel"] [data-action="delete"]').click();
  await page.locator('[data-region="confirm"]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'dismiss', 'Cancel has the focus');
  await page.keyboard.press('Escape');
  await page.locator('[data-region="confirm"]').waitFor({ state: 'detached' });
  assert.equal((await get('/sla-policies')).items.length, 2, 'Escape deleted nothing');
  await page.locator('tr[data-policy="Genel"] [data-action="delete"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await page.locator('tr[data-policy="Genel"]').waitFor({ state: 'detached' });
  assert.deepEqual((await get('/sla-policies')).items.map((x) => x.name), ['Acil e-posta']);
});

test('macros: both languages with an inserted variable and field changes, searched, applied from the composer', async () => {
  await openTab('macros');
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="macro"]');
  await form.locator('#macro-name').fill('İade onayı');
  await form.locator('#macro-body_tr').fill('Merhaba ');
  await form.locator('#macro-body_tr').press('End');
  await form.locator('[data-var="{{customer.name}}"]').click();
  await form.locator('#macro-body_tr').type(', iadeniz onaylandı.');
  await form.locator('#macro-body_en').fill('Hello , your return is approved.');
  await form.locator('#macro-body_en').evaluate((el) => el.setSelectionRange(6, 6));
  await form.locator('[data-var="{{customer.name}}"]').click();
  await form.locator('#macro-status').selectOption('pending');
  await form.locator('#macro-add_tags').fill('iade-onay, iade');
  await form.locator('[data-action="save"]').click();
  const card = page.locator('[data-macro="İade onayı"]');
  await card.waitFor();
  const m = (await get('/macros')).items.find((x) => x.name === 'İade onayı');
  assert.equal(m.body_tr, 'Merhaba {{customer.name}}, iadeniz onaylandı.');
  assert.equal(m.body_en, 'Hello {{customer.name}}, your return is approved.');
  assert.deepEqual(m.changes, { status: 'pending', add_tags: ['iade-onay', 'iade'] });

  await call('POST', '/macros', { name: 'Kargo bilgisi', body_tr: 'Kargonuz yola çıktı.', body_en: '' }, adminAuth);
  await openTab('macros');
  await page.locator('[data-macro="Kargo bilgisi"]').waitFor();
  await page.locator('#macro-search').fill('İADE');
  await page.locator('[data-macro="Kargo bilgisi"]').waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-macro]').count(), 1, 'the search is by name, Turkish-aware case');
  await page.locator('#macro-search').fill('yok böyle');
  await page.locator('[data-empty]').waitFor();
  await page.locator('#macro-search').fill('');
  await photograph('macros');

  const ticket = await createTicket('Return request', 'I would like to return my order.',
    { email: 'john@example.com', name: 'John Smith', lang: 'en' });
  await page.goto(server.url + '/app/tickets/' + ticket.id);
  await page.locator('[data-action="macros"]').click();
  await page.locator('[data-field="macro"]').fill('iade');
  await page.locator('[data-macro]', { hasText: 'İade onayı' }).click();
  await page.locator('[data-action="apply-macro"]').click();
  await page.waitForFunction(() => document.querySelector('.composer textarea').value.includes('your return is approved'));
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply').getByText('Hello John Smith, your return is approved.').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-field="status"]').value === 'pending');
  await page.locator('.tag', { hasText: 'iade-onay' }).waitFor();
});

test('triggers: a new one fires on a new ticket; the built-in out-of-hours auto-reply is switched off', async () => {
  await openTab('triggers');
  const builtIn = page.locator('tr[data-trigger="Mesai dışı otomatik yanıt"]');
  await builtIn.waitFor();
  assert.equal(await builtIn.getAttribute('data-active'), 'true');
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="trigger"]');
  await form.locator('#trigger-name').fill('VIP müşteri');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="actions"]').waitFor();
  await form.locator('#trigger-event').selectOption('ticket.created');
  await form.locator('#trigger-contains').fill('vip');
  await form.locator('#trigger-a_tags').fill('vip');
  await form.locator('#trigger-a_priority').selectOption('high');
  await form.locator('#trigger-reply_tr').fill('Merhaba , talebiniz öncelikli olarak ele alınacak.');
  await form.locator('#trigger-reply_tr').evaluate((el) => el.setSelectionRange(8, 8));
  await form.locator('[data-var="{{customer.name}}"]').click();
  assert.equal(await form.locator('[data-var="{{agent.name}}"]').count(), 0, 'no agent in an automatic reply');
  await form.locator('[data-action="save"]').click();
  await page.locator('tr[data-trigger="VIP müşteri"]').waitFor();
  const tr = (await get('/triggers')).items.find((x) => x.name === 'VIP müşteri');
  assert.deepEqual(tr.conditions, { contains: 'vip' });
  assert.deepEqual(tr.actions, { add_tags: ['vip'], priority: 'high',
    reply_tr: 'Merhaba {{customer.name}}, talebiniz öncelikli olarak ele alınacak.' });
  assert.equal(tr.event, 'ticket.created');

  await builtIn.locator('[data-action="toggle-active"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await page.locator('tr[data-trigger="Mesai dışı otomatik yanıt"][data-active="false"]').waitFor();
  const auto = (await get('/triggers')).items.find((x) => x.name === 'Mesai dışı otomatik yanıt');
  assert.equal(auto.active, false);
  await photograph('triggers');

  const t = await createTicket('VİP siparişim gecikti', 'Siparişim nerede?', { email: 'vip@example.com', name: 'Selin' });
  assert.ok(t.tags.includes('vip'), `tags: ${t.tags}`);
  assert.equal(t.priority, 'high');
  const full = await call('GET', '/tickets/' + t.id, undefined, { bearer });
  assert.ok(full.json.messages.some((x) => x.body === 'Merhaba Selin, talebiniz öncelikli olarak ele alınacak.'));
});

let hookSecret;
test('webhooks: the signing secret once; a delivery in the log; a failed one dead, then retried', async () => {
  await openTab('webhooks');
  await page.locator('[data-empty]').first().waitFor();
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="hook"]');
  await form.locator('#hook-url').fill(`http://127.0.0.1:${rx.port}/destek`);
  await form.locator('#hook-events').fill('');
  await form.locator('[data-event="ticket.created"]').click();
  assert.equal(await form.locator('#hook-events').inputValue(), 'ticket.created');
  await form.locator('#hook-description').fill('Depo sistemi');
  await form.locator('[data-action="save"]').click();
  const secret = page.locator('[data-region="secret"] [data-secret]');
  await secret.waitFor();
  hookSecret = await secret.inputValue();
  assert.match(hookSecret, /^[A-Za-z0-9_-]{20,}$/);
  await page.locator('[data-region="secret"] [data-action="done"]').click();
  assert.equal(await page.locator('[data-secret]').count(), 0, 'the secret is gone once dismissed');
  const card = page.locator(`[data-webhook="http://127.0.0.1:${rx.port}/destek"]`);
  await card.waitFor();
  const hook = (await get('/webhooks')).items[0];
  assert.deepEqual(hook.events, ['ticket.created']);
  assert.ok(!JSON.stringify(await get('/webhooks')).includes(hookSecret), 'the list never shows the secret');

  const t1 = await createTicket('Webhook 1', 'ilk', { email: 'w1@example.com', name: 'W1' });
  await eventually('the first POST', () => rx.hits.length >= 1);
  assert.equal(rx.hits[0].headers['x-destek-signature'], sign(hookSecret, rx.hits[0].raw), 'signed with the secret shown once');
  assert.equal(rx.hits[0].json.payload.id, t1.id);
  await card.locator('[data-action="deliveries"]').click();
  const log = card.locator('[data-region="deliveries"]');
  await log.locator('tr[data-status="delivered"]').waitFor();
  const ok = log.locator('tr[data-status="delivered"]').first();
  assert.equal(await ok.locator('[data-field="response"]').textContent(), '200');
  assert.equal(await ok.locator('[data-field="attempts"]').textContent(), '1');

  rx.status = 500;
  await createTicket('Webhook 2', 'ikinci', { email: 'w2@example.com', name: 'W2' });
  const dead = log.locator('tr[data-status="dead"]');
  await dead.waitFor({ timeout: 20000 });
  assert.equal(await dead.locator('[data-field="response"]').textContent(), '500');
  assert.match(await dead.locator('[data-field="last-error"]').textContent(), /HTTP 500/);
  const deadId = await dead.getAttribute('data-delivery');
  await page.locator('[data-action="refresh-dead"]').click();
  await page.locator(`[data-region="dead"] tr[data-delivery="${deadId}"]`).waitFor();
  assert.match(await page.locator(`[data-region="dead"] tr[data-delivery="${deadId}"]`).textContent(), new RegExp('webhook:' + hook.id));
  await photograph('webhooks');
  await shot('admin-webhooks-log.png');

  rx.status = 200;
  const before = rx.hits.length;
  await dead.locator('[data-action="retry"]').click();
  await eventually('the retried POST', () => rx.hits.length > before);
  await eventually('both delivered', async () => (await log.locator('tr[data-status="delivered"]').count()) === 2, 20000);
  assert.equal(await log.locator('tr[data-status="dead"]').count(), 0);
  const ds = (await get(`/webhooks/${hook.id}/deliveries`)).items;
  assert.deepEqual(ds.map((d) => [d.status, d.response_status]), [['delivered', 200], ['delivered', 200]]);
  await page.locator('[data-action="refresh-dead"]').click();
  await page.locator(`[data-region="dead"] tr[data-delivery="${deadId}"]`).waitFor({ state: 'detached' });

  // switch it off (confirmed), on again, and edit the events
  await card.locator('[data-action="toggle-active"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await eventually('inactive', async () => (await get('/webhooks/' + hook.id)).active === false);
  await card.locator('[data-action="toggle-active"]').click();
  await eventually('active', async () => (await get('/webhooks/' + hook.id)).active === true);
  await card.locator('[data-action="edit"]').click();
  await page.locator('[data-form="edit-hook"] [data-event="ticket.updated"]').click();
  await page.locator('[data-form="edit-hook"] [data-action="save"]').click();
  await eventually('the new events', async () => (await get('/webhooks/' + hook.id)).events.join() === 'ticket.created,ticket.updated');
});

test('webhooks: a URL the server refuses gets its message beside the field', async () => {
  await openTab('webhooks');
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="hook"]');
  await form.locator('#hook-url').fill('ftp://example.com/x');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="url"]').waitFor();
  await form.locator('#hook-url').fill('http://127.0.0.1:1/x');
  await form.locator('#hook-events').fill('ticket..created');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="events"]', { hasText: 'ticket..created' }).waitFor();
  assert.equal((await get('/webhooks')).items.length, 1, 'nothing was saved');
});

test('tokens: created with scopes; the secret is shown once, copies, and works', async () => {
  await openTab('tokens');
  const form = page.locator('[data-form="token"]');
  await form.locator('input[value="agent"]').uncheck();
  await form.locator('#token-name').fill('İzleme');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="scopes"]').waitFor();
  await form.locator('input[value="metrics"]').check();
  await form.locator('[data-action="save"]').click();
  const secretBox = page.locator('[data-region="secret"] [data-secret]');
  await secretBox.waitFor();
  const secret = await secretBox.inputValue();
  assert.match(secret, /^dtk_/);
  await page.locator('[data-region="secret"] [data-action="copy"]').click();
  await page.locator('[data-region="secret"]', { hasText: 'Panoya kopyalandı.' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await shot('admin-tokens-secret.png');
  await page.locator('[data-region="secret"] [data-action="done"]').click();
  assert.equal(await page.locator('[data-secret]').count(), 0);
  const row = page.locator('tr[data-token="İzleme"]');
  await row.waitFor();
  assert.equal(await row.locator('code').first().textContent(), secret.slice(0, 10) + '…');
  await page.reload();
  await row.waitFor();
  assert.equal(await page.content().then((h) => h.includes(secret)), false, 'never shown again');
  const metrics = await fetch(server.url + '/metrics', { headers: { Authorization: 'Bearer ' + secret } });
  assert.equal(metrics.status, 200);
  await photograph('tokens');

  await row.locator('[data-action="revoke"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await row.locator('.badge-off').waitFor();
  assert.equal((await fetch(server.url + '/metrics', { headers: { Authorization: 'Bearer ' + secret } })).status, 401);
});

test('unreadable mail: listed for the admin, the raw message downloads', async () => {
  const raw = fs.readFileSync(path.join(repoRoot, 'tests/mail/corpus/garbage.eml'));
  const out = await new Promise((resolve) => {
    const p = spawn(destekBin(), ['mail', 'import', '--data', server.dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    p.stdout.on('data', (d) => { text += d; });
    p.stderr.on('data', (d) => { text += d; });
    p.on('close', (code) => resolve({ code, text }));
    p.stdin.end(raw);
  });
  assert.equal(out.code, 0, out.text);
  await openTab('unparsed');
  const item = page.locator('[data-unparsed]').first();
  await item.waitFor();
  await item.locator('summary').click();
  assert.match(await item.locator('pre').textContent(), /binary junk/);
  const [download] = await Promise.all([page.waitForEvent('download'), item.locator('[data-action="download"]').click()]);
  const file = await download.path();
  assert.deepEqual(fs.readFileSync(file), raw, 'the bytes as received');
  assert.match(download.suggestedFilename(), /^unparsed-\d+\.eml$/);
  await photograph('unparsed');
});

test('plugins: name, version, kind and state', async () => {
  await openTab('plugins');
  const row = page.locator('tr[data-plugin="ticketing"]');
  await row.waitFor();
  assert.equal(await row.locator('[data-field="kind"]').textContent(), 'C, yerleşik');
  assert.ok(await page.locator('[data-field="kind"]', { hasText: 'Lua, yerleşik' }).count() >= 1);
  assert.ok(await row.textContent().then((x) => x.includes('Yüklü')));
  await photograph('plugins');
});

test('users: create, edit the role, reset the password; the agent sees no admin screen; then deactivated', async () => {
  await openTab('users');
  const form = page.locator('[data-form="user"]');
  await form.locator('#user-name').fill(AGENT.name);
  await form.locator('#user-email').fill('not-an-email');
  await form.locator('#user-password').fill('short');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="email"]').waitFor();
  await form.locator('[data-error-for="password"]').waitFor();
  await form.locator('#user-email').fill(AGENT.email);
  await form.locator('#user-password').fill(AGENT.password);
  await form.locator('#user-role').selectOption('admin');
  await form.locator('[data-action="save"]').click();
  const row = page.locator(`tr[data-user="${AGENT.email}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Yönetici/);

  await form.locator('#user-name').fill('İkinci');
  await form.locator('#user-email').fill(AGENT.email);
  await form.locator('#user-password').fill(AGENT.password);
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="email"]', { hasText: 'Bu e-posta adresi zaten kullanılıyor.' }).waitFor();

  await row.locator('[data-action="edit"]').click();
  const edit = page.locator('[data-form="edit-user"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'edit-user-name');
  await edit.locator('#edit-user-role').selectOption('agent');
  await edit.locator('#edit-user-lang').selectOption('en');
  await page.locator('[data-form="reset-password"] #reset-pw-password').fill(AGENT_NEW_PASSWORD);
  await page.locator('[data-form="reset-password"] [data-action="save"]').click();
  await page.locator('[data-form="reset-password"] .ok-note').waitFor();
  await edit.locator('[data-action="save"]').click();
  await page.locator('[data-form="edit-user"]').waitFor({ state: 'detached' });
  await row.getByText('Temsilci').waitFor();
  const u = (await get('/users')).items.find((x) => x.email === AGENT.email);
  assert.deepEqual([u.role, u.lang, u.active], ['agent', 'en', true]);
  await photograph('users');

  // the agent: the new password works, no admin link, every admin address says "admins only"
  const agentCtx = await browser.newContext({ locale: 'en-GB', viewport: { width: 360, height: 740 } });
  const agentPage = await agentCtx.newPage();
  agentPage.on('pageerror', (e) => pageErrors.push('agent: ' + String(e && e.stack || e)));
  await login(agentPage, { email: AGENT.email, password: AGENT_NEW_PASSWORD });
  assert.equal(await agentPage.locator('[data-nav="admin"]').count(), 0);
  for (const tab of ['users', 'webhooks', 'triggers']) {
    await agentPage.goto(server.url + '/app/admin/' + tab);
    await agentPage.locator('[data-region="forbidden"]').waitFor();
    assert.equal(await agentPage.locator('.admin-tabs, form').count(), 0, tab);
  }
  await shot('admin-forbidden-phone.png', agentPage);
  const status = await agentPage.evaluate(async () => (await fetch('/api/v1/triggers')).status);
  assert.equal(status, 403, 'the server refuses the agent too');

  // deactivated (confirmed): the agent is signed out
  await row.locator('[data-action="toggle-active"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await row.locator('.badge-off').waitFor();
  assert.equal(await agentPage.evaluate(async () => (await fetch('/api/v1/me')).status), 401);
  await agentCtx.close();
  // and the last admin cannot switch herself off: the server's refusal is shown in the dialog
  await page.locator(`tr[data-user="${ADMIN.email}"] [data-action="toggle-active"]`).click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await page.locator('[data-region="confirm"] .alert-error', { hasText: 'etkin son yönetici' }).waitFor();
  await page.keyboard.press('Escape');
  assert.equal((await get('/users')).items.find((x) => x.email === ADMIN.email).active, true);
});

test('English: the screens speak it too', async () => {
  await page.locator('.lang-switch button[data-lang="en"]').click();
  await openTab('sla');
  await page.locator('.admin-tabs a[data-tab="sla"]', { hasText: 'SLA policies' }).waitFor();
  await page.locator('tr[data-policy="Acil e-posta"] [data-field="frt"]', { hasText: '1 h 30 min' }).waitFor();
  await shot('admin-sla-en.png');
  await page.locator('.lang-switch button[data-lang="tr"]').click();
  await page.locator('.admin-tabs a[data-tab="sla"]', { hasText: 'SLA politikaları' }).waitFor();
});

test('no page errors', () => {
  assert.deepEqual(pageErrors, []);
});
