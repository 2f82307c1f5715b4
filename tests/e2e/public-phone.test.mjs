// Every page a customer reaches without an account, on a 360 px phone in Turkish and in English, as a stranger
// would meet it: no horizontal scrolling, no console errors or failed scripts (a CSP refusal counts), no i18n key
// shown instead of text, the language switch leads to the other language, and hostile text typed by a customer
// (prefilled form fields, a search, a return's comment, a ticket's subject) shows as text and runs nothing.
// Pages: /contact (prefilled), /t/{number}?sig=, /track (form and an order), /returns (form, items, a return's
// page), /help (home, article, search), /feedback/csat/{id} (from the mail), /feedback/review/{id} (an unknown
// link's page), /u/{token} (an unknown link's page).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, startServer } from './server.mjs';
import { apiCall } from './ui-lib.mjs';
import { startSmtp } from '../api/mail-helpers.mjs';
import { mailText } from '../api/feedback-helpers.mjs';
import { PNG, request as returnRequest } from '../api/returns-helpers.mjs';

const { chromium } = createRequire(path.join(repoRoot, 'web/package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PHONE = { width: 360, height: 740 };
// Runs if it is ever parsed as markup or followed as a link: each sets window.__xss.
const HOSTILE = '<img src=x onerror="window.__xss=1">"\'><script>window.__xss=2</script> İstanbul ışık şüğöç';

let server, browser, admin, bearer, smtp;
const call = (method, p, body, auth = { bearer }) => apiCall(server.url, method, p, body, auth);
const pages = [];   // [{name, url(lang), post?}]

before(async () => {
  smtp = await startSmtp();
  server = await startServer();
  const token = new URL(server.setupUrl).searchParams.get('token');
  const s = await call('POST', '/setup', { token, email: 'admin@example.com', name: 'Ayşe Yılmaz', password: 'doğru at pil zımba', lang: 'tr' }, {});
  admin = { cookie: s.cookie, csrf: s.json.csrf_token };
  bearer = (await call('POST', '/tokens', { name: 'e2e', scopes: ['admin'] }, admin)).json.secret;
  await call('PATCH', '/settings', { 'ticketing.public_form_limit': 1000, 'mail.smtp_url': smtp.url, 'mail.from': 'destek@anadolu.example',
    'mail.public_url': server.url, 'feedback.csat_delay_minutes': 0, 'events.retry_base_seconds': 1 }, admin);
  // A ticket from the web form with a hostile subject; its signed page.
  const made = await call('POST', '/public/tickets', { name: HOSTILE, email: 'zeynep@example.com', subject: 'Kargo ' + HOSTILE,
    body: 'Mesaj ' + HOSTILE }, {});
  const number = Number(made.json.reference.slice(1));
  const list = (await call('GET', '/tickets?limit=5')).json.items;
  const tk = (await call('GET', '/tickets/' + list.find((x) => x.reference === made.json.reference).id)).json;
  // An order (for /track and /returns) and a return with a hostile comment.
  await call('PUT', '/orders/TR5001', { status: 'completed', payment_status: 'paid', total_minor: 150000, placed_at: '2025-12-28T10:00:00Z',
    customer: { email: 'zeynep@example.com', phone: '0532 111 22 33', name: 'Zeynep Şahin' },
    items: [{ sku: 'GOMLEK-M', name: 'Keten Gömlek Uzun Kollu Çok Uzun Ürün Adı Satırı Taşırmasın', variant: 'M', quantity: 2, price_minor: 25000 }],
    shipments: [{ carrier: 'Yurtiçi Kargo', tracking_number: 'YK123456789012345678', status: 'Delivered', at: '2026-01-01T10:00:00+03:00' }] });
  const order2 = JSON.parse(JSON.stringify({ status: 'completed', payment_status: 'paid', total_minor: 50000, placed_at: '2025-12-28T10:00:00Z',
    customer: { email: 'zeynep@example.com', name: 'Zeynep Şahin' }, items: [{ sku: 'KUPA', name: 'Kupa', quantity: 1, price_minor: 50000 }],
    shipments: [{ carrier: 'Aras Kargo', tracking_number: 'AR1', status: 'Delivered', at: '2026-01-01T10:00:00+03:00' }] }));
  await call('PUT', '/orders/TR5002', order2);
  const ret = await returnRequest(server, 'TR5002', 'zeynep@example.com', [{ line: 1, qty: 1, reason: 'defective', comment: HOSTILE,
    photos: [{ name: 'a.png', type: 'image/png', data: PNG }] }], { lang: 'tr' });
  assert.equal(ret.status, 303, ret.text);
  const retPath = ret.location.replace(/&lang=\w+/, '');
  // The customer's message on the return's page shows in its history.
  const sig = new URL(ret.location, server.url).searchParams.get('sig');
  const msg = await fetch(`${server.url}/returns/r/${ret.code}/message`, { method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ sig, lang: 'tr', body: HOSTILE }) });
  assert.ok(msg.status < 400, String(msg.status));
  // An article in both languages.
  const a = (await call('POST', '/helpcentre/articles', { slug: 'iade-nasil', texts: {
    tr: { title: 'İade nasıl yapılır?', body: 'Ürünü **14 gün** içinde iade edin. Çok uzun bir bağlantı: https://example.com/' + 'a'.repeat(120) },
    en: { title: 'How do I return an item?', body: 'Return it within **14 days**.' } } })).json;
  await call('POST', `/helpcentre/articles/${a.id}/publish`, {});
  // A solved ticket's "How did we do?" mail: its link.
  const solved = (await call('POST', '/tickets', { subject: 'Kargom nerede?', body: 'Gelmedi.', channel: 'phone',
    customer: { email: 'csat@example.com', name: 'Elif Öz', lang: 'tr' } })).json;
  await call('PATCH', '/tickets/' + solved.id, { status: 'solved' });
  let csat = null;
  for (let i = 0; i < 150 && !csat; i++) {
    for (const m of smtp.mails()) {
      const found = mailText(m).match(/https?:\/\/[^\s"<>]+\/feedback\/csat\/\d+\?score=4&(?:amp;)?sig=[^\s"<>&]+/);
      if (found) csat = new URL(found[0].replace(/&amp;/g, '&'));
    }
    if (!csat) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(csat, 'the CSAT mail');
  const q = new URLSearchParams({ name: HOSTILE, subject: HOSTILE, email: 'a@example.com', order: 'TR5001' });
  pages.push(
    { name: 'contact', url: (l) => `/contact?${q}&lang=${l}`, portal: true, values: { '#f-name': HOSTILE, '#f-subject': HOSTILE } },
    { name: 'ticket', url: (l) => `/t/${number}?sig=${tk.public_sig}&lang=${l}`, portal: true, expect: ['Kargo <img src=x', 'İstanbul ışık şüğöç'] },
    { name: 'track', url: (l) => `/track?lang=${l}`, fill: { '#number': 'TR5001', '#contact': 'zeynep@example.com' },
      expect: ['YK123456789012345678'] },
    { name: 'returns', url: (l) => `/returns?lang=${l}`, fill: { '[name=order]': 'TR5001', '[name=contact]': 'zeynep@example.com' },
      expect: ['Keten Gömlek'] },
    { name: 'return', url: (l) => `${retPath}&lang=${l}`, expect: ['İstanbul ışık şüğöç', 'Kupa'] },
    { name: 'help', url: (l) => `/help?lang=${l}` },
    { name: 'help-article', url: (l) => `/help/a/iade-nasil?lang=${l}` },
    { name: 'help-search', url: (l) => `/help/search?q=${encodeURIComponent(HOSTILE)}&lang=${l}` },
    { name: 'csat', url: (l) => `${csat.pathname}${csat.search}&lang=${l}` },
    { name: 'review-unknown', url: (l) => `/feedback/review/999?sig=x&lang=${l}` },
    { name: 'unsubscribe-unknown', url: () => `/u/${'x'.repeat(30)}`, bilingual: true },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  try { if (browser) await browser.close(); } finally {
    if (server) await server.stop();
    if (smtp) await smtp.stop();
  }
});

async function open(lang) {
  const context = await browser.newContext({ viewport: PHONE, locale: lang === 'tr' ? 'tr-TR' : 'en-US', isMobile: true, hasTouch: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + String((e && e.message) || e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 404\b/.test(m.text())) problems.push('console: ' + m.text());
  });
  return { context, page, problems };
}

/* The checks of the page as it is now; where names it in the failures. */
async function look(page, where, lang, p, failures) {
  const r = await page.evaluate(() => ({
    over: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
      .slice(0, 3).map((e) => e.tagName + '.' + e.className),
    xss: window.__xss || 0,
    text: document.body.innerText,
    lang: document.documentElement.lang,
  }));
  if (r.over > 0) failures.push(`${where}: scrolls sideways by ${r.over} px (${r.wide.join(', ')})`);
  if (r.xss) failures.push(`${where}: hostile text ran (${r.xss})`);
  // A key shown instead of its text: "form.title", "t.privacy_notice", "{{x}}", "st_requested".
  const keys = r.text.match(/\{\{[^}]*\}\}|\b[a-z]+(?:\.[a-z_]+)+\b(?![.@\w/-])|\b(?:st|reason|outcome)_[a-z_]+\b/g) || [];
  const real = keys.filter((k) => !/^(?:example\.com|[a-z]+\.(?:com|example|net|org|tr))$/.test(k) && k !== 'window.__xss');
  if (real.length) failures.push(`${where}: keys shown: ${real.join(', ')}`);
  if (!p.bilingual && r.lang !== lang) failures.push(`${where}: <html lang="${r.lang}">`);
  if (p.expect && !p.expect.every((x) => r.text.includes(x))) failures.push(`${where}: does not show ${p.expect.join(', ')}`);
}

for (const lang of ['tr', 'en']) {
  test(`every public page at 360 px in ${lang}: fits, no errors, no raw keys, hostile text inert, the switch works`, async () => {
    const failures = [];
    // Three pages at a time: each waits mostly on the server and the network, not on the processor.
    const queue = [...pages];
    await Promise.all([0, 1, 2].map(async () => {
      for (let p = queue.shift(); p; p = queue.shift()) await visit(p);
    }));
    assert.deepEqual(failures.sort(), []);

    async function visit(p) {
      const { context, page, problems } = await open(lang);
      const where = `${p.name} (${lang})`;
      try {
        await page.goto(server.url + p.url(lang));
        if (p.portal) await page.waitForSelector('main .card');
        await look(page, where, lang, { ...p, expect: p.fill ? null : p.expect }, failures);
        for (const [sel, v] of Object.entries(p.values || {})) {
          if ((await page.inputValue(sel)) !== v) failures.push(`${where}: ${sel} is not prefilled as given`);
        }
        if (p.fill) {
          // A form's page, then what it answers.
          for (const [sel, v] of Object.entries(p.fill)) await page.fill(sel, v);
          await Promise.all([page.waitForNavigation(), page.locator('form button[type=submit]').first().click()]);
          await look(page, where + ' answered', lang, p, failures);
        }
        // The language switch: a link or a button naming the other language leads to a page in it.
        if (!p.bilingual) {
          const other = lang === 'tr' ? 'en' : 'tr';
          const sw = page.locator(`a[hreflang=${other}], button[data-lang=${other}], a[href*="lang=${other}"]`).first();
          if (!(await sw.count())) failures.push(`${where}: no switch to ${other}`);
          else {
            await sw.click();
            await page.waitForFunction((l) => document.documentElement.lang === l, other, { timeout: 20000 })
              .catch(() => failures.push(`${where}: the switch did not lead to ${other}`));
            const after = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            if (after > 0) failures.push(`${where} -> ${other}: scrolls sideways by ${after} px`);
          }
        }
        for (const e of problems) failures.push(`${where}: ${e}`);
      } catch (e) {
        failures.push(`${where}: ${e.message.split('\n')[0]}`);
      } finally {
        await context.close();
      }
    }
  });
}
