// Browser test of the ticket view: the SLA clocks at the top (server test clock, browser clock at the same instant),
// the thread's three kinds of message, files in the composer (picker, drag and drop, paste; size limits checked
// before the upload and explained when the server refuses), downloads, an HTML mail in a sandboxed frame whose
// remote images load only after "show images", hostile body_html, reply vs note, "send and set status", macros
// searched by name, a draft kept per ticket, no shortcuts while typing, history in words, the customer panel, the
// note that mail about a ticket came from another address.
// Screenshots: build/screenshots/ticket-sla.png, composer-attachment.png, ticket-html-mail.png,
// customer-panel.png, phone-ticket.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ADMIN, SHOTS, desk, eventually, importMail, launch, login, newPage, png, shot } from './ui-lib.mjs';

const AGENT = { email: 'mehmet@example.com', name: 'Mehmet Kaya', password: 'temsilci-parola-1' };
let server;
let api;
let browser;
let page;
let remote;
let remoteHits = [];
const errors = [];
const T0 = new Date(Math.floor(Date.now() / 60000) * 60000);
const at = (minutes) => new Date(T0.getTime() + minutes * 60000);
const iso = (d) => d.toISOString().replace(/\.\d+Z$/, 'Z');
const ids = {};
const RED = png(40, 30, [200, 30, 30]);
const PDF = Buffer.from('%PDF-1.4\n' + 'fatura satırı\n'.repeat(300));
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

const ticket = (subject, email, extra) => api('POST', '/tickets', {
  subject, body: 'Merhaba, havlu siparişim hakkında yazıyorum.', customer: { email, name: 'Zeynep Demir' }, ...(extra || {}) });
const open = async (p, id) => {
  await p.goto(server.url + '/app/tickets/' + id);
  await p.locator(`[data-ticket-id="${id}"] .thread .msg`).first().waitFor();
};

before(async () => {
  ({ server, api } = await desk({ env: { DESTEK_TEST_CLOCK: '1' } }));
  remote = http.createServer((req, res) => {
    remoteHits.push(req.url);
    res.writeHead(200, { 'Content-Type': 'image/png' });
    res.end(png(200, 50, [20, 120, 200]));
  });
  await new Promise((r) => remote.listen(0, '127.0.0.1', r));
  const cal = await api('POST', '/calendars', { name: 'Her gün', time_zone: 'UTC', hours: 'daily 00:00-24:00' });
  await api('POST', '/sla-policies', { name: 'Acil', priority: 'urgent', first_response_minutes: 60,
    resolution_minutes: 240, warn_percent: 50, calendar_id: cal.id, position: 1 });
  await api('POST', '/test/clock', { now: iso(T0) });
  ids.k = (await ticket('Bornoz yanlış renk geldi', 'zeynep@example.com', { priority: 'urgent', order_number: '10442' })).id;
  ids.other1 = (await ticket('Fatura adresi', 'zeynep@example.com')).id;
  ids.other2 = (await ticket('Kupon çalışmıyor', 'zeynep@example.com')).id;
  ids.l = (await ticket('Başka müşteri', 'ali@example.com')).id;
  await api('POST', `/tickets/${ids.k}/messages`, { body: 'Depoyla konuştum, yarın kargoya verilecek.', kind: 'note' });
  await api('POST', '/test/clock', { now: iso(at(70)) });
  await api('POST', '/users', { ...AGENT, role: 'agent' });
  browser = await launch();
  page = await newPage(browser, { errors });
  await page.clock.setFixedTime(at(70));
  await login(page, server.url, ADMIN);
});

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    if (server) await server.stop();
    if (remote) remote.close();
  }
});

test('the SLA clocks are at the top: first response breached, resolution on track; the thread shows its kinds', async () => {
  await open(page, ids.k);
  const frt = page.locator('[data-region="sla"] [data-sla-target="first_response"]');
  const res = page.locator('[data-region="sla"] [data-sla-target="resolution"]');
  assert.equal(await frt.getAttribute('data-sla'), 'breached');
  assert.match(await frt.textContent(), /İlk yanıt.*Aşıldı.*Hedef: 1 sa\..*10 dk\. gecikti/s);
  assert.equal(await res.getAttribute('data-sla'), 'ok');
  assert.match(await res.textContent(), /Çözüm.*Süresinde.*Hedef: 4 sa\..*2 sa\. 50 dk\. içinde/s);
  assert.equal(await page.locator('.msg-customer').count(), 1);
  assert.equal(await page.locator('.msg-note').count(), 1);
  assert.match(await page.locator('.msg-note .msg-kind').textContent(), /İç not/);
  await shot(page, 'ticket-sla.png');
});

test('files: picker, drag and drop, pasted image; sent with the reply, listed with their size, downloaded intact', async () => {
  await open(page, ids.k);
  await page.locator('[data-field="files"]').setInputFiles([
    { name: 'kargo-fişi.png', mimeType: 'image/png', buffer: RED },
    { name: 'fatura.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  await page.locator('form.composer').evaluate((form) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['sipariş notu'], 'not.txt', { type: 'text/plain' }));
    for (const type of ['dragenter', 'dragover', 'drop']) {
      form.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  });
  await page.locator('textarea[name="body"]').evaluate((ta, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    ta.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, RED.toString('base64'));
  const chips = page.locator('[data-region="pending-files"] .file-chip');
  await eventually(async () => (await chips.count()) === 4, 5000, 'four files waiting');
  const names = await chips.evaluateAll((els) => els.map((e) => e.dataset.file));
  assert.deepEqual(names.slice(0, 3), ['kargo-fişi.png', 'fatura.pdf', 'not.txt']);
  assert.match(names[3], /^image-\d{8}-\d{6}\.png$/);
  await page.locator('textarea[name="body"]').fill('Merhaba Zeynep, fişi ve faturayı ekledim.');
  await shot(page, 'composer-attachment.png');
  await page.locator('.file-chip[data-file="not.txt"] button').click();
  assert.equal(await chips.count(), 3);
  await page.locator('[data-action="send"]').click();
  const msg = page.locator('.msg-reply', { hasText: 'fişi ve faturayı ekledim' });
  await msg.waitFor();
  assert.deepEqual(await msg.locator('.attachment a').evaluateAll((as) => as.map((a) => a.textContent.trim())),
    ['kargo-fişi.png', 'fatura.pdf', names[3]]);
  assert.equal(await msg.locator('.attachment', { hasText: 'fatura.pdf' }).locator('[data-size]').textContent(), '4,7 kB');
  assert.equal(await page.locator('[data-region="pending-files"]').count(), 0);
  const [download] = await Promise.all([page.waitForEvent('download'),
    msg.locator('.attachment a', { hasText: 'fatura.pdf' }).click()]);
  assert.equal(download.suggestedFilename(), 'fatura.pdf');
  assert.equal(sha(fs.readFileSync(await download.path())), sha(PDF));
  const stored = (await api('GET', '/tickets/' + ids.k)).messages.find((m) => m.body.includes('fişi ve faturayı'));
  assert.equal(stored.attachments.find((a) => a.filename === 'kargo-fişi.png').sha256, sha(RED));
  // The first public reply stopped the first-response clock, late: "missed".
  await page.locator('[data-sla-target="first_response"][data-sla="missed"]').waitFor();
});

test('a file over the limit is refused before the upload; a lower limit set by an admin is explained when the server refuses', async () => {
  await open(page, ids.k);
  const big = path.join(server.dataDir, 'büyük.bin');
  fs.writeFileSync(big, Buffer.alloc(11 * 1024 * 1024, 1));
  await page.locator('[data-field="files"]').setInputFiles(big);
  await page.locator('[data-region="attach-errors"]', { hasText: '“büyük.bin” 11 MB; her dosya en fazla 10 MB olabilir.' }).waitFor();
  assert.equal(await page.locator('[data-region="pending-files"]').count(), 0);

  await api('PATCH', '/settings', { 'ticketing.attachment_max_bytes': 2000 });
  const agent = await newPage(browser, { errors });
  await login(agent, server.url, AGENT);
  await open(agent, ids.l);
  await agent.locator('textarea[name="body"]').fill('Fotoğrafı ekliyorum.');
  // Files go to the server with the draft as they are added: the server's refusal comes at once.
  await agent.locator('[data-field="files"]').setInputFiles([{ name: 'fotoğraf.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(5000, 7) }]);
  await agent.locator('[data-region="attach-errors"]', { hasText: 'dosya başına en fazla 2 kB' }).waitFor();
  assert.equal(await agent.locator('.file-chip').count(), 0);
  assert.equal(await agent.locator('.msg-reply').count(), 0);
  assert.equal(await agent.locator('textarea[name="body"]').inputValue(), 'Fotoğrafı ekliyorum.');
  await agent.locator('[data-field="files"]').setInputFiles([{ name: 'ikinci.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(5000, 7) }]);
  await agent.locator('[data-region="attach-errors"]', { hasText: 'en fazla 2 kB' }).waitFor();
  await agent.context().close();
  await api('PATCH', '/settings', { 'ticketing.attachment_max_bytes': null });
});

function htmlMail(port) {
  const html = `<html><head><style>p { color: red }</style></head><body>
<div style="font-family: Georgia, serif; color: #333333">
<h2 style="color: #0f766e">Siparişiniz hakkında</h2>
<p>Merhaba, <b>10442</b> numaralı siparişim hâlâ gelmedi.</p>
<p><img src="http://127.0.0.1:${port}/afis.png" width="200" height="50" alt="Mağaza afişi"></p>
<p>Fotoğraf: <img src="cid:foto1@shop" alt="ürün fotoğrafı"></p>
<p><a href="https://kargo.example/takip/ABC">Takip bağlantısı</a> <a href="javascript:parent.__xss=1">tıkla</a></p>
<script>parent.__xss = 1</script><img src="x" onerror="parent.__xss = 1">
</div></body></html>`;
  const b64 = (buf) => buf.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from([
    'From: Deniz Kaya <deniz@example.com>', 'To: destek@shop.example', 'Subject: Siparişim gelmedi (HTML)',
    'Date: Mon, 30 Nov 2026 10:00:00 +0300', 'Message-ID: <html-e2e-1@example.com>', 'MIME-Version: 1.0',
    'Content-Type: multipart/related; boundary="REL"', '',
    '--REL', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(Buffer.from(html)),
    '--REL', 'Content-Type: image/png; name="foto.png"', 'Content-ID: <foto1@shop>',
    'Content-Disposition: inline; filename="foto.png"', 'Content-Transfer-Encoding: base64', '', b64(RED),
    '--REL--', ''].join('\r\n'));
}

test('HTML mail: a sandboxed frame without scripts; inline images show, remote ones only after "show images"', async () => {
  const filed = await importMail(server, htmlMail(remote.address().port));
  ids.html = filed.ticket_id;
  await open(page, ids.html);
  const iframe = page.locator('iframe.msg-html');
  const sandbox = await iframe.getAttribute('sandbox');
  assert.ok(!sandbox.includes('allow-scripts'), sandbox);
  assert.match(await iframe.getAttribute('srcdoc'), /Content-Security-Policy.*img-src 'self' data:;/);
  const frame = page.frameLocator('iframe.msg-html');
  const inline = frame.locator('img[alt="ürün fotoğrafı"]');
  await eventually(() => inline.evaluate((img) => img.complete && img.naturalWidth === 40), 5000, 'the inline image');
  assert.equal(await frame.locator('h2').evaluate((h) => getComputedStyle(h).color), 'rgb(15, 118, 110)');
  assert.equal(await frame.locator('script, [onerror]').count(), 0);
  assert.equal(await frame.locator('a', { hasText: 'tıkla' }).getAttribute('href'), null);
  await page.locator('[data-region="images-blocked"]', { hasText: 'uzak görseller engellendi (1)' }).waitFor();
  await page.waitForTimeout(300);
  assert.deepEqual(remoteHits, [], 'no remote image before the click');
  const banner = frame.locator('img[alt="Mağaza afişi"]');
  assert.equal(await banner.getAttribute('src'), null);
  await page.locator('[data-action="show-images"]').click();
  await eventually(() => remoteHits.length >= 1, 5000, 'the remote image request');
  await eventually(() => banner.evaluate((img) => img.complete && img.naturalWidth === 200), 5000, 'the remote image');
  assert.equal(await iframe.getAttribute('data-images'), 'shown');
  assert.match(await iframe.getAttribute('srcdoc'), /img-src 'self' data: https: http:/);
  assert.equal(await page.locator('[data-region="images-blocked"]').count(), 0);
  await frame.locator('a', { hasText: 'tıkla' }).click();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.locator('[data-action="toggle-text"]').click();
  await page.locator('.msg-customer .msg-body', { hasText: 'Siparişiniz hakkında' }).waitFor();
  await page.locator('[data-action="toggle-text"]').click();
  await iframe.waitFor();
  await shot(page, 'ticket-html-mail.png');
});

test('mail about a ticket from another address is a note in the agent\'s language, linking the ticket it opened', async () => {
  const raw = Buffer.from(['From: Yabancı <yabanci@example.net>', 'Reply-To: deniz@example.com', 'To: destek@shop.example',
    'Subject: Re: Siparişim gelmedi (HTML)', 'Message-ID: <other-e2e-1@example.net>', 'In-Reply-To: <html-e2e-1@example.com>',
    'Content-Type: text/plain; charset=utf-8', '', 'Adresi değiştirin.', ''].join('\r\n'));
  const filed = await importMail(server, raw);
  assert.equal(filed.result, 'created');
  assert.notEqual(filed.ticket_id, ids.html);
  await open(page, ids.html);
  const notice = page.locator('.msg-note [data-notice="mail_other_sender"]');
  await notice.waitFor();
  const text = await notice.textContent();
  assert.ok(text.includes('yabanci@example.net') && text.includes('Yeni talep olarak açıldı'), text);
  assert.ok(!text.includes('Mail referring'), 'in the agent\'s language only');
  await notice.locator('[data-action="notice-ticket"]', { hasText: filed.reference }).click();
  await page.locator(`[data-ticket-id="${filed.ticket_id}"]`).waitFor();
});

test('body_html posted through the API with scripts, handlers and frames runs nothing', async () => {
  await api('POST', `/tickets/${ids.l}/messages`, { kind: 'note', body: 'HTML not',
    body_html: '<p>Not</p><img src=x onerror="parent.__xss=1"><script>parent.__xss=1</script>' +
      '<iframe src="javascript:parent.__xss=1"></iframe><svg onload="parent.__xss=1"></svg>' +
      '<a href="javascript:parent.__xss=1">tıkla</a><form action="/api/v1/auth/logout" method="post"><button>x</button></form>' +
      '<meta http-equiv="refresh" content="0;url=javascript:parent.__xss=1"><div style="background:url(http://127.0.0.1:1/x.png)">arka plan</div>' });
  await open(page, ids.l);
  const frame = page.frameLocator('.msg-note iframe.msg-html');
  await frame.locator('p', { hasText: 'Not' }).waitFor();
  assert.equal(await frame.locator('script, iframe, svg, form, meta[http-equiv="refresh"], [onerror], [onload]').count(), 0);
  assert.equal(await frame.locator('a', { hasText: 'tıkla' }).getAttribute('href'), null);
  await frame.locator('a', { hasText: 'tıkla' }).click();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await frame.locator('div', { hasText: 'arka plan' }).evaluate((d) => getComputedStyle(d).backgroundImage), 'none');
});

test('reply and note look different and say who reads them; "send and set status" names the status', async () => {
  await open(page, ids.l);
  const composer = page.locator('form.composer');
  assert.match(await page.locator('[data-region="composer-audience"]').textContent(), /Alıcı: Zeynep Demir <ali@example.com>/);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('n');
  await page.waitForFunction(() => document.activeElement && document.activeElement.name === 'body');
  await page.locator('form.composer-note').waitFor();
  assert.match(await page.locator('[data-region="composer-audience"]').textContent(), /yalnızca temsilciler görür/);
  const noteBg = await composer.evaluate((f) => getComputedStyle(f).backgroundColor);
  await page.keyboard.type('Kargo firmasını aradım.');
  await page.locator('[data-field="send-status"]').selectOption('pending');
  assert.equal((await page.locator('[data-action="send"]').textContent()).trim(), 'Not ekle ve durumu Beklemede yap');
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-note', { hasText: 'Kargo firmasını aradım.' }).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-field="status"]').value === 'pending');
  await page.locator('form.composer-reply').waitFor();
  assert.notEqual(await composer.evaluate((f) => getComputedStyle(f).backgroundColor), noteBg);
  assert.equal((await page.locator('[data-action="send"]').textContent()).trim(), 'Gönder');
  const note = await page.locator('.msg-note').last().evaluate((m) => getComputedStyle(m).backgroundColor);
  const customer = await page.locator('.msg-customer').first().evaluate((m) => getComputedStyle(m).backgroundColor);
  assert.notEqual(note, customer);
});

test('macros: searched by name (Turkish letters, any case), previewed with the variables filled, applied', async () => {
  await api('POST', '/macros', { name: 'Kargo bilgisi', body_tr: 'Kargonuz yola çıktı.', body_en: 'Your parcel has shipped.' });
  await api('POST', '/macros', { name: 'İade süreci', body_tr: 'Merhaba {{customer.name}}, {{ticket.reference}} için iade kodunuz hazır.',
    body_en: 'Hello', changes: { status: 'pending', add_tags: ['iade'] } });
  await open(page, ids.other1);
  await page.locator('[data-action="macros"]').click();
  await page.locator('[data-field="macro"]').fill('İADE');
  assert.deepEqual(await page.locator('.macro-list [data-macro]').evaluateAll((b) => b.map((x) => x.textContent)), ['İade süreci']);
  await page.locator('[data-field="macro"]').fill('iade');
  assert.equal(await page.locator('.macro-list [data-macro]').count(), 1);
  await page.keyboard.press('Enter');
  const preview = page.locator('[data-region="macro-preview"]');
  const ref = (await api('GET', '/tickets/' + ids.other1)).reference;
  await preview.getByText(`Merhaba Zeynep Demir, ${ref} için iade kodunuz hazır.`).waitFor();
  assert.match(await preview.textContent(), /Durum: Beklemede.*Eklenecek etiketler: iade/s);
  await page.locator('[data-action="apply-macro"]').click();
  await page.locator('[data-region="macro-changes"] [data-change="status"]').waitFor();
  await page.locator('[data-action="send"]').click();
  await page.locator('.msg-reply', { hasText: 'iade kodunuz hazır' }).waitFor();
  await page.locator('.tag', { hasText: 'iade' }).waitFor();
});

test('a draft is kept per ticket: text, kind and files survive leaving and coming back, a reload and a sign-out; the files are sent with it', async () => {
  await open(page, ids.other2);
  await page.locator('[data-kind="note"]').click();
  await page.locator('textarea[name="body"]').fill('Yarım kalan not');
  await page.locator('[data-field="files"]').setInputFiles([{ name: 'taslak.png', mimeType: 'image/png', buffer: RED }]);
  // Uploaded to the server with the draft at once.
  await page.locator('.file-chip[data-file="taslak.png"][data-uploaded="yes"]').waitFor();
  await page.locator('a.back').click();
  await page.locator(`[data-ticket="${ids.k}"] .row-main`).click();
  await page.locator(`[data-ticket-id="${ids.k}"] textarea`).waitFor();
  assert.equal(await page.locator('textarea[name="body"]').inputValue(), '');
  assert.equal(await page.locator('.file-chip').count(), 0, 'another ticket has its own draft');
  await page.locator('.mini-list a', { hasText: 'Kupon çalışmıyor' }).click();
  await page.locator(`[data-ticket-id="${ids.other2}"]`).waitFor();
  assert.equal(await page.locator('textarea[name="body"]').inputValue(), 'Yarım kalan not');
  await page.locator('form.composer-note').waitFor();
  await page.locator('.file-chip[data-file="taslak.png"]').waitFor();
  await page.reload();
  await page.locator('form.composer-note textarea').waitFor();
  assert.equal(await page.locator('textarea[name="body"]').inputValue(), 'Yarım kalan not');
  await page.locator('.file-chip[data-file="taslak.png"][data-uploaded="yes"]').waitFor();
  // Signed out (the session gone) and in again: the file is still with the draft.
  await page.context().clearCookies();
  await login(page, server.url, ADMIN);
  await open(page, ids.other2);
  await page.locator('.file-chip[data-file="taslak.png"][data-uploaded="yes"]').waitFor();
  await page.locator('[data-action="send"]').click();
  const note = page.locator('.msg-note', { hasText: 'Yarım kalan not' });
  await note.waitFor();
  assert.deepEqual(await note.locator('.attachment a').evaluateAll((as) => as.map((a) => a.textContent.trim())), ['taslak.png']);
  const sent = (await api('GET', '/tickets/' + ids.other2)).messages.find((m) => m.body === 'Yarım kalan not');
  assert.equal(sent.attachments[0].sha256, sha(RED));
  assert.deepEqual((await api('GET', `/tickets/${ids.other2}/draft`)).files, [], 'the admin\'s draft is empty');
  await page.reload();
  await page.locator('form.composer textarea').waitFor();
  assert.equal(await page.locator('textarea[name="body"]').inputValue(), '');
  assert.equal(await page.locator('.file-chip').count(), 0);
});

test('discarding a draft removes its text and its files from the server', async () => {
  await open(page, ids.other1);
  await page.locator('textarea[name="body"]').fill('Vazgeçilecek yanıt');
  await page.locator('[data-field="files"]').setInputFiles([{ name: 'sil.txt', mimeType: 'text/plain', buffer: Buffer.from('SIL') }]);
  await page.locator('.file-chip[data-file="sil.txt"][data-uploaded="yes"]').waitFor();
  assert.equal((await api('GET', `/tickets/${ids.other1}/draft`)).files.length, 1);
  await page.locator('[data-action="discard"]').click();
  await eventually(async () => (await api('GET', `/tickets/${ids.other1}/draft`)).files.length === 0, 5000, 'draft files deleted');
  assert.equal(await page.locator('textarea[name="body"]').inputValue(), '');
  assert.equal(await page.locator('.file-chip').count(), 0);
});

test('no shortcut fires while typing in the composer, the tag field, the merge field or the macro search', async () => {
  await open(page, ids.other2);
  const url = page.url();
  const assignee = await page.locator('[data-field="assignee"]').textContent();
  await page.locator('textarea[name="body"]').click();
  await page.keyboard.type('ranu?jk/');
  assert.equal(await page.locator('textarea[name="body"]').inputValue(), 'ranu?jk/');
  for (const field of ['input[placeholder="Etiket ekle"]', '#merge-ref']) {
    await page.locator(field).click();
    await page.keyboard.type('anur?');
    assert.equal(await page.locator(field).inputValue(), 'anur?');
    await page.locator(field).fill('');
  }
  await page.locator('[data-action="macros"]').click();
  await page.locator('[data-field="macro"]').pressSequentially('a?u');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('[data-region="shortcuts"]').count(), 0);
  assert.equal(page.url(), url);
  assert.equal(await page.locator('[data-field="assignee"]').textContent(), assignee);
  assert.equal(await page.locator('form.composer-reply').count(), 1, 'still a reply: "n" did not switch');
  await page.locator('textarea[name="body"]').fill('');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('a');
  await page.locator('[data-field="assignee"]', { hasText: ADMIN.name }).waitFor();
});

test('history in words, in Turkish and in English', async () => {
  await open(page, ids.other2);
  await page.locator('[data-field="priority"]').selectOption('high');
  await page.locator('[data-region="history"] li[data-history-field="priority"]').waitFor({ state: 'attached' });
  await page.locator('[data-region="history"] summary').click();
  const text = await page.locator('[data-region="history"]').textContent();
  assert.match(text, /Ayşe Yılmaz talebi açtı/);
  assert.match(text, /Ayşe Yılmaz talebi üstlendi/);
  assert.match(text, /Ayşe Yılmaz önceliği değiştirdi: Normal → Yüksek/);
  assert.match(text, /Ayşe Yılmaz iç not ekledi/);
  await page.locator('.lang-switch button[data-lang="en"]').click();
  await page.locator('[data-region="history"]', { hasText: 'Ayşe Yılmaz changed the priority from Normal to High' }).waitFor();
  assert.match(await page.locator('[data-region="history"]').textContent(), /Ayşe Yılmaz took the ticket/);
  await page.locator('.lang-switch button[data-lang="tr"]').click();
  await page.locator('[data-region="history"]', { hasText: 'önceliği değiştirdi' }).waitFor();
});

test('customer panel: details, the other tickets with their status, a labelled slot for plugin panels', async () => {
  await open(page, ids.k);
  const panel = page.locator('[data-region="customer"]');
  await panel.locator('[data-region="other-tickets"] li').nth(1).waitFor();
  assert.match(await panel.textContent(), /Zeynep Demir.*zeynep@example.com.*Dil.*Türkçe.*Toplam 3, 3 açık/s);
  assert.equal(await panel.locator('[data-region="other-tickets"] li').count(), 2);
  assert.equal(await page.locator('[data-slot="ticket.side"]').getAttribute('aria-label'), 'Eklenti panelleri (siparişler, iadeler)');
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await page.locator('aside.side').boundingBox();
  await page.screenshot({ timeout: 30000, path: path.join(SHOTS, 'customer-panel.png'), fullPage: true,
    clip: { x: box.x - 12, y: box.y - 12, width: box.width + 24, height: box.height + 24 } });
});

test('customer panel (admins): export downloads the person\'s ZIP; erasing asks first, then the ticket shows them erased', async () => {
  const t = await api('POST', '/tickets', { subject: 'Şükrü Işıkoğlu iade', body: 'Ben Şükrü Işıkoğlu.',
    customer: { email: 'sukru@example.com', name: 'Şükrü Işıkoğlu' } });
  await open(page, t.id);
  const panel = page.locator('[data-region="customer"]');
  await panel.locator('[data-action="contact-export"]').waitFor();
  assert.equal(await panel.locator('[data-action="contact-export"]').textContent(), 'Verileri indir');
  const [download] = await Promise.all([page.waitForEvent('download'), panel.locator('[data-action="contact-export"]').click()]);
  assert.equal(download.suggestedFilename(), `contact-${t.customer.id}.zip`);
  const zip = fs.readFileSync(await download.path());
  assert.equal(zip.readUInt32LE(0), 0x04034b50, 'a ZIP archive');
  // Cancel first: nothing happens.
  await panel.locator('[data-action="contact-erase"]').click();
  const dialog = page.locator('[data-region="erase-confirm"]');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Şükrü Işıkoğlu silinsin mi\?.*geri alınamaz/s);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await api('GET', `/contacts/${t.customer.id}`)).name, 'Şükrü Işıkoğlu');
  await panel.locator('[data-action="contact-erase"]').click();
  await page.locator('[data-action="erase-confirm"]').click();
  await panel.locator('[data-field="erased"]').waitFor();
  assert.match(await panel.textContent(), new RegExp(`Silinmiş kişi #${t.customer.id}`));
  assert.ok(!(await page.locator('main').textContent()).includes('Şükrü'));
  await shot(page, 'customer-erased.png');
});

test('customer panel (agents): no export or erase', async () => {
  const agentPage = await newPage(browser, { errors });
  await login(agentPage, server.url, AGENT);
  await open(agentPage, ids.l);
  await agentPage.locator('[data-region="customer"] [data-region="other-tickets"], [data-region="customer"] .muted').first().waitFor();
  assert.equal(await agentPage.locator('[data-action="contact-export"], [data-action="contact-erase"]').count(), 0);
  await agentPage.context().close();
});

test('phone width: the ticket view fits 360 px', async () => {
  const phone = await newPage(browser, { width: 360, height: 740, errors });
  await phone.clock.setFixedTime(at(70));
  await login(phone, server.url, ADMIN);
  await open(phone, ids.k);
  await phone.locator('[data-region="sla"]').waitFor();
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth) <= 360);
  await shot(phone, 'phone-ticket.png');
  await phone.context().close();
});

test('no page errors, and nothing ran from ticket content', async () => {
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(errors, []);
});
