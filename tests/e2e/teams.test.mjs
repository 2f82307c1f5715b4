// Browser test of colleagues and teams (issue 11): an agent who is not an admin sees colleagues' names — not "#id"
// — in the inbox rows, the assignee filter, the ticket's assignee and assignment menu (the team's members first)
// and its history, with an online dot; the admin's Teams screen sets a team's members, round-robin and load cap;
// the inbox's "My teams" view lists the tickets of the agent's teams with its count; the plugins screen lists a
// plugin that failed to load, with the reason. Screenshots: build/screenshots/teams-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, desk, launch, login, newPage, shot } from './ui-lib.mjs';

let server;
let api;
let browser;
let page;        // the agent's
let adminPage;
const errors = [];
const AGENT = { email: 'selin@example.com', name: 'Selin Aksoy', password: 'selin-parola-123' };
const OTHER = { email: 'burak@example.com', name: 'Burak Öztürk', password: 'burak-parola-123' };
const ids = {};

let dataDir;

before(async () => {
  // A Lua plugin with a syntax error, for the plugins screen.
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'destek-e2e-teams-'));
  fs.mkdirSync(path.join(dataDir, 'plugins'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'plugins', 'kirik.lua'), 'return { name = "kirik", version = "1.0.0" ,, }\n');
  ({ server, api } = await desk({ dataDir }));
  ids.agent = (await api('POST', '/users', { ...AGENT, role: 'agent' })).id;
  ids.other = (await api('POST', '/users', { ...OTHER, role: 'agent' })).id;
  ids.team = (await api('POST', '/teams', { name: 'Kargo Ekibi' })).id;
  ids.otherTeam = (await api('POST', '/teams', { name: 'Fatura Ekibi' })).id;
  const tk = (subject, email) => api('POST', '/tickets', { subject, body: 'Merhaba', customer: { email, name: email.split('@')[0] } });
  ids.t1 = (await tk('Kargom nerede?', 'musteri1@example.com')).id;
  ids.t2 = (await tk('Fatura yanlış', 'musteri2@example.com')).id;
  ids.t3 = (await tk('İade istiyorum', 'musteri3@example.com')).id;
  await api('POST', `/tickets/${ids.t1}/assign`, { assignee_id: ids.other });
  await api('PATCH', `/tickets/${ids.t2}`, { team_id: ids.otherTeam });
  browser = await launch();
  adminPage = await newPage(browser, { errors });
  await login(adminPage, server.url, ADMIN);
  page = await newPage(browser, { errors });
  await login(page, server.url, AGENT);
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an agent sees colleagues by name, not #id: inbox rows, the assignee filter, the ticket, its menu and history', async () => {
  await page.goto(server.url + '/app/tickets?view=open');
  const row = page.locator(`[data-ticket="${ids.t1}"] .assignee`);
  await row.filter({ hasText: OTHER.name }).waitFor();
  assert.ok(!(await page.locator('.ticket-list').textContent()).includes('#' + ids.other));
  assert.equal(await row.locator('.online-dot').getAttribute('data-online'), 'false');   // Burak never signed in
  const filter = page.locator('select[data-filter="assignee"]');
  assert.ok((await filter.textContent()).includes(OTHER.name));
  assert.ok((await filter.textContent()).includes(ADMIN.name));
  await page.goto(server.url + '/app/tickets/' + ids.t1);
  await page.locator('[data-field="assignee"]', { hasText: OTHER.name }).waitFor();
  const menu = page.locator('select[data-field="assign-to"]');
  await menu.waitFor();
  assert.ok((await menu.textContent()).includes(OTHER.name));
  // The admin is online (signed in above): the menu says so.
  assert.ok((await menu.textContent()).includes(ADMIN.name + ' · Çevrimiçi'));
  await page.locator('[data-region="history"] summary').click();
  const history = await page.locator('[data-region="history"]').textContent();
  assert.ok(history.includes(OTHER.name), history);
  assert.ok(!history.includes('#' + ids.other), history);
  await shot(page, 'teams-agent-ticket.png');
});

test('admin → Teams: members, round-robin and a load cap are saved', async () => {
  await adminPage.goto(server.url + '/app/admin/teams');
  const card = adminPage.locator('form.team-card[data-team="Kargo Ekibi"]');
  await card.waitFor();
  await card.locator(`label[data-member="${AGENT.name}"] input`).check();
  await card.locator(`label[data-member="${OTHER.name}"] input`).check();
  assert.equal(await card.locator(`label[data-member="${ADMIN.name}"] .online-dot`).getAttribute('data-online'), 'true');
  await card.locator('input[type="checkbox"][name$="round_robin"]').check();
  await card.locator('input[name$="max_open"]').fill('0');
  await card.locator('[data-action="save-team"]').click();
  await card.locator('[data-error-for="max_open"]').waitFor();   // checked before anything is sent
  assert.deepEqual((await api('GET', `/teams/${ids.team}`)).members, []);
  await card.locator('input[name$="max_open"]').fill('5');
  await card.locator('[data-action="save-team"]').click();
  await card.locator('[data-region="team-saved"]').waitFor();
  const team = await api('GET', `/teams/${ids.team}`);
  assert.deepEqual(team.members.map((m) => m.name).sort(), [OTHER.name, AGENT.name].sort());
  assert.equal(team.round_robin, true);
  assert.equal(team.max_open, 5);
  await shot(adminPage, 'teams-admin.png');
  // An agent may not open it.
  await page.goto(server.url + '/app/admin/teams');
  assert.equal(await page.locator('form.team-card').count(), 0);
});

test('"My teams": the tickets of my teams, with its count; the ticket\'s menu lists the team first', async () => {
  await api('PATCH', `/tickets/${ids.t3}`, { team_id: ids.team });   // round-robin: the online member (Selin) gets it
  assert.equal((await api('GET', `/tickets/${ids.t3}`)).assignee_id, ids.agent);
  await page.goto(server.url + '/app/tickets?view=my_teams');
  await page.locator('[data-view="my_teams"].is-active .count[data-count="1"]').waitFor();
  await page.locator(`[data-ticket="${ids.t3}"]`).waitFor();
  assert.equal(await page.locator(`[data-ticket="${ids.t2}"]`).count(), 0);   // another team's
  assert.equal(await page.locator(`[data-ticket="${ids.t1}"]`).count(), 0);   // no team
  assert.equal(await page.locator(`[data-ticket="${ids.t3}"] .assignee`).textContent(), AGENT.name);
  await shot(page, 'teams-my-teams.png');
  await page.goto(server.url + '/app/tickets/' + ids.t3);
  const group = page.locator('select[data-field="assign-to"] optgroup').first();
  await group.waitFor({ state: 'attached' });
  assert.equal(await group.getAttribute('label'), 'Ekip: Kargo Ekibi');
  assert.ok((await group.textContent()).includes(OTHER.name));
});

test('admin → Plugins: a plugin that failed to load is listed with the reason', async () => {
  await adminPage.goto(server.url + '/app/admin/plugins');
  const row = adminPage.locator('tr[data-plugin="kirik"][data-state="failed"]');
  await row.waitFor();
  assert.ok((await row.textContent()).includes('Yüklenemedi'));
  assert.match(await row.locator('[data-field="error"]').textContent(), /kirik\.lua:1:/);
  assert.ok(await adminPage.locator('tr[data-plugin="ticketing"][data-state="loaded"]').count() === 1);
  await shot(adminPage, 'teams-plugins-failed.png');
});

test('no page errors', () => {
  assert.deepEqual(errors, []);
});
