// Browser test of live updates (web/agent/live.js over GET /api/v1/stream) against the real binary: a ticket that
// arrives by e-mail appears in an open inbox without a reload and well before any poll could have fetched it; the
// page reconnects after a server restart (showing, meanwhile, that live updates are off); two agents on one ticket
// see each other viewing and typing, and a reply by one reaches the other's thread without losing their draft.
// Screenshots: build/screenshots/live-{presence,offline,offline-phone}.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { destekBin, repoRoot, startServer } from './server.mjs';
import { apiCall } from './ui-lib.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'build/screenshots');
const ADMIN = { email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba' };
const AGENT = { email: 'mehmet@example.com', name: 'Mehmet Kaya', password: 'temsilci-parola-1' };
// The inbox polls every 10 s while its socket is down and every 120 s while it is up: anything that shows up
// faster than this came over the socket.
const LIVE_MS = 4000;

let dataDir;
let server;
let port;
let browser;
let bearer;
const pageErrors = [];

const call = (method, p, body, auth) => apiCall(server.url, method, p, body, auth);

/* Pipes a raw message to `destek mail import --data DIR`, which hands it to the running server. */
function importMail(raw) {
  return new Promise((resolve, reject) => {
    const child = spawn(destekBin(), ['mail', 'import', '--data', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`mail import exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
    child.stdin.end(raw);
  });
}

function mail(subject, from) {
  return Buffer.from([`From: Deniz Arslan <${from}>`, 'To: destek@shop.example', `Subject: ${subject}`,
    'Date: Mon, 23 Nov 2026 10:00:00 +0300', `Message-ID: <live-${process.pid}-${Date.now()}@customer.example>`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '',
    'Merhaba, siparişim iki haftadır gelmedi.', ''].join('\r\n'));
}

async function newContext(who) {
  const context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
  await page.goto(server.url + '/login');
  await page.locator('#email').fill(who.email);
  await page.locator('#password').fill(who.password);
  await page.locator('form button[type="submit"]').click();
  await page.locator('.inbox').waitFor();
  return { context, page };
}

/* Waits until the inbox says it updates live, i.e. its socket is open. */
const liveInbox = (page, ms = 10000) => page.getByText('Liste, talepler geldikçe ve değiştikçe kendiliğinden güncellenir.')
  .waitFor({ timeout: ms });

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'destek-e2e-live-'));
  server = await startServer({ dataDir });
  port = new URL(server.url).port;
  const token = new URL(server.setupUrl).searchParams.get('token');
  const s = await call('POST', '/setup', { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password, lang: 'tr' });
  const admin = { cookie: s.cookie, csrf: s.json.csrf_token };
  bearer = (await call('POST', '/tokens', { name: 'e2e-live', scopes: ['agent'] }, admin)).json.secret;
  await call('PATCH', '/settings', { 'ticketing.undo_seconds': 0 }, admin);   // replies go at once here (tests/e2e/agentday.test.mjs has the window)
  await call('POST', '/users', { ...AGENT, role: 'agent', lang: 'tr' }, admin);
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

const createTicket = (subject) => call('POST', '/tickets', { subject, body: 'Merhaba',
  customer: { email: 'musteri@example.com', name: 'Müşteri' } }, { bearer }).then((r) => r.json);

test('a ticket created by e-mail appears live in the inbox', async (t) => {
  const { context, page } = await newContext(ADMIN);
  await liveInbox(page);
  await page.locator('.ticket-row, .empty').first().waitFor();
  const started = Date.now();
  const res = await importMail(mail('Kargom nerede? (canlı)', 'deniz@example.com'));
  assert.equal(res.result, 'created');
  await page.locator(`[data-ticket="${res.ticket_id}"]`).waitFor({ timeout: LIVE_MS });
  t.diagnostic(`mail import to row shown: ${Date.now() - started} ms`);
  assert.equal(await page.locator(`[data-ticket="${res.ticket_id}"] .subject`).textContent(), 'Kargom nerede? (canlı)');
  assert.equal(await page.locator('.live-status').count(), 0, 'no "live updates off" note while connected');
  await context.close();
});

test('after a server restart the page reconnects by itself, and says live updates are off meanwhile', async () => {
  const { context, page } = await newContext(ADMIN);
  await liveInbox(page);
  await server.stop();
  const note = page.locator('.live-status');
  await note.waitFor({ timeout: 10000 });
  assert.equal((await note.textContent()).trim(), 'Canlı güncelleme yok');
  assert.match(await note.getAttribute('title'), /yeniden bağlanılıyor/);
  await page.screenshot({ timeout: 30000, path: path.join(SHOTS, 'live-offline.png') });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ timeout: 30000, path: path.join(SHOTS, 'live-offline-phone.png') });
  await page.setViewportSize({ width: 1280, height: 800 });

  server = await startServer({ dataDir, expectSetup: false, args: ['--listen', '127.0.0.1:' + port] });
  assert.equal(new URL(server.url).port, port, 'the server came back on the same port');
  await note.waitFor({ state: 'detached', timeout: 40000 });
  await liveInbox(page, 5000);
  const fresh = await createTicket('Yeniden bağlandıktan sonra');
  await page.locator(`[data-ticket="${fresh.id}"]`).waitFor({ timeout: LIVE_MS });
  await context.close();
});

test('two agents on one ticket see each other viewing and typing; a reply reaches the other without losing a draft', async () => {
  const ticket = await createTicket('Çarpışma denemesi');
  const a = await newContext(ADMIN);
  const b = await newContext(AGENT);
  await a.page.goto(server.url + '/app/tickets/' + ticket.id);
  await b.page.goto(server.url + '/app/tickets/' + ticket.id);
  const presenceA = a.page.locator('[data-region="presence"]');
  const presenceB = b.page.locator('[data-region="presence"]');
  await presenceA.getByText('Mehmet Kaya bu talebe bakıyor.').waitFor();
  await presenceB.getByText('Ayşe Yılmaz bu talebe bakıyor.').waitFor();

  // B starts a reply: A sees it; B's draft stays while A's reply lands in B's thread.
  await b.page.locator('textarea').click();
  await b.page.keyboard.type('Merhaba, kargonuz yola çıktı');
  await presenceA.getByText('Mehmet Kaya yanıt yazıyor.').waitFor({ timeout: 5000 });
  await a.page.screenshot({ timeout: 30000, path: path.join(SHOTS, 'live-presence.png') });
  await a.page.locator('textarea').fill('Kargo takip numaranız TR123.');
  await a.page.locator('[data-action="send"]').click();
  await b.page.locator('.thread').getByText('Kargo takip numaranız TR123.').waitFor({ timeout: LIVE_MS });
  assert.equal(await b.page.locator('textarea').inputValue(), 'Merhaba, kargonuz yola çıktı', 'the draft survives the refresh');

  // Typing stops a few seconds after the last key; leaving the ticket is told at once.
  await presenceA.getByText('Mehmet Kaya bu talebe bakıyor.').waitFor({ timeout: 15000 });
  await b.page.locator('a.back').click();
  await b.page.locator('.inbox').waitFor();
  await presenceA.waitFor({ state: 'detached', timeout: 5000 });
  await a.context.close();
  await b.context.close();
  assert.deepEqual(pageErrors, []);
});
