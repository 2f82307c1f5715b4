// Browser tests of the admin screens that had only an API: ikas and IdeaSoft order sources (made and edited through
// the screen, secrets never shown back, deleted unless orders came from them), the chat shops with the snippet to
// copy, and the reports' "Rebuild" button.
// An agent sees none of them, and the API refuses the agent too.
// Screenshots: build/screenshots/order-sources-platforms.png, chat-shops.png, reports-rebuild.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ADMIN, desk, eventually, launch, login, newPage, shot } from './ui-lib.mjs';

let server, api, browser, page;
const errors = [];
const AGENT = { email: 'ajan@example.com', name: 'Can Demir', password: 'agent password 1' };

before(async () => {
  ({ server, api } = await desk());
  await api('POST', '/users', { ...AGENT, role: 'agent' });
  browser = await launch();
  page = await newPage(browser, { errors });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await login(page, server.url, ADMIN);
});

after(async () => {
  try { if (browser) await browser.close(); } finally { if (server) await server.stop(); }
});

test('order sources: an ikas and an IdeaSoft shop made and edited on the screen; secrets written, never shown', async () => {
  await page.goto(server.url + '/app/admin/order_sources');
  const form = page.locator('form[data-form="order-source"]');
  await page.locator('.admin-screen .row-actions button').first().click();
  await form.locator('#order-source-kind').selectOption('ikas');
  await form.locator('#order-source-name').fill('ikas Mağaza');
  await form.locator('#order-source-webhook_secret').fill('ikas-gizli-1');
  assert.equal(await form.locator('#order-source-api_url').count(), 0, 'ikas needs no shop address');
  await form.locator('#order-source-webhook_secret').press('Enter');
  const ikas = page.locator('article[data-kind="ikas"]');
  await ikas.waitFor();
  assert.match(await ikas.locator('[data-field="webhook-url"]').textContent(), /\/api\/v1\/order-sources\/\d+\/webhook$/);

  // IdeaSoft: the shop address and the access token are required (checked before anything is sent).
  await page.locator('.admin-screen .row-actions button').first().click();
  await form.locator('#order-source-kind').selectOption('ideasoft');
  await form.locator('#order-source-name').fill('IdeaSoft Mağaza');
  await form.locator('#order-source-webhook_secret').fill('idea-gizli-1');
  await form.locator('[data-action="save"]').click();
  await form.locator('[data-error-for="api_url"]').waitFor();
  await form.locator('#order-source-api_url').fill('https://magaza.myideasoft.com');
  await form.locator('#order-source-api_key').fill('erisim-anahtari-1');
  await form.locator('#order-source-client_id').fill('istemci-42');
  await form.locator('[data-action="save"]').click();
  const idea = page.locator('article[data-kind="ideasoft"]');
  await idea.waitFor();
  assert.match(await idea.textContent(), /magaza\.myideasoft\.com/);

  // Edit: the refresh token written, the secrets left blank keep theirs; the form says "set", never the value.
  await idea.locator('[data-action="edit"]').click();
  assert.equal(await form.locator('#order-source-webhook_secret').inputValue(), '');
  assert.equal(await form.locator('#order-source-client_id').inputValue(), 'istemci-42');
  await form.locator('#order-source-refresh_token').fill('yenileme-1');
  await form.locator('[data-action="save"]').click();
  await form.waitFor({ state: 'detached' });
  const stored = (await api('GET', '/order-sources')).items.find((s) => s.kind === 'ideasoft');
  assert.equal(stored.has_refresh_token, true);
  assert.equal(stored.has_webhook_secret, true);
  assert.equal(stored.client_id, 'istemci-42');
  const html = await page.content();
  for (const secret of ['ikas-gizli-1', 'idea-gizli-1', 'erisim-anahtari-1', 'yenileme-1']) assert.ok(!html.includes(secret), secret);
  await page.locator('[data-filter="outcome"]').waitFor();   // the delivery log is there for every kind
  await shot(page, 'order-sources-platforms.png');
  assert.deepEqual(errors, []);
});

test('order sources: deleting one no order came from; one with orders stays (the reason in the dialog)', async () => {
  const ikas = (await api('GET', '/order-sources')).items.find((s) => s.kind === 'ikas');
  const data = JSON.stringify({ id: 'o-1', orderNumber: 7001, status: 'CREATED', orderPaymentStatus: 'PAID', currencyCode: 'TRY',
    totalFinalPrice: 10, orderedAt: 1793966400000, updatedAt: 1793966460000, customer: { email: 'zeynep@example.com' },
    orderLineItems: [], shippingLines: [], orderPackages: [] });
  const res = await fetch(ikas.webhook_url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: 'd-1', scope: 'store/order/created', data,
      signature: crypto.createHmac('sha256', 'ikas-gizli-1').update(data).digest('hex') }) });
  assert.equal(res.status, 200, await res.text());
  await page.locator('[data-action="refresh"]').click();
  await page.locator('tr[data-outcome="kept"]').waitFor();
  await page.locator(`article[data-source="${ikas.id}"] [data-action="delete"]`).click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await page.locator('[data-region="confirm"] .alert').filter({ hasText: /Etkin/ }).waitFor();   // orders.source_in_use
  await page.keyboard.press('Escape');
  // The IdeaSoft shop's log line (a refused delivery) goes with it: a new source may get its id again.
  const ideaSrc = (await api('GET', '/order-sources')).items.find((s) => s.kind === 'ideasoft');
  assert.equal((await fetch(ideaSrc.webhook_url, { method: 'POST', body: '{"id":1}' })).status, 401);
  const logOf = async () => (await api('GET', `/order-deliveries?source_id=${ideaSrc.id}`)).items.length;
  await eventually(async () => (await logOf()) === 1, 5000, 'the refused delivery logged');
  const idea = page.locator('article[data-kind="ideasoft"]');
  await idea.locator('[data-action="delete"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').press('Enter');
  await idea.waitFor({ state: 'detached' });
  assert.deepEqual((await api('GET', '/order-sources')).items.map((s) => s.kind), ['ikas']);
  assert.equal(await logOf(), 0);
  assert.deepEqual(errors, []);
});

test('chat shops: made on the screen, its secret shown once, the snippet copied; the origins edited; deleted', async () => {
  await page.goto(server.url + '/app/admin/chat_shops');
  await page.locator('.admin-screen .row-actions button').first().click();
  const form = page.locator('form[data-form="chat-shop"]');
  await form.locator('#chat-shop-name').fill('Örnek Mağaza');
  await form.locator('#chat-shop-origins').fill('https://shop.example\nhttps://www.shop.example');
  await form.locator('[data-action="save"]').click();
  const secret = await page.locator('[data-region="secret"] [data-secret]').inputValue();
  assert.match(secret, /^[\w-]{40,}$/);
  await page.locator('[data-region="secret"] [data-action="done"]').click();
  const card = page.locator('article[data-shop]');
  const shop = (await api('GET', '/chat/shops')).items[0];
  assert.deepEqual(shop.origins, ['https://shop.example', 'https://www.shop.example']);
  await card.locator('[data-action="copy-snippet"]').click();
  await card.locator('[data-note="copied"]').filter({ hasText: /./ }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `<script src="${shop.snippet.match(/src="([^"]+)"/)[1]}" data-site-key="${shop.site_key}" async></script>`);
  assert.match(copied, /\/chat\/widget\.js"/);
  assert.ok(!(await page.content()).includes(secret), 'the identity secret is not shown again');
  await card.locator('[data-action="edit"]').click();
  await form.locator('#chat-shop-origins').fill('https://yeni.example');
  await form.locator('#chat-shop-origins').press('Tab');
  await form.locator('[data-action="save"]').press('Enter');
  await card.locator('[data-field="origins"]').filter({ hasText: 'https://yeni.example' }).waitFor();
  await shot(page, 'chat-shops.png');
  await card.locator('[data-action="delete"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').press('Enter');
  await card.waitFor({ state: 'detached' });
  assert.deepEqual((await api('GET', '/chat/shops')).items, []);
  assert.deepEqual(errors, []);
});

test('reports: an admin rebuilds after confirming and sees each kind\'s result; an agent has no button and the API refuses', async () => {
  await page.goto(server.url + '/app/reports');
  await page.locator('[data-action="rebuild"]').click();
  await page.locator('[data-region="confirm"] [data-action="confirm"]').click();
  await page.locator('[data-note="rebuild"][data-kinds~="ticket"]').waitFor();
  assert.match(await page.locator('[data-note="rebuild"]').textContent(), /Destek masası: \d+ ms'de 0 kayıt/);
  await shot(page, 'reports-rebuild.png', false);
  assert.deepEqual(errors, []);

  const agentPage = await newPage(browser, { errors });
  await login(agentPage, server.url, AGENT);
  await agentPage.goto(server.url + '/app/reports');
  await agentPage.locator('.reports-page h1').waitFor();
  assert.equal(await agentPage.locator('[data-action="rebuild"]').count(), 0);
  await agentPage.goto(server.url + '/app/admin/chat_shops');
  await agentPage.locator('main').waitFor();
  assert.equal(await agentPage.locator('form[data-form="chat-shop"], article[data-shop]').count(), 0);
  for (const [method, p] of [['POST', '/reports/rebuild'], ['GET', '/chat/shops'], ['POST', '/chat/shops'],
    ['DELETE', '/chat/shops/1'], ['GET', '/order-sources'], ['PATCH', '/order-sources/1'], ['DELETE', '/order-sources/1']]) {
    // The role is checked before anything else (core/http.c): the agent's own session gets 403 forbidden.
    const got = await agentPage.evaluate(async ([m, q]) => {
      const res = await fetch('/api/v1' + q, { method: m, headers: { 'Content-Type': 'application/json' },
        body: m === 'GET' || m === 'DELETE' ? undefined : '{"name":"x"}' });
      return [res.status, (await res.json()).error.code];
    }, [method, p]);
    assert.deepEqual(got, [403, 'forbidden'], `${method} ${p}`);
  }
  await agentPage.context().close();
});
