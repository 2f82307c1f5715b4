// Browser tests of the orders module: the order panel beside a ticket (the customer's orders, the newest one's
// shipment with its carrier link and timeline), and the public tracking page on a 360 px phone.
// Also the admin screen of order sources: a shop added (its secret never shown again), its webhook URL, and the
// delivery log after a signed and an unsigned delivery.
// Screenshots: build/screenshots/orders-panel.png, orders-track-phone.png, orders-sources.png.
import { after, before, test } from 'node:test';
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { ADMIN, desk, launch, login, newPage, shot } from './ui-lib.mjs';

let server, api, browser;
const errors = [];

before(async () => {
  ({ server, api } = await desk());
  await api('PUT', '/orders/A-1001', {
    status: 'processing', payment_status: 'paid', currency: 'TRY', total_minor: 54990, placed_at: '2025-03-01T10:00:00Z',
    customer: { email: 'zeynep@example.com', name: 'Zeynep Demir' },
    items: [{ name: 'Bornoz', variant: 'L / Beyaz', quantity: 1, price_minor: 54990 }] });
  await api('PUT', '/orders/A-1002', {
    status: 'shipped', payment_status: 'paid', currency: 'TRY', total_minor: 12000, placed_at: '2025-03-05T10:00:00Z',
    customer: { email: 'zeynep@example.com', phone: '0532 111 22 33' },
    items: [{ name: 'Havlu seti <b>', quantity: 2, price_minor: 6000 }],
    shipments: [{ carrier: 'Yurtiçi Kargo', tracking_number: '123456789012', status: 'InfoReceived', at: '2025-03-06T09:00:00Z' }] });
  await api('POST', '/orders/A-1002/shipments', { tracking_number: '123456789012', status: 'InTransit',
    location: 'Tuzla Aktarma', at: '2025-03-06T18:00:00Z' });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

test('the ticket shows the customer\'s orders and the newest one\'s shipment', async () => {
  const t = await api('POST', '/tickets', { subject: 'Siparişim nerede?', body: 'Havlular ne zaman gelir?',
    customer: { email: 'zeynep@example.com', name: 'Zeynep Demir' } });
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/tickets/${t.id}`);
  const panel = page.locator('[data-panel="orders.orders"] [data-region="orders"]');
  await panel.locator('[data-region="orders-shipments"]').waitFor();
  const numbers = await panel.locator('[data-order]').evaluateAll((els) => els.map((e) => e.getAttribute('data-order')));
  assert.deepEqual(numbers, ['A-1002', 'A-1001']);
  const text = await panel.textContent();
  assert.match(text, /Kargoya verildi/);
  assert.match(text, /Son sipariş #A-1002/);
  assert.match(text, /Yurtiçi Kargo/);
  assert.match(text, /Yolda/);
  assert.match(text, /Tuzla Aktarma/);
  assert.match(text, /Havlu seti <b> × 2/);
  const link = panel.locator('[data-region="orders-shipments"] a');
  assert.equal(await link.getAttribute('href'), 'https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=123456789012');
  await shot(page, 'orders-panel.png');
  // a customer without orders
  const u = await api('POST', '/tickets', { subject: 'Soru', body: 'Merhaba', customer: { email: 'ali@example.com' } });
  await page.goto(`${server.url}/app/tickets/${u.id}`);
  await page.locator('[data-panel="orders.orders"] [data-empty="orders"]').waitFor();
  assert.deepEqual(errors, []);
});

test('the tracking page on a 360 px phone: form, result, nothing wider than the screen', async () => {
  const page = await newPage(browser, { width: 360, height: 740, errors });
  await page.goto(`${server.url}/track`);
  assert.equal(await page.locator('h1').textContent(), 'Sipariş takibi');
  const fontSize = await page.locator('#number').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  assert.ok(fontSize >= 16, 'inputs at 16 px: phones do not zoom in');
  await page.locator('#number').fill('A-1002');
  await page.locator('#contact').fill('0532 111 22 33');
  await page.locator('form button[type="submit"]').click();
  await page.locator('.timeline').waitFor();
  const body = await page.locator('main').textContent();
  assert.match(body, /Kargoya verildi/);
  assert.match(body, /Yolda/);
  assert.match(body, /Havlu seti <b>/);
  assert.equal(await page.locator('a.button').getAttribute('href'),
    'https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=123456789012');
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `the page is ${widths[0]} px wide on a ${widths[1]} px screen`);
  await shot(page, 'orders-track-phone.png');
  // a wrong contact: the form again, with the message, and no order data
  await page.goto(`${server.url}/track?lang=en`);
  await page.locator('#number').fill('A-1002');
  await page.locator('#contact').fill('someone@example.com');
  await page.locator('form button[type="submit"]').click();
  await page.locator('.error').waitFor();
  assert.match(await page.locator('.error').textContent(), /No order matches/);
  assert.equal(await page.locator('.timeline').count(), 0);
  assert.deepEqual(errors, []);
});

test('admins add a shop, see its webhook URL, and read the delivery log', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/admin/order_sources`);
  await page.locator('[data-empty]').first().waitFor();
  await page.getByRole('button', { name: 'Mağaza ekle' }).click();
  await page.locator('#order-source-kind').selectOption('shopify');
  await page.locator('#order-source-name').fill('Shopify mağazası');
  await page.locator('#order-source-webhook_secret').fill('shpss_e2e_secret');
  await page.locator('form[data-form="order-source"] button[type="submit"]').click();
  const card = page.locator('[data-source]').first();
  await card.waitFor();
  const url = await card.locator('[data-field="webhook-url"]').textContent();
  assert.match(url, /\/api\/v1\/order-sources\/\d+\/webhook$/);
  assert.ok(!(await page.content()).includes('shpss_e2e_secret'), 'the secret is not shown');
  const body = JSON.stringify({ id: 99, order_number: 1099, email: 'e2e@example.com', financial_status: 'paid',
    created_at: '2025-03-02T10:00:00+03:00', updated_at: '2025-03-02T10:00:00+03:00', currency: 'TRY', total_price: '10.00',
    line_items: [{ title: 'Havlu', quantity: 1, price: '10.00' }] });
  const sig = crypto.createHmac('sha256', 'shpss_e2e_secret').update(body).digest('base64');
  const post = (headers) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json',
    'X-Shopify-Topic': 'orders/create', 'X-Shopify-Event-Id': 'e2e-1', ...headers }, body });
  assert.equal((await post({ 'X-Shopify-Hmac-Sha256': sig })).status, 200);
  assert.equal((await post({ 'X-Shopify-Hmac-Sha256': 'AAAA' })).status, 401);
  await page.locator('[data-action="refresh"]').click();
  await page.locator('[data-delivery][data-outcome="kept"]').waitFor();
  await page.locator('[data-delivery][data-outcome="failed"]').waitFor();
  assert.match(await page.locator('[data-delivery][data-outcome="kept"]').textContent(), /#1099/);
  await page.locator('[data-filter="outcome"]').selectOption('failed');
  await page.waitForFunction(() => !document.querySelector('[data-delivery][data-outcome="kept"]'));
  await shot(page, 'orders-sources.png');
  assert.deepEqual(errors, []);
});
