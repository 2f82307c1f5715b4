// Browser test of the reports dashboard over the demo shop (destek demo): the sections of the modules that publish
// figures — help desk, CSAT, returns with their rate per product, orders by carrier and province — and a click from
// the returns' reasons and the orders' carriers to the returns and orders behind them, which open their own pages.
// Screenshot: build/screenshots/reports-demo.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { destekBin, startServer } from './server.mjs';
import { launch, login, newPage, shot } from './ui-lib.mjs';

let server, browser, admin;
const errors = [];

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'destek-e2e-reports-'));
  const demo = spawnSync(destekBin(), ['demo', '--data', dir], { encoding: 'utf8', timeout: 120000 });
  assert.equal(demo.status, 0, demo.stderr);
  const m = /admin\s+(\S+@\S+)\s+password: (\S+)/.exec(demo.stdout);
  admin = { email: m[1], password: m[2] };
  server = await startServer({ dataDir: dir, expectSetup: false });
  browser = await launch();
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

test('the demo shop: every module with figures has its section; reasons and carriers open their lists', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, admin);
  // The demo's events reach the roll-ups after the server starts; the admin button rebuilds them at once.
  const rebuilt = await page.evaluate(async () => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/reports/rebuild', { method: 'POST', headers: { 'X-CSRF-Token': me.csrf_token } });
    return r.status;
  });
  assert.equal(rebuilt, 200);
  await page.goto(`${server.url}/app/reports`);
  await page.locator('[data-days="365"]').click();
  for (const kind of ['ticket', 'csat', 'return', 'order']) await page.locator(`[data-kind="${kind}"]`).waitFor();
  await page.locator('[data-kind="return"] [data-table="return.product"] [data-rate]').first().waitFor();
  await shot(page, 'reports-demo.png');
  // A reason of the returns.
  const reason = page.locator('[data-kind="return"] [data-table="return.reason"] tbody tr').first();
  const want = Number((await reason.locator('td').nth(1).textContent()).trim());
  await reason.locator('a').click();
  await page.waitForURL(/kind=return&.*dim=reason/);
  await page.locator('[data-region="drill"] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-region="drill"] tbody tr').count(), want);
  await page.locator('[data-region="drill"] tbody tr a').first().click();
  await page.waitForURL(/\/app\/returns\/\d+$/);
  // A carrier of the orders, on to an order.
  await page.goto(`${server.url}/app/reports`);
  await page.locator('[data-days="365"]').click();
  const carrier = page.locator('[data-kind="order"] [data-table="order.carrier"] tbody tr').first();
  await carrier.waitFor();
  await carrier.locator('a').click();
  await page.waitForURL(/kind=order&.*dim=carrier/);
  await page.locator('[data-region="drill"] tbody tr a').first().click();
  await page.waitForURL(/\/app\/orders\/[^/]+$/);
  assert.deepEqual(errors, []);
  await page.context().close();
});
