// Shared by the inbox and ticket-view browser tests: a server with an admin (and the API as that admin), headless
// Chromium, sign-in, screenshots, PNG files made on the spot, and `destek mail import` against the running server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { destekBin, repoRoot, startServer } from './server.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
export const SHOTS = path.join(repoRoot, 'build/screenshots');
export const ADMIN = { email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba' };

/* Starts a server (options as startServer), creates the first admin, turns off the out-of-hours auto-reply (so
 * that nothing depends on the time of day) and the replies' undo window (ticketing.undo_seconds; options.undoSeconds
 * keeps one) and returns {server, api, admin}. api(method, path, body, auth?)
 * resolves to the JSON body and throws on a non-2xx answer; auth defaults to the admin's session. */
export async function desk(options) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const server = await startServer(options);
  const token = new URL(server.setupUrl).searchParams.get('token');
  let admin = null;
  async function api(method, p, body, auth = admin) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && auth.cookie) { headers.Cookie = auth.cookie; if (method !== 'GET') headers['X-CSRF-Token'] = auth.csrf; }
    const res = await fetch(server.url + '/api/v1' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw Object.assign(new Error(`${method} ${p}: ${res.status} ${text}`), { status: res.status });
    const json = text ? JSON.parse(text) : null;
    if (json && json.csrf_token && res.headers.get('set-cookie')) {
      return { ...json, _auth: { cookie: res.headers.get('set-cookie').split(';')[0], csrf: json.csrf_token } };
    }
    return json;
  }
  const s = await api('POST', '/setup', { token, email: ADMIN.email, name: ADMIN.name, password: ADMIN.password, lang: 'tr' }, null);
  admin = s._auth;
  const triggers = await api('GET', '/triggers');
  for (const tr of triggers.items.filter((x) => /business_hours/.test(JSON.stringify(x.conditions || {})))) {
    await api('PATCH', '/triggers/' + tr.id, { active: false });
  }
  await api('PATCH', '/settings', { 'ticketing.undo_seconds': (options && options.undoSeconds) || 0 });
  return { server, api, admin };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/* A page of a new context (Turkish, desktop unless width says otherwise); page errors are collected in errors. */
export async function newPage(browser, { width = 1280, height = 800, locale = 'tr-TR', errors } = {}) {
  const context = await browser.newContext({ locale, viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  if (errors) page.on('pageerror', (e) => errors.push(String((e && e.stack) || e)));
  return page;
}

export async function login(page, url, who) {
  await page.goto(url + '/login');
  await page.locator('#email').fill(who.email);
  await page.locator('#password').fill(who.password);
  await page.locator('form button[type="submit"]').click();
  await page.locator('.inbox').waitFor();
}

// Every screenshot in these tests gets 30 s instead of the page's 10: it is a picture for review, not a timed check,
// and a busy machine (the suite runs two files at a time beside the builds) renders a full page slowly.
export const shot = (page, name, fullPage = true) => page.screenshot({ timeout: 30000, path: path.join(SHOTS, name), fullPage });

/* A w x h PNG filled with one colour ([r, g, b]). */
export function png(w, h, [r, g, b]) {
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) row.set([r, g, b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/* Files a raw mail with `destek mail import` (the running server does the work); resolves to its JSON answer. */
export function importMail(server, raw) {
  return new Promise((resolve, reject) => {
    const child = spawn(destekBin(), ['mail', 'import', '--data', server.dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`mail import exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
    child.stdin.end(raw);
  });
}

/* Resolves once fn() returns a truthy value (polled), or fails after ms. */
export async function eventually(fn, ms = 10000, what = 'condition') {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) assert.fail(what + ' did not happen within ' + ms + ' ms');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/* A JSON call to baseUrl/api/v1<p> as auth ({cookie, csrf} of a session, or {bearer}); rejects with an Error
 * carrying .status when the answer is not 2xx. Resolves {json, cookie} (the session cookie a sign-in set). */
export async function apiCall(baseUrl, method, p, body, auth) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && auth.cookie) { headers.Cookie = auth.cookie; if (method !== 'GET') headers['X-CSRF-Token'] = auth.csrf; }
  if (auth && auth.bearer) headers.Authorization = 'Bearer ' + auth.bearer;
  const res = await fetch(baseUrl + '/api/v1' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw Object.assign(new Error(`${method} ${p}: ${res.status} ${text}`), { status: res.status });
  const json = text && (res.headers.get('content-type') || '').includes('json') ? JSON.parse(text) : null;
  return { json, cookie: (res.headers.get('set-cookie') || '').split(';')[0] || null };
}
