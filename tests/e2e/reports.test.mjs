// Browser tests of the reports dashboard (plugins/reports/web/agent): the help desk's figures with a uPlot chart,
// a click on a table row and on a chart's bar opening the tickets behind them, and on to a ticket; the business-hours
// choice; a phone's width without sideways scrolling; Turkish and English. Screenshots: build/screenshots/reports-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, launch, login, newPage, shot, eventually } from './ui-lib.mjs';

let server, api, browser;
const errors = [];
const ids = [];

before(async () => {
  ({ server, api } = await desk());
  browser = await launch();
  const channels = ['email', 'email', 'email', 'phone', 'phone', 'web'];
  for (const [i, channel] of channels.entries()) {
    const t = await api('POST', '/tickets', { subject: `Kargom nerede ${i}`, body: 'Merhaba', channel,
      customer: { email: `rapor${i}@example.com`, name: `Müşteri ${i}` } });
    ids.push(t.id);
    if (i < 4) await api('POST', `/tickets/${t.id}/messages`, { body: 'Bakıyoruz', kind: 'reply' });
    if (i < 2) await api('PATCH', `/tickets/${t.id}`, { status: 'solved' });
  }
  // The roll-ups follow the events after commit.
  await eventually(async () => {
    const d = await api('GET', '/reports/dashboard');
    return d.kinds.ticket?.current.count === 6 && d.kinds.ticket.current.durations.res.n === 2;
  }, 15000, 'the roll-ups');
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

test('the dashboard shows the figures with a chart; a table row opens its tickets, and one opens the ticket', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/reports`);
  const desk = page.locator('[data-kind="ticket"]');
  await desk.locator('[data-kpi="count"] .reports-kpi-value').waitFor();
  assert.equal((await desk.locator('[data-kpi="count"] .reports-kpi-value').textContent()).trim(), '6');
  assert.equal((await desk.locator('[data-kpi="backlog"] .reports-kpi-value').textContent()).trim(), '4');
  await desk.locator('.reports-chart canvas').first().waitFor();
  assert.match(await page.locator('h1').textContent(), /Raporlar/);
  assert.match(await desk.locator('[data-kpi="sla"]').textContent(), /SLA/);
  // Four first responses, all within the hour.
  assert.match(await desk.locator('[data-buckets="frt"] [data-bucket="0"]').textContent(), /4 \(%100\)/);
  await shot(page, 'reports-dashboard.png');
  // The e-mail row of the channel table.
  await desk.locator('[data-table="ticket.channel"] tr[data-value="email"] a').click();
  await page.waitForURL(/\/app\/reports\/list\?/);
  assert.match(page.url(), /dim=channel&value=email/);
  const rows = page.locator('[data-region="drill"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  assert.deepEqual(await rows.evaluateAll((r) => r.map((x) => Number(x.dataset.item))), ids.slice(0, 3));
  await shot(page, 'reports-drill.png');
  await rows.first().locator('a').click();
  await page.waitForURL(new RegExp(`/app/tickets/${ids[0]}$`));
  await page.context().close();
});

test('a click on a day of the chart lists that day\'s tickets; the FRT bucket and the backlog open theirs', async () => {
  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/reports`);
  const over = page.locator('[data-kind="ticket"] .reports-chart .u-over').first();
  await over.waitFor();
  const box = await over.boundingBox();
  // Today is the last day of the default range: the right end of the chart.
  await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
  await page.mouse.click(box.x + box.width - 3, box.y + box.height / 2);
  await page.waitForURL(/\/app\/reports\/list\?/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('from'), url.searchParams.get('to'));
  await page.locator('[data-region="drill"] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-region="drill"] tbody tr').count(), 6);
  await page.goBack();
  await page.locator('[data-buckets="frt"] [data-bucket="0"]').click();
  await page.waitForURL(/measure=frt&bucket=0/);
  await page.locator('[data-region="drill"] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-region="drill"] tbody tr').count(), 4);
  await page.goto(`${server.url}/app/reports`);
  await page.locator('[data-kpi="backlog"]').click();
  await page.waitForURL(/open=1/);
  await page.locator('[data-region="drill"] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-region="drill"] tbody tr').count(), 4);
  await page.context().close();
});

test('on a phone, in English, with business hours: readable without sideways scrolling', async () => {
  const me = await api('GET', '/me');
  await api('PATCH', `/users/${me.user ? me.user.id : me.id}`, { lang: 'en' });
  const page = await newPage(browser, { width: 375, height: 812, locale: 'en-GB', errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/reports`);
  await page.locator('[data-kind="ticket"] [data-kpi="count"]').waitFor();
  assert.match(await page.locator('h1').textContent(), /Reports/);
  await page.locator('select[data-hours]').selectOption('business');
  await page.locator('[data-kind="ticket"] .reports-chart canvas').first().waitFor();
  const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
  await shot(page, 'reports-phone-en.png');
  await page.context().close();
  await api('PATCH', `/users/${me.user ? me.user.id : me.id}`, { lang: 'tr' });
  assert.deepEqual(errors, []);
});
