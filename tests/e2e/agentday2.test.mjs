// Browser test of an agent's day, part two (issue 19): the shop's face and the admin's first hour (the shop's name,
// logo, colour and KVKK notice on the contact form, the ticket page, tracking, returns and the help centre; the form never says a confirmation was mailed
// when none was; the admins' banner while outgoing mail is not set; settings in Turkish with minutes and MB, every
// mail setting on the mailboxes screen; calendars' days in Turkish), per-agent seen marks on the inbox's rows, search
// by order number, @mention suggestions in notes and a forward that carries the thread's files.
// Screenshots: build/screenshots/agentday2-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, eventually, importMail, launch, login, newPage, shot } from './ui-lib.mjs';
import { qp, startSmtp } from '../api/mail-helpers.mjs';

let server;
let api;
let smtp;
let browser;
let page;
const errors = [];
const OTHER = { email: 'burak@example.com', name: 'Burak Öztürk', password: 'burak-parola-123' };
const ids = {};
const SHOP = { 'shop.name': 'Anadolu Tekstil', 'shop.colour': '#aa3300', 'shop.logo_url': 'https://cdn.anadolutekstil.example/logo.png',
  'shop.privacy_url': 'https://anadolutekstil.example/kvkk-aydinlatma' };

before(async () => {
  ({ server, api } = await desk());
  smtp = await startSmtp();
  ids.other = (await api('POST', '/users', { ...OTHER, role: 'agent' })).id;
  const tk = (subject, email, name, extra = {}) => api('POST', '/tickets', { subject, body: 'Merhaba', customer: { email, name }, ...extra });
  ids.t1 = (await tk('Havlu rengi soluk', 'ayse.kaya@example.com', 'Ayşe Kaya')).id;
  ids.t2 = (await tk('Fatura yanlış', 'mehmet@example.com', 'Mehmet Demir')).id;
  ids.files = (await tk('Hasarlı paket', 'zeynep@example.com', 'Zeynep Ak', { attachments: [
    { filename: 'hasar-fotografi.txt', content_type: 'text/plain', data_base64: Buffer.from('YIRTIK-KUTU-4711').toString('base64') }] })).id;
  // Orders (the orders module): one named in a ticket's subject (linked to it), one with no ticket.
  const order = (number, email, name) => api('PUT', '/orders/' + number, { currency: 'TRY', payment_status: 'paid', status: 'processing',
    total_minor: 25000, placed_at: '2026-11-20T10:00:00Z', customer: { email, name },
    items: [{ name: 'Bornoz', variant: 'L', quantity: 1, price_minor: 25000 }] });
  await order('AT-20001', 'ayse.kaya@example.com', 'Ayşe Kaya');
  await order('AT-20002', 'ayse.kaya@example.com', 'Ayşe Kaya');
  ids.ordered = (await tk('AT-20001 siparişim nerede?', 'ayse.kaya@example.com', 'Ayşe Kaya')).id;
  browser = await launch();
  page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
});

/* GET /api/v1<p> as the colleague (a session of his own). */
let burakCookie = null;
async function asBurak(p) {
  if (!burakCookie) {
    const res = await fetch(server.url + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: OTHER.email, password: OTHER.password }) });
    burakCookie = res.headers.get('set-cookie').split(';')[0];
  }
  return (await fetch(server.url + '/api/v1' + p, { headers: { Cookie: burakCookie } })).json();
}

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
  assert.deepEqual(errors, [], 'no page errors');
});

test('public pages carry the shop\'s name, logo, colour and KVKK notice; no confirmation is promised without mail', async () => {
  await assert.rejects(api('PATCH', '/settings', { 'shop.colour': 'kırmızı' }), (e) => e.status === 422 && /shop\.colour/.test(e.message));
  await assert.rejects(api('PATCH', '/settings', { 'shop.privacy_url': 'javascript:alert(1)' }), (e) => e.status === 422);
  await api('PATCH', '/settings', SHOP);
  const pub = await (await fetch(server.url + '/api/v1/public/shop')).json();
  assert.deepEqual(pub, { name: SHOP['shop.name'], logo_url: SHOP['shop.logo_url'], colour: '#aa3300', privacy_url: SHOP['shop.privacy_url'] });

  const visitor = await newPage(browser, { errors, width: 390, height: 800 });
  await visitor.route('https://cdn.anadolutekstil.example/**', (route) => route.fulfill({ status: 404, body: '' }));
  await visitor.goto(server.url + '/contact');
  await visitor.locator('[data-region="shop"] .brand-name', { hasText: 'Anadolu Tekstil' }).waitFor();
  assert.equal(await visitor.locator('.brand-logo').getAttribute('src'), SHOP['shop.logo_url']);
  assert.equal(await visitor.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()), '#aa3300');
  assert.equal(await visitor.locator('[data-link="privacy"]').getAttribute('href'), SHOP['shop.privacy_url']);
  assert.equal(await visitor.locator('[data-link="form-privacy"]').getAttribute('href'), SHOP['shop.privacy_url']);
  await shot(visitor, 'agentday2-contact.png');
  // Outgoing mail is not set: the thank-you page does not say a confirmation was mailed.
  const send = async (email) => {
    await visitor.locator('#f-name').fill('Elif Şahin');
    await visitor.locator('#f-email').fill(email);
    await visitor.locator('#f-subject').fill('Nevresim takımı');
    await visitor.locator('#f-body').fill('Çift kişilik takım ne zaman gelir?');
    await visitor.locator('form button[type="submit"]').click();
  };
  // The server-rendered public pages too: tracking, returns, help centre (name, logo, colour, KVKK notice).
  assert.equal(await (await fetch(server.url + '/shop/theme.css')).text(), ':root{--shop-colour:#aa3300}\n');
  for (const path of ['/track', '/returns', '/help']) {
    const html = await (await fetch(server.url + path)).text();
    assert.ok(html.includes('Anadolu Tekstil'), path + ': the shop\'s name');
    assert.ok(html.includes('src="' + SHOP['shop.logo_url'] + '"'), path + ': the logo');
    assert.ok(html.includes('href="' + SHOP['shop.privacy_url'] + '"'), path + ': the KVKK notice');
  }
  const track = await newPage(browser, { errors });
  await track.route('https://cdn.anadolutekstil.example/**', (route) => route.fulfill({ status: 404, body: '' }));
  await track.goto(server.url + '/track');
  assert.equal(await track.evaluate(() => getComputedStyle(document.querySelector('button[type="submit"]')).backgroundColor), 'rgb(170, 51, 0)');
  await track.goto(server.url + '/help');
  assert.equal(await track.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--hc-accent').trim()), '#aa3300');
  await track.context().close();
  await send('elif@example.com');
  const notMailed = visitor.locator('[data-field="not-mailed"]');
  await notMailed.waitFor();
  assert.match(await notMailed.textContent(), /onay e-postası gönderemiyoruz/);
  assert.equal(await visitor.locator('[data-field="mailed"]').count(), 0);
  await visitor.context().close();
});

test('the admin\'s first hour: a banner while mail is not set; settings in Turkish with minutes and MB; mail settings in one place; calendars in Turkish', async () => {
  await page.goto(server.url + '/app/tickets');
  const banner = page.locator('[data-region="mail-not-configured"]');
  await banner.waitFor();
  assert.match(await banner.textContent(), /Giden e-posta ayarlanmadı/);
  await shot(page, 'agentday2-banner.png', false);

  await banner.locator('a').click();
  await page.waitForURL(/\/app\/admin\/mailboxes$/);
  await page.locator('[data-region="mail-more-settings"] summary').click();
  await page.locator('[data-region="mail-more-settings"] [data-setting="mail.ack_limit"]').waitFor();

  await page.goto(server.url + '/app/admin/settings');
  const windowField = page.locator('[data-setting="ticketing.public_window_seconds"]');
  await windowField.waitFor();
  assert.equal(await windowField.inputValue(), '10');
  assert.equal(await page.locator('.setting', { has: windowField }).locator('[data-unit]').textContent(), 'dakika');
  assert.match(await page.locator('.setting', { has: windowField }).locator('.setting-label').textContent(), /süre penceresi/);
  assert.equal(await page.locator('[data-setting="ticketing.attachment_max_bytes"]').inputValue(), '10');
  assert.equal(await page.locator('.setting', { has: page.locator('[data-setting="ticketing.attachment_max_bytes"]') })
    .locator('[data-unit]').textContent(), 'MB');
  assert.equal(await page.locator('[data-setting^="mail."]').count(), 0, 'no mail setting on the general screen');
  assert.equal(await page.locator('legend[data-group="shop"]').textContent(), 'Mağazanın görünümü ve KVKK');
  await windowField.fill('15');
  await page.locator('[data-form="settings"] [data-action="save"]').click();
  await page.locator('.alert-info', { hasText: 'Ayarlar kaydedildi.' }).waitFor();
  assert.equal((await api('GET', '/settings')).items.find((x) => x.name === 'ticketing.public_window_seconds').value, 900);
  await shot(page, 'agentday2-settings.png');

  // Calendars: Turkish days typed and shown.
  await page.goto(server.url + '/app/admin/calendars');
  await page.locator('[data-action="new"]').click();
  const form = page.locator('[data-form="cal"]');
  await form.locator('#cal-name').fill('Mağaza saatleri');
  assert.equal(await form.locator('#cal-hours').inputValue(), 'pzt-cum 09:00-18:00');
  await form.locator('#cal-hours').fill('pzt-cum 09:00-17:30; cmt 10:00-14:00');
  await form.locator('[data-field="hours-read"]', { hasText: 'Pazartesi–Cuma 09:00–17:30; Cumartesi 10:00–14:00' }).waitFor();
  await form.locator('[data-action="save"]').click();
  await page.locator('tr[data-calendar="Mağaza saatleri"] [data-field="hours"]',
    { hasText: 'Pazartesi–Cuma 09:00–17:30; Cumartesi 10:00–14:00' }).waitFor();

  // Mail set: the banner goes.
  await api('PATCH', '/settings', { 'mail.smtp_url': smtp.url, 'mail.from': 'destek@anadolutekstil.example' });
  await page.goto(server.url + '/app/tickets');
  await page.locator('[data-region="inbox"]').waitFor();
  assert.equal(await page.locator('[data-region="mail-not-configured"]').count(), 0);
});

test('with mail set, the form says a confirmation was mailed; the ticket page carries the shop\'s face too', async () => {
  const visitor = await newPage(browser, { errors });
  await visitor.route('https://cdn.anadolutekstil.example/**', (route) => route.fulfill({ status: 404, body: '' }));
  await visitor.goto(server.url + '/contact');
  await visitor.locator('#f-name').fill('Elif Şahin');
  await visitor.locator('#f-email').fill('elif.sahin@example.com');
  await visitor.locator('#f-subject').fill('Bornoz bedeni');
  await visitor.locator('#f-body').fill('L beden olur mu?');
  await visitor.locator('form button[type="submit"]').click();
  await visitor.locator('[data-field="mailed"]').waitFor();
  const mail = await eventually(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'elif.sahin@example.com'), 15000, 'the confirmation');
  const link = qp(mail.body).match(/(http:\/\/127\.0\.0\.1:\d+\/t\/\d+\?sig=[0-9a-f]{64})/)[1];
  await visitor.goto(link);
  await visitor.locator('[data-region="shop"] .brand-name', { hasText: 'Anadolu Tekstil' }).waitFor();
  assert.equal(await visitor.locator('[data-link="privacy"]').getAttribute('href'), SHOP['shop.privacy_url']);
  await visitor.context().close();
});

test('seen marks are each agent\'s own: new, gone once opened, "new reply" when the customer writes again', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  const mark = page.locator(`[data-ticket="${ids.t1}"] [data-field="unread"]`);
  await mark.waitFor();
  assert.equal(await mark.getAttribute('data-kind'), 'new');
  await page.locator(`[data-ticket="${ids.t1}"] a.row-main`).click();
  await page.waitForURL(new RegExp('/app/tickets/' + ids.t1 + '$'));
  await page.locator('.composer textarea').waitFor();
  await eventually(async () => (await api('GET', '/tickets/seen?ids=' + ids.t1)).items[0].seen_at, 5000, 'the seen mark');
  await page.goBack();
  await page.locator(`[data-ticket="${ids.t2}"] [data-field="unread"]`).waitFor();
  assert.equal(await mark.count(), 0);
  // A colleague's marks are theirs: Burak has not opened it.
  const his = await asBurak('/tickets/seen?ids=' + ids.t1);
  assert.deepEqual(his.items, [{ id: ids.t1, seen_at: null, unread: true }]);
  // The customer writes again.
  const ref = String((await api('GET', '/tickets/' + ids.t1)).reference).replace('#', '');
  await importMail(server, `From: Ayşe Kaya <ayse.kaya@example.com>\r\nTo: destek@anadolutekstil.example\r\nSubject: Re: [#${ref}] Havlu rengi soluk\r\n`
    + `Message-ID: <again-${ref}@example.com>\r\nDate: Sat, 05 Dec 2026 09:00:00 +0300\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFotoğraf ekledim.\r\n`);
  await page.reload();
  await page.locator(`[data-ticket="${ids.t1}"] [data-field="unread"][data-kind="replied"]`, { hasText: 'Yeni yanıt' }).waitFor();
  await shot(page, 'agentday2-seen.png', false);
  await assert.rejects(api('GET', '/tickets/seen?ids=1,x'), (e) => e.status === 422);
});

test('an order number finds its tickets: its one ticket opens, else its customer\'s tickets', async () => {
  await page.goto(server.url + '/app/tickets');
  const search = page.locator('form.search input');
  await search.fill('#at-20001');
  await search.press('Enter');
  await page.waitForURL(new RegExp('/app/tickets/' + ids.ordered + '$'));
  await page.goto(server.url + '/app/tickets');
  await search.fill('AT-20002');
  await search.press('Enter');
  await page.locator('[data-filter="customer"]', { hasText: 'Ayşe Kaya' }).waitFor();
  await page.locator(`[data-ticket="${ids.t1}"]`).waitFor();
  const refs = await api('GET', '/order-references/AT-20001');
  assert.deepEqual(refs.ticket_ids, [ids.ordered]);
  assert.equal(typeof refs.contact_id, 'number');
  await assert.rejects(api('GET', '/order-references/YOK-1'), (e) => e.status === 404);
});

test('@mention suggestions in a note: typed, picked with the keyboard, the colleague notified', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.t2);
  await page.locator('[data-kind="note"]').click();
  const box = page.locator('.composer textarea');
  await box.fill('');
  await box.pressSequentially('Bakar mısın @bur');
  const list = page.locator('[data-region="mentions"]');
  await list.waitFor();
  assert.deepEqual(await list.locator('[role="option"]').allTextContents(), ['Burak Öztürk']);
  await shot(page, 'agentday2-mention.png', false);
  await box.press('Enter');
  assert.equal(await box.inputValue(), 'Bakar mısın @Burak Öztürk ');
  assert.equal(await list.count(), 0);
  await box.pressSequentially('fatura tutarı yanlış.');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-note', { hasText: 'fatura tutarı yanlış' }).waitFor();
  await eventually(async () => ((await asBurak('/notifications')).items || []).some((n) => n.kind === 'mention' && n.ticket_id === ids.t2),
    10000, 'Burak notified of the mention');
  // Escape closes the list without picking. (The composer settles after the send first: cleared and enabled again.)
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => {
    const b = document.querySelector('.composer textarea');
    return b && !b.disabled && b.value === '';
  });
  await page.locator('button[data-kind="note"]').click();
  await box.focus();
  await box.pressSequentially('@ay');
  await list.waitFor();
  await box.press('Escape');
  assert.equal(await list.count(), 0);
  assert.equal(await box.inputValue(), '@ay');
  await box.fill('');
});

test('a forward carries the thread\'s files (or leaves them out when asked)', async () => {
  await page.goto(server.url + '/app/tickets/' + ids.files);
  await page.locator('[data-region="forward"] summary').click();
  const files = page.locator('[data-field="forward-files"]');
  await files.waitFor();
  assert.equal(await files.isChecked(), true);
  await page.locator('#forward-to').fill('kargo@partner.example');
  await page.locator('[data-action="forward"]').click();
  await page.locator('[data-field="forwarded"]').waitFor();
  const mail = await eventually(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'kargo@partner.example'), 15000, 'forwarded');
  assert.match(mail.raw, /filename\*?=.*hasar-fotografi\.txt/);
  assert.ok(mail.raw.includes(Buffer.from('YIRTIK-KUTU-4711').toString('base64')), 'the file in the mail');
  const res = await api('POST', `/tickets/${ids.files}/forward`, { to: 'depo@partner.example', attachments: false });
  assert.equal(res.attached, 0);
  const bare = await eventually(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'depo@partner.example'), 15000, 'forwarded bare');
  assert.ok(!bare.raw.includes('hasar-fotografi'), 'no file');
});
