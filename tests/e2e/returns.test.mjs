// Browser tests of the returns module, the whole path: on a 360 px phone a customer finds the order by number and
// e-mail and returns one of two items with a photo; an agent approves it in the queue; a mocked carrier scan (a
// shipment of the order carrying the return's code) marks it received; the agent records the inspection and the
// refund; the customer's page shows each step, and the return sits beside its ticket.
// Screenshots: build/screenshots/returns-phone-form.png, returns-phone-page.png, returns-queue.png, returns-detail.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, desk, eventually, launch, login, newPage, png, shot } from './ui-lib.mjs';

let server, api, browser;
const errors = [];

before(async () => {
  ({ server, api } = await desk());
  await api('PATCH', '/settings', { 'returns.address': 'Destek Depo, Tuzla / İstanbul' });
  await api('PUT', '/orders/E-2001', {
    status: 'completed', payment_status: 'paid', currency: 'TRY', total_minor: 80000, placed_at: '2026-11-20T10:00:00Z',
    customer: { email: 'zeynep@example.com', name: 'Zeynep Demir' },
    items: [{ sku: 'BORNOZ-L', name: 'Bornoz', variant: 'L', quantity: 1, price_minor: 50000 },
      { sku: 'HAVLU', name: 'Havlu', quantity: 2, price_minor: 15000 }],
    shipments: [{ carrier: 'Yurtiçi Kargo', tracking_number: '555000111222', status: 'Delivered',
      at: new Date(Date.now() - 2 * 86400e3).toISOString() }] });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

test('a customer returns one of two items with a photo; an agent approves, a scan receives, inspection, refund', async () => {
  const phone = await newPage(browser, { width: 360, height: 740, errors });
  await phone.goto(`${server.url}/returns?lang=tr`);
  assert.equal(await phone.locator('h1').textContent(), 'İade ve değişim');
  await phone.locator('input[name="order"]').fill('E-2001');
  await phone.locator('input[name="contact"]').fill('Zeynep@Example.com');
  await phone.locator('button[type="submit"]').click();
  await phone.locator('fieldset[data-line="1"]').waitFor();
  await phone.locator('select[name="qty_1"]').selectOption('1');
  await phone.locator('select[name="reason_1"]').selectOption('damaged');
  await phone.locator('select[name="outcome_1"]').selectOption('refund');
  await phone.locator('textarea[name="comment_1"]').fill('Kutu ezik geldi, yakası yırtık.');
  const photo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'returns-e2e-')), 'hasar.png');
  fs.writeFileSync(photo, png(8, 8, [200, 30, 30]));
  await phone.locator('input[name="photo_1"]').setInputFiles(photo);
  let widths = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `the form is ${widths[0]} px wide on a ${widths[1]} px screen`);
  await shot(phone, 'returns-phone-form.png');
  await phone.locator('form.items button[type="submit"]').click();
  await phone.locator('.status .code').waitFor();
  const code = (await phone.locator('.status .code').textContent()).trim();
  assert.match(code, /^IA-[A-Z0-9]{6}$/);
  assert.match(await phone.locator('.status .state').textContent(), /Talep alındı/);
  assert.match(await phone.locator('main').textContent(), /Bornoz.*Kargoda hasar gördü/s);
  assert.ok(!(await phone.locator('main').textContent()).includes('Havlu'), 'only the chosen item');
  widths = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1]);
  const customerUrl = phone.url();

  // the agent: the queue, the return with its photo, approve
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/returns`);
  const row = page.locator(`[data-region="returns-queue"] tr[data-return="${code}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Kargoda hasar/);
  await shot(page, 'returns-queue.png');
  await row.locator('a').click();
  await page.locator(`div.returns[data-return="${code}"]`).waitFor();
  assert.match(await page.locator('div.returns').textContent(), /hasar\.png/);
  await page.locator('[data-action="approve"]').click();
  await page.locator('[data-region="return-status"][data-status="approved"]').waitFor();

  // the customer's page now shows the approval, the address and the deadline
  await phone.goto(customerUrl);
  assert.match(await phone.locator('.status').textContent(), /Onaylandı[\s\S]*Tuzla[\s\S]*Son gönderim tarihi/);

  // a mocked carrier scan: the parcel with the return's code, delivered to the shop
  await api('POST', '/orders/E-2001/shipments', { tracking_number: code, carrier: 'Aras Kargo', status: 'Delivered' });
  const list = await api('GET', '/returns?order_number=E-2001');
  const id = list.items[0].id;
  await eventually(async () => (await api('GET', `/returns/${id}`)).status === 'received', 10000, 'received');
  await page.reload();
  await page.locator('[data-step="inspect"]').waitFor();
  await page.locator('[data-step="inspect"] select').first().selectOption('damaged');
  await page.locator('[data-action="inspect"]').click();
  await page.locator('[data-step="resolve"]').waitFor();
  await page.locator('[data-field="amount"]').fill('500');
  await page.locator('[data-action="refund"]').click();
  await page.locator('[data-region="return-status"][data-status="refunded"]').waitFor();
  const hist = await page.locator('[data-region="return-history"] li').count();
  assert.ok(hist >= 6, `history has ${hist} lines`);
  await shot(page, 'returns-detail.png');

  await phone.goto(customerUrl);
  assert.match(await phone.locator('.status .state').textContent(), /Para iadesi yapıldı/);
  await shot(phone, 'returns-phone-page.png');

  // beside its ticket
  const ticketId = list.items[0].ticket_id;
  await page.goto(`${server.url}/app/tickets/${ticketId}`);
  await page.locator(`[data-region="returns"] [data-return="${code}"]`).waitFor();
  assert.deepEqual(errors, []);
});

test('refusals on the phone: past 14 days for "changed my mind", and someone else\'s order', async () => {
  await api('PUT', '/orders/E-2002', {
    status: 'completed', payment_status: 'paid', currency: 'TRY', total_minor: 30000, placed_at: '2026-10-01T10:00:00Z',
    customer: { email: 'zeynep@example.com', name: 'Zeynep Demir' },
    items: [{ sku: 'CANTA', name: 'Çanta', quantity: 1, price_minor: 30000 }],
    shipments: [{ carrier: 'Yurtiçi Kargo', tracking_number: '555000111333', status: 'Delivered',
      at: new Date(Date.now() - 20 * 86400e3).toISOString() }] });
  const phone = await newPage(browser, { width: 360, height: 740, errors });
  await phone.goto(`${server.url}/returns?lang=en`);
  await phone.locator('input[name="order"]').fill('E-2002');
  await phone.locator('input[name="contact"]').fill('someone@example.com');
  await phone.locator('button[type="submit"]').click();
  assert.match(await phone.locator('.error').textContent(), /could not find an order/);
  await phone.locator('input[name="order"]').fill('E-2002');
  await phone.locator('input[name="contact"]').fill('zeynep@example.com');
  await phone.locator('button[type="submit"]').click();
  await phone.locator('select[name="qty_1"]').selectOption('1');
  await phone.locator('select[name="reason_1"]').selectOption('changed_mind');
  await phone.locator('form.items button[type="submit"]').click();
  const msg = await phone.locator('#form-error').textContent();
  assert.match(msg, /right of withdrawal lasts 14 days/);
  assert.match(msg, /faulty or damaged/);
  const list = await api('GET', '/returns?order_number=E-2002');
  assert.equal(list.items.length, 0, 'nothing written');
  assert.deepEqual(errors, []);
});
