// Browser test of an agent's day (issue 19): hand-offs (bulk assign to a colleague and a team, the team shown on the
// row and the ticket, a macro that hands the ticket over), safety ("a" on a colleague's ticket asks; a merge shows
// both tickets first; a merge error beside its field), macros that fill the composer (first name, Bey/Hanım chosen,
// the changes shown and made on send), the undo window (undo gives the text back; not undone, it is sent), and a
// ticket whose channel has no sender (said plainly, refused beside the channel, sent by e-mail when switched).
// Screenshots: build/screenshots/agentday-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, eventually, launch, login, newPage, shot } from './ui-lib.mjs';
import { startSmtp } from '../api/mail-helpers.mjs';

let server;
let api;
let smtp;
let browser;
let page;
const errors = [];
const OTHER = { email: 'burak@example.com', name: 'Burak Öztürk', password: 'burak-parola-123' };
const ids = {};

before(async () => {
  ({ server, api } = await desk({ undoSeconds: 3 }));
  smtp = await startSmtp();
  await api('PATCH', '/settings', { 'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example' });
  ids.other = (await api('POST', '/users', { ...OTHER, role: 'agent' })).id;
  ids.team = (await api('POST', '/teams', { name: 'Kargo Ekibi' })).id;
  const tk = (subject, email, name, extra = {}) => api('POST', '/tickets', { subject, body: 'Merhaba', customer: { email, name }, ...extra });
  ids.t1 = (await tk('Kargom nerede?', 'ayse.kaya@example.com', 'Ayşe Kaya')).id;
  ids.t2 = (await tk('Fatura yanlış', 'mehmet@example.com', 'Mehmet Demir')).id;
  ids.t3 = (await tk('İkinci soru', 'ayse.kaya@example.com', 'Ayşe Kaya')).id;
  ids.wa = (await tk('WhatsApp sorusu', 'veli@example.com', 'Veli Can', { channel: 'whatsapp' })).id;
  ids.macro = (await api('POST', '/macros', { name: 'Kargo ekibine devret',
    body_tr: 'Merhaba {{customer.first_name}} {{customer.honorific}}, talebinizi kargo ekibimize ilettim.',
    body_en: 'Hello {{customer.first_name}}', changes: { status: 'pending', assignee_id: ids.other, team_id: ids.team } })).id;
  browser = await launch();
  page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
});

test('bulk: assign to a colleague and give to a team; the row and the ticket show the team', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  // Rows say who spoke last and that the customer is waiting.
  await page.locator(`[data-ticket="${ids.t2}"] [data-field="customer-waiting"]`).waitFor();
  assert.match(await page.locator(`[data-ticket="${ids.t2}"] [data-field="last-message"]`).textContent(), /Müşteri:\s*Merhaba/);
  await page.locator(`[data-ticket="${ids.t2}"] input[type="checkbox"]`).check();
  await page.locator('[data-bulk="assignee"]').selectOption(String(ids.other));
  await page.locator(`[data-ticket="${ids.t2}"] .assignee`, { hasText: OTHER.name }).waitFor();
  await page.locator(`[data-ticket="${ids.t2}"] input[type="checkbox"]`).check();
  await page.locator('[data-bulk="team"]').selectOption(String(ids.team));
  await page.locator(`[data-ticket="${ids.t2}"] [data-team="${ids.team}"]`, { hasText: 'Kargo Ekibi' }).waitFor();
  // Bulk tags.
  await page.locator(`[data-ticket="${ids.t2}"] input[type="checkbox"]`).check();
  await page.locator('[data-bulk="tag"]').fill('fatura');
  await page.keyboard.press('Enter');
  await eventually(async () => (await api('GET', '/tickets/' + ids.t2)).tags.includes('fatura'), 5000, 'the tag added');
  // One view per team, with its count.
  const teamView = page.locator(`[data-view="team-${ids.team}"]`);
  await teamView.locator('[data-count="1"]').waitFor();
  await teamView.click();
  await page.locator('.inbox-title', { hasText: 'Kargo Ekibi' }).waitFor();
  await page.locator(`[data-ticket="${ids.t2}"]`).waitFor();
  assert.equal(await page.locator('.ticket-row').count(), 1);
  await shot(page, 'agentday-bulk.png');
  await page.goto(server.url + '/app/tickets/' + ids.t2);
  await page.locator('[data-field="team-name"]', { hasText: 'Kargo Ekibi' }).waitFor();
  const t = await api('GET', '/tickets/' + ids.t2);
  assert.equal(t.assignee_id, ids.other);
  assert.equal(t.team_id, ids.team);
});

test('"a" on a colleague\'s ticket asks first; cancel keeps it theirs, confirm takes it', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.t2);
  await page.locator('[data-field="assignee"]', { hasText: OTHER.name }).waitFor();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('a');
  const dialog = page.locator('[data-region="take-confirm"]');
  await dialog.getByText(OTHER.name).waitFor();
  await page.locator('[data-action="take-cancel"]').click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await api('GET', '/tickets/' + ids.t2)).assignee_id, ids.other);
  await page.keyboard.press('a');
  await page.locator('[data-action="take-confirm"]').click();
  await page.locator('[data-field="assignee"]', { hasText: ADMIN.name }).waitFor();
});

test('merge: an unknown number is said beside the field; a known one shows both tickets before merging', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.t1);
  await page.locator('#merge-ref').fill('#999999');
  await page.locator('[data-action="merge"]').click();
  await page.locator('[data-error="merge"]').waitFor();
  assert.equal(await page.locator('#merge-ref').getAttribute('aria-invalid'), 'true');
  const ref3 = (await api('GET', '/tickets/' + ids.t3)).reference;
  await page.locator('#merge-ref').fill(ref3);
  await page.locator('[data-error="merge"]').waitFor({ state: 'detached' });
  await page.locator('[data-action="merge"]').click();
  const dialog = page.locator('[data-region="merge-confirm"]');
  await dialog.locator('[data-merge-side="source"]').getByText('İkinci soru').waitFor();
  await dialog.locator('[data-merge-side="target"]').getByText('Kargom nerede?').waitFor();
  await shot(page, 'agentday-merge.png');
  assert.equal((await api('GET', '/tickets/' + ids.t3)).merged_into, null, 'nothing merged before the confirmation');
  await page.locator('[data-action="merge-confirm"]').click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await api('GET', '/tickets/' + ids.t3)).merged_into, ids.t1);
});

test('a macro fills the composer (first name, Bey/Hanım to choose, its changes shown); undo gives the text back; sent after the window', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.t1);
  await page.locator('[data-action="macros"]').click();
  await page.locator('[data-field="macro"]').fill('kargo');
  await page.locator('[data-macro]', { hasText: 'Kargo ekibine devret' }).click();
  await page.locator('[data-action="apply-macro"]').click();
  const textarea = page.locator('.composer textarea');
  await page.waitForFunction(() => document.querySelector('.composer textarea').value.startsWith('Merhaba Ayşe {{customer.honorific}},'));
  const changes = page.locator('[data-region="macro-changes"]');
  assert.match(await changes.textContent(), /Beklemede/);
  assert.match(await changes.textContent(), new RegExp(OTHER.name));
  assert.match(await changes.textContent(), /Kargo Ekibi/);
  assert.equal((await api('GET', '/tickets/' + ids.t1)).messages.filter((m) => m.kind === 'reply').length, 0, 'nothing sent');
  // Sending with the honorific unchosen is stopped beside the choice.
  await page.locator('[data-action="send"]').click();
  await page.locator('[data-error="honorific"]').waitFor();
  await page.locator('[data-field="honorific"]').selectOption('Hanım');
  assert.equal(await textarea.inputValue(), 'Merhaba Ayşe Hanım, talebinizi kargo ekibimize ilettim.');
  await shot(page, 'agentday-macro.png');
  // Sent: held for the window; undo brings the text back and nothing is written.
  await page.locator('[data-action="send"]').click();
  await page.locator('[data-region="held"]').waitFor();
  assert.equal(await textarea.inputValue(), '');
  await shot(page, 'agentday-undo.png');
  await page.locator('[data-action="undo-send"]').click();
  await page.waitForFunction(() => document.querySelector('.composer textarea').value === 'Merhaba Ayşe Hanım, talebinizi kargo ekibimize ilettim.');
  await page.locator('[data-region="macro-changes"] [data-change="team_id"]').waitFor();
  await new Promise((r) => setTimeout(r, 3500));
  let t = await api('GET', '/tickets/' + ids.t1);
  assert.equal(t.messages.filter((m) => m.kind === 'reply').length, 0, 'the undone reply was never written');
  assert.equal(t.team_id, null);
  // Sent again and left: it goes after the window, with the macro's changes.
  await page.locator('[data-action="send"]').click();
  await page.locator('[data-region="held"]').waitFor();
  await page.locator('.msg-reply', { hasText: 'Merhaba Ayşe Hanım' }).waitFor({ timeout: 15000 });
  t = await api('GET', '/tickets/' + ids.t1);
  assert.equal(t.status, 'pending');
  assert.equal(t.assignee_id, ids.other);
  assert.equal(t.team_id, ids.team);
});

test('a WhatsApp ticket with no sender says so plainly; the reply is refused beside the channel, sent by e-mail when switched', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.wa);
  const line = page.locator('[data-region="composer-channel"]');
  await line.locator('[data-region="channel-warning"]').waitFor();
  assert.match(await line.textContent(), /WhatsApp/);
  await page.locator('.composer textarea').fill('Siparişiniz yarın kargoda.');
  await page.locator('[data-action="send"]').click();
  await page.locator('[data-error="via"]').waitFor();
  await shot(page, 'agentday-channel.png');
  assert.equal((await api('GET', '/tickets/' + ids.wa)).messages.filter((m) => m.kind === 'reply').length, 0);
  await page.locator('[data-action="via-email"]').click();
  await page.locator('[data-field="via"]').waitFor();
  assert.equal(await page.locator('[data-field="via"]').inputValue(), 'email');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply', { hasText: 'yarın kargoda' }).waitFor({ timeout: 15000 });
  assert.deepEqual(errors, []);
});

test('snooze from the ticket: pending until the chosen time, shown on the ticket; cancelled', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.t2);
  await page.locator('#snooze-until').fill('2020-01-01T10:00');
  await page.locator('[data-action="snooze"]').click();
  await page.locator('[data-error="snooze"]').waitFor();
  const d = new Date(Date.now() + 2 * 86400000);
  const p = (n) => String(n).padStart(2, '0');
  await page.locator('#snooze-until').fill(`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:30`);
  await page.locator('[data-action="snooze"]').click();
  await page.locator('[data-field="snoozed-until"]').waitFor();
  const t = await api('GET', '/tickets/' + ids.t2);
  assert.equal(t.status, 'pending');
  assert.equal(new Date(t.snoozed_until).getTime(), new Date(`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:30`).getTime());
  await shot(page, 'agentday-snooze.png');
  await page.locator('[data-action="unsnooze"]').click();
  await page.locator('#snooze-until').waitFor();
  assert.equal((await api('GET', '/tickets/' + ids.t2)).snoozed_until, null);
});

test('an @mention in a note notifies the colleague: the bell counts it, the desktop shows it; settings per kind', async () => {
  const context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 800 } });
  // The desktop notifications the page shows, recorded (headless Chromium has no desktop).
  await context.addInitScript(() => {
    window.__shown = [];
    window.Notification = class { constructor(title, o) { window.__shown.push(title + ' | ' + ((o && o.body) || '')); }
      static get permission() { return 'granted'; } static requestPermission() { return Promise.resolve('granted'); } };
  });
  const burak = await context.newPage();
  burak.on('pageerror', (e) => errors.push(String(e)));
  await login(burak, server.url, OTHER);
  const bell = burak.locator('[data-region="notifications"]');
  await bell.waitFor();
  const before = Number(await bell.getAttribute('data-count'));
  await page.goto(server.url + '/app/tickets/' + ids.t2);
  await page.locator('[data-kind="note"]').click();
  await page.locator('.composer textarea').fill('@Burak Öztürk faturayı kontrol eder misin?');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-note', { hasText: 'faturayı kontrol' }).waitFor();
  await burak.waitForFunction((n) => Number(document.querySelector('[data-region="notifications"]').dataset.count) > n, before,
    { timeout: 20000 });
  await burak.waitForFunction(() => window.__shown.some((x) => x.includes('andı') && x.includes('faturayı')), null, { timeout: 5000 });
  await bell.click();
  const item = burak.locator('[data-notification="mention"]').first();
  await item.waitFor();
  assert.match(await item.textContent(), new RegExp(ADMIN.name + '.*andı'));
  await shot(burak, 'agentday-notifications.png', false);
  await burak.locator('[data-action="notify-settings"]').click();
  await burak.locator('[data-pref="mention.desktop"]').uncheck();
  let prefs;
  await eventually(async () => {
    prefs = await (await burak.request.get(server.url + '/api/v1/notifications/settings')).json();
    return prefs.mention.desktop === false;
  }, 5000, 'the setting saved');
  assert.equal(prefs.mention.in_app, true);
  // Opening a notification goes to the ticket and marks it read.
  await burak.locator('.notify-pop button', { hasText: 'Geri' }).click();
  await burak.locator('[data-notification="mention"] button').first().click();
  await burak.waitForURL(new RegExp('/app/tickets/' + ids.t2 + '$'));
  await context.close();
});

test('CC/BCC, the signature shown and edited under the composer, forward to an outside address', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.t2);
  await page.locator('[data-action="edit-signature"]').click();
  await page.locator('[data-field="my-signature"]').fill('Ayşe Yılmaz\nDükkan Destek');
  await page.locator('[data-action="save-signature"]').click();
  await page.locator('[data-field="signature-preview"]', { hasText: 'Dükkan Destek' }).waitFor();
  await page.locator('[data-action="show-copies"]').click();
  await page.locator('[data-field="cc"]').fill('muhasebe@');
  await page.locator('.composer textarea').fill('Faturanız düzeltildi.');
  await page.locator('[data-action="send"]').click();
  await page.locator('[data-error="cc"]').waitFor();
  await page.locator('[data-field="cc"]').fill('muhasebe@example.com');
  await page.locator('[data-field="bcc"]').fill('arsiv@example.com');
  await shot(page, 'agentday-cc.png');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply', { hasText: 'Faturanız düzeltildi.' }).waitFor({ timeout: 15000 });
  await page.locator('.msg-reply', { hasText: 'Dükkan Destek' }).waitFor();
  await eventually(() => smtp.mails().filter((m) => m.raw.includes('muhasebe@example.com')).length > 0, 10000, 'the CC mailed');
  const rcpts = smtp.mails().map((m) => m.headers['x-sink-rcpt-to']).join(',');
  assert.ok(rcpts.includes('arsiv@example.com'), rcpts);
  // Forward: a bad address is said beside the field; a good one is queued and mailed.
  await page.locator('[data-region="forward"] summary').click();
  await page.locator('#forward-to').fill('kargo@');
  await page.locator('[data-action="forward"]').click();
  await page.locator('[data-error="forward"]').waitFor();
  await page.locator('#forward-to').fill('kargo@partner.example');
  await page.locator('#forward-note').fill('Paket kayıp, bakar mısınız?');
  await page.locator('[data-action="forward"]').click();
  await page.locator('[data-field="forwarded"]').waitFor();
  await eventually(() => smtp.mails().some((m) => m.headers['x-sink-rcpt-to'] === 'kargo@partner.example'), 10000, 'forwarded');
  assert.deepEqual(errors, []);
});

test('the queue: a ticket number in the search opens it, an e-mail address finds the customer\'s tickets; status keys; the compact density', async () => {
  const wa = await api('GET', '/tickets/' + ids.wa);
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.inbox input[type="search"]').fill(wa.reference);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp('/app/tickets/' + ids.wa + '$'));
  await page.locator(`[data-ticket-id="${ids.wa}"]`).waitFor();
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('p');
  await page.waitForFunction(() => document.querySelector('[data-field="status"]').value === 'pending');
  await page.keyboard.press('s');
  await page.waitForFunction(() => document.querySelector('[data-field="status"]').value === 'solved');
  assert.equal((await api('GET', '/tickets/' + ids.wa)).status, 'solved');
  await page.keyboard.press('?');
  const help = await page.locator('[data-region="shortcuts"]').textContent();
  assert.match(help, /Çözüldü yap/);
  await page.keyboard.press('Escape');
  await page.goto(server.url + '/app/tickets?view=solved');
  await page.locator(`[data-ticket="${ids.wa}"]`).waitFor();
  await page.locator('[data-action="density"]').click();
  await page.locator('.ticket-list.is-compact').waitFor();
  await shot(page, 'agentday-compact.png');
  // An e-mail address finds that customer's tickets (every status).
  await page.locator('.inbox input[type="search"]').fill('mehmet@example.com');
  await page.keyboard.press('Enter');
  await page.locator('[data-filter="customer"]', { hasText: 'Mehmet Demir' }).waitFor();
  await page.locator(`[data-ticket="${ids.t2}"]`).waitFor();
  assert.equal(await page.locator('.ticket-row').count(), 1);
  // On a phone the filters fold away: the first ticket shows without scrolling.
  const phone = await newPage(browser, { width: 360, height: 740, errors });
  await login(phone, server.url, ADMIN);
  await phone.goto(server.url + '/app/tickets?view=solved');
  const first = phone.locator('.ticket-row').first();
  await first.waitFor();
  assert.ok((await first.boundingBox()).y < 740, 'the first ticket is on the first screen');
  assert.equal(await phone.locator('.toolbar .filters').isVisible(), false);
  await phone.locator('[data-action="filters"]').click();
  await phone.locator('.toolbar .filters').waitFor();
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth) <= 360);
  await shot(phone, 'agentday-phone.png', false);
  await phone.context().close();
});

test('saved views: the filters on screen saved with a name, shared, opened again, deleted', async () => {
  await page.goto(server.url + '/app/tickets?view=open&tag=fatura');
  await page.locator('[data-action="save-view"]').click();
  await page.locator('[data-action="save-view-confirm"]').click();
  await page.locator('[data-error="view-name"]').waitFor();
  await page.locator('[data-field="view-name"]').fill('Fatura işleri');
  await page.locator('[data-field="view-shared"]').check();
  await page.locator('[data-action="save-view-confirm"]').click();
  const link = page.locator('[data-saved-view="Fatura işleri"]');
  await link.waitFor();
  assert.match(await link.textContent(), /ortak/);
  await page.goto(server.url + '/app/tickets?view=solved');
  await link.click();
  await page.waitForFunction(() => document.querySelector('input[data-filter="tag"]').value === 'fatura');
  assert.equal((await api('GET', '/views')).items[0].query, 'view=open&tag=fatura');
  await page.locator('[data-action="delete-view"]').click();
  await link.waitFor({ state: 'detached' });
});
