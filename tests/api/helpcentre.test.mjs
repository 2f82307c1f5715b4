// The help centre (plugins/helpcentre/, a module written in Lua, built in): articles created, translated, published
// now and on a schedule (the helpcentre.publish timer), versions and restore, Turkish search with the host's folding,
// the contact form's suggestions and the deflection beacon, "was this helpful?" as a form post, Markdown whose XSS
// attempts stay inert on the public page, a crawler's view (sitemap.xml, links, 200 and 404), images, the report,
// the API's refusals, and the demo content `destek demo` adds.
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';

import {
  T, assertError, assertSecurityHeaders, cleanup, createUser, eventually, login, request, runCli, setupAdmin,
  startServer, tempDir,
} from './lib.mjs';

let server, admin, agent;
const api = (method, p, body, session = agent) => server.api(method, p, {session, body});
const page = (p, headers = {}) => request(server.url + p, {headers});

/** Creates an article (201) from {slug?, category_id?, texts, publish?}. */
async function article(body) {
  const res = await api('POST', '/api/v1/helpcentre/articles', body);
  assert.equal(res.status, 201, res.text);
  return res.json;
}
const tr = (title, body = 'Metin.', description) => ({tr: {title, body, ...(description ? {description} : {})}});

/** Posts the vote form of an article the way a browser does without JavaScript. */
const vote = (slug, fields) => request(`${server.url}/help/a/${slug}/vote?lang=tr`, {method: 'POST',
  headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(fields).toString()});

let category;

before(async () => {
  server = await startServer();
  admin = await setupAdmin(server);
  const a = await createUser(server, admin, {role: 'agent', name: 'Ayşe Ajan', lang: 'tr'});
  agent = await login(server, a.email, a.password);
  const c = await api('POST', '/api/v1/helpcentre/categories', {slug: 'iade', position: 1,
    texts: {tr: {title: 'İade', description: 'İade ve para iadesi'}, en: {title: 'Returns'}}}, admin);
  assert.equal(c.status, 201, c.text);
  category = c.json;
});

after(async () => {
  await server?.stop();
  await cleanup();
});

describe('articles: create, translate, publish, versions', () => {
  test('a draft is 404 to the public; translated and published it answers in both languages with hreflang', async () => {
    const a = await article({category_id: category.id, texts: tr('İade nasıl yapılır?', '14 gün içinde **iade** edin.')});
    assert.equal(a.slug, 'iade-nasil-yapilir');
    assert.equal(a.status, 'draft');
    assert.equal((await page(`/help/a/${a.slug}`)).status, 404);

    const en = await api('PATCH', `/api/v1/helpcentre/articles/${a.id}`,
      {texts: {en: {title: 'How do I return an item?', body: 'Return it within *14 days*.', description: 'Returns in short'}}});
    assert.equal(en.status, 200, en.text);
    assert.deepEqual(Object.keys(en.json.texts).sort(), ['en', 'tr']);

    const pub = await api('POST', `/api/v1/helpcentre/articles/${a.id}/publish`, {});
    assert.equal(pub.status, 200, pub.text);
    assert.equal(pub.json.status, 'published');

    const trPage = await page(`/help/a/${a.slug}?lang=tr`);
    assert.equal(trPage.status, 200);
    assertSecurityHeaders(trPage, 'the article page');
    assert.match(trPage.text, /<html lang="tr">/);
    assert.match(trPage.text, /<title>İade nasıl yapılır\? · /);
    assert.match(trPage.text, /<strong>iade<\/strong>/);
    assert.match(trPage.text, /<link rel="canonical" href="http:\/\/[^"]+\/help\/a\/iade-nasil-yapilir\?lang&#61;tr">/);
    assert.match(trPage.text, /hreflang="en" href="[^"]+\/help\/a\/iade-nasil-yapilir\?lang&#61;en"/);
    assert.match(trPage.text, /<meta name="description" content="14 gün içinde iade edin\.">/);

    const enPage = await page(`/help/a/${a.slug}`, {'accept-language': 'en-GB,en;q=0.8'});
    assert.equal(enPage.status, 200);
    assert.match(enPage.text, /<html lang="en">/);
    assert.match(enPage.text, /<em>14 days<\/em>/);
    assert.match(enPage.text, /<meta name="description" content="Returns in short">/);
    assert.match(enPage.text, /Was this article helpful\?/);
    const trByHeader = await page(`/help/a/${a.slug}`, {'accept-language': 'tr-TR,tr;q=0.9'});
    assert.match(trByHeader.text, /Bu makale işinize yaradı mı\?/);
  });

  test('an article in one language only: the other language shows it with a note, hreflang names only its own', async () => {
    const a = await article({texts: tr('Sadece Türkçe makale', 'Yalnızca Türkçe.'), publish: true});
    const res = await page(`/help/a/${a.slug}?lang=en`);
    assert.equal(res.status, 200);
    assert.match(res.text, /<html lang="tr">/);
    assert.match(res.text, /not available in your language yet/);
    assert.doesNotMatch(res.text, /hreflang="en"/);
  });

  test('a description written by no one is the text\'s start, cut between characters', async () => {
    const a = await article({texts: tr('Uzun metin', 'ğ'.repeat(300)), publish: true});
    const res = await page(`/help/a/${a.slug}?lang=tr`);
    const m = /<meta name="description" content="([^"]*)">/.exec(res.text);
    assert.equal(m[1], 'ğ'.repeat(80));
    const s = JSON.parse((await page('/help/suggest?q=uzun&lang=tr')).text);
    assert.equal(s.items[0].description, 'ğ'.repeat(80));
  });

  test('every change is a version (who, what); an old version is restored', async () => {
    const a = await article({texts: tr('Kargo ücreti', 'İlk metin.')});
    await api('PATCH', `/api/v1/helpcentre/articles/${a.id}`, {texts: tr('Kargo ücreti', 'İkinci metin.')});
    await api('PATCH', `/api/v1/helpcentre/articles/${a.id}`, {texts: tr('Kargo ücretleri', 'İkinci metin.')});
    const versions = await api('GET', `/api/v1/helpcentre/articles/${a.id}/versions`);
    assert.equal(versions.status, 200, versions.text);
    assert.deepEqual(versions.json.items.map((v) => v.change), ['title', 'body', 'created']);
    assert.ok(versions.json.items.every((v) => v.user_name === 'Ayşe Ajan' && v.lang === 'tr' && v.at > 0));
    const first = versions.json.items[2];
    const restored = await api('POST', `/api/v1/helpcentre/articles/${a.id}/versions/${first.id}/restore`, {});
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.json.texts.tr.body, 'İlk metin.');
    assert.equal(restored.json.texts.tr.title, 'Kargo ücreti');
    const after = await api('GET', `/api/v1/helpcentre/articles/${a.id}/versions`);
    assert.equal(after.json.items[0].change, `restored:${first.id}`);
    assertError(await api('POST', `/api/v1/helpcentre/articles/${a.id}/versions/999999/restore`, {}), 404, 'not_found');
  });

  test('an edit shows at once on the public page, however many workers keep it rendered', async () => {
    const a = await article({texts: tr('Eski başlık', 'Eski metin.'), publish: true});
    for (let i = 0; i < 40; i++) assert.match((await page(`/help/a/${a.slug}?lang=tr`)).text, /Eski başlık/);
    await api('PATCH', `/api/v1/helpcentre/articles/${a.id}`, {texts: tr('Yeni başlık', 'Yeni metin.')});
    for (let i = 0; i < 40; i++) {
      const res = await page(`/help/a/${a.slug}?lang=tr`);
      assert.match(res.text, /Yeni başlık/);
      assert.doesNotMatch(res.text, /Eski/);
    }
    const views = (await api('GET', `/api/v1/helpcentre/articles/${a.id}`)).json.views;
    assert.equal(views, 80, "every view is counted, those served from the host's cache too");
  });

  test('scheduled: 404 until publish_at, then the timer publishes it', async () => {
    const a = await article({texts: tr('Kampanya günleri kargo', 'Kampanya günlerinde kargo 2 gün sürebilir.')});
    const at = Math.floor(Date.now() / 1000) + 2;
    const s = await api('POST', `/api/v1/helpcentre/articles/${a.id}/publish`, {publish_at: at});
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.status, 'scheduled');
    assert.equal(s.json.publish_at, at);
    assert.equal((await page(`/help/a/${a.slug}`)).status, 404);
    const published = await eventually(async () => (await api('GET', `/api/v1/helpcentre/articles/${a.id}`)).json,
      (x) => x.status === 'published', {ms: T(10000)});
    assert.ok(published.published_at >= at, JSON.stringify(published));
    assert.equal((await page(`/help/a/${a.slug}`)).status, 200);
    const events = await server.api('GET', '/api/v1/events?limit=200', {session: admin});
    assert.ok(events.json.items.some((e) => e.event === 'helpcentre.published' && e.subject === `helpcentre_article:${a.id}`));
  });

  test('a schedule moved back to a draft never publishes', async () => {
    const a = await article({texts: tr('Vazgeçilen makale', 'Yayımlanmayacak.')});
    await api('POST', `/api/v1/helpcentre/articles/${a.id}/publish`, {publish_at: Math.floor(Date.now() / 1000) + 1});
    const un = await api('POST', `/api/v1/helpcentre/articles/${a.id}/unpublish`, {});
    assert.equal(un.json.status, 'draft');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await api('GET', `/api/v1/helpcentre/articles/${a.id}`)).json.status, 'draft');
  });

  test('the preview renders Markdown as the page does', async () => {
    const res = await api('POST', '/api/v1/helpcentre/preview', {body: '# Başlık\n\n[bağlantı](javascript:alert(1)) <b>x</b>'});
    assert.equal(res.status, 200, res.text);
    assert.match(res.json.html, /<h1>Başlık<\/h1>/);
    assert.doesNotMatch(res.json.html, /javascript:|<b>/i);
  });

  test('GitHub tables (cmark-gfm), still safe inside cells', async () => {
    const body = '| Bölge | Süre |\n|---|:---:|\n| İstanbul | **1 gün** |\n| <script>x</script> | [a](javascript:alert(1)) |';
    const res = await api('POST', '/api/v1/helpcentre/preview', {body});
    assert.equal(res.status, 200, res.text);
    assert.match(res.json.html, /<table>\s*<thead>\s*<tr>\s*<th>Bölge<\/th>\s*<th align="center">Süre<\/th>/);
    assert.match(res.json.html, /<td>İstanbul<\/td>\s*<td align="center"><strong>1 gün<\/strong><\/td>/);
    assert.doesNotMatch(res.json.html, /<script|javascript:/i);
  });
});

describe('search in Turkish', () => {
  const titles = {
    kullanici: 'Kullanıcı hesabı nasıl açılır?',
    isik: 'Işık ayarları',
    iade: 'İade süresi',
    kargo: 'KARGOLAR ne zaman çıkar?',
    cagri: 'Çağrı merkezine ulaşın',
    draft: 'Taslak kullanıcı makalesi',
  };
  const slugs = {};
  before(async () => {
    for (const [k, title] of Object.entries(titles)) {
      const a = await article({slug: `ara-${k}`, texts: tr(title, `${title} hakkında bilgiler.`), publish: k !== 'draft'});
      slugs[k] = a.slug;
    }
  });

  const found = async (q, lang = 'tr') => {
    const res = await page(`/help/search?q=${encodeURIComponent(q)}&lang=${lang}`);
    assert.equal(res.status, 200);
    return [...res.text.matchAll(/<a href="\/help\/a\/([a-z0-9-]+)\?lang=/g)].map((m) => m[1]);
  };

  for (const [q, key] of [['kullanici', 'kullanici'], ['KULLANICI', 'kullanici'], ['IŞIK', 'isik'], ['ışık', 'isik'],
    ['isik', 'isik'], ['iade', 'iade'], ['İADE', 'iade'], ['kargo', 'kargo'], ['çağrı', 'cagri'], ['cagri', 'cagri'],
    ['CAĞ', 'cagri'], ['kulla', 'kullanici']]) {
    test(`${q} finds ${titles[key]}`, async () => {
      assert.ok((await found(q)).includes(slugs[key]), `${q} -> ${key}`);
    });
  }

  test('drafts are never found; the title ranks first; snippets mark the words', async () => {
    assert.ok(!(await found('taslak')).includes(slugs.draft));
    const res = await page('/help/search?q=kullan%C4%B1c%C4%B1&lang=tr');
    assert.match(res.text, /<mark>Kullanıcı<\/mark>/);
    assert.match(res.text, /<meta name="robots" content="noindex">/);
  });

  test('a snippet is the words a reader sees: no Markdown syntax, no raw HTML, links and images by their text', async () => {
    await article({slug: 'ara-takip', publish: true, texts: tr('Paket izleme', '## Nereden?\n\nSiparişinizi ' +
      '[kargo **takip** sayfasından](https://kargo.example/t?n=1) izleyin. ![Koli fotoğrafı](/x.png)\n\n' +
      '<b onclick="x()">kalın</b> `kod` | a | b |\n|---|---|\n| hücre | *iki* |')});
    const res = await page('/help/search?q=takip&lang=tr');
    const li = /<li><a href="\/help\/a\/ara-takip\?lang=tr">[\s\S]*?<\/li>/.exec(res.text);
    assert.ok(li, res.text);
    assert.match(li[0], /Nereden\? Siparişinizi kargo <mark>takip<\/mark> sayfasından izleyin\. Koli fotoğrafı/);
    assert.doesNotMatch(li[0], /\]\(|\*\*|##|onclick|kargo\.example|x\.png/);
  });

  test('FTS5 syntax typed by a person is only words; a miss is counted for the report', async () => {
    for (const q of ['" OR body:*', 'NEAR(a b)', '*', 'title:iade']) {
      const res = await page(`/help/search?q=${encodeURIComponent(q)}&lang=tr`);
      assert.equal(res.status, 200, q);
    }
    await found('uçan halı siparişi');
    const report = await api('GET', '/api/v1/helpcentre/report');
    assert.ok(report.json.misses.some((m) => m.query === 'uçan halı siparişi' && m.count === 1), report.text);
    assert.ok(report.json.searches >= 1);
  });
});

describe('the contact form: suggestions and deflection', () => {
  let a;
  before(async () => {
    a = await article({slug: 'kargo-ucreti-iadesi', texts: {tr: {title: 'Kargo ücreti iadesi', body: 'Ücretsiz kargo...'},
      en: {title: 'Shipping fee refund', body: 'Free shipping...'}}, publish: true});
    for (let i = 0; i < 3; i++) await article({texts: tr(`Kargo sorusu ${i}`, 'kargo'), publish: true});
    await article({texts: tr('Kargo taslağı', 'kargo')});
  });

  test('up to three published articles, public JSON, the caller\'s language first', async () => {
    const res = await page('/help/suggest?q=kargo%20%C3%BCcreti&lang=tr');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    const {items} = JSON.parse(res.text);
    assert.ok(items.length >= 1 && items.length <= 3, res.text);
    assert.equal(items[0].slug, 'kargo-ucreti-iadesi');
    assert.equal(items[0].url, '/help/a/kargo-ucreti-iadesi?lang=tr&from=contact');
    assert.equal(JSON.parse((await page('/help/suggest?q=kargo&lang=tr')).text).items.length, 3);
    assert.ok(!JSON.parse((await page('/help/suggest?q=taslak')).text).items.some((i) => /taslak/i.test(i.title)));
    assert.deepEqual(JSON.parse((await page('/help/suggest?q=')).text).items, []);
    const en = JSON.parse((await page('/help/suggest?q=shipping%20fee&lang=en')).text);
    assert.equal(en.items[0].lang, 'en');
    assertError(await server.api('GET', `/help/suggest?q=${'x'.repeat(201)}`), 422, 'invalid_field', 'q');
  });

  test('an article opened from a suggestion counts; the contact page\'s beacon counts a deflection', async () => {
    const opened = await page(`/help/a/${a.slug}?lang=tr&from=contact`);
    assert.equal(opened.status, 200);
    const beacon = await request(`${server.url}/help/deflected`, {method: 'POST', headers: {'content-type': 'text/plain'},
      body: a.slug});
    assert.equal(beacon.status, 204, beacon.text);
    const bad = await server.api('POST', '/help/deflected', {rawBody: 'no-such-article', contentType: 'text/plain'});
    assertError(bad, 404, 'not_found');
    const got = (await api('GET', `/api/v1/helpcentre/articles/${a.id}`)).json;
    assert.equal(got.deflections, 1);
    assert.equal(got.suggested, 1);
    // The same visitor again: answered as before, not counted again (one per visitor and article a day).
    assert.equal((await page(`/help/a/${a.slug}?lang=tr&from=contact`)).status, 200);
    for (let i = 0; i < 5; i++) {
      assert.equal((await request(`${server.url}/help/deflected`, {method: 'POST', headers: {'content-type': 'text/plain'},
        body: a.slug})).status, 204);
    }
    const again = (await api('GET', `/api/v1/helpcentre/articles/${a.id}`)).json;
    assert.equal(again.deflections, 1, 'a beacon sent again does not inflate the count');
    assert.equal(again.suggested, 1);
    const report = (await api('GET', '/api/v1/helpcentre/report')).json;
    assert.ok(report.deflections >= 1 && report.suggested >= 1);
  });
});

describe('was this helpful?', () => {
  test('yes and no (+ why) as form posts without JavaScript; one vote per visitor; counted in the report', async () => {
    const a = await article({texts: tr('Fatura nerede?', 'E-arşiv fatura e-postanıza gelir.'), publish: true});
    const b = await article({texts: tr('Kurumsal fatura', 'Vergi numaranızı yazın.'), publish: true});
    const yes = await vote(a.slug, {helpful: 'yes'});
    assert.equal(yes.status, 303, yes.text);
    assert.equal(yes.headers.location, `/help/a/${a.slug}?lang=tr&voted=1#vote`);
    assert.match((await page(yes.headers.location.replace('#vote', ''))).text, /Geri bildiriminiz için teşekkürler/);
    // The same visitor votes again on a: thanked as before, not counted (a script cannot inflate the figures).
    for (let i = 0; i < 3; i++) assert.equal((await vote(a.slug, {helpful: 'no', reason: 'tekrar'})).status, 303);
    assert.equal((await vote(b.slug, {helpful: 'no', reason: 'Kurumsal fatura yazmıyor <b>'})).status, 303);
    const bad = await vote(a.slug, {helpful: 'maybe'});
    assert.equal(bad.status, 422);
    assert.equal(JSON.parse(bad.text).error.field, 'helpful');
    assert.equal((await vote('yok-boyle-makale', {helpful: 'yes'})).status, 404);
    const got = (await api('GET', `/api/v1/helpcentre/articles/${a.id}`)).json;
    assert.equal(got.helpful_yes, 1);
    assert.equal(got.helpful_no, 0);
    assert.equal((await api('GET', `/api/v1/helpcentre/articles/${b.id}`)).json.helpful_no, 1);
    const report = (await api('GET', '/api/v1/helpcentre/report')).json;
    assert.ok(report.reasons.some((r) => r.article_id === b.id && r.reason === 'Kurumsal fatura yazmıyor <b>'));
    assert.ok(!report.reasons.some((r) => r.reason === 'tekrar'));
    assert.equal(typeof report.helpful_pct, 'number');
  });
});

describe('Markdown: XSS attempts stay inert on the public page', () => {
  test('raw HTML, script links, images, autolinks and hostile titles', async () => {
    const body = [
      '<script>alert("raw")</script>',
      '<img src=x onerror="alert(1)">',
      '<a href="javascript:alert(2)">raw link</a>',
      '[link](javascript:alert(3)) [upper](JaVaScRiPt:alert(4)) [vb](vbscript:msgbox(5)) [data](data:text/html;base64,PHNjcmlwdD4=)',
      '[entity](jav&#x09;ascript:alert(6)) [spaced]( javascript:alert(7) ) [file](file:///etc/passwd)',
      '![img](javascript:alert(8)) ![png](data:image/png;base64,iVBORw0KGgo=) ![svg](data:image/svg+xml;base64,PHN2Zz4=)',
      '<javascript:alert(9)> <data:text/html,<script>alert(10)</script>> <vbscript:x>',
      '[ref][r]\n\n[r]: javascript:alert(11)',
      '[ok](https://example.com/a?b=1) ![ok](/help/img/f0123) <https://example.org>',
      '`<script>code</script>`',
    ].join('\n\n');
    const a = await article({slug: 'xss', texts: tr('<script>alert("title")</script> " onmouseover="x', body,
      '"><script>alert("desc")</script>'), publish: true});
    const res = await page(`/help/a/${a.slug}?lang=tr`);
    assert.equal(res.status, 200);
    const html = res.text;
    assert.doesNotMatch(html, /<script(?![^>]*src="\/help\/static\/)/i, 'no script element but the module\'s own');
    assert.doesNotMatch(html, /(href|src|action)\s*=\s*["']?\s*(javascript|vbscript|data|file):/i, 'no scriptable URL');
    assert.ok((html.match(/<a href="">/g) || []).length >= 8, 'refused links are left without a target');
    assert.doesNotMatch(html, /<img[^>]*onerror|<a href="javascript/i);
    assert.doesNotMatch(html, /onmouseover="/);
    assert.match(html, /&lt;script&gt;alert\(&quot;title&quot;\)&lt;\/script&gt;/);
    assert.match(html, /<a href="https:\/\/example.com\/a\?b=1">ok<\/a>/);
    assert.match(html, /<img src="\/help\/img\/f0123" alt="ok" \/>/);
    assert.match(html, /<a href="https:\/\/example.org">/);
    assert.match(html, /<code>&lt;script&gt;code&lt;\/script&gt;<\/code>/);
    assert.match(html, /raw HTML omitted/);
    assert.match(res.headers['content-security-policy'] || '', /sandbox/);
  });
});

describe('a crawler\'s view', () => {
  test('every published article is in sitemap.xml, linked from the pages, 200; unpublished and deleted ones 404', async () => {
    const gone = await article({slug: 'silinecek', texts: tr('Silinecek', 'x'), publish: true});
    const hidden = await article({slug: 'geri-alinacak', texts: tr('Geri alınacak', 'x'), publish: true});
    assert.equal((await page('/help/a/silinecek')).status, 200);
    assert.equal((await api('DELETE', `/api/v1/helpcentre/articles/${gone.id}`)).status, 204);
    await api('POST', `/api/v1/helpcentre/articles/${hidden.id}/unpublish`, {});

    const map = await page('/help/sitemap.xml');
    assert.equal(map.status, 200);
    assert.match(map.headers['content-type'], /^application\/xml/);
    const locs = [...map.text.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    const listed = new Set(locs.map((l) => new URL(l).pathname).filter((p) => p.startsWith('/help/a/')));
    let all = [], cursor = '';
    for (;;) {
      const r = await api('GET', `/api/v1/helpcentre/articles?status=published&limit=200${cursor}`);
      all = all.concat(r.json.items);
      if (!r.json.next_cursor) break;
      cursor = `&cursor=${r.json.next_cursor}`;
    }
    assert.deepEqual([...listed].sort(), all.map((x) => `/help/a/${x.slug}`).sort());
    assert.ok(!listed.has('/help/a/silinecek') && !listed.has('/help/a/geri-alinacak'));
    for (const l of locs) {
      const u = new URL(l);
      const res = await page(u.pathname + u.search);
      assert.equal(res.status, 200, l);
      if (u.pathname.startsWith('/help/a/')) assert.ok(res.text.includes(`<link rel="canonical" href="${l.replace(/=/g, '&#61;')}">`), l);
    }
    assert.equal((await page('/help/a/silinecek')).status, 404);
    assert.equal((await page('/help/a/geri-alinacak')).status, 404);

    // reachable by links: from /help through categories, following same-site /help links
    const seen = new Set();
    const queue = ['/help?lang=tr', '/help?lang=en'];
    while (queue.length) {
      const p = queue.shift();
      if (seen.has(p)) continue;
      seen.add(p);
      const res = await page(p);
      assert.equal(res.status, 200, p);
      for (const m of res.text.matchAll(/href="(\/help\/(?:c|a)\/[a-z0-9-]+\?lang=(?:tr|en))"/g)) queue.push(m[1]);
    }
    const reached = new Set([...seen].map((p) => p.split('?')[0]));
    for (const p of listed) {
      const x = all.find((y) => `/help/a/${y.slug}` === p);
      if (x.category_id) assert.ok(reached.has(p), `${p} is reached by links`);
    }
  });
});

describe('images, categories and refusals', () => {
  test('an image uploaded to an article is served to the public by its file id', async () => {
    const a = await article({texts: tr('Resimli makale', 'x')});
    const boundary = '----hc' + Date.now();
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(40, 1)]);
    const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="kutu.png"\r\n` +
      'Content-Type: image/png\r\n\r\n'), png, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const up = await server.api('POST', `/api/v1/helpcentre/articles/${a.id}/images`, {session: agent, rawBody: body,
      contentType: `multipart/form-data; boundary=${boundary}`});
    assert.equal(up.status, 201, up.text);
    const img = up.json.items[0];
    assert.match(img.url, /^\/help\/img\/f[0-9a-f]{32}$/);
    assert.equal(img.markdown, `![kutu.png](${img.url})`);
    const got = await page(img.url);
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'image/png');
    assert.equal((await page('/help/img/f00000000000000000000000000000000')).status, 404);
    const asJson = await api('POST', `/api/v1/helpcentre/articles/${a.id}/images`, {filename: 'b.png', data_base64: png.toString('base64')});
    assert.equal(asJson.status, 201, asJson.text);
    assert.equal((await page(asJson.json.items[0].url)).status, 200);
    assertError(await api('POST', `/api/v1/helpcentre/articles/${a.id}/images`, {filename: 'c.png', data_base64: Buffer.from('text').toString('base64')}),
      415, 'not_an_image');
    assertError(await api('POST', `/api/v1/helpcentre/articles/${a.id}/images`, {filename: 'c.png', data_base64: '***'}), 422, 'invalid_field', 'data_base64');
    const text = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n`),
      Buffer.from('not an image'), Buffer.from(`\r\n--${boundary}--\r\n`)]);
    assertError(await server.api('POST', `/api/v1/helpcentre/articles/${a.id}/images`, {session: agent, rawBody: text,
      contentType: `multipart/form-data; boundary=${boundary}`}), 415, 'not_an_image');
  });

  test('categories: admins change them, agents read them; the category page lists its published articles', async () => {
    assertError(await api('POST', '/api/v1/helpcentre/categories', {slug: 'x', texts: {tr: {title: 'X'}}}), 403);
    const list = await api('GET', '/api/v1/helpcentre/categories');
    assert.ok(list.json.items.some((c) => c.slug === 'iade' && c.texts.en.title === 'Returns'));
    assertError(await api('POST', '/api/v1/helpcentre/categories', {slug: 'iade', texts: {tr: {title: 'İade 2'}}}, admin),
      409, 'slug_taken', 'slug');
    const res = await page('/help/c/iade?lang=en');
    assert.equal(res.status, 200);
    assert.match(res.text, /<h1>Returns<\/h1>/);
    assert.match(res.text, /How do I return an item\?/);
    assert.equal((await page('/help/c/yok')).status, 404);
  });

  test('the API refuses mistakes with 4xx {error} and changes nothing; the public cannot reach it', async () => {
    const cases = [
      [{texts: {}}, 422, 'texts'],
      [{texts: {de: {title: 'x', body: 'y'}}}, 422, 'texts'],
      [{texts: {tr: {title: '', body: 'y'}}}, 422, 'texts.tr.title'],
      [{texts: {tr: {title: 'x'.repeat(201), body: 'y'}}}, 422, 'texts.tr.title'],
      [{texts: {tr: {title: 'x', body: 5}}}, 422, 'texts.tr.body'],
      [{slug: 'Büyük Harf', texts: tr('x')}, 422, 'slug'],
      [{category_id: 999999, texts: tr('x')}, 422, 'category_id'],
    ];
    for (const [body, status, field] of cases) {
      assertError(await api('POST', '/api/v1/helpcentre/articles', body), status, undefined, field);
    }
    assertError(await server.api('POST', '/api/v1/helpcentre/articles', {session: agent, rawBody: '[', contentType: 'application/json'}), 400);
    await article({slug: 'tekil', texts: tr('Tekil')});
    assertError(await api('POST', '/api/v1/helpcentre/articles', {slug: 'tekil', texts: tr('Tekil 2')}), 409, 'slug_taken');
    const t = await article({texts: tr('Tek dil')});
    assertError(await api('PATCH', `/api/v1/helpcentre/articles/${t.id}`, {texts: {tr: null}}), 422, 'invalid_field', 'texts');
    assert.ok((await api('GET', `/api/v1/helpcentre/articles/${t.id}`)).json.texts.tr, 'a refused change changes nothing');
    assertError(await api('POST', `/api/v1/helpcentre/articles/${t.id}/publish`, {publish_at: 'yarın'}), 422, 'invalid_field', 'publish_at');
    assertError(await api('GET', '/api/v1/helpcentre/articles/999999'), 404, 'not_found');
    assertError(await api('GET', '/api/v1/helpcentre/articles?status=gone'), 422, 'invalid_field', 'status');
    assertError(await server.api('GET', '/api/v1/helpcentre/articles'), 401);
    assertError(await server.api('GET', '/api/v1/helpcentre/report'), 401);
  });

  test('the theme: shop name, logo and colour from the settings', async () => {
    const set = await server.api('PATCH', '/api/v1/settings', {session: admin, body: {'helpcentre.shop_name': 'Anadolu Tekstil',
      'helpcentre.colour': '#aa3300', 'helpcentre.logo_url': 'javascript:alert(1)'}});
    assert.equal(set.status, 200, set.text);
    // Workers keep rendered pages; they read the theme's settings again within 2 seconds.
    const res = await eventually(() => page('/help?lang=tr'), (r) => /<span>Anadolu Tekstil<\/span>/.test(r.text), {ms: T(6000)});
    assert.match(res.text, /<span>Anadolu Tekstil<\/span>/);
    assert.doesNotMatch(res.text, /javascript:/);
    assert.match((await page('/help/theme.css')).text, /--hc-accent:#aa3300/);
  });
});

describe('destek demo', () => {
  test('adds a help centre of about 30 articles in Turkish and English', async () => {
    const dir = tempDir('destek-hcdemo-');
    const out = await runCli(['demo', '--data', dir], {timeout: T(60000)});
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /help centre: 30 articles in 6 topics/);
    const s = await startServer({dataDir: dir});
    try {
      const map = await request(`${s.url}/help/sitemap.xml`);
      const locs = [...map.text.matchAll(/<loc>([^<]+\/help\/a\/[^<]+)<\/loc>/g)];
      assert.ok(locs.length >= 55, `${locs.length} article pages (tr and en)`);
      const res = await request(`${s.url}/help/search?q=kargo%20%C3%BCcreti&lang=tr`);
      assert.match(res.text, /Kargo ücreti ne kadar\?/);
      const en = await request(`${s.url}/help?lang=en`);
      assert.match(en.text, /Shipping and delivery/);
    } finally {
      await s.stop();
    }
  });
});
