// The delay notice end to end: the fake clock (DESTEK_TEST_CLOCK=1) passes an order's promised dispatch date, the
// tracking pass finds the delay, the core's mail queue delivers the notice to a real SMTP server (aiosmtpd), and the
// customer follows its link on a 360 px phone to the tracking page; the agent finds the order under the orders
// screen's "delayed" filter. Screenshots: build/screenshots/orders-delay-mail-track.png, orders-delayed-filter.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, eventually, launch, login, newPage, shot } from './ui-lib.mjs';
import { startSmtp } from '../api/mail-helpers.mjs';

let server, api, browser, smtp;
const errors = [];

before(async () => {
  smtp = await startSmtp();
  ({ server, api } = await desk({ env: { DESTEK_TEST_CLOCK: '1' } }));
  await api('PATCH', '/settings', { 'mail.smtp_url': smtp.url, 'mail.from': 'destek@dukkan.example', 'mail.public_url': server.url,
    'orders.shop_name': 'Dükkan', 'events.retry_base_seconds': 1 });
  await api('POST', '/test/orders-clock', { now: '2026-11-02T07:00:00Z' });
  await api('PUT', '/orders/E-7001', { status: 'processing', payment_status: 'paid', currency: 'TRY', total_minor: 45000,
    customer: { email: 'elif@example.com', name: 'Elif Kaya' }, shipping_address: { province: 'İzmir', country: 'TR' },
    items: [{ name: 'Keten Gömlek', quantity: 1, price_minor: 45000 }], promised_dispatch_date: '2026-11-03' });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
});

test('past the promised dispatch date: the delay mail arrives, and its link opens the tracking page on a phone', async () => {
  assert.equal((await api('POST', '/order-tracking/run')).delays, 0, 'not late yet');
  await api('POST', '/test/orders-clock', { now: '2026-11-04T06:00:00Z' });   // the day after the promised date
  assert.equal((await api('POST', '/order-tracking/run')).delays, 1);
  const mail = await eventually(() => smtp.mails().find((m) => m.headers['x-sink-rcpt-to'] === 'elif@example.com'),
    15000, 'the delay mail');
  const cut = mail.raw.indexOf('\r\n\r\n');
  const text = Buffer.from(mail.raw.slice(cut + 4).replace(/\s+/g, ''), 'base64').toString('utf8');
  assert.match(text, /#E-7001 numaralı siparişinizi söz verdiğimiz 2026-11-03 tarihinde kargoya veremedik/);
  const link = /(https?:\/\/\S+\/track\?lang=tr)/.exec(text);
  assert.ok(link, text);
  const page = await newPage(browser, { width: 360, height: 740, errors });
  await page.goto(link[1]);
  await page.locator('#number').fill('E-7001');
  await page.locator('#contact').fill('elif@example.com');
  await page.locator('form button[type="submit"]').click();
  await page.locator('main .order').first().waitFor();
  const body = await page.locator('main').textContent();
  assert.match(body, /E-7001/);
  assert.match(body, /Keten Gömlek/);
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `the page is ${widths[0]} px wide on a ${widths[1]} px screen`);
  await shot(page, 'orders-delay-mail-track.png');
  assert.deepEqual(errors, []);
});

test('the agent finds it under the orders screen\'s "delayed" filter', async () => {
  await api('PUT', '/orders/E-7002', { status: 'processing', payment_status: 'paid', currency: 'TRY', total_minor: 1000,
    customer: { email: 'can@example.com' }, promised_dispatch_date: '2026-11-20' });
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/orders`);
  await page.locator('[data-region="orders-table"] tr[data-order="E-7002"]').waitFor();
  await page.locator('[data-filter="delayed"]').check();
  await page.waitForFunction(() => !document.querySelector('[data-region="orders-table"] tr[data-order="E-7002"]'));
  const rows = await page.locator('[data-region="orders-table"] tr[data-order]').evaluateAll((els) => els.map((e) => e.getAttribute('data-order')));
  assert.deepEqual(rows, ['E-7001']);
  await shot(page, 'orders-delayed-filter.png');
  assert.deepEqual(errors, []);
});
