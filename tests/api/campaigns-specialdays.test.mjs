// Campaigns (issue 17): special days with single-use coupon codes, clicks through signed links, and orders after a
// campaign. One server: coupon pools (generated and imported codes, the remaining count and the low warning), no code
// given twice while two campaigns draw from one pool at once (and a recipient with no code left withheld, not sent),
// a birthday and a date sent on the day once per contact, a kill -9 mid-special-day sending no one twice and skipping
// no one, the click redirect going only to the template's own URL, and orders placed after the message counted.
import {before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {startServer, setupAdmin, tempDir, eventually, sqlite3, request, T} from './lib.mjs';
import {startSmtp} from './mail-helpers.mjs';

let server, admin, smtp, db, dir;
const api = (method, p, body) => server.api(method, p, {session: admin, body});
const count = (sql) => Number(sqlite3(db, sql).stdout.trim());
const text = (m) => Buffer.from(m.body.replace(/\s+/g, ''), 'base64').toString('utf8');
const mailsTo = (re) => smtp.mails().filter((m) => re.test(m.headers.to));
const trDay = (t = Date.now()) => new Date(t + 3 * 3600e3).toISOString().slice(0, 10);

const HEADER = 'contact,channel,status,at,source,text_shown,address,ip,name,lang,tags';
const row = (email, tags, status = 'ONAY', lang = '') => [email, 'email', status, '2026-10-01T09:00:00Z', 'web_form',
  'Kampanyalardan haberdar olmak istiyorum.', '', '203.0.113.9', 'Ayşe Yılmaz', lang, tags].join(',');
const importList = async (name, lines) => {
  const r = await api('POST', '/api/v1/campaign-imports', {name, csv: [HEADER, ...lines].join('\r\n') + '\r\n'});
  assert.equal(r.status, 201, r.text);
};
const contactOf = (email) => Number(sqlite3(db, `SELECT id FROM core_contacts WHERE email = '${email}'`).stdout.trim());
const campaign = (body) => api('POST', '/api/v1/campaigns', {per_second: 200, subject_tr: 'K', subject_en: 'K',
  body_en: 'Code {{coupon}}', ...body});

before(async () => {
  // The special days are for "today" in Turkey: not across its midnight (a few minutes a day)
  const toMidnight = 86400e3 - ((Date.now() + 3 * 3600e3) % 86400e3);
  if (toMidnight < 5 * 60e3) await new Promise((r) => setTimeout(r, toMidnight + 1000));
  dir = tempDir();
  smtp = await startSmtp();
  server = await startServer({dataDir: dir});
  admin = await setupAdmin(server);
  const set = await api('PATCH', '/api/v1/settings', {'mail.smtp_url': smtp.url, 'mail.from': 'kampanya@shop.example',
    'mail.public_url': server.url});
  assert.equal(set.status, 200, set.text);
  db = path.join(dir, 'destek.db');
});

describe('coupon pools', () => {
  test('generated codes follow the format; imported codes are all or nothing; remaining and the low warning', async () => {
    const p = await api('POST', '/api/v1/campaign-coupons', {name: 'Yılbaşı', low_at: 5, generate: 20, format: 'YB-XXXXXX'});
    assert.equal(p.status, 201, p.text);
    assert.equal(p.json.total, 20);
    assert.equal(p.json.remaining, 20);
    assert.equal(p.json.low, false);
    const codes = await api('GET', `/api/v1/campaign-coupons/${p.json.id}/codes?limit=200`);
    assert.equal(codes.json.items.length, 20);
    for (const c of codes.json.items) assert.match(c.code, /^YB-[A-HJ-NP-Z2-9]{6}$/);
    assert.equal(new Set(codes.json.items.map((c) => c.code)).size, 20);
    const weak = await api('POST', `/api/v1/campaign-coupons/${p.json.id}/generate`, {count: 5, format: 'XX-12'});
    assert.equal(weak.status, 422, 'too few random letters');

    const q = await api('POST', '/api/v1/campaign-coupons', {name: 'Shop codes', low_at: 3});
    const bad = await api('POST', `/api/v1/campaign-coupons/${q.json.id}/import`,
      {csv: `code\r\nSHOP-1\r\nSHOP-2\r\nSHOP-1\r\n${codes.json.items[0].code}\r\nnot a code\r\n`});
    assert.equal(bad.status, 422, bad.text);
    assert.deepEqual(bad.json.error.rows.map((r) => r.line), [4, 6], bad.text);
    const bad2 = await api('POST', `/api/v1/campaign-coupons/${q.json.id}/import`, {csv: `SHOP-1\n${codes.json.items[0].code}\n`});
    assert.equal(bad2.status, 422, 'a code already in a pool is refused');
    assert.equal((await api('GET', `/api/v1/campaign-coupons/${q.json.id}`)).json.total, 0, 'nothing imported');
    const ok = await api('POST', `/api/v1/campaign-coupons/${q.json.id}/import`, {csv: 'SHOP-1\nSHOP-2;x\n"SHOP-3"\n'});
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual([ok.json.total, ok.json.remaining, ok.json.low], [3, 3, true]);
    // {{coupon}} needs a pool and a pool needs {{coupon}}
    assert.equal((await campaign({name: 'x', body_tr: 'Kod {{coupon}}'})).status, 422);
    assert.equal((await campaign({name: 'x', body_tr: 'Kod yok', body_en: 'none', pool_id: q.json.id})).status, 422);
    assert.equal((await campaign({name: 'x', body_tr: 'Kod yok', pool_id: q.json.id})).status, 422, 'each language carries the code');
    const draft = await campaign({name: 'draft', body_tr: 'Kod {{coupon}}', pool_id: q.json.id});
    assert.equal(draft.status, 201, draft.text);
    assert.equal(draft.json.coupons.remaining, 3);
    const drop = await api('PATCH', `/api/v1/campaigns/${draft.json.id}`, {body_tr: 'Kodsuz'});
    assert.equal(drop.status, 422, 'a pool\'s campaign keeps {{coupon}} in its text');
  });

  test('two campaigns drawing from one pool at once: no code given twice; without a code a recipient is withheld', async () => {
    const lines = [];
    for (let i = 0; i < 60; i++) lines.push(row(`cp${i}@example.com`, i % 2 ? 'cpa' : 'cpb'));
    await importList('coupon list', lines);
    const p = await api('POST', '/api/v1/campaign-coupons', {name: 'Shared', low_at: 10, generate: 45});
    const a = await campaign({name: 'A', rules: {tags: ['cpa']}, body_tr: 'Kodunuz: {{coupon}}', pool_id: p.json.id});
    const b = await campaign({name: 'B', rules: {tags: ['cpb']}, body_tr: 'Kodunuz: {{coupon}}', pool_id: p.json.id});
    assert.equal(a.status, 201, a.text);
    const [sa, sb] = await Promise.all([api('POST', `/api/v1/campaigns/${a.json.id}/schedule`, {}),
      api('POST', `/api/v1/campaigns/${b.json.id}/schedule`, {})]);
    assert.equal(sa.status, 202, sa.text);
    assert.equal(sb.status, 202, sb.text);
    const done = async (id) => (await eventually(() => api('GET', `/api/v1/campaigns/${id}`),
      (r) => r.json.status === 'done', {ms: T(20000)})).json;
    const [ra, rb] = [await done(a.json.id), await done(b.json.id)];
    assert.equal(ra.results.sent + rb.results.sent, 45, 'as many sent as there were codes');
    assert.equal((ra.results.skipped_by_reason.no_coupon || 0) + (rb.results.skipped_by_reason.no_coupon || 0), 15);
    assert.equal(rb.coupons.remaining, 0);
    assert.equal(rb.coupons.low, true);
    // each code in exactly one message, each message with its own code
    assert.equal(count(`SELECT count(*) FROM campaigns_coupons WHERE pool_id = ${p.json.id} AND recipient_id IS NOT NULL`), 45);
    assert.equal(count(`SELECT count(DISTINCT k.code) FROM campaigns_coupons k JOIN campaigns_recipients r ON r.id = k.recipient_id` +
      ` JOIN core_messages m ON m.id = r.message_id WHERE k.pool_id = ${p.json.id} AND instr(m.body, k.code) > 0`), 45);
    await eventually(() => mailsTo(/<cp\d+@example.com>/).length, (n) => n >= 45, {ms: T(15000)});
    const seen = mailsTo(/<cp\d+@example.com>/).map((m) => /Kodunuz: (\S+)/.exec(text(m))[1]);
    assert.equal(seen.length, 45);
    assert.equal(new Set(seen).size, 45, 'no code in two mails');
    const withheld = await api('GET', `/api/v1/campaigns/${a.json.id}/recipients?status=skipped&reason=no_coupon`);
    for (const r of withheld.json.items) assert.ok(!r.message_id, 'a withheld recipient got no message');
    // a test send shows a sample code and takes none
    const t = await api('POST', `/api/v1/campaigns/${a.json.id}/test`, {contact_id: contactOf('cp1@example.com')});
    assert.equal(t.status, 201, t.text);
    assert.equal(count(`SELECT count(*) FROM campaigns_coupons WHERE pool_id = ${p.json.id} AND recipient_id IS NOT NULL`), 45);
  });
});

describe('special days', () => {
  test('a birthday and a date go on the day, once per contact a year, with a coupon each', async () => {
    const today = trDay();
    const lines = [];
    for (let i = 0; i < 6; i++) lines.push(row(`bd${i}@example.com`, 'bday'));
    lines.push(row('bd-ret@example.com', 'bday', 'RET'));
    await importList('birthdays', lines);
    for (let i = 0; i < 6; i++) {
      const md = i < 4 ? today.slice(5) : (today.slice(5) === '01-01' ? '01-02' : '01-01');
      const r = await api('PUT', `/api/v1/campaign-birthdays/${contactOf(`bd${i}@example.com`)}`, {birthday: `1990-${md}`});
      assert.equal(r.status, 200, r.text);
    }
    await api('PUT', `/api/v1/campaign-birthdays/${contactOf('bd-ret@example.com')}`, {birthday: today.slice(5)});
    // the shop's customer list: all or nothing, Turkish dates too
    const other = today.slice(5) === '01-01' ? '02.01.1985' : '01.01.1985';
    const badFile = await api('POST', '/api/v1/campaign-birthdays', {csv: `contact;birthday\nbd5@example.com;${other}\nnobody@example.com;1990-01-01\nbd4@example.com;31.02.1990\n`});
    assert.equal(badFile.status, 422, badFile.text);
    assert.deepEqual(badFile.json.error.rows.map((r) => `${r.line}:${r.column}`), ['3:contact', '4:birthday']);
    const goodFile = await api('POST', '/api/v1/campaign-birthdays', {csv: `contact,birthday\r\nBD5@example.com,${other}\r\n`});
    assert.equal(goodFile.status, 201, goodFile.text);
    const month = Number(today.slice(5, 7));
    const seg = await api('POST', '/api/v1/campaign-segments/count', {rules: {tags: ['bday'], birthday_month: month}});
    assert.equal(seg.status, 200, seg.text);
    assert.equal(seg.json.matched, month === 1 ? 7 : 5, 'born this month (bd4 and bd5 in January)');
    assert.equal((await api('POST', '/api/v1/campaign-segments/count', {rules: {birthday_month: 13}})).status, 422);
    const got = await api('GET', `/api/v1/campaign-birthdays/${contactOf('bd5@example.com')}`);
    assert.equal(got.json.birthday, `${other.slice(3, 5)}-${other.slice(0, 2)}`);
    assert.equal((await api('PUT', `/api/v1/campaign-birthdays/${contactOf('bd0@example.com')}`, {birthday: '1990-02-30'})).status, 422);
    const pool = await api('POST', '/api/v1/campaign-coupons', {name: 'Doğum günü', generate: 10});
    const o = await api('POST', '/api/v1/campaign-occasions', {name: 'Doğum günü', kind: 'birthday', hour: 0,
      rules: {tags: ['bday']}, per_second: 50, pool_id: pool.json.id, subject_tr: 'İyi ki doğdun {{first_name}}',
      body_tr: 'Hediye kodun: {{coupon}}', subject_en: 'Happy birthday', body_en: 'Your code: {{coupon}}'});
    assert.equal(o.status, 201, o.text);
    assert.equal(o.json.next_day, today);
    const run = await eventually(() => api('GET', `/api/v1/campaign-occasions/${o.json.id}`),
      (r) => r.json.runs.length === 1 && r.json.runs[0].status === 'done', {ms: T(15000)});
    assert.equal(run.json.runs[0].day, today);
    const c = (await api('GET', `/api/v1/campaigns/${run.json.runs[0].campaign_id}`)).json;
    assert.equal(c.results.sent, 4, 'the four born today with ONAY');
    assert.deepEqual(c.results.skipped_by_reason, {no_consent: 1});
    assert.equal(c.coupons.remaining, 6);
    const low = await api('GET', '/api/v1/campaign-coupons/low');
    assert.equal(low.status, 200, low.text);
    assert.ok(low.json.items.some((p) => p.id === pool.json.id && p.remaining === 6), 'the admins\' banner names the low pool');
    assert.notEqual(run.json.next_day, today, 'the next run is another day');
    // a change of the occasion today does not send today's birthdays again
    const ch = await api('PATCH', `/api/v1/campaign-occasions/${o.json.id}`, {hour: 0, body_tr: 'Yeni kod: {{coupon}}'});
    assert.equal(ch.status, 200, ch.text);
    assert.notEqual(ch.json.next_day, today);
    // a date (every year, today) for everyone tagged
    const d = await api('POST', '/api/v1/campaign-occasions', {name: 'Mağazanın yıldönümü', kind: 'date', date: today.slice(5),
      hour: 0, rules: {tags: ['bday']}, subject_tr: 'Yıldönümü', body_tr: 'Teşekkürler', subject_en: 'Anniversary',
      body_en: 'Thanks'});
    assert.equal(d.status, 201, d.text);
    const drun = await eventually(() => api('GET', `/api/v1/campaign-occasions/${d.json.id}`),
      (r) => r.json.runs.length === 1 && r.json.runs[0].status === 'done', {ms: T(15000)});
    const dc = (await api('GET', `/api/v1/campaigns/${drun.json.runs[0].campaign_id}`)).json;
    assert.equal(dc.results.sent, 6);
    assert.equal(drun.json.next_day.slice(5), today.slice(5), 'next year');
    assert.equal(Number(drun.json.next_day.slice(0, 4)), Number(today.slice(0, 4)) + 1);
    // once a year: moving the date to tomorrow (and back) does not greet anyone twice this year
    assert.equal(count(`SELECT count(*) FROM campaigns_occasion_sent WHERE occasion_id = ${d.json.id}`), 6);
    await eventually(() => mailsTo(/<bd\d@example.com>/).length, (n) => n >= 10, {ms: T(15000)});
    const bmails = mailsTo(/<bd\d@example.com>/).filter((m) => /Hediye kodun: /.test(text(m)));
    assert.equal(bmails.length, 4);
    assert.equal(new Set(bmails.map((m) => /Hediye kodun: (\S+)/.exec(text(m))[1])).size, 4);
    const bad = await api('POST', '/api/v1/campaign-occasions', {name: 'x', kind: 'date', date: '13-40', rules: {},
      subject_tr: 'a', body_tr: 'b', subject_en: 'a', body_en: 'b'});
    assert.equal(bad.status, 422);
  });
});

describe('clicks and orders after a campaign', () => {
  let cid, recipients;
  test('links go through a signed redirect to the template\'s own URL only; a GET counts and changes nothing else', async () => {
    await importList('click list', [row('cl1@example.com', 'clk'), row('cl2@example.com', 'clk'), row('cl3@example.com', 'clk')]);
    const c = await campaign({name: 'Clicks', rules: {tags: ['clk']}, body_tr: 'Bakın: https://shop.example/indirim?x=1. Ya da https://shop.example/yeni',
      body_en: 'See https://shop.example/sale'});
    cid = c.json.id;
    await api('POST', `/api/v1/campaigns/${cid}/schedule`, {});
    await eventually(() => api('GET', `/api/v1/campaigns/${cid}`), (r) => r.json.status === 'done', {ms: T(15000)});
    await eventually(() => mailsTo(/<cl\d@example.com>/).length, (n) => n >= 3, {ms: T(15000)});
    const body = text(mailsTo(/<cl1@example.com>/)[0]);
    assert.doesNotMatch(body, /shop\.example/, 'the template\'s links are rewritten');
    const links = [...body.matchAll(/(http:\/\/[^\s]+\/cl\/\d+\/\d+\/[0-9a-f]+)/g)].map((m) => m[1]);
    assert.equal(links.length, 2, body);
    assert.match(body, /\/cl\/\d+\/\d+\/[0-9a-f]+\. Ya da/, 'the sentence\'s full stop stays out of the link');
    const go = await request(links[0], {redirect: 'manual'});
    assert.equal(go.status, 302, go.text);
    assert.equal(go.headers.location, 'https://shop.example/indirim?x=1');
    // a second GET (a scanner, or the person again) counts; the consent is untouched
    await request(links[0] + '?url=https://evil.example/', {redirect: 'manual'}).then((r) => {
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, 'https://shop.example/indirim?x=1', 'the URL never comes from the request');
    });
    const st = await api('GET', `/api/v1/contacts/${contactOf('cl1@example.com')}/consent`);
    assert.equal(st.json.items.length, 1, 'no consent record written by a click');
    // a forged or borrowed link goes nowhere
    const [, rid, lid, sig] = /\/cl\/(\d+)\/(\d+)\/([0-9a-f]+)/.exec(links[0]);
    const other = /\/cl\/(\d+)\/(\d+)\/([0-9a-f]+)/.exec(links[1]);
    for (const p of [`/cl/${rid}/${lid}/${'0'.repeat(sig.length)}`, `/cl/${Number(rid) + 1}/${lid}/${sig}`,
      `/cl/${rid}/${other[2]}/${sig}`, `/cl/${rid}/${lid}`, `/cl/${rid}/${Number(lid) + 1000}/${sig}`]) {
      const r = await request(server.url + p, {redirect: 'manual'});
      assert.equal(r.status, 404, p);
      assert.equal(r.headers.location, undefined, p);
    }
    const res = (await api('GET', `/api/v1/campaigns/${cid}`)).json.results;
    assert.equal(res.clicked, 1);
    assert.equal(res.clicks, 2);
    recipients = (await api('GET', `/api/v1/campaigns/${cid}/recipients`)).json.items;
  });

  test('orders placed by recipients within the window after their message are counted', async () => {
    const sentAt = Date.parse(recipients[0].at);
    const iso = (t) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
    const order = (n, email, placed, status = 'processing') => api('PUT', `/api/v1/orders/CMP${n}`, {status,
      payment_status: 'paid', currency: 'TRY', total_minor: 10000 * n, placed_at: placed, customer: {email, name: 'Ayşe'},
      items: [{sku: 'A', name: 'A', quantity: 1, price_minor: 10000 * n}]});
    assert.equal((await order(1, 'cl1@example.com', iso(sentAt + 3600e3))).status, 201);          // counted
    assert.equal((await order(2, 'cl2@example.com', iso(sentAt + 2 * 86400e3))).status, 201);     // counted
    assert.equal((await order(3, 'cl3@example.com', iso(sentAt - 86400e3))).status, 201);         // before its mail
    assert.equal((await order(4, 'cl3@example.com', iso(sentAt + 30 * 86400e3))).status, 201);    // after the window
    assert.equal((await order(5, 'stranger@example.com', iso(sentAt + 3600e3))).status, 201);    // not a recipient
    assert.equal((await order(6, 'cl3@example.com', iso(sentAt + 3600e3), 'cancelled')).status, 201); // cancelled
    assert.equal((await order(7, 'cl3@example.com', iso(sentAt + 7200e3))).status, 201);          // counted, then refunded
    await eventually(() => api('GET', `/api/v1/campaigns/${cid}`), (x) => x.json.results.orders.count === 3, {ms: T(15000)});
    const refund = await api('PUT', '/api/v1/orders/CMP7', {status: 'refunded', payment_status: 'refunded', currency: 'TRY',
      total_minor: 70000, placed_at: iso(sentAt + 7200e3), customer: {email: 'cl3@example.com', name: 'Ayşe'},
      items: [{sku: 'A', name: 'A', quantity: 1, price_minor: 70000}]});
    assert.equal(refund.status, 200, refund.text);
    const r = await eventually(() => api('GET', `/api/v1/campaigns/${cid}`),
      (x) => x.json.results.orders && x.json.results.orders.count === 2, {ms: T(15000)});
    await new Promise((res) => setTimeout(res, 300));
    const o = (await api('GET', `/api/v1/campaigns/${cid}`)).json.results.orders;
    assert.equal(o.count, 2, JSON.stringify(o));
    assert.equal(o.recipients, 2);
    assert.deepEqual(o.totals_minor, {TRY: 30000});
    assert.equal(r.json.results.orders.days, 7);
  });
});

describe('pause and resume', () => {
  test('pausing and resuming a special day\'s run again and again sends no one twice and skips no one', async () => {
    const lines = [];
    for (let i = 0; i < 80; i++) lines.push(row(`pr${i}@example.com`, 'prs'));
    await importList('pause list', lines);
    const pool = await api('POST', '/api/v1/campaign-coupons', {name: 'Pause', generate: 80});
    const o = await api('POST', '/api/v1/campaign-occasions', {name: 'Kadınlar Günü', kind: 'date', date: trDay(), hour: 0,
      rules: {tags: ['prs']}, per_second: 20, pool_id: pool.json.id, subject_tr: 'K', body_tr: 'Kod: {{coupon}}',
      subject_en: 'K', body_en: 'Code: {{coupon}}'});
    const started = await eventually(() => api('GET', `/api/v1/campaign-occasions/${o.json.id}`), (r) => r.json.runs.length === 1,
      {ms: T(15000)});
    const id = started.json.runs[0].campaign_id;
    for (let i = 0; i < 4; i++) {
      await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status !== 'sending' || r.json.results.sent > i * 10,
        {ms: T(10000)});
      const p = await api('POST', `/api/v1/campaigns/${id}/pause`);
      if (p.status === 409) break;   // already done
      assert.equal(p.status, 200, p.text);
      assert.equal((await api('POST', `/api/v1/campaigns/${id}/resume`)).status, 200);
    }
    const done = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done', {ms: T(20000)});
    assert.equal(done.json.results.sent, 80);
    assert.equal(count("SELECT count(*) FROM core_messages WHERE to_addr LIKE 'pr%@example.com'"), 80, 'one message each');
    assert.equal(count("SELECT count(DISTINCT to_addr) FROM core_messages WHERE to_addr LIKE 'pr%@example.com'"), 80);
    assert.equal(done.json.coupons.remaining, 0);
  });
});

describe('kill -9 mid-special-day', () => {
  test('no one gets the special day twice and no one is skipped', async () => {
    const lines = [];
    for (let i = 0; i < 200; i++) lines.push(row(`sk${i}@example.com`, 'skill'));
    await importList('kill list', lines);
    const pool = await api('POST', '/api/v1/campaign-coupons', {name: 'Kill', generate: 200});
    const o = await api('POST', '/api/v1/campaign-occasions', {name: 'Anneler Günü', kind: 'date', date: trDay(), hour: 0,
      rules: {tags: ['skill']}, per_second: 40, pool_id: pool.json.id, subject_tr: 'Anneler Günü', body_tr: 'Kod: {{coupon}}',
      subject_en: "Mother's Day", body_en: 'Code: {{coupon}}'});
    assert.equal(o.status, 201, o.text);
    const started = await eventually(() => api('GET', `/api/v1/campaign-occasions/${o.json.id}`), (r) => r.json.runs.length === 1,
      {ms: T(15000)});
    const id = started.json.runs[0].campaign_id;
    await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.results.sent >= 30, {ms: T(15000)});
    await server.kill9();
    server = await startServer({dataDir: dir});
    const done = await eventually(() => api('GET', `/api/v1/campaigns/${id}`), (r) => r.json.status === 'done', {ms: T(40000)});
    assert.equal(done.json.results.sent, 200);
    const again = (await api('GET', `/api/v1/campaign-occasions/${o.json.id}`)).json;
    assert.equal(again.runs.length, 1, 'one run for the day');
    assert.equal(again.next_day, null, 'a one-off date: no next run');
    assert.equal(count("SELECT count(*) FROM core_messages WHERE to_addr LIKE 'sk%@example.com'"), 200, 'one message each');
    assert.equal(count("SELECT count(DISTINCT to_addr) FROM core_messages WHERE to_addr LIKE 'sk%@example.com'"), 200);
    assert.equal(count(`SELECT count(*) FROM campaigns_occasion_sent WHERE occasion_id = ${o.json.id}`), 200);
    assert.equal(count(`SELECT count(*) FROM campaigns_coupons WHERE pool_id = ${pool.json.id} AND recipient_id IS NOT NULL`), 200);
    assert.equal(done.json.coupons.remaining, 0);
  });
});
