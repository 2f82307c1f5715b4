// Browser tests of the reports dashboard (plugins/reports/web/agent): the help desk's figures with a uPlot chart,
// a click on a table row and on a chart's bar opening the tickets behind them, and on to a ticket; the business-hours
// choice; a phone's width without sideways scrolling; Turkish and English; the newer sections (live chat and WhatsApp,
// campaigns, per agent and per team with their medians) and a drill-down from one of them.
// Screenshots: build/screenshots/reports-*.png.
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

test('the newer sections: chat, campaigns, per agent and per team with medians; an agent\'s row opens their tickets', async () => {
  // An agent in a team with two answered tickets; a live chat answered by the desk; a campaign sent to two people.
  const team = await api('POST', '/teams', { name: 'Kargo Ekibi' });
  const agent = await api('POST', '/users', { email: 'rapor-ajan@example.com', name: 'Rapor Ajan', role: 'agent',
    password: 'agent password 1' });
  for (const id of ids.slice(0, 2)) await api('PATCH', `/tickets/${id}`, { assignee_id: agent.id, team_id: team.id });
  const ORIGIN = 'https://shop.example';
  const shop = await api('POST', '/chat/shops', { name: 'Örnek Mağaza', origins: [ORIGIN] });
  const chat = async (p, body, token) => {
    const res = await fetch(`${server.url}/api/v1${p}`, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Origin: ORIGIN, ...(token ? { 'X-Chat-Token': token } : {}) } });
    assert.ok(res.ok, `${p}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  };
  const session = await chat('/chat/session', { site_key: shop.site_key, lang: 'tr' });
  await chat('/chat/messages', { client_id: 'e2e-1', body: 'Siparişim nerede?', email: 'sohbet@example.com', name: 'Sohbet Müşteri' },
    session.token);
  const conv = await eventually(async () => (await api('GET', '/reports/drill?kind=conversation&limit=5')).items[0], 15000,
    'the conversation in the reports');
  await api('POST', `/tickets/${conv.id}/messages`, { body: 'Kargoda, yarın sizde.', kind: 'reply' });
  const TEXT = '"Kampanyalardan haberdar olmak istiyorum."';
  const csv = ['contact,channel,status,at,source,text_shown,address,ip,name,lang,tags',
    ...['k1@example.com', 'k2@example.com'].map((e) => [e, 'email', 'ONAY', '2026-10-01T09:00:00Z', 'web_form', TEXT, '',
      '203.0.113.9', 'Ayşe Yılmaz', '', 'vip'].join(','))].join('\r\n') + '\r\n';
  await api('POST', '/campaign-imports', { name: 'liste', csv });
  const camp = await api('POST', '/campaigns', { name: 'Kış indirimi', rules: { tags: ['vip'] }, per_second: 1000,
    subject_tr: 'Merhaba', body_tr: 'İndirim', subject_en: 'Hello', body_en: 'Sale' });
  await api('POST', `/campaigns/${camp.id}/schedule`, {});
  await eventually(async () => {
    const d = await api('GET', '/reports/dashboard');
    const k = d.kinds;
    return k.conversation?.current.durations.frt.n === 1 &&
      k.campaign?.current.by.campaign?.find((r) => r.value === String(camp.id))?.measures.sent?.sum === 2 &&
      k.ticket.current.by.agent?.find((r) => r.value === String(agent.id))?.count === 2;
  }, 20000, 'the chat, the campaign and the agent in the reports');
  const d = await api('GET', '/reports/dashboard');
  const agentRow = d.kinds.ticket.current.by.agent.find((r) => r.value === String(agent.id));

  const page = await newPage(browser, { errors });
  await login(page, server.url, ADMIN);
  await page.goto(`${server.url}/app/reports`);
  // Live chat and WhatsApp: conversations and the first response's median, by channel.
  const conversations = page.locator('[data-kind="conversation"]');
  await conversations.locator('[data-kpi="count"] .reports-kpi-value').waitFor();
  assert.equal((await conversations.locator('[data-kpi="count"] .reports-kpi-value').textContent()).trim(), '1');
  assert.match(await conversations.locator('h2').textContent(), /sohbet/i);
  await conversations.locator('[data-table="conversation.channel"] tr[data-value="chat"]').waitFor();
  // Campaigns: the campaign's row with what was sent.
  const campaigns = page.locator('[data-kind="campaign"]');
  const campRow = campaigns.locator(`[data-table="campaign.campaign"] tr[data-value="${camp.id}"]`);
  await campRow.waitFor();
  assert.match(await campRow.textContent(), /Kış indirimi/);
  assert.match(await campaigns.locator('[data-table="campaign.campaign"] thead').textContent(), /Gönderilen/);
  // Per team and per agent, with the medians' columns.
  const tickets = page.locator('[data-kind="ticket"]');
  const teamRow = tickets.locator(`[data-table="ticket.team"] tr[data-value="${team.id}"]`);
  await teamRow.waitFor();
  assert.match(await teamRow.textContent(), /Kargo Ekibi/);
  const row = tickets.locator(`[data-table="ticket.agent"] tr[data-value="${agent.id}"]`);
  await row.waitFor();
  assert.match(await tickets.locator('[data-table="ticket.agent"] thead').textContent(), /[Mm]edyan/);
  assert.equal((await row.locator('td').nth(1).textContent()).trim(), '2');
  assert.ok(agentRow.measures.frt.median >= 0, 'the agent\'s first-response median is in the data');
  assert.notEqual((await row.locator('td').nth(3).textContent()).trim(), '–', 'the median is shown');
  await row.scrollIntoViewIfNeeded();
  await shot(page, 'reports-sections.png');
  // The drill-down from the agent's row: their two tickets, and on to one.
  await row.locator('a').click();
  await page.waitForURL(new RegExp(`/app/reports/list\\?.*dim=agent&value=${agent.id}`));
  const rows = page.locator('[data-region="drill"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  assert.deepEqual((await rows.evaluateAll((r) => r.map((x) => Number(x.dataset.item)))).sort((a, b) => a - b),
    ids.slice(0, 2).sort((a, b) => a - b));
  await shot(page, 'reports-drill-agent.png');
  await rows.first().locator('a').click();
  await page.waitForURL(/\/app\/tickets\/\d+$/);
  // And from the chat channel's row to the conversation's ticket.
  await page.goto(`${server.url}/app/reports`);
  await page.locator('[data-table="conversation.channel"] tr[data-value="chat"] a').click();
  await page.waitForURL(/kind=conversation&.*dim=channel&value=chat/);
  await page.locator('[data-region="drill"] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-region="drill"] tbody tr').count(), 1);
  await page.locator('[data-region="drill"] tbody tr a').first().click();
  await page.waitForURL(new RegExp(`/app/tickets/${conv.id}$`));
  assert.deepEqual(errors, []);
  await page.context().close();
});
