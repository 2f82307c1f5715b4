// Browser test of the agents' app against the real binary: first-admin setup, language switch (TR ↔ EN,
// remembered per user and per browser), sign-out, sign-in with a wrong and a right password.
// Runs Debian's Chromium through playwright-core (no browser download). Screenshots go to build/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, startServer } from './server.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'build/screenshots');
const ADMIN = { email: 'ayse@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba' };

let server;
let browser;
let page;
const consoleErrors = [];
const pageErrors = [];

// Chromium logs every non-2xx fetch as a console error; these ones the app expects and handles.
function expectedFailure(message) {
  const where = (message.location() && message.location().url) || '';
  return /status of 401/.test(message.text()) && /\/api\/v1\/(me|auth\/login)$/.test(where);
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (message) => {
    if (message.type() === 'error' && !expectedFailure(message)) {
      consoleErrors.push(`${message.text()} (${(message.location() || {}).url || '?'})`);
    }
  });
  page.on('pageerror', (error) => pageErrors.push(String(error && error.stack || error)));
});

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    if (server) await server.stop();
  }
});

const h1 = () => page.locator('h1');
const shot = (name) => page.screenshot({ timeout: 30000, path: path.join(SHOTS, name), fullPage: true });
const htmlLang = () => page.evaluate(() => document.documentElement.lang);

async function pickLang(code) {
  const button = page.locator(`.lang-switch button[data-lang="${code}"]`);
  await button.click();
  await assert.doesNotReject(button.and(page.locator('[aria-pressed="true"]')).waitFor());
}

test('the page is served with a CSP that forbids inline scripts', async () => {
  const res = await fetch(server.url + '/app');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^text\/html/);
  const csp = res.headers.get('content-security-policy') || '';
  assert.match(csp, /script-src 'self'/, 'CSP: ' + csp);
  const scriptSrc = (csp.match(/(?:^|;)\s*script-src([^;]*)/) || [])[1] || '';
  assert.doesNotMatch(scriptSrc, /unsafe-inline|unsafe-eval/, 'CSP: ' + csp);
  const body = await res.text();
  assert.doesNotMatch(body, /<script(?![^>]*\ssrc=)[^>]*>/i, 'index.html has an inline script');
});

test('without a session the app sends visitors to sign in, with a setup hint', async () => {
  await page.goto(server.url + '/app');
  await page.waitForURL(server.url + '/login');
  await h1().filter({ hasText: 'Giriş yap' }).waitFor();
  assert.equal(await htmlLang(), 'tr', 'navigator.language tr-TR gives Turkish');
  await page.getByText('Henüz yönetici hesabı yok').waitFor();
});

test('setup creates the first admin and lands in the app', async () => {
  await page.goto(server.setupUrl);
  await h1().filter({ hasText: 'İlk yöneticiyi oluşturun' }).waitFor();
  await shot('setup.png');

  // The form checks its fields before sending anything.
  await page.getByRole('button', { name: 'Hesabı oluştur' }).click();
  await page.locator('#email-error', { hasText: 'Bu alan zorunludur.' }).waitFor();
  await page.fill('#email', ADMIN.email);
  await page.fill('#name', ADMIN.name);
  await page.fill('#password', 'kısa');
  await page.getByRole('button', { name: 'Hesabı oluştur' }).click();
  await page.locator('#password-error', { hasText: '8 ile 1024 karakter' }).waitFor();

  await page.fill('#password', ADMIN.password);
  await page.getByRole('button', { name: 'Hesabı oluştur' }).click();
  await page.waitForURL(server.url + '/app');
  await h1().filter({ hasText: 'Gelen kutusu' }).waitFor();
  await page.getByRole('heading', { name: 'Burada talep yok' }).waitFor();
  await page.locator('.topbar .user-name', { hasText: ADMIN.name }).waitFor();
  assert.equal(await page.locator('.user-role').textContent(), 'Yönetici');
  assert.ok(!page.url().includes('token='), 'the setup token is gone from the address bar');
  await shot('app-tr.png');
});

test('the language switches TR ↔ EN and is remembered for the user', async () => {
  await pickLang('en');
  await h1().filter({ hasText: 'Inbox' }).waitFor();
  await page.getByRole('heading', { name: 'No tickets here' }).waitFor();
  assert.equal(await htmlLang(), 'en');
  assert.equal(await page.locator('.user-role').textContent(), 'Administrator');

  await page.reload();
  await h1().filter({ hasText: 'Inbox' }).waitFor();
  assert.equal(await htmlLang(), 'en');
  await shot('app-en.png');

  await pickLang('tr');
  await h1().filter({ hasText: 'Gelen kutusu' }).waitFor();
  await page.reload();
  await h1().filter({ hasText: 'Gelen kutusu' }).waitFor();
  assert.equal(await htmlLang(), 'tr');

  // The choice belongs to the user: the API has it too.
  const me = await page.evaluate(() => fetch('/api/v1/me').then((r) => r.json()));
  assert.equal(me.user.lang, 'tr');
});

test('the app fits a 360 px wide phone', async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  await h1().filter({ hasText: 'Gelen kutusu' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.locator('[data-action="logout"]').waitFor({ state: 'visible' });
  await shot('app-phone.png');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('sign-out ends the session', async () => {
  await page.locator('[data-action="logout"]').click();
  await page.waitForURL(server.url + '/login');
  await page.getByText('Oturumunuz kapatıldı.').waitFor();
  await page.goto(server.url + '/app');
  await page.waitForURL(server.url + '/login');
  await h1().filter({ hasText: 'Giriş yap' }).waitFor();
  assert.equal(await page.getByText('Henüz yönetici hesabı yok').count(), 0, 'no setup hint once an admin exists');
  await shot('login.png');
});

test('a visitor’s language choice is kept in the browser', async () => {
  await pickLang('en');
  await h1().filter({ hasText: 'Sign in' }).waitFor();
  await page.reload();
  await h1().filter({ hasText: 'Sign in' }).waitFor();
  assert.equal(await htmlLang(), 'en');
});

test('a wrong password is refused with a message, the right one signs in', async () => {
  await page.fill('#email', ADMIN.email.toUpperCase());
  await page.fill('#password', 'not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email address or password.' }).waitFor();
  assert.equal(page.url(), server.url + '/login');
  await shot('login-error.png');

  await page.fill('#password', ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.url + '/app');
  // The user's own language (Turkish, saved above) wins over the sign-in page's.
  await h1().filter({ hasText: 'Gelen kutusu' }).waitFor();
  await page.locator('.topbar .user-name', { hasText: ADMIN.name }).waitFor();
});

test('no console errors and no CSP violations', async () => {
  const violations = await page.evaluate(() => window.__cspViolations);
  assert.deepEqual(violations, []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(consoleErrors, []);
});
