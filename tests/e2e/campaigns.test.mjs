// Browser test of the campaigns module's screen: an admin imports a consent list (a bad row refuses the file, named
// by its line), counts a segment, saves a campaign, sends it, and sees who got it and who was skipped and why.
// Screenshots: build/screenshots/campaigns-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, launch, login, newPage, shot, eventually } from './ui-lib.mjs';
import { startSmtp } from '../api/mail-helpers.mjs';

let server, api, browser, smtp;
const errors = [];

before(async () => {
  smtp = await startSmtp();
  ({ server, api } = await desk());
  await api('PATCH', '/settings', { 'mail.smtp_url': smtp.url, 'mail.from': 'kampanya@shop.example' });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
});

const CSV = (rows) => ['contact,channel,status,at,source,text_shown,ip,tags', ...rows].join('\n');

test('import, count, compose, send; who was skipped and why', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/campaigns`);
  await page.locator('[data-tab="import"]').click();
  await page.locator('[data-field="import-name"]').fill('Bülten listesi');
  await page.locator('[data-field="csv"]').fill(CSV([
    'zeynep@example.com,email,ONAY,2026-10-01T09:00:00Z,web_form,Bültene abone olmak istiyorum.,203.0.113.7,bulten',
    'can@example.com,email,ONAY,2026-10-01T09:00:00Z,web_form,,203.0.113.8,bulten']));
  await page.locator('[data-action="import"]').click();
  const problems = page.locator('[data-region="problems"]');
  await problems.waitFor();
  assert.match(await problems.textContent(), /3 \(text_shown\)/);
  await page.locator('[data-field="csv"]').fill(CSV([
    'zeynep@example.com,email,ONAY,2026-10-01T09:00:00Z,web_form,Bültene abone olmak istiyorum.,203.0.113.7,bulten',
    'can@example.com,email,RET,2026-10-01T09:00:00Z,call_centre,,,bulten']));
  await page.locator('[data-action="import"]').click();
  await page.locator('[data-region="imported"]').waitFor();

  await page.locator('[data-tab="new"]').click();
  await page.locator('[data-field="name"]').fill('Kış indirimi');
  await page.locator('[data-field="tags"]').fill('bulten');
  await page.locator('[data-action="count"]').click();
  await page.locator('[data-region="count"]').waitFor();
  assert.match(await page.locator('[data-region="count"]').textContent(), /2 .*1 /);
  await page.locator('[data-field="subject_tr"]').fill('Kışa özel %20');
  await page.locator('[data-field="body_tr"]').fill('Merhaba {{first_name}}, kış indirimi başladı.');
  await page.locator('[data-field="subject_en"]').fill('Winter sale');
  await page.locator('[data-field="body_en"]').fill('Hello {{first_name}}, the winter sale is on.');
  await shot(page, 'campaigns-new.png');
  await page.locator('[data-action="save"]').click();
  await page.locator('[data-region="campaign"]').waitFor();
  await page.locator('[data-action="start"]').click();
  await page.locator('[data-region="campaign"] [data-status="done"]').waitFor({ timeout: 20000 });
  await eventually(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'zeynep@example.com'), 15000, 'the campaign mail');
  await page.locator('[data-region="skipped"]').waitFor();
  assert.match(await page.locator('[data-region="skipped"]').textContent(), /can@example.com/);
  await shot(page, 'campaigns-results.png');
  assert.equal(smtp.mails().filter((m) => m.headers['x-sink-rcpt-to'] === 'can@example.com').length, 0);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('coupon pools with the low warning; a special day with a pool; the results show clicks and orders after', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/campaigns`);
  await page.locator('[data-tab="coupons"]').click();
  await page.locator('[data-field="pool-name"]').fill('Doğum günü kodları');
  await page.locator('[data-region="new-pool"] button[type="submit"]').click();
  const row = page.locator('[data-region="coupon-pools"] tr[data-pool]');
  await row.waitFor();
  assert.match(await row.textContent(), /Doğum günü kodları\s*100\s*0\s*100/);
  await page.locator('[data-tab="occasions"]').click();
  await page.locator('[data-field="occasion-name"]').fill('Doğum günü');
  const form = page.locator('[data-region="new-occasion"]');
  await form.locator('select').nth(1).selectOption({ label: 'Doğum günü kodları (100)' });
  await form.locator('input').nth(3).fill('İyi ki doğdun');
  await form.locator('textarea').nth(0).fill('Hediye kodun: {{coupon}}');
  await form.locator('input').nth(4).fill('Happy birthday');
  await form.locator('textarea').nth(1).fill('Your code: {{coupon}}');
  await form.locator('button[type="submit"]').click();
  const occ = page.locator('[data-region="occasions"] tr[data-occasion]');
  await occ.waitFor();
  assert.match(await occ.textContent(), /Doğum günü.*10:00/);
  // the pool (100 codes, warned at 50) is not low: no banner
  assert.equal(await page.locator('[data-region="coupons-low"]').count(), 0);
  await shot(page, 'campaigns-specialdays.png');
  await page.locator('[data-tab="list"]').click();
  await page.locator('[data-region="campaigns"] a').first().click();
  await page.locator('[data-region="results-more"] [data-tile="clicked"]').waitFor();
  assert.match(await page.locator('[data-region="results-more"]').textContent(), /Tıklayan/);
  await page.locator('[data-region="results-more"] [data-tile="orders"]').waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('an HTML campaign: the preview shows both parts; opened and bounced with the caveat; an SMS campaign shows its delivery reports', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/campaigns`);
  await page.locator('[data-tab="new"]').click();
  await page.locator('[data-field="name"]').fill('HTML bülten');
  await page.locator('[data-field="tags"]').fill('bulten');
  await page.locator('[data-field="subject_tr"]').fill('Yeni sezon');
  await page.locator('[data-field="body_html_tr"]').fill('<p>Merhaba <b>{{first_name}}</b></p><script>alert(1)</script>');
  await page.locator('[data-field="subject_en"]').fill('New season');
  await page.locator('[data-field="body_en"]').fill('Hello {{first_name}}');
  await page.locator('[data-action="save"]').click();
  await page.locator('[data-region="campaign"]').waitFor();
  const first = (await api('GET', '/campaigns')).items.find((c) => c.name === 'Kış indirimi');
  const id = (await api('GET', `/campaigns/${first.id}/recipients`)).items.find((r) => r.email === 'zeynep@example.com').contact_id;
  await page.locator('[data-field="preview-contact"]').fill(String(id));
  await page.locator('[data-action="preview"]').click();
  await page.locator('[data-region="preview-html"]').waitFor();
  assert.match(await page.locator('[data-region="preview-text"]').textContent(), /Merhaba/);
  const srcdoc = await page.locator('[data-region="preview-html"]').getAttribute('srcdoc');
  assert.match(srcdoc, /<b>/);
  assert.doesNotMatch(srcdoc, /<script/);
  assert.match(await page.frameLocator('[data-region="preview-html"]').locator('p').first().textContent(), /Merhaba/);
  await page.locator('[data-action="start"]').click();
  await page.locator('[data-region="campaign"] [data-status="done"]').waitFor({ timeout: 20000 });
  await page.locator('[data-tile="opened"]').waitFor();
  await page.locator('[data-tile="bounced"]').waitFor();
  assert.match(await page.locator('[data-region="opens-note"]').textContent(), /engelleyen/);
  await shot(page, 'campaigns-html.png');

  const sms = await api('POST', '/campaigns', { name: 'SMS duyuru', channel: 'sms', rules: { tags: ['bulten'] },
    body_tr: 'Kış indirimi başladı', body_en: 'Winter sale' });
  await page.goto(`${server.url}/app/campaigns`);
  await page.locator(`[data-region="campaigns"] tr[data-campaign="${sms.id}"] a`).click();
  await page.locator('[data-region="sms-reports"] [data-tile="report-delivered"]').waitFor();
  assert.match(await page.locator('[data-region="sms-reports"]').textContent(), /Telefona ulaştı.*Ulaşmadı/s);
  assert.equal(await page.locator('[data-region="opens-note"]').count(), 0);
  assert.deepEqual(errors, []);
  await page.context().close();
});
