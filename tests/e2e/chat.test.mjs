// Browser test of the live chat (plugins/chat): a visitor on a shop's page of another origin, on a 360 px phone,
// chats through the widget with an agent who answers from the ticket view in the app; a network cut loses and
// doubles nothing; outside business hours the widget turns into the contact form.
// Screenshots: build/screenshots/chat-{visitor,agent,offline}.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { desk, launch, login, newPage, eventually, ADMIN, SHOTS } from './ui-lib.mjs';

let server, api, admin, browser, shop, page, pagePort;
const errors = [];

before(async () => {
  ({ server, api, admin } = await desk());
  await api('PATCH', '/settings', { 'ticketing.undo_seconds': 0 });   // the reply is sent at once (no undo wait)
  browser = await launch();
  page = http.createServer((req, res) => {
    const lang = req.url.includes('en') ? 'en' : 'tr';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="${lang}"><head><meta name="viewport" content="width=device-width">` +
      `<style>button{background:red!important;font-size:40px!important}</style></head><body><h1>Örnek Mağaza</h1>` +
      `<script src="${server.url}/chat/widget.js" data-site-key="${shop.site_key}" async></script></body></html>`);
  });
  await new Promise((r) => page.listen(0, '127.0.0.1', r));
  pagePort = page.address().port;
  shop = await api('POST', '/chat/shops', { name: 'Örnek Mağaza', origins: [`http://127.0.0.1:${pagePort}`] });
  const a = await api('POST', '/helpcentre/articles', { texts: { tr: { title: 'Siparişim nerede kaldı?', body: 'Kargo takip numaranızla bakın.' } } });
  await api('POST', `/helpcentre/articles/${a.id}/publish`, {});
});

after(async () => {
  if (browser) await browser.close();
  if (page) page.close();
  if (server) await server.stop();
});

async function chatTicket(email) {
  const list = await api('GET', '/tickets?channel=chat&limit=100');
  return list.items.find((t) => t.customer && t.customer.email === email);
}

test('a visitor on another origin chats with an agent in the ticket view; a network cut loses and doubles nothing', async () => {
  const agent = await newPage(browser, { errors });
  await login(agent, server.url, ADMIN);

  const visitor = await newPage(browser, { width: 360, height: 740, errors });
  await visitor.goto(`http://127.0.0.1:${pagePort}/`);
  const launcher = visitor.getByRole('button', { name: 'Canlı destek' });
  await launcher.click();
  const dialog = visitor.getByRole('dialog', { name: 'Canlı destek' });
  await dialog.waitFor();
  const box = await dialog.boundingBox();
  assert.ok(box.width <= 360 && box.x >= 0, `the panel fits a 360 px phone: ${JSON.stringify(box)}`);
  await visitor.getByLabel('Adınız').fill('Elif');
  await visitor.getByLabel('E-posta adresiniz').fill('elif@example.com');
  await visitor.getByLabel('Mesajınız').fill('Merhaba, <b>siparişim</b> nerede?');
  // The help centre's articles while the first message is written (a link to this server's page).
  const offered = visitor.getByRole('list', { name: 'Şu yazılar yanıtı verebilir:' }).getByRole('link', { name: 'Siparişim nerede kaldı?' });
  await offered.waitFor({ timeout: 5000 });
  assert.match(await offered.getAttribute('href'), new RegExp(`^${server.url}/help/a/`));
  await visitor.getByLabel('Mesajınız').focus();
  await visitor.keyboard.press('Enter');
  const log = visitor.getByRole('log', { name: 'Mesajlar' });
  await log.locator('.m.visitor:not(.pending)').filter({ hasText: '<b>siparişim</b>' }).waitFor();

  const ticket = await eventually(() => chatTicket('elif@example.com'), 5000, 'the chat ticket');
  await agent.goto(`${server.url}/app/tickets/${ticket.id}`);
  await agent.locator('.thread').getByText('Merhaba, <b>siparişim</b> nerede?').waitFor();
  await log.getByText('Okundu').waitFor({ timeout: 8000 });   // the agent's read mark, shown to the visitor
  await agent.locator('textarea').fill('Merhaba Elif, kargonuz yarın teslim edilecek.');
  await agent.locator('[data-action="send"]').click();
  const t0 = Date.now();
  await log.locator('.m.agent').filter({ hasText: 'kargonuz yarın teslim edilecek' }).waitFor({ timeout: 5000 });
  console.log(`agent reply reached the widget in ${Date.now() - t0} ms (websocket)`);
  // The widget talks over its websocket (the poll is the fallback).
  const metrics = async () => (await fetch(server.url + '/metrics', { headers: { Cookie: admin.cookie } })).text();
  assert.match(await metrics(), /destek_public_sockets 1\n/);
  // The ticket view's chat panel: the visitor typing, then their read mark.
  const panel = agent.locator('[data-panel="chat"]');
  await panel.getByText('Sohbet açık').waitFor();
  await visitor.getByLabel('Mesajınız').type('Teşekkürler');
  await panel.getByText('Ziyaretçi yazıyor…').waitFor({ timeout: 5000 });
  await panel.getByText('Ziyaretçi son mesajı okudu').waitFor({ timeout: 5000 });
  await visitor.getByLabel('Mesajınız').fill('');
  await visitor.screenshot({ timeout: 30000, path: path.join(SHOTS, 'chat-visitor.png') });
  await agent.screenshot({ timeout: 30000, path: path.join(SHOTS, 'chat-agent.png') });

  // The network goes away while the visitor writes; the message goes out once it is back, once.
  await visitor.context().setOffline(true);
  await visitor.getByLabel('Mesajınız').fill('Bağlantım koptu, bu gitti mi?');
  await visitor.keyboard.press('Enter');
  await log.locator('.m.pending').waitFor();
  await new Promise((r) => setTimeout(r, 2500));
  await visitor.context().setOffline(false);
  await log.locator('.m.visitor:not(.pending)').filter({ hasText: 'Bağlantım koptu' }).waitFor({ timeout: 10000 });
  await agent.locator('.thread').getByText('Bağlantım koptu, bu gitti mi?').waitFor({ timeout: 10000 });
  const full = await api('GET', `/tickets/${ticket.id}`);
  assert.deepEqual(full.messages.map((m) => m.body),
    ['Merhaba, <b>siparişim</b> nerede?', 'Merhaba Elif, kargonuz yarın teslim edilecek.', 'Bağlantım koptu, bu gitti mi?']);
  assert.equal(await log.locator('.m').count(), 3, 'nothing doubled in the widget');
  console.log((await metrics()).match(/destek_public_socket\S* \d+/g).join(', '));
  // A file, as the portal takes them: on the ticket as an attachment.
  await visitor.locator('input[type="file"]').setInputFiles({ name: 'fatura.pdf', mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await log.locator('.m.visitor:not(.pending)').filter({ hasText: '📎 fatura.pdf' }).waitFor({ timeout: 5000 });
  await agent.locator('.thread').getByText('fatura.pdf').first().waitFor({ timeout: 10000 });
  // The visitor ends the chat and rates it (the feedback module keeps the score on the ticket).
  await visitor.getByRole('button', { name: 'Sohbeti bitir' }).click();
  await visitor.getByRole('group', { name: 'Nasıldık?' }).waitFor({ timeout: 5000 });
  await visitor.getByRole('button', { name: '5 - Çok iyi' }).click();
  await log.getByText('Puanınız için teşekkürler.').waitFor({ timeout: 5000 });
  const rated = await api('GET', `/feedback/csat?ticket_id=${ticket.id}`);
  assert.match(JSON.stringify(rated), /"score":5/);
  // Keyboard: Escape closes the panel and gives the focus back to the launcher.
  await visitor.keyboard.press('Escape');
  assert.equal(await launcher.evaluate((b) => b.getRootNode().activeElement === b), true);
  assert.deepEqual(errors, []);
});

test('outside business hours the widget is the contact form, in the page\'s language', async () => {
  await api('PATCH', '/settings', { 'chat.hours': '8 00:00-00:01' });
  const visitor = await newPage(browser, { width: 360, height: 740, errors, locale: 'en-US' });
  await visitor.goto(`http://127.0.0.1:${pagePort}/en`);
  await visitor.getByRole('button', { name: 'Live chat' }).click();
  await visitor.getByText('We are not online right now').waitFor();
  await visitor.getByLabel('Your e-mail').fill('night@example.com');
  await visitor.getByLabel('Your message').fill('Please call me back tomorrow.');
  await visitor.getByRole('button', { name: 'Send message' }).click();
  await visitor.getByText('Thank you, we got your message').waitFor();
  await visitor.screenshot({ timeout: 30000, path: path.join(SHOTS, 'chat-offline.png') });
  const list = await api('GET', '/tickets?channel=web&limit=50');
  assert.ok(list.items.some((t) => t.customer && t.customer.email === 'night@example.com' && t.tags.includes('chat_offline')));
  await api('PATCH', '/settings', { 'chat.hours': '' });
  assert.deepEqual(errors, []);
});
