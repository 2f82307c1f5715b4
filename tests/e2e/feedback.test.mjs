// Browser tests of the feedback module: the CSAT page a mail's link opens (one click records) and the score in the
// panel beside the ticket; a buyer's review with stars, text and a photo on a phone; moderation and a public reply
// in the agents' app; and the reviews widget on a shop page of another origin (CORS right, no cookies sent even
// though the browser holds a session of the desk). Screenshots: build/screenshots/feedback-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ADMIN, desk, launch, login, newPage, png, shot, eventually } from './ui-lib.mjs';
import { startSmtp } from '../api/mail-helpers.mjs';
import { mailText } from '../api/feedback-helpers.mjs';

let server, api, browser, smtp, shop;
const errors = [];

before(async () => {
  smtp = await startSmtp();
  ({ server, api } = await desk());
  await api('PATCH', '/settings', { 'mail.smtp_url': smtp.url, 'mail.from': 'destek@shop.example', 'mail.public_url': server.url,
    'feedback.csat_delay_minutes': 0, 'feedback.review_delay_hours': 0, 'feedback.widget_cache_seconds': 0 });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (shop) shop.close();
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
});

const linkTo = async (to, re) => {
  const m = await eventually(() => smtp.mails().find((x) => x.headers['x-sink-rcpt-to'] === to && re.test(mailText(x))), 15000, `a mail to ${to}`);
  return mailText(m).match(re)[0];
};

test('CSAT: the mail\'s link opens the page with the score chosen; one click records; the ticket\'s panel shows it', async () => {
  const t = await api('POST', '/tickets', { subject: 'İade ne zaman?', body: 'Paramı bekliyorum.', customer: { email: 'elif@example.com', name: 'Elif Kaya' } });
  await api('PATCH', `/tickets/${t.id}`, { status: 'solved' });
  const link = await linkTo('elif@example.com', /http:\/\/\S+\/feedback\/csat\/\d+\?score=4&sig=[0-9a-f-]+/);
  const page = await newPage(browser, { width: 360, height: 740, errors });
  await page.goto(link);
  assert.equal(await page.locator('input[name="score"][value="4"]').isChecked(), true);
  await page.locator('textarea[name="comment"]').fill('Hızlı ve nazik bir yanıttı.');
  await shot(page, 'feedback-csat-phone.png');
  await page.locator('form[data-form="csat"] button[type="submit"]').click();
  await page.locator('[data-region="thanks"]').waitFor();
  const agent = await newPage(browser, { errors });
  await login(agent, server.url, ADMIN);
  await agent.goto(`${server.url}/app/tickets/${t.id}`);
  const panel = agent.locator('[data-panel="feedback.csat"] [data-region="csat"]');
  await panel.locator('[data-score="4"]').waitFor();
  assert.match(await panel.textContent(), /Hızlı ve nazik bir yanıttı\./);
  await shot(agent, 'feedback-csat-panel.png');
  await agent.context().close();
  await page.context().close();
});

test('CSAT on the ticket\'s portal page: a solved ticket offers 1-5, one click and "Send" record it', async () => {
  const t = await api('POST', '/tickets', { subject: 'Kargo ücreti', body: 'Ücretsiz kargo yazıyordu.', customer: { phone: '0532 999 88 77', name: 'Burak Şen' } });
  await api('PATCH', `/tickets/${t.id}`, { status: 'solved' });
  const full = await api('GET', `/tickets/${t.id}`);
  const page = await newPage(browser, { width: 360, height: 740, errors });
  await page.goto(`${server.url}/t/${t.reference.slice(1)}?sig=${full.public_sig}`);
  const panel = page.locator('[data-region="csat"]');
  await panel.locator('button[data-score="5"]').click();
  await panel.locator('textarea').fill('Çok ilgiliydiniz.');
  await panel.locator('[data-action="csat-send"]').click();
  await panel.locator('p[data-score="5"]').waitFor();
  await shot(page, 'feedback-csat-portal.png');
  const q = (await api('GET', `/feedback/csat?ticket_id=${t.id}`)).items[0];
  assert.equal(q.score, 5);
  assert.equal(q.comment, 'Çok ilgiliydiniz.');
  await page.context().close();
});

test('reviews: a buyer reviews on a phone; an agent approves and replies; the widget shows it on another origin without cookies', async () => {
  await api('PUT', '/orders/W-2001', { status: 'shipped', payment_status: 'paid', currency: 'TRY', total_minor: 54990,
    placed_at: '2026-11-20T10:00:00Z', customer: { email: 'deniz@example.com', name: 'Deniz Aydın' },
    items: [{ sku: 'KG-M', name: 'Keten Gömlek', quantity: 1, price_minor: 54990 }] });
  await api('POST', '/orders/W-2001/shipments', { tracking_number: 'TN2001', carrier: 'Yurtiçi Kargo', status: 'Delivered' });
  const link = await linkTo('deniz@example.com', /http:\/\/\S+\/feedback\/review\/\d+\?sig=[0-9a-f-]+/);

  const buyer = await newPage(browser, { width: 360, height: 740, errors });
  await buyer.goto(link);
  const item = buyer.locator('[data-product="KG-M"]');
  await item.locator('input[name="rating"][value="4"]').check();
  await item.locator('textarea[name="body"]').fill('Kumaşı yumuşak, bedeni tam oldu.');
  await item.locator('input[type="file"]').setInputFiles({ name: 'gomlek.png', mimeType: 'image/png', buffer: png(8, 8, [200, 30, 30]) });
  await shot(buyer, 'feedback-review-phone.png');
  await item.locator('button[type="submit"]').click();
  await buyer.locator('[data-region="thanks"]').waitFor();
  await buyer.context().close();

  const agent = await newPage(browser, { errors });
  await login(agent, server.url, ADMIN);
  await agent.goto(`${server.url}/app/feedback`);
  await agent.locator('[data-tab="reviews"]').click();
  const card = agent.locator('[data-review]').filter({ hasText: 'Kumaşı yumuşak' });
  await card.waitFor();
  assert.equal(await card.locator('[data-verified]').count(), 1);
  await card.locator('[data-action="approve"]').click();
  await agent.locator('[data-field="review-status"]').selectOption('approved');
  const approved = agent.locator('[data-review]').filter({ hasText: 'Kumaşı yumuşak' });
  await approved.locator('[data-field="reply"]').fill('Güzel yorumunuz için teşekkürler!');
  await approved.locator('[data-action="reply"]').click();
  await eventually(async () => (await api('GET', '/feedback/reviews?status=approved')).items.some((r) => r.reply), 5000, 'the reply');
  await shot(agent, 'feedback-moderation.png');

  // A shop's page on another origin (another port of another host name) embeds the widget with one script tag.
  shop = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="tr"><head><meta charset="utf-8"><title>Keten Gömlek</title></head><body>
      <h1>Keten Gömlek</h1><script src="${server.url}/feedback/widget.js" data-product="KG-M" async></script></body></html>`);
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  const shopUrl = `http://localhost:${shop.address().port}/urun/keten-gomlek`;
  // The agent's browser holds the desk's session cookie: the widget must not send it.
  const cookies = await agent.context().cookies(server.url);
  assert.ok(cookies.some((c) => c.name === 'destek_session'), 'the browser has a desk session');
  const seen = [];
  agent.on('request', (r) => { if (r.url().includes('/api/v1/public/reviews')) seen.push(r); });
  const consoleErrors = [];
  agent.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await agent.goto(shopUrl);
  const widget = agent.locator('.destek-reviews');
  await widget.locator('li').first().waitFor();
  const text = await widget.evaluate((el) => el.shadowRoot.textContent);
  assert.match(text, /Müşteri değerlendirmeleri/);
  assert.match(text, /4 \(1 değerlendirme\)|4\(1 değerlendirme\)|\(1 değerlendirme\)/);
  assert.match(text, /Kumaşı yumuşak, bedeni tam oldu\./);
  assert.match(text, /Doğrulanmış satın alma/);
  assert.match(text, /Güzel yorumunuz için teşekkürler!/);
  assert.match(text, /Deniz A\./);
  assert.ok(!text.includes('deniz@example.com'));
  assert.equal(seen.length, 1);
  const headers = await seen[0].allHeaders();
  assert.equal(headers.cookie, undefined, 'no cookie went with the widget\'s request');
  assert.equal(headers.origin, new URL(shopUrl).origin);
  const resp = await seen[0].response();
  const rh = await resp.allHeaders();
  assert.equal(rh['access-control-allow-origin'], '*');
  assert.equal(rh['set-cookie'], undefined);
  assert.match(rh['cache-control'], /public/);
  // The photo loads from the desk.
  assert.equal(await widget.evaluate((el) => el.shadowRoot.querySelectorAll('img').length), 1);
  assert.deepEqual(consoleErrors, []);
  assert.equal(await agent.evaluate(() => document.cookie), '', 'the widget set no cookie on the shop');
  await shot(agent, 'feedback-widget.png');
  assert.deepEqual(errors, []);
});

test('NPS survey screen: an admin creates a survey (a wrong window is refused beside its field), sends it, and reads the answers', async () => {
  await api('PUT', '/orders/W-3001', { status: 'completed', payment_status: 'paid', currency: 'TRY', total_minor: 12990,
    placed_at: '2026-12-01T09:00:00Z', customer: { email: 'nur@example.com', name: 'Nur Çelik' },
    items: [{ sku: 'KP-1', name: 'Kupa', quantity: 1, price_minor: 12990 }] });
  const agent = await newPage(browser, { errors });
  await login(agent, server.url, ADMIN);
  await agent.goto(`${server.url}/app/feedback`);
  await agent.locator('[data-tab="nps"]').click();
  await agent.locator('[data-action="new-survey"]').click();
  const form = agent.locator('form[data-form="new-survey"]');
  await form.locator('input[name="name"]').fill('Aralık memnuniyet');
  await form.locator('input[name="bought_from"]').fill('2026-12-02');
  await form.locator('input[name="bought_to"]').fill('2026-11-28');
  await form.locator('button[type="submit"]').click();
  await form.locator('.field-error').waitFor();
  await form.locator('input[name="bought_from"]').fill('2026-11-28');
  await form.locator('input[name="bought_to"]').fill('2026-12-03');
  await form.locator('button[type="submit"]').click();
  const results = agent.locator('[data-region="survey-results"]');
  await results.waitFor();
  assert.match(await results.textContent(), /Aralık memnuniyet/);
  const row = agent.locator('[data-region="nps"] tr', { hasText: 'Aralık memnuniyet' });
  await row.locator('[data-action="send"]').click();
  await row.locator('[data-status="sending"], [data-status="sent"]').waitFor();

  const link = await linkTo('nur@example.com', /http:\/\/\S+\/feedback\/nps\/\d+\?score=9&sig=[0-9a-f-]+/);
  const buyer = await newPage(browser, { width: 360, height: 740, errors });
  await buyer.goto(link);
  await buyer.locator('form[data-form="nps"] textarea[name="reason"]').fill('Paketleme çok özenliydi.');
  await buyer.locator('form[data-form="nps"] button[type="submit"]').click();
  await buyer.locator('[data-region="thanks"]').waitFor();

  await agent.reload();
  await agent.locator('[data-tab="nps"]').click();
  await agent.locator('[data-region="nps"] a', { hasText: 'Aralık memnuniyet' }).click();
  const answer = agent.locator('[data-region="survey-results"] [data-region="answers"] tr[data-score="9"]');
  await answer.waitFor();
  assert.match(await answer.textContent(), /Paketleme çok özenliydi\./);
  await shot(agent, 'feedback-nps-results.png');
  await agent.context().close();
  await buyer.context().close();
});
