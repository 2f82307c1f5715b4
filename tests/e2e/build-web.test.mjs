// scripts/build-web.mjs and the modules' contribution points, without the binary: the same sources give the same
// bytes; a plugins folder whose modules have no UI is fine; what the build refuses (a key defined twice, a module
// reaching into web/ or another module by a relative path, a web/<app>/ without its manifest) fails with a clear
// message; and the bundles built with only the test module tests/plugins/web/hello (ticketing absent) run in
// Chromium, served by page.route with a stub API: its page is the home page, its nav item, admin screen, panel,
// shortcut, styles and customer page show, a page that throws is contained, and nothing else breaks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './server.mjs';
import { launch, newPage } from './ui-lib.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'destek-build-web-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/* Runs build-web.mjs; resolves to {status, stdout, stderr, out} (out: the output folder). */
function build(name, plugins) {
  const out = path.join(tmp, name);
  const args = [path.join(repoRoot, 'scripts/build-web.mjs')];
  if (plugins) args.push('--plugins', plugins);
  args.push(out);
  const r = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out };
}

function files(dir) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/* A plugins folder under tmp made of copies of the given module folders and extra files ({relative path: text}). */
function pluginsDir(name, copies, extra = {}) {
  const dir = path.join(tmp, name);
  for (const from of copies) fs.cpSync(from, path.join(dir, path.basename(from)), { recursive: true });
  for (const [file, text] of Object.entries(extra)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const HELLO = path.join(repoRoot, 'tests/plugins/web/hello');
const read = (out, f) => fs.readFileSync(path.join(out, f), 'utf8');

test('the same sources give byte-identical files (the real plugins folder)', () => {
  const a = build('same-a');
  const b = build('same-b');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(files(a.out), files(b.out));
  for (const f of files(a.out)) assert.ok(fs.readFileSync(path.join(a.out, f)).equals(fs.readFileSync(path.join(b.out, f))), f);
  // ticketing is in: its strings and its portal pages are bundled.
  assert.match(read(a.out, 'assets/app.js'), /"nav\.inbox"/);
  assert.match(read(a.out, 'assets/portal.js'), /\/t\/\{number\}/);
});

test('modules without UI contribute nothing: a plugins folder with no web/ anywhere builds the core alone', () => {
  const dir = pluginsDir('bare', [path.join(repoRoot, 'plugins/lua'), path.join(repoRoot, 'tests/plugins/web/nothing')]);
  const r = build('bare', dir);
  assert.equal(r.status, 0, r.stderr);
  const js = read(r.out, 'assets/app.js');
  assert.doesNotMatch(js, /"nav\.inbox"|\/app\/tickets/, 'no ticketing in the bundle');
  assert.match(js, /"nav\.admin"/, 'the core is there');
  assert.doesNotMatch(read(r.out, 'assets/portal.js'), /\/contact|\/t\/\{/);
  const missing = build('missing', path.join(tmp, 'no-such-folder'));
  assert.equal(missing.status, 0, 'no plugins folder at all: the core alone');
});

test('a key defined by two sources fails the build, naming both files', () => {
  const dir = pluginsDir('dup', [HELLO], {
    'again/i18n/agent/en.json': '{"hello.title": "Again"}', 'again/i18n/agent/tr.json': '{"hello.title": "Yine"}',
  });
  const r = build('dup', dir);
  assert.notEqual(r.status, 0);
  // The modules are merged in name order, so "again" comes first and hello's key is the second definition.
  assert.match(r.stderr, /hello\/i18n\/agent\/en\.json: the key "hello\.title" is already defined by .*again\/i18n\/agent\/en\.json/);
  const core = pluginsDir('dup-core', [], { 'again/i18n/agent/en.json': '{"nav.admin": "x"}', 'again/i18n/agent/tr.json': '{"nav.admin": "x"}' });
  assert.match(build('dup-core', core).stderr, /"nav\.admin" is already defined by web\/agent\/i18n\/en\.json/);
});

test('a module\'s strings need every language with the same keys', () => {
  const one = pluginsDir('one-lang', [], { 'x/i18n/portal/en.json': '{"x.a": "A"}' });
  assert.match(build('one-lang', one).stderr, /x\/i18n\/portal\/tr\.json is missing/);
  const differ = pluginsDir('differ', [], { 'x/i18n/portal/en.json': '{"x.a": "A", "x.b": "B"}', 'x/i18n/portal/tr.json': '{"x.a": "A"}' });
  assert.match(build('differ', differ).stderr, /x\/i18n\/portal\/tr\.json: no "x\.b"/);
});

test('a module reaches shared code only through the alias, and never another module', () => {
  const up = pluginsDir('climb', [], {
    'x/web/agent/index.js': "import { api } from '../../../../../web/agent/api.js';\nexport const routes = [];\nconsole.log(api);\n",
  });
  assert.match(build('climb', up).stderr, /x\/web\/agent\/index\.js imports \.\.\/.*outside its module.*@destek\/agent/s);
  const wrong = pluginsDir('wrong-alias', [], { 'x/web/portal/index.js': "import { h } from '@destek/agent';\nexport const pages = [h];\n" });
  assert.match(build('wrong-alias', wrong).stderr, /@destek\/agent: the portal's shared code is '@destek\/portal'/);
  const noManifest = pluginsDir('no-manifest', [], { 'x/web/agent/page.js': 'export const a = 1;\n' });
  assert.match(build('no-manifest', noManifest).stderr, /x\/web\/agent\/ has no index\.js/);
});

// ---- in the browser: only the test module ----

let browser;
let hello;
const ADMIN = { id: 1, email: 'admin@example.com', name: 'Ayşe Yılmaz', role: 'admin', lang: 'en', active: true };

before(async () => {
  hello = build('hello', pluginsDir('only-hello', [HELLO, path.join(repoRoot, 'plugins/lua')]));
  browser = await launch();
});
after(async () => { if (browser) await browser.close(); });

/* A page of a new context whose requests to http://destek.test are answered from the build and a stub API. */
async function stubbed(user, errors) {
  const page = await newPage(browser, { locale: 'en-GB', errors });
  await page.route('http://destek.test/**', (route) => {
    const url = new URL(route.request().url());
    const p = url.pathname;
    const json = (status, body) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
    if (p === '/api/v1/me') return user ? json(200, { user, csrf_token: 'x' }) : json(401, { error: { code: 'unauthenticated', message: '' } });
    if (p.startsWith('/api/')) return json(200, { items: [], next_cursor: null });
    const file = p.startsWith('/assets/') ? p.slice(1) : p.startsWith('/hello/') || p === '/contact' ? 'portal.html' : 'index.html';
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
    return route.fulfill({ status: 200, contentType: type, body: fs.readFileSync(path.join(hello.out, file)) });
  });
  return page;
}

test('without ticketing: the test module\'s page is the home page, with its nav item, slot panel and shortcut', async () => {
  assert.equal(hello.status, 0, hello.stderr);
  const errors = [];
  const page = await stubbed(ADMIN, errors);
  await page.goto('http://destek.test/app');
  await page.locator('[data-region="hello"] h1', { hasText: 'Hello page' }).waitFor();
  assert.deepEqual(await page.locator('.mainnav a').evaluateAll((as) => as.map((a) => a.dataset.nav)), ['hello', 'admin']);
  assert.equal(await page.locator('[data-nav="hello"]').getAttribute('class'), 'is-active');
  assert.equal(await page.locator('[data-slot="hello.side"] [data-panel="hello.count"]').count(), 1);
  // Its styles come after the core's.
  assert.equal(await page.locator('.hello').evaluate((el) => getComputedStyle(el).borderLeftColor), 'rgb(1, 2, 3)');
  // Its shortcut works and the help lists it with the core's "?".
  await page.keyboard.press('h');
  await page.locator('[data-field="panel"]', { hasText: 'Pressed h 1 times' }).waitFor();
  await page.keyboard.press('?');
  assert.deepEqual(await page.locator('[data-region="shortcuts"] kbd').allTextContents(), ['h', '?']);
  await page.keyboard.press('Escape');
  // A route with a parameter, and the most literal route before it.
  await page.goto('http://destek.test/app/hello/Ada');
  await page.locator('[data-field="greeting"]', { hasText: 'Hello, Ada!' }).waitFor();
  await page.goto('http://destek.test/app/hello/broken');
  await page.locator('main .alert', { hasText: 'This page could not be shown' }).waitFor();
  assert.equal(await page.locator('.topbar [data-nav="hello"]').count(), 1, 'the shell stays');
  // An address nobody claims shows the home page, as /app does.
  await page.goto('http://destek.test/app/tickets/42');
  await page.locator('[data-region="hello"]').waitFor();
  // Admin: the core's screens and the module's, in their order; none of ticketing's.
  await page.goto('http://destek.test/app/admin');
  await page.locator('.admin-tabs a.is-active[data-tab="users"]').waitFor();
  assert.deepEqual(await page.locator('.admin-tabs a').evaluateAll((as) => as.map((a) => a.dataset.tab)),
    ['users', 'tokens', 'webhooks', 'hello', 'settings', 'plugins']);
  await page.locator('.admin-tabs a[data-tab="hello"]').click();
  await page.locator('[data-region="hello-admin"]').waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('without ticketing: an agent sees no admin item and an "admins only" notice there', async () => {
  const errors = [];
  const page = await stubbed({ ...ADMIN, id: 2, role: 'agent' }, errors);
  await page.goto('http://destek.test/app/admin/hello');
  await page.locator('[data-region="forbidden"]').waitFor();
  assert.deepEqual(await page.locator('.mainnav a').evaluateAll((as) => as.map((a) => a.dataset.nav)), ['hello']);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('without ticketing: the portal shows the test module\'s page, and "not found" for /contact', async () => {
  const errors = [];
  const page = await stubbed(null, errors);
  await page.goto('http://destek.test/hello/Ada?lang=tr');
  await page.locator('#hello-title', { hasText: 'Merhaba Ada!' }).waitFor();
  await page.goto('http://destek.test/contact');
  await page.locator('#nf-title').waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});
