// Browser test of the inbox: view counts from GET /tickets/count, the SLA badge on each row (due in / breached,
// under the server's test clock and a browser clock set to the same instant), the "SLA at risk" view, sorting,
// filters, "show more", dates and numbers in the user's language, and no shortcut firing while typing.
// Screenshots: build/screenshots/inbox-sla.png, phone-inbox.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, desk, eventually, launch, login, newPage, shot } from './ui-lib.mjs';

let server;
let api;
let browser;
let page;
const errors = [];
const T0 = new Date(Math.floor(Date.now() / 60000) * 60000);
const at = (minutes) => new Date(T0.getTime() + minutes * 60000);
const iso = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const ids = {};

async function clock(d) {
  await api('POST', '/test/clock', { now: iso(d) });
}
const ticket = (subject, email, extra) => api('POST', '/tickets', {
  subject, body: 'Merhaba, yardımcı olur musunuz?', customer: { email, name: email.split('@')[0] }, ...(extra || {}) });
const rowIds = () => page.locator('.ticket-row').evaluateAll((rows) => rows.map((r) => Number(r.dataset.ticket)));

before(async () => {
  ({ server, api } = await desk({ env: { DESTEK_TEST_CLOCK: '1' } }));
  const cal = await api('POST', '/calendars', { name: 'Her gün', time_zone: 'UTC', hours: 'daily 00:00-24:00' });
  await api('POST', '/sla-policies', { name: 'Acil', priority: 'urgent', first_response_minutes: 60,
    resolution_minutes: 240, warn_percent: 50, calendar_id: cal.id, position: 1 });
  await api('POST', '/sla-policies', { name: 'Standart', first_response_minutes: 480, resolution_minutes: 2880,
    calendar_id: cal.id, position: 2 });
  // A: urgent, opened at T0 (first response due T0+60); B: normal, T0; D: urgent, T0+30 (due T0+90).
  await clock(T0);
  ids.a = (await ticket('Kargom gelmedi', 'a@example.com', { priority: 'urgent' })).id;
  ids.b = (await ticket('Fatura sorusu', 'b@example.com')).id;
  await clock(at(30));
  ids.d = (await ticket('Yanlış ürün geldi', 'd@example.com', { priority: 'urgent' })).id;
  await clock(at(70));
  browser = await launch();
  page = await newPage(browser, { errors });
  await page.clock.setFixedTime(at(70));
  await login(page, server.url, ADMIN);
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

test('each row shows its SLA state: breached, due soon (warning), on track', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  const badge = (id) => page.locator(`[data-ticket="${id}"] .sla-badge`);
  await badge(ids.a).waitFor();
  assert.equal(await badge(ids.a).getAttribute('data-sla'), 'breached');
  assert.match(await badge(ids.a).textContent(), /Yanıt\s+10 dk\. gecikti/);
  assert.equal(await badge(ids.d).getAttribute('data-sla'), 'warning');
  assert.match(await badge(ids.d).textContent(), /Yanıt\s+20 dk\. içinde/);
  assert.equal(await badge(ids.b).getAttribute('data-sla'), 'ok');
  assert.match(await badge(ids.b).textContent(), /6 sa\. 50 dk\. içinde/);
  assert.match(await badge(ids.a).getAttribute('title'), /İlk yanıt · Bitiş: /);
  await shot(page, 'inbox-sla.png');
});

test('the views show real counts (GET /tickets/count), and they follow new tickets by the poll', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('[data-view="open"] .count').waitFor();
  const filters = { mine: 'assignee=me&status=new,open,pending,on_hold', unassigned: 'assignee=none&status=new,open,pending,on_hold',
    open: 'status=new,open', pending: 'status=pending', sla_at_risk: 'sla_at_risk=true', solved: 'status=solved' };
  for (const [view, q] of Object.entries(filters)) {
    const { count } = await api('GET', '/tickets/count?' + q);
    await page.locator(`[data-view="${view}"] .count[data-count="${count}"]`).waitFor();
  }
  assert.equal(await page.locator('[data-view="sla_at_risk"] .count').textContent(), '2');
  assert.equal(await page.locator('[data-region="total"]').textContent(), 'Toplam: 3');
  ids.e = (await ticket('İade talebi', 'e@example.com')).id;
  await page.locator('[data-view="open"] .count[data-count="4"]').waitFor({ timeout: 15000 });
  await page.locator(`[data-ticket="${ids.e}"]`).waitFor();
  assert.equal(await page.locator('[data-region="total"]').textContent(), 'Toplam: 4');
});

test('"SLA at risk" lists the breached and warning tickets, soonest due first', async () => {
  await page.locator('[data-view="sla_at_risk"]').click();
  await page.waitForURL(/view=sla_at_risk/);
  await eventually(async () => (await rowIds()).length === 2, 5000, 'two at-risk rows');
  assert.deepEqual(await rowIds(), [ids.a, ids.d]);
  assert.equal(await page.locator('[data-field="sort"]').inputValue(), 'sla_due');
});

test('sorting: newest first, priority, SLA due — the order the API gives', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.ticket-row').first().waitFor();
  for (const sort of ['created', 'priority', 'sla_due', 'updated']) {
    await page.locator('[data-field="sort"]').selectOption(sort);
    if (sort === 'updated') await page.waitForURL((u) => !u.search.includes('sort='));
    else await page.waitForURL(new RegExp('sort=' + sort));
    const expected = (await api('GET', '/tickets?status=new,open&limit=50' + (sort === 'updated' ? '' : '&sort=' + sort))).items.map((x) => x.id);
    await eventually(async () => JSON.stringify(await rowIds()) === JSON.stringify(expected), 5000, 'rows in ' + sort + ' order');
  }
  await page.locator('[data-field="sort"]').selectOption('priority');
  await eventually(async () => {
    const first = await rowIds();
    return [ids.a, ids.d].includes(first[0]) && [ids.a, ids.d].includes(first[1]);
  }, 5000, 'urgent tickets first');
});

test('filters: priority and tag narrow the list and the total; "clear filters" resets them', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.ticket-row').first().waitFor();
  await page.locator('[data-filter="priority"]').selectOption('urgent');
  await page.waitForURL(/priority=urgent/);
  await eventually(async () => (await rowIds()).length === 2, 5000, 'two urgent rows');
  assert.equal(await page.locator('.ticket-row .pr-urgent').count(), 2);
  await page.locator('[data-region="total"]', { hasText: 'Toplam: 2' }).waitFor();
  await page.locator('[data-action="clear-filters"]').click();
  await page.waitForURL((u) => !u.search.includes('priority='));
  await eventually(async () => (await rowIds()).length === 4, 5000, 'four rows again');
  await page.locator('input[data-filter="tag"]').fill('iade');
  await page.keyboard.press('Enter');
  await page.waitForURL(/tag=iade/);
  await eventually(async () => JSON.stringify(await rowIds()) === JSON.stringify([ids.e]), 5000, 'the iade ticket only');
});

test('no shortcut fires while typing in the search or a filter; they work again after Escape', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.ticket-row.is-cursor').first().waitFor();
  const first = await page.locator('.ticket-row').nth(0).getAttribute('data-ticket');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'q');
  await page.keyboard.type('jkj/?');
  assert.equal(await page.locator('input[name="q"]').inputValue(), 'jkj/?');
  assert.equal(await page.locator('[data-region="shortcuts"]').count(), 0);
  assert.equal(await page.locator('.ticket-row.is-cursor').getAttribute('data-ticket'), first);
  await page.keyboard.press('Escape');
  await page.locator('input[data-filter="tag"]').focus();
  await page.keyboard.type('jk?');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('[data-region="shortcuts"]').count(), 0);
  assert.equal(await page.locator('.ticket-row.is-cursor').getAttribute('data-ticket'), first);
  await page.keyboard.press('j');
  await page.locator('.ticket-row').nth(1).and(page.locator('.is-cursor')).waitFor();
  assert.ok(page.url().endsWith('view=open'), page.url());
  // A ticked checkbox is not a text field: j/k keep working after bulk selection.
  await page.locator('.ticket-row').nth(2).locator('input[type="checkbox"]').check();
  await page.keyboard.press('k');
  await page.locator('.ticket-row').nth(0).and(page.locator('.is-cursor')).waitFor();
  await page.locator('.ticket-row').nth(2).locator('input[type="checkbox"]').uncheck();
});

test('English: the same badges and counts in English, with en-GB numbers', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('.lang-switch button[data-lang="en"]').click();
  await page.locator('[data-view="sla_at_risk"]', { hasText: 'SLA at risk' }).waitFor();
  assert.match(await page.locator(`[data-ticket="${ids.a}"] .sla-badge`).textContent(), /Reply\s+overdue by 10 min/);
  await page.locator('[data-region="total"]', { hasText: 'Total: 4' }).waitFor();
  await page.locator('.lang-switch button[data-lang="tr"]').click();
  await page.locator('[data-view="sla_at_risk"]', { hasText: 'SLA riskte' }).waitFor();
});

test('phone width: the inbox fits 360 px', async () => {
  const phone = await newPage(browser, { width: 360, height: 740, errors });
  await phone.clock.setFixedTime(at(70));
  await login(phone, server.url, ADMIN);
  await phone.goto(server.url + '/app/tickets?view=open');
  await phone.locator(`[data-ticket="${ids.a}"] .sla-badge`).waitFor();
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth) <= 360);
  await shot(phone, 'phone-inbox.png', false);
  await phone.context().close();
});

test('"show more" pages with the cursor', async () => {
  for (let i = 0; i < 52; i++) await ticket('Sipariş sorusu ' + (i + 1), `q${i}@example.com`, { priority: 'low' });
  await page.goto(server.url + '/app/tickets?view=open');
  await page.locator('[data-region="total"]', { hasText: 'Toplam: 56' }).waitFor();
  assert.equal(await page.locator('.ticket-row').count(), 50);
  await page.locator('[data-action="more"]').click();
  await eventually(async () => (await page.locator('.ticket-row').count()) === 56, 5000, '56 rows');
  assert.equal(await page.locator('[data-action="more"]').count(), 0);
  assert.equal(new Set(await rowIds()).size, 56, 'no row twice');
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
