// Browser tests of the agents' side of orders: the orders screen (filters, search, an order's page with its items,
// shipments, checkpoints and tickets), a ticket linked to its order by the number in its subject (the panel shows the
// linked order first), an agent linking and unlinking by hand, and the carriers admin screen.
// Screenshots: build/screenshots/orders-screen.png, orders-detail.png, orders-linked-panel.png, orders-carriers.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, launch, login, newPage, shot } from './ui-lib.mjs';

let server, api, browser;
const errors = [];

before(async () => {
  ({ server, api } = await desk());
  const put = (n, body) => api('PUT', `/orders/${n}`, { currency: 'TRY', payment_status: 'paid', total_minor: 10000,
    items: [{ name: 'Keten Gömlek', variant: 'M', quantity: 1, price_minor: 10000 }], ...body });
  await put('D-501', { status: 'processing', placed_at: '2026-11-01T10:00:00Z', customer: { email: 'sukru@example.com', name: 'Şükrü Işık' } });
  await put('D-502', { status: 'shipped', placed_at: '2026-11-02T10:00:00Z', customer: { email: 'sukru@example.com', name: 'Şükrü Işık' },
    notify: { channel: 'whatsapp', phone: '+90 532 123 45 67' },
    shipments: [{ carrier: 'Aras Kargo', tracking_number: 'AR77', status: 'InTransit', at: '2026-11-03T09:00:00Z' }] });
  await api('POST', '/orders/D-502/shipments', { tracking_number: 'AR77', status: 'Exception', location: 'Ankara Aktarma',
    message: 'Adres bulunamadı', at: '2026-11-04T09:00:00Z' });
  await put('D-503', { status: 'pending', payment_status: 'pending', placed_at: '2026-11-03T10:00:00Z',
    customer: { email: 'elif@example.com', name: 'Elif Kaya' } });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

const rows = (page) => page.locator('[data-region="orders-table"] tr[data-order]')
  .evaluateAll((els) => els.map((e) => e.getAttribute('data-order')));

test('the orders screen: filters, search the Turkish way, an order\'s page with its shipment and tickets', async () => {
  const t = await api('POST', '/tickets', { subject: 'D-502 nerede kaldı?', body: 'Kargom gelmedi.',
    customer: { email: 'sukru@example.com' } });
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.locator('[data-nav="orders"]').click();
  await page.waitForURL(/\/app\/orders$/);
  await page.locator('[data-region="orders-table"] tr[data-order="D-501"]').waitFor();
  const all = await rows(page);
  assert.deepEqual(all.filter((n) => n.startsWith('D-')), ['D-503', 'D-502', 'D-501']);
  await page.locator('select[data-filter="shipment_status"]').selectOption('Exception');
  await page.waitForFunction(() => document.querySelectorAll('[data-region="orders-table"] tr[data-order]').length === 1);
  assert.deepEqual(await rows(page), ['D-502']);
  await page.locator('[data-action="clear"]').click();
  await page.locator('[data-filter="not_shipped"]').check();
  await page.waitForFunction(() => !document.querySelector('[data-region="orders-table"] tr[data-order="D-502"]'));
  assert.ok((await rows(page)).includes('D-503'));
  await page.locator('[data-action="clear"]').click();
  await page.locator('#orders-q').fill('ŞÜKRÜ ışık');
  await page.locator('#orders-q').press('Enter');
  await page.waitForFunction(() => !document.querySelector('[data-region="orders-table"] tr[data-order="D-503"]'));
  assert.deepEqual(await rows(page), ['D-502', 'D-501']);
  await shot(page, 'orders-screen.png');
  await page.locator('tr[data-order="D-502"] a').click();
  await page.waitForURL(/\/app\/orders\/D-502$/);
  const detail = page.locator('main.orders-detail');
  await detail.locator('[data-region="order-tickets"] [data-ticket]').waitFor();
  const text = await detail.textContent();
  assert.match(text, /Sipariş #D-502/);
  assert.match(text, /Keten Gömlek \(M\)/);
  assert.match(text, /Aras Kargo/);
  assert.match(text, /Ankara Aktarma/);
  assert.match(text, /Adres bulunamadı/);
  assert.match(text, /mesajdaki numara/, 'how the ticket was linked');
  assert.equal(await detail.locator('[data-field="notify"]').textContent(), 'WhatsApp +905321234567 · ödeme adımında seçildi',
    'the customer\'s choice of channel for notices, and where it was made');
  assert.match(await detail.locator('[data-region="order-tickets"]').textContent(), new RegExp(t.reference));
  await shot(page, 'orders-detail.png');
  assert.deepEqual(errors, []);
});

test('a ticket naming its order shows it linked first; an agent links another and unlinks', async () => {
  const t = await api('POST', '/tickets', { subject: 'Siparişim D-501 hakkında', body: 'Ne zaman kargoya verilir?',
    customer: { email: 'sukru@example.com' } });
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/tickets/${t.id}`);
  const panel = page.locator('[data-panel="orders.orders"] [data-region="orders"]');
  await panel.locator('[data-order="D-501"][data-linked="true"]').waitFor();
  const order = await panel.locator('[data-order]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-order'), e.getAttribute('data-linked')]));
  assert.deepEqual(order, [['D-501', 'true'], ['D-502', 'false']], 'linked first, then the customer\'s latest');
  assert.match(await panel.textContent(), /Bağlı sipariş #D-501/);
  await shot(page, 'orders-linked-panel.png');
  // Link another customer's order by hand (an agent may), then unlink the first.
  await panel.locator('#orders-link-number').fill('#D-503');
  await panel.locator('form[data-form="order-link"] button[type="submit"]').click();
  await panel.locator('[data-order="D-503"][data-linked="true"]').waitFor();
  await panel.locator('[data-order="D-501"] [data-action="unlink"]').click();
  await panel.locator('[data-order="D-501"][data-linked="false"]').waitFor();
  const linked = await api('GET', `/orders?ticket_id=${t.id}`);
  assert.deepEqual(linked.items.map((o) => o.number), ['D-503']);
  // An unknown number says so.
  await panel.locator('#orders-link-number').fill('NOPE-1');
  await panel.locator('form[data-form="order-link"] button[type="submit"]').click();
  await panel.locator('[role="alert"]').waitFor();
  assert.match(await panel.locator('[role="alert"]').textContent(), /NOPE-1/);
  assert.deepEqual(errors.filter((e) => !/404/.test(e)), []);
  errors.length = 0;
});

test('admins edit a carrier\'s tracking template; shipments\' links follow', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/admin/order_carriers`);
  const card = page.locator('[data-carrier="aras"]');
  await card.waitFor();
  await card.locator('[data-action="edit"]').click();
  const tpl = card.locator('#order-carrier-aras-url_template');
  await tpl.fill('ftp://bad');
  await card.locator('button[type="submit"]').click();
  await card.locator('[data-error-for="url_template"]').waitFor();
  await tpl.fill('https://ebranch.araskargo.com.tr/track/{n}');
  assert.match(await card.locator('[data-field="preview"]').textContent(), /track\/1234567890$/);
  await card.locator('button[type="submit"]').click();
  await card.locator('[data-field="url-template"]').waitFor();
  assert.equal(await card.locator('[data-field="url-template"]').textContent(), 'https://ebranch.araskargo.com.tr/track/{n}');
  await shot(page, 'orders-carriers.png');
  const o = await api('GET', '/orders/D-502');
  assert.equal(o.shipments[0].tracking_url, 'https://ebranch.araskargo.com.tr/track/AR77');
  assert.deepEqual(errors, []);
});
