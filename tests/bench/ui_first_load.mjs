// The inbox's first load in headless Chromium, driven by tests/bench/ui_first_load.sh (which starts the server):
//   node tests/bench/ui_first_load.mjs URL EMAIL PASSWORD RUNS
// Each run is a new browser context (empty cache, no service worker), signed in through the API first so that
// the page opens straight on the inbox; the time is from the navigation's start (performance.timeOrigin) to the
// moment 50 ticket rows are in the DOM. Prints one JSON line: {runs: [{total, ttfb, dcl, list}], view}.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(path.join(root, 'web/package.json'))('playwright-core');
const [url, email, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg) || 7;
const ROWS = 50;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-extensions'],
});
try {
  // The default view (all open) when it has 50 tickets, else every ticket.
  const probe = await browser.newContext();
  const login = await probe.request.post(url + '/api/v1/auth/login', { data: { email, password } });
  if (!login.ok()) throw new Error('sign-in failed: ' + login.status() + ' ' + (await login.text()));
  const open = await (await probe.request.get(url + '/api/v1/tickets/count?status=new,open')).json();
  const view = open.count >= ROWS ? '/app/tickets?view=open' : '/app/tickets?status=new,open,pending,on_hold,solved,closed';
  await probe.close();

  const results = [];
  for (let i = 0; i < runs + 1; i++) {          // the first run warms the server's caches and is not counted
    const context = await browser.newContext({ locale: 'tr-TR', viewport: { width: 1280, height: 800 } });
    const res = await context.request.post(url + '/api/v1/auth/login', { data: { email, password } });
    if (!res.ok()) throw new Error('sign-in failed: ' + res.status());
    await context.addInitScript((rows) => {
      const done = () => {
        if (window.__rowsAt || document.querySelectorAll('.ticket-row').length < rows) return;
        window.__rowsAt = performance.now();
      };
      new MutationObserver(done).observe(document, { childList: true, subtree: true });
    }, ROWS);
    const page = await context.newPage();
    await page.goto(url + view, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__rowsAt, null, { timeout: 30000, polling: 10 });
    const m = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const list = performance.getEntriesByType('resource').find((r) => /\/api\/v1\/tickets\?/.test(r.name));
      return { total: window.__rowsAt, ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd,
        list: list ? list.responseEnd - list.startTime : null };
    });
    if (i > 0) results.push(m);
    await context.close();
  }
  console.log(JSON.stringify({ view, runs: results }));
} finally {
  await browser.close();
}
